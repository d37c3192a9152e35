/* The DHT node's query handling and lookups, on an in-process network:
 * every node's send() queues the datagram, the test delivers the queue
 * and drives the clock. Datagrams to addresses that are no node land in
 * an outbox the test reads (the replies to a hand-made client). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dht_node.h"
#include "xmalloc.h"

#define NET_MAX 40
#define PKT_MAX 1600

struct pkt {
	int to;                         /* node index, or -1: the outbox */
	struct krpc_addr src, dst;
	size_t len;
	uint8_t data[PKT_MAX];
};

struct net;

struct port {
	struct net *net;
	int self;
};

struct net {
	int n;
	struct dht_node *node[NET_MAX];
	struct krpc_addr addr[NET_MAX];
	struct krpc_addr addr6[NET_MAX];   /* family 0 unless dual-stack */
	struct port port[NET_MAX];
	bool down[NET_MAX];             /* datagrams to it are lost */
	struct pkt *q;
	size_t head, len, cap;
	struct pkt *out;                /* to addresses that are no node */
	size_t n_out, cap_out;
	uint64_t now;                   /* ms */
	uint32_t lcg;
	uint32_t max_outstanding_seen;
};

static struct krpc_addr addr4(uint32_t host, uint16_t port)
{
	struct krpc_addr a = { .family = AF_INET, .port = port };

	store_u32be(a.ip, 0x0a000000u | host);
	return a;
}

static int node_at(const struct net *net, const struct krpc_addr *a)
{
	for (int i = 0; i < net->n; i++)
		if (krpc_addr_equal(&net->addr[i], a) || krpc_addr_equal(&net->addr6[i], a))
			return i;
	return -1;
}

static void push(struct pkt **v, size_t *len, size_t *cap, const struct pkt *p)
{
	if (*len == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = xreallocarray(*v, *cap, sizeof **v);
	}
	(*v)[(*len)++] = *p;
}

static void net_send(void *arg, const struct krpc_addr *to, const uint8_t *buf, size_t len)
{
	struct port *pt = arg;
	struct net *net = pt->net;
	struct pkt p = { .to = node_at(net, to), .dst = *to, .len = len };

	assert_true(len <= PKT_MAX);
	assert_true(len <= 1400); /* one unfragmented packet */
	p.src = to->family == AF_INET6 ? net->addr6[pt->self] : net->addr[pt->self];
	memcpy(p.data, buf, len);
	if (p.to < 0)
		push(&net->out, &net->n_out, &net->cap_out, &p);
	else if (!net->down[p.to])
		push(&net->q, &net->len, &net->cap, &p);
}

static void net_random(void *arg, void *buf, size_t len)
{
	struct port *pt = arg;
	uint8_t *b = buf;

	for (size_t i = 0; i < len; i++) {
		pt->net->lcg = pt->net->lcg * 1103515245u + 12345u;
		b[i] = (uint8_t)(pt->net->lcg >> 16);
	}
}

static const struct dht_node_config default_cfg = {
	.max_outstanding = 64, .answers_per_sec = 50, .store_per_hash = 20, .store_total = 100,
};

static struct krpc_addr addr6(uint32_t host, uint16_t port)
{
	struct krpc_addr a = { .family = AF_INET6, .ip = { 0x20, 0x01, 0x0d, 0xb8 }, .port = port };

	store_u32be(a.ip + 12, host);
	return a;
}

/* A node on 10.0.0.(i+1), and on 2001:db8::(i+1) too when dual. */
static int net_add_node(struct net *net, const struct dht_node_config *cfg, bool dual)
{
	static const struct dht_node_io io = { net_send, net_random, NULL };
	int i = net->n++;
	uint8_t id[KRPC_ID_LEN];
	struct dht_node_io mine = io;

	assert_true(i < NET_MAX);
	net->addr[i] = addr4((uint32_t)i + 1, 6881);
	if (dual)
		net->addr6[i] = addr6((uint32_t)i + 1, 6881);
	net->port[i] = (struct port){ net, i };
	mine.arg = &net->port[i];
	net_random(mine.arg, id, sizeof id);
	net->node[i] = dht_node_new(id, true, dual, cfg ? cfg : &default_cfg, &mine, net->now);
	return i;
}

static int net_add(struct net *net, const struct dht_node_config *cfg)
{
	return net_add_node(net, cfg, false);
}

static void net_free(struct net *net)
{
	for (int i = 0; i < net->n; i++)
		dht_node_free(net->node[i]);
	free(net->q);
	free(net->out);
}

/* Delivers queued datagrams (and what they cause) until none is left. */
static void pump(struct net *net)
{
	struct dht_stats st;

	while (net->head < net->len) {
		struct pkt p = net->q[net->head++];
		dht_node_input(net->node[p.to], p.data, p.len, &p.src, net->now);
		dht_node_stats(net->node[p.to], net->now, &st);
		if (st.outstanding > net->max_outstanding_seen)
			net->max_outstanding_seen = st.outstanding;
	}
	net->head = net->len = 0;
}

/* Runs the clock for `secs` seconds of ticks. */
static void run(struct net *net, int secs)
{
	for (int s = 0; s < secs; s++) {
		net->now += 1000;
		for (int i = 0; i < net->n; i++)
			dht_node_tick(net->node[i], net->now);
		pump(net);
	}
}

/* ---- a client talking to one node ---- */

static const struct krpc_addr client = { AF_INET, { 192, 0, 2, 1 }, 4000 };

/* Sends m from `from` to node 0; returns how many answers came back (the
 * node may also ping the client: queries are not counted), the last one
 * decoded into *reply. */
static size_t ask(struct net *net, struct krpc_msg *m, const struct krpc_addr *from,
                  struct krpc_msg *reply)
{
	static struct krpc_msg got;
	struct sta_buf b = STA_BUF_INIT;
	size_t before = net->n_out, answers = 0;

	krpc_encode(&b, m);
	dht_node_input(net->node[0], b.data, b.len, from, net->now);
	buf_free(&b);
	pump(net);
	for (size_t i = before; i < net->n_out; i++) {
		const struct pkt *p = &net->out[i];
		assert_true(krpc_addr_equal(&p->dst, from));
		assert_int_equal(krpc_decode(p->data, p->len, &got, NULL), KRPC_OK);
		if (got.type == KRPC_QUERY)
			continue;
		assert_int_equal(got.tid_len, m->tid_len);
		assert_memory_equal(got.tid, m->tid, m->tid_len);
		*reply = got;
		answers++;
	}
	return answers;
}

static struct krpc_msg *query(enum krpc_method method, uint8_t fill)
{
	static struct krpc_msg m;

	memset(&m, 0, sizeof m);
	m.type = KRPC_QUERY;
	m.method = method;
	memcpy(m.tid, "t1", 2);
	m.tid_len = 2;
	memset(m.id, fill, sizeof m.id);
	memset(m.target, 0x55, sizeof m.target);
	return &m;
}

/* ping, get_peers, announce_peer with a token, values for someone else. */
static void test_answers_and_tokens(void **state)
{
	struct net net = { .lcg = 7, .now = 1000000 };
	static struct krpc_msg r;
	struct krpc_addr other = addr4(200, 5555), elsewhere = addr4(201, 4000);

	net_add(&net, NULL);
	assert_int_equal(ask(&net, query(KRPC_PING, 1), &client, &r), 1);
	assert_int_equal(r.type, KRPC_RESPONSE);
	assert_memory_equal(r.id, dht_node_id(net.node[0]), 20);
	assert_true(r.has_ip && krpc_addr_equal(&r.ip, &client));

	assert_int_equal(ask(&net, query(KRPC_GET_PEERS, 1), &client, &r), 1);
	assert_int_equal(r.n_values, 0);
	assert_int_equal(r.token_len, 8);
	uint8_t token[8];
	memcpy(token, r.token, 8);

	static struct krpc_msg ann;
	struct krpc_msg *a = &ann;
	ann = *query(KRPC_ANNOUNCE_PEER, 1);
	a->port = 7000;
	memcpy(a->token, token, 8);
	a->token_len = 8;
	/* The token is the querier's address's: another host cannot use it. */
	assert_int_equal(ask(&net, a, &elsewhere, &r), 1);
	assert_int_equal(r.type, KRPC_ERROR);
	assert_int_equal(r.error_code, KRPC_E_PROTOCOL);
	assert_int_equal(ask(&net, a, &client, &r), 1);
	assert_int_equal(r.type, KRPC_RESPONSE);

	assert_int_equal(ask(&net, query(KRPC_GET_PEERS, 2), &other, &r), 1);
	assert_int_equal(r.n_values, 1);
	struct krpc_addr want = client;
	want.port = 7000;
	assert_true(krpc_addr_equal(&r.values[0], &want));

	/* implied_port: the datagram's source port is stored instead. */
	a->implied_port = true;
	a->port = 0;
	assert_int_equal(ask(&net, a, &client, &r), 1);
	assert_int_equal(ask(&net, query(KRPC_GET_PEERS, 2), &other, &r), 1);
	assert_int_equal(r.n_values, 2);
	net_free(&net);
}

/* Unknown methods get 204, bad arguments 203, garbage nothing. */
static void test_errors_and_garbage(void **state)
{
	struct net net = { .lcg = 8, .now = 5000000 };
	static struct krpc_msg r;
	struct dht_stats st;

	net_add(&net, NULL);
	struct krpc_msg *q = query(KRPC_OTHER_METHOD, 1);
	assert_int_equal(ask(&net, q, &client, &r), 1); /* encodes as "unknown" */
	assert_int_equal(r.type, KRPC_ERROR);
	assert_int_equal(r.error_code, KRPC_E_METHOD);

	static const char bad_id[] = "d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe";
	size_t before = net.n_out;
	dht_node_input(net.node[0], (const uint8_t *)bad_id, sizeof bad_id - 1, &client, net.now);
	assert_int_equal(net.n_out, before + 1);
	assert_int_equal(krpc_decode(net.out[before].data, net.out[before].len, &r, NULL), KRPC_OK);
	assert_int_equal(r.error_code, KRPC_E_PROTOCOL);
	assert_string_equal(r.error_msg, krpc_strerror(KRPC_ERR_ID));

	static const char junk[] = "d1:t2:zze";
	dht_node_input(net.node[0], (const uint8_t *)junk, sizeof junk - 1, &client, net.now);
	dht_node_input(net.node[0], (const uint8_t *)"\xff\x00", 2, &client, net.now);
	assert_int_equal(net.n_out, before + 1);
	dht_node_stats(net.node[0], net.now, &st);
	assert_int_equal(st.malformed, 3);
	/* An answer to nothing we asked. */
	struct krpc_msg resp = { .type = KRPC_RESPONSE, .tid = "abcd", .tid_len = 4 };
	assert_int_equal(ask(&net, &resp, &client, &r), 0);
	dht_node_stats(net.node[0], net.now, &st);
	assert_int_equal(st.unmatched, 1);
	net_free(&net);
}

/* One host, many source ports: one budget. */
static void test_budget_from_many_ports(void **state)
{
	struct dht_node_config cfg = default_cfg;
	struct net net = { .lcg = 9, .now = 9000000 };
	static struct krpc_msg r;
	struct dht_stats st;
	size_t answers = 0;

	cfg.answers_per_sec = 10;
	net_add(&net, &cfg);
	for (uint16_t port = 1000; port < 1100; port++) {
		struct krpc_addr from = client;
		from.port = port;
		answers += ask(&net, query(KRPC_PING, (uint8_t)port), &from, &r);
	}
	assert_int_equal(answers, 10);
	dht_node_stats(net.node[0], net.now, &st);
	assert_int_equal(st.limited, 90);
	/* Another host is not held back by the first one's flood. */
	struct krpc_addr second = addr4(77, 1);
	assert_int_equal(ask(&net, query(KRPC_PING, 3), &second, &r), 1);
	net.now += 1000;
	assert_int_equal(ask(&net, query(KRPC_PING, 3), &client, &r), 1);
	net_free(&net);
}

/* ---- a whole network ---- */

struct found {
	struct krpc_addr peers[64];
	size_t n;
	bool done;
	uint32_t answered, announced;
};

static void on_peers(void *arg, const struct krpc_addr *peers, size_t n)
{
	struct found *f = arg;

	for (size_t i = 0; i < n && f->n < 64; i++)
		f->peers[f->n++] = peers[i];
}

static void on_done(void *arg, uint32_t answered, uint32_t announced)
{
	struct found *f = arg;

	f->done = true;
	f->answered = answered;
	f->announced = announced;
}

static const struct dht_lookup_cbs found_cbs = { on_peers, on_done };

static bool has_peer(const struct found *f, const struct krpc_addr *a)
{
	for (size_t i = 0; i < f->n; i++)
		if (krpc_addr_equal(&f->peers[i], a))
			return true;
	return false;
}

/* n nodes that joined through node 0 and settled for a while. */
static void build_network(struct net *net, int n, const struct dht_node_config *cfg)
{
	for (int i = 0; i < n; i++)
		net_add(net, cfg);
	for (int i = 1; i < n; i++)
		dht_node_bootstrap(net->node[i], &net->addr[0], 1, net->now);
	pump(net);
	run(net, 30);
}

/* Everyone finds others; an announce made by one is found by another. */
static void test_network_announce_then_find(void **state)
{
	struct net net = { .lcg = 11, .now = 1000 };
	struct dht_stats st;
	uint8_t ih[KRPC_ID_LEN];
	struct found ann = { 0 }, look = { 0 };

	build_network(&net, 30, NULL);
	for (int i = 0; i < net.n; i++) {
		dht_node_stats(net.node[i], net.now, &st);
		assert_true(st.nodes[0] >= DHT_K);
		assert_true(st.good[0] >= DHT_K);
		assert_int_equal(st.nodes[1], 0);
	}
	memset(ih, 0xab, sizeof ih);
	dht_node_lookup(net.node[5], AF_INET, ih, KRPC_GET_PEERS, true, 7000, &found_cbs, &ann,
	                net.now);
	pump(&net);
	assert_true(ann.done);
	assert_true(ann.answered >= DHT_K);
	assert_int_equal(ann.announced, DHT_K);
	assert_int_equal(ann.n, 0);
	pump(&net);

	uint32_t id = dht_node_lookup(net.node[20], AF_INET, ih, KRPC_GET_PEERS, false, 0,
	                              &found_cbs, &look, net.now);
	assert_int_not_equal(id, 0);
	dht_node_stats(net.node[20], net.now, &st);
	assert_int_equal(st.lookups, 1);
	pump(&net);
	assert_true(look.done);
	struct krpc_addr want = net.addr[5];
	want.port = 7000;
	assert_true(has_peer(&look, &want));
	dht_node_stats(net.node[20], net.now, &st);
	assert_int_equal(st.lookups, 0);
	assert_int_equal(st.outstanding, 0);
	/* The nodes that store the peer themselves (the DHT_K it was announced
	 * to) hand it over as their lookup starts, before any answer. */
	int from_store = 0;
	for (int i = 0; i < net.n; i++) {
		struct found self = { 0 };
		dht_node_lookup(net.node[i], AF_INET, ih, KRPC_GET_PEERS, false, 0, &found_cbs,
		                &self, net.now);
		from_store += has_peer(&self, &want);
		pump(&net);
		assert_true(self.done && has_peer(&self, &want));
	}
	assert_int_equal(from_store, DHT_K);
	/* The IPv6 side is off: no lookup there. */
	assert_int_equal(dht_node_lookup(net.node[20], AF_INET6, ih, KRPC_GET_PEERS, false, 0,
	                                 NULL, NULL, net.now), 0);
	net_free(&net);
}

/* Dead nodes time out, fail and leave the tables; lookups still end. */
static void test_dead_nodes_time_out(void **state)
{
	struct net net = { .lcg = 12, .now = 1000 };
	struct dht_stats st;
	uint8_t ih[KRPC_ID_LEN];
	struct found look = { 0 };

	build_network(&net, 12, NULL);
	for (int i = 6; i < 12; i++)
		net.down[i] = true;
	memset(ih, 0x17, sizeof ih);
	dht_node_lookup(net.node[1], AF_INET, ih, KRPC_GET_PEERS, false, 0, &found_cbs, &look,
	                net.now);
	pump(&net);
	for (int s = 0; s < 30 && !look.done; s++)
		run(&net, 1);
	assert_true(look.done);
	/* Every dead node was asked something by now and counts as failed. */
	run(&net, 17 * 60);
	dht_node_stats(net.node[1], net.now, &st);
	assert_true(st.good[0] >= 1 && st.good[0] <= 5);
	net_free(&net);
}

/* A node allowed two queries in flight still completes its lookups. */
static void test_outstanding_cap(void **state)
{
	struct net net = { .lcg = 13, .now = 1000 };
	struct dht_node_config tight = default_cfg;
	uint8_t ih[KRPC_ID_LEN];
	struct found look = { 0 };

	tight.max_outstanding = 2;
	build_network(&net, 15, NULL);
	int i = net_add(&net, &tight);
	net.max_outstanding_seen = 0;
	dht_node_bootstrap(net.node[i], &net.addr[0], 1, net.now);
	pump(&net);
	run(&net, 20);
	memset(ih, 0x99, sizeof ih);
	dht_node_lookup(net.node[i], AF_INET, ih, KRPC_GET_PEERS, false, 0, &found_cbs, &look,
	                net.now);
	for (int s = 0; s < 30 && !look.done; s++)
		run(&net, 1);
	assert_true(look.done);
	assert_true(look.answered >= DHT_K);
	struct dht_stats st;
	dht_node_stats(net.node[i], net.now, &st);
	assert_true(st.outstanding <= 2);
	assert_true(st.good[0] >= DHT_K);
	net_free(&net);
}

/* An answer counts only from the address asked. */
static void test_answer_from_elsewhere(void **state)
{
	struct net net = { .lcg = 14, .now = 1000 };
	struct dht_stats st;
	static struct krpc_msg q, r;
	struct krpc_addr router = addr4(250, 6881), liar = addr4(251, 6881);
	struct sta_buf b = STA_BUF_INIT;

	net_add(&net, NULL);
	dht_node_bootstrap(net.node[0], &router, 1, net.now);
	assert_int_equal(net.n_out, 1);
	assert_int_equal(krpc_decode(net.out[0].data, net.out[0].len, &q, NULL), KRPC_OK);
	assert_int_equal(q.method, KRPC_FIND_NODE);
	assert_memory_equal(q.target, dht_node_id(net.node[0]), 20);
	r = (struct krpc_msg){ .type = KRPC_RESPONSE, .tid_len = q.tid_len };
	memcpy(r.tid, q.tid, q.tid_len);
	memset(r.id, 0x42, sizeof r.id);
	krpc_encode(&b, &r);
	dht_node_input(net.node[0], b.data, b.len, &liar, net.now);
	dht_node_stats(net.node[0], net.now, &st);
	assert_int_equal(st.unmatched, 1);
	assert_int_equal(st.nodes[0], 0);
	dht_node_input(net.node[0], b.data, b.len, &router, net.now);
	dht_node_stats(net.node[0], net.now, &st);
	assert_int_equal(st.nodes[0], 1);
	assert_int_equal(st.good[0], 1);
	/* The same answer twice: the transaction is over. */
	dht_node_input(net.node[0], b.data, b.len, &router, net.now);
	dht_node_stats(net.node[0], net.now, &st);
	assert_int_equal(st.unmatched, 2);
	buf_free(&b);
	net_free(&net);
}

/* BEP 32: a dual-stack network keeps a table per family; find_node
 * answers the families the querier wants; lookups run in IPv6 alone. */
static void test_ipv6_tables_and_want(void **state)
{
	struct net net = { .lcg = 15, .now = 1000 };
	struct dht_stats st;
	uint8_t ih[KRPC_ID_LEN];
	struct found ann = { 0 }, look = { 0 };
	static struct krpc_msg r;

	for (int i = 0; i < 12; i++)
		net_add_node(&net, NULL, true);
	for (int i = 1; i < net.n; i++) {
		struct krpc_addr boot[2] = { net.addr[0], net.addr6[0] };
		dht_node_bootstrap(net.node[i], boot, 2, net.now);
	}
	pump(&net);
	run(&net, 30);
	dht_node_stats(net.node[3], net.now, &st);
	assert_true(st.good[0] >= DHT_K && st.good[1] >= DHT_K);

	memset(ih, 0x66, sizeof ih);
	dht_node_lookup(net.node[4], AF_INET6, ih, KRPC_GET_PEERS, true, 9000, &found_cbs, &ann,
	                net.now);
	pump(&net);
	assert_true(ann.done && ann.announced > 0);
	dht_node_lookup(net.node[9], AF_INET6, ih, KRPC_GET_PEERS, false, 0, &found_cbs, &look,
	                net.now);
	pump(&net);
	struct krpc_addr want = net.addr6[4];
	want.port = 9000;
	assert_true(look.done && has_peer(&look, &want));

	/* A client asking over IPv4 for both families gets nodes of both. */
	struct krpc_msg *q = query(KRPC_FIND_NODE, 1);
	q->want = KRPC_WANT_N4 | KRPC_WANT_N6;
	assert_int_equal(ask(&net, q, &client, &r), 1);
	size_t n4 = 0, n6 = 0;
	for (size_t i = 0; i < r.n_nodes; i++) {
		n4 += r.nodes[i].addr.family == AF_INET;
		n6 += r.nodes[i].addr.family == AF_INET6;
	}
	assert_int_equal(n4, DHT_K);
	assert_int_equal(n6, DHT_K);
	q = query(KRPC_FIND_NODE, 1);
	assert_int_equal(ask(&net, q, &client, &r), 1);
	for (size_t i = 0; i < r.n_nodes; i++)
		assert_int_equal(r.nodes[i].addr.family, AF_INET);
	net_free(&net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_and_tokens),
		cmocka_unit_test(test_errors_and_garbage),
		cmocka_unit_test(test_budget_from_many_ports),
		cmocka_unit_test(test_network_announce_then_find),
		cmocka_unit_test(test_dead_nodes_time_out),
		cmocka_unit_test(test_outstanding_cap),
		cmocka_unit_test(test_answer_from_elsewhere),
		cmocka_unit_test(test_ipv6_tables_and_want),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
