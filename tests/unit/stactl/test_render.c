#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "render.h"

static void test_sizes(void **state)
{
	char out[RENDER_NUM_MAX];

	render_size(out, sizeof out, 0);
	assert_string_equal(out, "0 B");
	render_size(out, sizeof out, 1023);
	assert_string_equal(out, "1023 B");
	render_size(out, sizeof out, 1024);
	assert_string_equal(out, "1.0 KiB");
	render_size(out, sizeof out, 1536);
	assert_string_equal(out, "1.5 KiB");
	/* Just under 1 MiB must not read "1024.0 KiB". */
	render_size(out, sizeof out, 1024 * 1024 - 1);
	assert_string_equal(out, "1.0 MiB");
	render_size(out, sizeof out, 5LL * 1024 * 1024 * 1024);
	assert_string_equal(out, "5.0 GiB");
	render_size(out, sizeof out, INT64_MAX);
	assert_string_equal(out, "8.0 EiB");
	render_size(out, sizeof out, -1);
	assert_string_equal(out, "?");
}

static void test_rates(void **state)
{
	char out[RENDER_NUM_MAX];

	render_rate(out, sizeof out, 0);
	assert_string_equal(out, "0 B/s");
	render_rate(out, sizeof out, 999);
	assert_string_equal(out, "999 B/s");
	render_rate(out, sizeof out, 1000);
	assert_string_equal(out, "1.0 kB/s");
	render_rate(out, sizeof out, 1234567);
	assert_string_equal(out, "1.2 MB/s");
	render_rate(out, sizeof out, 2500000000LL);
	assert_string_equal(out, "2.5 GB/s");
	render_rate(out, sizeof out, -5);
	assert_string_equal(out, "?");
}

static void test_eta(void **state)
{
	char out[RENDER_NUM_MAX];

	render_eta(out, sizeof out, 0);
	assert_string_equal(out, "0:00:00");
	render_eta(out, sizeof out, 65);
	assert_string_equal(out, "0:01:05");
	render_eta(out, sizeof out, 3600 + 61);
	assert_string_equal(out, "1:01:01");
	render_eta(out, sizeof out, 99 * 3600 + 59 * 60 + 59);
	assert_string_equal(out, "99:59:59");
	render_eta(out, sizeof out, 100 * 3600);
	assert_string_equal(out, ">100h");
	render_eta(out, sizeof out, INT64_MAX);
	assert_string_equal(out, ">100h");
	render_eta(out, sizeof out, -1);
	assert_string_equal(out, "?");
}

static void test_percent(void **state)
{
	char out[RENDER_NUM_MAX];

	render_percent(out, sizeof out, 0, 100);
	assert_string_equal(out, "0.0%");
	render_percent(out, sizeof out, 42, 100);
	assert_string_equal(out, "42.0%");
	/* One byte short of a big file is not 100%. */
	render_percent(out, sizeof out, 999999999, 1000000000);
	assert_string_equal(out, "99.9%");
	render_percent(out, sizeof out, 100, 100);
	assert_string_equal(out, "100.0%");
	render_percent(out, sizeof out, 200, 100); /* a confused server */
	assert_string_equal(out, "100.0%");
	render_percent(out, sizeof out, 0, 0);
	assert_string_equal(out, "100.0%");
	render_percent(out, sizeof out, -1, 100);
	assert_string_equal(out, "?");
	render_percent(out, sizeof out, 5, -1);
	assert_string_equal(out, "?");
	render_percent(out, sizeof out, INT64_MAX - 1, INT64_MAX);
	assert_string_equal(out, "99.9%");
}

static void test_bar_widths(void **state)
{
	char out[64];

	render_bar(out, sizeof out, 0, 100, 10);
	assert_string_equal(out, "[----------]");
	render_bar(out, sizeof out, 50, 100, 10);
	assert_string_equal(out, "[#####-----]");
	render_bar(out, sizeof out, 99, 100, 10);
	assert_string_equal(out, "[#########-]");
	render_bar(out, sizeof out, 100, 100, 10);
	assert_string_equal(out, "[##########]");
	/* Nearly done never looks done. */
	render_bar(out, sizeof out, 9999, 10000, 4);
	assert_string_equal(out, "[###-]");
	render_bar(out, sizeof out, -1, 100, 5);
	assert_string_equal(out, "[-----]");
	render_bar(out, sizeof out, 0, 0, 1);
	assert_string_equal(out, "[#]");
	render_bar(out, sizeof out, 1, 2, 0);
	assert_string_equal(out, "[]");
	for (size_t w = 0; w <= 40; w++) {
		render_bar(out, sizeof out, 123, 1000, w);
		assert_int_equal(strlen(out), w + 2);
	}
	/* Too small an output buffer yields an empty string, never overflow. */
	render_bar(out, 12, 1, 2, 10);
	assert_string_equal(out, "");
}

static void test_progress_line(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct progress p = { .size = 3 * 1024 * 1024, .done = 1024 * 1024, .rate = 3400000,
		              .peers = 5, .eta = 1 };

	render_progress(&b, &p, 10);
	assert_string_equal(buf_cstr(&b),
	                    "[###-------]  33.3%  1.0 MiB of 3.0 MiB  3.4 MB/s  5 peers  ETA 0:00:01");
	buf_clear(&b);
	struct progress unknown = { -1, -1, -1, -1, -1 };
	render_progress(&b, &unknown, 4);
	assert_string_equal(buf_cstr(&b), "[----]      ?  ? of ?  ?  ? peers  ETA ?");
	buf_clear(&b);
	p.peers = 1;
	render_progress(&b, &p, 2);
	assert_non_null(strstr(buf_cstr(&b), " 1 peer "));
	buf_free(&b);
}

static const char *text(struct sta_buf *b, const char *s, size_t len, size_t *width)
{
	buf_clear(b);
	*width = render_text(b, (const uint8_t *)s, len);
	return buf_cstr(b);
}

static void test_text_escapes_hostile_bytes(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	size_t w;

	assert_string_equal(text(&b, "plain.txt", 9, &w), "plain.txt");
	assert_int_equal(w, 9);
	/* Terminal escapes, newlines and NULs never reach the terminal raw. */
	assert_string_equal(text(&b, "a\x1b[2Jb\n\0c", 9, &w), "a\\x1b[2Jb\\x0a\\x00c");
	assert_int_equal(w, strlen(buf_cstr(&b)));
	/* A backslash is doubled so the escapes stay unambiguous. */
	assert_string_equal(text(&b, "a\\x1b", 5, &w), "a\\\\x1b");
	/* Valid UTF-8 stays; invalid bytes, overlongs and surrogates are escaped. */
	assert_string_equal(text(&b, "caf\xc3\xa9", 5, &w), "caf\xc3\xa9");
	assert_int_equal(w, 4);
	assert_string_equal(text(&b, "\xff\xc3", 2, &w), "\\xff\\xc3");
	assert_string_equal(text(&b, "\xc0\xaf", 2, &w), "\\xc0\\xaf");
	assert_string_equal(text(&b, "\xed\xa0\x80", 3, &w), "\\xed\\xa0\\x80");
	/* C1 controls (U+009B is a CSI) and bidi overrides are escaped whole. */
	assert_string_equal(text(&b, "\xc2\x9b", 2, &w), "\\xc2\\x9b");
	assert_string_equal(text(&b, "x\xe2\x80\xaey", 5, &w), "x\\xe2\\x80\\xaey");
	assert_int_equal(w, 14);
	/* Wide characters count two cells. */
	assert_string_equal(text(&b, "\xe6\x97\xa5\xe6\x9c\xac", 6, &w), "\xe6\x97\xa5\xe6\x9c\xac");
	assert_int_equal(w, 4);
	assert_int_equal(text_width("\xe6\x97\xa5\xe6\x9c\xac"), 4);
	assert_int_equal(text_width("e\xcc\x81"), 1); /* combining accent */
	buf_free(&b);
}

static void test_json_document(void **state)
{
	static const char payload[] =
		"d5:filesld4:name4:a\"b\xff" "4:sizei-3eee2:okl1:xi7ee4:zeroi0ee";
	struct be_doc doc;
	struct sta_buf b = STA_BUF_INIT;

	assert_int_equal(be_decode(&doc, (const uint8_t *)payload, sizeof payload - 1, NULL, NULL),
	                 BE_OK);
	assert_true(render_json(&b, &doc, be_root(&doc)));
	assert_string_equal(buf_cstr(&b),
	                    "{\"files\":[{\"name\":\"a\\\"b\\ufffd\",\"size\":-3}],"
	                    "\"ok\":[\"x\",7],\"zero\":0}");
	be_doc_free(&doc);
	buf_free(&b);
}

static void test_fields_type_checked(void **state)
{
	static const char payload[] = "d4:namei5e4:sizei-1e5:state7:seeding5:countli1eee";
	struct be_doc doc;
	struct sta_buf b = STA_BUF_INIT;
	int64_t v = 42;

	assert_int_equal(be_decode(&doc, (const uint8_t *)payload, sizeof payload - 1, NULL, NULL),
	                 BE_OK);
	const struct be_node *root = be_root(&doc);
	/* A string field holding an int, a missing one, a NULL dict: "?". */
	assert_int_equal(render_field(&b, &doc, root, "name"), 1);
	assert_int_equal(render_field(&b, &doc, root, "missing"), 1);
	assert_int_equal(render_field(&b, &doc, NULL, "name"), 1);
	assert_int_equal(render_field(&b, &doc, root, "state"), 7);
	assert_string_equal(buf_cstr(&b), "???seeding");
	/* A dict lookup on a list node finds nothing. */
	const struct be_node *list = be_dict_get(&doc, root, "count");
	assert_non_null(list);
	buf_clear(&b);
	render_field(&b, &doc, list, "x");
	assert_string_equal(buf_cstr(&b), "?");
	assert_false(field_int(&doc, root, "state", &v));
	assert_false(field_int(&doc, root, "count", &v));
	assert_false(field_int(&doc, NULL, "size", &v));
	assert_int_equal(v, 42);
	assert_int_equal(field_count(&doc, root, "size"), -1); /* negative */
	assert_int_equal(field_count(&doc, root, "name"), 5);
	assert_int_equal(field_count(&doc, root, "state"), -1);
	be_doc_free(&doc);
	buf_free(&b);
}

static char *render_table(const struct table *t, size_t max)
{
	struct sta_buf b = STA_BUF_INIT;

	table_render(t, &b, max);
	buf_cstr(&b);
	return (char *)b.data;
}

static void test_table_alignment(void **state)
{
	static const char *const heads[] = { "NAME", "SIZE", "HASH" };
	struct table t;

	table_init(&t, 3, heads, 0x2);
	table_add(&t, "a");
	table_add(&t, "1 B");
	table_add(&t, "ab12");
	table_add(&t, "long-name");
	table_add(&t, "10.0 MiB");
	table_add(&t, "cd34");
	char *out = render_table(&t, 48);
	assert_string_equal(out, "NAME           SIZE  HASH\n"
	                         "a               1 B  ab12\n"
	                         "long-name  10.0 MiB  cd34\n");
	free(out);
	table_free(&t);
}

static void test_table_utf8_and_long_names(void **state)
{
	static const char *const heads[] = { "NAME", "N" };
	struct table t;

	table_init(&t, 2, heads, 0x2);
	table_add(&t, "caf\xc3\xa9");           /* 4 cells, 5 bytes */
	table_add(&t, "1");
	table_add(&t, "\xe6\x97\xa5\xe6\x9c\xac"); /* 4 cells, 6 bytes */
	table_add(&t, "22");
	table_add(&t, "abcdefghijklmnopqrstuvwxyz");
	table_add(&t, "3");
	char *out = render_table(&t, 10);
	/* Columns line up by display cells, not bytes; long names are cut. */
	assert_string_equal(out, "NAME         N\n"
	                         "caf\xc3\xa9         1\n"
	                         "\xe6\x97\xa5\xe6\x9c\xac        22\n"
	                         "abcdefg...   3\n");
	free(out);
	table_free(&t);

	/* A wide character that does not fit before "..." is dropped whole. */
	table_init(&t, 2, heads, 0);
	table_add(&t, "ab\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5");
	table_add(&t, "x");
	out = render_table(&t, 6);
	assert_string_equal(out, "NAME   N\n"
	                         "ab...  x\n");
	free(out);
	table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_eta),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_bar_widths),
		cmocka_unit_test(test_progress_line),
		cmocka_unit_test(test_text_escapes_hostile_bytes),
		cmocka_unit_test(test_json_document),
		cmocka_unit_test(test_fields_type_checked),
		cmocka_unit_test(test_table_alignment),
		cmocka_unit_test(test_table_utf8_and_long_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
