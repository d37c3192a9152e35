/* The stad control protocol, spoken over stad's UNIX socket by stactl.
 * The whole wire format is in this header; bump CTL_PROTO_VERSION on any
 * change to message numbers or payload keys.
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
 * Payload keys (all optional unless marked *):
 *   HELLO     client* (str)                       -> OK: server (str), version (int)
 *   STATUS    torrent (str: info-hash hex prefix or name), peers (int 0/1)
 *             -> OK: torrents (list of dicts: info_hash, name, state, size,
 *                done (bytes verified), down_rate, up_rate, peers (int: count),
 *                seeds, and when peers=1 was asked: peer_list (list of dicts:
 *                addr, client, down, up, blocks, hash_fails, flags))
 *   START     -                                   -> OK: announced (int)
 *   UPDATE    limit (int 1-1000), after (str: a "next")
 *                                                 -> OK: files (list of dicts:
 *                name, size, info_hash, seeders, leechers, added), next (str:
 *                the cursor of the next page, absent on the last)
 *   SEARCH    words* (str), limit, after          -> OK: files, next (as UPDATE)
 *   REQUEST   target* (str: catalog name, info-hash prefix, or .torrent path)
 *                                                 -> OK: info_hash, name, size,
 *                note (str: which of several same-named entries was chosen)
 *   SHARE     path* (absolute path)               -> OK: info_hash (when quick) or
 *                                                    job (int) while hashing
 *   REMOVE    torrent* (str)  delete_data (int)   -> OK
 *   PAUSE / RESUME  torrent* (str)                -> OK
 *   CLOSE     -                                   -> OK (stopped announces sent)
 *   WATCH     torrent* (str)                      -> OK, then EVENTs:
 *                info_hash, state, size, done (bytes verified), down_rate,
 *                peers, eta (s, -1 unknown), complete (int 0/1: the last
 *                event of a finished download; its down_rate is the
 *                download's average and peers the number that sent
 *                blocks), error (str)
 *   ERROR     code* (str: "version", "not_found", "bad_request", "busy",
 *                "io", "internal"), message* (str, a sentence for the user)
 */
#ifndef STA_CTL_PROTO_H
#define STA_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bencode.h"
#include "buf.h"

#define CTL_PROTO_VERSION 2
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
 * start) and ctl_frame_end returns false: the caller replies with an error. */
size_t ctl_frame_begin(struct sta_buf *b, uint16_t type);
bool ctl_frame_end(struct sta_buf *b, size_t start);
/* An ERROR frame in one call. */
void ctl_frame_error(struct sta_buf *b, const char *code, const char *message);

#endif
