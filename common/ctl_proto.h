/* The stad control protocol, spoken over stad's UNIX socket by stactl.
 * The frames are defined here, their payloads in ctl_msg.h; bump
 * CTL_PROTO_VERSION on any change to message numbers or payloads.
 *
 * Frame (8-byte header, never changes between versions so that both sides
 * can always read the version and say what they speak):
 *   u32 BE  payload length (excluding the header), at most CTL_FRAME_MAX
 *   u16 BE  protocol version of the sender
 *   u16 BE  message type (enum ctl_msg)
 *   payload: one bencoded dict (BEP 3 encoding), "de" when empty
 *
 * A client sends CTL_MSG_HELLO first; stad answers CTL_MSG_OK, or
 * CTL_MSG_ERROR with code "version" and closes when versions differ.
 * Each request gets exactly one OK or ERROR reply, in order; after
 * CTL_MSG_WATCH, CTL_MSG_EVENT frames follow until the client closes or
 * the watched download ends (a final event with "complete" = 1).
 *
 * The payload of each message, and the one encoder and decoder for it, are
 * in ctl_msg.h:
 *   HELLO   ctl_hello            -> OK ctl_hello_reply
 *   STATUS  ctl_status_args      -> OK ctl_status (the torrents, with their
 *                                   peers when asked)
 *   START   -                    -> OK ctl_start_reply
 *   UPDATE  ctl_update_args      -> OK: a page of the catalog, in the
 *                                   listing format of catalog_proto.h
 *   SEARCH  ctl_search_args      -> OK: a page, as UPDATE
 *   REQUEST ctl_request_args     -> OK ctl_torrent_reply
 *   SHARE   ctl_share_args       -> OK ctl_torrent_reply (once hashed)
 *   REMOVE, PAUSE, RESUME  ctl_torrent_args -> OK ctl_torrent_reply
 *   CLOSE   -                    -> OK ctl_close_reply, once the stopped
 *                                   announces are out
 *   WATCH   ctl_torrent_args     -> OK, then EVENTs (ctl_torrent), one each
 *                                   time something in it changes
 *   ERROR   ctl_error (code: CTL_ERR_*, message: a sentence for the user)
 *
 * Version 2: SEARCH, and pages of the catalog. Version 3: typed payloads
 * (ctl_msg.h); UPDATE and SEARCH answer in the catalog's listing format;
 * STATUS says whether stad is closed and each torrent's path, ratio and
 * tracker seeders; replies to REQUEST, SHARE, REMOVE, PAUSE, RESUME and
 * CLOSE say what changed; WATCH sends an event only when it differs from
 * the last one.
 */
#ifndef STA_CTL_PROTO_H
#define STA_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bencode.h"
#include "buf.h"

#define CTL_PROTO_VERSION 3
#define CTL_HEADER_LEN 8
#define CTL_FRAME_MAX (1024 * 1024)

/* Grouped by range: 0x00xx session, 0x01xx requests, 0x02xx replies,
 * 0x03xx unsolicited. */
enum ctl_msg {
	CTL_MSG_HELLO = 0x0001,

	CTL_MSG_STATUS = 0x0101,
	CTL_MSG_START = 0x0102,
	CTL_MSG_UPDATE = 0x0103,
	CTL_MSG_REQUEST = 0x0104,
	CTL_MSG_SHARE = 0x0105,
	CTL_MSG_REMOVE = 0x0106,
	CTL_MSG_PAUSE = 0x0107,
	CTL_MSG_RESUME = 0x0108,
	CTL_MSG_CLOSE = 0x0109,
	CTL_MSG_WATCH = 0x010a,
	CTL_MSG_SEARCH = 0x010b,

	CTL_MSG_OK = 0x0201,
	CTL_MSG_ERROR = 0x0202,

	CTL_MSG_EVENT = 0x0301,
};

enum ctl_parse_result {
	CTL_NEED_MORE = 0,
	CTL_FRAME_OK,
	CTL_FRAME_ERROR,
};

struct ctl_frame {
	uint16_t version;
	uint16_t type;
	const uint8_t *payload; /* points into the parsed buffer */
	uint32_t payload_len;
};

/* Parses one frame from buf[0..len). CTL_FRAME_OK: *frame filled and
 * *consumed = header + payload. CTL_NEED_MORE: wait for more bytes (the
 * header has already been checked if present). CTL_FRAME_ERROR: the stream
 * is unusable (length over CTL_FRAME_MAX, unknown message type or a
 * version-1 frame whose payload is not a dict); *why says what. A
 * version mismatch is not a parse error: the header layout is fixed, so the
 * caller sees frame->version and answers. */
enum ctl_parse_result ctl_frame_parse(const uint8_t *buf, size_t len, struct ctl_frame *frame,
                                      size_t *consumed, const char **why);
/* Decodes a frame's payload dict with the control protocol's limits.
 * Returns BE_OK and a doc to free with be_doc_free. */
enum be_err ctl_payload_decode(const struct ctl_frame *frame, struct be_doc *doc);
/* "STATUS", "OK", ... or NULL for an unknown type. */
const char *ctl_msg_name(uint16_t type);

/* Encoding: ctl_frame_begin appends a header and the payload's 'd' and
 * returns the frame's start offset; append dict entries with be_enc_* (keys
 * in sorted order), then ctl_frame_end closes the dict and patches the
 * length. A payload over CTL_FRAME_MAX is cut off again (b->len back to
 * start) and ctl_frame_end returns false: the caller replies with an error.
 * ctl_msg.h's encoders use these; nothing else should. */
size_t ctl_frame_begin(struct sta_buf *b, uint16_t type);
bool ctl_frame_end(struct sta_buf *b, size_t start);

#endif
