/* One torrent: its files, picker, peers, the pieces being assembled and
 * verified, resume data and announces. States: checking (opening files and
 * re-checking pieces on a worker), downloading, seeding, paused, error.
 *
 * Jobs on workers hold a pointer to the torrent and bump t->jobs; a
 * removed torrent is unlinked at once (lookups fail) and freed by the last
 * job's done(), so a worker never sees freed storage. Loop thread only.
 */
#ifndef STAD_TORRENT_H
#define STAD_TORRENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "buf.h"
#include "metainfo.h"
#include "piece_pool.h"
#include "resume.h"
#include "context.h"
#include "tracker_proto.h"

#define TORRENT_PIECE_BUCKETS 1024u
#define TORRENT_MAX_CANDIDATES 500u
/* Hash failures that get a peer banned: involved in this many... */
#define TORRENT_BAN_FAILS 3
/* ...or the only sender of this many. */
#define TORRENT_BAN_SOLE_FAILS 2
#define TORRENT_RESUME_EVERY 5          /* seconds between resume saves */

enum torrent_state {
	TS_METADATA,                    /* added by magnet link: fetching its info dict */
	TS_CHECKING,
	TS_DOWNLOADING,
	TS_SEEDING,
	TS_PAUSED,
	TS_ERROR,
};

struct announce_sub;
struct dht_sub;
struct superseed;
struct catalog_client_call;
struct ctl_torrent;
struct metadata_fetch;

struct torrent {
	TAILQ_ENTRY(torrent) link;
	struct session *s;
	uint32_t id;
	struct metainfo mi;
	char hex[41];
	char *data_dir;
	bool shared;                    /* ours to seed and publish */
	enum torrent_state state;
	bool paused;
	bool dead;                      /* removed: freed when jobs reaches 0 */
	bool delete_data;               /* on free */
	char error[256];
	struct storage *st;
	struct picker *picker;
	struct peer_list peers;
	unsigned n_peers;
	unsigned jobs;                  /* worker jobs holding this torrent */
	struct piece_buf *pieces[TORRENT_PIECE_BUCKETS]; /* being assembled/verified */
	struct announce_sub *sub;
	struct dht_sub *dht_sub;        /* dht_source.h; NULL when not in the DHT */
	struct catalog_client_call *publish;
	bool published;
	bool announced_ok;
	bool completed_sent;
	bool resume_dirty;
	bool resume_saving;
	uint64_t last_resume;
	int64_t added;
	uint64_t uploaded, downloaded;  /* payload, over the torrent's life */
	uint64_t wasted;                /* blocks received and dropped (end-game
	                                   duplicates, late or unasked), since start */
	uint64_t up_prev, down_prev;    /* at the last tick */
	uint64_t rate_down, rate_up;
	uint64_t started_ms;            /* files opened, for the completion log */
	uint64_t downloaded_at_start;
	/* At completion, for the last progress event: the average download
	 * rate and the peers that sent blocks (they are gone by then). */
	uint64_t done_rate;
	uint32_t done_peers;
	uint64_t choker_round;
	struct superseed *ss;           /* super-seeding (BEP 16), or NULL */
	int64_t tracker_seeders;        /* in the last good announce; -1 before */
	struct tracker_peer *cand;      /* from peer sources, not yet connected */
	size_t n_cand;
	/* Until a magnet link's info dict is in (metadata.c): mi holds only
	 * the info-hash, a name and trackers, and there is no picker. */
	struct metadata_fetch *meta;
};

static inline bool torrent_has_metadata(const struct torrent *t)
{
	return t->meta == NULL;
}

/* Adds a torrent: mi is moved into it (zeroed here). rd may be NULL (new
 * torrent); data_dir holds its files. Saves the .torrent under state_dir
 * unless it came from there. Returns NULL with a sentence in err if the
 * torrent is already known (*existing set) or cannot be added. */
struct torrent *torrent_add(struct session *s, struct metainfo *mi, const char *data_dir,
                            const struct resume_data *rd, bool shared, bool save,
                            struct torrent **existing, char *err, size_t errlen);
/* The torrent of the session with this info-hash; NULL when unknown. */
struct torrent *torrent_find(struct session *s, const uint8_t info_hash[20]);
/* Creates a torrent in state checking (see torrent_add). A mi
 * without pieces (a magnet link's: info-hash, name, trackers) makes one in
 * state metadata, which fetches its info dict from peers first. */
struct torrent *torrent_new(struct session *s, struct metainfo *mi, const char *data_dir,
                            const struct resume_data *rd, bool shared);
/* The info dict of a magnet torrent is in: mi (moved in, zeroed here)
 * replaces the placeholder and the torrent has pieces and a picker; the
 * caller starts it. */
void torrent_take_metainfo(struct torrent *t, struct metainfo *mi);
/* A source of peers (tracker, PEX, magnet x.pe) hands in candidates; the
 * new ones are dialled while the torrent wants peers (at most
 * TORRENT_MAX_CANDIDATES wait). Returns how many were new. */
size_t torrent_add_candidates(struct torrent *t, const struct tracker_peer *c, size_t n);
/* Dials candidates while there is room (downloads only: seeds wait for
 * leechers to come to them). */
void torrent_connect_candidates(struct torrent *t);
/* Puts it in state error with a sentence that says why. */
void torrent_set_error(struct torrent *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens the files (and re-checks pieces) on a worker, then announces. */
void torrent_start(struct torrent *t);
/* Unlinks it from the session, closes peers, stops announcing; frees it
 * now or when its last job ends. Deletes its state files, and its data
 * when delete_data. */
void torrent_remove(struct torrent *t, bool delete_data);
/* Frees a torrent whose jobs are done (shutdown: after workpool drain). */
void torrent_free(struct torrent *t);
void torrent_pause(struct torrent *t);
void torrent_resume(struct torrent *t);
/* Sends a stopped announce, leaves peers; the torrent stays known. */
void torrent_close(struct torrent *t);
/* Announces now (START); false when paused or in error. */
bool torrent_announce(struct torrent *t);

/* One second passed: rates, timeouts, keep-alives, choking, new peers,
 * resume saving. */
void torrent_tick(struct torrent *t);
/* Saves resume data now if it changed (shutdown). */
void torrent_flush_resume(struct torrent *t);

const char *torrent_state_name(const struct torrent *t);
uint64_t torrent_bytes_done(const struct torrent *t);
bool torrent_is_complete(const struct torrent *t);
/* Whether it takes peers now (files open, not paused, room left). */
bool torrent_wants_peers(const struct torrent *t);
/* Seconds to completion at the current rate; -1 unknown, 0 complete. */
int64_t torrent_eta(const struct torrent *t);
/* Connected peers that have every piece. */
unsigned torrent_seeds(const struct torrent *t);
/* Fills *out with its STATUS entry, with its peers when peers. Strings
 * point into t and its peers, except the path and the peers' flags, which
 * are heap like the peer list: free with torrent_status_free. */
void torrent_status(const struct torrent *t, bool peers, struct ctl_torrent *out);
void torrent_status_free(struct ctl_torrent *c);

/* Peers: attach after the handshake named this torrent; detach on close. */
void torrent_attach_peer(struct torrent *t, struct peer *p);
void torrent_detach_peer(struct torrent *t, struct peer *p);
/* The connected peer with this tag, or NULL. */
struct peer *torrent_find_peer(struct torrent *t, uint32_t tag);
/* A peer's interest changed, or one with an upload slot left: free slots
 * go at once to the best of the peers waiting (choker_refill). */
void torrent_slots_changed(struct torrent *t);

/* Download path (peer_request.c). */
struct piece_buf *torrent_piece_buf(struct torrent *t, uint32_t piece);
/* A buffer for piece (found or newly taken from the pool); NULL when the
 * cache budget is spent. */
struct piece_buf *torrent_piece_buf_get(struct torrent *t, uint32_t piece);
/* All blocks of pb are in: hash and write it on a worker. */
void torrent_piece_complete(struct torrent *t, struct piece_buf *pb);

#endif
