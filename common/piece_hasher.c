#include "piece_hasher.h"

#include <string.h>

void piece_hasher_init(struct piece_hasher *h, uint32_t piece_length)
{
	memset(h, 0, sizeof *h);
	sha1_init(&h->ctx);
	h->piece_length = piece_length;
}

static void piece_hasher_emit(struct piece_hasher *h)
{
	uint8_t md[SHA1_LEN];

	sha1_final(&h->ctx, md);
	buf_append(&h->hashes, md, sizeof md);
	h->filled = 0;
}

void piece_hasher_update(struct piece_hasher *h, const void *data, size_t len)
{
	const uint8_t *p = data;

	h->total += len;
	while (len > 0) {
		size_t room = h->piece_length - h->filled;
		size_t n = len < room ? len : room;
		sha1_update(&h->ctx, p, n);
		h->filled += (uint32_t)n;
		p += n;
		len -= n;
		if (h->filled == h->piece_length)
			piece_hasher_emit(h);
	}
}

void piece_hasher_finish(struct piece_hasher *h)
{
	if (h->filled > 0)
		piece_hasher_emit(h);
}

void piece_hasher_free(struct piece_hasher *h)
{
	sha1_free(&h->ctx);
	buf_free(&h->hashes);
}
