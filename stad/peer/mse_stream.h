/* RC4 on a bufferevent's bytes, after an MSE handshake: what the
 * connection writes is encrypted as it enters the output buffer, what it
 * reads is decrypted as it enters the input buffer, both in place on the
 * buffers' own chains (evbuffer callbacks), so the peer code above reads
 * and writes plaintext as before, and nothing is copied or allocated per
 * message. Loop thread only.
 *
 * In place means every chain must be ours to write: nothing may be added
 * to the output by reference (evbuffer_add_reference, evbuffer_add_file)
 * while a stream is attached.
 */
#ifndef STAD_MSE_STREAM_H
#define STAD_MSE_STREAM_H

#include <stdint.h>

#include "mse.h"

struct bufferevent;
struct mse_stream;

#define MSE_STREAM_ALL UINT64_MAX

/* Attaches to bev, taking the two RC4 streams (either may be unset: no
 * transform that way). Only the next dec_limit bytes read are decrypted
 * (MSE_STREAM_ALL: every one; less when plaintext was selected after an
 * RC4 initial payload). Bytes already in the input are decrypted now, up
 * to dec_limit; bytes already in the output stay as they are. */
struct mse_stream *mse_stream_attach(struct bufferevent *bev, struct mse_rc4 *enc,
                                     struct mse_rc4 *dec, uint64_t dec_limit);
/* Detaches (if bev is still alive, pass it; NULL when it is being freed
 * with the stream) and frees. */
void mse_stream_free(struct mse_stream *m, struct bufferevent *bev);

#endif
