/* Incremental piece hashing for torrent creation and whole-file checks:
 * feed the content stream in chunks of any size, collect one SHA-1 per
 * piece_length bytes plus one for the final short piece. Pure (no I/O), one
 * hasher per thread. */
#ifndef STA_PIECE_HASHER_H
#define STA_PIECE_HASHER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sha1.h"

struct piece_hasher {
	struct sha1_ctx ctx;
	uint32_t piece_length;
	uint32_t filled;      /* bytes of the current piece fed so far */
	uint64_t total;       /* bytes fed in all */
	struct sta_buf hashes; /* 20 bytes per finished piece, in order */
};

/* piece_length must be > 0. */
void piece_hasher_init(struct piece_hasher *h, uint32_t piece_length);
void piece_hasher_update(struct piece_hasher *h, const void *data, size_t len);
/* Hashes the final short piece, if any; afterwards hashes.len / 20 is
 * ceil(total / piece_length). Call once, then read or steal h->hashes. */
void piece_hasher_finish(struct piece_hasher *h);
static inline size_t piece_hasher_count(const struct piece_hasher *h)
{
	return h->hashes.len / SHA1_LEN;
}
void piece_hasher_free(struct piece_hasher *h);

#endif
