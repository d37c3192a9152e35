/* Resolves what a user asked to download by name (stactl request NAME) to
 * one catalog entry, with the tracker's exact-name lookup: a name shared by
 * several entries picks the one with the most seeders (then the newest)
 * and says so; a target of 4 to 40 hex digits that names nothing is tried
 * as an info-hash prefix, which must pick exactly one entry.
 *
 * Loop thread only. The callback runs once, later, unless cancelled. */
#ifndef STAD_CATALOG_RESOLVE_H
#define STAD_CATALOG_RESOLVE_H

#include <stddef.h>

#include "catalog_proto.h"

struct event_base;
struct evdns_base;
struct catalog_resolve;

/* On success e is the chosen entry (valid during the callback) and note,
 * when not NULL, a sentence saying which of several was chosen. On failure
 * e is NULL, code is "not_found", "bad_request" or "io", error a sentence. */
typedef void (*catalog_resolve_cb)(void *arg, const struct catalog_entry *e, const char *note,
                                   const char *code, const char *error);

/* NULL, with err, when the tracker URL cannot serve a catalog. */
struct catalog_resolve *catalog_resolve_start(struct event_base *base, struct evdns_base *dns,
                                              const char *announce_url, const char *target,
                                              catalog_resolve_cb cb, void *arg, char *err,
                                              size_t errsz);
void catalog_resolve_cancel(struct catalog_resolve *r);

/* The entry to download among n sharing a name: most seeders, then the
 * most recently added, then the lowest info-hash (so the choice is stable). */
const struct catalog_entry *catalog_pick(const struct catalog_entry *v, size_t n);

#endif
