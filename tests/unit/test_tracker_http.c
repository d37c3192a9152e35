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
		assert_memory_equal(req.ip, "\0\0\0\0", 4);
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

static void assert_buf_is(const struct sta_buf *b, const void *want, size_t len)
{
	if (b->len != len || memcmp(b->data, want, len) != 0)
		fail_msg("got %.*s\nwant %.*s", (int)b->len, (const char *)b->data, (int)len,
		         (const char *)want);
}
#define ASSERT_BUF(b, lit) assert_buf_is((b), (lit), sizeof(lit) - 1)

static const struct tracker_peer PEERS[3] = {
	{ .family = AF_INET, .addr = { 10, 0, 0, 1 }, .port = 6881, .has_peer_id = true,
	  .peer_id = "-TR3000-abcdefghijkl" },
	{ .family = AF_INET6, .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, .port = 0x3a3a },
	{ .family = AF_INET, .addr = { 192, 168, 1, 2 }, .port = 80 },
};

static void test_build_announce_reply(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct announce_resp resp = {
		.interval = 1800, .complete = 2, .incomplete = 1, .downloaded = 9,
		.n_peers = 3, .peers = PEERS,
	};

	tracker_build_announce_reply(&b, &resp, true, false);
	ASSERT_BUF(&b, "d8:completei2e10:downloadedi9e10:incompletei1e8:intervali1800e"
	               "5:peers12:\x0a\x00\x00\x01\x1a\xe1\xc0\xa8\x01\x02\x00\x50"
	               "6:peers618:\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01::e");

	buf_clear(&b);
	resp.min_interval = 900;
	resp.warning = "slow down";
	resp.n_peers = 1;
	tracker_build_announce_reply(&b, &resp, true, false);
	ASSERT_BUF(&b, "d8:completei2e10:downloadedi9e10:incompletei1e8:intervali1800e"
	               "12:min intervali900e5:peers6:\x0a\x00\x00\x01\x1a\xe1"
	               "15:warning message9:slow downe");

	/* No peers at all: an empty compact string, no peers6. */
	buf_clear(&b);
	resp.n_peers = 0;
	resp.warning = NULL;
	tracker_build_announce_reply(&b, &resp, true, false);
	ASSERT_BUF(&b, "d8:completei2e10:downloadedi9e10:incompletei1e8:intervali1800e"
	               "12:min intervali900e5:peers0:e");

	buf_clear(&b);
	resp.min_interval = 0;
	resp.n_peers = 3;
	tracker_build_announce_reply(&b, &resp, false, false);
	ASSERT_BUF(&b, "d8:completei2e10:downloadedi9e10:incompletei1e8:intervali1800e"
	               "5:peersl"
	               "d2:ip8:10.0.0.17:peer id20:-TR3000-abcdefghijkl4:porti6881ee"
	               "d2:ip11:2001:db8::14:porti14906ee"
	               "d2:ip11:192.168.1.24:porti80ee"
	               "ee");

	buf_clear(&b);
	resp.n_peers = 1;
	tracker_build_announce_reply(&b, &resp, false, true);
	ASSERT_BUF(&b, "d8:completei2e10:downloadedi9e10:incompletei1e8:intervali1800e"
	               "5:peersld2:ip8:10.0.0.14:porti6881eeee");
	buf_free(&b);
}

static void test_build_scrape_and_failure(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct scrape_entry e[3] = {
		{ .info_hash = "BBBBBBBBBBBBBBBBBBBB", .complete = 1, .downloaded = 2, .incomplete = 3 },
		{ .info_hash = "AAAAAAAAAAAAAAAAAAAA", .complete = 4, .downloaded = 5, .incomplete = 6 },
		{ .info_hash = "BBBBBBBBBBBBBBBBBBBB", .complete = 1, .downloaded = 2, .incomplete = 3 },
	};

	/* Sorted by hash, duplicates once. */
	tracker_build_scrape_reply(&b, e, 3);
	ASSERT_BUF(&b, "d5:filesd"
	               "20:AAAAAAAAAAAAAAAAAAAAd8:completei4e10:downloadedi5e10:incompletei6ee"
	               "20:BBBBBBBBBBBBBBBBBBBBd8:completei1e10:downloadedi2e10:incompletei3ee"
	               "ee");
	buf_clear(&b);
	tracker_build_scrape_reply(&b, e, 0);
	ASSERT_BUF(&b, "d5:filesdee");

	buf_clear(&b);
	tracker_build_failure(&b, "invalid info_hash: 19 bytes, need 20");
	ASSERT_BUF(&b, "d14:failure reason36:invalid info_hash: 19 bytes, need 20e");
	buf_free(&b);
}

static void test_build_query_round_trip(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct announce_req req = {
		.port = 6881, .uploaded = 1, .downloaded = 18446744073709551615ULL, .left = 0,
		.event = TRACKER_EVENT_STARTED, .compact = true, .numwant = 200,
		.has_key = true, .key = 0x00abcdef,
	}, got;
	struct tracker_error err;

	memcpy(req.info_hash, HASH, 20);
	memcpy(req.peer_id, "-ST0001-~_.x\x01\xff\x20+&=%/", 20);
	tracker_build_announce_query(&b, &req);
	ASSERT_BUF(&b, "info_hash=" "%5B%8F%00-A~%FF%20%26%3D%25%2B%80%10az09_."
	               "&peer_id=-ST0001-~_.x%01%FF%20%2B%26%3D%25%2F"
	               "&port=6881&uploaded=1&downloaded=18446744073709551615&left=0&compact=1"
	               "&event=started&numwant=200&key=00abcdef");
	assert_true(tracker_parse_announce_query((const char *)b.data, b.len, &got, &err));
	assert_memory_equal(&got, &req, sizeof got);

	/* No event, no key, an IPv6 address, paused. */
	req.event = TRACKER_EVENT_NONE;
	req.has_key = false;
	req.key = 0;
	req.numwant = 0;
	req.ip_family = AF_INET6;
	inet_pton(AF_INET6, "fe80::1", req.ip);
	buf_clear(&b);
	tracker_build_announce_query(&b, &req);
	const char *tail = "&left=0&compact=1&numwant=0&ip=fe80%3A%3A1";
	assert_true(b.len > strlen(tail));
	assert_memory_equal(b.data + b.len - strlen(tail), tail, strlen(tail));
	assert_true(tracker_parse_announce_query((const char *)b.data, b.len, &got, &err));
	assert_memory_equal(&got, &req, sizeof got);

	req.event = TRACKER_EVENT_PAUSED;
	req.ip_family = AF_INET;
	memcpy(req.ip, "\x7f\0\0\x02", 4);
	memset(req.ip + 4, 0, 12);
	buf_clear(&b);
	tracker_build_announce_query(&b, &req);
	assert_true(tracker_parse_announce_query((const char *)b.data, b.len, &got, &err));
	assert_memory_equal(&got, &req, sizeof got);
	assert_non_null(memmem(b.data, b.len, "&event=paused&numwant=0&ip=127.0.0.2", 36));
	buf_free(&b);
}

static void test_reply_round_trip(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct announce_resp resp = {
		.interval = 1800, .min_interval = 60, .complete = 2, .incomplete = 1,
		.warning = "be nice", .n_peers = 3, .peers = PEERS,
	};
	struct announce_reply r;
	struct tracker_error err;

	for (int compact = 0; compact <= 1; compact++) {
		buf_clear(&b);
		tracker_build_announce_reply(&b, &resp, compact, false);
		assert_true(tracker_parse_announce_reply(b.data, b.len, 100, &r, &err));
		assert_false(r.failed);
		assert_string_equal(r.warning, "be nice");
		assert_int_equal(r.interval, 1800);
		assert_int_equal(r.min_interval, 60);
		assert_int_equal(r.complete, 2);
		assert_int_equal(r.incomplete, 1);
		assert_int_equal(r.n_peers, 3);
		/* Compact replies put IPv6 peers last, in peers6. */
		const struct tracker_peer *v6 = compact ? &r.peers[2] : &r.peers[1];
		const struct tracker_peer *third = compact ? &r.peers[1] : &r.peers[2];
		assert_int_equal(r.peers[0].family, AF_INET);
		assert_memory_equal(r.peers[0].addr, PEERS[0].addr, 4);
		assert_int_equal(r.peers[0].port, 6881);
		assert_int_equal(r.peers[0].has_peer_id, !compact);
		if (!compact)
			assert_memory_equal(r.peers[0].peer_id, PEERS[0].peer_id, 20);
		assert_int_equal(v6->family, AF_INET6);
		assert_memory_equal(v6->addr, PEERS[1].addr, 16);
		assert_int_equal(v6->port, PEERS[1].port);
		assert_memory_equal(third->addr, PEERS[2].addr, 4);
		assert_int_equal(third->port, 80);
		tracker_announce_reply_free(&r);
		assert_null(r.peers);

		/* max_peers keeps the first ones only. */
		assert_true(tracker_parse_announce_reply(b.data, b.len, 1, &r, &err));
		assert_int_equal(r.n_peers, 1);
		assert_int_equal(r.peers[0].port, 6881);
		tracker_announce_reply_free(&r);
		assert_true(tracker_parse_announce_reply(b.data, b.len, 0, &r, &err));
		assert_int_equal(r.n_peers, 0);
		assert_null(r.peers);

		/* Every truncation is refused, and leaves nothing to free. */
		for (size_t len = 0; len < b.len; len++) {
			assert_false(tracker_parse_announce_reply(b.data, len, 100, &r, &err));
			assert_null(r.peers);
		}
	}
	buf_free(&b);
}

static void reply_ok(const char *lit, size_t len, size_t max, struct announce_reply *r)
{
	struct tracker_error err = { "" };

	if (!tracker_parse_announce_reply((const uint8_t *)lit, len, max, r, &err))
		fail_msg("rejected: %s (%.*s)", err.msg, (int)len, lit);
}
#define REPLY_OK(lit, max, r) reply_ok((lit), sizeof(lit) - 1, (max), (r))

static void reply_bad(const char *lit, size_t len, const char *msg)
{
	struct announce_reply r;
	struct tracker_error err = { "" };

	if (tracker_parse_announce_reply((const uint8_t *)lit, len, 100, &r, &err))
		fail_msg("accepted: %.*s", (int)len, lit);
	assert_null(r.peers);
	assert_string_equal(err.msg, msg);
	tracker_announce_reply_free(&r);
}
#define REPLY_BAD(lit, msg) reply_bad((lit), sizeof(lit) - 1, (msg))

/* The decoder's own wording is not ours to pin; where it failed is. */
static void reply_bad_bencode(const char *lit, size_t len, size_t offset)
{
	struct announce_reply r;
	struct tracker_error err = { "" };
	char tail[32];

	assert_false(tracker_parse_announce_reply((const uint8_t *)lit, len, 100, &r, &err));
	assert_null(r.peers);
	snprintf(tail, sizeof tail, " at byte %zu", offset);
	assert_true(strncmp(err.msg, "bad bencoding in reply: ", 24) == 0);
	assert_true(strlen(err.msg) > strlen(tail));
	assert_string_equal(err.msg + strlen(err.msg) - strlen(tail), tail);
}
#define REPLY_BAD_BENCODE(lit, off) reply_bad_bencode((lit), sizeof(lit) - 1, (off))

static void test_parse_reply_failure_and_warning(void **state)
{
	struct announce_reply r;

	REPLY_OK("d14:failure reason17:torrent not founde", 10, &r);
	assert_true(r.failed);
	assert_string_equal(r.failure, "torrent not found");
	assert_int_equal(r.n_peers, 0);
	/* A failure wins over anything malformed beside it. */
	REPLY_OK("d14:failure reason4:\x1b[2J8:intervali-5e5:peers5:abcdee", 10, &r);
	assert_true(r.failed);
	assert_string_equal(r.failure, "\\x1b[2J");
	assert_int_equal(r.interval, 0);

	REPLY_OK("d8:intervali60e5:peers0:15:warning message5:a\nb\\ce", 10, &r);
	assert_false(r.failed);
	assert_string_equal(r.warning, "a\\x0ab\\x5cc");
	assert_int_equal(r.interval, 60);

	/* A long message is cut, still NUL-terminated. */
	char big[1200];
	int n = snprintf(big, sizeof big, "d14:failure reason1000:");
	memset(big + n, 'x', 1000);
	memcpy(big + n + 1000, "e", 1);
	reply_ok(big, (size_t)n + 1001, 10, &r);
	assert_true(r.failed);
	assert_true(strlen(r.failure) < sizeof r.failure);
	assert_memory_equal(r.failure + strlen(r.failure) - 3, "...", 3);

	/* Minimal reply: no peers key, no counts. */
	REPLY_OK("de", 10, &r);
	assert_false(r.failed);
	assert_int_equal(r.interval, 0);
	assert_string_equal(r.warning, "");
	assert_null(r.peers);
}

static void test_parse_reply_errors(void **state)
{
	REPLY_BAD_BENCODE("", 0);
	REPLY_BAD_BENCODE("<html>", 0);
	REPLY_BAD("le", "reply is not a dictionary");
	REPLY_BAD("i5e", "reply is not a dictionary");
	REPLY_BAD("d8:intervali-1ee", "invalid interval in reply: -1");
	REPLY_BAD("d8:intervali4294967296ee", "invalid interval in reply: 4294967296");
	REPLY_BAD("d12:min intervali-1ee", "invalid min interval in reply: -1");
	REPLY_BAD("d8:completei-3ee", "invalid complete in reply: -3");
	REPLY_BAD("d10:incompletei99999999999ee", "invalid incomplete in reply: 99999999999");
	REPLY_BAD("d5:peers5:abcdee", "bad peers length 5 in reply");
	REPLY_BAD("d5:peers7:abcdefge", "bad peers length 7 in reply");
	REPLY_BAD("d5:peers6:abcdef6:peers617:abcdefghijklmnopqe", "bad peers6 length 17 in reply");
	REPLY_BAD("d5:peersi5ee", "bad peers in reply");
	REPLY_BAD("d5:peersd2:ip7:1.2.3.4ee", "bad peers in reply");
	/* Lengths in the bencoding itself are checked by the decoder. */
	REPLY_BAD_BENCODE("d5:peers600:abcdefe", 8);
	REPLY_BAD_BENCODE("d5:peers6:\x01\x02\x03\x04\x00\x01" "ex", 17);
	REPLY_BAD_BENCODE("d5:peersld2:ip7:1.2.3.4ee", 25);
}

static void test_parse_reply_peers(void **state)
{
	struct announce_reply r;

	/* Unusable dict entries are skipped; good ones kept in order. */
	REPLY_OK("d5:peersl"
	         "d2:ip11:example.org4:porti1ee"      /* host name */
	         "d2:ip7:1.2.3.44:porti0ee"           /* port 0 */
	         "d2:ip7:1.2.3.44:porti65536ee"       /* port too big */
	         "d2:ip7:1.2.3.44:port1:1e"           /* port not an int */
	         "d4:porti5ee"                        /* no ip */
	         "d2:ip9:1.2.3.4\0x4:porti5ee"        /* NUL in ip */
	         "d2:ip60:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa4:porti5ee"
	         "i7e"                                 /* not a dict */
	         "d2:ip7:5.6.7.87:peer id3:abc4:porti9ee" /* short peer id: ignored */
	         "d2:ip3:::14:porti10ee"
	         "ee", 100, &r);
	assert_int_equal(r.n_peers, 2);
	assert_int_equal(r.peers[0].family, AF_INET);
	assert_memory_equal(r.peers[0].addr, "\x05\x06\x07\x08", 4);
	assert_int_equal(r.peers[0].port, 9);
	assert_false(r.peers[0].has_peer_id);
	assert_int_equal(r.peers[1].family, AF_INET6);
	assert_memory_equal(r.peers[1].addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	tracker_announce_reply_free(&r);

	/* Compact entries with port 0 are dropped; max_peers spans peers and peers6. */
	REPLY_OK("d5:peers12:\x01\x01\x01\x01\x00\x00\x02\x02\x02\x02\x00\x07"
	         "6:peers618:\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x08" "e", 100, &r);
	assert_int_equal(r.n_peers, 2);
	assert_memory_equal(r.peers[0].addr, "\x02\x02\x02\x02", 4);
	assert_int_equal(r.peers[0].port, 7);
	assert_int_equal(r.peers[1].family, AF_INET6);
	assert_int_equal(r.peers[1].port, 8);
	tracker_announce_reply_free(&r);
	REPLY_OK("d5:peers6:\x02\x02\x02\x02\x00\x07"
	         "6:peers618:\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x08" "e", 1, &r);
	assert_int_equal(r.n_peers, 1);
	assert_int_equal(r.peers[0].port, 7);
	tracker_announce_reply_free(&r);

	/* A peers6 that is not a string is ignored (only the BEP 7 form exists). */
	REPLY_OK("d5:peers0:6:peers6i1ee", 100, &r);
	assert_int_equal(r.n_peers, 0);

	/* Many peers, few kept: the allocation follows max_peers, not the input. */
	static char many[16 + 6 * 5000 + 1];
	int n = snprintf(many, sizeof many, "d5:peers%d:", 6 * 5000);
	for (int i = 0; i < 5000; i++)
		memcpy(many + n + 6 * i, "\x0a\0\0\x01\x00\x01", 6);
	memcpy(many + n + 6 * 5000, "e", 1);
	reply_ok(many, (size_t)n + 6 * 5000 + 1, 3, &r);
	assert_int_equal(r.n_peers, 3);
	tracker_announce_reply_free(&r);
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
		cmocka_unit_test(test_build_announce_reply),
		cmocka_unit_test(test_build_scrape_and_failure),
		cmocka_unit_test(test_build_query_round_trip),
		cmocka_unit_test(test_reply_round_trip),
		cmocka_unit_test(test_parse_reply_failure_and_warning),
		cmocka_unit_test(test_parse_reply_errors),
		cmocka_unit_test(test_parse_reply_peers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
