/* Bencode (BEP 3), strict.
 *
 * Decoding parses a whole buffer into a flat array of nodes (no per-node
 * allocation, no recursion in the caller) and never copies the input: every
 * node records the exact span of raw bytes it came from, so the info-hash is
 * SHA-1 over be_raw() of the "info" value as received.
 *
 * Rejected: leading zeros ("i03e", "03:abc"), "-0", "i-e", empty integers,
 * integers outside int64, unterminated lists/dicts/strings, string lengths
 * past the end, non-string dict keys, duplicate keys, nesting deeper than the
 * limit, more nodes than the limit, and anything after the top-level value.
 * Dict keys out of sorted order are accepted unless limits.strict_key_order is
 * set (real-world torrents often have unsorted keys; the raw bytes are what
 * gets hashed, so order does not change the info-hash).
 *
 * Encoding appends to a struct sta_buf; be_enc_dict_* helpers expect the
 * caller to emit keys in sorted order (as BEP 3 requires).
 */
#ifndef STA_BENCODE_H
#define STA_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum be_type {
	BE_INT = 1,
	BE_STR,
	BE_LIST,
	BE_DICT,
};

enum be_err {
	BE_OK = 0,
	BE_ERR_TRUNCATED,   /* input ended inside a value */
	BE_ERR_SYNTAX,      /* unexpected byte */
	BE_ERR_LEADING_ZERO,
	BE_ERR_NEG_ZERO,
	BE_ERR_INT_RANGE,   /* integer or string length out of range */
	BE_ERR_DEPTH,       /* nesting deeper than limits.max_depth */
	BE_ERR_TOO_MANY,    /* more than limits.max_nodes values */
	BE_ERR_TRAILING,    /* bytes after the top-level value */
	BE_ERR_KEY_TYPE,    /* dict key is not a string */
	BE_ERR_KEY_ORDER,   /* keys unsorted, with strict_key_order */
	BE_ERR_DUP_KEY,
	BE_ERR_EMPTY,       /* zero-length input */
};

struct be_limits {
	uint32_t max_depth;    /* lists/dicts nested deeper than this fail */
	uint32_t max_nodes;    /* total values (keys count as values) */
	bool strict_key_order;
};

/* Sensible defaults: depth 64, 1,000,000 nodes, unsorted keys accepted. */
extern const struct be_limits be_default_limits;

/* One decoded value. For BE_DICT the children alternate key, value. */
struct be_node {
	uint8_t type;       /* enum be_type */
	uint32_t raw_off;   /* span of the whole encoded value in the input */
	uint32_t raw_len;
	uint32_t next;      /* index of the next sibling; 0 = last child */
	uint32_t count;     /* BE_LIST: items; BE_DICT: key/value pairs */
	uint32_t str_off;   /* BE_STR: the string's bytes */
	uint32_t str_len;
	int64_t ival;       /* BE_INT */
};

/* A decoded document. nodes[0] is the top-level value; a container's first
 * child (if count > 0) is the node right after it, the others follow
 * through ->next. The input must outlive the document. */
struct be_doc {
	const uint8_t *data;
	size_t len;
	struct be_node *nodes;
	uint32_t n_nodes;
};

struct be_error {
	enum be_err code;
	size_t offset; /* byte offset in the input where it went wrong */
};

/* Decodes buf[0..len). Input larger than 4 GiB - 1 is refused (BE_ERR_INT_RANGE).
 * On success fills *doc (free with be_doc_free) and returns BE_OK; on failure
 * returns the error, fills *err if non-NULL and leaves nothing to free.
 * limits may be NULL for be_default_limits. */
enum be_err be_decode(struct be_doc *doc, const uint8_t *buf, size_t len,
                      const struct be_limits *limits, struct be_error *err);
/* Decodes the one value at the start of buf and stops there: what follows
 * it (BEP 9 piece data after its dict) is the caller's. *consumed is the
 * value's length; doc covers only those bytes. */
enum be_err be_decode_prefix(struct be_doc *doc, const uint8_t *buf, size_t len,
                             const struct be_limits *limits, struct be_error *err,
                             size_t *consumed);
void be_doc_free(struct be_doc *doc);
/* "truncated input", "leading zero", ...: a short English phrase. */
const char *be_strerror(enum be_err e);

/* Navigation. All return NULL when absent or of the wrong type. */
const struct be_node *be_root(const struct be_doc *doc);
const struct be_node *be_first(const struct be_doc *doc, const struct be_node *container);
const struct be_node *be_next(const struct be_doc *doc, const struct be_node *n);
/* Value for key in a dict (key compared as bytes; NULL when missing). */
const struct be_node *be_dict_get(const struct be_doc *doc, const struct be_node *dict,
                                  const char *key);
/* Typed lookups: NULL / false when missing or of another type. */
const struct be_node *be_dict_get_type(const struct be_doc *doc, const struct be_node *dict,
                                       const char *key, enum be_type type);
bool be_dict_get_int(const struct be_doc *doc, const struct be_node *dict, const char *key,
                     int64_t *out);
/* String value's bytes (not NUL-terminated) and length. */
const uint8_t *be_dict_get_str(const struct be_doc *doc, const struct be_node *dict,
                               const char *key, size_t *len);
static inline const uint8_t *be_str(const struct be_doc *doc, const struct be_node *n)
{
	return doc->data + n->str_off;
}
static inline const uint8_t *be_raw(const struct be_doc *doc, const struct be_node *n)
{
	return doc->data + n->raw_off;
}

/* Encoding. */
void be_enc_int(struct sta_buf *b, int64_t v);
void be_enc_str(struct sta_buf *b, const void *s, size_t len);
void be_enc_cstr(struct sta_buf *b, const char *s);
static inline void be_enc_list_begin(struct sta_buf *b) { buf_append_byte(b, 'l'); }
static inline void be_enc_dict_begin(struct sta_buf *b) { buf_append_byte(b, 'd'); }
static inline void be_enc_end(struct sta_buf *b) { buf_append_byte(b, 'e'); }
/* Key then value, for the common dict entries. */
void be_enc_kv_int(struct sta_buf *b, const char *key, int64_t v);
void be_enc_kv_str(struct sta_buf *b, const char *key, const void *s, size_t len);
void be_enc_kv_cstr(struct sta_buf *b, const char *key, const char *s);

#endif
