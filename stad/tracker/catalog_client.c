/* The tracker's catalog over HTTP: list, fetch (info-hash checked), publish. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "catalog_client.h"
#include "hex.h"
#include "http_client.h"
#include "log.h"
#include "xmalloc.h"

#define TOKEN_HEADER "X-STA-Token"

enum call_kind {
	CALL_LIST,
	CALL_FETCH,
	CALL_PUBLISH,
};

struct catalog_client_call {
	enum call_kind kind;
	struct http_req *req;
	union {
		catalog_list_cb list;
		catalog_fetch_cb fetch;
		catalog_publish_cb publish;
	} cb;
	void *arg;
	uint8_t info_hash[20];
	char hostport[HTTP_URL_HOST_MAX + 9];
};

char *catalog_client_url(const char *announce_url, const char *suffix, char *err, size_t errsz)
{
	struct http_url u;
	char hp[HTTP_URL_HOST_MAX + 9];

	if (!http_url_parse(announce_url, &u, err, errsz))
		return NULL;
	if (u.udp) {
		snprintf(err, errsz, "the catalog needs an http:// tracker, not a udp:// one");
		http_url_free(&u);
		return NULL;
	}
	/* The catalog sits beside the announce path: drop its last component
	 * and any query. */
	size_t plen = strcspn(u.path, "?");
	while (plen > 0 && u.path[plen - 1] != '/')
		plen--;
	if (plen > 0)
		plen--;
	http_url_hostport(&u, hp, sizeof hp);
	char *url = xasprintf("http://%s%.*s%s", hp, (int)plen, u.path, suffix);
	http_url_free(&u);
	return url;
}

/* "tracker 1.2.3.4:80 refused: HTTP 403: <failure reason>" */
static void http_refusal(const struct catalog_client_call *c, const struct http_result *r,
                         char *out, size_t outsz)
{
	struct be_doc d;
	size_t rlen = 0;
	const uint8_t *reason = NULL;
	char esc[256];

	if (be_decode(&d, r->body, r->len, NULL, NULL) == BE_OK) {
		if (be_root(&d)->type == BE_DICT)
			reason = be_dict_get_str(&d, be_root(&d), "failure reason", &rlen);
		if (reason)
			log_escape(esc, sizeof esc, reason, rlen);
		be_doc_free(&d);
	}
	snprintf(out, outsz, "tracker %s refused: HTTP %d%s%s", c->hostport, r->status,
	         reason ? ": " : "", reason ? esc : "");
}

static void list_done(struct catalog_client_call *c, const struct http_result *r, char *msg,
                      size_t msgsz)
{
	struct catalog_listing l;
	size_t skipped;

	if (!catalog_listing_decode(r->body, r->len, &l, &skipped, msg, msgsz))
		return c->cb.list(c->arg, NULL, msg);
	if (skipped)
		log_info("skipped %zu malformed catalog entries", skipped);
	c->cb.list(c->arg, &l, NULL);
	catalog_listing_free(&l);
}

static void fetch_done(struct catalog_client_call *c, const struct http_result *r, char *msg,
                       size_t msgsz)
{
	struct metainfo *mi = xcalloc(1, sizeof *mi);
	struct mi_error err;
	char want[41], got[41];

	if (!metainfo_parse(r->body, r->len, mi, &err)) {
		free(mi);
		snprintf(msg, msgsz, "tracker %s sent a bad torrent: %s", c->hostport, err.msg);
		return c->cb.fetch(c->arg, NULL, msg);
	}
	if (memcmp(mi->info_hash, c->info_hash, sizeof c->info_hash) != 0) {
		hex_encode(c->info_hash, sizeof c->info_hash, want);
		hex_encode(mi->info_hash, sizeof mi->info_hash, got);
		metainfo_free(mi);
		free(mi);
		snprintf(msg, msgsz, "tracker %s sent the wrong torrent: asked for %s, got %s",
		         c->hostport, want, got);
		return c->cb.fetch(c->arg, NULL, msg);
	}
	c->cb.fetch(c->arg, mi, NULL);
}

static void publish_done(struct catalog_client_call *c, const struct http_result *r, char *msg,
                         size_t msgsz)
{
	struct be_doc d;
	size_t len;
	const uint8_t *st = NULL;
	char status[16];

	if (be_decode(&d, r->body, r->len, NULL, NULL) == BE_OK) {
		if (be_root(&d)->type == BE_DICT)
			st = be_dict_get_str(&d, be_root(&d), "status", &len);
		if (st && len < sizeof status && !memchr(st, '\0', len)) {
			memcpy(status, st, len);
			status[len] = '\0';
		} else {
			st = NULL;
		}
		be_doc_free(&d);
	}
	if (!st) {
		snprintf(msg, msgsz, "tracker %s sent an unreadable publish reply", c->hostport);
		return c->cb.publish(c->arg, NULL, msg);
	}
	c->cb.publish(c->arg, status, NULL);
}

static void fail(struct catalog_client_call *c, const char *msg)
{
	switch (c->kind) {
	case CALL_LIST:
		return c->cb.list(c->arg, NULL, msg);
	case CALL_FETCH:
		return c->cb.fetch(c->arg, NULL, msg);
	case CALL_PUBLISH:
		return c->cb.publish(c->arg, NULL, msg);
	}
}

static void call_done(void *arg, const struct http_result *r)
{
	struct catalog_client_call *c = arg;
	char msg[1024];

	if (r->error) {
		fail(c, r->error);
	} else if (r->status != 200) {
		http_refusal(c, r, msg, sizeof msg);
		fail(c, msg);
	} else if (c->kind == CALL_LIST) {
		list_done(c, r, msg, sizeof msg);
	} else if (c->kind == CALL_FETCH) {
		fetch_done(c, r, msg, sizeof msg);
	} else {
		publish_done(c, r, msg, sizeof msg);
	}
	free(c); /* http_client frees the request itself */
}

static struct catalog_client_call *call_start(struct event_base *base, struct evdns_base *dns,
                                              struct catalog_client_call *c,
                                              const char *announce_url, const char *suffix,
                                              const struct http_req_opts *o, char *err,
                                              size_t errsz)
{
	struct http_url u;
	char *url = catalog_client_url(announce_url, suffix, err, errsz);

	if (url && http_url_parse(url, &u, err, errsz)) {
		http_url_hostport(&u, c->hostport, sizeof c->hostport);
		http_url_free(&u);
		c->req = http_req_start(base, dns, url, o, call_done, c, err, errsz);
	}
	free(url);
	if (!c->req) {
		free(c);
		return NULL;
	}
	return c;
}

struct catalog_client_call *catalog_client_list(struct event_base *base,
                                                struct evdns_base *dns,
                                                const char *announce_url,
                                                const struct catalog_query *q,
                                                catalog_list_cb cb, void *arg, char *err,
                                                size_t errsz)
{
	struct catalog_client_call *c = xcalloc(1, sizeof *c);
	struct http_req_opts o = {
		.max_body = CATALOG_MAX_LIST, .timeout_s = CATALOG_TIMEOUT_S, .what = "tracker",
	};
	struct sta_buf path = STA_BUF_INIT;

	c->kind = CALL_LIST;
	c->cb.list = cb;
	c->arg = arg;
	buf_append_str(&path, "/catalog?");
	catalog_query_encode(q, &path);
	buf_append_byte(&path, '\0');
	struct catalog_client_call *r = call_start(base, dns, c, announce_url, (char *)path.data,
	                                           &o, err, errsz);
	buf_free(&path);
	return r;
}

struct catalog_client_call *catalog_client_fetch(struct event_base *base,
                                                 struct evdns_base *dns,
                                                 const char *announce_url,
                                                 const uint8_t info_hash[20],
                                                 catalog_fetch_cb cb, void *arg, char *err,
                                                 size_t errsz)
{
	struct catalog_client_call *c = xcalloc(1, sizeof *c);
	struct http_req_opts o = {
		.max_body = CATALOG_MAX_TORRENT, .timeout_s = CATALOG_TIMEOUT_S, .what = "tracker",
	};
	char suffix[64], hex[41];

	c->kind = CALL_FETCH;
	c->cb.fetch = cb;
	c->arg = arg;
	memcpy(c->info_hash, info_hash, sizeof c->info_hash);
	hex_encode(info_hash, 20, hex);
	snprintf(suffix, sizeof suffix, "/catalog/%s.torrent", hex);
	return call_start(base, dns, c, announce_url, suffix, &o, err, errsz);
}

struct catalog_client_call *catalog_client_publish(struct event_base *base,
                                                   struct evdns_base *dns,
                                                   const struct sockaddr *bind_addr,
                                                   const char *announce_url,
                                                   const uint8_t *torrent, size_t len,
                                                   const char *token, catalog_publish_cb cb,
                                                   void *arg, char *err, size_t errsz)
{
	struct catalog_client_call *c = xcalloc(1, sizeof *c);
	struct http_req_opts o = {
		.post = true, .body = torrent, .body_len = len,
		.header_name = token ? TOKEN_HEADER : NULL, .header_value = token,
		.max_body = 64 * 1024, .timeout_s = CATALOG_TIMEOUT_S, .what = "tracker",
		.bind_addr = bind_addr,
	};

	c->kind = CALL_PUBLISH;
	c->cb.publish = cb;
	c->arg = arg;
	return call_start(base, dns, c, announce_url, "/catalog", &o, err, errsz);
}

void catalog_client_cancel(struct catalog_client_call *c)
{
	if (!c)
		return;
	http_req_cancel(c->req);
	free(c);
}
