#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

static void expect_json(const char *in, size_t len, const char *want)
{
	struct sta_buf b = STA_BUF_INIT;

	json_append_string(&b, (const uint8_t *)in, len);
	buf_append_byte(&b, 0);
	if (strcmp((char *)b.data, want) != 0)
		fail_msg("want %s, got %s", want, (char *)b.data);
	buf_free(&b);
}

static void test_escapes(void **state)
{
	expect_json("", 0, "\"\"");
	expect_json("plain.txt", 9, "\"plain.txt\"");
	expect_json("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	expect_json("\"},{\"evil\":1", 12, "\"\\\"},{\\\"evil\\\":1\"");
	expect_json("l1\nl2\t\x1b\x7f\a", 9, "\"l1\\nl2\\t\\u001b\\u007f\\u0007\"");
	expect_json("nul\0x", 5, "\"nul\\u0000x\"");
	/* Valid JSON, but it ends a JavaScript string literal. */
	expect_json("\xe2\x80\xa8", 3, "\"\\u2028\"");
}

static void test_utf8_kept_invalid_replaced(void **state)
{
	expect_json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
	            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* Stray continuation, truncated sequence, overlong '/', a surrogate,
	 * past U+10FFFF, 0xff: each bad byte becomes U+FFFD. */
	expect_json("\x80", 1, "\"\\ufffd\"");
	expect_json("\xe2\x82", 2, "\"\\ufffd\\ufffd\"");
	expect_json("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");
	expect_json("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");
	expect_json("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	expect_json("a\xff", 2, "\"a\\ufffd\"");
}

static void test_utf8_decode(void **state)
{
	uint32_t cp = 0;

	assert_int_equal(utf8_decode((const uint8_t *)"A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(utf8_decode((const uint8_t *)"\xe2\x82\xac", 3, &cp), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(utf8_decode((const uint8_t *)"\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
	/* Truncated by len even though the bytes are there. */
	assert_int_equal(utf8_decode((const uint8_t *)"\xe2\x82\xac", 2, &cp), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_utf8_kept_invalid_replaced),
		cmocka_unit_test(test_utf8_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
