#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"
#include "magnet.h"

#define HEX "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"

static void parse_ok(const char *uri, struct magnet *m)
{
	struct magnet_error err;

	/* An exact-size copy, so that ASan sees a read past len. */
	size_t len = strlen(uri);
	char *copy = malloc(len ? len : 1);
	memcpy(copy, uri, len);
	bool ok = magnet_parse(copy, len, m, &err);
	free(copy);
	if (!ok)
		fail_msg("%s: %s", uri, err.msg);
}

static void parse_fails(const char *uri, enum magnet_err code, const char *msg)
{
	struct magnet m;
	struct magnet_error err;

	assert_false(magnet_parse(uri, strlen(uri), &m, &err));
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, msg);
	assert_null(m.trackers);
	assert_null(m.peers);
}

static void assert_hash(const struct magnet *m, const char *hex)
{
	char got[41];

	hex_encode(m->info_hash, 20, got);
	assert_string_equal(got, hex);
}

static void test_hex_and_base32(void **state)
{
	struct magnet m;

	parse_ok("magnet:?xt=urn:btih:" HEX, &m);
	assert_hash(&m, HEX);
	assert_string_equal(m.name, "");
	assert_int_equal(m.n_trackers, 0);
	assert_int_equal(m.n_peers, 0);
	magnet_free(&m);
	/* Upper-case hex, upper-case scheme and prefix. */
	parse_ok("MAGNET:?xt=URN:BTIH:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A", &m);
	assert_hash(&m, HEX);
	magnet_free(&m);
	/* The same hash in base32 (RFC 4648), both cases. */
	parse_ok("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK", &m);
	assert_hash(&m, HEX);
	magnet_free(&m);
	parse_ok("magnet:?xt=urn:btih:yex6dqdlxisuvhoj6um3gnnkpqjwpkek", &m);
	assert_hash(&m, HEX);
	magnet_free(&m);
}

static void test_name_trackers_peers(void **state)
{
	struct magnet m;

	parse_ok("magnet:?xt=urn:btih:" HEX "&dn=Big+Buck%20Bunny%2B1&tr=udp%3A%2F%2Ft.example"
	         "%3A6969%2Fannounce&tr.1=http://a.example/announce&tr=wss://w.example&tr=udp%3A"
	         "%2F%2Ft.example%3A6969%2Fannounce&x.pe=10.0.0.1:6881&x.pe=%5B2001:db8::1%5D:51413"
	         "&x.pe=seed.example.org:80&ws=http://web.example/file&so=0-3", &m);
	assert_string_equal(m.name, "Big Buck Bunny+1");
	assert_int_equal(m.n_trackers, 2);
	assert_string_equal(m.trackers[0], "udp://t.example:6969/announce");
	assert_string_equal(m.trackers[1], "http://a.example/announce");
	assert_int_equal(m.n_skipped, 1); /* wss; the duplicate is just dropped */
	assert_int_equal(m.n_peers, 3);
	assert_string_equal(m.peers[0].host, "10.0.0.1");
	assert_int_equal(m.peers[0].port, 6881);
	assert_string_equal(m.peers[1].host, "2001:db8::1");
	assert_int_equal(m.peers[1].port, 51413);
	assert_string_equal(m.peers[2].host, "seed.example.org");
	assert_int_equal(m.peers[2].port, 80);
	magnet_free(&m);
}

static void test_caps_and_long_name(void **state)
{
	char uri[8192];
	struct magnet m;
	size_t n = (size_t)snprintf(uri, sizeof uri, "magnet:?xt=urn:btih:" HEX "&dn=");

	/* A name of 300 bytes of two-byte UTF-8: cut to 254, not inside a character. */
	for (int i = 0; i < 150; i++)
		n += (size_t)snprintf(uri + n, sizeof uri - n, "%%C3%%A9");
	for (int i = 0; i < MAGNET_MAX_TRACKERS + 3; i++)
		n += (size_t)snprintf(uri + n, sizeof uri - n, "&tr=http://t%d.example/a", i);
	for (int i = 0; i < MAGNET_MAX_PEERS + 2; i++)
		n += (size_t)snprintf(uri + n, sizeof uri - n, "&x.pe=10.0.0.%d:1", i);
	parse_ok(uri, &m);
	assert_int_equal(strlen(m.name), 254);
	assert_int_equal(m.n_trackers, MAGNET_MAX_TRACKERS);
	assert_int_equal(m.n_peers, MAGNET_MAX_PEERS);
	assert_int_equal(m.n_skipped, 5);
	magnet_free(&m);
}

static void test_first_of_repeats_and_v2_hybrid(void **state)
{
	struct magnet m;

	/* A hybrid link carries both hashes: the v1 one is used. */
	parse_ok("magnet:?xt=urn:btmh:1220aaaa&xt=urn:btih:" HEX "&dn=a&dn=b&xt.1=urn:btih:" HEX,
	         &m);
	assert_hash(&m, HEX);
	assert_string_equal(m.name, "a");
	magnet_free(&m);
	/* Empty parameters (&&) and a trailing & are harmless. */
	parse_ok("magnet:?&xt=urn:btih:" HEX "&&", &m);
	magnet_free(&m);
}

static void test_errors(void **state)
{
	parse_fails("http://example.com/x.torrent", MAGNET_ERR_SCHEME,
	            "not a magnet link: it starts with \"magnet:?\"");
	parse_fails("magnet:?dn=x", MAGNET_ERR_NO_HASH,
	            "the link has no info-hash (xt=urn:btih:...): copy the whole magnet link");
	parse_fails("magnet:?xt=urn:btmh:1220" HEX, MAGNET_ERR_V2_ONLY,
	            "the link has only a BitTorrent v2 info-hash (urn:btmh); stad needs a v1 one "
	            "(urn:btih)");
	parse_fails("magnet:?xt=urn:btih:" HEX "0", MAGNET_ERR_HASH,
	            "the info-hash \"" HEX "0\" is not 40 hex or 32 base32 digits: copy the whole "
	            "magnet link");
	parse_fails("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88g", MAGNET_ERR_HASH,
	            "the info-hash \"c12fe1c06bba254a9dc9f519b335aa7c1367a88g\" is not 40 hex or 32 "
	            "base32 digits: copy the whole magnet link");
	parse_fails("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE1", MAGNET_ERR_HASH,
	            "the info-hash \"YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE1\" is not 40 hex or 32 base32 "
	            "digits: copy the whole magnet link");
	parse_fails("magnet:?xt=urn:btih:" HEX "&xt=urn:btih:0000000000000000000000000000000000000000",
	            MAGNET_ERR_TWO_HASHES, "the link names two different info-hashes (xt): keep one");
	parse_fails("magnet:?xt=urn:btih:" HEX "&dn", MAGNET_ERR_PARAM,
	            "\"dn\" in the link has no '=': copy the whole magnet link");
	parse_fails("magnet:?xt=urn:btih:" HEX "&dn=a%2", MAGNET_ERR_ESCAPE,
	            "the value of \"dn\" has a bad %-escape (want % and two hex digits)");
	parse_fails("magnet:?xt=urn:btih:" HEX "&dn=a%0Ab", MAGNET_ERR_NAME,
	            "the name (dn) has a control character at byte 1");
	parse_fails("magnet:?xt=urn:btih:" HEX "&tr=http://a%20b/", MAGNET_ERR_TRACKER,
	            "the tracker (tr) \"http://a b/\" has a space, control or non-ASCII byte at 8");
	parse_fails("magnet:?xt=urn:btih:" HEX "&x.pe=10.0.0.1", MAGNET_ERR_PEER,
	            "the peer address (x.pe) \"10.0.0.1\" is not host:port or [IPv6]:port");
	parse_fails("magnet:?xt=urn:btih:" HEX "&x.pe=10.0.0.1:0", MAGNET_ERR_PEER,
	            "the peer address (x.pe) \"10.0.0.1:0\" is not host:port or [IPv6]:port");
	parse_fails("magnet:?xt=urn:btih:" HEX "&x.pe=2001:db8::1:80", MAGNET_ERR_PEER,
	            "the peer address (x.pe) \"2001:db8::1:80\" is not host:port or [IPv6]:port");
	parse_fails("magnet:?xt=urn:btih:" HEX "&x.pe=[zz::1]:80", MAGNET_ERR_PEER,
	            "the peer address (x.pe) \"[zz::1]:80\" is not host:port or [IPv6]:port");
	parse_fails("magnet:?xt=urn:btih:" HEX "&x.pe=a%00b:80", MAGNET_ERR_PEER,
	            "the peer address (x.pe) \"a\\x00b:80\" is not host:port or [IPv6]:port");
	parse_fails("magnet:?xt=urn:btih:" HEX "&x.pe=[::1]", MAGNET_ERR_PEER,
	            "the peer address (x.pe) \"[::1]\" is not host:port or [IPv6]:port");
}

static void test_too_long(void **state)
{
	size_t len = MAGNET_MAX_LEN + 1;
	char *uri = malloc(len);
	struct magnet m;
	struct magnet_error err;

	memset(uri, 'a', len);
	memcpy(uri, "magnet:?xt=urn:btih:" HEX "&dn=", 65);
	assert_false(magnet_parse(uri, len, &m, &err));
	assert_int_equal(err.code, MAGNET_ERR_TOO_LONG);
	assert_string_equal(err.msg, "the magnet link is 16385 bytes long; at most 16384 are "
	                    "accepted");
	free(uri);
}

static void test_build_round_trip(void **state)
{
	uint8_t ih[20];
	const char *trs[] = { "http://t.example:8080/announce", "udp://u.example:6969" };
	struct sta_buf b = STA_BUF_INIT;
	struct magnet m;

	hex_decode(HEX, 40, ih, 20);
	struct magnet_peer pe[] = { { "10.0.0.1", 6881 }, { "2001:db8::1", 80 } };
	magnet_build(&b, ih, "a file & more.txt", trs, 2, pe, 2);
	buf_append_byte(&b, '\0');
	assert_string_equal((char *)b.data, "magnet:?xt=urn:btih:" HEX "&dn=a%20file%20%26%20more.txt"
	                    "&tr=http%3A%2F%2Ft.example%3A8080%2Fannounce&tr=udp%3A%2F%2Fu.example%3A6969"
	                    "&x.pe=10.0.0.1%3A6881&x.pe=%5B2001%3Adb8%3A%3A1%5D%3A80");
	parse_ok((char *)b.data, &m);
	assert_hash(&m, HEX);
	assert_string_equal(m.name, "a file & more.txt");
	assert_int_equal(m.n_trackers, 2);
	assert_string_equal(m.trackers[1], trs[1]);
	assert_int_equal(m.n_peers, 2);
	assert_string_equal(m.peers[1].host, "2001:db8::1");
	assert_int_equal(m.peers[1].port, 80);
	magnet_free(&m);
	buf_clear(&b);
	magnet_build(&b, ih, NULL, NULL, 0, NULL, 0);
	buf_append_byte(&b, '\0');
	assert_string_equal((char *)b.data, "magnet:?xt=urn:btih:" HEX);
	buf_free(&b);
	assert_true(magnet_is_uri("Magnet:?xt"));
	assert_false(magnet_is_uri("/srv/magnet:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_and_base32),
		cmocka_unit_test(test_name_trackers_peers),
		cmocka_unit_test(test_caps_and_long_name),
		cmocka_unit_test(test_first_of_repeats_and_v2_hybrid),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_build_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
