#include "choker.h"

#include <assert.h>

/* A peer's place in the ranking for regular slots: higher rate first, then
 * peers unchoked already (no churn between equals), then lower index, so
 * the order is total and the k best can be found without marking them. */
struct rank_key {
	uint64_t rate;
	bool unchoked;
	size_t idx;
};

static struct rank_key key_of(const struct choker_peer *peers, size_t i, enum choker_mode mode)
{
	const struct choker_peer *pr = &peers[i];

	return (struct rank_key){
		.rate = mode == CHOKER_SEEDING ? pr->rate_to_peer : pr->rate_from_peer,
		.unchoked = pr->unchoked,
		.idx = i,
	};
}

static bool key_better(struct rank_key a, struct rank_key b)
{
	if (a.rate != b.rate)
		return a.rate > b.rate;
	if (a.unchoked != b.unchoked)
		return a.unchoked;
	return a.idx < b.idx;
}

static bool wants_upload(const struct choker_peer *pr)
{
	return pr->interested && !pr->is_seed;
}

static bool rank_eligible(const struct choker_peer *pr)
{
	return wants_upload(pr) && !pr->snubbed;
}

/* Finds the key of the last peer that gets a regular slot (the k-th best
 * eligible one, or the worst eligible when there are fewer): every eligible
 * peer ranking at least as high gets a slot. O(n * k). False when nobody
 * gets one. */
static bool regular_cutoff(const struct choker_peer *peers, size_t n, enum choker_mode mode,
                           uint32_t k, struct rank_key *cut)
{
	bool have_cut = false;

	for (uint32_t s = 0; s < k; s++) {
		bool found = false;
		struct rank_key best = { 0 };
		for (size_t i = 0; i < n; i++) {
			if (!rank_eligible(&peers[i]))
				continue;
			struct rank_key ki = key_of(peers, i, mode);
			if (have_cut && !key_better(*cut, ki))
				continue;
			if (!found || key_better(ki, best)) {
				best = ki;
				found = true;
			}
		}
		if (!found)
			break;
		*cut = best;
		have_cut = true;
	}
	return have_cut;
}

/* Who gets a regular slot: every eligible peer ranking at least as high as
 * cut; while leeching, also those (up to as many again) that send us at
 * least CHOKER_PEER_SHARE of what the last of them does. */
struct regulars {
	bool have_cut, have_ext;
	struct rank_key cut, ext_cut;
	uint64_t min_rate;
};

static struct regulars find_regulars(const struct choker_peer *peers, size_t n,
                                     const struct choker_params *prm)
{
	struct regulars r = { 0 };
	uint32_t k = prm->upload_slots - 1;

	r.have_cut = regular_cutoff(peers, n, prm->mode, k, &r.cut);
	if (r.have_cut && prm->mode == CHOKER_LEECHING && r.cut.rate > 0 &&
	    k <= UINT32_MAX - prm->upload_slots) {
		r.have_ext = regular_cutoff(peers, n, prm->mode, k + prm->upload_slots, &r.ext_cut);
		r.min_rate = r.cut.rate / CHOKER_PEER_SHARE_DEN * CHOKER_PEER_SHARE_NUM;
	}
	return r;
}

static bool is_regular(const struct choker_peer *peers, size_t i, enum choker_mode mode,
                       const struct regulars *r)
{
	if (!r->have_cut || !rank_eligible(&peers[i]))
		return false;
	struct rank_key ki = key_of(peers, i, mode);
	if (!key_better(r->cut, ki))
		return true;
	return r->have_ext && !key_better(r->ext_cut, ki) && ki.rate >= r->min_rate;
}

/* The optimistic unchoke: the current one if it still qualifies and it is
 * not time to rotate, else a weighted random pick. n when there is none. */
static size_t pick_optimistic(const struct choker_peer *peers, size_t n,
                              const struct choker_params *prm, const struct regulars *r)
{
	bool rotate = prm->round % CHOKER_OPTIMISTIC_ROUNDS == 0;
	uint32_t total = 0;

	for (size_t i = 0; i < n; i++) {
		if (!wants_upload(&peers[i]) || is_regular(peers, i, prm->mode, r))
			continue;
		if (peers[i].optimistic && !rotate)
			return i;
		total += peers[i].is_new ? CHOKER_NEW_WEIGHT : 1;
	}
	if (total == 0)
		return n;
	uint32_t x = prm->rand(prm->rand_ctx, total);
	for (size_t i = 0; i < n; i++) {
		if (!wants_upload(&peers[i]) || is_regular(peers, i, prm->mode, r))
			continue;
		uint32_t w = peers[i].is_new ? CHOKER_NEW_WEIGHT : 1;
		if (x < w)
			return i;
		x -= w;
	}
	return n; /* not reached: x < total */
}

size_t choker_run(struct choker_peer *peers, size_t n, const struct choker_params *prm)
{
	struct regulars r = { 0 };
	size_t opt = n;
	size_t unchoked = 0;

	assert(n <= UINT32_MAX / CHOKER_NEW_WEIGHT);
	if (prm->upload_slots > 0) {
		r = find_regulars(peers, n, prm);
		opt = pick_optimistic(peers, n, prm, &r);
	}
	/* Decide from the records' old state before overwriting any of it. */
	for (size_t i = 0; i < n; i++) {
		bool regular = is_regular(peers, i, prm->mode, &r);
		peers[i].optimistic = i == opt;
		peers[i].unchoked = regular || i == opt;
		unchoked += peers[i].unchoked;
	}
	return unchoked;
}

/* The best ranked choked peer that wants data (snubbed ones only when no
 * other waits), or n. */
static size_t best_waiting(const struct choker_peer *peers, size_t n, enum choker_mode mode)
{
	size_t best = n;

	for (size_t i = 0; i < n; i++) {
		if (peers[i].unchoked || !wants_upload(&peers[i]))
			continue;
		if (best == n || (peers[best].snubbed && !peers[i].snubbed) ||
		    (peers[best].snubbed == peers[i].snubbed &&
		     key_better(key_of(peers, i, mode), key_of(peers, best, mode))))
			best = i;
	}
	return best;
}

size_t choker_refill(struct choker_peer *peers, size_t n, const struct choker_params *prm)
{
	uint32_t busy = 0;
	size_t done = 0;

	for (size_t i = 0; i < n; i++)
		busy += peers[i].unchoked && wants_upload(&peers[i]);
	while (busy < prm->upload_slots) {
		size_t i = best_waiting(peers, n, prm->mode);
		if (i == n)
			break;
		peers[i].unchoked = true;
		busy++;
		done++;
	}
	return done;
}
