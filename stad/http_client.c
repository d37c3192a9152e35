/* One-shot HTTP requests over evhttp for the announcer and the catalog client. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "log.h"
#include "strnum.h"
#include "xmalloc.h"

struct http_req {
	struct evhttp_connection *conn;
	struct event *reaper;           /* frees conn and us after the callback */
	enum evhttp_request_error why;
	bool have_why;
	http_done_cb cb;
	void *arg;
	char what[32];
	char hostport[HTTP_URL_HOST_MAX + 9];
};

static bool url_error(char *err, size_t errsz, const char *url, const char *why)
{
	char esc[96];

	snprintf(err, errsz, "bad tracker URL \"%s\": %s",
	         log_escape(esc, sizeof esc, url, strlen(url)), why);
	return false;
}

/* host[:port] from s[0..len). */
static bool parse_authority(const char *url, const char *s, size_t len, bool udp,
                            struct http_url *u, char *err, size_t errsz)
{
	const char *host = s, *port = NULL;
	size_t hlen;

	if (memchr(s, '@', len))
		return url_error(err, errsz, url, "user names are not supported");
	if (len && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close)
			return url_error(err, errsz, url, "unterminated [IPv6] address");
		host = s + 1;
		hlen = (size_t)(close - host);
		if (close + 1 < s + len) {
			if (close[1] != ':')
				return url_error(err, errsz, url, "junk after ]");
			port = close + 2;
		}
	} else {
		const char *colon = memchr(s, ':', len);
		hlen = colon ? (size_t)(colon - s) : len;
		port = colon ? colon + 1 : NULL;
	}
	if (hlen == 0 || hlen > HTTP_URL_HOST_MAX)
		return url_error(err, errsz, url, "no host, or a host name too long");
	for (size_t i = 0; i < hlen; i++)
		if ((unsigned char)host[i] <= ' ' || host[i] == '/' || host[i] == 0x7f)
			return url_error(err, errsz, url, "bad character in the host");
	memcpy(u->host, host, hlen);
	u->host[hlen] = '\0';
	uint64_t p = 80;
	if (port && !strnum_u64(port, (size_t)(s + len - port), 1, 65535, &p))
		return url_error(err, errsz, url, "bad port");
	if (!port && udp)
		return url_error(err, errsz, url, "udp:// needs a port");
	u->port = (uint16_t)p;
	return true;
}

bool http_url_parse(const char *url, struct http_url *u, char *err, size_t errsz)
{
	const char *rest;

	memset(u, 0, sizeof *u);
	if (strncmp(url, "http://", 7) == 0) {
		rest = url + 7;
	} else if (strncmp(url, "udp://", 6) == 0) {
		rest = url + 6;
		u->udp = true;
	} else if (strncmp(url, "https://", 8) == 0) {
		return url_error(err, errsz, url, "https is not supported");
	} else {
		return url_error(err, errsz, url, "only http:// and udp:// are supported");
	}
	if (strchr(url, '#'))
		return url_error(err, errsz, url, "fragments are not supported");
	size_t alen = strcspn(rest, "/?");
	if (!parse_authority(url, rest, alen, u->udp, u, err, errsz))
		return false;
	const char *path = rest + alen;
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return url_error(err, errsz, url, "space or control character in the path");
	u->path = *path == '/' ? xstrdup(path) : xasprintf("/%s", path);
	return true;
}

void http_url_free(struct http_url *u)
{
	free(u->path);
	u->path = NULL;
}

void http_url_hostport(const struct http_url *u, char *out, size_t outsz)
{
	bool v6 = strchr(u->host, ':') != NULL;

	snprintf(out, outsz, "%s%s%s:%u", v6 ? "[" : "", u->host, v6 ? "]" : "", u->port);
}

static bool is_numeric_host(const char *host)
{
	uint8_t a[16];

	return evutil_inet_pton(AF_INET, host, a) == 1 || evutil_inet_pton(AF_INET6, host, a) == 1;
}

static void req_reap(evutil_socket_t fd, short what, void *arg)
{
	http_req_cancel(arg);
}

static void req_error(enum evhttp_request_error why, void *arg)
{
	struct http_req *c = arg;

	c->why = why;
	c->have_why = true;
}

/* evhttp reports a refused connect only through errno, so errno is read
 * right in the callback, and only values a connect can produce are trusted. */
static const char *connect_errno_text(int e)
{
	switch (e) {
	case ECONNREFUSED:
	case ECONNRESET:
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ETIMEDOUT:
	case EADDRNOTAVAIL:
	case ENETDOWN:
		return strerror(e);
	default:
		return NULL;
	}
}

static void failure_text(const struct http_req *c, int saved_errno, char *out, size_t outsz)
{
	const char *why = connect_errno_text(saved_errno);

	if (c->have_why) {
		switch (c->why) {
		case EVREQ_HTTP_TIMEOUT:
			why = "no reply in time";
			break;
		case EVREQ_HTTP_DATA_TOO_LONG:
			snprintf(out, outsz, "%s %s sent a reply too large", c->what, c->hostport);
			return;
		case EVREQ_HTTP_INVALID_HEADER:
			snprintf(out, outsz, "%s %s sent a malformed HTTP reply", c->what, c->hostport);
			return;
		case EVREQ_HTTP_EOF:
			if (!why)
				why = "connection closed before the reply";
			break;
		default:
			break;
		}
	}
	snprintf(out, outsz, "cannot reach %s %s: %s", c->what, c->hostport,
	         why ? why : "connection failed");
}

static void req_done(struct evhttp_request *req, void *arg)
{
	int saved_errno = errno;
	struct http_req *c = arg;
	struct http_result r = { 0 };
	char msg[512];

	if (req && evhttp_request_get_response_code(req) > 0) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		r.status = evhttp_request_get_response_code(req);
		r.len = evbuffer_get_length(in);
		r.body = evbuffer_pullup(in, -1);
		if (!r.body)
			r.body = (const uint8_t *)"";
	} else {
		failure_text(c, saved_errno, msg, sizeof msg);
		r.error = msg;
	}
	c->cb(c->arg, &r);
	/* Neither the connection nor this request may be freed while evhttp
	 * is still unwinding: the reaper does it from the loop. */
	event_active(c->reaper, EV_TIMEOUT, 0);
}

static bool add_headers(struct evhttp_request *req, const struct http_url *u,
                        const struct http_req_opts *o, const char *hostport)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char len[32];

	if (evhttp_add_header(h, "Host", u->port == 80 ? u->host : hostport) != 0 ||
	    evhttp_add_header(h, "Connection", "close") != 0 ||
	    evhttp_add_header(h, "User-Agent", "stad/" STA_VERSION) != 0)
		return false;
	if (o->header_name && evhttp_add_header(h, o->header_name, o->header_value) != 0)
		return false;
	if (!o->post)
		return true;
	snprintf(len, sizeof len, "%zu", o->body_len);
	return evhttp_add_header(h, "Content-Type", "application/x-bittorrent") == 0 &&
	       evhttp_add_header(h, "Content-Length", len) == 0 &&
	       evbuffer_add(evhttp_request_get_output_buffer(req), o->body, o->body_len) == 0;
}

struct http_req *http_req_start(struct event_base *base, struct evdns_base *dns,
                                const char *url, const struct http_req_opts *o,
                                http_done_cb cb, void *arg, char *err, size_t errsz)
{
	struct http_url u;

	if (!http_url_parse(url, &u, err, errsz))
		return NULL;
	if (u.udp) {
		http_url_free(&u);
		return url_error(err, errsz, url, "not an http:// URL"), NULL;
	}
	struct http_req *c = xcalloc(1, sizeof *c);
	c->cb = cb;
	c->arg = arg;
	snprintf(c->what, sizeof c->what, "%s", o->what ? o->what : "server");
	http_url_hostport(&u, c->hostport, sizeof c->hostport);
	if (!dns && !is_numeric_host(u.host)) {
		snprintf(err, errsz, "cannot resolve %s %s: no resolver", c->what, c->hostport);
		goto fail;
	}
	c->reaper = event_new(base, -1, 0, req_reap, c);
	c->conn = c->reaper ? evhttp_connection_base_new(base, dns, u.host, u.port) : NULL;
	if (!c->conn) {
		snprintf(err, errsz, "cannot connect to %s %s: out of resources", c->what,
		         c->hostport);
		goto fail;
	}
	evhttp_connection_set_timeout(c->conn, o->timeout_s);
	evhttp_connection_set_retries(c->conn, 0);
	evhttp_connection_set_max_body_size(c->conn, (ev_ssize_t)o->max_body);
	struct evhttp_request *req = evhttp_request_new(req_done, c);
	if (!req) {
		snprintf(err, errsz, "cannot build a request to %s %s", c->what, c->hostport);
		goto fail;
	}
	evhttp_request_set_error_cb(req, req_error);
	if (!add_headers(req, &u, o, c->hostport)) {
		evhttp_request_free(req);
		snprintf(err, errsz, "cannot build a request to %s %s", c->what, c->hostport);
		goto fail;
	}
	/* On failure evhttp_make_request frees req itself. */
	if (evhttp_make_request(c->conn, req, o->post ? EVHTTP_REQ_POST : EVHTTP_REQ_GET,
	                        u.path) != 0) {
		snprintf(err, errsz, "cannot send a request to %s %s", c->what, c->hostport);
		goto fail;
	}
	http_url_free(&u);
	return c;
fail:
	http_url_free(&u);
	http_req_cancel(c);
	return NULL;
}

void http_req_cancel(struct http_req *c)
{
	if (!c)
		return;
	/* Frees any request still queued on the connection, without callbacks. */
	if (c->conn)
		evhttp_connection_free(c->conn);
	if (c->reaper)
		event_free(c->reaper);
	free(c);
}
