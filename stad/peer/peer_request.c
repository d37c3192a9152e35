/* The download pipeline of one peer: keep enough block requests in flight
 * to fill the pipe, take blocks straight into their piece buffers, handle
 * chokes, rejects and snubbing. */
#include "peer_request.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <string.h>

#include "log.h"
#include "peer.h"
#include "context.h"
#include "torrent.h"

#define FILL_BATCH 64u

uint32_t peer_request_depth(uint64_t rate, bool snubbed)
{
	if (snubbed)
		return PEER_SNUB_DEPTH;
	/* On top of the rate's share, what waits in the peer's own queues
	 * whatever its rate (twice PEER_UP_LOW with stad):
	 * a pipeline that does not cover them keeps a slow flow slow. */
	uint64_t d = PEER_MIN_DEPTH + rate / 1000 * PEER_PIPELINE_MS / PICKER_BLOCK_SIZE;
	return d > PEER_MAX_DEPTH ? PEER_MAX_DEPTH : (uint32_t)d;
}

static struct block_req *req_at(struct peer *p, uint32_t i)
{
	return &p->req[(p->req_head + i) % PEER_MAX_DEPTH];
}

static void req_push(struct peer *p, const struct block_req *r)
{
	if (p->n_req == 0)
		p->last_block = session_now(p->s); /* the snub clock starts now */
	*req_at(p, p->n_req++) = *r;
}

/* Removes our request for this block; false when there was none. Blocks
 * mostly arrive in request order, so the front is checked first. */
static bool req_remove(struct peer *p, uint32_t piece, uint32_t begin)
{
	for (uint32_t i = 0; i < p->n_req; i++) {
		struct block_req *r = req_at(p, i);
		if (r->piece != piece || r->offset != begin)
			continue;
		if (i == 0) {
			p->req_head = (p->req_head + 1) % PEER_MAX_DEPTH;
		} else {
			for (uint32_t j = i; j + 1 < p->n_req; j++)
				*req_at(p, j) = *req_at(p, j + 1);
		}
		p->n_req--;
		return true;
	}
	return false;
}

/* Takes piece buffers for new requests; gives back to the picker what
 * cannot get one (cache budget spent). Returns how many may go out. */
static size_t reserve_buffers(struct peer *p, const struct block_req *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (torrent_piece_buf_get(p->t, out[i].piece))
			continue;
		for (size_t j = i; j < n; j++)
			picker_block_cancel(p->t->picker, out[j].piece, out[j].offset, p->tag);
		return i;
	}
	return n;
}

/* Seconds (x 2^16) until the last of n more requests to p comes back
 * at its rate (a peer we have no rate for yet counts as a slow one). */
static uint64_t drain_time(const struct peer *p, uint32_t n)
{
	uint64_t rate = p->rate_down > PEER_SLOW_RATE ? p->rate_down : PEER_SLOW_RATE;

	if (p->snubbed)
		return UINT64_MAX;
	return ((uint64_t)(p->n_req + n) * PICKER_BLOCK_SIZE << 16) / rate;
}

/* End game: the peer filling (ctx) asks for a block another peer has
 * requested only if it will likely send it sooner; a slow link's upload
 * is not spent on blocks a fast peer is about to deliver. */
static bool sooner_than(void *ctx, uint32_t holder)
{
	struct peer *p = ctx;
	struct peer *q = torrent_find_peer(p->t, holder);

	return q == NULL || drain_time(p, 1) < drain_time(q, 0);
}

void peer_request_fill(struct peer *p)
{
	struct torrent *t = p->t;
	struct block_req out[FILL_BATCH];
	uint8_t msgs[FILL_BATCH * PW_LEN_BLOCK];

	if (t == NULL || !p->hs_done || !p->am_interested || t->state != TS_DOWNLOADING)
		return;
	const struct bitfield *from = p->seed_counted ? NULL : &p->has;
	if (p->peer_choking) {
		/* BEP 6: a Fast peer serves its allowed-fast pieces anyway. */
		if (!p->fast || bitfield_none(&p->af_pick))
			return;
		from = &p->af_pick;
	}
	/* Start only the pieces a buffer can be had for: a started piece
	 * without one would be picked, given back and picked again on every
	 * read (188,000 times in a 1 GiB download before this). */
	picker_set_start_budget(t->picker, piece_pool_room(&p->s->pool, t->mi.piece_length));
	picker_set_dup_filter(t->picker, sooner_than, p);
	while (p->n_req < p->depth) {
		size_t want = p->depth - p->n_req;
		if (want > FILL_BATCH)
			want = FILL_BATCH;
		size_t n = picker_next_blocks(t->picker, from, p->tag, out, want);
		size_t ok = reserve_buffers(p, out, n);
		size_t len = 0;
		for (size_t i = 0; i < ok; i++) {
			req_push(p, &out[i]);
			len += peer_wire_put_block(msgs + len, PW_MSG_REQUEST, out[i].piece,
			                           out[i].offset, out[i].length);
		}
		if (len)
			bufferevent_write(p->bev, msgs, len);
		if (ok < want)
			break;
	}
	picker_set_dup_filter(t->picker, NULL, NULL); /* p may be gone by the next use */
}

/* End-game: another peer still has this block requested. */
static void cancel_other(struct torrent *t, uint32_t tag, uint32_t piece, uint32_t begin,
                         uint32_t length)
{
	struct peer *q = torrent_find_peer(t, tag);

	if (q && req_remove(q, piece, begin)) {
		picker_block_cancel(t->picker, piece, begin, tag);
		peer_send_block_msg(q, PW_MSG_CANCEL, piece, begin, length);
	}
}

/* Where a block goes: its piece's buffer, or NULL to drop it. A buffer is
 * taken only for a block we asked this peer for: unsolicited blocks must
 * not eat the cache budget. */
static struct piece_buf *block_dest(struct torrent *t, uint32_t piece, bool asked)
{
	struct piece_buf *pb = torrent_piece_buf(t, piece);

	if (pb)
		return pb->verifying ? NULL : pb;
	if (!asked || piece >= t->mi.n_pieces || bitfield_test(picker_have(t->picker), piece))
		return NULL;
	return torrent_piece_buf_get(t, piece);
}

void peer_request_block(struct peer *p, uint32_t piece, uint32_t begin, uint32_t length,
                        struct evbuffer *in)
{
	struct torrent *t = p->t;
	struct picker_recv r;

	bool asked = req_remove(p, piece, begin);
	p->bytes_down += length;
	if (asked) { /* unsolicited blocks do not count as service */
		p->last_block = session_now(p->s);
		p->snubbed = false;
	}
	struct piece_buf *pb = t->state == TS_DOWNLOADING ? block_dest(t, piece, asked) : NULL;
	if (pb == NULL) {
		evbuffer_drain(in, length);
		t->wasted += length;
		return;
	}
	picker_block_received(t->picker, piece, begin, length, p->tag, &r);
	if (!r.wanted) {
		evbuffer_drain(in, length);
		t->wasted += length;
		return;
	}
	evbuffer_remove(in, pb->data + begin, length);
	piece_buf_contrib(pb, p->tag);
	p->blocks_down++;
	t->downloaded += length;
	if (r.cancel_other)
		cancel_other(t, r.other_tag, piece, begin, length);
	if (r.piece_done)
		torrent_piece_complete(t, pb);
}

void peer_request_release(struct peer *p)
{
	if (p->t && p->n_req)
		picker_peer_gone(p->t->picker, p->tag);
	p->n_req = 0;
	p->req_head = 0;
}

void peer_request_choked(struct peer *p)
{
	/* BEP 6: with the Fast extension a choke voids nothing; each request
	 * gets a reject. Without it every request is gone. */
	if (!p->fast)
		peer_request_release(p);
}

void peer_request_rejected(struct peer *p, uint32_t piece, uint32_t begin, uint32_t length)
{
	if (req_remove(p, piece, begin))
		picker_block_cancel(p->t->picker, piece, begin, p->tag);
}

void peer_request_tick(struct peer *p)
{
	uint64_t now = session_now(p->s);

	if (p->n_req && !p->snubbed && now - p->last_block > PEER_SNUB_S) {
		log_info("%s: %s snubbed us: no block for %d s, its %u requests go to others",
		         p->t->hex, p->addr_str, PEER_SNUB_S, p->n_req);
		p->snubbed = true;
		for (uint32_t i = 0; i < p->n_req; i++) {
			struct block_req *r = req_at(p, i);
			peer_send_block_msg(p, PW_MSG_CANCEL, r->piece, r->offset, r->length);
		}
		peer_request_release(p);
	}
	p->depth = peer_request_depth(p->rate_down, p->snubbed);
}
