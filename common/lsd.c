/* BEP 14 announces (see lsd.h). */
#include "lsd.h"

#include <string.h>
#include <strings.h>

#include "hex.h"
#include "strnum.h"

static const char lsd_request[] = "BT-SEARCH * HTTP/1.1";

const char *lsd_strerror(enum lsd_err e)
{
	switch (e) {
	case LSD_E_NONE: return "no error";
	case LSD_E_REQUEST_LINE: return "not a BT-SEARCH request";
	case LSD_E_HEADER: return "malformed header line";
	case LSD_E_PORT: return "missing, repeated or invalid Port";
	case LSD_E_INFOHASH: return "Infohash is not 40 hex digits";
	case LSD_E_NO_INFOHASH: return "no Infohash";
	}
	return "unknown error";
}

/* The next line of data[*pos..len) without its \r\n or \n; false at the
 * end of the data. */
static bool next_line(const uint8_t *data, size_t len, size_t *pos, const char **line,
                      size_t *n)
{
	if (*pos >= len)
		return false;
	const uint8_t *start = data + *pos;
	const uint8_t *nl = memchr(start, '\n', len - *pos);
	size_t end = nl ? (size_t)(nl - data) : len;

	*line = (const char *)start;
	*n = end - *pos;
	if (*n > 0 && (*line)[*n - 1] == '\r')
		(*n)--;
	*pos = nl ? end + 1 : len;
	return true;
}

static void trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

static bool name_is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && strncasecmp(name, want, n) == 0;
}

/* One "Name: value" line into out; false with *err. */
static bool header(const char *line, size_t n, struct lsd_msg *out, bool *have_port,
                   enum lsd_err *err)
{
	const char *colon = memchr(line, ':', n);
	uint64_t port;

	if (colon == NULL || memchr(line, '\0', n) != NULL) {
		*err = LSD_E_HEADER;
		return false;
	}
	const char *name = line, *val = colon + 1;
	size_t nlen = (size_t)(colon - line), vlen = n - nlen - 1;
	trim(&name, &nlen);
	trim(&val, &vlen);
	if (name_is(name, nlen, "Port")) {
		if (*have_port || !strnum_u64(val, vlen, 1, 65535, &port)) {
			*err = LSD_E_PORT;
			return false;
		}
		out->port = (uint16_t)port;
		*have_port = true;
	} else if (name_is(name, nlen, "Infohash")) {
		uint8_t ih[20];
		if (!hex_decode(val, vlen, ih, sizeof ih)) {
			*err = LSD_E_INFOHASH;
			return false;
		}
		if (out->n_hashes < LSD_MAX_HASHES)
			memcpy(out->hashes[out->n_hashes++], ih, sizeof ih);
	} else if (name_is(name, nlen, "cookie")) {
		size_t c = vlen < LSD_COOKIE_MAX ? vlen : LSD_COOKIE_MAX;
		memcpy(out->cookie, val, c);
		out->cookie[c] = '\0';
		out->has_cookie = true;
	}
	return true;
}

bool lsd_parse(const uint8_t *data, size_t len, struct lsd_msg *out, enum lsd_err *err)
{
	size_t pos = 0, n;
	const char *line;
	bool have_port = false;

	memset(out, 0, sizeof *out);
	*err = LSD_E_NONE;
	if (!next_line(data, len, &pos, &line, &n) || n != strlen(lsd_request) ||
	    memcmp(line, lsd_request, n) != 0) {
		*err = LSD_E_REQUEST_LINE;
		return false;
	}
	/* Headers up to the blank line (or the end of the datagram). */
	while (next_line(data, len, &pos, &line, &n) && n > 0)
		if (!header(line, n, out, &have_port, err))
			return false;
	if (!have_port)
		*err = LSD_E_PORT;
	else if (out->n_hashes == 0)
		*err = LSD_E_NO_INFOHASH;
	return *err == LSD_E_NONE;
}

size_t lsd_build(struct sta_buf *out, bool ipv6, uint16_t port, const uint8_t (*hashes)[20],
                 size_t n, const char *cookie)
{
	static const size_t per_hash = sizeof "Infohash: \r\n" - 1 + 40;
	size_t start = out->len, taken = 0;
	char hex[41];

	buf_printf(out, "%s\r\nHost: %s:%d\r\nPort: %u\r\n", lsd_request,
	           ipv6 ? "[" LSD_GROUP6 "]" : LSD_GROUP4, LSD_PORT, port);
	size_t tail = (cookie ? sizeof "cookie: \r\n" - 1 + strlen(cookie) : 0) + 4;
	while (taken < n && taken < LSD_MAX_HASHES &&
	       out->len - start + per_hash + tail <= LSD_MSG_MAX) {
		hex_encode(hashes[taken++], 20, hex);
		buf_printf(out, "Infohash: %s\r\n", hex);
	}
	if (cookie)
		buf_printf(out, "cookie: %s\r\n", cookie);
	buf_append_str(out, "\r\n\r\n");
	return taken;
}
