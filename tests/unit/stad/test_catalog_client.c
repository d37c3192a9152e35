/* The catalog client (and the HTTP client and URL parser under it) against a
 * fake catalog served by evhttp on 127.0.0.1, plus the pure parsers with
 * malformed and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bencode.h"
#include "catalog_client.h"
#include "hex.h"
#include "http_client.h"

#define TOKEN "sekret"

struct env {
	struct event_base *base;
	struct evhttp *http;
	uint16_t port;
	char url[64];
	struct sta_buf torrent;         /* served for good_hash and wrong_hash */
	uint8_t good_hash[20];
	uint8_t wrong_hash[20];
	struct sta_buf posted;
	unsigned done;
	/* results */
	char error[512];
	size_t n;
	struct catalog_entry e[4];
	char names[4][64];
	struct metainfo *mi;
	char status[32];
	char query[256];                /* of the last listing asked for */
	struct catalog_query q;
};

static void reply(struct evhttp_request *req, int code, const void *p, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, p, len);
	evhttp_send_reply(req, code, code == 200 ? "OK" : "Nope", b);
	evbuffer_free(b);
}

static void reply_failure(struct evhttp_request *req, int code, const char *msg)
{
	struct sta_buf out = STA_BUF_INIT;

	be_enc_dict_begin(&out);
	be_enc_kv_cstr(&out, "failure reason", msg);
	be_enc_end(&out);
	reply(req, code, out.data, out.len);
	buf_free(&out);
}

static void listing(struct sta_buf *out, const uint8_t hash[20])
{
	char hex[41];

	hex_encode(hash, 20, hex);
	buf_append_str(out, "d8:torrentsl");
	be_enc_dict_begin(out);
	be_enc_kv_int(out, "added", 1700000000);
	be_enc_kv_str(out, "info_hash", hex, 40);
	be_enc_kv_int(out, "leechers", 2);
	be_enc_kv_cstr(out, "name", "hello.txt");
	be_enc_kv_int(out, "seeders", 1);
	be_enc_kv_int(out, "size", 100);
	be_enc_end(out);
	/* bad info_hash: skipped */
	be_enc_dict_begin(out);
	be_enc_kv_int(out, "added", 1);
	be_enc_kv_cstr(out, "info_hash", "zz");
	be_enc_kv_int(out, "leechers", 0);
	be_enc_kv_cstr(out, "name", "bad");
	be_enc_kv_int(out, "seeders", 0);
	be_enc_kv_int(out, "size", 1);
	be_enc_end(out);
	/* negative seeders: skipped */
	be_enc_dict_begin(out);
	be_enc_kv_int(out, "added", 1);
	be_enc_kv_str(out, "info_hash", hex, 40);
	be_enc_kv_int(out, "leechers", 0);
	be_enc_kv_cstr(out, "name", "neg");
	be_enc_kv_int(out, "seeders", -1);
	be_enc_kv_int(out, "size", 1);
	be_enc_end(out);
	/* not a dict: skipped */
	be_enc_int(out, 7);
	buf_append_str(out, "ee");
}

static void serve(struct evhttp_request *req, void *arg)
{
	struct env *e = arg;
	const char *uri = evhttp_request_get_uri(req);
	char want[64];
	struct sta_buf out = STA_BUF_INIT;

	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST && strcmp(uri, "/catalog") == 0) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = evbuffer_get_length(in);
		const char *tok = evhttp_find_header(evhttp_request_get_input_headers(req),
		                                     "X-STA-Token");
		buf_clear(&e->posted);
		buf_append(&e->posted, evbuffer_pullup(in, -1), len);
		if (!tok || strcmp(tok, TOKEN) != 0)
			return reply_failure(req, 403, "publishing needs the X-STA-Token header");
		be_enc_dict_begin(&out);
		be_enc_kv_cstr(&out, "status", "added");
		be_enc_end(&out);
	} else if (strncmp(uri, "/catalog?", 9) == 0) {
		snprintf(e->query, sizeof e->query, "%s", uri + 9);
		listing(&out, e->good_hash);
	} else if (strncmp(uri, "/big/catalog?", 13) == 0) {
		buf_reserve(&out, CATALOG_MAX_LIST + 1);
		memset(out.data, 'x', CATALOG_MAX_LIST + 1);
		out.len = CATALOG_MAX_LIST + 1;
	} else if (strncmp(uri, "/junk/catalog?", 14) == 0) {
		buf_append_str(&out, "d8:torrentsi3ee");
	} else {
		char hex[41];
		bool known = false;
		for (int i = 0; i < 2 && !known; i++) {
			hex_encode(i ? e->wrong_hash : e->good_hash, 20, hex);
			snprintf(want, sizeof want, "/catalog/%s.torrent", hex);
			known = strcmp(uri, want) == 0;
		}
		if (!known)
			return reply_failure(req, 404, "no such torrent in the catalog");
		buf_append(&out, e->torrent.data, e->torrent.len);
	}
	reply(req, 200, out.data, out.len);
	buf_free(&out);
}

static uint16_t sock_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t l = sizeof sin;

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &l), 0);
	return ntohs(sin.sin_port);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	static const uint8_t pieces[20] = { 1, 2, 3 };
	struct mi_create_file f = { "hello.txt", 100 };
	struct mi_create c = {
		.name = "hello.txt", .files = &f, .n_files = 1, .piece_length = 16384,
		.pieces = pieces, .n_pieces = 1,
	};
	struct metainfo mi;
	struct mi_error err;

	catalog_query_init(&e->q);
	assert_true(metainfo_create(&c, &e->torrent, &mi, &err));
	memcpy(e->good_hash, mi.info_hash, 20);
	metainfo_free(&mi);
	memset(e->wrong_hash, 0xab, 20);
	e->base = event_base_new();
	e->http = evhttp_new(e->base);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(e->http, "127.0.0.1", 0);
	assert_non_null(bs);
	e->port = sock_port(evhttp_bound_socket_get_fd(bs));
	evhttp_set_gencb(e->http, serve, e);
	snprintf(e->url, sizeof e->url, "http://127.0.0.1:%u/announce", e->port);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	if (e->mi) {
		metainfo_free(e->mi);
		free(e->mi);
	}
	evhttp_free(e->http);
	event_base_free(e->base);
	buf_free(&e->torrent);
	buf_free(&e->posted);
	free(e);
	return 0;
}

static void run(struct env *e)
{
	for (int i = 0; i < 500 && !e->done; i++) {
		struct timeval tv = { 0, 10000 };
		event_base_loopexit(e->base, &tv);
		event_base_dispatch(e->base);
	}
	assert_int_equal(e->done, 1);
}

static void on_list(void *arg, const struct catalog_listing *l, const char *error)
{
	struct env *e = arg;

	e->done++;
	snprintf(e->error, sizeof e->error, "%s", error ? error : "");
	e->n = l ? l->n : 0;
	for (size_t i = 0; i < e->n && i < 4; i++) {
		const struct catalog_entry *v = l->v;
		e->e[i] = v[i];
		snprintf(e->names[i], sizeof e->names[i], "%s", v[i].name);
		e->e[i].name = e->names[i];
	}
}

static void on_fetch(void *arg, struct metainfo *mi, const char *error)
{
	struct env *e = arg;

	e->done++;
	snprintf(e->error, sizeof e->error, "%s", error ? error : "");
	e->mi = mi;
}

static void on_publish(void *arg, const char *status, const char *error)
{
	struct env *e = arg;

	e->done++;
	snprintf(e->error, sizeof e->error, "%s", error ? error : "");
	snprintf(e->status, sizeof e->status, "%s", status ? status : "");
}

static void test_list(void **state)
{
	struct env *e = *state;
	char err[256];

	strcpy(e->q.name, "hello.txt");
	e->q.limit = 7;
	assert_non_null(catalog_client_list(e->base, NULL, e->url, &e->q, on_list, e, err,
	                                    sizeof err));
	assert_int_equal(e->done, 0);
	run(e);
	assert_string_equal(e->query, "name=hello.txt&sort=name&order=asc&limit=7");
	assert_string_equal(e->error, "");
	assert_int_equal(e->n, 1);
	assert_string_equal(e->e[0].name, "hello.txt");
	assert_int_equal(e->e[0].size, 100);
	assert_memory_equal(e->e[0].info_hash, e->good_hash, 20);
	assert_int_equal(e->e[0].seeders, 1);
	assert_int_equal(e->e[0].leechers, 2);
	assert_int_equal(e->e[0].added, 1700000000);
}

static void test_list_too_large(void **state)
{
	struct env *e = *state;
	char err[256], url[80];

	snprintf(url, sizeof url, "http://127.0.0.1:%u/big/announce", e->port);
	assert_non_null(catalog_client_list(e->base, NULL, url, &e->q, on_list, e, err, sizeof err));
	run(e);
	char want[128];
	snprintf(want, sizeof want, "tracker 127.0.0.1:%u sent a reply too large", e->port);
	assert_string_equal(e->error, want);
}

static void test_list_malformed(void **state)
{
	struct env *e = *state;
	char err[256], url[80];

	snprintf(url, sizeof url, "http://127.0.0.1:%u/junk/announce", e->port);
	assert_non_null(catalog_client_list(e->base, NULL, url, &e->q, on_list, e, err, sizeof err));
	run(e);
	assert_string_equal(e->error, "the catalog listing has no \"torrents\" list");
}

static void test_list_refused(void **state)
{
	struct env *e = *state;
	char err[256], url[80], want[160];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	uint16_t p = sock_port(fd);
	close(fd);
	snprintf(url, sizeof url, "http://127.0.0.1:%u/announce", p);
	assert_non_null(catalog_client_list(e->base, NULL, url, &e->q, on_list, e, err, sizeof err));
	run(e);
	snprintf(want, sizeof want, "cannot reach tracker 127.0.0.1:%u: Connection refused", p);
	assert_string_equal(e->error, want);
}

static void test_fetch(void **state)
{
	struct env *e = *state;
	char err[256];

	assert_non_null(catalog_client_fetch(e->base, NULL, e->url, e->good_hash, on_fetch, e, err,
	                                     sizeof err));
	run(e);
	assert_string_equal(e->error, "");
	assert_non_null(e->mi);
	assert_memory_equal(e->mi->info_hash, e->good_hash, 20);
	assert_int_equal(e->mi->raw_len, e->torrent.len);
	assert_memory_equal(e->mi->raw, e->torrent.data, e->torrent.len);
}

static void test_fetch_wrong_hash(void **state)
{
	struct env *e = *state;
	char err[256], want[256], a[41], b[41];

	assert_non_null(catalog_client_fetch(e->base, NULL, e->url, e->wrong_hash, on_fetch, e,
	                                     err, sizeof err));
	run(e);
	assert_null(e->mi);
	hex_encode(e->wrong_hash, 20, a);
	hex_encode(e->good_hash, 20, b);
	snprintf(want, sizeof want,
	         "tracker 127.0.0.1:%u sent the wrong torrent: asked for %s, got %s", e->port, a, b);
	assert_string_equal(e->error, want);
}

static void test_fetch_unknown(void **state)
{
	struct env *e = *state;
	char err[256], want[256];
	uint8_t h[20] = { 0 };

	assert_non_null(catalog_client_fetch(e->base, NULL, e->url, h, on_fetch, e, err,
	                                     sizeof err));
	run(e);
	assert_null(e->mi);
	snprintf(want, sizeof want,
	         "tracker 127.0.0.1:%u refused: HTTP 404: no such torrent in the catalog", e->port);
	assert_string_equal(e->error, want);
}

static void test_publish(void **state)
{
	struct env *e = *state;
	char err[256], want[256];

	assert_non_null(catalog_client_publish(e->base, NULL, NULL, e->url, e->torrent.data,
	                                       e->torrent.len, NULL, on_publish, e, err,
	                                       sizeof err));
	run(e);
	snprintf(want, sizeof want,
	         "tracker 127.0.0.1:%u refused: HTTP 403: publishing needs the X-STA-Token header",
	         e->port);
	assert_string_equal(e->error, want);
	assert_string_equal(e->status, "");

	e->done = 0;
	assert_non_null(catalog_client_publish(e->base, NULL, NULL, e->url, e->torrent.data,
	                                       e->torrent.len, TOKEN, on_publish, e, err,
	                                       sizeof err));
	run(e);
	assert_string_equal(e->error, "");
	assert_string_equal(e->status, "added");
	assert_int_equal(e->posted.len, e->torrent.len);
	assert_memory_equal(e->posted.data, e->torrent.data, e->torrent.len);
}

static void test_cancel(void **state)
{
	struct env *e = *state;
	char err[256];
	struct catalog_client_call *c = catalog_client_list(e->base, NULL, e->url, &e->q, on_list, e, err,
	                                                    sizeof err);

	assert_non_null(c);
	catalog_client_cancel(c);
	struct timeval tv = { 0, 100000 };
	event_base_loopexit(e->base, &tv);
	event_base_dispatch(e->base);
	assert_int_equal(e->done, 0);
}

static void test_bad_urls(void **state)
{
	struct env *e = *state;
	char err[256];

	assert_null(catalog_client_list(e->base, NULL, "udp://127.0.0.1:1/announce", &e->q, on_list, e,
	                                err, sizeof err));
	assert_string_equal(err, "the catalog needs an http:// tracker, not a udp:// one");
	assert_null(catalog_client_list(e->base, NULL, "https://x/announce", &e->q, on_list, e, err,
	                                sizeof err));
	assert_non_null(strstr(err, "https is not supported"));
	/* A host name with no resolver is refused up front, without blocking. */
	assert_null(catalog_client_list(e->base, NULL, "http://tracker.example:80/announce",
	                                &e->q, on_list, e, err, sizeof err));
	assert_string_equal(err, "cannot resolve tracker tracker.example:80: no resolver");
}

static void test_catalog_url(void **state)
{
	char err[256], *u;

	u = catalog_client_url("http://127.0.0.1:6969/announce", "/catalog", err, sizeof err);
	assert_string_equal(u, "http://127.0.0.1:6969/catalog");
	free(u);
	u = catalog_client_url("http://h/x/announce?passkey=1/2", "/catalog", err, sizeof err);
	assert_string_equal(u, "http://h:80/x/catalog");
	free(u);
	u = catalog_client_url("http://[::1]:7000", "/catalog", err, sizeof err);
	assert_string_equal(u, "http://[::1]:7000/catalog");
	free(u);
}

static void test_url_parse(void **state)
{
	struct http_url u;
	char err[256];

	assert_true(http_url_parse("udp://[2001:db8::1]:6969/announce", &u, err, sizeof err));
	assert_true(u.udp);
	assert_string_equal(u.host, "2001:db8::1");
	assert_int_equal(u.port, 6969);
	assert_string_equal(u.path, "/announce");
	http_url_free(&u);
	assert_true(http_url_parse("http://h?x=1", &u, err, sizeof err));
	assert_string_equal(u.path, "/?x=1");
	assert_int_equal(u.port, 80);
	http_url_free(&u);
	static const char *const bad[] = {
		"udp://h/announce",          /* udp needs a port */
		"http://h:0/",
		"http://h:65536/",
		"http://h:12a/",
		"http://:80/",
		"http://user@h/",
		"http://[::1/",
		"http://[::1]x/",
		"http://h/a b",
		"http://h/a\x01",
		"http://h/#frag",
		"ftp://h/",
		"https://h/",
		"http://h\x7f/",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_false(http_url_parse(bad[i], &u, err, sizeof err));
		assert_non_null(strstr(err, "bad tracker URL"));
	}
	char longhost[400] = "http://";
	memset(longhost + 7, 'a', 300);
	assert_false(http_url_parse(longhost, &u, err, sizeof err));
}

static int parse(const char *s, bool eof, struct http_reply_view *v, char *err)
{
	return http_reply_parse((const uint8_t *)s, strlen(s), eof, v, err, 128);
}

static void test_reply_parse(void **state)
{
	struct http_reply_view v;
	char err[128];

	assert_int_equal(parse("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabcXYZ", false, &v,
	                       err), 1);
	assert_int_equal(v.status, 200);
	assert_int_equal(v.body_len, 3);
	assert_int_equal(v.body_off, 38);
	/* Without Content-Length the body ends with the connection. */
	assert_int_equal(parse("HTTP/1.1 404 Not Found\r\n\r\nbody", false, &v, err), 0);
	assert_int_equal(parse("HTTP/1.1 404 Not Found\r\n\r\nbody", true, &v, err), 1);
	assert_int_equal(v.status, 404);
	assert_int_equal(v.body_len, 4);
	assert_int_equal(parse("HTTP/1.0 200 OK\n\nx", true, &v, err), 1);
	assert_int_equal(v.body_len, 1);
	assert_int_equal(parse("HTTP/1.0 200\r\ncontent-length:  0 \r\n\r\n", false, &v, err), 1);
	assert_int_equal(v.body_len, 0);
	/* Need more. */
	assert_int_equal(parse("HTTP/1.0 200 OK\r\nContent-Le", false, &v, err), 0);
	assert_int_equal(parse("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc", false, &v,
	                       err), 0);
	/* Hostile or broken. */
	assert_int_equal(parse("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc", true, &v,
	                       err), -1);
	assert_string_equal(err, "reply cut short: 3 of 10 bytes");
	assert_int_equal(parse("HTTP/1.0 200 OK\r\nContent-Le", true, &v, err), -1);
	assert_int_equal(parse("", true, &v, err), -1);
	assert_int_equal(parse("SSH-2.0-x\r\n\r\n", true, &v, err), -1);
	assert_string_equal(err, "not an HTTP reply");
	assert_int_equal(parse("HTTP/1.0 2000 OK\r\n\r\n", true, &v, err), -1);
	assert_int_equal(parse("HTTP/1.0 099 OK\r\n\r\n", true, &v, err), -1);
	assert_int_equal(parse("HTTP/2.0 200 OK\r\n\r\n", true, &v, err), -1);
	assert_int_equal(parse("HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n", true, &v, err),
	                 -1);
	assert_int_equal(parse("HTTP/1.0 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	                       true, &v, err), -1);
	assert_int_equal(parse("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc",
	                       true, &v, err), -1);
	assert_string_equal(err, "unsupported Transfer-Encoding in the reply");
	/* Endless headers. */
	size_t n = HTTP_HEADER_MAX + 10;
	char *big = malloc(n + 1);
	memcpy(big, "HTTP/1.0 200 OK\r\n", 17);
	memset(big + 17, 'a', n - 17);
	big[n] = '\0';
	assert_int_equal(parse(big, false, &v, err), -1);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_wrong_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_urls, setup, teardown),
		cmocka_unit_test(test_catalog_url),
		cmocka_unit_test(test_url_parse),
		cmocka_unit_test(test_reply_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
