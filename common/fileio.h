/* Whole-file reads with a size cap and crash-safe whole-file writes: the
 * small file I/O every daemon here needs for its state (catalog, resume data,
 * access lists). Not a codec: this is the one place in common/ that touches
 * files besides config loading. */
#ifndef STA_FILEIO_H
#define STA_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads path into a heap buffer (caller frees) of at most max bytes.
 * NULL with errno set on failure (EFBIG when larger than max). */
uint8_t *file_read_all(const char *path, size_t max, size_t *len);
/* Replaces path with data atomically and durably: a temporary file in the
 * same directory, fsync, rename over path, fsync of the directory. After a
 * crash path holds either the old or the new contents. False with errno on
 * failure (the temporary file is removed). */
bool file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* mkdir -p: creates each missing directory of path with mode (less the
 * umask). An existing component must be a directory. One that ends at or
 * past path[real_from] must be a real directory, not a symlink to one (for
 * paths with an untrusted tail; SIZE_MAX accepts symlinks everywhere). False
 * with errno on failure (ENOTDIR for a component that is no directory), and
 * when failed is not NULL, the length of the prefix of path that names the
 * component that failed. */
bool file_mkdirs(const char *path, mode_t mode, size_t real_from, size_t *failed);

#endif
