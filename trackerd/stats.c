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
	"catalog", "publish", "http_errors", "udp_errors",
};

struct stats *stats_new(unsigned n_blocks)
{
	struct stats *st = xcalloc(1, sizeof *st);

	st->n_blocks = n_blocks;
	st->blocks = aligned_alloc(64, sizeof *st->blocks * n_blocks);
	if (st->blocks == NULL)
		abort();
	for (unsigned i = 0; i < n_blocks; i++)
		for (int j = 0; j < STAT_COUNT; j++)
			atomic_init(&st->blocks[i].v[j], 0);
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

uint64_t stats_total(struct stats *st, enum stat_id id)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < st->n_blocks; i++)
		sum += atomic_load_explicit(&st->blocks[i].v[id], memory_order_relaxed);
	return sum;
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

static void html_row(struct sta_buf *out, const char *label, uint64_t value)
{
	buf_printf(out, "<tr><th>%s</th><td>%" PRIu64 "</td></tr>\n", label, value);
}

static void html_rate_row(struct stats *st, struct sta_buf *out, const char *label,
                          enum stat_id id)
{
	buf_printf(out, "<tr><th>%s</th><td>%.2f/s</td><td>%" PRIu64 "</td></tr>\n", label,
	           stats_rate(st, id), stats_total(st, id));
}

void stats_render_html(struct stats *st, const struct stats_view *v, struct sta_buf *out)
{
	uint64_t up = stats_uptime(st);

	buf_append_str(out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	               "<title>trackerd statistics</title></head><body>\n"
	               "<h1>trackerd</h1>\n<table>\n");
	buf_printf(out, "<tr><th>uptime</th><td>%" PRIu64 "d %02" PRIu64 ":%02" PRIu64
	           ":%02" PRIu64 "</td></tr>\n", up / 86400, up / 3600 % 24, up / 60 % 60, up % 60);
	html_row(out, "threads", v->threads);
	html_row(out, "swarms", v->swarms);
	html_row(out, "seeders", v->seeders);
	html_row(out, "leechers", v->leechers);
	html_row(out, "peers", v->seeders + v->leechers);
	html_row(out, "catalog entries", v->catalog_entries);
	buf_append_str(out, "</table>\n<h2>Requests (last minute)</h2>\n<table>\n"
	               "<tr><th></th><th>rate</th><th>total</th></tr>\n");
	html_rate_row(st, out, "HTTP announce", STAT_HTTP_ANNOUNCE);
	html_rate_row(st, out, "HTTP scrape", STAT_HTTP_SCRAPE);
	html_rate_row(st, out, "UDP connect", STAT_UDP_CONNECT);
	html_rate_row(st, out, "UDP announce", STAT_UDP_ANNOUNCE);
	html_rate_row(st, out, "UDP scrape", STAT_UDP_SCRAPE);
	html_rate_row(st, out, "catalog", STAT_CATALOG);
	html_rate_row(st, out, "publish", STAT_PUBLISH);
	html_rate_row(st, out, "HTTP errors", STAT_HTTP_ERRORS);
	html_rate_row(st, out, "UDP errors", STAT_UDP_ERRORS);
	buf_append_str(out, "</table>\n</body></html>\n");
}
