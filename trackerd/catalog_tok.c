/* The catalog's words: SQLite FTS5's "unicode61" tokenizer (case folding
 * and diacritics removed, Unicode-aware), called directly through the
 * fts5_api of a connection, so names and searches are cut exactly as the
 * FTS5 index of earlier versions cut them. */
#include <string.h>

#include "catalog_int.h"
#include "log.h"

static fts5_api *fts5_api_of(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return api;
}

bool cat_tokenizer_open(struct cat_tokenizer *t, sqlite3 *db)
{
	static const char *const args[] = { "remove_diacritics", "2" };
	fts5_api *api = fts5_api_of(db);
	void *ctx = NULL;

	memset(t, 0, sizeof *t);
	if (api == NULL || api->xFindTokenizer(api, "unicode61", &ctx, &t->api) != SQLITE_OK ||
	    t->api.xCreate(ctx, (const char **)args, 2, &t->tok) != SQLITE_OK) {
		log_err("SQLite has no FTS5 unicode61 tokenizer (libsqlite3 built without FTS5?)");
		t->tok = NULL;
		return false;
	}
	return true;
}

void cat_tokenizer_close(struct cat_tokenizer *t)
{
	if (t->tok)
		t->api.xDelete(t->tok);
	t->tok = NULL;
}

static int keep_token(void *arg, int flags, const char *s, int len, int start, int end)
{
	(void)flags, (void)start, (void)end;
	if (len > 0)
		cat_tokens_add(arg, s, (size_t)len);
	return SQLITE_OK;
}

void cat_tokenize(struct cat_tokenizer *t, const char *s, size_t len, struct cat_tokens *out)
{
	out->n = 0;
	out->used = 0;
	if (len > 0)
		t->api.xTokenize(t->tok, out, FTS5_TOKENIZE_DOCUMENT, s, (int)len, keep_token);
}
