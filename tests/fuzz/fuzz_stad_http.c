/* stad's HTTP-facing parsers: tracker/catalog reply framing, tracker URLs
 * (from .torrent files and the config) and the catalog listing (the
 * common codec, as stad calls it). The first
 * byte picks the parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_client.h"
#include "http_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_reply(const uint8_t *d, size_t n)
{
	char err[128];

	for (int eof = 0; eof <= 1; eof++) {
		struct http_reply_view v;
		int r = http_reply_parse(d, n, eof, &v, err, sizeof err);
		if (r == 1 && (v.body_off > n || v.body_len > n - v.body_off))
			abort();
	}
}

static void fuzz_url(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);
	char err[128], hp[300];
	struct http_url u;

	if (s == NULL)
		return;
	memcpy(s, d, n);
	s[n] = '\0';
	if (http_url_parse(s, &u, err, sizeof err)) {
		if (u.path == NULL || u.path[0] != '/')
			abort();
		http_url_hostport(&u, hp, sizeof hp);
		http_url_free(&u);
	}
	free(s);
}

static void fuzz_listing(const uint8_t *d, size_t n)
{
	struct catalog_listing l;
	size_t skipped;
	char err[128];

	if (catalog_listing_decode(d, n, &l, &skipped, err, sizeof err))
		catalog_listing_free(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_reply(data + 1, size - 1);
		break;
	case 1:
		fuzz_url(data + 1, size - 1);
		break;
	default:
		fuzz_listing(data + 1, size - 1);
		break;
	}
	return 0;
}
