/* BEP 11 peer exchange. */
#include "pex.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "peer.h"
#include "peer_wire.h"
#include "sconfig.h"
#include "context.h"
#include "torrent.h"
#include "ut_pex.h"
#include "xmalloc.h"

struct pex_peer {
	struct ut_pex_peer *told;   /* whom we told it we are connected to */
	size_t n_told;
	uint64_t last_sent, last_recv;
	uint32_t taken;             /* candidates taken from it */
	uint32_t early;             /* its messages that came too soon */
};

static bool pex_on(const struct torrent *t)
{
	return !t->mi.is_private && t->s->cfg->pex;
}

void pex_ext_handshake(const struct torrent *t, struct pw_ext_hs *hs)
{
	if (!pex_on(t) || hs->n_ext >= PW_EXT_MAX)
		return;
	struct pw_ext *e = &hs->ext[hs->n_ext++];
	snprintf(e->name, sizeof e->name, "%s", UT_PEX_NAME);
	e->id = PEX_EXT_ID;
}

void pex_on_ext_handshake(struct peer *p, const struct pw_ext_hs *hs)
{
	p->ut_pex = pw_ext_hs_id(hs, UT_PEX_NAME);
	if (p->ut_pex && p->pex == NULL)
		p->pex = xcalloc(1, sizeof *p->pex);
}

void pex_peer_free(struct peer *p)
{
	if (p->pex)
		free(p->pex->told);
	free(p->pex);
	p->pex = NULL;
}

/* ---- what peers claim ---- */

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr)[0] == 127;
	if (sa->sa_family != AF_INET6)
		return false;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

bool pex_plausible(const struct tracker_peer *c, const struct sockaddr *from)
{
	if (c->port == 0)
		return false;
	if (c->family == AF_INET) {
		const uint8_t *a = c->addr;
		/* 0/8, 224/4 multicast, 240/4 reserved and the broadcast. */
		if (a[0] == 0 || a[0] >= 224 || (a[0] == 169 && a[1] == 254))
			return false;
		return a[0] != 127 || is_loopback(from);
	}
	if (c->family != AF_INET6)
		return false;
	struct in6_addr a;
	memcpy(&a, c->addr, sizeof a);
	if (IN6_IS_ADDR_UNSPECIFIED(&a) || IN6_IS_ADDR_MULTICAST(&a) || IN6_IS_ADDR_LINKLOCAL(&a) ||
	    IN6_IS_ADDR_V4MAPPED(&a))
		return false;
	return !IN6_IS_ADDR_LOOPBACK(&a) || is_loopback(from);
}

/* ---- receiving ---- */

/* Our own listen address, as other peers see it (when it is a specific
 * one): dialling it would only meet ourselves. */
static bool is_self(const struct session *s, const struct tracker_peer *c)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&s->src;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&s->src;

	if (!s->has_src || c->port != s->port || c->family != s->src.ss_family)
		return false;
	return c->family == AF_INET ? memcmp(c->addr, &a4->sin_addr, 4) == 0
	                            : memcmp(c->addr, &a6->sin6_addr, 16) == 0;
}

static void take(struct peer *p, const struct ut_pex_list *l)
{
	struct pex_peer *ps = p->pex;
	struct tracker_peer c;
	uint8_t flags;

	for (size_t i = 0; i < l->n && i < PEX_MAX_ADDED && ps->taken < PEX_MAX_FROM_PEER; i++) {
		if (!ut_pex_entry(l, i, &c, &flags) || is_self(p->s, &c) ||
		    !pex_plausible(&c, (const struct sockaddr *)&p->addr))
			continue;
		ps->taken += (uint32_t)torrent_add_candidates(p->t, &c, 1);
	}
}

void pex_on_message(struct peer *p, const uint8_t *data, size_t len)
{
	struct torrent *t = p->t;
	uint64_t now = session_now(t->s);
	struct ut_pex pex;
	enum ut_pex_err err;

	if (!pex_on(t) || p->pex == NULL)
		return; /* not offered, or it never said it speaks ut_pex */
	if (p->pex->last_recv && now - p->pex->last_recv < PEX_MIN_GAP_S) {
		if (++p->pex->early > PEX_MAX_EARLY)
			peer_close(p, "PEX messages far more often than once a minute");
		return;
	}
	p->pex->last_recv = now;
	if (!ut_pex_parse(data, len, &pex, &err)) {
		peer_close(p, ut_pex_strerror(err));
		return;
	}
	/* A seed dials nobody: what it would learn is of no use. */
	if (t->state == TS_SEEDING)
		return;
	uint32_t before = p->pex->taken;
	take(p, &pex.added);
	take(p, &pex.added6);
	log_debug("%s: PEX from %s: %zu added, %u new candidates", t->hex, p->addr_str,
	          pex.added.n + pex.added6.n, p->pex->taken - before);
}

/* ---- sending ---- */

/* Where q takes connections, when we know: the address we dialled, or
 * an incoming peer's address with the port its handshake gave. */
static bool listen_addr(const struct peer *q, struct ut_pex_peer *out)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&q->addr;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&q->addr;

	if (!q->hs_done || q->dead)
		return false;
	memset(out, 0, sizeof *out);
	if (q->addr.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
		out->addr.family = AF_INET;
		memcpy(out->addr.addr, a6->sin6_addr.s6_addr + 12, 4);
		out->addr.port = ntohs(a6->sin6_port);
	} else if (q->addr.ss_family == AF_INET6) {
		out->addr.family = AF_INET6;
		memcpy(out->addr.addr, &a6->sin6_addr, 16);
		out->addr.port = ntohs(a6->sin6_port);
	} else {
		out->addr.family = AF_INET;
		memcpy(out->addr.addr, &a4->sin_addr, 4);
		out->addr.port = ntohs(a4->sin_port);
	}
	if (!q->outgoing)
		out->addr.port = q->listen_port;
	out->flags = (uint8_t)((q->is_seed ? UT_PEX_F_SEED : 0) |
	                       (q->outgoing ? UT_PEX_F_REACHABLE : 0));
	return out->addr.port != 0;
}

static bool same(const struct ut_pex_peer *a, const struct ut_pex_peer *b)
{
	return a->addr.family == b->addr.family && a->addr.port == b->addr.port &&
	       memcmp(a->addr.addr, b->addr.addr, sizeof a->addr.addr) == 0;
}

static bool listed(const struct ut_pex_peer *list, size_t n, const struct ut_pex_peer *x)
{
	for (size_t i = 0; i < n; i++)
		if (same(&list[i], x))
			return true;
	return false;
}

/* The peers of t we could tell about; caller frees. */
static struct ut_pex_peer *current(const struct torrent *t, size_t *n)
{
	struct ut_pex_peer *cur = xcalloc(PEX_MAX_TOLD, sizeof *cur);
	const struct peer *q;

	*n = 0;
	TAILQ_FOREACH(q, &t->peers, link)
		if (*n < PEX_MAX_TOLD && listen_addr(q, &cur[*n]))
			(*n)++;
	return cur;
}

/* told := told - dropped + added (added ones are not in told). */
static void remember(struct pex_peer *ps, const struct ut_pex_peer *added, size_t na,
                     const struct ut_pex_peer *dropped, size_t nd)
{
	size_t k = 0;

	for (size_t i = 0; i < ps->n_told; i++)
		if (!listed(dropped, nd, &ps->told[i]))
			ps->told[k++] = ps->told[i];
	ps->told = xreallocarray(ps->told, k + na + 1, sizeof *ps->told);
	memcpy(ps->told + k, added, na * sizeof *added);
	ps->n_told = k + na;
}

static void send_to(struct peer *p, const struct ut_pex_peer *cur, size_t n, uint64_t now)
{
	struct pex_peer *ps = p->pex;
	struct ut_pex_peer added[PEX_MAX_ADDED], dropped[PEX_MAX_ADDED], self;
	size_t na = 0, nd = 0;
	bool has_self = listen_addr(p, &self);

	for (size_t i = 0; i < n && na < PEX_MAX_ADDED && ps->n_told + na < PEX_MAX_TOLD; i++)
		if (!(has_self && same(&cur[i], &self)) && !listed(ps->told, ps->n_told, &cur[i]))
			added[na++] = cur[i];
	for (size_t i = 0; i < ps->n_told && nd < PEX_MAX_ADDED; i++)
		if (!listed(cur, n, &ps->told[i]))
			dropped[nd++] = ps->told[i];
	ps->last_sent = now;
	if (na == 0 && nd == 0)
		return;
	struct sta_buf b = STA_BUF_INIT;
	ut_pex_put(&b, p->ut_pex, added, na, dropped, nd);
	peer_send_buf(p, &b);
	buf_free(&b);
	remember(ps, added, na, dropped, nd);
	log_debug("%s: PEX to %s: %zu added, %zu dropped", p->t->hex, p->addr_str, na, nd);
}

static bool due(const struct peer *p, uint64_t now)
{
	const struct pex_peer *ps = p->pex;

	if (!p->hs_done || p->dead || p->ut_pex == 0 || ps == NULL)
		return false;
	return ps->last_sent ? now - ps->last_sent >= UT_PEX_INTERVAL_S
	                     : now - p->connected_at >= PEX_FIRST_S;
}

void pex_tick(struct torrent *t)
{
	uint64_t now = session_now(t->s);
	struct ut_pex_peer *cur = NULL;
	size_t n = 0;
	struct peer *p;

	if (!pex_on(t))
		return;
	TAILQ_FOREACH(p, &t->peers, link) {
		if (!due(p, now))
			continue;
		if (cur == NULL)
			cur = current(t, &n);
		send_to(p, cur, n, now);
	}
	free(cur);
}
