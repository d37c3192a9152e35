/* The access list: which info-hashes the tracker serves. Mode "off" serves
 * all, "allow" only listed hashes, "deny" all but listed ones. The list is
 * replaced as a whole (SIGHUP) under a rwlock; readers hold it for one
 * binary search. */
#ifndef TRACKERD_ACCESS_H
#define TRACKERD_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACCESS_MAX_ENTRIES 10000000

enum access_mode {
	ACCESS_OFF,
	ACCESS_ALLOW,
	ACCESS_DENY,
};

struct access;

struct access *access_new(void);
void access_free(struct access *a);
/* "off" / "allow" / "deny" to a mode; -1 when unknown. */
int access_mode_from_name(const char *name);
/* Reads file (40-hex info-hashes, one a line, '#' comments and blank lines
 * allowed; bad lines are logged as FILE:LINE and skipped) and swaps it in
 * with the mode. For ACCESS_OFF the file is not read. Returns false, with
 * the old list still in force, if the file cannot be read. */
bool access_load(struct access *a, enum access_mode mode, const char *file);
/* Parses a list held in memory; used by access_load and the tests.
 * Returns the sorted, deduplicated hashes (heap, caller frees) and their
 * count in *n; bad lines are logged with name:line and counted in *bad. */
uint8_t *access_parse(const char *text, size_t len, const char *name, size_t *n, size_t *bad);
bool access_permits(struct access *a, const uint8_t info_hash[20]);
size_t access_count(struct access *a);

#endif
