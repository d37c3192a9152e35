#include "dht_source.h"

#include <string.h>

#include "dht.h"
#include "context.h"
#include "torrent.h"

static void got_peers(void *arg, const struct krpc_addr *peers, size_t n)
{
	struct torrent *t = arg;
	struct tracker_peer c[KRPC_VALUES_MAX];

	if (n > KRPC_VALUES_MAX)
		n = KRPC_VALUES_MAX;
	for (size_t i = 0; i < n; i++) {
		c[i] = (struct tracker_peer){ .family = peers[i].family, .port = peers[i].port };
		memcpy(c[i].addr, peers[i].ip, sizeof c[i].addr);
	}
	torrent_add_candidates(t, c, n);
}

void dht_source_start(struct torrent *t)
{
	struct dht *d = t->s->dht;

	if (d == NULL || t->mi.is_private)
		return;
	if (t->dht_sub == NULL)
		t->dht_sub = dht_subscribe(d, t->mi.info_hash, t->s->port, got_peers, t);
	else
		dht_sub_lookup_now(t->dht_sub);
	dht_sub_want_peers(t->dht_sub, !torrent_is_complete(t));
}

void dht_source_stop(struct torrent *t)
{
	dht_unsubscribe(t->dht_sub);
	t->dht_sub = NULL;
}

void dht_source_completed(struct torrent *t)
{
	if (t->dht_sub)
		dht_sub_want_peers(t->dht_sub, false);
}
