/* The DHT node's pure parts: routing table, lookup bookkeeping, peer
 * store, tokens and per-host budgets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dht_guard.h"
#include "dht_lookup.h"
#include "dht_state.h"
#include "dht_store.h"
#include "dht_table.h"

static uint32_t lcg = 1;

static uint8_t next_byte(void)
{
	lcg = lcg * 1103515245u + 12345u;
	return (uint8_t)(lcg >> 16);
}

static void random_id(uint8_t id[KRPC_ID_LEN])
{
	for (size_t i = 0; i < KRPC_ID_LEN; i++)
		id[i] = next_byte();
}

static struct krpc_addr addr4(uint32_t host, uint16_t port)
{
	struct krpc_addr a = { .family = AF_INET, .port = port };

	store_u32be(a.ip, 0x0a000000u | host);
	return a;
}

/* A node whose id shares exactly `prefix` leading bits with self. */
static struct krpc_node node_at(const uint8_t self[KRPC_ID_LEN], unsigned prefix, uint32_t host)
{
	struct krpc_node n = { .addr = addr4(host, 6881) };

	random_id(n.id);
	for (unsigned b = 0; b <= prefix && b < 160; b++) {
		uint8_t mask = (uint8_t)(0x80 >> (b % 8));
		bool bit = self[b / 8] & mask;
		if (b == prefix)
			bit = !bit;
		n.id[b / 8] = (uint8_t)(bit ? n.id[b / 8] | mask : n.id[b / 8] & ~mask);
	}
	return n;
}

static void test_id_metric(void **state)
{
	uint8_t a[20] = { 0 }, b[20] = { 0 }, t[20] = { 0 };

	assert_int_equal(dht_id_prefix(a, b), 160);
	b[0] = 0x80;
	assert_int_equal(dht_id_prefix(a, b), 0);
	b[0] = 0;
	b[19] = 1;
	assert_int_equal(dht_id_prefix(a, b), 159);
	b[2] = 0x10;
	assert_int_equal(dht_id_prefix(a, b), 19);
	/* XOR distance: 0x01.. is closer to 0x00.. than 0x02.. is. */
	a[0] = 1;
	memset(b, 0, sizeof b);
	b[0] = 2;
	assert_true(dht_id_closer(t, a, b) < 0);
	assert_true(dht_id_closer(t, b, a) > 0);
	assert_int_equal(dht_id_closer(t, a, a), 0);
}

/* A full bucket keeps newcomers as spares, names a questionable node to
 * ping, and swaps in the newest spare when that node turns bad. */
static void test_bucket_full_spare_and_replace(void **state)
{
	struct dht_table t;
	uint8_t self[20];
	const struct dht_entry *ping;
	struct krpc_node n[DHT_K + 2];

	random_id(self);
	dht_table_init(&t, self, AF_INET, 1000);
	for (uint32_t i = 0; i < DHT_K + 2; i++)
		n[i] = node_at(self, 0, i + 1);
	for (uint32_t i = 0; i < DHT_K; i++)
		assert_int_equal(dht_table_replied(&t, &n[i], 1000, &ping), DHT_SEEN_ADDED);
	assert_int_equal(dht_table_replied(&t, &n[0], 1001, &ping), DHT_SEEN_UPDATED);
	/* All good: the newcomer waits as a spare and nobody needs a ping. */
	assert_int_equal(dht_table_replied(&t, &n[DHT_K], 1002, &ping), DHT_SEEN_SPARE);
	assert_null(ping);
	uint32_t good;
	assert_int_equal(dht_table_count(&t, 1002, &good), DHT_K);
	assert_int_equal(good, DHT_K);
	/* 15 minutes later all are questionable: the stalest (n[1]) gets pinged. */
	uint64_t later = 1001 + DHT_GOOD_SECS;
	assert_int_equal(dht_table_replied(&t, &n[DHT_K + 1], later, &ping), DHT_SEEN_SPARE);
	assert_non_null(ping);
	assert_memory_equal(ping->id, n[1].id, 20);
	assert_int_equal(dht_table_count(&t, later, &good), DHT_K);
	assert_int_equal(good, 0);
	/* n[1] fails three times: the newest spare takes its place. */
	for (int i = 0; i < DHT_MAX_FAILS; i++)
		dht_table_failed(&t, &n[1].addr);
	struct krpc_node out[DHT_K + 2];
	size_t k = dht_table_closest(&t, n[DHT_K + 1].id, out, DHT_K + 2);
	assert_int_equal(k, DHT_K);
	assert_memory_equal(out[0].id, n[DHT_K + 1].id, 20);
	for (size_t i = 0; i < k; i++)
		assert_memory_not_equal(out[i].id, n[1].id, 20);
	dht_table_free(&t);
}

/* Nodes change their id (BEP 42): a new id at a known address takes over;
 * a known id at another address is ignored while the known one is good. */
static void test_id_change_and_moves(void **state)
{
	struct dht_table t;
	uint8_t self[20];
	const struct dht_entry *ping;

	random_id(self);
	dht_table_init(&t, self, AF_INET, 10);
	struct krpc_node a = node_at(self, 3, 1), a2 = node_at(self, 5, 1);
	assert_int_equal(dht_table_replied(&t, &a, 10, &ping), DHT_SEEN_ADDED);
	assert_int_equal(dht_table_replied(&t, &a2, 11, &ping), DHT_SEEN_ADDED);
	assert_int_equal(dht_table_count(&t, 11, NULL), 1);
	assert_int_equal(dht_table_replied(&t, &a2, 12, &ping), DHT_SEEN_UPDATED);
	struct krpc_node moved = a2;
	moved.addr = addr4(9, 9);
	assert_int_equal(dht_table_replied(&t, &moved, 13, &ping), DHT_SEEN_IGNORED);
	/* Our own id and the other family are never added. */
	struct krpc_node me = { .addr = addr4(3, 3) };
	memcpy(me.id, self, 20);
	assert_int_equal(dht_table_replied(&t, &me, 14, &ping), DHT_SEEN_IGNORED);
	assert_false(dht_table_queried(&t, &me, 14));
	struct krpc_node v6 = node_at(self, 7, 4);
	v6.addr.family = AF_INET6;
	assert_int_equal(dht_table_replied(&t, &v6, 14, &ping), DHT_SEEN_IGNORED);
	dht_table_free(&t);
}

/* A querier is worth a ping while its bucket has room; known ones are
 * kept good by their queries after one answer. */
static void test_queried(void **state)
{
	struct dht_table t;
	uint8_t self[20];
	const struct dht_entry *ping;

	random_id(self);
	dht_table_init(&t, self, AF_INET, 100);
	struct krpc_node n = node_at(self, 1, 1);
	assert_true(dht_table_queried(&t, &n, 100));
	dht_table_replied(&t, &n, 100, &ping);
	assert_false(dht_table_queried(&t, &n, 100 + DHT_GOOD_SECS));
	uint32_t good;
	dht_table_count(&t, 100 + DHT_GOOD_SECS + 1, &good);
	assert_int_equal(good, 1);
	for (uint32_t i = 0; i < DHT_K - 1; i++) {
		struct krpc_node m = node_at(self, 1, 10 + i);
		dht_table_replied(&t, &m, 100, &ping);
	}
	struct krpc_node late = node_at(self, 1, 50);
	assert_false(dht_table_queried(&t, &late, 101));
	dht_table_free(&t);
}

/* closest() agrees with sorting every node by distance. */
static void test_closest_matches_brute_force(void **state)
{
	struct dht_table t;
	uint8_t self[20], target[20];
	const struct dht_entry *ping;
	struct krpc_node all[300], out[DHT_K];
	size_t n = 0;

	random_id(self);
	dht_table_init(&t, self, AF_INET, 5);
	for (uint32_t i = 0; i < 300; i++) {
		struct krpc_node c = { .addr = addr4(i + 1, 7) };
		random_id(c.id);
		if (dht_table_replied(&t, &c, 5, &ping) == DHT_SEEN_ADDED)
			all[n++] = c;
	}
	assert_int_equal(dht_table_count(&t, 5, NULL), n);
	random_id(target);
	for (size_t i = 1; i < n; i++) /* insertion sort by distance */
		for (size_t j = i; j > 0 && dht_id_closer(target, all[j].id, all[j - 1].id) < 0; j--) {
			struct krpc_node tmp = all[j];
			all[j] = all[j - 1];
			all[j - 1] = tmp;
		}
	assert_int_equal(dht_table_closest(&t, target, out, DHT_K), DHT_K);
	for (size_t i = 0; i < DHT_K; i++)
		assert_memory_equal(out[i].id, all[i].id, 20);
	dht_table_free(&t);
}

/* Buckets nobody touched for 15 minutes are refreshed once each, with a
 * target in their range; buckets deeper than any node are not. */
static void test_refresh_targets(void **state)
{
	struct dht_table t;
	uint8_t self[20], rnd[20], target[20];
	const struct dht_entry *ping;

	random_id(self);
	dht_table_init(&t, self, AF_INET, 0);
	struct krpc_node n = node_at(self, 2, 1);
	dht_table_replied(&t, &n, 0, &ping);
	assert_false(dht_table_refresh_target(&t, 10, rnd, target));
	unsigned seen[3] = { 0 };
	for (int i = 0; i < 5; i++) {
		random_id(rnd);
		if (!dht_table_refresh_target(&t, DHT_GOOD_SECS, rnd, target))
			break;
		unsigned p = dht_id_prefix(self, target);
		assert_true(p <= 2);
		seen[p]++;
	}
	assert_int_equal(seen[0] + seen[1] + seen[2], 3);
	assert_int_equal(seen[0] * seen[1] * seen[2], 1);
	dht_table_free(&t);
}

/* Loaded nodes are questionable until they answer; export puts good first. */
static void test_unverified_and_export(void **state)
{
	struct dht_table t;
	uint8_t self[20];
	const struct dht_entry *ping;
	struct krpc_node out[4], stale;

	random_id(self);
	dht_table_init(&t, self, AF_INET, 50);
	struct krpc_node a = node_at(self, 4, 1), b = node_at(self, 6, 2);
	assert_true(dht_table_add_unverified(&t, &a));
	assert_false(dht_table_add_unverified(&t, &a));
	dht_table_add_unverified(&t, &b);
	assert_true(dht_table_stale_node(&t, 60, 30, &stale));
	dht_table_pinged(&t, stale.id, 60);
	struct krpc_node other;
	assert_true(dht_table_stale_node(&t, 61, 30, &other));
	assert_memory_not_equal(other.id, stale.id, 20);
	dht_table_pinged(&t, other.id, 61);
	assert_false(dht_table_stale_node(&t, 62, 30, &other));
	dht_table_replied(&t, &b, 70, &ping);
	assert_int_equal(dht_table_export(&t, 70, out, 4), 2);
	assert_memory_equal(out[0].id, b.id, 20);
	dht_table_free(&t);
}

/* ---- lookups ---- */

static void test_lookup_order_alpha_done(void **state)
{
	struct dht_lookup l;
	uint8_t target[20];
	struct krpc_node far = { .addr = addr4(99, 1) };

	random_id(target);
	dht_lookup_init(&l, 1, AF_INET, KRPC_GET_PEERS, target);
	/* A bootstrap address ranks after any known id. */
	assert_true(dht_lookup_add(&l, &far, false));
	for (uint32_t i = 0; i < DHT_LOOKUP_WIDTH + 4; i++) {
		struct krpc_node n = node_at(target, i % 40, i + 1);
		dht_lookup_add(&l, &n, true);
	}
	assert_int_equal(l.n_cand, DHT_LOOKUP_WIDTH);
	for (size_t i = 1; i < l.n_cand; i++)
		assert_true(dht_id_closer(target, l.cand[i - 1].node.id, l.cand[i].node.id) < 0);
	/* Same address again: refused. */
	assert_false(dht_lookup_add(&l, &l.cand[3].node, true));
	struct dht_cand *c;
	int asked = 0;
	while ((c = dht_lookup_next(&l)) != NULL) {
		c->state = DHT_CAND_ASKED;
		l.asked++;
		asked++;
	}
	assert_int_equal(asked, DHT_ALPHA);
	assert_false(dht_lookup_done(&l));
	/* Answer or fail each asked one until the K closest are settled. */
	for (int round = 0; round < 40 && !dht_lookup_done(&l); round++) {
		for (size_t i = 0; i < l.n_cand; i++) {
			if (l.cand[i].state != DHT_CAND_ASKED)
				continue;
			l.asked--;
			if (i % 3 == 2) {
				l.cand[i].state = DHT_CAND_FAILED;
			} else {
				uint8_t id[20];
				memcpy(id, l.cand[i].node.id, 20);
				dht_lookup_answered(&l, &l.cand[i], id, (const uint8_t *)"tok", 3);
			}
			break;
		}
		while ((c = dht_lookup_next(&l)) != NULL) {
			c->state = DHT_CAND_ASKED;
			l.asked++;
		}
	}
	assert_true(dht_lookup_done(&l));
	size_t answered = 0;
	for (size_t i = 0; i < l.n_cand && answered < DHT_K; i++) {
		assert_int_not_equal(l.cand[i].state, DHT_CAND_NEW);
		answered += l.cand[i].state == DHT_CAND_ANSWERED;
	}
	assert_int_equal(answered, DHT_K);
}

/* ---- store ---- */

static void test_store_limits_and_expiry(void **state)
{
	struct dht_store s;
	uint8_t ih[20], ih2[20];
	struct krpc_addr out[8];

	random_id(ih);
	random_id(ih2);
	dht_store_init(&s, 3, 5);
	for (uint32_t i = 0; i < 3; i++) {
		struct krpc_addr p = addr4(100 + i, 1);
		assert_int_equal(dht_store_add(&s, ih, &p, i), DHT_STORE_ADDED);
	}
	struct krpc_addr p9 = addr4(9, 9);
	assert_int_equal(dht_store_add(&s, ih, &p9, 10), DHT_STORE_REPLACED);
	assert_int_equal(s.n_peers, 3);
	assert_int_equal(dht_store_add(&s, ih, &p9, 11), DHT_STORE_REFRESHED);
	/* The oldest (host 100, time 0) made room. */
	assert_int_equal(dht_store_get(&s, ih, AF_INET, 0, out, 8), 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_not_equal(load_u32be(out[i].ip), 0x0a000064);
	struct krpc_addr q = addr4(1, 1), r = addr4(2, 2), u = addr4(3, 3);
	assert_int_equal(dht_store_add(&s, ih2, &q, 20), DHT_STORE_ADDED);
	assert_int_equal(dht_store_add(&s, ih2, &r, 20), DHT_STORE_ADDED);
	assert_int_equal(dht_store_add(&s, ih2, &u, 20), DHT_STORE_FULL);
	assert_int_equal(s.n_peers, 5);
	assert_int_equal(dht_store_get(&s, ih2, AF_INET6, 0, out, 8), 0);
	/* A start offset rotates through a list; max cuts it. */
	assert_int_equal(dht_store_get(&s, ih2, AF_INET, 1, out, 1), 1);
	assert_memory_equal(&out[0], &r, sizeof r);
	dht_store_expire(&s, 11 + DHT_STORE_TTL - 1);
	assert_int_equal(s.n_peers, 3);
	assert_int_equal(s.n_hashes, 2);
	dht_store_expire(&s, 20 + DHT_STORE_TTL);
	assert_int_equal(s.n_peers, 0);
	assert_int_equal(s.n_hashes, 0);
	dht_store_free(&s);
}

/* ---- tokens and budgets ---- */

static void test_tokens(void **state)
{
	struct dht_tokens t;
	uint8_t rnd[32], tok[DHT_TOKEN_LEN];
	struct krpc_addr a = addr4(1, 1), a_other_port = addr4(1, 2), b = addr4(2, 1);

	for (size_t i = 0; i < sizeof rnd; i++)
		rnd[i] = next_byte();
	dht_tokens_init(&t, rnd, 0);
	dht_token_make(&t, &a, tok);
	assert_true(dht_token_check(&t, &a, tok, sizeof tok));
	assert_true(dht_token_check(&t, &a_other_port, tok, sizeof tok));
	assert_false(dht_token_check(&t, &b, tok, sizeof tok));
	assert_false(dht_token_check(&t, &a, tok, sizeof tok - 1));
	assert_false(dht_tokens_rotate(&t, rnd + 16, DHT_TOKEN_ROTATE - 1));
	rnd[16] ^= 1;
	assert_true(dht_tokens_rotate(&t, rnd + 16, DHT_TOKEN_ROTATE));
	assert_true(dht_token_check(&t, &a, tok, sizeof tok));
	rnd[17] ^= 1;
	assert_true(dht_tokens_rotate(&t, rnd + 16, 2 * DHT_TOKEN_ROTATE));
	assert_false(dht_token_check(&t, &a, tok, sizeof tok));
}

static void test_budget_per_host(void **state)
{
	struct dht_limit l;
	uint8_t key[16] = { 1 };
	int allowed = 0;

	dht_limit_init(&l, key, 5);
	/* One host from many ports shares one budget. */
	for (uint16_t port = 1; port <= 20; port++) {
		struct krpc_addr a = addr4(7, port);
		allowed += dht_limit_allow(&l, &a, 1000);
	}
	assert_int_equal(allowed, 5);
	struct krpc_addr other = addr4(8, 1), a = addr4(7, 1);
	assert_true(dht_limit_allow(&l, &other, 1000));
	assert_false(dht_limit_allow(&l, &a, 1100));
	assert_true(dht_limit_allow(&l, &a, 1200)); /* 5/s: one more after 200 ms */
	assert_false(dht_limit_allow(&l, &a, 1200));
	allowed = 0;
	for (int i = 0; i < 10; i++)
		allowed += dht_limit_allow(&l, &a, 60000);
	assert_int_equal(allowed, 5); /* a long pause refills one second's worth only */
	dht_limit_free(&l);
}

/* ---- the state file ---- */

static void test_state_round_trip_and_damage(void **state)
{
	uint8_t id[20];
	struct krpc_node n[3];
	struct dht_state st;
	struct sta_buf b = STA_BUF_INIT;
	char err[160];

	random_id(id);
	for (uint32_t i = 0; i < 3; i++) {
		random_id(n[i].id);
		n[i].addr = addr4(i + 1, (uint16_t)(6881 + i));
	}
	n[1].addr.family = AF_INET6;
	memset(n[1].addr.ip, 0x20, 16);
	dht_state_encode(&b, id, n, 3);
	assert_true(dht_state_decode(b.data, b.len, &st, err, sizeof err));
	assert_memory_equal(st.id, id, 20);
	assert_int_equal(st.n_nodes, 3);
	/* IPv4 first, then IPv6. */
	assert_memory_equal(&st.nodes[0], &n[0], sizeof n[0]);
	assert_memory_equal(&st.nodes[1], &n[2], sizeof n[0]);
	assert_memory_equal(&st.nodes[2], &n[1], sizeof n[0]);
	dht_state_free(&st);
	assert_false(dht_state_decode(b.data, b.len - 1, &st, err, sizeof err));
	assert_non_null(strstr(err, "not bencode"));
	assert_null(st.nodes);
	static const char short_node[] = "d2:id20:aaaaaaaaaaaaaaaaaaaa5:nodes3:abce";
	assert_false(dht_state_decode((const uint8_t *)short_node, sizeof short_node - 1, &st, err,
	                              sizeof err));
	assert_non_null(strstr(err, "26-byte"));
	static const char no_id[] = "d5:nodes0:e";
	assert_false(dht_state_decode((const uint8_t *)no_id, sizeof no_id - 1, &st, err,
	                              sizeof err));
	assert_non_null(strstr(err, "id"));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_metric),
		cmocka_unit_test(test_bucket_full_spare_and_replace),
		cmocka_unit_test(test_id_change_and_moves),
		cmocka_unit_test(test_queried),
		cmocka_unit_test(test_closest_matches_brute_force),
		cmocka_unit_test(test_refresh_targets),
		cmocka_unit_test(test_unverified_and_export),
		cmocka_unit_test(test_lookup_order_alpha_done),
		cmocka_unit_test(test_store_limits_and_expiry),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_budget_per_host),
		cmocka_unit_test(test_state_round_trip_and_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
