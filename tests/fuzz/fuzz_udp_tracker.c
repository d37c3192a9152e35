/* One datagram through both sides of BEP 15: the tracker's request decoder
 * and the client's reply decoder. The first byte picks the client's family
 * and peer limit, the rest is the packet. Whatever decodes must encode
 * back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tracker_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const uint8_t *pkt, size_t len)
{
	struct udp_request *req = malloc(sizeof *req);
	struct tracker_error err;
	struct sta_buf b = STA_BUF_INIT;

	if (!udp_decode_request(pkt, len, req, &err))
		goto out;
	if (req->action == UDP_ACTION_CONNECT) {
		udp_encode_connect(&b, req->transaction_id);
	} else if (req->action == UDP_ACTION_SCRAPE) {
		if (req->scrape.n < 1 || req->scrape.n > TRACKER_SCRAPE_MAX)
			abort();
		udp_encode_scrape(&b, req->connection_id, req->transaction_id, &req->scrape);
	} else {
		udp_encode_announce(&b, req->connection_id, req->transaction_id, &req->announce);
		/* num_want is normalised (negative -> default, capped): skip it. */
		if (b.len != 98 || memcmp(b.data, pkt, 92) != 0 || memcmp(b.data + 96, pkt + 96, 2))
			abort();
		buf_clear(&b);
	}
	if (b.len > len || memcmp(b.data, pkt, b.len) != 0)
		abort();
out:
	buf_free(&b);
	free(req);
}

static void check_reply(const uint8_t *pkt, size_t len, int family, size_t max_peers)
{
	struct udp_reply *r = malloc(sizeof *r);
	struct tracker_error err;

	if (udp_decode_reply(pkt, len, family, max_peers, r, &err)) {
		if (r->n_peers > max_peers || r->n_scrape > TRACKER_SCRAPE_MAX ||
		    memchr(r->error, '\0', sizeof r->error) == NULL)
			abort();
		for (size_t i = 0; i < r->n_peers; i++)
			if (r->peers[i].family != family || r->peers[i].port == 0)
				abort();
	}
	udp_reply_free(r);
	free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	int family = data[0] & 1 ? AF_INET6 : AF_INET;
	size_t max_peers = data[0] >> 1;

	check_request(data + 1, size - 1);
	check_reply(data + 1, size - 1, family, max_peers);
	return 0;
}
