#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"
#include "piece_hasher.h"
#include "sha1.h"
#include "xmalloc.h"

static void assert_digest(const uint8_t md[SHA1_LEN], const char *want_hex)
{
	char hex[2 * SHA1_LEN + 1];

	hex_encode(md, SHA1_LEN, hex);
	assert_string_equal(hex, want_hex);
}

/* FIPS 180 / RFC 3174 test vectors. */
static void test_fips_vectors(void **state)
{
	uint8_t md[SHA1_LEN];

	sha1("abc", 3, md);
	assert_digest(md, "a9993e364706816aba3e25717850c26c9cd0d89d");
	sha1("", 0, md);
	assert_digest(md, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha1(two, strlen(two), md);
	assert_digest(md, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");

	/* One million 'a', fed incrementally in 1000-byte chunks. */
	char chunk[1000];
	struct sha1_ctx c;
	memset(chunk, 'a', sizeof chunk);
	sha1_init(&c);
	for (int i = 0; i < 1000; i++)
		sha1_update(&c, chunk, sizeof chunk);
	sha1_final(&c, md);
	assert_digest(md, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");

	/* The context is reusable after final. */
	sha1_update(&c, "abc", 3);
	sha1_final(&c, md);
	assert_digest(md, "a9993e364706816aba3e25717850c26c9cd0d89d");
	sha1_final(&c, md);
	assert_digest(md, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	sha1_free(&c);
	assert_null(c.md);
}

static void test_incremental_equals_oneshot(void **state)
{
	size_t len = 70001;
	uint8_t *data = xmalloc(len);
	uint8_t a[SHA1_LEN], b[SHA1_LEN];
	struct sha1_ctx c;

	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 8));
	sha1(data, len, a);
	sha1_init(&c);
	for (size_t off = 0, step = 1; off < len; off += step, step = step * 3 % 997 + 1)
		sha1_update(&c, data + off, step < len - off ? step : len - off);
	sha1_final(&c, b);
	sha1_free(&c);
	assert_memory_equal(a, b, SHA1_LEN);
	free(data);
}

static void check_piece_hasher(const uint8_t *data, size_t len, uint32_t plen, size_t chunk)
{
	struct piece_hasher h;
	uint8_t md[SHA1_LEN];

	piece_hasher_init(&h, plen);
	for (size_t off = 0; off < len; off += chunk)
		piece_hasher_update(&h, data + off, chunk < len - off ? chunk : len - off);
	piece_hasher_update(&h, data, 0);
	piece_hasher_finish(&h);
	size_t want = (len + plen - 1) / plen;
	assert_int_equal(piece_hasher_count(&h), want);
	assert_int_equal(h.total, len);
	for (size_t i = 0; i < want; i++) {
		size_t n = len - i * plen < plen ? len - i * plen : plen;
		sha1(data + i * plen, n, md);
		assert_memory_equal(h.hashes.data + i * SHA1_LEN, md, SHA1_LEN);
	}
	piece_hasher_free(&h);
}

static void test_piece_hasher(void **state)
{
	size_t len = 100000;
	uint8_t *data = xmalloc(len);
	static const size_t chunks[] = { 1, 7, 4095, 16384, 16385, 65536, 100000 };

	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i ^ (i >> 5));
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		check_piece_hasher(data, len, 16384, chunks[i]);     /* short last piece */
		check_piece_hasher(data, 98304, 16384, chunks[i]);   /* exact multiple */
		check_piece_hasher(data, len, 1 << 20, chunks[i]);   /* one short piece */
	}
	check_piece_hasher(data, 0, 16384, 1); /* nothing fed: no pieces */
	free(data);
}

static void test_hex(void **state)
{
	static const uint8_t bin[SHA1_LEN] = { 0x00, 0x01, 0xab, 0xcd, 0xef, 0xff, 0x10, 0x9a };
	char hex[2 * SHA1_LEN + 1];
	uint8_t back[SHA1_LEN];

	hex_encode(bin, SHA1_LEN, hex);
	assert_string_equal(hex, "0001abcdefff109a000000000000000000000000");
	assert_true(hex_decode(hex, 40, back, SHA1_LEN));
	assert_memory_equal(back, bin, SHA1_LEN);
	assert_true(hex_decode("0001ABCDEFFF109A000000000000000000000000", 40, back, SHA1_LEN));
	assert_memory_equal(back, bin, SHA1_LEN);

	memset(back, 0x55, sizeof back);
	assert_false(hex_decode("0001abcdefff109a00000000000000000000000g", 40, back, SHA1_LEN));
	assert_false(hex_decode("0001abcdefff109a00000000000000000000000", 39, back, SHA1_LEN));
	assert_false(hex_decode("0001abcdefff109a0000000000000000000000000", 41, back, SHA1_LEN));
	assert_false(hex_decode("0001abcdefff109a 000000000000000000000000", 40, back, SHA1_LEN));
	assert_false(hex_decode("+001abcdefff109a000000000000000000000000", 40, back, SHA1_LEN));
	static const char nul[40] = "00";
	assert_false(hex_decode(nul, 40, back, SHA1_LEN));
	/* Failure leaves the output untouched. */
	for (size_t i = 0; i < sizeof back; i++)
		assert_int_equal(back[i], 0x55);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_vectors),
		cmocka_unit_test(test_incremental_equals_oneshot),
		cmocka_unit_test(test_piece_hasher),
		cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
