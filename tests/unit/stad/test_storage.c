#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "metainfo.h"
#include "sha1.h"
#include "storage.h"
#include "xmalloc.h"

#define PL MI_MIN_PIECE

struct fixture {
	char dir[64];
	struct metainfo mi;
	uint8_t *content; /* the torrent's whole byte stream */
};

/* Files spanning piece boundaries, a 0-byte file, one smaller than a block,
 * nested directories. */
static const struct mi_create_file multi_files[] = {
	{ "a/b/one.bin", 20000 },
	{ "a/empty", 0 },
	{ "tiny.txt", 100 },
	{ "c/d/e/big.bin", 70000 },
	{ "z.bin", 2 * PL + 5 },
};

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

static void make_torrent(struct fixture *f, const char *name, bool multi,
                         const struct mi_create_file *files, uint32_t n_files)
{
	uint64_t total = 0;
	struct mi_error me;
	struct sta_buf out = STA_BUF_INIT;

	for (uint32_t i = 0; i < n_files; i++)
		total += files[i].length;
	f->content = xmalloc(total);
	uint32_t seed = 42;
	for (uint64_t i = 0; i < total; i++)
		f->content[i] = (uint8_t)lcg(&seed);
	uint32_t n_pieces = (uint32_t)((total + PL - 1) / PL);
	uint8_t *hashes = xmalloc((size_t)n_pieces * SHA1_LEN);
	for (uint32_t p = 0; p < n_pieces; p++) {
		uint64_t off = (uint64_t)p * PL;
		uint64_t len = total - off < PL ? total - off : PL;
		sha1(f->content + off, len, hashes + (size_t)p * SHA1_LEN);
	}
	struct mi_create c = {
		.name = name, .multi_file = multi, .files = files, .n_files = n_files,
		.piece_length = PL, .pieces = hashes, .n_pieces = n_pieces,
	};
	if (!metainfo_create(&c, &out, &f->mi, &me))
		fail_msg("metainfo_create: %s", me.msg);
	buf_free(&out);
	free(hashes);
}

static int setup_dir(struct fixture *f)
{
	strcpy(f->dir, "/tmp/sta-storage-XXXXXX");
	return mkdtemp(f->dir) ? 0 : -1;
}

static int setup_multi(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	if (setup_dir(f) < 0)
		return -1;
	make_torrent(f, "tor", true, multi_files, 5);
	*state = f;
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	chmod(f->dir, 0700);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	metainfo_free(&f->mi);
	free(f->content);
	free(f);
	return 0;
}

static char *fpath(const struct fixture *f, const char *rel)
{
	return xasprintf("%s/%s", f->dir, rel);
}

static off_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static void write_all_random_order(struct fixture *f, struct storage *st)
{
	uint32_t n = f->mi.n_pieces;
	uint32_t *order = xcalloc(n, sizeof(*order));
	uint32_t seed = 7;
	char err[256];

	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = lcg(&seed) % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t p = order[i];
		int rc = storage_write_verified(st, p, f->content + (size_t)p * PL, err, sizeof err);
		if (rc != 1)
			fail_msg("piece %u: rc %d: %s", p, rc, err);
	}
	free(order);
}

static void check_all_pieces(struct fixture *f, struct storage *st)
{
	uint8_t h[SHA1_LEN];
	uint8_t *buf = xmalloc(PL);
	char err[256];

	for (uint32_t p = 0; p < f->mi.n_pieces; p++) {
		uint32_t size = metainfo_piece_size(&f->mi, p);
		assert_int_equal(storage_hash_piece(st, p, h, err, sizeof err), 0);
		assert_memory_equal(h, f->mi.pieces + (size_t)p * SHA1_LEN, SHA1_LEN);
		assert_int_equal(storage_read(st, p, 0, buf, size, err, sizeof err), 0);
		assert_memory_equal(buf, f->content + (size_t)p * PL, size);
	}
	free(buf);
}

static void test_open_creates_layout(void **state)
{
	struct fixture *f = *state;
	struct storage *st;
	char err[256];

	assert_int_equal(storage_open(&f->mi, f->dir, &st, err, sizeof err), 0);
	assert_false(storage_had_data(st));
	for (size_t i = 0; i < 5; i++) {
		char *rel = xasprintf("tor/%s", multi_files[i].path);
		char *p = fpath(f, rel);
		assert_int_equal(file_size(p), (off_t)multi_files[i].length);
		free(rel);
		free(p);
	}
	storage_close(st);
}

static void test_write_random_order_read_back(void **state)
{
	struct fixture *f = *state;
	struct storage *st;
	char err[256];

	assert_int_equal(storage_open(&f->mi, f->dir, &st, err, sizeof err), 0);
	write_all_random_order(f, st);
	assert_int_equal(storage_sync(st, err, sizeof err), 0);
	check_all_pieces(f, st);

	/* Sub-ranges crossing file boundaries: piece 1 holds the end of
	 * one.bin, tiny.txt and the start of big.bin. */
	uint8_t buf[5000];
	uint32_t off = 20000 - PL - 10;
	assert_int_equal(storage_read(st, 1, off, buf, 200, err, sizeof err), 0);
	assert_memory_equal(buf, f->content + PL + off, 200);
	uint32_t last = f->mi.n_pieces - 1, lsize = metainfo_piece_size(&f->mi, last);
	assert_int_equal(storage_read(st, last, lsize - 5, buf, 5, err, sizeof err), 0);
	assert_memory_equal(buf, f->content + (size_t)last * PL + lsize - 5, 5);

	/* The files themselves hold the stream, byte for byte. */
	uint64_t pos = 0;
	for (size_t i = 0; i < 5; i++) {
		char *rel = xasprintf("tor/%s", multi_files[i].path);
		char *p = fpath(f, rel);
		FILE *fp = fopen(p, "rb");
		assert_non_null(fp);
		uint8_t *data = xmalloc(multi_files[i].length + 1);
		assert_int_equal(fread(data, 1, multi_files[i].length + 1, fp), multi_files[i].length);
		assert_memory_equal(data, f->content + pos, multi_files[i].length);
		pos += multi_files[i].length;
		fclose(fp);
		free(data);
		free(rel);
		free(p);
	}
	storage_close(st);
}

static void test_bad_hash_not_written(void **state)
{
	struct fixture *f = *state;
	struct storage *st;
	char err[256];
	uint8_t *bad = xmalloc(PL), h[SHA1_LEN];

	assert_int_equal(storage_open(&f->mi, f->dir, &st, err, sizeof err), 0);
	memcpy(bad, f->content + PL, PL);
	bad[100] ^= 1;
	assert_int_equal(storage_write_verified(st, 1, bad, err, sizeof err), 0);
	assert_non_null(strstr(err, "hash mismatch"));
	/* Nothing reached the disk: the piece is still all zeros. */
	assert_int_equal(storage_read(st, 1, 0, bad, PL, err, sizeof err), 0);
	for (uint32_t i = 0; i < PL; i++)
		assert_int_equal(bad[i], 0);
	assert_int_equal(storage_hash_piece(st, 1, h, err, sizeof err), 0);
	assert_memory_not_equal(h, f->mi.pieces + SHA1_LEN, SHA1_LEN);
	free(bad);
	storage_close(st);
}

static void test_read_bounds(void **state)
{
	struct fixture *f = *state;
	struct storage *st;
	char err[256];
	uint8_t buf[16], h[SHA1_LEN];
	uint32_t last = f->mi.n_pieces - 1, lsize = metainfo_piece_size(&f->mi, last);

	assert_int_equal(storage_open(&f->mi, f->dir, &st, err, sizeof err), 0);
	assert_int_equal(storage_read(st, 0, PL - 4, buf, 5, err, sizeof err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(storage_read(st, 0, PL, buf, 1, err, sizeof err), -1);
	assert_int_equal(storage_read(st, 0, 0, buf, 0, err, sizeof err), -1);
	assert_int_equal(storage_read(st, 0, UINT32_MAX, buf, 2, err, sizeof err), -1);
	assert_int_equal(storage_read(st, last, lsize - 1, buf, 2, err, sizeof err), -1);
	assert_int_equal(storage_read(st, last + 1, 0, buf, 1, err, sizeof err), -1);
	assert_int_equal(storage_read(st, UINT32_MAX, 0, buf, 1, NULL, 0), -1);
	assert_int_equal(storage_hash_piece(st, last + 1, h, err, sizeof err), -1);
	assert_int_equal(storage_write_piece(st, last + 1, buf, err, sizeof err), -1);
	assert_int_equal(storage_write_verified(st, last + 1, buf, err, sizeof err), -1);
	assert_int_equal(storage_piece_has_data(st, last + 1, err, sizeof err), -1);
	storage_close(st);
}

/* A file cut short behind our back: reads past its end are errors. */
static void test_short_file_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct storage *st;
	char err[256];
	uint8_t buf[PL];

	assert_int_equal(storage_open(&f->mi, f->dir, &st, err, sizeof err), 0);
	char *p = fpath(f, "tor/z.bin");
	assert_int_equal(truncate(p, 10), 0);
	uint32_t last = f->mi.n_pieces - 1;
	assert_int_equal(storage_read(st, last, 0, buf, metainfo_piece_size(&f->mi, last), err,
	                              sizeof err), -1);
	assert_int_equal(errno, EIO);
	assert_non_null(strstr(err, "z.bin"));
	free(p);
	storage_close(st);
}

static bool fs_reports_holes(const char *dir)
{
	char *p = xasprintf("%s/.holeprobe", dir);
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	bool holes = fd >= 0 && ftruncate(fd, 1 << 20) == 0 && lseek(fd, 0, SEEK_DATA) < 0 &&
	             errno == ENXIO;

	if (fd >= 0)
		close(fd);
	unlink(p);
	free(p);
	return holes;
}

static void test_piece_has_data(void **state)
{
	struct fixture *f = *state;
	struct storage *st;
	char err[256];

	assert_int_equal(storage_open(&f->mi, f->dir, &st, err, sizeof err), 0);
	bool holes = fs_reports_holes(f->dir);
	if (holes)
		for (uint32_t p = 0; p < f->mi.n_pieces; p++)
			assert_int_equal(storage_piece_has_data(st, p, err, sizeof err), 0);
	else
		print_message("file system does not report holes; only the positive case is checked\n");
	assert_int_equal(storage_write_verified(st, 3, f->content + 3 * PL, err, sizeof err), 1);
	assert_int_equal(storage_piece_has_data(st, 3, err, sizeof err), 1);
	/* Pieces 2 and 4 share file system blocks with piece 3 (big.bin's
	 * pieces are not block-aligned), so only pieces in other files are
	 * still certain holes. */
	if (holes) {
		assert_int_equal(storage_piece_has_data(st, 0, err, sizeof err), 0);
		assert_int_equal(storage_piece_has_data(st, 6, err, sizeof err), 0);
	}
	storage_close(st);
}

static void test_reopen_keeps_data(void **state)
{
	struct fixture *f = *state;
	struct storage *st;
	char err[256];

	assert_int_equal(storage_open(&f->mi, f->dir, &st, err, sizeof err), 0);
	write_all_random_order(f, st);
	storage_close(st);
	assert_int_equal(storage_open(&f->mi, f->dir, &st, err, sizeof err), 0);
	assert_true(storage_had_data(st));
	check_all_pieces(f, st);
	storage_close(st);
}

static void test_existing_longer_file_refused(void **state)
{
	struct fixture *f = *state;
	struct storage *st = NULL;
	char err[256];

	char *d = fpath(f, "tor");
	assert_int_equal(mkdir(d, 0755), 0);
	char *p = fpath(f, "tor/tiny.txt");
	FILE *fp = fopen(p, "wb");
	assert_non_null(fp);
	for (int i = 0; i < 150; i++)
		fputc('u', fp);
	fclose(fp);

	assert_int_equal(storage_open(&f->mi, f->dir, &st, err, sizeof err), -1);
	assert_int_equal(errno, EFBIG);
	assert_non_null(strstr(err, "tiny.txt"));
	assert_non_null(strstr(err, "refusing"));
	assert_null(st);
	assert_int_equal(file_size(p), 150);
	fp = fopen(p, "rb");
	for (int i = 0; i < 150; i++)
		assert_int_equal(fgetc(fp), 'u');
	fclose(fp);
	free(p);
	free(d);
}

/* A shorter existing file (a share in progress) is extended, not cut, and
 * its bytes stay: the pieces it completes hash correctly. */
static void test_existing_shorter_file_kept(void **state)
{
	struct fixture *f = *state;
	struct storage *st;
	char err[256];
	uint8_t h[SHA1_LEN];

	char *d = fpath(f, "tor/a/b");
	char *d1 = fpath(f, "tor"), *d2 = fpath(f, "tor/a");
	assert_int_equal(mkdir(d1, 0755), 0);
	assert_int_equal(mkdir(d2, 0755), 0);
	assert_int_equal(mkdir(d, 0755), 0);
	char *p = fpath(f, "tor/a/b/one.bin");
	FILE *fp = fopen(p, "wb");
	assert_int_equal(fwrite(f->content, 1, PL + 10, fp), PL + 10);
	fclose(fp);

	assert_int_equal(storage_open(&f->mi, f->dir, &st, err, sizeof err), 0);
	assert_true(storage_had_data(st));
	assert_int_equal(file_size(p), 20000);
	assert_int_equal(storage_hash_piece(st, 0, h, err, sizeof err), 0);
	assert_memory_equal(h, f->mi.pieces, SHA1_LEN);
	assert_int_equal(storage_hash_piece(st, 1, h, err, sizeof err), 0);
	assert_memory_not_equal(h, f->mi.pieces + SHA1_LEN, SHA1_LEN);
	storage_close(st);
	free(p);
	free(d);
	free(d1);
	free(d2);
}

static void replace_path(struct metainfo *mi, uint32_t i, const char *path)
{
	free(mi->files[i].path);
	mi->files[i].path = xstrdup(path);
}

static void test_hostile_paths_rejected(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"../escape", "a/../../escape", "/etc/passwd", "a//b", "a/./b", "", "a\\b", "a/",
	};
	struct storage *st = NULL;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		replace_path(&f->mi, 4, bad[i]);
		err[0] = '\0';
		assert_int_equal(storage_open(&f->mi, f->dir, &st, err, sizeof err), -1);
		assert_null(st);
		assert_int_equal(errno, EINVAL);
		assert_true(err[0] != '\0');
	}
	/* Nothing was created next to the base directory. */
	char *esc = xasprintf("%s/../escape", f->dir);
	assert_int_equal(access(esc, F_OK), -1);
	free(esc);
	free(f->mi.name);
	f->mi.name = xstrdup("..");
	replace_path(&f->mi, 4, "z.bin");
	assert_int_equal(storage_open(&f->mi, f->dir, &st, err, sizeof err), -1);
}

static void test_symlinks_refused(void **state)
{
	struct fixture *f = *state;
	struct storage *st = NULL;
	char err[256];

	/* A symlinked directory on the way out of the tree. */
	char *outside = xasprintf("%s-outside", f->dir);
	assert_int_equal(mkdir(outside, 0755), 0);
	char *tor = fpath(f, "tor");
	assert_int_equal(mkdir(tor, 0755), 0);
	char *link = fpath(f, "tor/c");
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(storage_open(&f->mi, f->dir, &st, err, sizeof err), -1);
	assert_int_equal(errno, ENOTDIR);
	char *leaked = xasprintf("%s/d", outside);
	assert_int_equal(access(leaked, F_OK), -1);
	assert_int_equal(unlink(link), 0);

	/* A symlink in place of a file. */
	char *target = xasprintf("%s/victim", outside);
	close(open(target, O_CREAT | O_WRONLY, 0644));
	char *flink = fpath(f, "tor/tiny.txt");
	assert_int_equal(unlink(flink), 0); /* created by the first attempt */
	assert_int_equal(symlink(target, flink), 0);
	assert_int_equal(storage_open(&f->mi, f->dir, &st, err, sizeof err), -1);
	assert_non_null(strstr(err, "symlink"));
	assert_int_equal(file_size(target), 0);

	unlink(target);
	rmdir(outside);
	free(flink);
	free(target);
	free(leaked);
	free(link);
	free(tor);
	free(outside);
}

static void test_single_file(void **state)
{
	(void)state;
	struct fixture f = { 0 };
	static const struct mi_create_file one[] = { { NULL, 3 * PL + 1 } };
	struct storage *st;
	char err[256];

	assert_int_equal(setup_dir(&f), 0);
	make_torrent(&f, "single.iso", false, one, 1);
	char *base = xasprintf("%s/deeper/dl/", f.dir);
	assert_int_equal(storage_open(&f.mi, base, &st, err, sizeof err), 0);
	char *p = fpath(&f, "deeper/dl/single.iso");
	assert_int_equal(file_size(p), 3 * PL + 1);
	write_all_random_order(&f, st);
	check_all_pieces(&f, st);
	storage_close(st);
	free(p);
	free(base);
	struct fixture *fp = xmalloc(sizeof(*fp));
	*fp = f;
	teardown((void **)&fp);
}

/* Pages of [off, off + len) of path in the page cache. */
static size_t resident_pages(const char *path, off_t off, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = open(path, O_RDONLY);
	size_t n = (len + (size_t)pg - 1) / (size_t)pg, count = 0;
	unsigned char vec[64];

	assert_true(fd >= 0 && n <= sizeof vec && off % pg == 0);
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);
	assert_true(m != MAP_FAILED);
	assert_int_equal(mincore(m, len, vec), 0);
	for (size_t i = 0; i < n; i++)
		count += vec[i] & 1;
	munmap(m, len);
	close(fd);
	return count;
}

/* Whether dir's file system takes an aligned O_DIRECT write and keeps
 * such writes out of the page cache (tmpfs either refuses O_DIRECT or,
 * since Linux 6.6, takes it into the page cache, its only storage). */
static bool direct_bypasses_cache(const char *dir)
{
	struct statfs sfs;

	if (statfs(dir, &sfs) != 0 || sfs.f_type == TMPFS_MAGIC)
		return false;
	char *path = xasprintf("%s/.direct-probe", dir);
	void *blk = xmalloc_aligned(STORAGE_DIRECT_ALIGN, STORAGE_DIRECT_ALIGN);
	/* Past the interposed open(): this asks the file system itself. */
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_DIRECT, 0600);
	bool ok = fd >= 0 && pwrite(fd, memset(blk, 0, STORAGE_DIRECT_ALIGN), STORAGE_DIRECT_ALIGN,
	                            0) == STORAGE_DIRECT_ALIGN;

	if (fd >= 0)
		close(fd);
	unlink(path);
	free(path);
	free(blk);
	return ok;
}

/* open() interposed for the whole test program: counts O_DIRECT opens
 * and, with refuse_direct, fails them with EINVAL as a file system without
 * O_DIRECT support does. */
static bool refuse_direct;
static unsigned direct_opens;

int open(const char *path, int flags, ...)
{
	int mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	if (flags & O_DIRECT) {
		direct_opens++;
		if (refuse_direct) {
			errno = EINVAL;
			return -1;
		}
	}
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

/* Writes every piece of a single-file torrent under base (direct on or
 * off) from 4 KiB-aligned buffers, checks what the page cache holds
 * where O_DIRECT works, then reads it all back. With refuse_direct set,
 * the first O_DIRECT open fails and every write goes buffered. */
static void direct_case(const char *base, bool direct)
{
	struct fixture f = { 0 };
	static const struct mi_create_file one[] = { { NULL, 3 * PL + 1000 } };
	struct storage *st;
	char err[256];

	snprintf(f.dir, sizeof f.dir, "%s/sta-direct-XXXXXX", base);
	assert_non_null(mkdtemp(f.dir));
	make_torrent(&f, "d.bin", false, one, 1);
	assert_int_equal(storage_open(&f.mi, f.dir, &st, err, sizeof err), 0);
	storage_set_direct(st, direct);
	uint8_t *buf = xmalloc_aligned(STORAGE_DIRECT_ALIGN, PL);
	direct_opens = 0;
	for (uint32_t p = 0; p < f.mi.n_pieces; p++) {
		memcpy(buf, f.content + (size_t)p * PL, metainfo_piece_size(&f.mi, p));
		assert_int_equal(storage_write_verified(st, p, buf, err, sizeof err), 1);
	}
	/* One try per full piece, or a single one when refused: it sticks. */
	assert_int_equal(direct_opens, !direct ? 0 : refuse_direct ? 1 : 3);
	char *path = fpath(&f, "d.bin");
	if (direct_bypasses_cache(f.dir)) {
		/* Full pieces skipped the page cache; the short last one did not. */
		bool bypassed = direct && !refuse_direct;
		assert_int_equal(resident_pages(path, 0, 3 * PL), bypassed ? 0 : 3 * PL / 4096);
		assert_int_not_equal(resident_pages(path, 3 * PL, 1000), 0);
	}
	assert_int_equal(storage_sync(st, err, sizeof err), 0);
	check_all_pieces(&f, st);
	storage_close(st);
	free(buf);
	free(path);
	struct fixture *fp = xmalloc(sizeof(*fp));
	*fp = f;
	teardown((void **)&fp);
}

static void test_direct_writes(void **state)
{
	(void)state;
	direct_case("/tmp", true);
	direct_case("/tmp", false);
	refuse_direct = true;
	direct_case("/tmp", true);
	refuse_direct = false;
	/* tmpfs: refused (before Linux 6.6) or taken, the same writes work. */
	struct stat sb;
	if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode))
		direct_case("/dev/shm", true);
}

/* More files than descriptor slots, hashed by several threads at once:
 * evictions must never close a descriptor another thread is using. */
#define NMANY 80

struct many_ctx {
	struct fixture *f;
	struct storage *st;
	unsigned start;
	int failures;
};

static void *hash_worker(void *arg)
{
	struct many_ctx *c = arg;
	uint8_t h[SHA1_LEN];

	for (unsigned round = 0; round < 20; round++) {
		for (uint32_t i = 0; i < c->f->mi.n_pieces; i++) {
			uint32_t p = (i + c->start) % c->f->mi.n_pieces;
			if (storage_hash_piece(c->st, p, h, NULL, 0) != 0 ||
			    memcmp(h, c->f->mi.pieces + (size_t)p * SHA1_LEN, SHA1_LEN) != 0)
				c->failures++;
		}
	}
	return NULL;
}

static void test_many_files_concurrent(void **state)
{
	(void)state;
	struct fixture f = { 0 };
	struct mi_create_file files[NMANY];
	char names[NMANY][16];
	struct storage *st;
	char err[256];

	for (int i = 0; i < NMANY; i++) {
		snprintf(names[i], sizeof names[i], "d%d/f%02d", i % 3, i);
		files[i] = (struct mi_create_file){ names[i], 1000u + (uint64_t)i * 37 };
	}
	assert_int_equal(setup_dir(&f), 0);
	make_torrent(&f, "many", true, files, NMANY);
	assert_true(f.mi.n_files > STORAGE_MAX_OPEN);
	assert_int_equal(storage_open(&f.mi, f.dir, &st, err, sizeof err), 0);
	write_all_random_order(&f, st);

	pthread_t th[4];
	struct many_ctx ctx[4];
	for (unsigned i = 0; i < 4; i++) {
		ctx[i] = (struct many_ctx){ &f, st, i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, hash_worker, &ctx[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(ctx[i].failures, 0);
	}
	assert_int_equal(storage_sync(st, err, sizeof err), 0);
	storage_close(st);
	struct fixture *fp = xmalloc(sizeof(*fp));
	*fp = f;
	teardown((void **)&fp);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_multi, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_creates_layout),
		T(test_write_random_order_read_back),
		T(test_bad_hash_not_written),
		T(test_read_bounds),
		T(test_short_file_is_an_error),
		T(test_piece_has_data),
		T(test_reopen_keeps_data),
		T(test_existing_longer_file_refused),
		T(test_existing_shorter_file_kept),
		T(test_hostile_paths_rejected),
		T(test_symlinks_refused),
		cmocka_unit_test(test_single_file),
		cmocka_unit_test(test_direct_writes),
		cmocka_unit_test(test_many_files_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
