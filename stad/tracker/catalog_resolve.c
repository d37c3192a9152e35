#include "catalog_resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_client.h"
#include "hex.h"
#include "log.h"
#include "xmalloc.h"

struct catalog_resolve {
	struct event_base *base;
	struct evdns_base *dns;
	char *url;
	char *target;
	struct catalog_client_call *call;
	catalog_resolve_cb cb;
	void *arg;
};

const struct catalog_entry *catalog_pick(const struct catalog_entry *v, size_t n)
{
	const struct catalog_entry *best = n ? &v[0] : NULL;

	for (size_t i = 1; i < n; i++) {
		const struct catalog_entry *e = &v[i];
		if (e->seeders != best->seeders ? e->seeders > best->seeders :
		    e->added != best->added ? e->added > best->added :
		    memcmp(e->info_hash, best->info_hash, 20) < 0)
			best = e;
	}
	return best;
}

static void finish(struct catalog_resolve *r, const struct catalog_entry *e, const char *note,
                   const char *code, const char *error)
{
	r->call = NULL;
	r->cb(r->arg, e, note, code, error);
	catalog_resolve_cancel(r);
}

static bool hex_like(const char *s)
{
	size_t n = strlen(s);

	if (n < 4 || n > 40)
		return false;
	for (size_t i = 0; i < n; i++)
		if (hex_value(s[i]) < 0)
			return false;
	return true;
}

static void by_hash_done(void *arg, const struct catalog_listing *l, const char *error)
{
	struct catalog_resolve *r = arg;
	char msg[256];

	if (error)
		return finish(r, NULL, NULL, "io", error);
	if (l->n == 1)
		return finish(r, &l->v[0], NULL, NULL, NULL);
	snprintf(msg, sizeof msg, l->n ? "\"%.100s\" starts several info-hashes: give more "
	         "digits" : "no file \"%.100s\" in the catalog", r->target);
	finish(r, NULL, NULL, l->n ? "bad_request" : "not_found", msg);
}

static void say_choice(char *out, size_t outsz, const struct catalog_listing *l,
                       const struct catalog_entry *e)
{
	char hex[41], when[32];
	time_t added = (time_t)e->added;
	struct tm tm;

	hex_encode(e->info_hash, 20, hex);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime_r(&added, &tm));
	snprintf(out, outsz, "%zu%s catalog entries are named \"%.100s\": chose %.12s (%u "
	         "seeders, added %s); give an info-hash prefix to pick another", l->n,
	         l->next[0] ? " or more" : "", e->name, hex, e->seeders, when);
}

static void by_name_done(void *arg, const struct catalog_listing *l, const char *error)
{
	struct catalog_resolve *r = arg;
	struct catalog_query q;
	char note[512], err[256];

	if (error)
		return finish(r, NULL, NULL, "io", error);
	if (l->n) {
		const struct catalog_entry *e = catalog_pick(l->v, l->n);
		if (l->n > 1)
			say_choice(note, sizeof note, l, e);
		return finish(r, e, l->n > 1 ? note : NULL, NULL, NULL);
	}
	if (!hex_like(r->target)) {
		snprintf(err, sizeof err, "no file \"%.100s\" in the catalog", r->target);
		return finish(r, NULL, NULL, "not_found", err);
	}
	catalog_query_init(&q);
	for (size_t i = 0; r->target[i]; i++)
		q.hash_prefix[i] = (char)(r->target[i] | 0x20);  /* hex digits: lowercase */
	q.limit = 2;
	r->call = catalog_client_list(r->base, r->dns, r->url, &q, by_hash_done, r, err,
	                              sizeof err);
	if (r->call == NULL)
		finish(r, NULL, NULL, "io", err);
}

struct catalog_resolve *catalog_resolve_start(struct event_base *base, struct evdns_base *dns,
                                              const char *announce_url, const char *target,
                                              catalog_resolve_cb cb, void *arg, char *err,
                                              size_t errsz)
{
	struct catalog_resolve *r;
	struct catalog_query q;

	catalog_query_init(&q);
	if (strlen(target) > CATALOG_NAME_MAX) {
		snprintf(err, errsz, "a catalog name has at most %d bytes", CATALOG_NAME_MAX);
		return NULL;
	}
	strcpy(q.name, target);
	q.limit = CATALOG_LIMIT_MAX;
	r = xcalloc(1, sizeof *r);
	*r = (struct catalog_resolve){ base, dns, xstrdup(announce_url), xstrdup(target), NULL,
	                               cb, arg };
	r->call = catalog_client_list(base, dns, announce_url, &q, by_name_done, r, err, errsz);
	if (r->call == NULL) {
		catalog_resolve_cancel(r);
		return NULL;
	}
	return r;
}

void catalog_resolve_cancel(struct catalog_resolve *r)
{
	if (r == NULL)
		return;
	catalog_client_cancel(r->call);
	free(r->url);
	free(r->target);
	free(r);
}
