#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "catalog_proto.h"

static bool parse(const char *qs, struct catalog_query *q, char *err)
{
	return catalog_query_parse(qs, strlen(qs), q, err, 128);
}

static void test_query_defaults(void **state)
{
	struct catalog_query q;
	char err[128];

	assert_true(parse("", &q, err));
	assert_string_equal(q.name, "");
	assert_int_equal(q.sort, CATALOG_SORT_NAME);
	assert_false(q.desc);
	assert_int_equal(q.limit, CATALOG_LIMIT_DEFAULT);
	assert_int_equal(q.format, CATALOG_FMT_BENCODE);
	assert_false(q.format_given);
	assert_false(q.has_after);

	/* A search ranks by default, best first; other sorts are descending. */
	assert_true(parse("q=foo+bar&x=1&format=json", &q, err));
	assert_string_equal(q.words, "foo bar");
	assert_int_equal(q.sort, CATALOG_SORT_RANK);
	assert_true(q.desc);
	assert_true(q.format_given);
	assert_int_equal(q.format, CATALOG_FMT_JSON);
	assert_true(parse("sort=size&limit=1000", &q, err));
	assert_int_equal(q.sort, CATALOG_SORT_SIZE);
	assert_true(q.desc);
	assert_int_equal(q.limit, 1000);
	assert_true(parse("sort=added&order=asc", &q, err));
	assert_false(q.desc);
}

static void test_query_values(void **state)
{
	struct catalog_query q;
	char err[128];

	/* '+' is a space, %2B a plus; the name is taken byte for byte. */
	assert_true(parse("name=a%2Bb+c%C3%A9", &q, err));
	assert_string_equal(q.name, "a+b c\xc3\xa9");
	assert_true(parse("hash=ABcd01", &q, err));
	assert_string_equal(q.hash_prefix, "abcd01");
	/* Empty selectors count as absent (an empty search box). */
	assert_true(parse("q=&name=", &q, err));
	assert_int_equal(q.sort, CATALOG_SORT_NAME);
	assert_true(parse("q=+%09+", &q, err));
	assert_string_equal(q.words, "");
}

static void test_query_errors(void **state)
{
	static const char *const bad[] = {
		"limit=0", "limit=1001", "limit=-1", "limit=", "sort=bogus", "order=up",
		"format=xml", "name=a&q=b", "q=a&hash=ab", "hash=xyz", "sort=rank", "after=zz",
		"hash=0123456789012345678901234567890123456789a", /* 41 digits */
		"name=%4", "q=%zz", "sort=name%00", "name=a%00b",
	};
	struct catalog_query q;
	char err[128];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_false(parse(bad[i], &q, err));
		assert_true(strlen(err) > 5);
	}
	char big[CATALOG_NAME_MAX + 8];
	memset(big, 'x', sizeof big);
	memcpy(big, "name=", 5);
	big[5 + CATALOG_NAME_MAX + 1] = '\0';
	assert_false(parse(big, &q, err));
	big[5 + CATALOG_NAME_MAX] = '\0';
	assert_true(parse(big, &q, err));
}

static void test_cursor_round_trip(void **state)
{
	struct catalog_cursor c = { CATALOG_SORT_SIZE, true, -7, 123456789, 4, "ab c" }, d;
	char s[CATALOG_CURSOR_MAX + 1];

	catalog_cursor_encode(&c, s);
	assert_true(catalog_cursor_decode(s, strlen(s), &d));
	assert_int_equal(d.sort, CATALOG_SORT_SIZE);
	assert_true(d.desc);
	assert_int_equal(d.key, -7);
	assert_int_equal(d.id, 123456789);
	assert_string_equal(d.name, "ab c");

	/* It goes in a query only with the sort and order it was made for. */
	struct catalog_query q;
	char qs[CATALOG_CURSOR_MAX + 64], err[128];
	snprintf(qs, sizeof qs, "sort=size&after=%s", s);
	assert_true(parse(qs, &q, err));
	assert_true(q.has_after);
	assert_int_equal(q.after.id, 123456789);
	snprintf(qs, sizeof qs, "sort=size&order=asc&after=%s", s);
	assert_false(parse(qs, &q, err));
	snprintf(qs, sizeof qs, "after=%s", s);
	assert_false(parse(qs, &q, err));

	/* Truncated, odd, or with a bad version: refused. */
	assert_false(catalog_cursor_decode(s, 36, &d));
	assert_false(catalog_cursor_decode(s, strlen(s) - 1, &d));
	s[1] = '2';
	assert_false(catalog_cursor_decode(s, strlen(s), &d));
}

static void test_query_encode_round_trip(void **state)
{
	struct catalog_query q, back;
	struct sta_buf b = STA_BUF_INIT;
	char err[128];

	catalog_query_init(&q);
	strcpy(q.words, "x86_64 lib+foo é&=");
	q.sort = CATALOG_SORT_RANK;
	q.desc = true;
	q.limit = 7;
	q.has_after = true;
	q.after = (struct catalog_cursor){ CATALOG_SORT_RANK, true, 5, 9, 3, "a&b" };
	catalog_query_encode(&q, &b);
	buf_append_byte(&b, '\0');
	assert_true(parse((const char *)b.data, &back, err));
	assert_string_equal(back.words, q.words);
	assert_int_equal(back.limit, 7);
	assert_true(back.has_after);
	assert_string_equal(back.after.name, "a&b");
	assert_false(back.format_given);
	buf_free(&b);
}

static void test_listing_round_trip(void **state)
{
	struct catalog_entry e[2] = {
		{ "hello.txt", 1000, { 1, 2, 3 }, 4, 5, 1700000000 },
		{ "second", 0, { 0xff }, 0, 0, 1 },
	};
	struct sta_buf b = STA_BUF_INIT;
	struct catalog_listing l;
	size_t skipped;
	char err[128], next[CATALOG_CURSOR_MAX + 1];
	struct catalog_cursor c = { CATALOG_SORT_NAME, false, 0, 2, 6, "second" };

	catalog_cursor_encode(&c, next);
	catalog_listing_encode(&b, CATALOG_FMT_BENCODE, e, 2, next, "http://t.example/announce");
	assert_true(catalog_listing_decode(b.data, b.len, &l, &skipped, err, sizeof err));
	assert_int_equal(l.n, 2);
	assert_int_equal(skipped, 0);
	assert_string_equal(l.v[0].name, "hello.txt");
	assert_int_equal(l.v[0].size, 1000);
	assert_int_equal(l.v[0].seeders, 4);
	assert_int_equal(l.v[0].leechers, 5);
	assert_int_equal(l.v[0].added, 1700000000);
	assert_memory_equal(l.v[1].info_hash, e[1].info_hash, 20);
	assert_string_equal(l.next, next);
	catalog_listing_free(&l);

	/* The last page has no "next". */
	buf_clear(&b);
	catalog_listing_encode(&b, CATALOG_FMT_BENCODE, e, 1, NULL, NULL);
	assert_true(catalog_listing_decode(b.data, b.len, &l, &skipped, err, sizeof err));
	assert_string_equal(l.next, "");
	catalog_listing_free(&l);

	buf_clear(&b);
	catalog_listing_encode(&b, CATALOG_FMT_JSON, e, 2, next, "http://t.example:1/announce");
	buf_append_byte(&b, '\0');
	assert_non_null(strstr((char *)b.data, "{\"torrents\":[{\"name\":\"hello.txt\",\"size\":1000,"
	                                        "\"info_hash\":\"010203"));
	/* Each entry's magnet link names the tracker (BEP 9). */
	char want[200];
	snprintf(want, sizeof want, "\"added\":1700000000,\"magnet\":\"magnet:?xt=urn:btih:%s"
	         "&dn=hello.txt&tr=http%%3A%%2F%%2Ft.example%%3A1%%2Fannounce\"}",
	         "0102030000000000000000000000000000000000");
	assert_non_null(strstr((char *)b.data, want));
	assert_non_null(strstr((char *)b.data, "\"next\":\""));
	buf_free(&b);
}

static void test_listing_decode_errors(void **state)
{
	static const char *const bad[] = {
		"", "le", "de", "d8:torrentsi1ee", "d4:nexti1e8:torrentslee",
		"d4:next3:abc8:torrentslee", "d8:torrentsl",
	};
	struct catalog_listing l;
	size_t skipped;
	char err[128];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(catalog_listing_decode((const uint8_t *)bad[i], strlen(bad[i]), &l,
		                                    &skipped, err, sizeof err));
	/* Deep nesting is cut by the depth limit, not the stack. */
	char deep[2000] = "d8:torrents";
	size_t k = strlen(deep);
	for (int i = 0; i < 500; i++)
		deep[k++] = 'l';
	for (int i = 0; i < 500; i++)
		deep[k++] = 'e';
	deep[k++] = 'e';
	assert_false(catalog_listing_decode((const uint8_t *)deep, k, &l, &skipped, err,
	                                    sizeof err));
	/* A name with a NUL, an over-long info_hash and seeders past 32 bits
	 * are skipped. */
	const char doc[] = "d8:torrentsld5:addedi1e9:info_hash40:"
	                   "0000000000000000000000000000000000000000"
	                   "8:leechersi0e4:name3:a\0b7:seedersi0e4:sizei1ee"
	                   "d5:addedi1e9:info_hash42:"
	                   "000000000000000000000000000000000000000000"
	                   "8:leechersi0e4:name1:a7:seedersi0e4:sizei1ee"
	                   "d5:addedi1e9:info_hash40:"
	                   "0000000000000000000000000000000000000000"
	                   "8:leechersi0e4:name1:a7:seedersi4294967296e4:sizei1ee"
	                   "d5:addedi1e9:info_hash40:"
	                   "0000000000000000000000000000000000000000"
	                   "8:leechersi0e4:name2:ok7:seedersi4294967295e4:sizei1ee"
	                   "ee";
	assert_true(catalog_listing_decode((const uint8_t *)doc, sizeof doc - 1, &l, &skipped, err,
	                                   sizeof err));
	assert_int_equal(l.n, 1);
	assert_int_equal(skipped, 3);
	assert_string_equal(l.v[0].name, "ok");
	assert_int_equal(l.v[0].seeders, UINT32_MAX);
	catalog_listing_free(&l);
	/* Bad entries are skipped, not fatal. */
	const char *some = "d8:torrentsli1ed4:name1:xeee";
	assert_true(catalog_listing_decode((const uint8_t *)some, strlen(some), &l, &skipped, err,
	                                   sizeof err));
	assert_int_equal(l.n, 0);
	assert_int_equal(skipped, 2);
	catalog_listing_free(&l);
}

static void test_batch(void **state)
{
	struct catalog_span in[2] = { { (const uint8_t *)"d1:ai1ee", 8 },
	                              { (const uint8_t *)"x", 1 } }, *out;
	struct sta_buf b = STA_BUF_INIT;
	size_t n;
	char err[128];

	catalog_batch_encode(&b, in, 2);
	assert_true(catalog_batch_decode(b.data, b.len, 10, &out, &n, err, sizeof err));
	assert_int_equal(n, 2);
	assert_memory_equal(out[0].data, "d1:ai1ee", 8);
	assert_int_equal(out[1].len, 1);
	free(out);
	assert_false(catalog_batch_decode(b.data, b.len, 1, &out, &n, err, sizeof err));
	assert_non_null(strstr(err, "at most 1"));
	assert_false(catalog_batch_decode((const uint8_t *)"li1ee", 5, 10, &out, &n, err,
	                                  sizeof err));
	assert_false(catalog_batch_decode((const uint8_t *)"d1:a1:be", 8, 10, &out, &n, err,
	                                  sizeof err));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_defaults),
		cmocka_unit_test(test_query_values),
		cmocka_unit_test(test_query_errors),
		cmocka_unit_test(test_cursor_round_trip),
		cmocka_unit_test(test_query_encode_round_trip),
		cmocka_unit_test(test_listing_round_trip),
		cmocka_unit_test(test_listing_decode_errors),
		cmocka_unit_test(test_batch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
