/* stactl's side of the control socket: connect, HELLO, framed requests and
 * replies (common/ctl_proto.h). Blocking I/O with poll() timeouts; every
 * frame from stad is parsed with ctl_frame_parse and decoded with
 * ctl_payload_decode before anyone looks at it. */
#ifndef STACTL_CLIENT_H
#define STACTL_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "bencode.h"
#include "buf.h"

/* stactl's exit codes; every client call returns one of them. */
enum stactl_status {
	ST_OK = 0,
	ST_FAILED = 1,      /* stad answered ERROR (or a local argument was unusable) */
	ST_USAGE = 2,       /* bad command line */
	ST_UNREACHABLE = 3, /* no stad at the socket, or the connection was lost */
	ST_PROTOCOL = 4,    /* version mismatch or garbage from stad */
	ST_INTERRUPTED = 130,
};

/* client_read returns this (not an exit code) when nothing arrived in time
 * or a signal interrupted the wait. */
#define CLIENT_AGAIN (-1)

/* How long a request may wait for its reply (stad may be fetching the
 * catalog from a slow tracker). */
#define CLIENT_REPLY_TIMEOUT_MS 60000

struct ctl_client {
	int fd;             /* -1 when not connected */
	struct sta_buf in;  /* bytes read, not yet parsed */
	size_t consumed;    /* bytes of in that belong to the current frame */
	bool have_doc;
	struct be_doc doc;  /* payload of the last frame read, until the next read */
	char err[512];      /* what went wrong, for the user, after an error */
	char code[32];      /* stad's error code (ctl_msg.h), "" for our own */
};

void client_init(struct ctl_client *c);
/* Connects to path and says HELLO. ST_UNREACHABLE says how to start stad;
 * ST_PROTOCOL on a version mismatch names both versions. */
int client_connect(struct ctl_client *c, const char *path);
void client_close(struct ctl_client *c);
bool client_connected(const struct ctl_client *c);

/* Sends a request frame (a ctl_msg.h encoder's) and waits for its reply.
 * ST_OK: the OK payload is c->doc. ST_FAILED: stad said ERROR, c->err
 * holds its message (escaped) and c->code its code. Anything else: the
 * connection is closed. */
int client_call(struct ctl_client *c, const struct sta_buf *frame);
/* Reads one frame within timeout_ms (-1: forever). Returns ST_OK with its
 * type in *type and payload in c->doc, CLIENT_AGAIN, or an error status
 * (connection closed). A frame from another protocol version is
 * ST_PROTOCOL. */
int client_read(struct ctl_client *c, uint16_t *type, int timeout_ms);

/* Monotonic milliseconds, for timeouts and redraw pacing. */
int64_t client_now_ms(void);

/* The payload root of the last frame read (a dict). */
const struct be_node *client_root(const struct ctl_client *c);

#endif
