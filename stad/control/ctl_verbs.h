/* The control verbs (STATUS, START, UPDATE, REQUEST, SHARE, REMOVE, PAUSE,
 * RESUME, CLOSE, WATCH) on top of the session. Each request gets exactly
 * one reply through its ctl_answer, now or later (catalog calls, hashing).
 * Loop thread only. */
#ifndef STAD_CTL_VERBS_H
#define STAD_CTL_VERBS_H

#include <stdint.h>

#include "bencode.h"

struct ctl_server;
struct session;
struct ctl_verbs;
struct sta_buf;

/* How the verbs answer, so that they need not know the server that calls
 * them (ctl_server.c): a reply frame, an error, and for REQUEST a watch of
 * a torrent's events; each is dropped when the client has gone. */
struct ctl_answer {
	void (*reply)(struct ctl_server *srv, uint64_t id, struct sta_buf *frame);
	void (*error)(struct ctl_server *srv, uint64_t id, const char *code, const char *message);
	void (*watch)(struct ctl_server *srv, uint64_t id, const uint8_t info_hash[20]);
	struct ctl_server *srv;
};

struct ctl_verbs *ctl_verbs_new(const struct ctl_answer *answer, struct session *s);
/* Cancels calls still waiting on the tracker. */
void ctl_verbs_free(struct ctl_verbs *v);
/* Handles one request frame (type) with its decoded payload dict. */
void ctl_verbs_dispatch(struct ctl_verbs *v, uint64_t id, uint16_t type, const struct be_doc *doc);

#endif
