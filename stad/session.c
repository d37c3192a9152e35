/* The session: torrent table, peer listener, the one-second tick,
 * connection limits and bans, loading saved torrents. */
#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "announcer.h"
#include "dht.h"
#include "fileio.h"
#include "bencode.h"
#include "ctl_msg.h"
#include "hex.h"
#include "log.h"
#include "lsd_service.h"
#include "lsd_source.h"
#include "magnet_torrent.h"
#include "notify.h"
#include "peer.h"
#include "sconfig.h"
#include "share.h"
#include "srcaddr.h"
#include "torrent.h"
#include "workpool.h"
#include "xmalloc.h"

#define MAX_TORRENT_FILE (64u << 20)
#define STATUS_EVERY 5            /* ticks between systemd STATUS= updates */

static uint64_t monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* mkdir -p; false after logging. */
static bool make_dirs(const char *path, mode_t mode)
{
	size_t bad = 0;

	if (file_mkdirs(path, mode, SIZE_MAX, &bad))
		return true;
	log_err("cannot create %.*s: %s", (int)bad, path, strerror(errno));
	return false;
}

static bool make_state_dirs(const struct sconfig *c)
{
	static const char *const subs[] = { "torrents", "resume", "shares", "magnets" };

	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		char *d = xasprintf("%s/%s", c->state_dir, subs[i]);
		bool ok = make_dirs(d, 0750);
		free(d);
		if (!ok)
			return false;
	}
	/* Not share_dir: a mistyped one would silently share nothing (sconfig_warn). */
	return make_dirs(c->download_dir, 0755);
}

static void make_peer_id(uint8_t id[20])
{
	static const char alnum[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

	memcpy(id, SCONFIG_PEER_ID_PREFIX, 8);
	for (size_t i = 8; i < 20; i++)
		id[i] = (uint8_t)alnum[arc4random_uniform(sizeof alnum - 1)];
}

/* ---- listener ---- */

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
	struct session *s = arg;

	if (s->closed || !session_peer_room(s) || session_is_banned(s, sa)) {
		close(fd);
		return;
	}
	peer_accept(s, fd, sa, (socklen_t)len);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	log_warn("accept: %s", strerror(errno));
}

static bool listen_peers(struct session *s)
{
	const struct sconfig *c = s->cfg;
	struct sockaddr_storage ss;
	socklen_t len;

	if (!srcaddr_parse(c->listen_address, (uint16_t)c->listen_port, &ss, &len)) {
		log_err("listen_address \"%.64s\" is not an IP address", c->listen_address);
		return false;
	}
	if (!srcaddr_is_any((struct sockaddr *)&ss)) {
		s->src = ss;
		s->has_src = true;
	}
	s->listener = evconnlistener_new_bind(s->base, accept_cb, s,
	                                      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	                                      LEV_OPT_CLOSE_ON_EXEC, 128,
	                                      (struct sockaddr *)&ss, (int)len);
	if (s->listener == NULL) {
		log_err("cannot listen on %s port %d: %s", c->listen_address, c->listen_port,
		        strerror(errno));
		return false;
	}
	evconnlistener_set_error_cb(s->listener, accept_error_cb);
	s->port = (uint16_t)c->listen_port;
	return true;
}

/* ---- reaper and tick ---- */

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	while (!TAILQ_EMPTY(&s->dead)) {
		struct peer *p = TAILQ_FIRST(&s->dead);
		TAILQ_REMOVE(&s->dead, p, link);
		peer_free(p);
	}
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct torrent *t;
	struct peer *p, *next;
	char line[160];

	s->now = monotonic_s();
	s->ticks++;
	s->rate_down = s->rate_up = 0;
	TAILQ_FOREACH(t, &s->torrents, link) {
		torrent_tick(t);
		s->rate_down += t->rate_down;
		s->rate_up += t->rate_up;
	}
	for (p = TAILQ_FIRST(&s->handshaking); p; p = next) {
		next = TAILQ_NEXT(p, link);
		peer_tick(p);
	}
	if (s->lsd && !s->closed)
		lsd_service_tick(s->lsd, s->now);
	if (s->ticks % STATUS_EVERY == 0) {
		session_summary(s, line, sizeof line);
		notify_status("%s", line);
	}
}

static void set_tracker(struct session *s, const char *url)
{
	free(s->tracker_url);
	s->tracker_url = url[0] ? xstrdup(url) : NULL;
	s->tier.urls = &s->tracker_url;
	s->tier.n_urls = s->tracker_url ? 1 : 0;
}

/* RC4 for MSE/PE when the config asks for encryption. Without it,
 * "require" is an error and "prefer" runs in plaintext. */
static bool load_cipher(struct session *s, const struct sconfig *cfg)
{
	enum sconfig_encryption e = sconfig_encryption(cfg);
	char err[256];

	if (e == SCONFIG_ENC_OFF || s->cipher.rc4 != NULL ||
	    mse_cipher_load(&s->cipher, err, sizeof err))
		return true;
	if (e == SCONFIG_ENC_REQUIRE) {
		log_err("encryption = \"require\": %s", err);
		return false;
	}
	log_warn("%s; peer connections stay in plaintext", err);
	return true;
}

bool session_init(struct session *s, struct event_base *base, const struct sconfig *cfg)
{
	struct timeval one = { 1, 0 };

	memset(s, 0, sizeof *s);
	s->base = base;
	s->cfg = cfg;
	TAILQ_INIT(&s->torrents);
	TAILQ_INIT(&s->handshaking);
	TAILQ_INIT(&s->dead);
	s->now = monotonic_s();
	make_peer_id(s->peer_id);
	set_tracker(s, cfg->tracker);
	piece_pool_init(&s->pool, (uint64_t)cfg->cache_size);
	if (!make_state_dirs(cfg) || !load_cipher(s, cfg) || !listen_peers(s))
		return false;
	s->wp = workpool_new(base, (unsigned)cfg->workers);
	if (s->wp == NULL)
		return false;
	s->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (s->dns == NULL)
		log_warn("no DNS resolver: only numeric tracker addresses work");
	s->ann = announcer_new(base, s->dns, session_source(s), s->peer_id, s->port, arc4random());
	if (s->ann == NULL)
		return false;
	s->dht = dht_start(base, s->dns, cfg, s->port);
	s->reaper = event_new(base, -1, 0, reap_cb, s);
	s->tick = event_new(base, -1, EV_PERSIST, tick_cb, s);
	if (s->reaper == NULL || s->tick == NULL || event_add(s->tick, &one) < 0)
		return false;
	s->share = share_new(s);
	if (cfg->lsd)
		s->lsd = lsd_source_start(s);
	return true;
}

void session_reload(struct session *s, const struct sconfig *cfg)
{
	s->cfg = cfg;
	piece_pool_set_budget(&s->pool, (uint64_t)cfg->cache_size);
	set_tracker(s, cfg->tracker);
	load_cipher(s, cfg);
	if (cfg->lsd && s->lsd == NULL) {
		s->lsd = lsd_source_start(s);
	} else if (!cfg->lsd && s->lsd) {
		lsd_service_free(s->lsd);
		s->lsd = NULL;
	}
	if (s->dht)
		dht_reload(s->dht, cfg);
}

/* ---- the torrent table ---- */

/* A hex prefix of 4 to 40 digits, either case. */
static bool hex_prefix(const char *what, size_t len)
{
	if (len < 4 || len > 40)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdefABCDEF", what[i]))
			return false;
	return true;
}

struct torrent *session_lookup(struct session *s, const char *what, char *err, size_t errlen)
{
	struct torrent *t, *found = NULL;
	size_t len = strlen(what), n = 0;
	bool hex = hex_prefix(what, len);

	TAILQ_FOREACH(t, &s->torrents, link) {
		if (strcmp(t->mi.name, what) == 0 || (hex && strncasecmp(t->hex, what, len) == 0)) {
			found = t;
			n++;
		}
	}
	if (n == 1)
		return found;
	snprintf(err, errlen, n ? "\"%.100s\" matches %zu torrents: give more of the info-hash"
	                        : "no torrent matches \"%.100s\"", what, n);
	return NULL;
}

/* ---- loading saved torrents ---- */

static bool read_file(const char *path, size_t max, struct sta_buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	bool ok = false;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size <= max) {
		buf_reserve(out, (size_t)st.st_size + 1);
		ssize_t n = read(fd, out->data, (size_t)st.st_size);
		ok = n == st.st_size;
		out->len = ok ? (size_t)n : 0;
	} else {
		errno = EFBIG;
	}
	close(fd);
	return ok;
}

bool session_read_torrent(const char *path, struct metainfo *mi, char *err, size_t errlen)
{
	struct sta_buf b = STA_BUF_INIT;
	struct mi_error me;
	bool ok = false;

	if (!read_file(path, MAX_TORRENT_FILE, &b))
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
	else if (!metainfo_parse(b.data, b.len, mi, &me))
		snprintf(err, errlen, "%s: %s", path, me.msg);
	else
		ok = true;
	buf_free(&b);
	return ok;
}

static void load_one(struct session *s, const char *state_sub, const char *name)
{
	struct metainfo mi;
	struct resume_data rd;
	char err[512];
	uint8_t hash[20];

	if (strlen(name) != 48 || strcmp(name + 40, ".torrent") != 0 ||
	    !hex_decode(name, 40, hash, 20))
		return;
	char *path = xasprintf("%s/%s", state_sub, name);
	bool ok = session_read_torrent(path, &mi, err, sizeof err);
	free(path);
	if (!ok || memcmp(mi.info_hash, hash, 20) != 0) {
		log_warn("%s", ok ? "info-hash does not match the file name" : err);
		if (ok)
			metainfo_free(&mi);
		return;
	}
	char *rpath = session_state_path(s, "resume", name, "");
	rpath[strlen(rpath) - strlen(".torrent")] = '\0';
	char *full = xasprintf("%s.resume", rpath);
	bool have_rd = resume_load(full, &rd, err, sizeof err) == 0 &&
	               resume_matches(&rd, mi.info_hash, mi.n_pieces, err, sizeof err);
	if (!have_rd && errno != ENOENT)
		log_warn("%s: %s (re-checking the data)", full, err);
	free(rpath);
	free(full);
	bool shared = share_is_shared(s, mi.info_hash);
	const char *data_dir = have_rd ? rd.data_dir : s->cfg->download_dir;
	struct torrent *t = torrent_add(s, &mi, data_dir, have_rd ? &rd : NULL, shared, false,
	                                        NULL, err, sizeof err);
	if (t == NULL) {
		log_warn("%s", err);
		metainfo_free(&mi);
	} else if (!shared) {
		torrent_start(t);
	}
	if (have_rd)
		resume_data_free(&rd);
}

void session_load(struct session *s)
{
	session_each_state_file(s, "torrents", load_one);
	magnet_torrent_load(s);
	log_info("%u torrents loaded", s->n_torrents);
	share_scan(s->share);
}

/* ---- limits and bans ---- */

/* ---- verbs ---- */

static void closed(void *arg)
{
	struct session *s = arg;
	struct session_waiter w[SESSION_CLOSE_WAITERS];
	size_t n = s->n_close_waiters;

	/* A waiter may close again: it starts from an empty list. */
	memcpy(w, s->close_waiters, n * sizeof w[0]);
	s->n_close_waiters = 0;
	for (size_t i = 0; i < n; i++)
		w[i].fn(w[i].arg);
}

void session_close(struct session *s, void (*done)(void *arg), void *arg)
{
	struct torrent *t;
	size_t i;

	for (i = 0; i < s->n_close_waiters; i++)
		if (s->close_waiters[i].fn == done && s->close_waiters[i].arg == arg)
			break;
	if (i == s->n_close_waiters) {
		if (i == SESSION_CLOSE_WAITERS)
			abort(); /* more distinct callers than the code has */
		s->close_waiters[s->n_close_waiters++] = (struct session_waiter){ done, arg };
	}
	s->closed = true;
	TAILQ_FOREACH(t, &s->torrents, link)
		torrent_close(t);
	while (!TAILQ_EMPTY(&s->handshaking))
		peer_close(TAILQ_FIRST(&s->handshaking), "closing");
	announcer_stop_all(s->ann, 3000, closed, s);
}

unsigned session_start(struct session *s)
{
	struct torrent *t;
	unsigned n = 0;

	s->closed = false;
	TAILQ_FOREACH(t, &s->torrents, link)
		n += torrent_announce(t);
	return n;
}

bool session_status(struct session *s, const char *filter, bool peers, struct ctl_status *out,
                    char *err, size_t errlen)
{
	struct torrent *t, *only = NULL;

	if (filter && (only = session_lookup(s, filter, err, errlen)) == NULL)
		return false;
	*out = (struct ctl_status){ .closed = s->closed };
	if (s->dht) {
		struct dht_health h;
		dht_health(s->dht, &h);
		out->dht = xmalloc(sizeof *out->dht);
		*out->dht = (struct ctl_dht){ .good_nodes = h.good, .lookups = h.lookups,
			                      .nodes = h.nodes, .nodes6 = h.nodes6,
			                      .stored_peers = h.stored_peers };
	}
	/* Never NULL: the list is sent even when empty. */
	out->torrents = xcalloc(only ? 1 : s->n_torrents + 1, sizeof *out->torrents);
	TAILQ_FOREACH(t, &s->torrents, link)
		if (!only || t == only)
			torrent_status(t, peers, &out->torrents[out->n_torrents++]);
	return true;
}

void session_status_free(struct ctl_status *st)
{
	for (size_t i = 0; i < st->n_torrents; i++)
		torrent_status_free(&st->torrents[i]);
	st->n_torrents = 0;
	ctl_status_free(st);
}

void session_summary(struct session *s, char *out, size_t outsz)
{
	struct torrent *t;
	unsigned down = 0;

	TAILQ_FOREACH(t, &s->torrents, link)
		down += t->state == TS_DOWNLOADING;
	snprintf(out, outsz, "%u torrents, %u downloading, %.1f MB/s down, %.1f MB/s up, %u peers",
	         s->n_torrents, down, (double)s->rate_down / 1e6, (double)s->rate_up / 1e6,
	         s->n_peers);
}

/* ---- shutdown ---- */

void session_fini(struct session *s)
{
	struct torrent *t;

	s->stopping = true;
	if (s->listener)
		evconnlistener_free(s->listener);
	s->listener = NULL;
	TAILQ_FOREACH(t, &s->torrents, link)
		torrent_close(t);
	while (!TAILQ_EMPTY(&s->handshaking))
		peer_close(TAILQ_FIRST(&s->handshaking), "shutting down");
	if (s->reaper)
		reap_cb(-1, 0, s);
	TAILQ_FOREACH(t, &s->torrents, link)
		torrent_flush_resume(t);
	workpool_free(s->wp); /* runs every outstanding done(), which may save again */
	s->wp = NULL;
	share_free(s->share);
	s->share = NULL;
	while (!TAILQ_EMPTY(&s->torrents)) {
		t = TAILQ_FIRST(&s->torrents);
		TAILQ_REMOVE(&s->torrents, t, link);
		torrent_free(t);
	}
	announcer_free(s->ann);
	dht_stop(s->dht);
	if (s->dns)
		evdns_base_free(s->dns, 0);
	piece_pool_fini(&s->pool);
	if (s->tick)
		event_free(s->tick);
	if (s->reaper)
		event_free(s->reaper);
	free(s->bans);
	free(s->tracker_url);
	mse_cipher_unload(&s->cipher);
	lsd_service_free(s->lsd);
}
