/* BitTorrent peer wire protocol codec (BEP 3, Fast extension BEP 6,
 * extension protocol BEP 10).
 *
 * Pure: the caller reads socket bytes into a buffer and hands them here.
 * Parsing never allocates and never copies a payload: a parsed message
 * points into the caller's buffer, which must stay put until the message is
 * handled. Each message's length is checked against its type as soon as the
 * 5-byte header is in, so a hostile length prefix fails at once instead of
 * making the caller buffer up to 4 GiB.
 *
 * Whether a message is allowed at this point of the connection (a bitfield
 * only first, Fast messages only when both sides set the bit, ...) is the
 * caller's business: this layer knows framing only.
 */
#ifndef STA_PEER_WIRE_H
#define STA_PEER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PW_HASH_LEN 20
#define PW_PSTR "BitTorrent protocol"
#define PW_PSTR_LEN 19
#define PW_HANDSHAKE_LEN 68 /* 1 + 19 + 8 reserved + 20 info-hash + 20 peer id */

/* Reserved-byte bits we look at. */
#define PW_RES_EXT_BYTE 5   /* BEP 10 extension protocol */
#define PW_RES_EXT_BIT 0x10
#define PW_RES_FAST_BYTE 7  /* BEP 6 Fast extension */
#define PW_RES_FAST_BIT 0x04
#define PW_RES_DHT_BYTE 7   /* BEP 5 DHT (we only read it) */
#define PW_RES_DHT_BIT 0x01

/* Defaults for struct pw_limits. */
#define PW_MAX_BLOCK (128 * 1024)
#define PW_MAX_MSG (1024 * 1024 + 13)

/* Sizes of the fixed-size messages, length prefix included. */
#define PW_LEN_KEEPALIVE 4
#define PW_LEN_SIMPLE 5     /* choke ... not interested, have all, have none */
#define PW_LEN_INDEX 9      /* have, suggest, allowed fast */
#define PW_LEN_BLOCK 17     /* request, cancel, reject */
#define PW_LEN_PIECE_HDR 13 /* piece, without the block */
#define PW_LEN_PORT 7

enum pw_status {
	PW_OK = 0,
	PW_NEED_MORE,
	PW_ERROR,
};

enum pw_err {
	PW_ERR_NONE = 0,
	PW_ERR_PSTRLEN,        /* handshake: first byte is not 19 */
	PW_ERR_PSTR,           /* handshake: not "BitTorrent protocol" */
	PW_ERR_INFO_HASH,      /* handshake: a torrent we do not serve here */
	PW_ERR_SELF,           /* handshake: our own peer id (we dialled ourselves) */
	PW_ERR_MSG_TOO_LONG,   /* length prefix over limits.max_msg */
	PW_ERR_BAD_LENGTH,     /* length prefix wrong for the message id */
	PW_ERR_BITFIELD_LEN,   /* bitfield not exactly limits.bitfield_len bytes */
	PW_ERR_BLOCK_LEN,      /* piece block or request length 0 or over limits.max_block */
	PW_ERR_EXT_PAYLOAD,    /* extension handshake payload is not a valid dict */
};

struct pw_error {
	enum pw_err code;
	uint8_t id;            /* message id, when the header was in */
	uint32_t len;          /* length prefix, when it was in */
};

/* "wrong length for message id", ...: a short English phrase. */
const char *pw_strerror(enum pw_err e);

/* ---- handshake ---- */

struct pw_handshake {
	uint8_t reserved[8];
	uint8_t info_hash[PW_HASH_LEN];
	uint8_t peer_id[PW_HASH_LEN];
	/* Set once 48 bytes are in, even on PW_NEED_MORE: BEP 3 lets the
	 * receiving side answer as soon as it has seen the info-hash. */
	bool has_info_hash;
};

/* Writes our 68-byte handshake with the Fast and extension-protocol bits set. */
void peer_wire_handshake_build(uint8_t out[PW_HANDSHAKE_LEN], const uint8_t info_hash[PW_HASH_LEN],
                               const uint8_t peer_id[PW_HASH_LEN]);
/* Parses an incoming handshake from what has arrived so far. A wrong
 * protocol string fails as soon as its first wrong byte is in. PW_OK means
 * all of it is in and exactly PW_HANDSHAKE_LEN bytes were consumed. */
enum pw_status peer_wire_handshake_parse(const uint8_t *buf, size_t len, struct pw_handshake *hs,
                                         struct pw_error *err);
/* The checks BEP 3 asks of a connection: the info-hash is the one expected
 * and the peer id is not ours. False with err filled otherwise. */
bool peer_wire_handshake_check(const struct pw_handshake *hs, const uint8_t info_hash[PW_HASH_LEN],
                               const uint8_t own_peer_id[PW_HASH_LEN], struct pw_error *err);

static inline bool pw_handshake_fast(const struct pw_handshake *hs)
{
	return hs->reserved[PW_RES_FAST_BYTE] & PW_RES_FAST_BIT;
}

static inline bool pw_handshake_ext(const struct pw_handshake *hs)
{
	return hs->reserved[PW_RES_EXT_BYTE] & PW_RES_EXT_BIT;
}

static inline bool pw_handshake_dht(const struct pw_handshake *hs)
{
	return hs->reserved[PW_RES_DHT_BYTE] & PW_RES_DHT_BIT;
}

/* ---- messages ---- */

/* Values are the wire ids, except the two past 255. */
enum pw_msg_type {
	PW_MSG_CHOKE = 0,
	PW_MSG_UNCHOKE = 1,
	PW_MSG_INTERESTED = 2,
	PW_MSG_NOT_INTERESTED = 3,
	PW_MSG_HAVE = 4,
	PW_MSG_BITFIELD = 5,
	PW_MSG_REQUEST = 6,
	PW_MSG_PIECE = 7,
	PW_MSG_CANCEL = 8,
	PW_MSG_PORT = 9,
	PW_MSG_SUGGEST = 0x0d,
	PW_MSG_HAVE_ALL = 0x0e,
	PW_MSG_HAVE_NONE = 0x0f,
	PW_MSG_REJECT = 0x10,
	PW_MSG_ALLOWED_FAST = 0x11,
	PW_MSG_EXTENDED = 20,
	PW_MSG_KEEPALIVE = 0x100,
	PW_MSG_UNKNOWN = 0x101,  /* an id we do not know: skip it (BEP 3 practice) */
};

struct pw_limits {
	uint32_t max_msg;      /* largest length prefix accepted */
	uint32_t max_block;    /* largest piece block and request length */
	uint32_t bitfield_len; /* exact bitfield bytes; 0 = bounded by max_msg only */
};

/* Defaults (PW_MAX_MSG, PW_MAX_BLOCK) for a torrent of n_pieces pieces (0 =
 * not known yet); max_msg grows if the bitfield needs more. */
void pw_limits_init(struct pw_limits *lim, uint32_t n_pieces);

struct pw_msg {
	enum pw_msg_type type;
	uint8_t id;            /* wire id (meaningless for a keep-alive) */
	uint8_t ext_id;        /* extended: BEP 10 message id (0 = handshake) */
	uint16_t port;         /* port */
	uint32_t index;        /* have, suggest, allowed fast, request, cancel, reject, piece */
	uint32_t begin;        /* request, cancel, reject, piece */
	uint32_t length;       /* request, cancel, reject; piece: the block's length */
	/* Into the caller's buffer: piece block, bitfield bytes, extended
	 * payload (after the ext id), unknown message body. */
	const uint8_t *data;
	size_t data_len;
	size_t consumed;       /* PW_OK: bytes of buf this message took */
	size_t need;           /* PW_NEED_MORE: buffer at least this many bytes, then retry */
};

/* Parses the message at the start of buf[0..len). PW_OK: *msg filled, the
 * message took msg->consumed bytes. PW_NEED_MORE: nothing wrong so far and
 * msg->need (> len) bytes must be buffered before it can go on. PW_ERROR:
 * *err says why; drop the peer. lim NULL = pw_limits_init(.., 0). */
enum pw_status peer_wire_parse(const uint8_t *buf, size_t len, const struct pw_limits *lim,
                               struct pw_msg *msg, struct pw_error *err);

/* As peer_wire_parse, except that a piece message is done as soon as its
 * 13-byte header is in, so that its block can go from the socket buffer
 * straight to where it belongs without being buffered whole first: PW_OK
 * with type PW_MSG_PIECE, index, begin and length (the block's bytes, which
 * follow and are the caller's to take), data NULL and consumed
 * PW_LEN_PIECE_HDR. The header's length checks are peer_wire_parse's. */
enum pw_status peer_wire_parse_head(const uint8_t *buf, size_t len, const struct pw_limits *lim,
                                    struct pw_msg *msg, struct pw_error *err);

/* Encoders into fixed arrays; each returns the bytes written (its PW_LEN_*). */
size_t peer_wire_put_keepalive(uint8_t out[PW_LEN_KEEPALIVE]);
/* choke, unchoke, interested, not interested, have all, have none */
size_t peer_wire_put_simple(uint8_t out[PW_LEN_SIMPLE], enum pw_msg_type type);
/* have, suggest, allowed fast */
size_t peer_wire_put_index(uint8_t out[PW_LEN_INDEX], enum pw_msg_type type, uint32_t index);
/* request, cancel, reject */
size_t peer_wire_put_block(uint8_t out[PW_LEN_BLOCK], enum pw_msg_type type, uint32_t index,
                           uint32_t begin, uint32_t length);
/* The piece header alone: send the block's bytes right after it (writev,
 * evbuffer reference) without copying them. */
size_t peer_wire_put_piece_header(uint8_t out[PW_LEN_PIECE_HDR], uint32_t index, uint32_t begin,
                                  uint32_t block_len);
size_t peer_wire_put_port(uint8_t out[PW_LEN_PORT], uint16_t port);

/* Appenders for the variable-size ones. */
void peer_wire_append_bitfield(struct sta_buf *out, const uint8_t *bits, size_t len);
/* An extended message is written in place: begin appends the header and
 * returns its offset, the caller appends the payload (bencode, BEP 9 data),
 * end fills in the length prefix. */
size_t peer_wire_ext_begin(struct sta_buf *out, uint8_t ext_id);
void peer_wire_ext_end(struct sta_buf *out, size_t start);

/* ---- BEP 10 extension handshake ---- */

#define PW_EXT_MAX 16         /* entries of "m" kept */
#define PW_EXT_NAME_MAX 31    /* longer names are skipped */
#define PW_EXT_VERSION_MAX 63 /* "v" is cut to this */

struct pw_ext_hs {
	size_t n_ext;
	struct pw_ext {
		char name[PW_EXT_NAME_MAX + 1];
		uint8_t id;    /* 0: the peer turned this extension off */
	} ext[PW_EXT_MAX];
	uint16_t port;         /* "p"; 0 = absent */
	char version[PW_EXT_VERSION_MAX + 1]; /* "v", raw peer bytes: escape before logging */
	uint32_t reqq;         /* 0 = absent */
	uint32_t metadata_size; /* BEP 9; 0 = absent */
	int yourip_family;     /* 0 (absent), AF_INET or AF_INET6 */
	uint8_t yourip[16];
};

/* Appends the whole extended message (id 20, ext id 0) for hs; the "m"
 * entries may come in any order. */
void peer_wire_ext_hs_build(struct sta_buf *out, const struct pw_ext_hs *hs);
/* Parses the payload of an extended message with ext id 0 (msg->data).
 * Entries of "m" beyond PW_EXT_MAX, with long names or ids over 255 are
 * skipped; p, reqq, metadata_size out of range and a yourip not 4 or 16
 * bytes read as absent. False (PW_ERR_EXT_PAYLOAD) when it is not a bencoded
 * dict within small limits. */
bool peer_wire_ext_hs_parse(const uint8_t *data, size_t len, struct pw_ext_hs *hs,
                            struct pw_error *err);
/* The peer's id for extension name; 0 when absent or turned off. */
uint8_t pw_ext_hs_id(const struct pw_ext_hs *hs, const char *name);

/* ---- BEP 6 allowed-fast set ---- */

/* Fills out with up to k distinct piece indexes that a peer at the IPv4
 * address ip (network order) may request while choked, by the BEP 6
 * algorithm. Returns how many: min(k, n_pieces). */
size_t peer_wire_allowed_fast(const uint8_t ip[4], const uint8_t info_hash[PW_HASH_LEN],
                              uint32_t n_pieces, uint32_t *out, size_t k);

#endif
