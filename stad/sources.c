/* The per-torrent peer sources (peer_source.h): a new one is a room of
 * its own and a line here. */
#include <stddef.h>

#include "dht_source.h"
#include "peer_source.h"
#include "tracker_source.h"

static const struct peer_source tracker = {
	.start = tracker_source_start,
	.completed = tracker_source_completed,
	.stop = tracker_source_stop,
	.close = tracker_source_close,
};

/* The DHT has no goodbye: announces expire. */
static const struct peer_source dht = {
	.public_only = true,
	.start = dht_source_start,
	.completed = dht_source_completed,
	.stop = dht_source_stop,
	.close = dht_source_stop,
};

const struct peer_source *const peer_sources[] = { &tracker, &dht, NULL };
