/* The routes: /announce, /scrape, /stats, /metrics, / and the catalog
 * (http_catalog.c). http_conn.c frames the requests and the replies. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "http.h"
#include "log.h"
#include "server.h"
#include "stats.h"

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

bool http_method_ok(struct http_call *c, enum http_method allowed)
{
	if (c->method == allowed || (allowed == HTTP_METHOD_GET && c->method == HTTP_METHOD_HEAD))
		return true;
	http_fail(c, 405, "Method Not Allowed", "method not allowed here");
	return false;
}

void http_route(struct http_call *c)
{
	const char *p = c->path;

	if (strcmp(p, "/announce") == 0) {
		if (http_method_ok(c, HTTP_METHOD_GET))
			http_announce(c);
	} else if (strcmp(p, "/scrape") == 0) {
		if (http_method_ok(c, HTTP_METHOD_GET))
			http_scrape(c);
	} else if (strcmp(p, "/stats") == 0) {
		if (http_method_ok(c, HTTP_METHOD_GET))
			http_stats(c);
	} else if (strcmp(p, "/catalog") == 0 || strncmp(p, "/catalog/", 9) == 0) {
		http_catalog(c);
	} else if (strcmp(p, "/") == 0) {
		if (http_method_ok(c, HTTP_METHOD_GET))
			http_index(c);
	} else if (strcmp(p, "/metrics") == 0 && !c->w->tr->metrics_apart) {
		if (http_method_ok(c, HTTP_METHOD_GET))
			http_metrics(c);
	} else {
		http_fail(c, 404, "Not Found", "no such endpoint");
	}
}

void http_metrics_route(struct http_call *c)
{
	if (strcmp(c->path, "/metrics") != 0)
		http_fail(c, 404, "Not Found", "only /metrics is served here");
	else if (http_method_ok(c, HTTP_METHOD_GET))
		http_metrics(c);
}

/* The separate /metrics listener (metrics_listen), on worker 0. */
static bool metrics_init(struct worker *w)
{
	if (w->metrics_fd < 0)
		return true;
	int fd = w->metrics_fd;
	w->metrics_fd = -1;
	if (!http_server_listen(w->http, fd, http_metrics_route)) {
		log_err("cannot accept on the metrics socket");
		return false;
	}
	return true;
}

bool http_worker_init(struct worker *w)
{
	w->http = http_server_new(w);
	if (w->http == NULL || !metrics_init(w))
		return false;
	http_worker_reload(w);
	for (size_t i = 0; i < w->n_http; i++) {
		int fd = w->http_fds[i];
		w->http_fds[i] = -1; /* the server owns it now */
		if (!http_server_listen(w->http, fd, http_route)) {
			log_err("cannot accept on HTTP socket %d", fd);
			return false;
		}
	}
	return true;
}

void http_worker_reload(struct worker *w)
{
	long long one = atomic_load(&w->tr->live.max_torrent_size);
	long long batch = atomic_load(&w->tr->live.max_batch_size);

	/* Each endpoint checks its own limit; the server's is the larger. */
	http_server_set_max_body(w->http, (size_t)(one > batch ? one : batch));
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
	http_server_free(w->http);
	w->http = NULL;
}
