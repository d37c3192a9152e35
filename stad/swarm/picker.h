/* Piece picker for one torrent: which blocks to request from which peer.
 *
 * Pure policy: no I/O, no clocks, no libevent. The loop thread owns it;
 * nothing here is thread-safe. Peers are named by a caller-chosen 32-bit
 * tag (e.g. a connection id); PICKER_NO_TAG is reserved.
 *
 * Policy, in order, for each picker_next_blocks call:
 *  1. free blocks of partial pieces this peer was already working on
 *     (keeps a piece on one peer, so one slow peer rarely holds up many
 *     pieces and a bad piece has one suspect);
 *  2. free blocks of any other partial piece the peer has;
 *  3. a new piece the peer has and we lack, rarest first (random among the
 *     first PICKER_RANDOM_FIRST candidates until we have
 *     PICKER_RANDOM_UNTIL pieces, to get something to trade quickly);
 *  4. partial pieces whose last hash failed and that avoid this peer;
 *  5. end-game, once no missing block is left unrequested: a block already
 *     requested from one other peer may be requested a second time (never
 *     twice from the same peer, never three requesters), where the
 *     caller's duplicate filter agrees (a slow peer should not spend its
 *     upload on a block a fast one is about to send).
 *
 * Costs (n pieces, P partial pieces, B blocks per piece):
 *  - availability change (have, bitfield bit): O(1), the piece moves
 *    between availability buckets (doubly linked lists by count); seeds
 *    (have-all peers) are one counter, O(1) to add or remove;
 *  - picker_next_blocks: O(P + max) for steps 1, 2 and 4 (each partial
 *    keeps a cursor on its first free block), O(1) when no partial piece
 *    has a free block (the steady state: peers take whole pieces), plus
 *    for step 3 a walk of the
 *    buckets from the rarest, skipping pieces this peer lacks; that walk
 *    is taken once per new piece, so it is amortised over the piece's B
 *    blocks, and a word-wide bitfield check (O(n/64)) first makes sure the
 *    peer has some startable piece at all, so a peer with nothing to offer
 *    costs no walk. Worst case, when every rarer piece is one the peer
 *    lacks, O(n) per new piece: measured ~0.3 us per block for 4096
 *    pieces of 16 blocks; with a seed or typical bitfields 65536 blocks
 *    pick in about 2 ms;
 *  - block received / cancelled: O(1); peer gone: O(P * B) over partial
 *    pieces only (rare: disconnect or choke).
 * No heap allocation per block: partial-piece records (with their block
 * arrays) come from a pool, allocated on first need and recycled.
 */
#ifndef STA_PICKER_H
#define STA_PICKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bitfield.h"
#include "metainfo.h"

#define PICKER_BLOCK_SIZE MI_BLOCK_SIZE
#define PICKER_NO_TAG UINT32_MAX
#define PICKER_RANDOM_FIRST 8u
#define PICKER_RANDOM_UNTIL 4u

struct picker;

/* One block request: {piece, offset, length} as in a wire request. */
struct block_req {
	uint32_t piece;
	uint32_t offset;
	uint32_t length;
};

/* n_pieces > 0, piece_length > 0 (blocks are PICKER_BLOCK_SIZE, the last
 * block of a piece may be short), total_length consistent: in
 * ((n_pieces - 1) * piece_length, n_pieces * piece_length]. These come
 * from a validated metainfo; a mismatch is a caller bug (assert).
 *
 * seed drives the PRNG (0: a fixed default, for deterministic tests):
 * the random order in which pieces of equal availability are picked, the
 * tie-breaks and the early random pick. Every client of a swarm must get
 * its own seed: with the same order, leechers fetch the same pieces from
 * the origin at the same time and have nothing to trade.
 * The caller frees the result with picker_free. */
struct picker *picker_new(uint32_t n_pieces, uint32_t piece_length, uint64_t total_length,
                          uint64_t seed);
void picker_free(struct picker *p);

/* Geometry. Out-of-range arguments give 0. */
uint32_t picker_piece_size(const struct picker *p, uint32_t piece);
uint32_t picker_piece_blocks(const struct picker *p, uint32_t piece);
/* Length of the block at byte offset (a multiple of PICKER_BLOCK_SIZE)
 * of piece; 0 if there is no such block. */
uint32_t picker_block_length(const struct picker *p, uint32_t piece, uint32_t offset);

/* --- Availability (what peers have) ---------------------------------- */

/* Counts a peer's bitfield (nbits must equal n_pieces) / takes it back
 * when the peer goes. A peer with every piece (BEP 6 have-all, or a full
 * bitfield when the caller chooses so) should be counted with
 * picker_seed_add instead: O(1) rather than O(n). */
void picker_peer_bitfield_add(struct picker *p, const struct bitfield *bf);
void picker_peer_bitfield_remove(struct picker *p, const struct bitfield *bf);
/* A have message from a peer counted by bitfield (the caller sets the bit
 * in its copy of the peer's bitfield, and ignores repeated haves). False
 * when piece is out of range (the peer sent garbage). */
bool picker_peer_have(struct picker *p, uint32_t piece);
void picker_seed_add(struct picker *p);
void picker_seed_remove(struct picker *p);
/* Peers known to have piece (bitfield peers plus seeds); 0 out of range. */
uint32_t picker_availability(const struct picker *p, uint32_t piece);

/* --- Our pieces --------------------------------------------------------- */

/* Marks a piece verified without downloading it (resume data, a check of
 * files on disk). Drops any partial state of the piece. False when out of
 * range. */
bool picker_set_have(struct picker *p, uint32_t piece);
/* The hash of a piece returned complete by picker_block_received matched:
 * it becomes ours. False (nothing changed) unless the piece had all its
 * blocks received. */
bool picker_piece_passed(struct picker *p, uint32_t piece);
/* Its hash did not match: every block is free again and will be
 * requested again. avoid_tag (or PICKER_NO_TAG) names a peer that should
 * not be given the piece's blocks while another peer can take them; the
 * avoidance ends once another peer picks from it. False unless the piece
 * had all its blocks received. */
bool picker_piece_failed(struct picker *p, uint32_t piece, uint32_t avoid_tag);
/* The peer every received block of a complete-but-unverified piece came
 * from, or PICKER_NO_TAG when several peers contributed (or the piece is
 * not in that state). Lets the caller blame a peer for a failed hash. */
uint32_t picker_piece_sender(const struct picker *p, uint32_t piece);

uint32_t picker_have_count(const struct picker *p);
bool picker_is_complete(const struct picker *p);
/* Our verified pieces, e.g. to send a bitfield. Owned by the picker. */
const struct bitfield *picker_have(const struct picker *p);
/* Whether a peer (NULL = has all) has a piece we lack. O(n/64). */
bool picker_interesting(const struct picker *p, const struct bitfield *peer_has);

/* --- Block requests ----------------------------------------------------- */

/* How many new pieces the following picker_next_blocks calls may start
 * (each start takes one); the rest of their blocks come from pieces
 * already started. The caller passes the piece buffers it can still get,
 * so that no piece is started that cannot be stored. Unlimited until
 * first set. */
void picker_set_start_budget(struct picker *p, uint32_t n);

/* End game: whether the peer picking now should also request a block that
 * the peer tagged holder has requested already; ctx is the caller's. */
typedef bool (*picker_dup_fn)(void *ctx, uint32_t holder);
/* Sets it for the following picker_next_blocks calls; NULL (the default):
 * any block may be requested twice. */
void picker_set_dup_filter(struct picker *p, picker_dup_fn fn, void *ctx);

/* Picks up to max blocks to request from the peer tagged peer_tag, whose
 * pieces are peer_has (NULL: it has all), marks them requested by that
 * peer and writes them to out. Returns how many (0: nothing to ask it
 * for). peer_has must be counted in the availability (bitfield_add /
 * have / seed_add) for rarest-first to be right. */
size_t picker_next_blocks(struct picker *p, const struct bitfield *peer_has, uint32_t peer_tag,
                          struct block_req *out, size_t max);

/* What picker_block_received decided. */
struct picker_recv {
	bool wanted;       /* false: drop the data (not a block of ours, bad
	                      length, already received or piece verified) */
	bool piece_done;   /* all blocks of the piece are in: hash it, then
	                      call picker_piece_passed or picker_piece_failed */
	bool cancel_other; /* another peer still has this block requested
	                      (end-game, or a block re-requested after a
	                      cancel): send it a cancel; its request is
	                      already released here */
	uint32_t other_tag;
};

/* A piece message from peer_tag arrived. piece, offset and length come off
 * the wire and are checked here. A block is accepted when we still lack it
 * even if it was not (or no longer) requested from this peer. Fills *r. */
void picker_block_received(struct picker *p, uint32_t piece, uint32_t offset, uint32_t length,
                           uint32_t peer_tag, struct picker_recv *r);
/* The request of this block to peer_tag is gone (timeout, reject, we sent
 * a cancel): the block is free again unless another peer has it
 * requested. False when peer_tag had no such request. */
bool picker_block_cancel(struct picker *p, uint32_t piece, uint32_t offset, uint32_t peer_tag);
/* Releases every block requested from peer_tag (peer gone, or it choked us
 * without the Fast extension). Returns how many. Does not touch
 * availability: remove the peer's bitfield or seed count separately. */
size_t picker_peer_gone(struct picker *p, uint32_t peer_tag);

/* Blocks requested from some peer and not yet received, over all pieces
 * (a duplicate end-game request counts once). */
uint32_t picker_outstanding(const struct picker *p);

#endif
