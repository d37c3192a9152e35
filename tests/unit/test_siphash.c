#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "siphash.h"

/* The reference implementation's vectors_sip64: key 00..0f, message 00..n-1. */
static const uint64_t ref_vectors[] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
	0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
	0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
	0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
	0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
	0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
	0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL,
};

static void test_reference_vectors(void **state)
{
	uint8_t key[SIPHASH_KEY_LEN], msg[64];

	for (int i = 0; i < SIPHASH_KEY_LEN; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (size_t n = 0; n < sizeof ref_vectors / sizeof ref_vectors[0]; n++) {
		uint64_t got = siphash24(key, msg, n);
		if (got != ref_vectors[n])
			fail_msg("length %zu: got %016llx", n, (unsigned long long)got);
	}
}

static void test_key_and_input_matter(void **state)
{
	uint8_t k1[SIPHASH_KEY_LEN] = { 0 }, k2[SIPHASH_KEY_LEN] = { 0 };
	const char msg[] = "192.0.2.1:6881";

	k2[15] = 1;
	assert_true(siphash24(k1, msg, sizeof msg - 1) != siphash24(k2, msg, sizeof msg - 1));
	assert_true(siphash24(k1, msg, sizeof msg - 1) != siphash24(k1, msg, sizeof msg - 2));
	/* Unaligned input must hash the same as aligned. */
	uint8_t buf[40];
	memcpy(buf + 1, msg, sizeof msg - 1);
	assert_true(siphash24(k1, buf + 1, sizeof msg - 1) == siphash24(k1, msg, sizeof msg - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vectors),
		cmocka_unit_test(test_key_and_input_matter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
