/* Request counters. Each worker thread bumps its own cache-line-aligned
 * block (no lock, no sharing on the hot path); readers sum the blocks. A
 * once-a-second tick keeps a minute of history for rates. */
#ifndef TRACKERD_STATS_H
#define TRACKERD_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

enum stat_id {
	STAT_HTTP_ANNOUNCE,
	STAT_HTTP_SCRAPE,
	STAT_UDP_CONNECT,
	STAT_UDP_ANNOUNCE,
	STAT_UDP_SCRAPE,
	STAT_CATALOG,       /* catalog listings, lookups and fetches */
	STAT_SEARCH,        /* catalog searches */
	STAT_PUBLISH,       /* torrents added to the catalog */
	STAT_WITHDRAW,      /* catalog entries withdrawn */
	STAT_HTTP_ERRORS,   /* failure replies and 4xx over HTTP */
	STAT_UDP_ERRORS,    /* error packets and dropped datagrams */
	STAT_HTTP_BYTES_IN, /* bytes, as read from and written to the sockets */
	STAT_HTTP_BYTES_OUT,
	STAT_UDP_BYTES_IN,
	STAT_UDP_BYTES_OUT,
	STAT_COUNT,
};

/* The address family of the client a request came from. */
enum stat_family {
	STAT_V4,
	STAT_V6,
	STAT_FAMILIES,
};

/* Request-latency histograms: the time trackerd spent on a request, from
 * the moment it was read until the reply was queued. */
enum stat_hist {
	HIST_HTTP_ANNOUNCE,
	HIST_HTTP_SCRAPE,
	HIST_HTTP_CATALOG,  /* listings, lookups, fetches */
	HIST_HTTP_SEARCH,
	HIST_HTTP_PUBLISH,  /* publish, batch and withdraw */
	HIST_HTTP_OTHER,    /* pages, metrics, errors */
	HIST_UDP_CONNECT,
	HIST_UDP_ANNOUNCE,
	HIST_UDP_SCRAPE,
	HIST_COUNT,
};

#define STAT_BUCKETS 14     /* finite bucket bounds; one more counts +Inf */

struct stats_block {
	atomic_uint_fast64_t v[STAT_COUNT][STAT_FAMILIES];
	atomic_uint_fast64_t hist[HIST_COUNT][STAT_BUCKETS + 1];
	atomic_uint_fast64_t hist_ns[HIST_COUNT];
} __attribute__((aligned(64)));

/* Upper bounds of the buckets, in nanoseconds. */
extern const uint64_t stats_bucket_ns[STAT_BUCKETS];

struct stats;

/* What the daemon reports besides its counters. */
struct stats_view {
	uint64_t swarms, seeders, leechers;
	uint64_t catalog_entries;
	unsigned threads;
};

struct stats *stats_new(unsigned n_blocks);
void stats_free(struct stats *st);
/* Block for worker i: only that worker writes it. */
struct stats_block *stats_block(struct stats *st, unsigned i);

/* Adds n to a counter of a block. Only the block's worker writes it, so a
 * relaxed load and store suffice (no locked read-modify-write); readers on
 * other threads still see whole values. */
static inline void stats_bump(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
	                      memory_order_relaxed);
}

/* Counters without a family count under STAT_V4 and are summed. */
static inline void stats_inc(struct stats_block *b, enum stat_id id)
{
	stats_bump(&b->v[id][STAT_V4], 1);
}

static inline void stats_inc_family(struct stats_block *b, enum stat_id id,
                                    enum stat_family f)
{
	stats_bump(&b->v[id][f], 1);
}

static inline void stats_observe(struct stats_block *b, enum stat_hist h, uint64_t ns)
{
	unsigned i = 0;

	while (i < STAT_BUCKETS && ns > stats_bucket_ns[i])
		i++;
	stats_bump(&b->hist[h][i], 1);
	stats_bump(&b->hist_ns[h], ns);
}

/* CLOCK_MONOTONIC in nanoseconds, for latencies. */
uint64_t stats_now_ns(void);

static inline void stats_add(struct stats_block *b, enum stat_id id, uint64_t n)
{
	stats_bump(&b->v[id][STAT_V4], n);
}

/* "http_announce", ... (the JSON keys) and "HTTP announce", ... */
const char *stats_name(enum stat_id id);
const char *stats_label(enum stat_id id);

/* Called once a second (from the main loop) to record history. */
void stats_tick(struct stats *st);
uint64_t stats_total(struct stats *st, enum stat_id id);
uint64_t stats_total_family(struct stats *st, enum stat_id id, enum stat_family f);
/* Sums a histogram over the workers: counts[STAT_BUCKETS + 1] per bucket
 * (not cumulative) and the total in nanoseconds. */
void stats_hist(struct stats *st, enum stat_hist h, uint64_t *counts, uint64_t *sum_ns);
/* Average per second over the last minute (or since start, if shorter). */
double stats_rate(struct stats *st, enum stat_id id);
/* Seconds since stats_new. */
uint64_t stats_uptime(struct stats *st);

void stats_render_json(struct stats *st, const struct stats_view *v, struct sta_buf *out);

#endif
