/* The swarm table: every torrent's peers, the only state the tracker's
 * threads share. Sharded by a keyed hash of the info-hash; each shard is an
 * open-addressing table under its own mutex, so threads contend only when
 * they touch the same shard at the same moment. */
#ifndef TRACKERD_SWARM_H
#define TRACKERD_SWARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tracker_proto.h"

#define SWARM_SHARDS 256

struct swarm_table;

/* A peer as the tracker identifies it: address and port. */
struct swarm_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port;
};

struct swarm_announce {
	const uint8_t *info_hash;
	struct swarm_addr peer;
	enum tracker_event event;
	bool seeder;          /* left == 0 */
	uint32_t numwant;     /* peers wanted; the caller's array holds this many */
	int want_family;      /* AF_INET / AF_INET6: only that family (UDP); 0: both */
	uint32_t now;         /* coarse seconds, monotonic */
};

struct swarm_counts {
	uint32_t seeders;
	uint32_t leechers;
	uint32_t completed;
};

enum swarm_result {
	SWARM_OK,
	SWARM_TOO_MANY_SWARMS, /* max_swarms reached and this one is new */
	SWARM_FULL,            /* max_peers_per_swarm reached and this peer is new */
};

/* key: the random secret that keys the table's hash (peers choose
 * info-hashes, so they must not be able to aim at one bucket). */
struct swarm_table *swarm_table_new(const uint8_t key[16], uint32_t max_swarms,
                                    uint32_t max_peers);
void swarm_table_free(struct swarm_table *t);
/* Takes effect for later announces; existing swarms keep their peers. */
void swarm_set_limits(struct swarm_table *t, uint32_t max_swarms, uint32_t max_peers);

/* Records the announce (stopped removes the peer; completed is counted once
 * per peer) and picks up to a->numwant other peers at random into out[]
 * (a seeder gets only leechers). counts are after the update. */
enum swarm_result swarm_announce(struct swarm_table *t, const struct swarm_announce *a,
                                 struct tracker_peer *out, size_t *n_out,
                                 struct swarm_counts *counts);
/* Counts for one info-hash; zeros when unknown. */
void swarm_scrape(struct swarm_table *t, const uint8_t *info_hash, struct swarm_counts *counts);
/* The table's hash of an info-hash (keyed: fixed for the table's life), for
 * callers that look the same hashes up again and again, and the scrape
 * that takes it instead of computing it. */
uint64_t swarm_hash(const struct swarm_table *t, const uint8_t *info_hash);
void swarm_scrape_hashed(struct swarm_table *t, uint64_t h, const uint8_t *info_hash,
                         struct swarm_counts *counts);
/* True if some peer at this address (any port) is a seeder of info_hash. */
bool swarm_is_seeder(struct swarm_table *t, const uint8_t *info_hash, int family,
                     const uint8_t *addr);
/* Drops peers not seen since now - timeout, in shards [first, first + n),
 * and frees swarms left without peers. Returns the number of peers dropped. */
size_t swarm_sweep(struct swarm_table *t, uint32_t now, uint32_t timeout, unsigned first,
                   unsigned n);

/* A swarm with at least one seeder, as swarm_seeded lists them. */
struct swarm_seeded {
	uint8_t info_hash[TRACKER_HASH_LEN];
	uint32_t seeders;
	uint32_t leechers;
};
/* Appends each swarm with a seeder in shards [first, first + n) to *v
 * (grown as needed; *cap is its room) after its *len entries. */
void swarm_seeded(struct swarm_table *t, unsigned first, unsigned n, struct swarm_seeded **v,
                  size_t *len, size_t *cap);

struct swarm_totals {
	uint64_t swarms;
	uint64_t seeders;
	uint64_t leechers;
};
void swarm_totals(struct swarm_table *t, struct swarm_totals *tot);

#endif
