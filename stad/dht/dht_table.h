/* The DHT routing table of one address family (BEP 5; BEP 32 keeps one for
 * IPv4 and one for IPv6): k-buckets by how many leading bits a node id
 * shares with ours, a few spares per bucket to replace nodes that go bad.
 *
 * A node is good when it answered us within 15 minutes, or answered once
 * and queried us within 15 minutes; bad after DHT_MAX_FAILS unanswered
 * queries in a row; questionable otherwise. Only nodes that answered a
 * query of ours are added (a query alone could come from a forged
 * address); the caller pings a node that queried us to find out.
 *
 * Pure: no I/O, the time comes in as seconds and randomness as bytes.
 */
#ifndef STAD_DHT_TABLE_H
#define STAD_DHT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "krpc.h"

#define DHT_K 8                 /* nodes per bucket, and per lookup answer */
#define DHT_SPARES 4            /* replacement candidates per bucket */
#define DHT_BUCKETS 160
#define DHT_GOOD_SECS (15 * 60)
#define DHT_MAX_FAILS 3

struct dht_entry {
	uint8_t id[KRPC_ID_LEN];
	struct krpc_addr addr;
	uint64_t last_reply;    /* 0: never answered (loaded from disk) */
	uint64_t last_query;    /* it queried us */
	uint64_t last_ping;     /* we last asked it something */
	uint8_t fails;          /* queries unanswered in a row */
};

struct dht_bucket {
	struct dht_entry live[DHT_K];
	struct dht_entry spare[DHT_SPARES]; /* newest last */
	uint8_t n_live, n_spare;
};

struct dht_table {
	uint8_t self[KRPC_ID_LEN];
	int family;
	struct dht_bucket *b[DHT_BUCKETS]; /* allocated on first use */
	uint64_t changed[DHT_BUCKETS];  /* a node was added or answered, or refreshed */
	uint32_t n_live;
};

/* What dht_table_replied did with the node. */
enum dht_seen {
	DHT_SEEN_UPDATED,       /* known: timestamps updated */
	DHT_SEEN_ADDED,         /* new in a bucket */
	DHT_SEEN_SPARE,         /* its bucket is full: kept as a spare */
	DHT_SEEN_IGNORED,       /* our own id, or a known id at another address */
};

/* ---- node ids ---- */

/* Leading bits a and b have in common (0..160). */
unsigned dht_id_prefix(const uint8_t a[KRPC_ID_LEN], const uint8_t b[KRPC_ID_LEN]);
/* <0, 0, >0 as a is closer to, as close as, or farther from target than b
 * (XOR metric). */
int dht_id_closer(const uint8_t target[KRPC_ID_LEN], const uint8_t a[KRPC_ID_LEN],
                  const uint8_t b[KRPC_ID_LEN]);

/* ---- the table ---- */

/* An empty table; buckets count as fresh from now. */
void dht_table_init(struct dht_table *t, const uint8_t self[KRPC_ID_LEN], int family,
                    uint64_t now);
void dht_table_free(struct dht_table *t);

bool dht_entry_good(const struct dht_entry *e, uint64_t now);
static inline bool dht_entry_bad(const struct dht_entry *e)
{
	return e->fails >= DHT_MAX_FAILS;
}

/* The node answered a query of ours: it is added, updated or kept as a
 * spare. A node seen at an address another id had takes that entry (nodes
 * change their id, BEP 42); a known id at another address is ignored while
 * the known one is good. When the answer lands in a full bucket that holds
 * a questionable node, *ping names the one to ask (it is replaced by the
 * newest spare if it keeps failing); *ping is NULL otherwise. */
enum dht_seen dht_table_replied(struct dht_table *t, const struct krpc_node *n, uint64_t now,
                                const struct dht_entry **ping);
/* The node queried us. True when it is worth a ping to add it: unknown and
 * its bucket has room or a bad node. Known nodes get last_query updated. */
bool dht_table_queried(struct dht_table *t, const struct krpc_node *n, uint64_t now);
/* A query to addr went unanswered. A node that turns bad is replaced by the
 * newest spare of its bucket, if any. */
void dht_table_failed(struct dht_table *t, const struct krpc_addr *addr);
/* A query to the entry with this id is going out. */
void dht_table_pinged(struct dht_table *t, const uint8_t id[KRPC_ID_LEN], uint64_t now);
/* Adds a node loaded from disk as questionable, if its bucket has room. */
bool dht_table_add_unverified(struct dht_table *t, const struct krpc_node *n);

/* Up to max nodes that are not bad, closest to target first. */
size_t dht_table_closest(const struct dht_table *t, const uint8_t target[KRPC_ID_LEN],
                         struct krpc_node *out, size_t max);
/* A questionable node not asked anything for min_gap seconds, the least
 * recently heard from of those; false when there is none. */
bool dht_table_stale_node(const struct dht_table *t, uint64_t now, uint64_t min_gap,
                          struct krpc_node *out);
/* A bucket nobody changed for DHT_GOOD_SECS, among those up to the
 * deepest one holding a node (deeper ones are empty for good): fills
 * target with an id in its range (its prefix of self, then the bytes of
 * rnd) and marks it changed, so each refresh is asked for once. False
 * when none is due. */
bool dht_table_refresh_target(struct dht_table *t, uint64_t now,
                              const uint8_t rnd[KRPC_ID_LEN], uint8_t target[KRPC_ID_LEN]);
/* Live nodes, and how many of them are good. */
uint32_t dht_table_count(const struct dht_table *t, uint64_t now, uint32_t *good);
/* Copies up to max live nodes, good ones first (for saving). */
size_t dht_table_export(const struct dht_table *t, uint64_t now, struct krpc_node *out,
                        size_t max);

#endif
