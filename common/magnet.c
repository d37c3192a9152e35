/* Magnet URIs (BEP 9): parsing with precise errors, and building. */
#include "magnet.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hex.h"
#include "log.h"
#include "metainfo.h"
#include "strnum.h"
#include "tracker_proto.h"
#include "xmalloc.h"

#define MAGNET_PREFIX "magnet:?"
#define BTIH_PREFIX "urn:btih:"
#define BTMH_PREFIX "urn:btmh:"

enum magnet_key { KEY_OTHER, KEY_XT, KEY_DN, KEY_TR, KEY_PE };

struct magnet_state {
	bool has_hash;
	bool has_v2;
	bool has_name;
};

static bool __attribute__((format(printf, 3, 4)))
magnet_fail(struct magnet_error *err, enum magnet_err code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return false;
}

/* Untrusted bytes for a message: escaped and short. */
static const char *shown(char *out, size_t outsz, const void *s, size_t len)
{
	return log_escape(out, outsz, s, len);
}

bool magnet_is_uri(const char *s)
{
	return strncasecmp(s, "magnet:", 7) == 0;
}

/* "tr" or "tr.N" (numbered keys in some links). */
static bool key_is(const char *k, size_t klen, const char *name)
{
	size_t n = strlen(name);

	if (klen < n || memcmp(k, name, n) != 0)
		return false;
	if (klen == n)
		return true;
	if (k[n] != '.' || klen == n + 1)
		return false;
	for (size_t i = n + 1; i < klen; i++)
		if (k[i] < '0' || k[i] > '9')
			return false;
	return true;
}

static enum magnet_key key_kind(const char *k, size_t klen)
{
	if (klen == 4 && memcmp(k, "x.pe", 4) == 0)
		return KEY_PE;
	if (key_is(k, klen, "xt"))
		return KEY_XT;
	if (key_is(k, klen, "dn"))
		return KEY_DN;
	if (key_is(k, klen, "tr"))
		return KEY_TR;
	return KEY_OTHER;
}

static int base32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* 32 RFC 4648 base32 digits (either case) are exactly 160 bits. */
static bool base32_decode_hash(const char *s, uint8_t out[20])
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < 32; i++) {
		int v = base32_value(s[i]);
		if (v < 0)
			return false;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return true;
}

static bool parse_xt(struct magnet *m, struct magnet_state *st, const char *v, size_t len,
                     struct magnet_error *err)
{
	size_t pl = strlen(BTIH_PREFIX);
	uint8_t hash[20];
	char show[48];

	if (len >= pl && strncasecmp(v, BTMH_PREFIX, pl) == 0)
		st->has_v2 = true;
	if (len < pl || strncasecmp(v, BTIH_PREFIX, pl) != 0)
		return true; /* another kind of hash (btmh, sha1, ed2k): not ours */
	v += pl;
	len -= pl;
	bool ok = (len == 40 && hex_decode(v, 40, hash, 20)) ||
	          (len == 32 && base32_decode_hash(v, hash));
	if (!ok)
		return magnet_fail(err, MAGNET_ERR_HASH, "the info-hash \"%s\" is not 40 hex or 32 "
		                   "base32 digits: copy the whole magnet link",
		                   shown(show, sizeof show, v, len));
	if (st->has_hash && memcmp(m->info_hash, hash, 20) != 0)
		return magnet_fail(err, MAGNET_ERR_TWO_HASHES, "the link names two different "
		                   "info-hashes (xt): keep one");
	memcpy(m->info_hash, hash, 20);
	st->has_hash = true;
	return true;
}

/* dn: '+' is a space (form encoding), decoded before the %-escapes so
 * that "%2B" stays a '+'. */
static bool parse_dn(struct magnet *m, struct magnet_state *st, char *v, size_t len,
                     struct magnet_error *err)
{
	if (st->has_name)
		return true;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return magnet_fail(err, MAGNET_ERR_NAME, "the name (dn) has a control "
			                   "character at byte %zu", i);
	if (len > MAGNET_NAME_MAX) {
		len = MAGNET_NAME_MAX;
		while (len > 0 && ((unsigned char)v[len] & 0xc0) == 0x80)
			len--; /* do not cut a UTF-8 sequence */
	}
	memcpy(m->name, v, len);
	m->name[len] = '\0';
	st->has_name = true;
	return true;
}

static bool parse_tr(struct magnet *m, const char *v, size_t len, struct magnet_error *err)
{
	char problem[80], show[64];
	int kind = metainfo_url_kind(v, len, problem, sizeof problem);

	if (kind < 0)
		return magnet_fail(err, MAGNET_ERR_TRACKER, "the tracker (tr) \"%s\" %s",
		                   shown(show, sizeof show, v, len), problem);
	for (size_t i = 0; kind > 0 && i < m->n_trackers; i++)
		if (strcmp(m->trackers[i], v) == 0)
			return true;
	if (kind == 0 || m->n_trackers == MAGNET_MAX_TRACKERS) {
		m->n_skipped++;
		return true;
	}
	if (m->trackers == NULL)
		m->trackers = xcalloc(MAGNET_MAX_TRACKERS, sizeof *m->trackers);
	m->trackers[m->n_trackers++] = xstrndup(v, len);
	return true;
}

static bool host_name_ok(const char *h, size_t len)
{
	if (len == 0 || len > MAGNET_HOST_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9') || h[i] == '-' || h[i] == '.'))
			return false;
	return true;
}

/* "host:port", "1.2.3.4:port" or "[v6]:port". */
static bool split_host_port(const char *v, size_t len, struct magnet_peer *out)
{
	const char *colon, *host = v;
	size_t hlen;
	uint64_t port;

	if (len > 0 && v[0] == '[') {
		const char *close = memchr(v, ']', len);
		struct in6_addr a6;
		if (close == NULL || close + 1 == v + len || close[1] != ':')
			return false;
		host = v + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
		if (hlen == 0 || hlen >= sizeof out->host)
			return false;
		memcpy(out->host, host, hlen);
		out->host[hlen] = '\0';
		if (inet_pton(AF_INET6, out->host, &a6) != 1)
			return false;
	} else {
		colon = memrchr(v, ':', len);
		hlen = colon ? (size_t)(colon - v) : 0;
		if (colon == NULL || !host_name_ok(v, hlen))
			return false;
		memcpy(out->host, host, hlen);
		out->host[hlen] = '\0';
	}
	size_t plen = len - (size_t)(colon + 1 - v);
	if (!strnum_u64(colon + 1, plen, 1, 65535, &port))
		return false;
	out->port = (uint16_t)port;
	return true;
}

static bool parse_pe(struct magnet *m, const char *v, size_t len, struct magnet_error *err)
{
	struct magnet_peer peer;
	char show[64];

	if (!split_host_port(v, len, &peer))
		return magnet_fail(err, MAGNET_ERR_PEER, "the peer address (x.pe) \"%s\" is not "
		                   "host:port or [IPv6]:port", shown(show, sizeof show, v, len));
	if (m->n_peers == MAGNET_MAX_PEERS) {
		m->n_skipped++;
		return true;
	}
	if (m->peers == NULL)
		m->peers = xcalloc(MAGNET_MAX_PEERS, sizeof *m->peers);
	m->peers[m->n_peers++] = peer;
	return true;
}

static bool parse_value(struct magnet *m, struct magnet_state *st, enum magnet_key k, char *v,
                        size_t len, struct magnet_error *err)
{
	switch (k) {
	case KEY_XT: return parse_xt(m, st, v, len, err);
	case KEY_DN: return parse_dn(m, st, v, len, err);
	case KEY_TR: return parse_tr(m, v, len, err);
	case KEY_PE: return parse_pe(m, v, len, err);
	default: return true;
	}
}

static bool parse_param(struct magnet *m, struct magnet_state *st, const char *p, size_t len,
                        struct magnet_error *err)
{
	const char *eq = memchr(p, '=', len);
	char show[48];

	if (eq == NULL)
		return magnet_fail(err, MAGNET_ERR_PARAM, "\"%s\" in the link has no '=': copy the "
		                   "whole magnet link", shown(show, sizeof show, p, len));
	size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
	enum magnet_key k = key_kind(p, klen);
	if (k == KEY_OTHER)
		return true;
	char *raw = xmalloc(vlen + 1); /* not xstrndup: the value may hold a NUL */
	memcpy(raw, eq + 1, vlen);
	for (size_t i = 0; k == KEY_DN && i < vlen; i++)
		if (raw[i] == '+')
			raw[i] = ' ';
	char *v = xmalloc(vlen + 1);
	long n = url_decode(raw, vlen, (uint8_t *)v);
	bool ok;
	if (n < 0) {
		ok = magnet_fail(err, MAGNET_ERR_ESCAPE, "the value of \"%s\" has a bad %%-escape "
		                 "(want %% and two hex digits)", shown(show, sizeof show, p, klen));
	} else {
		v[n] = '\0';
		/* A decoded NUL would cut a C string short: only dn and tr
		 * keep the bytes, and both refuse control bytes. */
		ok = parse_value(m, st, k, v, (size_t)n, err);
	}
	free(raw);
	free(v);
	return ok;
}

bool magnet_parse(const char *uri, size_t len, struct magnet *m, struct magnet_error *err)
{
	struct magnet_state st = { 0 };
	size_t pl = strlen(MAGNET_PREFIX);

	memset(m, 0, sizeof *m);
	err->code = MAGNET_ERR_NONE;
	err->msg[0] = '\0';
	if (len > MAGNET_MAX_LEN)
		return magnet_fail(err, MAGNET_ERR_TOO_LONG, "the magnet link is %zu bytes long; "
		                   "at most %d are accepted", len, MAGNET_MAX_LEN);
	if (len < pl || strncasecmp(uri, MAGNET_PREFIX, pl) != 0)
		return magnet_fail(err, MAGNET_ERR_SCHEME, "not a magnet link: it starts with "
		                   "\"magnet:?\"");
	for (const char *p = uri + pl, *end = uri + len; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp > p && !parse_param(m, &st, p, (size_t)(amp - p), err)) {
			magnet_free(m);
			return false;
		}
		p = amp + 1;
	}
	if (!st.has_hash) {
		magnet_free(m);
		if (st.has_v2)
			return magnet_fail(err, MAGNET_ERR_V2_ONLY, "the link has only a BitTorrent v2 "
			                   "info-hash (urn:btmh); stad needs a v1 one (urn:btih)");
		return magnet_fail(err, MAGNET_ERR_NO_HASH, "the link has no info-hash "
		                   "(xt=urn:btih:...): copy the whole magnet link");
	}
	return true;
}

void magnet_free(struct magnet *m)
{
	for (size_t i = 0; i < m->n_trackers; i++)
		free(m->trackers[i]);
	free(m->trackers);
	free(m->peers);
	memset(m, 0, sizeof *m);
}

void magnet_build(struct sta_buf *out, const uint8_t info_hash[20], const char *name,
                  const char *const *trackers, size_t n_trackers,
                  const struct magnet_peer *peers, size_t n_peers)
{
	char hex[41], pe[MAGNET_HOST_MAX + 16];

	hex_encode(info_hash, 20, hex);
	buf_append_str(out, MAGNET_PREFIX "xt=" BTIH_PREFIX);
	buf_append_str(out, hex);
	if (name != NULL && name[0] != '\0') {
		buf_append_str(out, "&dn=");
		url_encode(out, (const uint8_t *)name, strlen(name));
	}
	for (size_t i = 0; i < n_trackers; i++) {
		buf_append_str(out, "&tr=");
		url_encode(out, (const uint8_t *)trackers[i], strlen(trackers[i]));
	}
	for (size_t i = 0; i < n_peers; i++) {
		bool v6 = strchr(peers[i].host, ':') != NULL;
		int n = snprintf(pe, sizeof pe, v6 ? "[%s]:%u" : "%s:%u", peers[i].host,
		                 peers[i].port);
		buf_append_str(out, "&x.pe=");
		url_encode(out, (const uint8_t *)pe, (size_t)n);
	}
}
