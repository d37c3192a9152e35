/* RC4 on a bufferevent's buffers (see mse_stream.h). */
#include "mse_stream.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdlib.h>

#include "xmalloc.h"

#define MSE_STREAM_IOV 16

struct mse_stream {
	struct mse_rc4 enc, dec;
	uint64_t dec_left;
	struct evbuffer_cb_entry *out_cb, *in_cb;
};

/* RC4 over buf[from, from + n), in place on its chains. */
static void crypt_range(struct evbuffer *buf, struct mse_rc4 *rc4, size_t from, size_t n)
{
	struct evbuffer_ptr at;
	struct evbuffer_iovec v[MSE_STREAM_IOV];

	if (n == 0)
		return;
	if (evbuffer_ptr_set(buf, &at, from, EVBUFFER_PTR_SET) != 0)
		abort(); /* from + n is inside the buffer: the caller's arithmetic */
	while (n > 0) {
		int k = evbuffer_peek(buf, (ev_ssize_t)n, &at, v, MSE_STREAM_IOV);
		size_t done = 0;
		if (k <= 0)
			abort();
		for (int i = 0; i < k && i < MSE_STREAM_IOV && done < n; i++) {
			size_t m = v[i].iov_len < n - done ? v[i].iov_len : n - done;
			mse_rc4_crypt(rc4, v[i].iov_base, m);
			done += m;
		}
		n -= done;
		if (n > 0 && evbuffer_ptr_set(buf, &at, done, EVBUFFER_PTR_ADD) != 0)
			abort();
	}
}

/* Added bytes are the last n_added: the connection only appends. */
static void on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct mse_stream *m = arg;

	if (info->n_added)
		crypt_range(buf, &m->enc, evbuffer_get_length(buf) - info->n_added, info->n_added);
}

static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct mse_stream *m = arg;
	size_t n = info->n_added < m->dec_left ? info->n_added : (size_t)m->dec_left;

	crypt_range(buf, &m->dec, evbuffer_get_length(buf) - info->n_added, n);
	m->dec_left -= n;
}

struct mse_stream *mse_stream_attach(struct bufferevent *bev, struct mse_rc4 *enc,
                                     struct mse_rc4 *dec, uint64_t dec_limit)
{
	struct mse_stream *m = xcalloc(1, sizeof *m);

	if (enc && enc->ctx) {
		m->enc = *enc;
		enc->ctx = NULL;
		m->out_cb = evbuffer_add_cb(bufferevent_get_output(bev), on_output, m);
	}
	if (dec && dec->ctx && dec_limit > 0) {
		struct evbuffer *in = bufferevent_get_input(bev);
		size_t have = evbuffer_get_length(in);
		size_t n = have < dec_limit ? have : (size_t)dec_limit;
		m->dec = *dec;
		dec->ctx = NULL;
		crypt_range(in, &m->dec, 0, n);
		m->dec_left = dec_limit == MSE_STREAM_ALL ? MSE_STREAM_ALL : dec_limit - n;
		if (m->dec_left > 0)
			m->in_cb = evbuffer_add_cb(in, on_input, m);
	}
	if ((m->out_cb == NULL && m->enc.ctx) || (m->in_cb == NULL && m->dec_left > 0))
		abort(); /* evbuffer_add_cb only fails on out of memory */
	return m;
}

void mse_stream_free(struct mse_stream *m, struct bufferevent *bev)
{
	if (m == NULL)
		return;
	if (bev && m->out_cb)
		evbuffer_remove_cb_entry(bufferevent_get_output(bev), m->out_cb);
	if (bev && m->in_cb)
		evbuffer_remove_cb_entry(bufferevent_get_input(bev), m->in_cb);
	mse_rc4_free(&m->enc);
	mse_rc4_free(&m->dec);
	free(m);
}
