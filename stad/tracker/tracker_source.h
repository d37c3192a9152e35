/* The tracker announcer as a torrent's peer source (peer_source.h): each
 * torrent subscribes its tiers (or the configured tracker) to the
 * announcer, takes the peers of each good announce as its candidates, and,
 * when it is ours to share, publishes its .torrent to the catalog after
 * the first good announce. Loop thread only.
 */
#ifndef STAD_TRACKER_SOURCE_H
#define STAD_TRACKER_SOURCE_H

struct torrent;

/* Subscribes t, or announces now when it is subscribed (START). */
void tracker_source_start(struct torrent *t);
/* The download completed: the completed announce, once. */
void tracker_source_completed(struct torrent *t);
/* Unsubscribes with a stopped announce; cancels a publish. */
void tracker_source_stop(struct torrent *t);
/* The session closes: announcer_stop_all sends the stopped announces. */
void tracker_source_close(struct torrent *t);

#endif
