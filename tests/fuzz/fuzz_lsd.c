/* LSD announces: whatever parses must build back into an announce that
 * parses to the same port, hashes and (printable) cookie. */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "lsd.h"

#define CHECK(c)                       \
	do {                               \
		if (!(c))                      \
			__builtin_trap();          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Printable, and not changed by the parser's trimming. */
static int cookie_rebuildable(const char *c)
{
	size_t n = strlen(c);

	for (size_t i = 0; i < n; i++)
		if (c[i] < 0x21 || c[i] > 0x7e)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lsd_msg m, again;
	enum lsd_err err;
	struct sta_buf b = STA_BUF_INIT;

	if (!lsd_parse(data, size, &m, &err)) {
		CHECK(err != LSD_E_NONE);
		return 0;
	}
	CHECK(m.port > 0 && m.n_hashes > 0 && m.n_hashes <= LSD_MAX_HASHES);
	CHECK(strlen(m.cookie) <= LSD_COOKIE_MAX);
	const char *cookie = m.has_cookie && cookie_rebuildable(m.cookie) ? m.cookie : NULL;
	for (int v6 = 0; v6 < 2; v6++) {
		buf_clear(&b);
		size_t took = lsd_build(&b, v6, m.port, m.hashes, m.n_hashes, cookie);
		CHECK(took > 0 && b.len <= LSD_MSG_MAX);
		CHECK(lsd_parse(b.data, b.len, &again, &err));
		CHECK(again.port == m.port && again.n_hashes == took);
		CHECK(memcmp(again.hashes, m.hashes, took * 20) == 0);
		CHECK(!cookie || strcmp(again.cookie, cookie) == 0);
	}
	buf_free(&b);
	return 0;
}
