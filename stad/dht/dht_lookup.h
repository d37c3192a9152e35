/* One iterative DHT lookup (BEP 5): the nodes closest to a target that we
 * know of, sorted by XOR distance, each new, asked, answered or failed.
 * The lookup asks the closest new ones, DHT_ALPHA at a time, adds the
 * closer nodes each answer names, and is done when the DHT_K closest that
 * did not fail have all answered. get_peers lookups keep each node's
 * token for the announce_peer that may follow.
 *
 * Pure bookkeeping: dht_node sends the queries and feeds the answers.
 */
#ifndef STAD_DHT_LOOKUP_H
#define STAD_DHT_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht_table.h"
#include "krpc.h"

#define DHT_LOOKUP_WIDTH (2 * DHT_K)    /* candidates kept */
#define DHT_ALPHA 4                     /* queries in flight per lookup */

enum dht_cand_state {
	DHT_CAND_NEW,
	DHT_CAND_ASKED,
	DHT_CAND_ANSWERED,
	DHT_CAND_FAILED,
};

struct dht_cand {
	struct krpc_node node;
	uint8_t state;              /* enum dht_cand_state */
	bool id_known;              /* false: a bootstrap address, id not heard yet */
	uint8_t token_len;
	uint8_t token[KRPC_TOKEN_MAX];
};

/* What a lookup is for: the caller's callbacks, told from dht_node. */
struct dht_lookup_cbs {
	/* get_peers: peers an answer listed (may repeat across answers). */
	void (*peers)(void *arg, const struct krpc_addr *peers, size_t n);
	/* Once, when done or cancelled: nodes that answered, and how many
	 * announce_peer queries went out. */
	void (*done)(void *arg, uint32_t answered, uint32_t announced);
};

struct dht_lookup {
	uint32_t id;
	int family;
	enum krpc_method method;        /* KRPC_FIND_NODE or KRPC_GET_PEERS */
	uint8_t target[KRPC_ID_LEN];
	bool announce;                  /* get_peers, then announce_peer to the closest */
	uint16_t port;                  /* to announce */
	struct dht_cand cand[DHT_LOOKUP_WIDTH];
	uint8_t n_cand;
	uint8_t asked;                  /* queries in flight */
	uint32_t answered;
	const struct dht_lookup_cbs *cbs;
	void *arg;
};

void dht_lookup_init(struct dht_lookup *l, uint32_t id, int family, enum krpc_method method,
                     const uint8_t target[KRPC_ID_LEN]);
/* Adds a node as a new candidate if it is among the DHT_LOOKUP_WIDTH
 * closest and not there yet (by id or address). Without a known id it
 * ranks last until it answers. False when not added. */
bool dht_lookup_add(struct dht_lookup *l, const struct krpc_node *n, bool id_known);
/* The candidate at addr, or NULL. */
struct dht_cand *dht_lookup_find(struct dht_lookup *l, const struct krpc_addr *addr);
/* The candidate answered as node id (re-ranked if its id was not known),
 * with this token (may be empty). c moves: do not use it afterwards. */
void dht_lookup_answered(struct dht_lookup *l, struct dht_cand *c, const uint8_t id[KRPC_ID_LEN],
                         const uint8_t *token, size_t token_len);
/* The next candidate to ask: new and among the DHT_K closest that did not
 * fail; NULL when there is none (or DHT_ALPHA are in flight). */
struct dht_cand *dht_lookup_next(struct dht_lookup *l);
/* Nothing in flight and nothing left to ask. */
bool dht_lookup_done(const struct dht_lookup *l);

#endif
