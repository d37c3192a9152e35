/* Pieces in lists by a count, for rarest-first walks: the picker counts
 * the peers that have each piece, the super-seed the copies in the swarm
 * plus its offers out. A count changes in O(1) (the piece moves between
 * lists); a walk visits pieces from the lowest count up.
 *
 * Pieces of equal count must not be taken in the same order by every
 * client of a swarm (they would all fetch the same pieces at the same
 * time), so a piece goes to a random end of its list, and rarity_link_all
 * lays the pieces out in a random permutation. The PRNG is seeded by the
 * owner (0: a fixed seed, for deterministic tests) and serves its other
 * random choices too (rarity_below).
 *
 * Pure, loop thread only. The owner decides which pieces are linked (the
 * picker unlinks a piece it has or is fetching); unlinked pieces keep
 * their count.
 */
#ifndef STAD_RARITY_H
#define STAD_RARITY_H

#include <stdbool.h>
#include <stdint.h>

#define RARITY_NONE UINT32_MAX

struct rarity_item {
	uint32_t count;
	uint32_t prev, next;    /* in the list of its count, while linked */
	bool linked;
};

struct rarity_list {
	uint32_t head, tail;
	uint32_t size;
};

struct rarity {
	uint32_t n_items;
	uint32_t n_linked;
	struct rarity_item *items;
	struct rarity_list *lists;  /* indexed by count */
	uint32_t n_lists;
	uint64_t rng;
};

/* n_items pieces, every count 0, none linked. */
void rarity_init(struct rarity *r, uint32_t n_items, uint64_t seed);
void rarity_fini(struct rarity *r);

/* Links every unlinked piece, in a random order. */
void rarity_link_all(struct rarity *r);
/* Links an unlinked piece into the list of its count (at a random end);
 * unlinks a linked one. Anything else is a no-op. */
void rarity_link(struct rarity *r, uint32_t item);
void rarity_unlink(struct rarity *r, uint32_t item);

/* Count +1 / -1 (never below 0); a linked piece moves to its new list. */
void rarity_inc(struct rarity *r, uint32_t item);
void rarity_dec(struct rarity *r, uint32_t item);

/* A uniformly random value in [0, bound), bound > 0. */
uint32_t rarity_below(struct rarity *r, uint32_t bound);

static inline uint32_t rarity_count(const struct rarity *r, uint32_t item)
{
	return r->items[item].count;
}

/* Walks: the first linked piece of count c (RARITY_NONE if none), and
 * the one after item in its list. */
static inline uint32_t rarity_first(const struct rarity *r, uint32_t c)
{
	return c < r->n_lists ? r->lists[c].head : RARITY_NONE;
}

static inline uint32_t rarity_next(const struct rarity *r, uint32_t item)
{
	return r->items[item].next;
}

/* Linked pieces of count c. */
static inline uint32_t rarity_size(const struct rarity *r, uint32_t c)
{
	return c < r->n_lists ? r->lists[c].size : 0;
}

#endif
