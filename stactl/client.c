#include "client.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_msg.h"
#include "ctl_proto.h"
#include "render.h"

#define READ_CHUNK 65536

void client_init(struct ctl_client *c)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

bool client_connected(const struct ctl_client *c)
{
	return c->fd >= 0;
}

static void client_drop_doc(struct ctl_client *c)
{
	if (c->have_doc)
		be_doc_free(&c->doc);
	c->have_doc = false;
}

void client_close(struct ctl_client *c)
{
	client_drop_doc(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
	c->consumed = 0;
}

/* Records an error for the user, closes the connection (the stream is no
 * longer trustworthy) and returns status. */
static int client_fail(struct ctl_client *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int client_fail(struct ctl_client *c, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	client_close(c);
	return status;
}

const struct be_node *client_root(const struct ctl_client *c)
{
	return c->have_doc ? be_root(&c->doc) : NULL;
}

int64_t client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int client_send(struct ctl_client *c, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return client_fail(c, ST_UNREACHABLE, "lost the connection to stad: %s",
			                   strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return ST_OK;
}

/* Copies an escaped, bounded version of s into dst. */
static void str_copy(char *dst, size_t dstsz, struct ctl_str s)
{
	struct sta_buf b = STA_BUF_INIT;

	render_str(&b, s);
	snprintf(dst, dstsz, "%s", buf_cstr(&b));
	buf_free(&b);
}

/* The message of an ERROR payload, escaped, into dst ("" when none). */
static void error_copy(const struct be_doc *doc, char *code, size_t codesz, char *msg,
                       size_t msgsz)
{
	struct ctl_error e;
	char why[80];

	code[0] = msg[0] = '\0';
	if (!ctl_error_decode(doc, &e, why, sizeof why))
		return;
	if (e.code.p)
		str_copy(code, codesz, e.code);
	if (e.message.p)
		str_copy(msg, msgsz, e.message);
}

/* Tries to parse one buffered frame. ST_OK with a frame, CLIENT_AGAIN
 * when more bytes are needed, or an error. */
static int client_parse(struct ctl_client *c, uint16_t *type)
{
	struct ctl_frame f;
	size_t used = 0;
	const char *why = "?";
	char name[200];

	switch (ctl_frame_parse(c->in.data, c->in.len, &f, &used, &why)) {
	case CTL_NEED_MORE:
		return CLIENT_AGAIN;
	case CTL_FRAME_ERROR:
		return client_fail(c, ST_PROTOCOL, "protocol error from stad: %s", why);
	case CTL_FRAME_OK:
		break;
	}
	c->consumed = used;
	if (f.version != CTL_PROTO_VERSION) {
		/* The header layout is fixed across versions; the payload is
		 * probably still a dict with a message worth showing. */
		char code[32];
		name[0] = '\0';
		if (ctl_payload_decode(&f, &c->doc) == BE_OK) {
			c->have_doc = true;
			error_copy(&c->doc, code, sizeof code, name, sizeof name);
		}
		return client_fail(c, ST_PROTOCOL,
		                   "version mismatch: stactl speaks control protocol version %d, "
		                   "stad speaks version %u%s%s",
		                   CTL_PROTO_VERSION, f.version, name[0] ? "; stad says: " : "",
		                   name);
	}
	enum be_err e = ctl_payload_decode(&f, &c->doc);
	if (e != BE_OK)
		return client_fail(c, ST_PROTOCOL, "protocol error from stad: bad %s payload: %s",
		                   ctl_msg_name(f.type), be_strerror(e));
	c->have_doc = true;
	*type = f.type;
	return ST_OK;
}

int client_read(struct ctl_client *c, uint16_t *type, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : client_now_ms() + timeout_ms;

	if (c->fd < 0)
		return client_fail(c, ST_UNREACHABLE, "not connected to stad");
	client_drop_doc(c);
	if (c->consumed) {
		memmove(c->in.data, c->in.data + c->consumed, c->in.len - c->consumed);
		c->in.len -= c->consumed;
		c->consumed = 0;
	}
	for (;;) {
		int r = client_parse(c, type);
		if (r != CLIENT_AGAIN)
			return r;
		int wait = -1;
		if (deadline >= 0) {
			int64_t left = deadline - client_now_ms();
			if (left <= 0)
				return CLIENT_AGAIN;
			wait = (int)left;
		}
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int p = poll(&pfd, 1, wait);
		if (p < 0 && errno == EINTR)
			return CLIENT_AGAIN;
		if (p < 0)
			return client_fail(c, ST_UNREACHABLE, "poll: %s", strerror(errno));
		if (p == 0)
			continue;
		/* ctl_frame_parse refuses a length over CTL_FRAME_MAX from the
		 * header, so the buffer never outgrows one frame plus a chunk. */
		buf_reserve(&c->in, READ_CHUNK);
		ssize_t n = recv(c->fd, c->in.data + c->in.len, READ_CHUNK, 0);
		if (n < 0 && errno == EINTR)
			return CLIENT_AGAIN;
		if (n < 0)
			return client_fail(c, ST_UNREACHABLE, "lost the connection to stad: %s",
			                   strerror(errno));
		if (n == 0)
			return client_fail(c, ST_UNREACHABLE,
			                   c->in.len ? "stad closed the connection in the middle of a "
			                               "frame"
			                             : "stad closed the connection");
		c->in.len += (size_t)n;
	}
}

/* Waits for the one reply a request gets; unexpected frames are protocol
 * errors. */
static int client_reply(struct ctl_client *c)
{
	int64_t deadline = client_now_ms() + CLIENT_REPLY_TIMEOUT_MS;
	uint16_t type = 0;
	int r;

	/* A signal that did not kill us only cuts a wait short. */
	do {
		int64_t left = deadline - client_now_ms();
		r = client_read(c, &type, left > 0 ? (int)left : 0);
	} while (r == CLIENT_AGAIN && client_now_ms() < deadline);
	if (r == CLIENT_AGAIN)
		return client_fail(c, ST_UNREACHABLE, "stad did not answer within %d seconds",
		                   CLIENT_REPLY_TIMEOUT_MS / 1000);
	if (r != ST_OK)
		return r;
	if (type == CTL_MSG_OK)
		return ST_OK;
	if (type != CTL_MSG_ERROR) {
		const char *name = ctl_msg_name(type);
		return client_fail(c, ST_PROTOCOL,
		                   "protocol error from stad: expected a reply, got %s", name);
	}
	char msg[sizeof c->err - 80];
	error_copy(&c->doc, c->code, sizeof c->code, msg, sizeof msg);
	if (strcmp(c->code, CTL_ERR_VERSION) == 0)
		return client_fail(c, ST_PROTOCOL,
		                   "version mismatch: stactl speaks control protocol version %d; "
		                   "stad says: %s",
		                   CTL_PROTO_VERSION, msg);
	snprintf(c->err, sizeof c->err, "%s", msg[0] ? msg : "stad answered with an error");
	return ST_FAILED;
}

int client_call(struct ctl_client *c, const struct sta_buf *frame)
{
	c->code[0] = '\0';
	if (c->fd < 0)
		return client_fail(c, ST_UNREACHABLE, "not connected to stad");
	int r = client_send(c, frame->data, frame->len);
	if (r != ST_OK)
		return r;
	return client_reply(c);
}

static int client_hello(struct ctl_client *c)
{
	struct sta_buf b = STA_BUF_INIT;
	struct ctl_hello hello = { ctl_str_c("stactl " STA_VERSION) };
	struct ctl_hello_reply reply;
	char why[80];

	ctl_hello_encode(&b, &hello);
	int r = client_call(c, &b);
	buf_free(&b);
	if (r != ST_OK)
		return r;
	if (ctl_hello_reply_decode(&c->doc, &reply, why, sizeof why) &&
	    reply.version != CTL_UNKNOWN && reply.version != CTL_PROTO_VERSION)
		return client_fail(c, ST_PROTOCOL,
		                   "version mismatch: stactl speaks control protocol version %d, "
		                   "stad speaks version %lld",
		                   CTL_PROTO_VERSION, (long long)reply.version);
	return ST_OK;
}

int client_connect(struct ctl_client *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	client_close(c);
	if (strlen(path) >= sizeof sa.sun_path)
		return client_fail(c, ST_USAGE, "socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return client_fail(c, ST_UNREACHABLE, "socket: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		const char *hint =
			e == EACCES ? " \xe2\x80\x94 is your user in stad's group?"
			            : " \xe2\x80\x94 is stad running? Start it with 'systemctl start "
			              "stad' (or 'stad --config FILE'), or point stactl at it with "
			              "--socket.";
		return client_fail(c, ST_UNREACHABLE, "cannot connect to %s: %s%s", path,
		                   strerror(e), hint);
	}
	return client_hello(c);
}
