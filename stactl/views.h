/* The text views of stad's replies, rendered into a buffer (pure, so unit
 * tests check them at any width). width: the columns to fit (0: no
 * limit); tables give up columns to fit, paths and errors are never cut. */
#ifndef STACTL_VIEWS_H
#define STACTL_VIEWS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "ctl_msg.h"

/* The torrents table, then where each torrent's data is and its error,
 * then (peers) a table of each torrent's peers. Says first when stad is
 * closed. */
void view_status(struct sta_buf *out, const struct ctl_status *st, bool peers, size_t width);

#endif
