/* HTTP requests as trackerd reads them: byte 0 picks how the stream is cut
 * into reads, the rest is the stream. Every request in it is parsed once
 * whole and once read by read; both must agree, every span must lie inside
 * the head, and a chunked body must decode to the same bytes either way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_req.h"

#define CHECK(c)                       \
	do {                               \
		if (!(c))                      \
			__builtin_trap();          \
	} while (0)

#define BODY_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_span(struct http_span s, size_t head)
{
	CHECK((size_t)s.off + s.len <= head);
}

static void check_head(const struct http_req *r)
{
	CHECK(r->head_len <= HTTP_HEAD_MAX && r->n_fields <= HTTP_HEADERS_MAX);
	check_span(r->method_text, r->head_len);
	check_span(r->target, r->head_len);
	check_span(r->path, r->head_len);
	check_span(r->query, r->head_len);
	CHECK(r->target.len > 0 && r->method_text.len > 0);
	for (uint32_t i = 0; i < r->n_fields; i++) {
		check_span(r->fields[i].name, r->head_len);
		check_span(r->fields[i].value, r->head_len);
		CHECK(r->fields[i].name.len > 0);
	}
	CHECK(!r->chunked || !r->has_length);
	CHECK(r->content_length <= HTTP_CONTENT_LENGTH_MAX);
}

/* Parses p[0..n) whole, then read by read (cut every `step` bytes). */
static enum http_parse parse_twice(const uint8_t *p, size_t n, size_t step, struct http_req *r)
{
	struct http_req inc;
	enum http_parse st = HTTP_PARSE_MORE, whole;

	http_req_init(r);
	whole = http_req_parse(r, p, n);
	http_req_init(&inc);
	for (size_t len = step < n ? step : n;; len = len + step < n ? len + step : n) {
		st = http_req_parse(&inc, p, len);
		if (st != HTTP_PARSE_MORE || len == n)
			break;
	}
	CHECK(st == whole);
	if (st == HTTP_PARSE_DONE) {
		CHECK(inc.head_len == r->head_len && inc.n_fields == r->n_fields);
		CHECK(memcmp(inc.fields, r->fields, r->n_fields * sizeof r->fields[0]) == 0);
		CHECK(inc.keep_alive == r->keep_alive && inc.content_length == r->content_length);
		check_head(r);
	} else if (st == HTTP_PARSE_ERROR) {
		CHECK(inc.err == r->err && r->err != HTTP_ERR_NONE);
	}
	return st;
}

/* Decodes a chunked body whole and read by read; returns the raw length
 * used, or 0 when it is not complete or fails. */
static size_t dechunk_twice(const uint8_t *p, size_t n, size_t step)
{
	uint8_t *a = malloc(n + 1), *b = malloc(n + 1);
	struct http_chunked ca, cb;
	enum http_parse sa, sb = HTTP_PARSE_MORE;
	size_t used = 0;

	memcpy(a, p, n);
	memcpy(b, p, n);
	http_chunked_init(&ca, BODY_MAX);
	http_chunked_init(&cb, BODY_MAX);
	sa = http_chunked_decode(&ca, a, n);
	for (size_t len = step < n ? step : n;; len = len + step < n ? len + step : n) {
		sb = http_chunked_decode(&cb, b, len);
		if (sb != HTTP_PARSE_MORE || len == n)
			break;
	}
	CHECK(sa == sb && ca.out <= ca.in && ca.in <= n && ca.out <= BODY_MAX);
	if (sa == HTTP_PARSE_DONE) {
		CHECK(ca.in == cb.in && ca.out == cb.out && memcmp(a, b, ca.out) == 0);
		used = ca.in;
	}
	free(a);
	free(b);
	return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req *r = malloc(sizeof *r);
	size_t pos = 1, step;

	if (size < 1)
		goto out;
	step = (size_t)(data[0] % 64) + 1;
	/* Pipelined requests, as a keep-alive connection delivers them. */
	while (pos < size && parse_twice(data + pos, size - pos, step, r) == HTTP_PARSE_DONE) {
		size_t body = 0;
		pos += r->head_len;
		if (r->chunked) {
			body = dechunk_twice(data + pos, size - pos, step);
			if (body == 0)
				break;
		} else if (r->has_length) {
			if (r->content_length > size - pos)
				break;
			body = (size_t)r->content_length;
		}
		pos += body;
	}
out:
	free(r);
	return 0;
}
