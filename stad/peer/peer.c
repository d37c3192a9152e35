/* A peer connection: socket I/O, handshake, message dispatch. */
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "peer_ext.h"
#include "peer_mse.h"
#include "peer_request.h"
#include "context.h"
#include "srcaddr.h"
#include "torrent.h"
#include "torrent_superseed.h"
#include "upload.h"
#include "xmalloc.h"

#define PEER_LOW_WATER (1u << 20)

static void peer_read_cb(struct bufferevent *bev, void *arg);
static void peer_write_cb(struct bufferevent *bev, void *arg);
static void peer_event_cb(struct bufferevent *bev, short what, void *arg);

void peer_format_addr(const struct sockaddr *sa, char *out, size_t outsz)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof host);
		snprintf(out, outsz, "[%s]:%u", host, ntohs(a6->sin6_port));
	} else {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &a4->sin_addr, host, sizeof host);
		snprintf(out, outsz, "%s:%u", host, ntohs(a4->sin_port));
	}
}

static struct peer *peer_new(struct session *s, struct bufferevent *bev, const struct sockaddr *sa,
                             socklen_t len)
{
	struct peer *p = xcalloc(1, sizeof *p);

	p->s = s;
	p->bev = bev;
	p->tag = session_new_tag(s);
	if (len > sizeof p->addr)
		len = sizeof p->addr;
	memcpy(&p->addr, sa, len);
	peer_format_addr(sa, p->addr_str, sizeof p->addr_str);
	snprintf(p->client, sizeof p->client, "?");
	p->am_choking = true;
	p->peer_choking = true;
	p->depth = PEER_MIN_DEPTH;
	p->req = xcalloc(PEER_MAX_DEPTH, sizeof *p->req);
	p->upq = xcalloc(PEER_MAX_UPQ, sizeof *p->upq);
	p->connected_at = p->last_recv = p->last_send = session_now(s);
	s->n_peers++;
	bufferevent_setcb(bev, peer_read_cb, peer_write_cb, peer_event_cb, p);
	bufferevent_setwatermark(bev, EV_WRITE, PEER_LOW_WATER, 0);
	bufferevent_set_max_single_read(bev, PEER_MAX_READ);
	bufferevent_set_max_single_write(bev, PEER_MAX_READ);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return p;
}

static void peer_write(struct peer *p, const void *data, size_t len)
{
	bufferevent_write(p->bev, data, len);
	p->last_send = session_now(p->s);
}

struct evbuffer *peer_output(struct peer *p)
{
	return bufferevent_get_output(p->bev);
}

void peer_send_buf(struct peer *p, const struct sta_buf *b)
{
	peer_write(p, b->data, b->len);
}

static void send_handshake(struct peer *p)
{
	uint8_t hs[PW_HANDSHAKE_LEN];

	peer_wire_handshake_build(hs, p->t->mi.info_hash, p->s->peer_id);
	peer_write(p, hs, sizeof hs);
	p->hs_sent = true;
}

static void tune_socket(int fd)
{
	int one = 1, lowat = PEER_UP_LOW;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat);
}

/* The kernel's unsent queue follows the upload rate (see peer.h); set
 * again only when it moves by half or more. */
static void tune_lowat(struct peer *p)
{
	int want = (int)upload_ahead(p->rate_up, PEER_UP_KERNEL_MS);

	if (p->notsent_lowat && want < (int)p->notsent_lowat * 2 &&
	    want * 2 > (int)p->notsent_lowat)
		return;
	setsockopt(bufferevent_getfd(p->bev), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &want, sizeof want);
	p->notsent_lowat = (uint32_t)want;
}

static struct peer *connect_to(struct torrent *t, const struct sockaddr *sa, socklen_t len,
                               bool mse)
{
	struct session *s = t->s;
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return NULL;
	const struct sockaddr *src = session_source(s);
	if (srcaddr_applies(src, sa->sa_family) && srcaddr_bind(fd, src, true) < 0) {
		log_warn("%s: cannot bind to the listen address: %s", t->hex, strerror(errno));
		close(fd);
		return NULL;
	}
	tune_socket(fd);
	struct bufferevent *bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return NULL;
	}
	if (bufferevent_socket_connect(bev, sa, (int)len) < 0) {
		bufferevent_free(bev);
		return NULL;
	}
	struct peer *p = peer_new(s, bev, sa, len);
	p->outgoing = true;
	torrent_attach_peer(t, p);
	if (!mse || !peer_mse_connect(p))
		send_handshake(p);
	log_debug("%s: connecting to %s", t->hex, p->addr_str);
	return p;
}

struct peer *peer_connect(struct torrent *t, const struct sockaddr *sa, socklen_t len)
{
	return connect_to(t, sa, len, true);
}

struct peer *peer_connect_plaintext(struct torrent *t, const struct sockaddr *sa, socklen_t len)
{
	return connect_to(t, sa, len, false);
}

struct peer *peer_accept(struct session *s, int fd, const struct sockaddr *sa, socklen_t len)
{
	tune_socket(fd);
	struct bufferevent *bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return NULL;
	}
	struct peer *p = peer_new(s, bev, sa, len);
	p->connected = true;
	TAILQ_INSERT_TAIL(&s->handshaking, p, link);
	peer_mse_accept(p);
	return p;
}

void peer_close(struct peer *p, const char *reason)
{
	struct session *s = p->s;

	if (p->dead)
		return;
	log_debug("%s: %s", p->addr_str, reason);
	p->dead = true;
	if (p->t)
		torrent_detach_peer(p->t, p);
	else
		TAILQ_REMOVE(&s->handshaking, p, link);
	s->n_peers--;
	bufferevent_setcb(p->bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(p->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&s->dead, p, link);
	session_reap_later(s);
}

void peer_free(struct peer *p)
{
	peer_mse_free(p);
	bufferevent_free(p->bev);
	bitfield_free(&p->has);
	bitfield_free(&p->af_pick);
	bitfield_free(&p->told);
	bitfield_free(&p->ss_known);
	PEER_EXTS_CALL(peer_free, p);
	free(p->req);
	free(p->upq);
	free(p);
}

/* ---- senders ---- */

void peer_send_simple(struct peer *p, enum pw_msg_type type)
{
	uint8_t m[PW_LEN_SIMPLE];

	peer_write(p, m, peer_wire_put_simple(m, type));
}

void peer_send_have(struct peer *p, uint32_t piece)
{
	uint8_t m[PW_LEN_INDEX];

	peer_write(p, m, peer_wire_put_index(m, PW_MSG_HAVE, piece));
}

void peer_send_block_msg(struct peer *p, enum pw_msg_type type, uint32_t piece, uint32_t begin,
                         uint32_t length)
{
	uint8_t m[PW_LEN_BLOCK];

	peer_write(p, m, peer_wire_put_block(m, type, piece, begin, length));
}

void peer_choke(struct peer *p, bool choke)
{
	if (p->am_choking == choke)
		return;
	p->am_choking = choke;
	peer_send_simple(p, choke ? PW_MSG_CHOKE : PW_MSG_UNCHOKE);
	if (choke)
		upload_choked(p);
}

void peer_update_interest(struct peer *p)
{
	struct torrent *t = p->t;
	bool want = t->state == TS_DOWNLOADING &&
	            picker_interesting(t->picker, p->seed_counted ? NULL : &p->has);

	if (want == p->am_interested)
		return;
	p->am_interested = want;
	peer_send_simple(p, want ? PW_MSG_INTERESTED : PW_MSG_NOT_INTERESTED);
}

void peer_send_ext_handshake(struct peer *p)
{
	struct pw_ext_hs hs;
	struct sta_buf b = STA_BUF_INIT;

	memset(&hs, 0, sizeof hs);
	hs.port = p->s->port;
	hs.reqq = PEER_MAX_UPQ;
	snprintf(hs.version, sizeof hs.version, "STA %s", STA_VERSION);
	PEER_EXTS_CALL(handshake_out, p->t, &hs);
	peer_wire_ext_hs_build(&b, &hs);
	peer_write(p, b.data, b.len);
	buf_free(&b);
}

/* BEP 6: pieces it may take while we choke it. The set depends only on
 * its /24 and the info-hash, so reconnecting cannot fish for more. */
static void send_allowed_fast(struct peer *p)
{
	uint8_t m[UPLOAD_AF_K * PW_LEN_INDEX];
	size_t len = 0;

	p->n_af_out = (uint32_t)upload_allowed_fast_set((struct sockaddr *)&p->addr,
	                                                 p->t->mi.info_hash, p->t->mi.n_pieces,
	                                                 p->af_out);
	for (uint32_t i = 0; i < p->n_af_out; i++)
		len += peer_wire_put_index(m + len, PW_MSG_ALLOWED_FAST, p->af_out[i]);
	if (len)
		peer_write(p, m, len);
}

/* What we have, first thing after the handshake (BEP 3 / BEP 6). */
static void send_intro(struct peer *p)
{
	if (!torrent_has_metadata(p->t)) {
		/* Nothing yet, and no piece count to offer allowed-fast sets in. */
		if (p->fast)
			peer_send_simple(p, PW_MSG_HAVE_NONE);
		if (p->ext)
			peer_send_ext_handshake(p);
		return;
	}
	const struct bitfield *have = picker_have(p->t->picker);

	if (torrent_superseed_intro(p)) {
		/* it is told pieces one by one */
	} else if (p->fast && bitfield_all(have)) {
		peer_send_simple(p, PW_MSG_HAVE_ALL);
	} else if (p->fast && bitfield_none(have)) {
		peer_send_simple(p, PW_MSG_HAVE_NONE);
	} else if (!bitfield_none(have)) {
		struct sta_buf b = STA_BUF_INIT;
		size_t n = bitfield_wire_len(have->nbits);
		uint8_t *bits = xmalloc(n);
		bitfield_export(have, bits);
		peer_wire_append_bitfield(&b, bits, n);
		peer_write(p, b.data, b.len);
		free(bits);
		buf_free(&b);
	}
	if (p->ext)
		peer_send_ext_handshake(p);
	if (p->fast)
		send_allowed_fast(p);
}

/* ---- handshake ---- */

static void client_from_peer_id(struct peer *p)
{
	const uint8_t *id = p->peer_id;

	/* Azureus style "-XX1234-": the client code and version. */
	if (id[0] == '-' && id[7] == '-')
		log_escape(p->client, sizeof p->client, id + 1, 6);
	else
		log_escape(p->client, sizeof p->client, id, 8);
}

bool peer_route_incoming(struct peer *p, const uint8_t info_hash[20])
{
	struct torrent *t = torrent_find(p->s, info_hash);

	if (t == NULL || !torrent_wants_peers(t)) {
		peer_close(p, t ? "torrent takes no peers now" : "unknown info-hash");
		return false;
	}
	TAILQ_REMOVE(&p->s->handshaking, p, link);
	torrent_attach_peer(t, p);
	send_handshake(p);
	return true;
}

static bool duplicate_peer_id(const struct peer *p)
{
	const struct peer *q;

	TAILQ_FOREACH(q, &p->t->peers, link)
		if (q != p && q->hs_done && memcmp(q->peer_id, p->peer_id, 20) == 0)
			return true;
	return false;
}

/* false: wait for more, or the peer was closed. */
static bool read_handshake(struct peer *p, struct evbuffer *in)
{
	uint8_t buf[PW_HANDSHAKE_LEN];
	size_t n = evbuffer_get_length(in);
	struct pw_handshake hs;
	struct pw_error err;

	if (n > sizeof buf)
		n = sizeof buf;
	evbuffer_copyout(in, buf, n);
	enum pw_status st = peer_wire_handshake_parse(buf, n, &hs, &err);
	if (st == PW_ERROR) {
		peer_close(p, pw_strerror(err.code));
		return false;
	}
	if (p->t == NULL && hs.has_info_hash && !peer_route_incoming(p, hs.info_hash))
		return false;
	if (st == PW_NEED_MORE)
		return false;
	if (!peer_wire_handshake_check(&hs, p->t->mi.info_hash, p->s->peer_id, &err)) {
		peer_close(p, pw_strerror(err.code));
		return false;
	}
	evbuffer_drain(in, PW_HANDSHAKE_LEN);
	memcpy(p->peer_id, hs.peer_id, 20);
	if (duplicate_peer_id(p)) {
		peer_close(p, "already connected to this peer");
		return false;
	}
	p->hs_done = true;
	p->fast = pw_handshake_fast(&hs);
	p->ext = pw_handshake_ext(&hs);
	client_from_peer_id(p);
	pw_limits_init(&p->lim, p->t->mi.n_pieces);
	log_debug("%s: %s handshake done (%s)", p->t->hex, p->addr_str, p->client);
	send_intro(p);
	return true;
}

/* ---- messages ---- */

static bool both_seeds(struct peer *p)
{
	if (p->is_seed && torrent_is_complete(p->t)) {
		peer_close(p, "both seeds");
		return true;
	}
	return false;
}

/* Marks in af_pick the allowed-fast pieces it has (both only grow). */
static void af_refresh(struct peer *p)
{
	for (uint32_t i = 0; i < p->n_af_in; i++)
		if (bitfield_test(&p->has, p->af_in[i]))
			bitfield_set(&p->af_pick, p->af_in[i]);
}

static void on_allowed_fast(struct peer *p, uint32_t piece)
{
	uint32_t i;

	if (piece >= p->t->mi.n_pieces) {
		peer_close(p, "allowed fast: piece out of range");
		return;
	}
	for (i = 0; i < p->n_af_in && p->af_in[i] != piece; i++)
		;
	if (i < p->n_af_in || p->n_af_in >= PEER_AF_IN_MAX)
		return; /* a repeat, or more than we keep: harmless */
	if (p->n_af_in == 0)
		bitfield_init(&p->af_pick, p->t->mi.n_pieces);
	p->af_in[p->n_af_in++] = piece;
	af_refresh(p);
}

static void on_have(struct peer *p, uint32_t piece)
{
	struct torrent *t = p->t;

	if (piece >= t->mi.n_pieces) {
		peer_close(p, "have: piece out of range");
		return;
	}
	if (bitfield_test(&p->has, piece))
		return;
	bitfield_set(&p->has, piece);
	if (!p->seed_counted)
		picker_peer_have(t->picker, piece);
	p->is_seed = bitfield_all(&p->has);
	torrent_superseed_have(p, piece);
	af_refresh(p);
	if (!both_seeds(p))
		peer_update_interest(p);
}

static bool fast_only(struct peer *p)
{
	if (!p->fast)
		peer_close(p, "Fast extension message without the Fast bit");
	return p->fast;
}

/* Takes back what the picker knows of p's pieces and clears them. */
void peer_forget_has(struct peer *p)
{
	torrent_superseed_bits(p, false);
	if (p->seed_counted)
		picker_seed_remove(p->t->picker);
	else
		picker_peer_bitfield_remove(p->t->picker, &p->has);
	p->seed_counted = p->is_seed = false;
	bitfield_clear_all(&p->has);
}

/* BEP 3 wants the bitfield first, but real clients do not keep to it:
 * libtorrent sends its BEP 10 handshake before have all, aria2 may send a
 * second bitfield. So a bitfield, have all or have none at any time
 * replaces what we knew of the peer's pieces. */
static void on_bitfield(struct peer *p, const struct pw_msg *m)
{
	struct torrent *t = p->t;

	peer_forget_has(p);
	if (!bitfield_import(&p->has, m->data, m->data_len)) {
		peer_close(p, "bad bitfield");
		return;
	}
	picker_peer_bitfield_add(t->picker, &p->has);
	p->is_seed = bitfield_all(&p->has);
	torrent_superseed_bits(p, true);
	af_refresh(p);
	if (!both_seeds(p))
		peer_update_interest(p);
}

static void on_have_all_none(struct peer *p, bool all)
{
	if (!fast_only(p))
		return;
	peer_forget_has(p);
	if (all) {
		bitfield_set_all(&p->has);
		picker_seed_add(p->t->picker);
		p->seed_counted = p->is_seed = true;
		torrent_superseed_stop(p->t, "another seed is connected");
		af_refresh(p);
		if (both_seeds(p))
			return;
	}
	peer_update_interest(p);
}

static void on_ext_handshake(struct peer *p, const struct pw_msg *m)
{
	struct pw_ext_hs hs;
	struct pw_error err;

	if (!peer_wire_ext_hs_parse(m->data, m->data_len, &hs, &err)) {
		peer_close(p, pw_strerror(err.code));
		return;
	}
	if (hs.version[0])
		log_escape(p->client, sizeof p->client, hs.version, strlen(hs.version));
	p->listen_port = hs.port;
	for (const struct peer_ext *const *e = peer_exts; *e && !p->dead; e++)
		if ((*e)->handshake_in)
			(*e)->handshake_in(p, &hs);
}

/* BEP 10: a message to one of the ids our handshake gave out (others
 * are skipped). */
static void on_extended(struct peer *p, const struct pw_msg *m)
{
	if (m->ext_id == 0) {
		on_ext_handshake(p, m);
		return;
	}
	for (const struct peer_ext *const *e = peer_exts; *e; e++) {
		if ((*e)->id == m->ext_id) {
			if ((*e)->message)
				(*e)->message(p, m->data, m->data_len);
			return;
		}
	}
}

/* A message before the torrent has its metadata: true when an extension
 * took it. */
static bool early_message(struct peer *p, const struct pw_msg *m)
{
	for (const struct peer_ext *const *e = peer_exts; *e; e++)
		if ((*e)->early_message && (*e)->early_message(p, m))
			return true;
	return false;
}

static void on_choke(struct peer *p, bool choke)
{
	p->peer_choking = choke;
	if (choke)
		peer_request_choked(p);
}

void peer_dispatch(struct peer *p, const struct pw_msg *m)
{
	/* Before the metadata there is no piece count to check against. */
	if (!torrent_has_metadata(p->t) && early_message(p, m))
		return;
	switch (m->type) {
	case PW_MSG_KEEPALIVE: return;
	case PW_MSG_CHOKE: on_choke(p, true); break;
	case PW_MSG_UNCHOKE: on_choke(p, false); break;
	case PW_MSG_INTERESTED:
	case PW_MSG_NOT_INTERESTED:
		p->peer_interested = m->type == PW_MSG_INTERESTED;
		torrent_slots_changed(p->t);
		break;
	case PW_MSG_HAVE: on_have(p, m->index); break;
	case PW_MSG_BITFIELD: on_bitfield(p, m); break;
	case PW_MSG_REQUEST: upload_on_request(p, m->index, m->begin, m->length); break;
	case PW_MSG_CANCEL: upload_on_cancel(p, m->index, m->begin, m->length); break;
	case PW_MSG_HAVE_ALL: on_have_all_none(p, true); break;
	case PW_MSG_HAVE_NONE: on_have_all_none(p, false); break;
	case PW_MSG_REJECT:
		if (fast_only(p))
			peer_request_rejected(p, m->index, m->begin, m->length);
		break;
	case PW_MSG_SUGGEST: fast_only(p); break; /* a hint we do not need */
	case PW_MSG_ALLOWED_FAST:
		if (fast_only(p))
			on_allowed_fast(p, m->index);
		break;
	case PW_MSG_EXTENDED: on_extended(p, m); break;
	default: break; /* port, unknown ids: skipped */
	}
}

/* A piece message (m: its header, from peer_wire_parse_head): the block
 * goes straight from the socket buffer into its piece buffer. Returns
 * false to wait. */
static bool read_piece(struct peer *p, struct evbuffer *in, const struct pw_msg *m, size_t avail)
{
	if (avail < PW_LEN_PIECE_HDR + (size_t)m->length)
		return false;
	evbuffer_drain(in, PW_LEN_PIECE_HDR);
	peer_request_block(p, m->index, m->begin, m->length, in);
	return true;
}

/* Handles one message if it is all in. false: wait, or p was closed. */
static bool read_message(struct peer *p, struct evbuffer *in)
{
	uint8_t hdr[PW_LEN_PIECE_HDR];
	size_t avail = evbuffer_get_length(in);
	size_t hl = avail < sizeof hdr ? avail : sizeof hdr;
	struct pw_msg m;
	struct pw_error err;

	if (avail < 4)
		return false;
	evbuffer_copyout(in, hdr, hl);
	/* The header alone is checked first: a bad length fails before we
	 * buffer anything for it. */
	enum pw_status st = peer_wire_parse_head(hdr, hl, &p->lim, &m, &err);
	while (st == PW_NEED_MORE) {
		if (avail < m.need)
			return false;
		size_t need = m.need;
		const uint8_t *buf = evbuffer_pullup(in, (ev_ssize_t)need);
		st = peer_wire_parse_head(buf, need, &p->lim, &m, &err);
	}
	if (st == PW_ERROR) {
		peer_close(p, pw_strerror(err.code));
		return false;
	}
	if (m.type == PW_MSG_PIECE)
		return read_piece(p, in, &m, avail);
	peer_dispatch(p, &m);
	evbuffer_drain(in, m.consumed);
	return !p->dead;
}

static void peer_read_cb(struct bufferevent *bev, void *arg)
{
	struct peer *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	p->last_recv = session_now(p->s);
	if (p->mse_pending && !peer_mse_read(p, in))
		return;
	if (!p->hs_done && !read_handshake(p, in))
		return;
	while (read_message(p, in))
		;
	if (!p->dead)
		peer_request_fill(p);
}

static void peer_write_cb(struct bufferevent *bev, void *arg)
{
	struct peer *p = arg;

	if (p->t)
		upload_pump(p);
}

static void peer_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct peer *p = arg;

	if (what & BEV_EVENT_CONNECTED) {
		p->connected = true;
		tune_socket(bufferevent_getfd(bev));
		return;
	}
	const char *why = what & BEV_EVENT_EOF ? "connection closed" : "connection error";
	if (p->mse_pending)
		peer_mse_lost(p, why); /* may dial again in plaintext */
	else
		peer_close(p, why);
}

/* ---- the tick ---- */

static uint64_t smooth(uint64_t rate, uint64_t now_total, uint64_t *prev)
{
	uint64_t delta = now_total - *prev;

	*prev = now_total;
	return (rate + delta) / 2;
}

void peer_tick(struct peer *p)
{
	uint64_t now = session_now(p->s);

	if (!p->hs_done) {
		if (now - p->connected_at > PEER_HANDSHAKE_S)
			peer_close(p, "handshake timeout");
		return;
	}
	if (now - p->last_recv > PEER_IDLE_S) {
		peer_close(p, "idle timeout");
		return;
	}
	if (now - p->last_send >= PEER_KEEPALIVE_S) {
		uint8_t m[PW_LEN_KEEPALIVE];
		peer_write(p, m, peer_wire_put_keepalive(m));
	}
	p->rate_down = smooth(p->rate_down, p->bytes_down, &p->down_prev);
	p->rate_up = smooth(p->rate_up, p->bytes_up, &p->up_prev);
	tune_lowat(p);
	peer_request_tick(p);
}

void peer_flags(const struct peer *p, char *out, size_t outsz)
{
	size_t n = 0;
	struct { bool on; char c; } f[] = {
		{ p->n_req > 0, 'd' }, { p->n_upq > 0 || p->up_busy, 'u' },
		{ p->peer_choking, 'c' }, { p->am_choking, 'C' },
		{ p->am_interested, 'i' }, { p->peer_interested, 'I' },
		{ p->snubbed, 's' }, { p->is_seed, 'S' }, { p->optimistic, 'o' },
		{ !p->outgoing, 'E' }, { p->fast, 'F' }, { peer_mse_encrypted(p), 'X' },
	};

	for (size_t i = 0; i < sizeof f / sizeof f[0] && n + 1 < outsz; i++)
		if (f[i].on)
			out[n++] = f[i].c;
	out[n] = '\0';
}
