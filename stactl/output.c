#include "output.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "json.h"
#include "render.h"

static const char *status_code(int status)
{
	switch (status) {
	case ST_USAGE: return "usage";
	case ST_UNREACHABLE: return "unreachable";
	case ST_PROTOCOL: return "protocol";
	case ST_INTERRUPTED: return "interrupted";
	default: return "failed";
	}
}

static int out_vfail(bool json, int status, const char *code, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static int out_vfail(bool json, int status, const char *code, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof msg, fmt, ap);
	fflush(stdout);
	if (!json) {
		fprintf(stderr, "stactl: %s\n", msg);
		return status;
	}
	struct sta_buf b = STA_BUF_INIT;
	buf_append_str(&b, "{\"error\":");
	json_append_string(&b, (const uint8_t *)msg, strlen(msg));
	buf_append_str(&b, ",\"code\":");
	code = code && code[0] ? code : status_code(status);
	json_append_string(&b, (const uint8_t *)code, strlen(code));
	buf_printf(&b, ",\"exit\":%d}", status);
	printf("%s\n", buf_cstr(&b));
	fflush(stdout);
	buf_free(&b);
	return status;
}

int out_fail(bool json, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vfail(json, status, code, fmt, ap);
	va_end(ap);
	return status;
}

int out_client_fail(bool json, int status, const struct ctl_client *c)
{
	return out_fail(json, status, c->code, "%s", c->err);
}

void out_json(const struct ctl_client *c)
{
	struct sta_buf b = STA_BUF_INIT;

	render_json(&b, &c->doc, client_root(c));
	printf("%s\n", buf_cstr(&b));
	fflush(stdout);
	buf_free(&b);
}

size_t out_width(void)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;

	if (env && env[0]) {
		char *end;
		long v = strtol(env, &end, 10);
		if (*end == '\0' && v > 0 && v < 100000)
			return (size_t)v;
	}
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return ws.ws_col;
	return 0;
}

/* Prints words from text at column col, breaking lines before the width. */
static void wrap_words(FILE *f, const char *text, size_t at, size_t col, size_t width)
{
	while (*text) {
		size_t n = strcspn(text, " ");

		if (at > col && at + 1 + n > width) {
			fprintf(f, "\n%*s", (int)col, "");
			at = col;
		} else if (at > col) {
			fputc(' ', f);
			at++;
		}
		fprintf(f, "%.*s", (int)n, text);
		at += n;
		text += n;
		text += strspn(text, " ");
	}
	fputc('\n', f);
}

void out_help_entry(FILE *f, const char *term, const char *text, size_t col)
{
	size_t width = out_width();

	if (width == 0)
		width = 80;
	if (width < col + 30)
		col = 6; /* a narrow terminal: the text goes under its term */
	fprintf(f, "  %s", term);
	size_t at = 2 + strlen(term);
	if (at + 1 > col) {
		fprintf(f, "\n%*s", (int)col, "");
		at = col;
	} else {
		fprintf(f, "%*s", (int)(col - at), "");
		at = col;
	}
	wrap_words(f, text, at, col, width);
}
