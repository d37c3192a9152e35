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

	/* No width (a pipe): a bar of 20. */
	render_progress(&b, &p, 0);
	assert_string_equal(buf_cstr(&b), "[######--------------]  33.3%  1.0 MiB of 3.0 MiB  "
	                                  "3.4 MB/s  5 peers  ETA 0:00:01");
	buf_clear(&b);
	struct progress unknown = { -1, -1, -1, -1, -1, NULL };
	render_progress(&b, &unknown, 0);
	assert_string_equal(buf_cstr(&b), "[--------------------]      ?  ? of ?  ?  ? peers  ETA ?");
	buf_clear(&b);
	p.peers = 1;
	render_progress(&b, &p, 0);
	assert_non_null(strstr(buf_cstr(&b), " 1 peer "));
	buf_free(&b);
}

/* Every width from 1 to 200 columns: the line never reaches the last
 * column (where a terminal wraps); the percentage stays while it fits. */
static void test_progress_fits_the_width(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct progress p = { .size = 3 * 1024 * 1024, .done = 1024 * 1024, .rate = 3400000,
		              .peers = 5, .eta = 1 };

	for (size_t w = 1; w <= 200; w++) {
		buf_clear(&b);
		render_progress(&b, &p, w);
		assert_true(b.len < w);
		if (w > 8)
			assert_non_null(strstr(buf_cstr(&b), "33.3%"));
	}
	buf_clear(&b);
	render_progress(&b, &p, 60);
	/* The byte counts go first, then the bar shrinks. */
	assert_string_equal(buf_cstr(&b),
	                    "[######------------]  33.3%  3.4 MB/s  5 peers  ETA 0:00:01");
	buf_clear(&b);
	render_progress(&b, &p, 200);
	assert_non_null(strstr(buf_cstr(&b), "[" "########" "#####" "---"));
	assert_non_null(strstr(buf_cstr(&b), "1.0 MiB of 3.0 MiB"));
	assert_int_equal(strchr(buf_cstr(&b), ']') - (char *)b.data, 41); /* bar of 40 at most */
	buf_free(&b);
}

static void test_progress_notes(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct ctl_torrent t;

	ctl_torrent_init(&t);
	t.state = ctl_str_c("downloading");
	t.size = 100;
	t.done = 0;
	t.complete = 0;
	t.peers = 0;
	/* No peer and no seeder known: the bar says so instead of "0 peers ETA ?". */
	assert_string_equal(progress_note(&t), "no seeders known; waiting");
	t.tracker_seeders = 0;
	assert_string_equal(progress_note(&t), "no seeders known; waiting");
	t.tracker_seeders = 2;
	assert_null(progress_note(&t));
	t.tracker_seeders = 0;
	t.peers = 1;
	assert_null(progress_note(&t));
	t.state = ctl_str_c("paused");
	assert_non_null(strstr(progress_note(&t), "paused"));
	t.state = ctl_str_c("closed");
	assert_non_null(strstr(progress_note(&t), "stactl start"));

	struct progress p = { .size = 100, .done = 0, .rate = 0, .peers = 0, .eta = -1,
		              .note = "no seeders known; waiting" };
	render_progress(&b, &p, 60);
	assert_string_equal(buf_cstr(&b),
	                    "[----------------]   0.0%  0 B/s  no seeders known; waiting");
	buf_clear(&b);
	render_progress(&b, &p, 0);
	assert_string_equal(buf_cstr(&b), "[--------------------]   0.0%  0 B of 100 B  0 B/s  "
	                                  "no seeders known; waiting");
	assert_null(strstr(buf_cstr(&b), "ETA"));
	buf_free(&b);
}

static void test_ratio(void **state)
{
	char out[RENDER_NUM_MAX];

	render_ratio(out, sizeof out, 0);
	assert_string_equal(out, "0.00");
	render_ratio(out, sizeof out, 1250);
	assert_string_equal(out, "1.25");
	render_ratio(out, sizeof out, 999);
	assert_string_equal(out, "0.99");
	render_ratio(out, sizeof out, 12345678);
	assert_string_equal(out, "12345.67");
	render_ratio(out, sizeof out, -1);
	assert_string_equal(out, "?");
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

static void test_strings_and_counts(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	char num[RENDER_NUM_MAX];
	struct ctl_str absent = { NULL, 0 }, evil = { "a\x1b" "b", 3 };

	assert_int_equal(render_str(&b, absent), 1);
	assert_int_equal(render_str(&b, ctl_str_c("seeding")), 7);
	assert_int_equal(render_str(&b, evil), 6);
	assert_string_equal(buf_cstr(&b), "?seedinga\\x1bb");
	render_count(num, sizeof num, 42);
	assert_string_equal(num, "42");
	render_count(num, sizeof num, -1);
	assert_string_equal(num, "?");
	buf_free(&b);
}

static char *render_table(const struct table *t, size_t width)
{
	struct sta_buf b = STA_BUF_INIT;

	table_render(t, &b, width);
	buf_cstr(&b);
	return (char *)b.data;
}

static void test_table_alignment(void **state)
{
	static const struct table_col cols[] = {
		{ .head = "NAME", .max = 48 },
		{ .head = "SIZE", .right = true },
		{ .head = "HASH" },
	};
	struct table t;

	table_init(&t, 3, cols);
	table_add(&t, "a");
	table_add(&t, "1 B");
	table_add(&t, "ab12");
	table_add(&t, "long-name");
	table_add(&t, "10.0 MiB");
	table_add(&t, "cd34");
	char *out = render_table(&t, 0);
	assert_string_equal(out, "NAME           SIZE  HASH\n"
	                         "a               1 B  ab12\n"
	                         "long-name  10.0 MiB  cd34\n");
	free(out);
	table_free(&t);
}

static void test_table_utf8_and_long_names(void **state)
{
	static const struct table_col cols[] = {
		{ .head = "NAME", .max = 10 },
		{ .head = "N", .right = true },
	};
	static const struct table_col cols6[] = { { .head = "NAME", .max = 6 }, { .head = "N" } };
	struct table t;

	table_init(&t, 2, cols);
	table_add(&t, "caf\xc3\xa9");           /* 4 cells, 5 bytes */
	table_add(&t, "1");
	table_add(&t, "\xe6\x97\xa5\xe6\x9c\xac"); /* 4 cells, 6 bytes */
	table_add(&t, "22");
	table_add(&t, "abcdefghijklmnopqrstuvwxyz");
	table_add(&t, "3");
	char *out = render_table(&t, 0);
	/* Columns line up by display cells, not bytes; long names are cut. */
	assert_string_equal(out, "NAME         N\n"
	                         "caf\xc3\xa9         1\n"
	                         "\xe6\x97\xa5\xe6\x9c\xac        22\n"
	                         "abcdefg...   3\n");
	free(out);
	table_free(&t);

	/* A wide character that does not fit before "..." is dropped whole. */
	table_init(&t, 2, cols6);
	table_add(&t, "ab\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5");
	table_add(&t, "x");
	out = render_table(&t, 0);
	assert_string_equal(out, "NAME   N\n"
	                         "ab...  x\n");
	free(out);
	table_free(&t);
}

static void fill_wide_table(struct table *t, const struct table_col *cols)
{
	table_init(t, 5, cols);
	table_add(t, "a-rather-long-file-name-for-a-table.iso");
	table_add(t, "downloading");
	table_add(t, "1.5 GiB");
	table_add(t, "12.3 MB/s");
	table_add(t, "0123456789abcdef0123456789abcdef01234567");
}

/* Narrow terminals: the info-hash is cut to a prefix first, then the name
 * to a readable width, then columns go by rank, then the name to its
 * minimum; no line is ever wider than asked while that can be done. */
static void test_table_fits_the_width(void **state)
{
	static const struct table_col cols[] = {
		{ .head = "NAME", .max = 48, .min = 8 },
		{ .head = "STATE" },
		{ .head = "SIZE", .right = true, .drop = 1 },
		{ .head = "DOWN", .right = true, .drop = 2 },
		{ .head = "INFO-HASH", .prefix = true, .min = 8 },
	};
	struct table t;

	fill_wide_table(&t, cols);
	char *out = render_table(&t, 80);
	assert_string_equal(out, "NAME                                  STATE           SIZE       DOWN"
	                         "  INFO-HASH\n"
	                         "a-rather-long-file-name-for-a-tab...  downloading  1.5 GiB  12.3 MB/s"
	                         "  012345678\n");
	free(out);
	for (size_t w = 32; w <= 140; w++) { /* 32: NAME, STATE, INFO-HASH at their least */
		out = render_table(&t, w);
		for (char *line = out; *line; line = strchr(line, '\n') + 1)
			assert_true((size_t)(strchr(line, '\n') - line) <= w);
		assert_non_null(strstr(out, "01234567")); /* a usable prefix */
		free(out);
	}
	out = render_table(&t, 0);
	assert_non_null(strstr(out, "a-rather-long-file-name-for-a-table.iso"));
	assert_non_null(strstr(out, "0123456789abcdef0123456789abcdef01234567\n"));
	free(out);
	out = render_table(&t, 40);
	assert_string_equal(out, "NAME              STATE        INFO-HASH\n"
	                         "a-rather-long...  downloading  012345678\n");
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
		cmocka_unit_test(test_strings_and_counts),
		cmocka_unit_test(test_table_alignment),
		cmocka_unit_test(test_table_utf8_and_long_names),
		cmocka_unit_test(test_table_fits_the_width),
		cmocka_unit_test(test_progress_fits_the_width),
		cmocka_unit_test(test_progress_notes),
		cmocka_unit_test(test_ratio),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
