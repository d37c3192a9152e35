/* BEP 9 metadata exchange over BEP 10: stad serves the info dict of every
 * non-private torrent it has, and a torrent added by magnet link fetches
 * its own from peers.
 *
 * Fetching takes the info dict from one peer at a time (its
 * metadata_size, 16 KiB pieces, a few requests in flight), so that a dict
 * whose SHA-1 is not the info-hash has exactly one author: that peer is
 * banned and the next one tried. Sizes over UTM_MAX_SIZE are refused
 * before anything is allocated. The hash check, the .torrent and saving it
 * run on a worker; the torrent then becomes an ordinary one
 * (magnet_torrent_promote). Loop thread only.
 */
#ifndef STAD_METADATA_H
#define STAD_METADATA_H

#include <stddef.h>
#include <stdint.h>

struct peer;
struct pw_ext_hs;
struct torrent;

#define METADATA_EXT_ID 1          /* our id for ut_metadata in "m" */
#define METADATA_IN_FLIGHT 4       /* requests to the source at once */
#define METADATA_TIMEOUT_S 20      /* no piece for this long: try another peer */

struct metadata_fetch;

/* A new torrent without its info dict (a magnet link's) starts fetching it. */
void metadata_torrent_new(struct torrent *t);
/* Frees what t keeps while fetching (its info dict is in, or t is freed). */
void metadata_torrent_free(struct torrent *t);

/* Our handshake's ut_metadata entry and metadata_size, for t. */
void metadata_ext_handshake(const struct torrent *t, struct pw_ext_hs *hs);
/* Its handshake arrived. May close p (a size no torrent may have). */
void metadata_on_ext_handshake(struct peer *p, const struct pw_ext_hs *hs);
/* A ut_metadata message (the payload after our ext id). May close p. */
void metadata_on_message(struct peer *p, const uint8_t *data, size_t len);
/* p leaves a torrent that fetches its metadata. */
void metadata_peer_gone(struct peer *p);
/* Once a second while fetching: timeouts, a new source, requests. */
void metadata_tick(struct torrent *t);
/* For STATUS: pieces of the info dict in and their count (0 unknown). */
void metadata_progress(const struct torrent *t, uint32_t *have, uint32_t *total);

#endif
