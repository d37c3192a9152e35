/* Query strings as trackerd gets them after "GET /announce?" and
 * "GET /scrape?". An accepted announce must survive the client's encoder:
 * build it again, parse it again, get the same request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tracker_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct announce_req *req)
{
	struct sta_buf b = STA_BUF_INIT;
	struct announce_req again, want = *req;
	struct tracker_error err;

	tracker_build_announce_query(&b, req);
	if (!tracker_parse_announce_query((const char *)b.data, b.len, &again, &err))
		abort();
	/* The client always asks for compact and never for no_peer_id. */
	want.compact = true;
	want.no_peer_id = false;
	if (memcmp(&again, &want, sizeof want) != 0)
		abort();
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *q = (const char *)data;
	struct announce_req req;
	struct scrape_req *sreq = malloc(sizeof *sreq);
	struct tracker_error err;
	struct sta_buf b = STA_BUF_INIT;

	if (tracker_parse_announce_query(q, size, &req, &err)) {
		if (req.port == 0 || req.numwant > TRACKER_NUMWANT_MAX)
			abort();
		check_round_trip(&req);
	} else {
		if (memchr(err.msg, '\0', sizeof err.msg) == NULL)
			abort();
		tracker_build_failure(&b, err.msg);
	}
	if (tracker_parse_scrape_query(q, size, sreq, &err) && sreq->n > TRACKER_SCRAPE_MAX)
		abort();
	buf_free(&b);
	free(sreq);
	return 0;
}
