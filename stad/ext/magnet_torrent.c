/* Magnet torrents: creation, the saved link, x.pe peers, early
 * availability and the change into an ordinary torrent. */
#include "magnet_torrent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bitfield.h"
#include "fileio.h"
#include "hex.h"
#include "log.h"
#include "magnet.h"
#include "metainfo.h"
#include "peer.h"
#include "sconfig.h"
#include "context.h"
#include "torrent.h"
#include "ut_metadata.h"
#include "xmalloc.h"

/* The bitfield of the largest info dict accepted (20 bytes a piece). */
#define EARLY_BITS_MAX (UTM_MAX_SIZE / SHA1_LEN / 8 + 1)

struct early_has {
	bool all;              /* have all */
	bool bitfield;         /* a bitfield came: bits.len is its length */
	uint32_t max_have;     /* highest have index + 1 */
	struct sta_buf bits;
};

/* ---- adding ---- */

/* What stands for the metainfo until the info dict is in. */
static void placeholder(struct metainfo *mi, const struct magnet *m, const char *hex)
{
	memset(mi, 0, sizeof *mi);
	memcpy(mi->info_hash, m->info_hash, SHA1_LEN);
	mi->name = xstrdup(m->name[0] ? m->name : hex);
	/* Each tracker its own tier: all of them are asked for peers. */
	mi->n_tiers = (uint32_t)m->n_trackers;
	mi->tiers = m->n_trackers ? xcalloc(m->n_trackers, sizeof *mi->tiers) : NULL;
	for (size_t i = 0; i < m->n_trackers; i++) {
		mi->tiers[i].urls = xcalloc(1, sizeof *mi->tiers[i].urls);
		mi->tiers[i].urls[0] = xstrdup(m->trackers[i]);
		mi->tiers[i].n_urls = 1;
	}
}

static bool save_link(struct session *s, const struct magnet *m, const char *hex, char *err,
                      size_t errlen)
{
	struct sta_buf b = STA_BUF_INIT;
	char *path = session_state_path(s, "magnets", hex, ".magnet");

	magnet_build(&b, m->info_hash, m->name, (const char *const *)m->trackers, m->n_trackers,
	             m->peers, m->n_peers);
	bool ok = file_write_atomic(path, b.data, b.len, 0640);
	if (!ok)
		snprintf(err, errlen, "cannot save the magnet link as %s: %s", path, strerror(errno));
	buf_free(&b);
	free(path);
	return ok;
}

/* x.pe: address literals become candidates. Names are not resolved (a
 * link that needs them has trackers too, in practice). */
static void add_link_peers(struct torrent *t, const struct magnet *m)
{
	struct tracker_peer c;

	for (size_t i = 0; i < m->n_peers; i++) {
		memset(&c, 0, sizeof c);
		c.port = m->peers[i].port;
		if (inet_pton(AF_INET, m->peers[i].host, c.addr) == 1)
			c.family = AF_INET;
		else if (inet_pton(AF_INET6, m->peers[i].host, c.addr) == 1)
			c.family = AF_INET6;
		else {
			log_info("%s: x.pe %s: not an address, skipped", t->hex, m->peers[i].host);
			continue;
		}
		torrent_add_candidates(t, &c, 1);
	}
}

static struct torrent *add(struct session *s, const struct magnet *m, struct torrent **existing,
                           char *err, size_t errlen)
{
	struct metainfo mi;
	char hex[41];

	hex_encode(m->info_hash, SHA1_LEN, hex);
	placeholder(&mi, m, hex);
	struct torrent *t = torrent_add(s, &mi, s->cfg->download_dir, NULL, false, false,
	                                        existing, err, errlen);
	if (t == NULL) {
		metainfo_free(&mi);
		return NULL;
	}
	add_link_peers(t, m);
	if (!s->closed)
		torrent_announce(t);
	return t;
}

struct torrent *magnet_torrent_add(struct session *s, const struct magnet *m,
                                   struct torrent **existing, char *err, size_t errlen)
{
	char hex[41];

	*existing = torrent_find(s, m->info_hash);
	hex_encode(m->info_hash, SHA1_LEN, hex);
	if (*existing) {
		/* Asked again: its peers may be news. */
		add_link_peers(*existing, m);
		snprintf(err, errlen, "already known as \"%.100s\" (%s)", (*existing)->mi.name, hex);
		return NULL;
	}
	if (!save_link(s, m, hex, err, errlen))
		return NULL;
	struct torrent *t = add(s, m, existing, err, errlen);
	if (t)
		log_info("%s: fetching the metadata of \"%s\" (%zu trackers, %zu peers in the link)",
		         t->hex, t->mi.name, m->n_trackers, m->n_peers);
	return t;
}

/* ---- loading saved links ---- */

static void unlink_quiet(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("%s: %s", path, strerror(errno));
}

/* A saved link: added again, unless its .torrent was saved meanwhile. */
static void load_link(struct session *s, const char *path, const uint8_t hash[SHA1_LEN])
{
	struct magnet m;
	struct magnet_error me;
	struct torrent *existing;
	char err[256];
	size_t len;
	uint8_t *data = file_read_all(path, MAGNET_MAX_LEN, &len);

	if (data == NULL) {
		log_warn("%s: %s", path, strerror(errno));
		return;
	}
	bool ok = magnet_parse((const char *)data, len, &m, &me);
	free(data);
	if (!ok) {
		log_warn("%s: %s", path, me.msg);
		return;
	}
	if (memcmp(m.info_hash, hash, SHA1_LEN) != 0)
		log_warn("%s: the info-hash does not match the file name", path);
	else if (add(s, &m, &existing, err, sizeof err) == NULL)
		log_warn("%s: %s", path, err);
	magnet_free(&m);
}

static void load_one(struct session *s, const char *dir, const char *name)
{
	uint8_t hash[SHA1_LEN];

	if (strlen(name) != 47 || strcmp(name + 40, ".magnet") != 0 ||
	    !hex_decode(name, 40, hash, SHA1_LEN))
		return;
	char *path = xasprintf("%s/%s", dir, name);
	if (torrent_find(s, hash))
		unlink_quiet(path); /* its .torrent was saved: the link is done */
	else
		load_link(s, path, hash);
	free(path);
}

void magnet_torrent_load(struct session *s)
{
	session_each_state_file(s, "magnets", load_one);
}

/* ---- before the metadata: what peers say they have ---- */

static struct early_has *early(struct peer *p)
{
	if (p->early == NULL)
		p->early = xcalloc(1, sizeof *p->early);
	return p->early;
}

void magnet_early_free(struct peer *p)
{
	if (p->early)
		buf_free(&p->early->bits);
	free(p->early);
	p->early = NULL;
}

static void early_have(struct peer *p, uint32_t piece)
{
	struct early_has *e = early(p);
	size_t need = piece / 8 + 1;

	if (need > EARLY_BITS_MAX || (e->bitfield && need > e->bits.len)) {
		peer_close(p, "have: piece out of range");
		return;
	}
	if (e->bits.len < need) {
		buf_reserve(&e->bits, need - e->bits.len);
		memset(e->bits.data + e->bits.len, 0, need - e->bits.len);
		e->bits.len = need;
	}
	e->bits.data[piece / 8] |= (uint8_t)(0x80 >> (piece % 8));
	if (piece + 1 > e->max_have)
		e->max_have = piece + 1;
}

static void early_bitfield(struct peer *p, const uint8_t *bits, size_t len)
{
	struct early_has *e = early(p);

	if (len > EARLY_BITS_MAX) {
		peer_close(p, "bitfield larger than any torrent we accept");
		return;
	}
	buf_clear(&e->bits);
	buf_append(&e->bits, bits, len);
	e->bitfield = true;
	e->all = false;
	e->max_have = 0;
}

static void early_all_none(struct peer *p, bool all)
{
	struct early_has *e;

	if (!p->fast) {
		peer_close(p, "Fast extension message without the Fast bit");
		return;
	}
	e = early(p);
	buf_clear(&e->bits);
	e->bitfield = false;
	e->max_have = 0;
	e->all = all;
}

bool magnet_early_msg(struct peer *p, const struct pw_msg *m)
{
	switch (m->type) {
	case PW_MSG_HAVE: early_have(p, m->index); return true;
	case PW_MSG_BITFIELD: early_bitfield(p, m->data, m->data_len); return true;
	case PW_MSG_HAVE_ALL: early_all_none(p, true); return true;
	case PW_MSG_HAVE_NONE: early_all_none(p, false); return true;
	/* Nothing to give it yet, so no unchoke; its interest is kept. */
	case PW_MSG_INTERESTED: p->peer_interested = true; return true;
	case PW_MSG_REQUEST:
	case PW_MSG_CANCEL:
	case PW_MSG_REJECT:
	case PW_MSG_SUGGEST:
	case PW_MSG_ALLOWED_FAST:
		return true;
	default:
		return false;
	}
}

/* The piece count is known: what p said comes in as if it came now. */
static void early_replay(struct peer *p)
{
	uint32_t n = p->t->mi.n_pieces;
	size_t want = bitfield_wire_len(n);
	struct early_has *e = p->early;
	struct pw_msg m = { 0 };

	bitfield_free(&p->has);
	bitfield_init(&p->has, n);
	pw_limits_init(&p->lim, n);
	if (e == NULL || (!e->all && e->bits.len == 0))
		return;
	if (e->all) {
		m.type = PW_MSG_HAVE_ALL;
	} else if ((e->bitfield && e->bits.len != want) || e->max_have > n) {
		peer_close(p, "what it has does not fit the torrent");
		return;
	} else {
		buf_reserve(&e->bits, want - e->bits.len);
		memset(e->bits.data + e->bits.len, 0, want - e->bits.len);
		m.type = PW_MSG_BITFIELD;
		m.data = e->bits.data;
		m.data_len = want;
	}
	peer_dispatch(p, &m);
	if (!p->dead)
		magnet_early_free(p);
}

/* ---- the change ---- */

void magnet_torrent_promote(struct torrent *t, struct metainfo *mi)
{
	char *path = session_state_path(t->s, "magnets", t->hex, ".magnet");
	struct peer *p, *next;

	unlink_quiet(path);
	free(path);
	torrent_take_metainfo(t, mi);
	log_info("%s: \"%s\": %llu bytes in %u pieces", t->hex, t->mi.name,
	         (unsigned long long)t->mi.total_length, t->mi.n_pieces);
	for (p = TAILQ_FIRST(&t->peers); p; p = next) {
		next = TAILQ_NEXT(p, link);
		early_replay(p);
		/* Now with metadata_size, for peers that fetch it from us. */
		if (!p->dead && p->hs_done && p->ext)
			peer_send_ext_handshake(p);
	}
	torrent_start(t);
	session_torrent_event(t->s, t->mi.info_hash);
}
