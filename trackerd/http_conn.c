/* The HTTP/1.1 server under trackerd's routes: accepting, reading, framing
 * requests with common/http_req, keep-alive and pipelining, writing the
 * replies, and closing idle connections. One per worker thread, on its
 * event base; nothing here is shared between threads.
 *
 * The common cases cost few system calls. The listening sockets use
 * TCP_DEFER_ACCEPT, so a connection is accepted once its request is there:
 * it is read, answered and, for a one-shot client, closed at once, without
 * ever being registered with the event base. A kept-alive connection is
 * registered once and stays registered while it lives. Replies are built
 * without printf, in a buffer each connection keeps, and connections are
 * pooled, so a request costs no heap traffic. */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bencode.h"
#include "http.h"
#include "log.h"
#include "xmalloc.h"

#define BUF_INITIAL 4096
#define BUF_KEEP (64 * 1024)      /* a pooled connection keeps buffers up to this */
#define OUT_PAUSE (256 * 1024)    /* stop serving requests while this much waits to go */
#define ACCEPT_BATCH 64
#define IDLE_SECS 60              /* a connection quiet this long is closed */
#define SWEEP_SECS 5
#define POOL_MAX 256
#define ACCEPT_PAUSE_SECS 1       /* out of descriptors: wait before accepting again */

struct http_listener {
	struct http_server *hs;
	http_route_fn route;
	int fd;
	struct event *ev;
	struct http_listener *next;
};

struct hconn {
	struct http_server *hs;
	http_route_fn route;
	int fd;
	struct event *ev;          /* kept with the connection in the pool */
	short waiting;             /* EV_READ or EV_WRITE while ev is added, else 0 */
	struct swarm_addr peer;
	enum stat_family fam;
	uint8_t *in;               /* bytes read and not yet served: in[0..in_len) */
	size_t in_len, in_cap;
	struct http_req req;
	bool head_done;            /* req holds the head at the start of in */
	bool continue_sent;
	bool eof;                  /* the client will send nothing more */
	bool closing;              /* close once out is sent */
	struct http_chunked chunk;
	struct sta_buf out;
	size_t out_off;            /* bytes of out already sent */
	uint32_t active;           /* tracker_now() of the last progress */
	struct hconn *prev, *next; /* the server's list, least recently active first */
};

struct http_server {
	struct worker *w;
	struct http_listener *listeners;
	struct hconn *oldest, *newest;
	struct hconn *pool;        /* closed connections kept for reuse, by next */
	size_t n_pool;
	struct event *sweep;
	struct event *resume;      /* re-enables accepting after EMFILE */
	size_t max_body;
	time_t date_at;
	char date[30];             /* "Tue, 01 Dec 2026 07:11:45 GMT" */
};

static void conn_drive(struct hconn *h, bool readable);

/* ---- the connection list and pool ---- */

static void list_unlink(struct http_server *hs, struct hconn *h)
{
	*(h->prev ? &h->prev->next : &hs->oldest) = h->next;
	*(h->next ? &h->next->prev : &hs->newest) = h->prev;
	h->prev = h->next = NULL;
}

static void list_append(struct http_server *hs, struct hconn *h)
{
	h->prev = hs->newest;
	h->next = NULL;
	*(hs->newest ? &hs->newest->next : &hs->oldest) = h;
	hs->newest = h;
}

/* Marks progress: the connection moves to the young end of the list. */
static void conn_touch(struct hconn *h)
{
	h->active = tracker_now();
	if (h->hs->newest != h) {
		list_unlink(h->hs, h);
		list_append(h->hs, h);
	}
}

static void conn_free(struct hconn *h)
{
	event_free(h->ev);
	free(h->in);
	buf_free(&h->out);
	free(h);
}

static void conn_close(struct hconn *h)
{
	struct http_server *hs = h->hs;

	if (h->waiting)
		event_del(h->ev);
	close(h->fd);
	list_unlink(hs, h);
	if (hs->n_pool == POOL_MAX) {
		conn_free(h);
		return;
	}
	if (h->in_cap > BUF_KEEP) {
		free(h->in);
		h->in = NULL;
		h->in_cap = 0;
	}
	if (h->out.cap > BUF_KEEP)
		buf_free(&h->out);
	h->next = hs->pool;
	hs->pool = h;
	hs->n_pool++;
}

/* A connection for fd, from the pool when one is there. */
static struct hconn *conn_new(struct http_listener *l, int fd, const struct sockaddr *sa)
{
	struct http_server *hs = l->hs;
	struct hconn *h = hs->pool;

	if (h) {
		hs->pool = h->next;
		hs->n_pool--;
	} else {
		h = xcalloc(1, sizeof *h);
		h->ev = event_new(hs->w->base, -1, 0, NULL, NULL);
		if (h->ev == NULL)
			abort();        /* out of memory, as xmalloc would */
	}
	struct event *ev = h->ev;
	uint8_t *in = h->in;
	size_t in_cap = h->in_cap;
	struct sta_buf out = h->out;
	memset(h, 0, sizeof *h);
	h->ev = ev;
	h->in = in ? in : xmalloc(BUF_INITIAL);
	h->in_cap = in ? in_cap : BUF_INITIAL;
	h->out = out;
	buf_clear(&h->out);
	h->hs = hs;
	h->route = l->route;
	h->fd = fd;
	if (!tracker_addr_from_sockaddr(sa, &h->peer))
		memset(&h->peer, 0, sizeof h->peer);
	h->fam = sa->sa_family == AF_INET6 ? STAT_V6 : STAT_V4;
	http_req_init(&h->req);
	h->active = tracker_now();
	list_append(hs, h);
	return h;
}

/* ---- waiting ---- */

static void conn_event(evutil_socket_t fd, short what, void *arg)
{
	conn_drive(arg, (what & EV_READ) != 0);
}

/* Registers the connection for what (EV_READ or EV_WRITE), unless it is. */
static void conn_wait(struct hconn *h, short what)
{
	if (h->waiting == what)
		return;
	if (h->waiting)
		event_del(h->ev);
	event_assign(h->ev, h->hs->w->base, h->fd, what | EV_PERSIST, conn_event, h);
	if (event_add(h->ev, NULL) < 0) {
		log_err("cannot watch an HTTP connection");
		h->waiting = 0;
		conn_close(h);
		return;
	}
	h->waiting = what;
}

/* ---- replies ---- */

static void append_lit(struct sta_buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

/* The Date field's value, formatted once a second (not by strftime: the
 * names must not follow the locale). */
static const char *http_date(struct http_server *hs)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	time_t now = time(NULL);
	struct tm tm;

	if (now == hs->date_at)
		return hs->date;
	hs->date_at = now;
	gmtime_r(&now, &tm);
	char *d = hs->date;
	memcpy(d, days + 3 * tm.tm_wday, 3);
	d[3] = ',';
	d[4] = ' ';
	d[5] = (char)('0' + tm.tm_mday / 10);
	d[6] = (char)('0' + tm.tm_mday % 10);
	d[7] = ' ';
	memcpy(d + 8, months + 3 * tm.tm_mon, 3);
	d[11] = ' ';
	int year = tm.tm_year + 1900;
	for (int i = 15; i >= 12; i--, year /= 10)
		d[i] = (char)('0' + year % 10);
	int hms[3] = { tm.tm_hour, tm.tm_min, tm.tm_sec };
	for (int i = 0; i < 3; i++) {
		d[16 + 3 * i] = i ? ':' : ' ';
		d[17 + 3 * i] = (char)('0' + hms[i] / 10);
		d[18 + 3 * i] = (char)('0' + hms[i] % 10);
	}
	memcpy(d + 25, " GMT", 5);
	return hs->date;
}

/* The status line and fields of a reply to a request of HTTP/1.minor. */
static void reply_head(struct hconn *h, int code, const char *reason, const char *type,
                       size_t len)
{
	struct sta_buf *o = &h->out;
	bool v11 = h->head_done ? h->req.minor >= 1 : true;

	append_lit(o, v11 ? "HTTP/1.1 " : "HTTP/1.0 ");
	buf_append_dec(o, (uint64_t)code);
	buf_append_byte(o, ' ');
	append_lit(o, reason);
	append_lit(o, "\r\nContent-Type: ");
	append_lit(o, type);
	append_lit(o, "\r\nDate: ");
	append_lit(o, http_date(h->hs));
	append_lit(o, "\r\nContent-Length: ");
	buf_append_dec(o, len);
	if (h->closing && v11)
		append_lit(o, "\r\nConnection: close");
	else if (!h->closing && !v11)
		append_lit(o, "\r\nConnection: keep-alive");
	append_lit(o, "\r\n\r\n");
}

void http_reply(struct http_call *c, int code, const char *reason, const char *type,
                const void *data, size_t len)
{
	struct hconn *h = c->conn;

	if (c->replied) {
		log_err("second reply to one request (%d %s) dropped", code, reason);
		return;
	}
	c->replied = true;
	reply_head(h, code, reason, type, len);
	if (c->method != HTTP_METHOD_HEAD)
		buf_append(&h->out, data, len);
}

/* The body of a failure: bencoded, so BitTorrent clients show the reason. */
void http_fail(struct http_call *c, int code, const char *reason, const char *msg)
{
	struct sta_buf *out = &c->w->out;

	stats_inc_family(c->w->stats, STAT_HTTP_ERRORS, c->fam);
	buf_clear(out);
	tracker_build_failure(out, msg);
	http_reply(c, code, reason, "text/plain", out->data, out->len);
}

/* Answers a request that will not be served and closes after the reply. */
static void conn_refuse(struct hconn *h, int code, const char *reason, const char *msg)
{
	struct http_call c = { .w = h->hs->w, .conn = h, .fam = h->fam, .kind = HIST_HTTP_OTHER };

	h->closing = true;
	http_fail(&c, code, reason, msg);
}

static void conn_refuse_err(struct hconn *h, enum http_req_err e)
{
	const char *reason;
	int code = http_req_err_status(e, &reason);

	conn_refuse(h, code, reason, http_req_strerror(e));
}

/* ---- serving requests ---- */

const char *http_header(const struct http_call *c, const char *name)
{
	const struct http_req *r = &c->conn->req;

	for (uint32_t i = 0; i < r->n_fields; i++)
		if (strcasecmp((const char *)c->conn->in + r->fields[i].name.off, name) == 0)
			return (const char *)c->conn->in + r->fields[i].value.off;
	return NULL;
}

bool http_peer_addr(const struct http_call *c, struct swarm_addr *out)
{
	*out = c->conn->peer;
	return out->family != 0;
}

/* Ends path, query, names and values with NULs in place: each is followed
 * by a delimiter of the head ('?', ' ', ':', CR, LF or blank). */
static void terminate_strings(struct hconn *h)
{
	struct http_req *r = &h->req;

	h->in[r->path.off + r->path.len] = '\0';
	h->in[r->query.off + r->query.len] = '\0';
	for (uint32_t i = 0; i < r->n_fields; i++) {
		h->in[r->fields[i].name.off + r->fields[i].name.len] = '\0';
		h->in[r->fields[i].value.off + r->fields[i].value.len] = '\0';
	}
}

static void conn_serve(struct hconn *h, const uint8_t *body, size_t body_len)
{
	struct http_server *hs = h->hs;
	uint64_t t0 = stats_now_ns();
	struct http_call c = {
		.w = hs->w, .conn = h, .method = h->req.method, .body = body, .body_len = body_len,
		.fam = h->fam, .kind = HIST_HTTP_OTHER,
	};

	terminate_strings(h);
	c.path = (const char *)h->in + h->req.path.off;
	c.query = (const char *)h->in + h->req.query.off;
	c.query_len = h->req.query.len;
	h->closing = !h->req.keep_alive;
	h->route(&c);
	if (!c.replied)
		http_fail(&c, 500, "Internal Server Error", "the request went unanswered");
	stats_observe(hs->w->stats, c.kind, stats_now_ns() - t0);
}

/* Checks a complete head before its body is read; false after refusing. */
static bool conn_head_ok(struct hconn *h)
{
	struct http_req *r = &h->req;

	if (r->method != HTTP_METHOD_GET && r->method != HTTP_METHOD_HEAD &&
	    r->method != HTTP_METHOD_POST && r->method != HTTP_METHOD_DELETE) {
		conn_refuse(h, 501, "Not Implemented", "method not implemented");
		return false;
	}
	if (r->has_length && r->content_length > h->hs->max_body) {
		conn_refuse_err(h, HTTP_ERR_BODY_TOO_LARGE);
		return false;
	}
	if (r->chunked)
		http_chunked_init(&h->chunk, h->hs->max_body);
	return true;
}

/* Sends "100 Continue" once to a client that waits for it before its body. */
static void conn_continue(struct hconn *h)
{
	if (h->continue_sent || !h->req.expect_continue || h->req.minor == 0)
		return;
	h->continue_sent = true;
	append_lit(&h->out, "HTTP/1.1 100 Continue\r\n\r\n");
}

/* The body of the request at the start of in: true when it is all there,
 * with the raw bytes it took in *raw. */
static bool conn_body(struct hconn *h, const uint8_t **body, size_t *len, size_t *raw)
{
	struct http_req *r = &h->req;
	uint8_t *start = h->in + r->head_len;
	size_t have = h->in_len - r->head_len;

	*body = NULL;
	*len = *raw = 0;
	if (r->chunked) {
		enum http_parse st = http_chunked_decode(&h->chunk, start, have);
		if (st == HTTP_PARSE_ERROR) {
			conn_refuse_err(h, h->chunk.err);
			return false;
		}
		if (st == HTTP_PARSE_MORE) {
			conn_continue(h);
			return false;
		}
		*body = start;
		*len = h->chunk.out;
		*raw = h->chunk.in;
		return true;
	}
	if (!r->has_length || r->content_length == 0)
		return true;
	if (have < r->content_length) {
		conn_continue(h);
		return false;
	}
	*body = start;
	*len = *raw = (size_t)r->content_length;
	return true;
}

/* Drops the served request's bytes; the next request moves to the front. */
static void conn_consume(struct hconn *h, size_t n)
{
	memmove(h->in, h->in + n, h->in_len - n);
	h->in_len -= n;
	h->head_done = false;
	h->continue_sent = false;
	http_req_init(&h->req);
}

/* Serves the request at the start of in, if it is complete: 1 if it was,
 * 0 if more bytes are needed, -1 when the connection is closing. */
static int conn_next(struct hconn *h)
{
	const uint8_t *body;
	size_t len, raw;

	if (!h->head_done) {
		enum http_parse st = http_req_parse(&h->req, h->in, h->in_len);
		if (st == HTTP_PARSE_MORE)
			return 0;
		if (st == HTTP_PARSE_ERROR) {
			conn_refuse_err(h, h->req.err);
			return -1;
		}
		h->head_done = true;
		if (!conn_head_ok(h))
			return -1;
	}
	if (!conn_body(h, &body, &len, &raw))
		return h->closing ? -1 : 0;
	conn_serve(h, body, len);
	conn_consume(h, h->req.head_len + raw);
	return h->closing ? -1 : 1;
}

/* Serves every complete request; true if it stopped with replies piling
 * up (more may be waiting in the buffer). */
static bool conn_serve_all(struct hconn *h)
{
	while (!h->closing) {
		if (h->out.len - h->out_off >= OUT_PAUSE)
			return true;
		if (conn_next(h) <= 0)
			break;
	}
	/* After the client's end of stream nothing more can complete. */
	if (h->eof)
		h->closing = true;
	return false;
}

/* Room for the next read: the whole body once its length is known. */
static void conn_make_room(struct hconn *h)
{
	size_t need = h->in_len + BUF_INITIAL / 2;

	if (h->head_done && h->req.has_length)
		need = h->req.head_len + (size_t)h->req.content_length;
	if (need <= h->in_cap)
		return;
	size_t cap = h->in_cap * 2 > need ? h->in_cap * 2 : need;
	h->in = xreallocarray(h->in, cap, 1);
	h->in_cap = cap;
}

/* One read of what is there; false when the connection failed. A request
 * longer than the room is read over several wake-ups. */
static bool conn_read(struct hconn *h)
{
	for (;;) {
		conn_make_room(h);
		ssize_t n = recv(h->fd, h->in + h->in_len, h->in_cap - h->in_len, 0);
		if (n > 0) {
			h->in_len += (size_t)n;
			stats_add(h->hs->w->stats, STAT_HTTP_BYTES_IN, (uint64_t)n);
			conn_touch(h);
			return true;
		}
		if (n == 0) {
			h->eof = true;
			return true;
		}
		if (errno != EINTR)
			return errno == EAGAIN || errno == EWOULDBLOCK;
	}
}

enum flush { FLUSH_DONE, FLUSH_BLOCKED, FLUSH_FAILED };

static enum flush conn_flush(struct hconn *h)
{
	while (h->out_off < h->out.len) {
		ssize_t n = send(h->fd, h->out.data + h->out_off, h->out.len - h->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			h->out_off += (size_t)n;
			stats_add(h->hs->w->stats, STAT_HTTP_BYTES_OUT, (uint64_t)n);
			conn_touch(h);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? FLUSH_BLOCKED
			                                                          : FLUSH_FAILED;
		}
	}
	buf_clear(&h->out);
	h->out_off = 0;
	return FLUSH_DONE;
}

/* Reads (when readable), serves, writes, and decides what to wait for. */
static void conn_drive(struct hconn *h, bool readable)
{
	bool paused = h->out.len - h->out_off >= OUT_PAUSE;

	if (readable && !paused && !h->closing && !h->eof && !conn_read(h))
		return conn_close(h);
	for (;;) {
		paused = conn_serve_all(h);
		switch (conn_flush(h)) {
		case FLUSH_FAILED:
			return conn_close(h);
		case FLUSH_BLOCKED:
			return conn_wait(h, EV_WRITE);
		case FLUSH_DONE:
			break;
		}
		if (h->closing)
			return conn_close(h);
		if (!paused)
			return conn_wait(h, EV_READ);
	}
}

/* ---- accepting ---- */

static void listeners_enable(struct http_server *hs, bool on)
{
	for (struct http_listener *l = hs->listeners; l; l = l->next)
		if (on)
			event_add(l->ev, NULL);
		else
			event_del(l->ev);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	listeners_enable(arg, true);
}

/* Out of descriptors or memory: stop accepting for a moment instead of
 * spinning on a listener that stays readable. */
static void accept_pause(struct http_server *hs)
{
	struct timeval tv = { ACCEPT_PAUSE_SECS, 0 };

	log_warn("cannot accept HTTP connections: %s; pausing for %d s (raise the open files "
	         "limit, LimitNOFILE= under systemd)", strerror(errno), ACCEPT_PAUSE_SECS);
	listeners_enable(hs, false);
	evtimer_add(hs->resume, &tv);
}

static void accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_listener *l = arg;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		int c = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c >= 0) {
			/* With TCP_DEFER_ACCEPT the request is usually there already. */
			conn_drive(conn_new(l, c, (struct sockaddr *)&ss), true);
		} else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		           errno == ENOMEM) {
			accept_pause(l->hs);
			return;
		} else if (errno != EINTR && errno != ECONNABORTED) {
			return;             /* EAGAIN: all accepted */
		}
	}
}

/* Closes the connections that made no progress for IDLE_SECS. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *hs = arg;
	uint32_t now = tracker_now();

	while (hs->oldest && now - hs->oldest->active >= IDLE_SECS)
		conn_close(hs->oldest);
}

struct http_server *http_server_new(struct worker *w)
{
	struct http_server *hs = xcalloc(1, sizeof *hs);
	struct timeval tv = { SWEEP_SECS, 0 };

	hs->w = w;
	hs->max_body = 1 << 20;
	hs->sweep = event_new(w->base, -1, EV_PERSIST, sweep_cb, hs);
	hs->resume = evtimer_new(w->base, resume_cb, hs);
	if (hs->sweep == NULL || hs->resume == NULL || event_add(hs->sweep, &tv) < 0) {
		http_server_free(hs);
		return NULL;
	}
	return hs;
}

bool http_server_listen(struct http_server *hs, int fd, http_route_fn route)
{
	struct http_listener *l = xcalloc(1, sizeof *l);

	l->hs = hs;
	l->route = route;
	l->fd = fd;
	l->next = hs->listeners;
	hs->listeners = l;
	l->ev = event_new(hs->w->base, fd, EV_READ | EV_PERSIST, accept_cb, l);
	return l->ev && event_add(l->ev, NULL) == 0;
}

void http_server_set_max_body(struct http_server *hs, size_t max)
{
	hs->max_body = max;
}

void http_server_free(struct http_server *hs)
{
	if (hs == NULL)
		return;
	while (hs->oldest)
		conn_close(hs->oldest);
	while (hs->pool) {
		struct hconn *h = hs->pool;
		hs->pool = h->next;
		conn_free(h);
	}
	while (hs->listeners) {
		struct http_listener *l = hs->listeners;
		hs->listeners = l->next;
		if (l->ev)
			event_free(l->ev);
		close(l->fd);
		free(l);
	}
	if (hs->sweep)
		event_free(hs->sweep);
	if (hs->resume)
		event_free(hs->resume);
	free(hs);
}
