#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "choker.h"

/* Random source for tests: returns a scripted value (mod bound) and counts
 * calls, or runs an LCG when no script is left. */
struct script {
	const uint32_t *vals;
	size_t n, pos;
	uint32_t lcg;
	uint32_t last_bound;
	unsigned calls;
};

static uint32_t script_rand(void *ctx, uint32_t bound)
{
	struct script *s = ctx;

	assert_true(bound > 0);
	s->calls++;
	s->last_bound = bound;
	if (s->pos < s->n)
		return s->vals[s->pos++] % bound;
	s->lcg = s->lcg * 1103515245u + 12345u;
	return (s->lcg >> 16) % bound;
}

static struct choker_params params(enum choker_mode mode, uint32_t slots, uint64_t round,
                                   struct script *s)
{
	return (struct choker_params){ mode, slots, round, script_rand, s };
}

static struct choker_peer leecher(uint32_t tag, uint64_t from, uint64_t to)
{
	return (struct choker_peer){ .tag = tag, .rate_from_peer = from, .rate_to_peer = to,
	                             .interested = true };
}

static size_t count_optimistic(const struct choker_peer *pr, size_t n, size_t *which)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (pr[i].optimistic) {
			c++;
			*which = i;
			assert_true(pr[i].unchoked);
		}
	return c;
}

static void test_leeching_ranks_by_download(void **state)
{
	struct choker_peer pr[6] = {
		leecher(0, 100, 9000), leecher(1, 500, 0), leecher(2, 300, 0),
		leecher(3, 50, 0), leecher(4, 400, 0), leecher(5, 10, 0),
	};
	uint32_t pick = 1; /* second choked candidate in order: 3 (0, 3, 5) */
	struct script s = { &pick, 1, 0, 0, 0, 0 };
	struct choker_params prm = params(CHOKER_LEECHING, 4, 0, &s);

	assert_int_equal(choker_run(pr, 6, &prm), 4);
	assert_true(pr[1].unchoked && pr[4].unchoked && pr[2].unchoked);
	assert_false(pr[0].unchoked); /* our upload rate does not count here */
	size_t opt = 6;
	assert_int_equal(count_optimistic(pr, 6, &opt), 1);
	assert_int_equal(opt, 3);
	assert_int_equal(s.last_bound, 3);
	assert_false(pr[5].unchoked);
}

static void test_seeding_ranks_by_upload(void **state)
{
	struct choker_peer pr[5] = {
		leecher(0, 900, 10), leecher(1, 0, 700), leecher(2, 0, 20),
		leecher(3, 0, 800), leecher(4, 0, 5),
	};
	uint32_t pick = 0;
	struct script s = { &pick, 1, 0, 0, 0, 0 };
	struct choker_params prm = params(CHOKER_SEEDING, 3, 0, &s);

	assert_int_equal(choker_run(pr, 5, &prm), 3);
	assert_true(pr[3].unchoked && pr[1].unchoked);
	size_t opt = 5;
	assert_int_equal(count_optimistic(pr, 5, &opt), 1);
	assert_int_equal(opt, 0); /* the first of 0, 2, 4 */
	assert_false(pr[2].unchoked || pr[4].unchoked);
}

static void test_uninterested_seeds_snubbed(void **state)
{
	struct choker_peer pr[5] = {
		leecher(0, 9000, 0), leecher(1, 8000, 0), leecher(2, 7000, 0),
		leecher(3, 1, 0), leecher(4, 2, 0),
	};
	pr[0].interested = false;
	pr[1].is_seed = true;
	pr[2].snubbed = true;
	struct script s = { NULL, 0, 0, 7, 0, 0 };
	struct choker_params prm = params(CHOKER_LEECHING, 4, 0, &s);

	/* Regular slots: only 3 and 4 qualify. The optimistic one goes to the
	 * snubbed peer, the only interested one left. */
	assert_int_equal(choker_run(pr, 5, &prm), 3);
	assert_false(pr[0].unchoked);
	assert_false(pr[1].unchoked);
	assert_true(pr[3].unchoked && !pr[3].optimistic);
	assert_true(pr[4].unchoked && !pr[4].optimistic);
	assert_true(pr[2].unchoked && pr[2].optimistic);
	assert_int_equal(s.last_bound, 1);
}

static void test_optimistic_rotation(void **state)
{
	struct choker_peer pr[5] = {
		leecher(0, 100, 0), leecher(1, 0, 0), leecher(2, 0, 0),
		leecher(3, 0, 0), leecher(4, 0, 0),
	};
	/* Candidates 1..4 tie at rate 0 with slots 2 (1 regular): the regular
	 * slot is peer 0; optimistic from {1, 2, 3, 4}. */
	uint32_t picks[] = { 2, 0 };
	struct script s = { picks, 2, 0, 0, 0, 0 };
	struct choker_params prm = params(CHOKER_LEECHING, 2, 0, &s);
	size_t opt = 5;

	choker_run(pr, 5, &prm);
	assert_int_equal(count_optimistic(pr, 5, &opt), 1);
	assert_int_equal(opt, 3);
	/* Rounds 1 and 2 keep it without drawing. */
	for (uint64_t r = 1; r <= 2; r++) {
		prm.round = r;
		choker_run(pr, 5, &prm);
		assert_int_equal(count_optimistic(pr, 5, &opt), 1);
		assert_int_equal(opt, 3);
	}
	assert_int_equal(s.calls, 1);
	/* Round 3 rotates. */
	prm.round = 3;
	choker_run(pr, 5, &prm);
	assert_int_equal(s.calls, 2);
	assert_int_equal(count_optimistic(pr, 5, &opt), 1);
	assert_int_equal(opt, 1);
	assert_false(pr[3].unchoked);
	/* Losing interest ends it at once, mid-period. */
	pr[1].interested = false;
	prm.round = 4;
	choker_run(pr, 5, &prm);
	assert_int_equal(s.calls, 3);
	assert_false(pr[1].unchoked);
	assert_int_equal(count_optimistic(pr, 5, &opt), 1);
	assert_int_not_equal(opt, 1);
	assert_int_not_equal(opt, 0);
}

static void test_optimistic_wins_regular_slot(void **state)
{
	struct choker_peer pr[4] = {
		leecher(0, 100, 0), leecher(1, 50, 0), leecher(2, 0, 0), leecher(3, 0, 0),
	};
	pr[3].unchoked = true;
	pr[3].optimistic = true;
	pr[3].rate_from_peer = 1000; /* reciprocated well: now ranks first */
	uint32_t pick = 0;
	struct script s = { &pick, 1, 0, 0, 0, 0 };
	struct choker_params prm = params(CHOKER_LEECHING, 3, 1, &s);
	size_t opt = 4;

	assert_int_equal(choker_run(pr, 4, &prm), 3);
	assert_true(pr[3].unchoked && !pr[3].optimistic);
	assert_true(pr[0].unchoked && !pr[0].optimistic);
	/* A new optimistic unchoke is drawn although it is round 1. */
	assert_int_equal(s.calls, 1);
	assert_int_equal(count_optimistic(pr, 4, &opt), 1);
	assert_int_equal(opt, 1);
	assert_false(pr[2].unchoked);
}

static void test_ties_keep_unchoked(void **state)
{
	struct choker_peer pr[4] = {
		leecher(0, 100, 0), leecher(1, 100, 0), leecher(2, 100, 0), leecher(3, 100, 0),
	};
	pr[2].unchoked = true;
	struct script s = { NULL, 0, 0, 1, 0, 0 };
	struct choker_params prm = params(CHOKER_LEECHING, 2, 0, &s);

	choker_run(pr, 4, &prm);
	assert_true(pr[2].unchoked && !pr[2].optimistic);
}

static void test_new_peers_weighted(void **state)
{
	struct choker_peer pr[3] = { leecher(0, 0, 0), leecher(1, 0, 0), leecher(2, 0, 0) };
	pr[1].is_new = true;
	/* Weights 1, 3, 1: draws 0 | 1 2 3 | 4. */
	uint32_t expect[5] = { 0, 1, 1, 1, 2 };
	for (uint32_t v = 0; v < 5; v++) {
		struct script s = { &v, 1, 0, 0, 0, 0 };
		struct choker_params prm = params(CHOKER_LEECHING, 1, 0, &s);
		for (int i = 0; i < 3; i++)
			pr[i].unchoked = pr[i].optimistic = false;
		assert_int_equal(choker_run(pr, 3, &prm), 1);
		assert_int_equal(s.last_bound, 5);
		size_t opt = 3;
		assert_int_equal(count_optimistic(pr, 3, &opt), 1);
		assert_int_equal(opt, expect[v]);
	}
}

static void test_slot_limits(void **state)
{
	struct choker_peer pr[3] = { leecher(0, 5, 0), leecher(1, 6, 0), leecher(2, 7, 0) };
	struct script s = { NULL, 0, 0, 3, 0, 0 };
	struct choker_params prm = params(CHOKER_LEECHING, 0, 0, &s);

	pr[0].unchoked = pr[0].optimistic = true;
	assert_int_equal(choker_run(pr, 3, &prm), 0);
	for (int i = 0; i < 3; i++)
		assert_false(pr[i].unchoked || pr[i].optimistic);
	assert_int_equal(s.calls, 0);

	/* More slots than peers: all get regular slots, none is left over for
	 * an optimistic unchoke, and nothing is drawn. */
	prm.upload_slots = 10;
	assert_int_equal(choker_run(pr, 3, &prm), 3);
	size_t opt = 3;
	assert_int_equal(count_optimistic(pr, 3, &opt), 0);
	assert_int_equal(s.calls, 0);

	assert_int_equal(choker_run(NULL, 0, &prm), 0);
}

/* Leeching: peers that send about as much as the last regular one are
 * reciprocated too, up to upload_slots more; those sending far less or
 * nothing are not (only the optimistic slot may pick them). Seeding has
 * no such extension. */
static void test_equal_contributors_reciprocated(void **state)
{
	struct choker_peer pr[10] = {
		leecher(0, 1000, 0), leecher(1, 950, 0), leecher(2, 900, 0),
		leecher(3, 880, 0), leecher(4, 800, 0), leecher(5, 760, 0),
		leecher(6, 700, 0), leecher(7, 600, 0), leecher(8, 0, 0),
		leecher(9, 1, 0),
	};
	struct script s = { NULL, 0, 0, 7, 0, 0 };
	struct choker_params prm = params(CHOKER_LEECHING, 3, 0, &s);

	(void)state;
	/* Regular: 0, 1 (cut 950); 3/4 of it is 712: 2-5 qualify, and two
	 * slots' worth (3 more) take 2, 3, 4; 5 and 6 do not. */
	choker_run(pr, 10, &prm);
	for (int i = 0; i <= 4; i++)
		assert_true(pr[i].unchoked && !pr[i].optimistic);
	size_t opt = 10;
	assert_int_equal(count_optimistic(pr, 10, &opt), 1);
	assert_true(opt >= 5);
	for (int i = 5; i < 10; i++)
		assert_true(pr[i].unchoked == (i == (int)opt));

	/* Seeding: the two best by our rate to them, and the optimistic. */
	struct choker_peer sd[6] = {
		leecher(0, 0, 1000), leecher(1, 0, 990), leecher(2, 0, 980),
		leecher(3, 0, 970), leecher(4, 0, 960), leecher(5, 0, 950),
	};
	prm = params(CHOKER_SEEDING, 3, 0, &s);
	assert_int_equal(choker_run(sd, 6, &prm), 3);
	assert_true(sd[0].unchoked && sd[1].unchoked);
}

/* Slots that came free between rounds go to the best ranked waiting
 * peers: a peer that lost interest does not hold one, seeds and peers
 * that want nothing are never unchoked, snubbed ones come last. */
static void test_refill(void **state)
{
	struct choker_peer pr[7] = {
		leecher(0, 100, 0), leecher(1, 900, 0), leecher(2, 50, 0),
		leecher(3, 700, 0), leecher(4, 800, 0), leecher(5, 999, 0),
		leecher(6, 600, 0),
	};
	struct choker_params prm = params(CHOKER_LEECHING, 3, 0, NULL);

	(void)state;
	pr[0].unchoked = true;                           /* busy */
	pr[1].unchoked = true, pr[1].interested = false; /* unchoked, slot free */
	pr[4].snubbed = true;
	pr[5].is_seed = true;
	pr[6].interested = false;
	/* Two free slots: 3 (700) first, then 2 (50) before snubbed 4. */
	assert_int_equal(choker_refill(pr, 7, &prm), 2);
	assert_true(pr[3].unchoked && pr[2].unchoked);
	assert_false(pr[4].unchoked || pr[5].unchoked || pr[6].unchoked);
	assert_true(pr[1].unchoked); /* kept till the next round */
	/* All busy: nothing more. */
	assert_int_equal(choker_refill(pr, 7, &prm), 0);
	/* Seeding: by our upload rate to them. */
	struct choker_peer sd[3] = { leecher(0, 0, 10), leecher(1, 0, 30), leecher(2, 0, 20) };
	prm = params(CHOKER_SEEDING, 1, 0, NULL);
	assert_int_equal(choker_refill(sd, 3, &prm), 1);
	assert_true(sd[1].unchoked);
	assert_false(sd[0].unchoked || sd[2].unchoked);
	/* No slots at all: nobody. */
	prm = params(CHOKER_SEEDING, 0, 0, NULL);
	sd[1].unchoked = false;
	assert_int_equal(choker_refill(sd, 3, &prm), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leeching_ranks_by_download),
		cmocka_unit_test(test_seeding_ranks_by_upload),
		cmocka_unit_test(test_uninterested_seeds_snubbed),
		cmocka_unit_test(test_optimistic_rotation),
		cmocka_unit_test(test_optimistic_wins_regular_slot),
		cmocka_unit_test(test_ties_keep_unchoked),
		cmocka_unit_test(test_new_peers_weighted),
		cmocka_unit_test(test_slot_limits),
		cmocka_unit_test(test_refill),
		cmocka_unit_test(test_equal_contributors_reciprocated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
