/* A KRPC datagram as the DHT node gets it from anyone. A message that
 * decodes must encode and decode again to the same struct (the encoder
 * writes every field the decoder keeps), stay within its bounds and keep
 * its error text printable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "krpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_bounds(const struct krpc_msg *m)
{
	if (m->tid_len == 0 || m->tid_len > KRPC_TID_MAX || m->token_len > KRPC_TOKEN_MAX ||
	    m->n_nodes > 2 * KRPC_NODES_MAX || m->n_values > KRPC_VALUES_MAX)
		abort();
	size_t n = strnlen(m->error_msg, sizeof m->error_msg);
	if (n == sizeof m->error_msg)
		abort();
	for (size_t i = 0; i < n; i++)
		if (m->error_msg[i] < 0x20 || m->error_msg[i] > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct krpc_msg *m = malloc(sizeof *m), *again = malloc(sizeof *again);
	struct krpc_error err;
	struct sta_buf b = STA_BUF_INIT;

	if (m == NULL || again == NULL)
		abort();
	enum krpc_err e = krpc_decode(data, size, m, &err);
	if (e != err.code || krpc_strerror(e) == NULL)
		abort();
	if (e == KRPC_OK) {
		check_bounds(m);
		krpc_encode(&b, m);
		if (krpc_decode(b.data, b.len, again, NULL) != KRPC_OK ||
		    memcmp(m, again, sizeof *m) != 0)
			abort();
		krpc_check_response(m, KRPC_GET_PEERS);
	} else if (m->tid_len > KRPC_TID_MAX) {
		abort();
	}
	buf_free(&b);
	free(m);
	free(again);
	return 0;
}
