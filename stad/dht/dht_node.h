/* A Mainline DHT node (BEP 5, BEP 32): the protocol engine, without I/O.
 *
 * It answers ping, find_node, get_peers and announce_peer from anyone (a
 * budget of answers per second per host, tokens for announces, a bounded
 * peer store), keeps a routing table per address family, and runs
 * iterative lookups: find_node to fill its table, get_peers for peers of
 * an info-hash, optionally followed by announce_peer to the closest nodes
 * that answered. Its own queries in flight are bounded; an answer counts
 * only from the address asked and with the transaction id sent.
 *
 * The owner feeds datagrams in (dht_node_input), calls dht_node_tick about
 * once a second, and gives the node a way to send and to draw random
 * bytes. Time is monotonic milliseconds. Loop thread only, like its owner.
 */
#ifndef STAD_DHT_NODE_H
#define STAD_DHT_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht_lookup.h"
#include "krpc.h"

#define DHT_QUERY_TIMEOUT_MS 4000
#define DHT_MAX_CONTACTS 16     /* bootstrap addresses kept per family */

struct dht_node;

struct dht_node_config {
	uint32_t max_outstanding;   /* our queries awaiting an answer */
	uint32_t answers_per_sec;   /* per source host */
	uint32_t store_per_hash;    /* peers stored per info-hash */
	uint32_t store_total;       /* peers stored in all */
};

struct dht_node_io {
	/* Sends one datagram to `to`; losses are the DHT's normal weather. */
	void (*send)(void *arg, const struct krpc_addr *to, const uint8_t *buf, size_t len);
	/* Fills buf with unpredictable bytes. */
	void (*random)(void *arg, void *buf, size_t len);
	void *arg;
};

struct dht_stats {
	uint32_t nodes[2], good[2];     /* routing tables: [0] IPv4, [1] IPv6 */
	uint32_t lookups;               /* in flight */
	uint32_t outstanding;           /* our queries in flight */
	uint32_t stored_peers, stored_hashes;
	uint64_t received;              /* datagrams */
	uint64_t malformed;             /* dropped: did not decode */
	uint64_t limited;               /* queries dropped: the host's budget was spent */
	uint64_t unmatched;             /* answers to nothing we asked (or from elsewhere) */
	uint64_t answered;              /* queries answered */
};

/* A node with this id, serving the families turned on. */
struct dht_node *dht_node_new(const uint8_t id[KRPC_ID_LEN], bool ipv4, bool ipv6,
                              const struct dht_node_config *cfg, const struct dht_node_io *io,
                              uint64_t now_ms);
/* Frees everything; lookups in flight end without their done callbacks. */
void dht_node_free(struct dht_node *d);
/* New limits (a smaller store keeps what it has until it expires). */
void dht_node_set_config(struct dht_node *d, const struct dht_node_config *cfg);
const uint8_t *dht_node_id(const struct dht_node *d);
bool dht_node_has_family(const struct dht_node *d, int family);

/* One datagram from `from`. Anything malformed is counted and dropped (a
 * query with a readable transaction id gets error 203 back). */
void dht_node_input(struct dht_node *d, const uint8_t *buf, size_t len,
                    const struct krpc_addr *from, uint64_t now_ms);
/* Timeouts, token rotation, store expiry, pings of questionable nodes,
 * bucket refreshes, and a find_node for our own id again (backing off from
 * 15 s to 5 min) while a table has fewer than DHT_K good nodes. */
void dht_node_tick(struct dht_node *d, uint64_t now_ms);

/* Addresses to join through (the configured routers, resolved): kept, and
 * a find_node for our own id goes to them (and to known nodes). */
void dht_node_bootstrap(struct dht_node *d, const struct krpc_addr *addrs, size_t n,
                        uint64_t now_ms);
/* A node from the saved table: added as questionable. */
bool dht_node_add_known(struct dht_node *d, const struct krpc_node *n);
/* Up to max nodes of family's table, good ones first. */
size_t dht_node_export(const struct dht_node *d, int family, struct krpc_node *out, size_t max,
                       uint64_t now_ms);

/* Starts a lookup in family's table: KRPC_FIND_NODE or KRPC_GET_PEERS
 * (then announce_peer of port when announce). cbs may be NULL; cbs and arg
 * must stay valid until done is called or the lookup is cancelled. The
 * callbacks may start lookups and cancel others, but not the one they are
 * called for. Returns its id, or 0 when the family is off. The first
 * queries go out at once, and peers this node stores itself are handed to
 * peers before it returns; done comes from dht_node_input or _tick, never
 * from here. */
uint32_t dht_node_lookup(struct dht_node *d, int family, const uint8_t target[KRPC_ID_LEN],
                         enum krpc_method method, bool announce, uint16_t port,
                         const struct dht_lookup_cbs *cbs, void *arg, uint64_t now_ms);
/* Whether the lookup with this id is still running (false for 0). */
bool dht_node_lookup_active(const struct dht_node *d, uint32_t id);
/* Ends a lookup now, without its done callback (no-op for an unknown id). */
void dht_node_cancel(struct dht_node *d, uint32_t id);

void dht_node_stats(const struct dht_node *d, uint64_t now_ms, struct dht_stats *out);

#endif
