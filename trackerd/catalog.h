/* The file catalog: published .torrent files, looked up by name, searched
 * by words, listed in pages and fetched by info-hash.
 *
 * An SQLite database (STATE_DIR/catalog/catalog.db, WAL journal) holds the
 * entries and their .torrent bodies; a publish is acknowledged only after
 * its transaction is durable, and a transaction either commits whole or not
 * at all. Memory holds the index (catalog_index.h): each entry's listing
 * fields and name, the names by hash for exact lookups, and the names'
 * words in posting lists for search, rebuilt from the database at start-up
 * and updated after each commit. The .torrent bodies stay on disk.
 *
 * Threads: one writer connection behind a mutex (publish, withdraw, expiry
 * bookkeeping); each HTTP worker reads through a connection of its own
 * (reader index = worker index), and the index is behind a read-write lock
 * that writers take only to apply a committed change. */
#ifndef TRACKERD_CATALOG_H
#define TRACKERD_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "catalog_proto.h"
#include "metainfo.h"
#include "swarm.h"

/* Search ranks at most this many matches (whole-word matches first). */
#define CATALOG_SEARCH_CANDIDATES 1000

struct catalog;

/* Opens (creating them if missing) dir and its database, imports .torrent
 * files an older trackerd stored one per file, and deletes the temporary
 * files an interrupted publish of such a trackerd left. n_readers: one per
 * worker thread. NULL after logging when anything fails. */
struct catalog *catalog_open(const char *dir, unsigned n_readers);
void catalog_free(struct catalog *cat);
/* Entries, withdrawn ones not counted, expired ones counted. */
uint64_t catalog_count(struct catalog *cat);
/* Seconds without a seeder after which an entry leaves listings; 0: never. */
void catalog_set_expiry(struct catalog *cat, uint32_t seconds);

enum catalog_add_result {
	CATALOG_ADDED,
	CATALOG_EXISTS,   /* same info-hash already published: its seeded time renewed */
	CATALOG_IO_ERROR, /* could not persist; logged */
};
/* Publishes n parsed torrents (mi->raw is stored as is) in one transaction:
 * results[i] says what became of mis[i]. publisher: the address that may
 * withdraw them later, NULL for a token holder's publish. */
void catalog_add(struct catalog *cat, const struct metainfo *const *mis, size_t n,
                 const struct swarm_addr *publisher, enum catalog_add_result *results);

enum catalog_withdraw_result {
	CATALOG_WITHDRAWN,
	CATALOG_UNKNOWN,        /* no such entry */
	CATALOG_NOT_PUBLISHER,  /* requester is not the address that published it */
	CATALOG_WITHDRAW_ERROR, /* could not persist; logged */
};
/* Deletes an entry; requester NULL means a token holder (always allowed). */
enum catalog_withdraw_result catalog_withdraw(struct catalog *cat, const uint8_t info_hash[20],
                                              const struct swarm_addr *requester);

/* Appends the stored .torrent for info_hash to out (expired entries too);
 * false when unknown. reader: the calling worker's index. */
bool catalog_fetch(struct catalog *cat, unsigned reader, const uint8_t info_hash[20],
                   struct sta_buf *out);

/* One page of a listing, lookup or search. */
struct catalog_page {
	struct catalog_entry *v;
	size_t n;
	char next[CATALOG_CURSOR_MAX + 1]; /* "" on the last page */
};
/* Runs q (its format is the caller's business) with live seeder and
 * leecher counts from swarms. False with a sentence in err on a search
 * that holds no word, or on a database error (logged). */
bool catalog_query(struct catalog *cat, unsigned reader, struct swarm_table *swarms,
                   const struct catalog_query *q, struct catalog_page *page, char *err,
                   size_t errsz);
void catalog_page_free(struct catalog_page *page);

/* Expiry bookkeeping, once a second from the main thread: marks the
 * entries of swarms that have a seeder as seeded now, a slice of the
 * swarm table at a time (a whole pass takes a twentieth of the expiry
 * time, at least a second and at most ten minutes). */
void catalog_tick(struct catalog *cat, struct swarm_table *swarms);

#endif
