/* Tracker client for every torrent of the session: HTTP (BEP 3/23/7) and
 * UDP (BEP 15) announces, multi-tracker tiers (BEP 12), re-announce on the
 * tracker's interval, back-off on failure, "stopped" at shutdown.
 *
 * One announcer per session, one subscription (struct announce_sub) per
 * torrent. Loop thread only; nothing blocks. One timer drives the whole
 * announcer: subscriptions sit in a min-heap ordered by their next announce
 * time. UDP uses one socket per address family for all trackers; replies
 * are matched by transaction id.
 *
 * Schedule per subscription:
 *  - event=started at once on announcer_add;
 *  - then every "interval" the tracker asked for (never sooner than its
 *    "min interval"; 30 min when the tracker gives none; clamped to
 *    [ANNOUNCER_MIN_INTERVAL, 2 h]);
 *  - a failure (no reply, bad reply, "failure reason") tries the next
 *    tracker of the tiers at once; when every tracker failed in this
 *    round, the next round waits 15 s, 30 s, 60 s ... up to 30 min;
 *  - a tracker that answers moves to the front of its tier (BEP 12).
 * Trackers within each tier are shuffled on add. https:// trackers are
 * skipped (no TLS), with a note in the log.
 *
 * UDP retransmission deviates from BEP 15's 15 * 2^n s: the first retry is
 * after 2 s, then 4, 8 ... capped at 60 s, and a tracker is given up after
 * 4 attempts (2+4+8+16 = 30 s), so a dead UDP tracker does not hold a torrent
 * for an hour. Connection ids are cached per tracker for 60 s.
 */
#ifndef STAD_ANNOUNCER_H
#define STAD_ANNOUNCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metainfo.h"
#include "tracker_proto.h"

struct event_base;
struct evdns_base;
struct sockaddr;

#define ANNOUNCER_MIN_INTERVAL 1     /* seconds; a tracker's interval below this is raised */
#define ANNOUNCER_MAX_PEERS 2000     /* peers kept from one reply */
#define ANNOUNCER_HTTP_MAX_REPLY (2u << 20)

/* Transfer totals the torrent reports at the moment an announce is sent. */
struct announce_stats {
	uint64_t uploaded;
	uint64_t downloaded;
	uint64_t left;
};

/* What one announce ended with. Everything is valid during the callback only. */
struct announce_result {
	const char *tracker;                /* URL that answered or failed */
	bool ok;                            /* a reply with peers (maybe none) */
	const char *status;                 /* "ok, 3 peers", "error: Connection refused,
	                                       retry in 60 s", "failure: unregistered torrent,
	                                       retry in 15 s" */
	uint32_t seeders, leechers;         /* when ok */
	const struct tracker_peer *peers;   /* when ok; IPv4 and IPv6 */
	size_t n_peers;
	uint32_t next_announce_s;           /* seconds until the next attempt */
};

struct announce_cbs {
	/* Asked right before each announce is sent. Required. */
	void (*stats)(void *arg, struct announce_stats *out);
	/* After each announce of this torrent, success or failure (not for a
	 * "stopped"). May call announcer_completed / announcer_reannounce_now /
	 * announcer_remove on its own sub. Optional. */
	void (*result)(void *arg, const struct announce_result *r);
};

struct announcer;
struct announce_sub;

/* Creates the announcer. dns resolves tracker host names; it may be NULL,
 * then only numeric tracker addresses work (names fail with a message).
 * The announcer does not own dns. bind_addr (copied; NULL = any) is the
 * source address of tracker traffic of its family (HTTP and UDP; its port
 * is ignored), so a tracker sees us at our listen address. key is sent as
 * "key" (HTTP) / the key field (UDP) so the tracker recognises us across
 * address changes. Returns NULL (after logging) if no UDP socket can be
 * opened or bound. */
struct announcer *announcer_new(struct event_base *base, struct evdns_base *dns,
                                const struct sockaddr *bind_addr, const uint8_t peer_id[20],
                                uint16_t listen_port, uint32_t key);
/* Frees everything at once, without sending "stopped" (use
 * announcer_stop_all first for a clean shutdown). Outstanding subs become
 * invalid. NULL is a no-op. */
void announcer_free(struct announcer *a);

/* Starts announcing info_hash to the trackers of tiers (copied). Sends
 * event=started as soon as the loop runs. Never fails: a torrent with no
 * usable tracker gets a subscription that reports "no usable tracker" once
 * and then stays idle. cbs is copied; arg is passed to it. */
struct announce_sub *announcer_add(struct announcer *a, const uint8_t info_hash[20],
                                   const struct mi_tier *tiers, uint32_t n_tiers,
                                   const struct announce_cbs *cbs, void *arg);

/* The download finished: sends event=completed now (once per torrent). */
void announcer_completed(struct announce_sub *sub);

/* Manual refresh. Returns 0 if an announce goes out now, else the seconds
 * until the tracker's min interval allows one (nothing is scheduled then). */
uint32_t announcer_reannounce_now(struct announce_sub *sub);

/* Ends a subscription; sub is invalid afterwards and its callbacks are
 * never called again (safe from inside its own result callback). With
 * send_stopped, event=stopped goes to the last tracker that answered (one
 * attempt, 5 s at most) in the background. */
void announcer_remove(struct announce_sub *sub, bool send_stopped);

/* Removes every subscription (all subs become invalid), sending "stopped"
 * for each that has announced, and calls done(arg) once every stopped has
 * been answered or timeout_ms has passed — always from the loop, never from
 * inside this call. Call announcer_free after done. New subs may still be
 * added afterwards. */
void announcer_stop_all(struct announcer *a, unsigned timeout_ms,
                        void (*done)(void *arg), void *arg);

/* Last status line of a subscription ("announcing", "ok, 3 peers", ...),
 * valid until the next announce; and seconds until its next announce
 * (UINT32_MAX when idle). For stactl's status view. */
const char *announcer_sub_status(const struct announce_sub *sub);
uint32_t announcer_sub_next_s(const struct announce_sub *sub);

#endif
