/* UTF-8 decoding and JSON string output, for the JSON views of trackerd and
 * stactl. Names come from torrents, so the input is hostile bytes. */
#ifndef STA_JSON_H
#define STA_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Length (1-4) of the valid UTF-8 sequence at s[0..len), its code point in
 * *cp; 0 for an invalid, overlong, surrogate or truncated sequence. len > 0. */
size_t utf8_decode(const uint8_t *s, size_t len, uint32_t *cp);
/* Appends s as a quoted JSON string: quotes, backslashes and control
 * characters escaped, each invalid UTF-8 byte replaced by U+FFFD. */
void json_append_string(struct sta_buf *out, const uint8_t *s, size_t len);

#endif
