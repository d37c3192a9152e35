#include "rarity.h"

#include <stdlib.h>

#include "xmalloc.h"

void rarity_init(struct rarity *r, uint32_t n_items, uint64_t seed)
{
	r->n_items = n_items;
	r->n_linked = 0;
	r->items = xcalloc(n_items ? n_items : 1, sizeof *r->items);
	r->lists = NULL;
	r->n_lists = 0;
	r->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

static uint64_t rng_next(struct rarity *r)
{
	/* xorshift64*: fast, and random enough for tie-breaking. */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 0x2545F4914F6CDD1DULL;
}

uint32_t rarity_below(struct rarity *r, uint32_t bound)
{
	return (uint32_t)(((rng_next(r) >> 32) * bound) >> 32);
}

void rarity_fini(struct rarity *r)
{
	free(r->items);
	free(r->lists);
	r->items = NULL;
	r->lists = NULL;
}

static void lists_reserve(struct rarity *r, uint32_t count)
{
	if (count < r->n_lists)
		return;
	uint32_t n = r->n_lists ? r->n_lists * 2 : 8;
	if (n <= count)
		n = count + 1;
	r->lists = xreallocarray(r->lists, n, sizeof *r->lists);
	for (uint32_t c = r->n_lists; c < n; c++)
		r->lists[c] = (struct rarity_list){ RARITY_NONE, RARITY_NONE, 0 };
	r->n_lists = n;
}

static void link_at(struct rarity *r, uint32_t item, bool at_head)
{
	struct rarity_item *it = &r->items[item];

	if (it->linked)
		return;
	lists_reserve(r, it->count);
	struct rarity_list *l = &r->lists[it->count];
	if (l->head == RARITY_NONE) {
		it->prev = it->next = RARITY_NONE;
		l->head = l->tail = item;
	} else if (at_head) {
		it->prev = RARITY_NONE;
		it->next = l->head;
		r->items[l->head].prev = item;
		l->head = item;
	} else {
		it->next = RARITY_NONE;
		it->prev = l->tail;
		r->items[l->tail].next = item;
		l->tail = item;
	}
	l->size++;
	it->linked = true;
	r->n_linked++;
}

void rarity_link(struct rarity *r, uint32_t item)
{
	link_at(r, item, rng_next(r) & 1);
}

void rarity_link_all(struct rarity *r)
{
	uint32_t *order = xreallocarray(NULL, r->n_items ? r->n_items : 1, sizeof *order);

	for (uint32_t i = 0; i < r->n_items; i++)
		order[i] = i;
	for (uint32_t i = r->n_items; i > 1; i--) {
		uint32_t j = rarity_below(r, i), tmp = order[i - 1];
		order[i - 1] = order[j];
		order[j] = tmp;
	}
	for (uint32_t i = 0; i < r->n_items; i++)
		link_at(r, order[i], false);
	free(order);
}

void rarity_unlink(struct rarity *r, uint32_t item)
{
	struct rarity_item *it = &r->items[item];

	if (!it->linked)
		return;
	struct rarity_list *l = &r->lists[it->count];
	if (it->prev != RARITY_NONE)
		r->items[it->prev].next = it->next;
	else
		l->head = it->next;
	if (it->next != RARITY_NONE)
		r->items[it->next].prev = it->prev;
	else
		l->tail = it->prev;
	l->size--;
	it->linked = false;
	r->n_linked--;
}

static void recount(struct rarity *r, uint32_t item, uint32_t count)
{
	bool linked = r->items[item].linked;

	rarity_unlink(r, item);
	r->items[item].count = count;
	if (linked)
		rarity_link(r, item);
}

void rarity_inc(struct rarity *r, uint32_t item)
{
	recount(r, item, r->items[item].count + 1);
}

void rarity_dec(struct rarity *r, uint32_t item)
{
	/* A remove without its add is a caller bug; never wrap around. */
	if (r->items[item].count > 0)
		recount(r, item, r->items[item].count - 1);
}
