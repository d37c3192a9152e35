/* Tracker load generator: many announces in flight, reports requests/s.
 *
 *   tracker_load --mode MODE --target ADDR:PORT [options]
 *
 * Modes:
 *   udp          BEP 15 announces with a cached connection id per source
 *   udp-connect  a fresh connect before every announce
 *   udp-fill     announce every one of --peers peers once, then exit
 *   http         HTTP/1.1 announces, keep-alive connections
 *   http-close   HTTP announces, one connection per request
 *   http-paths   GET each line of --paths FILE in turn, keep-alive, and report
 *                the latency of each request (p50, p99, max)
 *   hashes       print the info-hashes used (hex, one a line) and exit
 *
 * Peer p announces info-hash (p / nsrc) % hashes from source address
 * src[p % nsrc] with port 1024 + p / (nsrc * hashes) % 64000, so up to
 * nsrc * hashes * 64000 peers are distinct to any tracker. UDP batches with
 * sendmmsg/recvmmsg; HTTP runs --conns nonblocking connections on epoll.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_SRC 64
#define MAX_SLOTS 65536
#define UDP_PROTOCOL_ID 0x41727101980ULL
#define UDP_LOST_AFTER 1.0   /* seconds before an unanswered datagram counts as lost */

enum mode { MODE_UDP, MODE_UDP_CONNECT, MODE_UDP_FILL, MODE_HTTP, MODE_HTTP_CLOSE, MODE_HASHES,
            MODE_HTTP_PATHS };

struct opts {
	enum mode mode;
	struct sockaddr_in target;
	double duration;
	uint32_t hashes;
	uint32_t peers;
	uint32_t inflight;
	uint32_t conns;
	uint32_t numwant;
	struct in_addr src[MAX_SRC];
	unsigned nsrc;
};

struct counters {
	uint64_t ok, errors, lost;
	uint64_t reconnects;    /* keep-alive connections the server closed between requests */
};

static const char *const mode_names[] = { "udp", "udp-connect", "udp-fill", "http",
                                          "http-close", "hashes", "http-paths" };

/* http-paths: the paths to GET and the latencies measured, in seconds. */
static char **paths;
static size_t n_paths;
static double *lat;
static size_t n_lat, cap_lat;

static struct opts o = {
	.duration = 10, .hashes = 1000, .peers = 100000, .inflight = 1024, .conns = 64,
	.numwant = 50,
};

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "tracker_load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: tracker_load --mode udp|udp-connect|udp-fill|http|http-close|hashes\n"
	        "         --target ADDR:PORT [--duration S] [--hashes N] [--peers N]\n"
	        "         [--inflight N] [--conns N] [--numwant N] [--src A1,A2,...]\n"
	        "         [--paths FILE]   (http-paths)\n");
	exit(2);
}

/* ---- peers and hashes ---- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void load_hash(uint32_t i, uint8_t out[20])
{
	uint64_t s = 0x5354414c4f414400ULL + i;
	uint8_t b[24];

	for (int k = 0; k < 3; k++) {
		uint64_t v = splitmix(&s);
		memcpy(b + 8 * k, &v, 8);
	}
	memcpy(out, b, 20);
}

struct peer {
	uint32_t hash;
	unsigned src;
	uint16_t port;
	uint8_t id[20];
	uint64_t left;
};

static void load_peer(uint32_t p, struct peer *pe)
{
	pe->src = p % o.nsrc;
	pe->hash = (p / o.nsrc) % o.hashes;
	pe->port = (uint16_t)(1024 + (p / ((uint64_t)o.nsrc * o.hashes)) % 64000);
	/* Half seeders, half leechers. */
	pe->left = (p & 1) ? 0 : 1000000;
	char id[21];
	snprintf(id, sizeof id, "-TL0001-%012" PRIu32, p);
	memcpy(pe->id, id, 20);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* ---- UDP ---- */

struct udp_src {
	int fd;
	uint64_t cid;
	bool have_cid;
	unsigned n;                     /* packets queued in this batch */
	uint8_t pkt[BATCH][100];
	struct iovec iov[BATCH];
	struct mmsghdr msg[BATCH];
};

struct udp_slot {
	bool busy;
	bool connecting;                /* udp-connect: waiting for the connect reply */
	uint16_t gen;
	uint32_t peer;
	double sent;
};

static struct udp_src srcs[MAX_SRC];
static struct udp_slot slots[MAX_SLOTS];

static int udp_open(struct in_addr a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = a };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int big = 8 << 20;

	if (fd < 0)
		die("socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("bind source address");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	if (connect(fd, (struct sockaddr *)&o.target, sizeof o.target) < 0)
		die("connect to target");
	return fd;
}

static size_t udp_connect_pkt(uint8_t *pkt, uint32_t tid)
{
	put_be64(pkt, UDP_PROTOCOL_ID);
	put_be32(pkt + 8, 0);
	put_be32(pkt + 12, tid);
	return 16;
}

static size_t udp_announce_pkt(uint8_t *pkt, uint64_t cid, uint32_t tid, uint32_t p)
{
	struct peer pe;

	load_peer(p, &pe);
	put_be64(pkt, cid);
	put_be32(pkt + 8, 1);
	put_be32(pkt + 12, tid);
	load_hash(pe.hash, pkt + 16);
	memcpy(pkt + 36, pe.id, 20);
	put_be64(pkt + 56, 0);          /* downloaded */
	put_be64(pkt + 64, pe.left);
	put_be64(pkt + 72, 0);          /* uploaded */
	put_be32(pkt + 80, 0);          /* event none */
	put_be32(pkt + 84, 0);          /* ip: the source */
	put_be32(pkt + 88, p);          /* key */
	put_be32(pkt + 92, o.numwant);
	pkt[96] = (uint8_t)(pe.port >> 8);
	pkt[97] = (uint8_t)pe.port;
	return 98;
}

/* Blocking connect of one source, for the cached-id modes. */
static void udp_get_cid(struct udp_src *s)
{
	uint8_t pkt[16], r[64];

	for (int tries = 0; tries < 20; tries++) {
		uint32_t tid = 0xc0000000u | (uint32_t)tries;
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };

		send(s->fd, pkt, udp_connect_pkt(pkt, tid), 0);
		while (poll(&pfd, 1, 250) > 0) {
			ssize_t n = recv(s->fd, r, sizeof r, 0);
			if (n == 16 && get_be32(r) == 0 && get_be32(r + 4) == tid) {
				s->cid = get_be64(r + 8);
				s->have_cid = true;
				return;
			}
		}
	}
	fprintf(stderr, "tracker_load: no UDP connect reply from the target\n");
	exit(1);
}

static void udp_queue(struct udp_src *s, const uint8_t *pkt, size_t len)
{
	memcpy(s->pkt[s->n], pkt, len);
	s->iov[s->n] = (struct iovec){ .iov_base = s->pkt[s->n], .iov_len = len };
	s->msg[s->n] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &s->iov[s->n], .msg_iovlen = 1 } };
	s->n++;
}

static void udp_flush(struct udp_src *s)
{
	unsigned off = 0;

	while (off < s->n) {
		int r = sendmmsg(s->fd, s->msg + off, s->n - off, 0);
		if (r < 0) {
			if (errno == EAGAIN || errno == ENOBUFS || errno == ECONNREFUSED)
				break;  /* the slots time out as lost */
			die("sendmmsg");
		}
		off += (unsigned)r;
	}
	s->n = 0;
}

static uint32_t slot_tid(uint32_t i)
{
	return (uint32_t)slots[i].gen << 16 | i;
}

/* Sends the first packet of peer p from slot i. */
static void udp_start(uint32_t i, uint32_t p, double t)
{
	struct udp_slot *sl = &slots[i];
	struct udp_src *s = &srcs[p % o.nsrc];
	uint8_t pkt[100];
	size_t len;

	sl->busy = true;
	sl->gen++;
	sl->peer = p;
	sl->sent = t;
	sl->connecting = (o.mode == MODE_UDP_CONNECT);
	if (sl->connecting)
		len = udp_connect_pkt(pkt, slot_tid(i));
	else
		len = udp_announce_pkt(pkt, s->cid, slot_tid(i), p);
	udp_queue(s, pkt, len);
	if (s->n == BATCH)
		udp_flush(s);
}

/* One reply; returns true when it completed a request. */
static bool udp_reply(struct udp_src *s, const uint8_t *r, size_t n, struct counters *c,
                      double t)
{
	if (n < 8)
		return false;
	uint32_t action = get_be32(r), tid = get_be32(r + 4), i = tid & 0xffff;
	struct udp_slot *sl = &slots[i];

	if (i >= o.inflight || !sl->busy || sl->gen != (tid >> 16))
		return false;   /* late reply to a slot already given up */
	if (action == 0 && sl->connecting && n == 16) {
		uint8_t pkt[100];
		sl->connecting = false;
		sl->sent = t;
		udp_queue(s, pkt, udp_announce_pkt(pkt, get_be64(r + 8), tid, sl->peer));
		if (s->n == BATCH)
			udp_flush(s);
		return false;
	}
	sl->busy = false;
	if (action == 1 && n >= 20) {
		c->ok++;
		return true;
	}
	c->errors++;
	if (action == 3 && o.mode != MODE_UDP_CONNECT)
		s->have_cid = false;    /* expired id: reconnect this source */
	return false;
}

static void udp_receive(struct counters *c, double t, uint8_t *done)
{
	static uint8_t buf[BATCH][2048];
	struct iovec iov[BATCH];
	struct mmsghdr msg[BATCH];

	for (unsigned k = 0; k < o.nsrc; k++) {
		struct udp_src *s = &srcs[k];
		for (;;) {
			for (int j = 0; j < BATCH; j++) {
				iov[j] = (struct iovec){ .iov_base = buf[j], .iov_len = sizeof buf[j] };
				msg[j] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[j],
				                                          .msg_iovlen = 1 } };
			}
			int n = recvmmsg(s->fd, msg, BATCH, MSG_DONTWAIT, NULL);
			if (n <= 0)
				break;
			for (int j = 0; j < n; j++) {
				uint32_t i = get_be32(buf[j] + 4) & 0xffff;
				uint32_t p = slots[i].peer;
				if (udp_reply(s, buf[j], msg[j].msg_len, c, t) && done)
					done[p] = 1;
			}
		}
		udp_flush(s);
	}
}

static void udp_wait_readable(void)
{
	struct pollfd pfd[MAX_SRC];

	for (unsigned k = 0; k < o.nsrc; k++)
		pfd[k] = (struct pollfd){ .fd = srcs[k].fd, .events = POLLIN };
	poll(pfd, o.nsrc, 1);
}

static void udp_expire(struct counters *c, double t)
{
	for (uint32_t i = 0; i < o.inflight; i++) {
		if (slots[i].busy && t - slots[i].sent > UDP_LOST_AFTER) {
			slots[i].busy = false;
			c->lost++;
		}
	}
}

static void udp_setup(void)
{
	for (unsigned k = 0; k < o.nsrc; k++) {
		srcs[k].fd = udp_open(o.src[k]);
		if (o.mode != MODE_UDP_CONNECT)
			udp_get_cid(&srcs[k]);
	}
}

static void udp_refresh_cids(void)
{
	for (unsigned k = 0; k < o.nsrc; k++)
		if (o.mode != MODE_UDP_CONNECT && !srcs[k].have_cid)
			udp_get_cid(&srcs[k]);
}

/* Runs announces for o.duration seconds. */
static void udp_run(struct counters *c)
{
	double start = now_sec(), end = start + o.duration, last_expire = start, t;
	uint32_t next_peer = 0;

	udp_setup();
	while ((t = now_sec()) < end) {
		for (uint32_t i = 0; i < o.inflight; i++) {
			if (!slots[i].busy) {
				udp_start(i, next_peer, t);
				next_peer = (next_peer + 1) % o.peers;
			}
		}
		for (unsigned k = 0; k < o.nsrc; k++)
			udp_flush(&srcs[k]);
		udp_wait_readable();
		udp_receive(c, t, NULL);
		if (t - last_expire > 0.1) {
			udp_expire(c, t);
			udp_refresh_cids();
			last_expire = t;
		}
	}
}

/* Announces every peer until each got an answer (retrying lost ones). */
static void udp_fill(struct counters *c)
{
	uint8_t *done = calloc(o.peers, 1);
	uint32_t cursor = 0, missing = o.peers;
	double last_expire = now_sec(), deadline = last_expire + 300, t;

	if (!done)
		die("calloc");
	udp_setup();
	while (missing && (t = now_sec()) < deadline) {
		for (uint32_t i = 0; i < o.inflight && cursor < o.peers; i++) {
			if (slots[i].busy)
				continue;
			while (cursor < o.peers && done[cursor])
				cursor++;
			if (cursor < o.peers)
				udp_start(i, cursor++, t);
		}
		for (unsigned k = 0; k < o.nsrc; k++)
			udp_flush(&srcs[k]);
		udp_wait_readable();
		udp_receive(c, t, done);
		if (t - last_expire > 0.1) {
			udp_expire(c, t);
			udp_refresh_cids();
			last_expire = t;
		}
		if (cursor >= o.peers) {
			/* Count what is left; restart the sweep for the lost ones. */
			missing = 0;
			for (uint32_t p = 0; p < o.peers; p++)
				missing += !done[p];
			bool idle = true;
			for (uint32_t i = 0; i < o.inflight; i++)
				idle = idle && !slots[i].busy;
			if (missing && idle)
				cursor = 0;
		}
	}
	free(done);
	if (missing) {
		fprintf(stderr, "tracker_load: %" PRIu32 " peers never acknowledged\n", missing);
		exit(1);
	}
}

/* ---- HTTP ---- */

enum hstate { H_CONNECTING, H_SENDING, H_HEADERS, H_BODY };

struct hconn {
	int fd;
	enum hstate state;
	char req[2048];
	double t0;              /* when the request was built (http-paths) */
	size_t reqlen, reqoff;
	char hdr[4096];
	size_t hlen;
	long long body_left;    /* -1: until EOF */
	bool server_closes;
	bool good;              /* status 200 */
	bool reused;            /* kept alive after a reply: the server may close it */
	uint32_t armed;         /* the epoll events registered now */
};

static int ep;
static struct hconn *hconns;
static uint32_t http_next_peer;

static void pct(char **w, const uint8_t *b, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		*(*w)++ = '%';
		*(*w)++ = hex[b[i] >> 4];
		*(*w)++ = hex[b[i] & 15];
	}
}

static void http_build_path(struct hconn *h, uint32_t p)
{
	int n = snprintf(h->req, sizeof h->req, "GET %s HTTP/1.1\r\nHost: tracker\r\n\r\n",
	                 paths[p % n_paths]);

	h->reqlen = n > 0 && (size_t)n < sizeof h->req ? (size_t)n : 0;
	h->reqoff = 0;
	h->hlen = 0;
	h->state = H_SENDING;
	h->t0 = now_sec();
}

static void http_build(struct hconn *h, uint32_t p)
{
	struct peer pe;
	uint8_t ih[20];
	char *w = h->req;

	if (o.mode == MODE_HTTP_PATHS)
		return http_build_path(h, p);
	load_peer(p, &pe);
	load_hash(pe.hash, ih);
	w += sprintf(w, "GET /announce?info_hash=");
	pct(&w, ih, 20);
	w += sprintf(w, "&peer_id=");
	pct(&w, pe.id, 20);
	w += sprintf(w, "&port=%u&uploaded=0&downloaded=0&left=%" PRIu64
	             "&compact=1&numwant=%" PRIu32 " HTTP/1.1\r\nHost: tracker\r\n%s\r\n",
	             pe.port, pe.left, o.numwant,
	             o.mode == MODE_HTTP_CLOSE ? "Connection: close\r\n" : "");
	h->reqlen = (size_t)(w - h->req);
	h->reqoff = 0;
	h->hlen = 0;
	h->state = H_SENDING;
}

/* Waits for events on h (no system call when it already does). */
static void http_arm(struct hconn *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	if (h->armed == events)
		return;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, h->fd, &ev) < 0)
		die("epoll_ctl mod");
	h->armed = events;
}

static void http_open(struct hconn *h, unsigned idx)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = o.src[idx % o.nsrc] };
	struct linger lg = { 1, 0 };
	int one = 1;

	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (h->fd < 0)
		die("socket");
	/* Reset on close: no TIME_WAIT pile-up on our side in close mode. */
	setsockopt(h->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (bind(h->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("bind source address");
	if (connect(h->fd, (struct sockaddr *)&o.target, sizeof o.target) < 0 &&
	    errno != EINPROGRESS)
		die("connect");
	h->reused = false;
	http_build(h, http_next_peer);
	h->state = H_CONNECTING;
	http_next_peer = (http_next_peer + 1) % o.peers;
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = h };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, h->fd, &ev) < 0)
		die("epoll_ctl add");
	h->armed = EPOLLOUT;
}

static void http_reopen(struct hconn *h)
{
	close(h->fd);
	http_open(h, (unsigned)(h - hconns) + http_next_peer);
}

/* A failed request: an error, unless the server merely closed a kept-alive
 * connection before reading the next request (opentracker does that). */
static void http_fail(struct hconn *h, struct counters *c)
{
	if (h->reused && h->hlen == 0 && h->state != H_BODY)
		c->reconnects++;
	else
		c->errors++;
	http_reopen(h);
}

/* Parses the headers in h->hdr once complete: status, length, close. */
static void http_parse_headers(struct hconn *h, size_t end)
{
	h->hdr[end] = '\0';
	h->good = strncmp(h->hdr, "HTTP/1.", 7) == 0 && strncmp(h->hdr + 8, " 200", 4) == 0;
	h->body_left = -1;
	h->server_closes = strncmp(h->hdr, "HTTP/1.0", 8) == 0;
	for (char *l = strstr(h->hdr, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
		char *v = l + 2;
		if (strncasecmp(v, "Content-Length:", 15) == 0)
			h->body_left = strtoll(v + 15, NULL, 10);
		else if (strncasecmp(v, "Connection:", 11) == 0) {
			v += 11;
			while (*v == ' ')
				v++;
			h->server_closes = strncasecmp(v, "close", 5) == 0;
		}
	}
}

static void http_writable(struct hconn *h, struct counters *c);

static void record_latency(double s)
{
	if (n_lat == cap_lat) {
		cap_lat = cap_lat ? cap_lat * 2 : 65536;
		lat = realloc(lat, cap_lat * sizeof *lat);
		if (!lat)
			die("realloc");
	}
	lat[n_lat++] = s;
}

static void http_done(struct hconn *h, struct counters *c)
{
	if (h->good)
		c->ok++;
	else
		c->errors++;
	if (o.mode == MODE_HTTP_PATHS && h->good)
		record_latency(now_sec() - h->t0);
	if (o.mode == MODE_HTTP_CLOSE || h->server_closes || h->body_left < 0) {
		http_reopen(h);
		return;
	}
	http_build(h, http_next_peer);
	http_next_peer = (http_next_peer + 1) % o.peers;
	h->reused = true;
	/* Send at once: the socket is writable but for a full buffer, and a
	 * round through epoll for it would make the generator the bottleneck. */
	http_writable(h, c);
}

static void http_readable(struct hconn *h, struct counters *c)
{
	char buf[16384];
	ssize_t n = recv(h->fd, buf, sizeof buf, 0);

	if (n < 0 && errno == EAGAIN)
		return;
	if (n < 0 && errno != ECONNRESET)
		die("recv");
	if (n <= 0) {
		if (h->state == H_BODY && h->body_left < 0)
			http_done(h, c);        /* body delimited by EOF */
		else
			http_fail(h, c);
		return;
	}
	size_t off = 0;
	if (h->state == H_HEADERS) {
		size_t take = (size_t)n < sizeof h->hdr - 1 - h->hlen ? (size_t)n
		              : sizeof h->hdr - 1 - h->hlen;
		memcpy(h->hdr + h->hlen, buf, take);
		h->hlen += take;
		h->hdr[h->hlen] = '\0';
		char *e = strstr(h->hdr, "\r\n\r\n");
		if (!e) {
			if (h->hlen == sizeof h->hdr - 1) {
				c->errors++;
				http_reopen(h);
			}
			return;
		}
		size_t hend = (size_t)(e - h->hdr) + 4;
		http_parse_headers(h, hend);
		/* Bytes of this read past the header end belong to the body. */
		off = take - (h->hlen - hend);
		h->state = H_BODY;
	}
	if (h->body_left >= 0) {
		h->body_left -= (long long)((size_t)n - off);
		if (h->body_left <= 0)
			http_done(h, c);
	}
}

static void http_writable(struct hconn *h, struct counters *c)
{
	if (h->state == H_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof err;
		getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			c->errors++;
			http_reopen(h);
			return;
		}
		h->state = H_SENDING;
	}
	ssize_t n = send(h->fd, h->req + h->reqoff, h->reqlen - h->reqoff, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno == EAGAIN)
			http_arm(h, EPOLLOUT);
		else
			http_fail(h, c);
		return;
	}
	h->reqoff += (size_t)n;
	if (h->reqoff == h->reqlen) {
		h->state = H_HEADERS;
		http_arm(h, EPOLLIN);
	} else {
		http_arm(h, EPOLLOUT);
	}
}

static void http_run(struct counters *c)
{
	struct epoll_event evs[256];
	double end = now_sec() + o.duration;

	ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	hconns = calloc(o.conns, sizeof *hconns);
	if (!hconns)
		die("calloc");
	for (uint32_t i = 0; i < o.conns; i++)
		http_open(&hconns[i], i);
	while (now_sec() < end) {
		int n = epoll_wait(ep, evs, 256, 10);
		for (int i = 0; i < n; i++) {
			struct hconn *h = evs[i].data.ptr;
			if (h->state == H_CONNECTING || h->state == H_SENDING)
				http_writable(h, c);
			else
				http_readable(h, c);
		}
	}
	for (uint32_t i = 0; i < o.conns; i++)
		close(hconns[i].fd);
	free(hconns);
	close(ep);
}

/* ---- options ---- */

static uint32_t opt_u32(const char *s, uint32_t min, uint32_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "tracker_load: bad number \"%s\" (%u..%u)\n", s, min, max);
		exit(2);
	}
	return (uint32_t)v;
}

static void opt_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof host)
		usage();
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)opt_u32(colon + 1, 1, 65535));
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		usage();
}

static void opt_srcs(char *s)
{
	o.nsrc = 0;
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (o.nsrc == MAX_SRC || inet_pton(AF_INET, tok, &o.src[o.nsrc]) != 1)
			usage();
		o.nsrc++;
	}
	if (!o.nsrc)
		usage();
}

/* One path a line, each at most 1900 bytes; http-paths GETs them in turn. */
static void load_paths(const char *file)
{
	FILE *f = fopen(file, "r");
	char line[2000];

	if (!f)
		die(file);
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		paths = realloc(paths, (n_paths + 1) * sizeof *paths);
		if (!paths || !(paths[n_paths++] = strdup(line)))
			die("out of memory");
	}
	fclose(f);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void print_latency(void)
{
	if (n_lat == 0)
		return;
	qsort(lat, n_lat, sizeof *lat, cmp_double);
	printf(" p50_ms=%.3f p99_ms=%.3f max_ms=%.3f", lat[n_lat / 2] * 1e3,
	       lat[(size_t)(n_lat * 0.99)] * 1e3, lat[n_lat - 1] * 1e3);
}

static void opt_parse(int argc, char **argv)
{
	bool have_mode = false, have_target = false;

	o.nsrc = 1;
	inet_pton(AF_INET, "127.0.0.1", &o.src[0]);
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i];
		char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		i++;
		if (strcmp(k, "--mode") == 0) {
			for (size_t m = 0; m < sizeof mode_names / sizeof mode_names[0]; m++)
				if (strcmp(v, mode_names[m]) == 0) {
					o.mode = (enum mode)m;
					have_mode = true;
				}
		} else if (strcmp(k, "--target") == 0) {
			opt_addr(v, &o.target);
			have_target = true;
		} else if (strcmp(k, "--duration") == 0) {
			o.duration = opt_u32(v, 1, 3600);
		} else if (strcmp(k, "--hashes") == 0) {
			o.hashes = opt_u32(v, 1, 10000000);
		} else if (strcmp(k, "--peers") == 0) {
			o.peers = opt_u32(v, 1, 100000000);
		} else if (strcmp(k, "--inflight") == 0) {
			o.inflight = opt_u32(v, 1, MAX_SLOTS);
		} else if (strcmp(k, "--conns") == 0) {
			o.conns = opt_u32(v, 1, 100000);
		} else if (strcmp(k, "--numwant") == 0) {
			o.numwant = opt_u32(v, 0, 1000);
		} else if (strcmp(k, "--src") == 0) {
			opt_srcs(v);
		} else if (strcmp(k, "--paths") == 0) {
			load_paths(v);
		} else {
			usage();
		}
	}
	if (!have_mode || (!have_target && o.mode != MODE_HASHES) ||
	    (o.mode == MODE_HTTP_PATHS && n_paths == 0))
		usage();
}

int main(int argc, char **argv)
{
	struct counters c = { 0 };
	double start, secs;

	opt_parse(argc, argv);
	if (o.mode == MODE_HASHES) {
		for (uint32_t i = 0; i < o.hashes; i++) {
			uint8_t h[20];
			load_hash(i, h);
			for (int k = 0; k < 20; k++)
				printf("%02x", h[k]);
			putchar('\n');
		}
		return 0;
	}
	start = now_sec();
	switch (o.mode) {
	case MODE_UDP:
	case MODE_UDP_CONNECT:
		udp_run(&c);
		break;
	case MODE_UDP_FILL:
		udp_fill(&c);
		break;
	default:
		http_run(&c);
		break;
	}
	secs = now_sec() - start;
	printf("mode=%s ok=%" PRIu64 " errors=%" PRIu64 " lost=%" PRIu64 " reconnects=%" PRIu64
	       " seconds=%.2f rps=%.0f", mode_names[o.mode], c.ok, c.errors, c.lost, c.reconnects,
	       secs, c.ok / secs);
	print_latency();
	putchar('\n');
	return 0;
}
