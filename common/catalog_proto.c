#include "catalog_proto.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "hex.h"
#include "json.h"
#include "magnet.h"
#include "strnum.h"
#include "tracker_proto.h"
#include "xmalloc.h"

#define CURSOR_VERSION 1
#define FIELDS_PER_ENTRY 13 /* bencode nodes of one listing entry */
#define VALUE_MAX 1024      /* decoded bytes of any one parameter */

static const char *const sort_names[] = { "name", "size", "seeders", "added", "rank" };
static const char *const format_names[] = { "bencode", "json", "html" };

void catalog_query_init(struct catalog_query *q)
{
	memset(q, 0, sizeof *q);
	q->sort = CATALOG_SORT_NAME;
	q->limit = CATALOG_LIMIT_DEFAULT;
	q->format = CATALOG_FMT_BENCODE;
}

bool catalog_sort_default_desc(enum catalog_sort s)
{
	return s != CATALOG_SORT_NAME;
}

/* ---- cursor: version, sort, order, key, id and name, as hex ---- */

void catalog_cursor_encode(const struct catalog_cursor *c, char *out)
{
	uint8_t raw[CATALOG_CURSOR_BYTES];
	size_t nl = c->name_len > CATALOG_NAME_MAX ? CATALOG_NAME_MAX : c->name_len;

	raw[0] = CURSOR_VERSION;
	raw[1] = (uint8_t)c->sort;
	raw[2] = c->desc;
	store_u64be(raw + 3, (uint64_t)c->key);
	store_u64be(raw + 11, c->id);
	memcpy(raw + 19, c->name, nl);
	hex_encode(raw, 19 + nl, out);
}

bool catalog_cursor_decode(const char *s, size_t len, struct catalog_cursor *c)
{
	uint8_t raw[CATALOG_CURSOR_BYTES];
	size_t n = len / 2;

	if (len % 2 || n < 19 || n > sizeof raw || !hex_decode(s, len, raw, n))
		return false;
	if (raw[0] != CURSOR_VERSION || raw[1] > CATALOG_SORT_RANK || raw[2] > 1 ||
	    memchr(raw + 19, '\0', n - 19))
		return false;
	c->sort = (enum catalog_sort)raw[1];
	c->desc = raw[2];
	c->key = (int64_t)load_u64be(raw + 3);
	c->id = load_u64be(raw + 11);
	c->name_len = n - 19;
	memcpy(c->name, raw + 19, c->name_len);
	c->name[c->name_len] = '\0';
	return true;
}

/* ---- query ---- */

/* Copies a text value (1..max bytes, no NUL) into dst; false if it does not fit. */
static bool take_text(char *dst, size_t max, const char *v, size_t vlen)
{
	if (vlen > max || memchr(v, '\0', vlen))
		return false;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
	return true;
}

static bool take_hash(struct catalog_query *q, const char *v, size_t vlen)
{
	if (vlen == 0 || vlen > 40)
		return false;
	for (size_t i = 0; i < vlen; i++) {
		if (hex_value(v[i]) < 0)
			return false;
		q->hash_prefix[i] = (char)(v[i] >= 'A' && v[i] <= 'F' ? v[i] - 'A' + 'a' : v[i]);
	}
	q->hash_prefix[vlen] = '\0';
	return true;
}

struct parse_state {
	bool order_given, sort_given;
	bool order_desc;
};

static int word_index(const char *const *names, size_t count, const char *v, size_t vlen)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(names[i]) == vlen && memcmp(names[i], v, vlen) == 0)
			return (int)i;
	return -1;
}

static bool take_choice(const char *v, size_t vlen, const char *const *names, size_t count,
                        int *out)
{
	*out = word_index(names, count, v, vlen);
	return *out >= 0;
}

/* One decoded key=value; false with err for a bad value. */
static bool take_param(struct catalog_query *q, struct parse_state *ps, const char *k,
                       size_t klen, const char *v, size_t vlen, char *err, size_t errsz)
{
	static const char *const orders[] = { "asc", "desc" };
	const char *why;
	uint64_t n = 0;
	int i = 0;
	bool ok;

#define KEY(s) (klen == sizeof(s) - 1 && memcmp(k, s, klen) == 0)
	if (KEY("name")) {
		ok = take_text(q->name, CATALOG_NAME_MAX, v, vlen);
		why = "name must be at most 255 bytes";
	} else if (KEY("q")) {
		ok = take_text(q->words, CATALOG_WORDS_MAX, v, vlen);
		why = "q must be at most 256 bytes";
	} else if (KEY("hash")) {
		ok = take_hash(q, v, vlen);
		why = "hash must be 1 to 40 hex digits of an info-hash";
	} else if (KEY("limit")) {
		ok = strnum_u64(v, vlen, 1, CATALOG_LIMIT_MAX, &n);
		q->limit = ok ? (uint32_t)n : q->limit;
		why = "limit must be 1 to 1000";
	} else if (KEY("sort")) {
		ok = ps->sort_given = take_choice(v, vlen, sort_names, 5, &i);
		q->sort = ok ? (enum catalog_sort)i : q->sort;
		why = "sort must be name, size, seeders, added or rank";
	} else if (KEY("order")) {
		ok = ps->order_given = take_choice(v, vlen, orders, 2, &i);
		ps->order_desc = i == 1;
		why = "order must be asc or desc";
	} else if (KEY("format")) {
		ok = q->format_given = take_choice(v, vlen, format_names, 3, &i);
		q->format = ok ? (enum catalog_format)i : q->format;
		why = "format must be bencode, json or html";
	} else if (KEY("after")) {
		ok = q->has_after = catalog_cursor_decode(v, vlen, &q->after);
		why = "after is not a cursor this tracker gave out";
	} else {
		return true;
	}
#undef KEY
	if (!ok)
		snprintf(err, errsz, "%s", why);
	return ok;
}

/* Decodes a form value: '+' is a space, %XX a byte. out has room for len
 * + 1 bytes and gets a NUL after the value. -1 on a bad escape. */
static long form_decode(const char *src, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (src[i] == '%') {
			int hi = len - i >= 3 ? hex_value(src[i + 1]) : -1;
			int lo = len - i >= 3 ? hex_value(src[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = src[i] == '+' ? ' ' : src[i];
		}
	}
	out[o] = '\0';
	return (long)o;
}

/* Checks that span parameters: one of name/q/hash, a cursor of this order. */
static bool query_finish(struct catalog_query *q, const struct parse_state *ps, char *err,
                         size_t errsz)
{
	int selectors;

	if (q->words[strspn(q->words, " \t")] == '\0')
		q->words[0] = '\0'; /* a blank search box lists everything */
	selectors = !!q->name[0] + !!q->words[0] + !!q->hash_prefix[0];

	if (selectors > 1) {
		snprintf(err, errsz, "give only one of name, q and hash");
		return false;
	}
	if (!ps->sort_given)
		q->sort = q->words[0] ? CATALOG_SORT_RANK : CATALOG_SORT_NAME;
	if (q->sort == CATALOG_SORT_RANK && !q->words[0]) {
		snprintf(err, errsz, "sort=rank needs a search (q)");
		return false;
	}
	q->desc = ps->order_given ? ps->order_desc : catalog_sort_default_desc(q->sort);
	if (q->has_after && (q->after.sort != q->sort || q->after.desc != q->desc)) {
		snprintf(err, errsz, "this cursor belongs to another sort order");
		return false;
	}
	return true;
}

bool catalog_query_parse(const char *qs, size_t len, struct catalog_query *q, char *err,
                         size_t errsz)
{
	struct parse_state ps = { false, false, false };
	char k[VALUE_MAX + 1], v[VALUE_MAX + 1];
	const char *p = qs, *end = qs + len;

	catalog_query_init(q);
	err[0] = '\0';
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const char *vs = eq ? eq + 1 : stop;
		size_t kl = (size_t)((eq ? eq : stop) - p), vl = (size_t)(stop - vs);
		long kn, vn;

		if (kl > VALUE_MAX || vl > VALUE_MAX) {
			snprintf(err, errsz, "query parameter too long");
			return false;
		}
		if ((kn = form_decode(p, kl, k)) < 0 || (vn = form_decode(vs, vl, v)) < 0) {
			snprintf(err, errsz, "bad %%-escape in the query");
			return false;
		}
		if (!take_param(q, &ps, k, (size_t)kn, v, (size_t)vn, err, errsz))
			return false;
		p = stop + (amp != NULL);
	}
	return query_finish(q, &ps, err, errsz);
}

static void encode_param(struct sta_buf *out, const char *key, const char *v, size_t len)
{
	if (out->len && out->data[out->len - 1] != '&')
		buf_append_byte(out, '&');
	buf_append_str(out, key);
	buf_append_byte(out, '=');
	url_encode(out, (const uint8_t *)v, len);
}

void catalog_query_encode(const struct catalog_query *q, struct sta_buf *out)
{
	size_t start = out->len;
	char num[24], cursor[CATALOG_CURSOR_MAX + 1];

	if (q->name[0])
		encode_param(out, "name", q->name, strlen(q->name));
	if (q->words[0])
		encode_param(out, "q", q->words, strlen(q->words));
	if (q->hash_prefix[0])
		encode_param(out, "hash", q->hash_prefix, strlen(q->hash_prefix));
	encode_param(out, "sort", sort_names[q->sort], strlen(sort_names[q->sort]));
	encode_param(out, "order", q->desc ? "desc" : "asc", q->desc ? 4 : 3);
	snprintf(num, sizeof num, "%" PRIu32, q->limit);
	encode_param(out, "limit", num, strlen(num));
	if (q->has_after) {
		catalog_cursor_encode(&q->after, cursor);
		encode_param(out, "after", cursor, strlen(cursor));
	}
	if (q->format_given)
		encode_param(out, "format", format_names[q->format],
		             strlen(format_names[q->format]));
	if (out->len > start && out->data[start] == '&')
		memmove(out->data + start, out->data + start + 1, --out->len - start);
}

/* ---- listing ---- */

void catalog_entry_bencode(struct sta_buf *out, const struct catalog_entry *e)
{
	char hex[41];

	hex_encode(e->info_hash, 20, hex);
	be_enc_dict_begin(out);
	be_enc_kv_int(out, "added", e->added);
	be_enc_kv_str(out, "info_hash", hex, 40);
	be_enc_kv_int(out, "leechers", e->leechers);
	be_enc_kv_cstr(out, "name", e->name);
	be_enc_kv_int(out, "seeders", e->seeders);
	be_enc_kv_int(out, "size", (int64_t)e->size);
	be_enc_end(out);
}

void catalog_entry_magnet(struct sta_buf *out, const struct catalog_entry *e,
                          const char *announce)
{
	magnet_build(out, e->info_hash, e->name, &announce, announce ? 1 : 0, NULL, 0);
}

static void entry_json(struct sta_buf *out, const struct catalog_entry *e, const char *announce,
                       struct sta_buf *scratch)
{
	char hex[41];

	hex_encode(e->info_hash, 20, hex);
	buf_append_str(out, "{\"name\":");
	json_append_string(out, (const uint8_t *)e->name, strlen(e->name));
	buf_printf(out, ",\"size\":%" PRIu64 ",\"info_hash\":\"%s\",\"seeders\":%" PRIu32
	           ",\"leechers\":%" PRIu32 ",\"added\":%" PRId64 ",\"magnet\":",
	           e->size, hex, e->seeders, e->leechers, e->added);
	buf_clear(scratch);
	catalog_entry_magnet(scratch, e, announce);
	json_append_string(out, scratch->data, scratch->len);
	buf_append_byte(out, '}');
}

void catalog_listing_encode(struct sta_buf *out, enum catalog_format f,
                            const struct catalog_entry *e, size_t n, const char *next,
                            const char *announce)
{
	bool more = next && next[0];

	if (f == CATALOG_FMT_JSON) {
		struct sta_buf scratch = STA_BUF_INIT;
		buf_append_str(out, "{\"torrents\":[");
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_append_byte(out, ',');
			entry_json(out, &e[i], announce, &scratch);
		}
		buf_free(&scratch);
		buf_append_byte(out, ']');
		if (more)
			buf_printf(out, ",\"next\":\"%s\"", next);
		buf_append_str(out, "}\n");
		return;
	}
	be_enc_dict_begin(out);
	if (more)
		be_enc_kv_cstr(out, "next", next);
	be_enc_cstr(out, "torrents");
	be_enc_list_begin(out);
	for (size_t i = 0; i < n; i++)
		catalog_entry_bencode(out, &e[i]);
	be_enc_end(out);
	be_enc_end(out);
}

static bool get_u32(const struct be_doc *d, const struct be_node *n, const char *key,
                    uint32_t *out)
{
	int64_t v;

	if (!be_dict_get_int(d, n, key, &v) || v < 0 || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* One listing entry; false when any field is missing or bad. */
static bool parse_entry(const struct be_doc *d, const struct be_node *n, struct catalog_entry *e)
{
	size_t name_len, hex_len;
	int64_t size;
	const uint8_t *name = be_dict_get_str(d, n, "name", &name_len);
	const uint8_t *hex = be_dict_get_str(d, n, "info_hash", &hex_len);

	if (!name || name_len == 0 || name_len > CATALOG_NAME_MAX ||
	    memchr(name, '\0', name_len) || !hex ||
	    !hex_decode((const char *)hex, hex_len, e->info_hash, sizeof e->info_hash) ||
	    !be_dict_get_int(d, n, "size", &size) || size < 0 ||
	    !be_dict_get_int(d, n, "added", &e->added) ||
	    !get_u32(d, n, "seeders", &e->seeders) || !get_u32(d, n, "leechers", &e->leechers))
		return false;
	e->size = (uint64_t)size;
	e->name = xstrndup((const char *)name, name_len);
	return true;
}

/* The optional "next" cursor: a string of cursor length, hex. */
static bool parse_next(const struct be_doc *d, const struct be_node *root, char *next)
{
	size_t len = 0;
	const uint8_t *s = be_dict_get_str(d, root, "next", &len);
	struct catalog_cursor c;

	next[0] = '\0';
	if (be_dict_get(d, root, "next") == NULL)
		return true;
	if (s == NULL || !catalog_cursor_decode((const char *)s, len, &c))
		return false;
	memcpy(next, s, len);
	next[len] = '\0';
	return true;
}

bool catalog_listing_decode(const uint8_t *data, size_t len, struct catalog_listing *l,
                            size_t *skipped, char *err, size_t errsz)
{
	const struct be_limits lim = {
		.max_depth = 8, .max_nodes = CATALOG_DECODE_MAX * FIELDS_PER_ENTRY + 8,
	};
	struct be_doc d;
	struct be_error be;

	memset(l, 0, sizeof *l);
	*skipped = 0;
	if (be_decode(&d, data, len, &lim, &be) != BE_OK) {
		snprintf(err, errsz, "the catalog listing is not valid bencode (%s at byte %zu)",
		         be_strerror(be.code), be.offset);
		return false;
	}
	const struct be_node *root = be_root(&d);
	const struct be_node *list = root->type == BE_DICT ?
	                             be_dict_get_type(&d, root, "torrents", BE_LIST) : NULL;
	if (!list || !parse_next(&d, root, l->next)) {
		be_doc_free(&d);
		snprintf(err, errsz, list ? "the catalog listing has a bad \"next\" cursor"
		                          : "the catalog listing has no \"torrents\" list");
		return false;
	}
	l->v = xcalloc(list->count ? list->count : 1, sizeof *l->v);
	for (const struct be_node *it = be_first(&d, list); it; it = be_next(&d, it)) {
		if (it->type == BE_DICT && parse_entry(&d, it, &l->v[l->n]))
			l->n++;
		else
			(*skipped)++;
	}
	be_doc_free(&d);
	return true;
}

void catalog_listing_free(struct catalog_listing *l)
{
	for (size_t i = 0; l->v && i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---- batch publish ---- */

bool catalog_batch_decode(const uint8_t *data, size_t len, size_t max,
                          struct catalog_span **out, size_t *n, char *err, size_t errsz)
{
	const struct be_limits lim = { .max_depth = 2, .max_nodes = (uint32_t)max + 1 };
	struct be_doc d;
	struct be_error be;

	*out = NULL;
	*n = 0;
	if (be_decode(&d, data, len, &lim, &be) != BE_OK) {
		snprintf(err, errsz, be.code == BE_ERR_TOO_MANY ?
		         "a batch holds at most %zu torrents" :
		         "the batch is not a bencoded list of .torrent strings", max);
		return false;
	}
	const struct be_node *root = be_root(&d);
	if (root->type != BE_LIST) {
		be_doc_free(&d);
		snprintf(err, errsz, "the batch is not a bencoded list of .torrent strings");
		return false;
	}
	struct catalog_span *v = xcalloc(root->count ? root->count : 1, sizeof *v);
	for (const struct be_node *it = be_first(&d, root); it; it = be_next(&d, it)) {
		if (it->type != BE_STR) {
			free(v);
			be_doc_free(&d);
			snprintf(err, errsz, "batch item %zu is not a string", *n);
			return false;
		}
		v[*n].data = be_str(&d, it);
		v[(*n)++].len = it->str_len;
	}
	be_doc_free(&d);
	*out = v;
	return true;
}

void catalog_batch_encode(struct sta_buf *out, const struct catalog_span *t, size_t n)
{
	be_enc_list_begin(out);
	for (size_t i = 0; i < n; i++)
		be_enc_str(out, t[i].data, t[i].len);
	be_enc_end(out);
}
