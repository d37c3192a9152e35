/* HTTP front end: one evhttp per worker on the worker's own listening
 * sockets. Routes /announce, /scrape, /stats and /catalog. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "http.h"
#include "log.h"
#include "server.h"
#include "stats.h"

#define HTTP_MAX_HEADERS 8192
#define HTTP_IDLE_TIMEOUT 60

void http_reply(struct http_call *c, int code, const char *reason, const char *type,
                const void *data, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);

	evhttp_add_header(h, "Content-Type", type);
	evbuffer_add(evhttp_request_get_output_buffer(c->req), data, len);
	evhttp_send_reply(c->req, code, reason, NULL);
}

/* The body of a failure: bencoded, so BitTorrent clients show the reason. */
void http_fail(struct http_call *c, int code, const char *reason, const char *msg)
{
	struct sta_buf *out = &c->w->out;

	stats_inc_family(c->w->stats, STAT_HTTP_ERRORS, c->fam);
	buf_clear(out);
	tracker_build_failure(out, msg);
	http_reply(c, code, reason, "text/plain", out->data, out->len);
}

bool http_peer_addr(struct http_call *c, struct swarm_addr *out)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(c->req);
	const struct sockaddr *sa = conn ? evhttp_connection_get_addr(conn) : NULL;

	return sa && tracker_addr_from_sockaddr(sa, out);
}

static void http_announce(struct http_call *c)
{
	struct worker *w = c->w;
	struct announce_req req;
	struct announce_resp resp;
	struct tracker_error err;
	struct swarm_addr peer;
	const char *fail;

	stats_inc_family(w->stats, STAT_HTTP_ANNOUNCE, c->fam);
	c->kind = HIST_HTTP_ANNOUNCE;
	if (!tracker_parse_announce_query(c->query, c->query_len, &req, &err))
		return http_fail(c, 200, "OK", err.msg);
	if (!http_peer_addr(c, &peer))
		return http_fail(c, 200, "OK", "cannot tell your address");
	fail = tracker_announce(w->tr, &req, &peer, 0, w->peers, &resp);
	if (fail)
		return http_fail(c, 200, "OK", fail);
	buf_clear(&w->out);
	tracker_build_announce_reply(&w->out, &resp, req.compact, req.no_peer_id);
	http_reply(c, 200, "OK", "text/plain", w->out.data, w->out.len);
}

static void http_scrape(struct http_call *c)
{
	struct worker *w = c->w;
	struct scrape_req req;
	struct scrape_entry e[TRACKER_SCRAPE_MAX];
	struct tracker_error err;
	const char *fail;

	stats_inc_family(w->stats, STAT_HTTP_SCRAPE, c->fam);
	c->kind = HIST_HTTP_SCRAPE;
	if (!tracker_parse_scrape_query(c->query, c->query_len, &req, &err))
		return http_fail(c, 200, "OK", err.msg);
	fail = tracker_scrape(w->tr, &req, e);
	if (fail)
		return http_fail(c, 200, "OK", fail);
	buf_clear(&w->out);
	tracker_build_scrape_reply(&w->out, e, req.n);
	http_reply(c, 200, "OK", "text/plain", w->out.data, w->out.len);
}

bool http_wants_json(const struct http_call *c)
{
	const char *q = c->query, *end = c->query + c->query_len;

	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		size_t n = amp ? (size_t)(amp - q) : (size_t)(end - q);
		if (n == 11 && memcmp(q, "format=json", 11) == 0)
			return true;
		q += n + (amp != NULL);
	}
	return false;
}

static void http_stats(struct http_call *c)
{
	struct worker *w = c->w;
	struct swarm_totals tot;
	struct stats_view v;

	swarm_totals(w->tr->swarms, &tot);
	v.swarms = tot.swarms;
	v.seeders = tot.seeders;
	v.leechers = tot.leechers;
	v.catalog_entries = catalog_count(w->tr->catalog);
	v.threads = w->tr->n_workers;
	buf_clear(&w->out);
	if (http_wants_json(c)) {
		stats_render_json(w->tr->stats, &v, &w->out);
		http_reply(c, 200, "OK", "application/json", w->out.data, w->out.len);
	} else {
		web_stats_page(w->tr->stats, &v, &w->out);
		http_reply(c, 200, "OK", "text/html; charset=utf-8", w->out.data, w->out.len);
	}
}

static void http_metrics(struct http_call *c)
{
	buf_clear(&c->w->out);
	metrics_render(c->w->tr, &c->w->out);
	http_reply(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", c->w->out.data,
	           c->w->out.len);
}

static void http_index(struct http_call *c)
{
	buf_clear(&c->w->out);
	web_index_page(c, &c->w->out);
	http_reply(c, 200, "OK", "text/html; charset=utf-8", c->w->out.data, c->w->out.len);
}

bool http_method_ok(struct http_call *c, int allowed)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(c->req);

	if ((int)m == allowed || (allowed == EVHTTP_REQ_GET && m == EVHTTP_REQ_HEAD))
		return true;
	http_fail(c, 405, "Method Not Allowed", "method not allowed here");
	return false;
}

static void http_route(struct http_call *c)
{
	const char *p = c->path;

	if (strcmp(p, "/announce") == 0) {
		if (http_method_ok(c, EVHTTP_REQ_GET))
			http_announce(c);
	} else if (strcmp(p, "/scrape") == 0) {
		if (http_method_ok(c, EVHTTP_REQ_GET))
			http_scrape(c);
	} else if (strcmp(p, "/stats") == 0) {
		if (http_method_ok(c, EVHTTP_REQ_GET))
			http_stats(c);
	} else if (strcmp(p, "/catalog") == 0 || strncmp(p, "/catalog/", 9) == 0) {
		http_catalog(c);
	} else if (strcmp(p, "/") == 0) {
		if (http_method_ok(c, EVHTTP_REQ_GET))
			http_index(c);
	} else if (strcmp(p, "/metrics") == 0 && !c->w->tr->metrics_apart) {
		if (http_method_ok(c, EVHTTP_REQ_GET))
			http_metrics(c);
	} else {
		http_fail(c, 404, "Not Found", "no such endpoint");
	}
}

static enum stat_family client_family(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	const struct sockaddr *sa = conn ? evhttp_connection_get_addr(conn) : NULL;

	return sa && sa->sa_family == AF_INET6 ? STAT_V6 : STAT_V4;
}

/* Splits the URI, routes it and counts the time it took. */
static void http_serve(struct evhttp_request *req, struct worker *w,
                       void (*route)(struct http_call *))
{
	uint64_t t0 = stats_now_ns();
	const char *uri = evhttp_request_get_uri(req);
	const char *q = strchr(uri, '?');
	size_t plen = q ? (size_t)(q - uri) : strlen(uri);
	char path[256];
	struct http_call c = { w, req, path, q ? q + 1 : "", q ? strlen(q + 1) : 0,
	                       client_family(req), HIST_HTTP_OTHER };

	if (plen >= sizeof path) {
		http_fail(&c, 404, "Not Found", "no such endpoint");
	} else {
		memcpy(path, uri, plen);
		path[plen] = '\0';
		route(&c);
	}
	stats_observe(w->stats, c.kind, stats_now_ns() - t0);
}

static void http_dispatch(struct evhttp_request *req, void *arg)
{
	http_serve(req, arg, http_route);
}

static void metrics_route(struct http_call *c)
{
	if (strcmp(c->path, "/metrics") != 0)
		http_fail(c, 404, "Not Found", "only /metrics is served here");
	else if (http_method_ok(c, EVHTTP_REQ_GET))
		http_metrics(c);
}

static void metrics_dispatch(struct evhttp_request *req, void *arg)
{
	http_serve(req, arg, metrics_route);
}

/* Every byte read from and written to an HTTP connection is counted. */
static void count_in(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct worker *w = arg;

	stats_add(w->stats, STAT_HTTP_BYTES_IN, info->n_added);
}

static void count_out(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct worker *w = arg;

	stats_add(w->stats, STAT_HTTP_BYTES_OUT, info->n_deleted);
}

static struct bufferevent *counted_bev(struct event_base *base, void *arg)
{
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);

	if (bev) {
		evbuffer_add_cb(bufferevent_get_input(bev), count_in, arg);
		evbuffer_add_cb(bufferevent_get_output(bev), count_out, arg);
	}
	return bev;
}

static struct evhttp *http_new(struct worker *w, void (*cb)(struct evhttp_request *, void *))
{
	struct evhttp *h = evhttp_new(w->base);

	if (h == NULL)
		return NULL;
	evhttp_set_max_headers_size(h, HTTP_MAX_HEADERS);
	evhttp_set_timeout(h, HTTP_IDLE_TIMEOUT);
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	                                  EVHTTP_REQ_DELETE);
	evhttp_set_gencb(h, cb, w);
	evhttp_set_bevcb(h, counted_bev, w);
	return h;
}

/* The separate /metrics listener (metrics_listen), on worker 0. */
static bool metrics_init(struct worker *w)
{
	if (w->metrics_fd < 0)
		return true;
	w->metrics_http = http_new(w, metrics_dispatch);
	if (w->metrics_http == NULL ||
	    evhttp_accept_socket_with_handle(w->metrics_http, w->metrics_fd) == NULL) {
		log_err("cannot accept on the metrics socket");
		return false;
	}
	w->metrics_fd = -1;
	return true;
}

bool http_worker_init(struct worker *w)
{
	w->http = http_new(w, http_dispatch);
	if (w->http == NULL || !metrics_init(w))
		return false;
	http_worker_reload(w);
	for (size_t i = 0; i < w->n_http; i++) {
		if (evhttp_accept_socket_with_handle(w->http, w->http_fds[i]) == NULL) {
			log_err("cannot accept on HTTP socket %d", w->http_fds[i]);
			return false;
		}
		w->http_fds[i] = -1; /* evhttp closes it now */
	}
	return true;
}

void http_worker_reload(struct worker *w)
{
	long long one = atomic_load(&w->tr->live.max_torrent_size);
	long long batch = atomic_load(&w->tr->live.max_batch_size);

	/* Each endpoint checks its own limit; evhttp's is the larger. */
	evhttp_set_max_body_size(w->http, (ev_ssize_t)(one > batch ? one : batch));
}

void http_worker_free(struct worker *w)
{
	for (size_t i = 0; w->http_fds && i < w->n_http; i++)
		if (w->http_fds[i] >= 0)
			close(w->http_fds[i]);
	free(w->http_fds);
	w->http_fds = NULL;
	if (w->metrics_fd >= 0)
		close(w->metrics_fd);
	w->metrics_fd = -1;
	if (w->metrics_http)
		evhttp_free(w->metrics_http);
	w->metrics_http = NULL;
	if (w->http)
		evhttp_free(w->http);
	w->http = NULL;
}
