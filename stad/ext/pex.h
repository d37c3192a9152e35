/* BEP 11 peer exchange over BEP 10. Each peer that speaks ut_pex hears, at
 * most once a minute, which peers of the torrent we are connected to and
 * which we lost since its last message (the listen addresses we know:
 * where we dialled, or an incoming peer's address with the port its
 * handshake gave). What peers tell us goes through a sanity check and
 * becomes candidates through the torrent's peer-source entry.
 *
 * Bounds: at most PEX_MAX_ADDED added and dropped a message, each way;
 * PEX_MAX_FROM_PEER candidates from one connection; messages that come
 * sooner than PEX_MIN_GAP_S after the last are ignored, and a peer that
 * keeps doing it is dropped. Never for private torrents (BEP 27), nor
 * when 'pex' is off in stad.conf. Loop thread only.
 */
#ifndef STAD_PEX_H
#define STAD_PEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct peer;
struct pw_ext_hs;
struct torrent;
struct tracker_peer;

#define PEX_EXT_ID 2             /* our id for ut_pex in "m" */
#define PEX_MAX_ADDED 50         /* per list and message, both ways (BEP 11) */
#define PEX_MAX_TOLD 200         /* peers one connection is told about */
#define PEX_MAX_FROM_PEER 200    /* candidates taken from one connection */
#define PEX_FIRST_S 3            /* the first message, after the handshake */
#define PEX_MIN_GAP_S 45         /* its messages closer than this are ignored... */
#define PEX_MAX_EARLY 3          /* ...and more of them than this drop it */

/* Our handshake's ut_pex entry, unless t is private or PEX is off. */
void pex_ext_handshake(const struct torrent *t, struct pw_ext_hs *hs);
void pex_on_ext_handshake(struct peer *p, const struct pw_ext_hs *hs);
/* A ut_pex message (the payload after our ext id). May close p. */
void pex_on_message(struct peer *p, const uint8_t *data, size_t len);
/* Once a second: messages to the peers whose minute is up. */
void pex_tick(struct torrent *t);
void pex_peer_free(struct peer *p);

/* Whether an address a peer at from told us about is worth dialling: not
 * port 0, unspecified, multicast, broadcast, reserved, link-local or
 * v4-mapped, and loopback only when from is loopback too. */
bool pex_plausible(const struct tracker_peer *c, const struct sockaddr *from);

#endif
