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
#include "hex.h"
#include "metainfo.h"
#include "piece_hasher.h"
#include "sha1.h"
#include "xmalloc.h"

static uint8_t *read_data_file(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", STA_TEST_DATA, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	struct sta_buf b = STA_BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b, len);
}

static void assert_hash_hex(const uint8_t *hash, const char *want)
{
	char hex[2 * SHA1_LEN + 1];

	hex_encode(hash, SHA1_LEN, hex);
	assert_string_equal(hex, want);
}

/* Made with mktorrent 1.1 (Debian):
 *   mktorrent -l 15 -a http://127.0.0.1:6969/announce,udp://127.0.0.1:6969 \
 *       -a http://127.0.0.2:6969/announce -p -c "STA test fixture" sta-fixture
 * over sta-fixture/{README.txt (1008 bytes), data/blob.bin (70000), data/empty (0)}, and
 *   mktorrent -l 15 -a udp://127.0.0.1:6969/announce single.bin   (100000 bytes).
 * The info-hashes come from libtorrent 2.0.8, not from our code:
 *   /usr/bin/python3 -c 'import libtorrent as lt; print(lt.torrent_info(PATH).info_hash())' */
static void test_mktorrent_multi(void **state)
{
	size_t len;
	uint8_t *data = read_data_file("mktorrent-multi.torrent", &len);
	struct metainfo mi;
	struct mi_error err;

	assert_true(metainfo_parse(data, len, &mi, &err));
	assert_hash_hex(mi.info_hash, "0e46de90638fee8fafb22abe531a6a939ce3ecbf");
	assert_string_equal(mi.name, "sta-fixture");
	assert_true(mi.multi_file);
	assert_int_equal(mi.piece_length, 32768);
	assert_int_equal(mi.n_pieces, 3);
	assert_int_equal(mi.total_length, 71008);
	assert_int_equal(mi.n_files, 3);
	assert_string_equal(mi.files[0].path, "README.txt");
	assert_int_equal(mi.files[0].length, 1008);
	assert_int_equal(mi.files[0].offset, 0);
	assert_string_equal(mi.files[1].path, "data/blob.bin");
	assert_int_equal(mi.files[1].length, 70000);
	assert_int_equal(mi.files[1].offset, 1008);
	assert_string_equal(mi.files[2].path, "data/empty");
	assert_int_equal(mi.files[2].length, 0);
	assert_int_equal(mi.files[2].offset, 71008);
	assert_true(mi.is_private);
	assert_int_equal(mi.n_tiers, 2);
	assert_int_equal(mi.tiers[0].n_urls, 2);
	assert_string_equal(mi.tiers[0].urls[0], "http://127.0.0.1:6969/announce");
	assert_string_equal(mi.tiers[0].urls[1], "udp://127.0.0.1:6969");
	assert_int_equal(mi.tiers[1].n_urls, 1);
	assert_string_equal(mi.tiers[1].urls[0], "http://127.0.0.2:6969/announce");
	assert_string_equal(mi.comment, "STA test fixture");
	assert_string_equal(mi.created_by, "mktorrent 1.1");
	assert_int_equal(mi.creation_date, 1795586238);
	assert_int_equal(mi.raw_len, len);
	assert_memory_equal(mi.raw, data, len);
	assert_int_equal(metainfo_piece_size(&mi, 2), 71008 - 65536);
	metainfo_free(&mi);
	assert_null(mi.files);
	free(data);
}

static void test_mktorrent_single(void **state)
{
	size_t len;
	uint8_t *data = read_data_file("mktorrent-single.torrent", &len);
	struct metainfo mi;
	struct mi_error err;

	assert_true(metainfo_parse(data, len, &mi, &err));
	assert_hash_hex(mi.info_hash, "1d7b21a4ff54da6f65722bff9d1df14e368db43b");
	assert_string_equal(mi.name, "single.bin");
	assert_false(mi.multi_file);
	assert_int_equal(mi.n_files, 1);
	assert_string_equal(mi.files[0].path, "single.bin");
	assert_int_equal(mi.files[0].length, 100000);
	assert_int_equal(mi.n_pieces, 4);
	assert_false(mi.is_private);
	assert_null(mi.comment);
	assert_int_equal(mi.n_tiers, 1);
	assert_string_equal(mi.tiers[0].urls[0], "udp://127.0.0.1:6969/announce");
	metainfo_free(&mi);

	/* Every truncation of a valid torrent is rejected cleanly. */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = xmalloc(cut ? cut : 1);
		memcpy(copy, data, cut);
		assert_false(metainfo_parse(copy, cut, &mi, &err));
		assert_null(mi.files);
		free(copy);
	}
	free(data);
}

/* Builds a torrent by hand: root_extra is raw bencode key/value pairs that
 * sort before "info"; files_raw is the raw "files" list, or NULL for a
 * single file of length total; pieces holds ceil(total/plen) + adjust
 * hashes. info_extra is appended after "pieces" (keys must sort after). */
static void build(struct sta_buf *b, const char *root_extra, const char *name, int64_t plen,
                  const char *files_raw, int64_t total, int adjust, const char *info_extra)
{
	buf_clear(b);
	be_enc_dict_begin(b);
	buf_append_str(b, root_extra ? root_extra : "");
	be_enc_cstr(b, "info");
	be_enc_dict_begin(b);
	if (files_raw != NULL) {
		be_enc_cstr(b, "files");
		buf_append_str(b, files_raw);
	} else {
		be_enc_kv_int(b, "length", total);
	}
	if (name != NULL)
		be_enc_kv_cstr(b, "name", name);
	be_enc_kv_int(b, "piece length", plen);
	/* Absurd sizes fail before the piece check; keep the test small. */
	int64_t n = plen > 0 ? total / plen + (total % plen != 0) + adjust : 0;
	size_t bytes = n > 0 && n < 1000000 ? (size_t)n * SHA1_LEN : 0;
	uint8_t *zero = xcalloc(1, bytes + 1);
	be_enc_kv_str(b, "pieces", zero, bytes);
	free(zero);
	buf_append_str(b, info_extra ? info_extra : "");
	be_enc_end(b);
	be_enc_end(b);
}

static void expect_fail(const struct sta_buf *b, const char *want)
{
	struct metainfo mi;
	struct mi_error err = { "" };

	if (metainfo_parse(b->data, b->len, &mi, &err)) {
		metainfo_free(&mi);
		fail_msg("parsed, want \"%s\"", want);
	}
	assert_string_equal(err.msg, want);
	assert_null(mi.files);
	assert_null(mi.name);
}

static void expect_ok(const struct sta_buf *b, struct metainfo *mi)
{
	struct mi_error err = { "" };

	if (!metainfo_parse(b->data, b->len, mi, &err))
		fail_msg("%s", err.msg);
}

static void test_info_hash_is_sha1_of_raw_info(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct metainfo mi;

	/* Info keys deliberately unsorted ("x" before "name"): the hash must be
	 * over the bytes as received, not a re-encoding. */
	const char *info = "d6:lengthi5e1:xi0e4:name1:a12:piece lengthi16384e"
	                   "6:pieces20:01234567890123456789e";
	buf_append_str(&b, "d8:announce17:http://t.example/4:info");
	buf_append_str(&b, info);
	buf_append_str(&b, "e");
	expect_ok(&b, &mi);
	uint8_t want[SHA1_LEN];
	sha1(info, strlen(info), want);
	assert_memory_equal(mi.info_hash, want, SHA1_LEN);
	assert_memory_equal(mi.pieces, "01234567890123456789", SHA1_LEN);
	assert_int_equal(mi.n_tiers, 1);
	metainfo_free(&mi);

	/* Changing a byte outside info leaves the hash alone; inside changes it. */
	b.data[22] = 'X';
	expect_ok(&b, &mi);
	assert_memory_equal(mi.info_hash, want, SHA1_LEN);
	metainfo_free(&mi);
	b.data[b.len - 4] = 'X';
	expect_ok(&b, &mi);
	assert_memory_not_equal(mi.info_hash, want, SHA1_LEN);
	metainfo_free(&mi);
	buf_free(&b);
}

static void test_hostile_paths(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	static const struct {
		const char *files;
		const char *msg;
	} cases[] = {
		{ "ld6:lengthi1e4:pathl1:a2:..eee", "info.files[0].path[1] is \"..\"" },
		{ "ld6:lengthi1e4:pathl1:aeed6:lengthi1e4:pathl2:..1:beee",
		  "info.files[1].path[0] is \"..\"" },
		{ "ld6:lengthi1e4:pathl1:.eee", "info.files[0].path[0] is \".\"" },
		{ "ld6:lengthi1e4:pathl0:eee", "info.files[0].path[0] is empty" },
		{ "ld6:lengthi1e4:pathl3:a/beee", "info.files[0].path[0] contains '/'" },
		{ "ld6:lengthi1e4:pathl4:/etceee", "info.files[0].path[0] contains '/'" },
		{ "ld6:lengthi1e4:pathl4:..\\xeee", "info.files[0].path[0] contains '\\'" },
		{ "ld6:lengthi1e4:pathleee", "info.files[0].path has 0 components; want 1 to 32" },
		{ "ld6:lengthi1e4:path1:aee", "info.files[0].path is missing or not a list" },
		{ "ld6:lengthi1eee", "info.files[0].path is missing or not a list" },
		{ "ld6:lengthi1e4:pathli1eeee", "info.files[0].path[0] is missing or not a string" },
		{ "ld4:pathl1:aeee", "info.files[0].length is missing or not an integer" },
		{ "ld6:lengthi-1e4:pathl1:aeee", "info.files[0].length is -1; want 0 to 2^50" },
		{ "li1ee", "info.files[0] is not a dictionary" },
		{ "le", "info.files has 0 entries; want 1 to 100000" },
		{ "d1:ai1ee", "info.files is not a list" },
		{ "ld6:lengthi1e4:pathl1:aeed6:lengthi1e4:pathl1:aeee",
		  "info.files[0] and info.files[1] have the same path" },
		{ "ld6:lengthi1e4:pathl1:a1:beed6:lengthi1e4:pathl1:a1:c1:beed6:lengthi1e4:pathl1:a1:beee",
		  "info.files[0] and info.files[2] have the same path" },
		/* "a" as a file and as a directory, with "a.txt" sorting between
		 * them bytewise. */
		{ "ld6:lengthi1e4:pathl5:a.txteed6:lengthi1e4:pathl1:a1:beed6:lengthi1e4:pathl1:aeee",
		  "info.files[2].path is used as a directory by info.files[1]" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		build(&b, NULL, "t", 16384, cases[i].files, 3, 0, NULL);
		expect_fail(&b, cases[i].msg);
	}

	/* NUL inside a component (not expressible in a C string literal above). */
	build(&b, NULL, "t", 16384, "ld6:lengthi1e4:pathl3:aXbeee", 1, 0, NULL);
	uint8_t *x = memmem(b.data, b.len, "aXb", 3);
	x[1] = '\0';
	expect_fail(&b, "info.files[0].path[0] contains a NUL byte");
	/* Control characters (escape sequences for terminals) and DEL. */
	x[1] = 0x1b;
	expect_fail(&b, "info.files[0].path[0] contains a control character");
	x[1] = 0x7f;
	expect_fail(&b, "info.files[0].path[0] contains a control character");
	x[1] = (uint8_t)0xc3; /* bytes >= 0x80 (UTF-8) are ordinary name bytes */
	struct metainfo ok_mi;
	expect_ok(&b, &ok_mi);
	metainfo_free(&ok_mi);

	/* Component length 255 is fine, 256 is not; depth 32 fine, 33 not. */
	char long_comp[300];
	struct sta_buf f = STA_BUF_INIT;
	for (size_t n = 255; n <= 256; n++) {
		memset(long_comp, 'x', n);
		long_comp[n] = '\0';
		buf_clear(&f);
		buf_printf(&f, "ld6:lengthi1e4:pathl%zu:%seee", n, long_comp);
		buf_append_byte(&f, 0);
		build(&b, NULL, "t", 16384, (const char *)f.data, 1, 0, NULL);
		if (n == 255) {
			struct metainfo mi;
			expect_ok(&b, &mi);
			assert_int_equal(strlen(mi.files[0].path), 255);
			metainfo_free(&mi);
		} else {
			expect_fail(&b, "info.files[0].path[0] is longer than 255 bytes");
		}
	}
	for (int depth = 32; depth <= 33; depth++) {
		buf_clear(&f);
		buf_append_str(&f, "ld6:lengthi1e4:pathl");
		for (int i = 0; i < depth; i++)
			buf_append_str(&f, "1:d");
		buf_append_str(&f, "eee");
		buf_append_byte(&f, 0);
		build(&b, NULL, "t", 16384, (const char *)f.data, 1, 0, NULL);
		if (depth == 32) {
			struct metainfo mi;
			expect_ok(&b, &mi);
			metainfo_free(&mi);
		} else {
			expect_fail(&b, "info.files[0].path has 33 components; want 1 to 32");
		}
	}
	/* Total path length: 8 components of 255 bytes is 2047 bytes + name. */
	buf_clear(&f);
	buf_append_str(&f, "ld6:lengthi1e4:pathl");
	memset(long_comp, 'y', 255);
	long_comp[255] = '\0';
	for (int i = 0; i < 8; i++)
		buf_printf(&f, "255:%s", long_comp);
	buf_append_str(&f, "eee");
	buf_append_byte(&f, 0);
	build(&b, NULL, "t", 16384, (const char *)f.data, 1, 0, NULL);
	expect_fail(&b, "info.files[0].path is longer than 2048 bytes with the name");
	buf_free(&f);

	/* The name is a path component too. */
	build(&b, NULL, "..", 16384, NULL, 1, 0, NULL);
	expect_fail(&b, "info.name is \"..\"");
	build(&b, NULL, "a/b", 16384, NULL, 1, 0, NULL);
	expect_fail(&b, "info.name contains '/'");
	build(&b, NULL, "", 16384, NULL, 1, 0, NULL);
	expect_fail(&b, "info.name is empty");
	build(&b, NULL, NULL, 16384, NULL, 1, 0, NULL);
	expect_fail(&b, "info.name is missing or not a string");
	buf_free(&b);
}

static void test_bad_sizes(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct metainfo mi;

	static const int64_t bad_plen[] = { 0, -16384, 1, 1000, 8192, 3 * 16384,
		                            128 * 1024 * 1024, INT64_MAX };
	for (size_t i = 0; i < sizeof bad_plen / sizeof bad_plen[0]; i++) {
		char want[128];
		build(&b, NULL, "t", bad_plen[i], NULL, 100, 0, NULL);
		snprintf(want, sizeof want,
		         "info.piece length is %lld; want a power of two from 16 KiB to 64 MiB",
		         (long long)bad_plen[i]);
		expect_fail(&b, want);
	}
	build(&b, NULL, "t", 16384, NULL, 100, 0, NULL);
	expect_ok(&b, &mi);
	metainfo_free(&mi);
	build(&b, NULL, "t", 64 * 1024 * 1024, NULL, 100, 0, NULL);
	expect_ok(&b, &mi);
	metainfo_free(&mi);

	build(&b, NULL, "t", 16384, NULL, 40000, 1, NULL);
	expect_fail(&b, "info.pieces is 80 bytes; want 60 (20 per piece for 40000 bytes in pieces of 16384)");
	build(&b, NULL, "t", 16384, NULL, 40000, -1, NULL);
	expect_fail(&b, "info.pieces is 40 bytes; want 60 (20 per piece for 40000 bytes in pieces of 16384)");
	/* Exactly two pieces' worth: no third, short piece. */
	build(&b, NULL, "t", 16384, NULL, 32768, 0, NULL);
	expect_ok(&b, &mi);
	assert_int_equal(mi.n_pieces, 2);
	assert_int_equal(metainfo_piece_size(&mi, 1), 16384);
	metainfo_free(&mi);
	/* pieces not a multiple of 20. */
	buf_clear(&b);
	buf_append_str(&b, "d4:infod6:lengthi1e4:name1:t12:piece lengthi16384e6:pieces19:"
	                   "0123456789012345678ee");
	expect_fail(&b, "info.pieces is 19 bytes; want 20 (20 per piece for 1 bytes in pieces of 16384)");

	build(&b, NULL, "t", 16384, NULL, -5, 0, NULL);
	expect_fail(&b, "info.length is -5; want 0 to 2^50");
	build(&b, NULL, "t", 16384, NULL, 0, 0, NULL);
	expect_fail(&b, "the torrent has no data (total length 0)");
	build(&b, NULL, "t", 16384, NULL, (int64_t)1 << 51, 0, NULL);
	expect_fail(&b, "info.length is 2251799813685248; want 0 to 2^50");
	/* Sum of files over 2^50 (each alone is fine). */
	build(&b, NULL, "t", 16384,
	      "ld6:lengthi1125899906842624e4:pathl1:aeed6:lengthi1e4:pathl1:beee", 1, 0, NULL);
	expect_fail(&b, "total length exceeds 2^50 bytes");
	/* Both, neither. */
	build(&b, NULL, "t", 16384, "ld6:lengthi1e4:pathl1:aeee", 1, 0, "6:lengthi1e");
	expect_fail(&b, "info has both length and files");
	buf_clear(&b);
	buf_append_str(&b, "d4:infod4:name1:t12:piece lengthi16384e6:pieces0:ee");
	expect_fail(&b, "info has neither length nor files");
	/* Missing/typed fields. */
	buf_clear(&b);
	buf_append_str(&b, "d4:infod6:lengthi1e4:name1:t6:pieces20:01234567890123456789ee");
	expect_fail(&b, "info.piece length is missing or not an integer");
	buf_clear(&b);
	buf_append_str(&b, "d4:infod6:lengthi1e4:name1:t12:piece lengthi16384eee");
	expect_fail(&b, "info.pieces is missing or not a string");
	build(&b, NULL, "t", 16384, NULL, 1, 0, "7:private3:yes");
	expect_fail(&b, "info.private is not an integer");
	buf_clear(&b);
	buf_append_str(&b, "d4:infoi1ee");
	expect_fail(&b, "info is missing or not a dictionary");
	buf_clear(&b);
	buf_append_str(&b, "de");
	expect_fail(&b, "info is missing or not a dictionary");
	buf_clear(&b);
	buf_append_str(&b, "l4:infoe");
	expect_fail(&b, "the top level is not a dictionary");
	buf_clear(&b);
	buf_append_str(&b, "d4:infod1:ai1e1:ai2ee");
	expect_fail(&b, "not valid bencode: duplicate dictionary key at byte 14");
	buf_clear(&b);
	expect_fail(&b, "not valid bencode: empty input at byte 0");
	buf_free(&b);
}

static void test_trackers(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct metainfo mi;

	/* announce-list wins over announce; unsupported schemes are dropped and
	 * a tier left empty disappears. */
	build(&b, "8:announce17:http://a/announce13:announce-listll7:wss://xel9:udp://b:110:HTTPS://c/ee",
	      "t", 16384, NULL, 1, 0, "7:privatei1e");
	expect_ok(&b, &mi);
	assert_true(mi.is_private);
	assert_int_equal(mi.n_tiers, 1);
	assert_int_equal(mi.tiers[0].n_urls, 2);
	assert_string_equal(mi.tiers[0].urls[0], "udp://b:1");
	assert_string_equal(mi.tiers[0].urls[1], "HTTPS://c/");
	metainfo_free(&mi);

	/* Nothing usable in announce-list: fall back to announce. */
	build(&b, "8:announce17:http://a/announce13:announce-listll7:wss://xee", "t", 16384, NULL,
	      1, 0, "7:privatei0e");
	expect_ok(&b, &mi);
	assert_false(mi.is_private);
	assert_int_equal(mi.n_tiers, 1);
	assert_string_equal(mi.tiers[0].urls[0], "http://a/announce");
	metainfo_free(&mi);

	/* No trackers at all is allowed (DHT-only torrents), and so is an
	 * unsupported announce. */
	build(&b, NULL, "t", 16384, NULL, 1, 0, NULL);
	expect_ok(&b, &mi);
	assert_int_equal(mi.n_tiers, 0);
	metainfo_free(&mi);
	build(&b, "8:announce11:ftp://x/ann", "t", 16384, NULL, 1, 0, NULL);
	expect_ok(&b, &mi);
	assert_int_equal(mi.n_tiers, 0);
	metainfo_free(&mi);
	/* "http://" alone has no host. */
	build(&b, "8:announce7:http://", "t", 16384, NULL, 1, 0, NULL);
	expect_ok(&b, &mi);
	assert_int_equal(mi.n_tiers, 0);
	metainfo_free(&mi);

	build(&b, "8:announce10:http://a b", "t", 16384, NULL, 1, 0, NULL);
	expect_fail(&b, "announce has a space, control or non-ASCII byte at 8");
	build(&b, "8:announcei1e", "t", 16384, NULL, 1, 0, NULL);
	expect_fail(&b, "announce is not a string");
	build(&b, "8:announce0:", "t", 16384, NULL, 1, 0, NULL);
	expect_fail(&b, "announce is 0 bytes long; want 1 to 2048");
	build(&b, "13:announce-listl9:udp://b:1e", "t", 16384, NULL, 1, 0, NULL);
	expect_fail(&b, "announce-list[0] is not a list");
	build(&b, "13:announce-list9:udp://b:1", "t", 16384, NULL, 1, 0, NULL);
	expect_fail(&b, "announce-list is not a list");
	build(&b, "13:announce-listll9:udp://b:1el9:udp://c:110:udp://\nc:1ee", "t", 16384, NULL, 1,
	      0, NULL);
	expect_fail(&b, "announce-list[1][1] has a space, control or non-ASCII byte at 6");

	/* Count limits. */
	struct sta_buf r = STA_BUF_INIT;
	buf_append_str(&r, "13:announce-listl");
	for (int i = 0; i < 65; i++)
		buf_append_str(&r, "le");
	buf_append_str(&r, "e");
	buf_append_byte(&r, 0);
	build(&b, (const char *)r.data, "t", 16384, NULL, 1, 0, NULL);
	expect_fail(&b, "announce-list has 65 tiers; the limit is 64");
	buf_clear(&r);
	buf_append_str(&r, "13:announce-listll");
	for (int i = 0; i < 257; i++)
		buf_append_str(&r, "9:udp://b:1");
	buf_append_str(&r, "ee");
	buf_append_byte(&r, 0);
	build(&b, (const char *)r.data, "t", 16384, NULL, 1, 0, NULL);
	expect_fail(&b, "announce-list has more than 256 URLs");
	buf_free(&r);
	buf_free(&b);
}

/* Fills data with a pattern and returns piece hashes for it. */
static uint8_t *hash_pattern(uint8_t *data, uint64_t len, uint32_t plen, uint32_t *n)
{
	struct piece_hasher h;

	for (uint64_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 31 + (i >> 9));
	piece_hasher_init(&h, plen);
	piece_hasher_update(&h, data, len);
	piece_hasher_finish(&h);
	*n = (uint32_t)piece_hasher_count(&h);
	size_t dummy;
	uint8_t *out = buf_steal(&h.hashes, &dummy);
	piece_hasher_free(&h);
	return out;
}

/* Files: 0, 10000, 0, 40000, 30000, 0 bytes; pieces of 32 KiB -> 3 pieces,
 * the last 14464 bytes. */
static const struct mi_create_file arith_files[] = {
	{ "empty0", 0 },   { "a/one", 10000 }, { "a/empty2", 0 },
	{ "b/c/three", 40000 }, { "four", 30000 }, { "z/empty5", 0 },
};

static void create_arith(struct metainfo *mi, struct sta_buf *out)
{
	uint8_t *data = xmalloc(80000);
	uint32_t n;
	uint8_t *pieces = hash_pattern(data, 80000, 32768, &n);
	char *t0[] = { "http://127.0.0.1:1/announce", "udp://127.0.0.1:2" };
	char *t1[] = { "https://[::1]:3/announce" };
	struct mi_tier tiers[] = { { t0, 2 }, { NULL, 0 }, { t1, 1 } };
	struct mi_create c = {
		.name = "arith",
		.multi_file = true,
		.files = arith_files,
		.n_files = 6,
		.piece_length = 32768,
		.pieces = pieces,
		.n_pieces = n,
		.tiers = tiers,
		.n_tiers = 3,
		.is_private = true,
		.comment = "c",
		.created_by = "STA test",
		.creation_date = 1700000000,
	};
	struct mi_error err;

	if (!metainfo_create(&c, out, mi, &err))
		fail_msg("%s", err.msg);
	free(pieces);
	free(data);
}

static void test_create_parse_round_trip(void **state)
{
	struct sta_buf out = STA_BUF_INIT;
	struct metainfo mi, again;
	struct mi_error err;

	create_arith(&mi, &out);
	/* Keys sorted everywhere: strict decoding accepts it. */
	struct be_limits strict = be_default_limits;
	strict.strict_key_order = true;
	struct be_doc doc;
	assert_int_equal(be_decode(&doc, out.data, out.len, &strict, NULL), BE_OK);
	const struct be_node *info = be_dict_get(&doc, be_root(&doc), "info");
	uint8_t want[SHA1_LEN];
	sha1(be_raw(&doc, info), info->raw_len, want);
	be_doc_free(&doc);
	assert_memory_equal(mi.info_hash, want, SHA1_LEN);

	assert_true(metainfo_parse(out.data, out.len, &again, &err));
	assert_memory_equal(again.info_hash, mi.info_hash, SHA1_LEN);
	assert_string_equal(again.name, "arith");
	assert_true(again.multi_file);
	assert_int_equal(again.n_files, 6);
	for (uint32_t i = 0; i < 6; i++) {
		assert_string_equal(again.files[i].path, arith_files[i].path);
		assert_int_equal(again.files[i].length, arith_files[i].length);
	}
	assert_int_equal(again.files[5].offset, 80000);
	assert_int_equal(again.total_length, 80000);
	assert_int_equal(again.n_pieces, 3);
	assert_memory_equal(again.pieces, mi.pieces, 3 * SHA1_LEN);
	assert_int_equal(again.n_tiers, 2); /* the empty tier is not written */
	assert_string_equal(again.tiers[0].urls[1], "udp://127.0.0.1:2");
	assert_string_equal(again.tiers[1].urls[0], "https://[::1]:3/announce");
	assert_true(again.is_private);
	assert_string_equal(again.comment, "c");
	assert_string_equal(again.created_by, "STA test");
	assert_int_equal(again.creation_date, 1700000000);
	assert_int_equal(again.raw_len, out.len);
	metainfo_free(&again);
	metainfo_free(&mi);

	/* Single file, one tracker: announce only, no announce-list. */
	struct mi_create_file one = { "ignored", 5 };
	uint8_t h[2 * SHA1_LEN] = { 0 }; /* room for the too-many-pieces case below */
	sha1("hello", 5, h);
	char *urls[] = { "udp://127.0.0.1:6969" };
	struct mi_tier tier = { urls, 1 };
	struct mi_create c = { .name = "hello.txt", .files = &one, .n_files = 1,
		               .piece_length = 16384, .pieces = h, .n_pieces = 1,
		               .tiers = &tier, .n_tiers = 1 };
	buf_clear(&out);
	buf_append_str(&out, "keep");
	assert_true(metainfo_create(&c, &out, NULL, &err));
	assert_memory_equal(out.data, "keep", 4);
	const char *want_bytes = "d8:announce20:udp://127.0.0.1:69694:infod6:lengthi5e4:name9:hello.txt"
	                         "12:piece lengthi16384e6:pieces20:";
	assert_memory_equal(out.data + 4, want_bytes, strlen(want_bytes));
	assert_int_equal(out.len, 4 + strlen(want_bytes) + SHA1_LEN + 2);

	/* Create refuses what parse refuses, and leaves out alone. */
	size_t before = out.len;
	struct mi_create_file bad[] = { { "ok", 1 }, { "x/../y", 1 } };
	c.multi_file = true;
	c.files = bad;
	c.n_files = 2;
	assert_false(metainfo_create(&c, &out, NULL, &err));
	assert_string_equal(err.msg, "info.files[1].path[1] is \"..\"");
	struct mi_create_file bad2[] = { { "a//b", 1 } };
	c.files = bad2;
	c.n_files = 1;
	assert_false(metainfo_create(&c, &out, NULL, &err));
	assert_string_equal(err.msg, "info.files[0].path[1] is empty");
	c.files = bad;
	c.n_files = 1;
	c.n_pieces = 2;
	assert_false(metainfo_create(&c, &out, NULL, &err));
	assert_string_equal(err.msg, "info.pieces is 40 bytes; want 20 (20 per piece for 1 bytes in pieces of 16384)");
	c.multi_file = false;
	c.n_files = 2;
	assert_false(metainfo_create(&c, &out, NULL, &err));
	assert_string_equal(err.msg, "a single-file torrent needs exactly one file, not 2");
	assert_int_equal(out.len, before);
	buf_free(&out);
}

/* Reference: which file holds torrent byte pos, by linear scan. */
static uint32_t file_of(const struct metainfo *mi, uint64_t pos)
{
	for (uint32_t i = 0; i < mi->n_files; i++) {
		if (pos >= mi->files[i].offset && pos < mi->files[i].offset + mi->files[i].length)
			return i;
	}
	fail_msg("byte %llu in no file", (unsigned long long)pos);
	return 0;
}

static void test_piece_arithmetic(void **state)
{
	struct sta_buf out = STA_BUF_INIT;
	struct metainfo mi;
	struct mi_span sp[8];

	create_arith(&mi, &out);
	assert_int_equal(metainfo_piece_size(&mi, 0), 32768);
	assert_int_equal(metainfo_piece_size(&mi, 1), 32768);
	assert_int_equal(metainfo_piece_size(&mi, 2), 14464);
	assert_int_equal(metainfo_piece_size(&mi, 3), 0);
	assert_int_equal(metainfo_piece_size(&mi, UINT32_MAX), 0);
	assert_int_equal(metainfo_piece_blocks(&mi, 0), 2);
	assert_int_equal(metainfo_piece_blocks(&mi, 2), 1);
	assert_int_equal(metainfo_piece_blocks(&mi, 3), 0);
	assert_int_equal(metainfo_block_size(&mi, 0, 1), 16384);
	assert_int_equal(metainfo_block_size(&mi, 0, 2), 0);
	assert_int_equal(metainfo_block_size(&mi, 2, 0), 14464);
	assert_int_equal(metainfo_block_size(&mi, 2, 1), 0);
	assert_int_equal(metainfo_block_size(&mi, 9, 0), 0);
	assert_int_equal(metainfo_block_size(&mi, 0, UINT32_MAX), 0);

	/* Piece 0: all of file 1 (file 0 and 2 are empty), start of file 3. */
	assert_int_equal(metainfo_map(&mi, 0, 0, 32768, sp, 8), 2);
	assert_int_equal(sp[0].file, 1);
	assert_int_equal(sp[0].file_offset, 0);
	assert_int_equal(sp[0].length, 10000);
	assert_int_equal(sp[1].file, 3);
	assert_int_equal(sp[1].file_offset, 0);
	assert_int_equal(sp[1].length, 22768);
	/* Piece 1 spans the end of file 3 and the start of file 4. */
	assert_int_equal(metainfo_map(&mi, 1, 0, 32768, sp, 8), 2);
	assert_int_equal(sp[0].file, 3);
	assert_int_equal(sp[0].file_offset, 22768);
	assert_int_equal(sp[0].length, 17232);
	assert_int_equal(sp[1].file, 4);
	assert_int_equal(sp[1].file_offset, 0);
	assert_int_equal(sp[1].length, 15536);
	/* The short last piece, as one block. */
	assert_int_equal(metainfo_map(&mi, 2, 0, 14464, sp, 8), 1);
	assert_int_equal(sp[0].file, 4);
	assert_int_equal(sp[0].file_offset, 15536);
	assert_int_equal(sp[0].length, 14464);
	/* A block starting exactly on a file boundary (byte 10000). */
	assert_int_equal(metainfo_map(&mi, 0, 10000, 5, sp, 8), 1);
	assert_int_equal(sp[0].file, 3);
	assert_int_equal(sp[0].file_offset, 0);
	/* Too small an array: the count needed, only what fits written. */
	sp[1].file = 77;
	assert_int_equal(metainfo_map(&mi, 0, 0, 32768, sp, 1), 2);
	assert_int_equal(sp[0].file, 1);
	assert_int_equal(sp[1].file, 77);
	/* Out of range. */
	assert_int_equal(metainfo_map(&mi, 2, 0, 14465, sp, 8), 0);
	assert_int_equal(metainfo_map(&mi, 2, 14464, 1, sp, 8), 0);
	assert_int_equal(metainfo_map(&mi, 0, 0, 0, sp, 8), 0);
	assert_int_equal(metainfo_map(&mi, 3, 0, 1, sp, 8), 0);
	assert_int_equal(metainfo_map(&mi, 0, UINT32_MAX, 2, sp, 8), 0);
	assert_int_equal(metainfo_map(&mi, 0, 1, UINT32_MAX, sp, 8), 0);

	/* Every block of every piece against a linear scan, byte by byte. */
	for (uint32_t p = 0; p < mi.n_pieces; p++) {
		for (uint32_t blk = 0; blk < metainfo_piece_blocks(&mi, p); blk++) {
			uint32_t len = metainfo_block_size(&mi, p, blk);
			size_t n = metainfo_map(&mi, p, blk * MI_BLOCK_SIZE, len, sp, 8);
			assert_in_range(n, 1, 8);
			uint64_t pos = (uint64_t)p * mi.piece_length + blk * MI_BLOCK_SIZE;
			uint32_t sum = 0;
			for (size_t s = 0; s < n; s++) {
				assert_int_equal(sp[s].file, file_of(&mi, pos));
				assert_int_equal(sp[s].file_offset, pos - mi.files[sp[s].file].offset);
				assert_int_equal(sp[s].file, file_of(&mi, pos + sp[s].length - 1));
				pos += sp[s].length;
				sum += sp[s].length;
			}
			assert_int_equal(sum, len);
		}
	}
	metainfo_free(&mi);
	buf_free(&out);
}

static void test_choose_piece_length(void **state)
{
	assert_int_equal(metainfo_choose_piece_length(0), 16384);
	assert_int_equal(metainfo_choose_piece_length(1), 16384);
	assert_int_equal(metainfo_choose_piece_length(32ull << 20), 16384);
	assert_int_equal(metainfo_choose_piece_length((32ull << 20) + 1), 32768);
	assert_int_equal(metainfo_choose_piece_length(1ull << 30), 512 * 1024);
	assert_int_equal(metainfo_choose_piece_length(32ull << 30), 16 << 20);
	assert_int_equal(metainfo_choose_piece_length(100ull << 30), 16 << 20);
	assert_int_equal(metainfo_choose_piece_length(MI_MAX_TOTAL), 16 << 20);
	for (uint64_t t = 12345; t < (32ull << 30); t = t * 3 + 7) {
		uint32_t p = metainfo_choose_piece_length(t);
		uint64_t n = (t + p - 1) / p;
		assert_int_equal(p & (p - 1), 0);
		assert_true(n <= 2048);
		assert_true(p == 16384 || n > 1024);
	}
}

static void test_path_join(void **state)
{
	struct mi_error err;
	char *p;

	p = metainfo_path_join("/var/lib/sta/dl", "name/a/b.txt", &err);
	assert_string_equal(p, "/var/lib/sta/dl/name/a/b.txt");
	free(p);
	p = metainfo_path_join("/srv/", "x", &err);
	assert_string_equal(p, "/srv/x");
	free(p);
	p = metainfo_path_join("rel", "...", &err); /* "..." is an ordinary name */
	assert_string_equal(p, "rel/...");
	free(p);

	static const struct {
		const char *rel;
		const char *msg;
	} bad[] = {
		{ "", "path \"\" component 0 is empty" },
		{ "/etc/passwd", "path \"/etc/passwd\" component 0 is empty" },
		{ "a/../../etc", "path \"a/../../etc\" component 1 is \"..\"" },
		{ "..", "path \"..\" component 0 is \"..\"" },
		{ "a/./b", "path \"a/./b\" component 1 is \".\"" },
		{ "a//b", "path \"a//b\" component 1 is empty" },
		{ "a/", "path \"a/\" component 1 is empty" },
		{ "a\\..\\b", "path \"a\\x5c..\\x5cb\" component 0 contains '\\'" },
		{ "a/\n", "path \"a/\\x0a\" component 1 contains a control character" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		p = metainfo_path_join("/base", bad[i].rel, &err);
		assert_null(p);
		assert_string_equal(err.msg, bad[i].msg);
	}
	char deep[200] = "";
	for (int i = 0; i < 33; i++)
		strcat(deep, i ? "/d" : "d");
	assert_null(metainfo_path_join("/base", deep, &err));
	assert_non_null(strstr(err.msg, "has more than 32 components"));
	deep[strlen(deep) - 2] = '\0';
	p = metainfo_path_join("/base", deep, &err);
	assert_non_null(p);
	free(p);
	assert_null(metainfo_path_join("", "a", &err));
	assert_string_equal(err.msg, "empty base directory");
}

/* BEP 9: the info dict alone, as peers send it, makes the same torrent
 * again with the trackers the magnet link named. */
static void test_from_info(void **state)
{
	struct sta_buf out = STA_BUF_INIT;
	struct metainfo mi, again;
	struct mi_error err;
	char *urls[] = { "http://t.example/announce" }, *urls2[] = { "udp://u.example:1" };
	struct mi_tier tiers[] = { { urls, 1 }, { urls2, 1 } };

	create_arith(&mi, &out);
	assert_true(mi.info_len > 0 && mi.info_off + mi.info_len <= mi.raw_len);
	assert_int_equal(mi.raw[mi.info_off], 'd');
	assert_true(metainfo_from_info(mi.raw + mi.info_off, mi.info_len, tiers, 2, &again, &err));
	assert_memory_equal(again.info_hash, mi.info_hash, SHA1_LEN);
	assert_int_equal(again.n_tiers, 2);
	assert_string_equal(again.tiers[1].urls[0], "udp://u.example:1");
	assert_int_equal(again.n_pieces, mi.n_pieces);
	metainfo_free(&again);
	assert_true(metainfo_from_info(mi.raw + mi.info_off, mi.info_len, NULL, 0, &again, &err));
	assert_int_equal(again.n_tiers, 0);
	metainfo_free(&again);
	/* Not a valid info dict: the reason, nothing to free. */
	assert_false(metainfo_from_info((const uint8_t *)"d4:name1:ae", 11, NULL, 0, &again, &err));
	assert_string_equal(err.msg, "info has neither length nor files");
	assert_false(metainfo_from_info((const uint8_t *)"i1e", 3, NULL, 0, &again, &err));
	metainfo_free(&mi);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mktorrent_multi),
		cmocka_unit_test(test_mktorrent_single),
		cmocka_unit_test(test_info_hash_is_sha1_of_raw_info),
		cmocka_unit_test(test_hostile_paths),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_trackers),
		cmocka_unit_test(test_create_parse_round_trip),
		cmocka_unit_test(test_piece_arithmetic),
		cmocka_unit_test(test_choose_piece_length),
		cmocka_unit_test(test_path_join),
		cmocka_unit_test(test_from_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
