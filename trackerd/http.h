/* The HTTP side of a worker: http_conn.c serves connections (framing,
 * keep-alive, replies), http.c routes requests, http_catalog.c serves the
 * catalog. Worker thread only. */
#ifndef TRACKERD_HTTP_H
#define TRACKERD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "http_req.h"
#include "server.h"
#include "stats.h"
#include "swarm.h"

struct hconn;
struct http_server;

/* One request being served. path, query and the header values are
 * NUL-terminated in place in the connection's buffer. */
struct http_call {
	struct worker *w;
	struct hconn *conn;
	enum http_method method;
	const char *path;
	const char *query;     /* raw query after '?', "" when none */
	size_t query_len;
	const uint8_t *body;   /* POST: the whole body, decoded; NULL when none */
	size_t body_len;
	enum stat_family fam;  /* of the client */
	enum stat_hist kind;   /* where the request's time is counted */
	bool replied;
};

typedef void (*http_route_fn)(struct http_call *c);

/* http_conn.c: the server of one worker, on its event base. */
struct http_server *http_server_new(struct worker *w);
/* Serves the listening socket fd (owned from now, even on failure). */
bool http_server_listen(struct http_server *hs, int fd, http_route_fn route);
/* Bodies over max are refused with 413 before they are read. */
void http_server_set_max_body(struct http_server *hs, size_t max);
void http_server_free(struct http_server *hs);

/* Queues the reply (the body is left out for HEAD). */
void http_reply(struct http_call *c, int code, const char *reason, const char *type,
                const void *data, size_t len);
/* Replies with a bencoded "failure reason" body and counts an error. */
void http_fail(struct http_call *c, int code, const char *reason, const char *msg);
/* The value of a request header field (case-insensitive name), or NULL. */
const char *http_header(const struct http_call *c, const char *name);
/* The client's address (the connection's source). */
bool http_peer_addr(const struct http_call *c, struct swarm_addr *out);
/* True if the query holds format=json. */
bool http_wants_json(const struct http_call *c);
/* False (after replying 405) unless the method is allowed (GET admits HEAD). */
bool http_method_ok(struct http_call *c, enum http_method allowed);

/* http.c: the routes of the main listeners and of metrics_listen. */
void http_route(struct http_call *c);
void http_metrics_route(struct http_call *c);

/* http_catalog.c: GET /catalog, GET and DELETE /catalog/<hex>.torrent,
 * POST /catalog and /catalog/batch. */
void http_catalog(struct http_call *c);
void http_catalog_batch(struct http_call *c);

/* metrics.c: the Prometheus text view of the counters (GET /metrics). */
void metrics_render(struct tracker *tr, struct sta_buf *out);

/* web.c: the pages for people. */
struct catalog_query;
struct catalog_page;
struct stats;
struct stats_view;
void web_index_page(struct http_call *c, struct sta_buf *out);
/* "http://HOST/announce" from the request's Host header, which is how the
 * client reached us; false when it has none (or a strange one). */
bool web_announce_url(struct http_call *c, char *out, size_t outsz);
void web_catalog_page(struct http_call *c, const struct catalog_query *q,
                      const struct catalog_page *page, struct sta_buf *out);
void web_stats_page(struct stats *st, const struct stats_view *v, struct sta_buf *out);

#endif
