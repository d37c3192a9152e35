/* The sanity check on addresses peers tell us about (BEP 11). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "pex.h"
#include "tracker_proto.h"

static struct tracker_peer peer(const char *ip, uint16_t port)
{
	struct tracker_peer c;

	memset(&c, 0, sizeof c);
	c.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(c.family, ip, c.addr), 1);
	c.port = port;
	return c;
}

static bool from(const char *claimed, uint16_t port, const char *sender)
{
	struct sockaddr_storage ss;
	struct tracker_peer c = peer(claimed, port);

	memset(&ss, 0, sizeof ss);
	if (strchr(sender, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, sender, &a->sin6_addr), 1);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, sender, &a->sin_addr), 1);
	}
	return pex_plausible(&c, (struct sockaddr *)&ss);
}

static void test_ordinary_addresses_pass(void **state)
{
	assert_true(from("198.18.0.7", 6881, "198.18.0.2"));
	assert_true(from("10.1.2.3", 1, "203.0.113.9"));
	assert_true(from("2001:db8::5", 51413, "198.18.0.2"));
	/* Loopback only from a loopback peer (a test, a local swarm). */
	assert_true(from("127.0.0.5", 6881, "127.0.0.9"));
	assert_true(from("::1", 6881, "::1"));
	assert_true(from("127.0.0.5", 6881, "::ffff:127.0.0.9"));
}

static void test_bogus_addresses_fail(void **state)
{
	static const char *const bad[] = {
		"0.0.0.0", "0.1.2.3", "224.0.0.1", "239.192.152.143", "240.0.0.1",
		"255.255.255.255", "169.254.1.1", "::", "ff02::1", "fe80::1", "::ffff:10.0.0.1",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (from(bad[i], 6881, "198.18.0.2"))
			fail_msg("%s passed", bad[i]);
	assert_false(from("198.18.0.7", 0, "198.18.0.2"));
	/* A remote peer has no business naming our loopback. */
	assert_false(from("127.0.0.1", 6881, "198.18.0.2"));
	assert_false(from("::1", 6881, "2001:db8::2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ordinary_addresses_pass),
		cmocka_unit_test(test_bogus_addresses_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
