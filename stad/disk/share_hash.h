/* Turning a local file or directory into a torrent: a worker job that
 * walks the tree, hashes the content into pieces and builds the .torrent.
 *
 * A directory becomes a multi-file torrent named after it: regular files
 * are taken recursively in byte-wise sorted path order (what the file list
 * order will be); symlinks are skipped (storage refuses to follow them, so
 * a share never reaches outside its tree), and so are sockets, fifos and
 * devices. Empty directories vanish (torrents list files only). A
 * directory with no files fails the job. A regular file becomes a
 * single-file torrent. Path components that metainfo rejects (e.g. with a
 * backslash) fail the job with a message.
 *
 * Usage (loop thread):
 *   share_hash_init(&job, "/srv/share/movies", done_cb);
 *   job.tiers = ...; job.created_by = "sta/0.1";   (optional)
 *   workpool_submit(wp, &job.item);
 * Progress: the loop may read job.bytes_done / job.bytes_total at any time
 * (atomics: updated by the worker as it goes). In done_cb, job.item.status
 * is 0 on success with job.torrent holding the .torrent bytes and job.mi
 * the parsed torrent, or -1 with job.err set. Free with share_hash_free.
 */
#ifndef STAD_SHARE_HASH_H
#define STAD_SHARE_HASH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "metainfo.h"
#include "workpool.h"

struct share_hash_job {
	struct work_item item;          /* submit &job.item */

	/* In: set before submitting, untouched by the job. */
	char *path;                     /* file or directory (heap, owned) */
	const struct mi_tier *tiers;    /* announce tiers; may be NULL */
	uint32_t n_tiers;
	bool is_private;
	const char *created_by;         /* NULL to omit */
	const char *comment;            /* NULL to omit */
	int64_t creation_date;          /* 0 to omit */

	/* Progress: written by the worker, readable from any thread. */
	_Atomic uint64_t bytes_done;
	_Atomic uint64_t bytes_total;   /* set once the tree has been walked */

	/* Out, valid in done(). */
	struct sta_buf torrent;         /* the bencoded .torrent */
	struct metainfo mi;             /* parsed from torrent; zeroed on error */
	char err[256];
};

/* Zeroes job, copies path (without trailing slashes), sets item.work and
 * item.done. */
void share_hash_init(struct share_hash_job *job, const char *path,
                     void (*done)(struct work_item *));
/* Frees path, torrent and mi. */
void share_hash_free(struct share_hash_job *job);

/* The hashing itself, synchronously on the calling thread (what item.work
 * runs): 0 on success, -1 with job->err set. */
int share_hash_run(struct share_hash_job *job);

#endif
