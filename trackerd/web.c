/* trackerd's pages for people: the index at /, the catalog for a browser
 * (search box, pages, magnet links) and the statistics page, which keeps
 * itself current from /stats?format=json. Everything a torrent or a client
 * sent is escaped before it goes into a page. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "hex.h"
#include "http.h"
#include "stats.h"
#include "tracker_proto.h"

#define HOST_MAX 255

static const char css[] =
	"<style>\n"
	"body{font-family:system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}\n"
	"header{background:#1d2330;color:#fff;padding:.8em 1.5em}\n"
	"header a{color:#cfe0ff;margin-right:1.2em;text-decoration:none}\n"
	"header b{margin-right:2em}\n"
	"main{padding:1em 1.5em;max-width:72em}\n"
	"table{border-collapse:collapse;background:#fff;margin:.5em 0 1.5em}\n"
	"th,td{padding:.35em .8em;border-bottom:1px solid #e3e6eb;text-align:left}\n"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	"th{background:#eef1f5}\n"
	"code{font-size:.9em}\n"
	"input[type=search]{width:24em;padding:.4em}\n"
	".muted{color:#667}\n"
	"</style>\n";

/* Text from a torrent or a client as HTML text or attribute: the five
 * special characters as entities, control bytes dropped. */
static void html_text(struct sta_buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		switch (ch) {
		case '&': buf_append_str(out, "&amp;"); break;
		case '<': buf_append_str(out, "&lt;"); break;
		case '>': buf_append_str(out, "&gt;"); break;
		case '"': buf_append_str(out, "&quot;"); break;
		case '\'': buf_append_str(out, "&#39;"); break;
		default:
			if (ch >= 0x20 && ch != 0x7f)
				buf_append_byte(out, ch);
		}
	}
}

static void html_cstr(struct sta_buf *out, const char *s)
{
	html_text(out, s, strlen(s));
}

static void page_begin(struct sta_buf *out, const char *title, const char *head_extra)
{
	buf_printf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	           "<meta name=\"viewport\" content=\"width=device-width\">"
	           "<title>%s \xe2\x80\x94 trackerd</title>\n%s%s</head><body>\n"
	           "<header><b>trackerd</b><a href=\"/\">Home</a><a href=\"/catalog\">Catalog</a>"
	           "<a href=\"/stats\">Statistics</a><a href=\"/metrics\">Metrics</a></header>\n"
	           "<main>\n", title, css, head_extra);
}

static void page_end(struct sta_buf *out)
{
	buf_append_str(out, "</main></body></html>\n");
}

/* The Host the client used, if it looks like a host name or address. */
static const char *request_host(struct http_call *c)
{
	const char *host = http_header(c, "Host");

	if (host == NULL || host[0] == '\0' || strlen(host) > HOST_MAX ||
	    host[strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	                      ".-:[]")] != '\0')
		return NULL;
	return host;
}

bool web_announce_url(struct http_call *c, char *out, size_t outsz)
{
	const char *host = request_host(c);

	return host && (size_t)snprintf(out, outsz, "http://%s/announce", host) < outsz;
}

void web_index_page(struct http_call *c, struct sta_buf *out)
{
	const char *host = request_host(c);

	page_begin(out, "Home", "");
	buf_append_str(out, "<h1>STA tracker</h1>\n<p>A BitTorrent tracker (HTTP and UDP) with a "
	               "catalog of the files its peers share.</p>\n<ul>\n"
	               "<li><a href=\"/catalog\">Catalog</a>: browse and search the published "
	               "files; each has a magnet link and its .torrent</li>\n"
	               "<li><a href=\"/stats\">Statistics</a>: swarms, peers and request rates, "
	               "live</li>\n"
	               "<li><a href=\"/metrics\">Metrics</a> in the Prometheus text format</li>\n"
	               "</ul>\n<p>Announce URL: <code>http://");
	html_cstr(out, host ? host : "HOST:PORT");
	buf_append_str(out, "/announce</code></p>\n");
	page_end(out);
}

/* ---- the catalog ---- */

/* "?q=..&sort=..&order=..&limit=..&after=.." keeping the page's search. */
static void catalog_href(struct sta_buf *out, const struct catalog_query *q,
                         enum catalog_sort sort, bool desc, const char *after)
{
	struct catalog_query l = *q;
	struct sta_buf qs = STA_BUF_INIT;

	l.sort = sort;
	l.desc = desc;
	l.has_after = after != NULL;
	l.format_given = false;
	if (after)
		catalog_cursor_decode(after, strlen(after), &l.after);
	catalog_query_encode(&l, &qs);
	buf_append_str(out, "/catalog?");
	html_text(out, (const char *)qs.data, qs.len);
	buf_free(&qs);
}

static void sort_head(struct sta_buf *out, const struct catalog_query *q, enum catalog_sort s,
                      const char *label)
{
	bool desc = q->sort == s ? !q->desc : catalog_sort_default_desc(s);

	buf_append_str(out, "<th><a href=\"");
	catalog_href(out, q, s, desc, NULL);
	buf_printf(out, "\">%s%s</a></th>", label,
	           q->sort != s ? "" : q->desc ? " \xe2\x86\x93" : " \xe2\x86\x91");
}

static void magnet(struct sta_buf *out, const struct catalog_entry *e, const char *announce)
{
	struct sta_buf m = STA_BUF_INIT;

	catalog_entry_magnet(&m, e, announce);
	html_text(out, (const char *)m.data, m.len);
	buf_free(&m);
}

static void catalog_row(struct sta_buf *out, const struct catalog_entry *e, const char *announce)
{
	char hex[41], when[32];
	time_t added = (time_t)e->added;
	struct tm tm;

	hex_encode(e->info_hash, 20, hex);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M", gmtime_r(&added, &tm));
	buf_append_str(out, "<tr class=\"entry\"><td class=\"name\">");
	html_cstr(out, e->name);
	buf_printf(out, "</td><td class=\"n size\">%" PRIu64 "</td><td class=\"n seeders\">%"
	           PRIu32 "</td><td class=\"n leechers\">%" PRIu32 "</td><td>%s</td>"
	           "<td><a class=\"magnet\" href=\"", e->size, e->seeders, e->leechers, when);
	magnet(out, e, announce);
	buf_printf(out, "\"><code class=\"hash\">%s</code></a> <a href=\"/catalog/%s.torrent\">"
	           ".torrent</a></td></tr>\n", hex, hex);
}

void web_catalog_page(struct http_call *c, const struct catalog_query *q,
                      const struct catalog_page *page, struct sta_buf *out)
{
	char announce[HOST_MAX + 32];
	bool known = web_announce_url(c, announce, sizeof announce);

	page_begin(out, "Catalog", "");
	buf_append_str(out, "<h1>Catalog</h1>\n<form action=\"/catalog\" method=\"get\">"
	               "<input type=\"search\" name=\"q\" placeholder=\"words or the start of "
	               "words\" value=\"");
	html_cstr(out, q->words);
	buf_append_str(out, "\"> <button>Search</button></form>\n<table id=\"catalog\"><tr>");
	sort_head(out, q, CATALOG_SORT_NAME, "Name");
	sort_head(out, q, CATALOG_SORT_SIZE, "Size (bytes)");
	sort_head(out, q, CATALOG_SORT_SEEDERS, "Seeders");
	buf_append_str(out, "<th>Leechers</th>");
	sort_head(out, q, CATALOG_SORT_ADDED, "Added (UTC)");
	buf_append_str(out, "<th>Info-hash (magnet link)</th></tr>\n");
	for (size_t i = 0; i < page->n; i++)
		catalog_row(out, &page->v[i], known ? announce : NULL);
	buf_append_str(out, "</table>\n");
	if (page->n == 0)
		buf_append_str(out, "<p class=\"muted\">Nothing here.</p>\n");
	if (page->next[0]) {
		buf_append_str(out, "<p><a id=\"next\" href=\"");
		catalog_href(out, q, q->sort, q->desc, page->next);
		buf_append_str(out, "\">Next page \xe2\x86\x92</a></p>\n");
	}
	page_end(out);
}

/* ---- statistics ---- */

/* Fetches the JSON view every two seconds and writes each figure into the
 * element with its id; data-refreshed counts the updates. */
static const char stats_script[] =
	"<script>\n"
	"function set(id,v){var e=document.getElementById(id);if(e)e.textContent=v;}\n"
	"function up(s){return Math.floor(s/86400)+'d '+new Date(s%86400*1000)"
	".toISOString().substr(11,8);}\n"
	"async function refresh(){try{var r=await fetch('/stats?format=json');"
	"var j=await r.json();set('uptime',up(j.uptime));"
	"for(const k of ['threads','swarms','seeders','leechers','peers','catalog_entries'])"
	"set(k,j[k]);for(const k in j.requests){set('total-'+k,j.requests[k]);"
	"set('rate-'+k,j.rates[k].toFixed(2)+'/s');}"
	"document.body.dataset.refreshed=(+document.body.dataset.refreshed||0)+1;}catch(e){}}\n"
	"setInterval(refresh,2000);refresh();\n"
	"</script>\n";

static void stat_row(struct sta_buf *out, const char *id, const char *label, uint64_t v)
{
	buf_printf(out, "<tr><th>%s</th><td class=\"n\" id=\"%s\">%" PRIu64 "</td></tr>\n", label,
	           id, v);
}

void web_stats_page(struct stats *st, const struct stats_view *v, struct sta_buf *out)
{
	uint64_t up = stats_uptime(st);

	page_begin(out, "Statistics", "<noscript><meta http-equiv=\"refresh\" content=\"10\">"
	           "</noscript>\n");
	buf_printf(out, "<h1>Statistics</h1>\n<table id=\"totals\">\n<tr><th>uptime</th>"
	           "<td class=\"n\" id=\"uptime\">%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02"
	           PRIu64 "</td></tr>\n", up / 86400, up / 3600 % 24, up / 60 % 60, up % 60);
	stat_row(out, "threads", "threads", v->threads);
	stat_row(out, "swarms", "swarms", v->swarms);
	stat_row(out, "seeders", "seeders", v->seeders);
	stat_row(out, "leechers", "leechers", v->leechers);
	stat_row(out, "peers", "peers", v->seeders + v->leechers);
	stat_row(out, "catalog_entries", "catalog entries", v->catalog_entries);
	buf_append_str(out, "</table>\n<h2>Requests (last minute)</h2>\n<table id=\"requests\">\n"
	               "<tr><th></th><th>rate</th><th>total</th></tr>\n");
	for (int j = 0; j < STAT_COUNT; j++)
		buf_printf(out, "<tr><th>%s</th><td class=\"n\" id=\"rate-%s\">%.2f/s</td>"
		           "<td class=\"n\" id=\"total-%s\">%" PRIu64 "</td></tr>\n",
		           stats_label((enum stat_id)j), stats_name((enum stat_id)j),
		           stats_rate(st, (enum stat_id)j), stats_name((enum stat_id)j),
		           stats_total(st, (enum stat_id)j));
	buf_append_str(out, "</table>\n<p class=\"muted\">This page updates itself every two "
	               "seconds.</p>\n");
	buf_append_str(out, stats_script);
	page_end(out);
}
