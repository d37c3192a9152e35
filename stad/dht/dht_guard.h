/* What a DHT node gives strangers only under conditions: announce tokens
 * (BEP 5: a get_peers answer carries a token that the same address must
 * show in its announce_peer; secrets rotate every DHT_TOKEN_ROTATE seconds
 * and the previous one is still accepted, so a token lives 5-10 minutes),
 * and answers per second per source address (a token bucket each; one
 * host gets the same budget from any number of ports).
 *
 * Pure: time and random bytes come in.
 */
#ifndef STAD_DHT_GUARD_H
#define STAD_DHT_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "krpc.h"
#include "siphash.h"

#define DHT_TOKEN_ROTATE (5 * 60)
#define DHT_TOKEN_LEN 8
#define DHT_LIMIT_SLOTS 4096    /* source addresses tracked at once */

struct dht_tokens {
	uint8_t cur[SIPHASH_KEY_LEN], prev[SIPHASH_KEY_LEN];
	uint64_t rotated;
};

/* Both secrets from rnd (32 bytes). */
void dht_tokens_init(struct dht_tokens *t, const uint8_t rnd[2 * SIPHASH_KEY_LEN], uint64_t now);
/* When DHT_TOKEN_ROTATE seconds have passed: the current secret becomes
 * the previous one, rnd (16 bytes) the new current one. True if rotated. */
bool dht_tokens_rotate(struct dht_tokens *t, const uint8_t rnd[SIPHASH_KEY_LEN], uint64_t now);
/* The token for a host (its address; the port plays no part). */
void dht_token_make(const struct dht_tokens *t, const struct krpc_addr *a,
                    uint8_t out[DHT_TOKEN_LEN]);
bool dht_token_check(const struct dht_tokens *t, const struct krpc_addr *a, const uint8_t *tok,
                     size_t len);

struct dht_limit_slot {
	uint8_t ip[16];
	int family;             /* 0: free */
	uint32_t milli;         /* budget in thousandths of an answer */
	uint64_t at_ms;         /* when milli was last topped up */
};

struct dht_limit {
	uint8_t key[SIPHASH_KEY_LEN];
	uint32_t per_sec;       /* answers per second per host; also the burst */
	struct dht_limit_slot *slots;
};

void dht_limit_init(struct dht_limit *l, const uint8_t key[SIPHASH_KEY_LEN], uint32_t per_sec);
void dht_limit_free(struct dht_limit *l);
/* Spends one answer of the host's budget; false when it has none left.
 * A host whose slot another one took starts again with a full budget:
 * the memory stays fixed whatever the number of senders. */
bool dht_limit_allow(struct dht_limit *l, const struct krpc_addr *a, uint64_t now_ms);

#endif
