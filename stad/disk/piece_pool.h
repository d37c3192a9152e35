/* Memory for pieces being downloaded: a piece is assembled in one buffer
 * (each block copied straight from the socket's input buffer into place),
 * then the buffer itself is the worker job that hashes and writes it.
 *
 * The pool keeps the total allocated under a budget (stad.conf cache_size)
 * and recycles buffers, so the download path allocates nothing per block
 * and, once warm, nothing per piece. Loop thread only.
 */
#ifndef STAD_PIECE_POOL_H
#define STAD_PIECE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workpool.h"

/* Peers remembered per piece, to blame them when its hash fails. */
#define PIECE_MAX_CONTRIB 8

struct torrent;

struct piece_buf {
	struct work_item item;          /* the verify job */
	struct piece_buf *next;         /* torrent hash chain, or the pool's free list */
	struct torrent *t;
	uint32_t piece;
	uint32_t size;                  /* bytes of this piece */
	uint32_t contrib[PIECE_MAX_CONTRIB]; /* peer tags that sent blocks */
	uint8_t n_contrib;
	bool many_contrib;              /* more than PIECE_MAX_CONTRIB */
	bool verifying;                 /* submitted to a worker */
	int result;                     /* storage_write_verified's */
	char err[160];
	uint8_t *data;
	size_t cap;
};

struct piece_pool {
	struct piece_buf *free_list;
	uint64_t budget;
	uint64_t allocated;             /* capacity of every buffer, free or not */
	uint64_t in_use;                /* capacity of buffers handed out */
};

void piece_pool_init(struct piece_pool *pp, uint64_t budget);
/* Frees the cached buffers; every buffer must have been put back. */
void piece_pool_fini(struct piece_pool *pp);
void piece_pool_set_budget(struct piece_pool *pp, uint64_t budget);

/* A buffer for a piece of size bytes, with its bookkeeping cleared, or
 * NULL when that would exceed the budget. One buffer is always granted
 * when none is in use, so a piece larger than the budget still downloads. */
struct piece_buf *piece_pool_get(struct piece_pool *pp, uint32_t size);
void piece_pool_put(struct piece_pool *pp, struct piece_buf *pb);

/* How many more buffers of size bytes piece_pool_get would grant now
 * (cached ones not fitting size are freed to make room); at least 1 when
 * none is in use. */
uint32_t piece_pool_room(const struct piece_pool *pp, uint32_t size);

/* Records a block's sender. */
void piece_buf_contrib(struct piece_buf *pb, uint32_t tag);

#endif
