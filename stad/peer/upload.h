/* Serving blocks to one peer (upload.c): its requests, checked and
 * queued, read on a worker and sent. Called by the connection's dispatch
 * (peer.c). Loop thread only.
 */
#ifndef STAD_UPLOAD_H
#define STAD_UPLOAD_H

#include <stdbool.h>
#include <stdint.h>

struct peer;

void upload_on_request(struct peer *p, uint32_t piece, uint32_t begin, uint32_t length);
void upload_on_cancel(struct peer *p, uint32_t piece, uint32_t begin, uint32_t length);
/* We choked it: its queued requests are void (rejected for Fast peers). */
void upload_choked(struct peer *p);
/* Starts a read job if requests wait and the socket can take more. */
void upload_pump(struct peer *p);
/* Bytes of output we keep queued for a peer we upload rate bytes/s to:
 * ms milliseconds of its rate, within [PEER_UP_LOW, PEER_UP_HIGH]. */
uint32_t upload_ahead(uint64_t rate, uint32_t ms);

#endif
