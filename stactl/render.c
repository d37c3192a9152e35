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

void render_ratio(char *out, size_t outsz, int64_t milli)
{
	if (milli < 0)
		snprintf(out, outsz, "%s", RENDER_UNKNOWN);
	else
		snprintf(out, outsz, "%" PRId64 ".%02d", milli / 1000, (int)(milli % 1000 / 10));
}

const char *progress_note(const struct ctl_torrent *t)
{
	if (ctl_str_eq(t->state, CTL_STATE_PAUSED))
		return "paused; 'stactl resume' continues";
	if (ctl_str_eq(t->state, CTL_STATE_CLOSED))
		return "stad is closed; 'stactl start' reopens it";
	if (ctl_str_eq(t->state, CTL_STATE_CHECKING))
		return "checking the data on disk";
	if (ctl_str_eq(t->state, CTL_STATE_METADATA))
		return "fetching metadata";
	if (t->complete != 1 && t->peers == 0 && t->tracker_seeders <= 0)
		return "no seeders known; waiting";
	return NULL;
}

/* The parts of a progress line, in the order they are given up when the
 * line is too wide (the percentage always stays). */
enum { P_SIZES, P_RATE, P_PEERS, P_ETA, P_NPARTS };

static void progress_parts(const struct progress *p, char part[P_NPARTS][80])
{
	char a[RENDER_NUM_MAX], b[RENDER_NUM_MAX];

	render_size(a, sizeof a, p->done);
	render_size(b, sizeof b, p->size);
	snprintf(part[P_SIZES], 80, "%s of %s", a, b);
	render_rate(part[P_RATE], 80, p->rate);
	if (p->note)
		snprintf(part[P_PEERS], 80, "%s", p->note);
	else if (p->peers < 0)
		snprintf(part[P_PEERS], 80, "%s peers", RENDER_UNKNOWN);
	else
		snprintf(part[P_PEERS], 80, "%" PRId64 " peer%s", p->peers, p->peers == 1 ? "" : "s");
	render_eta(a, sizeof a, p->eta);
	if (p->note)
		part[P_ETA][0] = '\0';
	else
		snprintf(part[P_ETA], 80, "ETA %s", a);
}

void render_progress(struct sta_buf *out, const struct progress *p, size_t width)
{
	enum { BAR_MIN = 10, BAR_MAX = 40, BAR_PIPE = 20 };
	char part[P_NPARTS][80], pct[RENDER_NUM_MAX], bar[BAR_MAX + 3];
	size_t rest, bw = BAR_PIPE;
	int drop = -1;

	progress_parts(p, part);
	render_percent(pct, sizeof pct, p->done, p->size);
	/* Drop parts until a bar of BAR_MIN fits; the last column is left
	 * free, where a terminal would wrap. rest: all but the bar's cells. */
	for (;;) {
		rest = 9; /* "[", "] ", the percentage */
		for (int i = drop + 1; i < P_NPARTS; i++)
			rest += part[i][0] ? 2 + strlen(part[i]) : 0;
		if (width == 0 || rest + BAR_MIN < width || drop + 1 == P_PEERS)
			break;
		drop++;
	}
	if (width) {
		bw = width > rest + 1 ? width - rest - 1 : 0;
		bw = bw > BAR_MAX ? BAR_MAX : bw;
	}
	size_t start = out->len;
	if (bw >= 3) {
		render_bar(bar, sizeof bar, p->done, p->size, bw);
		buf_printf(out, "%s ", bar);
	}
	buf_printf(out, "%6s", pct);
	for (int i = drop + 1; i < P_NPARTS; i++)
		if (part[i][0])
			buf_printf(out, "  %s", part[i]);
	/* Narrower than the percentage and the note: cut. */
	if (width && out->len - start >= width)
		out->len = start + width - 1;
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

size_t render_str(struct sta_buf *out, struct ctl_str s)
{
	if (!s.p) {
		buf_append_str(out, RENDER_UNKNOWN);
		return 1;
	}
	return render_text(out, (const uint8_t *)s.p, s.len);
}

void render_count(char *out, size_t outsz, int64_t v)
{
	if (v < 0)
		snprintf(out, outsz, "%s", RENDER_UNKNOWN);
	else
		snprintf(out, outsz, "%" PRId64, v);
}

void table_init(struct table *t, size_t ncols, const struct table_col *cols)
{
	t->ncols = ncols;
	t->cols = cols;
	t->cells = NULL;
	t->ncells = 0;
}

void table_add(struct table *t, const char *cell)
{
	t->cells = xreallocarray(t->cells, t->ncells + 1, sizeof *t->cells);
	t->cells[t->ncells++] = xstrdup(cell);
}

void table_add_str(struct table *t, struct ctl_str s)
{
	struct sta_buf b = STA_BUF_INIT;

	render_str(&b, s);
	table_add(t, buf_cstr(&b));
	buf_free(&b);
}

void table_add_num(struct table *t, void (*fmt)(char *, size_t, int64_t), int64_t v)
{
	char num[RENDER_NUM_MAX];

	fmt(num, sizeof num, v);
	table_add(t, num);
}

/* How many bytes of cell fit in max_width columns, with room left for
 * "..." unless prefix; *width gets the display width including "...". */
static size_t cell_cut(const char *cell, size_t max_width, bool prefix, size_t *width)
{
	const uint8_t *s = (const uint8_t *)cell;
	size_t len = strlen(cell), used = 0, i = 0;
	size_t mark = prefix ? 0 : 3;

	*width = text_width(cell);
	if (*width <= max_width || max_width < mark + 1)
		return len;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		size_t cw = n ? cp_width(cp) : 1;
		if (used + cw > max_width - mark)
			break;
		used += cw;
		i += n ? n : 1;
	}
	*width = used + mark;
	return i;
}

static void pad(struct sta_buf *out, size_t n)
{
	while (n--)
		buf_append_byte(out, ' ');
}

/* widths[c] == 0: the column is left out. */
static void table_row(const struct table *t, struct sta_buf *out, const char *const *row,
                      const size_t *widths)
{
	bool first = true;
	size_t last = 0;

	for (size_t c = 0; c < t->ncols; c++)
		if (widths[c])
			last = c;
	for (size_t c = 0; c < t->ncols; c++) {
		const struct table_col *col = &t->cols[c];
		if (widths[c] == 0)
			continue;
		size_t w, keep = cell_cut(row[c], widths[c], col->prefix, &w);
		size_t gap = widths[c] > w ? widths[c] - w : 0;
		if (!first)
			buf_append_str(out, "  ");
		first = false;
		if (col->right)
			pad(out, gap);
		buf_append(out, row[c], keep);
		if (keep < strlen(row[c]) && !col->prefix)
			buf_append_str(out, "...");
		if (!col->right && c != last)
			pad(out, gap);
	}
	buf_append_byte(out, '\n');
}

static size_t total_width(const struct table *t, const size_t *widths)
{
	size_t sum = 0, n = 0;

	for (size_t c = 0; c < t->ncols; c++)
		if (widths[c]) {
			sum += widths[c];
			n++;
		}
	return n ? sum + 2 * (n - 1) : 0;
}

/* Cuts column c down towards floor (never below its head) by what the
 * table is too wide. */
static void table_cut(const struct table *t, size_t *widths, size_t width, size_t c,
                      size_t floor)
{
	size_t total = total_width(t, widths);

	if (floor < text_width(t->cols[c].head))
		floor = text_width(t->cols[c].head);
	if (total <= width || widths[c] <= floor)
		return;
	widths[c] -= total - width < widths[c] - floor ? total - width : widths[c] - floor;
}

/* Until the table fits: info-hashes go down to their prefix, other
 * columns that may be cut to a readable width, then columns are dropped
 * by rank, then cut columns go down to their minimum. */
static void table_fit(const struct table *t, size_t *widths, size_t width)
{
	enum { READABLE = 20 };

	for (size_t c = 0; c < t->ncols; c++)
		if (t->cols[c].min && t->cols[c].prefix)
			table_cut(t, widths, width, c, t->cols[c].min);
	for (size_t c = 0; c < t->ncols; c++)
		if (t->cols[c].min && !t->cols[c].prefix)
			table_cut(t, widths, width, c,
			          t->cols[c].min > READABLE ? t->cols[c].min : READABLE);
	for (unsigned rank = 1; rank < 256 && total_width(t, widths) > width; rank++)
		for (size_t c = 0; c < t->ncols; c++)
			if (t->cols[c].drop == rank)
				widths[c] = 0;
	for (size_t c = 0; c < t->ncols; c++)
		if (t->cols[c].min && widths[c])
			table_cut(t, widths, width, c, t->cols[c].min);
}

void table_render(const struct table *t, struct sta_buf *out, size_t width)
{
	size_t *widths = xcalloc(t->ncols, sizeof *widths);
	const char **heads = xcalloc(t->ncols, sizeof *heads);

	for (size_t i = 0; i < t->ncols + t->ncells; i++) {
		size_t c = i % t->ncols, w;
		const char *cell = i < t->ncols ? t->cols[c].head : t->cells[i - t->ncols];
		size_t max = t->cols[c].max ? t->cols[c].max : SIZE_MAX;
		cell_cut(cell, max, t->cols[c].prefix, &w);
		if (w > widths[c])
			widths[c] = w;
		heads[c] = t->cols[c].head;
	}
	if (width)
		table_fit(t, widths, width);
	table_row(t, out, heads, widths);
	for (size_t r = 0; r + t->ncols <= t->ncells; r += t->ncols)
		table_row(t, out, (const char *const *)t->cells + r, widths);
	free(heads);
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
