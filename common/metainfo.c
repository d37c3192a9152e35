/* Torrent metainfo: strict v1 parsing, creation and piece arithmetic.
 *
 * Piece length policy: we accept powers of two from 16 KiB to 64 MiB only.
 * Every mainstream creator (mktorrent, libtorrent, Transmission, qBittorrent)
 * emits powers of two in that range and BEP 52 requires them; a piece
 * smaller than one 16 KiB block or larger than 64 MiB only serves to make a
 * peer buffer or re-download absurd amounts, and powers of two keep block
 * arithmetic exact. */
#include "metainfo.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bencode.h"
#include "log.h"
#include "xmalloc.h"

static bool __attribute__((format(printf, 2, 3))) mi_fail(struct mi_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return false;
}

/* What is wrong with one path component, or NULL when it is safe. */
static const char *mi_component_problem(const void *s, size_t len)
{
	const char *p = s;

	if (len == 0)
		return "is empty";
	if (len == 1 && p[0] == '.')
		return "is \".\"";
	if (len == 2 && p[0] == '.' && p[1] == '.')
		return "is \"..\"";
	if (len > MI_MAX_COMPONENT)
		return "is longer than 255 bytes";
	if (memchr(p, '/', len) != NULL)
		return "contains '/'";
	if (memchr(p, '\\', len) != NULL)
		return "contains '\\'";
	if (memchr(p, '\0', len) != NULL)
		return "contains a NUL byte";
	/* Names end up on terminals, in logs and in shell commands. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return "contains a control character";
	return NULL;
}

/* Checks a string node as a path component named where. */
static bool mi_component(const struct be_doc *doc, const struct be_node *n, const char *where,
                         struct mi_error *err)
{
	if (n == NULL || n->type != BE_STR)
		return mi_fail(err, "%s is missing or not a string", where);
	const char *problem = mi_component_problem(be_str(doc, n), n->str_len);
	if (problem != NULL)
		return mi_fail(err, "%s %s", where, problem);
	return true;
}

static bool mi_length(const struct be_node *n, const char *where, uint64_t *out,
                      struct mi_error *err)
{
	if (n == NULL || n->type != BE_INT)
		return mi_fail(err, "%s is missing or not an integer", where);
	if (n->ival < 0 || (uint64_t)n->ival > MI_MAX_TOTAL)
		return mi_fail(err, "%s is %" PRId64 "; want 0 to 2^50", where, n->ival);
	*out = (uint64_t)n->ival;
	return true;
}

static bool mi_add_total(struct metainfo *mi, uint64_t len, struct mi_error *err)
{
	if (len > MI_MAX_TOTAL - mi->total_length)
		return mi_fail(err, "total length exceeds 2^50 bytes");
	mi->total_length += len;
	return true;
}

/* One entry of info.files: its path joined with '/'. */
static bool mi_parse_file(const struct be_doc *doc, const struct be_node *fd, uint32_t i,
                          struct metainfo *mi, struct mi_error *err)
{
	char where[64];
	size_t room = MI_MAX_PATH - strlen(mi->name) - 1;

	snprintf(where, sizeof where, "info.files[%" PRIu32 "]", i);
	if (fd->type != BE_DICT)
		return mi_fail(err, "%s is not a dictionary", where);
	snprintf(where, sizeof where, "info.files[%" PRIu32 "].length", i);
	uint64_t len = 0;
	if (!mi_length(be_dict_get(doc, fd, "length"), where, &len, err))
		return false;

	const struct be_node *path = be_dict_get_type(doc, fd, "path", BE_LIST);
	if (path == NULL)
		return mi_fail(err, "info.files[%" PRIu32 "].path is missing or not a list", i);
	if (path->count == 0 || path->count > MI_MAX_DEPTH)
		return mi_fail(err, "info.files[%" PRIu32 "].path has %" PRIu32
		               " components; want 1 to %u", i, path->count, MI_MAX_DEPTH);
	struct sta_buf joined = STA_BUF_INIT;
	uint32_t k = 0;
	for (const struct be_node *c = be_first(doc, path); c != NULL; c = be_next(doc, c), k++) {
		snprintf(where, sizeof where, "info.files[%" PRIu32 "].path[%" PRIu32 "]", i, k);
		if (!mi_component(doc, c, where, err)) {
			buf_free(&joined);
			return false;
		}
		if (k > 0)
			buf_append_byte(&joined, '/');
		buf_append(&joined, be_str(doc, c), c->str_len);
		if (joined.len > room) {
			buf_free(&joined);
			return mi_fail(err, "info.files[%" PRIu32 "].path is longer than %u bytes with the name",
			               i, MI_MAX_PATH);
		}
	}
	buf_append_byte(&joined, '\0');
	struct mi_file *f = &mi->files[mi->n_files++];
	f->path = (char *)buf_steal(&joined, NULL);
	f->length = len;
	f->offset = mi->total_length;
	return mi_add_total(mi, len, err);
}

/* Orders paths component by component ('/' below every other byte), so a
 * path and everything under it as a directory sort next to each other. */
static int mi_path_cmp(const void *a, const void *b)
{
	const unsigned char *x = (const unsigned char *)(*(const struct mi_file *const *)a)->path;
	const unsigned char *y = (const unsigned char *)(*(const struct mi_file *const *)b)->path;

	for (;; x++, y++) {
		int cx = *x == '/' ? 1 : *x == 0 ? 0 : *x + 1;
		int cy = *y == '/' ? 1 : *y == 0 ? 0 : *y + 1;
		if (cx != cy || cx == 0)
			return cx - cy;
	}
}

static bool mi_check_unique_paths(struct metainfo *mi, struct mi_error *err)
{
	struct mi_file **sorted = xcalloc(mi->n_files, sizeof *sorted);
	bool ok = true;

	for (uint32_t i = 0; i < mi->n_files; i++)
		sorted[i] = &mi->files[i];
	qsort(sorted, mi->n_files, sizeof *sorted, mi_path_cmp);
	for (uint32_t i = 1; i < mi->n_files && ok; i++) {
		const char *a = sorted[i - 1]->path, *b = sorted[i]->path;
		size_t alen = strlen(a);
		uint32_t ia = (uint32_t)(sorted[i - 1] - mi->files), ib = (uint32_t)(sorted[i] - mi->files);
		if (strcmp(a, b) == 0)
			ok = mi_fail(err, "info.files[%" PRIu32 "] and info.files[%" PRIu32
			             "] have the same path", ia < ib ? ia : ib, ia < ib ? ib : ia);
		else if (strncmp(a, b, alen) == 0 && b[alen] == '/')
			ok = mi_fail(err, "info.files[%" PRIu32 "].path is used as a directory by info.files[%"
			             PRIu32 "]", ia, ib);
	}
	free(sorted);
	return ok;
}

static bool mi_parse_files(const struct be_doc *doc, const struct be_node *info,
                           struct metainfo *mi, struct mi_error *err)
{
	const struct be_node *files = be_dict_get(doc, info, "files");
	const struct be_node *length = be_dict_get(doc, info, "length");

	if (files != NULL && length != NULL)
		return mi_fail(err, "info has both length and files");
	if (files == NULL) {
		if (length == NULL)
			return mi_fail(err, "info has neither length nor files");
		uint64_t len = 0;
		if (!mi_length(length, "info.length", &len, err))
			return false;
		mi->files = xcalloc(1, sizeof *mi->files);
		mi->files[0].path = xstrdup(mi->name);
		mi->files[0].length = len;
		mi->n_files = 1;
		return mi_add_total(mi, len, err);
	}
	if (files->type != BE_LIST)
		return mi_fail(err, "info.files is not a list");
	if (files->count == 0 || files->count > MI_MAX_FILES)
		return mi_fail(err, "info.files has %" PRIu32 " entries; want 1 to %u", files->count,
		               MI_MAX_FILES);
	mi->multi_file = true;
	mi->files = xcalloc(files->count, sizeof *mi->files);
	uint32_t i = 0;
	for (const struct be_node *f = be_first(doc, files); f != NULL; f = be_next(doc, f), i++) {
		if (!mi_parse_file(doc, f, i, mi, err))
			return false;
	}
	return mi_check_unique_paths(mi, err);
}

static bool mi_parse_pieces(const struct be_doc *doc, const struct be_node *info,
                            struct metainfo *mi, struct mi_error *err)
{
	int64_t plen;

	if (!be_dict_get_int(doc, info, "piece length", &plen))
		return mi_fail(err, "info.piece length is missing or not an integer");
	if (plen < MI_MIN_PIECE || plen > MI_MAX_PIECE || (plen & (plen - 1)) != 0)
		return mi_fail(err, "info.piece length is %" PRId64
		               "; want a power of two from 16 KiB to 64 MiB", plen);
	mi->piece_length = (uint32_t)plen;

	size_t n;
	const uint8_t *p = be_dict_get_str(doc, info, "pieces", &n);
	if (p == NULL)
		return mi_fail(err, "info.pieces is missing or not a string");
	uint64_t want = mi->total_length / mi->piece_length +
	                (mi->total_length % mi->piece_length != 0);
	if (n % SHA1_LEN != 0 || n / SHA1_LEN != want)
		return mi_fail(err, "info.pieces is %zu bytes; want %" PRIu64 " (20 per piece for %"
		               PRIu64 " bytes in pieces of %" PRIu32 ")", n, want * SHA1_LEN,
		               mi->total_length, mi->piece_length);
	mi->n_pieces = (uint32_t)want;
	mi->pieces = xmalloc(n);
	memcpy(mi->pieces, p, n);
	return true;
}

static bool mi_parse_info(const struct be_doc *doc, const struct be_node *info,
                          struct metainfo *mi, struct mi_error *err)
{
	const struct be_node *name = be_dict_get(doc, info, "name");

	if (!mi_component(doc, name, "info.name", err))
		return false;
	if (name->str_len > MI_MAX_PATH / 2)
		return mi_fail(err, "info.name is longer than %u bytes", MI_MAX_PATH / 2);
	mi->name = xstrndup((const char *)be_str(doc, name), name->str_len);
	if (!mi_parse_files(doc, info, mi, err))
		return false;
	if (mi->total_length == 0)
		return mi_fail(err, "the torrent has no data (total length 0)");
	if (!mi_parse_pieces(doc, info, mi, err))
		return false;

	const struct be_node *priv = be_dict_get(doc, info, "private");
	if (priv != NULL && priv->type != BE_INT)
		return mi_fail(err, "info.private is not an integer");
	mi->is_private = priv != NULL && priv->ival != 0;
	return true;
}

int metainfo_url_kind(const void *url, size_t len, char *problem, size_t problem_len)
{
	static const char *const schemes[] = { "http://", "https://", "udp://" };
	const uint8_t *s = url;

	if (len == 0 || len > MI_MAX_URL) {
		snprintf(problem, problem_len, "is %zu bytes long; want 1 to %u", len, MI_MAX_URL);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] <= ' ' || s[i] >= 0x7f) {
			snprintf(problem, problem_len, "has a space, control or non-ASCII byte at %zu", i);
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		size_t n = strlen(schemes[i]);
		if (len > n && strncasecmp((const char *)s, schemes[i], n) == 0)
			return 1;
	}
	return 0;
}

/* 1: keep, 0: drop (a scheme we cannot announce to), -1: malformed. */
static int mi_check_url(const struct be_doc *doc, const struct be_node *u, const char *where,
                        struct mi_error *err)
{
	char problem[80];

	if (u->type != BE_STR) {
		mi_fail(err, "%s is not a string", where);
		return -1;
	}
	int kind = metainfo_url_kind(be_str(doc, u), u->str_len, problem, sizeof problem);
	if (kind < 0)
		mi_fail(err, "%s %s", where, problem);
	return kind;
}

static void mi_tier_add(struct mi_tier *t, const struct be_doc *doc, const struct be_node *u)
{
	t->urls[t->n_urls++] = xstrndup((const char *)be_str(doc, u), u->str_len);
}

static bool mi_parse_announce_list(const struct be_doc *doc, const struct be_node *al,
                                   struct metainfo *mi, struct mi_error *err)
{
	char where[64];
	uint32_t total = 0, t = 0;

	if (al->type != BE_LIST)
		return mi_fail(err, "announce-list is not a list");
	if (al->count > MI_MAX_TIERS)
		return mi_fail(err, "announce-list has %" PRIu32 " tiers; the limit is %u", al->count,
		               MI_MAX_TIERS);
	mi->tiers = xcalloc(al->count, sizeof *mi->tiers);
	for (const struct be_node *tier = be_first(doc, al); tier != NULL; tier = be_next(doc, tier), t++) {
		if (tier->type != BE_LIST)
			return mi_fail(err, "announce-list[%" PRIu32 "] is not a list", t);
		total += tier->count;
		if (total > MI_MAX_URLS)
			return mi_fail(err, "announce-list has more than %u URLs", MI_MAX_URLS);
		struct mi_tier *cur = &mi->tiers[mi->n_tiers];
		cur->urls = xcalloc(tier->count, sizeof *cur->urls);
		mi->n_tiers++; /* counted now so metainfo_free sees it */
		uint32_t k = 0;
		for (const struct be_node *u = be_first(doc, tier); u != NULL; u = be_next(doc, u), k++) {
			snprintf(where, sizeof where, "announce-list[%" PRIu32 "][%" PRIu32 "]", t, k);
			int r = mi_check_url(doc, u, where, err);
			if (r < 0)
				return false;
			if (r > 0)
				mi_tier_add(cur, doc, u);
		}
		if (cur->n_urls == 0) {
			free(cur->urls);
			cur->urls = NULL;
			mi->n_tiers--;
		}
	}
	return true;
}

static bool mi_parse_trackers(const struct be_doc *doc, const struct be_node *root,
                              struct metainfo *mi, struct mi_error *err)
{
	const struct be_node *al = be_dict_get(doc, root, "announce-list");
	const struct be_node *a = be_dict_get(doc, root, "announce");

	if (al != NULL && !mi_parse_announce_list(doc, al, mi, err))
		return false;
	if (a == NULL || mi->n_tiers > 0)
		return true;
	int r = mi_check_url(doc, a, "announce", err);
	if (r <= 0)
		return r == 0;
	if (mi->tiers == NULL)
		mi->tiers = xcalloc(1, sizeof *mi->tiers);
	mi->tiers[0].urls = xcalloc(1, sizeof *mi->tiers[0].urls);
	mi_tier_add(&mi->tiers[0], doc, a);
	mi->n_tiers = 1;
	return true;
}

static char *mi_opt_str(const struct be_doc *doc, const struct be_node *root, const char *key)
{
	size_t len;
	const uint8_t *s = be_dict_get_str(doc, root, key, &len);

	return s != NULL ? xstrndup((const char *)s, len) : NULL;
}

static bool mi_parse_doc(const struct be_doc *doc, struct metainfo *mi, struct mi_error *err)
{
	const struct be_node *root = be_root(doc);

	if (root->type != BE_DICT)
		return mi_fail(err, "the top level is not a dictionary");
	const struct be_node *info = be_dict_get(doc, root, "info");
	if (info == NULL || info->type != BE_DICT)
		return mi_fail(err, "info is missing or not a dictionary");
	sha1(be_raw(doc, info), info->raw_len, mi->info_hash);
	mi->info_off = info->raw_off;
	mi->info_len = info->raw_len;
	if (!mi_parse_info(doc, info, mi, err) || !mi_parse_trackers(doc, root, mi, err))
		return false;
	/* Informational fields: a wrong type just leaves them out. */
	mi->comment = mi_opt_str(doc, root, "comment");
	mi->created_by = mi_opt_str(doc, root, "created by");
	if (!be_dict_get_int(doc, root, "creation date", &mi->creation_date))
		mi->creation_date = 0;
	return true;
}

bool metainfo_parse(const uint8_t *data, size_t len, struct metainfo *mi, struct mi_error *err)
{
	struct be_doc doc;
	struct be_error berr;

	memset(mi, 0, sizeof *mi);
	if (be_decode(&doc, data, len, NULL, &berr) != BE_OK)
		return mi_fail(err, "not valid bencode: %s at byte %zu", be_strerror(berr.code),
		               berr.offset);
	bool ok = mi_parse_doc(&doc, mi, err);
	be_doc_free(&doc);
	if (!ok) {
		metainfo_free(mi);
		return false;
	}
	mi->raw = xmalloc(len);
	memcpy(mi->raw, data, len);
	mi->raw_len = len;
	return true;
}

void metainfo_free(struct metainfo *mi)
{
	for (uint32_t i = 0; i < mi->n_files; i++)
		free(mi->files[i].path);
	for (uint32_t t = 0; t < mi->n_tiers; t++) {
		for (uint32_t u = 0; u < mi->tiers[t].n_urls; u++)
			free(mi->tiers[t].urls[u]);
		free(mi->tiers[t].urls);
	}
	free(mi->files);
	free(mi->tiers);
	free(mi->name);
	free(mi->pieces);
	free(mi->comment);
	free(mi->created_by);
	free(mi->raw);
	memset(mi, 0, sizeof *mi);
}

uint32_t metainfo_piece_size(const struct metainfo *mi, uint32_t piece)
{
	if (piece >= mi->n_pieces)
		return 0;
	if (piece + 1 < mi->n_pieces)
		return mi->piece_length;
	return (uint32_t)(mi->total_length - (uint64_t)piece * mi->piece_length);
}

uint32_t metainfo_piece_blocks(const struct metainfo *mi, uint32_t piece)
{
	uint32_t size = metainfo_piece_size(mi, piece);

	return size / MI_BLOCK_SIZE + (size % MI_BLOCK_SIZE != 0);
}

uint32_t metainfo_block_size(const struct metainfo *mi, uint32_t piece, uint32_t block)
{
	uint32_t size = metainfo_piece_size(mi, piece);

	if (block >= size / MI_BLOCK_SIZE + (size % MI_BLOCK_SIZE != 0))
		return 0;
	uint32_t left = size - block * MI_BLOCK_SIZE;
	return left < MI_BLOCK_SIZE ? left : MI_BLOCK_SIZE;
}

size_t metainfo_map(const struct metainfo *mi, uint32_t piece, uint32_t offset, uint32_t length,
                    struct mi_span *spans, size_t max_spans)
{
	uint32_t psize = metainfo_piece_size(mi, piece);

	if (length == 0 || offset > psize || length > psize - offset)
		return 0;
	uint64_t pos = (uint64_t)piece * mi->piece_length + offset;
	/* The last file starting at or before pos holds it: a 0-byte file
	 * there would be followed by one starting at the same offset. */
	uint32_t lo = 0, hi = mi->n_files;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (mi->files[mid].offset <= pos)
			lo = mid;
		else
			hi = mid;
	}
	size_t n = 0;
	for (uint32_t i = lo; length > 0 && i < mi->n_files; i++) {
		const struct mi_file *f = &mi->files[i];
		if (f->length == 0)
			continue;
		uint64_t in_file = pos - f->offset;
		uint64_t avail = f->length - in_file;
		uint32_t take = avail < length ? (uint32_t)avail : length;
		if (n < max_spans)
			spans[n] = (struct mi_span){ i, in_file, take };
		n++;
		pos += take;
		length -= take;
	}
	return n;
}

uint32_t metainfo_choose_piece_length(uint64_t total_bytes)
{
	uint32_t p = MI_MIN_PIECE;

	while (p < 16u * 1024 * 1024 && total_bytes / p + (total_bytes % p != 0) > 2048)
		p *= 2;
	return p;
}

static void mi_enc_path(struct sta_buf *b, const char *path)
{
	be_enc_list_begin(b);
	for (;;) {
		const char *slash = strchr(path, '/');
		size_t n = slash ? (size_t)(slash - path) : strlen(path);
		be_enc_str(b, path, n);
		if (slash == NULL)
			break;
		path = slash + 1;
	}
	be_enc_end(b);
}

static void mi_enc_info(struct sta_buf *b, const struct mi_create *c)
{
	be_enc_cstr(b, "info");
	be_enc_dict_begin(b);
	if (c->multi_file) {
		be_enc_cstr(b, "files");
		be_enc_list_begin(b);
		for (uint32_t i = 0; i < c->n_files; i++) {
			be_enc_dict_begin(b);
			be_enc_kv_int(b, "length", (int64_t)c->files[i].length);
			be_enc_cstr(b, "path");
			mi_enc_path(b, c->files[i].path);
			be_enc_end(b);
		}
		be_enc_end(b);
	} else {
		be_enc_kv_int(b, "length", (int64_t)c->files[0].length);
	}
	be_enc_kv_cstr(b, "name", c->name);
	be_enc_kv_int(b, "piece length", c->piece_length);
	be_enc_kv_str(b, "pieces", c->pieces, (size_t)c->n_pieces * SHA1_LEN);
	if (c->is_private)
		be_enc_kv_int(b, "private", 1);
	be_enc_end(b);
}

static void mi_enc_trackers(struct sta_buf *b, const struct mi_tier *tiers, uint32_t n_tiers)
{
	const char *first = NULL;
	uint32_t n_urls = 0;

	for (uint32_t t = 0; t < n_tiers; t++) {
		if (first == NULL && tiers[t].n_urls > 0)
			first = tiers[t].urls[0];
		n_urls += tiers[t].n_urls;
	}
	if (first == NULL)
		return;
	be_enc_kv_cstr(b, "announce", first);
	if (n_urls == 1)
		return;
	be_enc_cstr(b, "announce-list");
	be_enc_list_begin(b);
	for (uint32_t t = 0; t < n_tiers; t++) {
		if (tiers[t].n_urls == 0)
			continue;
		be_enc_list_begin(b);
		for (uint32_t u = 0; u < tiers[t].n_urls; u++)
			be_enc_cstr(b, tiers[t].urls[u]);
		be_enc_end(b);
	}
	be_enc_end(b);
}

bool metainfo_create(const struct mi_create *c, struct sta_buf *out, struct metainfo *mi,
                     struct mi_error *err)
{
	struct sta_buf b = STA_BUF_INIT;
	struct metainfo tmp;

	if (!c->multi_file && c->n_files != 1)
		return mi_fail(err, "a single-file torrent needs exactly one file, not %" PRIu32,
		               c->n_files);
	for (uint32_t i = 0; i < c->n_files; i++) {
		if (c->files[i].length > MI_MAX_TOTAL)
			return mi_fail(err, "file %" PRIu32 " is longer than 2^50 bytes", i);
	}
	/* Keys in sorted order, as BEP 3 requires. */
	be_enc_dict_begin(&b);
	mi_enc_trackers(&b, c->tiers, c->n_tiers);
	if (c->comment != NULL)
		be_enc_kv_cstr(&b, "comment", c->comment);
	if (c->created_by != NULL)
		be_enc_kv_cstr(&b, "created by", c->created_by);
	if (c->creation_date != 0)
		be_enc_kv_int(&b, "creation date", c->creation_date);
	mi_enc_info(&b, c);
	be_enc_end(&b);

	bool ok = metainfo_parse(b.data, b.len, mi != NULL ? mi : &tmp, err);
	if (ok && mi == NULL)
		metainfo_free(&tmp);
	if (ok)
		buf_append(out, b.data, b.len);
	buf_free(&b);
	return ok;
}

bool metainfo_from_info(const uint8_t *info, size_t len, const struct mi_tier *tiers,
                        uint32_t n_tiers, struct metainfo *mi, struct mi_error *err)
{
	struct sta_buf b = STA_BUF_INIT;

	be_enc_dict_begin(&b);
	mi_enc_trackers(&b, tiers, n_tiers);
	be_enc_cstr(&b, "info");
	buf_append(&b, info, len);
	be_enc_end(&b);
	bool ok = metainfo_parse(b.data, b.len, mi, err);
	buf_free(&b);
	return ok;
}

char *metainfo_path_join(const char *base, const char *rel, struct mi_error *err)
{
	char esc[64];
	size_t n_comp = 0;

	if (base == NULL || base[0] == '\0') {
		mi_fail(err, "empty base directory");
		return NULL;
	}
	if (strlen(rel) > MI_MAX_PATH) {
		mi_fail(err, "path is longer than %u bytes", MI_MAX_PATH);
		return NULL;
	}
	for (const char *p = rel;; n_comp++) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		const char *problem = mi_component_problem(p, n);
		if (problem != NULL || n_comp >= MI_MAX_DEPTH) {
			log_escape(esc, sizeof esc, rel, strlen(rel));
			if (problem != NULL)
				mi_fail(err, "path \"%s\" component %zu %s", esc, n_comp, problem);
			else
				mi_fail(err, "path \"%s\" has more than %u components", esc, MI_MAX_DEPTH);
			return NULL;
		}
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	size_t blen = strlen(base);
	bool sep = base[blen - 1] != '/';
	return xasprintf("%s%s%s", base, sep ? "/" : "", rel);
}
