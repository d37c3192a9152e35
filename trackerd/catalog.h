/* The file catalog: published .torrent files, listed by name and fetched
 * by info-hash. Read often, written rarely: a rwlock guards it. Each entry
 * is persisted as STATE_DIR/catalog/<hex>.torrent (written atomically; its
 * mtime is the entry's "added" time) and reloaded at startup. */
#ifndef TRACKERD_CATALOG_H
#define TRACKERD_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "metainfo.h"

struct catalog;
struct swarm_table;

/* Opens (creating it if missing) dir and loads every <hex>.torrent in it;
 * bad files are logged and skipped, never deleted. NULL, after logging,
 * if the directory cannot be created or read. */
struct catalog *catalog_open(const char *dir);
void catalog_free(struct catalog *cat);
size_t catalog_count(struct catalog *cat);

enum catalog_add_result {
	CATALOG_ADDED,
	CATALOG_EXISTS,   /* same info-hash already published: nothing changed */
	CATALOG_IO_ERROR, /* could not persist; logged */
};
/* Publishes a parsed torrent (mi->raw is stored as is). */
enum catalog_add_result catalog_add(struct catalog *cat, const struct metainfo *mi);
/* Appends the stored .torrent for info_hash to out; false when unknown. */
bool catalog_fetch(struct catalog *cat, const uint8_t info_hash[20], struct sta_buf *out);

/* The listing, with live seeder/leecher counts from swarms:
 * bencode: d8:torrentsl d5:addedi..e9:info_hash40:..8:leechersi..e4:name..
 *          7:seedersi..e4:sizei..e e ee
 * JSON:    {"torrents":[{"name":..,"size":..,"info_hash":"..","seeders":..,
 *          "leechers":..,"added":..}, ...]}
 * Entries are sorted by name, then info-hash. */
void catalog_render(struct catalog *cat, struct swarm_table *swarms, bool json,
                    struct sta_buf *out);

#endif
