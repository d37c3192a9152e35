/* The DHT node's state file in state_dir: its node id and the nodes of its
 * routing tables, so that a restart keeps its place in the DHT and joins
 * through nodes it knew instead of the routers alone.
 *
 * A bencoded dict: "id" (20 bytes), "nodes" and "nodes6" (compact node
 * info, as in KRPC: 26 and 38 bytes a node). Pure: the file I/O is the
 * room's. The decoder takes what it is given as untrusted (a file may be
 * cut short or edited) and keeps at most DHT_STATE_MAX_NODES a family.
 */
#ifndef STAD_DHT_STATE_H
#define STAD_DHT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "krpc.h"

#define DHT_STATE_MAX_NODES 512

struct dht_state {
	uint8_t id[KRPC_ID_LEN];
	struct krpc_node *nodes;        /* heap; both families */
	size_t n_nodes;
};

/* Appends the file's bytes: id, then nodes by family (others skipped). */
void dht_state_encode(struct sta_buf *out, const uint8_t id[KRPC_ID_LEN],
                      const struct krpc_node *nodes, size_t n);
/* False with a sentence in err on anything else than the format above. */
bool dht_state_decode(const uint8_t *buf, size_t len, struct dht_state *st, char *err,
                      size_t errlen);
void dht_state_free(struct dht_state *st);

#endif
