/* Inside the catalog: what catalog_db.c (storage, writes) and
 * catalog_list.c (listings and search) share. */
#ifndef TRACKERD_CATALOG_INT_H
#define TRACKERD_CATALOG_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "catalog.h"
#include "catalog_index.h"

/* The statements a listing from the database can need: the sort key (name,
 * size, added), the order, the filter (none or a hash prefix) and a cursor
 * or not. Lookups by name and searches are served from the index. */
#define LIST_VARIANTS (3 * 2 * 2 * 2)

/* An FTS5 tokenizer instance: one per thread (it keeps a buffer). */
struct cat_tokenizer {
	fts5_tokenizer api;
	Fts5Tokenizer *tok;
};

bool cat_tokenizer_open(struct cat_tokenizer *t, sqlite3 *db);
void cat_tokenizer_close(struct cat_tokenizer *t);
/* The words of s[0..len), as the index keeps them. */
void cat_tokenize(struct cat_tokenizer *t, const char *s, size_t len, struct cat_tokens *out);

/* What one worker thread reads with. */
struct cat_reader {
	sqlite3 *db;
	sqlite3_stmt *fetch;        /* body by info-hash */
	sqlite3_stmt *id_of_hash;
	sqlite3_stmt *list[LIST_VARIANTS];
	struct cat_tokenizer tok;
	struct cat_scratch scratch;
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
	struct cat_tokenizer w_tok;
	struct cat_reader *readers;
	unsigned n_readers;
	pthread_rwlock_t index_lock; /* writers prefer: publishes do not starve */
	struct cat_index *index;
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
