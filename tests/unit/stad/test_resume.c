#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bencode.h"
#include "resume.h"
#include "xmalloc.h"

static void make_rd(struct resume_data *rd, uint32_t pieces, uint32_t seed)
{
	memset(rd, 0, sizeof(*rd));
	bitfield_init(&rd->have, pieces);
	for (uint32_t i = 0; i < pieces; i++) {
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) & 1)
			bitfield_set(&rd->have, i);
	}
	for (int i = 0; i < SHA1_LEN; i++)
		rd->info_hash[i] = (uint8_t)(seed + (uint32_t)i * 7);
	rd->uploaded = 123456789012345ull;
	rd->downloaded = seed;
	rd->data_dir = xstrdup("/var/lib/sta/downloads");
	rd->added = 1700000000 + seed % 1000;
	rd->paused = seed & 1;
}

static void assert_rd_equal(const struct resume_data *a, const struct resume_data *b)
{
	assert_memory_equal(a->info_hash, b->info_hash, SHA1_LEN);
	assert_int_equal(a->have.nbits, b->have.nbits);
	assert_int_equal(bitfield_count(&a->have), bitfield_count(&b->have));
	for (uint32_t i = 0; i < a->have.nbits; i++)
		assert_int_equal(bitfield_test(&a->have, i), bitfield_test(&b->have, i));
	assert_true(a->uploaded == b->uploaded);
	assert_true(a->downloaded == b->downloaded);
	assert_string_equal(a->data_dir, b->data_dir);
	assert_int_equal(a->added, b->added);
	assert_int_equal(a->paused, b->paused);
}

static void test_round_trip(void **state)
{
	(void)state;
	static const uint32_t sizes[] = { 1, 7, 8, 9, 64, 65, 1000, RESUME_MAX_PIECES };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct resume_data rd, back;
		struct sta_buf b = STA_BUF_INIT;
		char err[256];

		make_rd(&rd, sizes[k], (uint32_t)k);
		if (k == 0)
			bitfield_set_all(&rd.have);
		resume_encode(&rd, &b);
		assert_true(resume_decode(b.data, b.len, &back, err, sizeof err));
		assert_rd_equal(&rd, &back);

		/* Canonical bencode: keys in order, so a strict decoder takes it. */
		struct be_doc doc;
		struct be_limits strict = be_default_limits;
		strict.strict_key_order = true;
		assert_int_equal(be_decode(&doc, b.data, b.len, &strict, NULL), BE_OK);
		be_doc_free(&doc);

		assert_true(resume_matches(&back, rd.info_hash, sizes[k], err, sizeof err));
		assert_false(resume_matches(&back, rd.info_hash, sizes[k] + 1, err, sizeof err));
		assert_non_null(strstr(err, "pieces"));
		back.info_hash[3] ^= 1;
		assert_false(resume_matches(&back, rd.info_hash, sizes[k], err, sizeof err));
		assert_non_null(strstr(err, "info-hash"));
		resume_data_free(&rd);
		resume_data_free(&back);
		buf_free(&b);
	}
}

/* Hand-built documents: the default fields, with one replaced or dropped. */
struct field {
	const char *key;
	const char *val; /* raw bencoded value; NULL drops the key */
	size_t len;
};

#define V(s) s, sizeof(s) - 1
static const struct field defaults[] = {
	{ "added", V("i1700000000e") },
	{ "data_dir", V("7:/srv/dl") },
	{ "downloaded", V("i5e") },
	{ "have", V("2:\xff\xc0") },
	{ "info_hash", V("20:aaaaaaaaaaaaaaaaaaaa") },
	{ "paused", V("i0e") },
	{ "pieces", V("i10e") },
	{ "uploaded", V("i7e") },
	{ "version", V("i1e") },
};
#define NFIELDS (sizeof(defaults) / sizeof(defaults[0]))

static void build(struct sta_buf *b, const char *key, const char *val, size_t len)
{
	buf_clear(b);
	buf_append_byte(b, 'd');
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &defaults[i];
		const char *v = f->val;
		size_t vlen = f->len;
		if (key && strcmp(key, f->key) == 0) {
			v = val;
			vlen = len;
		}
		if (!v)
			continue;
		be_enc_cstr(b, f->key);
		buf_append(b, v, vlen);
	}
	buf_append_byte(b, 'e');
}

static void test_hand_built_valid(void **state)
{
	(void)state;
	struct sta_buf b = STA_BUF_INIT;
	struct resume_data rd;
	char err[256];

	build(&b, NULL, NULL, 0);
	assert_true(resume_decode(b.data, b.len, &rd, err, sizeof err));
	assert_int_equal(rd.have.nbits, 10);
	assert_int_equal(bitfield_count(&rd.have), 10);
	assert_string_equal(rd.data_dir, "/srv/dl");
	assert_int_equal(rd.added, 1700000000);
	assert_false(rd.paused);
	resume_data_free(&rd);

	/* Unknown keys from a newer version are ignored. */
	build(&b, "info_hash", V("20:aaaaaaaaaaaaaaaaaaaa9:zzz_extrai1e"));
	assert_true(resume_decode(b.data, b.len, &rd, err, sizeof err));
	resume_data_free(&rd);
	buf_free(&b);
}

static void test_bad_fields_rejected(void **state)
{
	(void)state;
	static const struct {
		const char *key;
		const char *val;
		size_t len;
		const char *msg;
	} cases[] = {
		{ "have", V("2:\xff\xe0"), "spare bits" },
		{ "have", V("1:\xff"), "expected 2" },
		{ "have", V("3:\xff\xc0\x00"), "expected 2" },
		{ "have", V("i3e"), "have" },
		{ "have", NULL, 0, "have" },
		{ "pieces", V("i0e"), "pieces" },
		{ "pieces", V("i-1e"), "pieces" },
		{ "pieces", V("i16777217e"), "pieces" },
		{ "pieces", V("i9e"), "spare bits" },
		{ "pieces", V("i8e"), "expected 1" },
		{ "pieces", V("i17e"), "expected 3" },
		{ "info_hash", V("19:aaaaaaaaaaaaaaaaaaa"), "info_hash" },
		{ "info_hash", V("21:aaaaaaaaaaaaaaaaaaaaa"), "info_hash" },
		{ "info_hash", NULL, 0, "info_hash" },
		{ "version", V("i2e"), "version" },
		{ "version", NULL, 0, "version" },
		{ "paused", V("i2e"), "paused" },
		{ "paused", V("1:1"), "paused" },
		{ "uploaded", V("i-5e"), "uploaded" },
		{ "downloaded", V("le"), "downloaded" },
		{ "added", V("i-1e"), "added" },
		{ "data_dir", V("0:"), "data_dir" },
		{ "data_dir", V("6:srv/dl"), "data_dir" },
		{ "data_dir", V("4:/a\0b"), "data_dir" },
		{ "data_dir", V("i1e"), "data_dir" },
	};
	struct sta_buf b = STA_BUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resume_data rd;
		char err[256] = "";
		build(&b, cases[i].key, cases[i].val, cases[i].len);
		if (resume_decode(b.data, b.len, &rd, err, sizeof err))
			fail_msg("case %zu (%s) accepted", i, cases[i].key);
		if (!strstr(err, cases[i].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].msg);
		assert_null(rd.data_dir);
		assert_null(rd.have.words);
	}
	buf_free(&b);
}

static void test_bad_documents_rejected(void **state)
{
	(void)state;
	struct sta_buf b = STA_BUF_INIT;
	struct resume_data rd;
	char err[256];

	build(&b, NULL, NULL, 0);
	/* Every strict prefix fails. */
	for (size_t n = 0; n < b.len; n++)
		assert_false(resume_decode(b.data, n, &rd, err, sizeof err));
	buf_append_byte(&b, 'x');
	assert_false(resume_decode(b.data, b.len, &rd, err, sizeof err));
	assert_non_null(strstr(err, "bencode"));
	assert_false(resume_decode((const uint8_t *)"li1ee", 5, &rd, err, sizeof err));
	assert_non_null(strstr(err, "not a dictionary"));
	assert_false(resume_decode((const uint8_t *)"", 0, &rd, NULL, 0));
	/* Too many nodes: a file padded with junk keys. */
	buf_clear(&b);
	buf_append_byte(&b, 'd');
	for (int i = 0; i < 300; i++)
		buf_printf(&b, "4:k%03di0e", i);
	buf_append_byte(&b, 'e');
	assert_false(resume_decode(b.data, b.len, &rd, err, sizeof err));
	buf_free(&b);
}

struct tmpdir {
	char path[64];
};

static int setup_tmp(void **state)
{
	struct tmpdir *t = xcalloc(1, sizeof(*t));

	strcpy(t->path, "/tmp/sta-resume-XXXXXX");
	if (!mkdtemp(t->path))
		return -1;
	*state = t;
	return 0;
}

static int teardown_tmp(void **state)
{
	struct tmpdir *t = *state;
	DIR *d = opendir(t->path);
	struct dirent *e;

	chmod(t->path, 0700);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = xasprintf("%s/%s", t->path, e->d_name);
		if (unlink(p) < 0)
			rmdir(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(t->path);
	free(t);
	return 0;
}

/* Number of entries in dir (no temporary files may be left behind). */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_save_load(void **state)
{
	struct tmpdir *t = *state;
	struct resume_data rd, back;
	char err[256];
	char *path = xasprintf("%s/abc.resume", t->path);

	make_rd(&rd, 1234, 9);
	assert_int_equal(resume_save(path, &rd, err, sizeof err), 0);
	assert_int_equal(resume_load(path, &back, err, sizeof err), 0);
	assert_rd_equal(&rd, &back);
	resume_data_free(&back);
	/* Replacing an existing file works and leaves exactly one file. */
	rd.paused = !rd.paused;
	bitfield_set_all(&rd.have);
	assert_int_equal(resume_save(path, &rd, err, sizeof err), 0);
	assert_int_equal(resume_load(path, &back, err, sizeof err), 0);
	assert_rd_equal(&rd, &back);
	assert_int_equal(count_entries(t->path), 1);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	resume_data_free(&back);
	resume_data_free(&rd);
	free(path);
}

static void test_load_errors(void **state)
{
	struct tmpdir *t = *state;
	struct resume_data rd;
	char err[256];
	char *path = xasprintf("%s/x.resume", t->path);

	assert_int_equal(resume_load(path, &rd, err, sizeof err), -1);
	assert_int_equal(errno, ENOENT);

	write_file(path, "d7:versioni1ee", 14);
	assert_int_equal(resume_load(path, &rd, err, sizeof err), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "missing"));
	assert_null(rd.data_dir);

	/* Corrupt one byte of a good file: a flipped bit in "have"'s spare
	 * bits, and a cut-off file. */
	struct sta_buf b = STA_BUF_INIT;
	build(&b, NULL, NULL, 0);
	uint8_t *have = memmem(b.data, b.len, "\xff\xc0", 2);
	have[1] = 0xc1;
	write_file(path, b.data, b.len);
	assert_int_equal(resume_load(path, &rd, err, sizeof err), -1);
	assert_non_null(strstr(err, "spare bits"));
	write_file(path, b.data, b.len / 2);
	assert_int_equal(resume_load(path, &rd, err, sizeof err), -1);
	assert_non_null(strstr(err, "truncated"));

	/* Oversized: refused before reading. */
	assert_int_equal(truncate(path, (off_t)RESUME_MAX_FILE + 1), 0);
	assert_int_equal(resume_load(path, &rd, err, sizeof err), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "at most"));

	/* A directory is not a resume file. */
	assert_int_equal(resume_load(t->path, &rd, err, sizeof err), -1);
	buf_free(&b);
	free(path);
}

/* The write of the new file fails (file size limit: root is not exempt
 * from RLIMIT_FSIZE): the old file is untouched, the temporary removed. */
static void test_failed_write_keeps_old_file(void **state)
{
	struct tmpdir *t = *state;
	struct resume_data small, big, back;
	char err[256];
	char *path = xasprintf("%s/t.resume", t->path);
	struct rlimit old, lim;

	make_rd(&small, 10, 1);
	make_rd(&big, 100000, 2);
	assert_int_equal(resume_save(path, &small, err, sizeof err), 0);

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 4096; /* big's bitfield alone is 12500 bytes */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int rc = resume_save(path, &big, err, sizeof err);
	int e = errno;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);

	assert_int_equal(rc, -1);
	assert_int_equal(e, EFBIG);
	assert_non_null(strstr(err, "write"));
	assert_int_equal(count_entries(t->path), 1);
	assert_int_equal(resume_load(path, &back, err, sizeof err), 0);
	assert_rd_equal(&small, &back);
	resume_data_free(&back);
	resume_data_free(&small);
	resume_data_free(&big);
	free(path);
}

/* rename fails (the destination is a non-empty directory): error, and no
 * temporary left. */
static void test_failed_rename_cleans_up(void **state)
{
	struct tmpdir *t = *state;
	struct resume_data rd;
	char err[256];
	char *path = xasprintf("%s/d.resume", t->path);
	char *inner = xasprintf("%s/keep", path);

	make_rd(&rd, 10, 3);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file(inner, "x", 1);
	assert_int_equal(resume_save(path, &rd, err, sizeof err), -1);
	assert_int_equal(errno, EISDIR);
	assert_non_null(strstr(err, path));
	assert_int_equal(count_entries(t->path), 1);
	assert_int_equal(unlink(inner), 0);
	assert_int_equal(rmdir(path), 0);

	/* A missing directory: the temporary cannot even be created. */
	char *nodir = xasprintf("%s/missing/x.resume", t->path);
	assert_int_equal(resume_save(nodir, &rd, err, sizeof err), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "cannot write"));
	resume_data_free(&rd);
	free(nodir);
	free(inner);
	free(path);
}

/* Permission-based failure: only meaningful when not root. */
static void test_read_only_dir(void **state)
{
	struct tmpdir *t = *state;
	struct resume_data rd, back;
	char err[256];
	char *path = xasprintf("%s/ro.resume", t->path);

	if (geteuid() == 0) {
		print_message("running as root: read-only directory case skipped (covered by the "
		              "RLIMIT_FSIZE and rename cases)\n");
		free(path);
		skip();
	}
	make_rd(&rd, 10, 4);
	assert_int_equal(resume_save(path, &rd, err, sizeof err), 0);
	assert_int_equal(chmod(t->path, 0500), 0);
	rd.paused = !rd.paused;
	assert_int_equal(resume_save(path, &rd, err, sizeof err), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(resume_load(path, &back, err, sizeof err), 0);
	assert_int_equal(back.paused, !rd.paused);
	resume_data_free(&back);
	resume_data_free(&rd);
	free(path);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_tmp, teardown_tmp)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hand_built_valid),
		cmocka_unit_test(test_bad_fields_rejected),
		cmocka_unit_test(test_bad_documents_rejected),
		T(test_save_load),
		T(test_load_errors),
		T(test_failed_write_keeps_old_file),
		T(test_failed_rename_cleans_up),
		T(test_read_only_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
