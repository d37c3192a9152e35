/* HTTP endpoints of the catalog: list, fetch one .torrent, publish. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <string.h>

#include "access.h"
#include "bencode.h"
#include "catalog.h"
#include "hex.h"
#include "http.h"
#include "log.h"
#include "metainfo.h"
#include "stats.h"

#define TOKEN_HEADER "X-STA-Token"
#define HASH_HEX_LEN 40

static void catalog_list(struct http_call *c)
{
	struct worker *w = c->w;
	bool json = http_wants_json(c);

	stats_inc(w->stats, STAT_CATALOG);
	buf_clear(&w->out);
	catalog_render(w->tr->catalog, w->tr->swarms, json, &w->out);
	http_reply(c, 200, "OK", json ? "application/json" : "text/plain", w->out.data,
	           w->out.len);
}

/* GET /catalog/<40 hex>.torrent */
static void catalog_get(struct http_call *c)
{
	struct worker *w = c->w;
	const char *name = c->path + strlen("/catalog/");
	uint8_t hash[TRACKER_HASH_LEN];

	stats_inc(w->stats, STAT_CATALOG);
	if (strlen(name) != HASH_HEX_LEN + strlen(".torrent") ||
	    strcmp(name + HASH_HEX_LEN, ".torrent") != 0 ||
	    !hex_decode(name, HASH_HEX_LEN, hash, sizeof hash))
		return http_fail(c, 404, "Not Found", "want /catalog/<40-hex info-hash>.torrent");
	buf_clear(&w->out);
	if (!catalog_fetch(w->tr->catalog, hash, &w->out))
		return http_fail(c, 404, "Not Found", "no such torrent in the catalog");
	http_reply(c, 200, "OK", "application/x-bittorrent", w->out.data, w->out.len);
}

/* May this request publish mi? A configured token, or a seeding announce
 * from the same address on this tracker. */
static bool publish_allowed(struct http_call *c, const struct metainfo *mi)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(c->req);
	const char *token = evhttp_find_header(h, TOKEN_HEADER);
	struct swarm_addr peer;

	if (token && tracker_token_ok(c->w->tr, token))
		return true;
	return http_peer_addr(c, &peer) &&
	       swarm_is_seeder(c->w->tr->swarms, mi->info_hash, peer.family, peer.addr);
}

static void publish_reply(struct http_call *c, const struct metainfo *mi, const char *status)
{
	struct sta_buf *out = &c->w->out;
	char hex[HASH_HEX_LEN + 1];

	hex_encode(mi->info_hash, TRACKER_HASH_LEN, hex);
	buf_clear(out);
	be_enc_dict_begin(out);
	be_enc_kv_str(out, "info_hash", hex, HASH_HEX_LEN);
	be_enc_kv_cstr(out, "name", mi->name);
	be_enc_kv_cstr(out, "status", status);
	be_enc_end(out);
	http_reply(c, 200, "OK", "text/plain", out->data, out->len);
}

static void publish_parsed(struct http_call *c, const struct metainfo *mi)
{
	struct tracker *tr = c->w->tr;
	char esc[128];

	if (!access_permits(tr->access, mi->info_hash))
		return http_fail(c, 403, "Forbidden", "torrent not allowed on this tracker");
	if (!publish_allowed(c, mi))
		return http_fail(c, 403, "Forbidden", "publishing needs the " TOKEN_HEADER
		                 " header, or seed the torrent through this tracker first");
	switch (catalog_add(tr->catalog, mi)) {
	case CATALOG_ADDED:
		stats_inc(c->w->stats, STAT_PUBLISH);
		log_info("published \"%s\"", log_escape(esc, sizeof esc, mi->name, strlen(mi->name)));
		return publish_reply(c, mi, "added");
	case CATALOG_EXISTS:
		return publish_reply(c, mi, "exists");
	case CATALOG_IO_ERROR:
		break;
	}
	http_fail(c, 500, "Internal Server Error", "cannot store the torrent");
}

/* POST /catalog with the raw .torrent as the body. */
static void catalog_publish(struct http_call *c)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(c->req);
	size_t len = evbuffer_get_length(body);
	long long max = atomic_load(&c->w->tr->live.max_torrent_size);
	struct metainfo mi;
	struct mi_error err;

	if ((long long)len > max)
		return http_fail(c, 413, "Payload Too Large", "torrent larger than max_torrent_size");
	if (len == 0)
		return http_fail(c, 400, "Bad Request", "empty body: POST the .torrent file");
	const uint8_t *data = evbuffer_pullup(body, -1);
	if (data == NULL || !metainfo_parse(data, len, &mi, &err))
		return http_fail(c, 400, "Bad Request", data ? err.msg : "cannot read the body");
	publish_parsed(c, &mi);
	metainfo_free(&mi);
}

void http_catalog(struct http_call *c)
{
	if (strcmp(c->path, "/catalog") != 0) {
		if (http_method_ok(c, EVHTTP_REQ_GET))
			catalog_get(c);
	} else if (evhttp_request_get_command(c->req) == EVHTTP_REQ_POST) {
		catalog_publish(c);
	} else if (http_method_ok(c, EVHTTP_REQ_GET)) {
		catalog_list(c);
	}
}
