/* Resume data: what stad remembers about one torrent across restarts.
 *
 * On disk it is a bencoded dict (keys sorted):
 *   "added"      int, unix time the torrent was added (>= 0)
 *   "data_dir"   str, the directory holding the torrent's files (absolute,
 *                no NUL, at most RESUME_MAX_DIR bytes)
 *   "downloaded" int, payload bytes downloaded over the torrent's life
 *   "have"       str, the verified-pieces bitfield in BEP 3 wire order,
 *                exactly ceil(pieces / 8) bytes, spare bits zero
 *   "info_hash"  str, 20 bytes
 *   "paused"     int, 0 or 1
 *   "pieces"     int, piece count, 1 .. RESUME_MAX_PIECES
 *   "uploaded"   int, payload bytes uploaded
 *   "version"    int, RESUME_VERSION
 * Unknown keys are ignored (a newer stad may add some); every known key is
 * required and checked.
 *
 * A piece listed in "have" is trusted without hashing at start-up, so the
 * file must be written only after the pieces it lists are on disk
 * (storage_sync), and replaced atomically (resume_save) so a crash leaves
 * either the old or the new file, never a torn one. Pieces not listed may
 * still be on disk and can be re-checked by hash.
 *
 * resume_encode / resume_decode are pure (fuzzed); resume_save /
 * resume_load add the file I/O and block, so run them on a worker.
 */
#ifndef STAD_RESUME_H
#define STAD_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bitfield.h"
#include "buf.h"
#include "sha1.h"

#define RESUME_VERSION 1
#define RESUME_MAX_DIR 4096u
#define RESUME_MAX_PIECES (1u << 24)
/* Largest resume file accepted: the bitfield plus room for the rest. */
#define RESUME_MAX_FILE (RESUME_MAX_PIECES / 8 + RESUME_MAX_DIR + 1024)

struct resume_data {
	uint8_t info_hash[SHA1_LEN];
	struct bitfield have;   /* nbits = the torrent's piece count */
	uint64_t uploaded;
	uint64_t downloaded;
	char *data_dir;         /* heap string */
	int64_t added;          /* unix time */
	bool paused;
};

/* Frees have and data_dir; the struct can be reused after. */
void resume_data_free(struct resume_data *rd);

/* Appends the bencoded form of rd to out. rd->have.nbits must be in
 * 1 .. RESUME_MAX_PIECES and data_dir non-NULL (caller bugs otherwise). */
void resume_encode(const struct resume_data *rd, struct sta_buf *out);

/* Parses and validates data[0..len). On success fills *rd (the caller frees
 * it with resume_data_free) and returns true; on failure returns false,
 * leaves nothing to free and puts the reason in err (may be NULL). */
bool resume_decode(const uint8_t *data, size_t len, struct resume_data *rd, char *err,
                   size_t errlen);

/* Checks that rd belongs to the torrent with this info-hash and piece
 * count; false with a reason otherwise (a stale or misplaced file). */
bool resume_matches(const struct resume_data *rd, const uint8_t info_hash[SHA1_LEN],
                    uint32_t n_pieces, char *err, size_t errlen);

/* Writes rd to path atomically: a temporary file in the same directory
 * (see file_write_atomic), fsync, rename over path, fsync of the
 * directory. On failure the old file at path is untouched, the temporary
 * is removed, and -1 is returned with the reason in err. */
int resume_save(const char *path, const struct resume_data *rd, char *err, size_t errlen);

/* Reads and decodes path. -1 with the reason in err when it cannot be read
 * (errno ENOENT is left for "no resume data yet"), is larger than
 * RESUME_MAX_FILE, or fails resume_decode (errno EINVAL). */
int resume_load(const char *path, struct resume_data *rd, char *err, size_t errlen);

#endif
