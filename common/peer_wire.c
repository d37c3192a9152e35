#include "peer_wire.h"

#include <assert.h>
#include <string.h>
#include <sys/socket.h>

#include "bencode.h"
#include "bitfield.h"
#include "sha1.h"

static enum pw_status pw_fail(struct pw_error *err, enum pw_err code, uint8_t id, uint32_t len)
{
	if (err != NULL) {
		err->code = code;
		err->id = id;
		err->len = len;
	}
	return PW_ERROR;
}

const char *pw_strerror(enum pw_err e)
{
	switch (e) {
	case PW_ERR_NONE:
		return "no error";
	case PW_ERR_PSTRLEN:
		return "handshake protocol name length is not 19";
	case PW_ERR_PSTR:
		return "handshake protocol is not \"BitTorrent protocol\"";
	case PW_ERR_INFO_HASH:
		return "handshake for an unknown info-hash";
	case PW_ERR_SELF:
		return "handshake carries our own peer id";
	case PW_ERR_MSG_TOO_LONG:
		return "message length over the limit";
	case PW_ERR_BAD_LENGTH:
		return "wrong length for the message id";
	case PW_ERR_BITFIELD_LEN:
		return "bitfield length does not match the piece count";
	case PW_ERR_BLOCK_LEN:
		return "block length zero or over the limit";
	case PW_ERR_EXT_PAYLOAD:
		return "malformed extension handshake";
	}
	return "unknown error";
}

/* ---- handshake ---- */

void peer_wire_handshake_build(uint8_t out[PW_HANDSHAKE_LEN], const uint8_t info_hash[PW_HASH_LEN],
                               const uint8_t peer_id[PW_HASH_LEN])
{
	out[0] = PW_PSTR_LEN;
	memcpy(out + 1, PW_PSTR, PW_PSTR_LEN);
	memset(out + 20, 0, 8);
	out[20 + PW_RES_EXT_BYTE] |= PW_RES_EXT_BIT;
	out[20 + PW_RES_FAST_BYTE] |= PW_RES_FAST_BIT;
	memcpy(out + 28, info_hash, PW_HASH_LEN);
	memcpy(out + 48, peer_id, PW_HASH_LEN);
}

enum pw_status peer_wire_handshake_parse(const uint8_t *buf, size_t len, struct pw_handshake *hs,
                                         struct pw_error *err)
{
	hs->has_info_hash = false;
	if (len == 0)
		return PW_NEED_MORE;
	if (buf[0] != PW_PSTR_LEN)
		return pw_fail(err, PW_ERR_PSTRLEN, 0, buf[0]);
	size_t have = len - 1 < PW_PSTR_LEN ? len - 1 : PW_PSTR_LEN;
	if (memcmp(buf + 1, PW_PSTR, have) != 0)
		return pw_fail(err, PW_ERR_PSTR, 0, 0);
	if (len < 48)
		return PW_NEED_MORE;
	memcpy(hs->reserved, buf + 20, sizeof hs->reserved);
	memcpy(hs->info_hash, buf + 28, PW_HASH_LEN);
	hs->has_info_hash = true;
	if (len < PW_HANDSHAKE_LEN)
		return PW_NEED_MORE;
	memcpy(hs->peer_id, buf + 48, PW_HASH_LEN);
	return PW_OK;
}

bool peer_wire_handshake_check(const struct pw_handshake *hs, const uint8_t info_hash[PW_HASH_LEN],
                               const uint8_t own_peer_id[PW_HASH_LEN], struct pw_error *err)
{
	if (memcmp(hs->info_hash, info_hash, PW_HASH_LEN) != 0) {
		pw_fail(err, PW_ERR_INFO_HASH, 0, 0);
		return false;
	}
	if (memcmp(hs->peer_id, own_peer_id, PW_HASH_LEN) == 0) {
		pw_fail(err, PW_ERR_SELF, 0, 0);
		return false;
	}
	return true;
}

/* ---- messages ---- */

void pw_limits_init(struct pw_limits *lim, uint32_t n_pieces)
{
	size_t bf_len = bitfield_wire_len(n_pieces);

	lim->max_msg = PW_MAX_MSG;
	lim->max_block = PW_MAX_BLOCK;
	lim->bitfield_len = (uint32_t)bf_len;
	if (bf_len + 1 > lim->max_msg)
		lim->max_msg = (uint32_t)bf_len + 1;
}

/* The length prefix mlen (> 0) against what message id allows; known from
 * the 5-byte header alone, before any of the body is buffered. */
static enum pw_err pw_check_len(uint8_t id, uint32_t mlen, const struct pw_limits *lim)
{
	switch (id) {
	case PW_MSG_CHOKE:
	case PW_MSG_UNCHOKE:
	case PW_MSG_INTERESTED:
	case PW_MSG_NOT_INTERESTED:
	case PW_MSG_HAVE_ALL:
	case PW_MSG_HAVE_NONE:
		return mlen == 1 ? PW_ERR_NONE : PW_ERR_BAD_LENGTH;
	case PW_MSG_HAVE:
	case PW_MSG_SUGGEST:
	case PW_MSG_ALLOWED_FAST:
		return mlen == PW_LEN_INDEX - 4 ? PW_ERR_NONE : PW_ERR_BAD_LENGTH;
	case PW_MSG_REQUEST:
	case PW_MSG_CANCEL:
	case PW_MSG_REJECT:
		return mlen == PW_LEN_BLOCK - 4 ? PW_ERR_NONE : PW_ERR_BAD_LENGTH;
	case PW_MSG_PORT:
		return mlen == PW_LEN_PORT - 4 ? PW_ERR_NONE : PW_ERR_BAD_LENGTH;
	case PW_MSG_BITFIELD:
		if (lim->bitfield_len != 0)
			return mlen - 1 == lim->bitfield_len ? PW_ERR_NONE : PW_ERR_BITFIELD_LEN;
		return mlen >= 2 ? PW_ERR_NONE : PW_ERR_BITFIELD_LEN;
	case PW_MSG_PIECE:
		if (mlen < PW_LEN_PIECE_HDR - 4)
			return PW_ERR_BAD_LENGTH;
		if (mlen == PW_LEN_PIECE_HDR - 4 || mlen - (PW_LEN_PIECE_HDR - 4) > lim->max_block)
			return PW_ERR_BLOCK_LEN;
		return PW_ERR_NONE;
	case PW_MSG_EXTENDED:
		return mlen >= 2 ? PW_ERR_NONE : PW_ERR_BAD_LENGTH;
	default:
		return PW_ERR_NONE;
	}
}

/* Fills msg from a complete, length-checked message of mlen bytes after
 * the prefix; body is the byte after the id. */
static enum pw_status pw_fill(struct pw_msg *msg, uint8_t id, uint32_t mlen, const uint8_t *body,
                              const struct pw_limits *lim, struct pw_error *err)
{
	size_t body_len = mlen - 1;

	switch (id) {
	case PW_MSG_CHOKE:
	case PW_MSG_UNCHOKE:
	case PW_MSG_INTERESTED:
	case PW_MSG_NOT_INTERESTED:
	case PW_MSG_HAVE_ALL:
	case PW_MSG_HAVE_NONE:
		break;
	case PW_MSG_HAVE:
	case PW_MSG_SUGGEST:
	case PW_MSG_ALLOWED_FAST:
		msg->index = load_u32be(body);
		break;
	case PW_MSG_REQUEST:
	case PW_MSG_CANCEL:
	case PW_MSG_REJECT:
		msg->index = load_u32be(body);
		msg->begin = load_u32be(body + 4);
		msg->length = load_u32be(body + 8);
		/* A request we could never serve; cancel and reject only
		 * name our own requests, which the caller matches. */
		if (id == PW_MSG_REQUEST && (msg->length == 0 || msg->length > lim->max_block))
			return pw_fail(err, PW_ERR_BLOCK_LEN, id, mlen);
		break;
	case PW_MSG_PIECE:
		msg->index = load_u32be(body);
		msg->begin = load_u32be(body + 4);
		msg->data = body + 8;
		msg->data_len = body_len - 8;
		msg->length = (uint32_t)msg->data_len;
		break;
	case PW_MSG_PORT:
		msg->port = load_u16be(body);
		break;
	case PW_MSG_EXTENDED:
		msg->ext_id = body[0];
		msg->data = body + 1;
		msg->data_len = body_len - 1;
		break;
	default:
		/* Bitfield and unknown ids: the body as is. */
		msg->data = body;
		msg->data_len = body_len;
		break;
	}
	return PW_OK;
}

static bool pw_known_id(uint8_t id)
{
	return id <= PW_MSG_PORT || (id >= PW_MSG_SUGGEST && id <= PW_MSG_ALLOWED_FAST) ||
	       id == PW_MSG_EXTENDED;
}

enum pw_status peer_wire_parse(const uint8_t *buf, size_t len, const struct pw_limits *lim,
                               struct pw_msg *msg, struct pw_error *err)
{
	struct pw_limits def;

	if (lim == NULL) {
		pw_limits_init(&def, 0);
		lim = &def;
	}
	memset(msg, 0, sizeof *msg);
	if (len < 4) {
		msg->need = 4;
		return PW_NEED_MORE;
	}
	uint32_t mlen = load_u32be(buf);
	if (mlen > lim->max_msg)
		return pw_fail(err, PW_ERR_MSG_TOO_LONG, 0, mlen);
	if (mlen == 0) {
		msg->type = PW_MSG_KEEPALIVE;
		msg->consumed = 4;
		return PW_OK;
	}
	if (len < 5) {
		msg->need = 5;
		return PW_NEED_MORE;
	}
	uint8_t id = buf[4];
	enum pw_err e = pw_check_len(id, mlen, lim);
	if (e != PW_ERR_NONE)
		return pw_fail(err, e, id, mlen);
	size_t total = 4 + (size_t)mlen;
	if (len < total) {
		msg->need = total;
		return PW_NEED_MORE;
	}
	msg->type = pw_known_id(id) ? (enum pw_msg_type)id : PW_MSG_UNKNOWN;
	msg->id = id;
	msg->consumed = total;
	return pw_fill(msg, id, mlen, buf + 5, lim, err);
}

enum pw_status peer_wire_parse_head(const uint8_t *buf, size_t len, const struct pw_limits *lim,
                                    struct pw_msg *msg, struct pw_error *err)
{
	bool piece = len >= 5 && buf[4] == PW_MSG_PIECE;
	size_t n = piece && len > PW_LEN_PIECE_HDR ? PW_LEN_PIECE_HDR : len;
	enum pw_status st = peer_wire_parse(buf, n, lim, msg, err);

	/* A keep-alive followed by a byte 7 is done (PW_OK) at 4 bytes. */
	if (!piece || st != PW_NEED_MORE)
		return st;
	if (len < PW_LEN_PIECE_HDR) {
		msg->need = PW_LEN_PIECE_HDR;
		return PW_NEED_MORE;
	}
	msg->type = PW_MSG_PIECE;
	msg->id = PW_MSG_PIECE;
	msg->index = load_u32be(buf + 5);
	msg->begin = load_u32be(buf + 9);
	msg->length = load_u32be(buf) - (PW_LEN_PIECE_HDR - 4);
	msg->consumed = PW_LEN_PIECE_HDR;
	msg->need = 0;
	return PW_OK;
}

/* ---- encoders ---- */

size_t peer_wire_put_keepalive(uint8_t out[PW_LEN_KEEPALIVE])
{
	store_u32be(out, 0);
	return PW_LEN_KEEPALIVE;
}

static void pw_put_header(uint8_t *out, size_t total, enum pw_msg_type type)
{
	store_u32be(out, (uint32_t)(total - 4));
	out[4] = (uint8_t)type;
}

size_t peer_wire_put_simple(uint8_t out[PW_LEN_SIMPLE], enum pw_msg_type type)
{
	assert(type <= PW_MSG_NOT_INTERESTED || type == PW_MSG_HAVE_ALL || type == PW_MSG_HAVE_NONE);
	pw_put_header(out, PW_LEN_SIMPLE, type);
	return PW_LEN_SIMPLE;
}

size_t peer_wire_put_index(uint8_t out[PW_LEN_INDEX], enum pw_msg_type type, uint32_t index)
{
	assert(type == PW_MSG_HAVE || type == PW_MSG_SUGGEST || type == PW_MSG_ALLOWED_FAST);
	pw_put_header(out, PW_LEN_INDEX, type);
	store_u32be(out + 5, index);
	return PW_LEN_INDEX;
}

size_t peer_wire_put_block(uint8_t out[PW_LEN_BLOCK], enum pw_msg_type type, uint32_t index,
                           uint32_t begin, uint32_t length)
{
	assert(type == PW_MSG_REQUEST || type == PW_MSG_CANCEL || type == PW_MSG_REJECT);
	pw_put_header(out, PW_LEN_BLOCK, type);
	store_u32be(out + 5, index);
	store_u32be(out + 9, begin);
	store_u32be(out + 13, length);
	return PW_LEN_BLOCK;
}

size_t peer_wire_put_piece_header(uint8_t out[PW_LEN_PIECE_HDR], uint32_t index, uint32_t begin,
                                  uint32_t block_len)
{
	assert(block_len <= UINT32_MAX - (PW_LEN_PIECE_HDR - 4));
	store_u32be(out, block_len + PW_LEN_PIECE_HDR - 4);
	out[4] = PW_MSG_PIECE;
	store_u32be(out + 5, index);
	store_u32be(out + 9, begin);
	return PW_LEN_PIECE_HDR;
}

size_t peer_wire_put_port(uint8_t out[PW_LEN_PORT], uint16_t port)
{
	pw_put_header(out, PW_LEN_PORT, PW_MSG_PORT);
	store_u16be(out + 5, port);
	return PW_LEN_PORT;
}

void peer_wire_append_bitfield(struct sta_buf *out, const uint8_t *bits, size_t len)
{
	assert(len < UINT32_MAX);
	buf_reserve(out, 5 + len);
	buf_append_u32be(out, (uint32_t)(len + 1));
	buf_append_byte(out, PW_MSG_BITFIELD);
	buf_append(out, bits, len);
}

size_t peer_wire_ext_begin(struct sta_buf *out, uint8_t ext_id)
{
	size_t start = out->len;

	buf_append_u32be(out, 0);
	buf_append_byte(out, PW_MSG_EXTENDED);
	buf_append_byte(out, ext_id);
	return start;
}

void peer_wire_ext_end(struct sta_buf *out, size_t start)
{
	size_t mlen = out->len - start - 4;

	assert(mlen <= UINT32_MAX);
	store_u32be(out->data + start, (uint32_t)mlen);
}

/* ---- BEP 10 extension handshake ---- */

/* Tight enough for a handshake dict (a few dozen values in practice). */
static const struct be_limits pw_ext_be_limits = {
	.max_depth = 8,
	.max_nodes = 1024,
	.strict_key_order = false,
};

void peer_wire_ext_hs_build(struct sta_buf *out, const struct pw_ext_hs *hs)
{
	size_t order[PW_EXT_MAX];
	size_t n = hs->n_ext < PW_EXT_MAX ? hs->n_ext : PW_EXT_MAX;

	/* Bencoded dict keys go in byte order; strcmp compares unsigned. */
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		for (; j > 0 && strcmp(hs->ext[order[j - 1]].name, hs->ext[i].name) > 0; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	size_t start = peer_wire_ext_begin(out, 0);
	be_enc_dict_begin(out);
	be_enc_cstr(out, "m");
	be_enc_dict_begin(out);
	for (size_t i = 0; i < n; i++)
		be_enc_kv_int(out, hs->ext[order[i]].name, hs->ext[order[i]].id);
	be_enc_end(out);
	if (hs->metadata_size != 0)
		be_enc_kv_int(out, "metadata_size", hs->metadata_size);
	if (hs->port != 0)
		be_enc_kv_int(out, "p", hs->port);
	if (hs->reqq != 0)
		be_enc_kv_int(out, "reqq", hs->reqq);
	if (hs->version[0] != '\0')
		be_enc_kv_cstr(out, "v", hs->version);
	if (hs->yourip_family != 0)
		be_enc_kv_str(out, "yourip", hs->yourip, hs->yourip_family == AF_INET ? 4 : 16);
	be_enc_end(out);
	peer_wire_ext_end(out, start);
}

static void pw_ext_parse_m(const struct be_doc *doc, const struct be_node *m, struct pw_ext_hs *hs)
{
	const struct be_node *k, *v;

	for (k = be_first(doc, m); k != NULL && hs->n_ext < PW_EXT_MAX; k = be_next(doc, v)) {
		v = be_next(doc, k);
		if (v->type != BE_INT || v->ival < 0 || v->ival > 255 ||
		    k->str_len == 0 || k->str_len > PW_EXT_NAME_MAX ||
		    memchr(be_str(doc, k), '\0', k->str_len) != NULL)
			continue;
		struct pw_ext *e = &hs->ext[hs->n_ext++];
		memcpy(e->name, be_str(doc, k), k->str_len);
		e->name[k->str_len] = '\0';
		e->id = (uint8_t)v->ival;
	}
}

/* dict[key] when it is an integer in [1, max], else 0. */
static uint32_t pw_ext_get_u32(const struct be_doc *doc, const struct be_node *dict,
                               const char *key, uint32_t max)
{
	int64_t v;

	if (!be_dict_get_int(doc, dict, key, &v) || v < 1 || v > max)
		return 0;
	return (uint32_t)v;
}

bool peer_wire_ext_hs_parse(const uint8_t *data, size_t len, struct pw_ext_hs *hs,
                            struct pw_error *err)
{
	struct be_doc doc;
	const uint8_t *s;
	size_t slen;

	memset(hs, 0, sizeof *hs);
	if (be_decode(&doc, data, len, &pw_ext_be_limits, NULL) != BE_OK) {
		pw_fail(err, PW_ERR_EXT_PAYLOAD, PW_MSG_EXTENDED, 0);
		return false;
	}
	const struct be_node *root = be_root(&doc);
	if (root->type != BE_DICT) {
		be_doc_free(&doc);
		pw_fail(err, PW_ERR_EXT_PAYLOAD, PW_MSG_EXTENDED, 0);
		return false;
	}
	pw_ext_parse_m(&doc, be_dict_get_type(&doc, root, "m", BE_DICT), hs);
	hs->port = (uint16_t)pw_ext_get_u32(&doc, root, "p", UINT16_MAX);
	hs->reqq = pw_ext_get_u32(&doc, root, "reqq", UINT32_MAX);
	hs->metadata_size = pw_ext_get_u32(&doc, root, "metadata_size", UINT32_MAX);
	if ((s = be_dict_get_str(&doc, root, "v", &slen)) != NULL) {
		slen = slen < PW_EXT_VERSION_MAX ? slen : PW_EXT_VERSION_MAX;
		memcpy(hs->version, s, slen);
		hs->version[slen] = '\0';
	}
	if ((s = be_dict_get_str(&doc, root, "yourip", &slen)) != NULL && (slen == 4 || slen == 16)) {
		hs->yourip_family = slen == 4 ? AF_INET : AF_INET6;
		memcpy(hs->yourip, s, slen);
	}
	be_doc_free(&doc);
	return true;
}

uint8_t pw_ext_hs_id(const struct pw_ext_hs *hs, const char *name)
{
	for (size_t i = 0; i < hs->n_ext; i++)
		if (strcmp(hs->ext[i].name, name) == 0)
			return hs->ext[i].id;
	return 0;
}

/* ---- BEP 6 allowed-fast set ---- */

size_t peer_wire_allowed_fast(const uint8_t ip[4], const uint8_t info_hash[PW_HASH_LEN],
                              uint32_t n_pieces, uint32_t *out, size_t k)
{
	uint8_t x[4 + PW_HASH_LEN];
	uint8_t h[SHA1_LEN];
	size_t n = 0;

	if (k > n_pieces)
		k = n_pieces; /* otherwise the loop below could never end */
	/* The peer's /24 then the info-hash, hashed over and over. */
	memcpy(x, ip, 3);
	x[3] = 0;
	memcpy(x + 4, info_hash, PW_HASH_LEN);
	sha1(x, sizeof x, h);
	for (;;) {
		for (size_t j = 0; j < SHA1_LEN && n < k; j += 4) {
			uint32_t index = load_u32be(h + j) % n_pieces;
			size_t i = 0;
			while (i < n && out[i] != index)
				i++;
			if (i == n)
				out[n++] = index;
		}
		if (n == k)
			return n;
		sha1(h, sizeof h, h);
	}
}
