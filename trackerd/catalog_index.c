/* The catalog's in-memory index (see catalog_index.h). */
#include "catalog_index.h"

#include <stdlib.h>
#include <string.h>

#include "siphash.h"
#include "xmalloc.h"

#define ARENA_CHUNK (1u << 20)
#define TABLE_INITIAL 1024      /* slots of a hash table, a power of two */
#define FRESH_MAX 1024          /* words kept unsorted before a merge */
#define LISTS_MAX 2             /* posting lists a term walks; more: a bitmap */

/* ---- arenas: copies that never move ---- */

struct arena {
	char *cur;
	size_t left;
	char **chunks;
	size_t n_chunks;
};

static const char *arena_copy(struct arena *a, const char *s, size_t len)
{
	if (a->left < len + 1) {
		size_t size = len + 1 > ARENA_CHUNK ? len + 1 : ARENA_CHUNK;
		a->chunks = xreallocarray(a->chunks, a->n_chunks + 1, sizeof *a->chunks);
		a->cur = a->chunks[a->n_chunks++] = xmalloc(size);
		a->left = size;
	}
	char *p = a->cur;
	memcpy(p, s, len);
	p[len] = '\0';
	a->cur += len + 1;
	a->left -= len + 1;
	return p;
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n_chunks; i++)
		free(a->chunks[i]);
	free(a->chunks);
}

/* ---- words and their posting lists ---- */

/* A word; its ids ascending, two of them in place before the first
 * allocation (most words of a big catalog, numbers, name one entry). */
struct cat_token {
	const char *s;
	uint32_t len;
	uint32_t n, cap;               /* cap 0: ids in inl */
	union {
		uint32_t *v;
		uint32_t inl[2];
	} ids;
};

static uint32_t *tok_ids(struct cat_token *t)
{
	return t->cap ? t->ids.v : t->ids.inl;
}

static const uint32_t *tok_ids_c(const struct cat_token *t)
{
	return t->cap ? t->ids.v : t->ids.inl;
}

/* Index of the first id >= x in v[from..n). */
static uint32_t lower_bound(const uint32_t *v, uint32_t from, uint32_t n, uint32_t x)
{
	uint32_t lo = from, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void posting_add(struct cat_token *t, uint32_t id)
{
	uint32_t *v = tok_ids(t);
	uint32_t at = t->n && v[t->n - 1] < id ? t->n : lower_bound(v, 0, t->n, id);

	if (at < t->n && v[at] == id)
		return;                 /* the word twice in one name */
	if (t->n == (t->cap ? t->cap : 2)) {
		uint32_t cap = t->n * 2;
		uint32_t *nv = xreallocarray(t->cap ? t->ids.v : NULL, cap, sizeof *nv);
		if (t->cap == 0)
			memcpy(nv, t->ids.inl, sizeof t->ids.inl);
		t->ids.v = nv;
		t->cap = cap;
		v = nv;
	}
	memmove(v + at + 1, v + at, (t->n - at) * sizeof *v);
	v[at] = id;
	t->n++;
}

static void posting_remove(struct cat_token *t, uint32_t id)
{
	uint32_t *v = tok_ids(t);
	uint32_t at = lower_bound(v, 0, t->n, id);

	if (at == t->n || v[at] != id)
		return;
	memmove(v + at, v + at + 1, (t->n - at - 1) * sizeof *v);
	t->n--;
}

static int word_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen > blen) - (alen < blen);
}

/* ---- the index ---- */

/* A hash table slot: an id (or word number) + 1, 0 when empty, and the
 * hash, so growing needs no rehashing and probes compare strings rarely. */
struct slot {
	uint32_t ref;
	uint32_t hash;
};

struct table {
	struct slot *v;
	uint32_t cap, n;
};

struct cat_index {
	uint8_t key[SIPHASH_KEY_LEN];
	struct cat_entry *entries;     /* by id */
	uint32_t n_entries;            /* room of entries */
	struct arena names;
	struct table by_name;          /* ref: entry id + 1 */
	struct cat_token *words;
	uint32_t n_words, cap_words;
	struct arena word_bytes;
	struct table by_word;          /* ref: word number + 1 */
	uint32_t *sorted;              /* word numbers in byte order */
	uint32_t n_sorted;
	uint32_t fresh[FRESH_MAX];     /* newer words, not sorted yet */
	uint32_t n_fresh;
	bool bulk;                     /* loading: words are sorted once at the end */
};

struct cat_index *cat_index_new(const uint8_t key[16])
{
	struct cat_index *ix = xcalloc(1, sizeof *ix);

	memcpy(ix->key, key, SIPHASH_KEY_LEN);
	return ix;
}

void cat_index_free(struct cat_index *ix)
{
	if (ix == NULL)
		return;
	for (uint32_t i = 0; i < ix->n_words; i++)
		if (ix->words[i].cap)
			free(ix->words[i].ids.v);
	free(ix->words);
	free(ix->entries);
	free(ix->by_name.v);
	free(ix->by_word.v);
	free(ix->sorted);
	arena_free(&ix->names);
	arena_free(&ix->word_bytes);
	free(ix);
}

static uint32_t hash_of(const struct cat_index *ix, const char *s, size_t len)
{
	return (uint32_t)siphash24(ix->key, s, len);
}

static void table_grow(struct table *t)
{
	struct slot *old = t->v;
	uint32_t old_cap = t->cap;

	t->cap = old_cap ? old_cap * 2 : TABLE_INITIAL;
	t->v = xcalloc(t->cap, sizeof *t->v);
	for (uint32_t i = 0; i < old_cap; i++) {
		if (old[i].ref == 0)
			continue;
		uint32_t j = old[i].hash & (t->cap - 1);
		while (t->v[j].ref)
			j = (j + 1) & (t->cap - 1);
		t->v[j] = old[i];
	}
	free(old);
}

/* An empty slot for hash (the table grown first when it is getting full). */
static struct slot *table_free_slot(struct table *t, uint32_t hash)
{
	if ((t->n + 1) * 4 > t->cap * 3)
		table_grow(t);
	uint32_t j = hash & (t->cap - 1);
	while (t->v[j].ref)
		j = (j + 1) & (t->cap - 1);
	t->n++;
	return &t->v[j];
}

/* Deletes slot i, shifting later members of its probe run back so that
 * lookups need no tombstones. */
static void table_delete(struct table *t, uint32_t i)
{
	uint32_t mask = t->cap - 1, hole = i, j = i;

	t->v[i].ref = 0;
	t->n--;
	for (;;) {
		j = (j + 1) & mask;
		if (t->v[j].ref == 0)
			return;
		uint32_t home = t->v[j].hash & mask;
		bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (stays)
			continue;
		t->v[hole] = t->v[j];
		t->v[j].ref = 0;
		hole = j;
	}
}

/* ---- words ---- */

static int32_t word_find(const struct cat_index *ix, const char *s, size_t len)
{
	const struct table *t = &ix->by_word;
	uint32_t h = hash_of(ix, s, len);

	if (t->cap == 0)
		return -1;
	for (uint32_t j = h & (t->cap - 1); t->v[j].ref; j = (j + 1) & (t->cap - 1)) {
		const struct cat_token *w = &ix->words[t->v[j].ref - 1];
		if (t->v[j].hash == h && w->len == len && memcmp(w->s, s, len) == 0)
			return (int32_t)(t->v[j].ref - 1);
	}
	return -1;
}

struct sort_word {
	const char *s;
	uint32_t len;
	uint32_t num;
};

static int sort_word_cmp(const void *a, const void *b)
{
	const struct sort_word *x = a, *y = b;

	return word_cmp(x->s, x->len, y->s, y->len);
}

/* The words nums[0..n) in byte order, as sort_words to be freed. */
static struct sort_word *words_sorted(const struct cat_index *ix, const uint32_t *nums,
                                      uint32_t n)
{
	struct sort_word *f = xreallocarray(NULL, n ? n : 1, sizeof *f);

	for (uint32_t j = 0; j < n; j++) {
		const struct cat_token *w = &ix->words[nums ? nums[j] : j];
		f[j] = (struct sort_word){ w->s, w->len, nums ? nums[j] : j };
	}
	qsort(f, n, sizeof *f, sort_word_cmp);
	return f;
}

/* Sorts the fresh words into the sorted array. */
static void words_merge(struct cat_index *ix)
{
	struct sort_word *f = words_sorted(ix, ix->fresh, ix->n_fresh);
	uint32_t *out = xreallocarray(NULL, ix->n_sorted + ix->n_fresh + 1, sizeof *out);
	uint32_t i = 0, k = 0, o = 0;

	while (i < ix->n_sorted || k < ix->n_fresh) {
		const struct cat_token *w = i < ix->n_sorted ? &ix->words[ix->sorted[i]] : NULL;
		if (w && (k == ix->n_fresh || word_cmp(w->s, w->len, f[k].s, f[k].len) < 0))
			out[o++] = ix->sorted[i++];
		else
			out[o++] = f[k++].num;
	}
	free(f);
	free(ix->sorted);
	ix->sorted = out;
	ix->n_sorted = o;
	ix->n_fresh = 0;
}

void cat_index_bulk(struct cat_index *ix, bool on)
{
	if (on || !ix->bulk) {
		ix->bulk = on;
		return;
	}
	struct sort_word *f = words_sorted(ix, NULL, ix->n_words);
	ix->sorted = xreallocarray(ix->sorted, ix->n_words + 1, sizeof *ix->sorted);
	for (uint32_t j = 0; j < ix->n_words; j++)
		ix->sorted[j] = f[j].num;
	ix->n_sorted = ix->n_words;
	ix->n_fresh = 0;
	ix->bulk = false;
	free(f);
}

static struct cat_token *word_get(struct cat_index *ix, const char *s, size_t len)
{
	int32_t found = word_find(ix, s, len);

	if (found >= 0)
		return &ix->words[found];
	if (ix->n_words == ix->cap_words) {
		ix->cap_words = ix->cap_words ? ix->cap_words * 2 : TABLE_INITIAL;
		ix->words = xreallocarray(ix->words, ix->cap_words, sizeof *ix->words);
	}
	uint32_t num = ix->n_words++;
	struct cat_token *w = &ix->words[num];
	uint32_t h = hash_of(ix, s, len);
	memset(w, 0, sizeof *w);
	w->s = arena_copy(&ix->word_bytes, s, len);
	w->len = (uint32_t)len;
	*table_free_slot(&ix->by_word, h) = (struct slot){ num + 1, h };
	if (ix->bulk)
		return w;               /* sorted with all the others at the end */
	if (ix->n_fresh == FRESH_MAX)
		words_merge(ix);
	ix->fresh[ix->n_fresh++] = num;
	return w;
}

void cat_tokens_add(struct cat_tokens *t, const char *s, size_t len)
{
	if (t->n == CAT_TOKENS_MAX || len > CAT_TOKEN_BYTES - t->used)
		return;
	t->off[t->n] = (uint16_t)t->used;
	t->len[t->n++] = (uint16_t)len;
	memcpy(t->buf + t->used, s, len);
	t->used += (uint32_t)len;
}

/* ---- entries ---- */

static void entries_reserve(struct cat_index *ix, uint32_t id)
{
	if (id < ix->n_entries)
		return;
	uint32_t n = ix->n_entries ? ix->n_entries : TABLE_INITIAL;
	while (n <= id)
		n = n > CAT_ID_MAX / 2 ? CAT_ID_MAX : n * 2;
	ix->entries = xreallocarray(ix->entries, n, sizeof *ix->entries);
	memset(ix->entries + ix->n_entries, 0, (size_t)(n - ix->n_entries) * sizeof *ix->entries);
	ix->n_entries = n;
}

void cat_index_add(struct cat_index *ix, uint32_t id, const struct cat_entry *e,
                   const struct cat_tokens *words)
{
	struct cat_entry *d;
	uint32_t h = hash_of(ix, e->name, e->name_len);

	entries_reserve(ix, id);
	d = &ix->entries[id];
	*d = *e;
	if (d->seen == 0)
		d->seen = 1;
	d->name = arena_copy(&ix->names, e->name, e->name_len);
	*table_free_slot(&ix->by_name, h) = (struct slot){ id + 1, h };
	for (uint32_t i = 0; i < words->n; i++)
		posting_add(word_get(ix, words->buf + words->off[i], words->len[i]), id);
}

void cat_index_remove(struct cat_index *ix, uint32_t id, const struct cat_tokens *words)
{
	const struct cat_entry *e = cat_index_get(ix, id);
	struct table *t = &ix->by_name;

	if (e == NULL)
		return;
	for (uint32_t j = hash_of(ix, e->name, e->name_len) & (t->cap - 1); t->v[j].ref;
	     j = (j + 1) & (t->cap - 1)) {
		if (t->v[j].ref == id + 1) {
			table_delete(t, j);
			break;
		}
	}
	for (uint32_t i = 0; i < words->n; i++) {
		int32_t w = word_find(ix, words->buf + words->off[i], words->len[i]);
		if (w >= 0)
			posting_remove(&ix->words[w], id);
	}
	memset(&ix->entries[id], 0, sizeof ix->entries[id]);
}

const struct cat_entry *cat_index_get(const struct cat_index *ix, uint32_t id)
{
	return id < ix->n_entries && ix->entries[id].seen ? &ix->entries[id] : NULL;
}

void cat_index_touch(struct cat_index *ix, uint32_t id, uint32_t seen)
{
	if (id < ix->n_entries && ix->entries[id].seen && seen)
		ix->entries[id].seen = seen;
}

void cat_index_prefetch(const struct cat_index *ix, uint32_t id)
{
	if (id < ix->n_entries)
		__builtin_prefetch(&ix->entries[id]);
}

uint32_t cat_index_top(const struct cat_index *ix)
{
	return ix->n_entries;
}

static int id_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

size_t cat_index_named(const struct cat_index *ix, const char *name, size_t len,
                       uint32_t *out, size_t max)
{
	const struct table *t = &ix->by_name;
	uint32_t h = hash_of(ix, name, len);
	size_t n = 0;

	if (t->cap == 0)
		return 0;
	for (uint32_t j = h & (t->cap - 1); t->v[j].ref && n < max; j = (j + 1) & (t->cap - 1)) {
		const struct cat_entry *e = &ix->entries[t->v[j].ref - 1];
		if (t->v[j].hash == h && e->name_len == len && memcmp(e->name, name, len) == 0)
			out[n++] = t->v[j].ref - 1;
	}
	qsort(out, n, sizeof *out, id_cmp);
	return n;
}

/* ---- search ---- */

/* One posting list a term walks, with its cursor. */
struct walk {
	const uint32_t *v;
	uint32_t n, pos;
};

/* The entries one term admits: the union of its words' lists, walked in
 * step, or, when they are many, a bitmap of it. */
struct term_set {
	struct walk *lists;
	size_t n, cap;
	size_t total;                  /* ids over all lists */
	uint64_t *bits;                /* NULL: walk the lists */
	uint64_t *sum;                 /* with bits: a bit per non-zero word of bits */
};

static void set_add_word(struct term_set *t, const struct cat_token *w)
{
	if (w->n == 0)
		return;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 4;
		t->lists = xreallocarray(t->lists, t->cap, sizeof *t->lists);
	}
	t->lists[t->n++] = (struct walk){ tok_ids_c(w), w->n, 0 };
	t->total += w->n;
}

static bool has_prefix(const struct cat_token *w, const char *p, size_t len)
{
	return w->len >= len && memcmp(w->s, p, len) == 0;
}

/* The lists of the words a term matches. */
static void set_collect(const struct cat_index *ix, const struct cat_term *term,
                        struct term_set *t)
{
	if (!term->prefix) {
		int32_t w = word_find(ix, term->s, term->len);
		if (w >= 0)
			set_add_word(t, &ix->words[w]);
		return;
	}
	uint32_t lo = 0, hi = ix->n_sorted;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct cat_token *w = &ix->words[ix->sorted[mid]];
		if (word_cmp(w->s, w->len, term->s, term->len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ix->n_sorted && has_prefix(&ix->words[ix->sorted[lo]], term->s, term->len); lo++)
		set_add_word(t, &ix->words[ix->sorted[lo]]);
	for (uint32_t i = 0; i < ix->n_fresh; i++)
		if (has_prefix(&ix->words[ix->fresh[i]], term->s, term->len))
			set_add_word(t, &ix->words[ix->fresh[i]]);
}

/* A bit per id, and a bit per non-zero word of those in sum: a bitmap
 * of a million ids is scanned by its 256 summary words. */
static void set_fill_bits(struct term_set *t, uint64_t *bits, uint64_t *sum)
{
	t->bits = bits;
	t->sum = sum;
	for (size_t i = 0; i < t->n; i++)
		for (uint32_t k = 0; k < t->lists[i].n; k++) {
			uint32_t id = t->lists[i].v[k];
			bits[id >> 6] |= (uint64_t)1 << (id & 63);
			sum[id >> 12] |= (uint64_t)1 << (id >> 6 & 63);
		}
}

/* Leaves the bitmap zeroed for the next search: only the words that were
 * set, far fewer than the whole bitmap for most terms. */
static void set_clear_bits(struct term_set *t)
{
	for (size_t i = 0; i < t->n; i++)
		for (uint32_t k = 0; k < t->lists[i].n; k++) {
			t->bits[t->lists[i].v[k] >> 6] = 0;
			t->sum[t->lists[i].v[k] >> 12] = 0;
		}
}

/* Advances a cursor to the first id >= x: galloping, as the ids asked
 * about only grow. */
static bool walk_has(struct walk *w, uint32_t x)
{
	uint32_t step = 1, lo = w->pos;

	if (lo == w->n || w->v[lo] >= x)
		return lo < w->n && w->v[lo] == x;
	while (lo + step < w->n && w->v[lo + step] < x) {
		lo += step;
		step *= 2;
	}
	uint32_t hi = lo + step < w->n ? lo + step + 1 : w->n;
	w->pos = lower_bound(w->v, lo + 1, hi, x);
	return w->pos < w->n && w->v[w->pos] == x;
}

static bool walk_set_has(struct term_set *t, uint32_t id)
{
	bool found = false;

	for (size_t i = 0; i < t->n; i++)
		found |= walk_has(&t->lists[i], id);
	return found;
}

static bool set_has(struct term_set *t, uint32_t id)
{
	if (t->bits)
		return t->bits[id >> 6] >> (id & 63) & 1;
	return walk_set_has(t, id);
}

/* The next id of a walked term (ascending, each once), or false when it
 * is done: the smallest head of its lists. */
static bool set_next(struct term_set *t, uint32_t *id)
{
	uint32_t min = UINT32_MAX;
	bool any = false;

	for (size_t i = 0; i < t->n; i++)
		if (t->lists[i].pos < t->lists[i].n && t->lists[i].v[t->lists[i].pos] <= min) {
			min = t->lists[i].v[t->lists[i].pos];
			any = true;
		}
	for (size_t i = 0; any && i < t->n; i++)
		if (t->lists[i].pos < t->lists[i].n && t->lists[i].v[t->lists[i].pos] == min)
			t->lists[i].pos++;
	*id = min;
	return any;
}

/* Is id in every set but skip? */
static bool in_all(struct term_set *sets, size_t n, size_t skip, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (i != skip && !set_has(&sets[i], id))
			return false;
	return true;
}

/* The ids in the word w of every bitmap and in every walked set. */
static size_t intersect_word(struct term_set *sets, size_t n, size_t w, uint32_t *out,
                             size_t room)
{
	uint64_t x = ~(uint64_t)0;
	size_t got = 0;

	for (size_t i = 0; i < n && x; i++)
		if (sets[i].bits)
			x &= sets[i].bits[w];
	for (; x && got < room; x &= x - 1) {
		uint32_t id = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(x));
		bool all = true;
		for (size_t i = 0; all && i < n; i++)
			all = sets[i].bits || walk_set_has(&sets[i], id);
		if (all)
			out[got++] = id;
	}
	return got;
}

/* Driven by the bitmaps, led by the non-zero words of the smallest. */
static size_t intersect_bits(struct term_set *sets, size_t n, size_t lead, size_t words,
                             uint32_t *out, size_t max)
{
	size_t got = 0;

	for (size_t sw = 0; sw < (words + 63) / 64 && got < max; sw++)
		for (uint64_t m = sets[lead].sum[sw]; m && got < max; m &= m - 1)
			got += intersect_word(sets, n, sw * 64 + (size_t)__builtin_ctzll(m), out + got,
			                      max - got);
	return got;
}

/* The first max ids in every set, ascending. The smallest set leads: a
 * walked one id by id, or, when it is a bitmap, all bitmaps word by word. */
static size_t intersect(struct term_set *sets, size_t n, size_t words, uint32_t *out,
                        size_t max)
{
	size_t drv = 0, got = 0;
	uint32_t id;

	for (size_t i = 1; i < n; i++)
		if (sets[i].total < sets[drv].total)
			drv = i;
	if (sets[drv].bits)
		return intersect_bits(sets, n, drv, words, out, max);
	while (got < max && set_next(&sets[drv], &id))
		if (in_all(sets, n, drv, id))
			out[got++] = id;
	return got;
}

/* Bitmaps and summaries for the terms with many lists, from the scratch
 * memory (zeroed, and left zeroed after each search). */
static uint64_t *scratch_bits(struct cat_scratch *s, size_t per_map, size_t n_maps)
{
	if (s->words < per_map * n_maps) {
		free(s->bits);
		s->words = per_map * n_maps;
		s->bits = xcalloc(s->words, sizeof *s->bits);
	}
	return s->bits;
}

size_t cat_index_match(const struct cat_index *ix, const struct cat_term *terms, size_t n,
                       struct cat_scratch *scratch, uint32_t *out, size_t max)
{
	struct term_set *sets = xcalloc(n ? n : 1, sizeof *sets);
	size_t words = ((size_t)ix->n_entries + 63) / 64, n_maps = 0, got = 0;
	bool empty = n == 0;

	for (size_t i = 0; i < n; i++) {
		set_collect(ix, &terms[i], &sets[i]);
		empty |= sets[i].total == 0;
		n_maps += sets[i].n > LISTS_MAX;
	}
	if (!empty && words) {
		size_t per_map = words + (words + 63) / 64;
		uint64_t *bits = n_maps ? scratch_bits(scratch, per_map, n_maps) : NULL;
		for (size_t i = 0, m = 0; i < n; i++) {
			if (sets[i].n <= LISTS_MAX)
				continue;
			set_fill_bits(&sets[i], bits + per_map * m, bits + per_map * m + words);
			m++;
		}
		got = intersect(sets, n, words, out, max);
		for (size_t i = 0; i < n; i++)
			if (sets[i].bits)
				set_clear_bits(&sets[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(sets[i].lists);
	free(sets);
	return got;
}

void cat_scratch_free(struct cat_scratch *s)
{
	free(s->bits);
	s->bits = NULL;
	s->words = 0;
}
