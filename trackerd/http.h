/* Shared pieces of the HTTP front end (http.c routes, http_catalog.c
 * serves the catalog). Worker thread only. */
#ifndef TRACKERD_HTTP_H
#define TRACKERD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "server.h"
#include "stats.h"
#include "swarm.h"

struct evhttp_request;

struct http_call {
	struct worker *w;
	struct evhttp_request *req;
	const char *path;      /* NUL-terminated, query stripped */
	const char *query;     /* raw query after '?', "" when none */
	size_t query_len;
	enum stat_family fam;  /* of the client */
	enum stat_hist kind;   /* where the request's time is counted */
};

void http_reply(struct http_call *c, int code, const char *reason, const char *type,
                const void *data, size_t len);
/* Replies with a bencoded "failure reason" body and counts an error. */
void http_fail(struct http_call *c, int code, const char *reason, const char *msg);
/* The client's address (the connection's source). */
bool http_peer_addr(struct http_call *c, struct swarm_addr *out);
/* True if the query holds format=json. */
bool http_wants_json(const struct http_call *c);
/* False (after replying 405) unless the method is allowed (GET admits HEAD). */
bool http_method_ok(struct http_call *c, int allowed);

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
void web_catalog_page(struct http_call *c, const struct catalog_query *q,
                      const struct catalog_page *page, struct sta_buf *out);
void web_stats_page(struct stats *st, const struct stats_view *v, struct sta_buf *out);

#endif
