/* ut_pex (BEP 11): peer exchange, the extension message in which connected
 * peers tell each other whom they connected to and dropped since the last
 * message. Payload: a bencoded dict of compact address strings,
 *
 *   added, added.f, dropped       IPv4: 6 bytes a peer, one flags byte a peer
 *   added6, added6.f, dropped6    IPv6: 18 bytes a peer
 *
 * Pure and allocation-free: the parsed lists point into the caller's
 * payload; ut_pex_entry reads one entry out. Lists are bounded
 * (UT_PEX_MAX_LIST); whether a claimed address is worth dialling is the
 * caller's policy.
 */
#ifndef STA_UT_PEX_H
#define STA_UT_PEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "tracker_proto.h"

#define UT_PEX_NAME "ut_pex"
/* Entries per list accepted. BEP 11 asks senders for at most 50 added and
 * 50 dropped; libtorrent and Transmission keep to that. A longer list is
 * a flood and fails the whole message. */
#define UT_PEX_MAX_LIST 100u
/* Sent at most this often to one peer (BEP 11: once a minute). */
#define UT_PEX_INTERVAL_S 60

/* added.f bits (BEP 11). */
#define UT_PEX_F_ENCRYPT 0x01   /* prefers encryption */
#define UT_PEX_F_SEED 0x02      /* seed or upload only */
#define UT_PEX_F_UTP 0x04
#define UT_PEX_F_HOLEPUNCH 0x08
#define UT_PEX_F_REACHABLE 0x10 /* we connected to it: it accepts connections */

enum ut_pex_err {
	UT_PEX_ERR_NONE = 0,
	UT_PEX_ERR_DICT,        /* not a bencoded dict */
	UT_PEX_ERR_TYPE,        /* a list that is not a byte string */
	UT_PEX_ERR_LENGTH,      /* a list not a whole number of entries */
	UT_PEX_ERR_TOO_MANY,    /* a list over UT_PEX_MAX_LIST entries */
};

struct ut_pex_list {
	int family;             /* AF_INET or AF_INET6 */
	const uint8_t *addrs;   /* n compact entries, into the payload */
	const uint8_t *flags;   /* n bytes, or NULL (absent, or the wrong length) */
	size_t n;
};

struct ut_pex {
	struct ut_pex_list added, dropped, added6, dropped6;
};

/* Parses a ut_pex payload (the extended message after its ext id). Keys
 * other than the six are ignored; absent lists are empty. */
bool ut_pex_parse(const uint8_t *payload, size_t len, struct ut_pex *out, enum ut_pex_err *err);
const char *ut_pex_strerror(enum ut_pex_err e);
/* Entry i of a list (i < l->n) into *out; *flags is 0 when the list has
 * none. False for port 0, which no peer listens on. */
bool ut_pex_entry(const struct ut_pex_list *l, size_t i, struct tracker_peer *out,
                  uint8_t *flags);

/* One peer to tell about. */
struct ut_pex_peer {
	struct tracker_peer addr;
	uint8_t flags;
};

/* Appends a whole extended message (length prefix, id 20, the peer's ext
 * id) with the added and dropped peers of both families; at most
 * UT_PEX_MAX_LIST of each family and list are written. */
void ut_pex_put(struct sta_buf *out, uint8_t ext_id, const struct ut_pex_peer *added,
                size_t n_added, const struct ut_pex_peer *dropped, size_t n_dropped);

#endif
