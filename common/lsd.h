/* Local service discovery (BEP 14): the BT-SEARCH announce multicast to
 * 239.192.152.143:6771 or [ff15::efc0:988f]:6771.
 *
 *   BT-SEARCH * HTTP/1.1\r\n
 *   Host: 239.192.152.143:6771\r\n
 *   Port: 6881\r\n
 *   Infohash: <40 hex digits>\r\n      (one or more, consecutive)
 *   cookie: <opaque>\r\n               (optional: lets a sender drop its own)
 *   \r\n
 *   \r\n
 *
 * Pure: bytes in, a struct or an error out; the socket side is stad's.
 * Headers are matched without regard to case and unknown ones are skipped,
 * as in HTTP; bare \n line ends are taken too.
 */
#ifndef STA_LSD_H
#define STA_LSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define LSD_PORT 6771
#define LSD_GROUP4 "239.192.152.143"
#define LSD_GROUP6 "ff15::efc0:988f"
#define LSD_MSG_MAX 1400        /* BEP 14: keep an announce within one packet */
#define LSD_MAX_HASHES 25       /* what fits in LSD_MSG_MAX */
#define LSD_COOKIE_MAX 64

enum lsd_err {
	LSD_E_NONE = 0,
	LSD_E_REQUEST_LINE,     /* not "BT-SEARCH * HTTP/1.1" */
	LSD_E_HEADER,           /* a header line without a colon, or a NUL */
	LSD_E_PORT,             /* Port missing, repeated, or not 1..65535 */
	LSD_E_INFOHASH,         /* an Infohash that is not 40 hex digits */
	LSD_E_NO_INFOHASH,
};

struct lsd_msg {
	uint16_t port;
	size_t n_hashes;        /* those past LSD_MAX_HASHES are ignored */
	uint8_t hashes[LSD_MAX_HASHES][20];
	bool has_cookie;
	char cookie[LSD_COOKIE_MAX + 1]; /* NUL-terminated; longer ones are cut */
};

const char *lsd_strerror(enum lsd_err e);

/* Parses one datagram; false with *err set. */
bool lsd_parse(const uint8_t *data, size_t len, struct lsd_msg *out, enum lsd_err *err);

/* Appends an announce for the IPv4 or IPv6 group: port, as many of
 * hashes[0..n) as fit in LSD_MSG_MAX bytes, and cookie (NULL for none,
 * printable and at most LSD_COOKIE_MAX). Returns how many hashes it took. */
size_t lsd_build(struct sta_buf *out, bool ipv6, uint16_t port, const uint8_t (*hashes)[20],
                 size_t n, const char *cookie);

#endif
