#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "tracker_proto.h"

static const uint8_t CONNECT_REQ[16] = {
	0x00, 0x00, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80, /* protocol id */
	0x00, 0x00, 0x00, 0x00,                         /* action: connect */
	0xde, 0xad, 0xbe, 0xef,                         /* transaction id */
};

/* An announce as libtorrent sends it: event started, IP 0, num_want -1. */
static const uint8_t ANNOUNCE_REQ[98] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* connection id */
	0x00, 0x00, 0x00, 0x01,                         /* action: announce */
	0x11, 0x22, 0x33, 0x44,                         /* transaction id */
	'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', /* info_hash */
	'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'B',
	'-', 'L', 'T', '2', '0', '8', '0', '-', 'x', 'x', /* peer_id */
	'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'y',
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* downloaded */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, /* left */
	0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, /* uploaded */
	0x00, 0x00, 0x00, 0x02,                         /* event: started */
	0x00, 0x00, 0x00, 0x00,                         /* ip: sender's */
	0xca, 0xfe, 0xba, 0xbe,                         /* key */
	0xff, 0xff, 0xff, 0xff,                         /* num_want: -1 */
	0x1a, 0xe1,                                     /* port 6881 */
};

static void test_connect_request(void **state)
{
	struct udp_request req;
	struct tracker_error err;
	struct sta_buf b = STA_BUF_INIT;

	udp_encode_connect(&b, 0xdeadbeef);
	assert_int_equal(b.len, sizeof CONNECT_REQ);
	assert_memory_equal(b.data, CONNECT_REQ, sizeof CONNECT_REQ);
	assert_true(udp_decode_request(b.data, b.len, &req, &err));
	assert_int_equal(req.action, UDP_ACTION_CONNECT);
	assert_int_equal(req.transaction_id, 0xdeadbeef);

	/* Wrong magic: refused, but the transaction id is there for the error reply. */
	b.data[7] = 0x81;
	assert_false(udp_decode_request(b.data, b.len, &req, &err));
	assert_string_equal(err.msg, "bad protocol id");
	assert_int_equal(req.transaction_id, 0xdeadbeef);
	buf_free(&b);
}

static void test_announce_request(void **state)
{
	struct udp_request req;
	struct tracker_error err;
	struct sta_buf b = STA_BUF_INIT;

	assert_true(udp_decode_request(ANNOUNCE_REQ, sizeof ANNOUNCE_REQ, &req, &err));
	assert_int_equal(req.action, UDP_ACTION_ANNOUNCE);
	assert_true(req.connection_id == 0x0102030405060708ULL);
	assert_int_equal(req.transaction_id, 0x11223344);
	const struct announce_req *a = &req.announce;
	assert_memory_equal(a->info_hash, "AAAAAAAAAAAAAAAAAAAB", 20);
	assert_memory_equal(a->peer_id, "-LT2080-xxxxxxxxxxxy", 20);
	assert_true(a->downloaded == 0x0000000100000002ULL);
	assert_true(a->left == 0x100000);
	assert_true(a->uploaded == 0x8000000000000003ULL);
	assert_int_equal(a->event, TRACKER_EVENT_STARTED);
	assert_int_equal(a->ip_family, 0);
	assert_true(a->has_key);
	assert_int_equal(a->key, 0xcafebabe);
	assert_int_equal(a->numwant, TRACKER_NUMWANT_DEFAULT);
	assert_int_equal(a->port, 6881);

	/* Re-encoding what was decoded gives the same bytes, except num_want,
	 * which now says the default explicitly. */
	udp_encode_announce(&b, req.connection_id, req.transaction_id, a);
	assert_int_equal(b.len, 98);
	assert_memory_equal(b.data, ANNOUNCE_REQ, 92);
	assert_int_equal(load_u32be(b.data + 92), TRACKER_NUMWANT_DEFAULT);
	assert_memory_equal(b.data + 96, ANNOUNCE_REQ + 96, 2);
	buf_free(&b);
}

static void test_announce_request_fields(void **state)
{
	uint8_t pkt[98 + 10];
	struct udp_request req;
	struct tracker_error err;

	memcpy(pkt, ANNOUNCE_REQ, 98);
	/* BEP 41 options after the fixed part are ignored. */
	memcpy(pkt + 98, "\x02\x05/annn\x00\x01", 8);
	memcpy(pkt + 84, "\x0a\x00\x00\x07", 4);            /* ip 10.0.0.7 */
	memcpy(pkt + 92, "\x00\x00\x00\x10", 4);            /* num_want 16 */
	memcpy(pkt + 80, "\x00\x00\x00\x04", 4);            /* paused (libtorrent) */
	assert_true(udp_decode_request(pkt, sizeof pkt, &req, &err));
	assert_int_equal(req.announce.ip_family, AF_INET);
	assert_memory_equal(req.announce.ip, "\x0a\x00\x00\x07", 4);
	assert_int_equal(req.announce.numwant, 16);
	assert_int_equal(req.announce.event, TRACKER_EVENT_PAUSED);

	memcpy(pkt + 92, "\x7f\xff\xff\xff", 4);
	assert_true(udp_decode_request(pkt, 98, &req, &err));
	assert_int_equal(req.announce.numwant, TRACKER_NUMWANT_MAX);
	memcpy(pkt + 92, "\x80\x00\x00\x00", 4);
	assert_true(udp_decode_request(pkt, 98, &req, &err));
	assert_int_equal(req.announce.numwant, TRACKER_NUMWANT_DEFAULT);

	memcpy(pkt + 80, "\x00\x00\x00\x05", 4);
	assert_false(udp_decode_request(pkt, 98, &req, &err));
	assert_string_equal(err.msg, "invalid event 5");
	assert_int_equal(req.transaction_id, 0x11223344);
	memcpy(pkt + 80, "\x00\x00\x00\x00", 4);
	memcpy(pkt + 96, "\x00\x00", 2);
	assert_false(udp_decode_request(pkt, 98, &req, &err));
	assert_string_equal(err.msg, "invalid port 0");
}

static void test_scrape_request(void **state)
{
	uint8_t pkt[16 + 20 * (TRACKER_SCRAPE_MAX + 1)];
	struct udp_request req;
	struct scrape_req s;
	struct tracker_error err;
	struct sta_buf b = STA_BUF_INIT;

	s.n = TRACKER_SCRAPE_MAX;
	for (size_t i = 0; i < s.n; i++)
		memset(s.info_hash[i], (int)i, 20);
	udp_encode_scrape(&b, 0x99, 7, &s);
	assert_int_equal(b.len, 16 + 20 * 74);
	assert_true(b.len <= UDP_TRACKER_MAX_PACKET);
	assert_memory_equal(b.data, "\0\0\0\0\0\0\0\x99\0\0\0\x02\0\0\0\x07", 16);
	assert_true(udp_decode_request(b.data, b.len, &req, &err));
	assert_int_equal(req.action, UDP_ACTION_SCRAPE);
	assert_int_equal(req.scrape.n, 74);
	assert_memory_equal(req.scrape.info_hash, s.info_hash, 74 * 20);

	memcpy(pkt, b.data, 16);
	memset(pkt + 16, 0xab, sizeof pkt - 16);
	size_t lens[] = { 16, 17, 35, 37, 16 + 20 * 75, 16 + 20 * 74 + 1 };
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		assert_false(udp_decode_request(pkt, lens[i], &req, &err));
		char want[64];
		snprintf(want, sizeof want, "bad scrape length %zu", lens[i]);
		assert_string_equal(err.msg, want);
		assert_int_equal(req.transaction_id, 7);
	}
	assert_true(udp_decode_request(pkt, 36, &req, &err));
	assert_int_equal(req.scrape.n, 1);
	buf_free(&b);
}

static void test_request_truncated_and_unknown(void **state)
{
	struct udp_request req;
	struct tracker_error err;
	uint8_t pkt[16];

	/* Every cut of a connect and an announce before the minimum fails;
	 * the transaction id shows once the 16-byte header is complete. */
	for (size_t len = 0; len < 16; len++) {
		assert_false(udp_decode_request(CONNECT_REQ, len, &req, &err));
		assert_int_equal(req.transaction_id, 0);
	}
	for (size_t len = 0; len < 98; len++) {
		assert_false(udp_decode_request(ANNOUNCE_REQ, len, &req, &err));
		assert_int_equal(req.transaction_id, len < 16 ? 0 : 0x11223344);
	}
	assert_false(udp_decode_request(ANNOUNCE_REQ, 97, &req, &err));
	assert_string_equal(err.msg, "announce too short: 97 bytes, need 98");
	assert_false(udp_decode_request(ANNOUNCE_REQ, 3, &req, &err));
	assert_string_equal(err.msg, "packet too short: 3 bytes");

	memcpy(pkt, CONNECT_REQ, 16);
	pkt[11] = 3; /* error is a reply action, not a request */
	assert_false(udp_decode_request(pkt, 16, &req, &err));
	assert_string_equal(err.msg, "unknown action 3");
	pkt[8] = 0x80;
	assert_false(udp_decode_request(pkt, 16, &req, &err));
	assert_string_equal(err.msg, "unknown action 2147483651");
}

static void test_connect_and_error_replies(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct udp_reply r;
	struct tracker_error err;

	udp_encode_connect_reply(&b, 0xdeadbeef, 0x1122334455667788ULL);
	assert_int_equal(b.len, 16);
	assert_memory_equal(b.data, "\0\0\0\0\xde\xad\xbe\xef\x11\x22\x33\x44\x55\x66\x77\x88", 16);
	assert_true(udp_decode_reply(b.data, b.len, AF_INET, 10, &r, &err));
	assert_int_equal(r.action, UDP_ACTION_CONNECT);
	assert_int_equal(r.transaction_id, 0xdeadbeef);
	assert_true(r.connection_id == 0x1122334455667788ULL);
	for (size_t len = 0; len < 16; len++)
		assert_false(udp_decode_reply(b.data, len, AF_INET, 10, &r, &err));
	udp_reply_free(&r);

	buf_clear(&b);
	udp_encode_error(&b, 5, "unknown torrent");
	assert_int_equal(b.len, 8 + 15);
	assert_memory_equal(b.data, "\0\0\0\x03\0\0\0\x05unknown torrent", 23);
	assert_true(udp_decode_reply(b.data, b.len, AF_INET, 10, &r, &err));
	assert_int_equal(r.action, UDP_ACTION_ERROR);
	assert_int_equal(r.transaction_id, 5);
	assert_string_equal(r.error, "unknown torrent");
	/* Hostile bytes come out escaped; an empty message is fine. */
	assert_true(udp_decode_reply((const uint8_t *)"\0\0\0\x03\0\0\0\x05\x1b[2J\0x", 14, AF_INET,
	                             10, &r, &err));
	assert_string_equal(r.error, "\\x1b[2J\\x00x");
	assert_true(udp_decode_reply(b.data, 8, AF_INET, 10, &r, &err));
	assert_string_equal(r.error, "");

	buf_clear(&b);
	char big[2000];
	memset(big, 'e', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	udp_encode_error(&b, 5, big);
	assert_int_equal(b.len, UDP_TRACKER_MAX_PACKET);
	assert_true(udp_decode_reply(b.data, b.len, AF_INET, 10, &r, &err));
	assert_int_equal(strlen(r.error), 255);
	buf_free(&b);
}

static void test_announce_reply_v4(void **state)
{
	struct tracker_peer peers[3] = {
		{ .family = AF_INET, .addr = { 10, 0, 0, 1 }, .port = 6881 },
		{ .family = AF_INET6, .addr = { 0x20, 0x01 }, .port = 1 },
		{ .family = AF_INET, .addr = { 192, 168, 1, 2 }, .port = 51413 },
	};
	struct announce_resp resp = {
		.interval = 1800, .complete = 3, .incomplete = 7, .n_peers = 3, .peers = peers,
	};
	static const uint8_t want[32] = {
		0, 0, 0, 1, 0, 0, 0, 42,       /* announce, tid */
		0, 0, 0x07, 0x08, 0, 0, 0, 7, 0, 0, 0, 3, /* interval, leechers, seeders */
		10, 0, 0, 1, 0x1a, 0xe1,
		192, 168, 1, 2, 0xc8, 0xd5,
	};
	struct sta_buf b = STA_BUF_INIT;
	struct udp_reply r;
	struct tracker_error err;

	udp_encode_announce_reply(&b, 42, &resp, AF_INET);
	assert_int_equal(b.len, sizeof want);
	assert_memory_equal(b.data, want, sizeof want);

	assert_true(udp_decode_reply(b.data, b.len, AF_INET, 10, &r, &err));
	assert_int_equal(r.action, UDP_ACTION_ANNOUNCE);
	assert_int_equal(r.interval, 1800);
	assert_int_equal(r.leechers, 7);
	assert_int_equal(r.seeders, 3);
	assert_int_equal(r.n_peers, 2);
	assert_int_equal(r.peers[0].family, AF_INET);
	assert_memory_equal(r.peers[0].addr, peers[0].addr, 4);
	assert_int_equal(r.peers[1].port, 51413);
	udp_reply_free(&r);
	assert_null(r.peers);

	/* max_peers bounds what is kept; 0 keeps none and allocates nothing. */
	assert_true(udp_decode_reply(b.data, b.len, AF_INET, 1, &r, &err));
	assert_int_equal(r.n_peers, 1);
	udp_reply_free(&r);
	assert_true(udp_decode_reply(b.data, b.len, AF_INET, 0, &r, &err));
	assert_int_equal(r.n_peers, 0);
	assert_null(r.peers);

	/* Read as IPv6 the 12 peer bytes are not a whole number of 18-byte entries. */
	assert_false(udp_decode_reply(b.data, b.len, AF_INET6, 10, &r, &err));
	assert_string_equal(err.msg, "bad announce reply length 32");
	assert_null(r.peers);
	assert_false(udp_decode_reply(b.data, b.len, 0, 10, &r, &err));
	assert_string_equal(err.msg, "unknown address family 0");

	/* Every truncation: only the lengths 20, 26 and 32 are whole. */
	for (size_t len = 0; len < b.len; len++) {
		bool ok = udp_decode_reply(b.data, len, AF_INET, 10, &r, &err);
		assert_int_equal(ok, len == 20 || len == 26);
		if (ok)
			assert_int_equal(r.n_peers, (len - 20) / 6);
		udp_reply_free(&r);
	}
	buf_free(&b);
}

static void test_announce_reply_v6_and_cap(void **state)
{
	static struct tracker_peer peers[300];
	struct announce_resp resp = { .interval = 60, .n_peers = 300, .peers = peers };
	struct sta_buf b = STA_BUF_INIT;
	struct udp_reply r;
	struct tracker_error err;

	for (size_t i = 0; i < 300; i++) {
		peers[i].family = i % 2 ? AF_INET6 : AF_INET;
		memset(peers[i].addr, (int)i, 16);
		peers[i].port = (uint16_t)(1000 + i);
	}
	udp_encode_announce_reply(&b, 1, &resp, AF_INET6);
	/* 150 IPv6 peers offered, 82 fit in 1500 bytes. */
	assert_int_equal(b.len, 20 + 18 * 82);
	assert_memory_equal(b.data + 20, peers[1].addr, 16);
	assert_int_equal(load_u16be(b.data + 36), 1001);
	assert_true(udp_decode_reply(b.data, b.len, AF_INET6, 1000, &r, &err));
	assert_int_equal(r.n_peers, 82);
	assert_int_equal(r.peers[81].family, AF_INET6);
	assert_memory_equal(r.peers[81].addr, peers[163].addr, 16);
	assert_int_equal(r.peers[81].port, 1163);
	udp_reply_free(&r);

	buf_clear(&b);
	udp_encode_announce_reply(&b, 1, &resp, AF_INET);
	assert_int_equal(b.len, 20 + 6 * 150);

	/* Port-0 entries are useless and dropped. */
	static const uint8_t zero_port[] = {
		0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
		1, 2, 3, 4, 0, 0,
		5, 6, 7, 8, 0, 9,
	};
	assert_true(udp_decode_reply(zero_port, sizeof zero_port, AF_INET, 10, &r, &err));
	assert_int_equal(r.n_peers, 1);
	assert_int_equal(r.peers[0].port, 9);
	udp_reply_free(&r);
	buf_free(&b);
}

static void test_scrape_reply(void **state)
{
	struct scrape_entry e[2] = {
		{ .complete = 1, .downloaded = 2, .incomplete = 3 },
		{ .complete = 0x01020304, .downloaded = 0, .incomplete = 0xffffffff },
	};
	static const uint8_t want[32] = {
		0, 0, 0, 2, 0, 0, 0, 9,
		0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
		1, 2, 3, 4, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
	};
	struct sta_buf b = STA_BUF_INIT;
	struct udp_reply r;
	struct tracker_error err;

	udp_encode_scrape_reply(&b, 9, e, 2);
	assert_int_equal(b.len, sizeof want);
	assert_memory_equal(b.data, want, sizeof want);
	assert_true(udp_decode_reply(b.data, b.len, AF_INET, 0, &r, &err));
	assert_int_equal(r.action, UDP_ACTION_SCRAPE);
	assert_int_equal(r.n_scrape, 2);
	assert_int_equal(r.scrape[0].complete, 1);
	assert_int_equal(r.scrape[0].downloaded, 2);
	assert_int_equal(r.scrape[0].incomplete, 3);
	assert_int_equal(r.scrape[1].incomplete, 0xffffffff);
	for (size_t len = 0; len < b.len; len++) {
		bool ok = udp_decode_reply(b.data, len, AF_INET, 0, &r, &err);
		assert_int_equal(ok, len == 8 || len == 20);
	}

	/* More entries than a scrape can ask for: refused. */
	uint8_t big[8 + 12 * (TRACKER_SCRAPE_MAX + 1)] = { 0, 0, 0, 2 };
	assert_true(udp_decode_reply(big, sizeof big - 12, AF_INET, 0, &r, &err));
	assert_int_equal(r.n_scrape, TRACKER_SCRAPE_MAX);
	assert_false(udp_decode_reply(big, sizeof big, AF_INET, 0, &r, &err));
	assert_string_equal(err.msg, "bad scrape reply length 908");

	big[3] = 7;
	assert_false(udp_decode_reply(big, 8, AF_INET, 0, &r, &err));
	assert_string_equal(err.msg, "unknown action 7");
	assert_false(udp_decode_reply(big, 7, AF_INET, 0, &r, &err));
	assert_string_equal(err.msg, "packet too short: 7 bytes");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_request),
		cmocka_unit_test(test_announce_request),
		cmocka_unit_test(test_announce_request_fields),
		cmocka_unit_test(test_scrape_request),
		cmocka_unit_test(test_request_truncated_and_unknown),
		cmocka_unit_test(test_connect_and_error_replies),
		cmocka_unit_test(test_announce_reply_v4),
		cmocka_unit_test(test_announce_reply_v6_and_cap),
		cmocka_unit_test(test_scrape_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
