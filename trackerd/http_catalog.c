/* HTTP endpoints of the catalog: listings, lookups and searches, fetching
 * one .torrent, publishing one or a batch, and withdrawing one. */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "bencode.h"
#include "catalog.h"
#include "catalog_proto.h"
#include "hex.h"
#include "http.h"
#include "log.h"
#include "metainfo.h"
#include "stats.h"
#include "xmalloc.h"

#define TOKEN_HEADER "X-STA-Token"
#define HASH_HEX_LEN 40
#define BATCH_PATH "/catalog/batch"

/* Does the client prefer HTML (a browser) over bencode? */
static bool wants_html(struct http_call *c)
{
	const char *accept = http_header(c, "Accept");

	return accept && strstr(accept, "text/html") != NULL;
}

static void catalog_list(struct http_call *c)
{
	struct worker *w = c->w;
	struct catalog_query q;
	struct catalog_page page;
	char err[160];

	if (!catalog_query_parse(c->query, c->query_len, &q, err, sizeof err))
		return http_fail(c, 400, "Bad Request", err);
	if (!q.format_given && wants_html(c))
		q.format = CATALOG_FMT_HTML;
	stats_inc(w->stats, q.words[0] ? STAT_SEARCH : STAT_CATALOG);
	c->kind = q.words[0] ? HIST_HTTP_SEARCH : HIST_HTTP_CATALOG;
	err[0] = '\0';
	if (!catalog_query(w->tr->catalog, w->index, w->tr->swarms, &q, &page, err, sizeof err))
		return http_fail(c, 400, "Bad Request", err);
	buf_clear(&w->out);
	if (q.format == CATALOG_FMT_HTML) {
		web_catalog_page(c, &q, &page, &w->out);
		http_reply(c, 200, "OK", "text/html; charset=utf-8", w->out.data, w->out.len);
	} else {
		bool json = q.format == CATALOG_FMT_JSON;
		char announce[300];
		bool known = web_announce_url(c, announce, sizeof announce);
		catalog_listing_encode(&w->out, q.format, page.v, page.n, page.next,
		                       known ? announce : NULL);
		http_reply(c, 200, "OK", json ? "application/json" : "text/plain", w->out.data,
		           w->out.len);
	}
	catalog_page_free(&page);
}

/* "/catalog/<40 hex>.torrent" -> hash; false for any other path. */
static bool path_hash(const char *path, uint8_t hash[TRACKER_HASH_LEN])
{
	const char *name = path + strlen("/catalog/");

	return strlen(name) == HASH_HEX_LEN + strlen(".torrent") &&
	       strcmp(name + HASH_HEX_LEN, ".torrent") == 0 &&
	       hex_decode(name, HASH_HEX_LEN, hash, TRACKER_HASH_LEN);
}

static void catalog_get(struct http_call *c)
{
	struct worker *w = c->w;
	uint8_t hash[TRACKER_HASH_LEN];

	stats_inc(w->stats, STAT_CATALOG);
	c->kind = HIST_HTTP_CATALOG;
	if (!path_hash(c->path, hash))
		return http_fail(c, 404, "Not Found", "want /catalog/<40-hex info-hash>.torrent");
	buf_clear(&w->out);
	if (!catalog_fetch(w->tr->catalog, w->index, hash, &w->out))
		return http_fail(c, 404, "Not Found", "no such torrent in the catalog");
	http_reply(c, 200, "OK", "application/x-bittorrent", w->out.data, w->out.len);
}

static bool has_token(struct http_call *c)
{
	const char *token = http_header(c, TOKEN_HEADER);

	return token && tracker_token_ok(c->w->tr, token);
}

/* May this request publish mi? A configured token, or a seeding announce
 * from the same address on this tracker. *publisher is set without a
 * token: that address may withdraw the entry later. */
static bool publish_allowed(struct http_call *c, const struct metainfo *mi,
                            struct swarm_addr *peer, bool *by_token)
{
	*by_token = has_token(c);
	if (*by_token)
		return true;
	return http_peer_addr(c, peer) &&
	       swarm_is_seeder(c->w->tr->swarms, mi->info_hash, peer->family, peer->addr);
}

static void hash_reply(struct http_call *c, const uint8_t *hash, const char *name,
                       const char *status)
{
	struct sta_buf *out = &c->w->out;
	char hex[HASH_HEX_LEN + 1];

	hex_encode(hash, TRACKER_HASH_LEN, hex);
	buf_clear(out);
	be_enc_dict_begin(out);
	be_enc_kv_str(out, "info_hash", hex, HASH_HEX_LEN);
	if (name)
		be_enc_kv_cstr(out, "name", name);
	be_enc_kv_cstr(out, "status", status);
	be_enc_end(out);
	http_reply(c, 200, "OK", "text/plain", out->data, out->len);
}

static void publish_parsed(struct http_call *c, const struct metainfo *mi)
{
	struct tracker *tr = c->w->tr;
	struct swarm_addr peer;
	enum catalog_add_result res;
	bool by_token;
	char esc[128];

	if (!access_permits(tr->access, mi->info_hash))
		return http_fail(c, 403, "Forbidden", "torrent not allowed on this tracker");
	if (!publish_allowed(c, mi, &peer, &by_token))
		return http_fail(c, 403, "Forbidden", "publishing needs the " TOKEN_HEADER
		                 " header, or seed the torrent through this tracker first");
	catalog_add(tr->catalog, &mi, 1, by_token ? NULL : &peer, &res);
	if (res == CATALOG_IO_ERROR)
		return http_fail(c, 500, "Internal Server Error", "cannot store the torrent");
	if (res == CATALOG_ADDED) {
		stats_inc(c->w->stats, STAT_PUBLISH);
		log_info("published \"%s\"", log_escape(esc, sizeof esc, mi->name, strlen(mi->name)));
	}
	hash_reply(c, mi->info_hash, mi->name, res == CATALOG_ADDED ? "added" : "exists");
}

static const uint8_t *request_body(struct http_call *c, size_t max, size_t *len)
{
	*len = c->body_len;
	if (*len > max) {
		http_fail(c, 413, "Payload Too Large", "body larger than max_torrent_size "
		          "(max_batch_size for a batch)");
		return NULL;
	}
	if (*len == 0) {
		http_fail(c, 400, "Bad Request", "empty body: POST the .torrent file");
		return NULL;
	}
	return c->body;
}

/* POST /catalog with the raw .torrent as the body. */
static void catalog_publish(struct http_call *c)
{
	size_t len;
	const uint8_t *data = request_body(c, (size_t)atomic_load(&c->w->tr->live.max_torrent_size),
	                                   &len);
	struct metainfo mi;
	struct mi_error err;

	if (data == NULL)
		return;
	if (!metainfo_parse(data, len, &mi, &err))
		return http_fail(c, 400, "Bad Request", err.msg);
	publish_parsed(c, &mi);
	metainfo_free(&mi);
}

/* DELETE /catalog/<hex>.torrent: the token holder, or the address that
 * published it. */
static void catalog_withdraw_req(struct http_call *c)
{
	uint8_t hash[TRACKER_HASH_LEN];
	struct swarm_addr peer;
	bool token = has_token(c);

	if (!path_hash(c->path, hash))
		return http_fail(c, 404, "Not Found", "want /catalog/<40-hex info-hash>.torrent");
	if (!token && !http_peer_addr(c, &peer))
		return http_fail(c, 403, "Forbidden", "cannot tell your address");
	switch (catalog_withdraw(c->w->tr->catalog, hash, token ? NULL : &peer)) {
	case CATALOG_WITHDRAWN:
		stats_inc(c->w->stats, STAT_WITHDRAW);
		return hash_reply(c, hash, NULL, "withdrawn");
	case CATALOG_UNKNOWN:
		return http_fail(c, 404, "Not Found", "no such torrent in the catalog");
	case CATALOG_NOT_PUBLISHER:
		return http_fail(c, 403, "Forbidden", "withdrawing needs the " TOKEN_HEADER
		                 " header or the address that published the torrent");
	case CATALOG_WITHDRAW_ERROR:
		break;
	}
	http_fail(c, 500, "Internal Server Error", "cannot withdraw the torrent");
}

void http_catalog(struct http_call *c)
{
	enum http_method m = c->method;

	if (m == HTTP_METHOD_POST || m == HTTP_METHOD_DELETE)
		c->kind = HIST_HTTP_PUBLISH;
	if (strcmp(c->path, BATCH_PATH) == 0) {
		if (http_method_ok(c, HTTP_METHOD_POST))
			http_catalog_batch(c);
	} else if (strcmp(c->path, "/catalog") != 0) {
		if (m == HTTP_METHOD_DELETE)
			catalog_withdraw_req(c);
		else if (http_method_ok(c, HTTP_METHOD_GET))
			catalog_get(c);
	} else if (m == HTTP_METHOD_POST) {
		catalog_publish(c);
	} else if (http_method_ok(c, HTTP_METHOD_GET)) {
		catalog_list(c);
	}
}

/* ---- batch publish ---- */

/* One batch item's result: d 5:index i..e 9:info_hash .. 6:status .. e
 * or d 5:error .. 5:index i..e 6:status 6:failed e. */
static void batch_item(struct sta_buf *out, size_t i, const struct metainfo *mi,
                       const char *status, const char *error)
{
	char hex[HASH_HEX_LEN + 1];

	be_enc_dict_begin(out);
	if (error)
		be_enc_kv_cstr(out, "error", error);
	be_enc_kv_int(out, "index", (int64_t)i);
	if (mi) {
		hex_encode(mi->info_hash, TRACKER_HASH_LEN, hex);
		be_enc_kv_str(out, "info_hash", hex, HASH_HEX_LEN);
	}
	be_enc_kv_cstr(out, "status", status);
	be_enc_end(out);
}

struct batch {
	struct metainfo *mi;       /* parsed items, n of them */
	const struct metainfo **ok; /* the ones to publish */
	size_t *ok_index;
	enum catalog_add_result *res;
	size_t n, n_ok, added, exists, failed;
};

static void batch_parse(struct http_call *c, const struct catalog_span *t, size_t n,
                        struct batch *b, struct sta_buf *items)
{
	struct mi_error err;
	long long max = atomic_load(&c->w->tr->live.max_torrent_size);

	for (size_t i = 0; i < n; i++) {
		struct metainfo *mi = &b->mi[b->n];
		const char *why = NULL;
		bool parsed = false;
		if ((long long)t[i].len > max)
			why = "larger than max_torrent_size";
		else if (!(parsed = metainfo_parse(t[i].data, t[i].len, mi, &err)))
			why = err.msg;
		else if (!access_permits(c->w->tr->access, mi->info_hash))
			why = "torrent not allowed on this tracker";
		if (why) {
			batch_item(items, i, NULL, "failed", why);
			if (parsed)
				metainfo_free(mi);
			b->failed++;
			continue;
		}
		b->ok_index[b->n_ok] = i;
		b->ok[b->n_ok++] = &b->mi[b->n++];
	}
}

static void batch_reply(struct http_call *c, struct batch *b, struct sta_buf *items)
{
	struct sta_buf *out = &c->w->out;

	for (size_t k = 0; k < b->n_ok; k++) {
		bool added = b->res[k] == CATALOG_ADDED;
		b->added += added;
		b->exists += b->res[k] == CATALOG_EXISTS;
		b->failed += b->res[k] == CATALOG_IO_ERROR;
		batch_item(items, b->ok_index[k], b->ok[k], added ? "added" :
		           b->res[k] == CATALOG_EXISTS ? "exists" : "failed",
		           b->res[k] == CATALOG_IO_ERROR ? "cannot store the torrent" : NULL);
	}
	buf_clear(out);
	be_enc_dict_begin(out);
	be_enc_kv_int(out, "added", (int64_t)b->added);
	be_enc_kv_int(out, "exists", (int64_t)b->exists);
	be_enc_kv_int(out, "failed", (int64_t)b->failed);
	be_enc_cstr(out, "results");
	be_enc_list_begin(out);
	buf_append(out, items->data, items->len);
	be_enc_end(out);
	be_enc_end(out);
	http_reply(c, 200, "OK", "text/plain", out->data, out->len);
}

/* POST /catalog/batch: a bencoded list of .torrent strings, with a token.
 * Every valid torrent is published in one transaction. */
void http_catalog_batch(struct http_call *c)
{
	size_t len, n;
	struct catalog_span *t;
	struct sta_buf items = STA_BUF_INIT;
	char err[160];

	if (!has_token(c))
		return http_fail(c, 403, "Forbidden", "a batch publish needs the " TOKEN_HEADER
		                 " header");
	const uint8_t *data = request_body(c, (size_t)atomic_load(&c->w->tr->live.max_batch_size),
	                                   &len);
	if (data == NULL)
		return;
	if (!catalog_batch_decode(data, len, CATALOG_BATCH_MAX, &t, &n, err, sizeof err))
		return http_fail(c, 400, "Bad Request", err);
	struct batch b = { xcalloc(n + 1, sizeof *b.mi), xcalloc(n + 1, sizeof *b.ok),
	                   xcalloc(n + 1, sizeof *b.ok_index), xcalloc(n + 1, sizeof *b.res),
	                   0, 0, 0, 0, 0 };
	batch_parse(c, t, n, &b, &items);
	catalog_add(c->w->tr->catalog, b.ok, b.n_ok, NULL, b.res);
	batch_reply(c, &b, &items);
	for (size_t i = 0; i < b.n; i++)
		metainfo_free(&b.mi[i]);
	stats_add(c->w->stats, STAT_PUBLISH, b.added);
	log_info("batch publish: %zu added, %zu already there, %zu failed", b.added, b.exists,
	         b.failed);
	free(b.mi);
	free(b.ok);
	free(b.ok_index);
	free(b.res);
	free(t);
	buf_free(&items);
}
