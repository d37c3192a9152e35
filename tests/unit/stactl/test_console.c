#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "console.h"

static void test_split_words_and_quotes(void **state)
{
	char **w;
	const char *err;

	assert_int_equal(console_split("", &w, &err), 0);
	assert_null(w[0]);
	console_free_words(w);

	assert_int_equal(console_split("  request   hello.txt --detach ", &w, &err), 3);
	assert_string_equal(w[0], "request");
	assert_string_equal(w[1], "hello.txt");
	assert_string_equal(w[2], "--detach");
	assert_null(w[3]);
	console_free_words(w);

	/* Names with spaces, quotes inside quotes, an empty word, escapes. */
	assert_int_equal(console_split("share 'my file'\t\"it's\" '' a\\ b \"q\\\"\" 'x\\y'", &w,
	                               &err),
	                 7);
	assert_string_equal(w[1], "my file");
	assert_string_equal(w[2], "it's");
	assert_string_equal(w[3], "");
	assert_string_equal(w[4], "a b");
	assert_string_equal(w[5], "q\"");
	assert_string_equal(w[6], "x\\y"); /* no escapes inside '...' */
	console_free_words(w);

	/* Adjacent quoted and bare parts join into one word. */
	assert_int_equal(console_split("ab'c d'e", &w, &err), 1);
	assert_string_equal(w[0], "abc de");
	console_free_words(w);
}

static void test_split_errors(void **state)
{
	char **w = NULL;
	const char *err;

	assert_int_equal(console_split("request 'unterminated", &w, &err), -1);
	assert_string_equal(err, "unterminated quote");
	assert_int_equal(console_split("a \"b", &w, &err), -1);
	assert_int_equal(console_split("trailing\\", &w, &err), -1);
	assert_non_null(err);
	assert_null(w);

	char line[CONSOLE_MAX_WORDS * 2 + 8] = "";
	for (int i = 0; i < CONSOLE_MAX_WORDS; i++)
		strcat(line, "x ");
	assert_int_equal(console_split(line, &w, &err), CONSOLE_MAX_WORDS);
	console_free_words(w);
	strcat(line, "y");
	assert_int_equal(console_split(line, &w, &err), -1);
	assert_string_equal(err, "too many words");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_words_and_quotes),
		cmocka_unit_test(test_split_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
