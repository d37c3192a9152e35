/* The control verbs on top of the session. */
#include "ctl_verbs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "catalog_client.h"
#include "catalog_resolve.h"
#include "ctl_proto.h"
#include "ctl_server.h"
#include "hex.h"
#include "log.h"
#include "magnet.h"
#include "magnet_torrent.h"
#include "sconfig.h"
#include "session.h"
#include "share.h"
#include "torrent.h"
#include "xmalloc.h"

#define ARG_MAX_LEN 4096

/* A request waiting on the tracker's catalog, or a CLOSE waiting for its
 * stopped announces. */
struct ctl_op {
	TAILQ_ENTRY(ctl_op) link;
	struct ctl_verbs *v;
	uint64_t id;
	uint16_t type;
	struct catalog_client_call *call;
	struct catalog_resolve *resolve; /* REQUEST by name */
	char *note;                /* REQUEST: which of several entries was chosen */
};

struct ctl_verbs {
	struct ctl_server *srv;
	struct session *s;
	TAILQ_HEAD(, ctl_op) ops;
};

struct ctl_verbs *ctl_verbs_new(struct ctl_server *srv, struct session *s)
{
	struct ctl_verbs *v = xcalloc(1, sizeof *v);

	v->srv = srv;
	v->s = s;
	TAILQ_INIT(&v->ops);
	return v;
}

static void op_free(struct ctl_op *op)
{
	TAILQ_REMOVE(&op->v->ops, op, link);
	free(op->note);
	free(op);
}

void ctl_verbs_free(struct ctl_verbs *v)
{
	if (v == NULL)
		return;
	while (!TAILQ_EMPTY(&v->ops)) {
		struct ctl_op *op = TAILQ_FIRST(&v->ops);
		catalog_client_cancel(op->call);
		catalog_resolve_cancel(op->resolve);
		op_free(op);
	}
	free(v);
}

static struct ctl_op *op_new(struct ctl_verbs *v, uint64_t id, uint16_t type)
{
	struct ctl_op *op = xcalloc(1, sizeof *op);

	op->v = v;
	op->id = id;
	op->type = type;
	TAILQ_INSERT_TAIL(&v->ops, op, link);
	return op;
}

/* ---- arguments and replies ---- */

/* A string argument as a C string (heap); NULL when absent, not a string,
 * too long or holding a NUL. */
static char *arg_str(const struct be_doc *doc, const char *key)
{
	size_t len;
	const uint8_t *p = be_dict_get_str(doc, be_root(doc), key, &len);

	if (p == NULL || len == 0 || len > ARG_MAX_LEN || memchr(p, '\0', len))
		return NULL;
	return xstrndup((const char *)p, len);
}

static bool arg_flag(const struct be_doc *doc, const char *key)
{
	int64_t v = 0;

	return be_dict_get_int(doc, be_root(doc), key, &v) && v != 0;
}

static void reply_ok_empty(struct ctl_verbs *v, uint64_t id)
{
	struct sta_buf b = STA_BUF_INIT;
	size_t start = ctl_frame_begin(&b, CTL_MSG_OK);

	ctl_frame_end(&b, start);
	ctl_server_reply(v->srv, id, &b);
	buf_free(&b);
}

/* Closes and sends a reply frame built from start; too large -> error. */
static void reply_frame(struct ctl_verbs *v, uint64_t id, struct sta_buf *b, size_t start)
{
	if (ctl_frame_end(b, start))
		ctl_server_reply(v->srv, id, b);
	else
		ctl_server_reply_error(v->srv, id, "internal", "the reply is too large");
	buf_free(b);
}

/* note: NULL, or which of several catalog entries REQUEST chose. */
static void reply_torrent_note(struct ctl_verbs *v, uint64_t id, const struct torrent *t,
                               const char *note)
{
	struct sta_buf b = STA_BUF_INIT;
	size_t start = ctl_frame_begin(&b, CTL_MSG_OK);

	be_enc_kv_str(&b, "info_hash", t->hex, 40);
	be_enc_kv_cstr(&b, "name", t->mi.name);
	if (note)
		be_enc_kv_cstr(&b, "note", note);
	be_enc_kv_int(&b, "size", (int64_t)t->mi.total_length);
	be_enc_kv_cstr(&b, "state", torrent_state_name(t));
	reply_frame(v, id, &b, start);
}

static void reply_torrent(struct ctl_verbs *v, uint64_t id, const struct torrent *t)
{
	reply_torrent_note(v, id, t, NULL);
}

/* The torrent named by the "torrent" argument; replies with an error and
 * returns NULL when there is none. */
static struct torrent *arg_torrent(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	char *what = arg_str(doc, "torrent");
	char err[256];
	struct torrent *t;

	if (what == NULL) {
		ctl_server_reply_error(v->srv, id, "bad_request", "name the torrent (\"torrent\")");
		return NULL;
	}
	t = session_lookup(v->s, what, err, sizeof err);
	free(what);
	if (t == NULL)
		ctl_server_reply_error(v->srv, id, "not_found", err);
	return t;
}

/* ---- STATUS, START, CLOSE ---- */

static void verb_status(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	struct sta_buf b = STA_BUF_INIT;
	char *filter = arg_str(doc, "torrent");
	char err[256];
	size_t start = ctl_frame_begin(&b, CTL_MSG_OK);

	if (session_status(v->s, filter, arg_flag(doc, "peers"), &b, err, sizeof err)) {
		reply_frame(v, id, &b, start);
	} else {
		buf_free(&b);
		ctl_server_reply_error(v->srv, id, "not_found", err);
	}
	free(filter);
}

static void verb_start(struct ctl_verbs *v, uint64_t id)
{
	struct sta_buf b = STA_BUF_INIT;
	size_t start = ctl_frame_begin(&b, CTL_MSG_OK);

	be_enc_kv_int(&b, "announced", session_start(v->s));
	reply_frame(v, id, &b, start);
}

/* Every CLOSE waiting is answered: the stopped announces are out (or
 * timed out), so a tracker no longer lists us when stactl returns. */
static void close_done(void *arg)
{
	struct ctl_verbs *v = arg;
	struct ctl_op *op, *next;

	log_info("stopped announces sent");
	for (op = TAILQ_FIRST(&v->ops); op; op = next) {
		next = TAILQ_NEXT(op, link);
		if (op->type == CTL_MSG_CLOSE) {
			reply_ok_empty(v, op->id);
			op_free(op);
		}
	}
}

static void verb_close(struct ctl_verbs *v, uint64_t id)
{
	log_info("CLOSE: leaving every swarm");
	op_new(v, id, CTL_MSG_CLOSE);
	session_close(v->s, close_done, v);
}

/* ---- UPDATE and SEARCH: one page of the catalog ---- */

static void encode_entries(struct sta_buf *b, const struct catalog_listing *l)
{
	be_enc_cstr(b, "files");
	be_enc_list_begin(b);
	for (size_t i = 0; i < l->n; i++)
		catalog_entry_bencode(b, &l->v[i]);
	be_enc_end(b);
	if (l->next[0])
		be_enc_kv_cstr(b, "next", l->next);
}

static void listed(void *arg, const struct catalog_listing *l, const char *error)
{
	struct ctl_op *op = arg;
	struct ctl_verbs *v = op->v;
	uint64_t id = op->id;

	op_free(op);
	if (error) {
		ctl_server_reply_error(v->srv, id, "io", error);
		return;
	}
	struct sta_buf b = STA_BUF_INIT;
	size_t start = ctl_frame_begin(&b, CTL_MSG_OK);
	encode_entries(&b, l);
	reply_frame(v, id, &b, start);
}

static bool need_tracker(struct ctl_verbs *v, uint64_t id)
{
	if (v->s->tracker_url)
		return true;
	ctl_server_reply_error(v->srv, id, "bad_request", "no tracker configured (\"tracker\")");
	return false;
}

/* The page arguments: limit (1-1000) and after (a cursor from "next"). */
static bool page_args(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc,
                      struct catalog_query *q)
{
	int64_t limit;
	char *after = arg_str(doc, "after");
	bool ok = true;

	if (be_dict_get_int(doc, be_root(doc), "limit", &limit)) {
		ok = limit >= 1 && limit <= CATALOG_LIMIT_MAX;
		q->limit = ok ? (uint32_t)limit : q->limit;
	}
	if (ok && after) {
		ok = q->has_after = catalog_cursor_decode(after, strlen(after), &q->after);
		q->sort = q->after.sort;
		q->desc = q->after.desc;
	}
	free(after);
	if (!ok)
		ctl_server_reply_error(v->srv, id, "bad_request", "limit must be 1 to 1000 and "
		                       "after a \"next\" from the previous page");
	return ok;
}

static void list_page(struct ctl_verbs *v, uint64_t id, uint16_t type,
                      const struct catalog_query *q)
{
	struct ctl_op *op = op_new(v, id, type);
	char err[256];

	op->call = catalog_client_list(v->s->base, v->s->dns, v->s->tracker_url, q, listed, op,
	                               err, sizeof err);
	if (op->call == NULL) {
		ctl_server_reply_error(v->srv, id, "bad_request", err);
		op_free(op);
	}
}

static void verb_update(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	struct catalog_query q;

	catalog_query_init(&q);
	if (need_tracker(v, id) && page_args(v, id, doc, &q))
		list_page(v, id, CTL_MSG_UPDATE, &q);
}

static void verb_search(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	struct catalog_query q;
	char *words = arg_str(doc, "words");

	catalog_query_init(&q);
	if (words == NULL || strlen(words) > CATALOG_WORDS_MAX) {
		ctl_server_reply_error(v->srv, id, "bad_request", "give the words to search for "
		                       "(\"words\", at most 256 bytes)");
	} else if (need_tracker(v, id)) {
		strcpy(q.words, words);
		q.sort = CATALOG_SORT_RANK;
		q.desc = true;
		if (page_args(v, id, doc, &q))
			list_page(v, id, CTL_MSG_SEARCH, &q);
	}
	free(words);
}

/* ---- REQUEST ---- */

/* Adds a torrent to download and replies with it (and the note). */
static void add_download(struct ctl_verbs *v, uint64_t id, struct metainfo *mi,
                         const char *note)
{
	struct torrent *t, *existing;
	char err[256];

	t = session_add_torrent(v->s, mi, v->s->cfg->download_dir, NULL, false, true, &existing,
	                        err, sizeof err);
	if (t == NULL) {
		metainfo_free(mi);
		if (existing)
			reply_torrent_note(v, id, existing, note);
		else
			ctl_server_reply_error(v->srv, id, "io", err);
		return;
	}
	log_info("%s: downloading \"%s\" (%llu bytes) into %s", t->hex, t->mi.name,
	         (unsigned long long)t->mi.total_length, t->data_dir);
	torrent_start(t);
	reply_torrent_note(v, id, t, note);
}

static void fetch_done(void *arg, struct metainfo *mi, const char *error)
{
	struct ctl_op *op = arg;
	struct ctl_verbs *v = op->v;
	uint64_t id = op->id;

	if (mi == NULL)
		ctl_server_reply_error(v->srv, id, "io", error);
	else
		add_download(v, id, mi, op->note);
	op_free(op);
	free(mi);
}

static void resolved(void *arg, const struct catalog_entry *e, const char *note,
                     const char *code, const char *error)
{
	struct ctl_op *op = arg;
	struct ctl_verbs *v = op->v;
	char err[256];

	op->resolve = NULL;
	if (e == NULL) {
		ctl_server_reply_error(v->srv, op->id, code, error);
		op_free(op);
		return;
	}
	if (note) {
		log_info("%s", note);
		op->note = xstrdup(note);
	}
	op->call = catalog_client_fetch(v->s->base, v->s->dns, v->s->tracker_url, e->info_hash,
	                                fetch_done, op, err, sizeof err);
	if (op->call == NULL) {
		ctl_server_reply_error(v->srv, op->id, "io", err);
		op_free(op);
	}
}

static void request_file(struct ctl_verbs *v, uint64_t id, const char *path)
{
	struct metainfo *mi = xcalloc(1, sizeof *mi);
	char err[512];

	if (session_read_torrent(path, mi, err, sizeof err))
		add_download(v, id, mi, NULL);
	else
		ctl_server_reply_error(v->srv, id, "bad_request", err);
	free(mi);
}

static void request_magnet(struct ctl_verbs *v, uint64_t id, const char *uri)
{
	struct magnet m;
	struct magnet_error me;
	struct torrent *t, *existing;
	char err[256];

	if (!magnet_parse(uri, strlen(uri), &m, &me)) {
		ctl_server_reply_error(v->srv, id, "bad_request", me.msg);
		return;
	}
	t = magnet_torrent_add(v->s, &m, &existing, err, sizeof err);
	magnet_free(&m);
	if (t || existing)
		reply_torrent(v, id, t ? t : existing);
	else
		ctl_server_reply_error(v->srv, id, "io", err);
}

static void verb_request(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	char *target = arg_str(doc, "target");
	char err[256];
	struct torrent *t;

	if (target == NULL) {
		ctl_server_reply_error(v->srv, id, "bad_request", "name what to download (\"target\")");
		return;
	}
	if (target[0] == '/') {
		request_file(v, id, target);
	} else if (magnet_is_uri(target)) {
		request_magnet(v, id, target);
	} else if ((t = session_lookup(v->s, target, err, sizeof err)) != NULL) {
		torrent_resume(t);
		reply_torrent(v, id, t);
	} else if (need_tracker(v, id)) {
		struct ctl_op *op = op_new(v, id, CTL_MSG_REQUEST);
		op->resolve = catalog_resolve_start(v->s->base, v->s->dns, v->s->tracker_url, target,
		                                    resolved, op, err, sizeof err);
		if (op->resolve == NULL) {
			ctl_server_reply_error(v->srv, id, "bad_request", err);
			op_free(op);
		}
	}
	free(target);
}

/* ---- SHARE ---- */

static void share_done(void *arg, uint64_t id, struct torrent *t, const char *error)
{
	struct ctl_verbs *v = arg;

	if (t)
		reply_torrent(v, id, t);
	else
		ctl_server_reply_error(v->srv, id, "io", error);
}

static void verb_share(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	char *path = arg_str(doc, "path");

	if (path == NULL || path[0] != '/')
		ctl_server_reply_error(v->srv, id, "bad_request", "give an absolute path (\"path\")");
	else
		share_path(v->s->share, path, share_done, v, id);
	free(path);
}

/* ---- per-torrent verbs ---- */

static void verb_remove(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	struct torrent *t = arg_torrent(v, id, doc);
	bool del = arg_flag(doc, "delete_data");

	if (t == NULL)
		return;
	if (del && t->shared) {
		ctl_server_reply_error(v->srv, id, "bad_request", "refusing to delete a share's "
		                       "own files: remove it without delete_data");
		return;
	}
	torrent_remove(t, del);
	reply_ok_empty(v, id);
}

static void verb_pause_resume(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc,
                              bool pause)
{
	struct torrent *t = arg_torrent(v, id, doc);

	if (t == NULL)
		return;
	if (pause)
		torrent_pause(t);
	else
		torrent_resume(t);
	reply_ok_empty(v, id);
}

static void verb_watch(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	struct torrent *t = arg_torrent(v, id, doc);

	if (t == NULL)
		return;
	uint8_t hash[20];
	memcpy(hash, t->mi.info_hash, 20);
	reply_ok_empty(v, id);
	ctl_server_watch(v->srv, id, hash);
}

void ctl_verbs_dispatch(struct ctl_verbs *v, uint64_t id, uint16_t type, const struct be_doc *doc)
{
	switch (type) {
	case CTL_MSG_STATUS: verb_status(v, id, doc); break;
	case CTL_MSG_START: verb_start(v, id); break;
	case CTL_MSG_UPDATE: verb_update(v, id, doc); break;
	case CTL_MSG_SEARCH: verb_search(v, id, doc); break;
	case CTL_MSG_REQUEST: verb_request(v, id, doc); break;
	case CTL_MSG_SHARE: verb_share(v, id, doc); break;
	case CTL_MSG_REMOVE: verb_remove(v, id, doc); break;
	case CTL_MSG_PAUSE: verb_pause_resume(v, id, doc, true); break;
	case CTL_MSG_RESUME: verb_pause_resume(v, id, doc, false); break;
	case CTL_MSG_CLOSE: verb_close(v, id); break;
	case CTL_MSG_WATCH: verb_watch(v, id, doc); break;
	default: ctl_server_reply_error(v->srv, id, "bad_request", "unknown request"); break;
	}
}
