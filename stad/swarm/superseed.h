/* Super-seeding (BEP 16): which pieces an initial seed tells each peer it
 * has, so that it sends every piece once before it sends any piece twice.
 *
 * A super-seed hides its pieces (peers see an empty bitfield) and offers
 * them with HAVE messages: each peer is offered the pieces with the fewest
 * copies in the swarm plus offers out, that it lacks. A peer holds at most
 * its credit of unsettled offers. An offer is settled when another peer
 * reports the piece (the peer passed it on), when every peer has it
 * (there is nobody to pass it to: a lone leecher, the end of a swarm), or
 * after SUPERSEED_PATIENCE_S (a peer that does not share gets more,
 * slowly, instead of stalling). The credit grows with the rate we send the
 * peer, so a fast peer is not left idle waiting for offers. A peer counts
 * as having an offered piece once it was sent all of it
 * (superseed_sent): a peer does not tell a seed it got a piece.
 *
 * Once a whole copy is out (every piece at some peer), offers settle as
 * soon as the peer has the piece: the seed keeps choosing the rarest
 * pieces, but its upload no longer waits for peers to pass pieces on
 * (with peers' uplinks slower than ours it would sit idle).
 *
 * Pure, no I/O; loop thread only. The torrent reports the pieces peers have
 * and asks for offers; per-peer state is a struct superseed_peer it keeps.
 * Costs: a copy or an offer change is O(1); picking an offer walks the
 * pieces from the rarest, skipping those the peer has or was told of
 * (amortised over the piece it then fetches).
 */
#ifndef STAD_SUPERSEED_H
#define STAD_SUPERSEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bitfield.h"

#define SUPERSEED_MAX_OFFERS 256u
#define SUPERSEED_PATIENCE_S 10u
/* Once a whole copy is out: a peer may be fetching an offered piece from
 * another peer, and hold its credit with it. */
#define SUPERSEED_PATIENCE_OUT_S 2u
/* Credit: the pieces the peer fetches in this long at its rate... */
#define SUPERSEED_LEAD_S 2u
/* ...and never fewer than this many bytes of them. */
#define SUPERSEED_MIN_LEAD (512u * 1024)

struct superseed;

/* A peer's unsettled offers. Zeroed by superseed_peer_add. */
struct superseed_peer {
	uint32_t offer[SUPERSEED_MAX_OFFERS];
	uint64_t offered_at[SUPERSEED_MAX_OFFERS];
	uint32_t sent[SUPERSEED_MAX_OFFERS];    /* bytes of it sent to the peer */
	uint32_t n_offers;
};

/* seed drives the random order of equally rare pieces (0: a fixed one). */
struct superseed *superseed_new(uint32_t n_pieces, uint64_t seed);
void superseed_free(struct superseed *ss);

/* A peer that may be offered pieces (a leecher) joins / leaves; leaving
 * ends its offers. Its pieces are counted separately (superseed_copy_*). */
void superseed_peer_add(struct superseed *ss, struct superseed_peer *sp);
void superseed_peer_remove(struct superseed *ss, struct superseed_peer *sp);

/* One more / one fewer peer has piece (a HAVE, a bitfield bit, a peer
 * gone). Out-of-range pieces are ignored. */
void superseed_copy_add(struct superseed *ss, uint32_t piece);
void superseed_copy_remove(struct superseed *ss, uint32_t piece);
/* Every piece is at some peer: a whole copy is out in the swarm. */
bool superseed_all_out(const struct superseed *ss);

/* piece showed up at a peer other than sp: settles sp's offer of it.
 * True when sp had one (it may be given another). */
bool superseed_settle(struct superseed *ss, struct superseed_peer *sp, uint32_t piece);
/* sp has piece now (counted with superseed_copy_add): settles sp's offer
 * of it if there is nobody left to pass it to, or once a whole copy is
 * out. True when it did. */
bool superseed_fetched(struct superseed *ss, struct superseed_peer *sp, uint32_t piece);

/* length more bytes of piece (piece_size long) went to sp. True once all
 * of an offered piece went: the caller counts it as sp's (a copy). */
bool superseed_sent(struct superseed_peer *sp, uint32_t piece, uint32_t length,
                    uint32_t piece_size);

/* Settles sp's offers made before now - SUPERSEED_PATIENCE_S (seconds).
 * Returns how many. */
uint32_t superseed_expire(struct superseed *ss, struct superseed_peer *sp, uint64_t now);

/* Unsettled offers a peer we send rate bytes/s may hold. */
uint32_t superseed_credit(uint64_t rate, uint32_t piece_length);

/* New offers for sp, up to credit unsettled and max in all: pieces that
 * neither peer_has (what it has, as far as we know) nor told (what it was
 * told we have) holds, rarest first. Each is written to out and marked in
 * told; the caller sends a HAVE for each. Returns how many. */
size_t superseed_offer(struct superseed *ss, struct superseed_peer *sp,
                       const struct bitfield *peer_has, struct bitfield *told,
                       uint32_t credit, uint64_t now, uint32_t *out, size_t max);

#endif
