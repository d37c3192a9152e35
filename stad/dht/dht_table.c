/* DHT routing table: prefix buckets of DHT_K nodes (see dht_table.h). */
#include "dht_table.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

unsigned dht_id_prefix(const uint8_t a[KRPC_ID_LEN], const uint8_t b[KRPC_ID_LEN])
{
	for (unsigned i = 0; i < KRPC_ID_LEN; i++) {
		uint8_t x = a[i] ^ b[i];
		if (x != 0)
			return i * 8 + (unsigned)__builtin_clz(x) - 24;
	}
	return KRPC_ID_LEN * 8;
}

int dht_id_closer(const uint8_t target[KRPC_ID_LEN], const uint8_t a[KRPC_ID_LEN],
                  const uint8_t b[KRPC_ID_LEN])
{
	for (unsigned i = 0; i < KRPC_ID_LEN; i++) {
		uint8_t da = a[i] ^ target[i], db = b[i] ^ target[i];
		if (da != db)
			return da < db ? -1 : 1;
	}
	return 0;
}

void dht_table_init(struct dht_table *t, const uint8_t self[KRPC_ID_LEN], int family,
                    uint64_t now)
{
	memset(t, 0, sizeof *t);
	memcpy(t->self, self, KRPC_ID_LEN);
	t->family = family;
	for (size_t i = 0; i < DHT_BUCKETS; i++)
		t->changed[i] = now;
}

void dht_table_free(struct dht_table *t)
{
	for (size_t i = 0; i < DHT_BUCKETS; i++)
		free(t->b[i]);
	memset(t->b, 0, sizeof t->b);
	t->n_live = 0;
}

bool dht_entry_good(const struct dht_entry *e, uint64_t now)
{
	if (e->fails > 0 || e->last_reply == 0)
		return false;
	return now - e->last_reply < DHT_GOOD_SECS || now - e->last_query < DHT_GOOD_SECS;
}

/* The bucket for id (allocated when create); NULL for our own id. */
static struct dht_bucket *bucket_of(struct dht_table *t, const uint8_t id[KRPC_ID_LEN],
                                    bool create, unsigned *index)
{
	unsigned i = dht_id_prefix(t->self, id);

	if (i >= DHT_BUCKETS)
		return NULL;
	if (t->b[i] == NULL && create)
		t->b[i] = xcalloc(1, sizeof *t->b[i]);
	if (index)
		*index = i;
	return t->b[i];
}

static struct dht_entry *find_id(struct dht_entry *v, size_t n, const uint8_t id[KRPC_ID_LEN])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(v[i].id, id, KRPC_ID_LEN) == 0)
			return &v[i];
	return NULL;
}

static void remove_at(struct dht_entry *v, uint8_t *n, size_t i)
{
	memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof *v);
	(*n)--;
}

/* Drops every live entry and spare at addr (a node that changed its id). */
static void forget_addr(struct dht_table *t, const struct krpc_addr *addr)
{
	for (size_t i = 0; i < DHT_BUCKETS; i++) {
		struct dht_bucket *b = t->b[i];
		for (size_t j = 0; b && j < b->n_live;) {
			if (krpc_addr_equal(&b->live[j].addr, addr)) {
				remove_at(b->live, &b->n_live, j);
				t->n_live--;
			} else {
				j++;
			}
		}
		for (size_t j = 0; b && j < b->n_spare;) {
			if (krpc_addr_equal(&b->spare[j].addr, addr))
				remove_at(b->spare, &b->n_spare, j);
			else
				j++;
		}
	}
}

static struct dht_entry fresh_entry(const struct krpc_node *n, uint64_t now)
{
	struct dht_entry e = { .addr = n->addr, .last_reply = now };

	memcpy(e.id, n->id, KRPC_ID_LEN);
	return e;
}

static void add_spare(struct dht_bucket *b, const struct dht_entry *e)
{
	if (b->n_spare == DHT_SPARES)
		remove_at(b->spare, &b->n_spare, 0);
	b->spare[b->n_spare++] = *e;
}

/* The questionable live entry heard from least recently, or NULL. */
static const struct dht_entry *most_stale(const struct dht_bucket *b, uint64_t now)
{
	const struct dht_entry *best = NULL;

	for (size_t i = 0; i < b->n_live; i++) {
		const struct dht_entry *e = &b->live[i];
		if (!dht_entry_good(e, now) && (best == NULL || e->last_reply < best->last_reply))
			best = e;
	}
	return best;
}

static struct dht_entry *first_bad(struct dht_bucket *b)
{
	for (size_t i = 0; i < b->n_live; i++)
		if (dht_entry_bad(&b->live[i]))
			return &b->live[i];
	return NULL;
}

/* A known id answered: refresh it (or move it, unless the known one is good). */
static enum dht_seen update_known(struct dht_entry *e, const struct krpc_addr *addr,
                                  uint64_t now)
{
	if (!krpc_addr_equal(&e->addr, addr)) {
		if (dht_entry_good(e, now))
			return DHT_SEEN_IGNORED;
		e->addr = *addr;
	}
	e->last_reply = now;
	e->fails = 0;
	return DHT_SEEN_UPDATED;
}

enum dht_seen dht_table_replied(struct dht_table *t, const struct krpc_node *n, uint64_t now,
                                const struct dht_entry **ping)
{
	unsigned i;
	struct dht_bucket *b = bucket_of(t, n->id, true, &i);
	struct dht_entry e = fresh_entry(n, now), *known;

	*ping = NULL;
	if (b == NULL || n->addr.family != t->family)
		return DHT_SEEN_IGNORED;
	if ((known = find_id(b->live, b->n_live, n->id)) != NULL) {
		enum dht_seen r = update_known(known, &n->addr, now);
		if (r == DHT_SEEN_UPDATED)
			t->changed[i] = now;
		return r;
	}
	forget_addr(t, &n->addr);
	if ((known = find_id(b->spare, b->n_spare, n->id)) != NULL)
		remove_at(b->spare, &b->n_spare, (size_t)(known - b->spare));
	t->changed[i] = now;
	if (b->n_live < DHT_K) {
		b->live[b->n_live++] = e;
		t->n_live++;
		return DHT_SEEN_ADDED;
	}
	if ((known = first_bad(b)) != NULL) {
		*known = e;
		return DHT_SEEN_ADDED;
	}
	add_spare(b, &e);
	*ping = most_stale(b, now);
	return DHT_SEEN_SPARE;
}

bool dht_table_queried(struct dht_table *t, const struct krpc_node *n, uint64_t now)
{
	struct dht_bucket *b = bucket_of(t, n->id, false, NULL);
	struct dht_entry *known;

	if (dht_id_prefix(t->self, n->id) >= DHT_BUCKETS || n->addr.family != t->family)
		return false;
	if (b == NULL)
		return true;
	if ((known = find_id(b->live, b->n_live, n->id)) != NULL) {
		if (krpc_addr_equal(&known->addr, &n->addr))
			known->last_query = now;
		return false;
	}
	return b->n_live < DHT_K || first_bad(b) != NULL;
}

void dht_table_failed(struct dht_table *t, const struct krpc_addr *addr)
{
	for (size_t i = 0; i < DHT_BUCKETS; i++) {
		struct dht_bucket *b = t->b[i];
		for (size_t j = 0; b && j < b->n_live; j++) {
			struct dht_entry *e = &b->live[j];
			if (!krpc_addr_equal(&e->addr, addr))
				continue;
			if (e->fails < UINT8_MAX)
				e->fails++;
			if (dht_entry_bad(e) && b->n_spare > 0)
				*e = b->spare[--b->n_spare];
			return;
		}
	}
}

void dht_table_pinged(struct dht_table *t, const uint8_t id[KRPC_ID_LEN], uint64_t now)
{
	struct dht_bucket *b = bucket_of(t, id, false, NULL);
	struct dht_entry *e = b ? find_id(b->live, b->n_live, id) : NULL;

	if (e != NULL)
		e->last_ping = now;
}

bool dht_table_add_unverified(struct dht_table *t, const struct krpc_node *n)
{
	struct dht_bucket *b = bucket_of(t, n->id, true, NULL);

	if (b == NULL || n->addr.family != t->family || b->n_live == DHT_K ||
	    find_id(b->live, b->n_live, n->id) != NULL)
		return false;
	for (size_t i = 0; i < DHT_BUCKETS; i++)
		for (size_t j = 0; t->b[i] && j < t->b[i]->n_live; j++)
			if (krpc_addr_equal(&t->b[i]->live[j].addr, &n->addr))
				return false;
	b->live[b->n_live++] = fresh_entry(n, 0);
	t->n_live++;
	return true;
}

/* Inserts e into out[0..*n) kept sorted by distance to target, at most max. */
static void insert_closest(const uint8_t target[KRPC_ID_LEN], const struct dht_entry *e,
                           struct krpc_node *out, size_t *n, size_t max)
{
	size_t at = *n;

	while (at > 0 && dht_id_closer(target, e->id, out[at - 1].id) < 0)
		at--;
	if (at >= max)
		return;
	size_t keep = *n < max ? *n : max - 1;
	memmove(&out[at + 1], &out[at], (keep - at) * sizeof *out);
	memcpy(out[at].id, e->id, KRPC_ID_LEN);
	out[at].addr = e->addr;
	if (*n < max)
		(*n)++;
}

size_t dht_table_closest(const struct dht_table *t, const uint8_t target[KRPC_ID_LEN],
                         struct krpc_node *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < DHT_BUCKETS && max > 0; i++)
		for (size_t j = 0; t->b[i] && j < t->b[i]->n_live; j++)
			if (!dht_entry_bad(&t->b[i]->live[j]))
				insert_closest(target, &t->b[i]->live[j], out, &n, max);
	return n;
}

static uint64_t last_heard(const struct dht_entry *e)
{
	return e->last_reply > e->last_query ? e->last_reply : e->last_query;
}

bool dht_table_stale_node(const struct dht_table *t, uint64_t now, uint64_t min_gap,
                          struct krpc_node *out)
{
	const struct dht_entry *best = NULL;

	for (size_t i = 0; i < DHT_BUCKETS; i++) {
		for (size_t j = 0; t->b[i] && j < t->b[i]->n_live; j++) {
			const struct dht_entry *e = &t->b[i]->live[j];
			if (dht_entry_good(e, now) || dht_entry_bad(e) ||
			    (e->last_ping != 0 && now - e->last_ping < min_gap))
				continue;
			if (best == NULL || last_heard(e) < last_heard(best))
				best = e;
		}
	}
	if (best == NULL)
		return false;
	memcpy(out->id, best->id, KRPC_ID_LEN);
	out->addr = best->addr;
	return true;
}

bool dht_table_refresh_target(struct dht_table *t, uint64_t now,
                              const uint8_t rnd[KRPC_ID_LEN], uint8_t target[KRPC_ID_LEN])
{
	int deepest = -1;

	for (int i = 0; i < DHT_BUCKETS; i++)
		if (t->b[i] && t->b[i]->n_live > 0)
			deepest = i;
	for (int i = 0; i <= deepest; i++) {
		if (now - t->changed[i] < DHT_GOOD_SECS)
			continue;
		/* Bits 0..i-1 from self, bit i flipped, the rest random. */
		unsigned byte = (unsigned)i / 8, bit = 7 - (unsigned)i % 8;
		memcpy(target, t->self, KRPC_ID_LEN);
		memcpy(target + byte + 1, rnd + byte + 1, KRPC_ID_LEN - byte - 1);
		uint8_t keep = (uint8_t)(0xff << (bit + 1));
		target[byte] = (uint8_t)((t->self[byte] & keep) | ((~t->self[byte]) & (1u << bit)) |
		                         (rnd[byte] & ((1u << bit) - 1)));
		t->changed[i] = now;
		return true;
	}
	return false;
}

uint32_t dht_table_count(const struct dht_table *t, uint64_t now, uint32_t *good)
{
	uint32_t g = 0;

	for (size_t i = 0; i < DHT_BUCKETS; i++)
		for (size_t j = 0; t->b[i] && j < t->b[i]->n_live; j++)
			g += dht_entry_good(&t->b[i]->live[j], now);
	if (good)
		*good = g;
	return t->n_live;
}

size_t dht_table_export(const struct dht_table *t, uint64_t now, struct krpc_node *out,
                        size_t max)
{
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < DHT_BUCKETS; i++) {
			for (size_t j = 0; t->b[i] && j < t->b[i]->n_live && n < max; j++) {
				const struct dht_entry *e = &t->b[i]->live[j];
				if (dht_entry_good(e, now) != (pass == 0))
					continue;
				memcpy(out[n].id, e->id, KRPC_ID_LEN);
				out[n++].addr = e->addr;
			}
		}
	}
	return n;
}
