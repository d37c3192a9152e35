#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bitfield.h"

static const uint32_t sizes[] = { 1, 7, 8, 9, 63, 64, 65, 127, 128, 129, 1000 };

/* Deterministic pseudo-random bits for comparing against a plain bool array. */
static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

static uint32_t ref_next(const bool *ref, uint32_t n, uint32_t from, bool want)
{
	for (uint32_t i = from; i < n; i++)
		if (ref[i] == want)
			return i;
	return n;
}

static void test_set_clear_count(void **state)
{
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		uint32_t n = sizes[k];
		struct bitfield bf;
		bitfield_init(&bf, n);
		assert_true(bitfield_none(&bf));
		assert_false(bitfield_all(&bf));
		assert_true(bitfield_set(&bf, n - 1));
		assert_false(bitfield_set(&bf, n - 1));
		assert_true(bitfield_test(&bf, n - 1));
		assert_int_equal(bitfield_count(&bf), 1);
		assert_true(bitfield_set(&bf, 0) || n == 1);
		assert_int_equal(bitfield_count(&bf), n == 1 ? 1 : 2);
		assert_true(bitfield_clear(&bf, n - 1));
		assert_false(bitfield_clear(&bf, n - 1));
		assert_false(bitfield_test(&bf, n - 1));
		for (uint32_t i = 0; i < n; i++)
			bitfield_set(&bf, i);
		assert_true(bitfield_all(&bf));
		assert_int_equal(bitfield_count(&bf), n);
		bitfield_clear_all(&bf);
		assert_true(bitfield_none(&bf));
		assert_int_equal(bitfield_next_set(&bf, 0), n);
		bitfield_set_all(&bf);
		assert_true(bitfield_all(&bf));
		assert_int_equal(bitfield_next_clear(&bf, 0), n);
		bitfield_free(&bf);
	}
}

static void test_set_all_keeps_spare_bits_clear(void **state)
{
	struct bitfield bf;
	uint8_t wire[9];

	bitfield_init(&bf, 65);
	bitfield_set_all(&bf);
	bitfield_export(&bf, wire);
	for (int i = 0; i < 8; i++)
		assert_int_equal(wire[i], 0xff);
	assert_int_equal(wire[8], 0x80);
	bitfield_free(&bf);
}

static void test_wire_order(void **state)
{
	struct bitfield bf;
	uint8_t wire[2] = { 0x80 | 0x01, 0x40 };
	uint8_t out[2];

	bitfield_init(&bf, 10);
	assert_true(bitfield_import(&bf, wire, sizeof wire));
	assert_int_equal(bitfield_count(&bf), 3);
	assert_true(bitfield_test(&bf, 0));
	assert_true(bitfield_test(&bf, 7));
	assert_true(bitfield_test(&bf, 9));
	assert_false(bitfield_test(&bf, 8));
	assert_int_equal(bitfield_next_set(&bf, 1), 7);
	assert_int_equal(bitfield_next_set(&bf, 8), 9);
	bitfield_export(&bf, out);
	assert_memory_equal(out, wire, sizeof wire);
	bitfield_free(&bf);
}

static void test_import_rejects_bad_input(void **state)
{
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		uint32_t n = sizes[k];
		size_t len = bitfield_wire_len(n);
		uint8_t wire[200] = { 0 };
		struct bitfield bf;

		bitfield_init(&bf, n);
		bitfield_set(&bf, 0);
		/* Wrong lengths, both ways. */
		assert_false(bitfield_import(&bf, wire, len - 1));
		assert_false(bitfield_import(&bf, wire, len + 1));
		/* Each spare bit of the last byte on its own. */
		for (uint32_t spare = n; spare < len * 8; spare++) {
			memset(wire, 0, sizeof wire);
			wire[spare / 8] = (uint8_t)(0x80 >> (spare % 8));
			assert_false(bitfield_import(&bf, wire, len));
		}
		/* Failure left the set as it was. */
		assert_int_equal(bitfield_count(&bf), 1);
		assert_true(bitfield_test(&bf, 0));
		/* All real bits set is fine. */
		memset(wire, 0, sizeof wire);
		for (uint32_t i = 0; i < n; i++)
			wire[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		assert_true(bitfield_import(&bf, wire, len));
		assert_true(bitfield_all(&bf));
		bitfield_free(&bf);
	}
}

static void test_random_against_reference(void **state)
{
	uint32_t seed = 42;

	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		uint32_t n = sizes[k];
		bool ref[1000] = { false };
		uint8_t wire[125], back[125];
		struct bitfield bf, copy;
		uint32_t count = 0;

		bitfield_init(&bf, n);
		for (int round = 0; round < 3000; round++) {
			uint32_t i = lcg(&seed) % n;
			bool on = lcg(&seed) % 3 != 0;
			bool changed = on ? bitfield_set(&bf, i) : bitfield_clear(&bf, i);
			assert_int_equal(changed, ref[i] != on);
			if (changed)
				count += on ? 1 : (uint32_t)-1;
			ref[i] = on;
			assert_int_equal(bitfield_count(&bf), count);
		}
		for (uint32_t from = 0; from <= n + 1; from++) {
			assert_int_equal(bitfield_next_set(&bf, from), ref_next(ref, n, from, true));
			assert_int_equal(bitfield_next_clear(&bf, from), ref_next(ref, n, from, false));
		}
		/* Export then import gives the same set. */
		bitfield_export(&bf, wire);
		for (uint32_t i = 0; i < n; i++)
			assert_int_equal((wire[i / 8] >> (7 - i % 8)) & 1, ref[i]);
		bitfield_init(&copy, n);
		assert_true(bitfield_import(&copy, wire, bitfield_wire_len(n)));
		assert_int_equal(bitfield_count(&copy), count);
		bitfield_export(&copy, back);
		assert_memory_equal(back, wire, bitfield_wire_len(n));
		bitfield_free(&copy);
		bitfield_free(&bf);
	}
}

/* Single bits on each side of every word boundary, searched from before. */
static void test_find_across_word_boundaries(void **state)
{
	struct bitfield bf;
	const uint32_t marks[] = { 62, 63, 64, 65, 127, 128, 191, 192, 999 };

	bitfield_init(&bf, 1000);
	for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
		bitfield_clear_all(&bf);
		bitfield_set(&bf, marks[m]);
		assert_int_equal(bitfield_next_set(&bf, 0), marks[m]);
		assert_int_equal(bitfield_next_set(&bf, marks[m]), marks[m]);
		assert_int_equal(bitfield_next_set(&bf, marks[m] + 1), 1000);
		bitfield_set_all(&bf);
		bitfield_clear(&bf, marks[m]);
		assert_int_equal(bitfield_next_clear(&bf, 0), marks[m]);
		assert_int_equal(bitfield_next_clear(&bf, marks[m] + 1), 1000);
	}
	bitfield_free(&bf);
}

/* next_clear must not report a spare bit of the last word as a clear piece. */
static void test_next_clear_ignores_spare_bits(void **state)
{
	struct bitfield bf;

	bitfield_init(&bf, 65);
	bitfield_set_all(&bf);
	assert_int_equal(bitfield_next_clear(&bf, 0), 65);
	assert_int_equal(bitfield_next_clear(&bf, 64), 65);
	bitfield_clear(&bf, 64);
	assert_int_equal(bitfield_next_clear(&bf, 0), 64);
	bitfield_free(&bf);
}

static void test_andnot(void **state)
{
	struct bitfield peer, have;

	bitfield_init(&peer, 200);
	bitfield_init(&have, 200);
	assert_false(bitfield_any_andnot(&peer, &have));
	bitfield_set(&peer, 3);
	bitfield_set(&peer, 64);
	bitfield_set(&peer, 150);
	bitfield_set(&peer, 199);
	bitfield_set(&have, 3);
	bitfield_set(&have, 150);
	bitfield_set(&have, 100);
	assert_true(bitfield_any_andnot(&peer, &have));
	assert_int_equal(bitfield_count_andnot(&peer, &have), 2);
	assert_int_equal(bitfield_count_andnot(&have, &peer), 1);
	assert_int_equal(bitfield_next_andnot(&peer, &have, 0), 64);
	assert_int_equal(bitfield_next_andnot(&peer, &have, 65), 199);
	assert_int_equal(bitfield_next_andnot(&peer, &have, 200), 200);
	bitfield_set(&have, 64);
	bitfield_set(&have, 199);
	assert_false(bitfield_any_andnot(&peer, &have));
	assert_int_equal(bitfield_next_andnot(&peer, &have, 0), 200);
	bitfield_free(&peer);
	bitfield_free(&have);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_clear_count),
		cmocka_unit_test(test_set_all_keeps_spare_bits_clear),
		cmocka_unit_test(test_wire_order),
		cmocka_unit_test(test_import_rejects_bad_input),
		cmocka_unit_test(test_random_against_reference),
		cmocka_unit_test(test_find_across_word_boundaries),
		cmocka_unit_test(test_next_clear_ignores_spare_bits),
		cmocka_unit_test(test_andnot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
