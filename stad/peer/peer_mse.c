/* MSE/PE on a peer connection (see peer_mse.h). */
#include "peer_mse.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "mse.h"
#include "mse_stream.h"
#include "peer.h"
#include "peer_wire.h"
#include "sconfig.h"
#include "context.h"
#include "torrent.h"
#include "xmalloc.h"

/* Bytes looked at in one go during the handshake: more than any step
 * needs (Ya + PadA + HASH('req1',S) is 628). */
#define MSE_FEED_MAX 2048u

struct peer_mse {
	struct mse_hs *hs;          /* during the handshake */
	struct mse_stream *stream;  /* after it */
	bool rc4;                   /* RC4 both ways (not plaintext selected) */
};

static enum sconfig_encryption policy(const struct session *s)
{
	return sconfig_encryption(s->cfg);
}

static bool fill_random(struct mse_random *r)
{
	uint8_t len[2];

	if (RAND_bytes(r->priv, sizeof r->priv) != 1 || RAND_bytes(len, sizeof len) != 1)
		return false;
	r->pad_len = load_u16be(len) % (MSE_PAD_MAX + 1);
	return r->pad_len == 0 || RAND_bytes(r->pad, r->pad_len) == 1;
}

/* Starts the codec and sends what it has to (Ya and PadA for an initiator). */
static bool start(struct peer *p, enum mse_role role, const uint8_t *ia, size_t ia_len)
{
	struct session *s = p->s;
	struct mse_random rnd;
	struct sta_buf out = STA_BUF_INIT;
	/* A responder that does not require RC4 lets the initiator choose. */
	uint32_t methods = role == MSE_RESPONDER && policy(s) != SCONFIG_ENC_REQUIRE
	                       ? MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN
	                       : MSE_CRYPTO_RC4;
	struct mse_hs *hs;

	if (s->cipher.rc4 == NULL || !fill_random(&rnd))
		return false;
	hs = xmalloc(sizeof *hs);
	if (!mse_hs_start(hs, role, &s->cipher, methods, &rnd,
	                  role == MSE_INITIATOR ? p->t->mi.info_hash : NULL, ia, ia_len, &out)) {
		free(hs);
		return false;
	}
	explicit_bzero(&rnd, sizeof rnd);
	p->mse = xcalloc(1, sizeof *p->mse);
	p->mse->hs = hs;
	p->mse_pending = true;
	if (out.len)
		bufferevent_write(p->bev, out.data, out.len);
	buf_free(&out);
	return true;
}

bool peer_mse_connect(struct peer *p)
{
	enum sconfig_encryption e = policy(p->s);
	uint8_t hs[PW_HANDSHAKE_LEN];

	if (e == SCONFIG_ENC_OFF)
		return false;
	peer_wire_handshake_build(hs, p->t->mi.info_hash, p->s->peer_id);
	if (!start(p, MSE_INITIATOR, hs, sizeof hs)) {
		if (e == SCONFIG_ENC_PREFER)
			return false;
		peer_close(p, "encryption = \"require\" but RC4 is unavailable");
		return true;
	}
	p->hs_sent = true; /* the initial payload */
	return true;
}

void peer_mse_accept(struct peer *p)
{
	p->mse_pending = policy(p->s) != SCONFIG_ENC_OFF;
}

bool peer_mse_encrypted(const struct peer *p)
{
	return p->mse != NULL && p->mse->rc4 && !p->mse_pending;
}

void peer_mse_free(struct peer *p)
{
	struct peer_mse *m = p->mse;

	if (m == NULL)
		return;
	if (m->hs) {
		mse_hs_free(m->hs);
		free(m->hs);
	}
	mse_stream_free(m->stream, p->bev);
	free(m);
	p->mse = NULL;
}

void peer_mse_lost(struct peer *p, const char *reason)
{
	struct torrent *t = p->t;
	struct sockaddr_storage addr = p->addr;
	socklen_t len = addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                           : sizeof(struct sockaddr_in);
	/* A peer that hangs up on (or garbles) our MSE handshake most likely
	 * speaks plaintext only. */
	bool retry = p->outgoing && p->connected && p->mse != NULL &&
	             policy(p->s) == SCONFIG_ENC_PREFER;

	peer_close(p, reason);
	if (!retry || t->dead || !torrent_wants_peers(t) || !session_peer_room(t->s))
		return;
	log_debug("%s: %s: %s; dialling again in plaintext", t->hex, p->addr_str, reason);
	peer_connect_plaintext(t, (struct sockaddr *)&addr, len);
}

/* Responder: which of our torrents the initiator asked for, by
 * HASH('req2', info-hash). */
static bool find_skey(struct peer *p)
{
	struct mse_hs *hs = p->mse->hs;
	struct torrent *t;
	uint8_t h[MSE_HASH_LEN];

	TAILQ_FOREACH(t, &p->s->torrents, link) {
		mse_req2_hash(t->mi.info_hash, h);
		if (memcmp(h, hs->req2, MSE_HASH_LEN) == 0) {
			mse_hs_set_skey(hs, t->mi.info_hash);
			return true;
		}
	}
	return false;
}

/* The handshake is done: RC4 goes under the connection's buffers (for a
 * responder that selected plaintext, over the initial payload only) and
 * an incoming connection joins the torrent its SKEY named. */
static bool finish(struct peer *p)
{
	struct peer_mse *m = p->mse;
	struct mse_hs *hs = m->hs;
	struct mse_rc4 enc, dec;
	uint8_t skey[MSE_HASH_LEN];
	bool rc4 = hs->select == MSE_CRYPTO_RC4;
	uint64_t dec_limit = rc4 ? MSE_STREAM_ALL : p->outgoing ? 0 : hs->ia_len;

	memcpy(skey, hs->skey, sizeof skey);
	mse_hs_take_streams(hs, &enc, &dec);
	mse_hs_free(hs);
	free(hs);
	m->hs = NULL;
	m->rc4 = rc4;
	if (rc4 || dec_limit > 0)
		m->stream = mse_stream_attach(p->bev, rc4 ? &enc : NULL, &dec, dec_limit);
	mse_rc4_free(&enc);
	mse_rc4_free(&dec);
	p->mse_pending = false;
	log_debug("%s: encryption handshake done, %s", p->addr_str, rc4 ? "RC4" : "plaintext");
	return p->outgoing || peer_route_incoming(p, skey);
}

static void failed(struct peer *p, enum mse_err err)
{
	if (p->outgoing)
		peer_mse_lost(p, mse_strerror(err));
	else
		peer_close(p, mse_strerror(err));
}

static bool run(struct peer *p, struct evbuffer *in)
{
	struct sta_buf out = STA_BUF_INIT;
	enum mse_status st;
	enum mse_err err = MSE_E_NONE;
	size_t used;

	do {
		size_t n = evbuffer_get_length(in);
		if (n > MSE_FEED_MAX)
			n = MSE_FEED_MAX;
		st = mse_hs_feed(p->mse->hs, evbuffer_pullup(in, (ev_ssize_t)n), n, &used, &out, &err);
		evbuffer_drain(in, used);
		if (st == MSE_WANT_SKEY && !find_skey(p)) {
			buf_free(&out);
			peer_close(p, "encryption handshake for an unknown info-hash");
			return false;
		}
	} while (st == MSE_WANT_SKEY ||
	         (st == MSE_NEED_MORE && used > 0 && evbuffer_get_length(in) > 0));
	/* Written before the stream is attached: the codec encrypted it. */
	if (out.len)
		bufferevent_write(p->bev, out.data, out.len);
	buf_free(&out);
	if (st == MSE_ERROR)
		failed(p, err);
	return st == MSE_DONE && finish(p);
}

bool peer_mse_read(struct peer *p, struct evbuffer *in)
{
	uint8_t head[20];
	ev_ssize_t n;

	if (p->mse != NULL)
		return run(p, in);
	/* Incoming, undecided: the first bytes tell. */
	n = evbuffer_copyout(in, head, sizeof head);
	switch (mse_detect(head, n > 0 ? (size_t)n : 0)) {
	case MSE_DETECT_MORE:
		return false;
	case MSE_DETECT_PLAIN:
		if (policy(p->s) == SCONFIG_ENC_REQUIRE) {
			peer_close(p, "plaintext handshake refused: encryption = \"require\"");
			return false;
		}
		p->mse_pending = false;
		return true;
	case MSE_DETECT_MSE:
		break;
	}
	if (!start(p, MSE_RESPONDER, NULL, 0)) {
		peer_close(p, "encryption handshake refused: RC4 is unavailable");
		return false;
	}
	return run(p, in);
}
