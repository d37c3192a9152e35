/* GET /metrics: the counters, gauges and latency histograms in the
 * Prometheus text format (version 0.0.4). Names carry the sta_tracker_
 * prefix, counters end in _total, times are in seconds and sizes in bytes;
 * protocol and address family are labels. trackerd(8) lists them all. */
#include <inttypes.h>
#include <string.h>

#include "catalog.h"
#include "http.h"
#include "stats.h"

static const char *const fam_names[STAT_FAMILIES] = { "ipv4", "ipv6" };

static void head(struct sta_buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One counter by protocol (given) and family, from one stat per protocol. */
static void by_family(struct sta_buf *out, struct stats *st, const char *name,
                      const char *proto, enum stat_id id)
{
	for (int f = 0; f < STAT_FAMILIES; f++)
		buf_printf(out, "%s{protocol=\"%s\",family=\"%s\"} %" PRIu64 "\n", name, proto,
		           fam_names[f], stats_total_family(st, id, (enum stat_family)f));
}

static void requests(struct sta_buf *out, struct stats *st)
{
	head(out, "sta_tracker_announces_total", "counter",
	     "Announce requests, by protocol and client address family.");
	by_family(out, st, "sta_tracker_announces_total", "http", STAT_HTTP_ANNOUNCE);
	by_family(out, st, "sta_tracker_announces_total", "udp", STAT_UDP_ANNOUNCE);
	head(out, "sta_tracker_scrapes_total", "counter",
	     "Scrape requests, by protocol and client address family.");
	by_family(out, st, "sta_tracker_scrapes_total", "http", STAT_HTTP_SCRAPE);
	by_family(out, st, "sta_tracker_scrapes_total", "udp", STAT_UDP_SCRAPE);
	head(out, "sta_tracker_udp_connects_total", "counter",
	     "UDP connect requests (BEP 15), by client address family.");
	by_family(out, st, "sta_tracker_udp_connects_total", "udp", STAT_UDP_CONNECT);
	head(out, "sta_tracker_errors_total", "counter",
	     "Requests answered with an error or dropped, by protocol and family.");
	by_family(out, st, "sta_tracker_errors_total", "http", STAT_HTTP_ERRORS);
	by_family(out, st, "sta_tracker_errors_total", "udp", STAT_UDP_ERRORS);
}

static void counter(struct sta_buf *out, const char *name, const char *help, uint64_t v)
{
	head(out, name, "counter", help);
	buf_printf(out, "%s %" PRIu64 "\n", name, v);
}

static void gauge(struct sta_buf *out, const char *name, const char *help, uint64_t v)
{
	head(out, name, "gauge", help);
	buf_printf(out, "%s %" PRIu64 "\n", name, v);
}

static void bytes(struct sta_buf *out, struct stats *st)
{
	head(out, "sta_tracker_received_bytes_total", "counter",
	     "Bytes received from clients, by protocol.");
	buf_printf(out, "sta_tracker_received_bytes_total{protocol=\"http\"} %" PRIu64 "\n"
	           "sta_tracker_received_bytes_total{protocol=\"udp\"} %" PRIu64 "\n",
	           stats_total(st, STAT_HTTP_BYTES_IN), stats_total(st, STAT_UDP_BYTES_IN));
	head(out, "sta_tracker_sent_bytes_total", "counter", "Bytes sent to clients, by protocol.");
	buf_printf(out, "sta_tracker_sent_bytes_total{protocol=\"http\"} %" PRIu64 "\n"
	           "sta_tracker_sent_bytes_total{protocol=\"udp\"} %" PRIu64 "\n",
	           stats_total(st, STAT_HTTP_BYTES_OUT), stats_total(st, STAT_UDP_BYTES_OUT));
}

static void histogram(struct sta_buf *out, struct stats *st, enum stat_hist h,
                      const char *proto, const char *request)
{
	static const char name[] = "sta_tracker_request_duration_seconds";
	uint64_t counts[STAT_BUCKETS + 1], sum_ns, cum = 0;

	stats_hist(st, h, counts, &sum_ns);
	for (unsigned i = 0; i < STAT_BUCKETS; i++) {
		cum += counts[i];
		buf_printf(out, "%s_bucket{protocol=\"%s\",request=\"%s\",le=\"%g\"} %" PRIu64 "\n",
		           name, proto, request, (double)stats_bucket_ns[i] / 1e9, cum);
	}
	cum += counts[STAT_BUCKETS];
	buf_printf(out, "%s_bucket{protocol=\"%s\",request=\"%s\",le=\"+Inf\"} %" PRIu64 "\n"
	           "%s_sum{protocol=\"%s\",request=\"%s\"} %.9f\n"
	           "%s_count{protocol=\"%s\",request=\"%s\"} %" PRIu64 "\n",
	           name, proto, request, cum, name, proto, request, (double)sum_ns / 1e9,
	           name, proto, request, cum);
}

static void latencies(struct sta_buf *out, struct stats *st)
{
	static const struct {
		enum stat_hist h;
		const char *proto, *request;
	} hs[] = {
		{ HIST_HTTP_ANNOUNCE, "http", "announce" }, { HIST_HTTP_SCRAPE, "http", "scrape" },
		{ HIST_HTTP_CATALOG, "http", "catalog" },   { HIST_HTTP_SEARCH, "http", "search" },
		{ HIST_HTTP_PUBLISH, "http", "publish" },   { HIST_HTTP_OTHER, "http", "other" },
		{ HIST_UDP_CONNECT, "udp", "connect" },     { HIST_UDP_ANNOUNCE, "udp", "announce" },
		{ HIST_UDP_SCRAPE, "udp", "scrape" },
	};

	head(out, "sta_tracker_request_duration_seconds", "histogram",
	     "Time trackerd spent on a request, from reading it to queueing the reply.");
	for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
		histogram(out, st, hs[i].h, hs[i].proto, hs[i].request);
}

void metrics_render(struct tracker *tr, struct sta_buf *out)
{
	struct stats *st = tr->stats;
	struct swarm_totals t;

	swarm_totals(tr->swarms, &t);
	requests(out, st);
	gauge(out, "sta_tracker_torrents", "Torrents with at least one peer.", t.swarms);
	gauge(out, "sta_tracker_seeders", "Peers that have the whole torrent.", t.seeders);
	gauge(out, "sta_tracker_leechers", "Peers still downloading.", t.leechers);
	gauge(out, "sta_tracker_catalog_entries", "Torrents in the catalog.",
	      catalog_count(tr->catalog));
	counter(out, "sta_tracker_catalog_publishes_total", "Torrents added to the catalog.",
	        stats_total(st, STAT_PUBLISH));
	counter(out, "sta_tracker_catalog_withdrawals_total", "Catalog entries withdrawn.",
	        stats_total(st, STAT_WITHDRAW));
	counter(out, "sta_tracker_catalog_searches_total", "Catalog searches (q=).",
	        stats_total(st, STAT_SEARCH));
	counter(out, "sta_tracker_catalog_requests_total",
	        "Catalog listings, name and hash lookups and .torrent fetches.",
	        stats_total(st, STAT_CATALOG));
	bytes(out, st);
	latencies(out, st);
	gauge(out, "sta_tracker_start_time_seconds", "When trackerd started, in Unix time.",
	      (uint64_t)tr->started);
}
