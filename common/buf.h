/* A growable byte buffer: the output side of every encoder in common/. */
#ifndef STA_BUF_H
#define STA_BUF_H

#include <stddef.h>
#include <stdint.h>

struct sta_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

#define STA_BUF_INIT { NULL, 0, 0 }

void buf_grow(struct sta_buf *b, size_t extra);
/* Makes room for extra more bytes; inline because encoders call it per field. */
static inline void buf_reserve(struct sta_buf *b, size_t extra)
{
	if (b->cap - b->len < extra)
		buf_grow(b, extra);
}
void buf_append(struct sta_buf *b, const void *p, size_t n);
void buf_append_str(struct sta_buf *b, const char *s);
void buf_append_byte(struct sta_buf *b, uint8_t c);
void buf_append_u16be(struct sta_buf *b, uint16_t v);
void buf_append_u32be(struct sta_buf *b, uint32_t v);
void buf_append_u64be(struct sta_buf *b, uint64_t v);
/* v in decimal, without printf: encoders call it per field. */
void buf_append_dec(struct sta_buf *b, uint64_t v);
void buf_printf(struct sta_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Keeps the allocation, forgets the contents. */
void buf_clear(struct sta_buf *b);
void buf_free(struct sta_buf *b);
/* Hands the bytes to the caller (who frees them) and resets the buffer. */
uint8_t *buf_steal(struct sta_buf *b, size_t *len);

/* Big-endian loads for fixed-layout wire formats; callers check lengths. */
static inline uint16_t load_u16be(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t load_u32be(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t load_u64be(const uint8_t *p)
{
	return ((uint64_t)load_u32be(p) << 32) | load_u32be(p + 4);
}

static inline void store_u16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void store_u32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void store_u64be(uint8_t *p, uint64_t v)
{
	store_u32be(p, (uint32_t)(v >> 32));
	store_u32be(p + 4, (uint32_t)v);
}

#endif
