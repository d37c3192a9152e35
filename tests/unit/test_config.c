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

#include "config.h"

struct demo {
	int threads;
	int64_t big;
	bool flag;
	char *name;
	char *mode;
	struct config_strlist listen;
	char *word;
};

static const char *const modes[] = { "off", "allow", "deny", NULL };
static const char *const listen_def[] = { "0.0.0.0:1", "[::]:1", NULL };

/* A value check of the kind a daemon adds (tracker URLs). */
static bool check_no_x(const char *v, char *why, size_t whysz)
{
	if (strchr(v, 'x') == NULL)
		return true;
	snprintf(why, whysz, "\"x\" is not allowed");
	return false;
}

static const struct config_key schema[] = {
	{ "threads", CONFIG_INT, 0, 64, 4, NULL, NULL, NULL,
	  .offset = offsetof(struct demo, threads) },
	{ "limits.big", CONFIG_INT64, 1, INT64_C(1) << 40, 1024, NULL, NULL, NULL,
	  .offset = offsetof(struct demo, big) },
	{ "flag", CONFIG_BOOL, 0, 1, 0, NULL, NULL, NULL, .offset = offsetof(struct demo, flag) },
	{ "name", CONFIG_STRING, 1, 8, 0, "dflt", NULL, NULL,
	  .offset = offsetof(struct demo, name) },
	{ "mode", CONFIG_STRING, 0, 16, 0, "off", NULL, modes,
	  .offset = offsetof(struct demo, mode) },
	{ "word", CONFIG_STRING, 0, 16, 0, "", NULL, NULL,
	  .offset = offsetof(struct demo, word),
	  .check = check_no_x },
	{ "listen", CONFIG_STRLIST, 1, 4, 0, NULL, listen_def, NULL,
	  .offset = offsetof(struct demo, listen) },
};
#define NKEYS (sizeof schema / sizeof schema[0])

/* Writes text to a fresh temporary file; returns its path (static buffer). */
static const char *write_tmp(const char *text)
{
	static char path[64];

	snprintf(path, sizeof path, "/tmp/sta-test-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Loads text over defaults; returns the result and the error in err. */
static bool load_text(const char *text, struct demo *d, char err[CONFIG_ERR_MAX])
{
	const char *path = write_tmp(text);

	config_defaults(schema, NKEYS, d);
	err[0] = '\0';
	bool ok = config_load_file(schema, NKEYS, path, d, err);
	unlink(path);
	return ok;
}

static void test_defaults(void **state)
{
	struct demo d;

	config_defaults(schema, NKEYS, &d);
	assert_int_equal(d.threads, 4);
	assert_true(d.big == 1024);
	assert_false(d.flag);
	assert_string_equal(d.name, "dflt");
	assert_int_equal(d.listen.n, 2);
	assert_string_equal(d.listen.v[1], "[::]:1");
	config_free(schema, NKEYS, &d);
	assert_null(d.name);
}

static void test_full_file(void **state)
{
	struct demo d;
	char err[CONFIG_ERR_MAX];

	assert_true(load_text("threads = 8;\nlimits: { big = 1099511627776L; };\nflag = true;\n"
	                      "name = \"abc\";\nmode = \"deny\";\nlisten = [\"a:1\"];\n",
	                      &d, err));
	assert_int_equal(d.threads, 8);
	assert_true(d.big == INT64_C(1) << 40);
	assert_true(d.flag);
	assert_string_equal(d.name, "abc");
	assert_string_equal(d.mode, "deny");
	assert_int_equal(d.listen.n, 1);
	assert_string_equal(d.listen.v[0], "a:1");
	config_free(schema, NKEYS, &d);
}

static void expect_error(const char *text, const char *want)
{
	struct demo d;
	char err[CONFIG_ERR_MAX];

	assert_false(load_text(text, &d, err));
	/* Messages start with the temporary file's name; compare the rest. */
	const char *colon = strchr(err, ':');
	assert_non_null(colon);
	if (strcmp(colon + 1, want) != 0)
		fail_msg("want \"%s\", got \"%s\"", want, colon + 1);
	config_free(schema, NKEYS, &d);
}

static void test_errors(void **state)
{
	expect_error("threads = 8;\n\nbogus = 1;\n", "3: unknown setting 'bogus'");
	expect_error("limits: { other = 1; };\n", "1: unknown setting 'limits.other'");
	expect_error("threads = 65;\n", "1: setting 'threads' must be between 0 and 64 (got 65)");
	expect_error("threads = -1;\n", "1: setting 'threads' must be between 0 and 64 (got -1)");
	expect_error("threads = \"8\";\n", "1: setting 'threads' must be an integer (got a string)");
	expect_error("threads = 1.5;\n",
	             "1: setting 'threads' must be an integer (got a number with a fraction)");
	expect_error("flag = 1;\n", "1: setting 'flag' must be true or false (got an integer)");
	expect_error("name = \"\";\n",
	             "1: setting 'name' value must be 1 to 8 characters long (got \"\")");
	expect_error("name = \"toolongname\";\n",
	             "1: setting 'name' value must be 1 to 8 characters long (got \"toolongname\")");
	expect_error("mode = \"maybe\";\n",
	             "1: setting 'mode' must be one of off, allow, deny (got \"maybe\")");
	expect_error("listen = [];\n", "1: setting 'listen' must have 1 to 4 items (got 0)");
	expect_error("listen = \"a:1\";\n",
	             "1: setting 'listen' must be a list of strings (got a string)");
	expect_error("listen = (\"a\", 1);\n",
	             "1: setting 'listen' must be a list of strings (item 2 is an integer)");
	expect_error("limits: { big = 0; };\n",
	             "1: setting 'limits.big' must be between 1 and 1099511627776 (got 0)");
	expect_error("threads = ;\n", "1: syntax error");
	expect_error("\nword = \"box\";\n", "2: setting 'word': \"x\" is not allowed");
	/* Values are echoed escaped: the file may hold any bytes. */
	expect_error("mode = \"a\\x01b\";\n",
	             "1: setting 'mode' must be one of off, allow, deny (got \"a\\x01b\")");
}

static void test_missing_file(void **state)
{
	struct demo d;
	char err[CONFIG_ERR_MAX];

	config_defaults(schema, NKEYS, &d);
	assert_false(config_load_file(schema, NKEYS, "/nonexistent/x.conf", &d, err));
	assert_string_equal(err, "/nonexistent/x.conf: cannot open: No such file or directory");
	/* Defaults survive a failed load. */
	assert_string_equal(d.name, "dflt");
	config_free(schema, NKEYS, &d);
}

/* libconfig's scanner exits the process when a read fails (a directory);
 * anything but a regular file must be refused before it gets there. */
static void test_not_a_file(void **state)
{
	struct demo d;
	char err[CONFIG_ERR_MAX];
	char dir[] = "/tmp/sta-test-config-dir-XXXXXX";

	assert_non_null(mkdtemp(dir));
	config_defaults(schema, NKEYS, &d);
	assert_false(config_load_file(schema, NKEYS, dir, &d, err));
	assert_non_null(strstr(err, "is a directory, not a file"));
	char fifo[64];
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* No writer: a blocking open would hang here. */
	assert_false(config_load_file(schema, NKEYS, fifo, &d, err));
	assert_non_null(strstr(err, "is not a regular file"));
	unlink(fifo);
	rmdir(dir);
	config_free(schema, NKEYS, &d);
}

static void test_reload_replaces_values(void **state)
{
	struct demo d;
	char err[CONFIG_ERR_MAX];

	assert_true(load_text("name = \"one\";\nlisten = [\"x:1\", \"y:2\"];\n", &d, err));
	const char *path = write_tmp("name = \"two\";\n");
	assert_true(config_load_file(schema, NKEYS, path, &d, err));
	unlink(path);
	assert_string_equal(d.name, "two");
	assert_int_equal(d.listen.n, 2);
	config_free(schema, NKEYS, &d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_not_a_file),
		cmocka_unit_test(test_reload_replaces_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
