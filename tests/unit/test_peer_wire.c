#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "buf.h"
#include "peer_wire.h"

static const uint8_t ih[20] = "AAAAAAAAAAAAAAAAAAAA";
static const uint8_t pid[20] = "-ST0001-abcdefghijkl";

/* Parses a private exact-size copy, so ASan catches any read past len. */
static enum pw_status parse_copy(const uint8_t *data, size_t len, const struct pw_limits *lim,
                                 struct pw_msg *msg, struct pw_error *err)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, data, len);
	enum pw_status st = peer_wire_parse(copy, len, lim, msg, err);
	/* Spans must lie inside the buffer; rebase them onto data. */
	if (st == PW_OK && msg->data != NULL) {
		assert_true(msg->data >= copy && msg->data + msg->data_len <= copy + msg->consumed);
		msg->data = data + (msg->data - copy);
	}
	free(copy);
	return st;
}

/* ---- handshake ---- */

static void test_handshake_build_exact(void **state)
{
	uint8_t hs[PW_HANDSHAKE_LEN];

	peer_wire_handshake_build(hs, ih, pid);
	assert_memory_equal(hs, "\x13" "BitTorrent protocol" "\0\0\0\0\0\x10\0\x04", 28);
	assert_memory_equal(hs + 28, ih, 20);
	assert_memory_equal(hs + 48, pid, 20);
}

static void test_handshake_split_every_byte(void **state)
{
	uint8_t wire[PW_HANDSHAKE_LEN + 3];
	struct pw_handshake hs;
	struct pw_error err;

	peer_wire_handshake_build(wire, ih, pid);
	memcpy(wire + PW_HANDSHAKE_LEN, "\0\0\0", 3); /* the next message's start */
	for (size_t n = 0; n < PW_HANDSHAKE_LEN; n++) {
		assert_int_equal(peer_wire_handshake_parse(wire, n, &hs, &err), PW_NEED_MORE);
		assert_int_equal(hs.has_info_hash, n >= 48);
		if (hs.has_info_hash)
			assert_memory_equal(hs.info_hash, ih, 20);
	}
	for (size_t n = PW_HANDSHAKE_LEN; n <= sizeof wire; n++) {
		memset(&hs, 0, sizeof hs);
		assert_int_equal(peer_wire_handshake_parse(wire, n, &hs, &err), PW_OK);
		assert_memory_equal(hs.info_hash, ih, 20);
		assert_memory_equal(hs.peer_id, pid, 20);
		assert_true(pw_handshake_fast(&hs));
		assert_true(pw_handshake_ext(&hs));
		assert_false(pw_handshake_dht(&hs));
	}
}

static void test_handshake_wrong_protocol(void **state)
{
	uint8_t wire[PW_HANDSHAKE_LEN];
	struct pw_handshake hs;
	struct pw_error err;

	peer_wire_handshake_build(wire, ih, pid);
	wire[0] = 18;
	assert_int_equal(peer_wire_handshake_parse(wire, 1, &hs, &err), PW_ERROR);
	assert_int_equal(err.code, PW_ERR_PSTRLEN);
	/* An HTTP request on the peer port. */
	assert_int_equal(peer_wire_handshake_parse((const uint8_t *)"GET / HTTP/1.1", 14, &hs, &err),
	                 PW_ERROR);
	assert_int_equal(err.code, PW_ERR_PSTRLEN);
	/* A wrong byte anywhere in the name fails as soon as it is in. */
	for (size_t p = 1; p <= PW_PSTR_LEN; p++) {
		peer_wire_handshake_build(wire, ih, pid);
		wire[p] ^= 0x20;
		assert_int_equal(peer_wire_handshake_parse(wire, p, &hs, &err), PW_NEED_MORE);
		assert_int_equal(peer_wire_handshake_parse(wire, p + 1, &hs, &err), PW_ERROR);
		assert_int_equal(err.code, PW_ERR_PSTR);
		assert_int_equal(peer_wire_handshake_parse(wire, sizeof wire, &hs, &err), PW_ERROR);
	}
}

static void test_handshake_check(void **state)
{
	uint8_t wire[PW_HANDSHAKE_LEN];
	uint8_t other[20];
	struct pw_handshake hs;
	struct pw_error err;

	memset(other, 'B', sizeof other);
	peer_wire_handshake_build(wire, ih, pid);
	assert_int_equal(peer_wire_handshake_parse(wire, sizeof wire, &hs, &err), PW_OK);
	assert_true(peer_wire_handshake_check(&hs, ih, other, &err));
	assert_false(peer_wire_handshake_check(&hs, other, other, &err));
	assert_int_equal(err.code, PW_ERR_INFO_HASH);
	assert_false(peer_wire_handshake_check(&hs, ih, pid, &err));
	assert_int_equal(err.code, PW_ERR_SELF);
	/* Reserved bits are the peer's, not ours. */
	memset(wire + 20, 0, 8);
	wire[27] = 0x01;
	assert_int_equal(peer_wire_handshake_parse(wire, sizeof wire, &hs, &err), PW_OK);
	assert_false(pw_handshake_fast(&hs));
	assert_false(pw_handshake_ext(&hs));
	assert_true(pw_handshake_dht(&hs));
}

/* ---- message round trips, exact bytes ---- */

static void expect_one(const uint8_t *wire, size_t len, enum pw_msg_type type, struct pw_msg *msg)
{
	struct pw_error err;

	assert_int_equal(parse_copy(wire, len, NULL, msg, &err), PW_OK);
	assert_int_equal(msg->type, type);
	assert_int_equal(msg->consumed, len);
}

static void test_fixed_messages(void **state)
{
	static const struct {
		enum pw_msg_type type;
		uint8_t id;
	} simple[] = {
		{ PW_MSG_CHOKE, 0 }, { PW_MSG_UNCHOKE, 1 }, { PW_MSG_INTERESTED, 2 },
		{ PW_MSG_NOT_INTERESTED, 3 }, { PW_MSG_HAVE_ALL, 0x0e }, { PW_MSG_HAVE_NONE, 0x0f },
	};
	uint8_t out[32];
	struct pw_msg msg;

	assert_int_equal(peer_wire_put_keepalive(out), 4);
	assert_memory_equal(out, "\0\0\0\0", 4);
	expect_one(out, 4, PW_MSG_KEEPALIVE, &msg);

	for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
		uint8_t want[5] = { 0, 0, 0, 1, simple[i].id };
		assert_int_equal(peer_wire_put_simple(out, simple[i].type), 5);
		assert_memory_equal(out, want, 5);
		expect_one(out, 5, simple[i].type, &msg);
		assert_int_equal(msg.id, simple[i].id);
		assert_null(msg.data);
	}

	const enum pw_msg_type idx[] = { PW_MSG_HAVE, PW_MSG_SUGGEST, PW_MSG_ALLOWED_FAST };
	for (size_t i = 0; i < 3; i++) {
		uint8_t want[9] = { 0, 0, 0, 5, (uint8_t)idx[i], 0xde, 0xad, 0xbe, 0xef };
		assert_int_equal(peer_wire_put_index(out, idx[i], 0xdeadbeef), 9);
		assert_memory_equal(out, want, 9);
		expect_one(out, 9, idx[i], &msg);
		assert_int_equal(msg.index, 0xdeadbeef);
	}

	const enum pw_msg_type blk[] = { PW_MSG_REQUEST, PW_MSG_CANCEL, PW_MSG_REJECT };
	for (size_t i = 0; i < 3; i++) {
		uint8_t want[17] = { 0, 0, 0, 13, (uint8_t)blk[i], 0, 0, 0, 7,
		                     0, 0, 0x40, 0, 0, 0, 0x40, 0 };
		assert_int_equal(peer_wire_put_block(out, blk[i], 7, 0x4000, 0x4000), 17);
		assert_memory_equal(out, want, 17);
		expect_one(out, 17, blk[i], &msg);
		assert_int_equal(msg.index, 7);
		assert_int_equal(msg.begin, 0x4000);
		assert_int_equal(msg.length, 0x4000);
	}

	assert_int_equal(peer_wire_put_port(out, 6881), 7);
	assert_memory_equal(out, "\0\0\0\x03\x09\x1a\xe1", 7);
	expect_one(out, 7, PW_MSG_PORT, &msg);
	assert_int_equal(msg.port, 6881);
}

static void test_piece_points_into_buffer(void **state)
{
	size_t block = 16384;
	uint8_t *wire = malloc(PW_LEN_PIECE_HDR + block);
	struct pw_msg msg;
	struct pw_error err;

	assert_int_equal(peer_wire_put_piece_header(wire, 3, 32768, (uint32_t)block), 13);
	assert_memory_equal(wire, "\0\0\x40\x09\x07\0\0\0\x03\0\0\x80\0", 13);
	for (size_t i = 0; i < block; i++)
		wire[PW_LEN_PIECE_HDR + i] = (uint8_t)(i * 7);
	assert_int_equal(peer_wire_parse(wire, PW_LEN_PIECE_HDR + block, NULL, &msg, &err), PW_OK);
	assert_int_equal(msg.type, PW_MSG_PIECE);
	assert_int_equal(msg.index, 3);
	assert_int_equal(msg.begin, 32768);
	assert_int_equal(msg.length, block);
	assert_int_equal(msg.data_len, block);
	assert_ptr_equal(msg.data, wire + PW_LEN_PIECE_HDR);
	assert_int_equal(msg.consumed, PW_LEN_PIECE_HDR + block);
	/* Everything short of the last byte waits for the whole message. */
	assert_int_equal(peer_wire_parse(wire, PW_LEN_PIECE_HDR + block - 1, NULL, &msg, &err),
	                 PW_NEED_MORE);
	assert_int_equal(msg.need, PW_LEN_PIECE_HDR + block);
	free(wire);
}

/* parse_head: a piece message is done at its 13-byte header, whatever of
 * the block is in; other messages parse as with peer_wire_parse. */
static void test_parse_head(void **state)
{
	uint8_t wire[PW_LEN_PIECE_HDR + 20 + PW_LEN_INDEX];
	struct pw_limits lim;
	struct pw_msg msg;
	struct pw_error err;

	pw_limits_init(&lim, 100);
	peer_wire_put_piece_header(wire, 7, 16384, 20);
	memset(wire + PW_LEN_PIECE_HDR, 0xab, 20);
	peer_wire_put_index(wire + PW_LEN_PIECE_HDR + 20, PW_MSG_HAVE, 5);
	for (size_t n = 5; n < PW_LEN_PIECE_HDR; n++) {
		assert_int_equal(peer_wire_parse_head(wire, n, &lim, &msg, &err), PW_NEED_MORE);
		assert_int_equal(msg.need, PW_LEN_PIECE_HDR);
	}
	for (size_t n = PW_LEN_PIECE_HDR; n <= sizeof wire; n++) {
		assert_int_equal(peer_wire_parse_head(wire, n, &lim, &msg, &err), PW_OK);
		assert_int_equal(msg.type, PW_MSG_PIECE);
		assert_int_equal(msg.index, 7);
		assert_int_equal(msg.begin, 16384);
		assert_int_equal(msg.length, 20);
		assert_null(msg.data);
		assert_int_equal(msg.consumed, PW_LEN_PIECE_HDR);
	}
	assert_int_equal(peer_wire_parse_head(wire + PW_LEN_PIECE_HDR + 20, PW_LEN_INDEX, &lim, &msg,
	                                      &err),
	                 PW_OK);
	assert_int_equal(msg.type, PW_MSG_HAVE);
	assert_int_equal(msg.index, 5);
	/* A keep-alive before a byte 7 is a keep-alive. */
	assert_int_equal(peer_wire_parse_head((const uint8_t *)"\0\0\0\0\x07\0\0\0\0\0\0\0\0\0", 14,
	                                      &lim, &msg, &err),
	                 PW_OK);
	assert_int_equal(msg.type, PW_MSG_KEEPALIVE);
	/* The header's checks fail at the header: no block, a block too long. */
	peer_wire_put_piece_header(wire, 7, 0, 0);
	assert_int_equal(peer_wire_parse_head(wire, PW_LEN_PIECE_HDR, &lim, &msg, &err), PW_ERROR);
	assert_int_equal(err.code, PW_ERR_BLOCK_LEN);
	peer_wire_put_piece_header(wire, 7, 0, PW_MAX_BLOCK + 1);
	assert_int_equal(peer_wire_parse_head(wire, 5, &lim, &msg, &err), PW_ERROR);
	assert_int_equal(err.code, PW_ERR_BLOCK_LEN);
}

static void test_bitfield_and_extended_and_unknown(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct pw_limits lim;
	struct pw_msg msg;
	struct pw_error err;

	pw_limits_init(&lim, 20); /* 3 bytes */
	peer_wire_append_bitfield(&b, (const uint8_t *)"\xff\x0f\xf0", 3);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "\0\0\0\x04\x05\xff\x0f\xf0", 8);
	assert_int_equal(parse_copy(b.data, b.len, &lim, &msg, &err), PW_OK);
	assert_int_equal(msg.type, PW_MSG_BITFIELD);
	assert_int_equal(msg.data_len, 3);
	assert_memory_equal(msg.data, "\xff\x0f\xf0", 3);

	buf_clear(&b);
	size_t start = peer_wire_ext_begin(&b, 3);
	buf_append_str(&b, "d1:xi1ee");
	peer_wire_ext_end(&b, start);
	assert_memory_equal(b.data, "\0\0\0\x0a\x14\x03" "d1:xi1ee", 14);
	assert_int_equal(parse_copy(b.data, b.len, &lim, &msg, &err), PW_OK);
	assert_int_equal(msg.type, PW_MSG_EXTENDED);
	assert_int_equal(msg.ext_id, 3);
	assert_int_equal(msg.data_len, 8);
	assert_memory_equal(msg.data, "d1:xi1ee", 8);

	/* Unknown ids come back with their body for the caller to skip. */
	assert_int_equal(parse_copy((const uint8_t *)"\0\0\0\x03\x42xy", 7, &lim, &msg, &err), PW_OK);
	assert_int_equal(msg.type, PW_MSG_UNKNOWN);
	assert_int_equal(msg.id, 0x42);
	assert_int_equal(msg.data_len, 2);
	assert_memory_equal(msg.data, "xy", 2);
	assert_int_equal(parse_copy((const uint8_t *)"\0\0\0\x01\x0a", 5, &lim, &msg, &err), PW_OK);
	assert_int_equal(msg.type, PW_MSG_UNKNOWN);
	assert_int_equal(msg.data_len, 0);
	buf_free(&b);
}

/* ---- malformed lengths: rejected from the header alone ---- */

static void expect_header_error(const struct pw_limits *lim, uint8_t id, uint32_t mlen,
                                enum pw_err code)
{
	uint8_t hdr[5];
	struct pw_msg msg;
	struct pw_error err;

	store_u32be(hdr, mlen);
	hdr[4] = id;
	assert_int_equal(parse_copy(hdr, 5, lim, &msg, &err), PW_ERROR);
	assert_int_equal(err.code, code);
	/* A too-long prefix fails before the id is looked at. */
	assert_int_equal(err.id, code == PW_ERR_MSG_TOO_LONG ? 0 : id);
	assert_int_equal(err.len, mlen);
}

static void expect_header_ok(const struct pw_limits *lim, uint8_t id, uint32_t mlen)
{
	uint8_t hdr[5];
	struct pw_msg msg;
	struct pw_error err;

	store_u32be(hdr, mlen);
	hdr[4] = id;
	assert_int_equal(parse_copy(hdr, 5, lim, &msg, &err), mlen == 1 ? PW_OK : PW_NEED_MORE);
	if (mlen > 1)
		assert_int_equal(msg.need, 4 + mlen);
}

static void test_wrong_lengths_per_id(void **state)
{
	static const struct {
		uint8_t id;
		uint32_t len;
	} fixed[] = {
		{ 0, 1 }, { 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 5 }, { 6, 13 }, { 8, 13 }, { 9, 3 },
		{ 0x0d, 5 }, { 0x0e, 1 }, { 0x0f, 1 }, { 0x10, 13 }, { 0x11, 5 },
	};
	struct pw_limits lim;

	pw_limits_init(&lim, 1000); /* 125-byte bitfield */
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		for (uint32_t mlen = 1; mlen <= 40; mlen++) {
			if (mlen == fixed[i].len)
				expect_header_ok(&lim, fixed[i].id, mlen);
			else
				expect_header_error(&lim, fixed[i].id, mlen, PW_ERR_BAD_LENGTH);
		}
		/* "have" with length 100, and far larger. */
		expect_header_error(&lim, fixed[i].id, 100, PW_ERR_BAD_LENGTH);
		expect_header_error(&lim, fixed[i].id, PW_MAX_MSG, PW_ERR_BAD_LENGTH);
	}
	/* Bitfield: exactly the torrent's size. */
	expect_header_ok(&lim, 5, 126);
	expect_header_error(&lim, 5, 1, PW_ERR_BITFIELD_LEN);
	expect_header_error(&lim, 5, 125, PW_ERR_BITFIELD_LEN);
	expect_header_error(&lim, 5, 127, PW_ERR_BITFIELD_LEN);
	expect_header_error(&lim, 5, 100000, PW_ERR_BITFIELD_LEN);
	/* Piece: a header, then 1..max_block bytes. */
	for (uint32_t mlen = 1; mlen < 9; mlen++)
		expect_header_error(&lim, 7, mlen, PW_ERR_BAD_LENGTH);
	expect_header_error(&lim, 7, 9, PW_ERR_BLOCK_LEN);
	expect_header_ok(&lim, 7, 10);
	expect_header_ok(&lim, 7, 9 + PW_MAX_BLOCK);
	expect_header_error(&lim, 7, 9 + PW_MAX_BLOCK + 1, PW_ERR_BLOCK_LEN);
	/* Extended needs its ext id byte. */
	expect_header_error(&lim, 20, 1, PW_ERR_BAD_LENGTH);
	expect_header_ok(&lim, 20, 2);
	/* A smaller configured block size is honoured. */
	lim.max_block = 16384;
	expect_header_error(&lim, 7, 9 + 16385, PW_ERR_BLOCK_LEN);
}

static void test_bitfield_unknown_size(void **state)
{
	struct pw_limits lim;

	pw_limits_init(&lim, 0);
	assert_int_equal(lim.bitfield_len, 0);
	expect_header_error(&lim, 5, 1, PW_ERR_BITFIELD_LEN);
	expect_header_ok(&lim, 5, 2);
	expect_header_ok(&lim, 5, PW_MAX_MSG);
	expect_header_error(&lim, 5, PW_MAX_MSG + 1, PW_ERR_MSG_TOO_LONG);
}

static void test_request_block_length(void **state)
{
	uint8_t out[PW_LEN_BLOCK];
	struct pw_msg msg;
	struct pw_error err;

	peer_wire_put_block(out, PW_MSG_REQUEST, 1, 0, 0);
	assert_int_equal(parse_copy(out, sizeof out, NULL, &msg, &err), PW_ERROR);
	assert_int_equal(err.code, PW_ERR_BLOCK_LEN);
	peer_wire_put_block(out, PW_MSG_REQUEST, 1, 0, PW_MAX_BLOCK + 1);
	assert_int_equal(parse_copy(out, sizeof out, NULL, &msg, &err), PW_ERROR);
	assert_int_equal(err.code, PW_ERR_BLOCK_LEN);
	peer_wire_put_block(out, PW_MSG_REQUEST, 1, 0, PW_MAX_BLOCK);
	assert_int_equal(parse_copy(out, sizeof out, NULL, &msg, &err), PW_OK);
	/* Cancel and reject only name our own requests: passed through. */
	peer_wire_put_block(out, PW_MSG_REJECT, 1, 0, 0);
	assert_int_equal(parse_copy(out, sizeof out, NULL, &msg, &err), PW_OK);
}

static void test_oversized_prefix_with_four_bytes(void **state)
{
	const uint32_t bad[] = { PW_MAX_MSG + 1, 0x7fffffff, 0xffffffff };
	struct pw_msg msg;
	struct pw_error err;
	uint8_t hdr[4];

	for (size_t i = 0; i < 3; i++) {
		store_u32be(hdr, bad[i]);
		assert_int_equal(parse_copy(hdr, 4, NULL, &msg, &err), PW_ERROR);
		assert_int_equal(err.code, PW_ERR_MSG_TOO_LONG);
		assert_int_equal(err.len, bad[i]);
	}
	/* Unknown ids are bounded by the same limit. */
	store_u32be(hdr, PW_MAX_MSG);
	assert_int_equal(parse_copy(hdr, 4, NULL, &msg, &err), PW_NEED_MORE);
	assert_int_equal(msg.need, 5);
	for (size_t n = 0; n < 4; n++) {
		assert_int_equal(parse_copy(hdr, n, NULL, &msg, &err), PW_NEED_MORE);
		assert_int_equal(msg.need, 4);
	}
	assert_non_null(pw_strerror(PW_ERR_MSG_TOO_LONG));
}

static void test_limits_grow_for_huge_bitfield(void **state)
{
	struct pw_limits lim;

	pw_limits_init(&lim, 20u * 1000 * 1000); /* 2.5 MB bitfield */
	assert_int_equal(lim.bitfield_len, 2500000);
	assert_int_equal(lim.max_msg, 2500001);
	expect_header_ok(&lim, 5, 2500001);
	pw_limits_init(&lim, 1000);
	assert_int_equal(lim.max_msg, PW_MAX_MSG);
	assert_int_equal(lim.max_block, PW_MAX_BLOCK);
}

/* ---- a stream split at every point ---- */

static size_t build_stream(struct sta_buf *b)
{
	uint8_t tmp[PW_LEN_BLOCK];

	buf_append(b, tmp, peer_wire_put_keepalive(tmp));
	buf_append(b, tmp, peer_wire_put_simple(tmp, PW_MSG_UNCHOKE));
	peer_wire_append_bitfield(b, (const uint8_t *)"\xa0\x00\x10", 3);
	buf_append(b, tmp, peer_wire_put_index(tmp, PW_MSG_HAVE, 5));
	buf_append(b, tmp, peer_wire_put_block(tmp, PW_MSG_REQUEST, 1, 2, 3));
	buf_append(b, tmp, peer_wire_put_piece_header(tmp, 9, 16, 20));
	buf_append(b, "twenty bytes of data", 20);
	size_t start = peer_wire_ext_begin(b, 0);
	buf_append_str(b, "de");
	peer_wire_ext_end(b, start);
	buf_append(b, "\0\0\0\x02\xc8z", 6); /* unknown 0xc8 */
	buf_append(b, tmp, peer_wire_put_port(tmp, 1));
	buf_append(b, tmp, peer_wire_put_block(tmp, PW_MSG_REJECT, 1, 2, 3));
	buf_append(b, tmp, peer_wire_put_keepalive(tmp));
	buf_append(b, tmp, peer_wire_put_simple(tmp, PW_MSG_HAVE_ALL));
	return 12;
}

static const enum pw_msg_type stream_types[] = {
	PW_MSG_KEEPALIVE, PW_MSG_UNCHOKE, PW_MSG_BITFIELD, PW_MSG_HAVE, PW_MSG_REQUEST, PW_MSG_PIECE,
	PW_MSG_EXTENDED, PW_MSG_UNKNOWN, PW_MSG_PORT, PW_MSG_REJECT, PW_MSG_KEEPALIVE,
	PW_MSG_HAVE_ALL,
};

/* Parses what is available of the stream from *pos on, as a reader loop would. */
static void drain(const struct sta_buf *b, size_t avail, size_t *pos, size_t *nmsg,
                  const struct pw_limits *lim)
{
	struct pw_msg msg;
	struct pw_error err;

	for (;;) {
		enum pw_status st = parse_copy(b->data + *pos, avail - *pos, lim, &msg, &err);
		if (st == PW_NEED_MORE) {
			assert_true(msg.need > avail - *pos);
			assert_true(*pos == b->len || *pos + msg.need <= b->len);
			return;
		}
		assert_int_equal(st, PW_OK);
		assert_true(msg.consumed <= avail - *pos);
		assert_int_equal(msg.type, stream_types[*nmsg]);
		if (msg.type == PW_MSG_PIECE) {
			assert_int_equal(msg.index, 9);
			assert_int_equal(msg.length, 20);
			assert_memory_equal(msg.data, "twenty bytes of data", 20);
		}
		*pos += msg.consumed;
		(*nmsg)++;
	}
}

static void test_stream_split_everywhere(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct pw_limits lim;
	size_t count = build_stream(&b);

	assert_int_equal(count, sizeof stream_types / sizeof stream_types[0]);
	pw_limits_init(&lim, 24);
	for (size_t split = 0; split <= b.len; split++) {
		size_t pos = 0, nmsg = 0;
		drain(&b, split, &pos, &nmsg, &lim);
		assert_true(pos <= split);
		drain(&b, b.len, &pos, &nmsg, &lim);
		assert_int_equal(pos, b.len);
		assert_int_equal(nmsg, count);
	}
	/* And one byte at a time. */
	size_t pos = 0, nmsg = 0;
	for (size_t avail = 0; avail <= b.len; avail++)
		drain(&b, avail, &pos, &nmsg, &lim);
	assert_int_equal(pos, b.len);
	assert_int_equal(nmsg, count);
	buf_free(&b);
}

/* ---- BEP 10 ---- */

static void test_ext_handshake_build_exact(void **state)
{
	struct pw_ext_hs hs = { 0 };
	struct sta_buf b = STA_BUF_INIT;
	struct pw_msg msg;
	struct pw_error err;
	static const char want[] = "d1:md11:ut_metadatai1e6:ut_pexi2ee13:metadata_sizei31235e"
	                   "1:pi6881e4:reqqi500e1:v7:STA 0.16:yourip4:\x7f\0\0\x01" "e";

	hs.n_ext = 2;
	/* Given unsorted: the builder sorts the keys. */
	strcpy(hs.ext[0].name, "ut_pex");
	hs.ext[0].id = 2;
	strcpy(hs.ext[1].name, "ut_metadata");
	hs.ext[1].id = 1;
	hs.port = 6881;
	strcpy(hs.version, "STA 0.1");
	hs.reqq = 500;
	hs.metadata_size = 31235;
	hs.yourip_family = AF_INET;
	memcpy(hs.yourip, "\x7f\0\0\x01", 4);
	peer_wire_ext_hs_build(&b, &hs);
	assert_int_equal(parse_copy(b.data, b.len, NULL, &msg, &err), PW_OK);
	assert_int_equal(msg.consumed, b.len);
	assert_int_equal(msg.type, PW_MSG_EXTENDED);
	assert_int_equal(msg.ext_id, 0);
	assert_int_equal(msg.data_len, sizeof want - 1);
	assert_memory_equal(msg.data, want, msg.data_len);

	struct pw_ext_hs got;
	assert_true(peer_wire_ext_hs_parse(msg.data, msg.data_len, &got, &err));
	assert_int_equal(got.n_ext, 2);
	assert_int_equal(pw_ext_hs_id(&got, "ut_metadata"), 1);
	assert_int_equal(pw_ext_hs_id(&got, "ut_pex"), 2);
	assert_int_equal(pw_ext_hs_id(&got, "lt_donthave"), 0);
	assert_int_equal(got.port, 6881);
	assert_string_equal(got.version, "STA 0.1");
	assert_int_equal(got.reqq, 500);
	assert_int_equal(got.metadata_size, 31235);
	assert_int_equal(got.yourip_family, AF_INET);
	assert_memory_equal(got.yourip, "\x7f\0\0\x01", 4);
	buf_free(&b);

	/* Nothing optional: just an empty "m". */
	struct pw_ext_hs none = { 0 };
	peer_wire_ext_hs_build(&b, &none);
	assert_int_equal(b.len, 13);
	assert_memory_equal(b.data, "\0\0\0\x09\x14\0d1:mdee", 13);
	buf_free(&b);
}

static bool parse_str(const char *s, struct pw_ext_hs *hs)
{
	struct pw_error err = { 0 };
	bool ok = peer_wire_ext_hs_parse((const uint8_t *)s, strlen(s), hs, &err);

	assert_int_equal(err.code, ok ? PW_ERR_NONE : PW_ERR_EXT_PAYLOAD);
	return ok;
}

static void test_ext_handshake_hostile(void **state)
{
	struct pw_ext_hs hs;

	assert_false(parse_str("", &hs));
	assert_false(parse_str("le", &hs));
	assert_false(parse_str("i1e", &hs));
	assert_false(parse_str("d1:m", &hs));
	assert_true(parse_str("d1:mdee", &hs));
	assert_false(parse_str("d1:mdeeX", &hs));
	assert_false(parse_str("d1:xi1e1:xi2ee", &hs));
	/* Nesting is bounded. */
	char deep[64];
	for (int depth = 1; depth <= 12; depth++) {
		memset(deep, 0, sizeof deep);
		strcpy(deep, "d1:x");
		memset(deep + 4, 'l', (size_t)depth);
		memset(deep + 4 + depth, 'e', (size_t)depth + 1);
		assert_int_equal(parse_str(deep, &hs), depth < 8);
	}
	/* Out-of-range and wrong-typed values read as absent. */
	assert_true(parse_str("d1:md1:ai256e1:bi-1e1:c1:x1:di0e2:eei7ee"
	                      "1:pi70000e4:reqqi0e1:vi5e6:yourip5:abcdee", &hs));
	assert_int_equal(hs.n_ext, 2);
	assert_int_equal(pw_ext_hs_id(&hs, "a"), 0);
	assert_int_equal(pw_ext_hs_id(&hs, "d"), 0);
	assert_string_equal(hs.ext[0].name, "d");
	assert_int_equal(pw_ext_hs_id(&hs, "ee"), 7);
	assert_int_equal(hs.port, 0);
	assert_int_equal(hs.reqq, 0);
	assert_string_equal(hs.version, "");
	assert_int_equal(hs.yourip_family, 0);
	/* "m" not a dict; long name skipped; version cut; IPv6 yourip. */
	assert_true(parse_str("d1:mi3ee", &hs));
	assert_int_equal(hs.n_ext, 0);
	assert_true(parse_str("d1:md32:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaai1e31:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbi2ee"
	                      "1:v70:0123456789012345678901234567890123456789012345678901234567890123456789"
	                      "6:yourip16:0123456789abcdefe", &hs));
	assert_int_equal(hs.n_ext, 1);
	assert_int_equal(hs.ext[0].id, 2);
	assert_int_equal(strlen(hs.version), PW_EXT_VERSION_MAX);
	assert_int_equal(hs.yourip_family, AF_INET6);
	/* At most PW_EXT_MAX entries kept. */
	struct sta_buf b = STA_BUF_INIT;
	buf_append_str(&b, "d1:md");
	for (int i = 0; i < 40; i++)
		buf_printf(&b, "2:%c%ci%de", 'a' + i / 26, 'a' + i % 26, i + 1);
	buf_append_str(&b, "ee");
	buf_append_byte(&b, 0);
	assert_true(parse_str((const char *)b.data, &hs));
	assert_int_equal(hs.n_ext, PW_EXT_MAX);
	buf_free(&b);
}

/* ---- BEP 6 ---- */

static void test_allowed_fast_bep6_vector(void **state)
{
	static const uint8_t ip[4] = { 80, 4, 4, 200 };
	static const uint8_t other_host[4] = { 80, 4, 4, 17 }; /* same /24 */
	static const uint32_t want7[] = { 1059, 431, 808, 1217, 287, 376, 1188 };
	static const uint32_t want9[] = { 1059, 431, 808, 1217, 287, 376, 1188, 353, 508 };
	uint8_t hash[20];
	uint32_t got[9];

	memset(hash, 0xaa, sizeof hash);
	assert_int_equal(peer_wire_allowed_fast(ip, hash, 1313, got, 7), 7);
	assert_memory_equal(got, want7, sizeof want7);
	assert_int_equal(peer_wire_allowed_fast(ip, hash, 1313, got, 9), 9);
	assert_memory_equal(got, want9, sizeof want9);
	assert_int_equal(peer_wire_allowed_fast(other_host, hash, 1313, got, 9), 9);
	assert_memory_equal(got, want9, sizeof want9);
}

static void test_allowed_fast_small_torrent(void **state)
{
	static const uint8_t ip[4] = { 10, 0, 0, 1 };
	uint32_t got[10];
	bool seen[3] = { false };

	/* k is capped by the piece count, and every piece comes out once. */
	assert_int_equal(peer_wire_allowed_fast(ip, ih, 3, got, 10), 3);
	for (int i = 0; i < 3; i++) {
		assert_true(got[i] < 3);
		assert_false(seen[got[i]]);
		seen[got[i]] = true;
	}
	assert_int_equal(peer_wire_allowed_fast(ip, ih, 0, got, 10), 0);
	assert_int_equal(peer_wire_allowed_fast(ip, ih, 1, got, 10), 1);
	assert_int_equal(got[0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_build_exact),
		cmocka_unit_test(test_handshake_split_every_byte),
		cmocka_unit_test(test_handshake_wrong_protocol),
		cmocka_unit_test(test_handshake_check),
		cmocka_unit_test(test_fixed_messages),
		cmocka_unit_test(test_piece_points_into_buffer),
		cmocka_unit_test(test_parse_head),
		cmocka_unit_test(test_bitfield_and_extended_and_unknown),
		cmocka_unit_test(test_wrong_lengths_per_id),
		cmocka_unit_test(test_bitfield_unknown_size),
		cmocka_unit_test(test_request_block_length),
		cmocka_unit_test(test_oversized_prefix_with_four_bytes),
		cmocka_unit_test(test_limits_grow_for_huge_bitfield),
		cmocka_unit_test(test_stream_split_everywhere),
		cmocka_unit_test(test_ext_handshake_build_exact),
		cmocka_unit_test(test_ext_handshake_hostile),
		cmocka_unit_test(test_allowed_fast_bep6_vector),
		cmocka_unit_test(test_allowed_fast_small_torrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
