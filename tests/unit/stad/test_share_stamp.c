/* Share stamps: computing them over a tree, and the strict parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "share.h"

static void test_round_trip(void **state)
{
	struct share_stamp a = { 123456789, 1700000000123456789, 42 }, b;
	char line[128];

	share_stamp_format(&a, line, sizeof line);
	assert_true(share_stamp_parse(line, strlen(line), &b));
	assert_memory_equal(&a, &b, sizeof a);
}

static void test_hostile_lines(void **state)
{
	static const char *const bad[] = {
		"", "1 2 3", "1 2 3\nx", "1  2 3\n", "-1 2 3\n", "1 2 -3\n", "a 2 3\n",
		"1 2\n", "1 2 3 4\n", "99999999999999999999 2 3\n", "1\n2 3\n", " 1 2 3\n",
	};
	struct share_stamp st = { 7, 7, 7 };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_false(share_stamp_parse(bad[i], strlen(bad[i]), &st));
		assert_int_equal(st.size, 7); /* untouched on failure */
	}
}

static void write_file(const char *path, size_t n)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	for (size_t i = 0; i < n; i++)
		fputc('x', fp);
	fclose(fp);
}

static void test_compute_tree(void **state)
{
	char dir[] = "/tmp/sta-stamp-XXXXXX";
	char p[256];
	struct share_stamp st, st2;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof p, "%s/a", dir);
	write_file(p, 10);
	snprintf(p, sizeof p, "%s/sub", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/sub/b", dir);
	write_file(p, 5);
	snprintf(p, sizeof p, "%s/link", dir);
	assert_int_equal(symlink("/etc/passwd", p), 0); /* not followed */

	assert_true(share_stamp_compute(dir, &st));
	assert_int_equal(st.size, 15);
	assert_int_equal(st.files, 2);
	snprintf(p, sizeof p, "%s/a", dir);
	assert_true(share_stamp_compute(p, &st2));
	assert_int_equal(st2.size, 10);
	assert_int_equal(st2.files, 1);
	/* A grown file changes the stamp. */
	snprintf(p, sizeof p, "%s/sub/b", dir);
	write_file(p, 6);
	assert_true(share_stamp_compute(dir, &st2));
	assert_int_equal(st2.size, 16);
	assert_false(share_stamp_compute("/nonexistent/sta/stamp", &st2));
	snprintf(p, sizeof p, "%s/link", dir);
	assert_false(share_stamp_compute(p, &st2)); /* a symlink is not a share */

	snprintf(p, sizeof p, "rm -rf %s", dir);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hostile_lines),
		cmocka_unit_test(test_compute_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
