/* One torrent: states, piece buffers and verification, resume data,
 * announces, choking. */
#include "torrent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "announcer.h"
#include "dht.h"
#include "bencode.h"
#include "choker.h"
#include "ctl_msg.h"
#include "fileio.h"
#include "hex.h"
#include "log.h"
#include "peer.h"
#include "peer_ext.h"
#include "peer_request.h"
#include "peer_source.h"
#include "picker.h"
#include "sconfig.h"
#include "storage.h"
#include "superseed.h"
#include "torrent_superseed.h"
#include "workpool.h"
#include "xmalloc.h"

/* ---- creation ---- */

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void new_picker(struct torrent *t)
{
	t->picker = picker_new(t->mi.n_pieces, t->mi.piece_length, t->mi.total_length,
	                       ((uint64_t)arc4random() << 32) | arc4random());
}

struct torrent *torrent_find(struct session *s, const uint8_t info_hash[20])
{
	struct torrent *t;

	TAILQ_FOREACH(t, &s->torrents, link)
		if (memcmp(t->mi.info_hash, info_hash, 20) == 0)
			return t;
	return NULL;
}

struct torrent *torrent_new(struct session *s, struct metainfo *mi, const char *data_dir,
                            const struct resume_data *rd, bool shared)
{
	struct torrent *t = xcalloc(1, sizeof *t);

	t->s = s;
	t->id = ++s->next_id;
	t->mi = *mi;
	memset(mi, 0, sizeof *mi);
	hex_encode(t->mi.info_hash, SHA1_LEN, t->hex);
	t->data_dir = xstrdup(data_dir);
	t->shared = shared;
	t->state = TS_CHECKING;
	t->tracker_seeders = -1;
	TAILQ_INIT(&t->peers);
	if (t->mi.n_pieces == 0) {
		t->state = TS_METADATA; /* its extension fetches the info dict */
	} else {
		new_picker(t);
	}
	t->added = time(NULL);
	if (rd) {
		for (uint32_t i = bitfield_next_set(&rd->have, 0); i < rd->have.nbits;
		     i = bitfield_next_set(&rd->have, i + 1))
			picker_set_have(t->picker, i);
		t->uploaded = rd->uploaded;
		t->downloaded = rd->downloaded;
		t->added = rd->added;
		t->paused = rd->paused;
	} else {
		t->resume_dirty = true;
	}
	t->up_prev = t->uploaded;
	t->down_prev = t->downloaded;
	PEER_EXTS_CALL(torrent_new, t);
	return t;
}

struct torrent *torrent_add(struct session *s, struct metainfo *mi, const char *data_dir,
                            const struct resume_data *rd, bool shared, bool save,
                            struct torrent **existing, char *err, size_t errlen)
{
	struct torrent *t = torrent_find(s, mi->info_hash);

	if (existing)
		*existing = t;
	if (t) {
		snprintf(err, errlen, "already known as \"%.100s\" (%s)", t->mi.name, t->hex);
		return NULL;
	}
	if (save) {
		char hex[41];
		hex_encode(mi->info_hash, 20, hex);
		char *path = session_state_path(s, "torrents", hex, ".torrent");
		bool ok = file_write_atomic(path, mi->raw, mi->raw_len, 0640);
		if (!ok)
			log_err("cannot write %s: %s", path, strerror(errno));
		free(path);
		if (!ok) {
			snprintf(err, errlen, "cannot save the torrent under %s", s->cfg->state_dir);
			return NULL;
		}
	}
	t = torrent_new(s, mi, data_dir, rd, shared);
	TAILQ_INSERT_TAIL(&s->torrents, t, link);
	s->n_torrents++;
	return t;
}

void torrent_take_metainfo(struct torrent *t, struct metainfo *mi)
{
	metainfo_free(&t->mi);
	t->mi = *mi;
	memset(mi, 0, sizeof *mi);
	new_picker(t);
	t->state = TS_CHECKING;
	t->resume_dirty = true;
	for (const struct peer_source *const *src = peer_sources; *src; src++)
		if (t->mi.is_private && (*src)->public_only)
			(*src)->stop(t); /* BEP 27 */
}

/* ---- opening and re-checking (worker) ---- */

struct open_job {
	struct work_item item;
	struct torrent *t;
	struct storage *st;
	struct bitfield known;          /* trusted from resume data */
	struct bitfield found;          /* re-checked good on disk */
	bool direct_io;                 /* the config's, when submitted */
	char err[256];
};

static bool piece_on_disk(struct open_job *j, uint32_t piece)
{
	uint8_t digest[SHA1_LEN];
	int has = storage_piece_has_data(j->st, piece, NULL, 0);

	if (has <= 0)
		return false;
	if (storage_hash_piece(j->st, piece, digest, NULL, 0) < 0)
		return false;
	return memcmp(digest, j->t->mi.pieces + (size_t)piece * SHA1_LEN, SHA1_LEN) == 0;
}

static void open_work(struct work_item *item)
{
	struct open_job *j = container_of(item, struct open_job, item);
	const struct metainfo *mi = &j->t->mi;

	item->status = storage_open(mi, j->t->data_dir, &j->st, j->err, sizeof j->err);
	if (item->status < 0)
		return;
	storage_set_direct(j->st, j->direct_io);
	if (!storage_had_data(j->st) || bitfield_all(&j->known))
		return;
	/* Only verified pieces are ever written, so a piece whose bytes hash
	 * right is good even if resume data missed it (crash before a save). */
	for (uint32_t i = bitfield_next_clear(&j->known, 0); i < mi->n_pieces;
	     i = bitfield_next_clear(&j->known, i + 1))
		if (piece_on_disk(j, i))
			bitfield_set(&j->found, i);
}

static void torrent_settle_state(struct torrent *t)
{
	if (t->paused)
		t->state = TS_PAUSED;
	else if (t->meta)
		t->state = TS_METADATA;
	else
		t->state = picker_is_complete(t->picker) ? TS_SEEDING : TS_DOWNLOADING;
	torrent_superseed_start(t);
}

static void open_done(struct work_item *item)
{
	struct open_job *j = container_of(item, struct open_job, item);
	struct torrent *t = j->t;

	t->jobs--;
	if (t->dead) {
		storage_close(j->st);
	} else if (item->status < 0) {
		torrent_set_error(t, "%s", j->err);
	} else {
		t->st = j->st;
		uint32_t n = bitfield_count(&j->found);
		for (uint32_t i = bitfield_next_set(&j->found, 0); i < j->found.nbits;
		     i = bitfield_next_set(&j->found, i + 1))
			picker_set_have(t->picker, i);
		if (n) {
			log_info("%s: %u more pieces found good on disk", t->hex, n);
			t->resume_dirty = true;
		}
		torrent_settle_state(t);
		t->started_ms = monotonic_ms();
		t->downloaded_at_start = t->downloaded;
		log_info("%s: \"%s\" %s, %u/%u pieces", t->hex, t->mi.name, torrent_state_name(t),
		         picker_have_count(t->picker), t->mi.n_pieces);
		if (!t->s->closed && !t->paused)
			torrent_announce(t);
		/* Peers that came while it fetched its metadata. */
		struct peer *p;
		TAILQ_FOREACH(p, &t->peers, link)
			if (p->hs_done)
				peer_update_interest(p);
	}
	bitfield_free(&j->known);
	bitfield_free(&j->found);
	free(j);
	if (t->dead && t->jobs == 0)
		torrent_free(t);
}

static void copy_bits(struct bitfield *dst, const struct bitfield *src)
{
	size_t n = bitfield_wire_len(src->nbits);
	uint8_t *tmp = xmalloc(n ? n : 1);

	bitfield_init(dst, src->nbits);
	bitfield_export(src, tmp);
	bitfield_import(dst, tmp, n);
	free(tmp);
}

void torrent_start(struct torrent *t)
{
	struct open_job *j = xcalloc(1, sizeof *j);

	t->state = TS_CHECKING;
	j->item.work = open_work;
	j->item.done = open_done;
	j->t = t;
	j->direct_io = t->s->cfg->direct_io;
	copy_bits(&j->known, picker_have(t->picker));
	bitfield_init(&j->found, t->mi.n_pieces);
	t->jobs++;
	workpool_submit(t->s->wp, &j->item);
}

/* ---- peers ---- */

void torrent_attach_peer(struct torrent *t, struct peer *p)
{
	p->t = t;
	bitfield_init(&p->has, t->mi.n_pieces);
	TAILQ_INSERT_TAIL(&t->peers, p, link);
	t->n_peers++;
}

void torrent_detach_peer(struct torrent *t, struct peer *p)
{
	bool had_slot = !p->am_choking && p->peer_interested;

	if (torrent_has_metadata(t)) {
		peer_request_release(p);
		peer_forget_has(p);
		torrent_superseed_gone(p);
	}
	PEER_EXTS_CALL(peer_gone, p);
	p->n_upq = 0;
	TAILQ_REMOVE(&t->peers, p, link);
	t->n_peers--;
	if (had_slot && !t->dead)
		torrent_slots_changed(t);
}

struct peer *torrent_find_peer(struct torrent *t, uint32_t tag)
{
	struct peer *p;

	TAILQ_FOREACH(p, &t->peers, link)
		if (p->tag == tag)
			return p;
	return NULL;
}

static void close_peers(struct torrent *t, const char *why)
{
	while (!TAILQ_EMPTY(&t->peers))
		peer_close(TAILQ_FIRST(&t->peers), why);
}

bool torrent_wants_peers(const struct torrent *t)
{
	return !t->dead && !t->paused && !t->s->closed && (t->st || t->meta) &&
	       (t->state == TS_DOWNLOADING || t->state == TS_SEEDING || t->state == TS_METADATA) &&
	       t->n_peers < (unsigned)t->s->cfg->max_peers_per_torrent;
}

static uint32_t choker_rand(void *ctx, uint32_t bound)
{
	return arc4random_uniform(bound);
}

/* The choker's records of t's peers (pp: the peers they stand for);
 * returns how many. The caller frees both arrays. */
static size_t choker_records(struct torrent *t, struct choker_peer **cp, struct peer ***pp)
{
	uint64_t now = session_now(t->s);
	struct peer *p;
	size_t n = 0;

	*cp = xcalloc(t->n_peers + 1, sizeof **cp);
	*pp = xcalloc(t->n_peers + 1, sizeof **pp);
	TAILQ_FOREACH(p, &t->peers, link) {
		if (!p->hs_done || p->dead)
			continue;
		(*cp)[n] = (struct choker_peer){
			.tag = p->tag, .rate_from_peer = p->rate_down, .rate_to_peer = p->rate_up,
			.interested = p->peer_interested, .is_seed = p->is_seed, .snubbed = p->snubbed,
			.is_new = now - p->connected_at < PEER_NEW_S, .unchoked = !p->am_choking,
			.optimistic = p->optimistic,
		};
		(*pp)[n++] = p;
	}
	return n;
}

static struct choker_params choker_params_of(struct torrent *t)
{
	uint32_t slots = (uint32_t)t->s->cfg->upload_slots;

	/* A super-seed rations its upload by the pieces it offers, so every
	 * peer that wants one of them is served: with slots, the peers left
	 * choked fell behind the others (ranked by our rate to them, a choked
	 * peer never wins a slot back). */
	if (t->ss && slots > 0)
		slots = UINT32_MAX;
	return (struct choker_params){
		.mode = picker_is_complete(t->picker) ? CHOKER_SEEDING : CHOKER_LEECHING,
		.upload_slots = slots,
		.round = t->choker_round,
		.rand = choker_rand,
	};
}

static void run_choker(struct torrent *t)
{
	struct choker_peer *cp;
	struct peer **pp;
	size_t n = choker_records(t, &cp, &pp);
	struct choker_params params = choker_params_of(t);

	t->choker_round++;
	choker_run(cp, n, &params);
	for (size_t i = 0; i < n; i++) {
		pp[i]->optimistic = cp[i].optimistic;
		peer_choke(pp[i], !cp[i].unchoked);
	}
	free(cp);
	free(pp);
}

void torrent_slots_changed(struct torrent *t)
{
	struct choker_peer *cp;
	struct peer **pp;

	if (!torrent_has_metadata(t))
		return; /* nothing to upload yet */
	size_t n = choker_records(t, &cp, &pp);
	struct choker_params params = choker_params_of(t);

	if (choker_refill(cp, n, &params) > 0)
		for (size_t i = 0; i < n; i++)
			if (cp[i].unchoked)
				peer_choke(pp[i], false);
	free(cp);
	free(pp);
}

/* ---- piece buffers and verification ---- */

static struct piece_buf **bucket(struct torrent *t, uint32_t piece)
{
	return &t->pieces[piece & (TORRENT_PIECE_BUCKETS - 1)];
}

struct piece_buf *torrent_piece_buf(struct torrent *t, uint32_t piece)
{
	for (struct piece_buf *pb = *bucket(t, piece); pb; pb = pb->next)
		if (pb->piece == piece)
			return pb;
	return NULL;
}

struct piece_buf *torrent_piece_buf_get(struct torrent *t, uint32_t piece)
{
	struct piece_buf *pb = torrent_piece_buf(t, piece);

	if (pb)
		return pb;
	pb = piece_pool_get(&t->s->pool, metainfo_piece_size(&t->mi, piece));
	if (pb == NULL)
		return NULL;
	pb->t = t;
	pb->piece = piece;
	pb->next = *bucket(t, piece);
	*bucket(t, piece) = pb;
	return pb;
}

static void piece_buf_release(struct torrent *t, struct piece_buf *pb)
{
	for (struct piece_buf **pp = bucket(t, pb->piece); *pp; pp = &(*pp)->next) {
		if (*pp == pb) {
			*pp = pb->next;
			break;
		}
	}
	piece_pool_put(&t->s->pool, pb);
}

static void verify_work(struct work_item *item)
{
	struct piece_buf *pb = container_of(item, struct piece_buf, item);

	pb->result = storage_write_verified(pb->t->st, pb->piece, pb->data, pb->err,
	                                    sizeof pb->err);
}

static void completed(struct torrent *t)
{
	struct peer *p, *next;
	uint64_t ms = monotonic_ms() - t->started_ms;

	t->state = TS_SEEDING;
	t->done_rate = ms ? (t->downloaded - t->downloaded_at_start) * 1000 / ms : 0;
	t->done_peers = 0;
	TAILQ_FOREACH(p, &t->peers, link)
		t->done_peers += p->blocks_down > 0;
	log_info("%s: \"%s\" complete (%llu bytes in %.2f s, %.1f MB/s from %u peers), seeding",
	         t->hex, t->mi.name, (unsigned long long)t->mi.total_length, (double)ms / 1000,
	         (double)t->done_rate / 1e6, t->done_peers);
	for (p = TAILQ_FIRST(&t->peers); p; p = next) {
		next = TAILQ_NEXT(p, link);
		if (p->is_seed)
			peer_close(p, "both seeds");
	}
	for (const struct peer_source *const *src = peer_sources; *src; src++)
		(*src)->completed(t);
	t->completed_sent = true;
	torrent_flush_resume(t);
	session_torrent_event(t->s, t->mi.info_hash);
}

static void piece_passed(struct torrent *t, uint32_t piece)
{
	struct peer *p;

	picker_piece_passed(t->picker, piece);
	t->resume_dirty = true;
	/* Peers that have the piece hear of it too (only seeds do not): a
	 * super-seed learns that way that an offered piece came from
	 * another peer, and that we are complete. */
	TAILQ_FOREACH(p, &t->peers, link)
		if (p->hs_done && !p->is_seed)
			peer_send_have(p, piece);
	if (picker_is_complete(t->picker))
		completed(t);
	TAILQ_FOREACH(p, &t->peers, link)
		if (p->hs_done)
			peer_update_interest(p);
}

/* Blames the senders of a bad piece; bans repeat offenders. */
static void blame(struct torrent *t, const struct piece_buf *pb)
{
	bool sole = pb->n_contrib == 1 && !pb->many_contrib;

	for (uint8_t i = 0; i < pb->n_contrib; i++) {
		struct peer *p = torrent_find_peer(t, pb->contrib[i]);
		if (p == NULL)
			continue;
		p->hash_fails++;
		p->sole_fails += sole;
		if (p->hash_fails >= TORRENT_BAN_FAILS || p->sole_fails >= TORRENT_BAN_SOLE_FAILS) {
			log_warn("%s: banning %s (%s): %u bad pieces", t->hex, p->addr_str, p->client,
			         p->hash_fails);
			session_ban(t->s, (const struct sockaddr *)&p->addr);
			peer_close(p, "banned");
		}
	}
}

static void piece_failed(struct torrent *t, struct piece_buf *pb)
{
	uint32_t sender = picker_piece_sender(t->picker, pb->piece);

	log_info("%s: piece %u failed its hash check (%u senders)", t->hex, pb->piece,
	         pb->n_contrib);
	picker_piece_failed(t->picker, pb->piece, sender);
	blame(t, pb);
}

static void refill_peers(struct torrent *t)
{
	struct peer *p;

	TAILQ_FOREACH(p, &t->peers, link)
		peer_request_fill(p);
}

static void verify_done(struct work_item *item)
{
	struct piece_buf *pb = container_of(item, struct piece_buf, item);
	struct torrent *t = pb->t;

	t->jobs--;
	if (!t->dead) {
		if (pb->result == 1) {
			piece_passed(t, pb->piece);
		} else if (pb->result == 0) {
			piece_failed(t, pb);
		} else {
			picker_piece_failed(t->picker, pb->piece, PICKER_NO_TAG);
			torrent_set_error(t, "cannot write piece %u: %s", pb->piece, pb->err);
		}
	}
	piece_buf_release(t, pb);
	if (t->dead && t->jobs == 0)
		torrent_free(t);
	else if (t->s->stopping)
		torrent_flush_resume(t);
	else if (!t->dead)
		refill_peers(t); /* the buffer freed may be what held requests back */
}

void torrent_piece_complete(struct torrent *t, struct piece_buf *pb)
{
	pb->verifying = true;
	pb->item.work = verify_work;
	pb->item.done = verify_done;
	t->jobs++;
	workpool_submit(t->s->wp, &pb->item);
}

/* ---- resume data ---- */

struct resume_job {
	struct work_item item;
	struct torrent *t;
	struct resume_data rd;
	char *path;
	char err[256];
};

static void resume_work(struct work_item *item)
{
	struct resume_job *j = container_of(item, struct resume_job, item);

	/* The pieces it lists must be on disk before the file says so. */
	if (j->t->st && storage_sync(j->t->st, j->err, sizeof j->err) < 0) {
		item->status = -1;
		return;
	}
	item->status = resume_save(j->path, &j->rd, j->err, sizeof j->err);
}

static void resume_done(struct work_item *item)
{
	struct resume_job *j = container_of(item, struct resume_job, item);
	struct torrent *t = j->t;

	t->jobs--;
	t->resume_saving = false;
	if (item->status < 0)
		log_err("%s: resume data not saved: %s", t->hex, j->err);
	resume_data_free(&j->rd);
	free(j->path);
	free(j);
	if (t->dead && t->jobs == 0)
		torrent_free(t);
	else if (!t->dead && t->s->stopping)
		torrent_flush_resume(t);
}

void torrent_flush_resume(struct torrent *t)
{
	if (!t->resume_dirty || t->resume_saving || t->dead || t->meta)
		return;
	struct resume_job *j = xcalloc(1, sizeof *j);
	j->item.work = resume_work;
	j->item.done = resume_done;
	j->t = t;
	memcpy(j->rd.info_hash, t->mi.info_hash, SHA1_LEN);
	copy_bits(&j->rd.have, picker_have(t->picker));
	j->rd.uploaded = t->uploaded;
	j->rd.downloaded = t->downloaded;
	j->rd.data_dir = xstrdup(t->data_dir);
	j->rd.added = t->added;
	j->rd.paused = t->paused;
	j->path = session_state_path(t->s, "resume", t->hex, ".resume");
	t->resume_dirty = false;
	t->resume_saving = true;
	t->last_resume = session_now(t->s);
	t->jobs++;
	workpool_submit(t->s->wp, &j->item);
}

/* ---- announces and publishing ---- */

/* Whether c is where p takes connections: the address we dialled, or an
 * incoming peer's address with the listen port its BEP 10 handshake gave. */
static bool same_addr(const struct peer *p, const struct tracker_peer *c)
{
	if (c->family == AF_INET && p->addr.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&p->addr;
		uint16_t port = p->outgoing ? ntohs(a->sin_port) : p->listen_port;
		return memcmp(&a->sin_addr, c->addr, 4) == 0 && port == c->port;
	}
	if (c->family == AF_INET6 && p->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&p->addr;
		uint16_t port = p->outgoing ? ntohs(a->sin6_port) : p->listen_port;
		return memcmp(&a->sin6_addr, c->addr, 16) == 0 && port == c->port;
	}
	return false;
}

static socklen_t cand_sockaddr(const struct tracker_peer *c, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (c->family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(c->port);
		memcpy(&a->sin6_addr, c->addr, 16);
		return sizeof *a;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons(c->port);
	memcpy(&a->sin_addr, c->addr, 4);
	return sizeof *a;
}

static bool connected_to(const struct torrent *t, const struct tracker_peer *c)
{
	const struct peer *p;

	TAILQ_FOREACH(p, &t->peers, link)
		if (same_addr(p, c))
			return true;
	return false;
}

static bool is_candidate(const struct torrent *t, const struct tracker_peer *c)
{
	for (size_t i = 0; i < t->n_cand; i++)
		if (t->cand[i].family == c->family && t->cand[i].port == c->port &&
		    memcmp(t->cand[i].addr, c->addr, sizeof c->addr) == 0)
			return true;
	return false;
}

size_t torrent_add_candidates(struct torrent *t, const struct tracker_peer *c, size_t n)
{
	size_t added = 0;

	for (size_t i = 0; i < n && t->n_cand < TORRENT_MAX_CANDIDATES; i++) {
		if (is_candidate(t, &c[i]) || connected_to(t, &c[i]))
			continue;
		t->cand = xreallocarray(t->cand, t->n_cand + 1, sizeof *t->cand);
		t->cand[t->n_cand++] = c[i];
		added++;
	}
	return added;
}

void torrent_connect_candidates(struct torrent *t)
{
	struct sockaddr_storage ss;

	while (t->n_cand > 0 && (t->state == TS_DOWNLOADING || t->state == TS_METADATA) &&
	       torrent_wants_peers(t) &&
	       session_peer_room(t->s)) {
		const struct tracker_peer *c = &t->cand[--t->n_cand];
		socklen_t len = cand_sockaddr(c, &ss);
		if (connected_to(t, c) || session_is_banned(t->s, (struct sockaddr *)&ss))
			continue;
		peer_connect(t, (struct sockaddr *)&ss, len);
	}
}

bool torrent_announce(struct torrent *t)
{
	if (t->dead || t->paused || (t->st == NULL && t->meta == NULL) || t->state == TS_ERROR)
		return false;
	for (const struct peer_source *const *src = peer_sources; *src; src++)
		(*src)->start(t);
	return true;
}

/* Every source stops (paused, in error, removed): they say goodbye. */
static void stop_announcing(struct torrent *t)
{
	for (const struct peer_source *const *src = peer_sources; *src; src++)
		(*src)->stop(t);
}

/* ---- state changes ---- */

void torrent_set_error(struct torrent *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->error, sizeof t->error, fmt, ap);
	va_end(ap);
	log_err("%s: \"%s\": %s", t->hex, t->mi.name, t->error);
	t->state = TS_ERROR;
	close_peers(t, "torrent error");
	stop_announcing(t);
	session_torrent_event(t->s, t->mi.info_hash);
}

void torrent_pause(struct torrent *t)
{
	if (t->paused)
		return;
	t->paused = true;
	if (t->state != TS_CHECKING && t->state != TS_ERROR)
		t->state = TS_PAUSED;
	close_peers(t, "torrent paused");
	stop_announcing(t);
	t->resume_dirty = true;
	torrent_flush_resume(t);
}

void torrent_resume(struct torrent *t)
{
	if (!t->paused)
		return;
	t->paused = false;
	t->resume_dirty = true;
	if (t->state == TS_PAUSED) {
		torrent_settle_state(t);
		if (!t->s->closed)
			torrent_announce(t);
	}
}

void torrent_close(struct torrent *t)
{
	close_peers(t, "closing");
	for (const struct peer_source *const *src = peer_sources; *src; src++)
		(*src)->close(t);
	t->n_cand = 0;
}

static void unlink_state(struct torrent *t)
{
	static const char *const kinds[][2] = {
		{ "torrents", ".torrent" }, { "resume", ".resume" }, { "shares", ".stamp" },
		{ "magnets", ".magnet" },
	};

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		char *path = session_state_path(t->s, kinds[i][0], t->hex, kinds[i][1]);
		if (unlink(path) < 0 && errno != ENOENT)
			log_warn("%s: %s", path, strerror(errno));
		free(path);
	}
}

/* Deletes the downloaded files and the directories they made. */
static void remove_data(struct torrent *t)
{
	char *top = metainfo_path_join(t->data_dir, t->mi.name, NULL);

	for (uint32_t i = 0; top && t->mi.multi_file && i < t->mi.n_files; i++) {
		char *path = metainfo_path_join(top, t->mi.files[i].path, NULL);
		if (path && unlink(path) < 0 && errno != ENOENT)
			log_warn("%s: %s", path, strerror(errno));
		for (char *slash; path && (slash = strrchr(path, '/')) && strlen(path) > strlen(top);) {
			*slash = '\0';
			if (rmdir(path) < 0)
				break;
		}
		free(path);
	}
	if (top && (t->mi.multi_file ? rmdir(top) : unlink(top)) < 0 && errno != ENOENT)
		log_warn("%s: %s", top, strerror(errno));
	free(top);
}

void torrent_remove(struct torrent *t, bool delete_data)
{
	struct session *s = t->s;

	log_info("%s: removing \"%s\"%s", t->hex, t->mi.name, delete_data ? " and its data" : "");
	close_peers(t, "torrent removed");
	stop_announcing(t);
	TAILQ_REMOVE(&s->torrents, t, link);
	s->n_torrents--;
	t->dead = true;
	t->delete_data = delete_data;
	if (t->jobs == 0)
		torrent_free(t);
}

void torrent_free(struct torrent *t)
{
	for (size_t i = 0; i < TORRENT_PIECE_BUCKETS; i++) {
		while (t->pieces[i]) {
			struct piece_buf *pb = t->pieces[i];
			t->pieces[i] = pb->next;
			piece_pool_put(&t->s->pool, pb);
		}
	}
	storage_close(t->st);
	if (t->dead) {
		unlink_state(t);
		if (t->delete_data && !t->meta) /* nothing of it is on disk yet */
			remove_data(t);
	}
	superseed_free(t->ss);
	picker_free(t->picker);
	PEER_EXTS_CALL(torrent_free, t);
	metainfo_free(&t->mi);
	free(t->cand);
	free(t->data_dir);
	free(t);
}

/* ---- tick and status ---- */

void torrent_tick(struct torrent *t)
{
	struct session *s = t->s;
	struct peer *p, *next;

	t->rate_down = (t->rate_down + (t->downloaded - t->down_prev)) / 2;
	t->rate_up = (t->rate_up + (t->uploaded - t->up_prev)) / 2;
	t->down_prev = t->downloaded;
	t->up_prev = t->uploaded;
	for (p = TAILQ_FIRST(&t->peers); p; p = next) {
		next = TAILQ_NEXT(p, link);
		peer_tick(p);
		if (!p->dead)
			peer_request_fill(p);
	}
	torrent_superseed_tick(t);
	if (!t->meta && (s->ticks + t->id) % CHOKER_INTERVAL == 0)
		run_choker(t);
	PEER_EXTS_CALL(tick, t);
	torrent_connect_candidates(t);
	if (t->resume_dirty && session_now(s) - t->last_resume >= TORRENT_RESUME_EVERY)
		torrent_flush_resume(t);
}

const char *torrent_state_name(const struct torrent *t)
{
	static const char *const names[] = { CTL_STATE_METADATA, CTL_STATE_CHECKING,
		                             CTL_STATE_DOWNLOADING, CTL_STATE_SEEDING,
		                             CTL_STATE_PAUSED, CTL_STATE_ERROR };
	return names[t->state];
}

uint64_t torrent_bytes_done(const struct torrent *t)
{
	if (t->meta)
		return 0;
	uint32_t last = t->mi.n_pieces - 1;
	uint64_t n = picker_have_count(t->picker);
	uint64_t bytes = n * t->mi.piece_length;

	if (bitfield_test(picker_have(t->picker), last))
		bytes -= t->mi.piece_length - metainfo_piece_size(&t->mi, last);
	return bytes;
}

bool torrent_is_complete(const struct torrent *t)
{
	return t->meta == NULL && picker_is_complete(t->picker);
}

/* flags: heap, freed by torrent_status_free. */
static void peer_status(const struct peer *p, struct ctl_peer *out)
{
	char flags[16];

	peer_flags(p, flags, sizeof flags);
	*out = (struct ctl_peer){
		.addr = ctl_str_c(p->addr_str),
		.blocks = (int64_t)p->blocks_down,
		.blocks_up = (int64_t)p->blocks_up,
		.client = ctl_str_c(p->client),
		.down = (int64_t)p->bytes_down,
		.down_rate = (int64_t)p->rate_down,
		.flags = ctl_str_c(xstrdup(flags)),
		.hash_fails = p->hash_fails,
		.up = (int64_t)p->bytes_up,
		.up_rate = (int64_t)p->rate_up,
	};
}

int64_t torrent_eta(const struct torrent *t)
{
	uint64_t left = t->mi.total_length - torrent_bytes_done(t);

	if (t->meta)
		return -1;
	if (left == 0)
		return 0;
	return t->rate_down ? (int64_t)(left / t->rate_down) : -1;
}

unsigned torrent_seeds(const struct torrent *t)
{
	const struct peer *p;
	unsigned n = 0;

	TAILQ_FOREACH(p, &t->peers, link)
		n += p->is_seed;
	return n;
}

/* Uploaded per byte downloaded, x 1000; per byte verified when nothing
 * was downloaded (a share), as Transmission counts it. */
static int64_t ratio_milli(const struct torrent *t)
{
	uint64_t base = t->downloaded ? t->downloaded : torrent_bytes_done(t);

	return base ? (int64_t)((double)t->uploaded * 1000 / (double)base) : 0;
}

/* A CLOSE stops every transfer: say so rather than "seeding". */
static const char *status_state(const struct torrent *t)
{
	bool active = t->state == TS_DOWNLOADING || t->state == TS_SEEDING;

	return t->s->closed && active ? CTL_STATE_CLOSED : torrent_state_name(t);
}

static void peers_status(const struct torrent *t, struct ctl_torrent *out)
{
	const struct peer *p;
	size_t n = 0;

	TAILQ_FOREACH(p, &t->peers, link)
		n += p->hs_done;
	/* Never NULL: the list is sent even when empty. */
	out->peer_list = xcalloc(n ? n : 1, sizeof *out->peer_list);
	TAILQ_FOREACH(p, &t->peers, link)
		if (p->hs_done)
			peer_status(p, &out->peer_list[out->n_peer_list++]);
}

void torrent_status(const struct torrent *t, bool peers, struct ctl_torrent *out)
{
	*out = (struct ctl_torrent){
		.complete = torrent_is_complete(t),
		.done = (int64_t)torrent_bytes_done(t),
		.down_rate = (int64_t)t->rate_down,
		.downloaded = (int64_t)t->downloaded,
		.error = ctl_str_c(t->state == TS_ERROR ? t->error : NULL),
		.eta = torrent_eta(t),
		.info_hash = { t->hex, 40 },
		.name = ctl_str_c(t->mi.name),
		.path = ctl_str_c(xasprintf("%s/%s", t->data_dir, t->mi.name)),
		.peers = t->n_peers,
		.pieces = t->mi.n_pieces,
		.pieces_done = t->meta ? 0 : picker_have_count(t->picker),
		.ratio_milli = ratio_milli(t),
		.seeds = torrent_seeds(t),
		.shared = t->shared,
		.size = (int64_t)t->mi.total_length,
		.state = ctl_str_c(status_state(t)),
		.super_seeding = t->ss != NULL,
		.tracker = ctl_str_c(t->sub ? announcer_sub_status(t->sub) : ""),
		.tracker_seeders = t->tracker_seeders,
		.up_rate = (int64_t)t->rate_up,
		.uploaded = (int64_t)t->uploaded,
		.wasted = (int64_t)t->wasted,
		.dht = ctl_str_c(t->dht_sub ? dht_sub_status(t->dht_sub) : ""),
	};
	if (peers)
		peers_status(t, out);
}

void torrent_status_free(struct ctl_torrent *c)
{
	for (size_t i = 0; i < c->n_peer_list; i++)
		free((char *)c->peer_list[i].flags.p);
	free((char *)c->path.p);
	ctl_torrent_free(c);
}
