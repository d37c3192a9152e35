/* KRPC decoder and encoder (BEP 5, BEP 32). */
#include <string.h>
#include <sys/socket.h>

#include "krpc.h"

/* A KRPC dict is shallow (message, arguments, a list of values) and small;
 * anything deeper or bigger is not KRPC, and refusing it early bounds the
 * work a hostile datagram costs. */
static const struct be_limits krpc_be_limits = {
	.max_depth = 4,
	.max_nodes = 2 * KRPC_VALUES_MAX + 64,
	.strict_key_order = false,
};

static const char *const method_names[] = {
	[KRPC_PING] = "ping",
	[KRPC_FIND_NODE] = "find_node",
	[KRPC_GET_PEERS] = "get_peers",
	[KRPC_ANNOUNCE_PEER] = "announce_peer",
};

const char *krpc_method_name(enum krpc_method method)
{
	if (method >= KRPC_PING && method <= KRPC_ANNOUNCE_PEER)
		return method_names[method];
	return "unknown";
}

static enum krpc_method method_from(const uint8_t *s, size_t len)
{
	for (int m = KRPC_PING; m <= KRPC_ANNOUNCE_PEER; m++)
		if (strlen(method_names[m]) == len && memcmp(method_names[m], s, len) == 0)
			return (enum krpc_method)m;
	return KRPC_OTHER_METHOD;
}

/* ---- compact forms ---- */

size_t krpc_put_addr(uint8_t *out, const struct krpc_addr *a)
{
	size_t n = a->family == AF_INET ? 4 : a->family == AF_INET6 ? 16 : 0;

	if (n == 0)
		return 0;
	memcpy(out, a->ip, n);
	store_u16be(out + n, a->port);
	return n + 2;
}

size_t krpc_put_node(uint8_t *out, const struct krpc_node *n)
{
	size_t a = krpc_put_addr(out + KRPC_ID_LEN, &n->addr);

	if (a == 0)
		return 0;
	memcpy(out, n->id, KRPC_ID_LEN);
	return KRPC_ID_LEN + a;
}

bool krpc_addr_equal(const struct krpc_addr *a, const struct krpc_addr *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
}

bool krpc_get_addr(const uint8_t *p, size_t len, struct krpc_addr *a)
{
	if (len != 6 && len != 18)
		return false;
	memset(a, 0, sizeof *a);
	a->family = len == 6 ? AF_INET : AF_INET6;
	memcpy(a->ip, p, len - 2);
	a->port = load_u16be(p + len - 2);
	return true;
}

size_t krpc_get_nodes(const uint8_t *p, size_t len, int family, struct krpc_node *out,
                      size_t room)
{
	size_t each = family == AF_INET ? KRPC_NODE4_LEN : KRPC_NODE6_LEN;
	size_t n = 0;

	for (size_t off = 0; off + each <= len && n < room; off += each, n++) {
		memcpy(out[n].id, p + off, KRPC_ID_LEN);
		krpc_get_addr(p + off + KRPC_ID_LEN, each - KRPC_ID_LEN, &out[n].addr);
	}
	return n;
}

/* ---- decoding ---- */

struct krpc_dec {
	const struct be_doc *doc;
	struct krpc_msg *m;
};

/* A string of exactly `len` bytes under key, copied to out. */
static bool get_fixed(const struct krpc_dec *d, const struct be_node *dict, const char *key,
                      uint8_t *out, size_t len)
{
	size_t n;
	const uint8_t *s = be_dict_get_str(d->doc, dict, key, &n);

	if (s == NULL || n != len)
		return false;
	memcpy(out, s, len);
	return true;
}

static enum krpc_err get_tid(const struct krpc_dec *d, const struct be_node *top)
{
	size_t n;
	const uint8_t *s = be_dict_get_str(d->doc, top, "t", &n);

	if (s == NULL || n == 0 || n > KRPC_TID_MAX)
		return KRPC_ERR_TID;
	memcpy(d->m->tid, s, n);
	d->m->tid_len = (uint8_t)n;
	return KRPC_OK;
}

static enum krpc_err get_type(const struct krpc_dec *d, const struct be_node *top)
{
	size_t n;
	const uint8_t *s = be_dict_get_str(d->doc, top, "y", &n);

	if (s == NULL || n != 1 || (s[0] != 'q' && s[0] != 'r' && s[0] != 'e'))
		return KRPC_ERR_TYPE;
	d->m->type = s[0] == 'q' ? KRPC_QUERY : s[0] == 'r' ? KRPC_RESPONSE : KRPC_ERROR;
	return KRPC_OK;
}

/* "token": absent is fine here (the callers decide whether they need it). */
static enum krpc_err get_token(const struct krpc_dec *d, const struct be_node *dict)
{
	const struct be_node *v = be_dict_get(d->doc, dict, "token");

	if (v == NULL)
		return KRPC_OK;
	if (v->type != BE_STR || v->str_len == 0 || v->str_len > KRPC_TOKEN_MAX)
		return KRPC_ERR_TOKEN;
	memcpy(d->m->token, be_str(d->doc, v), v->str_len);
	d->m->token_len = (uint8_t)v->str_len;
	return KRPC_OK;
}

static enum krpc_err get_want(const struct krpc_dec *d, const struct be_node *args)
{
	const struct be_node *v = be_dict_get(d->doc, args, "want");

	if (v == NULL)
		return KRPC_OK;
	if (v->type != BE_LIST)
		return KRPC_ERR_WANT;
	for (const struct be_node *w = be_first(d->doc, v); w; w = be_next(d->doc, w)) {
		if (w->type != BE_STR)
			return KRPC_ERR_WANT;
		/* Other families ("n5"?) are no error: a later BEP may add them. */
		if (w->str_len == 2 && memcmp(be_str(d->doc, w), "n4", 2) == 0)
			d->m->want |= KRPC_WANT_N4;
		if (w->str_len == 2 && memcmp(be_str(d->doc, w), "n6", 2) == 0)
			d->m->want |= KRPC_WANT_N6;
	}
	return KRPC_OK;
}

static enum krpc_err get_announce_args(const struct krpc_dec *d, const struct be_node *args)
{
	struct krpc_msg *m = d->m;
	int64_t v;

	if (be_dict_get(d->doc, args, "implied_port") != NULL) {
		if (!be_dict_get_int(d->doc, args, "implied_port", &v) || v < 0 || v > 1)
			return KRPC_ERR_IMPLIED_PORT;
		m->implied_port = v == 1;
	}
	/* With implied_port the value is ignored, but it must still be a port. */
	if (!be_dict_get_int(d->doc, args, "port", &v) || v < (m->implied_port ? 0 : 1) ||
	    v > 65535)
		return KRPC_ERR_PORT;
	m->port = (uint16_t)v;
	enum krpc_err e = get_token(d, args);
	if (e == KRPC_OK && m->token_len == 0)
		e = KRPC_ERR_NO_TOKEN;
	return e;
}

static enum krpc_err get_query(const struct krpc_dec *d, const struct be_node *top)
{
	struct krpc_msg *m = d->m;
	size_t n;
	const uint8_t *q = be_dict_get_str(d->doc, top, "q", &n);
	const struct be_node *args = be_dict_get_type(d->doc, top, "a", BE_DICT);

	if (q == NULL)
		return KRPC_ERR_METHOD;
	m->method = method_from(q, n);
	if (args == NULL)
		return KRPC_ERR_ARGS;
	if (!get_fixed(d, args, "id", m->id, KRPC_ID_LEN))
		return KRPC_ERR_ID;
	switch (m->method) {
	case KRPC_FIND_NODE:
		if (!get_fixed(d, args, "target", m->target, KRPC_ID_LEN))
			return KRPC_ERR_TARGET;
		return get_want(d, args);
	case KRPC_GET_PEERS:
		if (!get_fixed(d, args, "info_hash", m->target, KRPC_ID_LEN))
			return KRPC_ERR_INFO_HASH;
		return get_want(d, args);
	case KRPC_ANNOUNCE_PEER:
		if (!get_fixed(d, args, "info_hash", m->target, KRPC_ID_LEN))
			return KRPC_ERR_INFO_HASH;
		return get_announce_args(d, args);
	default:
		return KRPC_OK;
	}
}

/* "nodes" or "nodes6": whole entries of one family, appended to m->nodes. */
static enum krpc_err get_nodes(const struct krpc_dec *d, const struct be_node *r, int family)
{
	const char *key = family == AF_INET ? "nodes" : "nodes6";
	size_t each = family == AF_INET ? KRPC_NODE4_LEN : KRPC_NODE6_LEN;
	enum krpc_err bad = family == AF_INET ? KRPC_ERR_NODES : KRPC_ERR_NODES6;
	const struct be_node *v = be_dict_get(d->doc, r, key);
	struct krpc_msg *m = d->m;

	if (v == NULL)
		return KRPC_OK;
	if (v->type != BE_STR || v->str_len % each != 0)
		return bad;
	m->n_nodes += (uint8_t)krpc_get_nodes(be_str(d->doc, v), v->str_len, family,
	                                      m->nodes + m->n_nodes, KRPC_NODES_MAX);
	return KRPC_OK;
}

static enum krpc_err get_values(const struct krpc_dec *d, const struct be_node *r)
{
	const struct be_node *v = be_dict_get(d->doc, r, "values");
	struct krpc_msg *m = d->m;

	if (v == NULL)
		return KRPC_OK;
	if (v->type != BE_LIST)
		return KRPC_ERR_VALUES;
	for (const struct be_node *p = be_first(d->doc, v); p; p = be_next(d->doc, p)) {
		struct krpc_addr past; /* checked, not kept: the list is full */
		struct krpc_addr *a = m->n_values < KRPC_VALUES_MAX ? &m->values[m->n_values] : &past;
		if (p->type != BE_STR || !krpc_get_addr(be_str(d->doc, p), p->str_len, a))
			return KRPC_ERR_VALUES;
		m->n_values += a != &past;
	}
	return KRPC_OK;
}

static enum krpc_err get_response(const struct krpc_dec *d, const struct be_node *top)
{
	const struct be_node *r = be_dict_get_type(d->doc, top, "r", BE_DICT);
	enum krpc_err e;

	if (r == NULL)
		return KRPC_ERR_REPLY;
	if (!get_fixed(d, r, "id", d->m->id, KRPC_ID_LEN))
		return KRPC_ERR_ID;
	if ((e = get_nodes(d, r, AF_INET)) != KRPC_OK || (e = get_nodes(d, r, AF_INET6)) != KRPC_OK ||
	    (e = get_values(d, r)) != KRPC_OK)
		return e;
	return get_token(d, r);
}

static enum krpc_err get_error(const struct krpc_dec *d, const struct be_node *top)
{
	const struct be_node *e = be_dict_get_type(d->doc, top, "e", BE_LIST);
	const struct be_node *code = be_first(d->doc, e);
	const struct be_node *text = be_next(d->doc, code);
	struct krpc_msg *m = d->m;

	if (code == NULL || code->type != BE_INT || text == NULL || text->type != BE_STR)
		return KRPC_ERR_ERROR_LIST;
	m->error_code = code->ival;
	size_t n = text->str_len < KRPC_ERRMSG_MAX - 1 ? text->str_len : KRPC_ERRMSG_MAX - 1;
	const uint8_t *s = be_str(d->doc, text);
	for (size_t i = 0; i < n; i++)
		m->error_msg[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	m->error_msg[n] = '\0';
	return KRPC_OK;
}

/* The top-level keys beside the body: BEP 43 "ro" and BEP 42 "ip". */
static enum krpc_err get_extras(const struct krpc_dec *d, const struct be_node *top)
{
	const struct be_node *ro = be_dict_get(d->doc, top, "ro");
	const struct be_node *ip = be_dict_get(d->doc, top, "ip");

	if (ro != NULL && ro->type != BE_INT)
		return KRPC_ERR_READ_ONLY;
	d->m->read_only = ro != NULL && ro->ival == 1;
	if (ip != NULL) {
		if (ip->type != BE_STR || !krpc_get_addr(be_str(d->doc, ip), ip->str_len, &d->m->ip))
			return KRPC_ERR_IP;
		d->m->has_ip = true;
	}
	return KRPC_OK;
}

static enum krpc_err decode_doc(const struct krpc_dec *d)
{
	const struct be_node *top = be_root(d->doc);
	enum krpc_err e;

	if (top->type != BE_DICT)
		return KRPC_ERR_NOT_DICT;
	/* The tid first: with it, a bad query can still get its error reply. */
	if ((e = get_tid(d, top)) != KRPC_OK || (e = get_type(d, top)) != KRPC_OK ||
	    (e = get_extras(d, top)) != KRPC_OK)
		return e;
	switch (d->m->type) {
	case KRPC_QUERY:
		return get_query(d, top);
	case KRPC_RESPONSE:
		return get_response(d, top);
	default:
		return get_error(d, top);
	}
}

enum krpc_err krpc_decode(const uint8_t *buf, size_t len, struct krpc_msg *m,
                          struct krpc_error *err)
{
	struct krpc_error local = { KRPC_OK, BE_OK };
	struct be_doc doc;

	memset(m, 0, sizeof *m);
	if (len > KRPC_MSG_MAX) {
		local.code = KRPC_ERR_TOO_LONG;
	} else if ((local.be = be_decode(&doc, buf, len, &krpc_be_limits, NULL)) != BE_OK) {
		local.code = KRPC_ERR_BENCODE;
	} else {
		struct krpc_dec d = { &doc, m };
		local.code = decode_doc(&d);
		be_doc_free(&doc);
	}
	if (err != NULL)
		*err = local;
	return local.code;
}

enum krpc_err krpc_check_response(const struct krpc_msg *m, enum krpc_method method)
{
	if (method == KRPC_GET_PEERS && m->token_len == 0)
		return KRPC_ERR_NO_TOKEN;
	return KRPC_OK;
}

const char *krpc_strerror(enum krpc_err e)
{
	switch (e) {
	case KRPC_OK: return "success";
	case KRPC_ERR_TOO_LONG: return "datagram too long";
	case KRPC_ERR_BENCODE: return "not bencode";
	case KRPC_ERR_NOT_DICT: return "not a dictionary";
	case KRPC_ERR_TID: return "transaction id missing, empty or too long";
	case KRPC_ERR_TYPE: return "message type missing or unknown";
	case KRPC_ERR_METHOD: return "query without a method name";
	case KRPC_ERR_ARGS: return "query without an argument dictionary";
	case KRPC_ERR_REPLY: return "response without a value dictionary";
	case KRPC_ERR_ERROR_LIST: return "error is not [code, message]";
	case KRPC_ERR_ID: return "node id missing or not 20 bytes";
	case KRPC_ERR_TARGET: return "target missing or not 20 bytes";
	case KRPC_ERR_INFO_HASH: return "info_hash missing or not 20 bytes";
	case KRPC_ERR_PORT: return "port missing or out of range";
	case KRPC_ERR_IMPLIED_PORT: return "implied_port is not 0 or 1";
	case KRPC_ERR_TOKEN: return "token empty, too long or not a string";
	case KRPC_ERR_NO_TOKEN: return "token missing";
	case KRPC_ERR_WANT: return "want is not a list of strings";
	case KRPC_ERR_NODES: return "nodes is not whole 26-byte entries";
	case KRPC_ERR_NODES6: return "nodes6 is not whole 38-byte entries";
	case KRPC_ERR_VALUES: return "values is not a list of 6- or 18-byte peers";
	case KRPC_ERR_IP: return "ip is not a 6- or 18-byte address";
	case KRPC_ERR_READ_ONLY: return "ro is not an integer";
	}
	return "unknown error";
}

/* ---- encoding (keys in sorted order, as bencode wants) ---- */

static void enc_nodes(struct sta_buf *out, const struct krpc_msg *m, int family)
{
	size_t each = family == AF_INET ? KRPC_NODE4_LEN : KRPC_NODE6_LEN;
	uint8_t tmp[KRPC_NODE6_LEN];
	size_t n = 0;

	for (size_t i = 0; i < m->n_nodes; i++)
		n += m->nodes[i].addr.family == family;
	if (n == 0)
		return;
	be_enc_cstr(out, family == AF_INET ? "nodes" : "nodes6");
	buf_printf(out, "%zu:", n * each);
	for (size_t i = 0; i < m->n_nodes; i++)
		if (m->nodes[i].addr.family == family)
			buf_append(out, tmp, krpc_put_node(tmp, &m->nodes[i]));
}

static void enc_values(struct sta_buf *out, const struct krpc_msg *m)
{
	uint8_t tmp[18];

	if (m->n_values == 0)
		return;
	be_enc_cstr(out, "values");
	be_enc_list_begin(out);
	for (size_t i = 0; i < m->n_values; i++)
		be_enc_str(out, tmp, krpc_put_addr(tmp, &m->values[i]));
	be_enc_end(out);
}

static void enc_want(struct sta_buf *out, uint8_t want)
{
	if (want == 0)
		return;
	be_enc_cstr(out, "want");
	be_enc_list_begin(out);
	if (want & KRPC_WANT_N4)
		be_enc_cstr(out, "n4");
	if (want & KRPC_WANT_N6)
		be_enc_cstr(out, "n6");
	be_enc_end(out);
}

static void enc_args(struct sta_buf *out, const struct krpc_msg *m)
{
	be_enc_cstr(out, "a");
	be_enc_dict_begin(out);
	be_enc_kv_str(out, "id", m->id, KRPC_ID_LEN);
	if (m->method == KRPC_ANNOUNCE_PEER && m->implied_port)
		be_enc_kv_int(out, "implied_port", 1);
	if (m->method == KRPC_GET_PEERS || m->method == KRPC_ANNOUNCE_PEER)
		be_enc_kv_str(out, "info_hash", m->target, KRPC_ID_LEN);
	if (m->method == KRPC_ANNOUNCE_PEER)
		be_enc_kv_int(out, "port", m->port);
	if (m->method == KRPC_FIND_NODE)
		be_enc_kv_str(out, "target", m->target, KRPC_ID_LEN);
	if (m->method == KRPC_ANNOUNCE_PEER)
		be_enc_kv_str(out, "token", m->token, m->token_len);
	if (m->method == KRPC_FIND_NODE || m->method == KRPC_GET_PEERS)
		enc_want(out, m->want);
	be_enc_end(out);
}

static void enc_reply(struct sta_buf *out, const struct krpc_msg *m)
{
	be_enc_cstr(out, "r");
	be_enc_dict_begin(out);
	be_enc_kv_str(out, "id", m->id, KRPC_ID_LEN);
	enc_nodes(out, m, AF_INET);
	enc_nodes(out, m, AF_INET6);
	if (m->token_len > 0)
		be_enc_kv_str(out, "token", m->token, m->token_len);
	enc_values(out, m);
	be_enc_end(out);
}

void krpc_encode(struct sta_buf *out, const struct krpc_msg *m)
{
	uint8_t ip[18];

	be_enc_dict_begin(out);
	if (m->type == KRPC_QUERY)
		enc_args(out, m);
	if (m->type == KRPC_ERROR) {
		be_enc_cstr(out, "e");
		be_enc_list_begin(out);
		be_enc_int(out, m->error_code);
		be_enc_cstr(out, m->error_msg);
		be_enc_end(out);
	}
	if (m->has_ip)
		be_enc_kv_str(out, "ip", ip, krpc_put_addr(ip, &m->ip));
	if (m->type == KRPC_QUERY)
		be_enc_kv_cstr(out, "q", krpc_method_name(m->method));
	if (m->type == KRPC_RESPONSE)
		enc_reply(out, m);
	if (m->read_only)
		be_enc_kv_int(out, "ro", 1);
	be_enc_kv_str(out, "t", m->tid, m->tid_len);
	be_enc_kv_cstr(out, "y", m->type == KRPC_QUERY ? "q" : m->type == KRPC_RESPONSE ? "r" : "e");
	be_enc_end(out);
}
