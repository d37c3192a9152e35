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

#include "metainfo.h"

struct event_base;
struct evdns_base;
struct sockaddr;

#define CATALOG_MAX_LIST (8u << 20)     /* bytes of a listing reply */
#define CATALOG_MAX_ENTRIES 100000u
#define CATALOG_MAX_TORRENT (8u << 20)  /* bytes of one fetched .torrent */
#define CATALOG_TIMEOUT_S 15

struct catalog_entry {
	char *name;             /* NUL-free, NUL-terminated, as the tracker sent it
	                           (escape with log_escape before printing) */
	uint64_t size;
	uint8_t info_hash[20];
	uint32_t seeders;
	uint32_t leechers;
	int64_t added;          /* Unix time */
};

struct catalog_client_call;

/* entries: n entries valid during the callback only; NULL/0 with error set
 * on failure. An empty catalog is n == 0 with error NULL. */
typedef void (*catalog_list_cb)(void *arg, const struct catalog_entry *entries, size_t n,
                                const char *error);
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
struct catalog_client_call *catalog_client_list(struct event_base *base,
                                                struct evdns_base *dns,
                                                const char *announce_url, catalog_list_cb cb,
                                                void *arg, char *err, size_t errsz);
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

/* Parses a bencoded listing (d8:torrentsl d..e ... ee). Entries missing a
 * field or with a bad info_hash or name are skipped; a malformed document
 * is an error. On success *out (n entries) is the caller's, freed with
 * catalog_client_entries_free. Exposed for tests and fuzzing. */
bool catalog_client_parse_list(const uint8_t *data, size_t len, struct catalog_entry **out,
                               size_t *n, char *err, size_t errsz);
void catalog_client_entries_free(struct catalog_entry *e, size_t n);

/* "http://h:p/announce" -> "http://h:p" + suffix, as a heap string; NULL
 * with err for a non-http URL. */
char *catalog_client_url(const char *announce_url, const char *suffix, char *err, size_t errsz);

#endif
