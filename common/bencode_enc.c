/* Bencode encoder; the decoder lives in bencode.c. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bencode.h"

void be_enc_int(struct sta_buf *b, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "i%" PRId64 "e", v);

	buf_append(b, tmp, (size_t)n);
}

void be_enc_str(struct sta_buf *b, const void *s, size_t len)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "%zu:", len);

	buf_reserve(b, (size_t)n + len);
	buf_append(b, tmp, (size_t)n);
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
