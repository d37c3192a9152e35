/* Torrents added by magnet link (BEP 9). Such a torrent starts with only
 * the info-hash, a name and the link's trackers: it announces, dials the
 * link's x.pe peers and fetches its info dict (metadata.c). The link is
 * kept as state_dir/magnets/<hex>.magnet until the .torrent is saved, so
 * a restart goes on fetching, and once it is saved never fetches again.
 *
 * Peers that connect meanwhile may say what they have before the piece
 * count is known; that is held here per peer (bounded by the bitfield of
 * the largest info dict accepted) and replayed once it is. Loop thread
 * only.
 */
#ifndef STAD_MAGNET_TORRENT_H
#define STAD_MAGNET_TORRENT_H

#include <stdbool.h>
#include <stddef.h>

struct magnet;
struct metainfo;
struct peer;
struct pw_msg;
struct session;
struct torrent;

/* Adds the torrent m names, to download into download_dir once its info
 * dict is in. NULL with a sentence in err when it cannot be added;
 * *existing is set when stad knows it already (the link's x.pe peers are
 * handed to it then). */
struct torrent *magnet_torrent_add(struct session *s, const struct magnet *m,
                                   struct torrent **existing, char *err, size_t errlen);
/* At start, after the saved torrents: the links whose metadata never came. */
void magnet_torrent_load(struct session *s);
/* Its info dict is in and saved as a .torrent (metadata.c): t becomes an
 * ordinary torrent (mi moved in) and starts checking its files. */
void magnet_torrent_promote(struct torrent *t, struct metainfo *mi);

/* For peer_dispatch, while p's torrent has no metadata: holds what needs
 * the piece count (bitfield, have, have all/none) and drops what has no
 * use yet (requests, interest). false: not such a message, handle it as
 * usual. May close p. */
bool magnet_early_msg(struct peer *p, const struct pw_msg *m);
void magnet_early_free(struct peer *p);

#endif
