/* Listings, exact lookups and searches over the catalog database, one page
 * at a time. Keyset pagination: a cursor holds the last entry's sort key
 * and id, and the next page starts after it, so a page costs the same at
 * the start of a million entries as at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "hex.h"
#include "log.h"
#include "xmalloc.h"

#define SEEDED_TTL 5        /* seconds a sort=seeders ranking is reused */
#define FTS_QUERY_MAX (4 * CATALOG_WORDS_MAX + 16)

static const char *const key_cols[] = { "name", "size", "added" };

/* A page being filled: entries and their ids. */
struct fill {
	struct catalog_page *page;
	uint64_t *ids;
	int64_t *keys;
	size_t want;            /* limit + 1: one more tells that a next page exists */
};

static void fill_init(struct fill *f, struct catalog_page *page, uint32_t limit)
{
	memset(page, 0, sizeof *page);
	f->page = page;
	f->want = (size_t)limit + 1;
	page->v = xcalloc(f->want, sizeof *page->v);
	f->ids = xcalloc(f->want, sizeof *f->ids);
	f->keys = xcalloc(f->want, sizeof *f->keys);
}

static bool fill_full(const struct fill *f)
{
	return f->page->n == f->want;
}

/* Adds the row (hash, name, size, added) at column col of st. */
static void fill_row(struct fill *f, sqlite3_stmt *st, int col, uint64_t id, int64_t key,
                     struct swarm_table *swarms)
{
	struct catalog_entry *e = &f->page->v[f->page->n];
	const void *h = sqlite3_column_blob(st, col);
	const char *name = (const char *)sqlite3_column_text(st, col + 1);
	struct swarm_counts c;

	if (h == NULL || sqlite3_column_bytes(st, col) != 20 || name == NULL)
		return;
	memcpy(e->info_hash, h, 20);
	e->name = xstrdup(name);
	e->size = (uint64_t)sqlite3_column_int64(st, col + 2);
	e->added = sqlite3_column_int64(st, col + 3);
	swarm_scrape(swarms, e->info_hash, &c);
	e->seeders = c.seeders;
	e->leechers = c.leechers;
	f->ids[f->page->n] = id;
	f->keys[f->page->n++] = key;
}

/* Drops the extra entry and sets "next" from the last one kept. */
static void fill_finish(struct fill *f, const struct catalog_query *q)
{
	struct catalog_page *p = f->page;

	if (p->n == f->want) {
		free(p->v[--p->n].name);
		struct catalog_cursor c = { q->sort, q->desc, f->keys[p->n - 1], f->ids[p->n - 1], 0,
		                            "" };
		if (q->sort == CATALOG_SORT_NAME) {
			c.name_len = strlen(p->v[p->n - 1].name);
			memcpy(c.name, p->v[p->n - 1].name, c.name_len + 1);
		}
		catalog_cursor_encode(&c, p->next);
	}
	free(f->ids);
	free(f->keys);
}

void catalog_page_free(struct catalog_page *page)
{
	for (size_t i = 0; page->v && i < page->n; i++)
		free(page->v[i].name);
	free(page->v);
	page->v = NULL;
	page->n = 0;
}

/* ---- FTS5 queries from user words ---- */

/* Each whitespace-separated word as a quoted phrase ('"' doubled), with a
 * '*' to match it as a prefix. False when there is no word. */
static bool fts_query(const char *words, bool prefix, char *out, size_t outsz)
{
	size_t o = 0, n = 0;

	for (const char *p = words; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		out[o++] = '"';
		for (; *p && *p != ' ' && *p != '\t' && o + 6 < outsz; p++) {
			if (*p == '"')
				out[o++] = '"';
			out[o++] = *p;
		}
		out[o++] = '"';
		if (prefix)
			out[o++] = '*';
		out[o++] = ' ';
		n++;
	}
	out[o ? o - 1 : 0] = '\0';
	return n > 0;
}

/* ---- listings by name, size or added time ---- */

static unsigned filter_of(const struct catalog_query *q)
{
	return q->name[0] ? 1 : q->hash_prefix[0] ? 2 : q->words[0] ? 3 : 0;
}

#define STR_(x) #x
#define STR(x) STR_(x)

static char *list_sql(unsigned key, bool desc, unsigned filter, bool cursor)
{
	static const char *const filters[] = {
		"", " AND name = ?2", " AND hash >= ?2 AND hash <= ?3",
		" AND id IN (SELECT rowid FROM words WHERE words MATCH ?2 LIMIT "
		STR(CATALOG_SEARCH_CANDIDATES) ")",
	};
	const char *k = key_cols[key], *d = desc ? " DESC" : "";
	struct sta_buf b = STA_BUF_INIT;
	size_t len;

	buf_printf(&b, "SELECT id, hash, name, size, added FROM entries WHERE seen >= ?1%s",
	           filters[filter]);
	if (cursor)
		buf_printf(&b, " AND (%s, id) %c (?4, ?5)", k, desc ? '<' : '>');
	buf_printf(&b, " ORDER BY %s%s, id%s LIMIT ?6", k, d, d);
	buf_append_byte(&b, '\0');
	return (char *)buf_steal(&b, &len);
}

static sqlite3_stmt *list_stmt(struct cat_reader *r, const struct catalog_query *q)
{
	unsigned key = q->sort == CATALOG_SORT_ADDED ? 2 : q->sort == CATALOG_SORT_SIZE ? 1 : 0;
	unsigned filter = filter_of(q);
	unsigned i = ((key * 2 + q->desc) * 4 + filter) * 2 + q->has_after;

	if (r->list[i] == NULL) {
		char *sql = list_sql(key, q->desc, filter, q->has_after);
		r->list[i] = catalog_prepare(r->db, sql);
		free(sql);
	}
	return r->list[i];
}

/* The hash range of a hex prefix: padded with 0s and with fs. */
static void bind_hash_range(sqlite3_stmt *st, const char *prefix)
{
	char lo[41], hi[41];
	uint8_t blo[20], bhi[20];
	size_t n = strlen(prefix);

	memset(lo, '0', 40);
	memset(hi, 'f', 40);
	memcpy(lo, prefix, n);
	memcpy(hi, prefix, n);
	hex_decode(lo, 40, blo, 20);
	hex_decode(hi, 40, bhi, 20);
	sqlite3_bind_blob(st, 2, blo, 20, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, bhi, 20, SQLITE_TRANSIENT);
}

static void bind_filter(sqlite3_stmt *st, const struct catalog_query *q, const char *fts)
{
	if (q->name[0])
		sqlite3_bind_text(st, 2, q->name, -1, SQLITE_STATIC);
	else if (q->hash_prefix[0])
		bind_hash_range(st, q->hash_prefix);
	else if (q->words[0])
		sqlite3_bind_text(st, 2, fts, -1, SQLITE_STATIC);
}

static bool list_sorted(struct catalog *cat, struct cat_reader *r, struct swarm_table *swarms,
                        const struct catalog_query *q, struct fill *f, const char *fts)
{
	sqlite3_stmt *st = list_stmt(r, q);
	int rc;

	if (st == NULL)
		return false;
	sqlite3_bind_int64(st, 1, catalog_cutoff(cat, (int64_t)time(NULL)));
	bind_filter(st, q, fts);
	if (q->has_after && q->sort == CATALOG_SORT_NAME)
		sqlite3_bind_text(st, 4, q->after.name, (int)q->after.name_len, SQLITE_STATIC);
	else if (q->has_after)
		sqlite3_bind_int64(st, 4, q->after.key);
	sqlite3_bind_int64(st, 5, (int64_t)q->after.id);
	sqlite3_bind_int64(st, 6, (int64_t)f->want);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t key = q->sort == CATALOG_SORT_NAME ? 0 : sqlite3_column_int64(st,
		              q->sort == CATALOG_SORT_SIZE ? 3 : 4);
		fill_row(f, st, 1, (uint64_t)sqlite3_column_int64(st, 0), key, swarms);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		catalog_db_error(r->db, "listing");
	return rc == SQLITE_DONE;
}

/* ---- ranked candidates: search results and sort=seeders ---- */

struct cand {
	uint64_t id;
	int64_t key;
	uint32_t seeders;
};

static int cand_cmp_asc(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int cand_cmp_desc(const void *a, const void *b)
{
	return cand_cmp_asc(b, a);
}

/* Is (key, id) past the cursor in the query's direction? */
static bool after_cursor(const struct catalog_query *q, int64_t key, uint64_t id)
{
	struct cand c = { id, key, 0 }, at = { q->after.id, q->after.key, 0 };

	return !q->has_after || (q->desc ? cand_cmp_desc(&c, &at) : cand_cmp_asc(&c, &at)) > 0;
}

/* Fills the page from sorted candidates, reading each row by id. */
static bool fill_cands(struct cat_reader *r, struct swarm_table *swarms,
                       const struct catalog_query *q, const struct cand *v, size_t n,
                       struct fill *f)
{
	for (size_t i = 0; i < n && !fill_full(f); i++) {
		if (!after_cursor(q, v[i].key, v[i].id))
			continue;
		sqlite3_bind_int64(r->row, 1, (int64_t)v[i].id);
		int rc = sqlite3_step(r->row);
		if (rc == SQLITE_ROW)
			fill_row(f, r->row, 0, v[i].id, v[i].key, swarms);
		sqlite3_reset(r->row);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			catalog_db_error(r->db, "reading an entry");
			return false;
		}
	}
	return true;
}

/* Appends the ids matching an FTS5 query (ascending), at most max. */
static bool match_ids(struct cat_reader *r, const char *fts, size_t max, uint64_t **ids,
                      size_t *n)
{
	int rc;

	*ids = xcalloc(max ? max : 1, sizeof **ids);
	*n = 0;
	sqlite3_bind_text(r->words, 1, fts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(r->words, 2, (int64_t)max);
	while ((rc = sqlite3_step(r->words)) == SQLITE_ROW && *n < max)
		(*ids)[(*n)++] = (uint64_t)sqlite3_column_int64(r->words, 0);
	sqlite3_reset(r->words);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		catalog_db_error(r->db, "search");
	return rc == SQLITE_DONE || rc == SQLITE_ROW;
}

static bool has_id(const uint64_t *v, size_t n, uint64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] == id)
			return true;
		if (v[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Scores one candidate id; false when it is gone or expired. */
static bool score(struct catalog *cat, struct swarm_table *swarms, uint64_t id, int tier,
                  uint32_t cutoff, bool rank, struct cand *c)
{
	uint8_t hash[20];
	struct swarm_counts sc;
	bool live;

	pthread_rwlock_rdlock(&cat->slots_lock);
	live = id < cat->n_slots && cat->slots[id].seen && cat->slots[id].seen >= cutoff;
	if (live)
		memcpy(hash, cat->slots[id].info_hash, 20);
	pthread_rwlock_unlock(&cat->slots_lock);
	if (!live)
		return false;
	swarm_scrape(swarms, hash, &sc);
	c->id = id;
	c->seeders = sc.seeders;
	c->key = rank ? ((int64_t)tier << 32 | sc.seeders) : (int64_t)sc.seeders;
	return true;
}

/* Whole-word matches (tier 1) first, then prefix-only ones (tier 0), up to
 * CATALOG_SEARCH_CANDIDATES, ranked by tier and seeders (or by seeders). */
static bool search_ranked(struct catalog *cat, struct cat_reader *r, struct swarm_table *swarms,
                          const struct catalog_query *q, struct fill *f, const char *prefix_fts)
{
	char whole[FTS_QUERY_MAX];
	uint64_t *w = NULL, *p = NULL;
	size_t nw = 0, np = 0, n = 0;
	uint32_t cutoff = catalog_cutoff(cat, (int64_t)time(NULL));
	bool ok = fts_query(q->words, false, whole, sizeof whole) &&
	          match_ids(r, whole, CATALOG_SEARCH_CANDIDATES, &w, &nw) &&
	          match_ids(r, prefix_fts, CATALOG_SEARCH_CANDIDATES, &p, &np);
	struct cand *c = xcalloc(nw + np + 1, sizeof *c);
	bool rank = q->sort == CATALOG_SORT_RANK;

	for (size_t i = 0; ok && i < nw; i++)
		n += score(cat, swarms, w[i], 1, cutoff, rank, &c[n]);
	for (size_t i = 0; ok && i < np && n < CATALOG_SEARCH_CANDIDATES; i++)
		if (!has_id(w, nw, p[i]))
			n += score(cat, swarms, p[i], 0, cutoff, rank, &c[n]);
	qsort(c, n, sizeof *c, q->desc ? cand_cmp_desc : cand_cmp_asc);
	ok = ok && fill_cands(r, swarms, q, c, n, f);
	free(c);
	free(w);
	free(p);
	return ok;
}

/* ---- sort=seeders over the whole catalog ---- */

static int seeded_cmp(const void *a, const void *b)
{
	const struct cat_seeded *x = a, *y = b;

	if (x->seeders != y->seeders)
		return x->seeders > y->seeders ? -1 : 1;
	return x->id > y->id ? -1 : x->id < y->id;
}

/* The seeded entries, from the swarm table; caller holds seeded_lock. */
static void seeded_build(struct catalog *cat, struct cat_reader *r, struct swarm_table *swarms,
                         int64_t now)
{
	struct swarm_seeded *v = NULL;
	size_t len = 0, cap = 0, n = 0;
	uint32_t cutoff = catalog_cutoff(cat, now);

	swarm_seeded(swarms, 0, SWARM_SHARDS, &v, &len, &cap);
	cat->seeded = xreallocarray(cat->seeded, len + 1, sizeof *cat->seeded);
	for (size_t i = 0; i < len; i++) {
		sqlite3_bind_blob(r->id_of_hash, 1, v[i].info_hash, 20, SQLITE_STATIC);
		if (sqlite3_step(r->id_of_hash) == SQLITE_ROW &&
		    sqlite3_column_int64(r->id_of_hash, 1) >= cutoff)
			cat->seeded[n++] = (struct cat_seeded){
				(uint64_t)sqlite3_column_int64(r->id_of_hash, 0), v[i].seeders,
				v[i].leechers };
		sqlite3_reset(r->id_of_hash);
	}
	qsort(cat->seeded, n, sizeof *cat->seeded, seeded_cmp);
	cat->n_seeded = n;
	cat->seeded_at = now;
	free(v);
}

/* Entries without a seeder, by id, after the cursor's id. */
static bool fill_unseeded(struct catalog *cat, struct cat_reader *r, struct swarm_table *swarms,
                          const struct catalog_query *q, struct fill *f)
{
	uint64_t id = q->has_after && q->after.key == 0 ? q->after.id : q->desc ? UINT64_MAX : 0;
	uint32_t cutoff = catalog_cutoff(cat, (int64_t)time(NULL));

	while (!fill_full(f)) {
		struct cand c;
		pthread_rwlock_rdlock(&cat->slots_lock);
		uint64_t top = cat->n_slots;
		pthread_rwlock_unlock(&cat->slots_lock);
		if (q->desc ? id == 0 : id + 1 >= top)
			break;
		id = q->desc ? (id > top ? top : id) - 1 : id + 1;
		if (score(cat, swarms, id, 0, cutoff, false, &c) && c.seeders == 0 &&
		    !fill_cands(r, swarms, q, &c, 1, f))
			return false;
	}
	return true;
}

static bool list_by_seeders(struct catalog *cat, struct cat_reader *r,
                            struct swarm_table *swarms, const struct catalog_query *q,
                            struct fill *f)
{
	int64_t now = (int64_t)time(NULL);
	bool ok = true, zero_first = !q->desc, zero_cursor = q->has_after && q->after.key == 0;

	if (zero_first && (!q->has_after || zero_cursor))
		ok = fill_unseeded(cat, r, swarms, q, f);
	pthread_mutex_lock(&cat->seeded_lock);
	if (now - cat->seeded_at >= SEEDED_TTL)
		seeded_build(cat, r, swarms, now);
	struct cand *c = xcalloc(cat->n_seeded + 1, sizeof *c);
	for (size_t i = 0; i < cat->n_seeded; i++)
		c[i] = (struct cand){ cat->seeded[i].id, cat->seeded[i].seeders, 0 };
	size_t n = cat->n_seeded;
	pthread_mutex_unlock(&cat->seeded_lock);
	qsort(c, n, sizeof *c, q->desc ? cand_cmp_desc : cand_cmp_asc);
	if (ok && (!zero_cursor || zero_first))
		ok = fill_cands(r, swarms, q, c, n, f);
	free(c);
	if (ok && !zero_first)
		ok = fill_unseeded(cat, r, swarms, q, f);
	return ok;
}

bool catalog_query(struct catalog *cat, unsigned reader, struct swarm_table *swarms,
                   const struct catalog_query *q, struct catalog_page *page, char *err,
                   size_t errsz)
{
	struct cat_reader *r = &cat->readers[reader];
	char fts[FTS_QUERY_MAX] = "";
	struct fill f;
	bool ok;

	fill_init(&f, page, q->limit);
	if (q->words[0] && !fts_query(q->words, true, fts, sizeof fts)) {
		snprintf(err, errsz, "the search holds no word");
		ok = false;
	} else if (q->words[0] && (q->sort == CATALOG_SORT_RANK ||
	                           q->sort == CATALOG_SORT_SEEDERS)) {
		ok = search_ranked(cat, r, swarms, q, &f, fts);
	} else if (q->sort == CATALOG_SORT_SEEDERS) {
		ok = list_by_seeders(cat, r, swarms, q, &f);
	} else {
		ok = list_sorted(cat, r, swarms, q, &f, fts);
	}
	if (!ok && err[0] == '\0')
		snprintf(err, errsz, "the catalog database failed; see the tracker's log");
	fill_finish(&f, q);
	if (!ok)
		catalog_page_free(page);
	return ok;
}
