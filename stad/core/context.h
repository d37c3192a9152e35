/* The context every part of stad reaches down for: the clock, connection
 * tags, bans, the config, the piece pool, the worker pool, state paths, the
 * event base and the services (announcer, DHT, cipher) that torrents and
 * peers use. It is the bottom of stad's layers (README, Architecture): it
 * includes nothing of stad above core/, disk/ and swarm/, and the parts
 * above it (peer connections, torrents, extensions, sources) include it
 * instead of the session, whose table and lifecycle (session.h) sit on top.
 *
 * The struct keeps the name session: it also holds the table's list heads
 * (torrents, handshaking and dead peers), which session.c manages. All of it
 * belongs to the loop thread: every function here MUST be called from the
 * loop thread.
 */
#ifndef STAD_CONTEXT_H
#define STAD_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "metainfo.h"
#include "mse.h"
#include "piece_pool.h"

struct event;
struct event_base;
struct evdns_base;
struct evconnlistener;
struct lsd_service;
struct workpool;
struct announcer;
struct sconfig;
struct torrent;
struct peer;
struct share_state;
struct dht;

#define SESSION_MAX_BANS 4096

struct ban {
	int family;
	uint8_t addr[16];
};

#define SESSION_CLOSE_WAITERS 4   /* callers of session_close: main, ctl_verbs */

TAILQ_HEAD(torrent_list, torrent);
TAILQ_HEAD(peer_list, peer);

struct session {
	struct event_base *base;
	struct evdns_base *dns;
	const struct sconfig *cfg;      /* main's; swapped on reload */
	struct workpool *wp;
	struct announcer *ann;
	struct dht *dht;                /* NULL when off */
	uint8_t peer_id[20];
	uint16_t port;
	struct sockaddr_storage src;    /* the listen address, when not a wildcard */
	bool has_src;
	struct evconnlistener *listener;
	struct torrent_list torrents;
	uint32_t n_torrents;
	struct peer_list handshaking;   /* incoming, torrent not known yet */
	struct peer_list dead;          /* closed, freed by the reaper */
	struct event *reaper;
	struct event *tick;
	unsigned n_peers;               /* every open connection */
	uint32_t next_tag;
	uint32_t next_id;
	uint64_t now;                   /* monotonic seconds, updated every tick */
	uint64_t ticks;
	struct ban *bans;
	size_t n_bans;
	struct piece_pool pool;
	struct mse_cipher cipher;       /* RC4 for MSE/PE; cipher.rc4 NULL: not loaded */
	struct lsd_service *lsd;        /* local service discovery; NULL when off */
	struct share_state *share;
	bool closed;                    /* CLOSE: no announces, no sharing */
	bool stopping;                  /* shutting down: flush resume after each job */
	char *tracker_url;              /* the configured tracker, as a tier */
	struct mi_tier tier;
	uint64_t rate_down, rate_up;    /* all torrents, bytes/s */
	/* Told when a torrent completes or fails, so that a watcher hears it
	 * at once rather than at its next periodic event (the control
	 * server's; NULL when none). */
	void (*on_torrent_event)(void *arg, const uint8_t info_hash[20]);
	void *on_torrent_event_arg;
	struct session_waiter {
		void (*fn)(void *arg);
		void *arg;
	} close_waiters[SESSION_CLOSE_WAITERS]; /* session_close's done calls */
	size_t n_close_waiters;
};

/* Monotonic seconds (cheap: cached by the tick). */
static inline uint64_t session_now(const struct session *s)
{
	return s->now;
}

/* Where outgoing connections come from: the listen address when it is a
 * specific one, else NULL (the kernel chooses). */
static inline const struct sockaddr *session_source(const struct session *s)
{
	return s->has_src ? (const struct sockaddr *)&s->src : NULL;
}

/* A tag for a new connection (never PICKER_NO_TAG). */
uint32_t session_new_tag(struct session *s);
bool session_is_banned(const struct session *s, const struct sockaddr *sa);
void session_ban(struct session *s, const struct sockaddr *sa);
/* A connection may be opened (global limit). */
bool session_peer_room(const struct session *s);
/* Schedules the reaper: dead peers are freed after the current callback. */
void session_reap_later(struct session *s);

/* Calls on_torrent_event, if set. */
void session_torrent_event(struct session *s, const uint8_t info_hash[20]);
/* Calls fn with the name of each entry of state_dir/sub (and that
 * directory's path), to load what was saved there. */
void session_each_state_file(struct session *s, const char *sub,
                             void (*fn)(struct session *s, const char *dir, const char *name));
/* Path under state_dir: "<state_dir>/<sub>/<hex><ext>" (heap). */
char *session_state_path(const struct session *s, const char *sub, const char *hex,
                         const char *ext);

#endif
