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

	req->ip_family = 0;
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
	if (inet_pton(AF_INET, tmp, req->ip) == 1)
		req->ip_family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, req->ip) == 1)
		req->ip_family = AF_INET6;
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
