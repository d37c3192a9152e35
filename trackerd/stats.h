/* Request counters. Each worker thread bumps its own cache-line-aligned
 * block with relaxed atomics (no lock, no sharing on the hot path); readers
 * sum the blocks. A once-a-second tick keeps a minute of history for rates. */
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
	STAT_COUNT,
};

struct stats_block {
	atomic_uint_fast64_t v[STAT_COUNT];
} __attribute__((aligned(64)));

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

static inline void stats_inc(struct stats_block *b, enum stat_id id)
{
	atomic_fetch_add_explicit(&b->v[id], 1, memory_order_relaxed);
}

static inline void stats_add(struct stats_block *b, enum stat_id id, uint64_t n)
{
	atomic_fetch_add_explicit(&b->v[id], n, memory_order_relaxed);
}

/* "http_announce", ... (the JSON keys) and "HTTP announce", ... */
const char *stats_name(enum stat_id id);
const char *stats_label(enum stat_id id);

/* Called once a second (from the main loop) to record history. */
void stats_tick(struct stats *st);
uint64_t stats_total(struct stats *st, enum stat_id id);
/* Average per second over the last minute (or since start, if shorter). */
double stats_rate(struct stats *st, enum stat_id id);
/* Seconds since stats_new. */
uint64_t stats_uptime(struct stats *st);

void stats_render_json(struct stats *st, const struct stats_view *v, struct sta_buf *out);

#endif
