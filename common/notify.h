/* systemd integration for both daemons: readiness, status line, watchdog,
 * reload and stop notifications. All are no-ops when not started by systemd. */
#ifndef STA_NOTIFY_H
#define STA_NOTIFY_H

#include <stdint.h>

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Watchdog period in microseconds (0 when the watchdog is off). */
uint64_t notify_watchdog_usec(void);
void notify_watchdog(void);

#endif
