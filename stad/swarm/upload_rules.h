/* Pure rules of the upload side: whether a peer's request is served, and
 * the BEP 6 allowed-fast set we grant a peer. No I/O, no session state:
 * the caller gathers the facts, these decide. */
#ifndef STAD_UPLOAD_RULES_H
#define STAD_UPLOAD_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define UPLOAD_AF_K 10u  /* allowed-fast pieces granted to a Fast peer */

enum upload_verdict {
	UPLOAD_SERVE,    /* queue it */
	UPLOAD_REJECT,   /* refuse with a BEP 6 reject */
	UPLOAD_IGNORE,   /* refuse silently (a peer without the Fast extension) */
	UPLOAD_CLOSE,    /* protocol violation: drop the peer */
};

/* What is known when a request arrives. */
struct upload_facts {
	uint32_t piece_size;   /* the requested piece's size; 0 = no such piece */
	uint32_t max_block;    /* longest request served */
	bool fast;             /* the peer speaks BEP 6 */
	bool have;             /* we have the piece, verified */
	bool serving;          /* files open, not paused */
	bool choking;          /* we choke the peer */
	bool allowed_fast;     /* the piece is in the set we granted it */
	uint32_t queued, queue_cap;
};

/* The verdict on a request {begin, length} (off the wire, unchecked);
 * *why gets a phrase for the log unless it is UPLOAD_SERVE. A request that
 * cannot be valid for any peer (no such piece, length 0, past the piece's
 * end) closes; an over-long one closes a peer that cannot be told (no
 * Fast extension). The rest is refused: a piece we lack, files not open,
 * choked outside its allowed-fast set, a full queue. */
enum upload_verdict upload_rule(const struct upload_facts *f, uint32_t begin, uint32_t length,
                                const char **why);

/* The allowed-fast set (BEP 6, k = UPLOAD_AF_K) for a peer at sa (IPv4, or
 * IPv4-mapped IPv6) into out; returns its size: 0 for other addresses and
 * for torrents of n_pieces <= UPLOAD_AF_K (the whole torrent would be
 * free). */
size_t upload_allowed_fast_set(const struct sockaddr *sa, const uint8_t info_hash[20],
                               uint32_t n_pieces, uint32_t out[UPLOAD_AF_K]);

#endif
