/* stad.conf: defaults, strict loading, cross-setting checks; and the
 * request-pipeline depth rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "peer.h"
#include "peer_request.h"
#include "sconfig.h"

static char *write_conf(const char *text)
{
	char *path = strdup("/tmp/sta-stad-conf-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_defaults(void **state)
{
	struct sconfig c;
	char err[CONFIG_ERR_MAX];

	sconfig_defaults(&c);
	assert_int_equal(c.listen_port, 6881);
	assert_string_equal(c.state_dir, "/var/lib/sta");
	assert_string_equal(c.control_socket, "/run/sta/stad.sock");
	assert_string_equal(c.tracker, "http://127.0.0.1:6969/announce");
	assert_int_equal(c.workers, 0);
	assert_string_equal(c.super_seed, "auto");
	assert_true(sconfig_check(&c, err));
	sconfig_free(&c);
}

static void test_load_and_errors(void **state)
{
	struct sconfig c;
	char err[CONFIG_ERR_MAX];
	char *ok = write_conf("listen_port = 7000;\nstate_dir = \"/srv/sta\";\n"
	                      "cache_size = 33554432L;\nsuper_seed = \"off\";\n");
	char *bad_ss = write_conf("super_seed = \"maybe\";\n");
	char *bad_port = write_conf("\n\nlisten_port = 70000;\n");
	char *unknown = write_conf("listen_prot = 7000;\n");
	char *rel = write_conf("download_dir = \"downloads\";\n");
	char *peers = write_conf("max_peers = 10;\nmax_peers_per_torrent = 20;\n");
	char *addr = write_conf("listen_address = \"localhost\";\n");

	sconfig_defaults(&c);
	assert_true(sconfig_load(&c, ok, err));
	assert_int_equal(c.listen_port, 7000);
	assert_string_equal(c.state_dir, "/srv/sta");
	assert_int_equal(c.cache_size, 33554432);
	assert_string_equal(c.super_seed, "off");
	sconfig_free(&c);

	sconfig_defaults(&c);
	assert_false(sconfig_load(&c, bad_ss, err));
	assert_non_null(strstr(err, "super_seed"));
	sconfig_free(&c);

	sconfig_defaults(&c);
	assert_false(sconfig_load(&c, bad_port, err));
	assert_non_null(strstr(err, ":3:")); /* FILE:LINE: */
	sconfig_free(&c);

	sconfig_defaults(&c);
	assert_false(sconfig_load(&c, unknown, err));
	sconfig_free(&c);

	const char *checks[] = { rel, peers, addr };
	for (size_t i = 0; i < 3; i++) {
		sconfig_defaults(&c);
		assert_true(sconfig_load(&c, checks[i], err));
		assert_false(sconfig_check(&c, err));
		sconfig_free(&c);
	}
	char *files[] = { ok, bad_port, unknown, rel, peers, addr, bad_ss };
	for (size_t i = 0; i < 7; i++) {
		unlink(files[i]);
		free(files[i]);
	}
}

static void test_request_depth(void **state)
{
	assert_int_equal(peer_request_depth(0, false), PEER_MIN_DEPTH);
	assert_int_equal(peer_request_depth(1000000, false), PEER_MIN_DEPTH + 30); /* + 0.5 s of 1 MB/s */
	assert_int_equal(peer_request_depth(UINT64_MAX / 4, false), PEER_MAX_DEPTH);
	assert_int_equal(peer_request_depth(100000000, true), PEER_SNUB_DEPTH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_load_and_errors),
		cmocka_unit_test(test_request_depth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
