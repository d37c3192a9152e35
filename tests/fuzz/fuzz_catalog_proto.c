/* The catalog codec: the GET /catalog query parser (with its cursor), the
 * listing decoder and the batch decoder. The first byte picks the parser;
 * whatever parses must encode and parse back to the same thing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_query(const uint8_t *d, size_t n)
{
	struct catalog_query q, back;
	struct sta_buf b = STA_BUF_INIT;
	char err[160];

	if (!catalog_query_parse((const char *)d, n, &q, err, sizeof err))
		return;
	catalog_query_encode(&q, &b);
	if (!catalog_query_parse((const char *)b.data, b.len, &back, err, sizeof err) ||
	    strcmp(back.name, q.name) != 0 || strcmp(back.words, q.words) != 0 ||
	    strcmp(back.hash_prefix, q.hash_prefix) != 0 || back.sort != q.sort ||
	    back.desc != q.desc || back.limit != q.limit || back.has_after != q.has_after ||
	    (q.has_after && (back.after.id != q.after.id || back.after.key != q.after.key)))
		abort();
	buf_free(&b);
}

static void fuzz_listing(const uint8_t *d, size_t n)
{
	struct catalog_listing l;
	struct sta_buf b = STA_BUF_INIT;
	size_t skipped;
	char err[160];

	if (!catalog_listing_decode(d, n, &l, &skipped, err, sizeof err))
		return;
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].name == NULL || strlen(l.v[i].name) == 0 ||
		    strlen(l.v[i].name) > CATALOG_NAME_MAX)
			abort();
	catalog_listing_encode(&b, CATALOG_FMT_JSON, l.v, l.n, l.next, "http://t.example/announce");
	catalog_listing_free(&l);
	buf_free(&b);
}

static void fuzz_batch(const uint8_t *d, size_t n)
{
	struct catalog_span *v;
	size_t count;
	char err[160];

	if (!catalog_batch_decode(d, n, 64, &v, &count, err, sizeof err))
		return;
	for (size_t i = 0; i < count; i++)
		if (v[i].data < d || v[i].len > n || v[i].data + v[i].len > d + n)
			abort();
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0: fuzz_query(data + 1, size - 1); break;
	case 1: fuzz_listing(data + 1, size - 1); break;
	default: fuzz_batch(data + 1, size - 1); break;
	}
	return 0;
}
