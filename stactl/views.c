#include "views.h"

#include <stdlib.h>

#include "render.h"
#include "xmalloc.h"

enum { NAME_MAX_WIDTH = 48, NAME_MIN_WIDTH = 8, HASH_MIN_WIDTH = 8 };

static void add_percent(struct table *t, int64_t done, int64_t size)
{
	char pct[RENDER_NUM_MAX];

	render_percent(pct, sizeof pct, done, size);
	table_add(t, pct);
}

static void render_table(struct sta_buf *out, struct table *t, size_t width)
{
	table_render(t, out, width);
	table_free(t);
}

static void view_torrents(struct sta_buf *out, const struct ctl_status *st, size_t width)
{
	static const struct table_col cols[] = {
		{ .head = "NAME", .max = NAME_MAX_WIDTH, .min = NAME_MIN_WIDTH },
		{ .head = "STATE" },
		{ .head = "DONE", .right = true },
		{ .head = "SIZE", .right = true, .drop = 3 },
		{ .head = "DOWN", .right = true, .drop = 6 },
		{ .head = "UP", .right = true, .drop = 2 },
		{ .head = "RATIO", .right = true, .drop = 4 },
		{ .head = "PEERS", .right = true, .drop = 5 },
		{ .head = "SEEDS", .right = true, .drop = 1 },
		{ .head = "INFO-HASH", .prefix = true, .min = HASH_MIN_WIDTH },
	};
	struct table t;

	table_init(&t, sizeof cols / sizeof cols[0], cols);
	for (size_t i = 0; i < st->n_torrents; i++) {
		const struct ctl_torrent *c = &st->torrents[i];
		table_add_str(&t, c->name);
		table_add_str(&t, c->state);
		add_percent(&t, c->done, c->size);
		table_add_num(&t, render_size, c->size);
		table_add_num(&t, render_rate, c->down_rate);
		table_add_num(&t, render_rate, c->up_rate);
		table_add_num(&t, render_ratio, c->ratio_milli);
		table_add_num(&t, render_count, c->peers);
		table_add_num(&t, render_count, c->seeds);
		table_add_str(&t, c->info_hash);
	}
	render_table(out, &t, width);
}

static size_t widest_line(const struct sta_buf *b)
{
	size_t widest = 0, start = 0;

	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\n') {
			/* The cells are rendered text: text_width counts them. */
			char *s = xstrndup((const char *)b->data + start, i - start);
			size_t w = text_width(s);
			free(s);
			widest = w > widest ? w : widest;
			start = i + 1;
		}
	return widest;
}

/* Where each torrent's data is, and below it the error of one that
 * failed: a table, or where that would not fit, each name with its path
 * and error below it (paths and errors are never cut). */
static void view_places(struct sta_buf *out, const struct ctl_status *st, size_t width)
{
	static const struct table_col cols[] = {
		{ .head = "NAME", .max = NAME_MAX_WIDTH },
		{ .head = "DATA" },
	};
	struct sta_buf b = STA_BUF_INIT, err = STA_BUF_INIT;
	struct table t;

	table_init(&t, 2, cols);
	for (size_t i = 0; i < st->n_torrents; i++) {
		const struct ctl_torrent *c = &st->torrents[i];
		table_add_str(&t, c->name);
		table_add_str(&t, c->path);
		if (c->error.p) {
			buf_clear(&err);
			buf_append_str(&err, "error: ");
			render_str(&err, c->error);
			table_add(&t, "");
			table_add(&t, buf_cstr(&err));
		}
	}
	render_table(&b, &t, 0);
	if (width == 0 || widest_line(&b) <= width) {
		buf_append(out, b.data, b.len);
	} else {
		for (size_t i = 0; i < st->n_torrents; i++) {
			const struct ctl_torrent *c = &st->torrents[i];
			render_str(out, c->name);
			buf_append_str(out, "\n  data in ");
			render_str(out, c->path);
			if (c->error.p) {
				buf_append_str(out, "\n  error: ");
				render_str(out, c->error);
			}
			buf_append_byte(out, '\n');
		}
	}
	buf_free(&b);
	buf_free(&err);
}

static void view_peers(struct sta_buf *out, const struct ctl_torrent *c, size_t width)
{
	static const struct table_col cols[] = {
		{ .head = "ADDRESS" },
		{ .head = "CLIENT", .max = 32, .min = 8 },
		{ .head = "DOWN", .right = true },
		{ .head = "UP", .right = true, .drop = 3 },
		{ .head = "BLOCKS", .right = true, .drop = 1 },
		{ .head = "HASH-FAILS", .right = true, .drop = 2 },
		{ .head = "FLAGS" },
	};
	struct table t;

	struct sta_buf name = STA_BUF_INIT, hash = STA_BUF_INIT;
	size_t nw = render_str(&name, c->name), hw = render_str(&hash, c->info_hash);
	/* "peers of NAME (HASH):" where it would wrap: a prefix of an ASCII
	 * (width = length) info-hash names the torrent as well. */
	if (width && 13 + nw + hw >= width && hw == hash.len && hw > HASH_MIN_WIDTH)
		hash.len = HASH_MIN_WIDTH;
	buf_printf(out, "\npeers of %s (%s):\n", buf_cstr(&name), buf_cstr(&hash));
	buf_free(&name);
	buf_free(&hash);
	if (c->n_peer_list == 0) {
		buf_append_str(out, "  no peers\n");
		return;
	}
	table_init(&t, sizeof cols / sizeof cols[0], cols);
	for (size_t i = 0; i < c->n_peer_list; i++) {
		const struct ctl_peer *p = &c->peer_list[i];
		table_add_str(&t, p->addr);
		table_add_str(&t, p->client);
		table_add_num(&t, render_size, p->down);
		table_add_num(&t, render_size, p->up);
		table_add_num(&t, render_count, p->blocks);
		table_add_num(&t, render_count, p->hash_fails);
		table_add_str(&t, p->flags);
	}
	render_table(out, &t, width);
}

/* "DHT: 153 nodes (98 good; 20 IPv6), 2 lookups in flight, 40 peers stored". */
static void view_dht(struct sta_buf *out, const struct ctl_dht *d)
{
	buf_printf(out, "DHT: %lld node%s (%lld good", (long long)d->nodes, d->nodes == 1 ? "" : "s",
	           (long long)d->good_nodes);
	if (d->nodes6 > 0)
		buf_printf(out, "; %lld IPv6", (long long)d->nodes6);
	buf_printf(out, "), %lld lookup%s in flight, %lld peer%s stored\n", (long long)d->lookups,
	           d->lookups == 1 ? "" : "s", (long long)d->stored_peers,
	           d->stored_peers == 1 ? "" : "s");
}

void view_status(struct sta_buf *out, const struct ctl_status *st, bool peers, size_t width)
{
	if (st->closed == 1)
		buf_append_str(out, "stad is closed ('stactl start' opens it again)\n");
	if (st->dht)
		view_dht(out, st->dht);
	if (st->n_torrents == 0) {
		buf_append_str(out, "no torrents\n");
		return;
	}
	view_torrents(out, st, width);
	buf_append_byte(out, '\n');
	view_places(out, st, width);
	for (size_t i = 0; peers && i < st->n_torrents; i++)
		view_peers(out, &st->torrents[i], width);
}
