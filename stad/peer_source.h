/* The peer-source hook of the torrent. Whatever finds peers for a torrent
 * (the tracker announcer, the DHT, LSD, PEX, a magnet link's x.pe) hands
 * them in the same way, with torrent_add_candidates. A source that works
 * per torrent is listed in peer_sources and told when the torrent starts
 * taking peers (or wants more now: START), completes, stops (paused, in
 * error, removed: it says goodbye where its protocol has one) and is
 * closed with the session (which sends its own round of goodbyes).
 * Sources that listen for all torrents at once (LSD) or ride on peer
 * connections (PEX) need no entry. Loop thread only.
 */
#ifndef STAD_PEER_SOURCE_H
#define STAD_PEER_SOURCE_H

#include <stdbool.h>

struct torrent;

struct peer_source {
	bool public_only;         /* BEP 27: never for a private torrent */
	void (*start)(struct torrent *t);
	void (*completed)(struct torrent *t);
	void (*stop)(struct torrent *t);
	void (*close)(struct torrent *t);
};

/* Every per-torrent source, then NULL (stad/sources.c). */
extern const struct peer_source *const peer_sources[];

#endif
