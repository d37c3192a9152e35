#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog_proto.h"
#include "ctl_msg.h"
#include "hex.h"
#include "ctl_proto.h"
#include "metainfo.h"
#include "output.h"
#include "render.h"
#include "strnum.h"
#include "views.h"
#include "watch.h"
#include "xmalloc.h"

#define F_DETACH 1u
#define F_PEERS 2u
#define F_DELETE 4u
#define F_PAGE 8u   /* --limit N and --after CURSOR */
#define F_MAGNET 16u

struct cmd {
	char **args;
	int nargs;
	bool json;
	unsigned flags;
	const char *after;  /* F_PAGE */
	int64_t limit;      /* F_PAGE; CTL_UNKNOWN = stad's default */
};

struct verb {
	const char *name;
	const char *synopsis;
	const char *help;   /* one line for the list */
	const char *detail; /* for "help VERB" */
	int min_args, max_args;
	unsigned flags;
	uint16_t msg;
	const char *done;      /* "paused", for the torrent verbs */
	const char *unchanged; /* "was paused already" */
	int (*run)(struct stactl_session *s, const struct verb *v, const struct cmd *c);
};

void stactl_session_init(struct stactl_session *s, const char *socket_path, bool json)
{
	s->socket_path = socket_path;
	s->json = json;
	s->console = false;
	client_init(&s->client);
}

void stactl_session_end(struct stactl_session *s)
{
	client_close(&s->client);
}

int stactl_call(struct stactl_session *s, struct sta_buf *frame, bool json)
{
	int r = ST_OK;

	if (!client_connected(&s->client))
		r = client_connect(&s->client, s->socket_path);
	if (r == ST_OK)
		r = client_call(&s->client, frame);
	buf_free(frame);
	if (r != ST_OK)
		out_client_fail(json, r, &s->client);
	return r;
}

/* A reply that does not decode is stad's fault: a protocol error. */
static int bad_reply(const struct cmd *c, const char *why)
{
	return out_fail(c->json, ST_PROTOCOL, NULL, "protocol error from stad: %s", why);
}

static void print_buf(struct sta_buf *b)
{
	fwrite(b->data, 1, b->len, stdout);
	buf_free(b);
}

static int cmd_start(struct stactl_session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT;
	struct ctl_start_reply reply;
	char num[RENDER_NUM_MAX], why[128];

	ctl_empty_encode(&b, CTL_MSG_START);
	int r = stactl_call(s, &b, c->json);
	if (r != ST_OK)
		return r;
	if (!ctl_start_reply_decode(&s->client.doc, &reply, why, sizeof why))
		return bad_reply(c, why);
	if (c->json) {
		out_json(&s->client);
		return ST_OK;
	}
	render_count(num, sizeof num, reply.announced);
	printf("announced %s torrent%s to the tracker (and published the shared ones to the "
	       "catalog)\n", num, reply.announced == 1 ? "" : "s");
	return ST_OK;
}

/* --magnet: each entry's magnet link, one a line, naming the tracker stad
 * asks when stad said which (BEP 9 clients need a tracker or the DHT). */
static void print_magnets(struct stactl_session *s, const struct catalog_listing *l)
{
	char announce[MI_MAX_URL + 1];
	bool known = ctl_listing_announce(&s->client.doc, announce, sizeof announce);
	struct sta_buf b = STA_BUF_INIT;

	for (size_t i = 0; i < l->n; i++) {
		buf_clear(&b);
		catalog_entry_magnet(&b, &l->v[i], known ? announce : NULL);
		printf("%.*s\n", (int)b.len, (const char *)b.data);
	}
	buf_free(&b);
}

/* Prints a page of the catalog and, when more follow, how to see them. */
static int print_listing(struct stactl_session *s, const struct cmd *c, const char *verb,
                         const char *words)
{
	static const struct table_col cols[] = {
		{ .head = "NAME", .max = 48, .min = 8 },
		{ .head = "SIZE", .right = true },
		{ .head = "SEEDERS", .right = true },
		{ .head = "LEECHERS", .right = true, .drop = 1 },
		{ .head = "INFO-HASH", .prefix = true, .min = 8 },
	};
	struct catalog_listing l;
	struct sta_buf b = STA_BUF_INIT;
	struct table t;
	size_t skipped;
	char why[160], hex[41];

	if (!ctl_listing_decode(&s->client.doc, &l, &skipped, why, sizeof why))
		return bad_reply(c, why);
	if (c->json) {
		out_json(&s->client);
		catalog_listing_free(&l);
		return ST_OK;
	}
	if (l.n == 0 && !skipped && !c->after)
		printf(words ? "nothing in the catalog matches\n" : "the catalog is empty\n");
	if (c->flags & F_MAGNET)
		print_magnets(s, &l);
	table_init(&t, sizeof cols / sizeof cols[0], cols);
	for (size_t i = 0; i < l.n; i++) {
		table_add_str(&t, ctl_str_c(l.v[i].name));
		table_add_num(&t, render_size, (int64_t)l.v[i].size);
		table_add_num(&t, render_count, l.v[i].seeders);
		table_add_num(&t, render_count, l.v[i].leechers);
		hex_encode(l.v[i].info_hash, 20, hex);
		table_add(&t, hex);
	}
	if (l.n && !(c->flags & F_MAGNET))
		table_render(&t, &b, out_width());
	table_free(&t);
	print_buf(&b);
	if (skipped)
		printf("%zu entr%s stad sent could not be read\n", skipped, skipped == 1 ? "y" : "ies");
	if (l.next[0])
		printf("more: %s%s --after %s%s%s%s%s\n", s->console ? "" : "stactl ", verb, l.next,
		       c->flags & F_MAGNET ? " --magnet" : "", words ? " '" : "", words ? words : "",
		       words ? "'" : "");
	catalog_listing_free(&l);
	return ST_OK;
}

static int cmd_update(struct stactl_session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT;
	struct ctl_update_args args = { ctl_str_c(c->after), c->limit };

	ctl_update_args_encode(&b, &args);
	int r = stactl_call(s, &b, c->json);
	return r == ST_OK ? print_listing(s, c, "update", NULL) : r;
}

static int cmd_search(struct stactl_session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT, words = STA_BUF_INIT;

	for (int i = 0; i < c->nargs; i++)
		buf_printf(&words, "%s%s", i ? " " : "", c->args[i]);
	struct ctl_search_args args = { ctl_str_c(c->after), c->limit,
		                        ctl_str_c(buf_cstr(&words)) };
	ctl_search_args_encode(&b, &args);
	int r = stactl_call(s, &b, c->json);
	if (r == ST_OK)
		r = print_listing(s, c, "search", buf_cstr(&words));
	buf_free(&words);
	return r;
}

static int cmd_status(struct stactl_session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT;
	struct ctl_status_args args = { (c->flags & F_PEERS) ? 1 : CTL_UNKNOWN,
		                        ctl_str_c(c->nargs > 0 ? c->args[0] : NULL) };
	struct ctl_status st;
	char why[128];

	ctl_status_args_encode(&b, &args);
	int r = stactl_call(s, &b, c->json);
	if (r != ST_OK)
		return r;
	if (!ctl_status_decode(&s->client.doc, &st, why, sizeof why))
		return bad_reply(c, why);
	if (c->json) {
		out_json(&s->client);
	} else {
		view_status(&b, &st, c->flags & F_PEERS, out_width());
		print_buf(&b);
	}
	ctl_status_free(&st);
	return ST_OK;
}

static int cmd_watch(struct stactl_session *s, const struct verb *v, const struct cmd *c)
{
	return watch_run(s, c->args[0], c->json);
}

/* A request target with a '/' or ending in .torrent is a local .torrent
 * file, sent as an absolute path; it must exist. A magnet link or a bare
 * word (a catalog name or info-hash prefix, even if a file of that name
 * happens to sit in the current directory) goes as typed. *target is
 * heap, or NULL after printing why. */
static int request_target(const struct cmd *c, const char *arg, char **target)
{
	struct stat st;
	size_t len = strlen(arg);
	bool pathlike = strncmp(arg, "magnet:", 7) != 0 &&
	                (strchr(arg, '/') || (len > 8 && strcmp(arg + len - 8, ".torrent") == 0));

	*target = NULL;
	if (!pathlike) {
		*target = xstrdup(arg);
		return ST_OK;
	}
	if (stat(arg, &st) < 0)
		return out_fail(c->json, ST_FAILED, errno == ENOENT ? CTL_ERR_NOT_FOUND : CTL_ERR_IO,
		                "%s: %s", arg, errno == ENOENT ? "no such file" : strerror(errno));
	if (!S_ISREG(st.st_mode))
		return out_fail(c->json, ST_FAILED, CTL_ERR_BAD_REQUEST, "%s: not a .torrent file", arg);
	*target = realpath(arg, NULL);
	if (*target == NULL)
		return out_fail(c->json, ST_FAILED, CTL_ERR_IO, "%s: %s", arg, strerror(errno));
	return ST_OK;
}

/* Prints what (a line that starts with the caller's words) and
 * "NAME (SIZE, STATE), info-hash HASH"; the info-hash goes on a line of
 * its own where the terminal is too narrow for both. */
static void describe(struct sta_buf *what, const struct ctl_torrent *t)
{
	char size[RENDER_NUM_MAX];
	struct sta_buf hash = STA_BUF_INIT;
	size_t width = out_width();

	render_size(size, sizeof size, t->size);
	render_str(what, t->name);
	buf_printf(what, " (%s, ", size);
	render_str(what, t->state);
	buf_append_byte(what, ')');
	render_str(&hash, t->info_hash);
	bool fits = width == 0 || text_width(buf_cstr(what)) + 12 + hash.len < width;
	printf("%s%sinfo-hash %s\n", buf_cstr(what), fits ? ", " : "\n  ", buf_cstr(&hash));
	buf_free(&hash);
}

/* Decodes a torrent reply into *reply; prints it as JSON when asked. */
static int torrent_reply(struct stactl_session *s, const struct cmd *c,
                         struct ctl_torrent_reply *reply)
{
	char why[128];

	if (!ctl_torrent_reply_decode(&s->client.doc, reply, why, sizeof why))
		return bad_reply(c, why);
	if (reply->torrent == NULL) {
		ctl_torrent_reply_free(reply);
		return bad_reply(c, "the reply names no torrent");
	}
	if (c->json)
		out_json(&s->client);
	return ST_OK;
}

static int cmd_request(struct stactl_session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT;
	struct ctl_torrent_reply reply;
	char *target;

	int r = request_target(c, c->args[0], &target);
	if (r != ST_OK)
		return r;
	struct ctl_request_args args = { ctl_str_c(target) };
	ctl_request_args_encode(&b, &args);
	r = stactl_call(s, &b, c->json);
	if (r == ST_OK)
		r = torrent_reply(s, c, &reply);
	if (r != ST_OK) {
		free(target);
		return r;
	}
	/* WATCH by info-hash when stad gave a sane one, else by what the user
	 * typed; either way a C string without NULs. */
	struct ctl_str h = reply.torrent->info_hash;
	bool hash_ok = h.p && h.len > 0 && h.len <= 64 && !memchr(h.p, '\0', h.len);
	char *watch = hash_ok ? ctl_str_dup(h) : xstrdup(target);
	if (!c->json) {
		if (reply.note.p) {
			render_str(&b, reply.note);
			printf("%s\n", buf_cstr(&b));
			buf_clear(&b);
		}
		buf_append_str(&b, reply.changed == 0 ? "known already: " : "requested ");
		describe(&b, reply.torrent);
		buf_free(&b);
	}
	ctl_torrent_reply_free(&reply);
	if (c->flags & F_DETACH) {
		if (!c->json)
			printf("downloading in the background ('stactl status' shows it)\n");
	} else {
		fflush(stdout);
		r = watch_run(s, watch, c->json);
	}
	free(watch);
	free(target);
	return r;
}

static int cmd_share(struct stactl_session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT;
	struct ctl_torrent_reply reply;
	char *path = realpath(c->args[0], NULL);

	if (!path)
		return out_fail(c->json, ST_FAILED, errno == ENOENT ? CTL_ERR_NOT_FOUND : CTL_ERR_IO, "%s: %s",
		                c->args[0], errno == ENOENT ? "no such file or directory"
		                                            : strerror(errno));
	struct ctl_share_args args = { ctl_str_c(path) };
	ctl_share_args_encode(&b, &args);
	int r = stactl_call(s, &b, c->json);
	if (r == ST_OK)
		r = torrent_reply(s, c, &reply);
	if (r == ST_OK && !c->json) {
		buf_printf(&b, "%s %s as ", reply.changed == 0 ? "shared already:" : "sharing",
		           path);
		describe(&b, reply.torrent);
		buf_free(&b);
	}
	if (r == ST_OK)
		ctl_torrent_reply_free(&reply);
	free(path);
	return r;
}

/* remove, pause and resume: one torrent argument; the reply says what
 * changed. */
static int cmd_torrent_op(struct stactl_session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT;
	struct ctl_torrent_args args = { (c->flags & F_DELETE) ? 1 : CTL_UNKNOWN,
		                         ctl_str_c(c->args[0]) };
	struct ctl_torrent_reply reply;

	ctl_torrent_args_encode(&b, v->msg, &args);
	int r = stactl_call(s, &b, c->json);
	if (r == ST_OK)
		r = torrent_reply(s, c, &reply);
	if (r != ST_OK || c->json) {
		if (r == ST_OK)
			ctl_torrent_reply_free(&reply);
		return r;
	}
	render_str(&b, reply.torrent->name);
	if (reply.changed == 0)
		printf("%s %s\n", buf_cstr(&b), v->unchanged);
	else
		printf("%s %s%s\n", v->done, buf_cstr(&b),
		       c->flags & F_DELETE ? " and deleted its data" : "");
	buf_free(&b);
	ctl_torrent_reply_free(&reply);
	return ST_OK;
}

static int cmd_close(struct stactl_session *s, const struct verb *v, const struct cmd *c)
{
	struct sta_buf b = STA_BUF_INIT;
	struct ctl_close_reply reply;
	char why[128];

	ctl_empty_encode(&b, CTL_MSG_CLOSE);
	int r = stactl_call(s, &b, c->json);
	if (r != ST_OK)
		return r;
	if (!ctl_close_reply_decode(&s->client.doc, &reply, why, sizeof why))
		return bad_reply(c, why);
	size_t n = reply.n_torrents;
	if (c->json)
		out_json(&s->client);
	else if (reply.changed == 0)
		printf("stad was closed already ('stactl start' opens it again)\n");
	else
		printf("closed: %zu torrent%s left %s swarm%s and the tracker was told; stad stays "
		       "reachable ('stactl start' shares again)\n",
		       n, n == 1 ? "" : "s", n == 1 ? "its" : "their", n == 1 ? "" : "s");
	ctl_close_reply_free(&reply);
	return ST_OK;
}

static int cmd_help(struct stactl_session *s, const struct verb *v, const struct cmd *c)
{
	if (c->nargs == 0) {
		commands_list(stdout);
		return ST_OK;
	}
	if (!commands_help_verb(stdout, c->args[0]))
		return out_fail(c->json, ST_USAGE, NULL, "no such command: '%s'; 'help' lists them",
		                c->args[0]);
	return ST_OK;
}

static const struct verb verbs[] = {
	{ "start", "", "announce and publish everything stad shares",
	  "Asks stad to announce its torrents to the tracker and publish their metainfo\n"
	  "  to the catalog; after 'close', opens stad again.",
	  0, 0, 0, 0, NULL, NULL, cmd_start },
	{ "update", "[--limit N] [--after CURSOR] [--magnet]",
	  "list the tracker's catalog, a page at a time",
	  "Fetches the first page of the catalog (100 files by name, or --limit N up to\n"
	  "  1000): name, size, seeders, leechers and info-hash. When more follow, the\n"
	  "  last line says the command that shows the next page (--after CURSOR).\n"
	  "  --magnet (-m) prints each file's magnet link instead, one a line.",
	  0, 0, F_PAGE | F_MAGNET, 0, NULL, NULL, cmd_update },
	{ "search", "WORDS... [--limit N] [--after CURSOR] [--magnet]",
	  "search the catalog by words",
	  "Lists the catalog files whose names hold every word, as a word or the start\n"
	  "  of one, in any case: whole-word matches first, then by seeders. Pages as\n"
	  "  'update' does, and --magnet (-m) too.",
	  1, 64, F_PAGE | F_MAGNET, 0, NULL, NULL, cmd_search },
	{ "request", "FILE [--detach]", "download FILE and show its progress",
	  "FILE is a catalog name, an info-hash prefix or a .torrent file (a path with\n"
	  "  a '/' or ending in .torrent, sent as an absolute path). Draws a progress\n"
	  "  bar until the download is complete and verified; Ctrl-C stops watching,\n"
	  "  not the download. --detach (-d) returns as soon as stad has accepted it.",
	  1, 1, F_DETACH, 0, NULL, NULL, cmd_request },
	{ "close", "", "stop announcing and sharing; stad stays up",
	  "Sends stopped announces and stops every download and upload; stad stays\n"
	  "  reachable, and 'start' shares again.",
	  0, 0, 0, 0, NULL, NULL, cmd_close },
	{ "status", "[TORRENT] [--peers]", "torrents: state, progress, rates, peers",
	  "Lists the torrents (or the one TORRENT names: an info-hash prefix or a name)\n"
	  "  with state, progress, rates, ratio and peers, then where each one's data is\n"
	  "  and why one failed. --peers (-p) adds each peer's address, client, bytes\n"
	  "  down and up, blocks, hash failures and flags (see stactl(1)).",
	  0, 1, F_PEERS, 0, NULL, NULL, cmd_status },
	{ "list", "", "the same as status", "The same as 'status' without arguments.", 0, 0,
	  0, 0, NULL, NULL, cmd_status },
	{ "watch", "TORRENT", "show a download's progress",
	  "Shows TORRENT's progress until it is complete and verified, like 'request'.",
	  1, 1, 0, 0, NULL, NULL, cmd_watch },
	{ "share", "PATH", "seed a file or directory",
	  "Asks stad to hash PATH (sent as an absolute path) into a torrent and seed it.",
	  1, 1, 0, 0, NULL, NULL, cmd_share },
	{ "remove", "TORRENT [--delete-data]", "forget a torrent",
	  "Stops and forgets TORRENT; --delete-data also deletes its downloaded files.",
	  1, 1, F_DELETE, CTL_MSG_REMOVE, "removed", "was removed", cmd_torrent_op },
	{ "pause", "TORRENT", "stop transferring a torrent",
	  "Stops transferring TORRENT; stad keeps it and its verified pieces.", 1, 1, 0,
	  CTL_MSG_PAUSE, "paused", "was paused already", cmd_torrent_op },
	{ "resume", "TORRENT", "resume a paused torrent",
	  "Starts a paused TORRENT again.", 1,
	  1, 0, CTL_MSG_RESUME, "resumed", "was not paused", cmd_torrent_op },
	{ "help", "[COMMAND]", "list the commands, or explain one",
	  "Lists the commands, or explains COMMAND.", 0, 1, 0, 0, NULL, NULL, cmd_help },
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
		char head[96];
		snprintf(head, sizeof head, "%s%s%s", verbs[i].name, verbs[i].synopsis[0] ? " " : "",
		         verbs[i].synopsis);
		out_help_entry(f, head, verbs[i].help, 34);
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

static int usage_error(const struct verb *v, const struct cmd *c, const char *what,
                       const char *arg)
{
	return out_fail(c->json, ST_USAGE, NULL, "%s%s\nusage: stactl %s %s", what, arg, v->name,
	                v->synopsis);
}

/* Options may come anywhere after the verb; "--" ends them. */
static int parse_args(const struct verb *v, int argc, char **argv, struct cmd *c)
{
	static const struct {
		const char *name;
		unsigned flag;
	} opts[] = { { "--detach", F_DETACH }, { "-d", F_DETACH },     { "--peers", F_PEERS },
		     { "-p", F_PEERS },        { "--delete-data", F_DELETE }, { "--magnet", F_MAGNET },
		     { "-m", F_MAGNET } };
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
				return usage_error(v, c, "missing value of ", a);
			if (a[2] == 'a') {
				c->after = argv[++i];
			} else if (!strnum_i64(argv[++i], 1, 1000, &c->limit)) {
				return usage_error(v, c, "--limit must be 1 to 1000, not ", argv[i]);
			}
			continue;
		}
		for (k = 0; k < sizeof opts / sizeof opts[0]; k++)
			if (strcmp(a, opts[k].name) == 0 && (v->flags & opts[k].flag))
				break;
		if (k == sizeof opts / sizeof opts[0])
			return usage_error(v, c, "unknown option: ", a);
		c->flags |= opts[k].flag;
	}
	if (c->nargs < v->min_args)
		return usage_error(v, c, "missing argument", "");
	if (c->nargs > v->max_args)
		return usage_error(v, c, "unexpected argument: ", c->args[v->max_args]);
	return ST_OK;
}

int commands_run(struct stactl_session *s, int argc, char **argv)
{
	const struct verb *v = verb_find(argv[0]);
	struct cmd c = { .json = s->json, .limit = CTL_UNKNOWN };

	if (!v)
		return out_fail(s->json, ST_USAGE, NULL, "unknown command '%s'; '%s' lists the commands",
		                argv[0], s->console ? "help" : "stactl --help");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
			c.json = true;
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
