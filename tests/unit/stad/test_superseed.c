#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bitfield.h"
#include "superseed.h"

struct tpeer {
	struct superseed_peer sp;
	struct bitfield has, told;
};

static void tpeer_init(struct superseed *ss, struct tpeer *tp, uint32_t n)
{
	superseed_peer_add(ss, &tp->sp);
	bitfield_init(&tp->has, n);
	bitfield_init(&tp->told, n);
}

static void tpeer_free(struct tpeer *tp)
{
	bitfield_free(&tp->has);
	bitfield_free(&tp->told);
}

static size_t offer(struct superseed *ss, struct tpeer *tp, uint32_t credit, uint64_t now,
                    uint32_t *out)
{
	return superseed_offer(ss, &tp->sp, &tp->has, &tp->told, credit, now, out,
	                       SUPERSEED_MAX_OFFERS);
}

/* The peer fetched piece and says so: a copy, and other peers' offers of
 * it are settled. */
static void fetched(struct superseed *ss, struct tpeer *peers, size_t n, size_t who,
                    uint32_t piece)
{
	bitfield_set(&peers[who].has, piece);
	superseed_copy_add(ss, piece);
	for (size_t i = 0; i < n; i++)
		if (i != who)
			superseed_settle(ss, &peers[i].sp, piece);
}

static void test_each_piece_once_before_twice(void **state)
{
	enum { N = 12, P = 3 };
	struct superseed *ss = superseed_new(N, 7);
	struct tpeer peers[P];
	uint32_t out[SUPERSEED_MAX_OFFERS];
	uint32_t times[N] = { 0 };

	(void)state;
	for (int i = 0; i < P; i++)
		tpeer_init(ss, &peers[i], N);
	/* Four offers each: the twelve pieces, each once. */
	for (int i = 0; i < P; i++) {
		assert_int_equal(offer(ss, &peers[i], 4, 0, out), 4);
		for (int k = 0; k < 4; k++)
			times[out[k]]++;
		/* Credit spent: nothing more until something settles. */
		assert_int_equal(offer(ss, &peers[i], 4, 0, out), 0);
	}
	for (uint32_t k = 0; k < N; k++)
		assert_int_equal(times[k], 1);
	for (int i = 0; i < P; i++)
		tpeer_free(&peers[i]);
	superseed_free(ss);
}

static void test_settled_when_another_peer_has_it(void **state)
{
	enum { N = 8 };
	struct superseed *ss = superseed_new(N, 1);
	struct tpeer peers[3];
	uint32_t a, b[SUPERSEED_MAX_OFFERS];

	(void)state;
	for (int i = 0; i < 3; i++)
		tpeer_init(ss, &peers[i], N);
	assert_int_equal(offer(ss, &peers[0], 1, 0, &a), 1);
	/* Peer 0 itself reporting the piece settles nothing... */
	fetched(ss, peers, 3, 0, a);
	assert_int_equal(peers[0].sp.n_offers, 1);
	assert_int_equal(offer(ss, &peers[0], 1, 0, b), 0);
	/* ...peer 1 having it (from peer 0) does. */
	fetched(ss, peers, 3, 1, a);
	assert_int_equal(peers[0].sp.n_offers, 0);
	assert_int_equal(offer(ss, &peers[0], 1, 0, b), 1);
	assert_int_not_equal(b[0], a);
	/* Settling what was not offered is a no-op. */
	assert_false(superseed_settle(ss, &peers[2].sp, a));
	for (int i = 0; i < 3; i++)
		tpeer_free(&peers[i]);
	superseed_free(ss);
}

static void test_rarest_first(void **state)
{
	enum { N = 6 };
	struct superseed *ss = superseed_new(N, 3);
	struct tpeer peers[3];
	uint32_t out[SUPERSEED_MAX_OFFERS];

	(void)state;
	for (int i = 0; i < 3; i++)
		tpeer_init(ss, &peers[i], N);
	/* Pieces 0-3 are at peer 1 already, 0 and 1 at peer 2 too. */
	for (uint32_t k = 0; k < 4; k++) {
		bitfield_set(&peers[1].has, k);
		superseed_copy_add(ss, k);
	}
	for (uint32_t k = 0; k < 2; k++) {
		bitfield_set(&peers[2].has, k);
		superseed_copy_add(ss, k);
	}
	/* Peer 0 gets the pieces nobody has, then those one peer has. */
	assert_int_equal(offer(ss, &peers[0], 4, 0, out), 4);
	assert_true((out[0] == 4 && out[1] == 5) || (out[0] == 5 && out[1] == 4));
	assert_true(out[2] == 2 || out[2] == 3);
	assert_true(out[3] == 2 || out[3] == 3);
	assert_int_not_equal(out[2], out[3]);
	for (int i = 0; i < 3; i++)
		tpeer_free(&peers[i]);
	superseed_free(ss);
}

/* The peer fetched all of each of its offers (one by one): settled only
 * once every peer has the piece. Returns how many were settled. */
static uint32_t fetch_all(struct superseed *ss, struct tpeer *peers, size_t n, size_t who)
{
	uint32_t settled = 0;
	struct superseed_peer *sp = &peers[who].sp;

	for (uint32_t i = sp->n_offers; i-- > 0;) {
		uint32_t piece = sp->offer[i];
		assert_false(superseed_sent(sp, piece, 10000, 16384));
		assert_true(superseed_sent(sp, piece, 10000, 16384));
		assert_false(superseed_sent(sp, piece, 1, 16384));
		fetched(ss, peers, n, who, piece);
		settled += superseed_fetched(ss, sp, piece);
	}
	return settled;
}

static void test_nobody_to_pass_it_to(void **state)
{
	enum { N = 100 };
	struct superseed *ss = superseed_new(N, 5);
	struct tpeer lone;
	uint32_t out[SUPERSEED_MAX_OFFERS];
	size_t got = 0, n;

	(void)state;
	/* A lone leecher is paced by what it fetched, 3 pieces ahead. */
	tpeer_init(ss, &lone, N);
	while ((n = offer(ss, &lone, 3, 0, out)) > 0) {
		assert_true(n <= 3);
		got += n;
		assert_int_equal(fetch_all(ss, &lone, 1, 0), n);
	}
	assert_int_equal(got, N);
	assert_true(bitfield_all(&lone.told));
	superseed_peer_remove(ss, &lone.sp);
	tpeer_free(&lone);
	superseed_free(ss);

	/* Three peers, the first fetching its offers: the others lack them,
	 * so they wait to be passed on... */
	struct tpeer three[3];
	ss = superseed_new(N, 6);
	for (int i = 0; i < 3; i++)
		tpeer_init(ss, &three[i], N);
	assert_int_equal(offer(ss, &three[0], 2, 0, out), 2);
	assert_int_equal(fetch_all(ss, three, 3, 0), 0);
	assert_int_equal(three[0].sp.n_offers, 2);
	/* Sent bytes of a piece not offered do not count. */
	uint32_t untold = bitfield_next_clear(&three[0].told, 0);
	assert_true(untold < N);
	assert_false(superseed_sent(&three[0].sp, untold, 16384, 16384));
	/* ...until a whole copy is out (peer 1 has the rest): from then on
	 * what a peer fetched is settled at once. */
	for (uint32_t k = 0; k < N; k++) {
		if (bitfield_test(&three[0].has, k))
			continue;
		bitfield_set(&three[1].has, k);
		superseed_copy_add(ss, k);
	}
	assert_true(superseed_all_out(ss));
	assert_int_equal(three[0].sp.n_offers, 2);
	assert_int_equal(offer(ss, &three[2], 2, 0, out), 2);
	assert_int_equal(fetch_all(ss, three, 3, 2), 2);
	for (int i = 0; i < 3; i++)
		tpeer_free(&three[i]);
	superseed_free(ss);
}

static void test_patience_and_leaving(void **state)
{
	enum { N = 10 };
	struct superseed *ss = superseed_new(N, 9);
	struct tpeer peers[3];
	uint32_t out[SUPERSEED_MAX_OFFERS], first[2];

	(void)state;
	for (int i = 0; i < 3; i++)
		tpeer_init(ss, &peers[i], N);
	assert_int_equal(offer(ss, &peers[0], 2, 100, first), 2);
	assert_int_equal(superseed_expire(ss, &peers[0].sp, 100 + SUPERSEED_PATIENCE_S - 1), 0);
	assert_int_equal(superseed_expire(ss, &peers[0].sp, 100 + SUPERSEED_PATIENCE_S), 2);
	uint32_t held[2];
	assert_int_equal(offer(ss, &peers[0], 2, 200, held), 2);
	assert_true(held[0] != first[0] && held[0] != first[1]);
	/* Peer 1 leaves with two offers: their pieces count as offered no
	 * more. Peer 2 is then offered only pieces with no offer out (the
	 * expired, the left and the untouched ones), never the two peer 0
	 * holds. */
	assert_int_equal(offer(ss, &peers[1], 2, 200, out), 2);
	superseed_peer_remove(ss, &peers[1].sp);
	assert_int_equal(offer(ss, &peers[2], 8, 200, out), 8);
	for (int k = 0; k < 8; k++)
		assert_true(out[k] != held[0] && out[k] != held[1]);
	for (int i = 0; i < 3; i++)
		tpeer_free(&peers[i]);
	superseed_free(ss);
}

static void test_credit(void **state)
{
	(void)state;
	/* At least SUPERSEED_MIN_LEAD worth, growing with the rate. */
	assert_int_equal(superseed_credit(0, 64 * 1024), SUPERSEED_MIN_LEAD / (64 * 1024));
	assert_int_equal(superseed_credit(0, 4u << 20), 1);
	assert_int_equal(superseed_credit(1000000, 64 * 1024),
	                 1000000 * SUPERSEED_LEAD_S / (64 * 1024));
	assert_int_equal(superseed_credit(UINT32_MAX, 16384), SUPERSEED_MAX_OFFERS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_piece_once_before_twice),
		cmocka_unit_test(test_settled_when_another_peer_has_it),
		cmocka_unit_test(test_rarest_first),
		cmocka_unit_test(test_nobody_to_pass_it_to),
		cmocka_unit_test(test_patience_and_leaving),
		cmocka_unit_test(test_credit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
