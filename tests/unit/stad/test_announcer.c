/* The announcer against a fake tracker run inside the test on 127.0.0.1:
 * an evhttp server answering /announce and a UDP socket speaking BEP 15
 * through the codecs of common/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "announcer.h"
#include "buf.h"
#include "tracker_proto.h"

#define MAX_SEEN 64
#define CONN_ID 0x1122334455667788ULL

struct fake {
	struct event_base *base;
	struct evhttp *http;
	uint16_t http_port;
	int udp_fd;
	struct event *udp_ev;
	uint16_t udp_port;
	/* behaviour */
	uint32_t interval, min_interval;
	const char *failure;
	bool hang_stopped;
	unsigned udp_drop;          /* drop this many incoming datagrams */
	const char *udp_error;
	/* what it saw */
	struct announce_req seen[MAX_SEEN];
	unsigned n_seen;
	unsigned udp_connects;
	unsigned udp_packets;
	struct sockaddr_storage last_from;
	socklen_t last_fromlen;
	struct sockaddr_storage http_from;
	uint32_t last_tid;
};

struct client {
	struct announce_stats st;
	unsigned n_results, n_ok;
	char status[256];
	char tracker[256];
	uint32_t seeders, leechers, next_s;
	size_t n_peers;
	struct tracker_peer peers[8];
	bool remove_in_cb;
	struct announce_sub *sub;
};

struct env {
	struct event_base *base;
	struct fake f;
	struct announcer *a;
	char http_url[64], udp_url[64];
};

static const uint8_t peer_id[20] = "-ST0001-abcdefghijkl";
static const uint8_t hash1[20] = "01234567890123456789";
static const uint8_t hash2[20] = "abcdefghijabcdefghij";

static void fake_peers(struct tracker_peer p[2])
{
	memset(p, 0, 2 * sizeof *p);
	p[0].family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", p[0].addr);
	p[0].port = 6881;
	p[1].family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::7", p[1].addr);
	p[1].port = 6882;
}

static void fake_record(struct fake *f, const struct announce_req *r)
{
	if (f->n_seen < MAX_SEEN)
		f->seen[f->n_seen++] = *r;
}

static void fake_http(struct evhttp_request *req, void *arg)
{
	struct fake *f = arg;
	const char *uri = evhttp_request_get_uri(req);
	const char *q = strchr(uri, '?');
	struct announce_req ar;
	struct tracker_error err;
	struct sta_buf out = STA_BUF_INIT;
	struct tracker_peer peers[2];

	if (strncmp(uri, "/announce?", 10) != 0 || !tracker_parse_announce_query(q + 1, strlen(q + 1), &ar, &err)) {
		evhttp_send_error(req, 404, "nope");
		return;
	}
	fake_record(f, &ar);
	const struct sockaddr *from = evhttp_connection_get_addr(evhttp_request_get_connection(req));
	if (from && from->sa_family == AF_INET)
		memcpy(&f->http_from, from, sizeof(struct sockaddr_in));
	if (f->hang_stopped && ar.event == TRACKER_EVENT_STOPPED)
		return; /* never answered; evhttp_free drops it */
	if (f->failure) {
		tracker_build_failure(&out, f->failure);
	} else {
		fake_peers(peers);
		struct announce_resp resp = {
			.interval = f->interval, .min_interval = f->min_interval,
			.complete = 3, .incomplete = 1, .n_peers = 2, .peers = peers,
		};
		tracker_build_announce_reply(&out, &resp, true, true);
	}
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, out.data, out.len);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
	buf_free(&out);
}

static void fake_udp(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;
	uint8_t pkt[2048];
	struct sockaddr_storage from;
	socklen_t fl = sizeof from;
	ssize_t n = recvfrom(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&from, &fl);
	struct udp_request req;
	struct tracker_error err;
	struct sta_buf out = STA_BUF_INIT;
	struct tracker_peer peers[2];

	if (n < 0)
		return;
	f->udp_packets++;
	f->last_from = from;
	f->last_fromlen = fl;
	assert_true(udp_decode_request(pkt, (size_t)n, &req, &err));
	f->last_tid = req.transaction_id;
	if (f->udp_drop > 0) {
		f->udp_drop--;
		return;
	}
	if (req.action == UDP_ACTION_CONNECT) {
		f->udp_connects++;
		udp_encode_connect_reply(&out, req.transaction_id, CONN_ID);
	} else {
		assert_int_equal(req.action, UDP_ACTION_ANNOUNCE);
		assert_true(req.connection_id == CONN_ID);
		fake_record(f, &req.announce);
		if (f->udp_error) {
			udp_encode_error(&out, req.transaction_id, f->udp_error);
		} else {
			fake_peers(peers);
			struct announce_resp resp = {
				.interval = f->interval, .complete = 5, .incomplete = 2,
				.n_peers = 2, .peers = peers,
			};
			udp_encode_announce_reply(&out, req.transaction_id, &resp, AF_INET);
		}
	}
	sendto(fd, out.data, out.len, 0, (struct sockaddr *)&from, fl);
	buf_free(&out);
}

static uint16_t sock_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t l = sizeof sin;

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &l), 0);
	return ntohs(sin.sin_port);
}

/* A loopback port with nothing listening (bound, then closed). */
static uint16_t closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	uint16_t p = sock_port(fd);
	close(fd);
	return p;
}

static void fake_start(struct fake *f, struct event_base *base)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	memset(f, 0, sizeof *f);
	f->base = base;
	f->interval = 1800;
	f->http = evhttp_new(base);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", 0);
	assert_non_null(bs);
	f->http_port = sock_port(evhttp_bound_socket_get_fd(bs));
	evhttp_set_gencb(f->http, fake_http, f);
	f->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_int_equal(bind(f->udp_fd, (struct sockaddr *)&sin, sizeof sin), 0);
	f->udp_port = sock_port(f->udp_fd);
	f->udp_ev = event_new(base, f->udp_fd, EV_READ | EV_PERSIST, fake_udp, f);
	event_add(f->udp_ev, NULL);
}

static void fake_stop(struct fake *f)
{
	evhttp_free(f->http);
	event_free(f->udp_ev);
	close(f->udp_fd);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);

	e->base = event_base_new();
	fake_start(&e->f, e->base);
	e->a = announcer_new(e->base, NULL, NULL, peer_id, 51413, 0xdeadbeef);
	assert_non_null(e->a);
	snprintf(e->http_url, sizeof e->http_url, "http://127.0.0.1:%u/announce", e->f.http_port);
	snprintf(e->udp_url, sizeof e->udp_url, "udp://127.0.0.1:%u/announce", e->f.udp_port);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	announcer_free(e->a);
	fake_stop(&e->f);
	event_base_free(e->base);
	free(e);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
}

/* Runs the loop until *count reaches want or ms pass; returns the count. */
static unsigned run_until(struct env *e, const unsigned *count, unsigned want, unsigned ms)
{
	struct event *t = event_new(e->base, -1, EV_PERSIST, tick, NULL);
	struct timeval tv = { 0, 20000 };
	uint64_t end = now_ms() + ms;

	event_add(t, &tv);
	while (*count < want && now_ms() < end)
		event_base_loop(e->base, EVLOOP_ONCE);
	event_free(t);
	return *count;
}

static void cb_stats(void *arg, struct announce_stats *out)
{
	struct client *c = arg;

	*out = c->st;
}

static void cb_result(void *arg, const struct announce_result *r)
{
	struct client *c = arg;

	c->n_results++;
	c->n_ok += r->ok;
	snprintf(c->status, sizeof c->status, "%s", r->status);
	snprintf(c->tracker, sizeof c->tracker, "%s", r->tracker);
	c->seeders = r->seeders;
	c->leechers = r->leechers;
	c->next_s = r->next_announce_s;
	c->n_peers = r->n_peers;
	for (size_t i = 0; i < r->n_peers && i < 8; i++)
		c->peers[i] = r->peers[i];
	if (c->remove_in_cb) {
		announcer_remove(c->sub, true);
		c->sub = NULL;
	}
}

static const struct announce_cbs cbs = { cb_stats, cb_result };

/* One tier per URL, in order. */
static struct announce_sub *add(struct env *e, struct client *c, const uint8_t *hash,
                                const char *const *urls, uint32_t n)
{
	struct mi_tier tiers[4];

	for (uint32_t i = 0; i < n; i++) {
		tiers[i].urls = (char **)&urls[i];
		tiers[i].n_urls = 1;
	}
	c->sub = announcer_add(e->a, hash, tiers, n, &cbs, c);
	return c->sub;
}

static void test_http_started_then_interval(void **state)
{
	struct env *e = *state;
	struct client c = { .st = { 100, 200, 300 } };
	const char *urls[] = { e->http_url };

	e->f.interval = 1;
	add(e, &c, hash1, urls, 1);
	assert_int_equal(c.n_results, 0); /* nothing happens inside add */
	assert_int_equal(run_until(e, &c.n_ok, 1, 3000), 1);
	assert_string_equal(c.status, "ok, 2 peers");
	assert_string_equal(c.tracker, e->http_url);
	assert_int_equal(c.seeders, 3);
	assert_int_equal(c.leechers, 1);
	assert_int_equal(c.next_s, 1);
	assert_int_equal(c.n_peers, 2);
	assert_int_equal(c.peers[0].family, AF_INET);
	assert_int_equal(c.peers[0].port, 6881);
	assert_int_equal(c.peers[1].family, AF_INET6);
	assert_int_equal(c.peers[1].port, 6882);
	assert_int_equal(e->f.n_seen, 1);
	const struct announce_req *r = &e->f.seen[0];
	assert_int_equal(r->event, TRACKER_EVENT_STARTED);
	assert_memory_equal(r->info_hash, hash1, 20);
	assert_memory_equal(r->peer_id, peer_id, 20);
	assert_int_equal(r->port, 51413);
	assert_int_equal(r->uploaded, 100);
	assert_int_equal(r->downloaded, 200);
	assert_int_equal(r->left, 300);
	assert_true(r->has_key);
	assert_int_equal(r->key, 0xdeadbeef);

	/* The interval (1 s) brings a plain re-announce with fresh stats. */
	c.st.left = 7;
	uint64_t t0 = now_ms();
	assert_int_equal(run_until(e, &c.n_ok, 2, 3000), 2);
	assert_true(now_ms() - t0 >= 900);
	assert_int_equal(e->f.n_seen, 2);
	assert_int_equal(e->f.seen[1].event, TRACKER_EVENT_NONE);
	assert_int_equal(e->f.seen[1].left, 7);
}

static void test_completed_and_remove_stopped(void **state)
{
	struct env *e = *state;
	struct client c = { .st = { 0, 0, 50 } };
	const char *urls[] = { e->http_url };

	add(e, &c, hash1, urls, 1);
	assert_int_equal(run_until(e, &c.n_ok, 1, 3000), 1);
	c.st.left = 0;
	announcer_completed(c.sub);
	announcer_completed(c.sub); /* once only */
	assert_int_equal(run_until(e, &c.n_ok, 2, 3000), 2);
	assert_int_equal(e->f.seen[1].event, TRACKER_EVENT_COMPLETED);
	assert_int_equal(e->f.seen[1].left, 0);

	announcer_remove(c.sub, true);
	assert_int_equal(run_until(e, &e->f.n_seen, 3, 3000), 3);
	assert_int_equal(e->f.seen[2].event, TRACKER_EVENT_STOPPED);
	assert_int_equal(e->f.seen[2].numwant, 0);
	/* Nothing further: no callback, no more announces. */
	unsigned results = c.n_results;
	run_until(e, &e->f.n_seen, 4, 300);
	assert_int_equal(e->f.n_seen, 3);
	assert_int_equal(c.n_results, results);
}

static void test_remove_without_stopped(void **state)
{
	struct env *e = *state;
	struct client c = { 0 };
	const char *urls[] = { e->http_url };

	add(e, &c, hash1, urls, 1);
	assert_int_equal(run_until(e, &c.n_ok, 1, 3000), 1);
	announcer_remove(c.sub, false);
	run_until(e, &e->f.n_seen, 2, 300);
	assert_int_equal(e->f.n_seen, 1);
}

static void test_remove_inside_callback(void **state)
{
	struct env *e = *state;
	struct client c = { .remove_in_cb = true };
	const char *urls[] = { e->http_url };

	add(e, &c, hash1, urls, 1);
	assert_int_equal(run_until(e, &e->f.n_seen, 2, 3000), 2);
	assert_int_equal(c.n_results, 1);
	assert_int_equal(e->f.seen[1].event, TRACKER_EVENT_STOPPED);
}

static void done_cb(void *arg)
{
	(*(unsigned *)arg)++;
}

static void test_stop_all(void **state)
{
	struct env *e = *state;
	struct client c1 = { 0 }, c2 = { 0 }, c3 = { 0 };
	const char *urls[] = { e->http_url };
	unsigned done = 0;

	add(e, &c1, hash1, urls, 1);
	add(e, &c2, hash2, urls, 1);
	assert_int_equal(run_until(e, &e->f.n_seen, 2, 3000), 2);
	run_until(e, &c2.n_ok, 1, 3000);
	assert_int_equal(c1.n_ok + c2.n_ok, 2);
	/* Never announced: removed without a stopped. */
	const char *none[] = { "https://example.org/announce" };
	add(e, &c3, hash2, none, 1);

	uint64_t t0 = now_ms();
	announcer_stop_all(e->a, 3000, done_cb, &done);
	assert_int_equal(done, 0); /* never from inside */
	assert_int_equal(run_until(e, &done, 1, 4000), 1);
	assert_true(now_ms() - t0 < 2000);
	assert_int_equal(e->f.n_seen, 4);
	assert_int_equal(e->f.seen[2].event, TRACKER_EVENT_STOPPED);
	assert_int_equal(e->f.seen[3].event, TRACKER_EVENT_STOPPED);
	assert_int_equal(c3.n_results, 0);
}

static void test_stop_all_timeout(void **state)
{
	struct env *e = *state;
	struct client c = { 0 };
	const char *urls[] = { e->http_url };
	unsigned done = 0;

	add(e, &c, hash1, urls, 1);
	assert_int_equal(run_until(e, &c.n_ok, 1, 3000), 1);
	e->f.hang_stopped = true;
	uint64_t t0 = now_ms();
	announcer_stop_all(e->a, 300, done_cb, &done);
	assert_int_equal(run_until(e, &done, 1, 3000), 1);
	uint64_t took = now_ms() - t0;
	assert_true(took >= 280 && took < 1500);
	assert_int_equal(e->f.seen[1].event, TRACKER_EVENT_STOPPED);
	run_until(e, &done, 2, 100);
	assert_int_equal(done, 1);
	/* teardown frees the announcer with the stopped still pending */
}

static void test_stop_all_empty(void **state)
{
	struct env *e = *state;
	unsigned done = 0;

	announcer_stop_all(e->a, 3000, done_cb, &done);
	assert_int_equal(done, 0);
	assert_int_equal(run_until(e, &done, 1, 1000), 1);
}

static void test_failure_reason_backs_off(void **state)
{
	struct env *e = *state;
	struct client c = { 0 };
	const char *urls[] = { e->http_url };

	e->f.failure = "torrent not registered";
	add(e, &c, hash1, urls, 1);
	assert_int_equal(run_until(e, &c.n_results, 1, 3000), 1);
	assert_int_equal(c.n_ok, 0);
	assert_string_equal(c.status, "failure: torrent not registered, retry in 15 s");
	assert_int_equal(c.next_s, 15);
	assert_int_equal(announcer_sub_next_s(c.sub), 15);
	assert_string_equal(announcer_sub_status(c.sub), c.status);
	run_until(e, &e->f.n_seen, 2, 400);
	assert_int_equal(e->f.n_seen, 1);
	/* A started that failed is still "started" next time. */
	assert_int_equal(e->f.seen[0].event, TRACKER_EVENT_STARTED);
}

static void test_refused_error_text(void **state)
{
	struct env *e = *state;
	struct client c = { 0 };
	char url[64], want[160];
	uint16_t p = closed_port();

	snprintf(url, sizeof url, "http://127.0.0.1:%u/announce", p);
	const char *urls[] = { url };
	add(e, &c, hash1, urls, 1);
	assert_int_equal(run_until(e, &c.n_results, 1, 3000), 1);
	snprintf(want, sizeof want,
	         "error: cannot reach tracker 127.0.0.1:%u: Connection refused, retry in 15 s", p);
	assert_string_equal(c.status, want);
}

static void test_tier_failover(void **state)
{
	struct env *e = *state;
	struct client c = { 0 };
	char bad[64];

	snprintf(bad, sizeof bad, "http://127.0.0.1:%u/announce", closed_port());
	const char *urls[] = { "https://example.org/announce", bad, e->http_url };
	add(e, &c, hash1, urls, 3);
	assert_int_equal(run_until(e, &c.n_results, 1, 3000), 1);
	assert_int_equal(c.n_ok, 1);
	assert_string_equal(c.tracker, e->http_url);
	assert_int_equal(e->f.seen[0].event, TRACKER_EVENT_STARTED);
}

static void count_503(struct evhttp_request *req, void *arg)
{
	(*(unsigned *)arg)++;
	evhttp_send_error(req, 503, "busy");
}

static void test_same_tier_moves_to_front(void **state)
{
	struct env *e = *state;
	struct client c = { 0 };
	char bad[64];
	char *tier_urls[2];
	unsigned bad_hits = 0;
	struct evhttp *h = evhttp_new(e->base);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(h, "127.0.0.1", 0);

	evhttp_set_gencb(h, count_503, &bad_hits);
	snprintf(bad, sizeof bad, "http://127.0.0.1:%u/announce",
	         sock_port(evhttp_bound_socket_get_fd(bs)));
	tier_urls[0] = bad;
	tier_urls[1] = e->http_url;
	struct mi_tier tier = { tier_urls, 2 };
	e->f.interval = 1;
	c.sub = announcer_add(e->a, hash1, &tier, 1, &cbs, &c);
	assert_int_equal(run_until(e, &c.n_ok, 3, 5000), 3);
	/* The failing tracker is tried at most once (when the shuffle put it
	 * first): then the one that answered leads the tier. */
	assert_true(bad_hits <= 1);
	assert_int_equal(c.n_results, 3);
	assert_string_equal(c.tracker, e->http_url);
	announcer_remove(c.sub, false);
	evhttp_free(h);
}

static void test_http_error_status(void **state)
{
	struct env *e = *state;
	struct client c = { 0 };
	char url[64], want[128];
	unsigned hits = 0;
	struct evhttp *h = evhttp_new(e->base);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(h, "127.0.0.1", 0);

	evhttp_set_gencb(h, count_503, &hits);
	snprintf(url, sizeof url, "http://127.0.0.1:%u/announce",
	         sock_port(evhttp_bound_socket_get_fd(bs)));
	const char *urls[] = { url };
	add(e, &c, hash1, urls, 1);
	assert_int_equal(run_until(e, &c.n_results, 1, 3000), 1);
	snprintf(want, sizeof want, "error: tracker answered HTTP 503, retry in 15 s");
	assert_string_equal(c.status, want);
	announcer_remove(c.sub, false);
	evhttp_free(h);
}

static void test_no_usable_tracker(void **state)
{
	struct env *e = *state;
	struct client c = { 0 };
	const char *urls[] = { "https://example.org/announce", "wss://x/y" };

	add(e, &c, hash1, urls, 2);
	assert_int_equal(run_until(e, &c.n_results, 1, 1000), 1);
	assert_string_equal(c.status, "no usable tracker");
	assert_int_equal(announcer_sub_next_s(c.sub), UINT32_MAX);
	run_until(e, &c.n_results, 2, 200);
	assert_int_equal(c.n_results, 1);
}

static void test_reannounce_rate_limited(void **state)
{
	struct env *e = *state;
	struct client c = { 0 };
	const char *urls[] = { e->http_url };

	e->f.interval = 120;
	e->f.min_interval = 60;
	add(e, &c, hash1, urls, 1);
	assert_int_equal(run_until(e, &c.n_ok, 1, 3000), 1);
	uint32_t wait = announcer_reannounce_now(c.sub);
	assert_true(wait >= 59 && wait <= 60);
	assert_int_equal(announcer_sub_next_s(c.sub), 120);
	run_until(e, &e->f.n_seen, 2, 200);
	assert_int_equal(e->f.n_seen, 1);
}

static void test_reannounce_now(void **state)
{
	struct env *e = *state;
	struct client c = { 0 };
	const char *urls[] = { e->http_url };

	e->f.interval = 120;
	e->f.min_interval = 0;
	add(e, &c, hash1, urls, 1);
	assert_int_equal(run_until(e, &c.n_ok, 1, 3000), 1);
	/* No min interval: the floor is 30 s ... */
	assert_true(announcer_reannounce_now(c.sub) >= 29);
	/* ... unless the interval itself is shorter. */
	announcer_remove(c.sub, false);
	struct client d = { 0 };
	e->f.interval = 1;
	add(e, &d, hash2, urls, 1);
	assert_int_equal(run_until(e, &d.n_ok, 1, 3000), 1);
	struct timespec ts = { 1, 50000000 };
	nanosleep(&ts, NULL);
	assert_int_equal(announcer_reannounce_now(d.sub), 0);
	assert_int_equal(run_until(e, &d.n_ok, 2, 1000), 2);
}

static void test_udp_connect_announce(void **state)
{
	struct env *e = *state;
	struct client c = { .st = { 1, 2, 3 } };
	const char *urls[] = { e->udp_url };

	add(e, &c, hash1, urls, 1);
	assert_int_equal(run_until(e, &c.n_results, 1, 3000), 1);
	assert_string_equal(c.status, "ok, 1 peer");
	assert_int_equal(e->f.udp_connects, 1);
	assert_int_equal(c.seeders, 5);
	assert_int_equal(c.leechers, 2);
	/* The AF_INET socket gets IPv4 entries only. */
	assert_int_equal(c.peers[0].family, AF_INET);
	assert_int_equal(c.peers[0].port, 6881);
	const struct announce_req *r = &e->f.seen[0];
	assert_int_equal(r->event, TRACKER_EVENT_STARTED);
	assert_memory_equal(r->info_hash, hash1, 20);
	assert_int_equal(r->left, 3);
	assert_int_equal(r->port, 51413);
	assert_int_equal(r->key, 0xdeadbeef);

	/* The connection id is cached: a second torrent announces at once. */
	struct client d = { 0 };
	add(e, &d, hash2, urls, 1);
	assert_int_equal(run_until(e, &d.n_ok, 1, 3000), 1);
	assert_int_equal(e->f.udp_connects, 1);

	announcer_remove(c.sub, true);
	assert_int_equal(run_until(e, &e->f.n_seen, 3, 3000), 3);
	assert_int_equal(e->f.seen[2].event, TRACKER_EVENT_STOPPED);
}

static void assert_from(const struct sockaddr_storage *ss, const char *ip)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	char got[INET_ADDRSTRLEN];

	assert_int_equal(sin->sin_family, AF_INET);
	inet_ntop(AF_INET, &sin->sin_addr, got, sizeof got);
	assert_string_equal(got, ip);
}

/* Bound to 127.0.0.2, HTTP and UDP announces reach the tracker (on
 * 127.0.0.1) from 127.0.0.2: that is how it tells local stads apart. */
static void test_source_address(void **state)
{
	struct env *e = *state;
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct client c = { 0 }, d = { 0 };
	const char *http[] = { e->http_url }, *udp[] = { e->udp_url };

	inet_pton(AF_INET, "127.0.0.2", &src.sin_addr);
	announcer_free(e->a);
	e->a = announcer_new(e->base, NULL, (struct sockaddr *)&src, peer_id, 51413, 1);
	assert_non_null(e->a);
	add(e, &c, hash1, http, 1);
	assert_int_equal(run_until(e, &c.n_ok, 1, 3000), 1);
	assert_from(&e->f.http_from, "127.0.0.2");
	add(e, &d, hash2, udp, 1);
	assert_int_equal(run_until(e, &d.n_ok, 1, 3000), 1);
	assert_from(&e->f.last_from, "127.0.0.2");
	/* The port is the kernel's choice, not the one in bind_addr. */
	assert_int_not_equal(ntohs(((struct sockaddr_in *)&e->f.last_from)->sin_port), 9);
}

/* Unbound, the same traffic comes from the kernel's choice, 127.0.0.1. */
static void test_source_address_default(void **state)
{
	struct env *e = *state;
	struct client c = { 0 };
	const char *http[] = { e->http_url };

	add(e, &c, hash1, http, 1);
	assert_int_equal(run_until(e, &c.n_ok, 1, 3000), 1);
	assert_from(&e->f.http_from, "127.0.0.1");
}

/* An address that is not ours cannot be bound: no announcer. */
static void test_source_address_foreign(void **state)
{
	struct env *e = *state;
	struct sockaddr_in src = { .sin_family = AF_INET };

	inet_pton(AF_INET, "192.0.2.1", &src.sin_addr);
	assert_null(announcer_new(e->base, NULL, (struct sockaddr *)&src, peer_id, 51413, 1));
}

static void test_udp_retransmit(void **state)
{
	struct env *e = *state;
	struct client c = { 0 };
	const char *urls[] = { e->udp_url };

	e->f.udp_drop = 1;
	uint64_t t0 = now_ms();
	add(e, &c, hash1, urls, 1);
	assert_int_equal(run_until(e, &c.n_ok, 1, 5000), 1);
	uint64_t took = now_ms() - t0;
	assert_true(took >= 1900 && took < 4000);
	assert_int_equal(e->f.udp_packets, 3); /* lost connect, connect, announce */
}

static void test_udp_error(void **state)
{
	struct env *e = *state;
	struct client c = { 0 };
	const char *urls[] = { e->udp_url };

	e->f.udp_error = "bad \x01 torrent";
	add(e, &c, hash1, urls, 1);
	assert_int_equal(run_until(e, &c.n_results, 1, 3000), 1);
	assert_int_equal(c.n_ok, 0);
	assert_string_equal(c.status, "failure: bad \\x01 torrent, retry in 15 s");
}

static void test_udp_junk_ignored(void **state)
{
	struct env *e = *state;
	struct client c = { 0 };
	const char *urls[] = { e->udp_url };

	struct sta_buf out = STA_BUF_INIT;
	struct fake *f = &e->f;

	f->udp_drop = 1;
	add(e, &c, hash1, urls, 1);
	/* The dropped connect tells us the announcer's port and transaction. */
	assert_int_equal(run_until(e, &f->udp_packets, 1, 1000), 1);
	struct sockaddr *to = (struct sockaddr *)&f->last_from;
	/* Too short; an unknown transaction id; a truncated connect reply. */
	sendto(f->udp_fd, "\0\0\0\0", 4, 0, to, f->last_fromlen);
	udp_encode_connect_reply(&out, f->last_tid + 1, 0x99);
	sendto(f->udp_fd, out.data, out.len, 0, to, f->last_fromlen);
	/* The right transaction id from another address (a forger): ignored,
	 * else the fake tracker would see connection id 0x99 and fail. */
	int other = socket(AF_INET, SOCK_DGRAM, 0);
	buf_clear(&out);
	udp_encode_connect_reply(&out, f->last_tid, 0x99);
	sendto(other, out.data, out.len, 0, to, f->last_fromlen);
	close(other);
	run_until(e, &c.n_results, 1, 300);
	assert_int_equal(c.n_results, 0);
	/* A reply with the right id but cut short fails this tracker. */
	buf_clear(&out);
	udp_encode_connect_reply(&out, f->last_tid, CONN_ID);
	sendto(f->udp_fd, out.data, out.len - 1, 0, to, f->last_fromlen);
	assert_int_equal(run_until(e, &c.n_results, 1, 1000), 1);
	assert_int_equal(c.n_ok, 0);
	assert_non_null(strstr(c.status, "error: bad UDP reply from tracker: "));
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_http_started_then_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_completed_and_remove_stopped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_without_stopped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_inside_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_all_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_all_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_reason_backs_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_error_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tier_failover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_tier_moves_to_front, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_error_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_usable_tracker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reannounce_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reannounce_now, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_connect_announce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_retransmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_address_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_address_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_junk_ignored, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
