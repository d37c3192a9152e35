#include "ctl_proto.h"

/* Control payloads are small flat dicts with a list of torrents or peers;
 * these limits leave room for thousands of entries and nothing deeper. */
static const struct be_limits ctl_limits = {
	.max_depth = 8,
	.max_nodes = 200000,
	.strict_key_order = false,
};

static const struct {
	uint16_t type;
	const char *name;
} ctl_names[] = {
	{ CTL_MSG_HELLO, "HELLO" },   { CTL_MSG_STATUS, "STATUS" },
	{ CTL_MSG_START, "START" },   { CTL_MSG_UPDATE, "UPDATE" },
	{ CTL_MSG_REQUEST, "REQUEST" }, { CTL_MSG_SHARE, "SHARE" },
	{ CTL_MSG_REMOVE, "REMOVE" }, { CTL_MSG_PAUSE, "PAUSE" },
	{ CTL_MSG_RESUME, "RESUME" }, { CTL_MSG_CLOSE, "CLOSE" },
	{ CTL_MSG_WATCH, "WATCH" },   { CTL_MSG_SEARCH, "SEARCH" },
	{ CTL_MSG_OK, "OK" },
	{ CTL_MSG_ERROR, "ERROR" },   { CTL_MSG_EVENT, "EVENT" },
};

const char *ctl_msg_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof ctl_names / sizeof ctl_names[0]; i++)
		if (ctl_names[i].type == type)
			return ctl_names[i].name;
	return NULL;
}

enum ctl_parse_result ctl_frame_parse(const uint8_t *buf, size_t len, struct ctl_frame *frame,
                                      size_t *consumed, const char **why)
{
	if (len < CTL_HEADER_LEN)
		return CTL_NEED_MORE;
	uint32_t plen = load_u32be(buf);
	uint16_t version = load_u16be(buf + 4);
	uint16_t type = load_u16be(buf + 6);

	/* Judge the header before waiting for the body, so a hostile length
	 * never makes us buffer it. */
	if (plen > CTL_FRAME_MAX) {
		*why = "frame longer than the 1 MiB limit";
		return CTL_FRAME_ERROR;
	}
	if (version == CTL_PROTO_VERSION && ctl_msg_name(type) == NULL) {
		*why = "unknown message type";
		return CTL_FRAME_ERROR;
	}
	if (len - CTL_HEADER_LEN < plen)
		return CTL_NEED_MORE;
	if (version == CTL_PROTO_VERSION &&
	    (plen < 2 || buf[CTL_HEADER_LEN] != 'd' || buf[CTL_HEADER_LEN + plen - 1] != 'e')) {
		*why = "payload is not a bencoded dict";
		return CTL_FRAME_ERROR;
	}
	frame->version = version;
	frame->type = type;
	frame->payload = buf + CTL_HEADER_LEN;
	frame->payload_len = plen;
	*consumed = CTL_HEADER_LEN + (size_t)plen;
	return CTL_FRAME_OK;
}

enum be_err ctl_payload_decode(const struct ctl_frame *frame, struct be_doc *doc)
{
	enum be_err e = be_decode(doc, frame->payload, frame->payload_len, &ctl_limits, NULL);

	if (e == BE_OK && be_root(doc)->type != BE_DICT) {
		be_doc_free(doc);
		return BE_ERR_SYNTAX;
	}
	return e;
}

size_t ctl_frame_begin(struct sta_buf *b, uint16_t type)
{
	size_t start = b->len;
	uint8_t hdr[CTL_HEADER_LEN];

	store_u32be(hdr, 0);
	store_u16be(hdr + 4, CTL_PROTO_VERSION);
	store_u16be(hdr + 6, type);
	buf_append(b, hdr, sizeof hdr);
	be_enc_dict_begin(b);
	return start;
}

bool ctl_frame_end(struct sta_buf *b, size_t start)
{
	be_enc_end(b);
	size_t plen = b->len - start - CTL_HEADER_LEN;
	/* Our own replies obey the limit we impose on the other side. */
	if (plen > CTL_FRAME_MAX) {
		b->len = start;
		return false;
	}
	store_u32be(b->data + start, (uint32_t)plen);
	return true;
}
