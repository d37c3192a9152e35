#include "render.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "xmalloc.h"

const char *buf_cstr(struct sta_buf *b)
{
	buf_reserve(b, 1);
	b->data[b->len] = '\0';
	return (const char *)b->data;
}

/* Scales v by step until it fits under step in one-decimal rounding. */
static void render_scaled(char *out, size_t outsz, int64_t v, double step,
                          const char *const *units, size_t nunits)
{
	if (v < 0) {
		snprintf(out, outsz, "%s", RENDER_UNKNOWN);
		return;
	}
	if (v < step) {
		snprintf(out, outsz, "%" PRId64 " %s", v, units[0]);
		return;
	}
	double x = (double)v;
	size_t u = 0;
	while (u + 1 < nunits && x >= step - 0.05) {
		x /= step;
		u++;
	}
	snprintf(out, outsz, "%.1f %s", x, units[u]);
}

void render_size(char *out, size_t outsz, int64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };

	render_scaled(out, outsz, bytes, 1024, units, sizeof units / sizeof units[0]);
}

void render_rate(char *out, size_t outsz, int64_t bytes_per_s)
{
	static const char *const units[] = { "B/s", "kB/s", "MB/s", "GB/s", "TB/s" };

	render_scaled(out, outsz, bytes_per_s, 1000, units, sizeof units / sizeof units[0]);
}

void render_eta(char *out, size_t outsz, int64_t s)
{
	if (s < 0)
		snprintf(out, outsz, "%s", RENDER_UNKNOWN);
	else if (s >= 100 * 3600)
		snprintf(out, outsz, ">100h");
	else
		snprintf(out, outsz, "%d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60),
		         (int)(s % 60));
}

/* done/total in [0, 1]; negative when unknown. */
static double fraction(int64_t done, int64_t total)
{
	if (done < 0 || total < 0)
		return -1;
	if (total == 0)
		return 1; /* an empty torrent is complete */
	if (done >= total)
		return 1;
	return (double)done / (double)total;
}

void render_percent(char *out, size_t outsz, int64_t done, int64_t total)
{
	double f = fraction(done, total);

	if (f < 0) {
		snprintf(out, outsz, "%s", RENDER_UNKNOWN);
		return;
	}
	double tenths = floor(f * 1000);
	/* Rounding must not claim completion for a download one byte short. */
	if (tenths >= 1000 && done < total)
		tenths = 999;
	snprintf(out, outsz, "%.1f%%", tenths / 10);
}

void render_bar(char *out, size_t outsz, int64_t done, int64_t total, size_t width)
{
	if (outsz < width + 3) {
		if (outsz)
			out[0] = '\0';
		return;
	}
	double f = fraction(done, total);
	size_t fill = f < 0 ? 0 : (size_t)floor(f * (double)width);
	if (fill == width && width > 0 && done < total)
		fill = width - 1;
	out[0] = '[';
	memset(out + 1, '#', fill);
	memset(out + 1 + fill, '-', width - fill);
	out[width + 1] = ']';
	out[width + 2] = '\0';
}

void render_progress(struct sta_buf *out, const struct progress *p, size_t bar_width)
{
	char bar[256], pct[RENDER_NUM_MAX], done[RENDER_NUM_MAX], size[RENDER_NUM_MAX];
	char rate[RENDER_NUM_MAX], eta[RENDER_NUM_MAX], peers[RENDER_NUM_MAX];

	if (bar_width > sizeof bar - 3)
		bar_width = sizeof bar - 3;
	render_bar(bar, sizeof bar, p->done, p->size, bar_width);
	render_percent(pct, sizeof pct, p->done, p->size);
	render_size(done, sizeof done, p->done);
	render_size(size, sizeof size, p->size);
	render_rate(rate, sizeof rate, p->rate);
	render_eta(eta, sizeof eta, p->eta);
	if (p->peers < 0)
		snprintf(peers, sizeof peers, "%s peers", RENDER_UNKNOWN);
	else
		snprintf(peers, sizeof peers, "%" PRId64 " peer%s", p->peers, p->peers == 1 ? "" : "s");
	buf_printf(out, "%s %6s  %s of %s  %s  %s  ETA %s", bar, pct, done, size, rate, peers, eta);
}

/* Characters that would let a hostile name move the cursor, recolour the
 * terminal or reorder the line. */
static bool cp_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

static size_t cp_width(uint32_t cp)
{
	if ((cp >= 0x300 && cp < 0x370) || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0xfe00 && cp <= 0xfe0f))
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf && cp != 0x303f) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
	    (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

size_t render_text(struct sta_buf *out, const uint8_t *s, size_t len)
{
	size_t width = 0;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		if (n == 1 && cp == '\\') {
			/* Doubled, so that a literal "\x1b" in a name stays distinct. */
			buf_append_str(out, "\\\\");
			width += 2;
			i++;
			continue;
		}
		if (n == 0 || cp_unsafe(cp)) {
			size_t k = n ? n : 1;
			for (size_t j = 0; j < k; j++)
				buf_printf(out, "\\x%02x", s[i + j]);
			width += 4 * k;
			i += k;
			continue;
		}
		buf_append(out, s + i, n);
		width += cp_width(cp);
		i += n;
	}
	return width;
}

size_t text_width(const char *str)
{
	const uint8_t *s = (const uint8_t *)str;
	size_t len = strlen(str), width = 0;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		width += n ? cp_width(cp) : 1;
		i += n ? n : 1;
	}
	return width;
}

static bool json_node(struct sta_buf *out, const struct be_doc *doc, const struct be_node *n,
                      unsigned depth)
{
	/* ctl_payload_decode caps depth at 8; this guard keeps the recursion
	 * bounded even for a doc from elsewhere. */
	if (depth > 16)
		return false;
	switch (n->type) {
	case BE_INT:
		buf_printf(out, "%" PRId64, n->ival);
		return true;
	case BE_STR:
		json_append_string(out, be_str(doc, n), n->str_len);
		return true;
	case BE_LIST:
	case BE_DICT: {
		bool dict = n->type == BE_DICT;
		bool first = true, key = true;
		buf_append_byte(out, dict ? '{' : '[');
		for (const struct be_node *c = be_first(doc, n); c; c = be_next(doc, c)) {
			if (dict && key) {
				if (!first)
					buf_append_byte(out, ',');
				json_append_string(out, be_str(doc, c), c->str_len);
				buf_append_byte(out, ':');
			} else {
				if (!dict && !first)
					buf_append_byte(out, ',');
				if (!json_node(out, doc, c, depth + 1))
					return false;
			}
			first = false;
			key = !dict || !key;
		}
		buf_append_byte(out, dict ? '}' : ']');
		return true;
	}
	}
	return false;
}

bool render_json(struct sta_buf *out, const struct be_doc *doc, const struct be_node *n)
{
	size_t start = out->len;

	if (json_node(out, doc, n, 0))
		return true;
	out->len = start;
	return false;
}

size_t render_field(struct sta_buf *out, const struct be_doc *doc, const struct be_node *dict,
                    const char *key)
{
	size_t len;
	const uint8_t *s = dict ? be_dict_get_str(doc, dict, key, &len) : NULL;

	if (!s) {
		buf_append_str(out, RENDER_UNKNOWN);
		return 1;
	}
	return render_text(out, s, len);
}

bool field_int(const struct be_doc *doc, const struct be_node *dict, const char *key,
               int64_t *out)
{
	return dict && be_dict_get_int(doc, dict, key, out);
}

int64_t field_count(const struct be_doc *doc, const struct be_node *dict, const char *key)
{
	int64_t v;

	if (!field_int(doc, dict, key, &v) || v < 0)
		return -1;
	return v;
}

void table_init(struct table *t, size_t ncols, const char *const *heads, uint32_t right_mask)
{
	t->ncols = ncols;
	t->heads = heads;
	t->right_mask = right_mask;
	t->cells = NULL;
	t->ncells = 0;
}

void table_add(struct table *t, const char *cell)
{
	t->cells = xreallocarray(t->cells, t->ncells + 1, sizeof *t->cells);
	t->cells[t->ncells++] = xstrdup(cell);
}

/* How many bytes of cell fit in max_width cells (room left for "..."
 * when it must be cut); *width gets the display width including "...". */
static size_t cell_cut(const char *cell, size_t max_width, size_t *width)
{
	const uint8_t *s = (const uint8_t *)cell;
	size_t len = strlen(cell), used = 0, i = 0;

	*width = text_width(cell);
	if (*width <= max_width || max_width < 4)
		return len;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		size_t cw = n ? cp_width(cp) : 1;
		if (used + cw > max_width - 3)
			break;
		used += cw;
		i += n ? n : 1;
	}
	*width = used + 3;
	return i;
}

static void pad(struct sta_buf *out, size_t n)
{
	while (n--)
		buf_append_byte(out, ' ');
}

static void table_row(const struct table *t, struct sta_buf *out, const char *const *row,
                      const size_t *widths, size_t max_width)
{
	for (size_t c = 0; c < t->ncols; c++) {
		size_t w, keep = cell_cut(row[c], max_width, &w);
		size_t gap = widths[c] - w;
		bool right = t->right_mask & (1u << c);
		if (c)
			buf_append_str(out, "  ");
		if (right)
			pad(out, gap);
		buf_append(out, row[c], keep);
		if (keep < strlen(row[c]))
			buf_append_str(out, "...");
		if (!right && c + 1 < t->ncols)
			pad(out, gap);
	}
	buf_append_byte(out, '\n');
}

void table_render(const struct table *t, struct sta_buf *out, size_t max_width)
{
	size_t *widths = xcalloc(t->ncols, sizeof *widths);

	for (size_t i = 0; i < t->ncols + t->ncells; i++) {
		const char *cell = i < t->ncols ? t->heads[i] : t->cells[i - t->ncols];
		size_t c = i % t->ncols, w;
		cell_cut(cell, max_width, &w);
		if (w > widths[c])
			widths[c] = w;
	}
	table_row(t, out, t->heads, widths, max_width);
	for (size_t r = 0; r + t->ncols <= t->ncells; r += t->ncols)
		table_row(t, out, (const char *const *)t->cells + r, widths, max_width);
	free(widths);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->ncells = 0;
}
