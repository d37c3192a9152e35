/* The request rule and the allowed-fast set, with hostile values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "metainfo.h"
#include "peer_wire.h"
#include "upload_rules.h"

#define PIECE (256u * 1024)
#define BLOCK MI_BLOCK_SIZE

/* An unchoked Fast peer asking for a full piece we have. */
static struct upload_facts facts(void)
{
	return (struct upload_facts){
		.piece_size = PIECE, .max_block = BLOCK, .fast = true, .have = true,
		.serving = true, .choking = false, .allowed_fast = false,
		.queued = 0, .queue_cap = 512,
	};
}

static enum upload_verdict rule(const struct upload_facts *f, uint32_t begin, uint32_t length)
{
	const char *why = "unset";
	enum upload_verdict v = upload_rule(f, begin, length, &why);

	if (v == UPLOAD_SERVE)
		assert_null(why);
	else
		assert_non_null(why);
	return v;
}

static void test_serves_valid_blocks(void **state)
{
	struct upload_facts f = facts();

	assert_int_equal(rule(&f, 0, BLOCK), UPLOAD_SERVE);
	assert_int_equal(rule(&f, PIECE - BLOCK, BLOCK), UPLOAD_SERVE);
	assert_int_equal(rule(&f, PIECE - 1, 1), UPLOAD_SERVE);  /* odd but in bounds */
	assert_int_equal(rule(&f, 5, 100), UPLOAD_SERVE);
	f.fast = false;
	assert_int_equal(rule(&f, 0, BLOCK), UPLOAD_SERVE);
}

static void test_out_of_bounds_closes(void **state)
{
	struct upload_facts f = facts();

	for (int fast = 0; fast < 2; fast++) {
		f.fast = fast;
		assert_int_equal(rule(&f, 0, 0), UPLOAD_CLOSE);                /* length 0 */
		assert_int_equal(rule(&f, PIECE, 1), UPLOAD_CLOSE);            /* begin at the end */
		assert_int_equal(rule(&f, PIECE - BLOCK + 1, BLOCK), UPLOAD_CLOSE); /* block past the end */
		/* begin + length wraps to a small number in 32 bits. */
		assert_int_equal(rule(&f, 0xffffc000u, 0x8000u), UPLOAD_CLOSE);
		assert_int_equal(rule(&f, 16, UINT32_MAX - 8), UPLOAD_CLOSE);
		assert_int_equal(rule(&f, UINT32_MAX, UINT32_MAX), UPLOAD_CLOSE);
		/* A piece past the end of the torrent. */
		struct upload_facts g = f;
		g.piece_size = 0;
		assert_int_equal(rule(&g, 0, BLOCK), UPLOAD_CLOSE);
	}
}

/* The last piece is short: its last block is shorter still. */
static void test_last_short_piece(void **state)
{
	struct upload_facts f = facts();

	f.piece_size = BLOCK + 123;
	assert_int_equal(rule(&f, 0, BLOCK), UPLOAD_SERVE);
	assert_int_equal(rule(&f, BLOCK, 123), UPLOAD_SERVE);
	assert_int_equal(rule(&f, BLOCK, 124), UPLOAD_CLOSE);
	assert_int_equal(rule(&f, BLOCK, BLOCK), UPLOAD_CLOSE);
	f.piece_size = 1;
	assert_int_equal(rule(&f, 0, 1), UPLOAD_SERVE);
	assert_int_equal(rule(&f, 1, 1), UPLOAD_CLOSE);
}

/* Over the block limit but inside the piece: a Fast peer is told, a
 * plain peer cannot be and is dropped. */
static void test_long_request(void **state)
{
	struct upload_facts f = facts();

	assert_int_equal(rule(&f, 0, BLOCK + 1), UPLOAD_REJECT);
	assert_int_equal(rule(&f, 0, PIECE), UPLOAD_REJECT);
	f.fast = false;
	assert_int_equal(rule(&f, 0, BLOCK + 1), UPLOAD_CLOSE);
	f.max_block = 128 * 1024; /* a configured larger maximum */
	assert_int_equal(rule(&f, 0, 128 * 1024), UPLOAD_SERVE);
	assert_int_equal(rule(&f, 0, 128 * 1024 + 1), UPLOAD_CLOSE);
}

static void test_refusals(void **state)
{
	for (int fast = 0; fast < 2; fast++) {
		enum upload_verdict no = fast ? UPLOAD_REJECT : UPLOAD_IGNORE;
		struct upload_facts f = facts();
		f.fast = fast;

		f.have = false;
		assert_int_equal(rule(&f, 0, BLOCK), no);
		f = facts();
		f.fast = fast;
		f.serving = false;
		assert_int_equal(rule(&f, 0, BLOCK), no);
		f = facts();
		f.fast = fast;
		f.choking = true;
		assert_int_equal(rule(&f, 0, BLOCK), no);
		f = facts();
		f.fast = fast;
		f.queued = f.queue_cap;
		assert_int_equal(rule(&f, 0, BLOCK), no);
		f.queued = f.queue_cap - 1;
		assert_int_equal(rule(&f, 0, BLOCK), UPLOAD_SERVE);
	}
}

/* Choked, an allowed-fast piece is still served, but only within the
 * same checks: a piece we lack, a full queue or bad bounds are not. */
static void test_allowed_fast_while_choked(void **state)
{
	struct upload_facts f = facts();

	f.choking = true;
	f.allowed_fast = true;
	assert_int_equal(rule(&f, 0, BLOCK), UPLOAD_SERVE);
	assert_int_equal(rule(&f, PIECE - BLOCK + 1, BLOCK), UPLOAD_CLOSE);
	assert_int_equal(rule(&f, 0, BLOCK + 1), UPLOAD_REJECT);
	f.queued = f.queue_cap;
	assert_int_equal(rule(&f, 0, BLOCK), UPLOAD_REJECT);
	f.queued = 0;
	f.have = false;
	assert_int_equal(rule(&f, 0, BLOCK), UPLOAD_REJECT);
	f.have = true;
	f.serving = false;
	assert_int_equal(rule(&f, 0, BLOCK), UPLOAD_REJECT);
}

static struct sockaddr_in v4(const char *ip)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(6881) };

	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

static void test_allowed_fast_set(void **state)
{
	uint8_t hash[20];
	uint32_t set[UPLOAD_AF_K], again[UPLOAD_AF_K], want[UPLOAD_AF_K];
	static const uint8_t ip[4] = { 80, 4, 4, 200 };

	memset(hash, 0xaa, sizeof hash);
	struct sockaddr_in a = v4("80.4.4.200");
	assert_int_equal(upload_allowed_fast_set((struct sockaddr *)&a, hash, 1313, set),
	                 UPLOAD_AF_K);
	assert_int_equal(peer_wire_allowed_fast(ip, hash, 1313, want, UPLOAD_AF_K), UPLOAD_AF_K);
	assert_memory_equal(set, want, sizeof set);
	for (size_t i = 0; i < UPLOAD_AF_K; i++) {
		assert_true(set[i] < 1313);
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(set[i], set[j]);
	}
	/* The same /24 gets the same set: reconnecting from a neighbour
	 * address fishes for nothing new. */
	struct sockaddr_in b = v4("80.4.4.1");
	assert_int_equal(upload_allowed_fast_set((struct sockaddr *)&b, hash, 1313, again),
	                 UPLOAD_AF_K);
	assert_memory_equal(set, again, sizeof set);

	/* IPv4-mapped IPv6 is the IPv4 peer. */
	struct sockaddr_in6 m = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET6, "::ffff:80.4.4.200", &m.sin6_addr);
	assert_int_equal(upload_allowed_fast_set((struct sockaddr *)&m, hash, 1313, again),
	                 UPLOAD_AF_K);
	assert_memory_equal(set, again, sizeof set);
}

static void test_allowed_fast_none(void **state)
{
	uint8_t hash[20] = { 0 };
	uint32_t set[UPLOAD_AF_K];
	struct sockaddr_in a = v4("10.0.0.1");
	struct sockaddr_in6 six = { .sin6_family = AF_INET6 };

	/* Small torrents: granting k pieces would give away everything. */
	assert_int_equal(upload_allowed_fast_set((struct sockaddr *)&a, hash, UPLOAD_AF_K, set), 0);
	assert_int_equal(upload_allowed_fast_set((struct sockaddr *)&a, hash, 1, set), 0);
	assert_int_equal(upload_allowed_fast_set((struct sockaddr *)&a, hash, 0, set), 0);
	assert_int_equal(upload_allowed_fast_set((struct sockaddr *)&a, hash, UPLOAD_AF_K + 1, set),
	                 UPLOAD_AF_K);
	/* BEP 6 defines the set for IPv4 only. */
	inet_pton(AF_INET6, "2001:db8::1", &six.sin6_addr);
	assert_int_equal(upload_allowed_fast_set((struct sockaddr *)&six, hash, 1000, set), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serves_valid_blocks),
		cmocka_unit_test(test_out_of_bounds_closes),
		cmocka_unit_test(test_last_short_piece),
		cmocka_unit_test(test_long_request),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_allowed_fast_while_choked),
		cmocka_unit_test(test_allowed_fast_set),
		cmocka_unit_test(test_allowed_fast_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
