/* Local service discovery (BEP 14): announces torrents on the LAN by
 * multicast (239.192.152.143:6771, and [ff15::efc0:988f]:6771 when stad
 * listens on IPv6) and hears other clients' announces. The wire format is
 * common/lsd.h; this room owns the sockets and the timing, and knows no
 * torrents: the session hands it what to announce and takes what it hears
 * (hooks). Loop thread only.
 *
 * Timing, as BEP 14 asks: at most one announce a minute on each group,
 * each torrent again after five minutes; a round carries as many due
 * torrents as fit in 1400 bytes (25), the rest wait for the next. The
 * first round goes out as soon as a torrent may be announced. Announces
 * heard are handled at most LSD_IN_PER_S a second; more are dropped.
 */
#ifndef STAD_LSD_SERVICE_H
#define STAD_LSD_SERVICE_H

#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"

#define LSD_ROUND_S 60
#define LSD_REANNOUNCE_S 300
#define LSD_IN_PER_S 20

struct event_base;
struct lsd_service;

struct lsd_hooks {
	/* Appends the info-hashes (20 bytes each) that may be announced now. */
	void (*eligible)(void *arg, struct sta_buf *out);
	/* A client at peer (its address, with the port it listens on) has
	 * info_hash. */
	void (*found)(void *arg, const uint8_t info_hash[20], const struct sockaddr *peer,
	              socklen_t len);
	void *arg;
};

/* Joins the group(s) on the interface of listen_address (a wildcard: the
 * kernel's default multicast interface); port is where we take peer
 * connections. NULL after a warning when no group could be joined. */
struct lsd_service *lsd_service_new(struct event_base *base, const char *listen_address,
                                    uint16_t port, const struct lsd_hooks *hooks);
void lsd_service_free(struct lsd_service *l);
/* Once a second (now: monotonic seconds): sends a round when one is due. */
void lsd_service_tick(struct lsd_service *l, uint64_t now);

#endif
