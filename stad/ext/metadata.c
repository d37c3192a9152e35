/* BEP 9: serving info dicts, and fetching one for a magnet torrent. */
#include "metadata.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"
#include "magnet_torrent.h"
#include "metainfo.h"
#include "peer.h"
#include "peer_wire.h"
#include "context.h"
#include "torrent.h"
#include "ut_metadata.h"
#include "workpool.h"
#include "xmalloc.h"

/* Pieces of one connection may ask for beyond two of each: asking for the
 * same pieces again and again only burns our upload. */
#define METADATA_SERVE_SLACK 8

enum { PIECE_MISSING, PIECE_ASKED, PIECE_IN };

struct metadata_fetch {
	uint32_t source;                    /* tag of the peer it comes from; 0: none */
	struct sockaddr_storage source_addr; /* to ban it, even after it left */
	char source_str[64];
	uint32_t size, n_pieces;
	uint8_t *buf;                       /* size bytes, while fetching */
	uint8_t *piece;                     /* n_pieces PIECE_* */
	uint32_t next, n_in, in_flight;
	uint64_t last_data;
	bool verifying;                     /* buf went to a worker */
};

void metadata_torrent_new(struct torrent *t)
{
	if (t->mi.n_pieces == 0)
		t->meta = xcalloc(1, sizeof(struct metadata_fetch));
}

static void fetch_reset(struct metadata_fetch *f)
{
	free(f->buf);
	free(f->piece);
	f->buf = f->piece = NULL;
	f->source = f->size = f->n_pieces = f->next = f->n_in = f->in_flight = 0;
}

void metadata_torrent_free(struct torrent *t)
{
	if (t->meta == NULL)
		return;
	fetch_reset(t->meta);
	free(t->meta);
	t->meta = NULL;
}

void metadata_progress(const struct torrent *t, uint32_t *have, uint32_t *total)
{
	const struct metadata_fetch *f = t->meta;

	*have = f ? f->n_in : 0;
	*total = f ? f->n_pieces : 0;
}

/* ---- serving ---- */

/* The info dict t hands out: NULL for a private torrent (BEP 27), one
 * still without metadata, or one too large for BEP 9 peers to take. */
static const uint8_t *served_info(const struct torrent *t, uint32_t *size)
{
	if (t->meta || t->mi.is_private || t->mi.info_len == 0 || t->mi.info_len > UTM_MAX_SIZE)
		return NULL;
	*size = (uint32_t)t->mi.info_len;
	return t->mi.raw + t->mi.info_off;
}

void metadata_ext_handshake(const struct torrent *t, struct pw_ext_hs *hs)
{
	uint32_t size = 0;

	if ((t->meta == NULL && served_info(t, &size) == NULL) || hs->n_ext >= PW_EXT_MAX)
		return;
	struct pw_ext *e = &hs->ext[hs->n_ext++];
	snprintf(e->name, sizeof e->name, "%s", UT_METADATA_NAME);
	e->id = METADATA_EXT_ID;
	hs->metadata_size = size;
}

static void serve(struct peer *p, uint32_t piece)
{
	uint32_t size = 0;
	const uint8_t *info = served_info(p->t, &size);
	uint32_t len = info ? ut_metadata_piece_len(size, piece) : 0;
	struct sta_buf b = STA_BUF_INIT;

	if (p->ut_metadata == 0)
		return; /* it gave us no id to answer with */
	if (len == 0 || p->meta_served >= 2 * ut_metadata_pieces(size) + METADATA_SERVE_SLACK) {
		ut_metadata_put_reject(&b, p->ut_metadata, piece);
	} else {
		ut_metadata_put_data(&b, p->ut_metadata, piece, size,
		                     info + (size_t)piece * UTM_PIECE_LEN, len);
		p->meta_served++;
	}
	peer_send_buf(p, &b);
	buf_free(&b);
}

/* ---- fetching ---- */

static struct peer *pick_source(struct torrent *t)
{
	struct peer *p;

	TAILQ_FOREACH(p, &t->peers, link)
		if (p->hs_done && !p->dead && p->ut_metadata && p->metadata_size &&
		    !p->meta_refused)
			return p;
	return NULL;
}

/* Sizes were bounded at its handshake, so this allocation is too. */
static void fetch_start(struct torrent *t, struct peer *p)
{
	struct metadata_fetch *f = t->meta;

	f->source = p->tag;
	memcpy(&f->source_addr, &p->addr, sizeof p->addr);
	snprintf(f->source_str, sizeof f->source_str, "%s", p->addr_str);
	f->size = p->metadata_size;
	f->n_pieces = ut_metadata_pieces(f->size);
	f->buf = xmalloc(f->size);
	f->piece = xcalloc(f->n_pieces, 1);
	f->last_data = session_now(t->s);
	log_debug("%s: fetching the metadata (%u bytes) from %s (%s)", t->hex, f->size,
	          p->addr_str, p->client);
}

static void fetch_ask(struct torrent *t, struct peer *p)
{
	struct metadata_fetch *f = t->meta;
	struct sta_buf b = STA_BUF_INIT;

	for (; f->in_flight < METADATA_IN_FLIGHT && f->next < f->n_pieces; f->next++) {
		if (f->piece[f->next] != PIECE_MISSING)
			continue;
		ut_metadata_put_request(&b, p->ut_metadata, f->next);
		f->piece[f->next] = PIECE_ASKED;
		f->in_flight++;
	}
	if (b.len)
		peer_send_buf(p, &b);
	buf_free(&b);
}

/* The source let us down: not asked again on this connection. */
static void drop_source(struct torrent *t, struct peer *p, const char *why)
{
	log_debug("%s: metadata from %s: %s; trying another peer", t->hex, p->addr_str, why);
	p->meta_refused = true;
	fetch_reset(t->meta);
}

static void fetch_pump(struct torrent *t)
{
	struct metadata_fetch *f = t->meta;

	if (f == NULL || f->verifying)
		return;
	struct peer *p = f->source ? torrent_find_peer(t, f->source) : NULL;
	if (f->source && (p == NULL || p->dead))
		fetch_reset(f);
	else if (p && f->in_flight && session_now(t->s) - f->last_data > METADATA_TIMEOUT_S)
		drop_source(t, p, "no answer");
	if (f->source == 0) {
		p = pick_source(t);
		if (p == NULL)
			return;
		fetch_start(t, p);
	}
	fetch_ask(t, p);
}

void metadata_tick(struct torrent *t)
{
	fetch_pump(t);
}

void metadata_peer_gone(struct peer *p)
{
	struct metadata_fetch *f = p->t->meta;

	/* While verifying, the source is kept: it is the one to blame. */
	if (f && !f->verifying && f->source == p->tag)
		fetch_reset(f);
}

void metadata_on_ext_handshake(struct peer *p, const struct pw_ext_hs *hs)
{
	struct torrent *t = p->t;
	struct metadata_fetch *f = t->meta;

	p->ut_metadata = pw_ext_hs_id(hs, UT_METADATA_NAME);
	if (f && f->source == p->tag && !f->verifying && hs->metadata_size != f->size)
		drop_source(t, p, "its metadata_size changed");
	p->metadata_size = hs->metadata_size;
	if (f == NULL || p->ut_metadata == 0)
		return;
	if (p->metadata_size > UTM_MAX_SIZE) {
		log_info("%s: %s (%s) claims metadata of %u bytes, over the %u limit", t->hex,
		         p->addr_str, p->client, p->metadata_size, UTM_MAX_SIZE);
		peer_close(p, "metadata_size over the limit");
		return;
	}
	fetch_pump(t);
}

/* ---- verification (worker) ---- */

enum verify_result { VERIFY_OK, VERIFY_MISMATCH, VERIFY_INVALID, VERIFY_UNSAVED };

struct verify_job {
	struct work_item item;
	struct torrent *t;           /* for done() on the loop only */
	uint8_t info_hash[20];
	uint8_t *info;
	uint32_t size;
	struct mi_tier *tiers;       /* copies of the magnet link's trackers */
	uint32_t n_tiers;
	char *path;                  /* where the .torrent goes */
	enum verify_result result;
	struct metainfo mi;
	char err[256];
};

static struct mi_tier *copy_tiers(const struct mi_tier *tiers, uint32_t n)
{
	struct mi_tier *c = n ? xcalloc(n, sizeof *c) : NULL;

	for (uint32_t i = 0; i < n; i++) {
		c[i].urls = xcalloc(tiers[i].n_urls ? tiers[i].n_urls : 1, sizeof *c[i].urls);
		c[i].n_urls = tiers[i].n_urls;
		for (uint32_t u = 0; u < tiers[i].n_urls; u++)
			c[i].urls[u] = xstrdup(tiers[i].urls[u]);
	}
	return c;
}

static void free_tiers(struct mi_tier *tiers, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t u = 0; u < tiers[i].n_urls; u++)
			free(tiers[i].urls[u]);
		free(tiers[i].urls);
	}
	free(tiers);
}

static void verify_work(struct work_item *item)
{
	struct verify_job *j = container_of(item, struct verify_job, item);
	struct mi_error me;
	uint8_t h[SHA1_LEN];

	if (!metainfo_from_info(j->info, j->size, j->tiers, j->n_tiers, &j->mi, &me)) {
		/* Whose fault: a peer's (wrong bytes) or the torrent's own? */
		sha1(j->info, j->size, h);
		j->result = memcmp(h, j->info_hash, SHA1_LEN) ? VERIFY_MISMATCH : VERIFY_INVALID;
		snprintf(j->err, sizeof j->err, "its metadata is not valid: %.200s", me.msg);
		return;
	}
	if (memcmp(j->mi.info_hash, j->info_hash, SHA1_LEN) != 0) {
		j->result = VERIFY_MISMATCH;
	} else if (!file_write_atomic(j->path, j->mi.raw, j->mi.raw_len, 0640)) {
		j->result = VERIFY_UNSAVED;
		snprintf(j->err, sizeof j->err, "cannot save its metadata as %s: %s", j->path,
		         strerror(errno));
	} else {
		j->result = VERIFY_OK;
		return;
	}
	metainfo_free(&j->mi);
}

static void verify_result(struct torrent *t, struct verify_job *j)
{
	struct metadata_fetch *f = t->meta;
	struct peer *p;

	f->verifying = false;
	switch (j->result) {
	case VERIFY_OK:
		log_info("%s: metadata fetched from %s (%u bytes)", t->hex, f->source_str, j->size);
		metadata_torrent_free(t);
		magnet_torrent_promote(t, &j->mi);
		return;
	case VERIFY_MISMATCH:
		log_warn("%s: the metadata from %s does not match the info-hash: banning it", t->hex,
		         f->source_str);
		session_ban(t->s, (const struct sockaddr *)&f->source_addr);
		if ((p = torrent_find_peer(t, f->source)) != NULL)
			peer_close(p, "its metadata does not match the info-hash");
		fetch_reset(f);
		fetch_pump(t);
		return;
	case VERIFY_INVALID:
	case VERIFY_UNSAVED:
		fetch_reset(f);
		torrent_set_error(t, "%s", j->err);
		return;
	}
}

static void verify_done(struct work_item *item)
{
	struct verify_job *j = container_of(item, struct verify_job, item);
	struct torrent *t = j->t;

	t->jobs--;
	if (!t->dead)
		verify_result(t, j);
	metainfo_free(&j->mi);
	free_tiers(j->tiers, j->n_tiers);
	free(j->info);
	free(j->path);
	free(j);
	if (t->dead && t->jobs == 0)
		torrent_free(t);
}

static void verify(struct torrent *t)
{
	struct metadata_fetch *f = t->meta;
	struct verify_job *j = xcalloc(1, sizeof *j);

	j->item.work = verify_work;
	j->item.done = verify_done;
	j->t = t;
	memcpy(j->info_hash, t->mi.info_hash, SHA1_LEN);
	j->info = f->buf;
	j->size = f->size;
	j->tiers = copy_tiers(t->mi.tiers, t->mi.n_tiers);
	j->n_tiers = t->mi.n_tiers;
	j->path = session_state_path(t->s, "torrents", t->hex, ".torrent");
	f->buf = NULL;
	f->verifying = true;
	t->jobs++;
	workpool_submit(t->s->wp, &j->item);
}

/* ---- messages ---- */

static void on_data(struct peer *p, const struct utm_msg *m)
{
	struct torrent *t = p->t;
	struct metadata_fetch *f = t->meta;

	/* Only what we asked this peer for, of the size it told us; anything
	 * else is stray and dropped. The codec bounded piece by total_size. */
	if (f == NULL || f->verifying || p->tag != f->source || m->total_size != f->size ||
	    f->piece[m->piece] != PIECE_ASKED)
		return;
	memcpy(f->buf + (size_t)m->piece * UTM_PIECE_LEN, m->data, m->data_len);
	f->piece[m->piece] = PIECE_IN;
	f->n_in++;
	f->in_flight--;
	f->last_data = session_now(t->s);
	if (f->n_in == f->n_pieces)
		verify(t);
	else
		fetch_ask(t, p);
}

void metadata_on_message(struct peer *p, const uint8_t *data, size_t len)
{
	struct metadata_fetch *f = p->t->meta;
	struct utm_msg m;
	enum utm_err err;

	if (!ut_metadata_parse(data, len, UTM_MAX_SIZE, &m, &err)) {
		peer_close(p, ut_metadata_strerror(err));
		return;
	}
	switch (m.type) {
	case UTM_REQUEST:
		serve(p, m.piece);
		break;
	case UTM_DATA:
		on_data(p, &m);
		break;
	case UTM_REJECT:
		if (f && !f->verifying && f->source == p->tag) {
			drop_source(p->t, p, "it refused");
			fetch_pump(p->t);
		}
		break;
	default:
		break;
	}
}
