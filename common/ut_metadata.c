/* ut_metadata messages (BEP 9). */
#include "ut_metadata.h"

#include "bencode.h"
#include "peer_wire.h"

/* The dict has three entries; a little slack for keys we ignore. */
static const struct be_limits utm_be_limits = {
	.max_depth = 4,
	.max_nodes = 64,
	.strict_key_order = false,
};

static bool utm_fail(enum utm_err *err, enum utm_err code)
{
	*err = code;
	return false;
}

uint32_t ut_metadata_pieces(uint32_t size)
{
	return (uint32_t)(((uint64_t)size + UTM_PIECE_LEN - 1) / UTM_PIECE_LEN);
}

uint32_t ut_metadata_piece_len(uint32_t size, uint32_t piece)
{
	uint32_t n = ut_metadata_pieces(size);

	if (piece >= n)
		return 0;
	return piece + 1 < n ? UTM_PIECE_LEN : size - piece * UTM_PIECE_LEN;
}

/* The dict's fields; false with *err for a bad one. */
static bool utm_fields(const struct be_doc *doc, uint32_t max_size, struct utm_msg *m,
                       enum utm_err *err)
{
	const struct be_node *root = be_root(doc);
	int64_t type, piece, total;

	if (root->type != BE_DICT)
		return utm_fail(err, UTM_ERR_DICT);
	if (!be_dict_get_int(doc, root, "msg_type", &type))
		return utm_fail(err, UTM_ERR_MSG_TYPE);
	m->type = type >= UTM_REQUEST && type <= UTM_REJECT ? (enum utm_type)type : UTM_UNKNOWN;
	if (m->type == UTM_UNKNOWN)
		return true;
	if (!be_dict_get_int(doc, root, "piece", &piece) || piece < 0 ||
	    piece >= ut_metadata_pieces(max_size))
		return utm_fail(err, UTM_ERR_PIECE);
	m->piece = (uint32_t)piece;
	if (m->type != UTM_DATA)
		return true;
	if (!be_dict_get_int(doc, root, "total_size", &total) || total < 1 || total > max_size)
		return utm_fail(err, UTM_ERR_TOTAL_SIZE);
	m->total_size = (uint32_t)total;
	if (m->piece >= ut_metadata_pieces(m->total_size))
		return utm_fail(err, UTM_ERR_PIECE);
	return true;
}

bool ut_metadata_parse(const uint8_t *payload, size_t len, uint32_t max_size, struct utm_msg *m,
                       enum utm_err *err)
{
	struct be_doc doc;
	size_t used;

	*m = (struct utm_msg){ .type = UTM_UNKNOWN };
	*err = UTM_ERR_NONE;
	if (max_size == 0 || max_size > UTM_MAX_SIZE)
		max_size = UTM_MAX_SIZE;
	if (be_decode_prefix(&doc, payload, len, &utm_be_limits, NULL, &used) != BE_OK)
		return utm_fail(err, UTM_ERR_DICT);
	bool ok = utm_fields(&doc, max_size, m, err);
	be_doc_free(&doc);
	if (!ok)
		return false;
	if (m->type == UTM_DATA) {
		m->data = payload + used;
		m->data_len = len - used;
		if (m->data_len != ut_metadata_piece_len(m->total_size, m->piece))
			return utm_fail(err, UTM_ERR_DATA_LEN);
	} else if (m->type != UTM_UNKNOWN && used != len) {
		return utm_fail(err, UTM_ERR_TRAILING);
	}
	return true;
}

const char *ut_metadata_strerror(enum utm_err e)
{
	switch (e) {
	case UTM_ERR_NONE: return "no error";
	case UTM_ERR_DICT: return "ut_metadata: not a bencoded dict";
	case UTM_ERR_MSG_TYPE: return "ut_metadata: no msg_type";
	case UTM_ERR_PIECE: return "ut_metadata: piece out of range";
	case UTM_ERR_TOTAL_SIZE: return "ut_metadata: total_size out of range";
	case UTM_ERR_DATA_LEN: return "ut_metadata: data is not one piece long";
	case UTM_ERR_TRAILING: return "ut_metadata: bytes after a request or reject";
	}
	return "ut_metadata: unknown error";
}

static void utm_put(struct sta_buf *out, uint8_t ext_id, enum utm_type type, uint32_t piece,
                    uint32_t total_size, const uint8_t *data, size_t len)
{
	size_t start = peer_wire_ext_begin(out, ext_id);

	be_enc_dict_begin(out);
	be_enc_kv_int(out, "msg_type", type);
	be_enc_kv_int(out, "piece", piece);
	if (type == UTM_DATA)
		be_enc_kv_int(out, "total_size", total_size);
	be_enc_end(out);
	if (len)
		buf_append(out, data, len);
	peer_wire_ext_end(out, start);
}

void ut_metadata_put_request(struct sta_buf *out, uint8_t ext_id, uint32_t piece)
{
	utm_put(out, ext_id, UTM_REQUEST, piece, 0, NULL, 0);
}

void ut_metadata_put_reject(struct sta_buf *out, uint8_t ext_id, uint32_t piece)
{
	utm_put(out, ext_id, UTM_REJECT, piece, 0, NULL, 0);
}

void ut_metadata_put_data(struct sta_buf *out, uint8_t ext_id, uint32_t piece,
                          uint32_t total_size, const uint8_t *data, size_t len)
{
	utm_put(out, ext_id, UTM_DATA, piece, total_size, data, len);
}
