/* Torrent files on disk. Paths are checked once at open; afterwards every
 * access goes piece -> spans (metainfo_map) -> pread/pwrite on a cached
 * descriptor. A descriptor in use is pinned (users > 0) so another thread
 * cannot close it, and the number it holds cannot be reused, mid-call. */
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "xmalloc.h"

#define ST_CHUNK (64u * 1024)  /* read size when hashing a piece */
#define ST_SPANS 16            /* spans handled without allocating */

struct st_file {
	char *path;
	int slot;     /* cache slot holding its descriptor, or -1; under lock */
	bool dirty;   /* written since the last storage_sync; under lock */
};

struct st_slot {
	int fd;              /* -1 when free */
	uint32_t file;
	uint32_t users;      /* calls using fd right now: not evictable */
	uint64_t last_use;
};

struct storage {
	const struct metainfo *mi;
	struct st_file *files;
	bool had_data;
	atomic_bool no_direct;  /* O_DIRECT off (config) or refused (EINVAL) */
	pthread_mutex_t lock;
	uint64_t clock;
	struct st_slot slots[STORAGE_MAX_OPEN];
};

/* A descriptor borrowed for one span. */
struct st_fd {
	int fd;
	int slot; /* -1: opened for this call only, closed on release */
};

static int __attribute__((format(printf, 3, 4))) st_fail(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
	int saved = errno;

	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = saved;
	return -1;
}

/* File paths come from the torrent: escape them for messages. */
static const char *st_esc(char *out, size_t outsz, const char *path)
{
	return log_escape(out, outsz, path, strlen(path));
}

/* Reports errno for an operation on path. */
static int st_fail_errno(char *err, size_t errlen, const char *path, const char *op)
{
	char esc[200];

	return st_fail(err, errlen, "%s: %s: %s", st_esc(esc, sizeof esc, path), op,
	               strerror(errno));
}

/* Read-only shares (files we may read but not write) still seed. */
static int st_open_fd(const char *path, int flags)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | flags, 0644);

	if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM))
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd;
}

/* Puts fd in a free or least recently used idle slot and returns the slot;
 * -1 when every slot is busy (the caller then keeps fd to itself). Under
 * lock. */
static int st_cache_insert(struct storage *st, uint32_t file, int fd)
{
	int best = -1;

	for (int i = 0; i < (int)STORAGE_MAX_OPEN; i++) {
		struct st_slot *s = &st->slots[i];
		if (s->fd < 0) {
			best = i;
			break;
		}
		if (s->users == 0 && (best < 0 || s->last_use < st->slots[best].last_use))
			best = i;
	}
	if (best < 0)
		return -1;
	struct st_slot *s = &st->slots[best];
	if (s->fd >= 0) {
		close(s->fd);
		st->files[s->file].slot = -1;
	}
	*s = (struct st_slot){ .fd = fd, .file = file, .users = 0, .last_use = ++st->clock };
	st->files[file].slot = best;
	return best;
}

static int st_acquire(struct storage *st, uint32_t file, struct st_fd *h, char *err, size_t errlen)
{
	*h = (struct st_fd){ -1, -1 }; /* set on every path; gcc -O3 cannot tell */
	pthread_mutex_lock(&st->lock);
	int slot = st->files[file].slot;
	if (slot < 0) {
		int fd = st_open_fd(st->files[file].path, 0);
		if (fd < 0) {
			pthread_mutex_unlock(&st->lock);
			return st_fail_errno(err, errlen, st->files[file].path, "open");
		}
		slot = st_cache_insert(st, file, fd);
		if (slot < 0) {
			pthread_mutex_unlock(&st->lock);
			*h = (struct st_fd){ fd, -1 };
			return 0;
		}
	}
	st->slots[slot].users++;
	st->slots[slot].last_use = ++st->clock;
	*h = (struct st_fd){ st->slots[slot].fd, slot };
	pthread_mutex_unlock(&st->lock);
	return 0;
}

static void st_release(struct storage *st, uint32_t file, struct st_fd *h, bool wrote)
{
	pthread_mutex_lock(&st->lock);
	if (h->slot >= 0)
		st->slots[h->slot].users--;
	if (wrote)
		st->files[file].dirty = true;
	pthread_mutex_unlock(&st->lock);
	if (h->slot < 0)
		close(h->fd);
}

/* pread or pwrite of all of [off, off + len), retrying short transfers and
 * EINTR. Returns the bytes moved; fewer than len on an error, with errno
 * set (0 when a read met the end of the file). */
static size_t st_pio(int fd, uint8_t *p, size_t len, uint64_t off, bool write)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write ? pwrite(fd, p + done, len - done, (off_t)(off + done))
		                  : pread(fd, p + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			break;
		}
		done += (size_t)n;
	}
	return done;
}

/* Writes an aligned span with O_DIRECT, on a descriptor of its own (the
 * cached ones serve buffered reads). Downloaded data then skips the page
 * cache: half the CPU of a buffered write here, and a download of many GiB
 * does not push everything else out of memory. Returns 1 when written, 0
 * when the span does not qualify or the file system refuses O_DIRECT (the
 * caller writes it buffered), -1 on an error. */
static int st_direct_write(struct storage *st, const struct mi_span *sp, uint8_t *p,
                           char *err, size_t errlen)
{
	const char *path = st->files[sp->file].path;

	if (atomic_load_explicit(&st->no_direct, memory_order_relaxed) || sp->length == 0 ||
	    (sp->file_offset | sp->length | (uintptr_t)p) % STORAGE_DIRECT_ALIGN != 0)
		return 0;
	int fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == EINVAL)
			atomic_store(&st->no_direct, true);
		return 0; /* else a read-only share and the like: the buffered path says why */
	}
	int rc = 1;
	size_t moved = st_pio(fd, p, sp->length, sp->file_offset, true);
	if (moved == 0 && errno == EINVAL) {
		atomic_store(&st->no_direct, true);
		rc = 0;
	} else if (moved < sp->length) {
		if (errno == 0)
			errno = EIO;
		rc = st_fail_errno(err, errlen, path, "pwrite");
	}
	int saved = errno;
	close(fd);
	if (rc == 1) {
		pthread_mutex_lock(&st->lock);
		st->files[sp->file].dirty = true;
		pthread_mutex_unlock(&st->lock);
	}
	errno = saved;
	return rc;
}

/* Moves the whole span; end of file is EIO. */
static int st_span_io(struct storage *st, const struct mi_span *sp, uint8_t *p, bool write,
                      char *err, size_t errlen)
{
	struct st_fd h;
	int rc = write ? st_direct_write(st, sp, p, err, errlen) : 0;

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (st_acquire(st, sp->file, &h, err, errlen) < 0)
		return -1;
	size_t moved = st_pio(h.fd, p, sp->length, sp->file_offset, write);
	if (moved < sp->length) {
		bool eof = errno == 0;
		if (eof)
			errno = EIO;
		rc = st_fail_errno(err, errlen, st->files[sp->file].path,
		                   eof ? "unexpected end of file" : write ? "pwrite" : "pread");
	}
	int saved = errno;
	st_release(st, sp->file, &h, write && moved > 0);
	errno = saved;
	return rc;
}

/* Maps a range of a piece to its spans; returns how many, with *spans
 * either local or a heap array the caller frees; 0 (EINVAL) when the range
 * is not inside the piece. */
static size_t st_map(const struct storage *st, uint32_t piece, uint32_t offset, uint32_t len,
                     struct mi_span *local, struct mi_span **spans)
{
	size_t n = metainfo_map(st->mi, piece, offset, len, local, ST_SPANS);

	*spans = local;
	if (n > ST_SPANS) {
		*spans = xcalloc(n, sizeof(**spans));
		metainfo_map(st->mi, piece, offset, len, *spans, n);
	}
	if (n == 0)
		errno = EINVAL;
	return n;
}

static int st_io(struct storage *st, uint32_t piece, uint32_t offset, uint8_t *buf, uint32_t len,
                 bool write, char *err, size_t errlen)
{
	struct mi_span local[ST_SPANS], *spans;
	size_t n = st_map(st, piece, offset, len, local, &spans);
	int rc = 0;

	if (n == 0)
		return st_fail(err, errlen, "piece %" PRIu32 " bytes %" PRIu32 "+%" PRIu32
		               ": outside the torrent", piece, offset, len);
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = st_span_io(st, &spans[i], buf, write, err, errlen);
		buf += spans[i].length;
	}
	if (spans != local)
		free(spans);
	return rc;
}

int storage_read(struct storage *st, uint32_t piece, uint32_t offset, void *buf, uint32_t len,
                 char *err, size_t errlen)
{
	return st_io(st, piece, offset, buf, len, false, err, errlen);
}

int storage_write_piece(struct storage *st, uint32_t piece, const void *buf, char *err,
                        size_t errlen)
{
	/* st_io only reads from buf when writing. */
	return st_io(st, piece, 0, (uint8_t *)(uintptr_t)buf, metainfo_piece_size(st->mi, piece),
	             true, err, errlen);
}

int storage_write_verified(struct storage *st, uint32_t piece, const void *buf, char *err,
                           size_t errlen)
{
	uint32_t size = metainfo_piece_size(st->mi, piece);
	uint8_t h[SHA1_LEN];

	if (size == 0) {
		errno = EINVAL;
		return st_fail(err, errlen, "piece %" PRIu32 ": no such piece", piece);
	}
	sha1(buf, size, h);
	if (memcmp(h, st->mi->pieces + (size_t)piece * SHA1_LEN, SHA1_LEN) != 0) {
		st_fail(err, errlen, "piece %" PRIu32 ": hash mismatch", piece);
		return 0;
	}
	return storage_write_piece(st, piece, buf, err, errlen) < 0 ? -1 : 1;
}

int storage_hash_piece(struct storage *st, uint32_t piece, uint8_t out[SHA1_LEN], char *err,
                       size_t errlen)
{
	uint32_t size = metainfo_piece_size(st->mi, piece);
	uint8_t *chunk;
	struct sha1_ctx ctx;
	int rc = 0;

	if (size == 0) {
		errno = EINVAL;
		return st_fail(err, errlen, "piece %" PRIu32 ": no such piece", piece);
	}
	chunk = xmalloc(size < ST_CHUNK ? size : ST_CHUNK);
	sha1_init(&ctx);
	for (uint32_t off = 0; off < size && rc == 0; off += ST_CHUNK) {
		uint32_t n = size - off < ST_CHUNK ? size - off : ST_CHUNK;
		rc = st_io(st, piece, off, chunk, n, false, err, errlen);
		if (rc == 0)
			sha1_update(&ctx, chunk, n);
	}
	sha1_final(&ctx, out);
	sha1_free(&ctx);
	free(chunk);
	return rc;
}

/* 1 when [off, off + len) of the file may hold data, 0 when it is a hole. */
static int st_span_has_data(struct storage *st, const struct mi_span *sp, char *err,
                            size_t errlen)
{
	struct st_fd h;
	int rc = 1;

	if (st_acquire(st, sp->file, &h, err, errlen) < 0)
		return -1;
	off_t d = lseek(h.fd, (off_t)sp->file_offset, SEEK_DATA);
	if (d < 0 && errno == ENXIO)
		rc = 0; /* only a hole up to end of file */
	else if (d >= 0 && (uint64_t)d >= sp->file_offset + sp->length)
		rc = 0;
	/* Other errors (SEEK_DATA unsupported): assume data, hashing will tell. */
	st_release(st, sp->file, &h, false);
	return rc;
}

int storage_piece_has_data(struct storage *st, uint32_t piece, char *err, size_t errlen)
{
	struct mi_span local[ST_SPANS], *spans;
	size_t n = st_map(st, piece, 0, metainfo_piece_size(st->mi, piece), local, &spans);
	int rc = 0;

	if (n == 0)
		return st_fail(err, errlen, "piece %" PRIu32 ": no such piece", piece);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = st_span_has_data(st, &spans[i], err, errlen);
	if (spans != local)
		free(spans);
	return rc;
}

int storage_sync(struct storage *st, char *err, size_t errlen)
{
	uint32_t *todo = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	pthread_mutex_lock(&st->lock);
	for (uint32_t i = 0; i < st->mi->n_files; i++) {
		if (!st->files[i].dirty)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			todo = xreallocarray(todo, cap, sizeof(*todo));
		}
		todo[n++] = i;
		st->files[i].dirty = false;
	}
	pthread_mutex_unlock(&st->lock);

	/* fdatasync flushes the file's pages whichever descriptor wrote them. */
	for (size_t i = 0; i < n; i++) {
		struct st_fd h;
		if (rc == 0 && st_acquire(st, todo[i], &h, err, errlen) == 0) {
			if (fdatasync(h.fd) < 0)
				rc = st_fail_errno(err, errlen, st->files[todo[i]].path, "fdatasync");
			st_release(st, todo[i], &h, false);
		} else {
			rc = -1;
		}
		if (rc < 0) {
			/* Not known to be durable: the next sync tries again. */
			pthread_mutex_lock(&st->lock);
			st->files[todo[i]].dirty = true;
			pthread_mutex_unlock(&st->lock);
		}
	}
	free(todo);
	return rc;
}

/* Creates the directories between the base and the file at path, whose
 * torrent-given part starts at path + rel_off; each of those must be a real
 * directory, not a symlink. */
static int st_make_dirs(const char *path, size_t dir_len, size_t rel_off, char *err,
                        size_t errlen)
{
	char *p = xstrndup(path, dir_len);
	size_t bad = 0;
	int rc = 0;

	if (!file_mkdirs(p, 0755, rel_off, &bad)) {
		p[bad] = '\0';
		rc = st_fail_errno(err, errlen, p, errno == ENOTDIR ? "not a directory (or a symlink)"
		                                                    : "cannot create directory");
	}
	free(p);
	return rc;
}

/* Creates or checks one file; never shortens or rewrites existing data. */
static int st_prepare_file(struct storage *st, uint32_t i, char *err, size_t errlen)
{
	const char *path = st->files[i].path;
	uint64_t want = st->mi->files[i].length;
	char esc[200];
	struct stat sb;

	int fd = st_open_fd(path, O_CREAT);
	if (fd < 0) {
		if (errno == ELOOP)
			return st_fail(err, errlen, "%s: is a symlink; refusing to follow it",
			               st_esc(esc, sizeof esc, path));
		return st_fail_errno(err, errlen, path, "open");
	}
	if (fstat(fd, &sb) < 0) {
		st_fail_errno(err, errlen, path, "fstat");
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		st_fail(err, errlen, "%s: exists and is not a regular file",
		        st_esc(esc, sizeof esc, path));
		goto fail;
	}
	if ((uint64_t)sb.st_size > want) {
		errno = EFBIG;
		st_fail(err, errlen, "%s: exists with %" PRIu64 " bytes, more than the torrent's %"
		        PRIu64 "; refusing to truncate it", st_esc(esc, sizeof esc, path),
		        (uint64_t)sb.st_size, want);
		goto fail;
	}
	if (sb.st_size > 0)
		st->had_data = true;
	if ((uint64_t)sb.st_size < want && ftruncate(fd, (off_t)want) < 0) {
		st_fail_errno(err, errlen, path, "ftruncate (extend)");
		goto fail;
	}
	if (st_cache_insert(st, i, fd) < 0)
		close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

int storage_open(const struct metainfo *mi, const char *base_dir, struct storage **out,
                 char *err, size_t errlen)
{
	struct storage *st = xcalloc(1, sizeof(*st));
	struct mi_error me;

	st->mi = mi;
	pthread_mutex_init(&st->lock, NULL);
	for (unsigned i = 0; i < STORAGE_MAX_OPEN; i++)
		st->slots[i].fd = -1;
	st->files = xcalloc(mi->n_files, sizeof(*st->files));
	for (uint32_t i = 0; i < mi->n_files; i++)
		st->files[i].slot = -1;

	if (base_dir[0] == '\0') {
		errno = EINVAL;
		st_fail(err, errlen, "empty base directory");
		goto fail;
	}
	/* The base directory is ours (configuration), so symlinks are fine. */
	if (st_make_dirs(base_dir, strlen(base_dir), SIZE_MAX, err, errlen) < 0)
		goto fail;
	for (uint32_t i = 0; i < mi->n_files; i++) {
		char *rel = mi->multi_file ? xasprintf("%s/%s", mi->name, mi->files[i].path)
		                           : xstrdup(mi->files[i].path);
		char *path = metainfo_path_join(base_dir, rel, &me);
		size_t rel_off = path ? strlen(path) - strlen(rel) : 0;
		free(rel);
		st->files[i].path = path;
		if (!path) {
			errno = EINVAL;
			st_fail(err, errlen, "%s", me.msg);
			goto fail;
		}
		const char *slash = strrchr(path + rel_off, '/');
		if ((slash && st_make_dirs(path, (size_t)(slash - path), rel_off, err, errlen) < 0) ||
		    st_prepare_file(st, i, err, errlen) < 0)
			goto fail;
	}
	*out = st;
	return 0;
fail:;
	int saved = errno;
	storage_close(st);
	errno = saved;
	return -1;
}

void storage_close(struct storage *st)
{
	if (!st)
		return;
	for (unsigned i = 0; i < STORAGE_MAX_OPEN; i++)
		if (st->slots[i].fd >= 0)
			close(st->slots[i].fd);
	for (uint32_t i = 0; i < st->mi->n_files; i++)
		free(st->files[i].path);
	free(st->files);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

void storage_set_direct(struct storage *st, bool on)
{
	atomic_store(&st->no_direct, !on);
}

bool storage_had_data(const struct storage *st)
{
	return st->had_data;
}
