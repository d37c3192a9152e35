#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "access.h"

static const char list[] =
	"# allowed torrents\n"
	"\n"
	"0123456789abcdef0123456789ABCDEF01234567\n"
	"  ffffffffffffffffffffffffffffffffffffffff   # trailing comment\r\n"
	"0123456789abcdef0123456789abcdef01234567\n"   /* duplicate */
	"not-a-hash\n"
	"0123456789abcdef0123456789abcdef0123456\n"    /* 39 digits */
	"0123456789abcdef0123456789abcdef012345678\n"  /* 41 digits */
	"000000000000000000000000000000000000000g\n"
	"1111111111111111111111111111111111111111";    /* no final newline */

static void test_parse(void **state)
{
	size_t n, bad;
	uint8_t *h = access_parse(list, sizeof list - 1, "test.list", &n, &bad);

	assert_int_equal(n, 3);
	assert_int_equal(bad, 4);
	assert_int_equal(h[0], 0x01);
	assert_int_equal(h[20], 0x11);
	assert_int_equal(h[40], 0xff);
	free(h);
	h = access_parse("", 0, "empty", &n, &bad);
	assert_int_equal(n + bad, 0);
	free(h);
}

static void test_modes_and_reload(void **state)
{
	char path[] = "/tmp/sta-test-access-XXXXXX";
	int fd = mkstemp(path);
	uint8_t listed[20] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23,
	                       0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67 };
	uint8_t other[20] = { 0 };
	struct access *a = access_new();

	assert_true(fd >= 0);
	assert_int_equal(write(fd, list, sizeof list - 1), (ssize_t)(sizeof list - 1));
	close(fd);
	assert_true(access_permits(a, other));
	assert_true(access_load(a, ACCESS_ALLOW, path));
	assert_true(access_permits(a, listed));
	assert_false(access_permits(a, other));
	assert_true(access_load(a, ACCESS_DENY, path));
	assert_false(access_permits(a, listed));
	assert_true(access_permits(a, other));
	/* A missing file keeps the list in force. */
	assert_false(access_load(a, ACCESS_ALLOW, "/nonexistent/list"));
	assert_false(access_permits(a, listed));
	assert_int_equal(access_count(a), 3);
	assert_true(access_load(a, ACCESS_OFF, NULL));
	assert_true(access_permits(a, listed));
	assert_int_equal(access_mode_from_name("deny"), ACCESS_DENY);
	assert_int_equal(access_mode_from_name("bogus"), -1);
	access_free(a);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_modes_and_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
