#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

void buf_grow(struct sta_buf *b, size_t extra)
{
	size_t need = b->len + extra;
	if (need < b->len)
		abort(); /* size_t overflow: a caller bug, never input-driven */
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = xreallocarray(b->data, cap, 1);
	b->cap = cap;
}

void buf_append(struct sta_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void buf_append_str(struct sta_buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_append_byte(struct sta_buf *b, uint8_t c)
{
	buf_reserve(b, 1);
	b->data[b->len++] = c;
}

void buf_append_u16be(struct sta_buf *b, uint16_t v)
{
	buf_reserve(b, 2);
	store_u16be(b->data + b->len, v);
	b->len += 2;
}

void buf_append_u32be(struct sta_buf *b, uint32_t v)
{
	buf_reserve(b, 4);
	store_u32be(b->data + b->len, v);
	b->len += 4;
}

void buf_append_u64be(struct sta_buf *b, uint64_t v)
{
	buf_reserve(b, 8);
	store_u64be(b->data + b->len, v);
	b->len += 8;
}

void buf_append_dec(struct sta_buf *b, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof tmp;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_append(b, tmp + i, sizeof tmp - i);
}

void buf_printf(struct sta_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void buf_clear(struct sta_buf *b)
{
	b->len = 0;
}

void buf_free(struct sta_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

uint8_t *buf_steal(struct sta_buf *b, size_t *len)
{
	uint8_t *p = b->data;

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
