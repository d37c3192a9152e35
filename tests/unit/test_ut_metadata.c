#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "peer_wire.h"
#include "ut_metadata.h"

/* Parses a private exact-size copy (ASan sees any read past len); data is
 * rebased onto the original. */
static bool parse(const void *payload, size_t len, uint32_t max, struct utm_msg *m,
                  enum utm_err *err)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, payload, len);
	bool ok = ut_metadata_parse(copy, len, max, m, err);
	if (m->data) {
		assert_true(m->data >= copy && m->data + m->data_len == copy + len);
		m->data = (const uint8_t *)payload + (m->data - copy);
	}
	free(copy);
	return ok;
}

static void expect_err(const char *payload, uint32_t max, enum utm_err code)
{
	struct utm_msg m;
	enum utm_err err;

	assert_false(parse(payload, strlen(payload), max, &m, &err));
	assert_int_equal(err, code);
	assert_non_null(ut_metadata_strerror(err));
}

static void test_piece_arithmetic(void **state)
{
	assert_int_equal(ut_metadata_pieces(1), 1);
	assert_int_equal(ut_metadata_pieces(16384), 1);
	assert_int_equal(ut_metadata_pieces(16385), 2);
	assert_int_equal(ut_metadata_pieces(UTM_MAX_SIZE), 1024);
	assert_int_equal(ut_metadata_pieces(UINT32_MAX), 262144);
	assert_int_equal(ut_metadata_piece_len(16385, 0), 16384);
	assert_int_equal(ut_metadata_piece_len(16385, 1), 1);
	assert_int_equal(ut_metadata_piece_len(16385, 2), 0);
	assert_int_equal(ut_metadata_piece_len(0, 0), 0);
}

static void test_request_reject_unknown(void **state)
{
	struct utm_msg m;
	enum utm_err err;

	assert_true(parse("d8:msg_typei0e5:piecei3ee", 25, 0, &m, &err));
	assert_int_equal(m.type, UTM_REQUEST);
	assert_int_equal(m.piece, 3);
	assert_null(m.data);
	assert_true(parse("d8:msg_typei2e5:piecei0ee", 25, 0, &m, &err));
	assert_int_equal(m.type, UTM_REJECT);
	/* BEP 9: unknown message types are ignored, whatever else they hold. */
	assert_true(parse("d8:msg_typei7ee", 15, 0, &m, &err));
	assert_int_equal(m.type, UTM_UNKNOWN);
	assert_true(parse("d8:msg_typei-1e5:piecei99999999eexx", 35, 0, &m, &err));
	assert_int_equal(m.type, UTM_UNKNOWN);
	/* Keys in any order; unknown keys ignored. */
	assert_true(parse("d5:piecei1e1:xi5e8:msg_typei0ee", 31, 0, &m, &err));
	assert_int_equal(m.piece, 1);
}

static void test_data(void **state)
{
	uint8_t payload[64 + 16384];
	struct utm_msg m;
	enum utm_err err;
	int hl = snprintf((char *)payload, 64, "d8:msg_typei1e5:piecei1e10:total_sizei16390ee");

	memcpy(payload + hl, "abcdef", 6);
	assert_true(parse(payload, (size_t)hl + 6, 0, &m, &err));
	assert_int_equal(m.type, UTM_DATA);
	assert_int_equal(m.piece, 1);
	assert_int_equal(m.total_size, 16390);
	assert_int_equal(m.data_len, 6);
	assert_memory_equal(m.data, "abcdef", 6);
	/* One byte short or long of the piece. */
	assert_false(parse(payload, (size_t)hl + 5, 0, &m, &err));
	assert_int_equal(err, UTM_ERR_DATA_LEN);
	assert_false(parse(payload, (size_t)hl + 7, 0, &m, &err));
	assert_int_equal(err, UTM_ERR_DATA_LEN);
	/* A full first piece. */
	hl = snprintf((char *)payload, 64, "d8:msg_typei1e5:piecei0e10:total_sizei16390ee");
	memset(payload + hl, 'x', 16384);
	assert_true(parse(payload, (size_t)hl + 16384, 0, &m, &err));
	assert_int_equal(m.data_len, 16384);
}

static void test_hostile(void **state)
{
	expect_err("", 0, UTM_ERR_DICT);
	expect_err("li0ee", 0, UTM_ERR_DICT);
	expect_err("d8:msg_typei0e", 0, UTM_ERR_DICT);
	expect_err("d5:piecei0ee", 0, UTM_ERR_MSG_TYPE);
	expect_err("d8:msg_type1:0e", 0, UTM_ERR_MSG_TYPE);
	expect_err("d8:msg_typei0ee", 0, UTM_ERR_PIECE);
	expect_err("d8:msg_typei0e5:piecei-1ee", 0, UTM_ERR_PIECE);
	/* 16 MiB is 1024 pieces: index 1024 is out of range, and so is
	 * anything past a smaller caller's limit. */
	expect_err("d8:msg_typei0e5:piecei1024ee", 0, UTM_ERR_PIECE);
	expect_err("d8:msg_typei2e5:piecei2ee", 32768, UTM_ERR_PIECE);
	expect_err("d8:msg_typei0e5:piecei0eexyz", 0, UTM_ERR_TRAILING);
	expect_err("d8:msg_typei1e5:piecei0ee", 0, UTM_ERR_TOTAL_SIZE);
	expect_err("d8:msg_typei1e5:piecei0e10:total_sizei0eex", 0, UTM_ERR_TOTAL_SIZE);
	/* A huge total_size fails before anything is sized for it. */
	expect_err("d8:msg_typei1e5:piecei0e10:total_sizei16777217eex", 0, UTM_ERR_TOTAL_SIZE);
	expect_err("d8:msg_typei1e5:piecei0e10:total_sizei4294967296eex", 0, UTM_ERR_TOTAL_SIZE);
	expect_err("d8:msg_typei1e5:piecei0e10:total_sizei100eex", 50, UTM_ERR_TOTAL_SIZE);
	/* A piece past the end of its own total_size. */
	expect_err("d8:msg_typei1e5:piecei1e10:total_sizei100eex", 0, UTM_ERR_PIECE);
	/* Nesting deeper than a ut_metadata dict needs. */
	expect_err("d1:xllllleeeee8:msg_typei0e5:piecei0ee", 0, UTM_ERR_DICT);
}

static void test_builders_round_trip(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct pw_msg pm;
	struct pw_error perr;
	struct utm_msg m;
	enum utm_err err;
	uint8_t data[100];

	ut_metadata_put_request(&b, 3, 7);
	assert_int_equal(peer_wire_parse(b.data, b.len, NULL, &pm, &perr), PW_OK);
	assert_int_equal(pm.type, PW_MSG_EXTENDED);
	assert_int_equal(pm.ext_id, 3);
	assert_memory_equal(pm.data, "d8:msg_typei0e5:piecei7ee", pm.data_len);
	buf_clear(&b);
	ut_metadata_put_reject(&b, 3, 7);
	assert_int_equal(peer_wire_parse(b.data, b.len, NULL, &pm, &perr), PW_OK);
	assert_true(parse(pm.data, pm.data_len, 0, &m, &err));
	assert_int_equal(m.type, UTM_REJECT);
	buf_clear(&b);
	memset(data, 0xab, sizeof data);
	ut_metadata_put_data(&b, 9, 1, 16384 + 100, data, sizeof data);
	assert_int_equal(peer_wire_parse(b.data, b.len, NULL, &pm, &perr), PW_OK);
	assert_int_equal(pm.consumed, b.len);
	assert_true(parse(pm.data, pm.data_len, 0, &m, &err));
	assert_int_equal(m.type, UTM_DATA);
	assert_int_equal(m.piece, 1);
	assert_int_equal(m.total_size, 16484);
	assert_memory_equal(m.data, data, sizeof data);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_piece_arithmetic),
		cmocka_unit_test(test_request_reject_unknown),
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_builders_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
