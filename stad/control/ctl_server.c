/* The control socket: listening, clients, framing, HELLO, WATCH. */
#include "ctl_server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "ctl_msg.h"
#include "ctl_proto.h"
#include "ctl_verbs.h"
#include "log.h"
#include "session.h"
#include "torrent.h"
#include "xmalloc.h"

#define CTL_BACKLOG 16

struct ctl_client {
	TAILQ_ENTRY(ctl_client) link;
	struct ctl_server *srv;
	struct bufferevent *bev;
	uint64_t id;
	bool hello;
	bool busy;                 /* a request waits for its reply */
	bool processing;           /* inside client_process */
	bool closing;              /* flush the output, then close */
	bool dead;
	struct event *watch;
	uint8_t watch_hash[20];
	struct sta_buf last_event;  /* sent to the watcher: the same is not sent again */
};

TAILQ_HEAD(ctl_client_list, ctl_client);

struct ctl_server {
	struct session *s;
	struct ctl_verbs *verbs;
	struct evconnlistener *lst;
	char *path;                /* unlinked at exit when we created it */
	struct ctl_client_list clients, dead;
	struct event *reaper;
	struct event *backoff;     /* accept paused after EMFILE */
	uint64_t next_id;
};

static void torrent_event(void *arg, const uint8_t info_hash[20]);

/* ---- the socket ---- */

static int systemd_socket(void)
{
	int n = sd_listen_fds(0);

	for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++)
		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0)
			return fd;
	return -1;
}

/* A stale socket file from a crashed stad is replaced; a live one (someone
 * answers) or anything that is not a socket is left alone. */
static bool clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("%s exists and is not a socket", path);
		return false;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live = fd >= 0 && connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0;
	if (fd >= 0)
		close(fd);
	if (live) {
		log_err("%s: another stad is answering there", path);
		return false;
	}
	return unlink(path) == 0 || errno == ENOENT;
}

static int bind_socket(const char *path)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		log_err("control socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (!clear_stale(path, &sun))
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	mode_t old = umask(0117); /* born 0660: no window with a wider mode */
	int rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (rc < 0 || chmod(path, 0660) < 0 || listen(fd, CTL_BACKLOG) < 0) {
		log_err("control socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- clients ---- */

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_server *srv = arg;

	while (!TAILQ_EMPTY(&srv->dead)) {
		struct ctl_client *c = TAILQ_FIRST(&srv->dead);
		TAILQ_REMOVE(&srv->dead, c, link);
		bufferevent_free(c->bev);
		buf_free(&c->last_event);
		free(c);
	}
}

static void client_close(struct ctl_client *c)
{
	struct ctl_server *srv = c->srv;

	if (c->dead)
		return;
	c->dead = true;
	if (c->watch)
		event_free(c->watch);
	c->watch = NULL;
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	TAILQ_REMOVE(&srv->clients, c, link);
	TAILQ_INSERT_TAIL(&srv->dead, c, link);
	event_active(srv->reaper, EV_TIMEOUT, 0);
}

static struct ctl_client *client_find(struct ctl_server *srv, uint64_t id)
{
	struct ctl_client *c;

	TAILQ_FOREACH(c, &srv->clients, link)
		if (c->id == id)
			return c;
	return NULL;
}

static void client_send(struct ctl_client *c, const struct sta_buf *frame)
{
	bufferevent_write(c->bev, frame->data, frame->len);
}

/* An ERROR reply, then the connection is closed once it is flushed. */
static void client_fail(struct ctl_client *c, const char *code, const char *message)
{
	struct sta_buf b = STA_BUF_INIT;

	ctl_frame_error(&b, code, message);
	client_send(c, &b);
	buf_free(&b);
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
}

static void reply_hello(struct ctl_client *c, const struct be_doc *doc)
{
	struct sta_buf b = STA_BUF_INIT;
	struct ctl_hello hello;
	struct ctl_hello_reply reply = { ctl_str_c("stad " STA_VERSION), CTL_PROTO_VERSION };
	char err[128], why[160];

	if (!ctl_hello_decode(doc, &hello, err, sizeof err)) {
		snprintf(why, sizeof why, "bad HELLO: %s", err);
		client_fail(c, CTL_ERR_BAD_REQUEST, why);
		return;
	}
	ctl_hello_reply_encode(&b, &reply);
	client_send(c, &b);
	buf_free(&b);
	c->hello = true;
}

static void handle_frame(struct ctl_client *c, const struct ctl_frame *f)
{
	struct be_doc doc;
	char msg[160];

	if (f->version != CTL_PROTO_VERSION) {
		snprintf(msg, sizeof msg, "stad speaks control protocol version %d, the client %u",
		         CTL_PROTO_VERSION, f->version);
		client_fail(c, CTL_ERR_VERSION, msg);
		return;
	}
	if (ctl_payload_decode(f, &doc) != BE_OK) {
		client_fail(c, CTL_ERR_BAD_REQUEST, "the payload is not a valid bencoded dict");
		return;
	}
	if (f->type == CTL_MSG_HELLO) {
		reply_hello(c, &doc);
	} else if (!c->hello) {
		client_fail(c, CTL_ERR_BAD_REQUEST, "send HELLO first");
	} else if (f->type < CTL_MSG_STATUS || f->type > CTL_MSG_SEARCH) {
		client_fail(c, CTL_ERR_BAD_REQUEST, "not a request");
	} else {
		c->busy = true;
		ctl_verbs_dispatch(c->srv->verbs, c->id, f->type, &doc);
	}
	be_doc_free(&doc);
}

/* Handles buffered frames, one request at a time. */
static void client_process(struct ctl_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	c->processing = true;
	while (!c->busy && !c->closing && !c->dead) {
		size_t n = evbuffer_get_length(in);
		struct ctl_frame f;
		size_t consumed;
		const char *why = "malformed frame";
		if (n < CTL_HEADER_LEN)
			break;
		if (n > CTL_HEADER_LEN + CTL_FRAME_MAX)
			n = CTL_HEADER_LEN + CTL_FRAME_MAX;
		const uint8_t *data = evbuffer_pullup(in, (ev_ssize_t)n);
		enum ctl_parse_result r = ctl_frame_parse(data, n, &f, &consumed, &why);
		if (r == CTL_NEED_MORE)
			break;
		if (r == CTL_FRAME_ERROR) {
			client_fail(c, CTL_ERR_BAD_REQUEST, why);
			break;
		}
		handle_frame(c, &f);
		evbuffer_drain(in, consumed);
	}
	c->processing = false;
}

static void client_read_cb(struct bufferevent *bev, void *arg)
{
	client_process(arg);
}

static void client_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client *c = arg;

	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		client_close(c);
}

static void client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	client_close(arg);
}

static void log_peer_cred(int fd, uint64_t id)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		log_debug("control client %llu: uid %u pid %d", (unsigned long long)id,
		         (unsigned)cred.uid, (int)cred.pid);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
	struct ctl_server *srv = arg;
	struct bufferevent *bev = bufferevent_socket_new(srv->s->base, fd, BEV_OPT_CLOSE_ON_FREE);

	if (bev == NULL) {
		close(fd);
		return;
	}
	struct ctl_client *c = xcalloc(1, sizeof *c);
	c->srv = srv;
	c->bev = bev;
	c->id = ++srv->next_id;
	log_peer_cred(fd, c->id);
	TAILQ_INSERT_TAIL(&srv->clients, c, link);
	bufferevent_setcb(bev, client_read_cb, client_write_cb, client_event_cb, c);
	bufferevent_setwatermark(bev, EV_READ, 0, CTL_HEADER_LEN + CTL_FRAME_MAX);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	evconnlistener_enable(((struct ctl_server *)arg)->lst);
}

/* Out of file descriptors: pause accepting for a second rather than spin. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct ctl_server *srv = arg;
	struct timeval one = { 1, 0 };

	log_warn("control socket accept: %s", strerror(errno));
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
		evconnlistener_disable(l);
		event_add(srv->backoff, &one);
	}
}

struct ctl_server *ctl_server_new(struct session *s, const char *path)
{
	struct ctl_server *srv = xcalloc(1, sizeof *srv);
	int fd = systemd_socket();

	srv->s = s;
	TAILQ_INIT(&srv->clients);
	TAILQ_INIT(&srv->dead);
	if (fd >= 0) {
		log_info("control socket passed by systemd");
	} else {
		fd = bind_socket(path);
		if (fd < 0) {
			free(srv);
			return NULL;
		}
		srv->path = xstrdup(path);
	}
	evutil_make_socket_nonblocking(fd);
	srv->lst = evconnlistener_new(s->base, accept_cb, srv, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	srv->reaper = event_new(s->base, -1, 0, reap_cb, srv);
	srv->backoff = event_new(s->base, -1, 0, backoff_cb, srv);
	if (srv->lst == NULL || srv->reaper == NULL || srv->backoff == NULL) {
		log_err("control socket: cannot set up events");
		if (srv->lst == NULL)
			close(fd);
		ctl_server_free(srv);
		return NULL;
	}
	evconnlistener_set_error_cb(srv->lst, accept_error_cb);
	srv->verbs = ctl_verbs_new(&(struct ctl_answer){ ctl_server_reply, ctl_server_reply_error,
	                                                 ctl_server_watch, srv }, s);
	s->on_torrent_event = torrent_event;
	s->on_torrent_event_arg = srv;
	return srv;
}

void ctl_server_free(struct ctl_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->s->on_torrent_event_arg == srv)
		srv->s->on_torrent_event = NULL;
	ctl_verbs_free(srv->verbs);
	/* Replies already queued (a CLOSE answered as stad stops) go out now,
	 * in one non-blocking send: the loop will not run again. The output
	 * is peeked, not drained: libevent freezes it for its own writer. */
	struct ctl_client *c;
	TAILQ_FOREACH(c, &srv->clients, link) {
		struct evbuffer_iovec ev[8];
		struct iovec iov[8];
		int n = evbuffer_peek(bufferevent_get_output(c->bev), -1, NULL, ev, 8);
		if (n <= 0 || n > 8)
			continue;
		for (int i = 0; i < n; i++)
			iov[i] = (struct iovec){ ev[i].iov_base, ev[i].iov_len };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		if (sendmsg(bufferevent_getfd(c->bev), &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			log_debug("control client %llu: reply lost at exit: %s",
			          (unsigned long long)c->id, strerror(errno));
	}
	while (!TAILQ_EMPTY(&srv->clients))
		client_close(TAILQ_FIRST(&srv->clients));
	reap_cb(-1, 0, srv);
	if (srv->lst)
		evconnlistener_free(srv->lst);
	if (srv->path)
		unlink(srv->path);
	if (srv->reaper)
		event_free(srv->reaper);
	if (srv->backoff)
		event_free(srv->backoff);
	free(srv->path);
	free(srv);
}

/* ---- replies ---- */

void ctl_server_reply(struct ctl_server *srv, uint64_t id, struct sta_buf *frame)
{
	struct ctl_client *c = client_find(srv, id);

	if (c == NULL || c->dead)
		return;
	client_send(c, frame);
	c->busy = false;
	if (!c->processing)
		client_process(c);
}

void ctl_server_reply_error(struct ctl_server *srv, uint64_t id, const char *code,
                            const char *message)
{
	struct sta_buf b = STA_BUF_INIT;

	ctl_frame_error(&b, code, message);
	ctl_server_reply(srv, id, &b);
	buf_free(&b);
}

/* ---- WATCH ---- */

/* The event of the watched torrent; *final when it is the last one. */
static void watch_encode(struct ctl_client *c, struct sta_buf *b, bool *final)
{
	struct torrent *t = torrent_find(c->srv->s, c->watch_hash);
	struct ctl_torrent ev;

	if (t == NULL) {
		ctl_torrent_init(&ev);
		ev.error = ctl_str_c("the torrent was removed");
		ctl_event_encode(b, &ev);
		*final = true;
		return;
	}
	torrent_status(t, false, &ev);
	if (ev.complete == 1) {
		/* The peers that sent blocks are gone by now. */
		ev.down_rate = (int64_t)t->done_rate;
		ev.peers = t->done_peers;
	}
	ctl_event_encode(b, &ev);
	torrent_status_free(&ev);
	*final = torrent_is_complete(t) || t->state == TS_ERROR;
}

/* Sends the watched torrent's event unless it is the same as the last. */
static void watch_event(struct ctl_client *c)
{
	struct sta_buf b = STA_BUF_INIT;
	bool final = false;

	watch_encode(c, &b, &final);
	if (b.len != c->last_event.len || memcmp(b.data, c->last_event.data, b.len) != 0) {
		client_send(c, &b);
		buf_free(&c->last_event);
		c->last_event = b;
	} else {
		buf_free(&b);
	}
	if (final) {
		event_free(c->watch);
		c->watch = NULL;
	}
}

static void watch_cb(evutil_socket_t fd, short what, void *arg)
{
	watch_event(arg);
}

void ctl_server_watch(struct ctl_server *srv, uint64_t id, const uint8_t info_hash[20])
{
	struct ctl_client *c = client_find(srv, id);
	struct timeval tv = { 0, CTL_WATCH_MS * 1000 };

	if (c == NULL || c->dead)
		return;
	memcpy(c->watch_hash, info_hash, 20);
	buf_clear(&c->last_event);
	if (c->watch == NULL)
		c->watch = event_new(srv->s->base, -1, EV_PERSIST, watch_cb, c);
	if (c->watch == NULL || event_add(c->watch, &tv) < 0)
		return;
	watch_event(c);
}

/* A torrent completed or failed: its watchers get the final event now. */
static void torrent_event(void *arg, const uint8_t info_hash[20])
{
	struct ctl_server *srv = arg;
	struct ctl_client *c;

	TAILQ_FOREACH(c, &srv->clients, link)
		if (c->watch && !c->dead && memcmp(c->watch_hash, info_hash, 20) == 0)
			watch_event(c);
}
