/* A tracker's HTTP announce reply as stad gets it. Peers that parse must
 * come back unchanged through trackerd's compact encoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tracker_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PEERS 64

static void check_round_trip(const struct announce_reply *r)
{
	struct announce_resp resp = {
		.interval = r->interval, .min_interval = r->min_interval,
		.complete = r->complete, .incomplete = r->incomplete,
		.warning = r->warning[0] ? r->warning : NULL,
		.n_peers = r->n_peers, .peers = r->peers,
	};
	struct sta_buf b = STA_BUF_INIT;
	struct announce_reply again;
	struct tracker_error err;

	tracker_build_announce_reply(&b, &resp, true, false);
	if (!tracker_parse_announce_reply(b.data, b.len, MAX_PEERS, &again, &err))
		abort();
	if (again.n_peers != r->n_peers || again.interval != r->interval ||
	    again.complete != r->complete || again.incomplete != r->incomplete ||
	    again.min_interval != r->min_interval)
		abort();
	/* Compact replies list IPv4 peers first; within a family order holds. */
	size_t k = 0;
	for (int pass = 0; pass < 2; pass++) {
		int family = pass == 0 ? AF_INET : AF_INET6;
		for (size_t i = 0; i < r->n_peers; i++) {
			if (r->peers[i].family != family)
				continue;
			const struct tracker_peer *p = &again.peers[k++];
			if (p->family != family || p->port != r->peers[i].port ||
			    memcmp(p->addr, r->peers[i].addr, family == AF_INET ? 4 : 16) != 0)
				abort();
		}
	}
	tracker_announce_reply_free(&again);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct announce_reply r;
	struct tracker_error err;

	if (tracker_parse_announce_reply(data, size, MAX_PEERS, &r, &err)) {
		if (r.n_peers > MAX_PEERS || memchr(r.failure, '\0', sizeof r.failure) == NULL ||
		    memchr(r.warning, '\0', sizeof r.warning) == NULL)
			abort();
		if (!r.failed)
			check_round_trip(&r);
	} else if (r.peers != NULL || memchr(err.msg, '\0', sizeof err.msg) == NULL) {
		abort();
	}
	tracker_announce_reply_free(&r);
	return 0;
}
