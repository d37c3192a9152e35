/* The session, the top of stad's layers: the torrent table (adding,
 * loading saved torrents, lookups by name, STATUS), the peer listener, the
 * one-second tick that drives rates, choking, timeouts and resume saving,
 * and the lifecycle (init, reload, CLOSE, START, fini). What every part
 * below needs of it is in context.h. All of it belongs to the loop thread:
 * every function here MUST be called from the loop thread.
 */
#ifndef STAD_SESSION_H
#define STAD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "context.h"

struct ctl_status;
struct metainfo;
struct resume_data;
struct torrent;

/* Sets up the listener, worker pool and announcer. false after logging. */
bool session_init(struct session *s, struct event_base *base, const struct sconfig *cfg);
/* Loads every torrent under state_dir and scans share_dir. */
void session_load(struct session *s);
/* Frees everything; workers are drained first. */
void session_fini(struct session *s);
/* Applies reloadable settings (limits, cache size, tracker URL). */
void session_reload(struct session *s, const struct sconfig *cfg);

/* Reads and parses a .torrent file (at most 64 MiB); false with err. */
bool session_read_torrent(const char *path, struct metainfo *mi, char *err, size_t errlen);
/* By info-hash hex prefix (>= 4 digits) or exact name; NULL with a
 * sentence in err when none or several match. */
struct torrent *session_lookup(struct session *s, const char *what, char *err, size_t errlen);

/* CLOSE: stopped announces, stop sharing; done(arg) when they are out.
 * Closes may overlap (a CLOSE request, then SIGTERM): each distinct
 * done/arg is called once, when the last round of announces is out. */
void session_close(struct session *s, void (*done)(void *arg), void *arg);
/* START: (re)announce every torrent; returns how many. */
unsigned session_start(struct session *s);

/* Fills *out with the STATUS of the torrents matching filter (NULL = all;
 * see session_lookup); false with err when it matches nothing. Free with
 * session_status_free. */
bool session_status(struct session *s, const char *filter, bool peers, struct ctl_status *out,
                    char *err, size_t errlen);
void session_status_free(struct ctl_status *st);
/* "3 torrents, 1 downloading, 48 MB/s down" for systemd STATUS=. */
void session_summary(struct session *s, char *out, size_t outsz);

#endif
