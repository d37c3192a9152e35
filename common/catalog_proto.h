/* The catalog's HTTP interface, both ends in one place: the query of
 * GET /catalog (trackerd parses it, stad builds it), the listing it answers
 * with (trackerd encodes bencode or JSON, stad decodes the bencode), the
 * opaque page cursor, and the body of a batch publish.
 *
 * Query parameters (application/x-www-form-urlencoded, '+' is a space):
 *   name=EXACT    entries whose name is exactly EXACT (bytes compared)
 *   q=WORDS       entries whose name holds every word, as a word or a word's
 *                 prefix, case-insensitively; ranked by match, then seeders
 *   hash=HEX      entries whose info-hash starts with HEX (1 to 40 digits)
 *   sort=name|size|seeders|added|rank   (rank only with q; the default
 *                 is rank with q, name otherwise)
 *   order=asc|desc  (default: asc for name, desc for the others)
 *   limit=N       1 to CATALOG_LIMIT_MAX entries (default CATALOG_LIMIT_DEFAULT)
 *   after=CURSOR  the "next" of the previous page
 *   format=bencode|json|html
 * At most one of name, q and hash. Unknown parameters are ignored.
 *
 * Listing (bencode; keys sorted):
 *   d [4:next <cursor>] 8:torrents l d 5:added i..e 9:info_hash 40:<hex>
 *     8:leechers i..e 4:name .. 7:seeders i..e 4:size i..e e ... e e
 * JSON: {"torrents":[{"name":..,"size":..,"info_hash":"..","seeders":..,
 *        "leechers":..,"added":..,"magnet":".."},...],"next":".."}
 * "next" is there only when more entries follow.
 *
 * Batch publish body: a bencoded list of strings, each one .torrent file. */
#ifndef STA_CATALOG_PROTO_H
#define STA_CATALOG_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CATALOG_NAME_MAX 255          /* a torrent's name is one path component */
#define CATALOG_WORDS_MAX 256         /* bytes of a search */
#define CATALOG_LIMIT_DEFAULT 100
#define CATALOG_LIMIT_MAX 1000
#define CATALOG_CURSOR_BYTES (19 + CATALOG_NAME_MAX)
#define CATALOG_CURSOR_MAX (2 * CATALOG_CURSOR_BYTES) /* chars of an encoded cursor */
#define CATALOG_DECODE_MAX 100000u    /* entries a decoded listing may hold */
#define CATALOG_BATCH_MAX 10000u      /* torrents in one batch publish */

enum catalog_sort {
	CATALOG_SORT_NAME,
	CATALOG_SORT_SIZE,
	CATALOG_SORT_SEEDERS,
	CATALOG_SORT_ADDED,
	CATALOG_SORT_RANK,
};

enum catalog_format {
	CATALOG_FMT_BENCODE,
	CATALOG_FMT_JSON,
	CATALOG_FMT_HTML,
};

/* Where a page ended: its last entry's place in the sort order. */
struct catalog_cursor {
	enum catalog_sort sort;
	bool desc;
	int64_t key;                      /* size, seeders, added, or the rank */
	uint64_t id;                      /* the tracker's entry id, the last tie-break */
	size_t name_len;
	char name[CATALOG_NAME_MAX + 1];  /* NUL-terminated too */
};

struct catalog_query {
	char name[CATALOG_NAME_MAX + 1];  /* "" when absent */
	char words[CATALOG_WORDS_MAX + 1];
	char hash_prefix[41];             /* lowercase hex */
	enum catalog_sort sort;
	bool desc;
	uint32_t limit;
	bool has_after;
	struct catalog_cursor after;
	enum catalog_format format;
	bool format_given;                /* false: the server may pick by Accept */
};

/* One listed entry. name is NUL-free and NUL-terminated. */
struct catalog_entry {
	char *name;
	uint64_t size;
	uint8_t info_hash[20];
	uint32_t seeders;
	uint32_t leechers;
	int64_t added;                    /* Unix time */
};

struct catalog_listing {
	struct catalog_entry *v;
	size_t n;
	char next[CATALOG_CURSOR_MAX + 1]; /* "" on the last page */
};

/* The defaults: a listing by name, CATALOG_LIMIT_DEFAULT entries, bencode. */
void catalog_query_init(struct catalog_query *q);
/* Parses qs[0..len) (what follows '?'). False with a sentence for the user
 * in err (errsz bytes) on a bad escape, an out-of-range or unknown value, a
 * cursor of another sort order, or two of name, q and hash. */
bool catalog_query_parse(const char *qs, size_t len, struct catalog_query *q, char *err,
                         size_t errsz);
/* Appends the query string (no '?') that parses back to q. */
void catalog_query_encode(const struct catalog_query *q, struct sta_buf *out);
/* The default order of a sort: true (descending) but for name. */
bool catalog_sort_default_desc(enum catalog_sort s);

/* out gets at most CATALOG_CURSOR_MAX chars and a NUL. */
void catalog_cursor_encode(const struct catalog_cursor *c, char *out);
bool catalog_cursor_decode(const char *s, size_t len, struct catalog_cursor *c);

/* Appends a whole listing page; next is NULL or "" on the last page.
 * JSON entries carry their magnet link, with announce (the tracker's
 * announce URL, or NULL) as its tracker. CATALOG_FMT_HTML is not a wire
 * format: trackerd renders it itself. */
void catalog_listing_encode(struct sta_buf *out, enum catalog_format f,
                            const struct catalog_entry *e, size_t n, const char *next,
                            const char *announce);
/* An entry's magnet link (BEP 9): its info-hash, its name as dn, and
 * announce (NULL: none) as tr. */
void catalog_entry_magnet(struct sta_buf *out, const struct catalog_entry *e,
                          const char *announce);
/* One entry as the listing's bencoded dict (stad's control replies reuse it). */
void catalog_entry_bencode(struct sta_buf *out, const struct catalog_entry *e);
/* Decodes a bencoded listing. Entries missing a field or with a bad name or
 * info-hash are skipped (*skipped counts them); a malformed document is an
 * error (false, err says why). Free with catalog_listing_free. */
bool catalog_listing_decode(const uint8_t *data, size_t len, struct catalog_listing *l,
                            size_t *skipped, char *err, size_t errsz);
void catalog_listing_free(struct catalog_listing *l);

struct catalog_span {
	const uint8_t *data;
	size_t len;
};
/* Splits a batch body into its torrents (spans into data). False with err
 * when it is not a list of strings or holds more than max. *out is the
 * caller's (free). */
bool catalog_batch_decode(const uint8_t *data, size_t len, size_t max,
                          struct catalog_span **out, size_t *n, char *err, size_t errsz);
void catalog_batch_encode(struct sta_buf *out, const struct catalog_span *t, size_t n);

#endif
