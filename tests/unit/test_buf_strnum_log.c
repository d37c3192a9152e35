#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bencode.h"
#include "buf.h"
#include "log.h"
#include "strnum.h"

static void test_buf_grows_and_encodes_be(void **state)
{
	struct sta_buf b = STA_BUF_INIT;

	for (int i = 0; i < 1000; i++)
		buf_append_byte(&b, (uint8_t)i);
	assert_int_equal(b.len, 1000);
	assert_int_equal(b.data[999], (uint8_t)999);
	buf_clear(&b);
	buf_append_u32be(&b, 0x01020304);
	buf_append_u16be(&b, 0xa0b0);
	buf_append_u64be(&b, 0x1122334455667788ULL);
	assert_int_equal(b.len, 14);
	assert_int_equal(load_u32be(b.data), 0x01020304);
	assert_int_equal(load_u16be(b.data + 4), 0xa0b0);
	assert_true(load_u64be(b.data + 6) == 0x1122334455667788ULL);
	buf_clear(&b);
	buf_append_dec(&b, 0);
	buf_append_byte(&b, ' ');
	buf_append_dec(&b, 1000);
	buf_append_byte(&b, ' ');
	buf_append_dec(&b, UINT64_MAX);
	assert_int_equal(b.len, strlen("0 1000 18446744073709551615"));
	assert_memory_equal(b.data, "0 1000 18446744073709551615", b.len);
	buf_clear(&b);
	be_enc_int(&b, INT64_MIN);
	be_enc_int(&b, 0);
	assert_int_equal(b.len, strlen("i-9223372036854775808ei0e"));
	assert_memory_equal(b.data, "i-9223372036854775808ei0e", b.len);
	buf_free(&b);
}

static void test_strnum_bounds(void **state)
{
	uint64_t v = 7;
	int64_t s;

	assert_true(strnum_u64("65535", 5, 1, 65535, &v));
	assert_int_equal(v, 65535);
	assert_false(strnum_u64("65536", 5, 1, 65535, &v));
	assert_false(strnum_u64("", 0, 0, 10, &v));
	assert_false(strnum_u64("-1", 2, 0, 10, &v));
	assert_false(strnum_u64("1x", 2, 0, 10, &v));
	assert_false(strnum_u64("18446744073709551616", 20, 0, UINT64_MAX, &v));
	assert_true(strnum_u64("18446744073709551615", 20, 0, UINT64_MAX, &v));
	assert_true(v == UINT64_MAX);
	assert_true(strnum_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &s));
	assert_true(s == INT64_MIN);
	assert_false(strnum_i64("9223372036854775808", INT64_MIN, INT64_MAX, &s));
	assert_false(strnum_i64("-", INT64_MIN, INT64_MAX, &s));
}

/* Runs one log call with stderr captured; returns the line (static). */
static const char *captured_line(int level, const char *msg)
{
	static char out[256];
	int fds[2], saved = dup(STDERR_FILENO);

	assert_int_equal(pipe(fds), 0);
	dup2(fds[1], STDERR_FILENO);
	log_msg(level, "some_function", "%s", msg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	ssize_t n = read(fds[0], out, sizeof out - 1);
	close(fds[0]);
	out[n > 0 ? n : 0] = '\0';
	return out;
}

/* Operators get sentences; function names only on debug lines. */
static void test_log_line_format(void **state)
{
	log_init("prog");
	log_set_level(LOG_DEBUG);
	assert_string_equal(captured_line(LOG_WARNING, "disk full"), "prog: warning: disk full\n");
	assert_string_equal(captured_line(LOG_INFO, "ready"), "prog: info: ready\n");
	assert_string_equal(captured_line(LOG_DEBUG, "detail"),
	                    "prog: debug: some_function: detail\n");
	log_set_level(LOG_INFO);
	assert_string_equal(captured_line(LOG_DEBUG, "hidden"), "");
}

static void test_log_escape_and_levels(void **state)
{
	char out[16];

	assert_string_equal(log_escape(out, sizeof out, "a\nb", 3), "a\\x0ab");
	assert_string_equal(log_escape(out, sizeof out, "0123456789abcdefgh", 18), "0123456789ab...");
	assert_int_equal(log_level_from_name("debug"), LOG_DEBUG);
	assert_int_equal(log_level_from_name("warn"), LOG_WARNING);
	assert_int_equal(log_level_from_name("3"), LOG_ERR);
	assert_int_equal(log_level_from_name("loud"), -1);
}

static void test_bencode_encoder(void **state)
{
	struct sta_buf b = STA_BUF_INIT;

	be_enc_dict_begin(&b);
	be_enc_kv_int(&b, "interval", -5);
	be_enc_kv_str(&b, "peers", "\0\1", 2);
	be_enc_end(&b);
	assert_int_equal(b.len, strlen("d8:intervali-5e5:peers2:") + 2 + 1);
	assert_memory_equal(b.data, "d8:intervali-5e5:peers2:\0\1e", b.len);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_grows_and_encodes_be),
		cmocka_unit_test(test_strnum_bounds),
		cmocka_unit_test(test_log_escape_and_levels),
		cmocka_unit_test(test_log_line_format),
		cmocka_unit_test(test_bencode_encoder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
