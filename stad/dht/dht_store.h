/* Peers other nodes announced to us (announce_peer), by info-hash, for
 * get_peers answers. Bounded two ways, both configurable: peers per
 * info-hash (a full list drops its oldest peer for the newcomer) and peers
 * in total (a full store takes no new peer until old ones expire). A peer
 * not announced again within DHT_STORE_TTL is dropped.
 *
 * Info-hashes sit in a sorted array searched by bisection: no hash
 * function a sender could aim collisions at. Pure: time comes in.
 */
#ifndef STAD_DHT_STORE_H
#define STAD_DHT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "krpc.h"

#define DHT_STORE_TTL (30 * 60)

struct dht_stored_peer {
	struct krpc_addr addr;
	uint64_t seen;
};

struct dht_stored_hash {
	uint8_t info_hash[KRPC_ID_LEN];
	uint32_t n, cap;
	struct dht_stored_peer *peers;
};

struct dht_store {
	struct dht_stored_hash *hashes;     /* sorted by info_hash */
	uint32_t n_hashes, cap_hashes;
	uint32_t n_peers;
	uint32_t max_per_hash, max_total;
};

enum dht_store_result {
	DHT_STORE_ADDED,
	DHT_STORE_REFRESHED,    /* already there: its time is renewed */
	DHT_STORE_REPLACED,     /* the info-hash was full: its oldest peer made room */
	DHT_STORE_FULL,         /* the store was full: not kept */
};

void dht_store_init(struct dht_store *s, uint32_t max_per_hash, uint32_t max_total);
void dht_store_free(struct dht_store *s);
/* New limits; what is stored beyond them goes as it expires. */
void dht_store_set_limits(struct dht_store *s, uint32_t max_per_hash, uint32_t max_total);
enum dht_store_result dht_store_add(struct dht_store *s, const uint8_t info_hash[KRPC_ID_LEN],
                                    const struct krpc_addr *peer, uint64_t now);
/* Up to max peers of family for info_hash, starting at position `start`
 * (modulo the count: a caller passing a random start hands out different
 * peers of a long list each time). */
size_t dht_store_get(const struct dht_store *s, const uint8_t info_hash[KRPC_ID_LEN], int family,
                     uint32_t start, struct krpc_addr *out, size_t max);
/* Drops peers not seen since now - DHT_STORE_TTL, and emptied info-hashes. */
void dht_store_expire(struct dht_store *s, uint64_t now);

#endif
