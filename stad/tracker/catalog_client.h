/* Asynchronous calls to a tracker's file catalog (served by trackerd beside
 * /announce): list it, fetch one .torrent, publish one.
 *
 * The catalog's base is derived from a tracker announce URL by dropping the
 * last path component: "http://host:port/announce" -> "http://host:port",
 * so the list is GET http://host:port/catalog. Only http:// trackers serve
 * a catalog.
 *
 * Loop thread only; nothing blocks. Each call returns a handle that may be
 * cancelled (the callback then never runs); otherwise the callback runs
 * exactly once, later, from the loop, and the handle is gone after it.
 * Errors are sentences for a user, e.g. "cannot reach tracker
 * 127.0.0.1:6969: Connection refused" or "tracker refused: HTTP 403:
 * publishing needs the X-STA-Token header, ...".
 */
#ifndef STAD_CATALOG_CLIENT_H
#define STAD_CATALOG_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog_proto.h"
#include "metainfo.h"

struct event_base;
struct evdns_base;
struct sockaddr;

#define CATALOG_MAX_LIST (8u << 20)     /* bytes of a listing reply */
#define CATALOG_MAX_TORRENT (8u << 20)  /* bytes of one fetched .torrent */
#define CATALOG_TIMEOUT_S 15

struct catalog_client_call;

/* l: one page, valid during the callback only; NULL with error set on
 * failure. An empty page is l->n == 0 with error NULL. */
typedef void (*catalog_list_cb)(void *arg, const struct catalog_listing *l, const char *error);
/* mi: the fetched torrent, parsed and checked to have the requested
 * info-hash; the callback owns it (metainfo_free) and mi->raw holds the
 * exact bytes. NULL with error set on failure. */
typedef void (*catalog_fetch_cb)(void *arg, struct metainfo *mi, const char *error);
/* status: the tracker's word, "added" or "exists", on success; NULL with
 * error set on failure. */
typedef void (*catalog_publish_cb)(void *arg, const char *status, const char *error);

/* Each returns NULL, after calling nothing, only when announce_url cannot
 * serve a catalog; then err (errsz bytes) says why. dns may be NULL for
 * numeric hosts only (see http_client.h). */
/* GET /catalog?<q>: a page of the listing, a name lookup or a search. */
struct catalog_client_call *catalog_client_list(struct event_base *base,
                                                struct evdns_base *dns,
                                                const char *announce_url,
                                                const struct catalog_query *q,
                                                catalog_list_cb cb, void *arg, char *err,
                                                size_t errsz);
struct catalog_client_call *catalog_client_fetch(struct event_base *base,
                                                 struct evdns_base *dns,
                                                 const char *announce_url,
                                                 const uint8_t info_hash[20],
                                                 catalog_fetch_cb cb, void *arg, char *err,
                                                 size_t errsz);
/* torrent (len bytes) is copied; token is sent as X-STA-Token when non-NULL.
 * bind_addr (NULL = any) is the source address, as for announces: without a
 * token the tracker lets a seeder it knows by that address publish. */
struct catalog_client_call *catalog_client_publish(struct event_base *base,
                                                   struct evdns_base *dns,
                                                   const struct sockaddr *bind_addr,
                                                   const char *announce_url,
                                                   const uint8_t *torrent, size_t len,
                                                   const char *token, catalog_publish_cb cb,
                                                   void *arg, char *err, size_t errsz);
void catalog_client_cancel(struct catalog_client_call *c);

/* "http://h:p/announce" -> "http://h:p" + suffix, as a heap string; NULL
 * with err for a non-http URL. */
char *catalog_client_url(const char *announce_url, const char *suffix, char *err, size_t errsz);

#endif
