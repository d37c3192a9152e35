/* Sharing local files: everything in share_dir at start-up, and any path
 * given to SHARE. Each share is hashed into a torrent on a worker (or its
 * saved torrent reused when the files' size and mtime are unchanged),
 * added seeding in place (the files are only read), announced, and
 * published to the catalog after the first good announce.
 *
 * A shared torrent is remembered by a stamp file, state_dir/shares/<hex>.stamp
 * ("size mtime_ns files"), next to its saved .torrent and resume data.
 * Loop thread only.
 */
#ifndef STAD_SHARE_H
#define STAD_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct session;
struct share_state;
struct torrent;

/* What a share looks like on disk; equal stamps mean "unchanged". */
struct share_stamp {
	uint64_t size;
	int64_t mtime_ns;          /* newest file */
	uint64_t files;
};

struct share_state *share_new(struct session *s);
/* After the worker pool has been drained. NULL is a no-op. */
void share_free(struct share_state *sh);

/* Whether the torrent with this info-hash is one of our shares. */
bool share_is_shared(struct session *s, const uint8_t info_hash[20]);
/* Start-up: checks the saved shares (started when unchanged, hashed again
 * otherwise) and hashes every new entry of share_dir. */
void share_scan(struct share_state *sh);

/* Called once when a SHARE finishes: t is the torrent (added says whether
 * it is new or was known already), or NULL with error set. Not called at
 * shutdown. */
typedef void (*share_done_fn)(void *arg, uint64_t cookie, struct torrent *t, bool added,
                              const char *error);
/* Hashes path (absolute) on a worker and seeds it. */
void share_path(struct share_state *sh, const char *path, share_done_fn cb, void *arg,
                uint64_t cookie);

/* Walks path (not following symlinks, as share_hash does) and fills *st;
 * false when path is neither a regular file nor a directory. Blocking. */
bool share_stamp_compute(const char *path, struct share_stamp *st);
/* "size mtime files\n" and back; parse is strict (false on anything else). */
void share_stamp_format(const struct share_stamp *st, char *out, size_t outsz);
bool share_stamp_parse(const char *s, size_t len, struct share_stamp *st);

#endif
