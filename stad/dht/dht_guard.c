/* DHT tokens and per-host answer budgets (see dht_guard.h). */
#include "dht_guard.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "xmalloc.h"

static size_t ip_len(const struct krpc_addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

void dht_tokens_init(struct dht_tokens *t, const uint8_t rnd[2 * SIPHASH_KEY_LEN], uint64_t now)
{
	memcpy(t->cur, rnd, SIPHASH_KEY_LEN);
	memcpy(t->prev, rnd + SIPHASH_KEY_LEN, SIPHASH_KEY_LEN);
	t->rotated = now;
}

bool dht_tokens_rotate(struct dht_tokens *t, const uint8_t rnd[SIPHASH_KEY_LEN], uint64_t now)
{
	if (now - t->rotated < DHT_TOKEN_ROTATE)
		return false;
	memcpy(t->prev, t->cur, SIPHASH_KEY_LEN);
	memcpy(t->cur, rnd, SIPHASH_KEY_LEN);
	t->rotated = now;
	return true;
}

static void token_with(const uint8_t key[SIPHASH_KEY_LEN], const struct krpc_addr *a,
                       uint8_t out[DHT_TOKEN_LEN])
{
	uint64_t h = siphash24(key, a->ip, ip_len(a));

	memcpy(out, &h, DHT_TOKEN_LEN);
}

void dht_token_make(const struct dht_tokens *t, const struct krpc_addr *a,
                    uint8_t out[DHT_TOKEN_LEN])
{
	token_with(t->cur, a, out);
}

bool dht_token_check(const struct dht_tokens *t, const struct krpc_addr *a, const uint8_t *tok,
                     size_t len)
{
	uint8_t want[DHT_TOKEN_LEN];

	if (len != DHT_TOKEN_LEN)
		return false;
	token_with(t->cur, a, want);
	if (memcmp(want, tok, len) == 0)
		return true;
	token_with(t->prev, a, want);
	return memcmp(want, tok, len) == 0;
}

void dht_limit_init(struct dht_limit *l, const uint8_t key[SIPHASH_KEY_LEN], uint32_t per_sec)
{
	memcpy(l->key, key, SIPHASH_KEY_LEN);
	l->per_sec = per_sec;
	l->slots = xcalloc(DHT_LIMIT_SLOTS, sizeof *l->slots);
}

void dht_limit_free(struct dht_limit *l)
{
	free(l->slots);
	l->slots = NULL;
}

bool dht_limit_allow(struct dht_limit *l, const struct krpc_addr *a, uint64_t now_ms)
{
	uint64_t full = (uint64_t)l->per_sec * 1000;
	size_t n = ip_len(a);
	struct dht_limit_slot *s = &l->slots[siphash24(l->key, a->ip, n) % DHT_LIMIT_SLOTS];

	if (s->family != a->family || memcmp(s->ip, a->ip, n) != 0) {
		memcpy(s->ip, a->ip, sizeof s->ip);
		s->family = a->family;
		s->milli = (uint32_t)(full < UINT32_MAX ? full : UINT32_MAX);
		s->at_ms = now_ms;
	}
	/* Refills per_sec answers a second, up to one second's worth. */
	uint64_t milli = s->milli + (now_ms - s->at_ms) * l->per_sec;
	s->milli = (uint32_t)(milli < full ? milli : full);
	s->at_ms = now_ms;
	if (s->milli < 1000)
		return false;
	s->milli -= 1000;
	return true;
}
