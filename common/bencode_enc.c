/* Bencode encoder; the decoder lives in bencode.c. */
#include <string.h>

#include "bencode.h"

void be_enc_int(struct sta_buf *b, int64_t v)
{
	buf_reserve(b, 22);
	buf_append_byte(b, 'i');
	if (v < 0)
		buf_append_byte(b, '-');
	/* -(v + 1) + 1 keeps INT64_MIN's magnitude in range. */
	buf_append_dec(b, v < 0 ? (uint64_t)-(v + 1) + 1 : (uint64_t)v);
	buf_append_byte(b, 'e');
}

void be_enc_str(struct sta_buf *b, const void *s, size_t len)
{
	buf_reserve(b, 21 + len);
	buf_append_dec(b, len);
	buf_append_byte(b, ':');
	buf_append(b, s, len);
}

void be_enc_cstr(struct sta_buf *b, const char *s)
{
	be_enc_str(b, s, strlen(s));
}

void be_enc_kv_int(struct sta_buf *b, const char *key, int64_t v)
{
	be_enc_cstr(b, key);
	be_enc_int(b, v);
}

void be_enc_kv_str(struct sta_buf *b, const char *key, const void *s, size_t len)
{
	be_enc_cstr(b, key);
	be_enc_str(b, s, len);
}

void be_enc_kv_cstr(struct sta_buf *b, const char *key, const char *s)
{
	be_enc_kv_str(b, key, s, strlen(s));
}
