#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cmocka.h>

#include "tconfig.h"

static bool load(const char *text, struct tconfig *c, char *err)
{
	char path[] = "/tmp/sta-test-tconfig-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	tconfig_defaults(c);
	bool ok = tconfig_load(c, path, err) && tconfig_check(c, err);
	unlink(path);
	return ok;
}

static void test_defaults_are_valid(void **state)
{
	struct tconfig c;
	char err[CONFIG_ERR_MAX];

	tconfig_defaults(&c);
	assert_true(tconfig_check(&c, err));
	assert_int_equal(c.http_listen.n, 2);
	assert_string_equal(c.udp_listen.v[1], "[::]:6969");
	assert_int_equal(c.announce_interval, 1800);
	assert_true(c.max_torrent_size == 4 << 20);
	assert_string_equal(c.access_mode, "off");
	tconfig_free(&c);
}

static void test_checks(void **state)
{
	struct tconfig c;
	char err[CONFIG_ERR_MAX];

	assert_true(load("http_listen = [\"127.0.0.1:0\"];\nudp_listen = [];\nthreads = 2;\n",
	                 &c, err));
	tconfig_free(&c);
	assert_false(load("min_interval = 3000;\n", &c, err));
	assert_non_null(strstr(err, "'min_interval' (3000) must not exceed"));
	tconfig_free(&c);
	assert_false(load("access_mode = \"allow\";\n", &c, err));
	assert_non_null(strstr(err, "needs an access_file"));
	tconfig_free(&c);
	assert_false(load("http_listen = [\"localhost:80\"];\n", &c, err));
	assert_non_null(strstr(err, "ADDR:PORT"));
	tconfig_free(&c);
	assert_false(load("http_listen = [];\nudp_listen = [];\n", &c, err));
	tconfig_free(&c);
	assert_false(load("threads = 100000;\n", &c, err));
	assert_non_null(strstr(err, ":1: setting 'threads' must be between 0 and 256"));
	tconfig_free(&c);
	assert_false(load("trackers = 1;\n", &c, err));
	assert_non_null(strstr(err, "unknown setting 'trackers'"));
	tconfig_free(&c);
}

static void test_parse_addr(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;

	assert_true(tconfig_parse_addr("0.0.0.0:6969", &ss, &len));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 6969);
	assert_true(tconfig_parse_addr("[::1]:80", &ss, &len));
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_false(tconfig_parse_addr("::1:80", &ss, &len));
	assert_false(tconfig_parse_addr("1.2.3.4", &ss, &len));
	assert_false(tconfig_parse_addr("1.2.3.4:65536", &ss, &len));
	assert_false(tconfig_parse_addr("1.2.3.4:", &ss, &len));
	assert_false(tconfig_parse_addr("[1.2.3.4]:1", &ss, &len));
	assert_false(tconfig_parse_addr("[::1:1", &ss, &len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_valid),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_parse_addr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
