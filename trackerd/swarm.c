#include "swarm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "siphash.h"
#include "xmalloc.h"

/*
 * Peers are stored by value in sorted arrays, one per (family, seeder)
 * pair, so a lookup is a binary search, a seeder is handed only leechers
 * without scanning, and memory stays flat. Entry layout:
 *
 *   IPv4: addr 4 | port 2 | flags 1 | pad 1 | last_seen 4  = 12 bytes a peer
 *   IPv6: addr 16 | port 2 | flags 1 | pad 1 | last_seen 4 = 24 bytes a peer
 *
 * Address and port are big-endian and come first, so comparing the first
 * alen + 2 bytes orders entries and identifies a peer; last_seen lands on a
 * 4-byte boundary in both layouts.
 */
#define PEER_COUNTED 0x01 /* this peer's "completed" was counted */
#define FAM_V4 0
#define FAM_V6 1

struct plist {
	uint8_t *data;
	uint32_t n;
	uint32_t cap;
};

struct swarm {
	uint8_t info_hash[TRACKER_HASH_LEN];
	uint32_t completed;
	uint64_t hash;
	struct plist lists[2][2]; /* [FAM_V4/FAM_V6][leecher 0 / seeder 1] */
};

struct shard {
	pthread_mutex_t lock;
	struct swarm **slots; /* open addressing, linear probing, power-of-two size */
	uint32_t cap;
	uint32_t n;
	uint64_t seeders;
	uint64_t leechers;
} __attribute__((aligned(64)));

struct swarm_table {
	uint8_t key[SIPHASH_KEY_LEN];
	atomic_uint max_swarms;
	atomic_uint max_peers;
	atomic_uint n_swarms;
	struct shard shards[SWARM_SHARDS];
};

#define SHARD_INITIAL_CAP 16

static size_t fam_alen(int fam)
{
	return fam == FAM_V4 ? 4 : 16;
}

static size_t fam_stride(int fam)
{
	return fam_alen(fam) + 8;
}

/* ---- one sorted peer array ---- */

static uint8_t *plist_at(const struct plist *l, int fam, uint32_t i)
{
	return l->data + (size_t)i * fam_stride(fam);
}

static uint32_t *entry_last_seen(uint8_t *e, int fam)
{
	return (uint32_t *)(void *)(e + fam_alen(fam) + 4);
}

static uint8_t *entry_flags(uint8_t *e, int fam)
{
	return e + fam_alen(fam) + 2;
}

/* memcmp for the short keys here (4, 6, 16 or 18 bytes), inlined: it is
 * the inner loop of every lookup and peer pick. */
static inline int key_cmp(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t x = load_u64be(a + i), y = load_u64be(b + i);
		if (x != y)
			return x < y ? -1 : 1;
	}
	if (i + 4 <= len) {
		uint32_t x = load_u32be(a + i), y = load_u32be(b + i);
		if (x != y)
			return x < y ? -1 : 1;
		i += 4;
	}
	if (i + 2 <= len) {
		uint16_t x = load_u16be(a + i), y = load_u16be(b + i);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

/* Index of the first entry whose key (klen bytes) is >= key. */
static uint32_t plist_lower_bound(const struct plist *l, int fam, const uint8_t *key, size_t klen)
{
	uint32_t lo = 0, hi = l->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (key_cmp(plist_at(l, fam, mid), key, klen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool plist_find(const struct plist *l, int fam, const uint8_t *key, uint32_t *pos)
{
	size_t klen = fam_alen(fam) + 2;

	*pos = plist_lower_bound(l, fam, key, klen);
	return *pos < l->n && key_cmp(plist_at(l, fam, *pos), key, klen) == 0;
}

static void plist_insert(struct plist *l, int fam, uint32_t pos, const uint8_t *entry)
{
	size_t stride = fam_stride(fam);

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap + l->cap / 2 + 1 : 4;
		l->data = xreallocarray(l->data, l->cap, stride);
	}
	uint8_t *at = plist_at(l, fam, pos);
	memmove(at + stride, at, (size_t)(l->n - pos) * stride);
	memcpy(at, entry, stride);
	l->n++;
}

/* Gives memory back once an array is mostly empty. */
static void plist_shrink(struct plist *l, int fam)
{
	if (l->n == 0) {
		free(l->data);
		l->data = NULL;
		l->cap = 0;
	} else if (l->cap > 16 && l->n < l->cap / 4) {
		l->cap = l->n * 2;
		l->data = xreallocarray(l->data, l->cap, fam_stride(fam));
	}
}

static void plist_remove(struct plist *l, int fam, uint32_t pos)
{
	size_t stride = fam_stride(fam);
	uint8_t *at = plist_at(l, fam, pos);

	memmove(at, at + stride, (size_t)(l->n - pos - 1) * stride);
	l->n--;
	plist_shrink(l, fam);
}

/* Removes entries last seen before cutoff; returns how many. */
static uint32_t plist_expire(struct plist *l, int fam, uint32_t cutoff)
{
	size_t stride = fam_stride(fam);
	uint32_t kept = 0;

	for (uint32_t i = 0; i < l->n; i++) {
		uint8_t *e = plist_at(l, fam, i);
		if (*entry_last_seen(e, fam) < cutoff)
			continue;
		if (kept != i)
			memcpy(plist_at(l, fam, kept), e, stride);
		kept++;
	}
	uint32_t dropped = l->n - kept;
	l->n = kept;
	if (dropped)
		plist_shrink(l, fam);
	return dropped;
}

/* ---- swarms ---- */

static uint32_t swarm_count(const struct swarm *s, int seeder)
{
	return s->lists[FAM_V4][seeder].n + s->lists[FAM_V6][seeder].n;
}

static bool swarm_empty(const struct swarm *s)
{
	return swarm_count(s, 0) + swarm_count(s, 1) == 0;
}

static void swarm_free(struct swarm *s)
{
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < 2; k++)
			free(s->lists[f][k].data);
	free(s);
}

static void swarm_fill_counts(const struct swarm *s, struct swarm_counts *c)
{
	c->seeders = swarm_count(s, 1);
	c->leechers = swarm_count(s, 0);
	c->completed = s->completed;
}

/* ---- shards ---- */

static uint64_t table_hash(const struct swarm_table *t, const uint8_t *info_hash)
{
	return siphash24(t->key, info_hash, TRACKER_HASH_LEN);
}

static struct shard *table_shard(struct swarm_table *t, uint64_t h)
{
	return &t->shards[h & (SWARM_SHARDS - 1)];
}

static uint32_t shard_home(const struct shard *sh, uint64_t h)
{
	return (uint32_t)(h >> 8) & (sh->cap - 1);
}

/* Slot holding info_hash, or of the empty slot where it would go. */
static uint32_t shard_probe(const struct shard *sh, uint64_t h, const uint8_t *info_hash)
{
	uint32_t i = shard_home(sh, h);

	while (sh->slots[i] && (sh->slots[i]->hash != h ||
	                        memcmp(sh->slots[i]->info_hash, info_hash, TRACKER_HASH_LEN)))
		i = (i + 1) & (sh->cap - 1);
	return i;
}

static struct swarm *shard_find(const struct shard *sh, uint64_t h, const uint8_t *info_hash)
{
	if (sh->cap == 0)
		return NULL;
	return sh->slots[shard_probe(sh, h, info_hash)];
}

static void shard_grow(struct shard *sh)
{
	struct swarm **old = sh->slots;
	uint32_t old_cap = sh->cap;

	sh->cap = old_cap ? old_cap * 2 : SHARD_INITIAL_CAP;
	sh->slots = xcalloc(sh->cap, sizeof *sh->slots);
	for (uint32_t i = 0; i < old_cap; i++)
		if (old[i])
			sh->slots[shard_probe(sh, old[i]->hash, old[i]->info_hash)] = old[i];
	free(old);
}

static struct swarm *shard_insert(struct shard *sh, uint64_t h, const uint8_t *info_hash)
{
	if ((sh->n + 1) * 4 > sh->cap * 3)
		shard_grow(sh);
	struct swarm *s = xcalloc(1, sizeof *s);
	memcpy(s->info_hash, info_hash, TRACKER_HASH_LEN);
	s->hash = h;
	sh->slots[shard_probe(sh, h, info_hash)] = s;
	sh->n++;
	return s;
}

/* Deletes slot i by shifting later members of its probe run back, so
 * lookups never need tombstones. */
static void shard_delete_slot(struct shard *sh, uint32_t i)
{
	uint32_t mask = sh->cap - 1, hole = i, j = i;

	swarm_free(sh->slots[i]);
	sh->slots[i] = NULL;
	sh->n--;
	for (;;) {
		j = (j + 1) & mask;
		if (sh->slots[j] == NULL)
			return;
		uint32_t home = shard_home(sh, sh->slots[j]->hash);
		/* Move j into the hole unless its home lies cyclically in (hole, j]. */
		bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (stays)
			continue;
		sh->slots[hole] = sh->slots[j];
		sh->slots[j] = NULL;
		hole = j;
	}
}

/* ---- table ---- */

struct swarm_table *swarm_table_new(const uint8_t key[16], uint32_t max_swarms, uint32_t max_peers)
{
	struct swarm_table *t = xcalloc(1, sizeof *t);

	memcpy(t->key, key, SIPHASH_KEY_LEN);
	atomic_init(&t->max_swarms, max_swarms);
	atomic_init(&t->max_peers, max_peers);
	atomic_init(&t->n_swarms, 0);
	for (int i = 0; i < SWARM_SHARDS; i++)
		pthread_mutex_init(&t->shards[i].lock, NULL);
	return t;
}

void swarm_table_free(struct swarm_table *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < SWARM_SHARDS; i++) {
		struct shard *sh = &t->shards[i];
		for (uint32_t j = 0; j < sh->cap; j++)
			if (sh->slots[j])
				swarm_free(sh->slots[j]);
		free(sh->slots);
		pthread_mutex_destroy(&sh->lock);
	}
	free(t);
}

void swarm_set_limits(struct swarm_table *t, uint32_t max_swarms, uint32_t max_peers)
{
	atomic_store_explicit(&t->max_swarms, max_swarms, memory_order_relaxed);
	atomic_store_explicit(&t->max_peers, max_peers, memory_order_relaxed);
}

/* Reserves one swarm against max_swarms; false when full. */
static bool table_reserve_swarm(struct swarm_table *t)
{
	unsigned max = atomic_load_explicit(&t->max_swarms, memory_order_relaxed);
	unsigned n = atomic_fetch_add_explicit(&t->n_swarms, 1, memory_order_relaxed);

	if (n < max)
		return true;
	atomic_fetch_sub_explicit(&t->n_swarms, 1, memory_order_relaxed);
	return false;
}

/* ---- announce ---- */

static int addr_fam(int family)
{
	return family == AF_INET ? FAM_V4 : FAM_V6;
}

/* The entry for a peer: key (address, port) then flags and last_seen. */
static void entry_make(uint8_t *e, const struct swarm_addr *p, uint32_t now)
{
	int fam = addr_fam(p->family);
	size_t alen = fam_alen(fam);

	memset(e, 0, fam_stride(fam));
	memcpy(e, p->addr, alen);
	store_u16be(e + alen, p->port);
	*entry_last_seen(e, fam) = now;
}

/* Per-thread xorshift generator for random starts; seeded from the kernel. */
static uint32_t rand_below(uint32_t n)
{
	static _Thread_local uint64_t state;

	if (state == 0 && (getrandom(&state, sizeof state, 0) != sizeof state || state == 0))
		state = (uint64_t)(uintptr_t)&state | 1;
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)(((state >> 32) * (uint64_t)n) >> 32);
}

struct pick {
	const struct plist *lists[4];
	int fams[4];
	uint32_t n_lists;
	uint32_t total;
};

static void pick_add(struct pick *p, const struct swarm *s, int fam, int seeder)
{
	const struct plist *l = &s->lists[fam][seeder];

	if (l->n == 0)
		return;
	p->lists[p->n_lists] = l;
	p->fams[p->n_lists++] = fam;
	p->total += l->n;
}

/* Only the fields a reply reads (the rest of out is left alone: this runs
 * for every peer handed out). */
static void peer_from_entry(struct tracker_peer *out, const uint8_t *e, int fam)
{
	if (fam == FAM_V4) {
		out->family = AF_INET;
		memcpy(out->addr, e, 4);
		out->port = load_u16be(e + 4);
	} else {
		out->family = AF_INET6;
		memcpy(out->addr, e, 16);
		out->port = load_u16be(e + 16);
	}
	out->has_peer_id = false;
}

/* Where the requester is, so the pick can skip it without comparing keys. */
struct self_pos {
	const struct plist *list; /* NULL: in no list (a stop) */
	uint32_t pos;
};

/* Copies entries [from, to) of one array out, skipping the requester, at
 * most max of them. */
static size_t pick_range(const struct plist *l, int fam, uint32_t from, uint32_t to,
                         const struct self_pos *self, struct tracker_peer *out, size_t max)
{
	size_t got = 0;

	for (uint32_t i = from; i < to && got < max; i++)
		if (l != self->list || i != self->pos)
			peer_from_entry(&out[got++], plist_at(l, fam, i), fam);
	return got;
}

/* Walks the candidate arrays as one virtual array from a random start,
 * wrapping once, skipping the requester: no whole-swarm scan is needed for
 * the common numwant << swarm size. Each array is copied as a run. */
static size_t pick_peers(const struct pick *p, const struct self_pos *self,
                         struct tracker_peer *out, size_t want)
{
	size_t got = 0;
	uint32_t start = rand_below(p->total), li = 0;

	while (start >= p->lists[li]->n)
		start -= p->lists[li++]->n;
	/* The first array from start, the others whole, the first again up to start. */
	for (uint32_t k = 0; k <= p->n_lists && got < want; k++) {
		const struct plist *l = p->lists[li];
		got += pick_range(l, p->fams[li], k == 0 ? start : 0, k == p->n_lists ? start : l->n,
		                  self, out + got, want - got);
		li = li + 1 == p->n_lists ? 0 : li + 1;
	}
	return got;
}

static size_t swarm_pick(const struct swarm *s, const struct swarm_announce *a, bool seeder,
                         const struct self_pos *self, struct tracker_peer *out)
{
	struct pick p = { .n_lists = 0, .total = 0 };

	for (int fam = FAM_V4; fam <= FAM_V6; fam++) {
		int family = fam == FAM_V4 ? AF_INET : AF_INET6;
		if (a->want_family && a->want_family != family)
			continue;
		pick_add(&p, s, fam, 0);
		/* A seeder's first announce gets seeders too: a magnet client
		 * that has no metadata yet says left=0 (aria2 does). */
		if (!seeder || a->event == TRACKER_EVENT_STARTED)
			pick_add(&p, s, fam, 1);
	}
	if (p.total == 0 || a->numwant == 0)
		return 0;
	return pick_peers(&p, self, out, a->numwant);
}

/* Finds the peer in either array of its family: returns which array
 * (0 leechers, 1 seeders) with its position in *pos, or -1. */
static int swarm_find_peer(const struct swarm *s, int fam, const uint8_t *key, uint32_t *pos)
{
	for (int k = 0; k < 2; k++)
		if (plist_find(&s->lists[fam][k], fam, key, pos))
			return k;
	return -1;
}

/* Applies a non-stopped announce and says where the peer now is; false if
 * the swarm is full for a new peer. */
static bool swarm_update_peer(struct swarm_table *t, struct shard *sh, struct swarm *s,
                              const struct swarm_announce *a, uint8_t *entry,
                              struct self_pos *self)
{
	int fam = addr_fam(a->peer.family);
	int now_seed = a->seeder || a->event == TRACKER_EVENT_COMPLETED;
	uint32_t pos;
	int was = swarm_find_peer(s, fam, entry, &pos);
	uint8_t *flags = entry_flags(entry, fam);

	if (was < 0 && swarm_count(s, 0) + swarm_count(s, 1) >=
	               atomic_load_explicit(&t->max_peers, memory_order_relaxed))
		return false;
	if (was >= 0)
		*flags = *entry_flags(plist_at(&s->lists[fam][was], fam, pos), fam);
	if (a->event == TRACKER_EVENT_COMPLETED && !(*flags & PEER_COUNTED)) {
		*flags |= PEER_COUNTED;
		s->completed++;
	}
	self->list = &s->lists[fam][now_seed];
	if (was == now_seed) {
		memcpy(plist_at(&s->lists[fam][was], fam, pos), entry, fam_stride(fam));
		self->pos = pos;
		return true;
	}
	if (was >= 0) {
		plist_remove(&s->lists[fam][was], fam, pos);
		*(was ? &sh->seeders : &sh->leechers) -= 1;
	}
	plist_find(&s->lists[fam][now_seed], fam, entry, &pos);
	plist_insert(&s->lists[fam][now_seed], fam, pos, entry);
	*(now_seed ? &sh->seeders : &sh->leechers) += 1;
	self->pos = pos;
	return true;
}

static void swarm_remove_peer(struct shard *sh, struct swarm *s, int fam, const uint8_t *key)
{
	uint32_t pos;
	int was = swarm_find_peer(s, fam, key, &pos);

	if (was < 0)
		return;
	plist_remove(&s->lists[fam][was], fam, pos);
	*(was ? &sh->seeders : &sh->leechers) -= 1;
}

/* Looks up (or creates, unless the announce is a stop) the swarm. */
static enum swarm_result shard_get_swarm(struct swarm_table *t, struct shard *sh, uint64_t h,
                                         const struct swarm_announce *a, struct swarm **out)
{
	*out = shard_find(sh, h, a->info_hash);
	if (*out || a->event == TRACKER_EVENT_STOPPED)
		return SWARM_OK;
	if (!table_reserve_swarm(t))
		return SWARM_TOO_MANY_SWARMS;
	*out = shard_insert(sh, h, a->info_hash);
	return SWARM_OK;
}

enum swarm_result swarm_announce(struct swarm_table *t, const struct swarm_announce *a,
                                 struct tracker_peer *out, size_t *n_out,
                                 struct swarm_counts *counts)
{
	uint64_t h = table_hash(t, a->info_hash);
	struct shard *sh = table_shard(t, h);
	int fam = addr_fam(a->peer.family);
	uint8_t entry[24];
	struct self_pos self = { NULL, 0 };
	struct swarm *s;

	*n_out = 0;
	memset(counts, 0, sizeof *counts);
	entry_make(entry, &a->peer, a->now);
	pthread_mutex_lock(&sh->lock);
	enum swarm_result r = shard_get_swarm(t, sh, h, a, &s);
	if (s == NULL)
		goto out;
	if (a->event == TRACKER_EVENT_STOPPED) {
		swarm_remove_peer(sh, s, fam, entry);
	} else if (!swarm_update_peer(t, sh, s, a, entry, &self)) {
		r = SWARM_FULL;
	} else {
		bool seeder = a->seeder || a->event == TRACKER_EVENT_COMPLETED;
		*n_out = swarm_pick(s, a, seeder, &self, out);
	}
	swarm_fill_counts(s, counts);
out:
	pthread_mutex_unlock(&sh->lock);
	return r;
}

void swarm_scrape(struct swarm_table *t, const uint8_t *info_hash, struct swarm_counts *counts)
{
	uint64_t h = table_hash(t, info_hash);
	struct shard *sh = table_shard(t, h);

	memset(counts, 0, sizeof *counts);
	pthread_mutex_lock(&sh->lock);
	struct swarm *s = shard_find(sh, h, info_hash);
	if (s)
		swarm_fill_counts(s, counts);
	pthread_mutex_unlock(&sh->lock);
}

bool swarm_is_seeder(struct swarm_table *t, const uint8_t *info_hash, int family,
                     const uint8_t *addr)
{
	uint64_t h = table_hash(t, info_hash);
	struct shard *sh = table_shard(t, h);
	int fam = addr_fam(family);
	size_t alen = fam_alen(fam);
	bool found = false;

	pthread_mutex_lock(&sh->lock);
	struct swarm *s = shard_find(sh, h, info_hash);
	if (s) {
		const struct plist *l = &s->lists[fam][1];
		uint32_t pos = plist_lower_bound(l, fam, addr, alen);
		found = pos < l->n && key_cmp(plist_at(l, fam, pos), addr, alen) == 0;
	}
	pthread_mutex_unlock(&sh->lock);
	return found;
}

/* ---- expiry and totals ---- */

static size_t swarm_expire(struct shard *sh, struct swarm *s, uint32_t cutoff)
{
	size_t dropped = 0;

	for (int fam = FAM_V4; fam <= FAM_V6; fam++) {
		uint32_t d0 = plist_expire(&s->lists[fam][0], fam, cutoff);
		uint32_t d1 = plist_expire(&s->lists[fam][1], fam, cutoff);
		sh->leechers -= d0;
		sh->seeders -= d1;
		dropped += d0 + d1;
	}
	return dropped;
}

static size_t shard_sweep(struct swarm_table *t, struct shard *sh, uint32_t cutoff)
{
	size_t dropped = 0;

	pthread_mutex_lock(&sh->lock);
	for (uint32_t i = 0; i < sh->cap;) {
		struct swarm *s = sh->slots[i];
		if (s == NULL) {
			i++;
			continue;
		}
		dropped += swarm_expire(sh, s, cutoff);
		if (!swarm_empty(s)) {
			i++;
			continue;
		}
		/* Deleting shifts a later swarm into slot i: look at i again. */
		shard_delete_slot(sh, i);
		atomic_fetch_sub_explicit(&t->n_swarms, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&sh->lock);
	return dropped;
}

size_t swarm_sweep(struct swarm_table *t, uint32_t now, uint32_t timeout, unsigned first,
                   unsigned n)
{
	uint32_t cutoff = now > timeout ? now - timeout : 0;
	size_t dropped = 0;

	for (unsigned i = 0; i < n; i++)
		dropped += shard_sweep(t, &t->shards[(first + i) % SWARM_SHARDS], cutoff);
	return dropped;
}

static void shard_seeded(struct shard *sh, struct swarm_seeded **v, size_t *len, size_t *cap)
{
	pthread_mutex_lock(&sh->lock);
	for (uint32_t i = 0; sh->seeders && i < sh->cap; i++) {
		const struct swarm *s = sh->slots[i];
		if (s == NULL || swarm_count(s, 1) == 0)
			continue;
		if (*len == *cap) {
			*cap = *cap ? *cap * 2 : 256;
			*v = xreallocarray(*v, *cap, sizeof **v);
		}
		struct swarm_seeded *e = &(*v)[(*len)++];
		memcpy(e->info_hash, s->info_hash, TRACKER_HASH_LEN);
		e->seeders = swarm_count(s, 1);
		e->leechers = swarm_count(s, 0);
	}
	pthread_mutex_unlock(&sh->lock);
}

void swarm_seeded(struct swarm_table *t, unsigned first, unsigned n, struct swarm_seeded **v,
                  size_t *len, size_t *cap)
{
	for (unsigned i = 0; i < n && i < SWARM_SHARDS; i++)
		shard_seeded(&t->shards[(first + i) % SWARM_SHARDS], v, len, cap);
}

void swarm_totals(struct swarm_table *t, struct swarm_totals *tot)
{
	memset(tot, 0, sizeof *tot);
	for (int i = 0; i < SWARM_SHARDS; i++) {
		struct shard *sh = &t->shards[i];
		pthread_mutex_lock(&sh->lock);
		tot->swarms += sh->n;
		tot->seeders += sh->seeders;
		tot->leechers += sh->leechers;
		pthread_mutex_unlock(&sh->lock);
	}
}
