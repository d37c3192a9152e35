/* The DHT state file's format (see dht_state.h). */
#include "dht_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bencode.h"
#include "xmalloc.h"

static void encode_family(struct sta_buf *out, const struct krpc_node *nodes, size_t n,
                          int family)
{
	size_t each = family == AF_INET ? KRPC_NODE4_LEN : KRPC_NODE6_LEN, count = 0;
	uint8_t tmp[KRPC_NODE6_LEN];

	for (size_t i = 0; i < n; i++)
		count += nodes[i].addr.family == family;
	be_enc_cstr(out, family == AF_INET ? "nodes" : "nodes6");
	buf_printf(out, "%zu:", count * each);
	for (size_t i = 0; i < n; i++)
		if (nodes[i].addr.family == family)
			buf_append(out, tmp, krpc_put_node(tmp, &nodes[i]));
}

void dht_state_encode(struct sta_buf *out, const uint8_t id[KRPC_ID_LEN],
                      const struct krpc_node *nodes, size_t n)
{
	be_enc_dict_begin(out);
	be_enc_kv_str(out, "id", id, KRPC_ID_LEN);
	encode_family(out, nodes, n, AF_INET);
	encode_family(out, nodes, n, AF_INET6);
	be_enc_end(out);
}

/* Appends the nodes under key (absent is fine) to st. */
static bool decode_family(const struct be_doc *doc, const struct be_node *top, int family,
                          struct dht_state *st, char *err, size_t errlen)
{
	const char *key = family == AF_INET ? "nodes" : "nodes6";
	size_t each = family == AF_INET ? KRPC_NODE4_LEN : KRPC_NODE6_LEN;
	const struct be_node *v = be_dict_get(doc, top, key);

	if (v == NULL)
		return true;
	if (v->type != BE_STR || v->str_len % each != 0) {
		snprintf(err, errlen, "\"%s\" is not a string of whole %zu-byte nodes", key, each);
		return false;
	}
	st->n_nodes += krpc_get_nodes(be_str(doc, v), v->str_len, family, st->nodes + st->n_nodes,
	                              DHT_STATE_MAX_NODES);
	return true;
}

bool dht_state_decode(const uint8_t *buf, size_t len, struct dht_state *st, char *err,
                      size_t errlen)
{
	struct be_doc doc;
	struct be_error be;

	memset(st, 0, sizeof *st);
	if (be_decode(&doc, buf, len, NULL, &be) != BE_OK) {
		snprintf(err, errlen, "not bencode (%s at byte %zu)", be_strerror(be.code), be.offset);
		return false;
	}
	const struct be_node *top = be_root(&doc);
	size_t n;
	const uint8_t *id = be_dict_get_str(&doc, top, "id", &n);
	bool ok = id != NULL && n == KRPC_ID_LEN;
	if (!ok)
		snprintf(err, errlen, "no 20-byte \"id\"");
	else
		memcpy(st->id, id, KRPC_ID_LEN);
	st->nodes = xcalloc(2 * DHT_STATE_MAX_NODES, sizeof *st->nodes);
	ok = ok && decode_family(&doc, top, AF_INET, st, err, errlen) &&
	     decode_family(&doc, top, AF_INET6, st, err, errlen);
	be_doc_free(&doc);
	if (!ok)
		dht_state_free(st);
	return ok;
}

void dht_state_free(struct dht_state *st)
{
	free(st->nodes);
	memset(st, 0, sizeof *st);
}
