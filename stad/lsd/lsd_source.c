/* LSD as a peer source (see lsd_source.h). */
#include "lsd_source.h"

#include <netinet/in.h>
#include <string.h>

#include "lsd_service.h"
#include "sconfig.h"
#include "context.h"
#include "torrent.h"

/* BEP 27: private torrents get peers from their trackers only. */
static void eligible(void *arg, struct sta_buf *out)
{
	struct session *s = arg;
	struct torrent *t;

	TAILQ_FOREACH(t, &s->torrents, link)
		if (!t->mi.is_private && torrent_wants_peers(t))
			buf_append(out, t->mi.info_hash, 20);
}

static void found(void *arg, const uint8_t info_hash[20], const struct sockaddr *sa,
                  socklen_t len)
{
	struct torrent *t = torrent_find(arg, info_hash);
	struct tracker_peer c;

	if (t == NULL || t->mi.is_private)
		return;
	memset(&c, 0, sizeof c);
	c.family = sa->sa_family;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		memcpy(c.addr, &a->sin_addr, 4);
		c.port = ntohs(a->sin_port);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		memcpy(c.addr, &a->sin6_addr, 16);
		c.port = ntohs(a->sin6_port);
	} else {
		return;
	}
	torrent_add_candidates(t, &c, 1);
}

struct lsd_service *lsd_source_start(struct session *s)
{
	const struct lsd_hooks hooks = { eligible, found, s };

	return lsd_service_new(s->base, s->cfg->listen_address, s->port, &hooks);
}
