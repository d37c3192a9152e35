#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/sta-fileio-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Entries of dir, "." and ".." excluded. */
static int count_entries(const char *d)
{
	DIR *dp = opendir(d);
	struct dirent *de;
	int n = 0;

	assert_non_null(dp);
	while ((de = readdir(dp)))
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(dp);
	return n;
}

static void assert_contents(const char *path, const char *want)
{
	size_t len = 0;
	uint8_t *got = file_read_all(path, 1024, &len);

	assert_non_null(got);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(got, want, len);
	free(got);
}

static void test_write_replaces(void **state)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof path, "%s/state.bin", dir);
	assert_true(file_write_atomic(path, "first", 5, 0640));
	assert_contents(path, "first");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_true(file_write_atomic(path, "second, longer", 14, 0600));
	assert_contents(path, "second, longer");
	assert_true(file_write_atomic(path, "", 0, 0600));
	assert_contents(path, "");
	assert_int_equal(count_entries(dir), 1);      /* no temporary left */
}

static void test_write_errors(void **state)
{
	char path[128];

	snprintf(path, sizeof path, "%s/missing/state.bin", dir);
	errno = 0;
	assert_false(file_write_atomic(path, "x", 1, 0600));
	assert_int_equal(errno, ENOENT);

	/* The rename fails: the target is a directory. */
	snprintf(path, sizeof path, "%s/sub", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	errno = 0;
	assert_false(file_write_atomic(path, "x", 1, 0600));
	assert_int_equal(errno, EISDIR);
	assert_int_equal(count_entries(dir), 1);

	/* The write fails (a file size limit, as a full disk would): the old
	 * contents stay and the temporary goes. */
	struct rlimit old, small;
	snprintf(path, sizeof path, "%s/state.bin", dir);
	assert_true(file_write_atomic(path, "old", 3, 0600));
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 4;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	errno = 0;
	bool ok = file_write_atomic(path, "longer than four bytes", 22, 0600);
	int e = errno;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_false(ok);
	assert_int_equal(e, EFBIG);
	assert_contents(path, "old");
	assert_int_equal(count_entries(dir), 2);
}

static void test_read_limits(void **state)
{
	char path[128];
	size_t len = 0;

	snprintf(path, sizeof path, "%s/f", dir);
	assert_true(file_write_atomic(path, "12345", 5, 0600));
	errno = 0;
	assert_null(file_read_all(path, 4, &len));
	assert_int_equal(errno, EFBIG);
	errno = 0;
	assert_null(file_read_all(dir, 1024, &len));
	assert_int_equal(errno, EINVAL);
	snprintf(path, sizeof path, "%s/none", dir);
	errno = 0;
	assert_null(file_read_all(path, 1024, &len));
	assert_int_equal(errno, ENOENT);
}

static void test_mkdirs(void **state)
{
	char path[128];
	struct stat st;
	size_t bad = 99;

	umask(022);
	snprintf(path, sizeof path, "%s/a/b//c/", dir);
	assert_true(file_mkdirs(path, 0750, SIZE_MAX, &bad));
	snprintf(path, sizeof path, "%s/a/b/c", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0750);
	/* Existing directories are fine, relative paths too. */
	assert_true(file_mkdirs(path, 0755, SIZE_MAX, NULL));
	assert_int_equal(chdir(dir), 0);
	assert_true(file_mkdirs("rel/x", 0755, SIZE_MAX, NULL));
	assert_int_equal(stat("rel/x", &st), 0);
	assert_true(file_mkdirs("/", 0755, SIZE_MAX, NULL));
	assert_int_equal(chdir("/"), 0);
}

static void test_mkdirs_errors(void **state)
{
	char path[128], file[128], link[128];
	size_t bad = 0;

	errno = 0;
	assert_false(file_mkdirs("", 0755, SIZE_MAX, &bad));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(bad, 0);

	/* A file on the way, and a file at the end. */
	snprintf(file, sizeof file, "%s/file", dir);
	assert_true(file_write_atomic(file, "x", 1, 0600));
	snprintf(path, sizeof path, "%s/file/sub/deeper", dir);
	errno = 0;
	assert_false(file_mkdirs(path, 0755, SIZE_MAX, &bad));
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(bad, strlen(file));
	errno = 0;
	assert_false(file_mkdirs(file, 0755, SIZE_MAX, &bad));
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(bad, strlen(file));

	/* A symlink to a directory: fine before real_from, refused past it. */
	snprintf(link, sizeof link, "%s/link", dir);
	assert_int_equal(symlink("/tmp", link), 0);
	snprintf(path, sizeof path, "%s/link", dir);
	assert_true(file_mkdirs(path, 0755, SIZE_MAX, NULL));
	assert_true(file_mkdirs(path, 0755, strlen(link) + 1, NULL));
	snprintf(path, sizeof path, "%s/link/sta-fileio-never", dir);
	errno = 0;
	assert_false(file_mkdirs(path, 0755, strlen(dir) + 1, &bad));
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(bad, strlen(link));
	snprintf(path, sizeof path, "/tmp/sta-fileio-never");
	assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdirs_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
