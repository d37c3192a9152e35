#include "superseed.h"

#include <stdlib.h>
#include <string.h>

#include "rarity.h"
#include "xmalloc.h"

struct superseed {
	uint32_t n_pieces;
	uint32_t n_peers;       /* leechers that may be offered pieces */
	uint32_t *copies;       /* per piece: peers known to have it */
	uint32_t n_out;         /* pieces with a copy */
	/* Per piece: copies + unsettled offers. Every piece is linked. */
	struct rarity score;
};

struct superseed *superseed_new(uint32_t n_pieces, uint64_t seed)
{
	struct superseed *ss = xcalloc(1, sizeof *ss);

	ss->n_pieces = n_pieces;
	ss->copies = xcalloc(n_pieces ? n_pieces : 1, sizeof *ss->copies);
	rarity_init(&ss->score, n_pieces, seed);
	rarity_link_all(&ss->score);
	return ss;
}

void superseed_free(struct superseed *ss)
{
	if (ss == NULL)
		return;
	rarity_fini(&ss->score);
	free(ss->copies);
	free(ss);
}

/* Drops offer i of sp (order does not matter). */
static void offer_drop(struct superseed *ss, struct superseed_peer *sp, uint32_t i)
{
	rarity_dec(&ss->score, sp->offer[i]);
	sp->n_offers--;
	sp->offer[i] = sp->offer[sp->n_offers];
	sp->offered_at[i] = sp->offered_at[sp->n_offers];
	sp->sent[i] = sp->sent[sp->n_offers];
}

/* Index of sp's offer of piece, or SUPERSEED_MAX_OFFERS. */
static uint32_t offer_find(const struct superseed_peer *sp, uint32_t piece)
{
	for (uint32_t i = 0; i < sp->n_offers; i++)
		if (sp->offer[i] == piece)
			return i;
	return SUPERSEED_MAX_OFFERS;
}

void superseed_peer_add(struct superseed *ss, struct superseed_peer *sp)
{
	memset(sp, 0, sizeof *sp);
	ss->n_peers++;
}

void superseed_peer_remove(struct superseed *ss, struct superseed_peer *sp)
{
	while (sp->n_offers > 0)
		offer_drop(ss, sp, 0);
	if (ss->n_peers > 0)
		ss->n_peers--;
}

void superseed_copy_add(struct superseed *ss, uint32_t piece)
{
	if (piece >= ss->n_pieces)
		return;
	ss->n_out += ss->copies[piece]++ == 0;
	rarity_inc(&ss->score, piece);
}

void superseed_copy_remove(struct superseed *ss, uint32_t piece)
{
	if (piece >= ss->n_pieces || ss->copies[piece] == 0)
		return;
	ss->n_out -= --ss->copies[piece] == 0;
	rarity_dec(&ss->score, piece);
}

bool superseed_all_out(const struct superseed *ss)
{
	return ss->n_out == ss->n_pieces;
}

bool superseed_settle(struct superseed *ss, struct superseed_peer *sp, uint32_t piece)
{
	uint32_t i = offer_find(sp, piece);

	if (i == SUPERSEED_MAX_OFFERS)
		return false;
	offer_drop(ss, sp, i);
	return true;
}

bool superseed_fetched(struct superseed *ss, struct superseed_peer *sp, uint32_t piece)
{
	if (piece >= ss->n_pieces || (ss->copies[piece] < ss->n_peers && !superseed_all_out(ss)))
		return false;
	return superseed_settle(ss, sp, piece);
}

bool superseed_sent(struct superseed_peer *sp, uint32_t piece, uint32_t length,
                    uint32_t piece_size)
{
	uint32_t i = offer_find(sp, piece);

	if (i == SUPERSEED_MAX_OFFERS || sp->sent[i] >= piece_size)
		return false;
	sp->sent[i] = length < piece_size - sp->sent[i] ? sp->sent[i] + length : piece_size;
	return sp->sent[i] == piece_size;
}

uint32_t superseed_expire(struct superseed *ss, struct superseed_peer *sp, uint64_t now)
{
	uint32_t n = 0;
	uint64_t patience = superseed_all_out(ss) ? SUPERSEED_PATIENCE_OUT_S : SUPERSEED_PATIENCE_S;

	for (uint32_t i = 0; i < sp->n_offers;) {
		if (now - sp->offered_at[i] >= patience) {
			offer_drop(ss, sp, i);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

uint32_t superseed_credit(uint64_t rate, uint32_t piece_length)
{
	uint64_t lead = rate * SUPERSEED_LEAD_S;

	if (lead < SUPERSEED_MIN_LEAD)
		lead = SUPERSEED_MIN_LEAD;
	uint64_t n = piece_length ? lead / piece_length : 1;
	return n < 1 ? 1 : n > SUPERSEED_MAX_OFFERS ? SUPERSEED_MAX_OFFERS : (uint32_t)n;
}

/* The rarest piece neither held by the peer nor told to it. */
static uint32_t rarest_untold(const struct superseed *ss, const struct bitfield *peer_has,
                              const struct bitfield *told)
{
	for (uint32_t c = 0; c < ss->score.n_lists; c++)
		for (uint32_t i = rarity_first(&ss->score, c); i != RARITY_NONE;
		     i = rarity_next(&ss->score, i))
			if (!bitfield_test(peer_has, i) && !bitfield_test(told, i))
				return i;
	return RARITY_NONE;
}

size_t superseed_offer(struct superseed *ss, struct superseed_peer *sp,
                       const struct bitfield *peer_has, struct bitfield *told,
                       uint32_t credit, uint64_t now, uint32_t *out, size_t max)
{
	size_t n = 0;

	if (credit > SUPERSEED_MAX_OFFERS)
		credit = SUPERSEED_MAX_OFFERS;
	while (n < max && sp->n_offers < credit) {
		uint32_t piece = rarest_untold(ss, peer_has, told);
		if (piece == RARITY_NONE)
			break;
		out[n++] = piece;
		bitfield_set(told, piece);
		sp->offer[sp->n_offers] = piece;
		sp->offered_at[sp->n_offers] = now;
		sp->sent[sp->n_offers] = 0;
		sp->n_offers++;
		rarity_inc(&ss->score, piece);
	}
	return n;
}
