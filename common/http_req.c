/* HTTP/1.x request heads and chunked bodies, incrementally (see http_req.h). */
#include "http_req.h"

#include <string.h>

#define CHUNK_LINE_MAX 1024     /* a chunk-size line with its extensions */

enum stage {
	STAGE_START,                /* blank lines, then the request line */
	STAGE_FIELDS,
	STAGE_DONE,
};

/* tchar of RFC 9110 5.6.2, the bytes of a token: digits, letters and
 * !#$%&'*+-.^_`|~, as a bit per byte value (bytes 0-63, then 64-127). */
static const uint64_t tchar_bits[2] = { 0x03ff6cfa00000000ULL, 0x57ffffffc7fffffeULL };

static bool is_tchar(uint8_t c)
{
	return c < 128 && (tchar_bits[c >> 6] >> (c & 63) & 1);
}

/* A field value byte: HTAB, SP, VCHAR or obs-text. */
static bool is_value_byte(uint8_t c)
{
	return c == '\t' || (c >= ' ' && c != 0x7f);
}

/* True if every byte of p[0..n) is a value byte. No early exit, so the
 * compiler can do it many bytes at a time: heads are mostly values. */
static bool all_value_bytes(const uint8_t *p, size_t n)
{
	unsigned bad = 0;

	for (size_t i = 0; i < n; i++)
		bad |= (p[i] < ' ' && p[i] != '\t') | (p[i] == 0x7f);
	return bad == 0;
}

/* Same for the request target: VCHAR or obs-text, no blank. */
static bool all_target_bytes(const uint8_t *p, size_t n)
{
	unsigned bad = 0;

	for (size_t i = 0; i < n; i++)
		bad |= (p[i] <= ' ') | (p[i] == 0x7f);
	return bad == 0;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* ASCII case-insensitive comparison of p[0..len) with lit. */
static bool span_is(const uint8_t *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != lower((uint8_t)lit[i]))
			return false;
	return true;
}

static struct http_span span(const uint8_t *buf, const uint8_t *p, size_t len)
{
	return (struct http_span){ (uint32_t)(p - buf), (uint32_t)len };
}

static bool fail(struct http_req *r, enum http_req_err e)
{
	r->err = e;
	return false;
}

void http_req_init(struct http_req *r)
{
	memset(r, 0, sizeof *r);
	r->stage = STAGE_START;
}

/* ---- the request line ---- */

static enum http_method method_of(const uint8_t *p, size_t n)
{
	static const struct { const char *name; enum http_method m; } known[] = {
		{ "GET", HTTP_METHOD_GET }, { "HEAD", HTTP_METHOD_HEAD },
		{ "POST", HTTP_METHOD_POST }, { "PUT", HTTP_METHOD_PUT },
		{ "DELETE", HTTP_METHOD_DELETE },
	};

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (n == strlen(known[i].name) && memcmp(p, known[i].name, n) == 0)
			return known[i].m;
	return HTTP_METHOD_OTHER;
}

/* Splits the target into path and query. The absolute form
 * ("http://host/p?q") has its scheme and authority dropped. */
static void split_target(struct http_req *r, const uint8_t *buf, const uint8_t *t, size_t n)
{
	const uint8_t *end = t + n, *q;

	if (t[0] != '/') {
		const uint8_t *colon = memchr(t, ':', n);
		if (colon && end - colon >= 3 && colon[1] == '/' && colon[2] == '/') {
			const uint8_t *slash = memchr(colon + 3, '/', (size_t)(end - colon - 3));
			const uint8_t *qm = memchr(colon + 3, '?', (size_t)(end - colon - 3));
			t = slash && (!qm || slash < qm) ? slash : qm ? qm : end;
		}
	}
	q = memchr(t, '?', (size_t)(end - t));
	r->path = span(buf, t, (size_t)((q ? q : end) - t));
	r->query = q ? span(buf, q + 1, (size_t)(end - q - 1)) : span(buf, end, 0);
}

static bool parse_version(struct http_req *r, const uint8_t *v, size_t n)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
	    v[7] < '0' || v[7] > '9')
		return fail(r, HTTP_ERR_REQUEST_LINE);
	if (v[5] != '1')
		return fail(r, HTTP_ERR_VERSION);
	r->minor = v[7] == '0' ? 0 : 1;
	return true;
}

/* "METHOD SP target SP HTTP/1.x", line without its line end. */
static bool parse_request_line(struct http_req *r, const uint8_t *buf, const uint8_t *p,
                               size_t n)
{
	const uint8_t *end = p + n, *sp1, *sp2;
	size_t i = 0;

	while (i < n && is_tchar(p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ' ')
		return fail(r, HTTP_ERR_REQUEST_LINE);
	sp1 = p + i;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (sp2 == NULL || sp2 == sp1 + 1 || !all_target_bytes(sp1 + 1, (size_t)(sp2 - sp1 - 1)))
		return fail(r, HTTP_ERR_REQUEST_LINE);
	if (!parse_version(r, sp2 + 1, (size_t)(end - sp2 - 1)))
		return false;
	r->method_text = span(buf, p, i);
	r->method = method_of(p, i);
	r->target = span(buf, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	split_target(r, buf, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	return true;
}

/* ---- header fields ---- */

static bool parse_length(struct http_req *r, const uint8_t *v, size_t n)
{
	uint64_t len = 0;

	if (n == 0)
		return fail(r, HTTP_ERR_CONTENT_LENGTH);
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return fail(r, HTTP_ERR_CONTENT_LENGTH);
		len = len * 10 + (uint64_t)(v[i] - '0');
		if (len > HTTP_CONTENT_LENGTH_MAX)
			return fail(r, HTTP_ERR_CONTENT_LENGTH);
	}
	if (r->has_length && len != r->content_length)
		return fail(r, HTTP_ERR_CONTENT_LENGTH);
	r->has_length = true;
	r->content_length = len;
	return true;
}

/* Notes "close" and "keep-alive" among the comma-separated options. */
static void parse_connection(const uint8_t *v, size_t n, bool *close, bool *keep)
{
	size_t i = 0;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			i++;
		if (span_is(v + s, i - s, "close"))
			*close = true;
		else if (span_is(v + s, i - s, "keep-alive"))
			*keep = true;
	}
}

/* The fields the parser itself acts on. */
static bool interpret_field(struct http_req *r, const uint8_t *name, size_t nlen,
                            const uint8_t *v, size_t vlen)
{
	if (span_is(name, nlen, "content-length"))
		return parse_length(r, v, vlen);
	if (span_is(name, nlen, "transfer-encoding")) {
		if (!span_is(v, vlen, "chunked") || r->chunked)
			return fail(r, HTTP_ERR_TRANSFER_ENCODING);
		r->chunked = true;
	} else if (span_is(name, nlen, "expect")) {
		r->expect_continue = span_is(v, vlen, "100-continue");
	}
	return true;
}

/* "name: value", line without its line end. */
static bool parse_field(struct http_req *r, const uint8_t *buf, const uint8_t *p, size_t n)
{
	size_t i = 0, vs, ve;

	while (i < n && is_tchar(p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return fail(r, HTTP_ERR_HEADER);
	if (r->n_fields == HTTP_HEADERS_MAX)
		return fail(r, HTTP_ERR_TOO_MANY_HEADERS);
	if (!all_value_bytes(p + i + 1, n - i - 1))
		return fail(r, HTTP_ERR_HEADER);
	vs = i + 1;
	ve = n;
	while (vs < ve && (p[vs] == ' ' || p[vs] == '\t'))
		vs++;
	while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
		ve--;
	r->fields[r->n_fields++] = (struct http_field){ span(buf, p, i),
	                                                span(buf, p + vs, ve - vs) };
	return interpret_field(r, p, i, p + vs, ve - vs);
}

/* After the blank line: what the fields mean together. */
static bool finish_head(struct http_req *r, const uint8_t *buf)
{
	bool close = false, keep = false;

	if (r->chunked && (r->has_length || r->minor == 0))
		return fail(r, r->has_length ? HTTP_ERR_CONTENT_LENGTH : HTTP_ERR_TRANSFER_ENCODING);
	for (uint32_t i = 0; i < r->n_fields; i++) {
		const struct http_field *f = &r->fields[i];
		if (span_is(buf + f->name.off, f->name.len, "connection"))
			parse_connection(buf + f->value.off, f->value.len, &close, &keep);
	}
	r->keep_alive = !close && (r->minor >= 1 || keep);
	r->stage = STAGE_DONE;
	return true;
}

/* One complete line, p[0..n) without its line end. */
static bool parse_line(struct http_req *r, const uint8_t *buf, const uint8_t *p, size_t n)
{
	if (memchr(p, '\r', n))
		return fail(r, r->stage == STAGE_START ? HTTP_ERR_REQUEST_LINE : HTTP_ERR_HEADER);
	if (r->stage == STAGE_START) {
		if (n == 0)
			return true;            /* a blank line before the request */
		if (!parse_request_line(r, buf, p, n))
			return false;
		r->stage = STAGE_FIELDS;
		return true;
	}
	if (n == 0)
		return finish_head(r, buf);
	if (p[0] == ' ' || p[0] == '\t')
		return fail(r, HTTP_ERR_HEADER); /* obsolete line folding */
	return parse_field(r, buf, p, n);
}

enum http_parse http_req_parse(struct http_req *r, const uint8_t *buf, size_t len)
{
	if (r->stage == STAGE_DONE)
		return HTTP_PARSE_DONE;
	if (r->err != HTTP_ERR_NONE)
		return HTTP_PARSE_ERROR;
	while (r->pos < len) {
		const uint8_t *p = buf + r->pos;
		size_t end = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
		/* Bytes before r->scan were searched by an earlier call. */
		size_t from = r->scan > r->pos ? r->scan : r->pos;
		const uint8_t *lf = from < end ? memchr(buf + from, '\n', end - from) : NULL;
		if (lf == NULL) {
			r->scan = (uint32_t)(from > end ? from : end);
			break;
		}
		size_t n = (size_t)(lf - p);
		size_t content = n && p[n - 1] == '\r' ? n - 1 : n;
		if (r->stage == STAGE_START && content > HTTP_REQ_LINE_MAX) {
			r->err = HTTP_ERR_LINE_TOO_LONG;
			return HTTP_PARSE_ERROR;
		}
		if (r->pos + n + 1 > HTTP_HEAD_MAX) {
			r->err = HTTP_ERR_HEAD_TOO_LARGE;
			return HTTP_PARSE_ERROR;
		}
		r->pos += (uint32_t)(n + 1);
		if (!parse_line(r, buf, p, content))
			return HTTP_PARSE_ERROR;
		if (r->stage == STAGE_DONE) {
			r->head_len = r->pos;
			return HTTP_PARSE_DONE;
		}
	}
	if (r->stage == STAGE_START && len - r->pos > HTTP_REQ_LINE_MAX + 1)
		r->err = HTTP_ERR_LINE_TOO_LONG;
	else if (len >= HTTP_HEAD_MAX)
		r->err = HTTP_ERR_HEAD_TOO_LARGE;
	return r->err == HTTP_ERR_NONE ? HTTP_PARSE_MORE : HTTP_PARSE_ERROR;
}

bool http_req_field(const struct http_req *r, const uint8_t *buf, const char *name,
                    struct http_span *value)
{
	for (uint32_t i = 0; i < r->n_fields; i++) {
		const struct http_field *f = &r->fields[i];
		if (span_is(buf + f->name.off, f->name.len, name)) {
			*value = f->value;
			return true;
		}
	}
	return false;
}

int http_req_err_status(enum http_req_err e, const char **reason)
{
	switch (e) {
	case HTTP_ERR_LINE_TOO_LONG:
		*reason = "URI Too Long";
		return 414;
	case HTTP_ERR_HEAD_TOO_LARGE:
	case HTTP_ERR_TOO_MANY_HEADERS:
		*reason = "Request Header Fields Too Large";
		return 431;
	case HTTP_ERR_VERSION:
		*reason = "HTTP Version Not Supported";
		return 505;
	case HTTP_ERR_TRANSFER_ENCODING:
		*reason = "Not Implemented";
		return 501;
	case HTTP_ERR_BODY_TOO_LARGE:
		*reason = "Payload Too Large";
		return 413;
	default:
		*reason = "Bad Request";
		return 400;
	}
}

const char *http_req_strerror(enum http_req_err e)
{
	switch (e) {
	case HTTP_ERR_NONE: return "no error";
	case HTTP_ERR_LINE_TOO_LONG: return "request line too long";
	case HTTP_ERR_HEAD_TOO_LARGE: return "request head too large";
	case HTTP_ERR_TOO_MANY_HEADERS: return "too many header fields";
	case HTTP_ERR_REQUEST_LINE: return "malformed request line";
	case HTTP_ERR_VERSION: return "only HTTP/1.0 and HTTP/1.1 are served";
	case HTTP_ERR_HEADER: return "malformed header field";
	case HTTP_ERR_CONTENT_LENGTH: return "bad Content-Length";
	case HTTP_ERR_TRANSFER_ENCODING: return "only the chunked transfer coding is understood";
	case HTTP_ERR_CHUNK: return "malformed chunked body";
	case HTTP_ERR_BODY_TOO_LARGE: return "body too large";
	}
	return "bad request";
}

/* ---- chunked bodies ---- */

enum chunk_state {
	CH_SIZE,        /* hex digits of the chunk size */
	CH_EXT,         /* after them: extensions up to the line end */
	CH_SIZE_LF,     /* a CR ended the size line */
	CH_DATA,
	CH_DATA_END,    /* CRLF (or LF) after the data */
	CH_DATA_LF,
	CH_TRAILER,     /* trailer fields, up to a blank line */
	CH_TRAILER_LF,
	CH_DONE,
};

void http_chunked_init(struct http_chunked *c, size_t max)
{
	memset(c, 0, sizeof *c);
	c->max = max;
	c->state = CH_SIZE;
}

static int hex_value(uint8_t b)
{
	if (b >= '0' && b <= '9')
		return b - '0';
	b = lower(b);
	return b >= 'a' && b <= 'f' ? b - 'a' + 10 : -1;
}

static bool chunk_fail(struct http_chunked *c, enum http_req_err e)
{
	c->err = e;
	return false;
}

/* The size line has ended: data next, or the trailer after the last chunk. */
static bool chunk_size_done(struct http_chunked *c)
{
	if (c->left > c->max - c->out)
		return chunk_fail(c, HTTP_ERR_BODY_TOO_LARGE);
	c->state = c->left ? CH_DATA : CH_TRAILER;
	c->line = 0;
	c->total = 0;
	return true;
}

static bool chunk_size_byte(struct http_chunked *c, uint8_t b)
{
	int v = hex_value(b);

	if (c->state == CH_SIZE && v >= 0) {
		if (++c->line > 15)     /* 2^60 is past any maximum */
			return chunk_fail(c, HTTP_ERR_CHUNK);
		c->left = c->left << 4 | (uint64_t)v;
		return true;
	}
	if (c->line == 0 || c->state == CH_SIZE_LF)
		return b == '\n' && c->state == CH_SIZE_LF ? chunk_size_done(c)
		                                            : chunk_fail(c, HTTP_ERR_CHUNK);
	c->state = CH_EXT;
	if (++c->line > CHUNK_LINE_MAX)
		return chunk_fail(c, HTTP_ERR_CHUNK);
	if (b == '\n')
		return chunk_size_done(c);
	if (b == '\r')
		c->state = CH_SIZE_LF;
	else if (!is_value_byte(b))
		return chunk_fail(c, HTTP_ERR_CHUNK);
	return true;
}

/* CRLF after the data, then the next size line. */
static bool chunk_data_end(struct http_chunked *c, uint8_t b)
{
	if (b == '\r' && c->state == CH_DATA_END) {
		c->state = CH_DATA_LF;
		return true;
	}
	if (b != '\n')
		return chunk_fail(c, HTTP_ERR_CHUNK);
	c->state = CH_SIZE;
	c->line = 0;
	c->left = 0;
	return true;
}

static bool chunk_trailer_byte(struct http_chunked *c, uint8_t b)
{
	if (++c->total > HTTP_HEAD_MAX)
		return chunk_fail(c, HTTP_ERR_HEAD_TOO_LARGE);
	if (b == '\n') {
		c->state = c->line == 0 ? CH_DONE : CH_TRAILER;
		c->line = 0;
		return true;
	}
	if (c->state == CH_TRAILER_LF)
		return chunk_fail(c, HTTP_ERR_CHUNK);
	if (b == '\r') {
		c->state = CH_TRAILER_LF;
		return true;
	}
	if (!is_value_byte(b))
		return chunk_fail(c, HTTP_ERR_CHUNK);
	c->line++;
	return true;
}

static bool chunk_byte(struct http_chunked *c, uint8_t b)
{
	switch (c->state) {
	case CH_SIZE:
	case CH_EXT:
	case CH_SIZE_LF:
		return chunk_size_byte(c, b);
	case CH_DATA_END:
	case CH_DATA_LF:
		return chunk_data_end(c, b);
	default:
		return chunk_trailer_byte(c, b);
	}
}

enum http_parse http_chunked_decode(struct http_chunked *c, uint8_t *buf, size_t len)
{
	while (c->state != CH_DONE && c->err == HTTP_ERR_NONE && c->in < len) {
		if (c->state == CH_DATA) {
			size_t take = len - c->in < c->left ? len - c->in : (size_t)c->left;
			memmove(buf + c->out, buf + c->in, take);
			c->out += take;
			c->in += take;
			c->left -= take;
			if (c->left == 0)
				c->state = CH_DATA_END;
			continue;
		}
		if (!chunk_byte(c, buf[c->in++]))
			break;
	}
	if (c->err != HTTP_ERR_NONE)
		return HTTP_PARSE_ERROR;
	return c->state == CH_DONE ? HTTP_PARSE_DONE : HTTP_PARSE_MORE;
}
