#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tracker_proto.h"

static void test_encode_keeps_unreserved(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	const char *unreserved = "ABCXYZabcxyz0189-._~";

	url_encode(&b, (const uint8_t *)unreserved, strlen(unreserved));
	assert_int_equal(b.len, strlen(unreserved));
	assert_memory_equal(b.data, unreserved, b.len);

	buf_clear(&b);
	url_encode(&b, (const uint8_t *)"a b+c&d=e%f/g?h#i:j\x00\x7f\x80\xff", 23);
	const char *want = "a%20b%2Bc%26d%3De%25f%2Fg%3Fh%23i%3Aj%00%7F%80%FF";
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);

	/* Appends; an empty input adds nothing. */
	url_encode(&b, (const uint8_t *)"", 0);
	assert_int_equal(b.len, strlen(want));
	buf_free(&b);
}

static void test_round_trip_every_byte(void **state)
{
	uint8_t all[256], back[3 * 256];
	struct sta_buf b = STA_BUF_INIT;

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	url_encode(&b, all, sizeof all);
	/* 66 unreserved bytes stay single, the other 190 become %XX. */
	assert_int_equal(b.len, 66 + 3 * 190);
	assert_int_equal(url_decode((const char *)b.data, b.len, back), 256);
	assert_memory_equal(back, all, 256);
	buf_free(&b);
}

static void test_decode(void **state)
{
	uint8_t out[32];

	assert_int_equal(url_decode("a+b%2b%2B%41%7e%7E", 18, out), 8);
	assert_memory_equal(out, "a+b++A~~", 8);
	assert_int_equal(url_decode("", 0, out), 0);
	assert_int_equal(url_decode("%00", 3, out), 1);
	assert_int_equal(out[0], 0);
	/* Only len bytes are read: the escape cut by len is an error. */
	assert_int_equal(url_decode("ab%41", 4, out), -1);
	assert_int_equal(url_decode("ab%41", 3, out), -1);
	assert_int_equal(url_decode("ab%41", 2, out), 2);

	const char *bad[] = { "%", "%4", "%G0", "%0g", "%%41", "a%-1", "% 1", "%+1", "%\2000" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(url_decode(bad[i], strlen(bad[i]), out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_keeps_unreserved),
		cmocka_unit_test(test_round_trip_every_byte),
		cmocka_unit_test(test_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
