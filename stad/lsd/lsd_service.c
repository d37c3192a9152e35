/* BEP 14 sockets and timing (see lsd_service.h). */
#include "lsd_service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hex.h"
#include "log.h"
#include "lsd.h"
#include "xmalloc.h"

#define LSD_RECV_BATCH 16       /* datagrams read per wake-up */
#define LSD_RECV_BUF 1500

struct lsd_group {
	int fd;                     /* -1: not joined */
	struct event *ev;
	struct sockaddr_storage to; /* the group and port */
	socklen_t to_len;
	bool warned;                /* a failed send was logged at warning */
};

struct lsd_sent {
	uint8_t ih[20];
	uint64_t at;
};

struct lsd_service {
	struct lsd_hooks hooks;
	struct lsd_group g4, g6;
	uint16_t port;
	struct sockaddr_storage self; /* listen address, to skip our own */
	char cookie[17];
	bool sent_once;
	uint64_t last_round;
	struct lsd_sent *sent;      /* announced within LSD_REANNOUNCE_S */
	size_t n_sent;
	unsigned budget;            /* announces still handled this second */
	struct sta_buf hashes;      /* scratch for eligible() */
};

/* ---- sockets ---- */

/* The index of the interface that has addr (IPv6), 0 when none has. */
static unsigned ifindex_of(const struct in6_addr *addr)
{
	struct ifaddrs *ifs, *i;
	unsigned idx = 0;

	if (getifaddrs(&ifs) != 0)
		return 0;
	for (i = ifs; i && idx == 0; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET6 &&
		    memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, addr, 16) == 0)
			idx = if_nametoindex(i->ifa_name);
	freeifaddrs(ifs);
	return idx;
}

/* A socket bound to the group's port with SO_REUSEADDR, so that other
 * clients on this host hear the group too. */
static int group_socket(int family, const struct sockaddr *group, socklen_t len)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    (family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
	    bind(fd, group, len) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int join4(const struct in_addr *ifaddr, struct sockaddr_in *to)
{
	struct ip_mreqn mr;
	unsigned char loop = 1;
	int fd;

	memset(to, 0, sizeof *to);
	to->sin_family = AF_INET;
	to->sin_port = htons(LSD_PORT);
	inet_pton(AF_INET, LSD_GROUP4, &to->sin_addr);
	fd = group_socket(AF_INET, (struct sockaddr *)to, sizeof *to);
	memset(&mr, 0, sizeof mr);
	mr.imr_multiaddr = to->sin_addr;
	mr.imr_address = *ifaddr;
	if (fd >= 0 && (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr) < 0 ||
	                setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof mr) < 0 ||
	                setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int join6(unsigned ifindex, struct sockaddr_in6 *to)
{
	struct ipv6_mreq mr;
	int loop = 1, fd;

	memset(to, 0, sizeof *to);
	to->sin6_family = AF_INET6;
	to->sin6_port = htons(LSD_PORT);
	inet_pton(AF_INET6, LSD_GROUP6, &to->sin6_addr);
	fd = group_socket(AF_INET6, (struct sockaddr *)to, sizeof *to);
	memset(&mr, 0, sizeof mr);
	mr.ipv6mr_multiaddr = to->sin6_addr;
	mr.ipv6mr_interface = ifindex;
	if (fd >= 0 &&
	    (setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mr, sizeof mr) < 0 ||
	     setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex) < 0 ||
	     setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop, sizeof loop) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void on_read(evutil_socket_t fd, short what, void *arg);

static bool group_start(struct lsd_service *l, struct lsd_group *g, struct event_base *base,
                        int fd, const char *name, const char *where)
{
	if (fd < 0) {
		log_warn("local service discovery: cannot join %s on %s: %s (set lsd = false to "
		         "turn it off)", name, where, strerror(errno));
		return false;
	}
	g->fd = fd;
	g->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_read, l);
	if (g->ev == NULL || event_add(g->ev, NULL) < 0) {
		log_warn("local service discovery: cannot watch its socket");
		return false;
	}
	return true;
}

static void group_stop(struct lsd_group *g)
{
	if (g->ev)
		event_free(g->ev);
	if (g->fd >= 0)
		close(g->fd);
	g->ev = NULL;
	g->fd = -1;
}

/* ---- hearing ---- */

static bool is_self(const struct lsd_service *l, const struct sockaddr_storage *from)
{
	if (from->ss_family != l->self.ss_family)
		return false;
	if (from->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)from)->sin_addr,
		              &((const struct sockaddr_in *)&l->self)->sin_addr, 4) == 0;
	return memcmp(&((const struct sockaddr_in6 *)from)->sin6_addr,
	              &((const struct sockaddr_in6 *)&l->self)->sin6_addr, 16) == 0;
}

static void heard(struct lsd_service *l, const uint8_t *buf, size_t n,
                  struct sockaddr_storage *from, socklen_t flen)
{
	struct lsd_msg m;
	enum lsd_err err;
	char who[INET6_ADDRSTRLEN] = "?";

	if (from->ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)from)->sin_addr, who, sizeof who);
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)from)->sin6_addr, who, sizeof who);
	if (!lsd_parse(buf, n, &m, &err)) {
		log_debug("local service discovery: from %s: %s", who, lsd_strerror(err));
		return;
	}
	/* Our own, looped back (by cookie, or by address and port). */
	if ((m.has_cookie && strcmp(m.cookie, l->cookie) == 0) ||
	    (m.port == l->port && is_self(l, from)))
		return;
	/* A link-local IPv6 source needs its interface to be dialled, which
	 * a peer address cannot carry. */
	if (from->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)from)->sin6_addr))
		return;
	if (from->ss_family == AF_INET)
		((struct sockaddr_in *)from)->sin_port = htons(m.port);
	else
		((struct sockaddr_in6 *)from)->sin6_port = htons(m.port);
	log_debug("local service discovery: %s port %u has %zu torrent(s)", who, m.port,
	          m.n_hashes);
	for (size_t i = 0; i < m.n_hashes; i++)
		l->hooks.found(l->hooks.arg, m.hashes[i], (struct sockaddr *)from, flen);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct lsd_service *l = arg;
	uint8_t buf[LSD_RECV_BUF];

	for (int i = 0; i < LSD_RECV_BATCH; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return; /* EAGAIN, or an ICMP error: nothing to do */
		if ((size_t)n > sizeof buf || l->budget == 0)
			continue; /* cut short, or over the rate: dropped */
		l->budget--;
		heard(l, buf, (size_t)n, &from, flen);
	}
}

/* ---- announcing ---- */

static bool sent_recently(const struct lsd_service *l, const uint8_t ih[20])
{
	for (size_t i = 0; i < l->n_sent; i++)
		if (memcmp(l->sent[i].ih, ih, 20) == 0)
			return true;
	return false;
}

static void forget_old(struct lsd_service *l, uint64_t now)
{
	size_t k = 0;

	for (size_t i = 0; i < l->n_sent; i++)
		if (now - l->sent[i].at < LSD_REANNOUNCE_S)
			l->sent[k++] = l->sent[i];
	l->n_sent = k;
}

static void send_group(struct lsd_group *g, bool v6, uint16_t port, const uint8_t (*due)[20],
                       size_t n, const char *cookie)
{
	struct sta_buf msg = STA_BUF_INIT;

	if (g->fd < 0)
		return;
	lsd_build(&msg, v6, port, due, n, cookie);
	if (sendto(g->fd, msg.data, msg.len, 0, (struct sockaddr *)&g->to, g->to_len) < 0) {
		if (!g->warned)
			log_warn("local service discovery: cannot send to %s: %s (no multicast route? "
			         "set lsd = false to turn it off)", v6 ? LSD_GROUP6 : LSD_GROUP4,
			         strerror(errno));
		g->warned = true;
	}
	buf_free(&msg);
}

void lsd_service_tick(struct lsd_service *l, uint64_t now)
{
	uint8_t due[LSD_MAX_HASHES][20];
	size_t n = 0;

	l->budget = LSD_IN_PER_S;
	if (l->sent_once && now - l->last_round < LSD_ROUND_S)
		return;
	forget_old(l, now);
	buf_clear(&l->hashes);
	l->hooks.eligible(l->hooks.arg, &l->hashes);
	for (size_t off = 0; off + 20 <= l->hashes.len && n < LSD_MAX_HASHES; off += 20)
		if (!sent_recently(l, l->hashes.data + off))
			memcpy(due[n++], l->hashes.data + off, 20);
	if (n == 0)
		return;
	send_group(&l->g4, false, l->port, due, n, l->cookie);
	send_group(&l->g6, true, l->port, due, n, l->cookie);
	l->sent = xreallocarray(l->sent, l->n_sent + n, sizeof *l->sent);
	for (size_t i = 0; i < n; i++) {
		memcpy(l->sent[l->n_sent].ih, due[i], 20);
		l->sent[l->n_sent++].at = now;
	}
	l->sent_once = true;
	l->last_round = now;
	log_debug("local service discovery: announced %zu torrent(s)", n);
}

/* ---- life ---- */

struct lsd_service *lsd_service_new(struct event_base *base, const char *listen_address,
                                    uint16_t port, const struct lsd_hooks *hooks)
{
	struct lsd_service *l = xcalloc(1, sizeof *l);
	struct in_addr a4 = { INADDR_ANY };
	struct in6_addr a6 = IN6ADDR_ANY_INIT;
	uint8_t rnd[8];
	bool v4 = inet_pton(AF_INET, listen_address, &a4) == 1;
	bool v6 = !v4 && inet_pton(AF_INET6, listen_address, &a6) == 1;
	bool wild6 = v6 && IN6_IS_ADDR_UNSPECIFIED(&a6);
	bool ok = false;

	l->hooks = *hooks;
	l->port = port;
	l->g4.fd = l->g6.fd = -1;
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		memset(rnd, 0, sizeof rnd); /* the address check still drops our own */
	hex_encode(rnd, sizeof rnd, l->cookie);
	if (v4) {
		struct sockaddr_in *s = (struct sockaddr_in *)&l->self;
		s->sin_family = AF_INET;
		s->sin_addr = a4;
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&l->self;
		s->sin6_family = AF_INET6;
		s->sin6_addr = a6;
	}
	/* IPv4 on an IPv4 listen address or on "::" (it takes both). */
	if (v4 || wild6) {
		l->g4.to_len = sizeof(struct sockaddr_in);
		ok |= group_start(l, &l->g4, base, join4(&a4, (struct sockaddr_in *)&l->g4.to),
		                  LSD_GROUP4, listen_address);
	}
	if (v6) {
		unsigned idx = wild6 ? 0 : ifindex_of(&a6);
		l->g6.to_len = sizeof(struct sockaddr_in6);
		ok |= group_start(l, &l->g6, base, join6(idx, (struct sockaddr_in6 *)&l->g6.to),
		                  LSD_GROUP6, listen_address);
	}
	if (!ok) {
		lsd_service_free(l);
		return NULL;
	}
	log_info("local service discovery on %s%s%s", l->g4.fd >= 0 ? LSD_GROUP4 : "",
	         l->g4.fd >= 0 && l->g6.fd >= 0 ? " and " : "", l->g6.fd >= 0 ? LSD_GROUP6 : "");
	return l;
}

void lsd_service_free(struct lsd_service *l)
{
	if (l == NULL)
		return;
	group_stop(&l->g4);
	group_stop(&l->g6);
	free(l->sent);
	buf_free(&l->hashes);
	free(l);
}
