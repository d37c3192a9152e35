/* The piece-buffer pool: budget, recycling, the one-buffer guarantee, and
 * blame bookkeeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "piece_pool.h"

#define KIB 1024u

static void test_budget_refuses(void **state)
{
	struct piece_pool pp;
	struct piece_buf *a, *b, *c;

	piece_pool_init(&pp, 1024 * KIB);
	assert_int_equal(piece_pool_room(&pp, 512 * KIB), 2);
	a = piece_pool_get(&pp, 512 * KIB);
	assert_int_equal(piece_pool_room(&pp, 512 * KIB), 1);
	assert_int_equal(piece_pool_room(&pp, 256 * KIB), 2);
	b = piece_pool_get(&pp, 512 * KIB);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(piece_pool_room(&pp, 512 * KIB), 0);
	c = piece_pool_get(&pp, 512 * KIB);
	assert_null(c);
	assert_int_equal(pp.in_use, 1024 * KIB);
	piece_pool_put(&pp, a);
	c = piece_pool_get(&pp, 512 * KIB);
	assert_ptr_equal(c, a); /* recycled, not allocated again */
	assert_int_equal(pp.allocated, 1024 * KIB);
	piece_pool_put(&pp, b);
	piece_pool_put(&pp, c);
	assert_int_equal(pp.in_use, 0);
	piece_pool_fini(&pp);
	assert_int_equal(pp.allocated, 0);
}

static void test_oversized_piece_still_granted(void **state)
{
	struct piece_pool pp;
	struct piece_buf *a;

	piece_pool_init(&pp, 256 * KIB);
	assert_int_equal(piece_pool_room(&pp, 1024 * KIB), 1); /* the one-buffer guarantee */
	a = piece_pool_get(&pp, 1024 * KIB);
	assert_non_null(a);
	assert_int_equal(piece_pool_room(&pp, 1024 * KIB), 0);
	assert_int_equal(a->size, 1024 * KIB);
	assert_null(piece_pool_get(&pp, 16 * KIB));
	piece_pool_put(&pp, a);
	/* Over budget when put back: freed, not cached. */
	assert_int_equal(pp.allocated, 0);
	assert_null(pp.free_list);
	piece_pool_fini(&pp);
}

static void test_cached_buffers_trimmed_for_other_sizes(void **state)
{
	struct piece_pool pp;
	struct piece_buf *a, *b;

	piece_pool_init(&pp, 1024 * KIB);
	a = piece_pool_get(&pp, 1024 * KIB);
	piece_pool_put(&pp, a);
	assert_int_equal(pp.allocated, 1024 * KIB);
	/* A much smaller piece does not hold a 1 MiB buffer: the cached one
	 * is freed to make room. */
	b = piece_pool_get(&pp, 16 * KIB);
	assert_non_null(b);
	assert_int_equal(b->cap, 16 * KIB);
	assert_int_equal(pp.allocated, 16 * KIB);
	piece_pool_put(&pp, b);
	piece_pool_set_budget(&pp, 0);
	assert_int_equal(pp.allocated, 0);
	piece_pool_fini(&pp);
}

static void test_get_clears_bookkeeping(void **state)
{
	struct piece_pool pp;
	struct piece_buf *a;

	piece_pool_init(&pp, 64 * KIB);
	a = piece_pool_get(&pp, 32 * KIB);
	a->piece = 7;
	a->verifying = true;
	piece_buf_contrib(a, 3);
	piece_pool_put(&pp, a);
	a = piece_pool_get(&pp, 32 * KIB);
	assert_int_equal(a->piece, 0);
	assert_false(a->verifying);
	assert_int_equal(a->n_contrib, 0);
	assert_int_equal(a->size, 32 * KIB);
	piece_pool_put(&pp, a);
	piece_pool_fini(&pp);
}

static void test_contributors(void **state)
{
	struct piece_pool pp;
	struct piece_buf *a;

	piece_pool_init(&pp, 64 * KIB);
	a = piece_pool_get(&pp, 16 * KIB);
	piece_buf_contrib(a, 5);
	piece_buf_contrib(a, 5);
	assert_int_equal(a->n_contrib, 1);
	for (uint32_t t = 10; t < 10 + PIECE_MAX_CONTRIB; t++)
		piece_buf_contrib(a, t);
	assert_int_equal(a->n_contrib, PIECE_MAX_CONTRIB);
	assert_true(a->many_contrib);
	piece_pool_put(&pp, a);
	piece_pool_fini(&pp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget_refuses),
		cmocka_unit_test(test_oversized_piece_still_granted),
		cmocka_unit_test(test_cached_buffers_trimmed_for_other_sizes),
		cmocka_unit_test(test_get_clears_bookkeeping),
		cmocka_unit_test(test_contributors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
