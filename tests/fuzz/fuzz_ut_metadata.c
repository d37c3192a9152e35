/* ut_metadata payloads: byte 0 and 1 pick the caller's size limit, the rest
 * is the payload. A parsed message is within every bound, its data lies
 * inside the payload, and it encodes back to something that parses the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "peer_wire.h"
#include "ut_metadata.h"

#define CHECK(c)                       \
	do {                               \
		if (!(c))                      \
			__builtin_trap();          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reencode(const struct utm_msg *m, uint32_t max)
{
	struct sta_buf b = STA_BUF_INIT;
	struct pw_msg pm;
	struct pw_error perr;
	struct utm_msg back;
	enum utm_err err;

	if (m->type == UTM_REQUEST)
		ut_metadata_put_request(&b, 1, m->piece);
	else if (m->type == UTM_REJECT)
		ut_metadata_put_reject(&b, 1, m->piece);
	else
		ut_metadata_put_data(&b, 1, m->piece, m->total_size, m->data, m->data_len);
	CHECK(peer_wire_parse(b.data, b.len, NULL, &pm, &perr) == PW_OK);
	CHECK(pm.consumed == b.len && pm.type == PW_MSG_EXTENDED && pm.ext_id == 1);
	CHECK(ut_metadata_parse(pm.data, pm.data_len, max, &back, &err));
	CHECK(back.type == m->type && back.piece == m->piece && back.total_size == m->total_size);
	CHECK(back.data_len == m->data_len);
	CHECK(m->data_len == 0 || memcmp(back.data, m->data, m->data_len) == 0);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct utm_msg m;
	enum utm_err err;

	if (size < 2)
		return 0;
	/* 0 = the default limit; otherwise 1 to 65535 KiB-ish, some under a piece. */
	uint32_t max = ((uint32_t)data[0] << 8 | data[1]) * 300u;
	uint32_t eff = max == 0 || max > UTM_MAX_SIZE ? UTM_MAX_SIZE : max;
	data += 2;
	size -= 2;
	if (!ut_metadata_parse(data, size, max, &m, &err)) {
		CHECK(err != UTM_ERR_NONE && ut_metadata_strerror(err) != NULL);
		return 0;
	}
	if (m.type == UTM_UNKNOWN)
		return 0;
	CHECK(m.piece < ut_metadata_pieces(eff));
	if (m.type == UTM_DATA) {
		CHECK(m.total_size >= 1 && m.total_size <= eff);
		CHECK(m.data >= data && m.data + m.data_len == data + size);
		CHECK(m.data_len == ut_metadata_piece_len(m.total_size, m.piece));
		CHECK(m.data_len >= 1 && m.data_len <= UTM_PIECE_LEN);
	} else {
		CHECK(m.data == NULL && m.data_len == 0);
	}
	check_reencode(&m, max);
	return 0;
}
