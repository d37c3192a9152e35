/* BitTorrent tracker protocol codecs, both sides (trackerd serves, stad asks).
 *
 * HTTP (BEP 3, 23 compact, 7 peers6, 48 scrape): query strings of /announce
 * and /scrape and their bencoded replies. UDP (BEP 15): connect, announce,
 * scrape and error packets. Pure: bytes in, structs out, or a precise error.
 */
#ifndef STA_TRACKER_PROTO_H
#define STA_TRACKER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define TRACKER_HASH_LEN 20
#define TRACKER_NUMWANT_DEFAULT 50
#define TRACKER_NUMWANT_MAX 2000  /* parsers clamp numwant to this */
#define TRACKER_SCRAPE_MAX 74     /* info_hashes in one scrape: all a UDP packet holds */
#define TRACKER_QUERY_MAX 4096    /* longest query string we parse */

enum tracker_event {
	TRACKER_EVENT_NONE = 0, /* regular re-announce; UDP value 0 */
	TRACKER_EVENT_COMPLETED = 1,
	TRACKER_EVENT_STARTED = 2,
	TRACKER_EVENT_STOPPED = 3,
	TRACKER_EVENT_PAUSED = 4,  /* BEP 21 "paused": counted as a seeder-like partial */
};

struct announce_req {
	uint8_t info_hash[TRACKER_HASH_LEN];
	uint8_t peer_id[TRACKER_HASH_LEN];
	uint16_t port;          /* 1..65535 */
	uint64_t uploaded;
	uint64_t downloaded;
	uint64_t left;
	enum tracker_event event;
	bool compact;           /* HTTP: true unless the query says compact=0 */
	bool no_peer_id;        /* HTTP non-compact: omit "peer id" */
	uint32_t numwant;       /* TRACKER_NUMWANT_DEFAULT when absent; the server caps it */
	bool has_key;
	uint32_t key;           /* HTTP: up to 8 hex digits as a number, else hashed to 32 bits */
	/* Address the client claims (HTTP "ip=", UDP IPv4 field); the server
	 * decides whether to trust it. ip_family is 0 when absent. */
	int ip_family;          /* 0, AF_INET or AF_INET6 */
	uint8_t ip[16];
};

struct scrape_req {
	size_t n;               /* 0 = "all torrents" (servers may refuse) */
	uint8_t info_hash[TRACKER_SCRAPE_MAX][TRACKER_HASH_LEN];
};

/* One peer in a reply. addr is 4 bytes for AF_INET, 16 for AF_INET6. */
struct tracker_peer {
	int family;
	uint8_t addr[16];
	uint16_t port;
	bool has_peer_id;
	uint8_t peer_id[TRACKER_HASH_LEN];
};

struct announce_resp {
	uint32_t interval;
	uint32_t min_interval;  /* 0 = omit */
	uint32_t complete;      /* seeders */
	uint32_t incomplete;    /* leechers */
	uint32_t downloaded;    /* completed count; HTTP only */
	const char *warning;    /* NULL = omit */
	size_t n_peers;
	const struct tracker_peer *peers;
};

struct scrape_entry {
	uint8_t info_hash[TRACKER_HASH_LEN];
	uint32_t complete;
	uint32_t downloaded;
	uint32_t incomplete;
};

/* Errors carry a short message fit to send back as "failure reason". */
struct tracker_error {
	char msg[128];
};
/* printf into err->msg (cut to fit); err may be NULL. */
void tracker_error_set(struct tracker_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Compact peer entries (BEP 23/7, also UDP): 4+2 bytes for AF_INET, 16+2 for
 * AF_INET6. The encoder appends at most max entries of peers of `family`
 * and returns how many; the decoder reads len / entry size entries (the
 * caller checks len is a multiple), skips port 0 and stores at most room. */
size_t tracker_compact_peers_encode(struct sta_buf *out, const struct tracker_peer *peers,
                                    size_t n, int family, size_t max);
size_t tracker_compact_peers_decode(const uint8_t *p, size_t len, int family,
                                    struct tracker_peer *out, size_t room);

/* ---- HTTP, server side ---- */

/* Parses the query string of "GET /announce?QUERY" (without the '?').
 * Requires info_hash (exactly 20 bytes after percent-decoding), peer_id
 * (exactly 20) and port (1-65535); uploaded/downloaded/left default to 0
 * when absent, must be decimal when present. Unknown keys are ignored, and
 * so is an "ip" that is not an address literal. A repeated key: the last one
 * wins, except a second info_hash is an error.
 * Returns false and fills err on any violation, including a query longer
 * than TRACKER_QUERY_MAX or a malformed percent escape. */
bool tracker_parse_announce_query(const char *query, size_t len, struct announce_req *req,
                                  struct tracker_error *err);
/* Parses the query of "GET /scrape?QUERY": zero or more info_hash params.
 * More than TRACKER_SCRAPE_MAX is an error. */
bool tracker_parse_scrape_query(const char *query, size_t len, struct scrape_req *req,
                                struct tracker_error *err);

/* Appends the bencoded reply. compact: peers of AF_INET go to "peers" as
 * 6-byte entries and AF_INET6 to "peers6" as 18-byte entries (BEP 23/7);
 * otherwise one "peers" list of dicts (ip, port, and "peer id" unless
 * no_peer_id). */
void tracker_build_announce_reply(struct sta_buf *out, const struct announce_resp *resp,
                                  bool compact, bool no_peer_id);
void tracker_build_scrape_reply(struct sta_buf *out, const struct scrape_entry *e, size_t n);
/* d14:failure reason<len>:<msg>e */
void tracker_build_failure(struct sta_buf *out, const char *reason);

/* ---- HTTP, client side ---- */

/* Appends "info_hash=..&peer_id=..&port=..&uploaded=..&downloaded=..&left=..
 * &compact=1[&event=..]&numwant=..[&key=8 hex digits][&ip=..]" with
 * percent-encoding. */
void tracker_build_announce_query(struct sta_buf *out, const struct announce_req *req);

/* A parsed reply; peers points into a heap array owned by the struct. */
struct announce_reply {
	bool failed;
	char failure[256];      /* "failure reason", escaped-safe (NUL-terminated, may be cut) */
	char warning[256];      /* "" when absent */
	uint32_t interval;
	uint32_t min_interval;
	uint32_t complete;
	uint32_t incomplete;
	size_t n_peers;
	struct tracker_peer *peers;
};
/* Parses a bencoded announce reply: compact and dict peers, peers6, failure.
 * A "failure reason" reply parses (returns true) with failed set and the
 * rest ignored. Absent integers stay 0. Compact strings that are not whole
 * entries are errors; dict peers without a usable ip/port are skipped.
 * At most max_peers peers are kept. Free with tracker_announce_reply_free
 * (also safe after a false return). */
bool tracker_parse_announce_reply(const uint8_t *data, size_t len, size_t max_peers,
                                  struct announce_reply *reply, struct tracker_error *err);
void tracker_announce_reply_free(struct announce_reply *reply);

/* ---- percent-encoding (RFC 3986 unreserved set kept as is) ---- */

void url_encode(struct sta_buf *out, const uint8_t *data, size_t len);
/* Decodes src[0..len) into out (room for len bytes); '+' stays '+'.
 * Returns the decoded length, or -1 on a bad escape. */
long url_decode(const char *src, size_t len, uint8_t *out);

/* ---- UDP (BEP 15) ---- */

#define UDP_TRACKER_PROTOCOL_ID 0x41727101980ULL
#define UDP_TRACKER_MAX_PACKET 1500

enum udp_action {
	UDP_ACTION_CONNECT = 0,
	UDP_ACTION_ANNOUNCE = 1,
	UDP_ACTION_SCRAPE = 2,
	UDP_ACTION_ERROR = 3,
};

/* A request as the tracker receives it. */
struct udp_request {
	enum udp_action action;
	uint64_t connection_id;
	uint32_t transaction_id;
	struct announce_req announce;   /* UDP_ACTION_ANNOUNCE */
	struct scrape_req scrape;       /* UDP_ACTION_SCRAPE: at most 74 hashes fit a packet */
};

/* Server side. Decodes one datagram. A connect must carry the protocol id;
 * announce is exactly 98 bytes or more (BEP 41 options after it are ignored);
 * scrape is 16 + 20*n bytes with n >= 1. Announce events 0-3 per BEP 15,
 * plus 4 (paused, as libtorrent sends it); num_want < 0 means the default,
 * larger values are clamped to TRACKER_NUMWANT_MAX; port 0 is refused.
 * Returns false on anything else;
 * *transaction_id is still set when the header was readable (so an error
 * packet can be sent), else left 0. */
bool udp_decode_request(const uint8_t *pkt, size_t len, struct udp_request *req,
                        struct tracker_error *err);
/* Each encoder appends one datagram to out. announce replies carry peers of
 * one family only (BEP 15: the family of the socket the request came in on),
 * as many as fit UDP_TRACKER_MAX_PACKET. */
void udp_encode_connect_reply(struct sta_buf *out, uint32_t transaction_id, uint64_t connection_id);
void udp_encode_announce_reply(struct sta_buf *out, uint32_t transaction_id,
                               const struct announce_resp *resp, int family);
void udp_encode_scrape_reply(struct sta_buf *out, uint32_t transaction_id,
                             const struct scrape_entry *e, size_t n);
void udp_encode_error(struct sta_buf *out, uint32_t transaction_id, const char *msg);

/* Client side. */
void udp_encode_connect(struct sta_buf *out, uint32_t transaction_id);
void udp_encode_announce(struct sta_buf *out, uint64_t connection_id, uint32_t transaction_id,
                         const struct announce_req *req);
void udp_encode_scrape(struct sta_buf *out, uint64_t connection_id, uint32_t transaction_id,
                       const struct scrape_req *req);

/* A reply as the client receives it. For announce, peers are decoded as
 * `family` (the family of the socket; 6- or 18-byte entries). */
struct udp_reply {
	enum udp_action action;
	uint32_t transaction_id;
	uint64_t connection_id;      /* connect */
	uint32_t interval, leechers, seeders; /* announce */
	size_t n_peers;
	struct tracker_peer *peers;  /* announce: heap, free with udp_reply_free */
	size_t n_scrape;
	struct scrape_entry scrape[TRACKER_SCRAPE_MAX];
	char error[256];             /* error action: message, NUL-terminated */
};
bool udp_decode_reply(const uint8_t *pkt, size_t len, int family, size_t max_peers,
                      struct udp_reply *reply, struct tracker_error *err);
void udp_reply_free(struct udp_reply *reply);

#endif
