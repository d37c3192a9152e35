/* Magnet URIs for BitTorrent (BEP 9): parse what a user pastes, build the
 * link the catalog hands out.
 *
 *   magnet:?xt=urn:btih:<40 hex | 32 base32>&dn=<name>&tr=<tracker>&x.pe=<host:port>
 *
 * Pure: no I/O, no name resolution. A parsed struct magnet holds only
 * checked values: a 20-byte info-hash, a display name without control
 * bytes, tracker URLs of the schemes stad can announce to, and peer
 * addresses split into host and port. Keys we do not use (ws, xs, as, kt,
 * so, other x.*) are ignored; "tr.1", "xt.2" count as "tr" and "xt".
 */
#ifndef STA_MAGNET_H
#define STA_MAGNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MAGNET_MAX_LEN 16384    /* longer URIs are refused */
#define MAGNET_NAME_MAX 255     /* dn is cut to this (at a UTF-8 boundary) */
#define MAGNET_URL_MAX 2048     /* one tr */
#define MAGNET_MAX_TRACKERS 32  /* tr kept; more are counted in n_skipped */
#define MAGNET_MAX_PEERS 32     /* x.pe kept; more are counted in n_skipped */
#define MAGNET_HOST_MAX 253

enum magnet_err {
	MAGNET_ERR_NONE = 0,
	MAGNET_ERR_SCHEME,     /* does not start with "magnet:?" */
	MAGNET_ERR_TOO_LONG,
	MAGNET_ERR_PARAM,      /* a parameter without '=' */
	MAGNET_ERR_ESCAPE,     /* a bad percent escape */
	MAGNET_ERR_NO_HASH,    /* no xt=urn:btih: */
	MAGNET_ERR_V2_ONLY,    /* only xt=urn:btmh: (BitTorrent v2) */
	MAGNET_ERR_HASH,       /* btih neither 40 hex nor 32 base32 digits */
	MAGNET_ERR_TWO_HASHES, /* two different btih */
	MAGNET_ERR_NAME,       /* dn with a control byte */
	MAGNET_ERR_TRACKER,    /* tr too long or with a space or control byte */
	MAGNET_ERR_PEER,       /* x.pe not host:port */
};

struct magnet_error {
	enum magnet_err code;
	char msg[200];         /* a sentence that says what to fix */
};

struct magnet_peer {
	char host[MAGNET_HOST_MAX + 1]; /* a name, an IPv4 or IPv6 literal (no brackets) */
	uint16_t port;                  /* 1-65535 */
};

struct magnet {
	uint8_t info_hash[20];
	char name[MAGNET_NAME_MAX + 1]; /* dn; "" when absent */
	char **trackers;                /* http, https and udp URLs, no duplicates */
	size_t n_trackers;
	struct magnet_peer *peers;
	size_t n_peers;
	size_t n_skipped;               /* tr of other schemes, tr and x.pe over the caps */
};

/* Whether s looks like a magnet URI at all ("magnet:" in any case), so a
 * caller can tell it from a name or a path before parsing. */
bool magnet_is_uri(const char *s);
/* Parses uri[0..len). On success fills *m (free with magnet_free) and
 * returns true; otherwise returns false, leaves nothing to free and says
 * why in err. */
bool magnet_parse(const char *uri, size_t len, struct magnet *m, struct magnet_error *err);
void magnet_free(struct magnet *m);

/* Appends "magnet:?xt=urn:btih:<hex>[&dn=<name>][&tr=<url>]...[&x.pe=<peer>]..."
 * (name may be NULL or empty; every value percent-encoded). */
void magnet_build(struct sta_buf *out, const uint8_t info_hash[20], const char *name,
                  const char *const *trackers, size_t n_trackers,
                  const struct magnet_peer *peers, size_t n_peers);

#endif
