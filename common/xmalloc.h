/* Allocation helpers that never return NULL: out of memory or a size that
 * overflows is fatal, so callers need no error path for it. */
#ifndef STA_XMALLOC_H
#define STA_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
/* size bytes at a multiple of align (a power of two, at least
 * sizeof(void *)); freed with free(). */
void *xmalloc_aligned(size_t align, size_t size);
/* Like realloc(p, nmemb * size) with the multiplication checked. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a heap string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
