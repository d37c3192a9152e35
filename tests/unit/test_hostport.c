#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hostport.h"

static void test_good(void **state)
{
	char host[HOSTPORT_HOST_MAX + 1], why[128];
	uint16_t port;

	assert_true(hostport_split("router.bittorrent.com:6881", host, &port, why, sizeof why));
	assert_string_equal(host, "router.bittorrent.com");
	assert_int_equal(port, 6881);
	assert_true(hostport_split("198.18.0.1:1", host, &port, why, sizeof why));
	assert_string_equal(host, "198.18.0.1");
	assert_int_equal(port, 1);
	assert_true(hostport_split("[2001:db8::1]:65535", host, &port, why, sizeof why));
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(port, 65535);
}

static void test_bad(void **state)
{
	static const char *const bad[] = {
		"router.bittorrent.com", "host:", "host:0", "host:65536", "host:68x1", ":6881",
		"2001:db8::1:6881", "[]:6881", "a b:6881", "host\n:6881", "[2001:db8::1:6881",
	};
	char host[HOSTPORT_HOST_MAX + 1], why[128];
	uint16_t port;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		if (hostport_split(bad[i], host, &port, why, sizeof why))
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(strlen(why) > 0);
	}
	char longname[300];
	memset(longname, 'a', 254);
	strcpy(longname + 254, ":1");
	assert_false(hostport_split(longname, host, &port, why, sizeof why));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
