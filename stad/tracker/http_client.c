/* One-shot HTTP/1.0 requests over a bufferevent for the announcer and the
 * catalog client. HTTP/1.0 keeps replies simple (no chunked encoding, the
 * server closes), and owning the socket lets a failed connect be reported
 * with its real errno (evhttp loses it). */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http_client.h"
#include "log.h"
#include "srcaddr.h"
#include "strnum.h"
#include "xmalloc.h"

struct http_req {
	struct bufferevent *bev;
	bool connected;
	size_t max_body;
	int timeout_s;
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

/* AF_INET or AF_INET6 for an address literal, AF_UNSPEC for a name. */
static int host_family(const char *host)
{
	uint8_t a[16];

	if (evutil_inet_pton(AF_INET, host, a) == 1)
		return AF_INET;
	return evutil_inet_pton(AF_INET6, host, a) == 1 ? AF_INET6 : AF_UNSPEC;
}

/* A socket bound to o->bind_addr when it applies (*family set to its
 * family), else -1 to let libevent make one. false with err. */
static bool bound_socket(struct http_req *c, const struct http_req_opts *o, int *family,
                         evutil_socket_t *fd, char *err, size_t errsz)
{
	*fd = -1;
	if (!o->bind_addr || (*family != AF_UNSPEC && *family != o->bind_addr->sa_family))
		return true;
	*family = o->bind_addr->sa_family;
	*fd = socket(*family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd >= 0 && srcaddr_bind(*fd, o->bind_addr, true) == 0)
		return true;
	snprintf(err, errsz, "cannot connect to %s %s: binding to the listen address: %s",
	         c->what, c->hostport, strerror(errno));
	if (*fd >= 0)
		close(*fd);
	return false;
}

/* Value of header name in the header block h[0..len) (after the status
 * line), or NULL; *vlen gets its length without surrounding blanks. */
static const char *find_header(const char *h, size_t len, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *end = h + len;

	while (h < end) {
		const char *eol = memchr(h, '\n', (size_t)(end - h));
		const char *line_end = eol ? eol : end;
		if ((size_t)(line_end - h) > nlen && h[nlen] == ':' && strncasecmp(h, name, nlen) == 0) {
			const char *v = h + nlen + 1, *ve = line_end;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		h = eol ? eol + 1 : end;
	}
	return NULL;
}

int http_reply_parse(const uint8_t *data, size_t len, bool eof, struct http_reply_view *v,
                     char *err, size_t errsz)
{
	const char *p = (const char *)data;
	size_t scan = len < HTTP_HEADER_MAX ? len : HTTP_HEADER_MAX;
	const char *hend = memmem(p, scan, "\r\n\r\n", 4);
	size_t hsep = 4;

	if (!hend) {
		hend = memmem(p, scan, "\n\n", 2);
		hsep = 2;
	}
	if (!hend) {
		if (len >= HTTP_HEADER_MAX) {
			snprintf(err, errsz, "reply headers longer than %u bytes", HTTP_HEADER_MAX);
			return -1;
		}
		if (eof)
			snprintf(err, errsz, "connection closed before the reply headers ended");
		return eof ? -1 : 0;
	}
	uint64_t status;
	if (hend - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
	    p[8] != ' ' || !strnum_u64(p + 9, 3, 100, 599, &status) ||
	    (p[12] != ' ' && p[12] != '\r' && p[12] != '\n')) {
		snprintf(err, errsz, "not an HTTP reply");
		return -1;
	}
	/* The status line ends at the latest inside the separator. */
	const char *hdrs = (const char *)memchr(p, '\n', (size_t)(hend - p) + hsep) + 1;
	size_t hlen = hdrs < hend ? (size_t)(hend - hdrs) : 0, vlen;
	const char *te = find_header(hdrs, hlen, "Transfer-Encoding", &vlen);
	if (te && !(vlen == 8 && strncasecmp(te, "identity", 8) == 0)) {
		snprintf(err, errsz, "unsupported Transfer-Encoding in the reply");
		return -1;
	}
	size_t off = (size_t)(hend - p) + hsep, have = len - off;
	const char *cl = find_header(hdrs, hlen, "Content-Length", &vlen);
	uint64_t want = 0;
	if (cl && !strnum_u64(cl, vlen, 0, UINT64_MAX, &want)) {
		snprintf(err, errsz, "bad Content-Length in the reply");
		return -1;
	}
	v->status = (int)status;
	v->body_off = off;
	if (cl) {
		if (have < want) {
			if (eof)
				snprintf(err, errsz, "reply cut short: %zu of %llu bytes", have,
				         (unsigned long long)want);
			return eof ? -1 : 0;
		}
		v->body_len = (size_t)want; /* anything after it is ignored */
		return 1;
	}
	v->body_len = have;
	return eof ? 1 : 0;
}

static void req_finish(struct http_req *c, const struct http_result *r)
{
	c->cb(c->arg, r);
	http_req_cancel(c);
}

static void req_fail(struct http_req *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void req_fail(struct http_req *c, const char *fmt, ...)
{
	char msg[512];
	struct http_result r = { .error = msg };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	req_finish(c, &r);
}

/* The server closed: the reply is complete or broken. Finishes c. */
static void req_reply(struct http_req *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in);
	struct http_reply_view v;
	char err[128];

	if (len > c->max_body + HTTP_HEADER_MAX) {
		req_fail(c, "%s %s sent a reply too large", c->what, c->hostport);
		return;
	}
	const uint8_t *data = len ? evbuffer_pullup(in, -1) : (const uint8_t *)"";
	if (http_reply_parse(data, len, true, &v, err, sizeof err) < 0) {
		req_fail(c, "%s %s sent a bad HTTP reply: %s", c->what, c->hostport, err);
		return;
	}
	if (v.body_len > c->max_body) {
		req_fail(c, "%s %s sent a reply too large", c->what, c->hostport);
		return;
	}
	struct http_result r = { .status = v.status, .body = data + v.body_off, .len = v.body_len };
	req_finish(c, &r);
}

/* The reply is parsed once, at EOF (we asked for HTTP/1.0 and
 * "Connection: close"): parsing a growing buffer on every read would
 * linearise it again and again. Here only the size cap is enforced. */
static void req_read(struct bufferevent *bev, void *arg)
{
	struct http_req *c = arg;

	if (evbuffer_get_length(bufferevent_get_input(bev)) > c->max_body + HTTP_HEADER_MAX)
		req_fail(c, "%s %s sent a reply too large", c->what, c->hostport);
}

static void req_event(struct bufferevent *bev, short what, void *arg)
{
	struct http_req *c = arg;
	int e = EVUTIL_SOCKET_ERROR();
	char t[32];

	if (what & BEV_EVENT_CONNECTED) {
		c->connected = true;
		return;
	}
	if (what & BEV_EVENT_EOF) {
		req_reply(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		snprintf(t, sizeof t, "%d s", c->timeout_s);
		if (c->connected)
			req_fail(c, "no reply from %s %s within %s", c->what, c->hostport, t);
		else
			req_fail(c, "cannot reach %s %s: no answer within %s", c->what, c->hostport, t);
		return;
	}
	int dns = bufferevent_socket_get_dns_error(bev);
	if (dns)
		req_fail(c, "cannot resolve %s %s: %s", c->what, c->hostport,
		         evutil_gai_strerror(dns));
	else if (c->connected)
		req_fail(c, "connection to %s %s lost: %s", c->what, c->hostport,
		         evutil_socket_error_to_string(e));
	else
		req_fail(c, "cannot reach %s %s: %s", c->what, c->hostport,
		         evutil_socket_error_to_string(e));
}

static void write_request(struct http_req *c, const struct http_url *u,
                          const struct http_req_opts *o)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add_printf(out, "%s %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: stad/" STA_VERSION
	                    "\r\nConnection: close\r\n", o->post ? "POST" : "GET", u->path,
	                    u->port == 80 ? u->host : c->hostport);
	if (o->header_name)
		evbuffer_add_printf(out, "%s: %s\r\n", o->header_name, o->header_value);
	if (o->post)
		evbuffer_add_printf(out, "Content-Type: application/x-bittorrent\r\n"
		                    "Content-Length: %zu\r\n", o->body_len);
	evbuffer_add(out, "\r\n", 2);
	if (o->post)
		evbuffer_add(out, o->body, o->body_len);
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
		url_error(err, errsz, url, "not an http:// URL");
		return NULL;
	}
	struct http_req *c = xcalloc(1, sizeof *c);
	c->cb = cb;
	c->arg = arg;
	c->max_body = o->max_body;
	c->timeout_s = o->timeout_s;
	snprintf(c->what, sizeof c->what, "%s", o->what ? o->what : "server");
	http_url_hostport(&u, c->hostport, sizeof c->hostport);
	int family = host_family(u.host);
	evutil_socket_t fd;
	if (!dns && family == AF_UNSPEC) {
		snprintf(err, errsz, "cannot resolve %s %s: no resolver", c->what, c->hostport);
		goto fail;
	}
	if (!bound_socket(c, o, &family, &fd, err, errsz))
		goto fail;
	/* Deferred callbacks: a numeric host or an immediate refusal must not
	 * call back from inside this function. */
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!c->bev) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errsz, "cannot connect to %s %s: out of resources", c->what,
		         c->hostport);
		goto fail;
	}
	struct timeval tv = { o->timeout_s, 0 };
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_setcb(c->bev, req_read, NULL, req_event, c);
	write_request(c, &u, o);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect_hostname(c->bev, dns, family, u.host, u.port) != 0) {
		snprintf(err, errsz, "cannot reach %s %s: %s", c->what, c->hostport,
		         strerror(errno));
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
	if (c->bev)
		bufferevent_free(c->bev);
	free(c);
}
