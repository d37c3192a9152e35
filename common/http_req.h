/* HTTP/1.x requests as a server reads them (RFC 9112): an incremental
 * parser of the request line and header fields, and an in-place decoder of
 * chunked bodies.
 *
 * Pure: the caller keeps a connection's bytes in one buffer, appends what
 * it reads, and hands the parser the whole buffer on each call. The parser
 * remembers where it stopped, so a head that arrives a byte at a time costs
 * linear time, and it checks each line as soon as the line is complete: a
 * malformed request line fails before its headers arrive. Everything it
 * reports is an offset into that buffer; nothing is allocated or copied.
 *
 * Limits: the request line, the head and the number of header fields are
 * bounded (HTTP_REQ_LINE_MAX, HTTP_HEAD_MAX, HTTP_HEADERS_MAX), a chunked
 * body by the caller's maximum. Blank lines before the request line are
 * skipped (RFC 9112 2.2); a bare LF ends a line as CRLF does; obsolete line
 * folding, whitespace before a colon, control characters, a Content-Length
 * that is not a plain number (or two that differ), Content-Length together
 * with Transfer-Encoding, and any transfer coding but "chunked" are errors.
 */
#ifndef STA_HTTP_REQ_H
#define STA_HTTP_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_REQ_LINE_MAX 8192  /* bytes of the request line */
#define HTTP_HEAD_MAX 16384     /* bytes of the whole head, blank lines before it too */
#define HTTP_HEADERS_MAX 64     /* header fields */
#define HTTP_CONTENT_LENGTH_MAX ((uint64_t)1 << 62)

enum http_parse {
	HTTP_PARSE_DONE,
	HTTP_PARSE_MORE,
	HTTP_PARSE_ERROR,
};

enum http_method {
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_POST,
	HTTP_METHOD_PUT,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_OTHER,      /* a well-formed token we do not know */
};

enum http_req_err {
	HTTP_ERR_NONE,
	HTTP_ERR_LINE_TOO_LONG,     /* request line over HTTP_REQ_LINE_MAX */
	HTTP_ERR_HEAD_TOO_LARGE,    /* head over HTTP_HEAD_MAX */
	HTTP_ERR_TOO_MANY_HEADERS,  /* over HTTP_HEADERS_MAX */
	HTTP_ERR_REQUEST_LINE,      /* not "METHOD SP target SP HTTP/1.x" */
	HTTP_ERR_VERSION,           /* HTTP/ but not 1.x */
	HTTP_ERR_HEADER,            /* a malformed header field */
	HTTP_ERR_CONTENT_LENGTH,    /* not a number, two that differ, or with chunked */
	HTTP_ERR_TRANSFER_ENCODING, /* a coding other than chunked */
	HTTP_ERR_CHUNK,             /* malformed chunked body */
	HTTP_ERR_BODY_TOO_LARGE,    /* chunked body over the caller's maximum */
};

/* bytes [off, off + len) of the caller's buffer */
struct http_span {
	uint32_t off;
	uint32_t len;
};

struct http_field {
	struct http_span name;
	struct http_span value;     /* without the whitespace around it */
};

struct http_req {
	/* Parser state: set by http_req_init, then the parser's own. */
	uint32_t pos;               /* start of the first line not yet parsed */
	uint32_t scan;              /* bytes already searched for its end */
	uint8_t stage;
	enum http_req_err err;      /* why, after HTTP_PARSE_ERROR */

	/* The request, complete after HTTP_PARSE_DONE. */
	uint32_t head_len;          /* bytes of the head, blank lines before it too */
	enum http_method method;
	struct http_span method_text;
	struct http_span target;    /* as sent */
	struct http_span path;      /* of the target; for the absolute form, after the authority */
	struct http_span query;     /* after '?', empty when none */
	uint8_t minor;              /* HTTP/1.minor: 0, or 1 for 1.1 and later */
	bool keep_alive;            /* by the version and the Connection field */
	bool expect_continue;       /* Expect: 100-continue */
	bool chunked;               /* Transfer-Encoding: chunked */
	bool has_length;
	uint64_t content_length;
	uint32_t n_fields;
	struct http_field fields[HTTP_HEADERS_MAX];
};

void http_req_init(struct http_req *r);
/* Parses buf[0..len), the bytes received so far on the connection since the
 * request began (each call's buf extends the last one's). DONE: the head is
 * buf[0..r->head_len); bytes after it are the body or the next request.
 * MORE: call again with more bytes. ERROR: r->err says why; the connection
 * cannot be trusted further. */
enum http_parse http_req_parse(struct http_req *r, const uint8_t *buf, size_t len);
/* The value of the first field named name (ASCII case-insensitive). */
bool http_req_field(const struct http_req *r, const uint8_t *buf, const char *name,
                    struct http_span *value);
/* The status code (400, 413, 414, 431, 501 or 505) and its reason phrase
 * fit to answer an error with, and a sentence for the client. */
int http_req_err_status(enum http_req_err e, const char **reason);
const char *http_req_strerror(enum http_req_err e);

/* Decodes a chunked body in place: buf[0..len) are the raw body bytes
 * received so far (starting right after the head); the decoded bytes are
 * moved to buf[0..c->out). DONE: the last chunk and the trailer fields were
 * read; c->in is the raw length, and bytes after it belong to the next
 * request. Trailer fields are skipped. */
struct http_chunked {
	size_t in;                  /* raw bytes consumed */
	size_t out;                 /* decoded bytes at the start of buf */
	size_t max;                 /* largest decoded body allowed */
	uint64_t left;              /* data bytes left in the current chunk */
	uint32_t line;              /* bytes of the current size or trailer line */
	uint32_t total;             /* bytes of the trailer section */
	uint8_t state;
	enum http_req_err err;
};
void http_chunked_init(struct http_chunked *c, size_t max);
enum http_parse http_chunked_decode(struct http_chunked *c, uint8_t *buf, size_t len);

#endif
