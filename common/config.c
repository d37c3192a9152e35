#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

/* Depth of nested groups we walk; deeper files are refused, not recursed. */
#define CONFIG_MAX_DEPTH 8
#define CONFIG_PATH_MAX 256

struct load_ctx {
	const struct config_key *schema;
	size_t n;
	const char *file;
	void *dst;
	char *err;
};

static void *field(void *dst, const struct config_key *k)
{
	return (char *)dst + k->offset;
}

void config_set_str(char **fieldp, const char *value)
{
	free(*fieldp);
	*fieldp = value ? xstrdup(value) : NULL;
}

void config_strlist_add(struct config_strlist *l, const char *value)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n++] = xstrdup(value);
}

void config_strlist_free(struct config_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void config_defaults(const struct config_key *schema, size_t n, void *dst)
{
	for (size_t i = 0; i < n; i++) {
		const struct config_key *k = &schema[i];
		void *f = field(dst, k);
		switch (k->type) {
		case CONFIG_INT:
			*(int *)f = (int)k->def_int;
			break;
		case CONFIG_INT64:
			*(int64_t *)f = k->def_int;
			break;
		case CONFIG_BOOL:
			*(bool *)f = k->def_int != 0;
			break;
		case CONFIG_STRING:
			*(char **)f = k->def_str ? xstrdup(k->def_str) : NULL;
			break;
		case CONFIG_STRLIST:
			*(struct config_strlist *)f = (struct config_strlist){ 0, NULL };
			for (size_t j = 0; k->def_list && k->def_list[j]; j++)
				config_strlist_add(f, k->def_list[j]);
			break;
		}
	}
}

void config_free(const struct config_key *schema, size_t n, void *dst)
{
	for (size_t i = 0; i < n; i++) {
		void *f = field(dst, &schema[i]);
		if (schema[i].type == CONFIG_STRING)
			config_set_str(f, NULL);
		else if (schema[i].type == CONFIG_STRLIST)
			config_strlist_free(f);
	}
}

static bool fail(struct load_ctx *c, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool fail(struct load_ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->err, CONFIG_ERR_MAX, "%s:%u: ", c->file,
	                 s ? config_setting_source_line(s) : 0);

	if (n < 0 || n >= CONFIG_ERR_MAX)
		return false;
	va_start(ap, fmt);
	vsnprintf(c->err + n, CONFIG_ERR_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

static const char *type_phrase(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT: return "an integer";
	case CONFIG_TYPE_INT64: return "a 64-bit integer";
	case CONFIG_TYPE_FLOAT: return "a number with a fraction";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "nothing";
	}
}

static bool load_int(struct load_ctx *c, const struct config_key *k, const config_setting_t *s)
{
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return fail(c, s, "setting '%s' must be an integer (got %s)", k->path,
		            type_phrase(type));
	int64_t v = config_setting_get_int64(s);
	if (v < k->min || v > k->max)
		return fail(c, s, "setting '%s' must be between %" PRId64 " and %" PRId64
		            " (got %" PRId64 ")", k->path, k->min, k->max, v);
	if (k->type == CONFIG_INT)
		*(int *)field(c->dst, k) = (int)v;
	else
		*(int64_t *)field(c->dst, k) = v;
	return true;
}

static bool load_bool(struct load_ctx *c, const struct config_key *k, const config_setting_t *s)
{
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_BOOL)
		return fail(c, s, "setting '%s' must be true or false (got %s)", k->path,
		            type_phrase(type));
	*(bool *)field(c->dst, k) = config_setting_get_bool(s) != 0;
	return true;
}

static bool in_choices(const char *const *choices, const char *v)
{
	for (size_t i = 0; choices[i]; i++)
		if (strcmp(choices[i], v) == 0)
			return true;
	return false;
}

static void join_choices(const char *const *choices, char *out, size_t outsz)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; choices[i] && o < outsz; i++) {
		int m = snprintf(out + o, outsz - o, "%s%s", i ? ", " : "", choices[i]);
		if (m < 0)
			break;
		o += (size_t)m;
	}
}

/* Checks one string against the key's length range and choices. */
static bool check_str(struct load_ctx *c, const struct config_key *k, const config_setting_t *s,
                      const char *v, const char *what)
{
	char esc[96], list[160];
	size_t len = strlen(v);

	log_escape(esc, sizeof esc, v, len);
	if (k->choices && !in_choices(k->choices, v)) {
		join_choices(k->choices, list, sizeof list);
		return fail(c, s, "setting '%s' must be one of %s (got \"%s\")", k->path, list, esc);
	}
	if ((int64_t)len < k->min || (int64_t)len > k->max)
		return fail(c, s, "setting '%s' %s must be %" PRId64 " to %" PRId64
		            " characters long (got \"%s\")", k->path, what, k->min, k->max, esc);
	char why[256];
	if (k->check && !k->check(v, why, sizeof why))
		return fail(c, s, "setting '%s': %s", k->path, why);
	return true;
}

static bool load_string(struct load_ctx *c, const struct config_key *k, const config_setting_t *s)
{
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_STRING)
		return fail(c, s, "setting '%s' must be a string (got %s)", k->path,
		            type_phrase(type));
	const char *v = config_setting_get_string(s);
	if (!check_str(c, k, s, v, "value"))
		return false;
	config_set_str(field(c->dst, k), v);
	return true;
}

static bool load_strlist(struct load_ctx *c, const struct config_key *k,
                         const config_setting_t *s)
{
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
		return fail(c, s, "setting '%s' must be a list of strings (got %s)", k->path,
		            type_phrase(type));
	int count = config_setting_length(s);
	if (count < k->min || count > k->max)
		return fail(c, s, "setting '%s' must have %" PRId64 " to %" PRId64
		            " items (got %d)", k->path, k->min, k->max, count);
	struct config_strlist tmp = { 0, NULL };
	for (int i = 0; i < count; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			config_strlist_free(&tmp);
			return fail(c, e, "setting '%s' must be a list of strings (item %d is %s)",
			            k->path, i + 1, type_phrase(config_setting_type(e)));
		}
		const char *v = config_setting_get_string(e);
		char why[256];
		if (k->check && !k->check(v, why, sizeof why)) {
			config_strlist_free(&tmp);
			return fail(c, e, "setting '%s' item %d: %s", k->path, i + 1, why);
		}
		config_strlist_add(&tmp, v);
	}
	struct config_strlist *f = field(c->dst, k);
	config_strlist_free(f);
	*f = tmp;
	return true;
}

static const struct config_key *find_key(const struct load_ctx *c, const char *path)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->schema[i].path, path) == 0)
			return &c->schema[i];
	return NULL;
}

static bool load_one(struct load_ctx *c, const struct config_key *k, const config_setting_t *s)
{
	switch (k->type) {
	case CONFIG_INT:
	case CONFIG_INT64:
		return load_int(c, k, s);
	case CONFIG_BOOL:
		return load_bool(c, k, s);
	case CONFIG_STRING:
		return load_string(c, k, s);
	case CONFIG_STRLIST:
		return load_strlist(c, k, s);
	}
	return false;
}

static bool walk_group(struct load_ctx *c, const config_setting_t *g, const char *prefix,
                       int depth)
{
	int count = config_setting_length(g);

	if (depth > CONFIG_MAX_DEPTH)
		return fail(c, g, "groups nested too deeply");
	for (int i = 0; i < count; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		char path[CONFIG_PATH_MAX];
		int m = snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "",
		                 config_setting_name(s));
		if (m < 0 || (size_t)m >= sizeof path)
			return fail(c, s, "setting name too long");
		const struct config_key *k = find_key(c, path);
		bool ok;
		if (k)
			ok = load_one(c, k, s);
		else if (config_setting_type(s) == CONFIG_TYPE_GROUP)
			ok = walk_group(c, s, path, depth + 1);
		else
			ok = fail(c, s, "unknown setting '%s'", path);
		if (!ok)
			return false;
	}
	return true;
}

/* Opens path for reading if it is a regular file. libconfig's scanner
 * exits the whole process (status 2) when a read fails, as it does on a
 * directory, so anything else is refused here with a sentence. */
static FILE *open_regular(const char *path, char err[CONFIG_ERR_MAX])
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		snprintf(err, CONFIG_ERR_MAX, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, CONFIG_ERR_MAX, "%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, CONFIG_ERR_MAX, "%s: %s; --config takes the configuration file itself",
		         path, S_ISDIR(st.st_mode) ? "is a directory, not a file"
		                                   : "is not a regular file");
		close(fd);
		return NULL;
	}
	FILE *fp = fdopen(fd, "r");
	if (fp == NULL) {
		snprintf(err, CONFIG_ERR_MAX, "%s: cannot open: %s", path, strerror(errno));
		close(fd);
	}
	return fp;
}

bool config_load_file(const struct config_key *schema, size_t n, const char *path, void *dst,
                      char err[CONFIG_ERR_MAX])
{
	struct load_ctx c = { schema, n, path, dst, err };
	config_t cfg;
	FILE *fp = open_regular(path, err);

	if (fp == NULL)
		return false;
	config_init(&cfg);
	bool ok = config_read(&cfg, fp) == CONFIG_TRUE;
	fclose(fp);
	if (!ok)
		snprintf(err, CONFIG_ERR_MAX, "%s:%d: %s", path, config_error_line(&cfg),
		         config_error_text(&cfg));
	else
		ok = walk_group(&c, config_root_setting(&cfg), "", 0);
	config_destroy(&cfg);
	return ok;
}
