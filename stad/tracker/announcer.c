/* Tracker announces for all torrents: one schedule (a min-heap on the next
 * due time, one timer), HTTP through http_client, UDP through one socket per
 * address family with replies matched by transaction id. */
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "announcer.h"
#include "http_client.h"
#include "log.h"
#include "srcaddr.h"
#include "xmalloc.h"

#define HTTP_TIMEOUT_S 30
#define STOPPED_TIMEOUT_MS 5000
#define DEFAULT_INTERVAL 1800
#define MAX_INTERVAL 7200
#define REANNOUNCE_FLOOR 30     /* manual refresh limit when the tracker sets none */
#define BACKOFF_FIRST 15
#define BACKOFF_MAX 1800
#define UDP_FIRST_RETRY_MS 2000
#define UDP_MAX_RETRY_MS 60000
#define UDP_MAX_TRIES 4
#define UDP_CONN_ID_MS 60000    /* BEP 15: a connection id is good for a minute */
#define UDP_CONN_CACHE 64
#define UDP_RECV_BURST 64
#define NOT_QUEUED SIZE_MAX

struct trk {
	char *url;
	struct http_url u;
};

struct tier {
	struct trk **v;
	uint32_t n;
};

enum att_state {
	ATT_IDLE,
	ATT_HTTP,
	ATT_RESOLVING,
	ATT_UDP_CONNECT,
	ATT_UDP_ANNOUNCE,
};

/* The one announce of a sub in flight. */
struct attempt {
	enum att_state state;
	struct trk *trk;
	enum tracker_event event;
	struct http_req *http;
	struct evdns_getaddrinfo_request *dnsreq;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint32_t tid;
	uint32_t tries;
	uint64_t give_up_ms;
	size_t udp_idx;         /* in announcer.udp_wait; NOT_QUEUED when absent */
};

struct announce_sub {
	struct announcer *a;
	struct announce_sub *prev, *next;
	uint8_t info_hash[TRACKER_HASH_LEN];
	struct tier *tiers;
	uint32_t n_tiers;
	uint32_t pos_tier, pos_idx;     /* tracker tried in the current round */
	struct announce_cbs cbs;
	void *arg;
	size_t heap_idx;
	uint64_t due_ms;
	enum tracker_event pending;     /* event of the next announce */
	bool announced;                 /* something was sent: "stopped" makes sense */
	bool completed;
	bool detached;                  /* removed: sends "stopped", then is freed */
	bool in_cb, free_me;
	bool have_ok;
	uint32_t interval, min_interval;
	uint64_t last_ok_ms;
	uint32_t fail_rounds;
	struct trk *ok_trk;             /* last tracker that answered */
	struct attempt att;
	char status[256];
};

struct conn_id {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint64_t id;
	uint64_t expires_ms;
};

struct announcer {
	struct event_base *base;
	struct evdns_base *dns;
	uint8_t peer_id[TRACKER_HASH_LEN];
	uint16_t port;
	uint32_t key;
	struct sockaddr_storage src;    /* valid when has_src */
	bool has_src;
	struct announce_sub *subs;      /* all, detached ones too */
	struct announce_sub **heap;
	size_t n_heap, heap_cap;
	struct event *timer;
	int udp_fd[2];                  /* AF_INET, AF_INET6; -1 when unavailable */
	struct event *udp_ev[2];
	struct announce_sub **udp_wait; /* subs waiting for a UDP reply */
	size_t n_udp_wait, udp_wait_cap;
	struct conn_id conn_ids[UDP_CONN_CACHE];
	size_t n_conn_ids;
	uint8_t *pkt;                   /* receive buffer */
	size_t n_detached;
	struct event *stop_ev;
	void (*stop_done)(void *);
	void *stop_arg;
};

static void sub_due(struct announce_sub *s);

/* Source address of tracker traffic, or NULL. */
static const struct sockaddr *source(const struct announcer *a)
{
	return a->has_src ? (const struct sockaddr *)&a->src : NULL;
}

static void attempt_failed(struct announce_sub *s, const char *why, bool tracker_said);

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- schedule: a binary min-heap on due_ms ---- */

static bool heap_less(struct announcer *a, size_t i, size_t j)
{
	return a->heap[i]->due_ms < a->heap[j]->due_ms;
}

static void heap_swap(struct announcer *a, size_t i, size_t j)
{
	struct announce_sub *t = a->heap[i];

	a->heap[i] = a->heap[j];
	a->heap[j] = t;
	a->heap[i]->heap_idx = i;
	a->heap[j]->heap_idx = j;
}

static void heap_sift(struct announcer *a, size_t i)
{
	while (i > 0 && heap_less(a, i, (i - 1) / 2)) {
		heap_swap(a, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < a->n_heap && heap_less(a, l, m))
			m = l;
		if (r < a->n_heap && heap_less(a, r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(a, i, m);
		i = m;
	}
}

static void timer_rearm(struct announcer *a)
{
	if (a->n_heap == 0) {
		evtimer_del(a->timer);
		return;
	}
	uint64_t now = mono_ms(), due = a->heap[0]->due_ms;
	uint64_t ms = due > now ? due - now : 0;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	evtimer_add(a->timer, &tv);
}

static void sched_remove(struct announce_sub *s)
{
	struct announcer *a = s->a;
	size_t i = s->heap_idx;

	if (i == NOT_QUEUED)
		return;
	s->heap_idx = NOT_QUEUED;
	a->n_heap--;
	if (i != a->n_heap) {
		a->heap[i] = a->heap[a->n_heap];
		a->heap[i]->heap_idx = i;
		heap_sift(a, i);
	}
	timer_rearm(a);
}

static void sched_at(struct announce_sub *s, uint64_t due_ms)
{
	struct announcer *a = s->a;

	s->due_ms = due_ms;
	if (s->heap_idx == NOT_QUEUED) {
		if (a->n_heap == a->heap_cap) {
			a->heap_cap = a->heap_cap ? 2 * a->heap_cap : 16;
			a->heap = xreallocarray(a->heap, a->heap_cap, sizeof *a->heap);
		}
		s->heap_idx = a->n_heap;
		a->heap[a->n_heap++] = s;
	}
	heap_sift(a, s->heap_idx);
	timer_rearm(a);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct announcer *a = arg;
	uint64_t now = mono_ms();

	/* Bounded: each sub is popped once per pass and re-queued later than now
	 * (or it is being served asynchronously). */
	for (size_t n = a->n_heap; n > 0 && a->n_heap > 0 && a->heap[0]->due_ms <= now; n--) {
		struct announce_sub *s = a->heap[0];
		sched_remove(s);
		sub_due(s);
	}
	timer_rearm(a);
}

/* ---- UDP bookkeeping ---- */

static void udp_wait_add(struct announce_sub *s)
{
	struct announcer *a = s->a;

	if (s->att.udp_idx != NOT_QUEUED)
		return;
	if (a->n_udp_wait == a->udp_wait_cap) {
		a->udp_wait_cap = a->udp_wait_cap ? 2 * a->udp_wait_cap : 16;
		a->udp_wait = xreallocarray(a->udp_wait, a->udp_wait_cap, sizeof *a->udp_wait);
	}
	s->att.udp_idx = a->n_udp_wait;
	a->udp_wait[a->n_udp_wait++] = s;
}

static void udp_wait_del(struct announce_sub *s)
{
	struct announcer *a = s->a;
	size_t i = s->att.udp_idx;

	if (i == NOT_QUEUED)
		return;
	s->att.udp_idx = NOT_QUEUED;
	if (i != --a->n_udp_wait) {
		a->udp_wait[i] = a->udp_wait[a->n_udp_wait];
		a->udp_wait[i]->att.udp_idx = i;
	}
}

static bool same_addr(const struct sockaddr_storage *x, socklen_t xl,
                      const struct sockaddr_storage *y, socklen_t yl)
{
	if (x->ss_family != y->ss_family)
		return false;
	if (x->ss_family == AF_INET) {
		const struct sockaddr_in *p = (const void *)x, *q = (const void *)y;
		return p->sin_port == q->sin_port && p->sin_addr.s_addr == q->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *p = (const void *)x, *q = (const void *)y;
	return xl == yl && p->sin6_port == q->sin6_port &&
	       memcmp(&p->sin6_addr, &q->sin6_addr, sizeof p->sin6_addr) == 0;
}

static struct conn_id *conn_id_find(struct announcer *a, const struct attempt *t)
{
	uint64_t now = mono_ms();

	for (size_t i = 0; i < a->n_conn_ids; i++) {
		struct conn_id *c = &a->conn_ids[i];
		if (same_addr(&c->addr, c->addrlen, &t->addr, t->addrlen))
			return c->expires_ms > now ? c : NULL;
	}
	return NULL;
}

static void conn_id_store(struct announcer *a, const struct attempt *t, uint64_t id)
{
	struct conn_id *slot = NULL;
	uint64_t now = mono_ms();

	for (size_t i = 0; i < a->n_conn_ids && !slot; i++)
		if (same_addr(&a->conn_ids[i].addr, a->conn_ids[i].addrlen, &t->addr, t->addrlen) ||
		    a->conn_ids[i].expires_ms <= now)
			slot = &a->conn_ids[i];
	if (!slot && a->n_conn_ids < UDP_CONN_CACHE)
		slot = &a->conn_ids[a->n_conn_ids++];
	if (!slot)
		slot = &a->conn_ids[t->tid % UDP_CONN_CACHE]; /* full of live ids: evict any */
	slot->addr = t->addr;
	slot->addrlen = t->addrlen;
	slot->id = id;
	slot->expires_ms = now + UDP_CONN_ID_MS;
}

/* ---- attempts ---- */

static void attempt_clear(struct announce_sub *s)
{
	struct attempt *t = &s->att;

	http_req_cancel(t->http);
	t->http = NULL;
	if (t->dnsreq) {
		struct evdns_getaddrinfo_request *r = t->dnsreq;
		t->dnsreq = NULL;
		evdns_getaddrinfo_cancel(r); /* its callback sees EVUTIL_EAI_CANCEL */
	}
	udp_wait_del(s);
	sched_remove(s); /* a UDP retransmit slot */
	t->state = ATT_IDLE;
}

static struct trk *tracker_at(struct announce_sub *s)
{
	return s->tiers[s->pos_tier].v[s->pos_idx];
}

static void fill_req(struct announce_sub *s, struct announce_req *req)
{
	struct announcer *a = s->a;
	struct announce_stats st = { 0 };

	if (s->cbs.stats && !s->detached)
		s->cbs.stats(s->arg, &st);
	memset(req, 0, sizeof *req);
	memcpy(req->info_hash, s->info_hash, TRACKER_HASH_LEN);
	memcpy(req->peer_id, a->peer_id, TRACKER_HASH_LEN);
	req->port = a->port;
	req->uploaded = st.uploaded;
	req->downloaded = st.downloaded;
	req->left = st.left;
	req->event = s->att.event;
	req->compact = true;
	req->numwant = s->att.event == TRACKER_EVENT_STOPPED ? 0 : TRACKER_NUMWANT_DEFAULT;
	req->has_key = true;
	req->key = a->key;
}

static void udp_send(struct announce_sub *s)
{
	struct announcer *a = s->a;
	struct attempt *t = &s->att;
	struct sta_buf out = STA_BUF_INIT;
	struct conn_id *c = conn_id_find(a, t);

	evutil_secure_rng_get_bytes(&t->tid, sizeof t->tid);
	if (c) {
		struct announce_req req;
		fill_req(s, &req);
		t->state = ATT_UDP_ANNOUNCE;
		udp_encode_announce(&out, c->id, t->tid, &req);
	} else {
		t->state = ATT_UDP_CONNECT;
		udp_encode_connect(&out, t->tid);
	}
	int fd = a->udp_fd[t->addr.ss_family == AF_INET6];
	/* A failed send is a lost packet: the retransmit timer covers it. */
	if (sendto(fd, out.data, out.len, 0, (struct sockaddr *)&t->addr, t->addrlen) < 0)
		log_debug("sendto %s: %s", t->trk->url, strerror(errno));
	buf_free(&out);
	udp_wait_add(s);
	uint64_t wait = (uint64_t)UDP_FIRST_RETRY_MS << (t->tries < 5 ? t->tries : 5);
	if (wait > UDP_MAX_RETRY_MS)
		wait = UDP_MAX_RETRY_MS;
	uint64_t due = mono_ms() + wait;
	sched_at(s, due < t->give_up_ms ? due : t->give_up_ms);
}

static void udp_timeout(struct announce_sub *s)
{
	struct attempt *t = &s->att;
	char hp[HTTP_URL_HOST_MAX + 9], why[320];

	t->tries++;
	if (t->tries < UDP_MAX_TRIES && mono_ms() < t->give_up_ms) {
		udp_send(s);
		return;
	}
	http_url_hostport(&t->trk->u, hp, sizeof hp);
	snprintf(why, sizeof why, "no reply from tracker %s (UDP)", hp);
	attempt_failed(s, why, false);
}

static void udp_resolved(struct announce_sub *s, int rc, struct evutil_addrinfo *ai)
{
	struct announcer *a = s->a;
	struct attempt *t = &s->att;
	char hp[HTTP_URL_HOST_MAX + 9], why[320];

	for (struct evutil_addrinfo *p = ai; rc == 0 && p; p = p->ai_next) {
		int i = p->ai_family == AF_INET6;
		if ((p->ai_family == AF_INET || p->ai_family == AF_INET6) && a->udp_fd[i] >= 0 &&
		    p->ai_addrlen <= sizeof t->addr) {
			memcpy(&t->addr, p->ai_addr, p->ai_addrlen);
			t->addrlen = (socklen_t)p->ai_addrlen;
			evutil_freeaddrinfo(ai);
			udp_send(s);
			return;
		}
	}
	if (ai)
		evutil_freeaddrinfo(ai);
	http_url_hostport(&t->trk->u, hp, sizeof hp);
	snprintf(why, sizeof why, "cannot resolve tracker %s: %s", hp,
	         rc ? evutil_gai_strerror(rc) : "no usable address");
	attempt_failed(s, why, false);
}

static void dns_cb(int rc, struct evutil_addrinfo *ai, void *arg)
{
	struct announce_sub *s = arg;

	if (rc == EVUTIL_EAI_CANCEL)
		return;
	s->att.dnsreq = NULL;
	udp_resolved(s, rc, ai);
}

static void udp_start(struct announce_sub *s)
{
	struct announcer *a = s->a;
	struct attempt *t = &s->att;
	struct evutil_addrinfo hints = { 0 }, *ai = NULL;
	char port[8];

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	snprintf(port, sizeof port, "%u", t->trk->u.port);
	t->state = ATT_RESOLVING;
	if (!a->dns) {
		hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
		int rc = evutil_getaddrinfo(t->trk->u.host, port, &hints, &ai);
		udp_resolved(s, rc, ai);
		return;
	}
	/* May call back at once (numeric hosts), then returns NULL. */
	struct evdns_getaddrinfo_request *r = evdns_getaddrinfo(a->dns, t->trk->u.host, port,
	                                                        &hints, dns_cb, s);
	if (r && t->state == ATT_RESOLVING)
		t->dnsreq = r;
}

static void udp_reply(struct announce_sub *s, const struct udp_reply *r);

static void udp_read(evutil_socket_t fd, short what, void *arg)
{
	struct announcer *a = arg;
	int family = fd == a->udp_fd[1] ? AF_INET6 : AF_INET;

	for (int burst = 0; burst < UDP_RECV_BURST; burst++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof from;
		ssize_t n = recvfrom(fd, a->pkt, UDP_TRACKER_MAX_PACKET * 4, 0,
		                     (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return; /* EAGAIN, or an ICMP error: the retransmit timer copes */
		if (n < 8)
			continue;
		uint32_t tid = load_u32be(a->pkt + 4);
		struct announce_sub *s = NULL;
		for (size_t i = 0; i < a->n_udp_wait && !s; i++)
			if (a->udp_wait[i]->att.tid == tid &&
			    same_addr(&a->udp_wait[i]->att.addr, a->udp_wait[i]->att.addrlen, &from,
			              fromlen))
				s = a->udp_wait[i];
		if (!s)
			continue; /* late, duplicate or forged */
		struct udp_reply r;
		struct tracker_error err;
		if (!udp_decode_reply(a->pkt, (size_t)n, family, ANNOUNCER_MAX_PEERS, &r, &err)) {
			char why[256];
			snprintf(why, sizeof why, "bad UDP reply from tracker: %s", err.msg);
			udp_reply_free(&r);
			attempt_failed(s, why, false);
			continue;
		}
		udp_reply(s, &r);
		udp_reply_free(&r);
	}
}

/* ---- results ---- */

static uint32_t clamp_interval(uint32_t v)
{
	if (v == 0)
		return DEFAULT_INTERVAL;
	if (v < ANNOUNCER_MIN_INTERVAL)
		return ANNOUNCER_MIN_INTERVAL;
	return v > MAX_INTERVAL ? MAX_INTERVAL : v;
}

static void sub_free(struct announce_sub *s);

/* Runs the result callback; frees s if it asked to be removed meanwhile. */
static void report(struct announce_sub *s, const struct announce_result *r)
{
	if (s->detached || !s->cbs.result)
		return;
	s->in_cb = true;
	s->cbs.result(s->arg, r);
	s->in_cb = false;
	if (s->free_me)
		sub_free(s);
}

/* The stopped announce of a removed sub ended, either way. */
static void detached_done(struct announce_sub *s)
{
	attempt_clear(s);
	sub_free(s);
}

static void move_to_front(struct tier *t, uint32_t i)
{
	struct trk *k = t->v[i];

	memmove(t->v + 1, t->v, i * sizeof *t->v);
	t->v[0] = k;
}

static void attempt_ok(struct announce_sub *s, uint32_t interval, uint32_t min_interval,
                       uint32_t seeders, uint32_t leechers, const struct tracker_peer *peers,
                       size_t n_peers, const char *warning)
{
	struct attempt *t = &s->att;
	struct trk *k = t->trk;
	enum tracker_event ev = t->event;

	attempt_clear(s);
	if (s->detached)
		return detached_done(s);
	if (warning && *warning)
		log_info("tracker %s warns: %s", k->url, warning); /* escaped by the parser */
	s->ok_trk = k;
	move_to_front(&s->tiers[s->pos_tier], s->pos_idx);
	s->interval = clamp_interval(interval);
	s->min_interval = min_interval > MAX_INTERVAL ? MAX_INTERVAL : min_interval;
	if (s->interval < s->min_interval)
		s->interval = s->min_interval;
	s->have_ok = true;
	s->last_ok_ms = mono_ms();
	s->fail_rounds = 0;
	if (s->pending == ev)
		s->pending = TRACKER_EVENT_NONE;
	/* A completed that came in while this announce was out goes now. */
	uint32_t next = s->pending != TRACKER_EVENT_NONE ? 0 : s->interval;
	sched_at(s, s->last_ok_ms + (uint64_t)next * 1000);
	snprintf(s->status, sizeof s->status, "ok, %zu peer%s", n_peers, n_peers == 1 ? "" : "s");
	log_debug("%s: %s (%u seeders, %u leechers)", k->url, s->status, seeders, leechers);
	struct announce_result r = {
		.tracker = k->url, .ok = true, .status = s->status, .seeders = seeders,
		.leechers = leechers, .peers = peers, .n_peers = n_peers, .next_announce_s = next,
	};
	report(s, &r);
}

static void round_failed(struct announce_sub *s, const char *why, bool tracker_said)
{
	struct trk *k = s->att.trk;
	uint32_t backoff = BACKOFF_FIRST;

	for (uint32_t i = 0; i < s->fail_rounds && backoff < BACKOFF_MAX; i++)
		backoff *= 2;
	if (backoff > BACKOFF_MAX)
		backoff = BACKOFF_MAX;
	if (s->fail_rounds < 32)
		s->fail_rounds++;
	sched_at(s, mono_ms() + (uint64_t)backoff * 1000);
	snprintf(s->status, sizeof s->status, "%s: %s, retry in %u s",
	         tracker_said ? "failure" : "error", why, backoff);
	struct announce_result r = {
		.tracker = k ? k->url : "", .status = s->status, .next_announce_s = backoff,
	};
	report(s, &r);
}

static void sub_try(struct announce_sub *s);

/* This tracker did not work out: the next one of the round, or back off. */
static void attempt_failed(struct announce_sub *s, const char *why, bool tracker_said)
{
	log_info("%s: %s", s->att.trk->url, why);
	attempt_clear(s);
	if (s->detached)
		return detached_done(s);
	if (++s->pos_idx >= s->tiers[s->pos_tier].n) {
		s->pos_idx = 0;
		s->pos_tier++;
	}
	if (s->pos_tier >= s->n_tiers) {
		s->pos_tier = 0;
		round_failed(s, why, tracker_said);
		return;
	}
	sub_try(s);
}

static void udp_reply(struct announce_sub *s, const struct udp_reply *r)
{
	struct attempt *t = &s->att;
	/* The codec has escaped the message. */
	if (r->action == UDP_ACTION_ERROR)
		return attempt_failed(s, r->error, true);
	if (t->state == ATT_UDP_CONNECT && r->action == UDP_ACTION_CONNECT) {
		conn_id_store(s->a, t, r->connection_id);
		t->tries = 0;
		udp_send(s);
	} else if (t->state == ATT_UDP_ANNOUNCE && r->action == UDP_ACTION_ANNOUNCE) {
		attempt_ok(s, r->interval, 0, r->seeders, r->leechers, r->peers, r->n_peers, NULL);
	} else {
		attempt_failed(s, "UDP tracker answered with the wrong action", false);
	}
}

static void http_done(void *arg, const struct http_result *res)
{
	struct announce_sub *s = arg;
	struct announce_reply rep;
	struct tracker_error err;
	char why[384];

	s->att.http = NULL; /* freed by http_client after we return */
	if (res->error)
		return attempt_failed(s, res->error, false);
	if (!tracker_parse_announce_reply(res->body, res->len, ANNOUNCER_MAX_PEERS, &rep, &err)) {
		tracker_announce_reply_free(&rep);
		if (res->status != 200)
			snprintf(why, sizeof why, "tracker answered HTTP %d", res->status);
		else
			snprintf(why, sizeof why, "bad reply from tracker: %s", err.msg);
		return attempt_failed(s, why, false);
	}
	if (rep.failed) {
		/* rep.failure is escaped already; copied as rep is freed first. */
		snprintf(why, sizeof why, "%s", rep.failure);
		tracker_announce_reply_free(&rep);
		return attempt_failed(s, why, true);
	}
	attempt_ok(s, rep.interval, rep.min_interval, rep.complete, rep.incomplete, rep.peers,
	           rep.n_peers, rep.warning);
	tracker_announce_reply_free(&rep);
}

static void http_start(struct announce_sub *s)
{
	struct attempt *t = &s->att;
	struct announce_req req;
	struct sta_buf url = STA_BUF_INIT;
	char err[320];

	fill_req(s, &req);
	buf_append_str(&url, t->trk->url);
	buf_append_byte(&url, strchr(t->trk->url, '?') ? '&' : '?');
	tracker_build_announce_query(&url, &req);
	buf_append_byte(&url, '\0');
	struct http_req_opts o = {
		.max_body = ANNOUNCER_HTTP_MAX_REPLY,
		.timeout_s = t->event == TRACKER_EVENT_STOPPED ? STOPPED_TIMEOUT_MS / 1000
		                                               : HTTP_TIMEOUT_S,
		.what = "tracker",
		.bind_addr = source(s->a),
	};
	t->state = ATT_HTTP;
	t->http = http_req_start(s->a->base, s->a->dns, (const char *)url.data, &o, http_done, s,
	                         err, sizeof err);
	buf_free(&url);
	if (!t->http)
		attempt_failed(s, err, false);
}

/* Sends the pending announce to the tracker at the round's position. */
static void sub_try(struct announce_sub *s)
{
	struct attempt *t = &s->att;

	t->trk = tracker_at(s);
	t->event = s->pending;
	t->tries = 0;
	t->give_up_ms = mono_ms() + (t->event == TRACKER_EVENT_STOPPED ? STOPPED_TIMEOUT_MS
	                                                               : 24 * 3600 * 1000);
	s->announced = true;
	snprintf(s->status, sizeof s->status, "announcing to %s", t->trk->url);
	if (t->trk->u.udp)
		udp_start(s);
	else
		http_start(s);
}

static void sub_due(struct announce_sub *s)
{
	if (s->att.state == ATT_UDP_CONNECT || s->att.state == ATT_UDP_ANNOUNCE) {
		udp_timeout(s);
		return;
	}
	if (s->att.state != ATT_IDLE)
		return;
	if (s->n_tiers == 0) {
		snprintf(s->status, sizeof s->status, "no usable tracker");
		struct announce_result r = { .tracker = "", .status = s->status };
		report(s, &r);
		return;
	}
	if (!s->detached) {
		s->pos_tier = 0;
		s->pos_idx = 0;
	}
	sub_try(s);
}

/* ---- subscriptions ---- */

static void shuffle(struct tier *t)
{
	for (uint32_t i = t->n; i > 1; i--) {
		uint32_t r;
		evutil_secure_rng_get_bytes(&r, sizeof r);
		uint32_t j = r % i;
		struct trk *k = t->v[i - 1];
		t->v[i - 1] = t->v[j];
		t->v[j] = k;
	}
}

static void copy_tiers(struct announce_sub *s, const struct mi_tier *tiers, uint32_t n_tiers)
{
	char err[320];

	s->tiers = xcalloc(n_tiers ? n_tiers : 1, sizeof *s->tiers);
	for (uint32_t i = 0; i < n_tiers; i++) {
		struct tier *t = &s->tiers[s->n_tiers];
		t->v = xcalloc(tiers[i].n_urls ? tiers[i].n_urls : 1, sizeof *t->v);
		for (uint32_t j = 0; j < tiers[i].n_urls; j++) {
			struct trk *k = xcalloc(1, sizeof *k);
			if (!http_url_parse(tiers[i].urls[j], &k->u, err, sizeof err)) {
				log_info("skipping tracker: %s", err);
				free(k);
				continue;
			}
			k->url = xstrdup(tiers[i].urls[j]);
			t->v[t->n++] = k;
		}
		if (t->n == 0) {
			free(t->v);
			t->v = NULL;
			continue;
		}
		shuffle(t);
		s->n_tiers++;
	}
}

struct announce_sub *announcer_add(struct announcer *a, const uint8_t info_hash[20],
                                   const struct mi_tier *tiers, uint32_t n_tiers,
                                   const struct announce_cbs *cbs, void *arg)
{
	struct announce_sub *s = xcalloc(1, sizeof *s);

	s->a = a;
	memcpy(s->info_hash, info_hash, TRACKER_HASH_LEN);
	copy_tiers(s, tiers, n_tiers);
	s->cbs = *cbs;
	s->arg = arg;
	s->heap_idx = NOT_QUEUED;
	s->att.udp_idx = NOT_QUEUED;
	s->pending = TRACKER_EVENT_STARTED;
	snprintf(s->status, sizeof s->status, "waiting to announce");
	s->next = a->subs;
	if (a->subs)
		a->subs->prev = s;
	a->subs = s;
	sched_at(s, mono_ms());
	return s;
}

static void stop_check(struct announcer *a)
{
	if (a->stop_done && a->n_detached == 0)
		event_active(a->stop_ev, EV_TIMEOUT, 0);
}

static void sub_free(struct announce_sub *s)
{
	struct announcer *a = s->a;

	if (s->in_cb) {
		s->free_me = true;
		return;
	}
	attempt_clear(s);
	sched_remove(s);
	if (s->prev)
		s->prev->next = s->next;
	else
		a->subs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	for (uint32_t i = 0; i < s->n_tiers; i++) {
		for (uint32_t j = 0; j < s->tiers[i].n; j++) {
			http_url_free(&s->tiers[i].v[j]->u);
			free(s->tiers[i].v[j]->url);
			free(s->tiers[i].v[j]);
		}
		free(s->tiers[i].v);
	}
	free(s->tiers);
	if (s->detached) {
		a->n_detached--;
		stop_check(a);
	}
	free(s);
}

void announcer_completed(struct announce_sub *s)
{
	if (s->completed)
		return;
	s->completed = true;
	/* Still to send "started": the tracker learns left=0 from it. */
	if (s->pending == TRACKER_EVENT_STARTED)
		return;
	s->pending = TRACKER_EVENT_COMPLETED;
	if (s->att.state == ATT_IDLE && s->n_tiers)
		sched_at(s, mono_ms());
}

uint32_t announcer_reannounce_now(struct announce_sub *s)
{
	if (s->att.state != ATT_IDLE || s->n_tiers == 0)
		return 0;
	if (s->have_ok) {
		uint32_t floor = s->min_interval ? s->min_interval
		                 : s->interval < REANNOUNCE_FLOOR ? s->interval : REANNOUNCE_FLOOR;
		uint64_t ok_at = s->last_ok_ms + (uint64_t)floor * 1000, now = mono_ms();
		if (ok_at > now)
			return (uint32_t)((ok_at - now + 999) / 1000);
	}
	sched_at(s, mono_ms());
	return 0;
}

/* Turns s into a background "stopped" to the last tracker that answered,
 * or frees it when there is nothing to stop. */
static void sub_detach(struct announce_sub *s, bool send_stopped)
{
	struct trk *k = s->ok_trk ? s->ok_trk : s->att.state != ATT_IDLE ? s->att.trk : NULL;

	attempt_clear(s);
	if (!send_stopped || !s->announced || !k) {
		sub_free(s);
		return;
	}
	s->detached = true;
	s->a->n_detached++;
	/* Point the round at k so sub_try sends there. */
	for (uint32_t i = 0; i < s->n_tiers; i++)
		for (uint32_t j = 0; j < s->tiers[i].n; j++)
			if (s->tiers[i].v[j] == k) {
				s->pos_tier = i;
				s->pos_idx = j;
			}
	s->pending = TRACKER_EVENT_STOPPED;
	sched_at(s, mono_ms());
}

/* From inside its own callback too: sub_free then only marks s, and
 * report() frees it when the callback returns. */
void announcer_remove(struct announce_sub *s, bool send_stopped)
{
	if (!s || s->detached || s->free_me)
		return;
	sub_detach(s, send_stopped);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct announcer *a = arg;
	void (*done)(void *) = a->stop_done;

	evtimer_del(a->stop_ev);
	a->stop_done = NULL;
	if (done)
		done(a->stop_arg);
}

void announcer_stop_all(struct announcer *a, unsigned timeout_ms, void (*done)(void *),
                        void *arg)
{
	struct announce_sub *s = a->subs, *next;

	for (; s; s = next) {
		next = s->next;
		if (!s->detached)
			sub_detach(s, true);
	}
	a->stop_done = done;
	a->stop_arg = arg;
	struct timeval tv = { timeout_ms / 1000, (suseconds_t)(timeout_ms % 1000) * 1000 };
	evtimer_add(a->stop_ev, &tv);
	stop_check(a);
}

const char *announcer_sub_status(const struct announce_sub *s)
{
	return s->status;
}

uint32_t announcer_sub_next_s(const struct announce_sub *s)
{
	if (s->att.state != ATT_IDLE)
		return 0;
	if (s->heap_idx == NOT_QUEUED)
		return UINT32_MAX;
	uint64_t now = mono_ms();
	return s->due_ms > now ? (uint32_t)((s->due_ms - now + 999) / 1000) : 0;
}

/* ---- the announcer ---- */

/* The UDP socket of one family, bound to src when it applies. */
static int udp_socket(int family, const struct sockaddr *src)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (family == AF_INET6) {
		int on = 1;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
	}
	if (srcaddr_applies(src, family) && srcaddr_bind(fd, src, false) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

struct announcer *announcer_new(struct event_base *base, struct evdns_base *dns,
                                const struct sockaddr *bind_addr, const uint8_t peer_id[20],
                                uint16_t listen_port, uint32_t key)
{
	struct announcer *a = xcalloc(1, sizeof *a);
	socklen_t blen = bind_addr ? srcaddr_len(bind_addr) : 0;

	a->base = base;
	a->dns = dns;
	if (blen) {
		memcpy(&a->src, bind_addr, blen);
		a->has_src = true;
	}
	memcpy(a->peer_id, peer_id, TRACKER_HASH_LEN);
	a->port = listen_port;
	a->key = key;
	a->udp_fd[0] = a->udp_fd[1] = -1;
	a->pkt = xmalloc(UDP_TRACKER_MAX_PACKET * 4);
	a->timer = evtimer_new(base, timer_cb, a);
	a->stop_ev = evtimer_new(base, stop_cb, a);
	for (int i = 0; i < 2; i++) {
		a->udp_fd[i] = udp_socket(i ? AF_INET6 : AF_INET, source(a));
		if (a->udp_fd[i] >= 0) {
			a->udp_ev[i] = event_new(base, a->udp_fd[i], EV_READ | EV_PERSIST, udp_read, a);
			if (!a->udp_ev[i] || event_add(a->udp_ev[i], NULL) != 0)
				goto fail;
		}
	}
	if (!a->timer || !a->stop_ev || a->udp_fd[0] < 0 ||
	    (a->has_src && a->udp_fd[a->src.ss_family == AF_INET6] < 0)) {
		log_err("cannot set up the tracker client: %s", strerror(errno));
		goto fail;
	}
	if (a->udp_fd[1] < 0)
		log_info("no IPv6 UDP socket (%s): IPv6 UDP trackers unreachable", strerror(errno));
	return a;
fail:
	announcer_free(a);
	return NULL;
}

void announcer_free(struct announcer *a)
{
	if (!a)
		return;
	while (a->subs) {
		a->subs->in_cb = false;
		if (a->subs->detached) {
			a->subs->detached = false;
			a->n_detached--;
		}
		sub_free(a->subs);
	}
	for (int i = 0; i < 2; i++) {
		if (a->udp_ev[i])
			event_free(a->udp_ev[i]);
		if (a->udp_fd[i] >= 0)
			close(a->udp_fd[i]);
	}
	if (a->timer)
		event_free(a->timer);
	if (a->stop_ev)
		event_free(a->stop_ev);
	free(a->heap);
	free(a->udp_wait);
	free(a->pkt);
	free(a);
}
