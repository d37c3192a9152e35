/* Listings, exact lookups and searches over the catalog, one page at a
 * time. Lookups by name and searches are served from the in-memory index
 * (catalog_index.c); plain listings and hash prefixes from the database's
 * indexes. Keyset pagination throughout: a cursor holds the last entry's
 * sort key and id, and the next page starts after it, so a page costs the
 * same at the start of a million entries as at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "hex.h"
#include "log.h"
#include "xmalloc.h"

#define SEEDED_TTL 5        /* seconds a sort=seeders ranking is reused */
#define SEARCH_TERMS_MAX 16 /* words of one search */
#define PREFETCH_AHEAD 16   /* candidates whose entries are being loaded */

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

static void fill_add(struct fill *f, const uint8_t *hash, const char *name, uint64_t size,
                     int64_t added, const struct swarm_counts *c, uint64_t id, int64_t key)
{
	struct catalog_entry *e = &f->page->v[f->page->n];

	memcpy(e->info_hash, hash, 20);
	e->name = xstrdup(name);
	e->size = size;
	e->added = added;
	e->seeders = c->seeders;
	e->leechers = c->leechers;
	f->ids[f->page->n] = id;
	f->keys[f->page->n++] = key;
}

/* Adds the database row (hash, name, size, added) at column col of st. */
static void fill_row(struct fill *f, sqlite3_stmt *st, int col, uint64_t id, int64_t key,
                     struct swarm_table *swarms)
{
	const void *h = sqlite3_column_blob(st, col);
	const char *name = (const char *)sqlite3_column_text(st, col + 1);
	struct swarm_counts c;

	if (h == NULL || sqlite3_column_bytes(st, col) != 20 || name == NULL)
		return;
	swarm_scrape(swarms, h, &c);
	fill_add(f, h, name, (uint64_t)sqlite3_column_int64(st, col + 2),
	         sqlite3_column_int64(st, col + 3), &c, id, key);
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

/* ---- listings from the database: everything, or a hash prefix ---- */

#define STR_(x) #x
#define STR(x) STR_(x)

static char *list_sql(unsigned key, bool desc, bool by_hash, bool cursor)
{
	const char *k = key_cols[key], *d = desc ? " DESC" : "";
	struct sta_buf b = STA_BUF_INIT;
	size_t len;

	buf_printf(&b, "SELECT id, hash, name, size, added FROM entries WHERE seen >= ?1%s",
	           by_hash ? " AND hash >= ?2 AND hash <= ?3" : "");
	if (cursor)
		buf_printf(&b, " AND (%s, id) %c (?4, ?5)", k, desc ? '<' : '>');
	buf_printf(&b, " ORDER BY %s%s, id%s LIMIT ?6", k, d, d);
	buf_append_byte(&b, '\0');
	return (char *)buf_steal(&b, &len);
}

static unsigned sort_key_col(enum catalog_sort s)
{
	return s == CATALOG_SORT_ADDED ? 2 : s == CATALOG_SORT_SIZE ? 1 : 0;
}

static sqlite3_stmt *list_stmt(struct cat_reader *r, const struct catalog_query *q)
{
	unsigned key = sort_key_col(q->sort);
	bool by_hash = q->hash_prefix[0] != '\0';
	unsigned i = ((key * 2 + q->desc) * 2 + by_hash) * 2 + q->has_after;

	if (r->list[i] == NULL) {
		char *sql = list_sql(key, q->desc, by_hash, q->has_after);
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

static bool list_sorted(struct catalog *cat, struct cat_reader *r, struct swarm_table *swarms,
                        const struct catalog_query *q, struct fill *f)
{
	sqlite3_stmt *st = list_stmt(r, q);
	int rc;

	if (st == NULL)
		return false;
	sqlite3_bind_int64(st, 1, catalog_cutoff(cat, (int64_t)time(NULL)));
	if (q->hash_prefix[0])
		bind_hash_range(st, q->hash_prefix);
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

/* ---- pages from the index: lookups by name and searches ---- */

/* A candidate for a page. name points into the index: it is read only
 * while the index lock is held. */
struct cand {
	uint32_t id;
	int64_t key;                /* size, added, the rank or seeders; 0 for sort=name */
	const char *name;
	uint32_t name_len;
	struct swarm_counts counts;
	bool counted;
};

static int by_key(const struct cand *x, const struct cand *y)
{
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Names compare as SQLite's BINARY collation does: bytes, then length. */
static int by_name(const struct cand *x, const struct cand *y)
{
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, n);

	if (c == 0)
		c = (x->name_len > y->name_len) - (x->name_len < y->name_len);
	return c ? c : (x->id > y->id) - (x->id < y->id);
}

static int key_asc(const void *a, const void *b) { return by_key(a, b); }
static int key_desc(const void *a, const void *b) { return by_key(b, a); }
static int name_asc(const void *a, const void *b) { return by_name(a, b); }
static int name_desc(const void *a, const void *b) { return by_name(b, a); }

typedef int (*cand_cmp_fn)(const void *, const void *);

static cand_cmp_fn cand_order(const struct catalog_query *q)
{
	if (q->sort == CATALOG_SORT_NAME)
		return q->desc ? name_desc : name_asc;
	return q->desc ? key_desc : key_asc;
}

/* Is c past the cursor in the query's order? */
static bool after_cursor(const struct catalog_query *q, const struct cand *c)
{
	struct cand at = { (uint32_t)q->after.id, q->after.key, q->after.name,
	                   (uint32_t)q->after.name_len, { 0, 0, 0 }, false };

	return !q->has_after || q->after.id > UINT32_MAX || cand_order(q)(c, &at) > 0;
}

/* Moves the k first (in cmp's order) of v[0..n) to its front, in no order:
 * a page needs its hundred, not the ranking of a thousand. */
static void select_first(struct cand *v, size_t n, size_t k, cand_cmp_fn cmp)
{
	size_t lo = 0, hi = n;

	while (k > lo && k < hi && hi - lo > 1) {
		struct cand t;
		size_t mid = lo + (hi - lo) / 2, store = lo;
		t = v[mid], v[mid] = v[hi - 1], v[hi - 1] = t;
		for (size_t i = lo; i + 1 < hi; i++)
			if (cmp(&v[i], &v[hi - 1]) < 0) {
				t = v[i], v[i] = v[store], v[store] = t;
				store++;
			}
		t = v[store], v[store] = v[hi - 1], v[hi - 1] = t;
		if (store < k)
			lo = store + 1;
		else
			hi = store;
	}
}

/* Sorts the candidates and fills the page from the first of them. Index
 * lock held. */
static void fill_cands(struct catalog *cat, struct swarm_table *swarms,
                       const struct catalog_query *q, struct cand *v, size_t n, struct fill *f)
{
	cand_cmp_fn cmp = cand_order(q);
	size_t take = n < f->want ? n : f->want;

	select_first(v, n, take, cmp);
	qsort(v, take, sizeof *v, cmp);
	for (size_t i = 0; i < take && !fill_full(f); i++) {
		const struct cat_entry *e = cat_index_get(cat->index, v[i].id);
		if (e == NULL)
			continue;
		if (!v[i].counted)
			swarm_scrape(swarms, e->info_hash, &v[i].counts);
		fill_add(f, e->info_hash, e->name, e->size, e->added, &v[i].counts, v[i].id,
		         v[i].key);
	}
}

/* The candidate for id, or false when the entry is gone or expired.
 * tier >= 0: ranked (the tier, then seeders); -1: by the sort's own key. */
static bool cand_make(struct catalog *cat, struct swarm_table *swarms,
                      const struct catalog_query *q, uint32_t id, int tier, uint32_t cutoff,
                      struct cand *c)
{
	const struct cat_entry *e = cat_index_get(cat->index, id);

	if (e == NULL || e->seen < cutoff)
		return false;
	memset(c, 0, sizeof *c);
	c->id = id;
	c->name = e->name;
	c->name_len = e->name_len;
	if (q->sort == CATALOG_SORT_RANK || q->sort == CATALOG_SORT_SEEDERS) {
		swarm_scrape(swarms, e->info_hash, &c->counts);
		c->counted = true;
		c->key = q->sort == CATALOG_SORT_RANK ? ((int64_t)tier << 32 | c->counts.seeders)
		                                      : (int64_t)c->counts.seeders;
	} else if (q->sort != CATALOG_SORT_NAME) {
		c->key = q->sort == CATALOG_SORT_SIZE ? (int64_t)e->size : e->added;
	}
	return true;
}

/* Adds id to v[*n] if live and past the cursor; counts the live ones. */
static void cand_add(struct catalog *cat, struct swarm_table *swarms,
                     const struct catalog_query *q, uint32_t id, int tier, uint32_t cutoff,
                     struct cand *v, size_t *n, size_t *live)
{
	if (!cand_make(cat, swarms, q, id, tier, cutoff, &v[*n]))
		return;
	++*live;
	if (after_cursor(q, &v[*n]))
		++*n;
}

/* The search's terms: each word's tokens, the last one of each word a
 * prefix when prefix is set. False when there are too many. */
static bool search_terms(struct cat_reader *r, const char *words, bool prefix,
                         struct cat_tokens *all, struct cat_term *terms, size_t *n)
{
	struct cat_tokens one;

	all->n = all->used = 0;
	*n = 0;
	for (const char *p = words; *p;) {
		size_t len = strcspn(p, " \t");
		cat_tokenize(&r->tok, p, len, &one);
		for (uint32_t i = 0; i < one.n; i++) {
			if (*n == SEARCH_TERMS_MAX)
				return false;
			cat_tokens_add(all, one.buf + one.off[i], one.len[i]);
			terms[(*n)++].prefix = prefix && i + 1 == one.n;
		}
		p += len;
		p += strspn(p, " \t");
	}
	for (size_t i = 0; i < *n; i++) {
		terms[i].s = all->buf + all->off[i];
		terms[i].len = all->len[i];
	}
	return true;
}

/* The ids of the first CATALOG_SEARCH_CANDIDATES matches, whole words or
 * prefixes. */
static size_t search_ids(struct catalog *cat, struct cat_reader *r, const char *words,
                         bool prefix, uint32_t *out, bool *too_many)
{
	struct cat_tokens all;
	struct cat_term terms[SEARCH_TERMS_MAX];
	size_t n;

	*too_many = !search_terms(r, words, prefix, &all, terms, &n);
	if (*too_many || n == 0)
		return 0;
	return cat_index_match(cat->index, terms, n, &r->scratch, out, CATALOG_SEARCH_CANDIDATES);
}

/* Candidates of a search: ranked, whole-word matches (tier 1) and then
 * prefix-only ones (tier 0), CATALOG_SEARCH_CANDIDATES live ones at most;
 * otherwise the prefix matches. Index lock held. */
static size_t search_cands(struct catalog *cat, struct cat_reader *r, struct swarm_table *swarms,
                           const struct catalog_query *q, struct cand *v, bool *too_many)
{
	uint32_t *whole = xreallocarray(NULL, CATALOG_SEARCH_CANDIDATES, sizeof *whole);
	uint32_t *pre = xreallocarray(NULL, CATALOG_SEARCH_CANDIDATES, sizeof *pre);
	uint32_t cutoff = catalog_cutoff(cat, (int64_t)time(NULL));
	bool ranked = q->sort == CATALOG_SORT_RANK || q->sort == CATALOG_SORT_SEEDERS;
	size_t nw = ranked ? search_ids(cat, r, q->words, false, whole, too_many) : 0;
	size_t np = search_ids(cat, r, q->words, true, pre, too_many), n = 0, live = 0, k = 0;

	for (size_t i = 0; i < nw; i++) {
		if (i + PREFETCH_AHEAD < nw)
			cat_index_prefetch(cat->index, whole[i + PREFETCH_AHEAD]);
		cand_add(cat, swarms, q, whole[i], 1, cutoff, v, &n, &live);
	}
	for (size_t i = 0; i < np && live < CATALOG_SEARCH_CANDIDATES; i++) {
		if (i + PREFETCH_AHEAD < np)
			cat_index_prefetch(cat->index, pre[i + PREFETCH_AHEAD]);
		while (k < nw && whole[k] < pre[i])
			k++;
		if (k == nw || whole[k] != pre[i])
			cand_add(cat, swarms, q, pre[i], 0, cutoff, v, &n, &live);
	}
	free(whole);
	free(pre);
	return n;
}

/* Candidates of an exact name: every live entry of that name. */
static size_t named_cands(struct catalog *cat, struct swarm_table *swarms,
                          const struct catalog_query *q, struct cand **v)
{
	size_t len = strlen(q->name), room = 16, n, live = 0, kept = 0;
	uint32_t *ids = NULL;
	uint32_t cutoff = catalog_cutoff(cat, (int64_t)time(NULL));

	do {                        /* a name a million entries share is possible */
		room *= 4;
		ids = xreallocarray(ids, room, sizeof *ids);
		n = cat_index_named(cat->index, q->name, len, ids, room);
	} while (n == room);
	*v = xreallocarray(NULL, n + 1, sizeof **v);
	for (size_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			cat_index_prefetch(cat->index, ids[i + PREFETCH_AHEAD]);
		cand_add(cat, swarms, q, ids[i], 0, cutoff, *v, &kept, &live);
	}
	free(ids);
	return kept;
}

/* name= and q=, from the index. */
static bool index_query(struct catalog *cat, struct cat_reader *r, struct swarm_table *swarms,
                        const struct catalog_query *q, struct fill *f, char *err, size_t errsz)
{
	struct cand *v;
	size_t n;
	bool too_many = false;

	pthread_rwlock_rdlock(&cat->index_lock);
	if (q->name[0]) {
		n = named_cands(cat, swarms, q, &v);
	} else {
		v = xreallocarray(NULL, CATALOG_SEARCH_CANDIDATES, sizeof *v);
		n = search_cands(cat, r, swarms, q, v, &too_many);
	}
	if (!too_many)
		fill_cands(cat, swarms, q, v, n, f);
	pthread_rwlock_unlock(&cat->index_lock);
	free(v);
	if (too_many)
		snprintf(err, errsz, "a search holds at most %d words", SEARCH_TERMS_MAX);
	return !too_many;
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
static void fill_unseeded(struct catalog *cat, struct swarm_table *swarms,
                          const struct catalog_query *q, struct fill *f)
{
	uint32_t cutoff = catalog_cutoff(cat, (int64_t)time(NULL));
	uint64_t id = q->has_after && q->after.key == 0 ? q->after.id : q->desc ? UINT64_MAX : 0;

	pthread_rwlock_rdlock(&cat->index_lock);
	uint64_t top = cat_index_top(cat->index);
	while (!fill_full(f)) {
		struct cand c;
		if (q->desc ? id == 0 : id + 1 >= top)
			break;
		id = q->desc ? (id > top ? top : id) - 1 : id + 1;
		if (cand_make(cat, swarms, q, (uint32_t)id, 0, cutoff, &c) && c.counts.seeders == 0)
			fill_cands(cat, swarms, q, &c, 1, f);
	}
	pthread_rwlock_unlock(&cat->index_lock);
}

/* The seeded entries after the cursor, most seeders first (or last). */
static void fill_seeded(struct catalog *cat, struct swarm_table *swarms,
                        const struct catalog_query *q, struct fill *f)
{
	pthread_mutex_lock(&cat->seeded_lock);
	struct cand *c = xcalloc(cat->n_seeded + 1, sizeof *c);
	size_t n = 0;
	for (size_t i = 0; i < cat->n_seeded; i++) {
		c[n] = (struct cand){ .id = (uint32_t)cat->seeded[i].id,
		                      .key = cat->seeded[i].seeders };
		n += cat->seeded[i].id <= UINT32_MAX && after_cursor(q, &c[n]);
	}
	pthread_mutex_unlock(&cat->seeded_lock);
	pthread_rwlock_rdlock(&cat->index_lock);
	fill_cands(cat, swarms, q, c, n, f);
	pthread_rwlock_unlock(&cat->index_lock);
	free(c);
}

static void list_by_seeders(struct catalog *cat, struct cat_reader *r,
                            struct swarm_table *swarms, const struct catalog_query *q,
                            struct fill *f)
{
	int64_t now = (int64_t)time(NULL);
	bool zero_first = !q->desc, zero_cursor = q->has_after && q->after.key == 0;

	if (zero_first && (!q->has_after || zero_cursor))
		fill_unseeded(cat, swarms, q, f);
	pthread_mutex_lock(&cat->seeded_lock);
	if (now - cat->seeded_at >= SEEDED_TTL)
		seeded_build(cat, r, swarms, now);
	pthread_mutex_unlock(&cat->seeded_lock);
	if (!zero_cursor || zero_first)
		fill_seeded(cat, swarms, q, f);
	if (!zero_first)
		fill_unseeded(cat, swarms, q, f);
}

bool catalog_query(struct catalog *cat, unsigned reader, struct swarm_table *swarms,
                   const struct catalog_query *q, struct catalog_page *page, char *err,
                   size_t errsz)
{
	struct cat_reader *r = &cat->readers[reader];
	struct fill f;
	bool ok = true;

	fill_init(&f, page, q->limit);
	if (q->name[0] || q->words[0])
		ok = index_query(cat, r, swarms, q, &f, err, errsz);
	else if (q->sort == CATALOG_SORT_SEEDERS)
		list_by_seeders(cat, r, swarms, q, &f);
	else
		ok = list_sorted(cat, r, swarms, q, &f);
	if (!ok && err[0] == '\0')
		snprintf(err, errsz, "the catalog database failed; see the tracker's log");
	fill_finish(&f, q);
	if (!ok)
		catalog_page_free(page);
	return ok;
}
