/* The daemon's shared state and the protocol-independent request logic
 * that the HTTP and UDP front ends both call. */
#ifndef TRACKERD_TRACKER_H
#define TRACKERD_TRACKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "swarm.h"
#include "tconfig.h"
#include "tracker_proto.h"

struct access;
struct catalog;
struct stats;

/* Settings that SIGHUP may change while workers read them. */
struct tracker_live {
	atomic_uint announce_interval;
	atomic_uint min_interval;
	atomic_uint numwant_max;
	atomic_uint peer_timeout;
	atomic_bool trust_ip;
	atomic_llong max_torrent_size;
	atomic_llong max_batch_size;
	pthread_mutex_t token_lock;
	char *publish_token;    /* "" = publishing by token disabled */
};

struct tracker {
	struct tracker_live live;
	struct swarm_table *swarms;
	struct access *access;
	struct catalog *catalog;
	struct stats *stats;
	uint8_t udp_secret[16];
	unsigned n_workers;
	bool metrics_apart;      /* /metrics only on metrics_listen */
	int64_t started;         /* Unix time */
};

/* Creates the state (random secrets from getrandom); access, catalog and
 * stats are attached by the caller. False if the kernel gives no randomness. */
bool tracker_init(struct tracker *tr, const struct tconfig *c);
void tracker_fini(struct tracker *tr);
/* Copies the runtime-changeable settings in. */
void tracker_apply(struct tracker *tr, const struct tconfig *c);
/* Constant-time comparison with the configured token; false when unset. */
bool tracker_token_ok(struct tracker *tr, const char *token);

/* Coarse monotonic seconds (cheap: CLOCK_MONOTONIC_COARSE). */
uint32_t tracker_now(void);

/* A socket address as a tracker peer address; v4-mapped IPv6 becomes IPv4.
 * False for families other than IPv4/IPv6. */
bool tracker_addr_from_sockaddr(const struct sockaddr *sa, struct swarm_addr *out);

/* Handles an announce from peer (source address; the claimed "ip" is used
 * instead when trust_ip is on). want_family limits returned peers (UDP).
 * Fills resp (its peers point into peers[], which holds numwant_max).
 * Returns NULL, or a failure reason for the client. */
const char *tracker_announce(struct tracker *tr, const struct announce_req *req,
                             const struct swarm_addr *peer, int want_family,
                             struct tracker_peer *peers, struct announce_resp *resp);
/* Fills e[i] for each requested hash; hashes the access list refuses get
 * zero counts. Returns NULL or a failure reason. */
const char *tracker_scrape(struct tracker *tr, const struct scrape_req *req,
                           struct scrape_entry *e);

#endif
