#include "ctl_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"
#include "metainfo.h"
#include "xmalloc.h"

/* Each payload is described once by a table of its fields, in key order
 * (bencode dicts are sorted); one encoder and one decoder walk the tables.
 * The key is the struct member's name, so it is spelled once. */
enum ctl_kind {
	K_INT,  /* int64_t */
	K_TEXT, /* struct ctl_str, any bytes */
	K_ARG,  /* struct ctl_str, 1..CTL_ARG_MAX bytes, no NUL */
	K_DICT, /* pointer to a struct of sub */
	K_LIST, /* pointer to an array of sub, count at count_off (size_t) */
};

struct ctl_schema;

struct ctl_field {
	const char *key;
	enum ctl_kind kind;
	bool required;
	size_t off;
	size_t count_off;
	const struct ctl_schema *sub;
};

struct ctl_schema {
	const struct ctl_field *fields;
	size_t n_fields;
	size_t size;
};

#define F(T, k, kind, req) { #k, kind, req, offsetof(T, k), 0, NULL }
#define F_INT(T, k) F(T, k, K_INT, false)
#define F_TEXT(T, k) F(T, k, K_TEXT, false)
#define F_ARG(T, k, req) F(T, k, K_ARG, req)
#define F_DICT(T, k, sub) { #k, K_DICT, false, offsetof(T, k), 0, &sub }
#define F_LIST(T, k, sub, req) { #k, K_LIST, req, offsetof(T, k), offsetof(T, n_##k), &sub }
#define SCHEMA(T, fields) { fields, sizeof fields / sizeof fields[0], sizeof(T) }

static const struct ctl_field hello_f[] = {
	F_ARG(struct ctl_hello, client, true),
};
static const struct ctl_field hello_reply_f[] = {
	F_TEXT(struct ctl_hello_reply, server),
	F_INT(struct ctl_hello_reply, version),
};
static const struct ctl_field error_f[] = {
	F_TEXT(struct ctl_error, code),
	F_TEXT(struct ctl_error, message),
};
static const struct ctl_field status_args_f[] = {
	F_INT(struct ctl_status_args, peers),
	F_ARG(struct ctl_status_args, torrent, false),
};
static const struct ctl_field request_args_f[] = {
	F_ARG(struct ctl_request_args, target, true),
};
static const struct ctl_field share_args_f[] = {
	F_ARG(struct ctl_share_args, path, true),
};
static const struct ctl_field update_args_f[] = {
	F_ARG(struct ctl_update_args, after, false),
	F_INT(struct ctl_update_args, limit),
};
static const struct ctl_field search_args_f[] = {
	F_ARG(struct ctl_search_args, after, false),
	F_INT(struct ctl_search_args, limit),
	F_ARG(struct ctl_search_args, words, true),
};
static const struct ctl_field torrent_args_f[] = {
	F_INT(struct ctl_torrent_args, delete_data),
	F_ARG(struct ctl_torrent_args, torrent, true),
};

static const struct ctl_field peer_f[] = {
	F_TEXT(struct ctl_peer, addr),
	F_INT(struct ctl_peer, blocks),
	F_INT(struct ctl_peer, blocks_up),
	F_TEXT(struct ctl_peer, client),
	F_INT(struct ctl_peer, down),
	F_INT(struct ctl_peer, down_rate),
	F_TEXT(struct ctl_peer, flags),
	F_INT(struct ctl_peer, hash_fails),
	F_INT(struct ctl_peer, up),
	F_INT(struct ctl_peer, up_rate),
};
static const struct ctl_schema peer_s = SCHEMA(struct ctl_peer, peer_f);

static const struct ctl_field torrent_f[] = {
	F_INT(struct ctl_torrent, complete),
	F_TEXT(struct ctl_torrent, dht),
	F_INT(struct ctl_torrent, done),
	F_INT(struct ctl_torrent, down_rate),
	F_INT(struct ctl_torrent, downloaded),
	F_TEXT(struct ctl_torrent, error),
	F_INT(struct ctl_torrent, eta),
	F_TEXT(struct ctl_torrent, info_hash),
	F_TEXT(struct ctl_torrent, name),
	F_TEXT(struct ctl_torrent, path),
	F_LIST(struct ctl_torrent, peer_list, peer_s, false),
	F_INT(struct ctl_torrent, peers),
	F_INT(struct ctl_torrent, pieces),
	F_INT(struct ctl_torrent, pieces_done),
	F_INT(struct ctl_torrent, ratio_milli),
	F_INT(struct ctl_torrent, seeds),
	F_INT(struct ctl_torrent, shared),
	F_INT(struct ctl_torrent, size),
	F_TEXT(struct ctl_torrent, state),
	F_INT(struct ctl_torrent, super_seeding),
	F_TEXT(struct ctl_torrent, tracker),
	F_INT(struct ctl_torrent, tracker_seeders),
	F_INT(struct ctl_torrent, up_rate),
	F_INT(struct ctl_torrent, uploaded),
	F_INT(struct ctl_torrent, wasted),
};
static const struct ctl_schema torrent_s = SCHEMA(struct ctl_torrent, torrent_f);

static const struct ctl_field start_reply_f[] = {
	F_INT(struct ctl_start_reply, announced),
};
static const struct ctl_field dht_f[] = {
	F_INT(struct ctl_dht, good_nodes),
	F_INT(struct ctl_dht, lookups),
	F_INT(struct ctl_dht, nodes),
	F_INT(struct ctl_dht, nodes6),
	F_INT(struct ctl_dht, stored_peers),
};
static const struct ctl_schema dht_s = SCHEMA(struct ctl_dht, dht_f);

static const struct ctl_field status_f[] = {
	F_INT(struct ctl_status, closed),
	F_DICT(struct ctl_status, dht, dht_s),
	F_LIST(struct ctl_status, torrents, torrent_s, true),
};
static const struct ctl_field close_reply_f[] = {
	F_INT(struct ctl_close_reply, changed),
	F_LIST(struct ctl_close_reply, torrents, torrent_s, true),
};
static const struct ctl_field torrent_reply_f[] = {
	F_INT(struct ctl_torrent_reply, changed),
	F_TEXT(struct ctl_torrent_reply, note),
	F_DICT(struct ctl_torrent_reply, torrent, torrent_s),
};

static const struct ctl_schema hello_s = SCHEMA(struct ctl_hello, hello_f);
static const struct ctl_schema hello_reply_s = SCHEMA(struct ctl_hello_reply, hello_reply_f);
static const struct ctl_schema error_s = SCHEMA(struct ctl_error, error_f);
static const struct ctl_schema status_args_s = SCHEMA(struct ctl_status_args, status_args_f);
static const struct ctl_schema request_args_s = SCHEMA(struct ctl_request_args, request_args_f);
static const struct ctl_schema share_args_s = SCHEMA(struct ctl_share_args, share_args_f);
static const struct ctl_schema update_args_s = SCHEMA(struct ctl_update_args, update_args_f);
static const struct ctl_schema search_args_s = SCHEMA(struct ctl_search_args, search_args_f);
static const struct ctl_schema torrent_args_s = SCHEMA(struct ctl_torrent_args, torrent_args_f);
static const struct ctl_schema start_reply_s = SCHEMA(struct ctl_start_reply, start_reply_f);
static const struct ctl_schema status_s = SCHEMA(struct ctl_status, status_f);
static const struct ctl_schema close_reply_s = SCHEMA(struct ctl_close_reply, close_reply_f);
static const struct ctl_schema torrent_reply_s = SCHEMA(struct ctl_torrent_reply,
                                                        torrent_reply_f);

/* ---- encoding ---- */

static void enc_fields(struct sta_buf *b, const struct ctl_schema *s, const void *obj);

static void enc_dict(struct sta_buf *b, const struct ctl_schema *s, const void *obj)
{
	be_enc_dict_begin(b);
	enc_fields(b, s, obj);
	be_enc_end(b);
}

static void enc_field(struct sta_buf *b, const struct ctl_field *f, const char *base)
{
	const void *p = base + f->off;

	switch (f->kind) {
	case K_INT:
		if (*(const int64_t *)p >= 0)
			be_enc_kv_int(b, f->key, *(const int64_t *)p);
		break;
	case K_TEXT:
	case K_ARG:
		if (((const struct ctl_str *)p)->p)
			be_enc_kv_str(b, f->key, ((const struct ctl_str *)p)->p,
			              ((const struct ctl_str *)p)->len);
		break;
	case K_DICT:
		if (*(void *const *)p) {
			be_enc_cstr(b, f->key);
			enc_dict(b, f->sub, *(void *const *)p);
		}
		break;
	case K_LIST: {
		const char *items = *(const char *const *)p;
		size_t n = *(const size_t *)(base + f->count_off);
		if (items == NULL && !f->required)
			break;
		be_enc_cstr(b, f->key);
		be_enc_list_begin(b);
		for (size_t i = 0; i < n; i++)
			enc_dict(b, f->sub, items + i * f->sub->size);
		be_enc_end(b);
		break;
	}
	}
}

static void enc_fields(struct sta_buf *b, const struct ctl_schema *s, const void *obj)
{
	for (size_t i = 0; i < s->n_fields; i++)
		enc_field(b, &s->fields[i], obj);
}

static bool encode(struct sta_buf *b, uint16_t type, const struct ctl_schema *s, const void *obj)
{
	size_t start = ctl_frame_begin(b, type);

	if (s)
		enc_fields(b, s, obj);
	return ctl_frame_end(b, start);
}

bool ctl_hello_encode(struct sta_buf *b, const struct ctl_hello *m)
{
	return encode(b, CTL_MSG_HELLO, &hello_s, m);
}

bool ctl_hello_reply_encode(struct sta_buf *b, const struct ctl_hello_reply *m)
{
	return encode(b, CTL_MSG_OK, &hello_reply_s, m);
}

bool ctl_error_encode(struct sta_buf *b, const struct ctl_error *m)
{
	return encode(b, CTL_MSG_ERROR, &error_s, m);
}

bool ctl_status_args_encode(struct sta_buf *b, const struct ctl_status_args *m)
{
	return encode(b, CTL_MSG_STATUS, &status_args_s, m);
}

bool ctl_request_args_encode(struct sta_buf *b, const struct ctl_request_args *m)
{
	return encode(b, CTL_MSG_REQUEST, &request_args_s, m);
}

bool ctl_share_args_encode(struct sta_buf *b, const struct ctl_share_args *m)
{
	return encode(b, CTL_MSG_SHARE, &share_args_s, m);
}

bool ctl_torrent_args_encode(struct sta_buf *b, uint16_t type, const struct ctl_torrent_args *m)
{
	return encode(b, type, &torrent_args_s, m);
}

bool ctl_update_args_encode(struct sta_buf *b, const struct ctl_update_args *m)
{
	return encode(b, CTL_MSG_UPDATE, &update_args_s, m);
}

bool ctl_search_args_encode(struct sta_buf *b, const struct ctl_search_args *m)
{
	return encode(b, CTL_MSG_SEARCH, &search_args_s, m);
}

bool ctl_empty_encode(struct sta_buf *b, uint16_t type)
{
	return encode(b, type, NULL, NULL);
}

bool ctl_start_reply_encode(struct sta_buf *b, const struct ctl_start_reply *m)
{
	return encode(b, CTL_MSG_OK, &start_reply_s, m);
}

bool ctl_status_encode(struct sta_buf *b, const struct ctl_status *m)
{
	return encode(b, CTL_MSG_OK, &status_s, m);
}

bool ctl_close_reply_encode(struct sta_buf *b, const struct ctl_close_reply *m)
{
	return encode(b, CTL_MSG_OK, &close_reply_s, m);
}

bool ctl_torrent_reply_encode(struct sta_buf *b, const struct ctl_torrent_reply *m)
{
	return encode(b, CTL_MSG_OK, &torrent_reply_s, m);
}

bool ctl_event_encode(struct sta_buf *b, const struct ctl_torrent *m)
{
	return encode(b, CTL_MSG_EVENT, &torrent_s, m);
}

bool ctl_listing_encode(struct sta_buf *b, const struct catalog_listing *l, const char *announce)
{
	struct sta_buf page = STA_BUF_INIT;
	size_t start = ctl_frame_begin(b, CTL_MSG_OK);

	/* The listing's dict entries are the payload's; "announce" sorts first. */
	if (announce)
		be_enc_kv_cstr(b, "announce", announce);
	catalog_listing_encode(&page, CATALOG_FMT_BENCODE, l->v, l->n, l->next, NULL);
	buf_append(b, page.data + 1, page.len - 2);
	buf_free(&page);
	return ctl_frame_end(b, start);
}

bool ctl_listing_decode(const struct be_doc *doc, struct catalog_listing *l, size_t *skipped,
                        char *err, size_t errlen)
{
	return catalog_listing_decode(doc->data, doc->len, l, skipped, err, errlen);
}

bool ctl_listing_announce(const struct be_doc *doc, char *url, size_t urlsz)
{
	size_t len;
	char problem[80];
	const uint8_t *s = be_dict_get_str(doc, be_root(doc), "announce", &len);

	if (s == NULL || len >= urlsz || metainfo_url_kind(s, len, problem, sizeof problem) != 1)
		return false;
	memcpy(url, s, len);
	url[len] = '\0';
	return true;
}

void ctl_frame_error(struct sta_buf *b, const char *code, const char *message)
{
	struct ctl_error e = { ctl_str_c(code), ctl_str_c(message) };

	/* Both are ours and short: it always fits. */
	ctl_error_encode(b, &e);
}

/* ---- decoding ---- */

static void free_fields(const struct ctl_schema *s, void *obj)
{
	char *base = obj;

	for (size_t i = 0; i < s->n_fields; i++) {
		const struct ctl_field *f = &s->fields[i];
		void **p = (void **)(base + f->off);
		if (f->kind == K_DICT && *p) {
			free_fields(f->sub, *p);
		} else if (f->kind == K_LIST && *p) {
			size_t n = *(size_t *)(base + f->count_off);
			for (size_t j = 0; j < n; j++)
				free_fields(f->sub, (char *)*p + j * f->sub->size);
			*(size_t *)(base + f->count_off) = 0;
		} else {
			continue;
		}
		free(*p);
		*p = NULL;
	}
}

static bool dec_fields(const struct be_doc *doc, const struct be_node *dict,
                       const struct ctl_schema *s, void *obj, char *err, size_t errlen);

static bool dec_arg(const struct be_node *n, const struct ctl_field *f, struct ctl_str *out,
                    const struct be_doc *doc, char *err, size_t errlen)
{
	const char *p = n ? (const char *)be_str(doc, n) : NULL;

	if (n == NULL)
		return true;
	if (n->type != BE_STR || n->str_len == 0 || n->str_len > CTL_ARG_MAX ||
	    memchr(p, '\0', n->str_len)) {
		snprintf(err, errlen, "\"%s\" must be a string of 1 to %d bytes without NUL",
		         f->key, CTL_ARG_MAX);
		return false;
	}
	*out = (struct ctl_str){ p, n->str_len };
	return true;
}

static bool dec_list(const struct be_doc *doc, const struct be_node *n, const struct ctl_field *f,
                     char *base, char *err, size_t errlen)
{
	size_t size = f->sub->size;
	/* Never NULL when present, even when empty. */
	char *items = xcalloc(n->count ? n->count : 1, size);
	size_t i = 0;

	*(char **)(base + f->off) = items;
	for (const struct be_node *c = be_first(doc, n); c; c = be_next(doc, c), i++) {
		*(size_t *)(base + f->count_off) = i + 1;
		if (!dec_fields(doc, c->type == BE_DICT ? c : NULL, f->sub, items + i * size, err,
		                errlen))
			return false;
	}
	return true;
}

static bool dec_field(const struct be_doc *doc, const struct be_node *dict,
                      const struct ctl_field *f, char *base, char *err, size_t errlen)
{
	const struct be_node *n = dict ? be_dict_get(doc, dict, f->key) : NULL;
	void *p = base + f->off;
	bool found = false;

	switch (f->kind) {
	case K_INT:
		found = n && n->type == BE_INT;
		*(int64_t *)p = found && n->ival >= 0 ? n->ival : CTL_UNKNOWN;
		break;
	case K_TEXT:
		found = n && n->type == BE_STR;
		if (found)
			*(struct ctl_str *)p = (struct ctl_str){ (const char *)be_str(doc, n),
				                                 n->str_len };
		break;
	case K_ARG:
		if (!dec_arg(n, f, p, doc, err, errlen))
			return false;
		found = n != NULL;
		break;
	case K_DICT:
		found = n && n->type == BE_DICT;
		if (found) {
			*(void **)p = xcalloc(1, f->sub->size);
			if (!dec_fields(doc, n, f->sub, *(void **)p, err, errlen))
				return false;
		}
		break;
	case K_LIST:
		found = n && n->type == BE_LIST;
		if (found && !dec_list(doc, n, f, base, err, errlen))
			return false;
		break;
	}
	if (!found && f->required) {
		snprintf(err, errlen, "no \"%s\" %s", f->key,
		         f->kind == K_LIST ? "list" : f->kind == K_DICT ? "dict" : "string");
		return false;
	}
	return true;
}

/* dict NULL: every field unknown. */
static bool dec_fields(const struct be_doc *doc, const struct be_node *dict,
                       const struct ctl_schema *s, void *obj, char *err, size_t errlen)
{
	memset(obj, 0, s->size);
	for (size_t i = 0; i < s->n_fields; i++)
		if (!dec_field(doc, dict, &s->fields[i], obj, err, errlen))
			return false;
	return true;
}

static bool decode(const struct be_doc *doc, const struct ctl_schema *s, void *obj, char *err,
                   size_t errlen)
{
	const struct be_node *root = be_root(doc);

	if (dec_fields(doc, root && root->type == BE_DICT ? root : NULL, s, obj, err, errlen))
		return true;
	free_fields(s, obj);
	return false;
}

bool ctl_hello_decode(const struct be_doc *doc, struct ctl_hello *m, char *err, size_t errlen)
{
	return decode(doc, &hello_s, m, err, errlen);
}

bool ctl_hello_reply_decode(const struct be_doc *doc, struct ctl_hello_reply *m, char *err,
                            size_t errlen)
{
	return decode(doc, &hello_reply_s, m, err, errlen);
}

bool ctl_error_decode(const struct be_doc *doc, struct ctl_error *m, char *err, size_t errlen)
{
	return decode(doc, &error_s, m, err, errlen);
}

bool ctl_status_args_decode(const struct be_doc *doc, struct ctl_status_args *m, char *err,
                            size_t errlen)
{
	return decode(doc, &status_args_s, m, err, errlen);
}

bool ctl_request_args_decode(const struct be_doc *doc, struct ctl_request_args *m, char *err,
                             size_t errlen)
{
	return decode(doc, &request_args_s, m, err, errlen);
}

bool ctl_share_args_decode(const struct be_doc *doc, struct ctl_share_args *m, char *err,
                           size_t errlen)
{
	return decode(doc, &share_args_s, m, err, errlen);
}

bool ctl_torrent_args_decode(const struct be_doc *doc, struct ctl_torrent_args *m, char *err,
                             size_t errlen)
{
	return decode(doc, &torrent_args_s, m, err, errlen);
}

bool ctl_update_args_decode(const struct be_doc *doc, struct ctl_update_args *m, char *err,
                            size_t errlen)
{
	return decode(doc, &update_args_s, m, err, errlen);
}

bool ctl_search_args_decode(const struct be_doc *doc, struct ctl_search_args *m, char *err,
                            size_t errlen)
{
	return decode(doc, &search_args_s, m, err, errlen);
}

bool ctl_start_reply_decode(const struct be_doc *doc, struct ctl_start_reply *m, char *err,
                            size_t errlen)
{
	return decode(doc, &start_reply_s, m, err, errlen);
}

bool ctl_status_decode(const struct be_doc *doc, struct ctl_status *m, char *err, size_t errlen)
{
	return decode(doc, &status_s, m, err, errlen);
}

bool ctl_close_reply_decode(const struct be_doc *doc, struct ctl_close_reply *m, char *err,
                            size_t errlen)
{
	return decode(doc, &close_reply_s, m, err, errlen);
}

bool ctl_torrent_reply_decode(const struct be_doc *doc, struct ctl_torrent_reply *m, char *err,
                              size_t errlen)
{
	return decode(doc, &torrent_reply_s, m, err, errlen);
}

bool ctl_event_decode(const struct be_doc *doc, struct ctl_torrent *m, char *err, size_t errlen)
{
	return decode(doc, &torrent_s, m, err, errlen);
}

void ctl_status_free(struct ctl_status *m)
{
	free_fields(&status_s, m);
}

void ctl_close_reply_free(struct ctl_close_reply *m)
{
	free_fields(&close_reply_s, m);
}

void ctl_torrent_reply_free(struct ctl_torrent_reply *m)
{
	free_fields(&torrent_reply_s, m);
}

void ctl_torrent_free(struct ctl_torrent *m)
{
	free_fields(&torrent_s, m);
}

void ctl_torrent_init(struct ctl_torrent *m)
{
	/* Without a dict nothing can fail. */
	dec_fields(NULL, NULL, &torrent_s, m, NULL, 0);
}

char *ctl_str_dup(struct ctl_str s)
{
	return s.p ? xstrndup(s.p, s.len) : xstrdup("");
}

bool ctl_str_eq(struct ctl_str s, const char *c)
{
	size_t n = strlen(c);

	return s.p && s.len == n && memcmp(s.p, c, n) == 0;
}
