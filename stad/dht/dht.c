/* The DHT room: sockets, clock, bootstrap, state file and subscriptions
 * around the node (see dht.h). */
#include "dht.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dht_node.h"
#include "dht_state.h"
#include "fileio.h"
#include "hex.h"
#include "hostport.h"
#include "log.h"
#include "sconfig.h"
#include "xmalloc.h"

#define DHT_READ_BATCH 64       /* datagrams per wakeup: a flood cannot hold the loop */
#define DHT_STATE_MAX (1 << 20)
#define DHT_RESOLVE_GAP 300     /* seconds between resolving the routers again */

struct dht_resolve {
	struct dht *d;
	struct evdns_getaddrinfo_request *req;
	uint16_t port;
};

struct dht_sub {
	TAILQ_ENTRY(dht_sub) link;
	struct dht *d;
	uint8_t info_hash[KRPC_ID_LEN];
	uint16_t port;
	dht_peers_fn peers;
	void *arg;
	bool want_peers;
	uint32_t lookup[2];             /* per family, 0 when none */
	uint32_t found;                 /* peers the current round found */
	uint32_t answered;              /* nodes that answered it */
	char status[48];                /* of the last round */
	uint64_t next_ms;
	uint32_t retry;                 /* seconds until the next round while nothing is found */
};

TAILQ_HEAD(dht_sub_list, dht_sub);

struct dht {
	struct event_base *base;
	struct evdns_base *dns;
	struct dht_node *node;
	int fd[2];                      /* [0] IPv4, [1] IPv6; -1 when off */
	struct event *ev[2];
	struct event *tick;
	char *state_path;
	char **routers;                 /* the configured HOST:PORT list (copies) */
	size_t n_routers;
	struct dht_resolve *resolving;  /* one per router; req NULL when done */
	uint64_t last_resolve;
	uint64_t last_save;
	struct dht_sub_list subs;
	uint8_t buf[KRPC_MSG_MAX + 1];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void node_config(const struct sconfig *cfg, struct dht_node_config *out)
{
	*out = (struct dht_node_config){
		.max_outstanding = (uint32_t)cfg->dht_max_outstanding,
		.answers_per_sec = (uint32_t)cfg->dht_answers_per_second,
		.store_per_hash = (uint32_t)cfg->dht_peers_per_torrent,
		.store_total = (uint32_t)cfg->dht_max_stored_peers,
	};
}

/* ---- datagrams ---- */

static void io_send(void *arg, const struct krpc_addr *to, const uint8_t *buf, size_t len)
{
	struct dht *d = arg;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = d->fd[to->family == AF_INET6];

	memset(&ss, 0, sizeof ss);
	if (to->family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(to->port);
		memcpy(&a->sin6_addr, to->ip, 16);
		sl = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(to->port);
		memcpy(&a->sin_addr, to->ip, 4);
		sl = sizeof *a;
	}
	/* A full socket buffer or an unreachable host loses this datagram,
	 * which the DHT expects of UDP: the query times out. */
	if (fd >= 0 && sendto(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) < 0)
		log_debug("DHT send: %s", strerror(errno));
}

static void io_random(void *arg, void *buf, size_t len)
{
	if (RAND_bytes(buf, (int)len) != 1)
		abort(); /* no entropy: tokens and transaction ids would be guessable */
}

static bool addr_from_sockaddr(const struct sockaddr_storage *ss, struct krpc_addr *a)
{
	memset(a, 0, sizeof *a);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		a->family = AF_INET;
		memcpy(a->ip, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		a->family = AF_INET6;
		memcpy(a->ip, &s6->sin6_addr, 16);
		a->port = ntohs(s6->sin6_port);
		return true;
	}
	return false;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct dht *d = arg;
	uint64_t now = mono_ms();

	for (int i = 0; i < DHT_READ_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		struct krpc_addr from;
		ssize_t n = recvfrom(fd, d->buf, sizeof d->buf, MSG_DONTWAIT, (struct sockaddr *)&ss,
		                     &sl);
		if (n < 0)
			break; /* EAGAIN, or an ICMP error for an earlier send */
		if (addr_from_sockaddr(&ss, &from))
			dht_node_input(d->node, d->buf, (size_t)n, &from, now);
	}
}

/* A nonblocking UDP socket on addr:port; -1 after logging. */
static int open_socket(int family, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;

	memset(&ss, 0, sizeof ss);
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		sl = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		sl = sizeof *a;
	}
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		log_warn("DHT: cannot use UDP %s port %u (%s); stad runs without the DHT on it "
		         "(free the port, or set dht.enabled = false)", addr, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The families of listen_address: "::" means both (an IPv6-only socket
 * and an IPv4 one on 0.0.0.0), any other address its own. */
static bool open_sockets(struct dht *d, const char *listen, uint16_t port)
{
	struct in6_addr a6;
	bool v6 = inet_pton(AF_INET6, listen, &a6) == 1;
	bool any6 = v6 && IN6_IS_ADDR_UNSPECIFIED(&a6);

	d->fd[0] = !v6 ? open_socket(AF_INET, listen, port)
	         : any6 ? open_socket(AF_INET, "0.0.0.0", port) : -1;
	d->fd[1] = v6 ? open_socket(AF_INET6, listen, port) : -1;
	for (int i = 0; i < 2; i++) {
		if (d->fd[i] < 0)
			continue;
		d->ev[i] = event_new(d->base, d->fd[i], EV_READ | EV_PERSIST, on_readable, d);
		event_add(d->ev[i], NULL);
	}
	return d->fd[0] >= 0 || d->fd[1] >= 0;
}

/* ---- state file ---- */

static void save_state(struct dht *d)
{
	struct krpc_node *nodes = xcalloc(2 * DHT_STATE_MAX_NODES, sizeof *nodes);
	uint64_t now = mono_ms();
	size_t n = dht_node_export(d->node, AF_INET, nodes, DHT_STATE_MAX_NODES, now);
	struct sta_buf b = STA_BUF_INIT;

	n += dht_node_export(d->node, AF_INET6, nodes + n, DHT_STATE_MAX_NODES, now);
	dht_state_encode(&b, dht_node_id(d->node), nodes, n);
	if (!file_write_atomic(d->state_path, b.data, b.len, 0600))
		log_warn("DHT: cannot save %s: %s", d->state_path, strerror(errno));
	else
		log_debug("DHT: saved %zu nodes to %s", n, d->state_path);
	d->last_save = now / 1000;
	buf_free(&b);
	free(nodes);
}

/* The saved id and nodes into st; false (nothing to free) when there is no
 * usable file: a new id is drawn then. */
static bool load_state(const char *path, struct dht_state *st)
{
	size_t len;
	char err[160];
	uint8_t *data = file_read_all(path, DHT_STATE_MAX, &len);

	if (data == NULL) {
		if (errno != ENOENT)
			log_warn("DHT: cannot read %s (%s); starting with a new node id", path,
			         strerror(errno));
		return false;
	}
	bool ok = dht_state_decode(data, len, st, err, sizeof err);
	if (!ok)
		log_warn("DHT: %s is damaged (%s); starting with a new node id", path, err);
	free(data);
	return ok;
}

/* ---- bootstrap ---- */

static void on_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct dht_resolve *r = arg;
	struct krpc_addr addrs[8];
	size_t n = 0;

	r->req = NULL;
	if (result == EVUTIL_EAI_CANCEL)
		return;
	if (result != 0)
		log_info("DHT: cannot resolve a bootstrap router: %s", evutil_gai_strerror(result));
	for (struct evutil_addrinfo *p = ai; p && n < 8; p = p->ai_next) {
		struct sockaddr_storage ss;
		memcpy(&ss, p->ai_addr, p->ai_addrlen < sizeof ss ? p->ai_addrlen : sizeof ss);
		if (addr_from_sockaddr(&ss, &addrs[n])) {
			addrs[n].port = r->port;
			n++;
		}
	}
	if (ai)
		evutil_freeaddrinfo(ai);
	if (n > 0)
		dht_node_bootstrap(r->d->node, addrs, n, mono_ms());
}

static void resolve_routers(struct dht *d)
{
	struct evutil_addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_family = AF_UNSPEC };
	char host[HOSTPORT_HOST_MAX + 1], why[160];

	d->last_resolve = mono_ms() / 1000;
	for (size_t i = 0; i < d->n_routers; i++) {
		struct dht_resolve *r = &d->resolving[i];
		if (r->req != NULL || !hostport_split(d->routers[i], host, &r->port, why, sizeof why))
			continue;
		struct krpc_addr a = { .port = r->port };
		/* Literals need no resolver (and tests have none to ask). */
		if (inet_pton(AF_INET, host, a.ip) == 1 || inet_pton(AF_INET6, host, a.ip) == 1) {
			a.family = strchr(host, ':') ? AF_INET6 : AF_INET;
			dht_node_bootstrap(d->node, &a, 1, mono_ms());
		} else if (d->dns != NULL) {
			r->req = evdns_getaddrinfo(d->dns, host, NULL, &hints, on_resolved, r);
		}
	}
}

/* ---- subscriptions ---- */

static void sub_peers(void *arg, const struct krpc_addr *peers, size_t n)
{
	struct dht_sub *s = arg;

	s->found += (uint32_t)n;
	s->peers(s->arg, peers, n);
}

static void sub_done(void *arg, uint32_t answered, uint32_t announced);

static const struct dht_lookup_cbs sub_cbs = { sub_peers, sub_done };

static void sub_schedule(struct dht_sub *s, uint64_t now_ms)
{
	uint32_t wait = DHT_ANNOUNCE_EVERY;

	if (s->want_peers && s->found == 0) {
		wait = s->retry;
		s->retry = s->retry * 2 < DHT_ANNOUNCE_EVERY ? s->retry * 2 : DHT_ANNOUNCE_EVERY;
	} else {
		s->retry = DHT_RETRY_FIRST;
	}
	s->next_ms = now_ms + (uint64_t)wait * 1000;
}

/* A family's lookup of this subscription ended. */
static void sub_done(void *arg, uint32_t answered, uint32_t announced)
{
	struct dht_sub *s = arg;
	char hex[41];

	for (int i = 0; i < 2; i++)
		if (s->lookup[i] != 0 && !dht_node_lookup_active(s->d->node, s->lookup[i]))
			s->lookup[i] = 0;
	s->answered += answered;
	hex_encode(s->info_hash, KRPC_ID_LEN, hex);
	log_debug("%s: DHT lookup: %u nodes answered, announced to %u, %u peers so far", hex,
	          answered, announced, s->found);
	if (s->lookup[0] != 0 || s->lookup[1] != 0)
		return;
	snprintf(s->status, sizeof s->status, "%u peer%s from %u node%s", s->found,
	         s->found == 1 ? "" : "s", s->answered, s->answered == 1 ? "" : "s");
	sub_schedule(s, mono_ms());
}

static void sub_start(struct dht_sub *s, uint64_t now_ms)
{
	s->found = s->answered = 0;
	s->next_ms = UINT64_MAX; /* until the round ends */
	for (int i = 0; i < 2; i++)
		s->lookup[i] = dht_node_lookup(s->d->node, i ? AF_INET6 : AF_INET, s->info_hash,
		                               KRPC_GET_PEERS, s->port != 0, s->port, &sub_cbs, s,
		                               now_ms);
}

struct dht_sub *dht_subscribe(struct dht *d, const uint8_t info_hash[KRPC_ID_LEN], uint16_t port,
                              dht_peers_fn peers, void *arg)
{
	struct dht_sub *s = xcalloc(1, sizeof *s);

	s->d = d;
	memcpy(s->info_hash, info_hash, KRPC_ID_LEN);
	s->port = port;
	s->peers = peers;
	s->arg = arg;
	s->retry = DHT_RETRY_FIRST;
	s->next_ms = mono_ms();
	TAILQ_INSERT_TAIL(&d->subs, s, link);
	return s;
}

void dht_sub_want_peers(struct dht_sub *s, bool want)
{
	s->want_peers = want;
}

const char *dht_sub_status(const struct dht_sub *s)
{
	return s->status[0] ? s->status : "looking up";
}

void dht_sub_lookup_now(struct dht_sub *s)
{
	if (s->lookup[0] == 0 && s->lookup[1] == 0)
		s->next_ms = mono_ms();
}

void dht_unsubscribe(struct dht_sub *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < 2; i++)
		dht_node_cancel(s->d->node, s->lookup[i]);
	TAILQ_REMOVE(&s->d->subs, s, link);
	free(s);
}

/* ---- clock ---- */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct dht *d = arg;
	uint64_t now = mono_ms();
	struct dht_health h;
	struct dht_sub *s;

	dht_node_tick(d->node, now);
	TAILQ_FOREACH(s, &d->subs, link)
		if (now >= s->next_ms)
			sub_start(s, now);
	dht_health(d, &h);
	if (h.good < DHT_K && now / 1000 - d->last_resolve >= DHT_RESOLVE_GAP)
		resolve_routers(d);
	if (now / 1000 - d->last_save >= DHT_SAVE_EVERY)
		save_state(d);
}

/* ---- lifecycle ---- */

static void load_into(struct dht *d, const struct sconfig *cfg, uint16_t port)
{
	struct dht_state st;
	struct dht_node_config nc;
	struct dht_node_io io = { io_send, io_random, d };
	bool loaded = load_state(d->state_path, &st);
	uint8_t id[KRPC_ID_LEN];
	size_t kept = 0;
	char hex[41];

	if (loaded)
		memcpy(id, st.id, sizeof id);
	else
		io_random(NULL, id, sizeof id);
	node_config(cfg, &nc);
	d->node = dht_node_new(id, d->fd[0] >= 0, d->fd[1] >= 0, &nc, &io, mono_ms());
	for (size_t i = 0; loaded && i < st.n_nodes; i++)
		kept += dht_node_add_known(d->node, &st.nodes[i]);
	if (loaded)
		dht_state_free(&st);
	hex_encode(id, sizeof id, hex);
	log_info("DHT node %s on UDP port %u (%s%s%s), %zu known nodes, %zu bootstrap routers", hex,
	         port, d->fd[0] >= 0 ? "IPv4" : "", d->fd[0] >= 0 && d->fd[1] >= 0 ? " and " : "",
	         d->fd[1] >= 0 ? "IPv6" : "", kept, d->n_routers);
}

struct dht *dht_start(struct event_base *base, struct evdns_base *dns, const struct sconfig *cfg,
                      uint16_t port)
{
	if (!cfg->dht_enabled)
		return NULL;
	struct dht *d = xcalloc(1, sizeof *d);
	d->base = base;
	d->dns = dns;
	TAILQ_INIT(&d->subs);
	if (!open_sockets(d, cfg->listen_address, port)) {
		free(d);
		return NULL;
	}
	d->state_path = xasprintf("%s/%s", cfg->state_dir, DHT_STATE_FILE);
	d->n_routers = cfg->dht_bootstrap.n;
	d->routers = xcalloc(d->n_routers + 1, sizeof *d->routers);
	d->resolving = xcalloc(d->n_routers + 1, sizeof *d->resolving);
	for (size_t i = 0; i < d->n_routers; i++) {
		d->routers[i] = xstrdup(cfg->dht_bootstrap.v[i]);
		d->resolving[i].d = d;
	}
	load_into(d, cfg, port);
	d->last_save = mono_ms() / 1000;
	resolve_routers(d);
	d->tick = event_new(base, -1, EV_PERSIST, on_tick, d);
	event_add(d->tick, &(struct timeval){ 1, 0 });
	return d;
}

void dht_reload(struct dht *d, const struct sconfig *cfg)
{
	struct dht_node_config nc;

	node_config(cfg, &nc);
	dht_node_set_config(d->node, &nc);
}

void dht_stop(struct dht *d)
{
	if (d == NULL)
		return;
	save_state(d);
	for (size_t i = 0; i < d->n_routers; i++) {
		if (d->resolving[i].req)
			evdns_getaddrinfo_cancel(d->resolving[i].req);
		free(d->routers[i]);
	}
	free(d->routers);
	free(d->resolving);
	while (!TAILQ_EMPTY(&d->subs))
		dht_unsubscribe(TAILQ_FIRST(&d->subs));
	for (int i = 0; i < 2; i++) {
		if (d->ev[i])
			event_free(d->ev[i]);
		if (d->fd[i] >= 0)
			close(d->fd[i]);
	}
	event_free(d->tick);
	dht_node_free(d->node);
	free(d->state_path);
	free(d);
}

void dht_health(const struct dht *d, struct dht_health *out)
{
	struct dht_stats st;

	dht_node_stats(d->node, mono_ms(), &st);
	*out = (struct dht_health){
		.nodes = st.nodes[0] + st.nodes[1], .good = st.good[0] + st.good[1],
		.nodes6 = st.nodes[1], .good6 = st.good[1],
		.lookups = st.lookups, .stored_peers = st.stored_peers,
	};
}
