#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "peer_wire.h"
#include "ut_pex.h"

static bool parse(const void *payload, size_t len, struct ut_pex *p, enum ut_pex_err *err)
{
	/* Exact-size copy for ASan; the lists point into it, so the test
	 * reads them before it is freed through a second parse of the
	 * original below. */
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, payload, len);
	bool ok = ut_pex_parse(copy, len, p, err);
	free(copy);
	if (ok)
		assert_true(ut_pex_parse(payload, len, p, err));
	return ok;
}

static struct ut_pex_peer v4(uint8_t last, uint16_t port, uint8_t flags)
{
	struct ut_pex_peer p = { .flags = flags };

	p.addr.family = AF_INET;
	memcpy(p.addr.addr, (uint8_t[]){ 10, 0, 0, last }, 4);
	p.addr.port = port;
	return p;
}

static struct ut_pex_peer v6(uint8_t last, uint16_t port, uint8_t flags)
{
	struct ut_pex_peer p = { .flags = flags };

	p.addr.family = AF_INET6;
	p.addr.addr[0] = 0x20;
	p.addr.addr[1] = 0x01;
	p.addr.addr[15] = last;
	p.addr.port = port;
	return p;
}

static void test_exact_wire(void **state)
{
	struct ut_pex_peer added[] = { v4(1, 6881, UT_PEX_F_SEED), v6(2, 80, UT_PEX_F_REACHABLE) };
	struct ut_pex_peer dropped[] = { v4(3, 1, 0) };
	struct sta_buf b = STA_BUF_INIT;
	struct pw_msg pm;
	struct pw_error perr;
	static const uint8_t want[] =
		"d5:added6:\x0a\x00\x00\x01\x1a\xe1" "7:added.f1:\x02"
		"6:added618:\x20\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\x02\x00\x50" "8:added6.f1:\x10"
		"7:dropped6:\x0a\x00\x00\x03\x00\x01" "8:dropped60:e";

	ut_pex_put(&b, 2, added, 2, dropped, 1);
	assert_int_equal(peer_wire_parse(b.data, b.len, NULL, &pm, &perr), PW_OK);
	assert_int_equal(pm.ext_id, 2);
	assert_int_equal(pm.data_len, sizeof want - 1);
	assert_memory_equal(pm.data, want, sizeof want - 1);
	buf_free(&b);
}

static void test_round_trip(void **state)
{
	struct ut_pex_peer added[] = { v4(1, 6881, UT_PEX_F_SEED), v6(2, 80, 0x11),
		                       v4(4, 4, 0) };
	struct ut_pex_peer dropped[] = { v6(9, 9, 0) };
	struct sta_buf b = STA_BUF_INIT;
	struct pw_msg pm;
	struct pw_error perr;
	struct ut_pex p;
	enum ut_pex_err err;
	struct tracker_peer tp;
	uint8_t f;

	ut_pex_put(&b, 1, added, 3, dropped, 1);
	assert_int_equal(peer_wire_parse(b.data, b.len, NULL, &pm, &perr), PW_OK);
	assert_true(parse(pm.data, pm.data_len, &p, &err));
	assert_int_equal(p.added.n, 2);
	assert_int_equal(p.added6.n, 1);
	assert_int_equal(p.dropped.n, 0);
	assert_int_equal(p.dropped6.n, 1);
	assert_true(ut_pex_entry(&p.added, 1, &tp, &f));
	assert_int_equal(tp.family, AF_INET);
	assert_memory_equal(tp.addr, "\x0a\x00\x00\x04", 4);
	assert_int_equal(tp.port, 4);
	assert_int_equal(f, 0);
	assert_true(ut_pex_entry(&p.added6, 0, &tp, &f));
	assert_int_equal(tp.family, AF_INET6);
	assert_int_equal(tp.addr[15], 2);
	assert_int_equal(tp.port, 80);
	assert_int_equal(f, 0x11);
	assert_true(ut_pex_entry(&p.dropped6, 0, &tp, &f));
	assert_int_equal(tp.addr[15], 9);
	buf_free(&b);
}

static void test_lenient_parts(void **state)
{
	struct ut_pex p;
	enum ut_pex_err err;
	struct tracker_peer tp;
	uint8_t f;

	/* Nothing at all, unknown keys, flags of the wrong length, port 0. */
	assert_true(parse("de", 2, &p, &err));
	assert_int_equal(p.added.n + p.added6.n + p.dropped.n + p.dropped6.n, 0);
	static const char msg[] = "d5:added12:\x01\x02\x03\x04\x00\x00\x05\x06\x07\x08\x00\x09"
	                          "7:added.f3:abc1:zi1ee";
	assert_true(parse(msg, sizeof msg - 1, &p, &err));
	assert_int_equal(p.added.n, 2);
	assert_null(p.added.flags);
	assert_false(ut_pex_entry(&p.added, 0, &tp, &f)); /* port 0 */
	assert_true(ut_pex_entry(&p.added, 1, &tp, &f));
	assert_int_equal(tp.port, 9);
	assert_int_equal(f, 0);
}

static void test_hostile(void **state)
{
	struct ut_pex p;
	enum ut_pex_err err;
	size_t n = UT_PEX_MAX_LIST + 1;
	char *big = malloc(32 + n * 6);

	assert_false(parse("", 0, &p, &err));
	assert_int_equal(err, UT_PEX_ERR_DICT);
	assert_false(parse("le", 2, &p, &err));
	assert_int_equal(err, UT_PEX_ERR_DICT);
	assert_false(parse("d5:addedi1ee", 12, &p, &err));
	assert_int_equal(err, UT_PEX_ERR_TYPE);
	assert_false(parse("d5:added5:abcdee", 16, &p, &err));
	assert_int_equal(err, UT_PEX_ERR_LENGTH);
	assert_false(parse("d8:dropped617:aaaaaaaaaaaaaaaaae", 32, &p, &err));
	assert_int_equal(err, UT_PEX_ERR_LENGTH);
	/* One entry over the cap fails the message. */
	int hl = sprintf(big, "d5:added%zu:", n * 6);
	memset(big + hl, 1, n * 6);
	big[hl + n * 6] = 'e';
	assert_false(parse(big, (size_t)hl + n * 6 + 1, &p, &err));
	assert_int_equal(err, UT_PEX_ERR_TOO_MANY);
	assert_int_equal(p.added.n, 0);
	/* Exactly at the cap is fine. */
	hl = sprintf(big, "d5:added%zu:", (n - 1) * 6);
	memset(big + hl, 1, (n - 1) * 6);
	big[hl + (n - 1) * 6] = 'e';
	assert_true(parse(big, (size_t)hl + (n - 1) * 6 + 1, &p, &err));
	assert_int_equal(p.added.n, UT_PEX_MAX_LIST);
	free(big);
	assert_non_null(ut_pex_strerror(UT_PEX_ERR_TOO_MANY));
}

static void test_put_caps_lists(void **state)
{
	size_t n = UT_PEX_MAX_LIST + 20;
	struct ut_pex_peer *many = calloc(n, sizeof *many);
	struct sta_buf b = STA_BUF_INIT;
	struct pw_msg pm;
	struct pw_error perr;
	struct ut_pex p;
	enum ut_pex_err err;

	for (size_t i = 0; i < n; i++)
		many[i] = v4((uint8_t)i, 1000, 0);
	ut_pex_put(&b, 1, many, n, many, n);
	assert_int_equal(peer_wire_parse(b.data, b.len, NULL, &pm, &perr), PW_OK);
	assert_true(parse(pm.data, pm.data_len, &p, &err));
	assert_int_equal(p.added.n, UT_PEX_MAX_LIST);
	assert_int_equal(p.dropped.n, UT_PEX_MAX_LIST);
	assert_non_null(p.added.flags);
	buf_free(&b);
	free(many);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_wire),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_lenient_parts),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_put_caps_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
