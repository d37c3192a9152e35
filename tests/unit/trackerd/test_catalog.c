#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "catalog.h"
#include "fileio.h"
#include "hex.h"
#include "swarm.h"

/* A one-file torrent of the given name and size; its info-hash depends on
 * salt too. */
static void make_torrent(struct metainfo *mi, const char *name, uint64_t size, int salt)
{
	char buf[512];
	uint8_t pieces[20] = { (uint8_t)salt, (uint8_t)(salt >> 8) };
	struct mi_error err;
	int n = snprintf(buf, sizeof buf, "d4:infod6:lengthi%llue4:name%zu:%s12:piece lengthi"
	                 "16384e6:pieces20:", (unsigned long long)size, strlen(name), name);
	memcpy(buf + n, pieces, 20);
	memcpy(buf + n + 20, "ee", 2);
	assert_true(metainfo_parse((uint8_t *)buf, (size_t)n + 22, mi, &err));
}

static void add(struct catalog *cat, const struct metainfo *mi,
                enum catalog_add_result want)
{
	enum catalog_add_result r;

	catalog_add(cat, &mi, 1, NULL, &r);
	assert_int_equal(r, want);
}

static struct catalog_page query(struct catalog *cat, struct swarm_table *sw, const char *qs)
{
	struct catalog_query q;
	struct catalog_page p;
	char err[160];

	assert_true(catalog_query_parse(qs, strlen(qs), &q, err, sizeof err));
	err[0] = '\0';
	assert_true(catalog_query(cat, 0, sw, &q, &p, err, sizeof err));
	return p;
}

static char dir[] = "/tmp/sta-test-catalog-XXXXXX";

static void rm_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_add_fetch_reload(void **state)
{
	struct metainfo a, b;
	struct sta_buf out = STA_BUF_INIT;

	assert_non_null(mkdtemp(dir));
	make_torrent(&a, "alpha.iso", 1000, 1);
	make_torrent(&b, "beta.iso", 2000, 2);
	struct catalog *cat = catalog_open(dir, 1);
	assert_non_null(cat);
	add(cat, &a, CATALOG_ADDED);
	add(cat, &a, CATALOG_EXISTS);
	const struct metainfo *both[] = { &a, &b };
	enum catalog_add_result r[2];
	catalog_add(cat, both, 2, NULL, r);
	assert_int_equal(r[0], CATALOG_EXISTS);
	assert_int_equal(r[1], CATALOG_ADDED);
	assert_int_equal(catalog_count(cat), 2);
	assert_true(catalog_fetch(cat, 0, b.info_hash, &out));
	assert_int_equal(out.len, b.raw_len);
	assert_memory_equal(out.data, b.raw, b.raw_len);
	catalog_free(cat);

	/* Everything is in the database: a new open finds it. */
	cat = catalog_open(dir, 2);
	assert_non_null(cat);
	assert_int_equal(catalog_count(cat), 2);
	buf_clear(&out);
	assert_true(catalog_fetch(cat, 1, a.info_hash, &out));
	assert_memory_equal(out.data, a.raw, a.raw_len);
	catalog_free(cat);
	metainfo_free(&a);
	metainfo_free(&b);
	buf_free(&out);
	rm_dir();
}

static void write_file(const char *name, const void *data, size_t len)
{
	char path[256];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_true(file_write_atomic(path, data, len, 0644));
}

static bool exists(const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

/* An older trackerd's files move into the database; temporaries of an
 * interrupted write are deleted; anything else stays. */
static void test_legacy_import(void **state)
{
	struct metainfo a;
	char hex[41], name[64], temp[64];

	strcpy(dir, "/tmp/sta-test-catalog-XXXXXX");
	assert_non_null(mkdtemp(dir));
	make_torrent(&a, "old.bin", 5, 3);
	hex_encode(a.info_hash, 20, hex);
	snprintf(name, sizeof name, "%s.torrent", hex);
	snprintf(temp, sizeof temp, ".%s.torrent.Ab12Cd", hex);
	write_file(name, a.raw, a.raw_len);
	write_file(temp, "half", 4);
	write_file("00112233445566778899aabbccddeeff00112233.torrent", "junk", 4);
	write_file("notes.txt", "keep", 4);
	struct catalog *cat = catalog_open(dir, 1);
	assert_non_null(cat);
	assert_int_equal(catalog_count(cat), 1);
	assert_false(exists(name));
	assert_false(exists(temp));
	assert_true(exists("00112233445566778899aabbccddeeff00112233.torrent"));
	assert_true(exists("notes.txt"));
	struct sta_buf out = STA_BUF_INIT;
	assert_true(catalog_fetch(cat, 0, a.info_hash, &out));
	buf_free(&out);
	catalog_free(cat);
	metainfo_free(&a);
	rm_dir();
}

static void announce_seeders(struct swarm_table *sw, const uint8_t *hash, int n)
{
	for (int i = 0; i < n; i++) {
		struct swarm_announce an = { hash, { AF_INET, { 10, 0, 0, (uint8_t)i }, 6881 },
		                             TRACKER_EVENT_STARTED, true, 0, 0, 1 };
		struct swarm_counts c;
		size_t got;
		assert_int_equal(swarm_announce(sw, &an, NULL, &got, &c), SWARM_OK);
	}
}

static void test_lookup_pages_search(void **state)
{
	static const char *const names[] = {
		"Report 2024.pdf", "report-final.pdf", "reporting.txt", "Another report.pdf",
		"photos.zip", "report-final.pdf",
	};
	struct metainfo mi[6];
	uint8_t key[16] = { 0 };
	struct swarm_table *sw = swarm_table_new(key, 100, 100);

	strcpy(dir, "/tmp/sta-test-catalog-XXXXXX");
	assert_non_null(mkdtemp(dir));
	struct catalog *cat = catalog_open(dir, 1);
	for (int i = 0; i < 6; i++) {
		make_torrent(&mi[i], names[i], (uint64_t)(i + 1) * 100, 10 + i);
		add(cat, &mi[i], CATALOG_ADDED);
	}
	announce_seeders(sw, mi[5].info_hash, 2);
	announce_seeders(sw, mi[2].info_hash, 3);

	/* Exact name: both entries of that name, none of the others. */
	struct catalog_page p = query(cat, sw, "name=report-final.pdf");
	assert_int_equal(p.n, 2);
	assert_string_equal(p.v[0].name, "report-final.pdf");
	assert_int_equal(p.v[0].seeders + p.v[1].seeders, 2);
	assert_string_equal(p.next, "");
	catalog_page_free(&p);

	/* Pages of two by name, following the cursor, cover all six once. */
	char qs[CATALOG_CURSOR_MAX + 64] = "limit=2";
	int seen = 0;
	for (int page = 0; page < 3; page++) {
		p = query(cat, sw, qs);
		assert_int_equal(p.n, 2);
		seen += (int)p.n;
		if (page == 0)
			assert_string_equal(p.v[0].name, "Another report.pdf");
		if (page < 2)
			snprintf(qs, sizeof qs, "limit=2&after=%s", p.next);
		else
			assert_string_equal(p.next, "");
		catalog_page_free(&p);
	}
	assert_int_equal(seen, 6);

	/* Biggest first. */
	p = query(cat, sw, "sort=size&limit=1");
	assert_string_equal(p.v[0].name, "report-final.pdf");
	assert_int_equal(p.v[0].size, 600);
	catalog_page_free(&p);

	/* Words are case-insensitive; whole-word matches rank before prefix
	 * matches, then seeders: reporting.txt (3 seeders) matches only as a
	 * prefix and comes after the four whole-word "report" entries. */
	p = query(cat, sw, "q=REPORT");
	assert_int_equal(p.n, 5);
	assert_string_equal(p.v[0].name, "report-final.pdf");
	assert_int_equal(p.v[0].seeders, 2);
	assert_string_equal(p.v[4].name, "reporting.txt");
	catalog_page_free(&p);
	p = query(cat, sw, "q=fin+rep");
	assert_int_equal(p.n, 2);
	catalog_page_free(&p);
	p = query(cat, sw, "q=photos+report");
	assert_int_equal(p.n, 0);
	catalog_page_free(&p);

	/* Seeders first over the whole catalog, then the rest. */
	p = query(cat, sw, "sort=seeders&limit=2");
	assert_string_equal(p.v[0].name, "reporting.txt");
	assert_int_equal(p.v[1].seeders, 2);
	snprintf(qs, sizeof qs, "sort=seeders&limit=10&after=%s", p.next);
	catalog_page_free(&p);
	p = query(cat, sw, qs);
	assert_int_equal(p.n, 4);
	assert_int_equal(p.v[0].seeders, 0);
	catalog_page_free(&p);

	/* A hash prefix. */
	char hex[41];
	hex_encode(mi[4].info_hash, 20, hex);
	snprintf(qs, sizeof qs, "hash=%.7s", hex);
	p = query(cat, sw, qs);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.v[0].name, "photos.zip");
	catalog_page_free(&p);

	for (int i = 0; i < 6; i++)
		metainfo_free(&mi[i]);
	catalog_free(cat);
	swarm_table_free(sw);
	rm_dir();
}

static void test_withdraw(void **state)
{
	struct metainfo a, b;
	struct swarm_addr pub = { AF_INET, { 127, 0, 0, 9 }, 0 };
	struct swarm_addr other = { AF_INET, { 127, 0, 0, 10 }, 0 };
	enum catalog_add_result r;
	struct sta_buf out = STA_BUF_INIT;

	strcpy(dir, "/tmp/sta-test-catalog-XXXXXX");
	assert_non_null(mkdtemp(dir));
	struct catalog *cat = catalog_open(dir, 1);
	make_torrent(&a, "mine.bin", 1, 20);
	make_torrent(&b, "tokens.bin", 1, 21);
	const struct metainfo *pa = &a;
	catalog_add(cat, &pa, 1, &pub, &r);
	add(cat, &b, CATALOG_ADDED);
	/* Only its publisher's address or a token holder may withdraw. */
	assert_int_equal(catalog_withdraw(cat, a.info_hash, &other), CATALOG_NOT_PUBLISHER);
	assert_int_equal(catalog_withdraw(cat, b.info_hash, &pub), CATALOG_NOT_PUBLISHER);
	assert_int_equal(catalog_withdraw(cat, a.info_hash, &pub), CATALOG_WITHDRAWN);
	assert_int_equal(catalog_withdraw(cat, a.info_hash, NULL), CATALOG_UNKNOWN);
	assert_int_equal(catalog_withdraw(cat, b.info_hash, NULL), CATALOG_WITHDRAWN);
	assert_int_equal(catalog_count(cat), 0);
	assert_false(catalog_fetch(cat, 0, a.info_hash, &out));
	catalog_free(cat);
	cat = catalog_open(dir, 1);
	assert_int_equal(catalog_count(cat), 0);
	catalog_free(cat);
	metainfo_free(&a);
	metainfo_free(&b);
	rm_dir();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_fetch_reload),
		cmocka_unit_test(test_legacy_import),
		cmocka_unit_test(test_lookup_pages_search),
		cmocka_unit_test(test_withdraw),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
