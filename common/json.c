#include "json.h"

/* Length of the valid UTF-8 sequence at s (its code point in *cp), or 0
 * for an invalid, overlong, surrogate or truncated one. */
size_t utf8_decode(const uint8_t *s, size_t len, uint32_t *cp)
{
	uint8_t c = s[0];
	size_t n;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, v = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

void json_append_string(struct sta_buf *out, const uint8_t *s, size_t len)
{
	buf_append_byte(out, '"');
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			buf_append_str(out, "\\ufffd");
			i++;
			continue;
		}
		if (cp == '"' || cp == '\\') {
			buf_append_byte(out, '\\');
			buf_append_byte(out, (uint8_t)cp);
		} else if (cp == '\n') {
			buf_append_str(out, "\\n");
		} else if (cp == '\t') {
			buf_append_str(out, "\\t");
		} else if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029) {
			/* U+2028/9 are valid JSON but break JavaScript parsers. */
			buf_printf(out, "\\u%04x", (unsigned)cp);
		} else {
			buf_append(out, s + i, n);
		}
		i += n;
	}
	buf_append_byte(out, '"');
}
