#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "catalog_index.h"

static const uint8_t key[16] = { 1, 2, 3 };

/* Words split at blanks (the tokenizer's job in trackerd). */
static void words_of(const char *name, struct cat_tokens *t)
{
	t->n = t->used = 0;
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, " ");
		if (n)
			cat_tokens_add(t, p, n);
		p += n + (p[n] == ' ');
	}
}

static void put(struct cat_index *ix, uint32_t id, const char *name)
{
	struct cat_entry e = { .seen = 100, .size = id * 10, .added = id, .name = name,
	                       .name_len = (uint32_t)strlen(name) };
	struct cat_tokens t;

	e.info_hash[0] = (uint8_t)id;
	words_of(name, &t);
	cat_index_add(ix, id, &e, &t);
}

static void drop(struct cat_index *ix, uint32_t id)
{
	struct cat_tokens t;

	words_of(cat_index_get(ix, id)->name, &t);
	cat_index_remove(ix, id, &t);
}

/* The first max ids holding every term ("word" or "prefix*"), as a string. */
static const char *match(struct cat_index *ix, const char *query, size_t max)
{
	static char out[4096];
	struct cat_term terms[16];
	struct cat_tokens t;
	struct cat_scratch scratch = { NULL, 0 };
	uint32_t ids[2048];
	size_t n = 0, o = 0;

	words_of(query, &t);
	for (uint32_t i = 0; i < t.n; i++) {
		bool prefix = t.buf[t.off[i] + t.len[i] - 1] == '*';
		terms[n++] = (struct cat_term){ t.buf + t.off[i], t.len[i] - prefix, prefix };
	}
	size_t got = cat_index_match(ix, terms, n, &scratch, ids, max);
	out[0] = '\0';
	for (size_t i = 0; i < got; i++)
		o += (size_t)snprintf(out + o, sizeof out - o, "%s%u", i ? " " : "", ids[i]);
	/* The scratch bitmaps are left zeroed for the next search. */
	for (size_t i = 0; i < scratch.words; i++)
		assert_int_equal(scratch.bits[i], 0);
	cat_scratch_free(&scratch);
	return out;
}

static void test_entries_and_names(void **state)
{
	struct cat_index *ix = cat_index_new(key);
	uint32_t ids[8];

	put(ix, 3, "report final pdf");
	put(ix, 7, "report final pdf");
	put(ix, 5, "Report final pdf");
	assert_null(cat_index_get(ix, 4));
	assert_null(cat_index_get(ix, 1u << 30));
	assert_string_equal(cat_index_get(ix, 5)->name, "Report final pdf");
	assert_int_equal(cat_index_get(ix, 7)->size, 70);
	assert_true(cat_index_top(ix) > 7);
	/* Exact names compare bytes; ids come out ascending; max is respected. */
	assert_int_equal(cat_index_named(ix, "report final pdf", 16, ids, 8), 2);
	assert_int_equal(ids[0], 3);
	assert_int_equal(ids[1], 7);
	assert_int_equal(cat_index_named(ix, "report final pdf", 16, ids, 1), 1);
	assert_int_equal(cat_index_named(ix, "report final", 12, ids, 8), 0);
	cat_index_touch(ix, 3, 5000);
	assert_int_equal(cat_index_get(ix, 3)->seen, 5000);
	drop(ix, 3);
	assert_null(cat_index_get(ix, 3));
	assert_int_equal(cat_index_named(ix, "report final pdf", 16, ids, 8), 1);
	assert_int_equal(ids[0], 7);
	/* Words are bytes here: case folding is the tokenizer's. */
	assert_string_equal(match(ix, "report", 10), "7");
	assert_string_equal(match(ix, "Report", 10), "5");
	/* A freed id can be used again, below the highest one. */
	put(ix, 3, "other report");
	assert_string_equal(match(ix, "report", 10), "3 7");
	cat_index_free(ix);
}

static void test_words_and_prefixes(void **state)
{
	struct cat_index *ix = cat_index_new(key);

	put(ix, 1, "holiday photos 2024 zip");
	put(ix, 2, "holiday video mp4");
	put(ix, 3, "holidays txt");
	put(ix, 4, "photo booth holiday holiday");   /* a word twice counts once */
	put(ix, 6, "unrelated iso");
	assert_string_equal(match(ix, "holiday", 10), "1 2 4");
	assert_string_equal(match(ix, "holiday*", 10), "1 2 3 4");
	assert_string_equal(match(ix, "hol* phot*", 10), "1 4");
	assert_string_equal(match(ix, "holiday photos", 10), "1");
	assert_string_equal(match(ix, "nothing*", 10), "");
	assert_string_equal(match(ix, "holiday nothing", 10), "");
	assert_string_equal(match(ix, "holiday*", 2), "1 2");
	assert_string_equal(match(ix, "", 10), "");
	drop(ix, 4);
	assert_string_equal(match(ix, "holiday", 10), "1 2");
	assert_string_equal(match(ix, "photo*", 10), "1");
	cat_index_free(ix);
}

/* Prefixes that match many words are intersected as bitmaps, a few words
 * as walked lists; both ways, and mixed, give the same ids. */
static void test_many_words_bitmaps(void **state)
{
	struct cat_index *ix = cat_index_new(key);
	char name[64], want[4096] = "";
	size_t o = 0;

	for (uint32_t id = 1; id <= 600; id++) {
		/* Word "aNNN" is unique; "b" every 3rd, "c" every 5th entry. */
		snprintf(name, sizeof name, "a%u%s%s", id, id % 3 ? "" : " b", id % 5 ? "" : " c");
		put(ix, id, name);
	}
	for (uint32_t id = 15; id <= 600; id += 15)
		o += (size_t)snprintf(want + o, sizeof want - o, "%s%u", o ? " " : "", id);
	assert_string_equal(match(ix, "b c", 100), want);          /* lists */
	assert_string_equal(match(ix, "a* b c", 100), want);       /* a bitmap and lists */
	assert_string_equal(match(ix, "b a*", 3), "3 6 9");
	/* Two bitmaps: "a1*" (a1, a10-a19, a100-a199) and "a*". */
	assert_string_equal(match(ix, "a1* a*", 5), "1 10 11 12 13");
	assert_string_equal(match(ix, "a1* c", 100), "10 15 100 105 110 115 120 125 130 135 "
	                                              "140 145 150 155 160 165 170 175 180 185 "
	                                              "190 195");
	cat_index_free(ix);
}

/* Words added in bulk are sorted once at the end, and prefixes find them
 * as they find words added one by one. */
static void test_bulk_load(void **state)
{
	struct cat_index *ix = cat_index_new(key);
	char name[32];

	cat_index_bulk(ix, true);
	for (uint32_t id = 1; id <= 3000; id++) {
		snprintf(name, sizeof name, "w%05u", 3001 - id);
		put(ix, id, name);
	}
	cat_index_bulk(ix, false);
	for (uint32_t id = 3001; id <= 5000; id++) {     /* past the unsorted buffer */
		snprintf(name, sizeof name, "w%05u", id);
		put(ix, id, name);
	}
	assert_string_equal(match(ix, "w0000*", 100), "2992 2993 2994 2995 2996 2997 2998 2999 "
	                                              "3000");
	assert_string_equal(match(ix, "w0300*", 100), "1 3001 3002 3003 3004 3005 3006 3007 "
	                                              "3008 3009");
	assert_string_equal(match(ix, "w04999", 100), "4999");
	assert_string_equal(match(ix, "w049*", 3), "4900 4901 4902");
	cat_index_free(ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries_and_names),
		cmocka_unit_test(test_words_and_prefixes),
		cmocka_unit_test(test_many_words_bitmaps),
		cmocka_unit_test(test_bulk_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
