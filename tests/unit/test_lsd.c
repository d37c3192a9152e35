#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "lsd.h"

static bool parse_str(const char *s, struct lsd_msg *m, enum lsd_err *err)
{
	/* An exact-size heap copy: ASan sees any read past the end. */
	size_t n = strlen(s);
	uint8_t *copy = malloc(n ? n : 1);
	memcpy(copy, s, n);
	bool ok = lsd_parse(copy, n, m, err);
	free(copy);
	return ok;
}

static void expect_err(const char *s, enum lsd_err want)
{
	struct lsd_msg m;
	enum lsd_err err;

	assert_false(parse_str(s, &m, &err));
	assert_int_equal(err, want);
}

static void test_build_exact(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	uint8_t ih[1][20];

	for (int i = 0; i < 20; i++)
		ih[0][i] = (uint8_t)(0xa0 + i);
	assert_int_equal(lsd_build(&b, false, 6881, ih, 1, "c00k1e"), 1);
	buf_append_byte(&b, 0);
	assert_string_equal((char *)b.data,
	                    "BT-SEARCH * HTTP/1.1\r\n"
	                    "Host: 239.192.152.143:6771\r\n"
	                    "Port: 6881\r\n"
	                    "Infohash: a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3\r\n"
	                    "cookie: c00k1e\r\n"
	                    "\r\n\r\n");
	buf_clear(&b);
	assert_int_equal(lsd_build(&b, true, 1, ih, 1, NULL), 1);
	buf_append_byte(&b, 0);
	assert_string_equal((char *)b.data,
	                    "BT-SEARCH * HTTP/1.1\r\n"
	                    "Host: [ff15::efc0:988f]:6771\r\n"
	                    "Port: 1\r\n"
	                    "Infohash: a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3\r\n"
	                    "\r\n\r\n");
	buf_free(&b);
}

static void test_build_parse_many(void **state)
{
	uint8_t ih[40][20];
	struct sta_buf b = STA_BUF_INIT;
	struct lsd_msg m;
	enum lsd_err err;
	char cookie[LSD_COOKIE_MAX + 1];

	for (int i = 0; i < 40; i++)
		memset(ih[i], i + 1, 20);
	memset(cookie, 'z', LSD_COOKIE_MAX);
	cookie[LSD_COOKIE_MAX] = '\0';
	for (int v6 = 0; v6 < 2; v6++) {
		buf_clear(&b);
		size_t took = lsd_build(&b, v6, 65535, ih, 40, cookie);
		assert_true(took >= 20 && took <= LSD_MAX_HASHES);
		assert_true(b.len <= LSD_MSG_MAX);
		assert_true(lsd_parse(b.data, b.len, &m, &err));
		assert_int_equal(m.port, 65535);
		assert_int_equal(m.n_hashes, took);
		assert_memory_equal(m.hashes, ih, took * 20);
		assert_true(m.has_cookie);
		assert_string_equal(m.cookie, cookie);
		/* The rest goes in the next announce. */
		buf_clear(&b);
		size_t rest = lsd_build(&b, v6, 7, ih + took, 40 - took, NULL);
		assert_int_equal(rest, 40 - took);
	}
	buf_free(&b);
}

/* What libtorrent and others send: uppercase hex, other header case, bare
 * \n, extra headers, no cookie, trailing junk after the blank line. */
static void test_parse_variants(void **state)
{
	struct lsd_msg m;
	enum lsd_err err;

	assert_true(parse_str("BT-SEARCH * HTTP/1.1\r\n"
	                      "Host: 239.192.152.143:6771\r\n"
	                      "Port: 51413\r\n"
	                      "Infohash: A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3\r\n"
	                      "\r\n\r\n", &m, &err));
	assert_int_equal(m.port, 51413);
	assert_int_equal(m.n_hashes, 1);
	assert_int_equal(m.hashes[0][0], 0xa0);
	assert_false(m.has_cookie);

	assert_true(parse_str("BT-SEARCH * HTTP/1.1\n"
	                      "port:6881\n"
	                      "X-Whatever: 1\n"
	                      "INFOHASH:   0102030405060708090a0b0c0d0e0f1011121314  \n"
	                      "infohash: 1102030405060708090a0b0c0d0e0f1011121314\n"
	                      "Cookie: abc\n"
	                      "\n"
	                      "garbage after the headers: ignored", &m, &err));
	assert_int_equal(m.port, 6881);
	assert_int_equal(m.n_hashes, 2);
	assert_int_equal(m.hashes[1][0], 0x11);
	assert_string_equal(m.cookie, "abc");

	/* No blank line at all: the datagram ends the headers. */
	assert_true(parse_str("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n"
	                      "Infohash: 0102030405060708090a0b0c0d0e0f1011121314", &m, &err));
}

static void test_parse_limits(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct lsd_msg m;
	enum lsd_err err;

	/* More hashes than we keep: the first LSD_MAX_HASHES, no error. */
	buf_append_str(&b, "BT-SEARCH * HTTP/1.1\r\nPort: 9\r\n");
	for (int i = 0; i < LSD_MAX_HASHES + 5; i++)
		buf_printf(&b, "Infohash: %02x02030405060708090a0b0c0d0e0f1011121314\r\n", i);
	buf_printf(&b, "cookie: %0100d\r\n\r\n", 7);
	assert_true(lsd_parse(b.data, b.len, &m, &err));
	assert_int_equal(m.n_hashes, LSD_MAX_HASHES);
	assert_int_equal(m.hashes[LSD_MAX_HASHES - 1][0], LSD_MAX_HASHES - 1);
	assert_int_equal(strlen(m.cookie), LSD_COOKIE_MAX); /* cut */
	buf_free(&b);
}

static void test_parse_errors(void **state)
{
	const char *ih = "Infohash: 0102030405060708090a0b0c0d0e0f1011121314\r\n";
	char s[512];

	expect_err("", LSD_E_REQUEST_LINE);
	expect_err("M-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\n", LSD_E_REQUEST_LINE);
	expect_err("BT-SEARCH * HTTP/1.0\r\n", LSD_E_REQUEST_LINE);
	expect_err("BT-SEARCH * HTTP/1.1 \r\n", LSD_E_REQUEST_LINE);
	snprintf(s, sizeof s, "BT-SEARCH * HTTP/1.1\r\n%s\r\n", ih);
	expect_err(s, LSD_E_PORT);
	const char *bad_ports[] = { "0", "65536", "-1", "12a", "", "+5", "99999999999999999999" };
	for (size_t i = 0; i < sizeof bad_ports / sizeof bad_ports[0]; i++) {
		snprintf(s, sizeof s, "BT-SEARCH * HTTP/1.1\r\nPort: %s\r\n%s\r\n", bad_ports[i], ih);
		expect_err(s, LSD_E_PORT);
	}
	snprintf(s, sizeof s, "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nPort: 2\r\n%s\r\n", ih);
	expect_err(s, LSD_E_PORT);
	expect_err("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\n", LSD_E_NO_INFOHASH);
	expect_err("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n"
	           "Infohash: 0102030405060708090a0b0c0d0e0f10111213\r\n\r\n", LSD_E_INFOHASH);
	expect_err("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n"
	           "Infohash: 0102030405060708090a0b0c0d0e0f101112131g\r\n\r\n", LSD_E_INFOHASH);
	snprintf(s, sizeof s, "BT-SEARCH * HTTP/1.1\r\nPort 1\r\n%s\r\n", ih);
	expect_err(s, LSD_E_HEADER);

	/* A NUL inside a header line. */
	static const uint8_t nul[] = "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nX: a\0b\r\n\r\n";
	struct lsd_msg m;
	enum lsd_err err;
	assert_false(lsd_parse(nul, sizeof nul - 1, &m, &err));
	assert_int_equal(err, LSD_E_HEADER);
	assert_string_equal(lsd_strerror(LSD_E_NO_INFOHASH), "no Infohash");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_exact),
		cmocka_unit_test(test_build_parse_many),
		cmocka_unit_test(test_parse_variants),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
