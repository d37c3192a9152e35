/* The files of one torrent on disk, under a base directory.
 *
 * Only verified pieces are ever written: the loop assembles a piece in
 * memory and one worker job hashes it and, if the hash matches, writes it
 * (storage_write_verified). So after a crash every byte on disk is either
 * a hole, a verified piece, or the user's own data being shared; a piece
 * whose bytes hash correctly is good.
 *
 * Thread safety: after storage_open, storage_read / storage_write_piece /
 * storage_write_verified / storage_hash_piece / storage_piece_has_data /
 * storage_sync may run concurrently from any threads (workers). File
 * descriptors come from a small per-torrent cache behind a mutex; the
 * pread/pwrite calls happen outside it. storage_open and storage_close
 * must not overlap any other call on the same storage.
 *
 * Errors: functions return -1, leave errno set and, when err is non-NULL,
 * write an English message naming the file ("data/a.bin: pwrite: No space
 * left on device"). err may be NULL.
 */
#ifndef STAD_STORAGE_H
#define STAD_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metainfo.h"

/* Buffers, file offsets and lengths aligned to this are written with
 * O_DIRECT (see storage_write_piece). */
#define STORAGE_DIRECT_ALIGN 4096u

/* Files kept open per torrent; more are opened and closed on demand. */
#define STORAGE_MAX_OPEN 32u

struct storage;

/* Prepares mi's files under base_dir (created if missing), laid out as
 * every client does: base_dir/name for a single-file torrent,
 * base_dir/name/path for each file of a multi-file one. Each file's
 * path is joined with metainfo_path_join (so it never escapes base_dir),
 * missing parent directories are created (a symlink or non-directory in
 * the way is an error), missing files are created sparse at their final
 * length (0-byte files too).
 *
 * Existing files are never truncated or rewritten: one shorter than
 * expected is extended with a hole (its bytes are kept and re-checked by
 * hash), one longer than expected is refused with an error (it is not
 * this torrent's data, and cutting it would destroy user data), and
 * anything but a regular file is refused. Files that cannot be opened
 * read-write (a read-only share) are opened read-only: reads work, writes
 * fail with EBADF.
 *
 * mi must outlive the storage. Returns 0 and *out (free with
 * storage_close), or -1 with the reason in err. Blocking: call it from a
 * worker or at start-up. */
int storage_open(const struct metainfo *mi, const char *base_dir, struct storage **out,
                 char *err, size_t errlen);

/* Whether aligned piece writes may use O_DIRECT (the default after
 * storage_open: on). Call before any write. */
void storage_set_direct(struct storage *st, bool on);

/* Closes every file descriptor and frees st. Does not fsync (see
 * storage_sync). NULL is a no-op. */
void storage_close(struct storage *st);

/* True when storage_open found any of the torrent's files already present
 * (non-empty): pieces missing from resume data may then be on disk, and
 * are worth re-checking with storage_piece_has_data + storage_hash_piece.
 * False when every file was created fresh, so nothing needs checking. */
bool storage_had_data(const struct storage *st);

/* Writes the whole piece (metainfo_piece_size bytes from buf) to its file
 * spans. The caller has verified it. Spans whose file offset, length and
 * place in buf are multiples of STORAGE_DIRECT_ALIGN go through O_DIRECT
 * unless that is off or the file system refuses it (EINVAL: tmpfs before
 * Linux 6.6, some FUSE file systems); the rest
 * through the page cache. */
int storage_write_piece(struct storage *st, uint32_t piece, const void *buf, char *err,
                        size_t errlen);

/* The worker job for a downloaded piece: hashes buf (the whole piece) and
 * writes it only if the SHA-1 matches mi's. Returns 1 when written, 0 on a
 * hash mismatch (nothing written, err says so), -1 on an I/O error. */
int storage_write_verified(struct storage *st, uint32_t piece, const void *buf, char *err,
                           size_t errlen);

/* Reads len bytes at offset inside piece (for uploads and re-checks). The
 * range must lie inside the piece (else -1, EINVAL); a file shorter than
 * expected (end of file inside the range) is an error (EIO), never a short
 * read. */
int storage_read(struct storage *st, uint32_t piece, uint32_t offset, void *buf, uint32_t len,
                 char *err, size_t errlen);

/* SHA-1 of the piece as it is on disk (reads it in chunks). */
int storage_hash_piece(struct storage *st, uint32_t piece, uint8_t out[SHA1_LEN], char *err,
                       size_t errlen);

/* Whether any byte of the piece may be stored on disk: 0 when every span
 * lies in a hole of a sparse file (never written: no need to hash it), 1
 * when some data may be there (or the file system cannot tell), -1 on
 * error. A cheap filter before storage_hash_piece at start-up. */
int storage_piece_has_data(struct storage *st, uint32_t piece, char *err, size_t errlen);

/* fdatasync()s every file written since the last sync. Call it (on a
 * worker) before saving resume data that lists newly written pieces, so a
 * power loss cannot leave a piece marked verified whose bytes never reached
 * the disk. */
int storage_sync(struct storage *st, char *err, size_t errlen);

#endif
