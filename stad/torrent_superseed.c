/* A torrent's super-seeding: the peers' side of swarm/superseed.c. */
#include "torrent_superseed.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "peer.h"
#include "picker.h"
#include "sconfig.h"
#include "context.h"
#include "superseed.h"
#include "torrent.h"

static bool wanted(const struct torrent *t)
{
	const char *mode = t->s->cfg->super_seed;

	if (t->state != TS_SEEDING || t->ss != NULL)
		return false;
	return strcmp(mode, "on") == 0 || (strcmp(mode, "auto") == 0 && t->shared);
}

void torrent_superseed_start(struct torrent *t)
{
	if (!wanted(t))
		return;
	t->ss = superseed_new(t->mi.n_pieces, ((uint64_t)arc4random() << 32) | arc4random());
	log_info("%s: super-seeding \"%s\" (BEP 16): each peer is offered the pieces to fetch "
	         "next", t->hex, t->mi.name);
}

/* Whether p got more from us than the peers on average, by more than a
 * credit's worth: it waits for its next offers until they catch up. Left
 * to itself, the upload went unevenly (whoever TCP favoured got more,
 * fetched faster, got more credit), and those behind finished last. */
static bool ahead(const struct torrent *t, const struct peer *p)
{
	const struct peer *q;
	uint64_t sum = 0, n = 0;

	TAILQ_FOREACH(q, &t->peers, link) {
		if (q->ss_member) {
			sum += q->bytes_up;
			n++;
		}
	}
	return n > 1 && p->bytes_up > sum / n + SUPERSEED_MIN_LEAD;
}

/* Tells p about the pieces it may fetch now; sends a HAVE for each. */
static void top_up(struct torrent *t, struct peer *p)
{
	uint32_t out[SUPERSEED_MAX_OFFERS];
	uint32_t credit = superseed_credit(p->rate_up, t->mi.piece_length);
	size_t n;

	if (!p->ss_member || p->dead || ahead(t, p))
		return;
	do {
		n = superseed_offer(t->ss, &p->ssp, &p->ss_known, &p->told, credit,
		                    session_now(t->s), out, SUPERSEED_MAX_OFFERS);
		for (size_t i = 0; i < n; i++)
			peer_send_have(p, out[i]);
	} while (n == SUPERSEED_MAX_OFFERS);
}

/* piece is at p now: counted once as a copy, the offers of it to others
 * settled (they passed it on, maybe to p), p's own if nobody needs it from
 * p any more. */
static void count_copy(struct torrent *t, struct peer *p, uint32_t piece)
{
	struct peer *q;

	if (bitfield_test(&p->ss_known, piece))
		return;
	bitfield_set(&p->ss_known, piece);
	superseed_copy_add(t->ss, piece);
	TAILQ_FOREACH(q, &t->peers, link)
		if (q != p && q->ss_member && superseed_settle(t->ss, &q->ssp, piece))
			top_up(t, q);
	if (superseed_fetched(t->ss, &p->ssp, piece))
		top_up(t, p);
}

static void count_has(struct torrent *t, struct peer *p)
{
	for (uint32_t i = bitfield_next_set(&p->has, 0); i < p->has.nbits;
	     i = bitfield_next_set(&p->has, i + 1))
		count_copy(t, p, i);
}

bool torrent_superseed_intro(struct peer *p)
{
	struct torrent *t = p->t;

	if (t->ss == NULL)
		return false;
	if (p->fast)
		peer_send_simple(p, PW_MSG_HAVE_NONE);
	bitfield_init(&p->told, t->mi.n_pieces);
	bitfield_init(&p->ss_known, t->mi.n_pieces);
	superseed_peer_add(t->ss, &p->ssp);
	p->ss_member = true;
	count_has(t, p); /* its bitfield may have come before our intro */
	top_up(t, p);
	return true;
}

/* Tells p every piece it was not told of and did not announce. */
static void tell_rest(struct torrent *t, struct peer *p)
{
	const struct bitfield *have = picker_have(t->picker);

	for (uint32_t i = bitfield_next_set(have, 0); i < have->nbits;
	     i = bitfield_next_set(have, i + 1))
		if (!bitfield_test(&p->has, i) && !bitfield_test(&p->told, i))
			peer_send_have(p, i);
}

static void leave(struct peer *p)
{
	p->ss_member = false;
	bitfield_free(&p->told);
	bitfield_free(&p->ss_known);
}

void torrent_superseed_stop(struct torrent *t, const char *why)
{
	struct peer *p;

	if (t->ss == NULL)
		return;
	log_info("%s: super-seeding ends: %s", t->hex, why);
	TAILQ_FOREACH(p, &t->peers, link) {
		if (!p->ss_member)
			continue;
		tell_rest(t, p);
		leave(p);
	}
	superseed_free(t->ss);
	t->ss = NULL;
}

/* A peer that announced every piece is a seed: we are no longer the only
 * one. */
static bool another_seed(struct peer *p)
{
	if (!p->is_seed)
		return false;
	torrent_superseed_stop(p->t, "another seed is connected");
	return true;
}

void torrent_superseed_have(struct peer *p, uint32_t piece)
{
	if (p->t->ss && p->ss_member && !another_seed(p))
		count_copy(p->t, p, piece);
}

void torrent_superseed_sent(struct peer *p, uint32_t piece, uint32_t length)
{
	struct torrent *t = p->t;

	if (t->ss && p->ss_member &&
	    superseed_sent(&p->ssp, piece, length, metainfo_piece_size(&t->mi, piece)))
		count_copy(t, p, piece);
}

void torrent_superseed_bits(struct peer *p, bool add)
{
	struct torrent *t = p->t;

	if (t->ss == NULL || !p->ss_member)
		return;
	if (add) {
		if (!another_seed(p)) {
			count_has(t, p);
			top_up(t, p);
		}
		return;
	}
	for (uint32_t i = bitfield_next_set(&p->ss_known, 0); i < p->ss_known.nbits;
	     i = bitfield_next_set(&p->ss_known, i + 1))
		superseed_copy_remove(t->ss, i);
	bitfield_clear_all(&p->ss_known);
}

void torrent_superseed_gone(struct peer *p)
{
	if (!p->ss_member)
		return;
	if (p->t->ss)
		superseed_peer_remove(p->t->ss, &p->ssp);
	leave(p);
}

void torrent_superseed_tick(struct torrent *t)
{
	struct peer *p;

	if (t->ss == NULL)
		return;
	TAILQ_FOREACH(p, &t->peers, link) {
		if (!p->ss_member)
			continue;
		superseed_expire(t->ss, &p->ssp, session_now(t->s));
		top_up(t, p);
	}
}

void torrent_superseed_seeders(struct torrent *t, uint32_t seeders)
{
	if (t->ss && seeders > 1)
		torrent_superseed_stop(t, "the tracker counts another seed");
}
