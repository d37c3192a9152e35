/* Sharing local files: stamps, start-up scan of share_dir, SHARE. */
#include "share.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hex.h"
#include "log.h"
#include "sconfig.h"
#include "context.h"
#include "share_hash.h"
#include "strnum.h"
#include "torrent.h"
#include "workpool.h"
#include "xmalloc.h"

#define SHARE_WALK_FDS 16

struct share_state {
	struct session *s;
};

/* ---- stamps ---- */

static _Thread_local struct share_stamp *walk_stamp;

static void stamp_add(struct share_stamp *st, const struct stat *sb)
{
	int64_t ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;

	st->size += (uint64_t)sb->st_size;
	st->files++;
	if (ns > st->mtime_ns)
		st->mtime_ns = ns;
}

static int walk_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	if (type == FTW_F && S_ISREG(sb->st_mode))
		stamp_add(walk_stamp, sb);
	return 0;
}

bool share_stamp_compute(const char *path, struct share_stamp *st)
{
	struct stat sb;

	memset(st, 0, sizeof *st);
	if (lstat(path, &sb) < 0)
		return false;
	if (S_ISREG(sb.st_mode)) {
		stamp_add(st, &sb);
		return true;
	}
	if (!S_ISDIR(sb.st_mode))
		return false;
	walk_stamp = st;
	bool ok = nftw(path, walk_cb, SHARE_WALK_FDS, FTW_PHYS) == 0;
	walk_stamp = NULL;
	return ok;
}

void share_stamp_format(const struct share_stamp *st, char *out, size_t outsz)
{
	snprintf(out, outsz, "%" PRIu64 " %" PRId64 " %" PRIu64 "\n", st->size, st->mtime_ns,
	         st->files);
}

/* The next space- or newline-terminated decimal field of s. */
static bool next_u64(const char **s, const char *end, char sep, uint64_t *out)
{
	const char *p = memchr(*s, sep, (size_t)(end - *s));

	if (p == NULL || !strnum_u64(*s, (size_t)(p - *s), 0, INT64_MAX, out))
		return false;
	*s = p + 1;
	return true;
}

bool share_stamp_parse(const char *s, size_t len, struct share_stamp *st)
{
	const char *end = s + len;
	uint64_t mtime;
	struct share_stamp v;

	if (!next_u64(&s, end, ' ', &v.size) || !next_u64(&s, end, ' ', &mtime) ||
	    !next_u64(&s, end, '\n', &v.files) || s != end)
		return false;
	v.mtime_ns = (int64_t)mtime;
	*st = v;
	return true;
}

static char *stamp_path(struct session *s, const char *hex)
{
	return session_state_path(s, "shares", hex, ".stamp");
}

static bool stamp_load(struct session *s, const char *hex, struct share_stamp *st)
{
	char *path = stamp_path(s, hex);
	FILE *fp = fopen(path, "re");
	char line[128];
	size_t n = 0;

	free(path);
	if (fp == NULL)
		return false;
	n = fread(line, 1, sizeof line, fp);
	fclose(fp);
	return n < sizeof line && share_stamp_parse(line, n, st);
}

static void stamp_save(struct session *s, const char *hex, const struct share_stamp *st)
{
	char *path = stamp_path(s, hex);
	char line[128];
	FILE *fp = fopen(path, "we");

	share_stamp_format(st, line, sizeof line);
	if (fp == NULL || fputs(line, fp) < 0 || fclose(fp) != 0)
		log_err("cannot write %s: %s", path, strerror(errno));
	free(path);
}

bool share_is_shared(struct session *s, const uint8_t info_hash[20])
{
	char hex[41];
	struct share_stamp st;

	hex_encode(info_hash, 20, hex);
	return stamp_load(s, hex, &st);
}

struct share_state *share_new(struct session *s)
{
	struct share_state *sh = xcalloc(1, sizeof *sh);

	sh->s = s;
	return sh;
}

void share_free(struct share_state *sh)
{
	free(sh);
}

/* ---- hashing a share ---- */

struct hash_job {
	struct share_hash_job job;
	struct share_state *sh;
	struct share_stamp stamp;
	share_done_fn cb;
	void *arg;
	uint64_t cookie;
};

static void hash_work(struct work_item *item)
{
	struct hash_job *h = container_of(item, struct hash_job, job.item);

	/* Stamp first: a file changed while hashing then looks changed at
	 * the next start and is hashed again. */
	share_stamp_compute(h->job.path, &h->stamp);
	item->status = share_hash_run(&h->job);
}

static char *parent_dir(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');

	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	return dir;
}

static struct torrent *add_share(struct hash_job *h, bool *added, char *err, size_t errlen)
{
	struct session *s = h->sh->s;
	struct resume_data rd;
	struct torrent *t, *existing;

	memset(&rd, 0, sizeof rd);
	bitfield_init(&rd.have, h->job.mi.n_pieces);
	bitfield_set_all(&rd.have);
	rd.data_dir = parent_dir(h->job.path);
	rd.added = time(NULL);
	t = torrent_add(s, &h->job.mi, rd.data_dir, &rd, true, true, &existing, err,
	                        errlen);
	resume_data_free(&rd);
	*added = t != NULL;
	if (t == NULL)
		return existing;
	t->resume_dirty = true;
	stamp_save(s, t->hex, &h->stamp);
	log_info("%s: sharing \"%s\" (%llu bytes, %u pieces)", t->hex, t->mi.name,
	         (unsigned long long)t->mi.total_length, t->mi.n_pieces);
	torrent_start(t);
	return t;
}

static void hash_done(struct work_item *item)
{
	struct hash_job *h = container_of(item, struct hash_job, job.item);
	struct torrent *t = NULL;
	size_t plen = strlen(h->job.path);
	bool added = false;
	char err[512];

	if (h->sh->s->stopping)
		goto out;
	if (item->status < 0) {
		/* Most reasons start with the path already. */
		if (strncmp(h->job.err, h->job.path, plen) == 0 && h->job.err[plen] == ':')
			snprintf(err, sizeof err, "cannot share %s", h->job.err);
		else
			snprintf(err, sizeof err, "cannot share %s: %s", h->job.path, h->job.err);
		log_err("%s", err);
	} else {
		t = add_share(h, &added, err, sizeof err);
	}
	if (h->cb)
		h->cb(h->arg, h->cookie, t, added, t ? NULL : err);
out:
	share_hash_free(&h->job);
	free(h);
}

void share_path(struct share_state *sh, const char *path, share_done_fn cb, void *arg,
                uint64_t cookie)
{
	struct session *s = sh->s;
	struct hash_job *h = xcalloc(1, sizeof *h);

	share_hash_init(&h->job, path, hash_done);
	h->job.item.work = hash_work;
	h->job.tiers = s->tier.n_urls ? &s->tier : NULL;
	h->job.n_tiers = s->tier.n_urls ? 1 : 0;
	h->job.created_by = "STA/" STA_VERSION;
	h->job.creation_date = time(NULL);
	h->sh = sh;
	h->cb = cb;
	h->arg = arg;
	h->cookie = cookie;
	log_info("hashing %s", path);
	workpool_submit(s->wp, &h->job.item);
}

/* ---- the start-up scan ---- */

struct scan_item {
	char *path;
	uint8_t info_hash[20];
	bool known;                /* a saved shared torrent */
	bool exists;
	struct share_stamp stamp;
};

struct scan_job {
	struct work_item item;
	struct share_state *sh;
	struct scan_item *items;
	size_t n;
};

static void scan_work(struct work_item *item)
{
	struct scan_job *j = container_of(item, struct scan_job, item);

	for (size_t i = 0; i < j->n; i++)
		j->items[i].exists = share_stamp_compute(j->items[i].path, &j->items[i].stamp);
}

/* A saved share: started when unchanged, else dropped and hashed again. */
static void scan_known(struct share_state *sh, const struct scan_item *it)
{
	struct torrent *t = torrent_find(sh->s, it->info_hash);
	struct share_stamp saved;

	if (t == NULL)
		return;
	if (it->exists && stamp_load(sh->s, t->hex, &saved) &&
	    memcmp(&saved, &it->stamp, sizeof saved) == 0) {
		torrent_start(t);
		return;
	}
	log_info("%s: %s changed or vanished: sharing it again", t->hex, it->path);
	torrent_remove(t, false);
	if (it->exists)
		share_path(sh, it->path, NULL, NULL, 0);
}

static void scan_done(struct work_item *item)
{
	struct scan_job *j = container_of(item, struct scan_job, item);

	for (size_t i = 0; i < j->n; i++) {
		struct scan_item *it = &j->items[i];
		bool live = !j->sh->s->stopping;
		if (live && it->known)
			scan_known(j->sh, it);
		else if (live && it->exists)
			share_path(j->sh, it->path, NULL, NULL, 0);
		free(it->path);
	}
	free(j->items);
	free(j);
}

static void scan_add(struct scan_job *j, char *path, const uint8_t *info_hash)
{
	for (size_t i = 0; i < j->n; i++) {
		if (strcmp(j->items[i].path, path) == 0) {
			free(path);
			return;
		}
	}
	j->items = xreallocarray(j->items, j->n + 1, sizeof *j->items);
	struct scan_item *it = &j->items[j->n++];
	memset(it, 0, sizeof *it);
	it->path = path;
	if (info_hash) {
		memcpy(it->info_hash, info_hash, 20);
		it->known = true;
	}
}

void share_scan(struct share_state *sh)
{
	struct session *s = sh->s;
	struct scan_job *j = xcalloc(1, sizeof *j);
	struct torrent *t;
	struct dirent *e;
	char *dir = xstrdup(s->cfg->share_dir);

	for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = '\0';
	TAILQ_FOREACH(t, &s->torrents, link)
		if (t->shared)
			scan_add(j, xasprintf("%s/%s", t->data_dir, t->mi.name), t->mi.info_hash);
	DIR *d = opendir(dir);
	if (d == NULL && errno != ENOENT) /* a missing one was reported at start */
		log_warn("cannot read share_dir %s: %s", dir, strerror(errno));
	while (d && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			scan_add(j, xasprintf("%s/%s", dir, e->d_name), NULL);
	if (d)
		closedir(d);
	free(dir);
	j->sh = sh;
	j->item.work = scan_work;
	j->item.done = scan_done;
	workpool_submit(s->wp, &j->item);
}
