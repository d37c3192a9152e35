#include "picker.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "rarity.h"
#include "xmalloc.h"

#define NONE UINT32_MAX

struct pblock {
	uint32_t req[2];    /* requesters; req[1] only with req[0] (end-game) */
	bool received;
};

/* Block state of a piece being downloaded. */
struct partial {
	uint32_t piece;
	uint32_t slot;       /* index in picker.active */
	uint32_t n_blocks;
	uint32_t n_free;     /* neither requested nor received */
	uint32_t n_received;
	uint32_t first_free; /* no free block below it */
	uint32_t owner;      /* peer that last took blocks of it */
	uint32_t avoid;      /* peer whose data failed the hash */
	uint32_t sender;     /* sole sender of received blocks so far */
	bool mixed;          /* blocks came from several peers */
	struct pblock *blocks;
};


struct picker {
	uint32_t n_pieces;
	uint32_t piece_length;
	uint32_t last_piece_size;
	uint32_t max_blocks;        /* blocks in a full piece */
	struct bitfield have;       /* verified */
	struct bitfield busy;       /* verified or partial: not a candidate */
	uint32_t *partial;          /* per piece: slot in active, or NONE */
	/* Per piece, bitfield peers having it (seeds not counted); the
	 * candidates are linked. */
	struct rarity avail;
	uint32_t n_seeds;
	struct partial **active;    /* partial pieces, unordered */
	uint32_t n_active;
	struct partial **pool;      /* spare partial records */
	uint32_t n_pool;
	uint64_t free_blocks;       /* free blocks over all partials */
	uint32_t outstanding;       /* requested, not received */
	uint32_t start_budget;      /* new pieces picker_next_blocks may start */
	picker_dup_fn dup_ok;       /* end-game filter, or NULL */
	void *dup_ctx;
};

/* --- Availability ------------------------------------------------------- */

void picker_peer_bitfield_add(struct picker *p, const struct bitfield *bf)
{
	assert(bf->nbits == p->n_pieces);
	for (uint32_t i = bitfield_next_set(bf, 0); i < p->n_pieces; i = bitfield_next_set(bf, i + 1))
		rarity_inc(&p->avail, i);
}

void picker_peer_bitfield_remove(struct picker *p, const struct bitfield *bf)
{
	assert(bf->nbits == p->n_pieces);
	for (uint32_t i = bitfield_next_set(bf, 0); i < p->n_pieces; i = bitfield_next_set(bf, i + 1))
		rarity_dec(&p->avail, i);
}

bool picker_peer_have(struct picker *p, uint32_t piece)
{
	if (piece >= p->n_pieces)
		return false;
	rarity_inc(&p->avail, piece);
	return true;
}

void picker_seed_add(struct picker *p)
{
	p->n_seeds++;
}

void picker_seed_remove(struct picker *p)
{
	if (p->n_seeds > 0)
		p->n_seeds--;
}

uint32_t picker_availability(const struct picker *p, uint32_t piece)
{
	if (piece >= p->n_pieces)
		return 0;
	return rarity_count(&p->avail, piece) + p->n_seeds;
}

/* --- Setup and geometry -------------------------------------------------- */

struct picker *picker_new(uint32_t n_pieces, uint32_t piece_length, uint64_t total_length,
                          uint64_t seed)
{
	assert(n_pieces > 0 && piece_length > 0);
	assert(total_length > (uint64_t)(n_pieces - 1) * piece_length);
	assert(total_length <= (uint64_t)n_pieces * piece_length);

	struct picker *p = xcalloc(1, sizeof *p);
	p->n_pieces = n_pieces;
	p->piece_length = piece_length;
	p->last_piece_size = (uint32_t)(total_length - (uint64_t)(n_pieces - 1) * piece_length);
	p->max_blocks = (piece_length + PICKER_BLOCK_SIZE - 1) / PICKER_BLOCK_SIZE;
	bitfield_init(&p->have, n_pieces);
	bitfield_init(&p->busy, n_pieces);
	p->partial = xreallocarray(NULL, n_pieces, sizeof *p->partial);
	for (uint32_t i = 0; i < n_pieces; i++)
		p->partial[i] = NONE;
	rarity_init(&p->avail, n_pieces, seed);
	rarity_link_all(&p->avail);
	p->start_budget = UINT32_MAX;
	return p;
}

static void partial_free(struct partial *pp)
{
	free(pp->blocks);
	free(pp);
}

void picker_free(struct picker *p)
{
	if (p == NULL)
		return;
	for (uint32_t i = 0; i < p->n_active; i++)
		partial_free(p->active[i]);
	for (uint32_t i = 0; i < p->n_pool; i++)
		partial_free(p->pool[i]);
	free(p->active);
	free(p->pool);
	rarity_fini(&p->avail);
	free(p->partial);
	bitfield_free(&p->have);
	bitfield_free(&p->busy);
	free(p);
}

uint32_t picker_piece_size(const struct picker *p, uint32_t piece)
{
	if (piece >= p->n_pieces)
		return 0;
	return piece == p->n_pieces - 1 ? p->last_piece_size : p->piece_length;
}

uint32_t picker_piece_blocks(const struct picker *p, uint32_t piece)
{
	return (picker_piece_size(p, piece) + PICKER_BLOCK_SIZE - 1) / PICKER_BLOCK_SIZE;
}

uint32_t picker_block_length(const struct picker *p, uint32_t piece, uint32_t offset)
{
	uint32_t size = picker_piece_size(p, piece);

	if (offset % PICKER_BLOCK_SIZE || offset >= size)
		return 0;
	return size - offset < PICKER_BLOCK_SIZE ? size - offset : PICKER_BLOCK_SIZE;
}

/* --- Partial pieces ------------------------------------------------------ */

static struct partial *partial_get(const struct picker *p, uint32_t piece)
{
	uint32_t slot = p->partial[piece];
	return slot == NONE ? NULL : p->active[slot];
}

static void partial_reset(struct picker *p, struct partial *pp)
{
	for (uint32_t k = 0; k < pp->n_blocks; k++)
		pp->blocks[k] = (struct pblock){ { PICKER_NO_TAG, PICKER_NO_TAG }, false };
	pp->n_free = pp->n_blocks;
	pp->n_received = 0;
	pp->first_free = 0;
	pp->owner = PICKER_NO_TAG;
	pp->avoid = PICKER_NO_TAG;
	pp->sender = PICKER_NO_TAG;
	pp->mixed = false;
	p->free_blocks += pp->n_blocks;
}

/* Turns a candidate into a partial piece with every block free. The active
 * and pool arrays hold at most n_pieces records each, so they are sized
 * once, on the first start. */
static struct partial *partial_start(struct picker *p, uint32_t piece)
{
	struct partial *pp;

	if (p->active == NULL) {
		p->active = xreallocarray(NULL, p->n_pieces, sizeof *p->active);
		p->pool = xreallocarray(NULL, p->n_pieces, sizeof *p->pool);
	}
	if (p->n_pool > 0) {
		pp = p->pool[--p->n_pool];
	} else {
		pp = xmalloc(sizeof *pp);
		pp->blocks = xreallocarray(NULL, p->max_blocks, sizeof *pp->blocks);
	}
	rarity_unlink(&p->avail, piece);
	bitfield_set(&p->busy, piece);
	pp->piece = piece;
	pp->n_blocks = picker_piece_blocks(p, piece);
	partial_reset(p, pp);
	pp->slot = p->n_active;
	p->active[p->n_active++] = pp;
	p->partial[piece] = pp->slot;
	return pp;
}

static uint32_t partial_requested(const struct partial *pp)
{
	return pp->n_blocks - pp->n_free - pp->n_received;
}

/* Drops a partial piece's record (the piece becomes ours). */
static void partial_release(struct picker *p, struct partial *pp)
{
	p->free_blocks -= pp->n_free;
	p->outstanding -= partial_requested(pp);
	struct partial *last = p->active[--p->n_active];
	p->active[pp->slot] = last;
	last->slot = pp->slot;
	p->partial[last->piece] = last->slot;
	/* After the move: pp may be last. */
	p->partial[pp->piece] = NONE;
	p->pool[p->n_pool++] = pp;
}

/* Takes up to max free blocks of pp for peer tag, from the first free. */
static size_t partial_take(struct picker *p, struct partial *pp, uint32_t tag,
                           struct block_req *out, size_t max)
{
	size_t got = 0;
	uint32_t k = pp->first_free;

	for (; k < pp->n_blocks && got < max && pp->n_free > 0; k++) {
		struct pblock *b = &pp->blocks[k];
		if (b->received || b->req[0] != PICKER_NO_TAG)
			continue;
		b->req[0] = tag;
		out[got].piece = pp->piece;
		out[got].offset = k * PICKER_BLOCK_SIZE;
		out[got].length = picker_block_length(p, pp->piece, out[got].offset);
		got++;
		pp->n_free--;
	}
	pp->first_free = k;
	if (got > 0) {
		p->free_blocks -= got;
		p->outstanding += (uint32_t)got;
		pp->owner = tag;
		if (pp->avoid != tag)
			pp->avoid = PICKER_NO_TAG;
	}
	return got;
}

/* Removes tag from b's requesters; true when it was one. Frees the block
 * when nobody is left. */
static bool block_unrequest(struct picker *p, struct partial *pp, uint32_t k, uint32_t tag)
{
	struct pblock *b = &pp->blocks[k];

	if (b->received || tag == PICKER_NO_TAG)
		return false;
	if (b->req[0] == tag) {
		b->req[0] = b->req[1];
	} else if (b->req[1] != tag) {
		return false;
	}
	b->req[1] = PICKER_NO_TAG;
	if (b->req[0] == PICKER_NO_TAG) {
		pp->n_free++;
		p->free_blocks++;
		p->outstanding--;
		if (k < pp->first_free)
			pp->first_free = k;
	}
	return true;
}

/* --- Our pieces ---------------------------------------------------------- */

bool picker_set_have(struct picker *p, uint32_t piece)
{
	if (piece >= p->n_pieces)
		return false;
	if (bitfield_test(&p->have, piece))
		return true;
	struct partial *pp = partial_get(p, piece);
	if (pp != NULL) {
		partial_release(p, pp);
	} else {
		rarity_unlink(&p->avail, piece);
		bitfield_set(&p->busy, piece);
	}
	bitfield_set(&p->have, piece);
	return true;
}

static struct partial *partial_complete(const struct picker *p, uint32_t piece)
{
	if (piece >= p->n_pieces)
		return NULL;
	struct partial *pp = partial_get(p, piece);
	return pp != NULL && pp->n_received == pp->n_blocks ? pp : NULL;
}

bool picker_piece_passed(struct picker *p, uint32_t piece)
{
	struct partial *pp = partial_complete(p, piece);

	if (pp == NULL)
		return false;
	partial_release(p, pp);
	bitfield_set(&p->have, piece);
	return true;
}

bool picker_piece_failed(struct picker *p, uint32_t piece, uint32_t avoid_tag)
{
	struct partial *pp = partial_complete(p, piece);

	if (pp == NULL)
		return false;
	partial_reset(p, pp);
	pp->avoid = avoid_tag;
	return true;
}

uint32_t picker_piece_sender(const struct picker *p, uint32_t piece)
{
	const struct partial *pp = partial_complete(p, piece);

	return pp == NULL || pp->mixed ? PICKER_NO_TAG : pp->sender;
}

uint32_t picker_have_count(const struct picker *p)
{
	return bitfield_count(&p->have);
}

bool picker_is_complete(const struct picker *p)
{
	return bitfield_all(&p->have);
}

const struct bitfield *picker_have(const struct picker *p)
{
	return &p->have;
}

bool picker_interesting(const struct picker *p, const struct bitfield *peer_has)
{
	if (peer_has == NULL)
		return !picker_is_complete(p);
	return bitfield_any_andnot(peer_has, &p->have);
}

uint32_t picker_outstanding(const struct picker *p)
{
	return p->outstanding;
}

/* --- Picking ------------------------------------------------------------- */

static bool peer_has_piece(const struct bitfield *peer_has, uint32_t piece)
{
	return peer_has == NULL || bitfield_test(peer_has, piece);
}

/* Appends to cands (up to want) the candidates of availability c the
 * peer has. */
static void collect_avail(const struct picker *p, uint32_t c, const struct bitfield *peer_has,
                           uint32_t *cands, uint32_t *n, uint32_t want)
{
	for (uint32_t i = rarity_first(&p->avail, c); i != RARITY_NONE && *n < want;
	     i = rarity_next(&p->avail, i))
		if (peer_has_piece(peer_has, i))
			cands[(*n)++] = i;
}

/* The rarest candidate the peer has (a random one of the first few early
 * on), or NONE. A peer counted by bitfield has its pieces at availability
 * 1 or more, so availability 0 is looked at last for it. */
static uint32_t pick_new(struct picker *p, const struct bitfield *peer_has)
{
	uint32_t cands[PICKER_RANDOM_FIRST];
	uint32_t n = 0;
	uint32_t want = picker_have_count(p) < PICKER_RANDOM_UNTIL ? PICKER_RANDOM_FIRST : 1;

	if (p->avail.n_linked == 0)
		return NONE;
	if (peer_has != NULL && !bitfield_any_andnot(peer_has, &p->busy))
		return NONE;
	for (uint32_t c = peer_has != NULL; c < p->avail.n_lists && n < want; c++)
		collect_avail(p, c, peer_has, cands, &n, want);
	if (peer_has != NULL && n < want)
		collect_avail(p, 0, peer_has, cands, &n, want);
	if (n == 0)
		return NONE;
	return cands[n > 1 ? rarity_below(&p->avail, n) : 0];
}

/* Steps 1, 2 and 4 of the policy over the partial pieces. */
enum partial_pass { PASS_OWN, PASS_OTHERS, PASS_AVOIDED };

static bool pass_accepts(const struct partial *pp, enum partial_pass pass, uint32_t tag)
{
	switch (pass) {
	case PASS_OWN:
		return pp->owner == tag && pp->avoid != tag;
	case PASS_OTHERS:
		return pp->owner != tag && pp->avoid != tag;
	case PASS_AVOIDED:
		return pp->avoid == tag;
	}
	return false;
}

static size_t take_partials(struct picker *p, const struct bitfield *peer_has, uint32_t tag,
                            enum partial_pass pass, struct block_req *out, size_t max)
{
	size_t n = 0;

	if (p->free_blocks == 0)
		return 0;
	for (uint32_t i = 0; i < p->n_active && n < max; i++) {
		struct partial *pp = p->active[i];
		if (pp->n_free > 0 && pass_accepts(pp, pass, tag) && peer_has_piece(peer_has, pp->piece))
			n += partial_take(p, pp, tag, out + n, max - n);
	}
	return n;
}

/* Every missing block is requested: nothing free in partials, and no piece
 * left to start. Pieces nobody has yet do not count as left: a super-seed
 * hides most pieces until late, and taking that for the end game had
 * leechers fetch blocks twice, the origin's copy arriving anyway (the
 * scarcest upload of the swarm: 0.2-0.4 copies of the file wasted). */
static bool endgame(const struct picker *p)
{
	return p->free_blocks == 0 && p->avail.n_linked == 0;
}

static size_t take_duplicates(struct picker *p, const struct bitfield *peer_has, uint32_t tag,
                              struct block_req *out, size_t max)
{
	size_t n = 0;

	for (uint32_t i = 0; i < p->n_active && n < max; i++) {
		struct partial *pp = p->active[i];
		if (partial_requested(pp) == 0 || !peer_has_piece(peer_has, pp->piece))
			continue;
		for (uint32_t k = 0; k < pp->n_blocks && n < max; k++) {
			struct pblock *b = &pp->blocks[k];
			if (b->received || b->req[0] == PICKER_NO_TAG || b->req[0] == tag ||
			    b->req[1] != PICKER_NO_TAG ||
			    (p->dup_ok && !p->dup_ok(p->dup_ctx, b->req[0])))
				continue;
			b->req[1] = tag;
			out[n].piece = pp->piece;
			out[n].offset = k * PICKER_BLOCK_SIZE;
			out[n].length = picker_block_length(p, pp->piece, out[n].offset);
			n++;
		}
	}
	return n;
}

void picker_set_start_budget(struct picker *p, uint32_t n)
{
	p->start_budget = n;
}

void picker_set_dup_filter(struct picker *p, picker_dup_fn fn, void *ctx)
{
	p->dup_ok = fn;
	p->dup_ctx = ctx;
}

size_t picker_next_blocks(struct picker *p, const struct bitfield *peer_has, uint32_t peer_tag,
                          struct block_req *out, size_t max)
{
	size_t n = 0;

	assert(peer_has == NULL || peer_has->nbits == p->n_pieces);
	if (peer_tag == PICKER_NO_TAG)
		return 0;
	n += take_partials(p, peer_has, peer_tag, PASS_OWN, out + n, max - n);
	n += take_partials(p, peer_has, peer_tag, PASS_OTHERS, out + n, max - n);
	while (n < max && p->start_budget > 0) {
		uint32_t piece = pick_new(p, peer_has);
		if (piece == NONE)
			break;
		p->start_budget--;
		n += partial_take(p, partial_start(p, piece), peer_tag, out + n, max - n);
	}
	n += take_partials(p, peer_has, peer_tag, PASS_AVOIDED, out + n, max - n);
	if (n < max && endgame(p))
		n += take_duplicates(p, peer_has, peer_tag, out + n, max - n);
	return n;
}

/* --- Replies ------------------------------------------------------------- */

void picker_block_received(struct picker *p, uint32_t piece, uint32_t offset, uint32_t length,
                           uint32_t peer_tag, struct picker_recv *r)
{
	*r = (struct picker_recv){ .other_tag = PICKER_NO_TAG };
	if (length == 0 || picker_block_length(p, piece, offset) != length)
		return;
	struct partial *pp = partial_get(p, piece);
	if (pp == NULL)
		return;
	uint32_t k = offset / PICKER_BLOCK_SIZE;
	struct pblock *b = &pp->blocks[k];
	if (b->received)
		return;

	/* Whoever else still has it requested gets a cancel. */
	block_unrequest(p, pp, k, peer_tag);
	if (b->req[0] != PICKER_NO_TAG) {
		r->cancel_other = true;
		r->other_tag = b->req[0];
		p->outstanding--;
	} else {
		pp->n_free--;
		p->free_blocks--;
	}
	b->req[0] = b->req[1] = PICKER_NO_TAG;
	b->received = true;
	pp->n_received++;
	if (pp->n_received == 1)
		pp->sender = peer_tag;
	else if (pp->sender != peer_tag)
		pp->mixed = true;
	r->wanted = true;
	r->piece_done = pp->n_received == pp->n_blocks;
}

bool picker_block_cancel(struct picker *p, uint32_t piece, uint32_t offset, uint32_t peer_tag)
{
	if (picker_block_length(p, piece, offset) == 0)
		return false;
	struct partial *pp = partial_get(p, piece);
	if (pp == NULL)
		return false;
	return block_unrequest(p, pp, offset / PICKER_BLOCK_SIZE, peer_tag);
}

size_t picker_peer_gone(struct picker *p, uint32_t peer_tag)
{
	size_t n = 0;

	if (peer_tag == PICKER_NO_TAG)
		return 0;
	for (uint32_t i = 0; i < p->n_active; i++) {
		struct partial *pp = p->active[i];
		if (pp->owner == peer_tag)
			pp->owner = PICKER_NO_TAG;
		if (partial_requested(pp) == 0)
			continue;
		for (uint32_t k = 0; k < pp->n_blocks; k++)
			n += block_unrequest(p, pp, k, peer_tag);
	}
	return n;
}
