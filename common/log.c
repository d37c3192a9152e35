#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "sta";
static int log_level = LOG_INFO;
static bool log_journal;

static const char *const level_names[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

/* journald sets JOURNAL_STREAM=dev:ino for the stream it reads; match it
 * against our stderr so a redirect to a file still gets plain text. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *progname)
{
	log_prog = progname;
	log_journal = stderr_is_journal();
}

void log_set_level(int level)
{
	log_level = level < LOG_EMERG ? LOG_EMERG : level > LOG_DEBUG ? LOG_DEBUG : level;
}

int log_get_level(void)
{
	return log_level;
}

int log_level_from_name(const char *name)
{
	for (int i = 0; i <= LOG_DEBUG; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return i;
	if (strcasecmp(name, "error") == 0)
		return LOG_ERR;
	if (strcasecmp(name, "warn") == 0)
		return LOG_WARNING;
	if (name[0] >= '0' && name[0] <= '7' && name[1] == '\0')
		return name[0] - '0';
	return -1;
}

void log_msg(int level, const char *func, const char *fmt, ...)
{
	char line[2048];
	size_t n;
	va_list ap;

	if (level > log_level)
		return;
	/* Operators read sentences; the function name is a developer's detail,
	 * kept on debug lines only. */
	const char *f = level >= LOG_DEBUG ? func : "", *sep = level >= LOG_DEBUG ? ": " : "";
	if (log_journal)
		n = (size_t)snprintf(line, sizeof line, "<%d>%s%s", level, f, sep);
	else
		n = (size_t)snprintf(line, sizeof line, "%s: %s: %s%s", log_prog,
		                     level_names[level & 7], f, sep);
	if (n >= sizeof line)
		n = sizeof line - 1;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof line - n, fmt, ap);
	va_end(ap);
	if (m > 0)
		n += (size_t)m < sizeof line - n ? (size_t)m : sizeof line - n - 1;
	line[n++] = '\n';
	/* One write so concurrent threads never interleave within a line. */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

const char *log_escape(char *out, size_t outsz, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t o = 0;

	if (outsz == 0)
		return out;
	for (size_t i = 0; i < len; i++) {
		char tmp[5];
		size_t t;
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			tmp[0] = (char)p[i];
			t = 1;
		} else {
			t = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", p[i]);
		}
		if (o + t + 4 > outsz) {
			if (o + 4 <= outsz) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, tmp, t);
		o += t;
	}
	out[o] = '\0';
	return out;
}
