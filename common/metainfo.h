/* Torrent metainfo, v1 (BEP 3): parse and validate a .torrent, compute its
 * info-hash, build one, and the piece/block/file arithmetic storage needs.
 * Also announce-list tiers (BEP 12) and the private flag (BEP 27).
 *
 * Everything in a parsed struct metainfo has been checked: names and paths
 * are safe relative paths, sizes are consistent, counts are capped. Pure:
 * no I/O here. */
#ifndef STA_METAINFO_H
#define STA_METAINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sha1.h"

#define MI_BLOCK_SIZE 16384u
/* Piece lengths accepted: powers of two in [MI_MIN_PIECE, MI_MAX_PIECE]. */
#define MI_MIN_PIECE (16u * 1024)
#define MI_MAX_PIECE (64u * 1024 * 1024)
#define MI_MAX_TOTAL (1ull << 50)   /* 1 PiB */
#define MI_MAX_FILES 100000u
#define MI_MAX_COMPONENT 255u       /* bytes per path component (NAME_MAX) */
#define MI_MAX_DEPTH 32u            /* components per file path */
#define MI_MAX_PATH 2048u           /* bytes of name + "/" + joined path */
#define MI_MAX_URL 2048u
#define MI_MAX_TIERS 64u
#define MI_MAX_URLS 256u            /* over all tiers */

struct mi_file {
	char *path;      /* multi-file: relative to the torrent's directory (name),
	                    components joined with '/'; single-file: the name */
	uint64_t length;
	uint64_t offset; /* of its first byte in the torrent's byte stream */
};

struct mi_tier {
	char **urls;
	uint32_t n_urls;
};

struct metainfo {
	uint8_t info_hash[SHA1_LEN];
	char *name;
	bool multi_file;
	uint32_t piece_length;
	uint32_t n_pieces;
	uint8_t *pieces;          /* SHA1_LEN * n_pieces bytes */
	uint64_t total_length;    /* > 0 */
	struct mi_file *files;    /* in torrent order, offsets ascending */
	uint32_t n_files;
	struct mi_tier *tiers;    /* may be empty (trackerless) */
	uint32_t n_tiers;
	bool is_private;
	char *comment;            /* NULL when absent */
	char *created_by;         /* NULL when absent */
	int64_t creation_date;    /* 0 when absent */
	uint8_t *raw;             /* the whole .torrent exactly as parsed */
	size_t raw_len;
	size_t info_off, info_len; /* the info dict inside raw (what BEP 9 sends) */
};

struct mi_error {
	char msg[256];
};

/* Parses and validates a .torrent. On success fills *mi (the caller frees
 * it with metainfo_free; it owns copies of everything, the input can go)
 * and returns true. On failure returns false, leaves nothing to free and
 * puts an English reason in err, e.g. "info.files[3].path[1] is \"..\"".
 *
 * Tracker URLs other than http://, https:// and udp:// (wss://, dht:// ...
 * seen in real torrents) are dropped rather than failing the torrent;
 * URLs with spaces or control bytes are errors. If announce-list yields
 * no usable tier, announce is used (BEP 12). Duplicate file paths, and a
 * path that is both a file and a directory, are errors (they would make
 * two files share bytes on disk). */
bool metainfo_parse(const uint8_t *data, size_t len, struct metainfo *mi, struct mi_error *err);
void metainfo_free(struct metainfo *mi);

/* A tracker URL: 1 when stad can announce to it (http, https, udp), 0 for
 * another scheme (to be dropped), -1 when malformed (empty, over
 * MI_MAX_URL, a space, control or non-ASCII byte), with a phrase such as
 * "has a space, control or non-ASCII byte at 8" in problem. */
int metainfo_url_kind(const void *url, size_t len, char *problem, size_t problem_len);

/* Piece arithmetic; all return 0 for an index out of range. */
uint32_t metainfo_piece_size(const struct metainfo *mi, uint32_t piece);
uint32_t metainfo_piece_blocks(const struct metainfo *mi, uint32_t piece);
uint32_t metainfo_block_size(const struct metainfo *mi, uint32_t piece, uint32_t block);

/* A run of bytes inside one file. */
struct mi_span {
	uint32_t file;
	uint64_t file_offset;
	uint32_t length;
};

/* Maps bytes [offset, offset + length) of piece to the files holding them,
 * in order, skipping 0-byte files. Writes at most max_spans spans and
 * returns how many are needed (call again with a bigger array if that is
 * more than max_spans). Returns 0 when length is 0 or the range does not
 * lie inside the piece. O(log files + spans). */
size_t metainfo_map(const struct metainfo *mi, uint32_t piece, uint32_t offset, uint32_t length,
                    struct mi_span *spans, size_t max_spans);

/* Piece length for a new torrent of total_bytes: the smallest power of two
 * from 16 KiB to 16 MiB giving at most 2048 pieces, so a torrent has
 * 1025-2048 pieces unless it is under 32 MiB (fewer pieces, 16 KiB each)
 * or over 32 GiB (16 MiB pieces). That keeps the .torrent small (~40 KiB
 * of hashes at most below 32 GiB) while pieces stay small enough to spread
 * over many peers early. */
uint32_t metainfo_choose_piece_length(uint64_t total_bytes);

struct mi_create_file {
	const char *path; /* relative, '/'-separated; ignored for single-file */
	uint64_t length;
};

struct mi_create {
	const char *name;
	bool multi_file;                    /* false: exactly one file, named name */
	const struct mi_create_file *files;
	uint32_t n_files;
	uint32_t piece_length;
	const uint8_t *pieces;              /* SHA1_LEN * n_pieces bytes */
	uint32_t n_pieces;
	const struct mi_tier *tiers;        /* may be NULL / 0 */
	uint32_t n_tiers;
	bool is_private;
	const char *comment;                /* NULL to omit */
	const char *created_by;             /* NULL to omit */
	int64_t creation_date;              /* 0 to omit */
};

/* Appends the bencoded .torrent (keys sorted) to out. The result is
 * checked with metainfo_parse, so anything it would reject (bad paths,
 * wrong piece count ...) fails here with the same message and out is left
 * as it was. When mi is non-NULL it receives the parsed torrent. */
bool metainfo_create(const struct mi_create *c, struct sta_buf *out, struct metainfo *mi,
                     struct mi_error *err);

/* Wraps an info dict fetched from peers (BEP 9) into a .torrent with these
 * trackers (may be none) and parses it into *mi. The caller compares
 * mi->info_hash with the hash it asked for; a valid dict that hashes
 * otherwise is still parsed. False with err when info is not a valid
 * info dict. */
bool metainfo_from_info(const uint8_t *info, size_t len, const struct mi_tier *tiers,
                        uint32_t n_tiers, struct metainfo *mi, struct mi_error *err);

/* Checks that rel (a '/'-separated relative path, as in mi_file.path) has
 * only safe components and joins it under base: returns a heap string
 * "base/rel" the caller frees, or NULL with a reason in err when rel is
 * empty, absolute, or has an empty, ".", ".." or over-long component, a
 * NUL or a backslash. base must be non-empty; it is trusted (ours). */
char *metainfo_path_join(const char *base, const char *rel, struct mi_error *err);

#endif
