/* Watching a download: WATCH, then a progress line per EVENT until the
 * download is complete and verified, fails, or Ctrl-C stops the watch (not
 * the download). On a terminal one line is redrawn at most five times a
 * second, fitted to its width; otherwise a line every five seconds. */
#ifndef STACTL_WATCH_H
#define STACTL_WATCH_H

#include <stdbool.h>

#include "commands.h"

/* torrent: as the user or stad named it. json: every event as a JSON line
 * instead. Returns an enum stactl_status (errors printed). */
int watch_run(struct stactl_session *s, const char *torrent, bool json);

#endif
