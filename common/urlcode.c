/* Percent-encoding of query values (RFC 3986). */
#include <stdbool.h>

#include "hex.h"
#include "tracker_proto.h"

static bool url_unreserved(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

void url_encode(struct sta_buf *out, const uint8_t *data, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	buf_reserve(out, len);
	for (size_t i = 0; i < len; i++) {
		if (url_unreserved(data[i])) {
			buf_append_byte(out, data[i]);
		} else {
			uint8_t esc[3] = { '%', (uint8_t)hex[data[i] >> 4], (uint8_t)hex[data[i] & 15] };
			buf_append(out, esc, sizeof esc);
		}
	}
}

long url_decode(const char *src, size_t len, uint8_t *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (src[i] != '%') {
			out[o++] = (uint8_t)src[i];
			continue;
		}
		if (len - i < 3)
			return -1;
		int hi = hex_value(src[i + 1]), lo = hex_value(src[i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		out[o++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return (long)o;
}
