/* Schema-driven libconfig loading, shared by the daemons.
 *
 * A program describes its settings once, as a table of struct config_key
 * (path, type, range, default, offset of the field in its own struct), and
 * gets defaults, file loading with strict checking, and freeing from it.
 * Unknown keys, wrong types and out-of-range values are reported as
 * "FILE:LINE: setting 'x' must be ... (got ...)".
 *
 * Field types by config_type: CONFIG_INT int, CONFIG_INT64 int64_t,
 * CONFIG_BOOL bool, CONFIG_STRING char * (heap, owned by the struct),
 * CONFIG_STRLIST struct config_strlist (heap, owned by the struct).
 */
#ifndef STA_CONFIG_H
#define STA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum config_type {
	CONFIG_INT,
	CONFIG_INT64,
	CONFIG_BOOL,
	CONFIG_STRING,
	CONFIG_STRLIST,
};

struct config_strlist {
	size_t n;
	char **v;
};

struct config_key {
	const char *path;       /* "name" or "group.name" */
	enum config_type type;
	/* INT/INT64: value range. STRING: length range. STRLIST: count range. */
	int64_t min, max;
	int64_t def_int;        /* INT, INT64, BOOL */
	const char *def_str;    /* STRING (NULL = unset) */
	const char *const *def_list; /* STRLIST: NULL-terminated items, or NULL for none */
	const char *const *choices; /* STRING: NULL-terminated allowed values, or NULL */
	size_t offset;
	/* STRING, and each item of a STRLIST: a further check of the value, or
	 * NULL. false with a sentence in why (reported with FILE:LINE). */
	bool (*check)(const char *value, char *why, size_t whysz);
};

/* Longest error message config_load_file produces. */
#define CONFIG_ERR_MAX 512

/* Fills every field of dst from the schema defaults. */
void config_defaults(const struct config_key *schema, size_t n, void *dst);
/* Reads path and overwrites the fields it sets. dst must already hold
 * defaults (or earlier values, which are freed when replaced). Returns false
 * with a "FILE:LINE: ..." message in err on the first problem; dst then holds
 * a mix of old and new values and is still safe to config_free. */
bool config_load_file(const struct config_key *schema, size_t n, const char *path, void *dst,
                      char err[CONFIG_ERR_MAX]);
/* Frees the STRING and STRLIST fields and zeroes them. */
void config_free(const struct config_key *schema, size_t n, void *dst);

/* Replaces a string field (takes a copy). */
void config_set_str(char **field, const char *value);
/* Appends a copy of value to a list. */
void config_strlist_add(struct config_strlist *l, const char *value);
void config_strlist_free(struct config_strlist *l);

#endif
