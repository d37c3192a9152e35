/* The DHT room: stad's Mainline DHT node (BEP 5, BEP 32) on its UDP port.
 *
 * It owns the node's sockets (one per address family stad listens on),
 * the one-second tick, the bootstrap routers from the config (resolved
 * through the session's resolver), and the state file in state_dir that
 * keeps the node id and routing table across restarts.
 *
 * Torrents use it through subscriptions: a subscribed info-hash is looked
 * up (get_peers) and announced (announce_peer, with our TCP port) every
 * DHT_ANNOUNCE_EVERY, and sooner while it wants peers and the last lookup
 * found none; the peers found are handed to the subscriber's callback.
 * Private torrents (BEP 27) must not be subscribed. Loop thread only.
 */
#ifndef STAD_DHT_H
#define STAD_DHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "krpc.h"

struct event_base;
struct evdns_base;
struct sconfig;
struct dht;
struct dht_sub;

#define DHT_ANNOUNCE_EVERY (15 * 60)    /* seconds */
#define DHT_RETRY_FIRST 5               /* seconds; doubles up to DHT_ANNOUNCE_EVERY */
#define DHT_SAVE_EVERY (10 * 60)
#define DHT_STATE_FILE "dht.state"

/* Starts the node on listen_address's families and port: the saved state
 * is loaded, the bootstrap routers resolved and asked. NULL when the DHT
 * is off in cfg, or after logging why it could not start (stad runs on
 * without it). */
struct dht *dht_start(struct event_base *base, struct evdns_base *dns, const struct sconfig *cfg,
                      uint16_t port);
/* Applies the reloadable limits (outstanding queries, answers per second,
 * stored peers); turning the DHT on or off takes a restart. */
void dht_reload(struct dht *d, const struct sconfig *cfg);
/* Saves the state file and frees the node; subscriptions must be gone. */
void dht_stop(struct dht *d);

/* What `stactl status` shows. */
struct dht_health {
	uint32_t nodes, good;           /* both families */
	uint32_t nodes6, good6;         /* of those, IPv6 */
	uint32_t lookups;               /* in flight */
	uint32_t stored_peers;
};
void dht_health(const struct dht *d, struct dht_health *out);

/* peers(arg, ...) gets the peers lookups find (repeats possible). */
typedef void (*dht_peers_fn)(void *arg, const struct krpc_addr *peers, size_t n);
/* Subscribes an info-hash: the first lookup starts within a second. port
 * is announced (0: look up only, never announce). */
struct dht_sub *dht_subscribe(struct dht *d, const uint8_t info_hash[KRPC_ID_LEN], uint16_t port,
                              dht_peers_fn peers, void *arg);
/* Whether the subscriber still wants peers: while it does and a lookup
 * finds none, the next comes sooner (5 s, doubling). */
void dht_sub_want_peers(struct dht_sub *s, bool want);
/* "looking up", or what the last round found: "5 peers from 8 nodes". */
const char *dht_sub_status(const struct dht_sub *s);
/* A lookup now (unless one is in flight). */
void dht_sub_lookup_now(struct dht_sub *s);
/* Ends the subscription and its lookups; no callback comes after. */
void dht_unsubscribe(struct dht_sub *s);

#endif
