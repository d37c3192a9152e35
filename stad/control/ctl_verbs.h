/* The control verbs (STATUS, START, UPDATE, REQUEST, SHARE, REMOVE, PAUSE,
 * RESUME, CLOSE, WATCH) on top of the session. Each request gets exactly
 * one reply through ctl_server_reply, now or later (catalog calls, hashing).
 * Loop thread only. */
#ifndef STAD_CTL_VERBS_H
#define STAD_CTL_VERBS_H

#include <stdint.h>

#include "bencode.h"

struct ctl_server;
struct session;
struct ctl_verbs;

struct ctl_verbs *ctl_verbs_new(struct ctl_server *srv, struct session *s);
/* Cancels calls still waiting on the tracker. */
void ctl_verbs_free(struct ctl_verbs *v);
/* Handles one request frame (type) with its decoded payload dict. */
void ctl_verbs_dispatch(struct ctl_verbs *v, uint64_t id, uint16_t type, const struct be_doc *doc);

#endif
