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

/* One progress line without a newline, e.g.
 * "[####------]  42.0%  1.2 MiB of 2.9 MiB  3.4 MB/s  5 peers  ETA 0:00:01".
 * Negative fields are unknown and print as "?". */
struct progress {
	int64_t size;
	int64_t done;
	int64_t rate;
	int64_t peers;
	int64_t eta;
};
void render_progress(struct sta_buf *out, const struct progress *p, size_t bar_width);

/* Appends s[0..len) made safe for a terminal: valid UTF-8 is kept, except
 * control characters (C0, DEL, C1) and bidi overrides, which become \xNN
 * escapes like invalid bytes. Returns the display width appended. */
size_t render_text(struct sta_buf *out, const uint8_t *s, size_t len);
/* Display width of already-safe UTF-8 text (wide CJK counts 2). */
size_t text_width(const char *s);

/* Appends node n as JSON (dicts become objects). False, with output cut
 * back, when the value nests deeper than the control protocol allows. */
bool render_json(struct sta_buf *out, const struct be_doc *doc, const struct be_node *n);

/* Typed field access for reply dicts. render_field appends the string at
 * key (escaped) or "?" and returns its display width; field_int is false
 * when the key is missing or not an integer. */
size_t render_field(struct sta_buf *out, const struct be_doc *doc, const struct be_node *dict,
                    const char *key);
bool field_int(const struct be_doc *doc, const struct be_node *dict, const char *key,
               int64_t *out);
/* The integer at key, or -1 when it is missing, wrong-typed or negative. */
int64_t field_count(const struct be_doc *doc, const struct be_node *dict, const char *key);

/* Left- or right-aligned columns, two spaces apart, wide cells cut to
 * max_width with "...". Cells are copied; add them row by row. */
struct table {
	size_t ncols;
	const char *const *heads;
	uint32_t right_mask; /* bit i: column i is right-aligned */
	char **cells;
	size_t ncells;
};

void table_init(struct table *t, size_t ncols, const char *const *heads, uint32_t right_mask);
void table_add(struct table *t, const char *cell);
/* Appends the header and rows, each line ending in '\n'. */
void table_render(const struct table *t, struct sta_buf *out, size_t max_width);
void table_free(struct table *t);

/* Makes b->data a C string without counting the NUL in b->len. */
const char *buf_cstr(struct sta_buf *b);

#endif
