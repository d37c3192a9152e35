/* The catalog's index in memory: every entry's listing fields by id, the
 * names in a hash table for exact lookups, and the words of the names in
 * posting lists (ascending ids) for search. catalog_db.c builds it at
 * start-up from the database and keeps it in step after each commit, so
 * lookups and searches never wait for the disk or for SQLite.
 *
 * Words are what SQLite's FTS5 "unicode61" tokenizer makes of a name
 * (case-folded, diacritics removed: catalog_tok.c); the caller hands them
 * in. Names and words live in arenas that only grow: a withdrawn entry's
 * name stays until the next start.
 *
 * Not thread-safe: the catalog holds a lock around every call. */
#ifndef TRACKERD_CATALOG_INDEX_H
#define TRACKERD_CATALOG_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAT_TOKENS_MAX 128      /* words kept of one name or search */
#define CAT_TOKEN_BYTES 1024    /* their bytes */
#define CAT_ID_MAX UINT32_MAX   /* ids are the database's rowids */

/* The words of one name or one search word. */
struct cat_tokens {
	uint32_t n;
	uint32_t used;                 /* bytes of buf */
	uint16_t off[CAT_TOKENS_MAX];
	uint16_t len[CAT_TOKENS_MAX];
	char buf[CAT_TOKEN_BYTES];
};

/* Appends a word (cut when the buffers are full). */
void cat_tokens_add(struct cat_tokens *t, const char *s, size_t len);

struct cat_entry {
	uint8_t info_hash[20];
	uint32_t seen;                 /* Unix time last known seeded; 0: a free id */
	uint64_t size;
	int64_t added;
	const char *name;              /* NUL-terminated */
	uint32_t name_len;
};

/* One term of a search: a word the name must hold, or a word's start. */
struct cat_term {
	const char *s;
	uint32_t len;
	bool prefix;
};

/* Working memory of a search, one per thread, reused. */
struct cat_scratch {
	uint64_t *bits;
	size_t words;                  /* room of bits, in 64-bit words */
};

struct cat_index;

/* key: the secret that keys the hash tables (names are chosen by anyone
 * who may publish). */
struct cat_index *cat_index_new(const uint8_t key[16]);
void cat_index_free(struct cat_index *ix);

/* Loading many entries at once: between on and off, new words are not
 * kept in order (off sorts them all once). Searches wait for off. */
void cat_index_bulk(struct cat_index *ix, bool on);
/* Adds the entry e (its name is copied) under a free id with its name's
 * words. Ids must stay below CAT_ID_MAX. */
void cat_index_add(struct cat_index *ix, uint32_t id, const struct cat_entry *e,
                   const struct cat_tokens *words);
/* Removes id, whose name has these words. */
void cat_index_remove(struct cat_index *ix, uint32_t id, const struct cat_tokens *words);
/* The entry with this id; NULL for a free or unknown id. */
const struct cat_entry *cat_index_get(const struct cat_index *ix, uint32_t id);
void cat_index_touch(struct cat_index *ix, uint32_t id, uint32_t seen);
/* Starts loading the entry of id into the cache: a search reads a
 * thousand entries spread over the whole table, and a miss each in turn
 * would be most of its time. */
void cat_index_prefetch(const struct cat_index *ix, uint32_t id);
/* Every id in use is below this. */
uint32_t cat_index_top(const struct cat_index *ix);

/* The ids of the entries named exactly name (bytes compared), ascending,
 * at most max into out; returns how many. */
size_t cat_index_named(const struct cat_index *ix, const char *name, size_t len,
                       uint32_t *out, size_t max);
/* The first max ids, ascending, of the entries whose names hold every term
 * (a prefix term: some word starting with it). */
size_t cat_index_match(const struct cat_index *ix, const struct cat_term *terms, size_t n,
                       struct cat_scratch *scratch, uint32_t *out, size_t max);
void cat_scratch_free(struct cat_scratch *s);

#endif
