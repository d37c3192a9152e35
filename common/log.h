/* Logging at syslog/journald levels. Under systemd (stderr is the journal
 * stream) each line starts with "<N>" so journald keeps the level; on a
 * terminal lines read "prog: level: message". Debug lines also name the
 * function ("prog: debug: func: message"). Thread-safe: one write(2) per
 * line. */
#ifndef STA_LOG_H
#define STA_LOG_H

#include <stddef.h>
#include <syslog.h>

void log_init(const char *progname);
/* Messages above this level (LOG_DEBUG is the most verbose) are dropped. */
void log_set_level(int level);
int log_get_level(void);
/* Maps "err", "warning", "notice", "info", "debug" (and the syslog
 * numbers 0-7) to a level; -1 when unknown. */
int log_level_from_name(const char *name);
void log_msg(int level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_crit(...) log_msg(LOG_CRIT, __func__, __VA_ARGS__)
#define log_err(...) log_msg(LOG_ERR, __func__, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __func__, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __func__, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __func__, __VA_ARGS__)

/* Writes a printable, escaped copy of untrusted bytes (\xNN for anything
 * outside printable ASCII) into out, truncated with "..." to fit. Returns out. */
const char *log_escape(char *out, size_t outsz, const void *data, size_t len);

#endif
