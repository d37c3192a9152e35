/* Whole-file reads with a size cap and crash-safe whole-file writes. */
#ifndef TRACKERD_FILEIO_H
#define TRACKERD_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads path into a heap buffer (caller frees) of at most max bytes.
 * NULL with errno set on failure (EFBIG when larger than max). */
uint8_t *file_read_all(const char *path, size_t max, size_t *len);
/* Replaces dir/name with data atomically and durably: a temporary file in
 * dir, fsync, rename over name, fsync of dir. After a crash dir/name holds
 * either the old or the new contents. False with errno on failure (the
 * temporary file is removed). */
bool file_write_atomic(const char *dir, const char *name, const void *data, size_t len);
/* mkdir -p with mode 0755 for missing components. */
bool file_mkdirs(const char *path);

#endif
