/* The catalog's storage: the database, its schema, publish, withdraw,
 * fetch, the expiry bookkeeping, and the import of an older trackerd's
 * one-file-per-torrent catalog. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "catalog_int.h"
#include "fileio.h"
#include "log.h"
#include "xmalloc.h"

#define DB_FILE "catalog.db"
#define BUSY_TIMEOUT_MS 10000
#define READER_CACHE "PRAGMA cache_size = -16384" /* KiB */

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS entries("
	" id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, name TEXT NOT NULL,"
	" size INTEGER NOT NULL, added INTEGER NOT NULL, seen INTEGER NOT NULL,"
	" publisher BLOB);"
	"CREATE TABLE IF NOT EXISTS bodies(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS entries_name ON entries(name);"
	"CREATE INDEX IF NOT EXISTS entries_size ON entries(size);"
	"CREATE INDEX IF NOT EXISTS entries_added ON entries(added);";

/* Version 1: the words of the names live in memory (catalog_index.c), so
 * the FTS5 table that held them before goes, with its triggers. */
static const char to_version_1[] =
	"BEGIN IMMEDIATE;"
	"DROP TRIGGER IF EXISTS entries_ai;"
	"DROP TRIGGER IF EXISTS entries_ad;"
	"DROP TABLE IF EXISTS words;"
	"CREATE TRIGGER entries_ad AFTER DELETE ON entries BEGIN"
	" DELETE FROM bodies WHERE id = old.id; END;"
	"PRAGMA user_version = 1;"
	"COMMIT;";

void catalog_db_error(sqlite3 *db, const char *what)
{
	log_err("catalog database: %s: %s", what, sqlite3_errmsg(db));
}

sqlite3_stmt *catalog_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		catalog_db_error(db, sql);
		return NULL;
	}
	return st;
}

static bool exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return true;
	log_err("catalog database: %s: %s", sql, msg ? msg : "failed");
	sqlite3_free(msg);
	return false;
}

uint32_t catalog_cutoff(struct catalog *cat, int64_t now)
{
	uint32_t exp = atomic_load(&cat->expire);

	return exp && now > exp ? (uint32_t)(now - exp) : 0;
}

void catalog_set_expiry(struct catalog *cat, uint32_t seconds)
{
	atomic_store(&cat->expire, seconds);
}

uint64_t catalog_count(struct catalog *cat)
{
	return atomic_load(&cat->count);
}

static sqlite3 *db_open(const char *path, int flags)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_err("cannot open the catalog database %s: %s", path,
		        db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 1);
	return db;
}

/* ---- the index ---- */

static int64_t user_version(sqlite3 *db)
{
	sqlite3_stmt *st = catalog_prepare(db, "PRAGMA user_version");
	int64_t v = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static bool migrate(sqlite3 *db)
{
	int64_t v = user_version(db);

	if (v < 0)
		return false;
	if (v >= 1)
		return true;
	log_info("catalog database: dropping the word index of an earlier version (words are "
	         "kept in memory now)");
	if (exec(db, to_version_1))
		return true;
	exec(db, "ROLLBACK");
	return false;
}

/* One row of the entries table as the index keeps it; false for a row
 * that cannot be (a damaged hash or name, an id past the index's range). */
static bool row_entry(sqlite3_stmt *st, int col, uint64_t id, struct cat_entry *e)
{
	const void *h = sqlite3_column_blob(st, col);

	e->name = (const char *)sqlite3_column_text(st, col + 1);
	if (h == NULL || sqlite3_column_bytes(st, col) != 20 || e->name == NULL ||
	    id >= CAT_ID_MAX)
		return false;
	memcpy(e->info_hash, h, 20);
	e->name_len = (uint32_t)sqlite3_column_bytes(st, col + 1);
	e->size = (uint64_t)sqlite3_column_int64(st, col + 2);
	e->added = sqlite3_column_int64(st, col + 3);
	e->seen = (uint32_t)sqlite3_column_int64(st, col + 4);
	return true;
}

static bool load_index(struct catalog *cat)
{
	sqlite3_stmt *st = catalog_prepare(cat->wdb, "SELECT id, hash, name, size, added, seen"
	                                   " FROM entries");
	struct cat_tokens words;
	uint64_t n = 0;
	int rc;

	if (st == NULL)
		return false;
	cat_index_bulk(cat->index, true);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t id = (uint64_t)sqlite3_column_int64(st, 0);
		struct cat_entry e;
		if (!row_entry(st, 1, id, &e))
			continue;
		cat_tokenize(&cat->w_tok, e.name, e.name_len, &words);
		cat_index_add(cat->index, (uint32_t)id, &e, &words);
		n++;
	}
	cat_index_bulk(cat->index, false);
	sqlite3_finalize(st);
	atomic_store(&cat->count, n);
	if (rc != SQLITE_DONE)
		catalog_db_error(cat->wdb, "loading the entries");
	return rc == SQLITE_DONE;
}

/* ---- opening ---- */

static bool prepare_writer(struct catalog *cat)
{
	sqlite3 *db = cat->wdb;

	cat->w_find = catalog_prepare(db, "SELECT id, publisher FROM entries WHERE hash = ?1");
	cat->w_insert = catalog_prepare(db, "INSERT INTO entries(hash, name, size, added, seen,"
	                                " publisher) VALUES (?1, ?2, ?3, ?4, ?4, ?5)");
	cat->w_body = catalog_prepare(db, "INSERT INTO bodies(id, data) VALUES (?1, ?2)");
	cat->w_renew = catalog_prepare(db, "UPDATE entries SET seen = ?2 WHERE id = ?1");
	cat->w_delete = catalog_prepare(db, "DELETE FROM entries WHERE id = ?1");
	cat->w_touch = catalog_prepare(db, "UPDATE entries SET seen = ?2 WHERE hash = ?1 AND"
	                               " seen < ?3 RETURNING id");
	return cat->w_find && cat->w_insert && cat->w_body && cat->w_renew && cat->w_delete &&
	       cat->w_touch;
}

static bool open_reader(struct cat_reader *r, const char *path)
{
	r->db = db_open(path, SQLITE_OPEN_READWRITE);
	if (r->db == NULL || !exec(r->db, READER_CACHE) || !cat_tokenizer_open(&r->tok, r->db))
		return false;
	r->fetch = catalog_prepare(r->db, "SELECT b.data FROM entries e JOIN bodies b ON"
	                           " b.id = e.id WHERE e.hash = ?1");
	r->id_of_hash = catalog_prepare(r->db, "SELECT id, seen FROM entries WHERE hash = ?1");
	return r->fetch && r->id_of_hash;
}

static void close_reader(struct cat_reader *r)
{
	sqlite3_finalize(r->fetch);
	sqlite3_finalize(r->id_of_hash);
	for (size_t i = 0; i < LIST_VARIANTS; i++)
		sqlite3_finalize(r->list[i]);
	cat_tokenizer_close(&r->tok);
	cat_scratch_free(&r->scratch);
	sqlite3_close(r->db);
}

static bool open_db(struct catalog *cat, unsigned n_readers)
{
	char *path = xasprintf("%s/%s", cat->dir, DB_FILE);
	bool ok;

	cat->wdb = db_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	ok = cat->wdb && exec(cat->wdb, "PRAGMA journal_mode = WAL") &&
	     exec(cat->wdb, "PRAGMA synchronous = FULL") && exec(cat->wdb, schema) &&
	     migrate(cat->wdb) && prepare_writer(cat) && cat_tokenizer_open(&cat->w_tok, cat->wdb) &&
	     load_index(cat);
	cat->readers = xcalloc(n_readers ? n_readers : 1, sizeof *cat->readers);
	cat->n_readers = n_readers;
	for (unsigned i = 0; ok && i < n_readers; i++)
		ok = open_reader(&cat->readers[i], path);
	free(path);
	return ok;
}

struct catalog *catalog_open(const char *dir, unsigned n_readers)
{
	struct catalog *cat = xcalloc(1, sizeof *cat);

	pthread_rwlockattr_t attr;
	uint8_t key[16];

	pthread_mutex_init(&cat->wlock, NULL);
	pthread_mutex_init(&cat->seeded_lock, NULL);
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&cat->index_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key)
		memset(key, 0, sizeof key);     /* only hash-flooding resistance is lost */
	cat->index = cat_index_new(key);
	atomic_init(&cat->count, 0);
	atomic_init(&cat->expire, 0);
	cat->dir = xstrdup(dir);
	if (!file_mkdirs(dir, 0755, SIZE_MAX, NULL)) {
		log_err("cannot create catalog directory %s: %s", dir, strerror(errno));
		catalog_free(cat);
		return NULL;
	}
	if (!open_db(cat, n_readers) || !catalog_import_legacy(cat)) {
		catalog_free(cat);
		return NULL;
	}
	log_info("catalog %s: %llu torrents", dir, (unsigned long long)catalog_count(cat));
	return cat;
}

void catalog_free(struct catalog *cat)
{
	if (cat == NULL)
		return;
	for (unsigned i = 0; i < cat->n_readers; i++)
		close_reader(&cat->readers[i]);
	sqlite3_stmt *st[] = { cat->w_find, cat->w_insert, cat->w_body, cat->w_renew,
	                       cat->w_delete, cat->w_touch };
	for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
		sqlite3_finalize(st[i]);
	cat_tokenizer_close(&cat->w_tok);
	sqlite3_close(cat->wdb);
	free(cat->readers);
	cat_index_free(cat->index);
	free(cat->seeded);
	free(cat->dir);
	pthread_mutex_destroy(&cat->wlock);
	pthread_mutex_destroy(&cat->seeded_lock);
	pthread_rwlock_destroy(&cat->index_lock);
	free(cat);
}

/* ---- writes ---- */

struct added {
	uint64_t id;
	const struct metainfo *mi;
};

/* Inserts or renews one torrent; caller holds wlock inside a transaction. */
static enum catalog_add_result add_one(struct catalog *cat, const struct metainfo *mi,
                                       const struct swarm_addr *pub, int64_t now,
                                       struct added *got)
{
	sqlite3_stmt *f = cat->w_find, *ins = cat->w_insert, *body = cat->w_body;
	size_t alen = pub ? (pub->family == AF_INET6 ? 16 : 4) : 0;
	int rc;

	sqlite3_bind_blob(f, 1, mi->info_hash, 20, SQLITE_STATIC);
	rc = sqlite3_step(f);
	if (rc == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(f, 0);
		sqlite3_reset(f);
		sqlite3_bind_int64(cat->w_renew, 1, id);
		sqlite3_bind_int64(cat->w_renew, 2, now);
		rc = sqlite3_step(cat->w_renew);
		sqlite3_reset(cat->w_renew);
		got->id = (uint64_t)id;
		return rc == SQLITE_DONE ? CATALOG_EXISTS : CATALOG_IO_ERROR;
	}
	sqlite3_reset(f);
	sqlite3_bind_blob(ins, 1, mi->info_hash, 20, SQLITE_STATIC);
	sqlite3_bind_text(ins, 2, mi->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 3, (int64_t)mi->total_length);
	sqlite3_bind_int64(ins, 4, now);
	if (pub)
		sqlite3_bind_blob(ins, 5, pub->addr, (int)alen, SQLITE_STATIC);
	else
		sqlite3_bind_null(ins, 5);
	rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	if (rc != SQLITE_DONE)
		return CATALOG_IO_ERROR;
	got->id = (uint64_t)sqlite3_last_insert_rowid(cat->wdb);
	if (got->id >= CAT_ID_MAX)
		return CATALOG_IO_ERROR;    /* the index keeps 32-bit ids */
	sqlite3_bind_int64(body, 1, (int64_t)got->id);
	sqlite3_bind_blob(body, 2, mi->raw, (int)mi->raw_len, SQLITE_STATIC);
	rc = sqlite3_step(body);
	sqlite3_reset(body);
	return rc == SQLITE_DONE ? CATALOG_ADDED : CATALOG_IO_ERROR;
}

/* After the commit: the new entries into the index, the renewed ones
 * seen now. Called with wlock held (its tokenizer is the writer's). */
static void index_store(struct catalog *cat, const struct added *a,
                        const enum catalog_add_result *res, size_t n, int64_t now)
{
	struct cat_tokens *words = xcalloc(n ? n : 1, sizeof *words);

	for (size_t i = 0; i < n; i++)
		if (res[i] == CATALOG_ADDED)
			cat_tokenize(&cat->w_tok, a[i].mi->name, strlen(a[i].mi->name), &words[i]);
	pthread_rwlock_wrlock(&cat->index_lock);
	for (size_t i = 0; i < n; i++) {
		const struct metainfo *mi = a[i].mi;
		struct cat_entry e = { .seen = (uint32_t)now, .size = mi->total_length, .added = now,
		                       .name = mi->name, .name_len = (uint32_t)strlen(mi->name) };
		memcpy(e.info_hash, mi->info_hash, 20);
		if (cat->hashed_for)
			e.swarm_hash = swarm_hash(cat->hashed_for, e.info_hash); /* not shared yet */
		if (res[i] == CATALOG_ADDED)
			cat_index_add(cat->index, (uint32_t)a[i].id, &e, &words[i]);
		else
			cat_index_touch(cat->index, (uint32_t)a[i].id, (uint32_t)now);
	}
	pthread_rwlock_unlock(&cat->index_lock);
	free(words);
}

/* Runs the adds in one transaction; false (nothing kept) when any failed. */
static bool add_all(struct catalog *cat, const struct metainfo *const *mis, size_t n,
                    const struct swarm_addr *pub, int64_t now, enum catalog_add_result *res,
                    struct added *got)
{
	if (!exec(cat->wdb, "BEGIN IMMEDIATE"))
		return false;
	for (size_t i = 0; i < n; i++) {
		got[i].mi = mis[i];
		res[i] = add_one(cat, mis[i], pub, now, &got[i]);
		if (res[i] == CATALOG_IO_ERROR) {
			catalog_db_error(cat->wdb, "publish");
			exec(cat->wdb, "ROLLBACK");
			return false;
		}
	}
	if (exec(cat->wdb, "COMMIT"))
		return true;
	exec(cat->wdb, "ROLLBACK");
	return false;
}

void catalog_add(struct catalog *cat, const struct metainfo *const *mis, size_t n,
                 const struct swarm_addr *publisher, enum catalog_add_result *results)
{
	struct added *got = xcalloc(n ? n : 1, sizeof *got);
	int64_t now = (int64_t)time(NULL);
	size_t added = 0;

	pthread_mutex_lock(&cat->wlock);
	bool ok = add_all(cat, mis, n, publisher, now, results, got);
	if (ok)
		index_store(cat, got, results, n, now);
	pthread_mutex_unlock(&cat->wlock);
	for (size_t i = 0; i < n; i++) {
		if (!ok)
			results[i] = CATALOG_IO_ERROR;
		else if (results[i] == CATALOG_ADDED)
			added++;
	}
	if (ok)
		atomic_fetch_add(&cat->count, added);
	free(got);
}

static bool publisher_is(sqlite3_stmt *find, const struct swarm_addr *who)
{
	const void *p = sqlite3_column_blob(find, 1);
	int len = sqlite3_column_bytes(find, 1);

	return p && len == (who->family == AF_INET6 ? 16 : 4) && memcmp(p, who->addr, len) == 0;
}

static enum catalog_withdraw_result withdraw_locked(struct catalog *cat, const uint8_t *hash,
                                                    const struct swarm_addr *who, int64_t *id)
{
	sqlite3_stmt *f = cat->w_find;
	int rc;

	sqlite3_bind_blob(f, 1, hash, 20, SQLITE_STATIC);
	rc = sqlite3_step(f);
	bool allowed = rc == SQLITE_ROW && (who == NULL || publisher_is(f, who));
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(f, 0) : 0;
	sqlite3_reset(f);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? CATALOG_UNKNOWN : CATALOG_WITHDRAW_ERROR;
	if (!allowed)
		return CATALOG_NOT_PUBLISHER;
	sqlite3_bind_int64(cat->w_delete, 1, *id);
	rc = sqlite3_step(cat->w_delete);
	sqlite3_reset(cat->w_delete);
	if (rc != SQLITE_DONE) {
		catalog_db_error(cat->wdb, "withdraw");
		return CATALOG_WITHDRAW_ERROR;
	}
	return CATALOG_WITHDRAWN;
}

/* Takes a withdrawn entry out of the index; wlock held. */
static void index_drop(struct catalog *cat, uint32_t id)
{
	struct cat_tokens words;
	char name[CATALOG_NAME_MAX + 1];
	size_t len = 0;

	pthread_rwlock_rdlock(&cat->index_lock);
	const struct cat_entry *e = cat_index_get(cat->index, id);
	if (e) {
		len = e->name_len < sizeof name ? e->name_len : sizeof name - 1;
		memcpy(name, e->name, len);
	}
	pthread_rwlock_unlock(&cat->index_lock);
	cat_tokenize(&cat->w_tok, name, len, &words);
	pthread_rwlock_wrlock(&cat->index_lock);
	cat_index_remove(cat->index, id, &words);
	pthread_rwlock_unlock(&cat->index_lock);
}

enum catalog_withdraw_result catalog_withdraw(struct catalog *cat, const uint8_t info_hash[20],
                                              const struct swarm_addr *requester)
{
	enum catalog_withdraw_result r;
	int64_t id = 0;

	pthread_mutex_lock(&cat->wlock);
	r = withdraw_locked(cat, info_hash, requester, &id);
	if (r == CATALOG_WITHDRAWN)
		index_drop(cat, (uint32_t)id);
	pthread_mutex_unlock(&cat->wlock);
	if (r == CATALOG_WITHDRAWN)
		atomic_fetch_sub(&cat->count, 1);
	return r;
}

bool catalog_fetch(struct catalog *cat, unsigned reader, const uint8_t info_hash[20],
                   struct sta_buf *out)
{
	sqlite3_stmt *st = cat->readers[reader].fetch;
	bool found;

	sqlite3_bind_blob(st, 1, info_hash, 20, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		buf_append(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_reset(st);
	return found;
}

/* ---- expiry bookkeeping ---- */

/* Renews "seen" of the entries among hashes, at most once per period. */
static void touch_locked(struct catalog *cat, const struct swarm_seeded *v, size_t n,
                         int64_t now, uint32_t period)
{
	sqlite3_stmt *t = cat->w_touch;

	if (!exec(cat->wdb, "BEGIN IMMEDIATE"))
		return;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_blob(t, 1, v[i].info_hash, 20, SQLITE_STATIC);
		sqlite3_bind_int64(t, 2, now);
		sqlite3_bind_int64(t, 3, now - period);
		while (sqlite3_step(t) == SQLITE_ROW) {
			uint64_t id = (uint64_t)sqlite3_column_int64(t, 0);
			pthread_rwlock_wrlock(&cat->index_lock);
			if (id < CAT_ID_MAX)
				cat_index_touch(cat->index, (uint32_t)id, (uint32_t)now);
			pthread_rwlock_unlock(&cat->index_lock);
		}
		sqlite3_reset(t);
	}
	if (!exec(cat->wdb, "COMMIT"))
		exec(cat->wdb, "ROLLBACK");
}

#define TICK_CYCLE_MAX 600

#define HASH_SLICE 65536      /* entries hashed a tick: a few ms on the main thread */

/* Gives the entries their hash in the swarm table, which a search needs for
 * each of its candidates, a slice a tick: the pass over a million entries
 * at once would take the worker's core for a tenth of a second. */
static void hash_entries(struct catalog *cat, struct swarm_table *swarms)
{
	if (cat->hashed_for == NULL) {      /* only the main thread writes it */
		pthread_rwlock_wrlock(&cat->index_lock);
		cat->hashed_for = swarms;
		pthread_rwlock_unlock(&cat->index_lock);
	}
	pthread_rwlock_rdlock(&cat->index_lock);
	uint32_t top = cat_index_top(cat->index), end = cat->hash_next + HASH_SLICE;
	for (; cat->hash_next < top && cat->hash_next < end; cat->hash_next++) {
		struct cat_entry *e = cat_index_get_mut(cat->index, cat->hash_next);
		if (e && __atomic_load_n(&e->swarm_hash, __ATOMIC_RELAXED) == 0)
			__atomic_store_n(&e->swarm_hash, swarm_hash(swarms, e->info_hash),
			                 __ATOMIC_RELAXED);
	}
	pthread_rwlock_unlock(&cat->index_lock);
}

void catalog_tick(struct catalog *cat, struct swarm_table *swarms)
{
	uint32_t exp = atomic_load(&cat->expire);
	uint32_t cycle = exp / 20 < 1 ? 1 : exp / 20 > TICK_CYCLE_MAX ? TICK_CYCLE_MAX : exp / 20;
	unsigned slice = (SWARM_SHARDS + cycle - 1) / cycle;
	struct swarm_seeded *v = NULL;
	size_t len = 0, cap = 0;

	hash_entries(cat, swarms);
	if (exp == 0)
		return;
	swarm_seeded(swarms, cat->tick_next, slice, &v, &len, &cap);
	cat->tick_next = (cat->tick_next + slice) % SWARM_SHARDS;
	if (len) {
		pthread_mutex_lock(&cat->wlock);
		/* A tenth of the expiry time is precision enough, and spares writes. */
		touch_locked(cat, v, len, (int64_t)time(NULL), exp / 10);
		pthread_mutex_unlock(&cat->wlock);
	}
	free(v);
}
