/* The control verbs on top of the session. */
#include "ctl_verbs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "catalog_client.h"
#include "catalog_resolve.h"
#include "ctl_msg.h"
#include "ctl_proto.h"
#include "log.h"
#include "magnet.h"
#include "magnet_torrent.h"
#include "sconfig.h"
#include "session.h"
#include "share.h"
#include "torrent.h"
#include "xmalloc.h"

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
	bool closes;               /* CLOSE: stad was open */
};

struct ctl_verbs {
	struct ctl_answer answer;
	struct session *s;
	TAILQ_HEAD(, ctl_op) ops;
};

static void reply(struct ctl_verbs *v, uint64_t id, struct sta_buf *frame)
{
	v->answer.reply(v->answer.srv, id, frame);
}

static void reply_error(struct ctl_verbs *v, uint64_t id, const char *code, const char *message)
{
	v->answer.error(v->answer.srv, id, code, message);
}

struct ctl_verbs *ctl_verbs_new(const struct ctl_answer *answer, struct session *s)
{
	struct ctl_verbs *v = xcalloc(1, sizeof *v);

	v->answer = *answer;
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

/* Closes and sends a reply frame the encoder appended to b; too large ->
 * an error instead. */
static void reply_frame(struct ctl_verbs *v, uint64_t id, struct sta_buf *b, bool fits)
{
	if (fits)
		reply(v, id, b);
	else
		reply_error(v, id, CTL_ERR_INTERNAL, "the reply is too large");
	buf_free(b);
}

/* changed, and t as it is now; note: NULL, or which of several catalog
 * entries REQUEST chose. */
static void reply_torrent_note(struct ctl_verbs *v, uint64_t id, const struct torrent *t,
                               bool changed, const char *note)
{
	struct sta_buf b = STA_BUF_INIT;
	struct ctl_torrent c;
	struct ctl_torrent_reply r = { changed, ctl_str_c(note), &c };

	torrent_status(t, false, &c);
	bool fits = ctl_torrent_reply_encode(&b, &r);
	torrent_status_free(&c);
	reply_frame(v, id, &b, fits);
}

static void reply_torrent(struct ctl_verbs *v, uint64_t id, const struct torrent *t, bool changed)
{
	reply_torrent_note(v, id, t, changed, NULL);
}

/* Whether an argument payload decoded; replies with the error when not. */
static bool args_ok(struct ctl_verbs *v, uint64_t id, bool decoded, const char *err)
{
	if (!decoded)
		reply_error(v, id, CTL_ERR_BAD_REQUEST, err);
	return decoded;
}

/* The torrent named by a torrent argument; replies with an error and
 * returns NULL when there is none. */
static struct torrent *arg_torrent(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc,
                                   struct ctl_torrent_args *args)
{
	char err[256];
	struct torrent *t;

	if (!args_ok(v, id, ctl_torrent_args_decode(doc, args, err, sizeof err), err))
		return NULL;
	char *what = ctl_str_dup(args->torrent);
	t = session_lookup(v->s, what, err, sizeof err);
	free(what);
	if (t == NULL)
		reply_error(v, id, CTL_ERR_NOT_FOUND, err);
	return t;
}

/* ---- STATUS, START, CLOSE ---- */

static void verb_status(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	struct ctl_status_args args;
	struct ctl_status st;
	char err[256];

	if (!args_ok(v, id, ctl_status_args_decode(doc, &args, err, sizeof err), err))
		return;
	char *filter = args.torrent.p ? ctl_str_dup(args.torrent) : NULL;
	if (session_status(v->s, filter, args.peers == 1, &st, err, sizeof err)) {
		struct sta_buf b = STA_BUF_INIT;
		bool fits = ctl_status_encode(&b, &st);
		session_status_free(&st);
		reply_frame(v, id, &b, fits);
	} else {
		reply_error(v, id, CTL_ERR_NOT_FOUND, err);
	}
	free(filter);
}

static void verb_start(struct ctl_verbs *v, uint64_t id)
{
	struct sta_buf b = STA_BUF_INIT;
	struct ctl_start_reply r = { session_start(v->s) };

	reply_frame(v, id, &b, ctl_start_reply_encode(&b, &r));
}

/* Every CLOSE waiting is answered: the stopped announces are out (or
 * timed out), so a tracker no longer lists us when stactl returns. The
 * one that closed stad lists the torrents; later ones changed nothing. */
static void close_done(void *arg)
{
	struct ctl_verbs *v = arg;
	struct ctl_op *op, *next;
	struct ctl_status st;
	char err[64];

	log_info("stopped announces sent");
	for (op = TAILQ_FIRST(&v->ops); op; op = next) {
		next = TAILQ_NEXT(op, link);
		if (op->type != CTL_MSG_CLOSE)
			continue;
		struct sta_buf b = STA_BUF_INIT;
		struct ctl_close_reply r = { op->closes, NULL, 0 };
		bool have = op->closes && session_status(v->s, NULL, false, &st, err, sizeof err);
		if (have) {
			r.torrents = st.torrents;
			r.n_torrents = st.n_torrents;
		}
		bool fits = ctl_close_reply_encode(&b, &r);
		if (have)
			session_status_free(&st);
		reply_frame(v, op->id, &b, fits);
		op_free(op);
	}
}

static void verb_close(struct ctl_verbs *v, uint64_t id)
{
	struct ctl_op *op = op_new(v, id, CTL_MSG_CLOSE);

	op->closes = !v->s->closed;
	log_info("CLOSE: leaving every swarm");
	session_close(v->s, close_done, v);
}

/* ---- UPDATE and SEARCH: one page of the catalog ---- */

static void listed(void *arg, const struct catalog_listing *l, const char *error)
{
	struct ctl_op *op = arg;
	struct ctl_verbs *v = op->v;
	uint64_t id = op->id;

	op_free(op);
	if (error) {
		reply_error(v, id, CTL_ERR_IO, error);
		return;
	}
	struct sta_buf b = STA_BUF_INIT;
	reply_frame(v, id, &b, ctl_listing_encode(&b, l, v->s->tracker_url));
}

static bool need_tracker(struct ctl_verbs *v, uint64_t id)
{
	if (v->s->tracker_url)
		return true;
	reply_error(v, id, CTL_ERR_BAD_REQUEST,
	                       "no tracker configured (\"tracker\")");
	return false;
}

/* The page arguments: limit (1-1000) and after (a cursor from "next"). */
static bool page_args(struct ctl_verbs *v, uint64_t id, struct ctl_str after, int64_t limit,
                      struct catalog_query *q)
{
	bool ok = limit == CTL_UNKNOWN || (limit >= 1 && limit <= CATALOG_LIMIT_MAX);

	if (ok && limit != CTL_UNKNOWN)
		q->limit = (uint32_t)limit;
	if (ok && after.p) {
		ok = q->has_after = catalog_cursor_decode(after.p, after.len, &q->after);
		q->sort = q->after.sort;
		q->desc = q->after.desc;
	}
	if (!ok)
		reply_error(v, id, CTL_ERR_BAD_REQUEST,
		                       "limit must be 1 to 1000 and after a \"next\" from the "
		                       "previous page");
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
		reply_error(v, id, CTL_ERR_BAD_REQUEST, err);
		op_free(op);
	}
}

static void verb_update(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	struct ctl_update_args args;
	struct catalog_query q;
	char err[256];

	catalog_query_init(&q);
	if (args_ok(v, id, ctl_update_args_decode(doc, &args, err, sizeof err), err) &&
	    need_tracker(v, id) && page_args(v, id, args.after, args.limit, &q))
		list_page(v, id, CTL_MSG_UPDATE, &q);
}

static void verb_search(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	struct ctl_search_args args;
	struct catalog_query q;
	char err[256];

	catalog_query_init(&q);
	if (!args_ok(v, id, ctl_search_args_decode(doc, &args, err, sizeof err), err))
		return;
	if (args.words.len > CATALOG_WORDS_MAX) {
		reply_error(v, id, CTL_ERR_BAD_REQUEST, "give the words to search "
		                       "for (\"words\", at most 256 bytes)");
	} else if (need_tracker(v, id)) {
		memcpy(q.words, args.words.p, args.words.len);
		q.words[args.words.len] = '\0';
		q.sort = CATALOG_SORT_RANK;
		q.desc = true;
		if (page_args(v, id, args.after, args.limit, &q))
			list_page(v, id, CTL_MSG_SEARCH, &q);
	}
}

/* ---- REQUEST ---- */

/* Adds a torrent to download and replies with it (and the note). */
static void add_download(struct ctl_verbs *v, uint64_t id, struct metainfo *mi,
                         const char *note)
{
	struct torrent *t, *existing;
	char err[256];

	t = torrent_add(v->s, mi, v->s->cfg->download_dir, NULL, false, true, &existing,
	                        err, sizeof err);
	if (t == NULL) {
		metainfo_free(mi);
		if (existing)
			reply_torrent_note(v, id, existing, false, note);
		else
			reply_error(v, id, CTL_ERR_IO, err);
		return;
	}
	log_info("%s: downloading \"%s\" (%llu bytes) into %s", t->hex, t->mi.name,
	         (unsigned long long)t->mi.total_length, t->data_dir);
	torrent_start(t);
	reply_torrent_note(v, id, t, true, note);
}

static void fetch_done(void *arg, struct metainfo *mi, const char *error)
{
	struct ctl_op *op = arg;
	struct ctl_verbs *v = op->v;
	uint64_t id = op->id;

	if (mi == NULL)
		reply_error(v, id, CTL_ERR_IO, error);
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
		reply_error(v, op->id, code, error);
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
		reply_error(v, op->id, CTL_ERR_IO, err);
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
		reply_error(v, id, CTL_ERR_BAD_REQUEST, err);
	free(mi);
}

static void request_magnet(struct ctl_verbs *v, uint64_t id, const char *uri)
{
	struct magnet m;
	struct magnet_error me;
	struct torrent *t, *existing;
	char err[256];

	if (!magnet_parse(uri, strlen(uri), &m, &me)) {
		reply_error(v, id, CTL_ERR_BAD_REQUEST, me.msg);
		return;
	}
	t = magnet_torrent_add(v->s, &m, &existing, err, sizeof err);
	magnet_free(&m);
	if (t || existing)
		reply_torrent(v, id, t ? t : existing, t != NULL);
	else
		reply_error(v, id, CTL_ERR_IO, err);
}

static void verb_request(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	struct ctl_request_args args;
	char err[256];
	struct torrent *t;

	if (!args_ok(v, id, ctl_request_args_decode(doc, &args, err, sizeof err), err))
		return;
	char *target = ctl_str_dup(args.target);
	if (target[0] == '/') {
		request_file(v, id, target);
	} else if (magnet_is_uri(target)) {
		request_magnet(v, id, target);
	} else if ((t = session_lookup(v->s, target, err, sizeof err)) != NULL) {
		bool was_paused = t->paused;
		torrent_resume(t);
		reply_torrent(v, id, t, was_paused);
	} else if (need_tracker(v, id)) {
		struct ctl_op *op = op_new(v, id, CTL_MSG_REQUEST);
		op->resolve = catalog_resolve_start(v->s->base, v->s->dns, v->s->tracker_url, target,
		                                    resolved, op, err, sizeof err);
		if (op->resolve == NULL) {
			reply_error(v, id, CTL_ERR_BAD_REQUEST, err);
			op_free(op);
		}
	}
	free(target);
}

/* ---- SHARE ---- */

static void share_done(void *arg, uint64_t id, struct torrent *t, bool added, const char *error)
{
	struct ctl_verbs *v = arg;

	if (t)
		reply_torrent(v, id, t, added);
	else
		reply_error(v, id, CTL_ERR_IO, error);
}

static void verb_share(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	struct ctl_share_args args;
	char err[256];

	if (!args_ok(v, id, ctl_share_args_decode(doc, &args, err, sizeof err), err))
		return;
	char *path = ctl_str_dup(args.path);
	if (path[0] != '/')
		reply_error(v, id, CTL_ERR_BAD_REQUEST,
		                       "give an absolute path (\"path\")");
	else
		share_path(v->s->share, path, share_done, v, id);
	free(path);
}

/* ---- per-torrent verbs ---- */

static void verb_remove(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	struct ctl_torrent_args args;
	struct torrent *t = arg_torrent(v, id, doc, &args);
	bool del = args.delete_data == 1;

	if (t == NULL)
		return;
	if (del && t->shared) {
		reply_error(v, id, CTL_ERR_BAD_REQUEST,
		                       "refusing to delete a share's own files: remove it without "
		                       "delete_data");
		return;
	}
	/* The reply describes it while it still exists. */
	struct sta_buf b = STA_BUF_INIT;
	struct ctl_torrent c;
	struct ctl_torrent_reply r = { 1, { NULL, 0 }, &c };
	torrent_status(t, false, &c);
	bool fits = ctl_torrent_reply_encode(&b, &r);
	torrent_status_free(&c);
	torrent_remove(t, del);
	reply_frame(v, id, &b, fits);
}

static void verb_pause_resume(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc,
                              bool pause)
{
	struct ctl_torrent_args args;
	struct torrent *t = arg_torrent(v, id, doc, &args);

	if (t == NULL)
		return;
	bool changed = t->paused != pause;
	if (pause)
		torrent_pause(t);
	else
		torrent_resume(t);
	reply_torrent(v, id, t, changed);
}

static void verb_watch(struct ctl_verbs *v, uint64_t id, const struct be_doc *doc)
{
	struct ctl_torrent_args args;
	struct torrent *t = arg_torrent(v, id, doc, &args);
	struct sta_buf b = STA_BUF_INIT;

	if (t == NULL)
		return;
	uint8_t hash[20];
	memcpy(hash, t->mi.info_hash, 20);
	ctl_empty_encode(&b, CTL_MSG_OK);
	reply(v, id, &b);
	buf_free(&b);
	v->answer.watch(v->answer.srv, id, hash);
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
	default: reply_error(v, id, CTL_ERR_BAD_REQUEST, "unknown request"); break;
	}
}
