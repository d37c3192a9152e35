/* What stactl prints: sizes, rates, ETAs, progress bars, tables and JSON.
 * Pure functions (no I/O): everything here renders into caller memory or a
 * struct sta_buf, so it is unit-tested directly. Text that came from stad
 * (names, client strings, messages) is hostile: it is escaped before it
 * reaches a terminal, and "?" stands in for a missing or wrong-typed field. */
#ifndef STACTL_RENDER_H
#define STACTL_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bencode.h"
#include "buf.h"
#include "ctl_msg.h"

#define RENDER_UNKNOWN "?"
/* Enough for any output of the fixed-width helpers below. */
#define RENDER_NUM_MAX 32

/* "512 B", "1.5 KiB", "2.0 GiB"; "?" when bytes < 0. */
void render_size(char *out, size_t outsz, int64_t bytes);
/* Decimal, as network rates are quoted: "0 B/s", "12.3 kB/s", "1.2 MB/s". */
void render_rate(char *out, size_t outsz, int64_t bytes_per_s);
/* "0:01:05", "12:00:00"; "?" when unknown (< 0), ">100h" beyond. */
void render_eta(char *out, size_t outsz, int64_t seconds);
/* "42.0%" rounded down, so only a complete download shows 100.0%. */
void render_percent(char *out, size_t outsz, int64_t done, int64_t total);
/* "[#####-----]" with width cells inside the brackets (outsz >= width + 3);
 * an unknown total draws an empty bar. */
void render_bar(char *out, size_t outsz, int64_t done, int64_t total, size_t width);

/* One progress line without a newline that fits in width columns (0: no
 * limit), e.g.
 * "[####------]  42.0%  1.2 MiB of 2.9 MiB  3.4 MB/s  5 peers  ETA 0:00:01".
 * When narrow, the bar shrinks, then the byte counts, the rate and the
 * peers go. Negative fields are unknown and print as "?". A note (see
 * progress_note) stands in for the peers and the ETA. */
struct progress {
	int64_t size;
	int64_t done;
	int64_t rate;
	int64_t peers;
	int64_t eta;
	const char *note;
};
void render_progress(struct sta_buf *out, const struct progress *p, size_t width);
/* What a progress line should say instead of peers and ETA, or NULL: the
 * torrent is paused, closed or being checked, or no peer is connected and
 * no seeder is known ("no seeders known; waiting"). */
const char *progress_note(const struct ctl_torrent *t);
/* Uploaded per downloaded byte from thousandths: "1.25"; "?" when < 0. */
void render_ratio(char *out, size_t outsz, int64_t milli);

/* Appends s[0..len) made safe for a terminal: valid UTF-8 is kept, except
 * control characters (C0, DEL, C1) and bidi overrides, which become \xNN
 * escapes like invalid bytes. Returns the display width appended. */
size_t render_text(struct sta_buf *out, const uint8_t *s, size_t len);
/* Display width of already-safe UTF-8 text (wide CJK counts 2). */
size_t text_width(const char *s);

/* Appends node n as JSON (dicts become objects). False, with output cut
 * back, when the value nests deeper than the control protocol allows. */
bool render_json(struct sta_buf *out, const struct be_doc *doc, const struct be_node *n);

/* Appends a string from stad made safe (render_text), or "?" when absent;
 * returns its display width. */
size_t render_str(struct sta_buf *out, struct ctl_str s);
/* A count, or "?" when negative. */
void render_count(char *out, size_t outsz, int64_t v);

/* Columns two spaces apart that fit a terminal. A column's cells are cut
 * to max columns with "..." (0: never); when the table is wider than the
 * width it is rendered at, columns with a min are cut down towards it
 * first (prefix: without "...", for info-hashes, whose prefixes still
 * name a torrent), then columns with a drop rank are left out, lowest
 * rank first. */
struct table_col {
	const char *head;
	bool right;       /* right-aligned */
	bool prefix;
	uint8_t max;
	uint8_t min;
	uint8_t drop;
};

struct table {
	size_t ncols;
	const struct table_col *cols;
	char **cells;
	size_t ncells;
};

void table_init(struct table *t, size_t ncols, const struct table_col *cols);
void table_add(struct table *t, const char *cell);
/* A cell from a string of stad's (render_str), or a number formatted by fmt
 * (render_size, render_rate, render_count, render_ratio). */
void table_add_str(struct table *t, struct ctl_str s);
void table_add_num(struct table *t, void (*fmt)(char *, size_t, int64_t), int64_t v);
/* Appends the header and rows, each line ending in '\n', in at most width
 * columns (0: no limit) where cutting and dropping columns allows. */
void table_render(const struct table *t, struct sta_buf *out, size_t width);
void table_free(struct table *t);

/* Makes b->data a C string without counting the NUL in b->len. */
const char *buf_cstr(struct sta_buf *b);

#endif
