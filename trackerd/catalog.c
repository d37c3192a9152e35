#include "catalog.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bencode.h"
#include "fileio.h"
#include "hex.h"
#include "json.h"
#include "log.h"
#include "swarm.h"
#include "xmalloc.h"

#define HASH_LEN 20
#define HEX_LEN 40
#define SUFFIX ".torrent"
/* Files larger than this are not torrents we could have accepted. */
#define CATALOG_FILE_MAX ((size_t)256 << 20)

struct cat_entry {
	uint8_t info_hash[HASH_LEN];
	char *name;
	uint64_t size;
	int64_t added;   /* unix seconds */
	uint8_t *data;   /* the .torrent as published */
	size_t len;
};

struct catalog {
	pthread_rwlock_t lock;
	char *dir;
	struct cat_entry **v; /* sorted by info_hash */
	size_t n;
	size_t cap;
};

static void entry_free(struct cat_entry *e)
{
	free(e->name);
	free(e->data);
	free(e);
}

static struct cat_entry *entry_new(const struct metainfo *mi, int64_t added)
{
	struct cat_entry *e = xcalloc(1, sizeof *e);

	memcpy(e->info_hash, mi->info_hash, HASH_LEN);
	e->name = xstrdup(mi->name);
	e->size = mi->total_length;
	e->added = added;
	e->len = mi->raw_len;
	e->data = xmalloc(mi->raw_len ? mi->raw_len : 1);
	memcpy(e->data, mi->raw, mi->raw_len);
	return e;
}

/* Position of info_hash in the sorted array (or where it would go). */
static size_t catalog_pos(const struct catalog *cat, const uint8_t *info_hash, bool *found)
{
	size_t lo = 0, hi = cat->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(cat->v[mid]->info_hash, info_hash, HASH_LEN);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Inserts e unless its hash is present; caller holds the write lock. */
static bool catalog_insert(struct catalog *cat, struct cat_entry *e)
{
	bool found;
	size_t pos = catalog_pos(cat, e->info_hash, &found);

	if (found)
		return false;
	if (cat->n == cat->cap) {
		cat->cap = cat->cap ? cat->cap * 2 : 16;
		cat->v = xreallocarray(cat->v, cat->cap, sizeof *cat->v);
	}
	memmove(cat->v + pos + 1, cat->v + pos, (cat->n - pos) * sizeof *cat->v);
	cat->v[pos] = e;
	cat->n++;
	return true;
}

/* "<40 hex>.torrent" → the hash; false for any other name. */
static bool file_name_hash(const char *name, uint8_t *hash)
{
	return strlen(name) == HEX_LEN + strlen(SUFFIX) &&
	       strcmp(name + HEX_LEN, SUFFIX) == 0 && hex_decode(name, HEX_LEN, hash, HASH_LEN);
}

/* Loads one stored file; logs and returns false if it is not a valid
 * torrent whose info-hash matches its name. */
static bool catalog_load_file(struct catalog *cat, const char *name, const uint8_t *want)
{
	char *path = xasprintf("%s/%s", cat->dir, name);
	struct metainfo mi;
	struct mi_error err;
	struct stat st;
	size_t len;
	uint8_t *data = file_read_all(path, CATALOG_FILE_MAX, &len);
	bool ok = false;

	if (data == NULL || stat(path, &st) < 0) {
		log_warn("skipping %s: %s", path, strerror(errno));
		goto out;
	}
	if (!metainfo_parse(data, len, &mi, &err)) {
		log_warn("skipping %s: not a valid torrent: %s", path, err.msg);
		goto out;
	}
	if (memcmp(mi.info_hash, want, HASH_LEN) != 0) {
		log_warn("skipping %s: its info-hash does not match the file name", path);
	} else {
		struct cat_entry *e = entry_new(&mi, (int64_t)st.st_mtime);
		ok = catalog_insert(cat, e);
		if (!ok)
			entry_free(e);
	}
	metainfo_free(&mi);
out:
	free(data);
	free(path);
	return ok;
}

static bool catalog_scan(struct catalog *cat)
{
	DIR *d = opendir(cat->dir);
	struct dirent *de;
	size_t skipped = 0;

	if (d == NULL) {
		log_err("cannot read catalog directory %s: %s", cat->dir, strerror(errno));
		return false;
	}
	while ((de = readdir(d)) != NULL) {
		uint8_t hash[HASH_LEN];
		if (de->d_name[0] == '.')
			continue; /* ".", "..", and temporaries of an interrupted write */
		if (!file_name_hash(de->d_name, hash)) {
			log_warn("skipping %s/%s: not named <info-hash>.torrent", cat->dir, de->d_name);
			skipped++;
		} else if (!catalog_load_file(cat, de->d_name, hash)) {
			skipped++;
		}
	}
	closedir(d);
	log_info("catalog %s: %zu torrents loaded, %zu files skipped", cat->dir, cat->n, skipped);
	return true;
}

struct catalog *catalog_open(const char *dir)
{
	struct catalog *cat = xcalloc(1, sizeof *cat);

	pthread_rwlock_init(&cat->lock, NULL);
	cat->dir = xstrdup(dir);
	if (!file_mkdirs(dir)) {
		log_err("cannot create catalog directory %s: %s", dir, strerror(errno));
		catalog_free(cat);
		return NULL;
	}
	if (!catalog_scan(cat)) {
		catalog_free(cat);
		return NULL;
	}
	return cat;
}

void catalog_free(struct catalog *cat)
{
	if (cat == NULL)
		return;
	for (size_t i = 0; i < cat->n; i++)
		entry_free(cat->v[i]);
	free(cat->v);
	free(cat->dir);
	pthread_rwlock_destroy(&cat->lock);
	free(cat);
}

size_t catalog_count(struct catalog *cat)
{
	pthread_rwlock_rdlock(&cat->lock);
	size_t n = cat->n;
	pthread_rwlock_unlock(&cat->lock);
	return n;
}

static bool catalog_has(struct catalog *cat, const uint8_t *info_hash)
{
	bool found;

	pthread_rwlock_rdlock(&cat->lock);
	catalog_pos(cat, info_hash, &found);
	pthread_rwlock_unlock(&cat->lock);
	return found;
}

enum catalog_add_result catalog_add(struct catalog *cat, const struct metainfo *mi)
{
	char name[HEX_LEN + sizeof SUFFIX];
	struct stat st;

	if (catalog_has(cat, mi->info_hash))
		return CATALOG_EXISTS;
	/* Written outside the lock: fsync is slow and readers must not wait.
	 * Two racing publishes of one hash write identical bytes. */
	hex_encode(mi->info_hash, HASH_LEN, name);
	memcpy(name + HEX_LEN, SUFFIX, sizeof SUFFIX);
	char *path = xasprintf("%s/%s", cat->dir, name);
	if (!file_write_atomic(path, mi->raw, mi->raw_len, 0644)) {
		log_err("cannot store %s: %s", path, strerror(errno));
		free(path);
		return CATALOG_IO_ERROR;
	}
	int64_t added = stat(path, &st) == 0 ? (int64_t)st.st_mtime : (int64_t)time(NULL);
	free(path);
	struct cat_entry *e = entry_new(mi, added);
	pthread_rwlock_wrlock(&cat->lock);
	bool inserted = catalog_insert(cat, e);
	pthread_rwlock_unlock(&cat->lock);
	if (!inserted) {
		entry_free(e);
		return CATALOG_EXISTS;
	}
	return CATALOG_ADDED;
}

bool catalog_fetch(struct catalog *cat, const uint8_t info_hash[20], struct sta_buf *out)
{
	bool found;

	pthread_rwlock_rdlock(&cat->lock);
	size_t pos = catalog_pos(cat, info_hash, &found);
	if (found)
		buf_append(out, cat->v[pos]->data, cat->v[pos]->len);
	pthread_rwlock_unlock(&cat->lock);
	return found;
}

/* ---- listing ---- */

static int entry_cmp_name(const void *a, const void *b)
{
	const struct cat_entry *x = *(const struct cat_entry *const *)a;
	const struct cat_entry *y = *(const struct cat_entry *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : memcmp(x->info_hash, y->info_hash, HASH_LEN);
}

static void render_bencode(const struct cat_entry *e, const struct swarm_counts *c,
                           const char *hex, struct sta_buf *out)
{
	be_enc_dict_begin(out);
	be_enc_kv_int(out, "added", e->added);
	be_enc_kv_str(out, "info_hash", hex, HEX_LEN);
	be_enc_kv_int(out, "leechers", c->leechers);
	be_enc_kv_cstr(out, "name", e->name);
	be_enc_kv_int(out, "seeders", c->seeders);
	be_enc_kv_int(out, "size", (int64_t)e->size);
	be_enc_end(out);
}

static void render_json(const struct cat_entry *e, const struct swarm_counts *c, const char *hex,
                        struct sta_buf *out)
{
	buf_append_str(out, "{\"name\":");
	json_append_string(out, (const uint8_t *)e->name, strlen(e->name));
	buf_printf(out, ",\"size\":%" PRIu64 ",\"info_hash\":\"%s\",\"seeders\":%" PRIu32
	           ",\"leechers\":%" PRIu32 ",\"added\":%" PRId64 "}",
	           e->size, hex, c->seeders, c->leechers, e->added);
}

void catalog_render(struct catalog *cat, struct swarm_table *swarms, bool json,
                    struct sta_buf *out)
{
	pthread_rwlock_rdlock(&cat->lock);
	struct cat_entry **sorted = xreallocarray(NULL, cat->n + 1, sizeof *sorted);
	if (cat->n) {
		memcpy(sorted, cat->v, cat->n * sizeof *sorted);
		qsort(sorted, cat->n, sizeof *sorted, entry_cmp_name);
	}
	buf_append_str(out, json ? "{\"torrents\":[" : "d8:torrentsl");
	for (size_t i = 0; i < cat->n; i++) {
		struct swarm_counts c;
		char hex[HEX_LEN + 1];
		swarm_scrape(swarms, sorted[i]->info_hash, &c);
		hex_encode(sorted[i]->info_hash, HASH_LEN, hex);
		if (json && i)
			buf_append_byte(out, ',');
		if (json)
			render_json(sorted[i], &c, hex, out);
		else
			render_bencode(sorted[i], &c, hex, out);
	}
	buf_append_str(out, json ? "]}\n" : "ee");
	pthread_rwlock_unlock(&cat->lock);
	free(sorted);
}
