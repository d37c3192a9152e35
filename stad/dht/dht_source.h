/* The DHT as a source of peers for torrents: every torrent that is not
 * private (BEP 27) subscribes its info-hash to the DHT room (dht.h), which
 * looks it up and announces it with our TCP port; the peers found become
 * the torrent's candidates. While a torrent downloads (or fetches a
 * magnet link's metadata) and the last lookup found nobody, lookups come
 * sooner. The torrent calls these where it starts and stops announcing;
 * they are the DHT's side of the peer-source hook. Loop thread only. */
#ifndef STAD_DHT_SOURCE_H
#define STAD_DHT_SOURCE_H

struct torrent;

/* Subscribes (or asks for a lookup now); no-op when the DHT is off or the
 * torrent is private. */
void dht_source_start(struct torrent *t);
/* Unsubscribes: paused, in error, removed, closed. */
void dht_source_stop(struct torrent *t);
/* The download completed: lookups at the normal pace, announces go on. */
void dht_source_completed(struct torrent *t);

#endif
