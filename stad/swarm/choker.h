/* Choking (BEP 3 tit-for-tat as the original client does it): which peers
 * we upload to. Pure: the torrent calls choker_run every CHOKER_INTERVAL
 * seconds with one record per connected peer, rates it measured itself,
 * and a random source; the decisions come back in the records.
 *
 * Regular slots (upload_slots - 1) go to the interested, non-snubbed
 * peers with the best rate: while leeching the rate they upload to us
 * (reciprocation), while seeding the rate we upload to them (peers that
 * take data fastest spread it fastest, as in the mainline client; this
 * needs no per-peer history). Ties keep already unchoked peers. While
 * leeching, a peer that sends us at least CHOKER_PEER_SHARE of what the
 * last regular one does is reciprocated too (up to upload_slots more):
 * among equal contributors the cut was arbitrary, and the peers left out
 * fell behind the swarm (in tests/bench/swarm_bench one leecher was
 * choked by half its peers and finished last, 0.8 s after the rest);
 * peers that send nothing still get only the optimistic slot. One more
 * slot is the optimistic unchoke: a random interested peer without a
 * regular slot, snubbed or not, rotated every CHOKER_OPTIMISTIC_ROUNDS
 * rounds (and sooner when its peer is gone, no longer interested or won a
 * regular slot); newly connected peers weigh CHOKER_NEW_WEIGHT times as
 * much, since they have nothing to reciprocate with yet.
 * Peers that are not interested are choked; so are seeds (they never
 * download from us). O(n * upload_slots) time, no allocation.
 *
 * Between rounds, choker_refill fills slots that came free (a peer left or
 * lost interest) with the best ranked of the peers waiting, so that an
 * upload slot is never idle for up to CHOKER_INTERVAL.
 */
#ifndef STA_CHOKER_H
#define STA_CHOKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHOKER_INTERVAL 10          /* seconds between rounds */
#define CHOKER_OPTIMISTIC_ROUNDS 3  /* rotate the optimistic unchoke every 30 s */
#define CHOKER_NEW_WEIGHT 3
#define CHOKER_PEER_SHARE_NUM 3     /* CHOKER_PEER_SHARE: 3/4 */
#define CHOKER_PEER_SHARE_DEN 4

enum choker_mode {
	CHOKER_LEECHING,
	CHOKER_SEEDING,
};

struct choker_peer {
	uint32_t tag;            /* the caller's; not read here */
	uint64_t rate_from_peer; /* bytes/s it sends us */
	uint64_t rate_to_peer;   /* bytes/s we send it */
	bool interested;         /* it is interested in us */
	bool is_seed;            /* it has every piece */
	bool snubbed;            /* sent us nothing for a while */
	bool is_new;             /* connected recently (e.g. < 1 min) */
	bool unchoked;           /* in: unchoked now; out: unchoke it */
	bool optimistic;         /* in: the current optimistic unchoke;
	                            out: the new one (at most one set) */
};

/* Returns a uniformly random value in [0, bound) for bound > 0. */
typedef uint32_t (*choker_rand_fn)(void *ctx, uint32_t bound);

struct choker_params {
	enum choker_mode mode;
	uint32_t upload_slots;   /* including the optimistic one; 0 chokes all */
	uint64_t round;          /* incremented by the caller every call */
	choker_rand_fn rand;
	void *rand_ctx;
};

/* Decides one round: rewrites unchoked and optimistic in every record.
 * The caller sends choke/unchoke where unchoked changed. Returns the
 * number of peers unchoked. */
size_t choker_run(struct choker_peer *peers, size_t n, const struct choker_params *params);

/* A slot is busy while an unchoked peer is interested (one that lost
 * interest keeps its unchoke until the next round, not its slot). While
 * fewer than upload_slots are busy, unchokes the choked peers that want
 * data, best ranked first (as for regular slots; snubbed ones last): sets
 * their unchoked. Returns how many it unchoked. params->round and rand
 * are not used. */
size_t choker_refill(struct choker_peer *peers, size_t n, const struct choker_params *params);

#endif
