/* What stactl prints besides the views: errors (text on stderr, or with
 * --json one JSON object on stdout, so that scripts never read stderr),
 * JSON replies, and the width of the terminal the output goes to. */
#ifndef STACTL_OUTPUT_H
#define STACTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "client.h"

/* Prints an error and returns status (an enum stactl_status). Text:
 * "stactl: MESSAGE" on stderr. JSON: {"error":MESSAGE,"code":CODE,
 * "exit":STATUS} on stdout; code NULL stands for the status's own code
 * ("usage", "unreachable", "protocol", "interrupted", "failed"). */
int out_fail(bool json, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The error a client call ended with (its message and stad's code). */
int out_client_fail(bool json, int status, const struct ctl_client *c);
/* The payload of the last frame c read, as one JSON line. */
void out_json(const struct ctl_client *c);
/* Columns to fit text output in: $COLUMNS when set, else the terminal's
 * width when stdout is one; 0 (no limit) for a pipe or a file. */
size_t out_width(void);
/* One entry of a help table: "  TERM", then text from column col, wrapped
 * to out_width() (80 when that is 0); a term that does not fit before col,
 * or a terminal too narrow for two columns, puts the text on its own lines. */
void out_help_entry(FILE *f, const char *term, const char *text, size_t col);

#endif
