/* The DHT protocol engine (see dht_node.h): queries in and out, lookups,
 * table upkeep. */
#include "dht_node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "dht_guard.h"
#include "dht_store.h"
#include "dht_table.h"
#include "xmalloc.h"

#define DHT_REPLY_VALUES 50         /* peers in a get_peers answer: it stays one packet */
#define DHT_TID_LEN 4               /* our transaction ids: slot, then a random check */
#define DHT_STALE_PING_GAP 60       /* seconds between pings of one questionable node */
#define DHT_BOOTSTRAP_GAP_MIN 15    /* seconds; doubles while a table stays without good nodes */
#define DHT_BOOTSTRAP_GAP_MAX 300
#define DHT_EXPIRE_EVERY 60

struct dht_txn {
	bool used;
	uint8_t method;             /* enum krpc_method */
	uint16_t check;             /* random half of the tid */
	struct krpc_addr to;
	uint64_t sent_ms;
	uint32_t lookup;            /* 0: none (pings, announces) */
};

struct dht_family {
	bool on;
	struct dht_table table;
	struct krpc_addr contacts[DHT_MAX_CONTACTS];
	uint8_t n_contacts;
	uint32_t self_lookup;       /* bootstrap find_node in flight, or 0 */
	uint32_t refresh_lookup;    /* bucket refresh in flight, or 0 */
	uint64_t last_bootstrap;    /* seconds */
	uint64_t bootstrap_gap;
};

struct dht_node {
	uint8_t id[KRPC_ID_LEN];
	struct dht_node_config cfg;
	struct dht_node_io io;
	struct dht_family fam[2];   /* [0] IPv4, [1] IPv6 */
	struct dht_store store;
	struct dht_tokens tokens;
	struct dht_limit limit;
	struct dht_txn *txn;
	uint32_t cap_txn, used_txn, txn_cursor;
	struct dht_lookup **lookups;
	uint32_t n_lookups, cap_lookups, next_lookup;
	uint64_t last_expire;
	struct dht_stats counters;
	struct krpc_msg in, out;    /* scratch: too big for every stack frame */
	struct sta_buf wire;
};

static int fidx(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

static bool family_on(const struct dht_node *d, int family)
{
	return (family == AF_INET || family == AF_INET6) && d->fam[fidx(family)].on;
}

static struct dht_family *family_of(struct dht_node *d, int family)
{
	return family_on(d, family) ? &d->fam[fidx(family)] : NULL;
}

static void rnd(struct dht_node *d, void *buf, size_t len)
{
	d->io.random(d->io.arg, buf, len);
}

static void send_msg(struct dht_node *d, const struct krpc_msg *m, const struct krpc_addr *to)
{
	buf_clear(&d->wire);
	krpc_encode(&d->wire, m);
	d->io.send(d->io.arg, to, d->wire.data, d->wire.len);
}

/* ---- setup ---- */

static void grow_txns(struct dht_node *d, uint32_t want)
{
	if (want <= d->cap_txn)
		return;
	d->txn = xreallocarray(d->txn, want, sizeof *d->txn);
	memset(d->txn + d->cap_txn, 0, (want - d->cap_txn) * sizeof *d->txn);
	d->cap_txn = want;
}

struct dht_node *dht_node_new(const uint8_t id[KRPC_ID_LEN], bool ipv4, bool ipv6,
                              const struct dht_node_config *cfg, const struct dht_node_io *io,
                              uint64_t now_ms)
{
	struct dht_node *d = xcalloc(1, sizeof *d);
	uint8_t secrets[2 * SIPHASH_KEY_LEN + SIPHASH_KEY_LEN];

	memcpy(d->id, id, KRPC_ID_LEN);
	d->io = *io;
	d->fam[0].on = ipv4;
	d->fam[1].on = ipv6;
	for (int i = 0; i < 2; i++) {
		dht_table_init(&d->fam[i].table, id, i ? AF_INET6 : AF_INET, now_ms / 1000);
		d->fam[i].bootstrap_gap = DHT_BOOTSTRAP_GAP_MIN;
	}
	rnd(d, secrets, sizeof secrets);
	dht_tokens_init(&d->tokens, secrets, now_ms / 1000);
	dht_limit_init(&d->limit, secrets + 2 * SIPHASH_KEY_LEN, cfg->answers_per_sec);
	dht_store_init(&d->store, cfg->store_per_hash, cfg->store_total);
	d->cfg = *cfg;
	grow_txns(d, cfg->max_outstanding);
	d->last_expire = now_ms / 1000;
	return d;
}

void dht_node_set_config(struct dht_node *d, const struct dht_node_config *cfg)
{
	d->cfg = *cfg;
	d->limit.per_sec = cfg->answers_per_sec;
	dht_store_set_limits(&d->store, cfg->store_per_hash, cfg->store_total);
	/* A smaller cap leaves the slots above it to drain. */
	grow_txns(d, cfg->max_outstanding);
}

void dht_node_free(struct dht_node *d)
{
	if (d == NULL)
		return;
	for (uint32_t i = 0; i < d->n_lookups; i++)
		free(d->lookups[i]);
	free(d->lookups);
	for (int i = 0; i < 2; i++)
		dht_table_free(&d->fam[i].table);
	dht_store_free(&d->store);
	dht_limit_free(&d->limit);
	free(d->txn);
	buf_free(&d->wire);
	free(d);
}

const uint8_t *dht_node_id(const struct dht_node *d)
{
	return d->id;
}

bool dht_node_has_family(const struct dht_node *d, int family)
{
	return family_on(d, family);
}

/* ---- our queries ---- */

/* d->out, emptied, as a query of ours; the caller adds the arguments. */
static struct krpc_msg *query_msg(struct dht_node *d, enum krpc_method method)
{
	struct krpc_msg *m = &d->out;

	memset(m, 0, sizeof *m);
	m->type = KRPC_QUERY;
	m->method = method;
	memcpy(m->id, d->id, KRPC_ID_LEN);
	/* BEP 32: ask for the families we can use. */
	m->want = (uint8_t)((d->fam[0].on ? KRPC_WANT_N4 : 0) | (d->fam[1].on ? KRPC_WANT_N6 : 0));
	return m;
}

/* Sends d->out to `to` as a new transaction; false when none is free. */
static bool send_query(struct dht_node *d, const struct krpc_addr *to, uint32_t lookup,
                       uint64_t now_ms)
{
	uint32_t cap = d->cfg.max_outstanding < d->cap_txn ? d->cfg.max_outstanding : d->cap_txn;
	struct dht_txn *t = NULL;

	for (uint32_t i = 0; i < cap && d->used_txn < cap; i++) {
		uint32_t k = (d->txn_cursor + i) % cap;
		if (!d->txn[k].used) {
			t = &d->txn[k];
			d->txn_cursor = k + 1;
			break;
		}
	}
	if (t == NULL)
		return false;
	uint32_t slot = (uint32_t)(t - d->txn);
	*t = (struct dht_txn){ .used = true, .method = (uint8_t)d->out.method, .to = *to,
		               .sent_ms = now_ms, .lookup = lookup };
	rnd(d, &t->check, sizeof t->check);
	store_u16be(d->out.tid, (uint16_t)slot);
	store_u16be(d->out.tid + 2, t->check);
	d->out.tid_len = DHT_TID_LEN;
	d->used_txn++;
	send_msg(d, &d->out, to);
	return true;
}

static void send_ping(struct dht_node *d, const struct krpc_node *n, uint64_t now_ms)
{
	struct dht_family *f = family_of(d, n->addr.family);

	query_msg(d, KRPC_PING);
	if (f && send_query(d, &n->addr, 0, now_ms))
		dht_table_pinged(&f->table, n->id, now_ms / 1000);
}

/* The transaction an answer belongs to: our tid, from the address asked. */
static struct dht_txn *match_txn(struct dht_node *d, const struct krpc_msg *m,
                                 const struct krpc_addr *from)
{
	if (m->tid_len != DHT_TID_LEN)
		return NULL;
	uint16_t slot = load_u16be(m->tid);
	struct dht_txn *t = slot < d->cap_txn ? &d->txn[slot] : NULL;
	if (t == NULL || !t->used || t->check != load_u16be(m->tid + 2) ||
	    !krpc_addr_equal(&t->to, from))
		return NULL;
	return t;
}

static void end_txn(struct dht_node *d, struct dht_txn *t)
{
	t->used = false;
	d->used_txn--;
}

/* ---- lookups ---- */

static struct dht_lookup *find_lookup(struct dht_node *d, uint32_t id, uint32_t *index)
{
	for (uint32_t i = 0; id != 0 && i < d->n_lookups; i++) {
		if (d->lookups[i]->id == id) {
			if (index)
				*index = i;
			return d->lookups[i];
		}
	}
	return NULL;
}

static void unlink_lookup(struct dht_node *d, uint32_t index)
{
	memmove(&d->lookups[index], &d->lookups[index + 1],
	        (d->n_lookups - index - 1) * sizeof *d->lookups);
	d->n_lookups--;
}

/* announce_peer to the DHT_K closest that answered with a token. */
static uint32_t announce_to_closest(struct dht_node *d, const struct dht_lookup *l,
                                    uint64_t now_ms)
{
	uint32_t sent = 0;

	for (size_t i = 0; i < l->n_cand && sent < DHT_K; i++) {
		const struct dht_cand *c = &l->cand[i];
		if (c->state != DHT_CAND_ANSWERED || c->token_len == 0)
			continue;
		struct krpc_msg *m = query_msg(d, KRPC_ANNOUNCE_PEER);
		memcpy(m->target, l->target, KRPC_ID_LEN);
		m->port = l->port; /* explicit: a NAT may map TCP and UDP apart */
		memcpy(m->token, c->token, c->token_len);
		m->token_len = c->token_len;
		sent += send_query(d, &c->node.addr, 0, now_ms);
	}
	return sent;
}

static void finish_lookup(struct dht_node *d, uint32_t index, uint64_t now_ms)
{
	struct dht_lookup *l = d->lookups[index];
	uint32_t announced = l->announce ? announce_to_closest(d, l, now_ms) : 0;

	unlink_lookup(d, index);
	if (l->cbs && l->cbs->done)
		l->cbs->done(l->arg, l->answered, announced);
	free(l);
}

/* Asks what the lookup may ask now; finishes it when nothing is left
 * (unless !may_finish). */
static void lookup_step(struct dht_node *d, struct dht_lookup *l, bool may_finish,
                        uint64_t now_ms)
{
	struct dht_family *f = family_of(d, l->family);
	struct dht_cand *c;

	while (f && (c = dht_lookup_next(l)) != NULL) {
		struct krpc_msg *m = query_msg(d, l->method);
		memcpy(m->target, l->target, KRPC_ID_LEN);
		if (!send_query(d, &c->node.addr, l->id, now_ms))
			break; /* no transaction free: the tick tries again */
		c->state = DHT_CAND_ASKED;
		l->asked++;
		if (c->id_known)
			dht_table_pinged(&f->table, c->node.id, now_ms / 1000);
	}
	uint32_t index;
	if (may_finish && dht_lookup_done(l) && find_lookup(d, l->id, &index))
		finish_lookup(d, index, now_ms);
}

/* The answer (or its absence: m NULL) to a query the lookup sent. */
static void lookup_answer(struct dht_node *d, uint32_t id, const struct krpc_msg *m,
                          const struct krpc_addr *from, uint64_t now_ms)
{
	struct dht_lookup *l = find_lookup(d, id, NULL);
	struct dht_cand *c = l ? dht_lookup_find(l, from) : NULL;

	if (l == NULL)
		return;
	l->asked--;
	if (m == NULL) {
		if (c)
			c->state = DHT_CAND_FAILED;
	} else {
		if (c)
			dht_lookup_answered(l, c, m->id, m->token, m->token_len);
		for (size_t i = 0; i < m->n_nodes; i++)
			if (memcmp(m->nodes[i].id, d->id, KRPC_ID_LEN) != 0)
				dht_lookup_add(l, &m->nodes[i], true);
		if (l->method == KRPC_GET_PEERS && m->n_values > 0 && l->cbs && l->cbs->peers) {
			l->cbs->peers(l->arg, m->values, m->n_values);
			if ((l = find_lookup(d, id, NULL)) == NULL)
				return;
		}
	}
	lookup_step(d, l, true, now_ms);
}

/* Seeds a lookup with the table's closest nodes, and with the bootstrap
 * contacts while the table is small. */
static void seed_lookup(struct dht_node *d, struct dht_family *f, struct dht_lookup *l)
{
	struct krpc_node near[DHT_LOOKUP_WIDTH];
	size_t n = dht_table_closest(&f->table, l->target, near, DHT_LOOKUP_WIDTH);

	for (size_t i = 0; i < n; i++)
		dht_lookup_add(l, &near[i], true);
	for (size_t i = 0; n < DHT_K && i < f->n_contacts; i++) {
		struct krpc_node c = { .addr = f->contacts[i] };
		dht_lookup_add(l, &c, false);
	}
}

/* The peers stored here: in a small DHT we are often among the closest
 * nodes ourselves, and a lookup never asks itself. */
static void local_peers(struct dht_node *d, int family, const uint8_t target[KRPC_ID_LEN],
                        const struct dht_lookup_cbs *cbs, void *arg)
{
	struct krpc_addr peers[DHT_REPLY_VALUES];
	size_t n = dht_store_get(&d->store, target, family, 0, peers, DHT_REPLY_VALUES);

	if (n > 0)
		cbs->peers(arg, peers, n);
}

uint32_t dht_node_lookup(struct dht_node *d, int family, const uint8_t target[KRPC_ID_LEN],
                         enum krpc_method method, bool announce, uint16_t port,
                         const struct dht_lookup_cbs *cbs, void *arg, uint64_t now_ms)
{
	struct dht_family *f = family_of(d, family);

	if (f == NULL)
		return 0;
	struct dht_lookup *l = xmalloc(sizeof *l);
	if (++d->next_lookup == 0)
		d->next_lookup = 1;
	dht_lookup_init(l, d->next_lookup, family, method, target);
	l->announce = announce && method == KRPC_GET_PEERS;
	l->port = port;
	l->cbs = cbs;
	l->arg = arg;
	seed_lookup(d, f, l);
	if (d->n_lookups == d->cap_lookups) {
		d->cap_lookups = d->cap_lookups ? d->cap_lookups * 2 : 8;
		d->lookups = xreallocarray(d->lookups, d->cap_lookups, sizeof *d->lookups);
	}
	d->lookups[d->n_lookups++] = l;
	uint32_t id = l->id;
	lookup_step(d, l, false, now_ms);
	if (method == KRPC_GET_PEERS && cbs && cbs->peers)
		local_peers(d, family, target, cbs, arg);
	return id;
}

bool dht_node_lookup_active(const struct dht_node *d, uint32_t id)
{
	for (uint32_t i = 0; id != 0 && i < d->n_lookups; i++)
		if (d->lookups[i]->id == id)
			return true;
	return false;
}

void dht_node_cancel(struct dht_node *d, uint32_t id)
{
	uint32_t index;
	struct dht_lookup *l = find_lookup(d, id, &index);

	if (l == NULL)
		return;
	unlink_lookup(d, index);
	free(l);
	/* Its queries in flight end as unmatched lookups: find_lookup fails. */
}

/* ---- answering ---- */

/* d->out, emptied, as the response to m from `from`. */
static struct krpc_msg *reply_msg(struct dht_node *d, const struct krpc_msg *m,
                                  const struct krpc_addr *from)
{
	struct krpc_msg *r = &d->out;

	memset(r, 0, sizeof *r);
	r->type = KRPC_RESPONSE;
	memcpy(r->tid, m->tid, m->tid_len);
	r->tid_len = m->tid_len;
	memcpy(r->id, d->id, KRPC_ID_LEN);
	r->has_ip = true; /* BEP 42: tell the querier its address */
	r->ip = *from;
	return r;
}

static void send_error(struct dht_node *d, const struct krpc_msg *m,
                       const struct krpc_addr *from, int code, const char *text)
{
	struct krpc_msg *r = reply_msg(d, m, from);

	r->type = KRPC_ERROR;
	r->has_ip = false;
	r->error_code = code;
	snprintf(r->error_msg, sizeof r->error_msg, "%s", text);
	send_msg(d, r, from);
}

/* The closest nodes to target from each family the querier wants
 * (BEP 32; by default the family it asked from). */
static void add_nodes(struct dht_node *d, struct krpc_msg *r, const struct krpc_msg *m,
                      const struct krpc_addr *from)
{
	uint8_t want = m->want ? m->want : fidx(from->family) ? KRPC_WANT_N6 : KRPC_WANT_N4;

	for (int i = 0; i < 2; i++) {
		if (!d->fam[i].on || !(want & (i ? KRPC_WANT_N6 : KRPC_WANT_N4)))
			continue;
		r->n_nodes += (uint8_t)dht_table_closest(&d->fam[i].table, m->target,
		                                         r->nodes + r->n_nodes, DHT_K);
	}
}

static void answer_get_peers(struct dht_node *d, struct krpc_msg *r, const struct krpc_msg *m,
                             const struct krpc_addr *from)
{
	uint32_t start;

	dht_token_make(&d->tokens, from, r->token);
	r->token_len = DHT_TOKEN_LEN;
	rnd(d, &start, sizeof start);
	r->n_values = (uint16_t)dht_store_get(&d->store, m->target, from->family, start, r->values,
	                                      DHT_REPLY_VALUES);
	/* BEP 5: peers when we have some, else the closest nodes. */
	if (r->n_values == 0)
		add_nodes(d, r, m, from);
}

/* Stores the announcing peer; false when its token is not one we gave. */
static bool take_announce(struct dht_node *d, const struct krpc_msg *m,
                          const struct krpc_addr *from, uint64_t now_ms)
{
	struct krpc_addr peer = *from;

	if (!dht_token_check(&d->tokens, from, m->token, m->token_len))
		return false;
	if (!m->implied_port)
		peer.port = m->port;
	dht_store_add(&d->store, m->target, &peer, now_ms / 1000);
	return true;
}

/* A node that queried us: ping it when its bucket could take it (an
 * answer proves the address). Only with half the transactions free:
 * strangers must not crowd out our own lookups. */
static void consider_querier(struct dht_node *d, const struct krpc_msg *m,
                             const struct krpc_addr *from, uint64_t now_ms)
{
	struct dht_family *f = family_of(d, from->family);
	struct krpc_node n = { .addr = *from };

	memcpy(n.id, m->id, KRPC_ID_LEN);
	if (f && !m->read_only && dht_table_queried(&f->table, &n, now_ms / 1000) &&
	    d->used_txn < d->cfg.max_outstanding / 2)
		send_ping(d, &n, now_ms);
}

static void handle_query(struct dht_node *d, const struct krpc_msg *m,
                         const struct krpc_addr *from, uint64_t now_ms)
{
	if (memcmp(m->id, d->id, KRPC_ID_LEN) == 0)
		return; /* our own query come back */
	if (!dht_limit_allow(&d->limit, from, now_ms)) {
		d->counters.limited++;
		return;
	}
	struct krpc_msg *r = reply_msg(d, m, from);
	switch (m->method) {
	case KRPC_PING:
	case KRPC_ANNOUNCE_PEER:
		break;
	case KRPC_FIND_NODE:
		add_nodes(d, r, m, from);
		break;
	case KRPC_GET_PEERS:
		answer_get_peers(d, r, m, from);
		break;
	default:
		send_error(d, m, from, KRPC_E_METHOD, "method unknown");
		return;
	}
	if (m->method == KRPC_ANNOUNCE_PEER && !take_announce(d, m, from, now_ms)) {
		send_error(d, m, from, KRPC_E_PROTOCOL, "bad token");
		return;
	}
	send_msg(d, r, from);
	d->counters.answered++;
	consider_querier(d, m, from, now_ms);
}

/* A response or an error to one of our queries. */
static void handle_answer(struct dht_node *d, const struct krpc_msg *m,
                          const struct krpc_addr *from, uint64_t now_ms)
{
	struct dht_txn *t = match_txn(d, m, from);
	struct dht_family *f = family_of(d, from->family);

	if (t == NULL || f == NULL) {
		d->counters.unmatched++;
		return;
	}
	uint32_t lookup = t->lookup;
	bool ok = m->type == KRPC_RESPONSE && krpc_check_response(m, t->method) == KRPC_OK &&
	          memcmp(m->id, d->id, KRPC_ID_LEN) != 0;
	end_txn(d, t);
	if (m->type == KRPC_RESPONSE && !ok)
		d->counters.malformed++;
	if (ok) {
		struct krpc_node n = { .addr = *from };
		const struct dht_entry *stale;
		memcpy(n.id, m->id, KRPC_ID_LEN);
		dht_table_replied(&f->table, &n, now_ms / 1000, &stale);
		if (stale) {
			struct krpc_node p = { .addr = stale->addr };
			memcpy(p.id, stale->id, KRPC_ID_LEN);
			send_ping(d, &p, now_ms);
		}
	}
	if (lookup)
		lookup_answer(d, lookup, ok ? m : NULL, from, now_ms);
}

void dht_node_input(struct dht_node *d, const uint8_t *buf, size_t len,
                    const struct krpc_addr *from, uint64_t now_ms)
{
	struct krpc_msg *m = &d->in;
	enum krpc_err e;

	d->counters.received++;
	if (family_of(d, from->family) == NULL || from->port == 0)
		return;
	if ((e = krpc_decode(buf, len, m, NULL)) != KRPC_OK) {
		d->counters.malformed++;
		if (m->type == KRPC_QUERY && m->tid_len > 0 && dht_limit_allow(&d->limit, from, now_ms))
			send_error(d, m, from, KRPC_E_PROTOCOL, krpc_strerror(e));
		return;
	}
	if (m->type == KRPC_QUERY)
		handle_query(d, m, from, now_ms);
	else
		handle_answer(d, m, from, now_ms);
}

/* ---- upkeep ---- */

static void expire_txns(struct dht_node *d, uint64_t now_ms)
{
	for (uint32_t i = 0; i < d->cap_txn; i++) {
		struct dht_txn *t = &d->txn[i];
		if (!t->used || now_ms - t->sent_ms < DHT_QUERY_TIMEOUT_MS)
			continue;
		struct krpc_addr to = t->to;
		uint32_t lookup = t->lookup;
		end_txn(d, t);
		struct dht_family *f = family_of(d, to.family);
		if (f)
			dht_table_failed(&f->table, &to);
		if (lookup)
			lookup_answer(d, lookup, NULL, &to, now_ms);
	}
}

/* Lookups waiting for a free transaction, or done with nothing asked. */
static void step_lookups(struct dht_node *d, uint64_t now_ms)
{
	for (uint32_t i = d->n_lookups; i-- > 0;) {
		if (i < d->n_lookups) /* a callback may have ended others */
			lookup_step(d, d->lookups[i], true, now_ms);
	}
}

static void self_lookup(struct dht_node *d, struct dht_family *f, int family, uint64_t now_ms)
{
	f->last_bootstrap = now_ms / 1000;
	f->self_lookup = dht_node_lookup(d, family, d->id, KRPC_FIND_NODE, false, 0, NULL, NULL,
	                                 now_ms);
}

static void upkeep_family(struct dht_node *d, int family, uint64_t now_ms)
{
	struct dht_family *f = family_of(d, family);
	uint64_t now = now_ms / 1000;
	uint32_t good;
	struct krpc_node n;
	uint8_t target[KRPC_ID_LEN], r[KRPC_ID_LEN];

	if (f == NULL)
		return;
	/* A table with fewer good nodes than one bucket holds looks for more
	 * (a node that joined with the first ones knows only those). */
	dht_table_count(&f->table, now, &good);
	if (good >= DHT_K) {
		f->bootstrap_gap = DHT_BOOTSTRAP_GAP_MIN;
	} else if (!find_lookup(d, f->self_lookup, NULL) && now - f->last_bootstrap >= f->bootstrap_gap) {
		self_lookup(d, f, family, now_ms);
		f->bootstrap_gap = f->bootstrap_gap * 2 < DHT_BOOTSTRAP_GAP_MAX ? f->bootstrap_gap * 2
		                                                                : DHT_BOOTSTRAP_GAP_MAX;
	}
	if (d->used_txn < d->cfg.max_outstanding / 2 &&
	    dht_table_stale_node(&f->table, now, DHT_STALE_PING_GAP, &n))
		send_ping(d, &n, now_ms);
	rnd(d, r, sizeof r);
	if (!find_lookup(d, f->refresh_lookup, NULL) &&
	    dht_table_refresh_target(&f->table, now, r, target))
		f->refresh_lookup = dht_node_lookup(d, family, target, KRPC_FIND_NODE, false, 0, NULL,
		                                    NULL, now_ms);
}

void dht_node_tick(struct dht_node *d, uint64_t now_ms)
{
	uint8_t secret[SIPHASH_KEY_LEN];
	uint64_t now = now_ms / 1000;

	expire_txns(d, now_ms);
	step_lookups(d, now_ms);
	if (now - d->tokens.rotated >= DHT_TOKEN_ROTATE) {
		rnd(d, secret, sizeof secret);
		dht_tokens_rotate(&d->tokens, secret, now);
	}
	if (now - d->last_expire >= DHT_EXPIRE_EVERY) {
		dht_store_expire(&d->store, now);
		d->last_expire = now;
	}
	upkeep_family(d, AF_INET, now_ms);
	upkeep_family(d, AF_INET6, now_ms);
}

void dht_node_bootstrap(struct dht_node *d, const struct krpc_addr *addrs, size_t n,
                        uint64_t now_ms)
{
	for (size_t i = 0; i < n; i++) {
		struct dht_family *f = family_of(d, addrs[i].family);
		bool known = false;
		for (size_t j = 0; f && j < f->n_contacts; j++)
			known |= krpc_addr_equal(&f->contacts[j], &addrs[i]);
		if (f && !known && f->n_contacts < DHT_MAX_CONTACTS && addrs[i].port != 0)
			f->contacts[f->n_contacts++] = addrs[i];
	}
	for (int i = 0; i < 2; i++) {
		int family = i ? AF_INET6 : AF_INET;
		struct dht_family *f = family_of(d, family);
		if (f && !find_lookup(d, f->self_lookup, NULL))
			self_lookup(d, f, family, now_ms);
	}
}

bool dht_node_add_known(struct dht_node *d, const struct krpc_node *n)
{
	struct dht_family *f = family_of(d, n->addr.family);

	return f && n->addr.port != 0 && dht_table_add_unverified(&f->table, n);
}

size_t dht_node_export(const struct dht_node *d, int family, struct krpc_node *out, size_t max,
                       uint64_t now_ms)
{
	if (!family_on(d, family))
		return 0;
	return dht_table_export(&d->fam[fidx(family)].table, now_ms / 1000, out, max);
}

void dht_node_stats(const struct dht_node *d, uint64_t now_ms, struct dht_stats *out)
{
	*out = d->counters;
	for (int i = 0; i < 2; i++)
		out->nodes[i] = dht_table_count(&d->fam[i].table, now_ms / 1000, &out->good[i]);
	out->lookups = d->n_lookups;
	out->outstanding = d->used_txn;
	out->stored_peers = d->store.n_peers;
	out->stored_hashes = d->store.n_hashes;
}
