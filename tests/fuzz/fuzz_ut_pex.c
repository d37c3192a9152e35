/* ut_pex payloads: lists stay bounded and inside the payload, and the
 * usable entries encode back to a message that parses to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "peer_wire.h"
#include "ut_pex.h"

#define CHECK(c)                       \
	do {                               \
		if (!(c))                      \
			__builtin_trap();          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The usable entries of a and b (both of one kind: added or dropped). */
static size_t collect(const struct ut_pex_list *a, const struct ut_pex_list *b,
                      struct ut_pex_peer *out)
{
	const struct ut_pex_list *l[2] = { a, b };
	size_t n = 0;

	for (size_t k = 0; k < 2; k++) {
		CHECK(l[k]->n <= UT_PEX_MAX_LIST);
		for (size_t i = 0; i < l[k]->n; i++)
			if (ut_pex_entry(l[k], i, &out[n].addr, &out[n].flags))
				n++;
	}
	return n;
}

static size_t usable(const struct ut_pex_list *l)
{
	struct tracker_peer tp;
	uint8_t f;
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += ut_pex_entry(l, i, &tp, &f);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ut_pex_peer added[2 * UT_PEX_MAX_LIST], dropped[2 * UT_PEX_MAX_LIST];
	struct ut_pex p, back;
	enum ut_pex_err err;
	struct sta_buf b = STA_BUF_INIT;
	struct pw_msg pm;
	struct pw_error perr;

	if (!ut_pex_parse(data, size, &p, &err)) {
		CHECK(err != UT_PEX_ERR_NONE && ut_pex_strerror(err) != NULL);
		return 0;
	}
	const struct ut_pex_list *all[] = { &p.added, &p.dropped, &p.added6, &p.dropped6 };
	for (size_t k = 0; k < 4; k++) {
		size_t el = all[k]->family == AF_INET6 ? 18 : 6;
		if (all[k]->n)
			CHECK(all[k]->addrs >= data && all[k]->addrs + all[k]->n * el <= data + size);
		if (all[k]->flags)
			CHECK(all[k]->flags >= data && all[k]->flags + all[k]->n <= data + size);
	}
	size_t na = collect(&p.added, &p.added6, added);
	size_t nd = collect(&p.dropped, &p.dropped6, dropped);
	ut_pex_put(&b, 7, added, na, dropped, nd);
	CHECK(peer_wire_parse(b.data, b.len, NULL, &pm, &perr) == PW_OK);
	CHECK(ut_pex_parse(pm.data, pm.data_len, &back, &err));
	CHECK(back.added.n == usable(&p.added) && back.added6.n == usable(&p.added6));
	CHECK(back.dropped.n == usable(&p.dropped) && back.dropped6.n == usable(&p.dropped6));
	buf_free(&b);
	return 0;
}
