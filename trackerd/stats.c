#include "stats.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#define STATS_WINDOW 60

struct stats {
	unsigned n_blocks;
	struct stats_block *blocks;
	struct timespec start;
	pthread_mutex_t lock; /* guards the history below */
	uint64_t hist[STATS_WINDOW + 1][STAT_COUNT];
	unsigned head;        /* slot of the newest sample */
	unsigned samples;     /* filled slots, up to STATS_WINDOW + 1 */
};

static const char *const stat_names[STAT_COUNT] = {
	"http_announce", "http_scrape", "udp_connect", "udp_announce", "udp_scrape",
	"catalog", "search", "publish", "withdraw", "http_errors", "udp_errors",
	"http_bytes_in", "http_bytes_out", "udp_bytes_in", "udp_bytes_out",
};

static const char *const stat_labels[STAT_COUNT] = {
	"HTTP announce", "HTTP scrape", "UDP connect", "UDP announce", "UDP scrape",
	"catalog", "search", "publish", "withdraw", "HTTP errors", "UDP errors",
	"HTTP bytes in", "HTTP bytes out", "UDP bytes in", "UDP bytes out",
};

const uint64_t stats_bucket_ns[STAT_BUCKETS] = {
	10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
	25000000, 50000000, 100000000, 250000000,
};

uint64_t stats_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *stats_name(enum stat_id id)
{
	return stat_names[id];
}

const char *stats_label(enum stat_id id)
{
	return stat_labels[id];
}

struct stats *stats_new(unsigned n_blocks)
{
	struct stats *st = xcalloc(1, sizeof *st);

	st->n_blocks = n_blocks;
	st->blocks = aligned_alloc(64, sizeof *st->blocks * n_blocks);
	if (st->blocks == NULL)
		abort();
	memset(st->blocks, 0, sizeof *st->blocks * n_blocks); /* atomics: all zero bits */
	clock_gettime(CLOCK_MONOTONIC, &st->start);
	pthread_mutex_init(&st->lock, NULL);
	st->samples = 1; /* hist[0]: all zero at start */
	return st;
}

void stats_free(struct stats *st)
{
	if (st == NULL)
		return;
	pthread_mutex_destroy(&st->lock);
	free(st->blocks);
	free(st);
}

struct stats_block *stats_block(struct stats *st, unsigned i)
{
	return &st->blocks[i];
}

uint64_t stats_total_family(struct stats *st, enum stat_id id, enum stat_family f)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < st->n_blocks; i++)
		sum += atomic_load_explicit(&st->blocks[i].v[id][f], memory_order_relaxed);
	return sum;
}

uint64_t stats_total(struct stats *st, enum stat_id id)
{
	return stats_total_family(st, id, STAT_V4) + stats_total_family(st, id, STAT_V6);
}

void stats_hist(struct stats *st, enum stat_hist h, uint64_t *counts, uint64_t *sum_ns)
{
	memset(counts, 0, (STAT_BUCKETS + 1) * sizeof *counts);
	*sum_ns = 0;
	for (unsigned i = 0; i < st->n_blocks; i++) {
		const struct stats_block *b = &st->blocks[i];
		for (unsigned k = 0; k <= STAT_BUCKETS; k++)
			counts[k] += atomic_load_explicit(&b->hist[h][k], memory_order_relaxed);
		*sum_ns += atomic_load_explicit(&b->hist_ns[h], memory_order_relaxed);
	}
}

uint64_t stats_uptime(struct stats *st)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - st->start.tv_sec);
}

void stats_tick(struct stats *st)
{
	uint64_t sample[STAT_COUNT];

	for (int j = 0; j < STAT_COUNT; j++)
		sample[j] = stats_total(st, (enum stat_id)j);
	pthread_mutex_lock(&st->lock);
	st->head = (st->head + 1) % (STATS_WINDOW + 1);
	memcpy(st->hist[st->head], sample, sizeof sample);
	if (st->samples < STATS_WINDOW + 1)
		st->samples++;
	pthread_mutex_unlock(&st->lock);
}

double stats_rate(struct stats *st, enum stat_id id)
{
	pthread_mutex_lock(&st->lock);
	unsigned span = st->samples - 1;
	unsigned oldest = (st->head + STATS_WINDOW + 1 - span) % (STATS_WINDOW + 1);
	uint64_t delta = st->hist[st->head][id] - st->hist[oldest][id];
	pthread_mutex_unlock(&st->lock);
	return span ? (double)delta / span : 0.0;
}

void stats_render_json(struct stats *st, const struct stats_view *v, struct sta_buf *out)
{
	buf_printf(out, "{\"uptime\":%" PRIu64 ",\"threads\":%u,\"swarms\":%" PRIu64
	           ",\"seeders\":%" PRIu64 ",\"leechers\":%" PRIu64 ",\"peers\":%" PRIu64
	           ",\"catalog_entries\":%" PRIu64 ",\"requests\":{",
	           stats_uptime(st), v->threads, v->swarms, v->seeders, v->leechers,
	           v->seeders + v->leechers, v->catalog_entries);
	for (int j = 0; j < STAT_COUNT; j++)
		buf_printf(out, "%s\"%s\":%" PRIu64, j ? "," : "", stat_names[j],
		           stats_total(st, (enum stat_id)j));
	buf_append_str(out, "},\"rates\":{");
	for (int j = 0; j < STAT_COUNT; j++)
		buf_printf(out, "%s\"%s\":%.2f", j ? "," : "", stat_names[j],
		           stats_rate(st, (enum stat_id)j));
	buf_append_str(out, "}}\n");
}
