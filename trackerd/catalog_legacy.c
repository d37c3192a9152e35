/* An older trackerd kept the catalog as one <info-hash>.torrent file each,
 * written through a temporary ".<name>.XXXXXX" file. At start those files
 * move into the database, and temporaries a killed publish left behind are
 * deleted. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog_int.h"
#include "fileio.h"
#include "hex.h"
#include "log.h"
#include "xmalloc.h"

#define HEX_LEN 40
#define SUFFIX ".torrent"
#define SUFFIX_LEN 8
#define TEMP_TAIL 7       /* ".XXXXXX" of mkostemp */
#define IMPORT_CHUNK 1000
#define LEGACY_FILE_MAX ((size_t)256 << 20)

struct import {
	struct catalog *cat;
	struct metainfo mi[IMPORT_CHUNK];
	char *path[IMPORT_CHUNK];
	size_t n;
	size_t imported, skipped, temps;
};

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hex_value(s[i]) < 0)
			return false;
	return true;
}

/* "<40 hex>.torrent" */
static bool is_torrent_name(const char *name)
{
	return strlen(name) == HEX_LEN + SUFFIX_LEN && is_hex(name, HEX_LEN) &&
	       strcmp(name + HEX_LEN, SUFFIX) == 0;
}

/* ".<40 hex>.torrent.XXXXXX" */
static bool is_temp_name(const char *name)
{
	return strlen(name) == 1 + HEX_LEN + SUFFIX_LEN + TEMP_TAIL && name[0] == '.' &&
	       is_hex(name + 1, HEX_LEN) && memcmp(name + 1 + HEX_LEN, SUFFIX, SUFFIX_LEN) == 0 &&
	       name[1 + HEX_LEN + SUFFIX_LEN] == '.';
}

/* Publishes the files read so far, then deletes those now in the database. */
static void import_flush(struct import *im)
{
	const struct metainfo *mis[IMPORT_CHUNK];
	enum catalog_add_result res[IMPORT_CHUNK];

	for (size_t i = 0; i < im->n; i++)
		mis[i] = &im->mi[i];
	catalog_add(im->cat, mis, im->n, NULL, res);
	for (size_t i = 0; i < im->n; i++) {
		if (res[i] != CATALOG_IO_ERROR && unlink(im->path[i]) == 0)
			im->imported++;
		metainfo_free(&im->mi[i]);
		free(im->path[i]);
	}
	im->n = 0;
}

static void import_file(struct import *im, const char *name)
{
	char *path = xasprintf("%s/%s", im->cat->dir, name);
	uint8_t want[20];
	size_t len;
	struct mi_error err;
	uint8_t *data = file_read_all(path, LEGACY_FILE_MAX, &len);
	struct metainfo *mi = &im->mi[im->n];

	hex_decode(name, HEX_LEN, want, sizeof want);
	if (data == NULL) {
		log_warn("skipping %s: %s", path, strerror(errno));
	} else if (!metainfo_parse(data, len, mi, &err)) {
		log_warn("skipping %s: not a valid torrent: %s", path, err.msg);
	} else if (memcmp(mi->info_hash, want, 20) != 0) {
		log_warn("skipping %s: its info-hash does not match the file name", path);
		metainfo_free(mi);
	} else {
		im->path[im->n++] = path;
		path = NULL;
	}
	if (path) {
		im->skipped++;
		free(path);
	}
	free(data);
	if (im->n == IMPORT_CHUNK)
		import_flush(im);
}

static void import_entry(struct import *im, const char *name)
{
	if (is_temp_name(name)) {
		char *path = xasprintf("%s/%s", im->cat->dir, name);
		if (unlink(path) == 0)
			im->temps++;
		else
			log_warn("cannot delete %s: %s", path, strerror(errno));
		free(path);
	} else if (is_torrent_name(name)) {
		import_file(im, name);
	}
}

bool catalog_import_legacy(struct catalog *cat)
{
	struct import *im = xcalloc(1, sizeof *im);
	DIR *d = opendir(cat->dir);
	struct dirent *de;

	if (d == NULL) {
		log_err("cannot read catalog directory %s: %s", cat->dir, strerror(errno));
		free(im);
		return false;
	}
	im->cat = cat;
	while ((de = readdir(d)) != NULL)
		import_entry(im, de->d_name);
	closedir(d);
	import_flush(im);
	if (im->temps)
		log_info("deleted %zu temporary files an interrupted publish left in %s",
		         im->temps, cat->dir);
	if (im->imported || im->skipped)
		log_info("imported %zu .torrent files into the catalog database, skipped %zu",
		         im->imported, im->skipped);
	free(im);
	return true;
}
