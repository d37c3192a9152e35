#include "commands.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "render.h"
#include "strnum.h"
#include "xmalloc.h"

#define F_DETACH 1u
#define F_PEERS 2u
#define F_DELETE 4u
#define F_PAGE 8u   /* --limit N and --after CURSOR */

#define NAME_MAX_WIDTH 48
/* A terminal redraws at most 5 times a second; a log gets a line every
 * few seconds. */
#define TTY_REDRAW_MS 200
#define PIPE_LINE_MS 5000
#define WATCH_POLL_MS 100

struct cmd {
	char **args;
	int nargs;
	bool json;
	unsigned flags;
	const char *after;  /* F_PAGE */
	int64_t limit;      /* F_PAGE; 0 = stad's default */
};

struct verb {
	const char *name;
	const char *synopsis;
	const char *help;   /* one line for the list */
	const char *detail; /* for "help VERB" */
	int min_args, max_args;
	unsigned flags;
	uint16_t msg;
	const char *past; /* "paused", for the generic torrent verbs */
	int (*run)(struct session *s, const struct verb *v, const struct cmd *c);
};

static int fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("stactl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

void session_init(struct session *s, const char *socket_path, bool json)
{
	s->socket_path = socket_path;
	s->json = json;
	s->console = false;
	client_init(&s->client);
}

void session_end(struct session *s)
{
	client_close(&s->client);
}

/* Connects if needed, sends the request started at start in b (freed
 * here) and waits for OK. Errors are printed. */
static int call(struct session *s, struct sta_buf *b, size_t start)
{
	int r = ST_OK;

	if (!client_connected(&s->client))
		r = client_connect(&s->client, s->socket_path);
	if (r == ST_OK)
		r = client_call(&s->client, b, start);
	buf_free(b);
	if (r != ST_OK)
		fail(r, "%s", s->client.err);
	return r;
}

static const struct be_doc *doc_of(struct session *s)
{
	return &s->client.doc;
}

static void print_json(struct session *s)
{
	struct sta_buf b = STA_BUF_INIT;

	render_json(&b, doc_of(s), client_root(&s->client));
	printf("%s\n", buf_cstr(&b));
	fflush(stdout);
	buf_free(&b);
}

/* A string field, escaped, or "?"; the text lives in b (the caller's). */
static const char *field_text(struct sta_buf *b, struct session *s, const struct be_node *dict,
                              const char *key)
{
	buf_clear(b);
	render_field(b, doc_of(s), dict, key);
	return buf_cstr(b);
}

static const char *count_text(char *out, size_t outsz, int64_t v)
{
	if (v < 0)
		snprintf(out, outsz, "%s", RENDER_UNKNOWN);
	else
		snprintf(out, outsz, "%" PRId64, v);
	return out;
}

static void add_text(struct table *t, struct session *s, const struct be_node *dict,
                     const char *key)
{
	struct sta_buf b = STA_BUF_INIT;

	table_add(t, field_text(&b, s, dict, key));
	buf_free(&b);
}

static void add_count(struct table *t, int64_t v)
{
	char num[RENDER_NUM_MAX];

	table_add(t, count_text(num, sizeof num, v));
}

static void add_size(struct table *t, int64_t v)
{
	char num[RENDER_NUM_MAX];

	render_size(num, sizeof num, v);
	table_add(t, num);
}

static void add_rate(struct table *t, int64_t v)
{
	char num[RENDER_NUM_MAX];

	render_rate(num, sizeof num, v);
	table_add(t, num);
}

static void print_table(struct table *t)
{
	struct sta_buf b = STA_BUF_INIT;

	table_render(t, &b, NAME_MAX_WIDTH);
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	table_free(t);
}

/* The list at key in the reply root; NULL (after saying so) when stad sent
 * none. */
static const struct be_node *reply_list(struct session *s, const char *key)
{
	const struct be_node *l = be_dict_get_type(doc_of(s), client_root(&s->client), key,
	                                           BE_LIST);
	if (!l)
		fail(ST_PROTOCOL, "protocol error from stad: the reply has no '%s' list", key);
	return l;
}

static int cmd_start(struct session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT;
	char num[RENDER_NUM_MAX];
	int r = call(s, &b, client_begin(&b, CTL_MSG_START));

	if (r != ST_OK)
		return r;
	if (c->json) {
		print_json(s);
		return ST_OK;
	}
	int64_t n = field_count(doc_of(s), client_root(&s->client), "announced");
	printf("announced %s torrent%s to the tracker and published them to the catalog\n",
	       count_text(num, sizeof num, n), n == 1 ? "" : "s");
	return ST_OK;
}

/* The page arguments of UPDATE and SEARCH. */
static void encode_page(struct sta_buf *b, const struct cmd *c)
{
	if (c->after)
		be_enc_kv_cstr(b, "after", c->after);
	if (c->limit)
		be_enc_kv_int(b, "limit", c->limit);
}

/* Prints a page of catalog entries and, when more follow, how to see them. */
static int print_files(struct session *s, const struct cmd *c, const char *verb,
                       const char *words)
{
	static const char *const heads[] = { "NAME", "SIZE", "SEEDERS", "LEECHERS", "INFO-HASH" };
	const struct be_doc *doc = doc_of(s);
	const struct be_node *files = reply_list(s, "files");
	struct sta_buf h = STA_BUF_INIT;
	struct table t;

	if (!files)
		return ST_PROTOCOL;
	if (files->count == 0 && !c->after)
		printf(words ? "nothing in the catalog matches\n" : "the catalog is empty\n");
	if (files->count) {
		table_init(&t, 5, heads, 0xe); /* numbers right-aligned */
		for (const struct be_node *f = be_first(doc, files); f; f = be_next(doc, f)) {
			add_text(&t, s, f, "name");
			add_size(&t, field_count(doc, f, "size"));
			add_count(&t, field_count(doc, f, "seeders"));
			add_count(&t, field_count(doc, f, "leechers"));
			add_text(&t, s, f, "info_hash");
		}
		print_table(&t);
	}
	const struct be_node *root = client_root(&s->client);
	if (be_dict_get_type(doc, root, "next", BE_STR))
		printf("more: %s%s --after %s%s%s%s\n", s->console ? "" : "stactl ", verb,
		       field_text(&h, s, root, "next"), words ? " '" : "", words ? words : "",
		       words ? "'" : "");
	buf_free(&h);
	return ST_OK;
}

static int cmd_update(struct session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT;
	size_t start = client_begin(&b, CTL_MSG_UPDATE);

	encode_page(&b, c);
	int r = call(s, &b, start);
	if (r != ST_OK)
		return r;
	if (c->json) {
		print_json(s);
		return ST_OK;
	}
	return print_files(s, c, "update", NULL);
}

static int cmd_search(struct session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT, words = STA_BUF_INIT;
	size_t start = client_begin(&b, CTL_MSG_SEARCH);

	encode_page(&b, c);
	for (int i = 0; i < c->nargs; i++)
		buf_printf(&words, "%s%s", i ? " " : "", c->args[i]);
	buf_append_byte(&words, '\0');
	be_enc_kv_cstr(&b, "words", (const char *)words.data);
	int r = call(s, &b, start);
	if (r == ST_OK && c->json)
		print_json(s);
	else if (r == ST_OK)
		r = print_files(s, c, "search", (const char *)words.data);
	buf_free(&words);
	return r;
}

static const struct be_node *peer_list(const struct be_doc *doc, const struct be_node *t)
{
	return be_dict_get_type(doc, t, "peer_list", BE_LIST);
}

static int64_t peer_count(const struct be_doc *doc, const struct be_node *t)
{
	const struct be_node *l = peer_list(doc, t);
	int64_t n = field_count(doc, t, "peers");

	return n < 0 && l ? (int64_t)l->count : n;
}

static void print_peers(struct session *s, const struct be_node *tor)
{
	static const char *const heads[] = { "ADDRESS", "CLIENT", "DOWN", "UP",
		                             "BLOCKS",  "HASH-FAILS", "FLAGS" };
	const struct be_doc *doc = doc_of(s);
	const struct be_node *list = peer_list(doc, tor);
	struct sta_buf b = STA_BUF_INIT;
	struct table t;

	printf("\npeers of %s", field_text(&b, s, tor, "name"));
	printf(" (%s):\n", field_text(&b, s, tor, "info_hash"));
	buf_free(&b);
	if (!list || list->count == 0) {
		printf("  no peers\n");
		return;
	}
	table_init(&t, 7, heads, 0x3c);
	for (const struct be_node *p = be_first(doc, list); p; p = be_next(doc, p)) {
		add_text(&t, s, p, "addr");
		add_text(&t, s, p, "client");
		add_size(&t, field_count(doc, p, "down"));
		add_size(&t, field_count(doc, p, "up"));
		add_count(&t, field_count(doc, p, "blocks"));
		add_count(&t, field_count(doc, p, "hash_fails"));
		add_text(&t, s, p, "flags");
	}
	print_table(&t);
}

static int cmd_status(struct session *s, const struct verb *v, const struct cmd *c)
{
	static const char *const heads[] = { "NAME",  "STATE", "DONE",  "SIZE",     "DOWN",
		                             "UP",    "PEERS", "SEEDS", "INFO-HASH" };
	struct sta_buf b = STA_BUF_INIT;
	struct table t;
	size_t start = client_begin(&b, CTL_MSG_STATUS);

	if (c->flags & F_PEERS)
		be_enc_kv_int(&b, "peers", 1);
	if (c->nargs > 0)
		be_enc_kv_cstr(&b, "torrent", c->args[0]);
	int r = call(s, &b, start);
	if (r != ST_OK)
		return r;
	if (c->json) {
		print_json(s);
		return ST_OK;
	}
	const struct be_doc *doc = doc_of(s);
	const struct be_node *tors = reply_list(s, "torrents");
	if (!tors)
		return ST_PROTOCOL;
	if (tors->count == 0) {
		printf("no torrents\n");
		return ST_OK;
	}
	table_init(&t, 9, heads, 0xfc); /* DONE to SEEDS right-aligned */
	for (const struct be_node *tor = be_first(doc, tors); tor; tor = be_next(doc, tor)) {
		char pct[RENDER_NUM_MAX];
		render_percent(pct, sizeof pct, field_count(doc, tor, "done"),
		               field_count(doc, tor, "size"));
		add_text(&t, s, tor, "name");
		add_text(&t, s, tor, "state");
		table_add(&t, pct);
		add_size(&t, field_count(doc, tor, "size"));
		add_rate(&t, field_count(doc, tor, "down_rate"));
		add_rate(&t, field_count(doc, tor, "up_rate"));
		add_count(&t, peer_count(doc, tor));
		add_count(&t, field_count(doc, tor, "seeds"));
		add_text(&t, s, tor, "info_hash");
	}
	print_table(&t);
	if (c->flags & F_PEERS)
		for (const struct be_node *tor = be_first(doc, tors); tor; tor = be_next(doc, tor))
			print_peers(s, tor);
	return ST_OK;
}

/* Watching a download. */

static volatile sig_atomic_t watch_interrupted;

static void watch_sigint(int sig)
{
	watch_interrupted = 1;
}

struct watch {
	bool tty, json, drawn, pending;
	int64_t last_draw;
	struct progress p;
};

static size_t bar_width(bool tty)
{
	struct winsize ws;

	if (!tty || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
		return 20;
	/* The rest of the line takes about 70 columns. */
	if (ws.ws_col < 82)
		return 10;
	return ws.ws_col - 72 > 40 ? 40 : ws.ws_col - 72;
}

static void watch_draw(struct watch *w, bool final)
{
	int64_t now = client_now_ms();
	int64_t pace = w->tty ? TTY_REDRAW_MS : PIPE_LINE_MS;

	if (w->json || !w->pending || (!final && w->drawn && now - w->last_draw < pace))
		return;
	struct sta_buf line = STA_BUF_INIT;
	render_progress(&line, &w->p, bar_width(w->tty));
	if (w->tty)
		printf("\r%s\x1b[K%s", buf_cstr(&line), final ? "\n" : "");
	else
		printf("%s\n", buf_cstr(&line));
	fflush(stdout);
	buf_free(&line);
	w->last_draw = now;
	w->drawn = true;
	w->pending = false;
}

/* Ends a half-drawn terminal line before another message. */
static void watch_break_line(struct watch *w)
{
	if (w->tty && w->drawn && !w->json)
		printf("\n");
	w->drawn = false;
}

/* The last event of a finished download carries complete=1 (ctl_proto.h). */
static bool event_complete(const struct be_doc *doc, const struct be_node *ev)
{
	int64_t flag;

	return field_int(doc, ev, "complete", &flag) && flag == 1;
}

/* Handles one EVENT: ST_OK when the download is complete, ST_FAILED when
 * it failed, CLIENT_AGAIN to keep watching. */
static int watch_event(struct session *s, struct watch *w)
{
	const struct be_doc *doc = doc_of(s);
	const struct be_node *ev = client_root(&s->client);
	size_t errlen = 0;
	const uint8_t *err = be_dict_get_str(doc, ev, "error", &errlen);

	if (w->json)
		print_json(s);
	if (err && errlen > 0) {
		struct sta_buf b = STA_BUF_INIT;
		watch_break_line(w);
		fail(ST_FAILED, "download failed: %s", field_text(&b, s, ev, "error"));
		buf_free(&b);
		return ST_FAILED;
	}
	w->p.size = field_count(doc, ev, "size");
	w->p.done = field_count(doc, ev, "done");
	w->p.rate = field_count(doc, ev, "down_rate");
	w->p.peers = field_count(doc, ev, "peers");
	if (!field_int(doc, ev, "eta", &w->p.eta) || w->p.eta < 0)
		w->p.eta = -1;
	w->pending = true;
	bool complete = event_complete(doc, ev);
	watch_draw(w, complete);
	return complete ? ST_OK : CLIENT_AGAIN;
}

static int watch_loop(struct session *s, struct watch *w)
{
	for (;;) {
		uint16_t type = 0;
		if (watch_interrupted)
			return ST_INTERRUPTED;
		int r = client_read(&s->client, &type, WATCH_POLL_MS);
		if (r == CLIENT_AGAIN) {
			watch_draw(w, false);
			continue;
		}
		if (r != ST_OK) {
			watch_break_line(w);
			return fail(r, "%s", s->client.err);
		}
		if (type == CTL_MSG_ERROR) {
			struct sta_buf b = STA_BUF_INIT;
			watch_break_line(w);
			r = fail(ST_FAILED, "%s", field_text(&b, s, client_root(&s->client),
			                                     "message"));
			buf_free(&b);
			return r;
		}
		if (type != CTL_MSG_EVENT) {
			watch_break_line(w);
			return fail(ST_PROTOCOL, "protocol error from stad: got %s while watching",
			            ctl_msg_name(type));
		}
		r = watch_event(s, w);
		if (r != CLIENT_AGAIN)
			return r;
	}
}

/* Sends WATCH for torrent and draws its progress until the download is
 * complete, fails, or SIGINT stops the watch (not the download). */
static int watch_run(struct session *s, const char *torrent, bool json)
{
	struct sta_buf b = STA_BUF_INIT;
	size_t start = client_begin(&b, CTL_MSG_WATCH);
	struct watch w = { .tty = isatty(STDOUT_FILENO), .json = json };
	struct sigaction sa = { .sa_handler = watch_sigint }, old;

	be_enc_kv_cstr(&b, "torrent", torrent);
	int r = call(s, &b, start);
	if (r != ST_OK)
		return r;
	/* No SA_RESTART: the signal cuts poll() short. */
	sigemptyset(&sa.sa_mask);
	watch_interrupted = 0;
	sigaction(SIGINT, &sa, &old);
	r = watch_loop(s, &w);
	sigaction(SIGINT, &old, NULL);
	if (r == ST_OK) {
		if (!json)
			printf("download complete and verified\n");
		return ST_OK;
	}
	/* Events would keep coming on this connection: drop it. */
	client_close(&s->client);
	if (r == ST_INTERRUPTED) {
		watch_break_line(&w);
		fprintf(stderr, "stactl: stopped watching; the download continues in stad "
		                "('stactl status' shows it, 'stactl watch %s' resumes watching)\n",
		        torrent);
	}
	return r;
}

static int cmd_watch(struct session *s, const struct verb *v, const struct cmd *c)
{
	return watch_run(s, c->args[0], c->json);
}

/* A request target that names a local .torrent file (or any existing file
 * given as a path, with a '/') goes to stad as an absolute path; a bare
 * word is a catalog name or info-hash prefix even if a file of that name
 * happens to sit in the current directory. */
static char *request_target(const char *arg)
{
	struct stat st;
	size_t len = strlen(arg);
	bool pathlike = strchr(arg, '/') || (len > 8 && strcmp(arg + len - 8, ".torrent") == 0);
	char *abs = NULL;

	if (pathlike && stat(arg, &st) == 0 && S_ISREG(st.st_mode))
		abs = realpath(arg, NULL);
	return abs ? abs : xstrdup(arg);
}

static int cmd_request(struct session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT, h = STA_BUF_INIT;
	size_t start = client_begin(&b, CTL_MSG_REQUEST);
	char *target = request_target(c->args[0]);
	char size[RENDER_NUM_MAX];

	be_enc_kv_cstr(&b, "target", target);
	int r = call(s, &b, start);
	if (r != ST_OK)
		goto out;
	const struct be_doc *doc = doc_of(s);
	const struct be_node *root = client_root(&s->client);
	size_t hlen = 0;
	const uint8_t *hash = be_dict_get_str(doc, root, "info_hash", &hlen);
	/* WATCH by info-hash when stad gave a sane one, else by what the user
	 * typed; either way a C string without NULs. */
	bool hash_ok = hash && hlen > 0 && hlen <= 64 && !memchr(hash, '\0', hlen);
	char *watch = hash_ok ? xstrndup((const char *)hash, hlen) : xstrdup(target);
	if (c->json) {
		print_json(s);
	} else {
		render_size(size, sizeof size, field_count(doc, root, "size"));
		if (be_dict_get_type(doc, root, "note", BE_STR))
			printf("%s\n", field_text(&h, s, root, "note"));
		printf("requested %s (%s)", field_text(&h, s, root, "name"), size);
		printf(", info-hash %s\n", field_text(&h, s, root, "info_hash"));
	}
	if (c->flags & F_DETACH) {
		if (!c->json)
			printf("downloading in the background; 'stactl status' shows progress\n");
	} else {
		fflush(stdout);
		r = watch_run(s, watch, c->json);
	}
	free(watch);
out:
	free(target);
	buf_free(&h);
	return r;
}

static int cmd_share(struct session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT, h = STA_BUF_INIT;
	char *path = realpath(c->args[0], NULL);
	int64_t job;

	if (!path)
		return fail(ST_FAILED, "%s: %s", c->args[0], strerror(errno));
	size_t start = client_begin(&b, CTL_MSG_SHARE);
	be_enc_kv_cstr(&b, "path", path);
	int r = call(s, &b, start);
	if (r == ST_OK && c->json) {
		print_json(s);
	} else if (r == ST_OK) {
		const struct be_node *root = client_root(&s->client);
		if (be_dict_get_type(doc_of(s), root, "info_hash", BE_STR))
			printf("sharing %s, info-hash %s\n", path,
			       field_text(&h, s, root, "info_hash"));
		else if (field_int(doc_of(s), root, "job", &job))
			printf("hashing %s in the background (job %" PRId64
			       "); 'stactl status' shows it when ready\n",
			       path, job);
		else
			printf("sharing %s\n", path);
	}
	buf_free(&h);
	free(path);
	return r;
}

/* remove, pause and resume: one torrent argument, an empty OK. */
static int cmd_torrent_op(struct session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT;
	size_t start = client_begin(&b, v->msg);

	if (c->flags & F_DELETE)
		be_enc_kv_int(&b, "delete_data", 1);
	be_enc_kv_cstr(&b, "torrent", c->args[0]);
	int r = call(s, &b, start);
	if (r == ST_OK && c->json)
		print_json(s);
	else if (r == ST_OK)
		printf("%s %s%s\n", v->past, c->args[0],
		       c->flags & F_DELETE ? " and deleted its data" : "");
	return r;
}

static int cmd_close(struct session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT;
	int r = call(s, &b, client_begin(&b, CTL_MSG_CLOSE));

	if (r == ST_OK && c->json)
		print_json(s);
	else if (r == ST_OK)
		printf("stopped sharing: the tracker was told we left; stad stays reachable "
		       "('stactl start' shares again)\n");
	return r;
}

static int cmd_help(struct session *s, const struct verb *v, const struct cmd *c)
{
	if (c->nargs == 0) {
		commands_list(stdout);
		return ST_OK;
	}
	if (!commands_help_verb(stdout, c->args[0]))
		return fail(ST_USAGE, "no such command: '%s'; 'help' lists them", c->args[0]);
	return ST_OK;
}

static const struct verb verbs[] = {
	{ "start", "", "announce and publish everything stad shares",
	  "Asks stad to announce its torrents to the tracker and publish their metainfo\n"
	  "  to the catalog.",
	  0, 0, 0, 0, NULL, cmd_start },
	{ "update", "[--limit N] [--after CURSOR]", "list the tracker's catalog, a page at a time",
	  "Fetches the first page of the catalog (100 files by name, or --limit N up to\n"
	  "  1000): name, size, seeders, leechers and info-hash. When more follow, the\n"
	  "  last line says the command that shows the next page (--after CURSOR).",
	  0, 0, F_PAGE, 0, NULL, cmd_update },
	{ "search", "WORDS... [--limit N] [--after CURSOR]", "search the catalog by words",
	  "Lists the catalog files whose names hold every word, as a word or the start\n"
	  "  of one, in any case: whole-word matches first, then by seeders. Pages as\n"
	  "  'update' does.",
	  1, 64, F_PAGE, 0, NULL, cmd_search },
	{ "request", "FILE [--detach]", "download FILE and show its progress",
	  "FILE is a catalog name, an info-hash prefix or a .torrent file (sent as an\n"
	  "  absolute path). Draws a progress bar until the download is complete and\n"
	  "  verified; Ctrl-C stops watching, not the download. --detach (-d) returns\n"
	  "  as soon as stad has accepted the request.",
	  1, 1, F_DETACH, 0, NULL, cmd_request },
	{ "close", "", "stop announcing and sharing; stad stays up",
	  "Sends stopped announces and stops sharing; stad stays reachable, and\n"
	  "  'start' shares again.",
	  0, 0, 0, 0, NULL, cmd_close },
	{ "status", "[TORRENT] [--peers]", "torrents: state, progress, rates, peers",
	  "Lists the torrents (or the one TORRENT names: an info-hash prefix or a name)\n"
	  "  with state, progress, rates and peers. --peers (-p) adds each peer's\n"
	  "  address, client, bytes down and up, blocks and hash failures.",
	  0, 1, F_PEERS, 0, NULL, cmd_status },
	{ "list", "", "the same as status", "The same as 'status' without arguments.", 0, 0,
	  0, 0, NULL, cmd_status },
	{ "watch", "TORRENT", "show a download's progress",
	  "Shows TORRENT's progress until it is complete and verified, like 'request'.",
	  1, 1, 0, 0, NULL, cmd_watch },
	{ "share", "PATH", "seed a file or directory",
	  "Asks stad to hash PATH (sent as an absolute path) into a torrent and seed it.",
	  1, 1, 0, 0, NULL, cmd_share },
	{ "remove", "TORRENT [--delete-data]", "forget a torrent",
	  "Stops and forgets TORRENT; --delete-data also deletes its downloaded files.",
	  1, 1, F_DELETE, CTL_MSG_REMOVE, "removed", cmd_torrent_op },
	{ "pause", "TORRENT", "stop transferring a torrent",
	  "Stops transferring TORRENT; stad keeps it and its verified pieces.", 1, 1, 0,
	  CTL_MSG_PAUSE, "paused", cmd_torrent_op },
	{ "resume", "TORRENT", "resume a paused torrent", "Starts a paused TORRENT again.", 1,
	  1, 0, CTL_MSG_RESUME, "resumed", cmd_torrent_op },
	{ "help", "[COMMAND]", "list the commands, or explain one",
	  "Lists the commands, or explains COMMAND.", 0, 1, 0, 0, NULL, cmd_help },
};

#define NVERBS (sizeof verbs / sizeof verbs[0])

const char *commands_verb(size_t i)
{
	return i < NVERBS ? verbs[i].name : NULL;
}

static const struct verb *verb_find(const char *name)
{
	for (size_t i = 0; i < NVERBS; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

void commands_list(FILE *f)
{
	fprintf(f, "Commands:\n");
	for (size_t i = 0; i < NVERBS; i++) {
		char head[64];
		snprintf(head, sizeof head, "%s %s", verbs[i].name, verbs[i].synopsis);
		fprintf(f, "  %-31s %s\n", head, verbs[i].help);
	}
}

bool commands_help_verb(FILE *f, const char *name)
{
	const struct verb *v = verb_find(name);

	if (!v)
		return false;
	fprintf(f, "usage: stactl [--json] %s %s\n  %s\n", v->name, v->synopsis, v->detail);
	return true;
}

static int usage_error(const struct verb *v, const char *what, const char *arg)
{
	return fail(ST_USAGE, "%s%s\nusage: stactl %s %s", what, arg, v->name, v->synopsis);
}

/* Options may come anywhere after the verb; "--" ends them. */
static int parse_args(const struct verb *v, int argc, char **argv, struct cmd *c)
{
	static const struct {
		const char *name;
		unsigned flag;
	} opts[] = { { "--detach", F_DETACH }, { "-d", F_DETACH },     { "--peers", F_PEERS },
		     { "-p", F_PEERS },        { "--delete-data", F_DELETE } };
	bool options = true;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t k;
		if (!options || a[0] != '-' || a[1] == '\0') {
			c->args[c->nargs++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			options = false;
			continue;
		}
		if (strcmp(a, "--json") == 0 || strcmp(a, "-j") == 0) {
			c->json = true;
			continue;
		}
		if ((v->flags & F_PAGE) && (strcmp(a, "--after") == 0 || strcmp(a, "--limit") == 0)) {
			if (i + 1 == argc)
				return usage_error(v, "missing value of ", a);
			if (a[2] == 'a') {
				c->after = argv[++i];
			} else if (!strnum_i64(argv[++i], 1, 1000, &c->limit)) {
				return usage_error(v, "--limit must be 1 to 1000, not ", argv[i]);
			}
			continue;
		}
		for (k = 0; k < sizeof opts / sizeof opts[0]; k++)
			if (strcmp(a, opts[k].name) == 0 && (v->flags & opts[k].flag))
				break;
		if (k == sizeof opts / sizeof opts[0])
			return usage_error(v, "unknown option: ", a);
		c->flags |= opts[k].flag;
	}
	if (c->nargs < v->min_args)
		return usage_error(v, "missing argument", "");
	if (c->nargs > v->max_args)
		return usage_error(v, "unexpected argument: ", c->args[v->max_args]);
	return ST_OK;
}

int commands_run(struct session *s, int argc, char **argv)
{
	const struct verb *v = verb_find(argv[0]);
	struct cmd c = { .json = s->json };

	if (!v)
		return fail(ST_USAGE, "unknown command '%s'; '%s' lists the commands", argv[0],
		            s->console ? "help" : "stactl --help");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			commands_help_verb(stdout, v->name);
			return ST_OK;
		}
	}
	c.args = xcalloc((size_t)argc, sizeof *c.args);
	int r = parse_args(v, argc, argv, &c);
	if (r == ST_OK)
		r = v->run(s, v, &c);
	free(c.args);
	fflush(stdout);
	/* One-shot runs hang up after their verb; the console keeps talking. */
	if (!s->console)
		client_close(&s->client);
	return r;
}
