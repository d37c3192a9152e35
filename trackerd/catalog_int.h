/* Inside the catalog: what catalog_db.c (storage, writes) and
 * catalog_list.c (listings and search) share. */
#ifndef TRACKERD_CATALOG_INT_H
#define TRACKERD_CATALOG_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "catalog.h"

/* The statements a listing can need: the sort key (name, size, added), the
 * order, the filter (none, name, hash prefix, words) and a cursor or not. */
#define LIST_VARIANTS (3 * 2 * 4 * 2)

/* What memory keeps per entry id: seen == 0 marks a free id. */
struct cat_slot {
	uint8_t info_hash[20];
	uint32_t seen;   /* Unix time it was last known seeded (or published) */
};

struct cat_reader {
	sqlite3 *db;
	sqlite3_stmt *fetch;        /* body by info-hash */
	sqlite3_stmt *row;          /* name, size, added by id */
	sqlite3_stmt *id_of_hash;
	sqlite3_stmt *words;        /* ids whose name matches an FTS5 query */
	sqlite3_stmt *list[LIST_VARIANTS];
};

/* One seeded entry, for sort=seeders. */
struct cat_seeded {
	uint64_t id;
	uint32_t seeders;
	uint32_t leechers;
};

struct catalog {
	char *dir;
	pthread_mutex_t wlock;      /* the writer connection and its statements */
	sqlite3 *wdb;
	sqlite3_stmt *w_find, *w_insert, *w_body, *w_renew, *w_delete, *w_touch;
	struct cat_reader *readers;
	unsigned n_readers;
	pthread_rwlock_t slots_lock;
	struct cat_slot *slots;     /* by id */
	uint64_t n_slots;
	atomic_uint_fast64_t count;
	atomic_uint expire;         /* seconds; 0: never */
	pthread_mutex_t seeded_lock; /* the cache below */
	struct cat_seeded *seeded;  /* seeded entries, most seeders first */
	size_t n_seeded;
	int64_t seeded_at;          /* when built (Unix time); 0: never */
	unsigned tick_next;         /* catalog_tick's next shard (main thread) */
};

/* The oldest "seen" a listed entry may have. */
uint32_t catalog_cutoff(struct catalog *cat, int64_t now);
/* Prepares sql on db; NULL after logging. */
sqlite3_stmt *catalog_prepare(sqlite3 *db, const char *sql);
void catalog_db_error(sqlite3 *db, const char *what);
/* catalog_legacy.c: imports STATE_DIR/catalog/<hex>.torrent files (then
 * deletes them) and deletes the temporary files of interrupted writes.
 * False only when the directory cannot be read. */
bool catalog_import_legacy(struct catalog *cat);

#endif
