/* Super-seeding a torrent (BEP 16; the policy is swarm/superseed.h): while
 * it is on, the torrent shows every peer an empty bitfield and tells each
 * one of the pieces it should fetch next with HAVE messages, so that the
 * swarm gets each piece from us once before any piece twice.
 *
 * stad.conf's super_seed says when: "auto" (the default) for a torrent we
 * created from the share directory, "on" for every torrent we seed, "off"
 * never; in each case only while we are the only seed. It ends for good
 * when another seed shows up (a peer with every piece, or the tracker
 * counts one): every peer is then told what it was not told yet.
 *
 * The peer code calls these hooks where it learns what a peer has; each is
 * a no-op for a torrent that is not super-seeding. Loop thread only.
 */
#ifndef STAD_TORRENT_SUPERSEED_H
#define STAD_TORRENT_SUPERSEED_H

#include <stdbool.h>
#include <stdint.h>

struct peer;
struct torrent;

/* The torrent settled into seeding: starts super-seeding if the config
 * wants it for this torrent. */
void torrent_superseed_start(struct torrent *t);
/* Ends it (another seed, pause, removal), telling every peer the rest. */
void torrent_superseed_stop(struct torrent *t, const char *why);

/* Instead of the bitfield after the handshake: HAVE NONE (Fast peers) and
 * the first offers. False when the torrent is not super-seeding. */
bool torrent_superseed_intro(struct peer *p);
/* p announced piece (a new bit in p->has). */
void torrent_superseed_have(struct peer *p, uint32_t piece);
/* length bytes of piece went into p's output: once all of an offered
 * piece did, p counts as having it. */
void torrent_superseed_sent(struct peer *p, uint32_t piece, uint32_t length);
/* p's whole bitfield was counted (add) or is about to be dropped. */
void torrent_superseed_bits(struct peer *p, bool add);
/* p leaves: its offers end. */
void torrent_superseed_gone(struct peer *p);
/* Once a second: patience runs out for old offers, credits follow rates. */
void torrent_superseed_tick(struct torrent *t);
/* The tracker counts this many seeders (us included). */
void torrent_superseed_seeders(struct torrent *t, uint32_t seeders);

#endif
