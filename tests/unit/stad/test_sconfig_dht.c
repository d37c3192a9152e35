/* stad.conf's dht group: on by default with the public routers, limits in
 * range, and each bootstrap entry checked with FILE:LINE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sconfig.h"

static char *write_conf(const char *text)
{
	char *path = strdup("/tmp/sta-stad-dht-conf-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_defaults_join_the_public_dht(void **state)
{
	struct sconfig c;

	sconfig_defaults(&c);
	assert_true(c.dht_enabled);
	assert_int_equal(c.dht_bootstrap.n, 4);
	assert_string_equal(c.dht_bootstrap.v[0], "router.bittorrent.com:6881");
	assert_string_equal(c.dht_bootstrap.v[3], "dht.libtorrent.org:25401");
	assert_true(c.dht_max_outstanding > 0 && c.dht_answers_per_second > 0);
	assert_true(c.dht_peers_per_torrent > 0 && c.dht_max_stored_peers > 0);
	sconfig_free(&c);
}

static void test_load_and_errors(void **state)
{
	struct sconfig c;
	char err[CONFIG_ERR_MAX];
	char *ok = write_conf("dht = {\n  enabled = false;\n  bootstrap = [ \"198.18.0.1:6881\", "
	                      "\"[2001:db8::1]:1\" ];\n  max_stored_peers = 5000;\n};\n");
	char *bad_item = write_conf("dht = {\n  bootstrap = [\n    \"a.example:6881\",\n"
	                            "    \"no-port.example\" ];\n};\n");
	char *bad_rate = write_conf("dht = { answers_per_second = 0; };\n");

	sconfig_defaults(&c);
	assert_true(sconfig_load(&c, ok, err));
	assert_false(c.dht_enabled);
	assert_int_equal(c.dht_bootstrap.n, 2);
	assert_string_equal(c.dht_bootstrap.v[1], "[2001:db8::1]:1");
	assert_int_equal(c.dht_max_stored_peers, 5000);
	sconfig_free(&c);

	sconfig_defaults(&c);
	assert_false(sconfig_load(&c, bad_item, err));
	assert_non_null(strstr(err, ":4:"));
	assert_non_null(strstr(err, "'dht.bootstrap' item 2"));
	assert_non_null(strstr(err, "HOST:PORT"));
	sconfig_free(&c);

	sconfig_defaults(&c);
	assert_false(sconfig_load(&c, bad_rate, err));
	assert_non_null(strstr(err, "dht.answers_per_second"));
	sconfig_free(&c);
	char *files[] = { ok, bad_item, bad_rate };
	for (size_t i = 0; i < 3; i++) {
		unlink(files[i]);
		free(files[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_join_the_public_dht),
		cmocka_unit_test(test_load_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
