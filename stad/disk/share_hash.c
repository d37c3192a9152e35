/* Share hashing: walk, sort, hash, build the .torrent. */
#include "share_hash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "piece_hasher.h"
#include "xmalloc.h"

#define SH_CHUNK (1u << 20)

struct sh_list {
	struct mi_create_file *files; /* paths are heap strings */
	uint32_t n, cap;
	uint64_t total;
};

static int __attribute__((format(printf, 2, 3))) sh_fail(struct share_hash_job *job,
                                                          const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(job->err, sizeof job->err, fmt, ap);
	va_end(ap);
	return -1;
}

static void sh_list_free(struct sh_list *l)
{
	for (uint32_t i = 0; i < l->n; i++)
		free((char *)l->files[i].path);
	free(l->files);
}

static int sh_add(struct share_hash_job *job, struct sh_list *l, char *rel, uint64_t size)
{
	if (l->n >= MI_MAX_FILES || size > MI_MAX_TOTAL - l->total) {
		free(rel);
		return sh_fail(job, "%s: more than %u files or %" PRIu64 " bytes", job->path,
		               MI_MAX_FILES, (uint64_t)MI_MAX_TOTAL);
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->files = xreallocarray(l->files, l->cap, sizeof(*l->files));
	}
	l->files[l->n++] = (struct mi_create_file){ rel, size };
	l->total += size;
	return 0;
}

/* Collects the regular files under dir (relative path prefix rel, "" at the
 * top); symlinks and special files are skipped. */
static int sh_walk(struct share_hash_job *job, struct sh_list *l, const char *dir,
                   const char *rel, unsigned depth)
{
	if (depth >= MI_MAX_DEPTH)
		return sh_fail(job, "%s: nested deeper than %u directories", dir, MI_MAX_DEPTH);
	DIR *d = opendir(dir);
	if (!d)
		return sh_fail(job, "opendir %s: %s", dir, strerror(errno));
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (errno = 0, e = readdir(d))) {
		struct stat sb;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = sh_fail(job, "stat %s/%s: %s", dir, e->d_name, strerror(errno));
			break;
		}
		char *sub = rel[0] ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
		if (S_ISREG(sb.st_mode)) {
			rc = sh_add(job, l, sub, (uint64_t)sb.st_size);
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			char *path = xasprintf("%s/%s", dir, e->d_name);
			rc = sh_walk(job, l, path, sub, depth + 1);
			free(path);
		} else if (S_ISLNK(sb.st_mode)) {
			log_info("%s/%s: symlink, not shared", dir, e->d_name);
		}
		free(sub);
	}
	if (rc == 0 && errno != 0)
		rc = sh_fail(job, "readdir %s: %s", dir, strerror(errno));
	closedir(d);
	return rc;
}

static int sh_cmp(const void *a, const void *b)
{
	const struct mi_create_file *x = a, *y = b;

	return strcmp(x->path, y->path);
}

/* Feeds one file to the hasher; its size must not change meanwhile. */
static int sh_hash_file(struct share_hash_job *job, struct piece_hasher *h, const char *path,
                        uint64_t size, uint8_t *chunk)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	uint64_t got = 0;

	if (fd < 0)
		return sh_fail(job, "open %s: %s", path, strerror(errno));
	for (;;) {
		ssize_t n = read(fd, chunk, SH_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return sh_fail(job, "read %s: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		got += (uint64_t)n;
		if (got > size)
			break;
		piece_hasher_update(h, chunk, (size_t)n);
		atomic_fetch_add(&job->bytes_done, (uint64_t)n);
	}
	close(fd);
	if (got != size)
		return sh_fail(job, "%s changed size while being hashed", path);
	return 0;
}

static int sh_hash_and_create(struct share_hash_job *job, struct sh_list *l, const char *name,
                              bool multi)
{
	struct piece_hasher h;
	uint32_t plen = metainfo_choose_piece_length(l->total);
	uint8_t *chunk = xmalloc(SH_CHUNK);
	struct mi_error me;
	int rc = 0;

	piece_hasher_init(&h, plen);
	for (uint32_t i = 0; i < l->n && rc == 0; i++) {
		char *path = multi ? xasprintf("%s/%s", job->path, l->files[i].path)
		                   : xstrdup(job->path);
		rc = sh_hash_file(job, &h, path, l->files[i].length, chunk);
		free(path);
	}
	free(chunk);
	if (rc == 0) {
		piece_hasher_finish(&h);
		struct mi_create c = {
			.name = name, .multi_file = multi, .files = l->files, .n_files = l->n,
			.piece_length = plen, .pieces = h.hashes.data,
			.n_pieces = (uint32_t)piece_hasher_count(&h), .tiers = job->tiers,
			.n_tiers = job->n_tiers, .is_private = job->is_private,
			.comment = job->comment, .created_by = job->created_by,
			.creation_date = job->creation_date,
		};
		if (!metainfo_create(&c, &job->torrent, &job->mi, &me))
			rc = sh_fail(job, "%s: %s", job->path, me.msg);
	}
	piece_hasher_free(&h);
	return rc;
}

int share_hash_run(struct share_hash_job *job)
{
	struct sh_list l = { 0 };
	struct stat sb;
	int rc;

	/* The torrent is named after the last component of the path. */
	const char *slash = strrchr(job->path, '/');
	const char *name = slash ? slash + 1 : job->path;

	if (lstat(job->path, &sb) < 0)
		return sh_fail(job, "%s: %s", job->path, strerror(errno));
	bool multi = S_ISDIR(sb.st_mode);
	if (multi)
		rc = sh_walk(job, &l, job->path, "", 0);
	else if (S_ISREG(sb.st_mode))
		rc = sh_add(job, &l, xstrdup(name), (uint64_t)sb.st_size);
	else
		rc = sh_fail(job, "%s: not a regular file or directory", job->path);
	if (rc == 0 && l.total == 0)
		rc = sh_fail(job, "%s: nothing to share (no data)", job->path);
	if (rc == 0) {
		qsort(l.files, l.n, sizeof(*l.files), sh_cmp);
		atomic_store(&job->bytes_total, l.total);
		rc = sh_hash_and_create(job, &l, name, multi);
	}
	sh_list_free(&l);
	if (rc < 0) {
		buf_free(&job->torrent);
		memset(&job->mi, 0, sizeof(job->mi));
	}
	return rc;
}

static void sh_work(struct work_item *it)
{
	struct share_hash_job *job = container_of(it, struct share_hash_job, item);

	it->status = share_hash_run(job);
}

void share_hash_init(struct share_hash_job *job, const char *path,
                     void (*done)(struct work_item *))
{
	memset(job, 0, sizeof(*job));
	job->path = xstrdup(path);
	/* "dir/" names the torrent "dir", not "". */
	size_t len = strlen(job->path);
	while (len > 1 && job->path[len - 1] == '/')
		job->path[--len] = '\0';
	job->item.work = sh_work;
	job->item.done = done;
}

void share_hash_free(struct share_hash_job *job)
{
	free(job->path);
	job->path = NULL;
	buf_free(&job->torrent);
	if (job->mi.raw)
		metainfo_free(&job->mi);
}
