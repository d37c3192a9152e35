/* The control socket: a UNIX stream socket (or one passed by systemd
 * socket activation) speaking common/ctl_proto.h with stactl. Framing,
 * HELLO and the version check, one request at a time per client (later
 * frames wait in the buffer until the reply is out), WATCH event streams.
 * The verbs themselves are in ctl_verbs.c. Loop thread only.
 */
#ifndef STAD_CTL_SERVER_H
#define STAD_CTL_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

struct session;
struct ctl_server;

#define CTL_WATCH_MS 500

/* Listens on path (mode 0660), or on the socket systemd passed. NULL after
 * logging when it cannot. */
struct ctl_server *ctl_server_new(struct session *s, const char *path);
/* Closes every client and the socket (unlinked if we created it). */
void ctl_server_free(struct ctl_server *srv);

/* The reply to client id's pending request: a complete frame. Dropped when
 * the client has gone meanwhile. */
void ctl_server_reply(struct ctl_server *srv, uint64_t id, struct sta_buf *frame);
void ctl_server_reply_error(struct ctl_server *srv, uint64_t id, const char *code,
                            const char *message);
/* Starts streaming EVENT frames about a torrent to client id. */
void ctl_server_watch(struct ctl_server *srv, uint64_t id, const uint8_t info_hash[20]);

#endif
