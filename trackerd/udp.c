/* UDP tracker (BEP 15). Datagrams are read in batches with recvmmsg and
 * answered in batches with sendmmsg. Connection ids are stateless: a keyed
 * hash of the client's address, port and a two-minute window, so a connect
 * costs no memory and a spoofed source cannot announce. */
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "siphash.h"
#include "stats.h"
#include "xmalloc.h"

#define UDP_BATCH 64
#define UDP_RX_MAX 2048          /* larger than any valid request */
#define UDP_ROUNDS 8             /* batches per wakeup before yielding to the loop */
#define CONN_WINDOW_SECS 120
/* Peers that fit one reply datagram of UDP_TRACKER_MAX_PACKET bytes. */
#define UDP_PEERS_V4 ((UDP_TRACKER_MAX_PACKET - 20) / 6)
#define UDP_PEERS_V6 ((UDP_TRACKER_MAX_PACKET - 20) / 18)

struct udp_sock {
	int fd;
	int family;
	struct event *ev;
	struct udp_worker *uw;
};

struct udp_worker {
	struct worker *w;
	struct udp_sock *socks;
	size_t n_socks;
	struct mmsghdr in[UDP_BATCH];
	struct mmsghdr out[UDP_BATCH];
	struct iovec iov_in[UDP_BATCH];
	struct iovec iov_out[UDP_BATCH];
	struct sockaddr_storage from[UDP_BATCH];
	uint8_t rx[UDP_BATCH][UDP_RX_MAX];
	struct sta_buf tx[UDP_BATCH];
	struct udp_request req;
	struct scrape_entry scrape[TRACKER_SCRAPE_MAX];
};

/* Connection id for a source address in a time window. Only the address's
 * own bytes go in: an IPv4 client's MAC is two SipHash blocks, not four. */
static uint64_t udp_conn_id(const struct tracker *tr, const struct swarm_addr *a, uint32_t window)
{
	uint8_t msg[4 + 2 + 1 + 16];
	size_t alen = a->family == AF_INET ? 4 : 16;

	store_u32be(msg, window);
	store_u16be(msg + 4, a->port);
	msg[6] = (uint8_t)a->family;
	memcpy(msg + 7, a->addr, alen);
	return siphash24(tr->udp_secret, msg, 7 + alen);
}

/* Valid for the current window and the one before: 2 to 4 minutes, as
 * BEP 15 asks clients to reconnect after 1 minute. */
static bool udp_conn_ok(const struct tracker *tr, const struct swarm_addr *a, uint64_t id)
{
	uint32_t win = tracker_now() / CONN_WINDOW_SECS;

	return id == udp_conn_id(tr, a, win) || id == udp_conn_id(tr, a, win - 1);
}

static enum stat_family fam_of(int family)
{
	return family == AF_INET6 ? STAT_V6 : STAT_V4;
}

static void udp_announce(struct udp_worker *uw, const struct swarm_addr *src, int family,
                         struct sta_buf *out)
{
	struct worker *w = uw->w;
	struct announce_req *req = &uw->req.announce;
	struct announce_resp resp;
	size_t fit = family == AF_INET ? UDP_PEERS_V4 : UDP_PEERS_V6;

	stats_inc_family(w->stats, STAT_UDP_ANNOUNCE, fam_of(family));
	if (req->numwant > fit)
		req->numwant = (uint32_t)fit;
	/* The packet's IPv4 field is a claim like HTTP's ip=; tracker_announce
	 * honours it only with trust_ip_param, and only for IPv4 sockets. */
	if (family != AF_INET)
		req->ip_family = 0;
	const char *fail = tracker_announce(w->tr, req, src, family, w->peers, &resp);
	if (fail) {
		stats_inc_family(w->stats, STAT_UDP_ERRORS, fam_of(family));
		udp_encode_error(out, uw->req.transaction_id, fail);
		return;
	}
	udp_encode_announce_reply(out, uw->req.transaction_id, &resp, family);
}

static void udp_scrape(struct udp_worker *uw, int family, struct sta_buf *out)
{
	struct worker *w = uw->w;
	const char *fail;

	stats_inc_family(w->stats, STAT_UDP_SCRAPE, fam_of(family));
	fail = tracker_scrape(w->tr, &uw->req.scrape, uw->scrape);
	if (fail) {
		stats_inc_family(w->stats, STAT_UDP_ERRORS, fam_of(family));
		udp_encode_error(out, uw->req.transaction_id, fail);
		return;
	}
	udp_encode_scrape_reply(out, uw->req.transaction_id, uw->scrape, uw->req.scrape.n);
}

/* Handles one datagram; leaves out empty when nothing is to be sent.
 * Returns the histogram the request's time goes to (HIST_COUNT: none). */
static enum stat_hist udp_handle(struct udp_worker *uw, const uint8_t *pkt, size_t len,
                                 const struct sockaddr *from, int family, struct sta_buf *out)
{
	struct worker *w = uw->w;
	struct tracker_error err;
	struct swarm_addr src;

	buf_clear(out);
	if (!tracker_addr_from_sockaddr(from, &src))
		return HIST_COUNT;
	uw->req.transaction_id = 0;
	if (!udp_decode_request(pkt, len, &uw->req, &err)) {
		stats_inc_family(w->stats, STAT_UDP_ERRORS, fam_of(family));
		/* Answer only what looks like a tracker request: never reflect
		 * arbitrary traffic back at a (possibly spoofed) source. */
		if (uw->req.transaction_id != 0 && len >= 16)
			udp_encode_error(out, uw->req.transaction_id, err.msg);
		return HIST_COUNT;
	}
	if (uw->req.action == UDP_ACTION_CONNECT) {
		stats_inc_family(w->stats, STAT_UDP_CONNECT, fam_of(family));
		udp_encode_connect_reply(out, uw->req.transaction_id,
		                         udp_conn_id(w->tr, &src, tracker_now() / CONN_WINDOW_SECS));
		return HIST_UDP_CONNECT;
	}
	if (!udp_conn_ok(w->tr, &src, uw->req.connection_id)) {
		stats_inc_family(w->stats, STAT_UDP_ERRORS, fam_of(family));
		udp_encode_error(out, uw->req.transaction_id, "connection id expired or invalid");
		return HIST_COUNT;
	}
	if (uw->req.action == UDP_ACTION_ANNOUNCE) {
		udp_announce(uw, &src, family, out);
		return HIST_UDP_ANNOUNCE;
	}
	udp_scrape(uw, family, out);
	return HIST_UDP_SCRAPE;
}

static void udp_send(struct udp_sock *us, unsigned n)
{
	struct udp_worker *uw = us->uw;
	unsigned done = 0;

	while (done < n) {
		int r = sendmmsg(us->fd, uw->out + done, n - done, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* A full send buffer or an unreachable peer: drop this one. */
			stats_inc_family(uw->w->stats, STAT_UDP_ERRORS, fam_of(us->family));
			done++;
			continue;
		}
		for (int i = 0; i < r; i++)
			stats_add(uw->w->stats, STAT_UDP_BYTES_OUT, uw->iov_out[done + i].iov_len);
		done += (unsigned)r;
	}
}

static void udp_prepare_recv(struct udp_worker *uw)
{
	for (unsigned i = 0; i < UDP_BATCH; i++) {
		uw->iov_in[i] = (struct iovec){ uw->rx[i], UDP_RX_MAX };
		memset(&uw->in[i].msg_hdr, 0, sizeof uw->in[i].msg_hdr);
		uw->in[i].msg_hdr.msg_name = &uw->from[i];
		uw->in[i].msg_hdr.msg_namelen = sizeof uw->from[i];
		uw->in[i].msg_hdr.msg_iov = &uw->iov_in[i];
		uw->in[i].msg_hdr.msg_iovlen = 1;
	}
}

/* Answers one received batch; returns how many datagrams came in. */
static int udp_batch(struct udp_sock *us)
{
	struct udp_worker *uw = us->uw;
	unsigned m = 0;

	udp_prepare_recv(uw);
	int n = recvmmsg(us->fd, uw->in, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return n;
	/* One clock read a datagram: each one's end is the next one's start. */
	uint64_t t = stats_now_ns();
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &uw->in[i].msg_hdr;
		stats_add(uw->w->stats, STAT_UDP_BYTES_IN, uw->in[i].msg_len);
		if (h->msg_flags & MSG_TRUNC)
			continue;
		enum stat_hist kind = udp_handle(uw, uw->rx[i], uw->in[i].msg_len, h->msg_name,
		                                 us->family, &uw->tx[m]);
		uint64_t t1 = stats_now_ns();
		if (kind != HIST_COUNT)
			stats_observe(uw->w->stats, kind, t1 - t);
		t = t1;
		if (uw->tx[m].len == 0)
			continue;
		uw->iov_out[m] = (struct iovec){ uw->tx[m].data, uw->tx[m].len };
		memset(&uw->out[m].msg_hdr, 0, sizeof uw->out[m].msg_hdr);
		uw->out[m].msg_hdr.msg_name = h->msg_name;
		uw->out[m].msg_hdr.msg_namelen = h->msg_namelen;
		uw->out[m].msg_hdr.msg_iov = &uw->iov_out[m];
		uw->out[m].msg_hdr.msg_iovlen = 1;
		m++;
	}
	udp_send(us, m);
	return n;
}

static void udp_readable(evutil_socket_t fd, short what, void *arg)
{
	struct udp_sock *us = arg;

	for (int round = 0; round < UDP_ROUNDS; round++) {
		int n = udp_batch(us);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("recvmmsg: %s", strerror(errno));
		if (n < UDP_BATCH)
			break;
	}
}

bool udp_worker_init(struct worker *w, const int *fds, const int *families, size_t n)
{
	struct udp_worker *uw = xcalloc(1, sizeof *uw);

	w->udp = uw;
	uw->w = w;
	uw->socks = xcalloc(n + 1, sizeof *uw->socks);
	uw->n_socks = n;
	/* Take ownership of every socket first, so a failure leaks none. */
	for (size_t i = 0; i < n; i++)
		uw->socks[i] = (struct udp_sock){ fds[i], families[i], NULL, uw };
	if (w->base == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		struct udp_sock *us = &uw->socks[i];
		us->ev = event_new(w->base, us->fd, EV_READ | EV_PERSIST, udp_readable, us);
		if (us->ev == NULL || event_add(us->ev, NULL) < 0)
			return false;
	}
	return true;
}

void udp_worker_free(struct worker *w)
{
	struct udp_worker *uw = w->udp;

	if (uw == NULL)
		return;
	for (size_t i = 0; i < uw->n_socks; i++) {
		if (uw->socks[i].ev)
			event_free(uw->socks[i].ev);
		close(uw->socks[i].fd);
	}
	for (unsigned i = 0; i < UDP_BATCH; i++)
		buf_free(&uw->tx[i]);
	free(uw->socks);
	free(uw);
	w->udp = NULL;
}
