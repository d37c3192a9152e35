#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hex.h"
#include "share_hash.h"
#include "xmalloc.h"

struct tree {
	char dir[64];      /* temp root */
	char *share;       /* dir/share: the directory being shared */
};

/* Sorted byte-wise: "a-c.txt" ('-' is 0x2d) comes before "a/..." ('/' is
 * 0x2f), though a per-directory walk would visit a/ first. */
static const struct {
	const char *path;
	size_t len;
} expect[] = {
	{ "a-c.txt", 5000 },
	{ "a/b/deep.bin", 70000 },
	{ "a/empty", 0 },
	{ "big.bin", 300000 },
	{ "z", 1 },
};
#define NEXPECT (sizeof(expect) / sizeof(expect[0]))

static uint8_t byte_at(size_t file, size_t i)
{
	return (uint8_t)(i * 31 + file * 7 + (i >> 8));
}

static void write_file(const char *path, size_t file, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	for (size_t i = 0; i < len; i++)
		fputc(byte_at(file, i), f);
	fclose(f);
}

static int setup(void **state)
{
	struct tree *t = xcalloc(1, sizeof(*t));

	strcpy(t->dir, "/tmp/sta-share-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	t->share = xasprintf("%s/share", t->dir);
	char *p;
	mkdir(t->share, 0755);
	p = xasprintf("%s/a", t->share);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/a/b", t->share);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/emptydir", t->share);
	mkdir(p, 0755);
	free(p);
	for (size_t i = 0; i < NEXPECT; i++) {
		p = xasprintf("%s/%s", t->share, expect[i].path);
		write_file(p, i, expect[i].len);
		free(p);
	}
	/* Symlinks, inside and outside the tree, are not shared. */
	p = xasprintf("%s/outside.txt", t->dir);
	write_file(p, 99, 10);
	char *l = xasprintf("%s/link-out", t->share);
	assert_int_equal(symlink(p, l), 0);
	free(l);
	free(p);
	l = xasprintf("%s/a/link-in", t->share);
	assert_int_equal(symlink("../z", l), 0);
	free(l);
	*state = t;
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
	struct tree *t = *state;

	nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(t->share);
	free(t);
	return 0;
}

/* The content stream in expected order, hashed here independently. */
static void check_pieces(const struct metainfo *mi)
{
	size_t total = 0;

	for (size_t i = 0; i < NEXPECT; i++)
		total += expect[i].len;
	uint8_t *all = xmalloc(total), *p = all;
	for (size_t i = 0; i < NEXPECT; i++)
		for (size_t k = 0; k < expect[i].len; k++)
			*p++ = byte_at(i, k);
	assert_int_equal(mi->total_length, total);
	for (uint32_t i = 0; i < mi->n_pieces; i++) {
		uint8_t h[SHA1_LEN];
		uint64_t off = (uint64_t)i * mi->piece_length;
		sha1(all + off, metainfo_piece_size(mi, i), h);
		assert_memory_equal(h, mi->pieces + (size_t)i * SHA1_LEN, SHA1_LEN);
	}
	free(all);
}

/* libtorrent (python3-libtorrent, /usr/bin/python3 only) reads the file:
 * returns its info-hash as hex, or NULL when libtorrent is unavailable. */
static char *libtorrent_info_hash(const char *torrent_path)
{
	char *cmd = xasprintf("/usr/bin/python3 -c 'import sys, libtorrent as lt; "
	                      "t = lt.torrent_info(sys.argv[1]); "
	                      "print(str(t.info_hash()), t.num_files())' %s 2>/dev/null",
	                      torrent_path);
	FILE *p = popen(cmd, "r");
	char line[128] = "";
	free(cmd);
	if (!p)
		return NULL;
	char *ok = fgets(line, sizeof line, p);
	int st = pclose(p);
	if (!ok || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return NULL;
	line[strcspn(line, "\n")] = '\0';
	return xstrdup(line);
}

static void test_directory(void **state)
{
	struct tree *t = *state;
	struct share_hash_job job;
	static const char *const urls[] = { "http://127.0.0.1:6969/announce" };
	struct mi_tier tier = { (char **)urls, 1 };

	share_hash_init(&job, t->share, NULL);
	job.tiers = &tier;
	job.n_tiers = 1;
	job.created_by = "sta-test";
	if (share_hash_run(&job) != 0)
		fail_msg("%s", job.err);
	assert_int_equal(atomic_load(&job.bytes_done), atomic_load(&job.bytes_total));
	assert_int_equal(atomic_load(&job.bytes_total), 375001);
	assert_string_equal(job.mi.name, "share");
	assert_true(job.mi.multi_file);
	assert_int_equal(job.mi.n_files, NEXPECT);
	for (size_t i = 0; i < NEXPECT; i++) {
		assert_string_equal(job.mi.files[i].path, expect[i].path);
		assert_int_equal(job.mi.files[i].length, expect[i].len);
	}
	assert_int_equal(job.mi.piece_length, metainfo_choose_piece_length(375001));
	check_pieces(&job.mi);
	assert_int_equal(job.mi.n_tiers, 1);

	/* The bytes are the torrent that was parsed. */
	struct metainfo again;
	struct mi_error me;
	assert_true(metainfo_parse(job.torrent.data, job.torrent.len, &again, &me));
	assert_memory_equal(again.info_hash, job.mi.info_hash, SHA1_LEN);
	metainfo_free(&again);

	/* A real client agrees on the info-hash. */
	char *tpath = xasprintf("%s/share.torrent", t->dir);
	FILE *f = fopen(tpath, "wb");
	assert_int_equal(fwrite(job.torrent.data, 1, job.torrent.len, f), job.torrent.len);
	fclose(f);
	char *lt = libtorrent_info_hash(tpath);
	if (lt) {
		char hex[2 * SHA1_LEN + 1], want[64];
		hex_encode(job.mi.info_hash, SHA1_LEN, hex);
		snprintf(want, sizeof want, "%s %zu", hex, NEXPECT);
		assert_string_equal(lt, want);
		free(lt);
	} else {
		print_message("python3-libtorrent unavailable: info-hash cross-check skipped\n");
	}
	free(tpath);
	share_hash_free(&job);
}

static void test_single_file(void **state)
{
	struct tree *t = *state;
	struct share_hash_job job;
	char *p = xasprintf("%s/big.bin", t->share);

	share_hash_init(&job, p, NULL);
	assert_int_equal(share_hash_run(&job), 0);
	assert_false(job.mi.multi_file);
	assert_string_equal(job.mi.name, "big.bin");
	assert_int_equal(job.mi.total_length, 300000);
	for (uint32_t i = 0; i < job.mi.n_pieces; i++) {
		uint8_t *buf = xmalloc(job.mi.piece_length), h[SHA1_LEN];
		uint32_t size = metainfo_piece_size(&job.mi, i);
		for (uint32_t k = 0; k < size; k++)
			buf[k] = byte_at(3, (size_t)i * job.mi.piece_length + k);
		sha1(buf, size, h);
		assert_memory_equal(h, job.mi.pieces + (size_t)i * SHA1_LEN, SHA1_LEN);
		free(buf);
	}
	share_hash_free(&job);
	free(p);
}

static void test_errors(void **state)
{
	struct tree *t = *state;
	struct share_hash_job job;

	char *p = xasprintf("%s/missing", t->share);
	share_hash_init(&job, p, NULL);
	assert_int_equal(share_hash_run(&job), -1);
	assert_non_null(strstr(job.err, "missing"));
	assert_int_equal(job.torrent.len, 0);
	assert_null(job.mi.raw);
	share_hash_free(&job);
	free(p);

	/* Only empty files and directories: nothing to share. */
	p = xasprintf("%s/emptydir", t->share);
	share_hash_init(&job, p, NULL);
	assert_int_equal(share_hash_run(&job), -1);
	assert_non_null(strstr(job.err, "nothing to share"));
	share_hash_free(&job);
	free(p);

	/* A name metainfo refuses (backslash) fails with its message. */
	p = xasprintf("%s/bad\\name", t->share);
	write_file(p, 0, 10);
	share_hash_init(&job, t->share, NULL);
	assert_int_equal(share_hash_run(&job), -1);
	assert_non_null(strstr(job.err, "\\"));
	share_hash_free(&job);
	free(p);
}

struct pool_ctx {
	pthread_t loop;
	int done;
	int status;
	struct event_base *base;
};

static struct pool_ctx pctx;

static void on_done(struct work_item *it)
{
	struct share_hash_job *job = container_of(it, struct share_hash_job, item);

	assert_true(pthread_equal(pthread_self(), pctx.loop));
	pctx.done++;
	pctx.status = it->status;
	assert_int_equal(atomic_load(&job->bytes_done), 375001);
	event_base_loopbreak(pctx.base);
}

static void test_on_workpool(void **state)
{
	struct tree *t = *state;
	struct share_hash_job job;

	pctx = (struct pool_ctx){ .loop = pthread_self(), .base = event_base_new() };
	struct workpool *wp = workpool_new(pctx.base, 2);
	assert_non_null(wp);
	char *slashed = xasprintf("%s//", t->share);
	share_hash_init(&job, slashed, on_done);
	free(slashed);
	workpool_submit(wp, &job.item);
	assert_int_equal(event_base_dispatch(pctx.base), 0);
	assert_int_equal(pctx.done, 1);
	assert_int_equal(pctx.status, 0);
	assert_int_equal(job.mi.n_files, NEXPECT);
	assert_string_equal(job.mi.name, "share");
	workpool_free(wp);
	share_hash_free(&job);
	event_base_free(pctx.base);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_directory),
		T(test_single_file),
		T(test_errors),
		T(test_on_workpool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
