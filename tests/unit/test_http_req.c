#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_req.h"

static const uint8_t *u8(const char *s)
{
	return (const uint8_t *)s;
}

static enum http_parse parse_all(struct http_req *r, const char *s)
{
	http_req_init(r);
	return http_req_parse(r, u8(s), strlen(s));
}

static void assert_span(const char *buf, struct http_span sp, const char *want)
{
	assert_int_equal(sp.len, strlen(want));
	assert_memory_equal(buf + sp.off, want, sp.len);
}

static void test_announce_request(void **state)
{
	const char *s = "GET /announce?info_hash=%AB&port=1 HTTP/1.1\r\nHost: tracker:6969\r\n"
	                "User-Agent:  aria2/1.36 \r\nX-STA-Token:\tsecret\t\r\n\r\nNEXT";
	struct http_req r;
	struct http_span v;

	assert_int_equal(parse_all(&r, s), HTTP_PARSE_DONE);
	assert_int_equal(r.head_len, strlen(s) - 4);
	assert_int_equal(r.method, HTTP_METHOD_GET);
	assert_span(s, r.method_text, "GET");
	assert_span(s, r.target, "/announce?info_hash=%AB&port=1");
	assert_span(s, r.path, "/announce");
	assert_span(s, r.query, "info_hash=%AB&port=1");
	assert_int_equal(r.minor, 1);
	assert_true(r.keep_alive);
	assert_false(r.has_length);
	assert_false(r.chunked);
	assert_int_equal(r.n_fields, 3);
	/* Names match whatever their case; values lose the whitespace around them. */
	assert_true(http_req_field(&r, u8(s), "host", &v));
	assert_span(s, v, "tracker:6969");
	assert_true(http_req_field(&r, u8(s), "USER-AGENT", &v));
	assert_span(s, v, "aria2/1.36");
	assert_true(http_req_field(&r, u8(s), "x-sta-token", &v));
	assert_span(s, v, "secret");
	assert_false(http_req_field(&r, u8(s), "Accept", &v));
	/* Once done, it stays done. */
	assert_int_equal(http_req_parse(&r, u8(s), strlen(s)), HTTP_PARSE_DONE);
}

static void test_targets(void **state)
{
	struct http_req r;
	const char *s = "GET /scrape HTTP/1.1\r\n\r\n";

	assert_int_equal(parse_all(&r, s), HTTP_PARSE_DONE);
	assert_span(s, r.path, "/scrape");
	assert_int_equal(r.query.len, 0);
	s = "GET /stats? HTTP/1.1\r\n\r\n";
	assert_int_equal(parse_all(&r, s), HTTP_PARSE_DONE);
	assert_span(s, r.path, "/stats");
	assert_int_equal(r.query.len, 0);
	/* The absolute form: scheme and authority are dropped. */
	s = "GET http://t.example:6969/announce?a=b HTTP/1.1\r\n\r\n";
	assert_int_equal(parse_all(&r, s), HTTP_PARSE_DONE);
	assert_span(s, r.target, "http://t.example:6969/announce?a=b");
	assert_span(s, r.path, "/announce");
	assert_span(s, r.query, "a=b");
	s = "GET http://t.example?x=1 HTTP/1.1\r\n\r\n";
	assert_int_equal(parse_all(&r, s), HTTP_PARSE_DONE);
	assert_int_equal(r.path.len, 0);
	assert_span(s, r.query, "x=1");
	/* Raw bytes above 0x7f pass (clients that do not escape); the router decides. */
	s = "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n";
	assert_int_equal(parse_all(&r, s), HTTP_PARSE_DONE);
	assert_span(s, r.path, "/caf\xc3\xa9");
}

static void test_methods_and_versions(void **state)
{
	static const struct { const char *s; enum http_method m; } ok[] = {
		{ "HEAD / HTTP/1.1\r\n\r\n", HTTP_METHOD_HEAD },
		{ "POST / HTTP/1.1\r\n\r\n", HTTP_METHOD_POST },
		{ "PUT / HTTP/1.1\r\n\r\n", HTTP_METHOD_PUT },
		{ "DELETE / HTTP/1.1\r\n\r\n", HTTP_METHOD_DELETE },
		{ "BREW / HTTP/1.1\r\n\r\n", HTTP_METHOD_OTHER },
		{ "get / HTTP/1.1\r\n\r\n", HTTP_METHOD_OTHER },  /* methods are case-sensitive */
	};
	struct http_req r;

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		assert_int_equal(parse_all(&r, ok[i].s), HTTP_PARSE_DONE);
		assert_int_equal(r.method, ok[i].m);
	}
	assert_int_equal(parse_all(&r, "GET / HTTP/1.0\r\n\r\n"), HTTP_PARSE_DONE);
	assert_int_equal(r.minor, 0);
	assert_false(r.keep_alive);
	/* A later 1.x is served as 1.1. */
	assert_int_equal(parse_all(&r, "GET / HTTP/1.7\r\n\r\n"), HTTP_PARSE_DONE);
	assert_int_equal(r.minor, 1);
	assert_int_equal(parse_all(&r, "GET / HTTP/2.0\r\n\r\n"), HTTP_PARSE_ERROR);
	assert_int_equal(r.err, HTTP_ERR_VERSION);
	assert_int_equal(parse_all(&r, "GET / HTTP/9.9\r\n\r\n"), HTTP_PARSE_ERROR);
	assert_int_equal(r.err, HTTP_ERR_VERSION);
}

static void test_connection_field(void **state)
{
	struct http_req r;

	assert_int_equal(parse_all(&r, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"),
	                 HTTP_PARSE_DONE);
	assert_false(r.keep_alive);
	assert_int_equal(parse_all(&r, "GET / HTTP/1.1\r\nconnection: Upgrade, CLOSE\r\n\r\n"),
	                 HTTP_PARSE_DONE);
	assert_false(r.keep_alive);
	assert_int_equal(parse_all(&r, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"),
	                 HTTP_PARSE_DONE);
	assert_true(r.keep_alive);
	assert_int_equal(parse_all(&r, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n"
	                           "Connection: close\r\n\r\n"), HTTP_PARSE_DONE);
	assert_false(r.keep_alive);
	/* "closed" is not "close". */
	assert_int_equal(parse_all(&r, "GET / HTTP/1.1\r\nConnection: closed\r\n\r\n"),
	                 HTTP_PARSE_DONE);
	assert_true(r.keep_alive);
}

static void test_body_framing(void **state)
{
	struct http_req r;

	assert_int_equal(parse_all(&r, "POST /catalog HTTP/1.1\r\nContent-Length: 1234\r\n"
	                           "Expect: 100-Continue\r\n\r\n"), HTTP_PARSE_DONE);
	assert_true(r.has_length);
	assert_int_equal(r.content_length, 1234);
	assert_true(r.expect_continue);
	assert_int_equal(parse_all(&r, "POST / HTTP/1.1\r\nContent-Length: 5\r\n"
	                           "Content-Length: 5\r\n\r\n"), HTTP_PARSE_DONE);
	assert_int_equal(r.content_length, 5);
	assert_int_equal(parse_all(&r, "POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"),
	                 HTTP_PARSE_DONE);
	assert_true(r.chunked);

	static const struct { const char *s; enum http_req_err e; } bad[] = {
		{ "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		  HTTP_ERR_CONTENT_LENGTH },
		{ "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", HTTP_ERR_CONTENT_LENGTH },
		{ "POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n", HTTP_ERR_CONTENT_LENGTH },
		{ "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", HTTP_ERR_CONTENT_LENGTH },
		{ "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
		  HTTP_ERR_CONTENT_LENGTH },
		{ "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		  HTTP_ERR_CONTENT_LENGTH },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		  HTTP_ERR_TRANSFER_ENCODING },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
		  HTTP_ERR_TRANSFER_ENCODING },
		{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_ERR_TRANSFER_ENCODING },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse_all(&r, bad[i].s), HTTP_PARSE_ERROR);
		assert_int_equal(r.err, bad[i].e);
	}
}

static void test_malformed(void **state)
{
	static const struct { const char *s; enum http_req_err e; } bad[] = {
		{ "GET\r\n\r\n", HTTP_ERR_REQUEST_LINE },
		{ "GET /\r\n\r\n", HTTP_ERR_REQUEST_LINE },
		{ "GET  / HTTP/1.1\r\n\r\n", HTTP_ERR_REQUEST_LINE },
		{ "GET / HTTP/1.1 \r\n\r\n", HTTP_ERR_REQUEST_LINE },
		{ "GET / http/1.1\r\n\r\n", HTTP_ERR_REQUEST_LINE },
		{ "GET / HTTP/1.10\r\n\r\n", HTTP_ERR_REQUEST_LINE },
		{ "GET /a\x01 HTTP/1.1\r\n\r\n", HTTP_ERR_REQUEST_LINE },
		{ "G(T / HTTP/1.1\r\n\r\n", HTTP_ERR_REQUEST_LINE },
		{ "GET / HTTP/1.1\rX\r\n\r\n", HTTP_ERR_REQUEST_LINE },
		{ "GET / HTTP/1.1\r\nHost x\r\n\r\n", HTTP_ERR_HEADER },
		{ "GET / HTTP/1.1\r\nHost : x\r\n\r\n", HTTP_ERR_HEADER },
		{ "GET / HTTP/1.1\r\n: x\r\n\r\n", HTTP_ERR_HEADER },
		{ "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", HTTP_ERR_HEADER },
		{ "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", HTTP_ERR_HEADER },
		{ "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", HTTP_ERR_HEADER },
		{ "GET / HTTP/1.1\r\nA: b\r\n\r\r\n", HTTP_ERR_HEADER },
	};
	struct http_req r;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t len = strlen(bad[i].s);
		http_req_init(&r);
		assert_int_equal(http_req_parse(&r, u8(bad[i].s), len), HTTP_PARSE_ERROR);
		assert_int_equal(r.err, bad[i].e);
		/* An error sticks. */
		assert_int_equal(http_req_parse(&r, u8(bad[i].s), len), HTTP_PARSE_ERROR);
	}
	/* A NUL is no token byte. */
	http_req_init(&r);
	assert_int_equal(http_req_parse(&r, u8("\x00\xff\xfe garbage\r\n\r\n"), 15),
	                 HTTP_PARSE_ERROR);
	assert_int_equal(r.err, HTTP_ERR_REQUEST_LINE);
}

static void test_early_errors_and_need_more(void **state)
{
	struct http_req r;

	/* A bad request line fails before any field arrives. */
	assert_int_equal(parse_all(&r, "BAD LINE\r\nHost:"), HTTP_PARSE_ERROR);
	assert_int_equal(parse_all(&r, "GET / HTTP/1.1\r\nHost: x\r\n"), HTTP_PARSE_MORE);
	assert_int_equal(parse_all(&r, "GET / HTTP/1.1"), HTTP_PARSE_MORE);
	assert_int_equal(parse_all(&r, ""), HTTP_PARSE_MORE);
	/* Blank lines before the request are skipped and counted in head_len. */
	const char *s = "\r\n\n\r\nGET / HTTP/1.1\n\n";
	assert_int_equal(parse_all(&r, s), HTTP_PARSE_DONE);
	assert_int_equal(r.head_len, strlen(s));
	assert_span(s, r.path, "/");
	/* Bare LF line ends throughout. */
	s = "GET /x HTTP/1.1\nHost: h\n\n";
	assert_int_equal(parse_all(&r, s), HTTP_PARSE_DONE);
	assert_int_equal(r.n_fields, 1);
}

/* "GET /aaa... HTTP/1.1" with a request line of len bytes, then a blank line. */
static size_t long_request(char *s, size_t len)
{
	memcpy(s, "GET /", 5);
	memset(s + 5, 'a', len - 14);
	memcpy(s + len - 9, " HTTP/1.1\r\n\r\n", 14);
	return len + 4;
}

static void test_limits(void **state)
{
	size_t big = HTTP_HEAD_MAX * 2;
	char *s = malloc(big + 1);
	struct http_req r;

	/* A request line one byte over the limit, complete or not. */
	size_t n = long_request(s, HTTP_REQ_LINE_MAX + 1);
	http_req_init(&r);
	assert_int_equal(http_req_parse(&r, u8(s), n), HTTP_PARSE_ERROR);
	assert_int_equal(r.err, HTTP_ERR_LINE_TOO_LONG);
	memset(s, 'G', big);
	http_req_init(&r);
	assert_int_equal(http_req_parse(&r, u8(s), HTTP_REQ_LINE_MAX), HTTP_PARSE_MORE);
	assert_int_equal(http_req_parse(&r, u8(s), big), HTTP_PARSE_ERROR);
	assert_int_equal(r.err, HTTP_ERR_LINE_TOO_LONG);
	/* Exactly at the limit passes. */
	n = long_request(s, HTTP_REQ_LINE_MAX);
	http_req_init(&r);
	assert_int_equal(http_req_parse(&r, u8(s), n), HTTP_PARSE_DONE);
	assert_int_equal(r.target.len, HTTP_REQ_LINE_MAX - 13);

	/* The head: one long field, then many small ones. */
	n = (size_t)sprintf(s, "GET / HTTP/1.1\r\nX: ");
	memset(s + n, 'j', big - n);
	http_req_init(&r);
	assert_int_equal(http_req_parse(&r, u8(s), HTTP_HEAD_MAX - 1), HTTP_PARSE_MORE);
	assert_int_equal(http_req_parse(&r, u8(s), big), HTTP_PARSE_ERROR);
	assert_int_equal(r.err, HTTP_ERR_HEAD_TOO_LARGE);
	n = (size_t)sprintf(s, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < HTTP_HEADERS_MAX; i++)
		n += (size_t)sprintf(s + n, "A: b\r\n");
	strcpy(s + n, "\r\n");
	assert_int_equal(parse_all(&r, s), HTTP_PARSE_DONE);
	assert_int_equal(r.n_fields, HTTP_HEADERS_MAX);
	strcpy(s + n, "A: b\r\n\r\n");
	assert_int_equal(parse_all(&r, s), HTTP_PARSE_ERROR);
	assert_int_equal(r.err, HTTP_ERR_TOO_MANY_HEADERS);
	free(s);
}

/* Fed a byte at a time, the parser gives what it gives in one go. */
static void test_incremental(void **state)
{
	const char *s = "\r\nPOST /catalog?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	                "Connection: close\r\n\r\nabc";
	size_t head = strlen(s) - 3;
	struct http_req one, inc;

	assert_int_equal(parse_all(&one, s), HTTP_PARSE_DONE);
	http_req_init(&inc);
	for (size_t i = 0; i < head; i++)
		assert_int_equal(http_req_parse(&inc, u8(s), i), HTTP_PARSE_MORE);
	assert_int_equal(http_req_parse(&inc, u8(s), head), HTTP_PARSE_DONE);
	assert_int_equal(inc.head_len, head);
	assert_int_equal(one.head_len, head);
	assert_memory_equal(&one.fields, &inc.fields, sizeof one.fields);
	assert_int_equal(inc.content_length, 3);
	assert_false(inc.keep_alive);
	assert_span(s, inc.query, "x=1");
}

static void test_error_statuses(void **state)
{
	const char *reason;

	assert_int_equal(http_req_err_status(HTTP_ERR_LINE_TOO_LONG, &reason), 414);
	assert_int_equal(http_req_err_status(HTTP_ERR_TOO_MANY_HEADERS, &reason), 431);
	assert_string_equal(reason, "Request Header Fields Too Large");
	assert_int_equal(http_req_err_status(HTTP_ERR_VERSION, &reason), 505);
	assert_int_equal(http_req_err_status(HTTP_ERR_TRANSFER_ENCODING, &reason), 501);
	assert_int_equal(http_req_err_status(HTTP_ERR_BODY_TOO_LARGE, &reason), 413);
	assert_int_equal(http_req_err_status(HTTP_ERR_HEADER, &reason), 400);
	assert_string_equal(reason, "Bad Request");
	assert_string_equal(http_req_strerror(HTTP_ERR_CHUNK), "malformed chunked body");
}

/* ---- chunked bodies ---- */

static enum http_parse dechunk(const char *raw, size_t max, char *out, size_t *out_len,
                               size_t *in_len, enum http_req_err *err)
{
	size_t len = strlen(raw);
	uint8_t *buf = malloc(len + 1);
	struct http_chunked c;
	enum http_parse st;

	memcpy(buf, raw, len);
	http_chunked_init(&c, max);
	st = http_chunked_decode(&c, buf, len);
	memcpy(out, buf, c.out);
	*out_len = c.out;
	*in_len = c.in;
	*err = c.err;
	free(buf);
	return st;
}

static void test_chunked(void **state)
{
	char out[256];
	size_t olen, ilen;
	enum http_req_err err;
	const char *s = "5\r\nhello\r\n1;name=\"v\"\r\n \r\nA\r\n0123456789\r\n0\r\n"
	                "Trailer: x\r\n\r\nNEXT";

	assert_int_equal(dechunk(s, 100, out, &olen, &ilen, &err), HTTP_PARSE_DONE);
	assert_int_equal(olen, 16);
	assert_memory_equal(out, "hello 0123456789", 16);
	assert_int_equal(ilen, strlen(s) - 4);
	/* Bare LFs, upper-case hex, no trailer. */
	assert_int_equal(dechunk("3\nabc\n0\n\n", 100, out, &olen, &ilen, &err), HTTP_PARSE_DONE);
	assert_memory_equal(out, "abc", 3);
	assert_int_equal(dechunk("0\r\n\r\n", 100, out, &olen, &ilen, &err), HTTP_PARSE_DONE);
	assert_int_equal(olen, 0);
	/* Not finished yet. */
	assert_int_equal(dechunk("5\r\nhel", 100, out, &olen, &ilen, &err), HTTP_PARSE_MORE);
	assert_int_equal(olen, 3);
	assert_int_equal(dechunk("0\r\n", 100, out, &olen, &ilen, &err), HTTP_PARSE_MORE);
	/* Over the maximum: refused at the size line, before the data. */
	assert_int_equal(dechunk("5\r\nhello\r\n6\r\n", 10, out, &olen, &ilen, &err),
	                 HTTP_PARSE_ERROR);
	assert_int_equal(err, HTTP_ERR_BODY_TOO_LARGE);
	assert_int_equal(dechunk("fffffffffffffff\r\n", (size_t)1 << 40, out, &olen, &ilen, &err),
	                 HTTP_PARSE_ERROR);
	assert_int_equal(err, HTTP_ERR_BODY_TOO_LARGE);
	static const char *const bad[] = {
		"\r\n", "x\r\n", "-5\r\n", "1000000000000000\r\n", "5\r\nhelloX", "5\r\nhello\r\r",
		"5\r\nhello\r\n0\r\nX: y\rz", "5\rX", "0\r\nX: \x01\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(dechunk(bad[i], SIZE_MAX, out, &olen, &ilen, &err),
		                 HTTP_PARSE_ERROR);
		assert_int_equal(err, HTTP_ERR_CHUNK);
	}
}

static void test_chunked_incremental(void **state)
{
	const char *s = "4\r\nWiki\r\n5;x\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n";
	size_t len = strlen(s);
	uint8_t buf[128];
	struct http_chunked c;

	memcpy(buf, s, len);
	http_chunked_init(&c, 1000);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(http_chunked_decode(&c, buf, i), HTTP_PARSE_MORE);
	assert_int_equal(http_chunked_decode(&c, buf, len), HTTP_PARSE_DONE);
	assert_int_equal(c.in, len);
	assert_int_equal(c.out, 23);
	assert_memory_equal(buf, "Wikipedia in\r\n\r\nchunks.", 23);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_announce_request),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_methods_and_versions),
		cmocka_unit_test(test_connection_field),
		cmocka_unit_test(test_body_framing),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_early_errors_and_need_more),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_error_statuses),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunked_incremental),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
