/* Shared pieces of the HTTP front end (http.c routes, http_catalog.c
 * serves the catalog). Worker thread only. */
#ifndef TRACKERD_HTTP_H
#define TRACKERD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "server.h"
#include "swarm.h"

struct evhttp_request;

struct http_call {
	struct worker *w;
	struct evhttp_request *req;
	const char *path;      /* NUL-terminated, query stripped */
	const char *query;     /* raw query after '?', "" when none */
	size_t query_len;
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

/* http_catalog.c: GET /catalog, GET /catalog/<hex>.torrent, POST /catalog. */
void http_catalog(struct http_call *c);

#endif
