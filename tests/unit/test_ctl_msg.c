#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_msg.h"
#include "ctl_proto.h"

/* Parses the one frame in b, checks its type and decodes its payload with
 * sorted keys required: every encoder must emit BEP 3 order. */
static void parse_one(const struct sta_buf *b, uint16_t type, struct be_doc *doc)
{
	static const struct be_limits strict = { 8, 200000, true };
	struct ctl_frame f;
	size_t consumed = 0;
	const char *why = NULL;

	assert_int_equal(ctl_frame_parse(b->data, b->len, &f, &consumed, &why), CTL_FRAME_OK);
	assert_int_equal(consumed, b->len);
	assert_int_equal(f.type, type);
	assert_int_equal(be_decode(doc, f.payload, f.payload_len, &strict, NULL), BE_OK);
}

/* A doc from a literal payload. */
static void doc_of(struct be_doc *doc, const char *payload)
{
	assert_int_equal(be_decode(doc, (const uint8_t *)payload, strlen(payload), NULL, NULL),
	                 BE_OK);
}

static void assert_str(struct ctl_str s, const char *want)
{
	assert_non_null(s.p);
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.p, want, s.len);
}

static void fill_torrent(struct ctl_torrent *t, const char *name)
{
	ctl_torrent_init(t);
	t->complete = 0;
	t->done = 1024;
	t->down_rate = 1500;
	t->downloaded = 2048;
	t->eta = 7;
	t->info_hash = ctl_str_c("0123456789abcdef0123456789abcdef01234567");
	t->name = ctl_str_c(name);
	t->path = ctl_str_c("/var/lib/sta/downloads/movie.mkv");
	t->peers = 2;
	t->pieces = 4;
	t->pieces_done = 1;
	t->ratio_milli = 1250;
	t->seeds = 1;
	t->shared = 0;
	t->size = 4096;
	t->state = ctl_str_c("downloading");
	t->super_seeding = 0;
	t->tracker = ctl_str_c("ok, 3 peers");
	t->tracker_seeders = 3;
	t->up_rate = 10;
	t->uploaded = 2560;
}

static void check_torrent(const struct ctl_torrent *t, const char *name)
{
	assert_int_equal(t->complete, 0);
	assert_int_equal(t->done, 1024);
	assert_int_equal(t->down_rate, 1500);
	assert_int_equal(t->downloaded, 2048);
	assert_null(t->error.p);
	assert_int_equal(t->eta, 7);
	assert_str(t->info_hash, "0123456789abcdef0123456789abcdef01234567");
	assert_str(t->name, name);
	assert_str(t->path, "/var/lib/sta/downloads/movie.mkv");
	assert_int_equal(t->peers, 2);
	assert_int_equal(t->pieces, 4);
	assert_int_equal(t->pieces_done, 1);
	assert_int_equal(t->ratio_milli, 1250);
	assert_int_equal(t->seeds, 1);
	assert_int_equal(t->shared, 0);
	assert_int_equal(t->size, 4096);
	assert_str(t->state, "downloading");
	assert_int_equal(t->super_seeding, 0);
	assert_str(t->tracker, "ok, 3 peers");
	assert_int_equal(t->tracker_seeders, 3);
	assert_int_equal(t->up_rate, 10);
	assert_int_equal(t->uploaded, 2560);
}

static void test_status_round_trip(void **state)
{
	struct ctl_peer peers[2] = {
		{ ctl_str_c("127.0.0.1:6881"), 3, 0, ctl_str_c("aria2/1.37"), 4096, 100,
		  ctl_str_c("uI"), 1, 0, 0 },
		{ ctl_str_c("[::1]:6881"), 0, 5, ctl_str_c("-TR3000-"), 0, 0, ctl_str_c(""), 0,
		  512, 20 },
	};
	struct ctl_torrent t[2];
	struct ctl_dht dht = { 98, 2, 153, 20, 40 };
	struct ctl_status st = { 1, t, 2, &dht }, got;
	struct sta_buf b = STA_BUF_INIT;
	struct be_doc doc;
	char err[128];

	fill_torrent(&t[0], "movie.mkv");
	t[0].peer_list = peers;
	t[0].n_peer_list = 2;
	fill_torrent(&t[1], "caf\xc3\xa9");
	t[1].peer_list = peers; /* present but empty: sent as [] */
	t[1].n_peer_list = 0;
	assert_true(ctl_status_encode(&b, &st));
	parse_one(&b, CTL_MSG_OK, &doc);
	assert_true(ctl_status_decode(&doc, &got, err, sizeof err));
	assert_int_equal(got.closed, 1);
	assert_non_null(got.dht);
	assert_memory_equal(got.dht, &dht, sizeof dht);
	assert_int_equal(got.n_torrents, 2);
	check_torrent(&got.torrents[0], "movie.mkv");
	check_torrent(&got.torrents[1], "caf\xc3\xa9");
	assert_int_equal(got.torrents[0].n_peer_list, 2);
	const struct ctl_peer *p = &got.torrents[0].peer_list[1];
	assert_str(p->addr, "[::1]:6881");
	assert_int_equal(p->blocks, 0);
	assert_int_equal(p->blocks_up, 5);
	assert_str(p->client, "-TR3000-");
	assert_str(p->flags, "");
	assert_int_equal(p->up, 512);
	assert_int_equal(p->up_rate, 20);
	assert_int_equal(got.torrents[0].peer_list[0].hash_fails, 1);
	assert_non_null(got.torrents[1].peer_list);
	assert_int_equal(got.torrents[1].n_peer_list, 0);
	ctl_status_free(&got);
	assert_null(got.torrents);
	be_doc_free(&doc);

	/* Without peers asked: no peer_list at all; an empty table is []. */
	buf_clear(&b);
	t[0].peer_list = t[1].peer_list = NULL;
	st.closed = 0;
	st.n_torrents = 0;
	st.dht = NULL; /* the DHT node off: no "dht" */
	assert_true(ctl_status_encode(&b, &st));
	parse_one(&b, CTL_MSG_OK, &doc);
	assert_true(ctl_status_decode(&doc, &got, err, sizeof err));
	assert_null(got.dht);
	assert_int_equal(got.closed, 0);
	assert_int_equal(got.n_torrents, 0);
	assert_non_null(got.torrents);
	ctl_status_free(&got);
	be_doc_free(&doc);
	buf_free(&b);
}

static void test_event_and_torrent_reply(void **state)
{
	struct ctl_torrent t, ev;
	struct ctl_torrent_reply r = { 1, ctl_str_c("2 entries are named x: took the one with "
		                                    "3 seeders"), &t }, got;
	struct sta_buf b = STA_BUF_INIT;
	struct be_doc doc;
	char err[128];

	fill_torrent(&t, "x");
	t.complete = 1;
	t.error = ctl_str_c("No space left on device");
	assert_true(ctl_event_encode(&b, &t));
	parse_one(&b, CTL_MSG_EVENT, &doc);
	assert_true(ctl_event_decode(&doc, &ev, err, sizeof err));
	assert_int_equal(ev.complete, 1);
	assert_str(ev.error, "No space left on device");
	assert_null(ev.peer_list);
	ctl_torrent_free(&ev);
	be_doc_free(&doc);

	buf_clear(&b);
	t.complete = 0;
	t.error = (struct ctl_str){ NULL, 0 };
	assert_true(ctl_torrent_reply_encode(&b, &r));
	parse_one(&b, CTL_MSG_OK, &doc);
	assert_true(ctl_torrent_reply_decode(&doc, &got, err, sizeof err));
	assert_int_equal(got.changed, 1);
	assert_str(got.note, "2 entries are named x: took the one with 3 seeders");
	assert_non_null(got.torrent);
	check_torrent(got.torrent, "x");
	ctl_torrent_reply_free(&got);
	assert_null(got.torrent);
	be_doc_free(&doc);
	buf_free(&b);
}

/* UPDATE and SEARCH answer in the catalog's listing format, decoded with
 * its rules. */
static void test_listing(void **state)
{
	struct catalog_entry e[2] = {
		{ "hello_big.txt", 5 << 20, { 0x01, 0x23 }, 2, 1, 1700000000 },
		{ "caf\xc3\xa9", 10, { 0xab }, 0, 0, 1700000001 },
	};
	struct catalog_listing l = { e, 2, "" }, got;
	struct sta_buf b = STA_BUF_INIT;
	struct be_doc doc;
	size_t skipped = 9;
	char err[128];

	char url[64];
	assert_true(ctl_listing_encode(&b, &l, "http://t.example:6969/announce"));
	parse_one(&b, CTL_MSG_OK, &doc);
	assert_true(ctl_listing_announce(&doc, url, sizeof url));
	assert_string_equal(url, "http://t.example:6969/announce");
	assert_false(ctl_listing_announce(&doc, url, 30)); /* does not fit */
	assert_true(ctl_listing_decode(&doc, &got, &skipped, err, sizeof err));
	assert_int_equal(skipped, 0);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.v[0].name, "hello_big.txt");
	assert_int_equal(got.v[0].size, 5 << 20);
	assert_memory_equal(got.v[1].info_hash, e[1].info_hash, 20);
	assert_int_equal(got.v[1].added, 1700000001);
	assert_string_equal(got.next, "");
	catalog_listing_free(&got);
	be_doc_free(&doc);

	/* No tracker, or one that is not a URL: no announce. */
	buf_clear(&b);
	assert_true(ctl_listing_encode(&b, &l, NULL));
	parse_one(&b, CTL_MSG_OK, &doc);
	assert_false(ctl_listing_announce(&doc, url, sizeof url));
	be_doc_free(&doc);
	doc_of(&doc, "d8:announce9:/etc/hoste");
	assert_false(ctl_listing_announce(&doc, url, sizeof url));
	be_doc_free(&doc);

	doc_of(&doc, "d5:fileslee");
	assert_false(ctl_listing_decode(&doc, &got, &skipped, err, sizeof err));
	assert_non_null(strstr(err, "\"torrents\""));
	be_doc_free(&doc);
	buf_free(&b);
}

static void test_close_start_hello_error(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct be_doc doc;
	char err[128];
	struct ctl_torrent t;

	fill_torrent(&t, "a");
	struct ctl_close_reply c = { 0, &t, 1 }, cgot;
	assert_true(ctl_close_reply_encode(&b, &c));
	parse_one(&b, CTL_MSG_OK, &doc);
	assert_true(ctl_close_reply_decode(&doc, &cgot, err, sizeof err));
	assert_int_equal(cgot.changed, 0);
	assert_int_equal(cgot.n_torrents, 1);
	check_torrent(&cgot.torrents[0], "a");
	ctl_close_reply_free(&cgot);
	be_doc_free(&doc);

	buf_clear(&b);
	struct ctl_start_reply s = { 3 }, sgot;
	assert_true(ctl_start_reply_encode(&b, &s));
	parse_one(&b, CTL_MSG_OK, &doc);
	assert_true(ctl_start_reply_decode(&doc, &sgot, err, sizeof err));
	assert_int_equal(sgot.announced, 3);
	be_doc_free(&doc);

	buf_clear(&b);
	struct ctl_hello h = { ctl_str_c("stactl 1") }, hgot;
	assert_true(ctl_hello_encode(&b, &h));
	parse_one(&b, CTL_MSG_HELLO, &doc);
	assert_true(ctl_hello_decode(&doc, &hgot, err, sizeof err));
	assert_str(hgot.client, "stactl 1");
	be_doc_free(&doc);

	buf_clear(&b);
	struct ctl_hello_reply hr = { ctl_str_c("stad 1"), CTL_PROTO_VERSION }, hrgot;
	assert_true(ctl_hello_reply_encode(&b, &hr));
	parse_one(&b, CTL_MSG_OK, &doc);
	assert_true(ctl_hello_reply_decode(&doc, &hrgot, err, sizeof err));
	assert_str(hrgot.server, "stad 1");
	assert_int_equal(hrgot.version, CTL_PROTO_VERSION);
	be_doc_free(&doc);

	buf_clear(&b);
	ctl_frame_error(&b, CTL_ERR_NOT_FOUND, "no torrent matches \"x\"");
	struct ctl_error e;
	parse_one(&b, CTL_MSG_ERROR, &doc);
	assert_true(ctl_error_decode(&doc, &e, err, sizeof err));
	assert_str(e.code, "not_found");
	assert_str(e.message, "no torrent matches \"x\"");
	be_doc_free(&doc);

	buf_clear(&b);
	assert_true(ctl_empty_encode(&b, CTL_MSG_CLOSE));
	parse_one(&b, CTL_MSG_CLOSE, &doc);
	assert_int_equal(be_root(&doc)->count, 0);
	be_doc_free(&doc);
	buf_free(&b);
}

static void test_arguments(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct be_doc doc;
	char err[128];

	struct ctl_status_args sa = { 1, ctl_str_c("movie") }, sagot;
	assert_true(ctl_status_args_encode(&b, &sa));
	parse_one(&b, CTL_MSG_STATUS, &doc);
	assert_true(ctl_status_args_decode(&doc, &sagot, err, sizeof err));
	assert_int_equal(sagot.peers, 1);
	assert_str(sagot.torrent, "movie");
	be_doc_free(&doc);

	/* Optional ones left out are not sent. */
	buf_clear(&b);
	sa = (struct ctl_status_args){ CTL_UNKNOWN, { NULL, 0 } };
	assert_true(ctl_status_args_encode(&b, &sa));
	parse_one(&b, CTL_MSG_STATUS, &doc);
	assert_int_equal(be_root(&doc)->count, 0);
	assert_true(ctl_status_args_decode(&doc, &sagot, err, sizeof err));
	assert_int_equal(sagot.peers, CTL_UNKNOWN);
	assert_null(sagot.torrent.p);
	be_doc_free(&doc);

	buf_clear(&b);
	struct ctl_torrent_args ta = { 1, ctl_str_c("abcd") }, tagot;
	assert_true(ctl_torrent_args_encode(&b, CTL_MSG_REMOVE, &ta));
	parse_one(&b, CTL_MSG_REMOVE, &doc);
	assert_true(ctl_torrent_args_decode(&doc, &tagot, err, sizeof err));
	assert_int_equal(tagot.delete_data, 1);
	assert_str(tagot.torrent, "abcd");
	char *dup = ctl_str_dup(tagot.torrent);
	assert_string_equal(dup, "abcd");
	free(dup);
	assert_true(ctl_str_eq(tagot.torrent, "abcd"));
	assert_false(ctl_str_eq(tagot.torrent, "abc"));
	be_doc_free(&doc);

	buf_clear(&b);
	struct ctl_request_args ra = { ctl_str_c("/tmp/x.torrent") }, ragot;
	assert_true(ctl_request_args_encode(&b, &ra));
	parse_one(&b, CTL_MSG_REQUEST, &doc);
	assert_true(ctl_request_args_decode(&doc, &ragot, err, sizeof err));
	assert_str(ragot.target, "/tmp/x.torrent");
	be_doc_free(&doc);

	buf_clear(&b);
	struct ctl_search_args se = { ctl_str_c("0123abcd"), 5, ctl_str_c("holiday phot") }, segot;
	assert_true(ctl_search_args_encode(&b, &se));
	parse_one(&b, CTL_MSG_SEARCH, &doc);
	assert_true(ctl_search_args_decode(&doc, &segot, err, sizeof err));
	assert_str(segot.after, "0123abcd");
	assert_int_equal(segot.limit, 5);
	assert_str(segot.words, "holiday phot");
	be_doc_free(&doc);
	/* SEARCH needs its words; UPDATE takes none. */
	doc_of(&doc, "d5:limiti5ee");
	assert_false(ctl_search_args_decode(&doc, &segot, err, sizeof err));
	assert_non_null(strstr(err, "\"words\""));
	struct ctl_update_args ua;
	assert_true(ctl_update_args_decode(&doc, &ua, err, sizeof err));
	assert_int_equal(ua.limit, 5);
	assert_null(ua.after.p);
	be_doc_free(&doc);

	buf_clear(&b);
	ua = (struct ctl_update_args){ { NULL, 0 }, 7 };
	assert_true(ctl_update_args_encode(&b, &ua));
	parse_one(&b, CTL_MSG_UPDATE, &doc);
	assert_true(ctl_update_args_decode(&doc, &ua, err, sizeof err));
	assert_int_equal(ua.limit, 7);
	be_doc_free(&doc);

	buf_clear(&b);
	struct ctl_share_args sh = { ctl_str_c("/srv/photos") }, shgot;
	assert_true(ctl_share_args_encode(&b, &sh));
	parse_one(&b, CTL_MSG_SHARE, &doc);
	assert_true(ctl_share_args_decode(&doc, &shgot, err, sizeof err));
	assert_str(shgot.path, "/srv/photos");
	be_doc_free(&doc);
	buf_free(&b);
}

/* Arguments are what stad uses as C strings: bounded, NUL-free, present
 * when required; the error names the key. */
static void test_bad_arguments_are_refused(void **state)
{
#define BAD(s) { s, sizeof s - 1 }
	static const struct {
		const char *p;
		size_t len;
	} bad[] = {
		BAD("de"),                  /* missing */
		BAD("d7:torrenti5ee"),      /* not a string */
		BAD("d7:torrent0:e"),       /* empty */
		BAD("d7:torrent3:a\0be"),   /* a NUL inside */
		BAD("d7:torrentl1:aee"),    /* a list */
	};
#undef BAD
	struct ctl_torrent_args ta;
	struct be_doc doc;
	char err[128];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(be_decode(&doc, (const uint8_t *)bad[i].p, bad[i].len, NULL, NULL),
		                 BE_OK);
		err[0] = '\0';
		assert_false(ctl_torrent_args_decode(&doc, &ta, err, sizeof err));
		assert_non_null(strstr(err, "\"torrent\""));
		be_doc_free(&doc);
	}
	/* CTL_ARG_MAX bytes pass, one more does not. */
	struct sta_buf b = STA_BUF_INIT;
	char *big = malloc(CTL_ARG_MAX + 2);
	memset(big, 'a', CTL_ARG_MAX + 1);
	big[CTL_ARG_MAX] = '\0';
	struct ctl_share_args sh = { ctl_str_c(big) }, got;
	assert_true(ctl_share_args_encode(&b, &sh));
	parse_one(&b, CTL_MSG_SHARE, &doc);
	assert_true(ctl_share_args_decode(&doc, &got, err, sizeof err));
	be_doc_free(&doc);
	buf_clear(&b);
	big[CTL_ARG_MAX] = 'a';
	big[CTL_ARG_MAX + 1] = '\0';
	sh.path = ctl_str_c(big);
	assert_true(ctl_share_args_encode(&b, &sh));
	parse_one(&b, CTL_MSG_SHARE, &doc);
	assert_false(ctl_share_args_decode(&doc, &got, err, sizeof err));
	assert_non_null(strstr(err, "\"path\""));
	be_doc_free(&doc);
	free(big);
	buf_free(&b);
	/* HELLO's client is required too. */
	struct ctl_hello h;
	doc_of(&doc, "d6:clienti1ee");
	assert_false(ctl_hello_decode(&doc, &h, err, sizeof err));
	be_doc_free(&doc);
}

/* Replies are shown, not trusted: wrong types and negative numbers are
 * unknown, list items that are not dicts are all unknown, unknown keys
 * are ignored; only a missing required list fails. */
static void test_replies_are_decoded_leniently(void **state)
{
	struct ctl_status st;
	struct be_doc doc;
	char err[128];

	doc_of(&doc, "d6:closed3:yes5:extrai1e8:torrentsld4:donei-5e4:name"
	             "i7e5:peersi3e5:state7:seedinge3:abcee");
	assert_true(ctl_status_decode(&doc, &st, err, sizeof err));
	assert_int_equal(st.closed, CTL_UNKNOWN);
	assert_int_equal(st.n_torrents, 2);
	assert_int_equal(st.torrents[0].done, CTL_UNKNOWN);
	assert_null(st.torrents[0].name.p);
	assert_int_equal(st.torrents[0].peers, 3);
	assert_str(st.torrents[0].state, "seeding");
	assert_int_equal(st.torrents[1].peers, CTL_UNKNOWN);
	assert_null(st.torrents[1].state.p);
	ctl_status_free(&st);
	be_doc_free(&doc);

	doc_of(&doc, "d8:torrentsi3ee");
	assert_false(ctl_status_decode(&doc, &st, err, sizeof err));
	assert_string_equal(err, "no \"torrents\" list");
	be_doc_free(&doc);
	struct ctl_close_reply c;
	doc_of(&doc, "d7:changedi1ee");
	assert_false(ctl_close_reply_decode(&doc, &c, err, sizeof err));
	assert_string_equal(err, "no \"torrents\" list");
	be_doc_free(&doc);

	struct ctl_torrent t;
	ctl_torrent_init(&t);
	assert_int_equal(t.size, CTL_UNKNOWN);
	assert_int_equal(t.tracker_seeders, CTL_UNKNOWN);
	assert_null(t.name.p);
	assert_null(t.peer_list);
}

static void test_oversized_status_is_refused(void **state)
{
	enum { N = 9000 };
	struct ctl_torrent *t = calloc(N, sizeof *t);
	struct ctl_status st = { 0, t, N, NULL };
	struct sta_buf b = STA_BUF_INIT;

	for (size_t i = 0; i < N; i++)
		fill_torrent(&t[i], "a name of some length to fill the frame up");
	buf_append_str(&b, "prefix");
	assert_false(ctl_status_encode(&b, &st));
	assert_int_equal(b.len, 6);
	buf_free(&b);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_round_trip),
		cmocka_unit_test(test_event_and_torrent_reply),
		cmocka_unit_test(test_close_start_hello_error),
		cmocka_unit_test(test_listing),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_bad_arguments_are_refused),
		cmocka_unit_test(test_replies_are_decoded_leniently),
		cmocka_unit_test(test_oversized_status_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
