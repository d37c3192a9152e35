#include "tracker.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "access.h"
#include "catalog.h"
#include "config.h"
#include "xmalloc.h"

static bool random_bytes(void *p, size_t n)
{
	return getrandom(p, n, 0) == (ssize_t)n;
}

bool tracker_init(struct tracker *tr, const struct tconfig *c)
{
	uint8_t table_key[16];

	memset(tr, 0, sizeof *tr);
	if (!random_bytes(tr->udp_secret, sizeof tr->udp_secret) ||
	    !random_bytes(table_key, sizeof table_key))
		return false;
	pthread_mutex_init(&tr->live.token_lock, NULL);
	tr->live.publish_token = xstrdup("");
	tr->metrics_apart = c->metrics_listen[0] != '\0';
	tr->started = (int64_t)time(NULL);
	tr->swarms = swarm_table_new(table_key, (uint32_t)c->max_swarms,
	                             (uint32_t)c->max_peers_per_swarm);
	tracker_apply(tr, c);
	return true;
}

void tracker_fini(struct tracker *tr)
{
	swarm_table_free(tr->swarms);
	free(tr->live.publish_token);
	pthread_mutex_destroy(&tr->live.token_lock);
}

void tracker_apply(struct tracker *tr, const struct tconfig *c)
{
	struct tracker_live *l = &tr->live;

	atomic_store(&l->announce_interval, (unsigned)c->announce_interval);
	atomic_store(&l->min_interval, (unsigned)c->min_interval);
	atomic_store(&l->numwant_max, (unsigned)c->numwant_max);
	atomic_store(&l->peer_timeout, (unsigned)c->peer_timeout);
	atomic_store(&l->trust_ip, c->trust_ip_param);
	atomic_store(&l->max_torrent_size, (long long)c->max_torrent_size);
	atomic_store(&l->max_batch_size, (long long)c->max_batch_size);
	if (tr->catalog)
		catalog_set_expiry(tr->catalog, (uint32_t)c->catalog_expire);
	pthread_mutex_lock(&l->token_lock);
	config_set_str(&l->publish_token, c->publish_token);
	pthread_mutex_unlock(&l->token_lock);
	swarm_set_limits(tr->swarms, (uint32_t)c->max_swarms, (uint32_t)c->max_peers_per_swarm);
}

bool tracker_token_ok(struct tracker *tr, const char *token)
{
	pthread_mutex_lock(&tr->live.token_lock);
	const char *want = tr->live.publish_token;
	size_t wl = strlen(want), tl = strlen(token);
	unsigned char diff = wl != tl || wl == 0;
	/* Compare every byte of the configured token whatever matches first. */
	for (size_t i = 0; i < wl; i++)
		diff |= (unsigned char)(want[i] ^ token[i < tl ? i : 0]);
	pthread_mutex_unlock(&tr->live.token_lock);
	return diff == 0;
}

uint32_t tracker_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}

bool tracker_addr_from_sockaddr(const struct sockaddr *sa, struct swarm_addr *out)
{
	memset(out, 0, sizeof *out);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;
		out->family = AF_INET;
		memcpy(out->addr, &a->sin_addr, 4);
		out->port = ntohs(a->sin_port);
		return true;
	}
	if (sa->sa_family != AF_INET6)
		return false;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)(const void *)sa;
	out->port = ntohs(a6->sin6_port);
	if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
		out->family = AF_INET;
		memcpy(out->addr, a6->sin6_addr.s6_addr + 12, 4);
	} else {
		out->family = AF_INET6;
		memcpy(out->addr, &a6->sin6_addr, 16);
	}
	return true;
}

/* The address the peer is recorded under: the claimed one only when the
 * operator trusts it (a tracker behind a proxy, or a test rig). */
static void announce_addr(struct tracker *tr, const struct announce_req *req,
                          const struct swarm_addr *src, struct swarm_addr *out)
{
	*out = *src;
	out->port = req->port;
	if (req->ip_family && atomic_load_explicit(&tr->live.trust_ip, memory_order_relaxed)) {
		out->family = req->ip_family;
		memcpy(out->addr, req->ip, req->ip_family == AF_INET ? 4 : 16);
	}
}

const char *tracker_announce(struct tracker *tr, const struct announce_req *req,
                             const struct swarm_addr *peer, int want_family,
                             struct tracker_peer *peers, struct announce_resp *resp)
{
	struct tracker_live *l = &tr->live;
	uint32_t numwant_max = atomic_load_explicit(&l->numwant_max, memory_order_relaxed);
	struct swarm_announce a = {
		.info_hash = req->info_hash,
		.event = req->event,
		.seeder = req->left == 0,
		.numwant = req->numwant < numwant_max ? req->numwant : numwant_max,
		.want_family = want_family,
		.now = tracker_now(),
	};
	struct swarm_counts counts;
	size_t n;

	if (!access_permits(tr->access, req->info_hash))
		return "torrent not registered with this tracker";
	announce_addr(tr, req, peer, &a.peer);
	switch (swarm_announce(tr->swarms, &a, peers, &n, &counts)) {
	case SWARM_TOO_MANY_SWARMS:
		return "tracker full: too many torrents";
	case SWARM_FULL:
		return "swarm full: too many peers for this torrent";
	case SWARM_OK:
		break;
	}
	memset(resp, 0, sizeof *resp);
	resp->interval = atomic_load_explicit(&l->announce_interval, memory_order_relaxed);
	resp->min_interval = atomic_load_explicit(&l->min_interval, memory_order_relaxed);
	resp->complete = counts.seeders;
	resp->incomplete = counts.leechers;
	resp->downloaded = counts.completed;
	resp->n_peers = n;
	resp->peers = peers;
	return NULL;
}

const char *tracker_scrape(struct tracker *tr, const struct scrape_req *req,
                           struct scrape_entry *e)
{
	if (req->n == 0)
		return "full scrape is not supported: name the info_hash values";
	for (size_t i = 0; i < req->n; i++) {
		struct swarm_counts c = { 0, 0, 0 };
		memcpy(e[i].info_hash, req->info_hash[i], TRACKER_HASH_LEN);
		if (access_permits(tr->access, req->info_hash[i]))
			swarm_scrape(tr->swarms, req->info_hash[i], &c);
		e[i].complete = c.seeders;
		e[i].incomplete = c.leechers;
		e[i].downloaded = c.completed;
	}
	return NULL;
}
