/* systemd notifications (sd_notify); all are no-ops outside systemd. */
#ifndef STAD_NOTIFY_H
#define STAD_NOTIFY_H

#include <stdint.h>

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The watchdog period in microseconds, 0 when disabled. */
uint64_t notify_watchdog_usec(void);
void notify_watchdog(void);

#endif
