/* One peer connection: socket I/O over a bufferevent, the handshake, and
 * dispatch of wire messages to the download pipeline (peer_request.h) and
 * the upload side (upload.h). Loop thread only.
 *
 * A peer is never freed inside its own callbacks: peer_close() detaches it
 * from its torrent at once, disables its events and queues it on the
 * session's dead list; the reaper frees it right after the current
 * callback returns. Callers check p->dead after anything that may close.
 */
#ifndef STAD_PEER_H
#define STAD_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "bitfield.h"
#include "peer_wire.h"
#include "picker.h"
#include "superseed.h"
#include "upload_rules.h"

struct bufferevent;
struct early_has;
struct evbuffer;
struct peer_mse;
struct pex_peer;
struct session;
struct torrent;

#define PEER_MIN_DEPTH 4u
#define PEER_MAX_DEPTH 512u       /* our requests in flight to one peer */
#define PEER_MAX_UPQ 512u         /* its requests queued with us */
#define PEER_SNUB_S 60            /* no block for this long: snubbed */
#define PEER_SNUB_DEPTH 2u
#define PEER_KEEPALIVE_S 120
#define PEER_IDLE_S 300           /* nothing received: drop */
#define PEER_HANDSHAKE_S 30
#define PEER_NEW_S 60             /* "new" for the choker */
#define PEER_MAX_READ (256 * 1024)
/* Our output to a peer: the blocks read for it wait in its output buffer,
 * and every message we send it (a HAVE, a choke) waits behind them. So
 * the buffer holds PEER_UP_AHEAD_MS of its upload rate, between
 * PEER_UP_LOW and PEER_UP_HIGH, and the kernel about PEER_UP_KERNEL_MS of
 * it unsent (TCP_NOTSENT_LOWAT, PEER_UP_LOW at least): on a slow link a
 * HAVE used to wait seconds behind 2 MiB of blocks, while on loopback a
 * small kernel queue would wake the loop too often. */
#define PEER_UP_AHEAD_MS 100u
#define PEER_UP_KERNEL_MS 20u
#define PEER_UP_LOW (16u << 10)
#define PEER_UP_HIGH (2u << 20)
/* Our requests to a peer: what it sends in this long at its rate, so
 * that a piece waits little in a slow peer's queue. */
#define PEER_PIPELINE_MS 500u
/* The rate assumed for a peer that has not sent us anything yet. */
#define PEER_SLOW_RATE (16u << 10)
#define PEER_AF_IN_MAX 32u        /* allowed-fast pieces kept from one peer */

struct upload_req {
	uint32_t piece, begin, length;
};

struct peer {
	TAILQ_ENTRY(peer) link;   /* torrent's peers, session's handshaking or dead */
	struct session *s;
	struct torrent *t;        /* NULL until the handshake names a torrent */
	struct bufferevent *bev;
	uint32_t tag;
	struct sockaddr_storage addr;
	char addr_str[64];
	char client[72];          /* printable: from BEP 10 "v" or the peer id */
	uint8_t peer_id[20];

	bool outgoing;
	bool connected;
	bool mse_pending;         /* MSE (or telling it from plaintext) comes first */
	struct peer_mse *mse;     /* encryption state (peer_mse.c); NULL: plaintext */
	bool hs_sent, hs_done;
	bool fast, ext;
	bool dead;
	bool am_choking, am_interested;
	bool peer_choking, peer_interested;
	bool snubbed;
	bool is_seed;
	bool seed_counted;        /* in the picker as a seed, not by bitfield */
	bool optimistic;          /* the choker's optimistic unchoke */

	struct bitfield has;
	struct pw_limits lim;

	/* Our requests to it, oldest first (ring). */
	struct block_req *req;
	uint32_t req_head, n_req;
	uint32_t depth;

	/* BEP 6 allowed-fast: the pieces we let it take while choked, and
	 * those it lets us take (af_pick: the ones of them it has, what we
	 * request while it chokes us; allocated on its first ALLOWED_FAST). */
	uint32_t af_out[UPLOAD_AF_K];
	uint32_t n_af_out;
	uint32_t af_in[PEER_AF_IN_MAX];
	uint32_t n_af_in;
	struct bitfield af_pick;

	/* Super-seeding (torrent_superseed.c): its offers, the pieces we told
	 * it we have, and those counted as its: what it announced and what
	 * we sent it whole (not in has: it did not say so). */
	bool ss_member;
	struct superseed_peer ssp;
	struct bitfield told, ss_known;

	/* Its requests to us, oldest first (ring), and the read job. */
	struct upload_req *upq;
	uint32_t upq_head, n_upq;
	bool up_busy;

	/* BEP 10 extensions (ext/): the ids it gave ut_metadata and ut_pex
	 * (0: it has none), its listen port ("p"), the metadata_size it
	 * claims; what it said it has before our torrent had metadata
	 * (magnet_torrent.c) and its PEX state (pex.c). */
	uint8_t ut_metadata, ut_pex;
	uint16_t listen_port;
	uint32_t metadata_size;
	uint32_t meta_served;     /* ut_metadata pieces sent to it */
	bool meta_refused;        /* it rejected or ignored our metadata requests */
	struct early_has *early;
	struct pex_peer *pex;

	uint64_t bytes_down, bytes_up;
	uint64_t blocks_down, blocks_up;
	uint64_t down_prev, up_prev;
	uint64_t rate_down, rate_up;
	uint32_t notsent_lowat;   /* TCP_NOTSENT_LOWAT set on its socket */
	uint32_t hash_fails, sole_fails;
	uint64_t connected_at, last_recv, last_send, last_block;
};

/* Opens an outgoing connection for torrent t, encrypted as the config
 * says; NULL when it cannot start. */
struct peer *peer_connect(struct torrent *t, const struct sockaddr *sa, socklen_t len);
/* The same, in plaintext whatever the config says (the "prefer" fallback). */
struct peer *peer_connect_plaintext(struct torrent *t, const struct sockaddr *sa,
                                    socklen_t len);
/* Takes an accepted socket (the torrent is learnt from its handshake). */
struct peer *peer_accept(struct session *s, int fd, const struct sockaddr *sa, socklen_t len);
/* An incoming connection named its torrent (in its handshake, or as the
 * SKEY of its encryption handshake): joins it and sends our handshake.
 * false when p was closed (unknown torrent, or one taking no peers). */
bool peer_route_incoming(struct peer *p, const uint8_t info_hash[20]);
/* Closes the connection (reason is logged at debug level). Idempotent. */
void peer_close(struct peer *p, const char *reason);
/* Frees a dead peer (the reaper). */
void peer_free(struct peer *p);

/* Once a second: keep-alive, idle and handshake timeouts, snubbing, rates.
 * May close p. */
void peer_tick(struct peer *p);

/* Message senders. */
void peer_send_simple(struct peer *p, enum pw_msg_type type);
void peer_send_have(struct peer *p, uint32_t piece);
void peer_send_block_msg(struct peer *p, enum pw_msg_type type, uint32_t piece, uint32_t begin,
                         uint32_t length);
void peer_choke(struct peer *p, bool choke);
/* Takes p's pieces out of the picker's availability and clears p->has. */
void peer_forget_has(struct peer *p);
/* Sends interested / not interested when our interest changed. */
void peer_update_interest(struct peer *p);

struct evbuffer *peer_output(struct peer *p);
/* Queues whole messages built in b (an extension's). */
void peer_send_buf(struct peer *p, const struct sta_buf *b);
/* Handles one parsed message as if it had just arrived (magnet_torrent.c
 * replays what came before the metadata). May close p. */
void peer_dispatch(struct peer *p, const struct pw_msg *m);
/* Sends our BEP 10 handshake (again, when what it says changed). */
void peer_send_ext_handshake(struct peer *p);
/* "1.2.3.4:5678" */
void peer_format_addr(const struct sockaddr *sa, char *out, size_t outsz);
/* Flags for STATUS: "d" downloading from it, "u" uploading to it, "c" it
 * chokes us, "C" we choke it, "i"/"I" interest (ours/its), "s" snubbed,
 * "S" seed, "o" optimistic, "E" incoming, "F" fast extension, "X" encrypted
 * (MSE with RC4). */
void peer_flags(const struct peer *p, char *out, size_t outsz);

#endif
