#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rarity.h"

/* The linked pieces, lowest count first. */
static uint32_t walk(const struct rarity *r, uint32_t *out, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t c = 0; c < r->n_lists; c++)
		for (uint32_t i = rarity_first(r, c); i != RARITY_NONE && n < max; i = rarity_next(r, i))
			out[n++] = i;
	return n;
}

static bool in(const uint32_t *a, uint32_t n, uint32_t x)
{
	for (uint32_t i = 0; i < n; i++)
		if (a[i] == x)
			return true;
	return false;
}

static void test_lists_by_count(void **state)
{
	struct rarity r;
	uint32_t w[8];

	(void)state;
	rarity_init(&r, 5, 0);
	assert_int_equal(rarity_first(&r, 0), RARITY_NONE);
	rarity_link_all(&r);
	assert_int_equal(r.n_linked, 5);
	assert_int_equal(walk(&r, w, 8), 5);
	for (uint32_t i = 0; i < 5; i++)
		assert_true(in(w, 5, i));
	/* Counts move pieces: 1 and 3 up to 2, 4 up to 1. */
	rarity_inc(&r, 1);
	rarity_inc(&r, 1);
	rarity_inc(&r, 3);
	rarity_inc(&r, 3);
	rarity_inc(&r, 4);
	assert_int_equal(rarity_size(&r, 0), 2);
	assert_int_equal(rarity_size(&r, 1), 1);
	assert_int_equal(rarity_size(&r, 2), 2);
	assert_int_equal(walk(&r, w, 8), 5);
	assert_true(in(w, 2, 0) && in(w, 2, 2));
	assert_int_equal(w[2], 4);
	assert_true(in(w + 3, 2, 1) && in(w + 3, 2, 3));
	rarity_dec(&r, 3);
	assert_int_equal(rarity_count(&r, 3), 1);
	assert_int_equal(rarity_size(&r, 1), 2);
	rarity_fini(&r);
}

static void test_unlinked_pieces_keep_their_count(void **state)
{
	struct rarity r;
	uint32_t w[8];

	(void)state;
	rarity_init(&r, 3, 0);
	rarity_link(&r, 0);
	rarity_link(&r, 2);
	rarity_link(&r, 2); /* twice: no-op */
	assert_int_equal(r.n_linked, 2);
	rarity_inc(&r, 1); /* unlinked: counted, not listed */
	rarity_inc(&r, 1);
	assert_int_equal(rarity_count(&r, 1), 2);
	assert_int_equal(walk(&r, w, 8), 2);
	rarity_link(&r, 1);
	assert_int_equal(rarity_first(&r, 2), 1);
	rarity_unlink(&r, 0);
	rarity_unlink(&r, 0); /* twice: no-op */
	assert_int_equal(r.n_linked, 2);
	assert_int_equal(rarity_first(&r, 0), 2);
	assert_int_equal(rarity_next(&r, 2), RARITY_NONE);
	/* Never below zero. */
	rarity_dec(&r, 2);
	assert_int_equal(rarity_count(&r, 2), 0);
	assert_int_equal(rarity_size(&r, 0), 1);
	assert_int_equal(rarity_size(&r, 99), 0);
	rarity_link_all(&r); /* links only the unlinked one */
	assert_int_equal(r.n_linked, 3);
	assert_int_equal(walk(&r, w, 8), 3);
	rarity_fini(&r);
}

static void test_many_counts(void **state)
{
	struct rarity r;

	(void)state;
	rarity_init(&r, 2, 0);
	rarity_link(&r, 0);
	for (int k = 0; k < 1000; k++)
		rarity_inc(&r, 0);
	assert_int_equal(rarity_first(&r, 1000), 0);
	for (int k = 0; k < 1000; k++)
		rarity_dec(&r, 0);
	assert_int_equal(rarity_first(&r, 0), 0);
	assert_int_equal(rarity_size(&r, 1000), 0);
	rarity_fini(&r);
}

/* The layout is a random permutation of its own per seed, the same for
 * one seed; rarity_below stays in range. */
static void test_layout_per_seed(void **state)
{
	enum { N = 256 };
	struct rarity a, b, c;
	uint32_t wa[N], wb[N], wc[N];
	uint32_t same_pos = 0;

	(void)state;
	rarity_init(&a, N, 1);
	rarity_init(&b, N, 2);
	rarity_init(&c, N, 1);
	rarity_link_all(&a);
	rarity_link_all(&b);
	rarity_link_all(&c);
	assert_int_equal(walk(&a, wa, N), N);
	assert_int_equal(walk(&b, wb, N), N);
	assert_int_equal(walk(&c, wc, N), N);
	assert_memory_equal(wa, wc, sizeof wa);
	for (uint32_t i = 0; i < N; i++) {
		assert_true(in(wa, N, i));
		same_pos += wa[i] == wb[i];
	}
	assert_true(same_pos < 16);
	for (int k = 0; k < 1000; k++)
		assert_true(rarity_below(&a, 7) < 7);
	rarity_fini(&a);
	rarity_fini(&b);
	rarity_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists_by_count),
		cmocka_unit_test(test_unlinked_pieces_keep_their_count),
		cmocka_unit_test(test_many_counts),
		cmocka_unit_test(test_layout_per_seed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
