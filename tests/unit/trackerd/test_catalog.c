#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "catalog.h"
#include "fileio.h"
#include "hex.h"
#include "swarm.h"

static uint8_t *fixture(const char *name, size_t *len)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", STA_TEST_DATA, name);
	uint8_t *d = file_read_all(path, 1 << 20, len);
	assert_non_null(d);
	return d;
}

static void test_add_persist_reload(void **state)
{
	char dir[] = "/tmp/sta-test-catalog-XXXXXX";
	struct metainfo mi;
	struct mi_error err;
	struct sta_buf out = STA_BUF_INIT;
	size_t len;
	uint8_t key[16] = { 0 };

	assert_non_null(mkdtemp(dir));
	uint8_t *data = fixture("mktorrent-single.torrent", &len);
	assert_true(metainfo_parse(data, len, &mi, &err));
	struct catalog *cat = catalog_open(dir);
	assert_non_null(cat);
	assert_int_equal(catalog_add(cat, &mi), CATALOG_ADDED);
	assert_int_equal(catalog_add(cat, &mi), CATALOG_EXISTS);
	assert_int_equal(catalog_count(cat), 1);
	assert_true(catalog_fetch(cat, mi.info_hash, &out));
	assert_int_equal(out.len, len);
	assert_memory_equal(out.data, data, len);
	catalog_free(cat);

	/* A bad file and a stray name are skipped, and left in place. */
	char *junk = NULL;
	assert_true(asprintf(&junk, "%s/%s", dir, "00112233445566778899aabbccddeeff00112233.torrent") > 0);
	FILE *fp = fopen(junk, "w");
	fputs("not bencode", fp);
	fclose(fp);
	cat = catalog_open(dir);
	assert_non_null(cat);
	assert_int_equal(catalog_count(cat), 1);
	struct stat st;
	assert_int_equal(stat(junk, &st), 0);

	struct swarm_table *sw = swarm_table_new(key, 10, 10);
	char hex[41];
	hex_encode(mi.info_hash, 20, hex);
	buf_clear(&out);
	catalog_render(cat, sw, true, &out);
	buf_append_byte(&out, 0);
	assert_non_null(strstr((char *)out.data, hex));
	assert_non_null(strstr((char *)out.data, "\"seeders\":0,\"leechers\":0,\"added\":"));
	buf_clear(&out);
	catalog_render(cat, sw, false, &out);
	assert_true(out.len > 12 && memcmp(out.data, "d8:torrentsld5:addedi", 21) == 0);

	swarm_table_free(sw);
	catalog_free(cat);
	metainfo_free(&mi);
	buf_free(&out);
	free(data);
	unlink(junk);
	free(junk);
	char *stored = NULL;
	assert_true(asprintf(&stored, "%s/%s.torrent", dir, hex) > 0);
	assert_int_equal(unlink(stored), 0);
	free(stored);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_persist_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
