#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bencode.h"
#include "buf.h"
#include "xmalloc.h"

static enum be_err decode_s(struct be_doc *doc, const char *s, const struct be_limits *lim,
                            struct be_error *err)
{
	return be_decode(doc, (const uint8_t *)s, strlen(s), lim, err);
}

/* Expects s to fail with code at offset. */
static void expect_err(const char *s, enum be_err code, size_t offset)
{
	struct be_doc doc;
	struct be_error err = { BE_OK, 12345 };

	if (decode_s(&doc, s, NULL, &err) != code || err.code != code || err.offset != offset)
		fail_msg("\"%s\": got %s at %zu, want %s at %zu", s, be_strerror(err.code), err.offset,
		         be_strerror(code), offset);
	assert_null(doc.nodes);
	assert_int_equal(doc.n_nodes, 0);
}

static void expect_ok(const char *s)
{
	struct be_doc doc;
	struct be_error err;

	if (decode_s(&doc, s, NULL, &err) != BE_OK)
		fail_msg("\"%s\": %s at %zu", s, be_strerror(err.code), err.offset);
	be_doc_free(&doc);
}

static void test_scalars(void **state)
{
	struct be_doc doc;

	assert_int_equal(decode_s(&doc, "i42e", NULL, NULL), BE_OK);
	assert_int_equal(doc.n_nodes, 1);
	assert_int_equal(be_root(&doc)->type, BE_INT);
	assert_int_equal(be_root(&doc)->ival, 42);
	assert_int_equal(be_root(&doc)->raw_len, 4);
	be_doc_free(&doc);

	assert_int_equal(decode_s(&doc, "i-9223372036854775808e", NULL, NULL), BE_OK);
	assert_true(be_root(&doc)->ival == INT64_MIN);
	be_doc_free(&doc);
	assert_int_equal(decode_s(&doc, "i9223372036854775807e", NULL, NULL), BE_OK);
	assert_true(be_root(&doc)->ival == INT64_MAX);
	be_doc_free(&doc);
	assert_int_equal(decode_s(&doc, "i0e", NULL, NULL), BE_OK);
	assert_int_equal(be_root(&doc)->ival, 0);
	be_doc_free(&doc);
	assert_int_equal(decode_s(&doc, "i-7e", NULL, NULL), BE_OK);
	assert_int_equal(be_root(&doc)->ival, -7);
	be_doc_free(&doc);

	static const uint8_t bin[] = { '3', ':', 'a', 0, 'b' };
	assert_int_equal(be_decode(&doc, bin, sizeof bin, NULL, NULL), BE_OK);
	assert_int_equal(be_root(&doc)->type, BE_STR);
	assert_int_equal(be_root(&doc)->str_off, 2);
	assert_int_equal(be_root(&doc)->str_len, 3);
	assert_memory_equal(be_str(&doc, be_root(&doc)), "a\0b", 3);
	be_doc_free(&doc);

	assert_int_equal(decode_s(&doc, "0:", NULL, NULL), BE_OK);
	assert_int_equal(be_root(&doc)->str_len, 0);
	be_doc_free(&doc);
	expect_ok("le");
	expect_ok("de");
}

static void test_structure_and_spans(void **state)
{
	const char *s = "d4:infod6:lengthi10e4:name3:abce4:listli1e3:twoli3eeee";
	struct be_doc doc;

	assert_int_equal(decode_s(&doc, s, NULL, NULL), BE_OK);
	const struct be_node *root = be_root(&doc);
	assert_int_equal(root->type, BE_DICT);
	assert_int_equal(root->count, 2);
	assert_int_equal(root->raw_off, 0);
	assert_int_equal(root->raw_len, strlen(s));

	const struct be_node *info = be_dict_get(&doc, root, "info");
	assert_non_null(info);
	assert_int_equal(info->type, BE_DICT);
	assert_int_equal(info->count, 2);
	assert_int_equal(info->raw_off, 7);
	assert_memory_equal(be_raw(&doc, info), "d6:lengthi10e4:name3:abce", info->raw_len);
	assert_int_equal(info->raw_len, strlen("d6:lengthi10e4:name3:abce"));

	int64_t v = 0;
	assert_true(be_dict_get_int(&doc, info, "length", &v));
	assert_int_equal(v, 10);
	assert_false(be_dict_get_int(&doc, info, "name", &v));
	assert_false(be_dict_get_int(&doc, info, "nope", &v));
	size_t len = 0;
	const uint8_t *name = be_dict_get_str(&doc, info, "name", &len);
	assert_non_null(name);
	assert_int_equal(len, 3);
	assert_memory_equal(name, "abc", 3);
	assert_null(be_dict_get_str(&doc, info, "length", &len));
	assert_null(be_dict_get_type(&doc, root, "info", BE_LIST));
	assert_non_null(be_dict_get_type(&doc, root, "info", BE_DICT));
	/* A key is not found through a value that happens to equal it. */
	assert_null(be_dict_get(&doc, info, "abc"));

	const struct be_node *list = be_dict_get_type(&doc, root, "list", BE_LIST);
	assert_non_null(list);
	assert_int_equal(list->count, 3);
	const struct be_node *a = be_first(&doc, list);
	assert_int_equal(a->type, BE_INT);
	assert_int_equal(a->ival, 1);
	const struct be_node *b = be_next(&doc, a);
	assert_int_equal(b->type, BE_STR);
	assert_memory_equal(be_str(&doc, b), "two", 3);
	const struct be_node *c = be_next(&doc, b);
	assert_int_equal(c->type, BE_LIST);
	assert_int_equal(c->count, 1);
	assert_int_equal(be_first(&doc, c)->ival, 3);
	assert_null(be_next(&doc, be_first(&doc, c)));
	assert_null(be_next(&doc, c));
	assert_null(be_next(&doc, root));

	/* Navigation refuses wrong types. */
	assert_null(be_first(&doc, a));
	assert_null(be_dict_get(&doc, list, "x"));
	assert_null(be_dict_get(&doc, NULL, "x"));
	be_doc_free(&doc);
	assert_null(doc.nodes);

	/* Empty containers have no first child. */
	assert_int_equal(decode_s(&doc, "ldeleli0eee", NULL, NULL), BE_OK);
	assert_null(be_first(&doc, be_first(&doc, be_root(&doc))));
	assert_null(be_first(&doc, be_next(&doc, be_first(&doc, be_root(&doc)))));
	be_doc_free(&doc);
}

static void test_every_error_code(void **state)
{
	expect_err("", BE_ERR_EMPTY, 0);

	expect_err("i", BE_ERR_TRUNCATED, 1);
	expect_err("i12", BE_ERR_TRUNCATED, 3);
	expect_err("i-", BE_ERR_TRUNCATED, 2);
	expect_err("5:abc", BE_ERR_TRUNCATED, 0);
	expect_err("l5:abce", BE_ERR_TRUNCATED, 1);
	expect_err("12", BE_ERR_TRUNCATED, 2);
	expect_err("l", BE_ERR_TRUNCATED, 1);
	expect_err("li1e", BE_ERR_TRUNCATED, 4);
	expect_err("d1:a", BE_ERR_TRUNCATED, 4);
	expect_err("d1:ai1e", BE_ERR_TRUNCATED, 7);
	expect_err("lllleee", BE_ERR_TRUNCATED, 7);

	expect_err("ie", BE_ERR_SYNTAX, 1);
	expect_err("i-e", BE_ERR_SYNTAX, 2);
	expect_err("i+1e", BE_ERR_SYNTAX, 1);
	expect_err("i1.5e", BE_ERR_SYNTAX, 2);
	expect_err("i 1e", BE_ERR_SYNTAX, 1);
	expect_err("3abc", BE_ERR_SYNTAX, 1);
	expect_err("-3:abc", BE_ERR_SYNTAX, 0);
	expect_err("x", BE_ERR_SYNTAX, 0);
	expect_err("e", BE_ERR_SYNTAX, 0);
	expect_err("lxe", BE_ERR_SYNTAX, 1);
	expect_err("d1:ae", BE_ERR_SYNTAX, 4); /* key without value */

	expect_err("i03e", BE_ERR_LEADING_ZERO, 1);
	expect_err("i00e", BE_ERR_LEADING_ZERO, 1);
	expect_err("i-03e", BE_ERR_LEADING_ZERO, 2);
	expect_err("03:abc", BE_ERR_LEADING_ZERO, 0);
	expect_err("00:", BE_ERR_LEADING_ZERO, 0);

	expect_err("i-0e", BE_ERR_NEG_ZERO, 1);

	expect_err("i9223372036854775808e", BE_ERR_INT_RANGE, 0);
	expect_err("i-9223372036854775809e", BE_ERR_INT_RANGE, 0);
	expect_err("i99999999999999999999999999e", BE_ERR_INT_RANGE, 0);
	expect_err("li1ei18446744073709551616ee", BE_ERR_INT_RANGE, 4);
	expect_err("4294967296:x", BE_ERR_INT_RANGE, 0);
	expect_err("99999999999999999999999:x", BE_ERR_INT_RANGE, 0);
	/* Fits in 32 bits but runs past the end. */
	expect_err("4294967295:x", BE_ERR_TRUNCATED, 0);

	expect_err("i1ei2e", BE_ERR_TRAILING, 3);
	expect_err("dex", BE_ERR_TRAILING, 2);
	expect_err("lee", BE_ERR_TRAILING, 2);

	expect_err("di1ei2ee", BE_ERR_KEY_TYPE, 1);
	expect_err("d1:ai1elee", BE_ERR_KEY_TYPE, 7);
	expect_err("dlei1ee", BE_ERR_KEY_TYPE, 1);

	expect_err("d1:ai1e1:ai2ee", BE_ERR_DUP_KEY, 7);
	expect_err("d1:bi1e1:ai2e1:bi3ee", BE_ERR_DUP_KEY, 13); /* unsorted, not adjacent */
	expect_err("d1:ci1e1:bi2e1:ai3e1:ci4ee", BE_ERR_DUP_KEY, 19);
	/* Duplicates in different dicts are fine. */
	expect_ok("ld1:ai1eed1:ai1eee");
	/* Unsorted without duplicates passes by default. */
	expect_ok("d1:bi1e1:ai2e2:aai3ee");
	/* "a" < "aa" < "b": prefix sorts first. */
	expect_ok("d1:ai1e2:aai2e1:bi3ee");

	for (int e = BE_OK; e <= BE_ERR_EMPTY; e++)
		assert_string_not_equal(be_strerror((enum be_err)e), "unknown error");
}

static void test_limits(void **state)
{
	struct be_limits lim = be_default_limits;
	struct be_doc doc;
	struct be_error err;

	/* Depth: exactly max_depth nested containers pass, one more fails. */
	lim.max_depth = 3;
	assert_int_equal(decode_s(&doc, "llleee", &lim, &err), BE_OK);
	be_doc_free(&doc);
	assert_int_equal(decode_s(&doc, "ld1:alleee", &lim, &err), BE_ERR_DEPTH);
	assert_int_equal(err.offset, 6);
	lim.max_depth = 0;
	assert_int_equal(decode_s(&doc, "i1e", &lim, &err), BE_OK);
	be_doc_free(&doc);
	assert_int_equal(decode_s(&doc, "le", &lim, &err), BE_ERR_DEPTH);
	assert_int_equal(err.offset, 0);

	/* Nodes: keys count too. */
	lim = be_default_limits;
	lim.max_nodes = 3;
	assert_int_equal(decode_s(&doc, "d1:ai1ee", &lim, &err), BE_OK);
	assert_int_equal(doc.n_nodes, 3);
	be_doc_free(&doc);
	assert_int_equal(decode_s(&doc, "li1ei2ei3ee", &lim, &err), BE_ERR_TOO_MANY);
	assert_int_equal(err.offset, 7);
	lim.max_nodes = 0;
	assert_int_equal(decode_s(&doc, "i1e", &lim, &err), BE_ERR_TOO_MANY);

	/* Strict key order. */
	lim = be_default_limits;
	lim.strict_key_order = true;
	assert_int_equal(decode_s(&doc, "d1:ai1e1:bi2ee", &lim, &err), BE_OK);
	be_doc_free(&doc);
	assert_int_equal(decode_s(&doc, "d1:bi1e1:ai2ee", &lim, &err), BE_ERR_KEY_ORDER);
	assert_int_equal(err.offset, 7);
	assert_int_equal(decode_s(&doc, "d1:ai1e1:ai2ee", &lim, &err), BE_ERR_DUP_KEY);

	/* Over 4 GiB is refused before any byte is read. */
	static const uint8_t one = 'x';
	assert_int_equal(be_decode(&doc, &one, (size_t)UINT32_MAX + 1, NULL, &err), BE_ERR_INT_RANGE);
	assert_int_equal(err.offset, 0);
}

static void test_nesting_bomb(void **state)
{
	size_t n = 1000000;
	uint8_t *p = xmalloc(2 * n);
	struct be_doc doc;
	struct be_error err;

	memset(p, 'l', n);
	memset(p + n, 'e', n);
	assert_int_equal(be_decode(&doc, p, 2 * n, NULL, &err), BE_ERR_DEPTH);
	assert_int_equal(err.offset, 64);

	/* A raised limit is honoured without recursion. */
	struct be_limits lim = be_default_limits;
	lim.max_depth = (uint32_t)n;
	assert_int_equal(be_decode(&doc, p, 2 * n, &lim, &err), BE_OK);
	assert_int_equal(doc.n_nodes, n);
	assert_int_equal(doc.nodes[n - 1].raw_off, n - 1);
	assert_int_equal(doc.nodes[n - 1].raw_len, 2);
	be_doc_free(&doc);

	memset(p, 'd', n);
	assert_int_equal(be_decode(&doc, p, 2 * n, NULL, &err), BE_ERR_KEY_TYPE);
	assert_int_equal(err.offset, 1);
	free(p);
}

static void test_huge_node_count(void **state)
{
	/* "l" + k x "i0e" + "e" has k + 1 values. */
	size_t k = be_default_limits.max_nodes;
	size_t len = 2 + 3 * k;
	uint8_t *p = xmalloc(len);
	struct be_doc doc;
	struct be_error err;

	p[0] = 'l';
	for (size_t i = 0; i < k; i++)
		memcpy(p + 1 + 3 * i, "i0e", 3);
	p[len - 1] = 'e';
	assert_int_equal(be_decode(&doc, p, len, NULL, &err), BE_ERR_TOO_MANY);
	assert_int_equal(err.offset, 1 + 3 * (k - 1));
	/* One fewer item fits exactly. */
	p[len - 4] = 'e';
	assert_int_equal(be_decode(&doc, p, len - 3, NULL, &err), BE_OK);
	assert_int_equal(doc.n_nodes, k);
	assert_int_equal(be_root(&doc)->count, k - 1);
	be_doc_free(&doc);
	free(p);
}

/* A big dict in reverse key order with one duplicate at the end: the
 * duplicate check must find it, and in n log n (this would take minutes
 * if quadratic). */
static void test_big_unsorted_dict_dup(void **state)
{
	uint32_t n = 200000;
	struct sta_buf b = STA_BUF_INIT;
	struct be_doc doc;
	struct be_error err;
	char key[16];

	be_enc_dict_begin(&b);
	for (uint32_t i = n; i > 0; i--) {
		snprintf(key, sizeof key, "k%08u", i);
		be_enc_kv_int(&b, key, i);
	}
	size_t ok_len = b.len;
	be_enc_end(&b);
	assert_int_equal(be_decode(&doc, b.data, b.len, NULL, &err), BE_OK);
	assert_int_equal(be_root(&doc)->count, n);
	int64_t v;
	assert_true(be_dict_get_int(&doc, be_root(&doc), "k00000001", &v));
	assert_int_equal(v, 1);
	be_doc_free(&doc);

	b.len = ok_len;
	size_t dup_off = b.len;
	be_enc_kv_int(&b, "k00100000", 7);
	be_enc_end(&b);
	assert_int_equal(be_decode(&doc, b.data, b.len, NULL, &err), BE_ERR_DUP_KEY);
	assert_int_equal(err.offset, dup_off);
	buf_free(&b);
}

static void test_round_trip_with_encoder(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct be_doc doc;

	be_enc_dict_begin(&b);
	be_enc_kv_int(&b, "a", INT64_MIN);
	be_enc_kv_str(&b, "bin", "\0\xff\n", 3);
	be_enc_cstr(&b, "l");
	be_enc_list_begin(&b);
	be_enc_int(&b, INT64_MAX);
	be_enc_str(&b, "", 0);
	be_enc_dict_begin(&b);
	be_enc_end(&b);
	be_enc_end(&b);
	be_enc_kv_cstr(&b, "z", "last");
	be_enc_end(&b);

	struct be_limits strict = be_default_limits;
	strict.strict_key_order = true;
	assert_int_equal(be_decode(&doc, b.data, b.len, &strict, NULL), BE_OK);
	const struct be_node *r = be_root(&doc);
	assert_int_equal(r->count, 4);
	int64_t v;
	assert_true(be_dict_get_int(&doc, r, "a", &v));
	assert_true(v == INT64_MIN);
	size_t len;
	const uint8_t *s = be_dict_get_str(&doc, r, "bin", &len);
	assert_int_equal(len, 3);
	assert_memory_equal(s, "\0\xff\n", 3);
	const struct be_node *l = be_dict_get_type(&doc, r, "l", BE_LIST);
	assert_int_equal(l->count, 3);
	assert_true(be_first(&doc, l)->ival == INT64_MAX);

	/* Re-encoding the decoded tree gives the same bytes. */
	struct sta_buf again = STA_BUF_INIT;
	be_enc_dict_begin(&again);
	for (const struct be_node *k = be_first(&doc, r); k; k = be_next(&doc, be_next(&doc, k))) {
		be_enc_str(&again, be_str(&doc, k), k->str_len);
		const struct be_node *val = be_next(&doc, k);
		buf_append(&again, be_raw(&doc, val), val->raw_len);
	}
	be_enc_end(&again);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.data, b.data, b.len);
	be_doc_free(&doc);
	buf_free(&again);
	buf_free(&b);
}

/* A value followed by other bytes: the prefix decoder stops at its end
 * and fails like be_decode inside it. */
static void test_decode_prefix(void **state)
{
	static const uint8_t in[] = "d1:ai1eeDATA";
	struct be_doc doc;
	struct be_error err;
	size_t used = 99;

	assert_int_equal(be_decode(&doc, in, sizeof in - 1, NULL, &err), BE_ERR_TRAILING);
	assert_int_equal(err.offset, 8);
	assert_int_equal(be_decode_prefix(&doc, in, sizeof in - 1, NULL, &err, &used), BE_OK);
	assert_int_equal(used, 8);
	assert_int_equal(doc.len, 8);
	int64_t v = 0;
	assert_true(be_dict_get_int(&doc, be_root(&doc), "a", &v));
	assert_int_equal(v, 1);
	be_doc_free(&doc);
	assert_int_equal(be_decode_prefix(&doc, in, 8, NULL, &err, &used), BE_OK);
	assert_int_equal(used, 8);
	be_doc_free(&doc);
	assert_int_equal(be_decode_prefix(&doc, in, 7, NULL, &err, &used), BE_ERR_TRUNCATED);
	assert_int_equal(be_decode_prefix(&doc, in, 0, NULL, &err, &used), BE_ERR_EMPTY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_structure_and_spans),
		cmocka_unit_test(test_every_error_code),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_nesting_bomb),
		cmocka_unit_test(test_huge_node_count),
		cmocka_unit_test(test_big_unsorted_dict_dup),
		cmocka_unit_test(test_round_trip_with_encoder),
		cmocka_unit_test(test_decode_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
