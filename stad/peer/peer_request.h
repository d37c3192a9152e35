/* The download pipeline of one peer (peer_request.c): our block requests
 * in flight, blocks taken into their piece buffers, chokes, rejects and
 * snubbing. Called by the connection's dispatch (peer.c) and the torrent.
 * Loop thread only.
 */
#ifndef STAD_PEER_REQUEST_H
#define STAD_PEER_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

struct evbuffer;
struct peer;

/* Requests more blocks if it has room in its pipeline. */
void peer_request_fill(struct peer *p);
/* A piece message: its block (length bytes) is at the front of in;
 * consumes them. */
void peer_request_block(struct peer *p, uint32_t piece, uint32_t begin, uint32_t length,
                        struct evbuffer *in);
/* It choked us (without the Fast extension: every request is void). */
void peer_request_choked(struct peer *p);
/* BEP 6 reject of one of our requests. */
void peer_request_rejected(struct peer *p, uint32_t piece, uint32_t begin, uint32_t length);
/* Gives every outstanding request back to the picker. */
void peer_request_release(struct peer *p);
/* Pipeline depth for a download rate: PEER_MIN_DEPTH plus its
 * PEER_PIPELINE_MS in blocks, at most PEER_MAX_DEPTH. */
uint32_t peer_request_depth(uint64_t rate, bool snubbed);
/* Snubbing check from the tick. */
void peer_request_tick(struct peer *p);

#endif
