/* Serving blocks. Requests are checked strictly, queued per peer (at most
 * PEER_MAX_UPQ), and read on a worker in batches: the job reads straight
 * into an evbuffer of its own (header + block, one reserve/commit each),
 * and the loop moves that buffer's chains onto the socket's output without
 * copying. Reads stay off the loop thread (a cold disk never stalls it),
 * and the batch amortises the hand-off. sendfile was the alternative, but
 * blocks may span files, storage keeps its fds private, and a sendfile
 * segment still blocks the loop on a page-cache miss. */
#include "upload.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "peer.h"
#include "context.h"
#include "storage.h"
#include "torrent.h"
#include "torrent_superseed.h"
#include "workpool.h"
#include "xmalloc.h"

#define UPLOAD_BATCH 32u

struct upload_job {
	struct work_item item;
	struct torrent *t;
	uint32_t peer_tag;
	struct evbuffer *buf;
	uint32_t n;
	uint64_t bytes;
	struct upload_req reqs[UPLOAD_BATCH];
	char err[160];
};

static struct upload_req *upq_at(struct peer *p, uint32_t i)
{
	return &p->upq[(p->upq_head + i) % PEER_MAX_UPQ];
}

static void refuse(struct peer *p, uint32_t piece, uint32_t begin, uint32_t length)
{
	/* BEP 6: a Fast peer hears about it; others just never get the block. */
	if (p->fast)
		peer_send_block_msg(p, PW_MSG_REJECT, piece, begin, length);
}

static bool allowed_fast(const struct peer *p, uint32_t piece)
{
	for (uint32_t i = 0; i < p->n_af_out; i++)
		if (p->af_out[i] == piece)
			return true;
	return false;
}

void upload_on_request(struct peer *p, uint32_t piece, uint32_t begin, uint32_t length)
{
	struct torrent *t = p->t;
	uint32_t psize = metainfo_piece_size(&t->mi, piece);
	struct upload_facts f = {
		.piece_size = psize,
		.max_block = MI_BLOCK_SIZE,
		.fast = p->fast,
		.have = psize && bitfield_test(picker_have(t->picker), piece),
		.serving = t->st != NULL && !t->paused,
		.choking = p->am_choking,
		.allowed_fast = allowed_fast(p, piece),
		.queued = p->n_upq,
		.queue_cap = PEER_MAX_UPQ,
	};
	const char *why;

	switch (upload_rule(&f, begin, length, &why)) {
	case UPLOAD_SERVE:
		*upq_at(p, p->n_upq++) = (struct upload_req){ piece, begin, length };
		upload_pump(p);
		break;
	case UPLOAD_REJECT:
		peer_send_block_msg(p, PW_MSG_REJECT, piece, begin, length);
		break;
	case UPLOAD_IGNORE:
		break;
	case UPLOAD_CLOSE:
		peer_close(p, why);
		break;
	}
}

void upload_on_cancel(struct peer *p, uint32_t piece, uint32_t begin, uint32_t length)
{
	for (uint32_t i = 0; i < p->n_upq; i++) {
		struct upload_req *r = upq_at(p, i);
		if (r->piece != piece || r->begin != begin || r->length != length)
			continue;
		for (uint32_t j = i; j + 1 < p->n_upq; j++)
			*upq_at(p, j) = *upq_at(p, j + 1);
		p->n_upq--;
		return;
	}
}

void upload_choked(struct peer *p)
{
	uint32_t kept = 0;

	/* Requests for allowed-fast pieces stay queued (BEP 6). */
	for (uint32_t i = 0; i < p->n_upq; i++) {
		struct upload_req r = *upq_at(p, i);
		if (allowed_fast(p, r.piece))
			*upq_at(p, kept++) = r;
		else
			refuse(p, r.piece, r.begin, r.length);
	}
	p->n_upq = kept;
}

/* Worker: reads every block of the batch behind its piece header. */
static void upload_work(struct work_item *item)
{
	struct upload_job *j = container_of(item, struct upload_job, item);

	item->status = 0;
	for (uint32_t i = 0; i < j->n; i++) {
		const struct upload_req *r = &j->reqs[i];
		struct evbuffer_iovec v;
		if (evbuffer_reserve_space(j->buf, PW_LEN_PIECE_HDR + r->length, &v, 1) != 1) {
			snprintf(j->err, sizeof j->err, "out of memory");
			item->status = -1;
			return;
		}
		uint8_t *dst = v.iov_base;
		peer_wire_put_piece_header(dst, r->piece, r->begin, r->length);
		if (storage_read(j->t->st, r->piece, r->begin, dst + PW_LEN_PIECE_HDR, r->length,
		                 j->err, sizeof j->err) < 0) {
			item->status = -1;
			return;
		}
		v.iov_len = PW_LEN_PIECE_HDR + r->length;
		evbuffer_commit_space(j->buf, &v, 1);
		j->bytes += r->length;
	}
}

static void deliver(struct peer *p, struct upload_job *j)
{
	struct torrent *t = j->t;

	evbuffer_add_buffer(peer_output(p), j->buf);
	for (uint32_t i = 0; i < j->n && !p->dead; i++)
		torrent_superseed_sent(p, j->reqs[i].piece, j->reqs[i].length);
	p->bytes_up += j->bytes;
	p->blocks_up += j->n;
	p->last_send = session_now(p->s);
	t->uploaded += j->bytes;
	t->resume_dirty = true;
}

static void upload_done(struct work_item *item)
{
	struct upload_job *j = container_of(item, struct upload_job, item);
	struct torrent *t = j->t;
	struct peer *p = NULL;

	t->jobs--;
	if (!t->dead) {
		p = torrent_find_peer(t, j->peer_tag);
		if (item->status < 0)
			log_err("%s: cannot read for upload: %s", t->hex, j->err);
	}
	if (p && !p->dead) {
		p->up_busy = false;
		if (item->status < 0)
			peer_close(p, "read error");
		else
			deliver(p, j);
		if (!p->dead)
			upload_pump(p);
	}
	evbuffer_free(j->buf);
	free(j);
	if (t->dead && t->jobs == 0)
		torrent_free(t);
}

uint32_t upload_ahead(uint64_t rate, uint32_t ms)
{
	uint64_t n = rate / 1000 * ms;

	return n < PEER_UP_LOW ? PEER_UP_LOW : n > PEER_UP_HIGH ? PEER_UP_HIGH : (uint32_t)n;
}

void upload_pump(struct peer *p)
{
	struct torrent *t = p->t;
	uint32_t ahead = upload_ahead(p->rate_up, PEER_UP_AHEAD_MS);
	size_t queued;

	if (p->dead || p->up_busy || p->n_upq == 0 || t->st == NULL ||
	    (queued = evbuffer_get_length(peer_output(p))) >= ahead)
		return;
	/* One read for the room left (at least a block), at most a batch. */
	uint32_t batch = (uint32_t)((ahead - queued) / MI_BLOCK_SIZE) + 1;
	if (batch > UPLOAD_BATCH)
		batch = UPLOAD_BATCH;
	struct upload_job *j = xcalloc(1, sizeof *j);
	j->item.work = upload_work;
	j->item.done = upload_done;
	j->t = t;
	j->peer_tag = p->tag;
	j->buf = evbuffer_new();
	while (j->n < batch && p->n_upq > 0) {
		j->reqs[j->n++] = *upq_at(p, 0);
		p->upq_head = (p->upq_head + 1) % PEER_MAX_UPQ;
		p->n_upq--;
	}
	p->up_busy = true;
	t->jobs++;
	workpool_submit(t->s->wp, &j->item);
}
