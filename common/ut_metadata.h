/* ut_metadata (BEP 9): the extension message that carries a torrent's info
 * dictionary between peers in 16 KiB pieces, so that a magnet link is
 * enough to join a swarm.
 *
 * A message is the payload of a BEP 10 extended message: a bencoded dict
 * {msg_type, piece[, total_size]}, and for a data message the piece's bytes
 * right after the dict. Pure: the parsed message points into the caller's
 * payload. Every bound is checked here (msg_type, piece in range for the
 * size, total_size within the caller's limit, the data exactly one piece
 * long), so the caller only checks what needs state: that a data message
 * answers a request and agrees with the metadata_size it was told.
 */
#ifndef STA_UT_METADATA_H
#define STA_UT_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define UT_METADATA_NAME "ut_metadata"
#define UTM_PIECE_LEN 16384u
/* The largest info dict stad accepts (a 16 MiB dict lists ~840,000
 * pieces); callers may pass a smaller limit. */
#define UTM_MAX_SIZE (16u << 20)

enum utm_type {
	UTM_REQUEST = 0,
	UTM_DATA = 1,
	UTM_REJECT = 2,
	UTM_UNKNOWN = 3,       /* a msg_type BEP 9 says to ignore */
};

enum utm_err {
	UTM_ERR_NONE = 0,
	UTM_ERR_DICT,          /* no bencoded dict at the start */
	UTM_ERR_MSG_TYPE,      /* msg_type missing or not an integer */
	UTM_ERR_PIECE,         /* piece missing, negative or past the limit */
	UTM_ERR_TOTAL_SIZE,    /* data: total_size missing, 0 or over the limit */
	UTM_ERR_DATA_LEN,      /* data: not exactly the piece's length */
	UTM_ERR_TRAILING,      /* request or reject followed by bytes */
};

struct utm_msg {
	enum utm_type type;
	uint32_t piece;
	uint32_t total_size;   /* data only */
	const uint8_t *data;   /* data only: the piece's bytes, into the payload */
	size_t data_len;
};

/* Parses one ut_metadata payload (the extended message after its ext id).
 * max_size bounds total_size and piece (UTM_MAX_SIZE when 0). False with
 * *err set when it breaks BEP 9; the peer sent garbage. */
bool ut_metadata_parse(const uint8_t *payload, size_t len, uint32_t max_size, struct utm_msg *m,
                       enum utm_err *err);
/* "piece out of range", ...: a short English phrase. */
const char *ut_metadata_strerror(enum utm_err e);

/* Pieces of a metadata_size: ceil(size / 16 KiB). */
uint32_t ut_metadata_pieces(uint32_t size);
/* Bytes of piece (16 KiB but the last); 0 when out of range. */
uint32_t ut_metadata_piece_len(uint32_t size, uint32_t piece);

/* Whole extended messages (length prefix, id 20, the peer's ext id). */
void ut_metadata_put_request(struct sta_buf *out, uint8_t ext_id, uint32_t piece);
void ut_metadata_put_reject(struct sta_buf *out, uint8_t ext_id, uint32_t piece);
/* data[0..len) is piece's bytes of a metadata of total_size bytes. */
void ut_metadata_put_data(struct sta_buf *out, uint8_t ext_id, uint32_t piece,
                          uint32_t total_size, const uint8_t *data, size_t len);

#endif
