/* MSE/PE on a peer connection (the codec is common/mse.h): the obfuscated
 * handshake that comes before the BitTorrent handshake, then the RC4
 * stream (mse_stream.h) under everything the connection reads and writes.
 *
 * Policy (stad.conf "encryption"): off: plaintext only, both ways; prefer:
 * outgoing connections try MSE first and, when the peer hangs up on it,
 * dial again in plaintext once (as Transmission does); incoming ones may be
 * either; require: MSE with RC4 only, both ways. Loop thread only.
 */
#ifndef STAD_PEER_MSE_H
#define STAD_PEER_MSE_H

#include <stdbool.h>

struct evbuffer;
struct peer;
struct peer_mse;

/* Outgoing, before the BitTorrent handshake: starts MSE with that
 * handshake as the initial payload and sets p->mse_pending; false when the
 * policy says plaintext (the caller sends the handshake itself). */
bool peer_mse_connect(struct peer *p);
/* Incoming: MSE or plaintext is told from the first bytes (sets
 * p->mse_pending unless encryption is off). */
void peer_mse_accept(struct peer *p);
/* While p->mse_pending: runs the handshake on what was read. true when
 * the BitTorrent handshake comes next (p->mse_pending cleared); false to
 * wait, or when p was closed. */
bool peer_mse_read(struct peer *p, struct evbuffer *in);
/* The connection ended while p->mse_pending: closes p with reason and,
 * for an outgoing "prefer" connection the peer hung up on, dials again in
 * plaintext. */
void peer_mse_lost(struct peer *p, const char *reason);
/* RC4 runs on the connection (for STATUS). */
bool peer_mse_encrypted(const struct peer *p);
/* Frees p's MSE state (peer_free, before the bufferevent goes). */
void peer_mse_free(struct peer *p);

#endif
