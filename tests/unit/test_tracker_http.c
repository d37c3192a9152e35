#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "bencode.h"
#include "tracker_proto.h"

/* 20 bytes that need escaping in most positions, as a real SHA-1 would. */
static const uint8_t HASH[20] = {
	0x5b, 0x8f, 0x00, 0x2d, 0x41, 0x7e, 0xff, 0x20, 0x26, 0x3d,
	0x25, 0x2b, 0x80, 0x10, 0x61, 0x7a, 0x30, 0x39, 0x5f, 0x2e,
};
#define HASH_LOWER "%5b%8f%00-A~%ff%20%26%3d%25%2b%80%10az09_."
#define HASH_UPPER "%5B%8F%00%2DA%7E%FF%20%26%3D%25%2B%80%10az09%5F%2E"

static void parse_ok(const char *q, struct announce_req *req)
{
	struct tracker_error err = { "" };
	bool ok = tracker_parse_announce_query(q, strlen(q), req, &err);

	if (!ok)
		fail_msg("rejected: %s (%s)", err.msg, q);
}

static void parse_bad(const char *q, const char *msg)
{
	struct announce_req req;
	struct tracker_error err = { "" };

	if (tracker_parse_announce_query(q, strlen(q), &req, &err))
		fail_msg("accepted: %s", q);
	assert_string_equal(err.msg, msg);
}

static void test_announce_transmission(void **state)
{
	struct announce_req req;

	parse_ok("info_hash=" HASH_LOWER "&peer_id=-TR3000-6bq1m2v0x9zk"
	         "&port=51413&uploaded=0&downloaded=0&left=1048576&numwant=80&key=1cz8p2qr"
	         "&compact=1&supportcrypto=1&event=started", &req);
	assert_memory_equal(req.info_hash, HASH, 20);
	assert_memory_equal(req.peer_id, "-TR3000-6bq1m2v0x9zk", 20);
	assert_int_equal(req.port, 51413);
	assert_true(req.left == 1048576);
	assert_true(req.uploaded == 0 && req.downloaded == 0);
	assert_int_equal(req.numwant, 80);
	assert_int_equal(req.event, TRACKER_EVENT_STARTED);
	assert_true(req.compact);
	assert_false(req.no_peer_id);
	assert_true(req.has_key);
	assert_int_equal(req.ip_family, 0);

	/* A base-36 key folds to the same value every time, and differs from
	 * another client's. */
	struct announce_req again, other;
	parse_ok("info_hash=" HASH_LOWER "&peer_id=-TR3000-6bq1m2v0x9zk&port=1&key=1cz8p2qr", &again);
	parse_ok("info_hash=" HASH_LOWER "&peer_id=-TR3000-6bq1m2v0x9zk&port=1&key=1cz8p2qs", &other);
	assert_int_equal(again.key, req.key);
	assert_int_not_equal(other.key, req.key);
}

static void test_announce_libtorrent(void **state)
{
	struct announce_req req;

	parse_ok("info_hash=" HASH_UPPER "&peer_id=-LT2080-%21%7Eab%28c%29d%2Ae%27f"
	         "&port=6881&uploaded=123456789012&downloaded=42&left=0&corrupt=0"
	         "&key=1A2B3C4D&event=completed&numwant=200&compact=1&no_peer_id=1"
	         "&supportcrypto=1&redundant=0", &req);
	assert_memory_equal(req.info_hash, HASH, 20);
	assert_memory_equal(req.peer_id, "-LT2080-!~ab(c)d*e'f", 20);
	assert_int_equal(req.port, 6881);
	assert_true(req.uploaded == 123456789012ULL);
	assert_true(req.downloaded == 42);
	assert_int_equal(req.event, TRACKER_EVENT_COMPLETED);
	assert_int_equal(req.numwant, 200);
	assert_true(req.no_peer_id);
	assert_true(req.has_key);
	assert_int_equal(req.key, 0x1a2b3c4d);
}

static void test_announce_aria2(void **state)
{
	struct announce_req req;

	parse_ok("info_hash=" HASH_UPPER "&peer_id=A2-1-36-0-%8E%12%AB%CD%EF%01%02%03%04%05"
	         "&uploaded=0&downloaded=0&left=1048576&compact=1&key=0a1b2c3d&numwant=50"
	         "&no_peer_id=1&port=6881&event=stopped&supportcrypto=1", &req);
	assert_memory_equal(req.peer_id, "A2-1-36-0-\x8e\x12\xab\xcd\xef\x01\x02\x03\x04\x05", 20);
	assert_int_equal(req.event, TRACKER_EVENT_STOPPED);
	assert_int_equal(req.key, 0x0a1b2c3d);
	assert_int_equal(req.port, 6881);
}

static void test_announce_defaults_and_options(void **state)
{
	struct announce_req req;
	const char *base = "info_hash=" HASH_LOWER "&peer_id=ABCDEFGHIJKLMNOPQRST&port=65535";
	char q[512];

	parse_ok(base, &req);
	assert_int_equal(req.port, 65535);
	assert_int_equal(req.numwant, TRACKER_NUMWANT_DEFAULT);
	assert_true(req.compact);
	assert_false(req.has_key);
	assert_int_equal(req.event, TRACKER_EVENT_NONE);
	assert_true(req.left == 0);

	snprintf(q, sizeof q, "%s&compact=0&numwant=999999999999&event=&no_peer_id=0&key=", base);
	parse_ok(q, &req);
	assert_false(req.compact);
	assert_int_equal(req.numwant, TRACKER_NUMWANT_MAX);
	assert_int_equal(req.event, TRACKER_EVENT_NONE);
	assert_false(req.no_peer_id);
	assert_true(req.has_key);

	snprintf(q, sizeof q, "%s&event=paused&numwant=0&no_peer_id&left=18446744073709551615", base);
	parse_ok(q, &req);
	assert_int_equal(req.event, TRACKER_EVENT_PAUSED);
	assert_int_equal(req.numwant, 0);
	assert_true(req.no_peer_id);
	assert_true(req.left == UINT64_MAX);

	/* Empty params, a trailing '&', repeats where the last one wins. */
	snprintf(q, sizeof q, "&&%s&&port=80&&numwant=5&numwant=7&peer_id=01234567890123456789&", base);
	parse_ok(q, &req);
	assert_int_equal(req.port, 80);
	assert_int_equal(req.numwant, 7);
	assert_memory_equal(req.peer_id, "01234567890123456789", 20);
	/* Decimal key longer than 8 digits still yields a stable value. */
	snprintf(q, sizeof q, "%s&key=4294967295", base);
	parse_ok(q, &req);
	uint32_t k = req.key;
	parse_ok(q, &req);
	assert_int_equal(req.key, k);
}

static void test_announce_ip(void **state)
{
	struct announce_req req;
	const char *base = "info_hash=" HASH_LOWER "&peer_id=ABCDEFGHIJKLMNOPQRST&port=1";
	char q[512];
	uint8_t v6[16];

	snprintf(q, sizeof q, "%s&ip=10.1.2.3", base);
	parse_ok(q, &req);
	assert_int_equal(req.ip_family, AF_INET);
	assert_memory_equal(req.ip, "\x0a\x01\x02\x03", 4);

	snprintf(q, sizeof q, "%s&ip=2001%%3Adb8%%3A%%3A1", base);
	parse_ok(q, &req);
	assert_int_equal(req.ip_family, AF_INET6);
	inet_pton(AF_INET6, "2001:db8::1", v6);
	assert_memory_equal(req.ip, v6, 16);

	/* Names, garbage, embedded NUL, overlong: ignored, the sender's address counts. */
	const char *ignored[] = { "tracker.example.org", "1.2.3.4.5", "1.2.3.4%00x", "", "::g" };
	for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
		snprintf(q, sizeof q, "%s&ip=10.0.0.1&ip=%s", base, ignored[i]);
		parse_ok(q, &req);
		assert_int_equal(req.ip_family, 0);
	}
	char longq[512];
	snprintf(longq, sizeof longq, "%s&ip=%0200d", base, 1);
	parse_ok(longq, &req);
	assert_int_equal(req.ip_family, 0);
	snprintf(q, sizeof q, "%s&ip=1.2.3.4%%zz", base);
	parse_bad(q, "invalid ip: bad percent escape");
}

static void test_announce_errors(void **state)
{
	const char *pid = "&peer_id=ABCDEFGHIJKLMNOPQRST";
	char q[512];

	parse_bad("", "missing info_hash");
	parse_bad("peer_id=ABCDEFGHIJKLMNOPQRST&port=1", "missing info_hash");
	parse_bad("info_hash=" HASH_LOWER "&port=1", "missing peer_id");
	parse_bad("info_hash=" HASH_LOWER "&peer_id=ABCDEFGHIJKLMNOPQRST", "missing port");
	parse_bad("info_hash=0123456789012345678&peer_id=ABCDEFGHIJKLMNOPQRST&port=1",
	          "invalid info_hash: 19 bytes, need 20");
	parse_bad("info_hash=012345678901234567890&peer_id=ABCDEFGHIJKLMNOPQRST&port=1",
	          "invalid info_hash: 21 bytes, need 20");
	parse_bad("info_hash=%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41",
	          "invalid info_hash: more than 20 bytes");
	parse_bad("info_hash=&port=1", "invalid info_hash: 0 bytes, need 20");
	parse_bad("info_hash=%5" , "invalid info_hash: bad percent escape");
	parse_bad("info_hash=%g0", "invalid info_hash: bad percent escape");
	parse_bad("info_hash=" HASH_LOWER "&info_hash=" HASH_LOWER, "more than one info_hash");
	parse_bad("info_hash=" HASH_LOWER "&peer_id=short&port=1", "invalid peer_id: 5 bytes, need 20");

	const char *bad[][2] = {
		{ "&port=0", "invalid port" },
		{ "&port=65536", "invalid port" },
		{ "&port=-1", "invalid port" },
		{ "&port=", "invalid port" },
		{ "&port=80x", "invalid port" },
		{ "&port=1&uploaded=-5", "invalid uploaded" },
		{ "&port=1&downloaded=1.5", "invalid downloaded" },
		{ "&port=1&left=18446744073709551616", "invalid left" },
		{ "&port=1&left=", "invalid left" },
		{ "&port=1&left=%31", "invalid left" },
		{ "&port=1&event=begin", "invalid event" },
		{ "&port=1&event=Started", "invalid event" },
		{ "&port=1&compact=2", "invalid compact" },
		{ "&port=1&compact=", "invalid compact" },
		{ "&port=1&numwant=-1", "invalid numwant" },
		{ "&port=1&numwant=99999999999999999999999", "invalid numwant" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(q, sizeof q, "info_hash=%s%s%s", HASH_LOWER, pid, bad[i][0]);
		parse_bad(q, bad[i][1]);
	}
}

static void test_query_length_limit(void **state)
{
	static char q[TRACKER_QUERY_MAX + 2];
	struct announce_req req;
	struct scrape_req sreq;
	struct tracker_error err;
	int n = snprintf(q, sizeof q, "info_hash=%s&peer_id=ABCDEFGHIJKLMNOPQRST&port=1&x=",
	                 HASH_LOWER);

	memset(q + n, 'a', sizeof q - (size_t)n);
	/* Exactly at the limit: fine. One more byte: refused. */
	assert_true(tracker_parse_announce_query(q, TRACKER_QUERY_MAX, &req, &err));
	assert_false(tracker_parse_announce_query(q, TRACKER_QUERY_MAX + 1, &req, &err));
	assert_string_equal(err.msg, "query too long: 4097 bytes, limit 4096");
	assert_false(tracker_parse_scrape_query(q, TRACKER_QUERY_MAX + 1, &sreq, &err));
	assert_string_equal(err.msg, "query too long: 4097 bytes, limit 4096");
	/* The parser reads only len bytes: a query cut mid-escape is an error. */
	assert_false(tracker_parse_announce_query("info_hash=%4142", 12, &req, &err));
	assert_string_equal(err.msg, "invalid info_hash: bad percent escape");
}

static void test_scrape_query(void **state)
{
	struct scrape_req req;
	struct tracker_error err;
	const char *q = "info_hash=" HASH_LOWER "&foo=bar&&info_hash=ABCDEFGHIJKLMNOPQRST";

	assert_true(tracker_parse_scrape_query(q, strlen(q), &req, &err));
	assert_int_equal(req.n, 2);
	assert_memory_equal(req.info_hash[0], HASH, 20);
	assert_memory_equal(req.info_hash[1], "ABCDEFGHIJKLMNOPQRST", 20);

	assert_true(tracker_parse_scrape_query("", 0, &req, &err));
	assert_int_equal(req.n, 0);

	q = "info_hash=ABCDEFGHIJKLMNOPQRS";
	assert_false(tracker_parse_scrape_query(q, strlen(q), &req, &err));
	assert_string_equal(err.msg, "invalid info_hash: 19 bytes, need 20");
	q = "info_hash=ABCDEFGHIJKLMNOPQRS%";
	assert_false(tracker_parse_scrape_query(q, strlen(q), &req, &err));
	assert_string_equal(err.msg, "invalid info_hash: bad percent escape");

	/* TRACKER_SCRAPE_MAX hashes pass, one more fails. */
	char big[TRACKER_QUERY_MAX];
	size_t o = 0;
	for (int i = 0; i <= TRACKER_SCRAPE_MAX; i++) {
		o += (size_t)snprintf(big + o, sizeof big - o, "info_hash=%020d&", i);
		if (i == TRACKER_SCRAPE_MAX - 1) {
			assert_true(tracker_parse_scrape_query(big, o, &req, &err));
			assert_int_equal(req.n, TRACKER_SCRAPE_MAX);
			assert_memory_equal(req.info_hash[5], "00000000000000000005", 20);
		}
	}
	assert_false(tracker_parse_scrape_query(big, o, &req, &err));
	assert_string_equal(err.msg, "too many info_hash: limit 74");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_announce_transmission),
		cmocka_unit_test(test_announce_libtorrent),
		cmocka_unit_test(test_announce_aria2),
		cmocka_unit_test(test_announce_defaults_and_options),
		cmocka_unit_test(test_announce_ip),
		cmocka_unit_test(test_announce_errors),
		cmocka_unit_test(test_query_length_limit),
		cmocka_unit_test(test_scrape_query),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
