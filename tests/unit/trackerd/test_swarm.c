#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "swarm.h"

static const uint8_t key[16] = { 1, 2, 3 };
static const uint8_t hash_a[20] = { 0xaa };
static const uint8_t hash_b[20] = { 0xbb };

static struct swarm_announce ann(const uint8_t *hash, uint8_t last_octet, uint16_t port,
                                 bool seeder, enum tracker_event ev, uint32_t now)
{
	struct swarm_announce a = {
		.info_hash = hash, .event = ev, .seeder = seeder, .numwant = 50, .now = now,
	};
	a.peer.family = AF_INET;
	a.peer.addr[0] = 10;
	a.peer.addr[3] = last_octet;
	a.peer.port = port;
	return a;
}

static struct swarm_counts do_announce(struct swarm_table *t, struct swarm_announce a,
                                       struct tracker_peer *out, size_t *n)
{
	struct swarm_counts c;
	size_t dummy;

	if (out == NULL)
		a.numwant = 0;
	assert_int_equal(swarm_announce(t, &a, out, n ? n : &dummy, &c), SWARM_OK);
	return c;
}

static void test_counts_and_identity(void **state)
{
	struct swarm_table *t = swarm_table_new(key, 100, 100);
	struct tracker_peer peers[64];
	struct swarm_counts c;
	size_t n;

	c = do_announce(t, ann(hash_a, 1, 6881, false, TRACKER_EVENT_STARTED, 10), peers, &n);
	assert_int_equal(c.leechers, 1);
	assert_int_equal(n, 0); /* never the requester itself */
	/* Same address and port again: the same peer, not a second one. */
	c = do_announce(t, ann(hash_a, 1, 6881, false, TRACKER_EVENT_NONE, 11), peers, &n);
	assert_int_equal(c.leechers, 1);
	/* Same address, other port: another peer. */
	c = do_announce(t, ann(hash_a, 1, 6882, true, TRACKER_EVENT_NONE, 11), peers, &n);
	assert_int_equal(c.leechers, 1);
	assert_int_equal(c.seeders, 1);
	/* The seeder got the leecher. */
	assert_int_equal(n, 1);
	assert_int_equal(peers[0].port, 6881);
	assert_int_equal(peers[0].family, AF_INET);
	assert_int_equal(peers[0].addr[3], 1);
	swarm_table_free(t);
}

static void test_completed_counted_once(void **state)
{
	struct swarm_table *t = swarm_table_new(key, 100, 100);
	struct swarm_counts c;

	do_announce(t, ann(hash_a, 1, 1, false, TRACKER_EVENT_STARTED, 1), NULL, NULL);
	c = do_announce(t, ann(hash_a, 1, 1, true, TRACKER_EVENT_COMPLETED, 2), NULL, NULL);
	assert_int_equal(c.completed, 1);
	assert_int_equal(c.seeders, 1);
	assert_int_equal(c.leechers, 0);
	c = do_announce(t, ann(hash_a, 1, 1, true, TRACKER_EVENT_COMPLETED, 3), NULL, NULL);
	assert_int_equal(c.completed, 1);
	c = do_announce(t, ann(hash_a, 2, 1, false, TRACKER_EVENT_COMPLETED, 3), NULL, NULL);
	assert_int_equal(c.completed, 2);
	/* "completed" makes a seeder even if left was not 0 */
	assert_int_equal(c.seeders, 2);
	swarm_table_free(t);
}

static void test_stopped_removes(void **state)
{
	struct swarm_table *t = swarm_table_new(key, 100, 100);
	struct swarm_counts c;
	struct tracker_peer peers[8];
	size_t n;

	do_announce(t, ann(hash_a, 1, 1, true, TRACKER_EVENT_NONE, 1), NULL, NULL);
	do_announce(t, ann(hash_a, 2, 1, false, TRACKER_EVENT_NONE, 1), NULL, NULL);
	c = do_announce(t, ann(hash_a, 1, 1, true, TRACKER_EVENT_STOPPED, 2), peers, &n);
	assert_int_equal(c.seeders, 0);
	assert_int_equal(c.leechers, 1);
	assert_int_equal(n, 0); /* a stopping peer gets no peers */
	/* Stopping an unknown peer or swarm changes nothing and creates nothing. */
	c = do_announce(t, ann(hash_b, 1, 1, true, TRACKER_EVENT_STOPPED, 2), peers, &n);
	assert_int_equal(c.seeders + c.leechers, 0);
	struct swarm_totals tot;
	swarm_totals(t, &tot);
	assert_int_equal(tot.swarms, 1);
	assert_int_equal(tot.leechers, 1);
	swarm_table_free(t);
}

static void test_limits(void **state)
{
	struct swarm_table *t = swarm_table_new(key, 1, 2);
	struct swarm_announce a = ann(hash_b, 1, 1, false, TRACKER_EVENT_NONE, 1);
	struct swarm_counts c;
	size_t n;

	do_announce(t, ann(hash_a, 1, 1, false, TRACKER_EVENT_NONE, 1), NULL, NULL);
	assert_int_equal(swarm_announce(t, &a, NULL, &n, &c), SWARM_TOO_MANY_SWARMS);
	do_announce(t, ann(hash_a, 2, 1, false, TRACKER_EVENT_NONE, 1), NULL, NULL);
	a = ann(hash_a, 3, 1, false, TRACKER_EVENT_NONE, 1);
	assert_int_equal(swarm_announce(t, &a, NULL, &n, &c), SWARM_FULL);
	/* A known peer can still re-announce in a full swarm. */
	do_announce(t, ann(hash_a, 2, 1, true, TRACKER_EVENT_NONE, 2), NULL, NULL);
	swarm_set_limits(t, 2, 3);
	do_announce(t, ann(hash_b, 1, 1, false, TRACKER_EVENT_NONE, 1), NULL, NULL);
	do_announce(t, ann(hash_a, 3, 1, false, TRACKER_EVENT_NONE, 1), NULL, NULL);
	swarm_table_free(t);
}

static void test_numwant_random_and_no_self(void **state)
{
	struct swarm_table *t = swarm_table_new(key, 10, 1000);
	struct tracker_peer peers[64];
	unsigned first_seen[201] = { 0 };
	size_t n;

	for (int i = 1; i <= 200; i++)
		do_announce(t, ann(hash_a, (uint8_t)i, 1000, false, TRACKER_EVENT_NONE, 1), NULL,
		            NULL);
	for (int round = 0; round < 200; round++) {
		struct swarm_announce a = ann(hash_a, 7, 1000, false, TRACKER_EVENT_NONE, 2);
		a.numwant = 30;
		do_announce(t, a, peers, &n);
		assert_int_equal(n, 30);
		for (size_t i = 0; i < n; i++) {
			assert_false(peers[i].addr[3] == 7);
			for (size_t j = 0; j < i; j++)
				assert_false(peers[i].addr[3] == peers[j].addr[3]);
		}
		first_seen[peers[0].addr[3]]++;
	}
	/* Random starts: 200 rounds must not all begin at the same peer. */
	unsigned distinct = 0;
	for (int i = 0; i <= 200; i++)
		distinct += first_seen[i] != 0;
	assert_true(distinct > 20);
	/* numwant larger than the swarm: everyone but the requester. */
	struct swarm_announce a = ann(hash_a, 7, 1000, false, TRACKER_EVENT_NONE, 2);
	struct tracker_peer many[300];
	a.numwant = 300;
	do_announce(t, a, many, &n);
	assert_int_equal(n, 199);
	swarm_table_free(t);
}

static void test_seeder_gets_only_leechers_and_family_filter(void **state)
{
	struct swarm_table *t = swarm_table_new(key, 10, 1000);
	struct tracker_peer peers[64];
	size_t n;

	for (int i = 1; i <= 10; i++)
		do_announce(t, ann(hash_a, (uint8_t)i, 1, i <= 8, TRACKER_EVENT_NONE, 1), NULL, NULL);
	struct swarm_announce v6 = ann(hash_a, 0, 2, false, TRACKER_EVENT_NONE, 1);
	v6.peer.family = AF_INET6;
	memset(v6.peer.addr, 0x20, 16);
	do_announce(t, v6, NULL, NULL);
	do_announce(t, ann(hash_a, 50, 1, true, TRACKER_EVENT_NONE, 1), peers, &n);
	assert_int_equal(n, 3); /* leechers 9, 10 and the IPv6 one */
	for (size_t i = 0; i < n; i++)
		assert_true(peers[i].family == AF_INET6 || peers[i].addr[3] >= 9);
	struct swarm_announce only4 = ann(hash_a, 51, 1, false, TRACKER_EVENT_NONE, 1);
	only4.want_family = AF_INET;
	do_announce(t, only4, peers, &n);
	assert_int_equal(n, 11); /* 8 seeders + 2 leechers + the seeder .50 */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(peers[i].family, AF_INET);
	only4.want_family = AF_INET6;
	do_announce(t, only4, peers, &n);
	assert_int_equal(n, 1);
	assert_int_equal(peers[0].family, AF_INET6);
	assert_int_equal(peers[0].port, 2);
	swarm_table_free(t);
}

/* aria2 fetching a magnet link's metadata announces "started" with
 * left=0: it must be told of seeders, or it never finds one. */
static void test_started_seeder_gets_seeders(void **state)
{
	struct swarm_table *t = swarm_table_new(key, 10, 1000);
	struct tracker_peer peers[64];
	size_t n;

	for (int i = 1; i <= 3; i++)
		do_announce(t, ann(hash_a, (uint8_t)i, 1, true, TRACKER_EVENT_NONE, 1), NULL, NULL);
	do_announce(t, ann(hash_a, 50, 1, true, TRACKER_EVENT_STARTED, 1), peers, &n);
	assert_int_equal(n, 3);
	do_announce(t, ann(hash_a, 50, 1, true, TRACKER_EVENT_NONE, 1), peers, &n);
	assert_int_equal(n, 0);
	swarm_table_free(t);
}

static void test_is_seeder(void **state)
{
	struct swarm_table *t = swarm_table_new(key, 10, 100);
	uint8_t addr[16] = { 10, 0, 0, 5 };

	do_announce(t, ann(hash_a, 5, 999, false, TRACKER_EVENT_NONE, 1), NULL, NULL);
	assert_false(swarm_is_seeder(t, hash_a, AF_INET, addr));
	do_announce(t, ann(hash_a, 5, 1000, true, TRACKER_EVENT_NONE, 1), NULL, NULL);
	assert_true(swarm_is_seeder(t, hash_a, AF_INET, addr));
	addr[3] = 4;
	assert_false(swarm_is_seeder(t, hash_a, AF_INET, addr));
	assert_false(swarm_is_seeder(t, hash_b, AF_INET, addr));
	swarm_table_free(t);
}

static void test_sweep_expires_and_frees(void **state)
{
	struct swarm_table *t = swarm_table_new(key, 100000, 100);
	struct swarm_totals tot;
	uint8_t h[20] = { 0 };

	/* Many swarms so shards hold long probe runs that deletion must keep
	 * intact. */
	for (int i = 0; i < 3000; i++) {
		h[0] = (uint8_t)i;
		h[1] = (uint8_t)(i >> 8);
		do_announce(t, ann(h, 1, 1, false, TRACKER_EVENT_NONE, i % 2 ? 100 : 200), NULL,
		            NULL);
	}
	assert_int_equal(swarm_sweep(t, 250, 100, 0, SWARM_SHARDS), 1500);
	swarm_totals(t, &tot);
	assert_int_equal(tot.swarms, 1500);
	assert_int_equal(tot.leechers, 1500);
	for (int i = 0; i < 3000; i++) {
		struct swarm_counts c;
		h[0] = (uint8_t)i;
		h[1] = (uint8_t)(i >> 8);
		swarm_scrape(t, h, &c);
		assert_int_equal(c.leechers, i % 2 ? 0 : 1);
	}
	/* Freed swarms give their slots back to max_swarms. */
	swarm_set_limits(t, 1501, 100);
	h[0] = h[1] = 0xff;
	h[2] = 1;
	do_announce(t, ann(h, 1, 1, false, TRACKER_EVENT_NONE, 300), NULL, NULL);
	swarm_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_identity),
		cmocka_unit_test(test_completed_counted_once),
		cmocka_unit_test(test_stopped_removes),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_numwant_random_and_no_self),
		cmocka_unit_test(test_seeder_gets_only_leechers_and_family_filter),
		cmocka_unit_test(test_started_seeder_gets_seeders),
		cmocka_unit_test(test_is_seeder),
		cmocka_unit_test(test_sweep_expires_and_frees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
