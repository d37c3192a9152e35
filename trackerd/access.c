#include "access.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "hex.h"
#include "log.h"
#include "xmalloc.h"

#define HASH_LEN 20
/* A line is a hash and optional trailing comment; longer files than this
 * are refused rather than slurped. */
#define ACCESS_FILE_MAX ((size_t)ACCESS_MAX_ENTRIES * 48)

struct access {
	pthread_rwlock_t lock;
	atomic_int mode;
	uint8_t *hashes; /* sorted, n * 20 bytes */
	size_t n;
};

struct access *access_new(void)
{
	struct access *a = xcalloc(1, sizeof *a);

	pthread_rwlock_init(&a->lock, NULL);
	atomic_init(&a->mode, ACCESS_OFF);
	return a;
}

void access_free(struct access *a)
{
	if (a == NULL)
		return;
	pthread_rwlock_destroy(&a->lock);
	free(a->hashes);
	free(a);
}

int access_mode_from_name(const char *name)
{
	static const char *const names[] = { "off", "allow", "deny" };

	for (int i = 0; i < 3; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

static int hash_cmp(const void *x, const void *y)
{
	return memcmp(x, y, HASH_LEN);
}

/* Strips a '#' comment and surrounding blanks from line[0..*len). */
static const char *line_trim(const char *line, size_t *len)
{
	const char *hash = memchr(line, '#', *len);
	size_t n = hash ? (size_t)(hash - line) : *len;

	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
		n--;
	while (n && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	*len = n;
	return line;
}

static size_t dedup(uint8_t *h, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++)
		if (out == 0 || memcmp(h + (out - 1) * HASH_LEN, h + i * HASH_LEN, HASH_LEN) != 0)
			memmove(h + out++ * HASH_LEN, h + i * HASH_LEN, HASH_LEN);
	return out;
}

uint8_t *access_parse(const char *text, size_t len, const char *name, size_t *n, size_t *bad)
{
	uint8_t *h = NULL;
	size_t cap = 0, lineno = 0;
	const char *p = text, *end = text + len;

	*n = *bad = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *s = line_trim(p, &l);
		lineno++;
		p += (nl ? (size_t)(nl - p) + 1 : (size_t)(end - p));
		if (l == 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			h = xreallocarray(h, cap, HASH_LEN);
		}
		if (*n >= ACCESS_MAX_ENTRIES || !hex_decode(s, l, h + *n * HASH_LEN, HASH_LEN)) {
			char esc[64];
			log_warn("%s:%zu: not a 40-hex info-hash: \"%s\"", name, lineno,
			         log_escape(esc, sizeof esc, s, l));
			(*bad)++;
			continue;
		}
		(*n)++;
	}
	if (*n)
		qsort(h, *n, HASH_LEN, hash_cmp);
	*n = dedup(h, *n);
	return h;
}

static void access_swap(struct access *a, enum access_mode mode, uint8_t *hashes, size_t n)
{
	pthread_rwlock_wrlock(&a->lock);
	uint8_t *old = a->hashes;
	a->hashes = hashes;
	a->n = n;
	atomic_store(&a->mode, mode);
	pthread_rwlock_unlock(&a->lock);
	free(old);
}

bool access_load(struct access *a, enum access_mode mode, const char *file)
{
	size_t len, n = 0, bad = 0;
	uint8_t *hashes = NULL;

	if (mode != ACCESS_OFF) {
		uint8_t *text = file_read_all(file, ACCESS_FILE_MAX, &len);
		if (text == NULL) {
			log_err("cannot read access file %s: %s", file, strerror(errno));
			return false;
		}
		hashes = access_parse((const char *)text, len, file, &n, &bad);
		free(text);
		log_info("access list %s: %zu info-hashes (%s mode), %zu bad lines", file, n,
		         mode == ACCESS_ALLOW ? "allow" : "deny", bad);
	}
	access_swap(a, mode, hashes, n);
	return true;
}

bool access_permits(struct access *a, const uint8_t info_hash[20])
{
	int mode = atomic_load_explicit(&a->mode, memory_order_relaxed);

	if (mode == ACCESS_OFF)
		return true;
	pthread_rwlock_rdlock(&a->lock);
	mode = atomic_load_explicit(&a->mode, memory_order_relaxed);
	bool listed = a->n && bsearch(info_hash, a->hashes, a->n, HASH_LEN, hash_cmp) != NULL;
	pthread_rwlock_unlock(&a->lock);
	return mode == ACCESS_OFF || (mode == ACCESS_ALLOW) == listed;
}

size_t access_count(struct access *a)
{
	pthread_rwlock_rdlock(&a->lock);
	size_t n = a->n;
	pthread_rwlock_unlock(&a->lock);
	return n;
}
