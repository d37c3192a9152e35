/* A small asynchronous HTTP/1.0 client over a bufferevent, shared by the
 * announcer and the catalog client: one request per connection, a capped
 * reply body, a timeout, and failures turned into sentences for a user
 * ("cannot reach tracker 127.0.0.1:6969: Connection refused"). Not evhttp:
 * it drops the errno of a failed connect, and HTTP/1.0 replies (no chunked
 * encoding) need only a small parser. The reply is taken when the server
 * closes the connection (requests say "Connection: close"); a server that
 * keeps it open runs into the timeout.
 *
 * Loop thread only. Nothing blocks: host names are resolved through the
 * evdns_base given (numeric addresses need none); with a NULL dns only
 * numeric addresses are accepted. https:// is not supported (no TLS).
 */
#ifndef STAD_HTTP_CLIENT_H
#define STAD_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evdns_base;
struct sockaddr;

#define HTTP_URL_HOST_MAX 255

/* A parsed http:// or udp:// URL. path includes any query, "/" when empty. */
struct http_url {
	bool udp;                           /* udp:// (BEP 15) rather than http:// */
	char host[HTTP_URL_HOST_MAX + 1];   /* without IPv6 brackets */
	uint16_t port;                      /* 80 when absent for http; required for udp */
	char *path;                         /* heap; free with http_url_free */
};

/* Parses "http://host[:port][/path]" or "udp://host:port[/...]"; "[v6]" hosts
 * accepted. Userinfo, fragments, https:// and other schemes are refused.
 * On failure returns false with a sentence in err (errsz bytes) and leaves
 * nothing to free. */
bool http_url_parse(const char *url, struct http_url *u, char *err, size_t errsz);
void http_url_free(struct http_url *u);
/* "host:port", or "[v6]:port", into out. */
void http_url_hostport(const struct http_url *u, char *out, size_t outsz);

struct http_result {
	int status;             /* HTTP status, or 0 when there is no reply */
	const uint8_t *body;    /* valid only during the callback; NULL when status 0 */
	size_t len;
	const char *error;      /* NULL on any HTTP reply; else a sentence such as
	                           "cannot reach tracker 127.0.0.1:1: Connection refused" */
};

/* Called exactly once per request unless it was cancelled first. The
 * request is freed after the callback returns (do not cancel it there). */
typedef void (*http_done_cb)(void *arg, const struct http_result *r);

struct http_req;

struct http_req_opts {
	bool post;              /* POST body (else GET) */
	const void *body;       /* copied */
	size_t body_len;
	const char *header_name;  /* one extra request header, or NULL */
	const char *header_value;
	size_t max_body;        /* a longer reply fails with "reply too large" */
	int timeout_s;          /* connect, and then silence while sending or reading; > 0 */
	const char *what;       /* for error sentences: "tracker" -> "cannot reach tracker .." */
	/* Source address (its port is ignored), or NULL. Applied when the
	 * server can be reached from it: a host name is then resolved in its
	 * family only; a numeric host of the other family goes unbound. */
	const struct sockaddr *bind_addr;
};

/* Starts a request for url (http:// only). Returns NULL, with a sentence in
 * err, when the URL is unusable or the connection cannot be set up; the
 * callback is then never called. Otherwise the callback runs later, from
 * the loop (never from inside this call). */
struct http_req *http_req_start(struct event_base *base, struct evdns_base *dns,
                                const char *url, const struct http_req_opts *o,
                                http_done_cb cb, void *arg, char *err, size_t errsz);
/* Aborts a pending request; its callback is not called. NULL is a no-op. */
void http_req_cancel(struct http_req *c);

#define HTTP_HEADER_MAX 16384u  /* status line + headers of a reply */

struct http_reply_view {
	int status;
	size_t body_off;
	size_t body_len;
};
/* Parses an HTTP/1.x reply received so far (data[0..len); eof: the server
 * has closed). Returns 1 when complete (status and body span in *v; with a
 * Content-Length, bytes after the body are ignored), 0 when more is needed,
 * -1 on a malformed or truncated reply, with a phrase in err. Refuses a
 * Transfer-Encoding other than identity, a bad Content-Length and headers
 * over HTTP_HEADER_MAX. Pure; exposed for tests. */
int http_reply_parse(const uint8_t *data, size_t len, bool eof, struct http_reply_view *v,
                     char *err, size_t errsz);

#endif
