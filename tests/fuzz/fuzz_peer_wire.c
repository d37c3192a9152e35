/* Peer wire stream: byte 0 picks the torrent size, the rest is a handshake
 * then messages (or messages alone, when the handshake does not parse).
 * Checks that every span stays inside its message, every prefix of a good
 * message asks for more instead of failing, and fixed-size messages encode
 * back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bitfield.h"
#include "peer_wire.h"

#define CHECK(c)                       \
	do {                               \
		if (!(c))                      \
			__builtin_trap();          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_handshake(const uint8_t *data, size_t size, size_t *pos)
{
	struct pw_handshake hs;
	struct pw_error err;
	enum pw_status st = PW_NEED_MORE;

	/* Growing prefixes: "need more" until done or failed, never back. */
	for (size_t n = 0; n <= size && n <= PW_HANDSHAKE_LEN; n++) {
		enum pw_status now = peer_wire_handshake_parse(data, n, &hs, &err);
		CHECK(st == PW_NEED_MORE);
		CHECK(now != PW_OK || n == PW_HANDSHAKE_LEN);
		CHECK(hs.has_info_hash == (n >= 48 && now != PW_ERROR));
		st = now;
		if (st == PW_ERROR)
			return;
	}
	if (st == PW_OK)
		*pos = PW_HANDSHAKE_LEN;
}

/* Fixed-size messages must encode back to exactly what was parsed. */
static void check_reencode(const struct pw_msg *msg, const uint8_t *wire)
{
	uint8_t out[PW_LEN_BLOCK];
	size_t n;

	switch (msg->type) {
	case PW_MSG_KEEPALIVE:
		n = peer_wire_put_keepalive(out);
		break;
	case PW_MSG_CHOKE:
	case PW_MSG_UNCHOKE:
	case PW_MSG_INTERESTED:
	case PW_MSG_NOT_INTERESTED:
	case PW_MSG_HAVE_ALL:
	case PW_MSG_HAVE_NONE:
		n = peer_wire_put_simple(out, msg->type);
		break;
	case PW_MSG_HAVE:
	case PW_MSG_SUGGEST:
	case PW_MSG_ALLOWED_FAST:
		n = peer_wire_put_index(out, msg->type, msg->index);
		break;
	case PW_MSG_REQUEST:
	case PW_MSG_CANCEL:
	case PW_MSG_REJECT:
		n = peer_wire_put_block(out, msg->type, msg->index, msg->begin, msg->length);
		break;
	case PW_MSG_PIECE:
		n = peer_wire_put_piece_header(out, msg->index, msg->begin, msg->length);
		CHECK(msg->data == wire + n && n + msg->data_len == msg->consumed);
		break;
	case PW_MSG_PORT:
		n = peer_wire_put_port(out, msg->port);
		break;
	default:
		return;
	}
	CHECK(n <= msg->consumed);
	CHECK(memcmp(out, wire, n) == 0);
}

static void check_payload(const struct pw_msg *msg, const struct pw_limits *lim, uint32_t n_pieces)
{
	if (msg->type == PW_MSG_BITFIELD && lim->bitfield_len != 0) {
		struct bitfield bf;
		bitfield_init(&bf, n_pieces);
		if (bitfield_import(&bf, msg->data, msg->data_len)) {
			CHECK(bitfield_count(&bf) <= n_pieces);
			uint32_t seen = 0;
			for (uint32_t i = bitfield_next_set(&bf, 0); i < n_pieces;
			     i = bitfield_next_set(&bf, i + 1))
				seen++;
			CHECK(seen == bitfield_count(&bf));
		}
		bitfield_free(&bf);
	} else if (msg->type == PW_MSG_EXTENDED && msg->ext_id == 0) {
		struct pw_ext_hs hs;
		struct pw_error err;
		if (peer_wire_ext_hs_parse(msg->data, msg->data_len, &hs, &err)) {
			CHECK(hs.n_ext <= PW_EXT_MAX);
			CHECK(memchr(hs.version, '\0', sizeof hs.version) != NULL);
			/* Keys are unique (the decoder refuses duplicates). */
			for (size_t i = 0; i < hs.n_ext; i++)
				CHECK(pw_ext_hs_id(&hs, hs.ext[i].name) == hs.ext[i].id);
		}
	} else if (msg->type == PW_MSG_PIECE) {
		CHECK(msg->data_len > 0 && msg->data_len <= lim->max_block);
	}
}

/* parse_head agrees with peer_wire_parse (st, msg: its result on p) on
 * every message, and stops a piece message at its header. */
static void check_head(const uint8_t *p, size_t avail, const struct pw_limits *lim,
                       enum pw_status st, const struct pw_msg *msg)
{
	struct pw_msg head;
	struct pw_error err;
	enum pw_status hst = peer_wire_parse_head(p, avail, lim, &head, &err);

	if (avail >= PW_LEN_PIECE_HDR && st != PW_ERROR && p[4] == PW_MSG_PIECE &&
	    (p[0] | p[1] | p[2] | p[3]) != 0) {
		CHECK(hst == PW_OK && head.type == PW_MSG_PIECE && head.data == NULL);
		CHECK(head.consumed == PW_LEN_PIECE_HDR && head.length > 0);
		CHECK(head.length <= lim->max_block);
		if (st == PW_OK)
			CHECK(head.index == msg->index && head.begin == msg->begin &&
			      head.length == msg->length);
		return;
	}
	CHECK(hst == st);
	if (st == PW_OK)
		CHECK(head.type == msg->type && head.consumed == msg->consumed);
	else if (st == PW_NEED_MORE)
		CHECK(head.need == msg->need ||
		      (avail >= 5 && p[4] == PW_MSG_PIECE && head.need == PW_LEN_PIECE_HDR));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_limits lim;
	struct pw_msg msg, part;
	struct pw_error err;
	size_t pos = 0;

	if (size < 1)
		return 0;
	uint32_t n_pieces = data[0] * 37u; /* 0: size not known yet */
	data++;
	size--;
	pw_limits_init(&lim, n_pieces);
	check_handshake(data, size, &pos);
	while (pos < size) {
		const uint8_t *p = data + pos;
		size_t avail = size - pos;
		enum pw_status st = peer_wire_parse(p, avail, &lim, &msg, &err);
		check_head(p, avail, &lim, st, &msg);
		if (st == PW_NEED_MORE) {
			CHECK(msg.need > avail && msg.need <= 4 + (size_t)lim.max_msg);
			break;
		}
		if (st == PW_ERROR) {
			CHECK(err.code != PW_ERR_NONE);
			CHECK(pw_strerror(err.code) != NULL);
			break;
		}
		CHECK(msg.consumed >= 4 && msg.consumed <= avail);
		if (msg.data != NULL)
			CHECK(msg.data >= p + 5 && msg.data + msg.data_len <= p + msg.consumed);
		/* One byte short is "need more", asking for exactly the rest. */
		CHECK(peer_wire_parse(p, msg.consumed - 1, &lim, &part, &err) == PW_NEED_MORE);
		CHECK(part.need <= msg.consumed);
		check_reencode(&msg, p);
		check_payload(&msg, &lim, n_pieces);
		pos += msg.consumed;
	}
	return 0;
}
