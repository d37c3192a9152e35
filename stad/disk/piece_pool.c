#include "piece_pool.h"

#include <stdlib.h>
#include <string.h>

#include "storage.h"
#include "xmalloc.h"

void piece_pool_init(struct piece_pool *pp, uint64_t budget)
{
	memset(pp, 0, sizeof *pp);
	pp->budget = budget;
}

static void pb_destroy(struct piece_pool *pp, struct piece_buf *pb)
{
	pp->allocated -= pb->cap;
	free(pb->data);
	free(pb);
}

void piece_pool_fini(struct piece_pool *pp)
{
	while (pp->free_list) {
		struct piece_buf *pb = pp->free_list;
		pp->free_list = pb->next;
		pb_destroy(pp, pb);
	}
}

/* Frees cached buffers until size more bytes fit the budget. */
static void trim(struct piece_pool *pp, uint64_t size)
{
	while (pp->free_list && pp->allocated + size > pp->budget) {
		struct piece_buf *pb = pp->free_list;
		pp->free_list = pb->next;
		pb_destroy(pp, pb);
	}
}

void piece_pool_set_budget(struct piece_pool *pp, uint64_t budget)
{
	pp->budget = budget;
	trim(pp, 0);
}

static struct piece_buf *take_cached(struct piece_pool *pp, uint32_t size)
{
	for (struct piece_buf **pp_next = &pp->free_list; *pp_next; pp_next = &(*pp_next)->next) {
		struct piece_buf *pb = *pp_next;
		if (pb->cap >= size && pb->cap <= (size_t)size * 2) {
			*pp_next = pb->next;
			return pb;
		}
	}
	return NULL;
}

uint32_t piece_pool_room(const struct piece_pool *pp, uint32_t size)
{
	uint64_t left = pp->budget > pp->in_use ? pp->budget - pp->in_use : 0;
	uint64_t n = size ? left / size : 0;

	if (n == 0 && pp->in_use == 0)
		n = 1;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

struct piece_buf *piece_pool_get(struct piece_pool *pp, uint32_t size)
{
	struct piece_buf *pb = take_cached(pp, size);

	if (pb == NULL) {
		trim(pp, size);
		if (pp->allocated + size > pp->budget && pp->in_use > 0)
			return NULL;
		pb = xcalloc(1, sizeof *pb);
		pb->data = xmalloc_aligned(STORAGE_DIRECT_ALIGN, size); /* for O_DIRECT writes */
		pb->cap = size;
		pp->allocated += size;
	}
	uint8_t *data = pb->data;
	size_t cap = pb->cap;
	memset(pb, 0, sizeof *pb);
	pb->data = data;
	pb->cap = cap;
	pb->size = size;
	pp->in_use += cap;
	return pb;
}

void piece_pool_put(struct piece_pool *pp, struct piece_buf *pb)
{
	pp->in_use -= pb->cap;
	if (pp->allocated > pp->budget) {
		pb_destroy(pp, pb);
		return;
	}
	pb->next = pp->free_list;
	pp->free_list = pb;
}

void piece_buf_contrib(struct piece_buf *pb, uint32_t tag)
{
	for (uint8_t i = 0; i < pb->n_contrib; i++)
		if (pb->contrib[i] == tag)
			return;
	if (pb->n_contrib < PIECE_MAX_CONTRIB)
		pb->contrib[pb->n_contrib++] = tag;
	else
		pb->many_contrib = true;
}
