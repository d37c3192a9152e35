/* HTTP tracker protocol (BEP 3, 7, 23, 48): announce/scrape query strings and
 * their bencoded replies, for both the tracker and the client. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bencode.h"
#include "log.h"
#include "strnum.h"
#include "tracker_proto.h"
#include "xmalloc.h"

void tracker_error_set(struct tracker_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
}

/* ---- query strings ---- */

struct qparam {
	const char *key;
	size_t klen;
	const char *val;
	size_t vlen;
};

/* Splits the next "key=value" off [*q, end); false when none is left.
 * Empty params ("a=1&&b=2") are skipped; a param without '=' has an empty
 * value. */
static bool query_next(const char **q, const char *end, struct qparam *p)
{
	while (*q < end && **q == '&')
		(*q)++;
	if (*q == end)
		return false;
	const char *amp = memchr(*q, '&', (size_t)(end - *q));
	const char *stop = amp ? amp : end;
	const char *eq = memchr(*q, '=', (size_t)(stop - *q));

	p->key = *q;
	p->klen = (size_t)((eq ? eq : stop) - *q);
	p->val = eq ? eq + 1 : stop;
	p->vlen = (size_t)(stop - p->val);
	*q = stop;
	return true;
}

static bool query_key_is(const struct qparam *p, const char *name)
{
	return p->klen == strlen(name) && memcmp(p->key, name, p->klen) == 0;
}

static bool query_check_len(size_t len, struct tracker_error *err)
{
	if (len <= TRACKER_QUERY_MAX)
		return true;
	tracker_error_set(err, "query too long: %zu bytes, limit %d", len, TRACKER_QUERY_MAX);
	return false;
}

/* A binary 20-byte value: info_hash or peer_id. */
static bool query_hash(const struct qparam *p, const char *name, uint8_t *out,
                       struct tracker_error *err)
{
	uint8_t tmp[3 * TRACKER_HASH_LEN];

	if (p->vlen > sizeof tmp) {
		tracker_error_set(err, "invalid %s: more than %d bytes", name, TRACKER_HASH_LEN);
		return false;
	}
	long n = url_decode(p->val, p->vlen, tmp);
	if (n < 0) {
		tracker_error_set(err, "invalid %s: bad percent escape", name);
		return false;
	}
	if (n != TRACKER_HASH_LEN) {
		tracker_error_set(err, "invalid %s: %ld bytes, need %d", name, n, TRACKER_HASH_LEN);
		return false;
	}
	memcpy(out, tmp, TRACKER_HASH_LEN);
	return true;
}

static bool query_u64(const struct qparam *p, uint64_t min, uint64_t max, uint64_t *out,
                      struct tracker_error *err)
{
	if (strnum_u64(p->val, p->vlen, min, max, out))
		return true;
	tracker_error_set(err, "invalid %.*s", (int)p->klen, p->key);
	return false;
}

static bool query_event(const struct qparam *p, enum tracker_event *ev, struct tracker_error *err)
{
	static const struct {
		const char *name;
		enum tracker_event ev;
	} names[] = {
		{ "", TRACKER_EVENT_NONE },
		{ "started", TRACKER_EVENT_STARTED },
		{ "completed", TRACKER_EVENT_COMPLETED },
		{ "stopped", TRACKER_EVENT_STOPPED },
		{ "paused", TRACKER_EVENT_PAUSED },
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (p->vlen == strlen(names[i].name) && memcmp(p->val, names[i].name, p->vlen) == 0) {
			*ev = names[i].ev;
			return true;
		}
	}
	tracker_error_set(err, "invalid event");
	return false;
}

/* The key only has to identify one client across its announces: up to 8
 * hex digits (libtorrent, aria2) are read as a number, anything else
 * (Transmission sends 8 base-36 characters) is hashed (FNV-1a). */
static uint32_t query_key(const struct qparam *p)
{
	uint32_t h = 2166136261u, v = 0;
	bool hex = p->vlen > 0 && p->vlen <= 8;

	for (size_t i = 0; i < p->vlen; i++) {
		char c = p->val[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
		        c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		        c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			hex = false;
		v = v << 4 | (uint32_t)(d & 15);
		h = (h ^ (uint8_t)c) * 16777619u;
	}
	return hex ? v : h;
}

/* "ip=": an IPv4 or IPv6 literal. BEP 3 also allows a DNS name, which a pure
 * codec cannot resolve: such values are ignored, as is anything unparsable. */
static bool query_ip(const struct qparam *p, struct announce_req *req, struct tracker_error *err)
{
	char tmp[3 * INET6_ADDRSTRLEN];
	uint8_t addr[16] = { 0 };

	/* A later "ip=" replaces an earlier one, even when it is ignored. */
	req->ip_family = 0;
	memset(req->ip, 0, sizeof req->ip);
	if (p->vlen >= sizeof tmp)
		return true;
	long n = url_decode(p->val, p->vlen, (uint8_t *)tmp);
	if (n < 0) {
		tracker_error_set(err, "invalid ip: bad percent escape");
		return false;
	}
	tmp[n] = '\0';
	if (strlen(tmp) != (size_t)n)
		return true;
	if (inet_pton(AF_INET, tmp, addr) == 1)
		req->ip_family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, addr) == 1)
		req->ip_family = AF_INET6;
	if (req->ip_family != 0)
		memcpy(req->ip, addr, sizeof addr);
	return true;
}

/* Handles one announce param; *have collects which required keys were seen. */
enum { HAVE_HASH = 1, HAVE_PEER_ID = 2, HAVE_PORT = 4 };

static bool announce_param(const struct qparam *p, struct announce_req *req, unsigned *have,
                           struct tracker_error *err)
{
	uint64_t v;

	if (query_key_is(p, "info_hash")) {
		if (*have & HAVE_HASH) {
			tracker_error_set(err, "more than one info_hash");
			return false;
		}
		*have |= HAVE_HASH;
		return query_hash(p, "info_hash", req->info_hash, err);
	}
	if (query_key_is(p, "peer_id")) {
		*have |= HAVE_PEER_ID;
		return query_hash(p, "peer_id", req->peer_id, err);
	}
	if (query_key_is(p, "port")) {
		*have |= HAVE_PORT;
		if (!query_u64(p, 1, UINT16_MAX, &v, err))
			return false;
		req->port = (uint16_t)v;
		return true;
	}
	if (query_key_is(p, "uploaded"))
		return query_u64(p, 0, UINT64_MAX, &req->uploaded, err);
	if (query_key_is(p, "downloaded"))
		return query_u64(p, 0, UINT64_MAX, &req->downloaded, err);
	if (query_key_is(p, "left"))
		return query_u64(p, 0, UINT64_MAX, &req->left, err);
	if (query_key_is(p, "event"))
		return query_event(p, &req->event, err);
	if (query_key_is(p, "compact")) {
		if (!query_u64(p, 0, 1, &v, err))
			return false;
		req->compact = v == 1;
		return true;
	}
	if (query_key_is(p, "no_peer_id")) {
		req->no_peer_id = !(p->vlen == 1 && p->val[0] == '0');
		return true;
	}
	if (query_key_is(p, "numwant")) {
		if (!query_u64(p, 0, UINT64_MAX, &v, err))
			return false;
		req->numwant = v > TRACKER_NUMWANT_MAX ? TRACKER_NUMWANT_MAX : (uint32_t)v;
		return true;
	}
	if (query_key_is(p, "key")) {
		req->has_key = true;
		req->key = query_key(p);
		return true;
	}
	if (query_key_is(p, "ip"))
		return query_ip(p, req, err);
	return true;
}

bool tracker_parse_announce_query(const char *query, size_t len, struct announce_req *req,
                                  struct tracker_error *err)
{
	const char *q = query, *end = query + len;
	struct qparam p;
	unsigned have = 0;

	memset(req, 0, sizeof *req);
	req->compact = true;
	req->numwant = TRACKER_NUMWANT_DEFAULT;
	if (!query_check_len(len, err))
		return false;
	while (query_next(&q, end, &p)) {
		if (!announce_param(&p, req, &have, err))
			return false;
	}
	if (!(have & HAVE_HASH)) {
		tracker_error_set(err, "missing info_hash");
		return false;
	}
	if (!(have & HAVE_PEER_ID)) {
		tracker_error_set(err, "missing peer_id");
		return false;
	}
	if (!(have & HAVE_PORT)) {
		tracker_error_set(err, "missing port");
		return false;
	}
	return true;
}

bool tracker_parse_scrape_query(const char *query, size_t len, struct scrape_req *req,
                                struct tracker_error *err)
{
	const char *q = query, *end = query + len;
	struct qparam p;

	req->n = 0;
	if (!query_check_len(len, err))
		return false;
	while (query_next(&q, end, &p)) {
		if (!query_key_is(&p, "info_hash"))
			continue;
		if (req->n == TRACKER_SCRAPE_MAX) {
			tracker_error_set(err, "too many info_hash: limit %d", TRACKER_SCRAPE_MAX);
			return false;
		}
		if (!query_hash(&p, "info_hash", req->info_hash[req->n], err))
			return false;
		req->n++;
	}
	return true;
}

/* ---- replies, server side ---- */

static size_t peers_count(const struct tracker_peer *peers, size_t n, int family)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += peers[i].family == family;
	return c;
}

static void reply_compact_peers(struct sta_buf *out, const char *key,
                                const struct announce_resp *resp, int family, size_t n)
{
	be_enc_cstr(out, key);
	buf_append_dec(out, n * (family == AF_INET ? 6 : 18));
	buf_append_byte(out, ':');
	tracker_compact_peers_encode(out, resp->peers, resp->n_peers, family, n);
}

/* BEP 3 original model: a list of {ip, peer id, port} (keys sorted). */
static void reply_dict_peers(struct sta_buf *out, const struct announce_resp *resp,
                             bool no_peer_id)
{
	be_enc_cstr(out, "peers");
	be_enc_list_begin(out);
	for (size_t i = 0; i < resp->n_peers; i++) {
		const struct tracker_peer *p = &resp->peers[i];
		char ip[INET6_ADDRSTRLEN];
		if ((p->family != AF_INET && p->family != AF_INET6) ||
		    inet_ntop(p->family, p->addr, ip, sizeof ip) == NULL)
			continue;
		be_enc_dict_begin(out);
		be_enc_kv_cstr(out, "ip", ip);
		if (p->has_peer_id && !no_peer_id)
			be_enc_kv_str(out, "peer id", p->peer_id, TRACKER_HASH_LEN);
		be_enc_kv_int(out, "port", p->port);
		be_enc_end(out);
	}
	be_enc_end(out);
}

void tracker_build_announce_reply(struct sta_buf *out, const struct announce_resp *resp,
                                  bool compact, bool no_peer_id)
{
	be_enc_dict_begin(out);
	be_enc_kv_int(out, "complete", resp->complete);
	be_enc_kv_int(out, "downloaded", resp->downloaded);
	be_enc_kv_int(out, "incomplete", resp->incomplete);
	be_enc_kv_int(out, "interval", resp->interval);
	if (resp->min_interval != 0)
		be_enc_kv_int(out, "min interval", resp->min_interval);
	if (compact) {
		size_t n6 = peers_count(resp->peers, resp->n_peers, AF_INET6);
		reply_compact_peers(out, "peers", resp, AF_INET,
		                    peers_count(resp->peers, resp->n_peers, AF_INET));
		if (n6 != 0)
			reply_compact_peers(out, "peers6", resp, AF_INET6, n6);
	} else {
		reply_dict_peers(out, resp, no_peer_id);
	}
	if (resp->warning != NULL)
		be_enc_kv_cstr(out, "warning message", resp->warning);
	be_enc_end(out);
}

static int scrape_entry_cmp(const void *a, const void *b)
{
	const struct scrape_entry *x = *(const struct scrape_entry *const *)a;
	const struct scrape_entry *y = *(const struct scrape_entry *const *)b;

	return memcmp(x->info_hash, y->info_hash, TRACKER_HASH_LEN);
}

/* The hashes are dict keys: bencoding wants them sorted and unique. */
void tracker_build_scrape_reply(struct sta_buf *out, const struct scrape_entry *e, size_t n)
{
	const struct scrape_entry **sorted = xreallocarray(NULL, n ? n : 1, sizeof *sorted);

	for (size_t i = 0; i < n; i++)
		sorted[i] = &e[i];
	qsort(sorted, n, sizeof *sorted, scrape_entry_cmp);
	buf_append_str(out, "d5:filesd");
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && scrape_entry_cmp(&sorted[i - 1], &sorted[i]) == 0)
			continue;
		be_enc_str(out, sorted[i]->info_hash, TRACKER_HASH_LEN);
		be_enc_dict_begin(out);
		be_enc_kv_int(out, "complete", sorted[i]->complete);
		be_enc_kv_int(out, "downloaded", sorted[i]->downloaded);
		be_enc_kv_int(out, "incomplete", sorted[i]->incomplete);
		be_enc_end(out);
	}
	buf_append_str(out, "ee");
	free(sorted);
}

void tracker_build_failure(struct sta_buf *out, const char *reason)
{
	be_enc_dict_begin(out);
	be_enc_kv_cstr(out, "failure reason", reason);
	be_enc_end(out);
}

/* ---- client side ---- */

void tracker_build_announce_query(struct sta_buf *out, const struct announce_req *req)
{
	static const char *const events[] = {
		[TRACKER_EVENT_COMPLETED] = "completed",
		[TRACKER_EVENT_STARTED] = "started",
		[TRACKER_EVENT_STOPPED] = "stopped",
		[TRACKER_EVENT_PAUSED] = "paused",
	};
	char ip[INET6_ADDRSTRLEN];

	buf_append_str(out, "info_hash=");
	url_encode(out, req->info_hash, TRACKER_HASH_LEN);
	buf_append_str(out, "&peer_id=");
	url_encode(out, req->peer_id, TRACKER_HASH_LEN);
	buf_printf(out, "&port=%u&uploaded=%" PRIu64 "&downloaded=%" PRIu64 "&left=%" PRIu64
	           "&compact=1", req->port, req->uploaded, req->downloaded, req->left);
	if (req->event > TRACKER_EVENT_NONE && req->event <= TRACKER_EVENT_PAUSED)
		buf_printf(out, "&event=%s", events[req->event]);
	buf_printf(out, "&numwant=%" PRIu32, req->numwant);
	if (req->has_key)
		buf_printf(out, "&key=%08" PRIx32, req->key);
	if (req->ip_family != 0 && inet_ntop(req->ip_family, req->ip, ip, sizeof ip) != NULL) {
		buf_append_str(out, "&ip=");
		url_encode(out, (const uint8_t *)ip, strlen(ip));
	}
}

/* Peer lists nest two deep inside the reply dict. */
static const struct be_limits reply_limits = {
	.max_depth = 8,
	.max_nodes = 1000000,
	.strict_key_order = false,
};

/* An optional non-negative integer that must fit 32 bits. */
static bool reply_u32(const struct be_doc *doc, const struct be_node *root, const char *key,
                      uint32_t *out, struct tracker_error *err)
{
	int64_t v;

	if (!be_dict_get_int(doc, root, key, &v))
		return true;
	if (v < 0 || v > UINT32_MAX) {
		tracker_error_set(err, "invalid %s in reply: %" PRId64, key, v);
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* A compact peer string; its length must be a whole number of entries. */
static bool reply_compact(const struct be_doc *doc, const struct be_node *s, int family,
                          struct announce_reply *reply, size_t room, struct tracker_error *err)
{
	size_t elen = family == AF_INET ? 6 : 18;

	if (s->str_len % elen != 0) {
		tracker_error_set(err, "bad %s length %" PRIu32 " in reply",
		                  family == AF_INET ? "peers" : "peers6", s->str_len);
		return false;
	}
	if (reply->n_peers < room)
		reply->n_peers += tracker_compact_peers_decode(be_str(doc, s), s->str_len, family,
		                                               reply->peers + reply->n_peers,
		                                               room - reply->n_peers);
	return true;
}

/* One {ip, port[, peer id]} dict. Entries we cannot use (a host name, a bad
 * port) are skipped rather than failing the whole reply. */
static void reply_dict_peer(const struct be_doc *doc, const struct be_node *d,
                            struct announce_reply *reply)
{
	struct tracker_peer *p = &reply->peers[reply->n_peers];
	char ip[INET6_ADDRSTRLEN];
	size_t iplen, idlen;
	int64_t port;

	const uint8_t *ipstr = be_dict_get_str(doc, d, "ip", &iplen);
	if (ipstr == NULL || iplen >= sizeof ip || !be_dict_get_int(doc, d, "port", &port) ||
	    port < 1 || port > UINT16_MAX)
		return;
	memcpy(ip, ipstr, iplen);
	ip[iplen] = '\0';
	memset(p, 0, sizeof *p);
	if (strlen(ip) != iplen)
		return;
	if (inet_pton(AF_INET, ip, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, p->addr) == 1)
		p->family = AF_INET6;
	else
		return;
	p->port = (uint16_t)port;
	const uint8_t *id = be_dict_get_str(doc, d, "peer id", &idlen);
	if (id != NULL && idlen == TRACKER_HASH_LEN) {
		p->has_peer_id = true;
		memcpy(p->peer_id, id, TRACKER_HASH_LEN);
	}
	reply->n_peers++;
}

static bool reply_peers(const struct be_doc *doc, const struct be_node *root, size_t max_peers,
                        struct announce_reply *reply, struct tracker_error *err)
{
	const struct be_node *peers = be_dict_get(doc, root, "peers");
	const struct be_node *peers6 = be_dict_get_type(doc, root, "peers6", BE_STR);
	size_t total = 0;

	if (peers != NULL && peers->type != BE_STR && peers->type != BE_LIST) {
		tracker_error_set(err, "bad peers in reply");
		return false;
	}
	/* Every count below is bounded by the input length. */
	if (peers != NULL)
		total += peers->type == BE_STR ? peers->str_len / 6 : peers->count;
	if (peers6 != NULL)
		total += peers6->str_len / 18;
	size_t room = total < max_peers ? total : max_peers;
	if (room > 0)
		reply->peers = xcalloc(room, sizeof *reply->peers);
	if (peers != NULL && peers->type == BE_STR &&
	    !reply_compact(doc, peers, AF_INET, reply, room, err))
		return false;
	if (peers != NULL && peers->type == BE_LIST) {
		for (const struct be_node *d = be_first(doc, peers); d != NULL && reply->n_peers < room;
		     d = be_next(doc, d)) {
			if (d->type == BE_DICT)
				reply_dict_peer(doc, d, reply);
		}
	}
	return peers6 == NULL || reply_compact(doc, peers6, AF_INET6, reply, room, err);
}

bool tracker_parse_announce_reply(const uint8_t *data, size_t len, size_t max_peers,
                                  struct announce_reply *reply, struct tracker_error *err)
{
	struct be_doc doc;
	struct be_error berr;
	const uint8_t *s;
	size_t slen;
	bool ok;

	memset(reply, 0, sizeof *reply);
	if (be_decode(&doc, data, len, &reply_limits, &berr) != BE_OK) {
		tracker_error_set(err, "bad bencoding in reply: %s at byte %zu",
		                  be_strerror(berr.code), berr.offset);
		return false;
	}
	const struct be_node *root = be_root(&doc);
	if (root->type != BE_DICT) {
		tracker_error_set(err, "reply is not a dictionary");
		be_doc_free(&doc);
		return false;
	}
	if ((s = be_dict_get_str(&doc, root, "failure reason", &slen)) != NULL) {
		reply->failed = true;
		log_escape(reply->failure, sizeof reply->failure, s, slen);
	}
	if ((s = be_dict_get_str(&doc, root, "warning message", &slen)) != NULL)
		log_escape(reply->warning, sizeof reply->warning, s, slen);
	ok = reply->failed ||
	     (reply_u32(&doc, root, "interval", &reply->interval, err) &&
	      reply_u32(&doc, root, "min interval", &reply->min_interval, err) &&
	      reply_u32(&doc, root, "complete", &reply->complete, err) &&
	      reply_u32(&doc, root, "incomplete", &reply->incomplete, err) &&
	      reply_peers(&doc, root, max_peers, reply, err));
	be_doc_free(&doc);
	if (!ok)
		tracker_announce_reply_free(reply);
	return ok;
}

void tracker_announce_reply_free(struct announce_reply *reply)
{
	free(reply->peers);
	reply->peers = NULL;
	reply->n_peers = 0;
}
