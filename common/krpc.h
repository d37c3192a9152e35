/* KRPC, the Mainline DHT's message format (BEP 5, with BEP 32 for IPv6).
 *
 * A KRPC message is one bencoded dict per UDP datagram: a query ("y":"q",
 * method "q", arguments "a"), a response ("y":"r", values "r") or an error
 * ("y":"e", [code, message] in "e"), each with a transaction id "t" that the
 * response echoes. Responses do not name their method: the querier matches
 * "t" to what it asked, then calls krpc_check_response.
 *
 * Pure: bytes in, a struct krpc_msg out (copies, nothing points into the
 * input), or a precise error. The decoder is strict where BEP 5 fixes a
 * shape (20-byte ids and info-hashes, compact node strings a whole multiple
 * of 26 or 38 bytes, peer values of 6 or 18 bytes, ports in range) and
 * ignores keys it does not know (BEP 5's rule for forward compatibility).
 * Lists longer than the struct holds are cut, not refused: a long list is
 * not malformed, and the copy stays bounded.
 */
#ifndef STA_KRPC_H
#define STA_KRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bencode.h"
#include "buf.h"

#define KRPC_ID_LEN 20
#define KRPC_TID_MAX 16         /* longer transaction ids are refused */
#define KRPC_TOKEN_MAX 64       /* longer tokens are refused */
#define KRPC_NODES_MAX 16       /* per family; more are ignored */
#define KRPC_VALUES_MAX 128     /* peers in "values"; more are ignored */
#define KRPC_ERRMSG_MAX 128     /* error text kept, NUL included */
#define KRPC_MSG_MAX 8192       /* longer datagrams are refused */
#define KRPC_NODE4_LEN 26       /* compact node info: id, IPv4, port */
#define KRPC_NODE6_LEN 38       /* id, IPv6, port (BEP 32) */

enum krpc_type {
	KRPC_QUERY = 1,
	KRPC_RESPONSE,
	KRPC_ERROR,
};

enum krpc_method {
	KRPC_NO_METHOD = 0,     /* responses and errors */
	KRPC_PING,
	KRPC_FIND_NODE,
	KRPC_GET_PEERS,
	KRPC_ANNOUNCE_PEER,
	KRPC_OTHER_METHOD,      /* a query we do not know: answer 204 */
};

/* BEP 32 "want": which node families the querier asks for. 0 = not said
 * (the family of the socket the query came in on). */
#define KRPC_WANT_N4 0x1
#define KRPC_WANT_N6 0x2

/* BEP 5 error codes. */
enum krpc_error_code {
	KRPC_E_GENERIC = 201,
	KRPC_E_SERVER = 202,
	KRPC_E_PROTOCOL = 203,  /* malformed packet, invalid arguments, bad token */
	KRPC_E_METHOD = 204,    /* method unknown */
};

enum krpc_err {
	KRPC_OK = 0,
	KRPC_ERR_TOO_LONG,      /* datagram over KRPC_MSG_MAX */
	KRPC_ERR_BENCODE,       /* not bencode (see be in struct krpc_error) */
	KRPC_ERR_NOT_DICT,      /* top level is not a dict */
	KRPC_ERR_TID,           /* "t" missing, not a string, empty or too long */
	KRPC_ERR_TYPE,          /* "y" missing or not q, r or e */
	KRPC_ERR_METHOD,        /* query: "q" missing or not a string */
	KRPC_ERR_ARGS,          /* query: "a" missing or not a dict */
	KRPC_ERR_REPLY,         /* response: "r" missing or not a dict */
	KRPC_ERR_ERROR_LIST,    /* error: "e" not [int, string, ...] */
	KRPC_ERR_ID,            /* "id" missing or not 20 bytes */
	KRPC_ERR_TARGET,        /* find_node "target" missing or not 20 bytes */
	KRPC_ERR_INFO_HASH,     /* "info_hash" missing or not 20 bytes */
	KRPC_ERR_PORT,          /* announce_peer "port" missing or out of range */
	KRPC_ERR_IMPLIED_PORT,  /* "implied_port" not 0 or 1 */
	KRPC_ERR_TOKEN,         /* "token" empty, too long or not a string */
	KRPC_ERR_NO_TOKEN,      /* announce_peer, or a get_peers reply, without one */
	KRPC_ERR_WANT,          /* "want" not a list of strings */
	KRPC_ERR_NODES,         /* "nodes" not a multiple of 26 bytes */
	KRPC_ERR_NODES6,        /* "nodes6" not a multiple of 38 bytes */
	KRPC_ERR_VALUES,        /* "values" not a list of 6- or 18-byte strings */
	KRPC_ERR_IP,            /* BEP 42 "ip" not 6 or 18 bytes */
	KRPC_ERR_READ_ONLY,     /* BEP 43 "ro" not an integer */
};

struct krpc_error {
	enum krpc_err code;
	enum be_err be;         /* KRPC_ERR_BENCODE: what the bencode decoder said */
};

/* An address in a compact form: 4 or 16 address bytes (network order) and
 * a port (host order). */
struct krpc_addr {
	int family;             /* AF_INET or AF_INET6 */
	uint8_t ip[16];         /* IPv4 in the first 4 bytes, the rest 0 */
	uint16_t port;
};

struct krpc_node {
	uint8_t id[KRPC_ID_LEN];
	struct krpc_addr addr;
};

/* One message, either way. Fields not used by a type stay zero. */
struct krpc_msg {
	enum krpc_type type;
	uint8_t tid[KRPC_TID_MAX];
	uint8_t tid_len;
	/* Queries. */
	enum krpc_method method;
	bool read_only;                 /* BEP 43 "ro": do not add the sender to a table */
	uint8_t id[KRPC_ID_LEN];        /* the sender's node id (queries and responses) */
	uint8_t target[KRPC_ID_LEN];    /* find_node target, or the info-hash */
	uint16_t port;                  /* announce_peer */
	bool implied_port;              /* announce_peer: use the datagram's source port */
	uint8_t want;                   /* KRPC_WANT_* bits */
	uint8_t token[KRPC_TOKEN_MAX];  /* announce_peer argument; get_peers reply */
	uint8_t token_len;
	/* Responses: nodes of both families ("nodes" and "nodes6"), peers. */
	struct krpc_node nodes[2 * KRPC_NODES_MAX];
	uint8_t n_nodes;
	struct krpc_addr values[KRPC_VALUES_MAX];
	uint16_t n_values;
	bool has_ip;                    /* BEP 42: where the responder saw us */
	struct krpc_addr ip;
	/* Errors: the text is cut to fit and made printable ('?' for others). */
	int64_t error_code;
	char error_msg[KRPC_ERRMSG_MAX];
};

/* Decodes one datagram into *m. On failure returns the error (also in
 * *err when non-NULL) and leaves in *m what was read before it: type and
 * tid are set once readable, so a query with bad arguments can be answered
 * with error 203. */
enum krpc_err krpc_decode(const uint8_t *buf, size_t len, struct krpc_msg *m,
                          struct krpc_error *err);
/* What a response to `method` must carry beyond what krpc_decode checks:
 * get_peers replies a token. KRPC_OK or KRPC_ERR_NO_TOKEN. */
enum krpc_err krpc_check_response(const struct krpc_msg *m, enum krpc_method method);
/* "transaction id missing or too long", ...: a short English phrase. */
const char *krpc_strerror(enum krpc_err e);
/* "find_node", ... ("unknown" for KRPC_OTHER_METHOD). */
const char *krpc_method_name(enum krpc_method method);

/* Appends m as one datagram. Queries carry the arguments their method
 * needs; responses the id, nodes by family ("nodes", "nodes6"), the token
 * and values when present; errors [code, text]. "ip" when has_ip, "ro"
 * when read_only. */
void krpc_encode(struct sta_buf *out, const struct krpc_msg *m);

/* Compact forms. addr: 6 bytes (IPv4) or 18 (IPv6), returns the length
 * written (0 for another family). Nodes: 26 or 38 bytes. */
size_t krpc_put_addr(uint8_t *out, const struct krpc_addr *a);
size_t krpc_put_node(uint8_t *out, const struct krpc_node *n);
/* Same family, address and port. */
bool krpc_addr_equal(const struct krpc_addr *a, const struct krpc_addr *b);
/* Reads a compact address of len 6 or 18; false for any other length. */
bool krpc_get_addr(const uint8_t *p, size_t len, struct krpc_addr *a);
/* Reads the nodes of a compact string of one family (len a multiple of its
 * size, which the caller checks), keeping at most room; returns how many. */
size_t krpc_get_nodes(const uint8_t *p, size_t len, int family, struct krpc_node *out,
                      size_t room);

#endif
