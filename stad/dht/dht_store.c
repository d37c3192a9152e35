/* Announced peers by info-hash (see dht_store.h). */
#include "dht_store.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

void dht_store_init(struct dht_store *s, uint32_t max_per_hash, uint32_t max_total)
{
	memset(s, 0, sizeof *s);
	dht_store_set_limits(s, max_per_hash, max_total);
}

void dht_store_set_limits(struct dht_store *s, uint32_t max_per_hash, uint32_t max_total)
{
	s->max_per_hash = max_per_hash;
	s->max_total = max_total;
}

void dht_store_free(struct dht_store *s)
{
	for (uint32_t i = 0; i < s->n_hashes; i++)
		free(s->hashes[i].peers);
	free(s->hashes);
	memset(s, 0, sizeof *s);
}

/* Index of info_hash, or where it would go (*found false). */
static uint32_t find_hash(const struct dht_store *s, const uint8_t ih[KRPC_ID_LEN], bool *found)
{
	uint32_t lo = 0, hi = s->n_hashes;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(s->hashes[mid].info_hash, ih, KRPC_ID_LEN);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static struct dht_stored_hash *insert_hash(struct dht_store *s, uint32_t at,
                                           const uint8_t ih[KRPC_ID_LEN])
{
	if (s->n_hashes == s->cap_hashes) {
		s->cap_hashes = s->cap_hashes ? s->cap_hashes * 2 : 16;
		s->hashes = xreallocarray(s->hashes, s->cap_hashes, sizeof *s->hashes);
	}
	memmove(&s->hashes[at + 1], &s->hashes[at], (s->n_hashes - at) * sizeof *s->hashes);
	s->n_hashes++;
	struct dht_stored_hash *h = &s->hashes[at];
	memset(h, 0, sizeof *h);
	memcpy(h->info_hash, ih, KRPC_ID_LEN);
	return h;
}

static struct dht_stored_peer *oldest(struct dht_stored_hash *h)
{
	struct dht_stored_peer *o = &h->peers[0];

	for (uint32_t i = 1; i < h->n; i++)
		if (h->peers[i].seen < o->seen)
			o = &h->peers[i];
	return o;
}

enum dht_store_result dht_store_add(struct dht_store *s, const uint8_t info_hash[KRPC_ID_LEN],
                                    const struct krpc_addr *peer, uint64_t now)
{
	bool found;
	uint32_t at = find_hash(s, info_hash, &found);
	struct dht_stored_hash *h = found ? &s->hashes[at] : NULL;

	for (uint32_t i = 0; h && i < h->n; i++) {
		if (krpc_addr_equal(&h->peers[i].addr, peer)) {
			h->peers[i].seen = now;
			return DHT_STORE_REFRESHED;
		}
	}
	if (h && h->n >= s->max_per_hash) {
		*oldest(h) = (struct dht_stored_peer){ *peer, now };
		return DHT_STORE_REPLACED;
	}
	if (s->n_peers >= s->max_total || s->max_per_hash == 0)
		return DHT_STORE_FULL;
	if (h == NULL)
		h = insert_hash(s, at, info_hash);
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 4;
		if (h->cap > s->max_per_hash)
			h->cap = s->max_per_hash;
		h->peers = xreallocarray(h->peers, h->cap, sizeof *h->peers);
	}
	h->peers[h->n++] = (struct dht_stored_peer){ *peer, now };
	s->n_peers++;
	return DHT_STORE_ADDED;
}

size_t dht_store_get(const struct dht_store *s, const uint8_t info_hash[KRPC_ID_LEN], int family,
                     uint32_t start, struct krpc_addr *out, size_t max)
{
	bool found;
	uint32_t at = find_hash(s, info_hash, &found);
	size_t n = 0;

	if (!found)
		return 0;
	const struct dht_stored_hash *h = &s->hashes[at];
	for (uint32_t i = 0; i < h->n && n < max; i++) {
		const struct dht_stored_peer *p = &h->peers[(start + i) % h->n];
		if (p->addr.family == family)
			out[n++] = p->addr;
	}
	return n;
}

void dht_store_expire(struct dht_store *s, uint64_t now)
{
	uint32_t keep_h = 0;

	for (uint32_t i = 0; i < s->n_hashes; i++) {
		struct dht_stored_hash *h = &s->hashes[i];
		uint32_t keep = 0;
		for (uint32_t j = 0; j < h->n; j++)
			if (now - h->peers[j].seen < DHT_STORE_TTL)
				h->peers[keep++] = h->peers[j];
		s->n_peers -= h->n - keep;
		h->n = keep;
		if (keep == 0)
			free(h->peers);
		else
			s->hashes[keep_h++] = *h;
	}
	s->n_hashes = keep_h;
}
