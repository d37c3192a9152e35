/* stad's DHT state file, as read back at start (it may be cut short or
 * edited). What decodes must encode and decode again to the same id and
 * nodes, within the per-family bound. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dht_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dht_state st, again;
	char err[160];
	struct sta_buf b = STA_BUF_INIT;

	if (!dht_state_decode(data, size, &st, err, sizeof err)) {
		if (st.nodes != NULL || memchr(err, '\0', sizeof err) == NULL)
			abort();
		return 0;
	}
	if (st.n_nodes > 2 * DHT_STATE_MAX_NODES)
		abort();
	dht_state_encode(&b, st.id, st.nodes, st.n_nodes);
	if (!dht_state_decode(b.data, b.len, &again, err, sizeof err) ||
	    again.n_nodes != st.n_nodes || memcmp(again.id, st.id, sizeof st.id) != 0 ||
	    memcmp(again.nodes, st.nodes, st.n_nodes * sizeof *st.nodes) != 0)
		abort();
	dht_state_free(&again);
	dht_state_free(&st);
	buf_free(&b);
	return 0;
}
