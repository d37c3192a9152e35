/* Iterative lookup bookkeeping (see dht_lookup.h). */
#include "dht_lookup.h"

#include <string.h>

void dht_lookup_init(struct dht_lookup *l, uint32_t id, int family, enum krpc_method method,
                     const uint8_t target[KRPC_ID_LEN])
{
	memset(l, 0, sizeof *l);
	l->id = id;
	l->family = family;
	l->method = method;
	memcpy(l->target, target, KRPC_ID_LEN);
}

/* a ranks before b: known ids by distance, unknown ones after them all. */
static bool ranks_before(const struct dht_lookup *l, const struct dht_cand *a,
                         const struct dht_cand *b)
{
	if (a->id_known != b->id_known)
		return a->id_known;
	return a->id_known && dht_id_closer(l->target, a->node.id, b->node.id) < 0;
}

/* Moves the candidate at i to its place by rank; returns where it went. */
static size_t reposition(struct dht_lookup *l, size_t i)
{
	struct dht_cand c = l->cand[i];

	memmove(&l->cand[i], &l->cand[i + 1], (l->n_cand - i - 1) * sizeof c);
	size_t at = 0;
	while (at < l->n_cand - 1u && !ranks_before(l, &c, &l->cand[at]))
		at++;
	memmove(&l->cand[at + 1], &l->cand[at], (l->n_cand - 1u - at) * sizeof c);
	l->cand[at] = c;
	return at;
}

bool dht_lookup_add(struct dht_lookup *l, const struct krpc_node *n, bool id_known)
{
	struct dht_cand c = { .node = *n, .state = DHT_CAND_NEW, .id_known = id_known };

	if (n->addr.family != l->family || n->addr.port == 0)
		return false;
	for (size_t i = 0; i < l->n_cand; i++) {
		if (krpc_addr_equal(&l->cand[i].node.addr, &n->addr) ||
		    (id_known && l->cand[i].id_known &&
		     memcmp(l->cand[i].node.id, n->id, KRPC_ID_LEN) == 0))
			return false;
	}
	if (l->n_cand == DHT_LOOKUP_WIDTH) {
		/* Full: it takes the last place if it ranks before the farthest
		 * one that is not in flight (an answer must find its asker). */
		size_t last = DHT_LOOKUP_WIDTH;
		while (last > 0 && l->cand[last - 1].state == DHT_CAND_ASKED)
			last--;
		if (last == 0 || !ranks_before(l, &c, &l->cand[last - 1]))
			return false;
		memmove(&l->cand[last - 1], &l->cand[last],
		        (DHT_LOOKUP_WIDTH - last) * sizeof c);
		l->n_cand--;
	}
	l->cand[l->n_cand++] = c;
	reposition(l, l->n_cand - 1u);
	return true;
}

struct dht_cand *dht_lookup_find(struct dht_lookup *l, const struct krpc_addr *addr)
{
	for (size_t i = 0; i < l->n_cand; i++)
		if (krpc_addr_equal(&l->cand[i].node.addr, addr))
			return &l->cand[i];
	return NULL;
}

void dht_lookup_answered(struct dht_lookup *l, struct dht_cand *c, const uint8_t id[KRPC_ID_LEN],
                         const uint8_t *token, size_t token_len)
{
	c->state = DHT_CAND_ANSWERED;
	c->token_len = (uint8_t)(token_len <= KRPC_TOKEN_MAX ? token_len : 0);
	memcpy(c->token, token, c->token_len);
	l->answered++;
	if (c->id_known && memcmp(c->node.id, id, KRPC_ID_LEN) == 0)
		return;
	/* A bootstrap address told its id, or a node answered with another
	 * one than we heard of: rank it by what it says now. */
	memcpy(c->node.id, id, KRPC_ID_LEN);
	c->id_known = true;
	reposition(l, (size_t)(c - l->cand));
}

/* Index of the first new candidate among the DHT_K closest that did not
 * fail, or -1. */
static int next_new(const struct dht_lookup *l)
{
	size_t counted = 0;

	for (size_t i = 0; i < l->n_cand && counted < DHT_K; i++) {
		if (l->cand[i].state == DHT_CAND_FAILED)
			continue;
		counted++;
		if (l->cand[i].state == DHT_CAND_NEW)
			return (int)i;
	}
	return -1;
}

struct dht_cand *dht_lookup_next(struct dht_lookup *l)
{
	int i = l->asked < DHT_ALPHA ? next_new(l) : -1;

	return i < 0 ? NULL : &l->cand[i];
}

bool dht_lookup_done(const struct dht_lookup *l)
{
	return l->asked == 0 && next_new(l) < 0;
}
