/* Magnet URIs: whatever parses holds only checked values, and a link
 * built from them parses back to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magnet.h"
#include "metainfo.h"

#define CHECK(c)                       \
	do {                               \
		if (!(c))                      \
			__builtin_trap();          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_values(const struct magnet *m)
{
	char problem[80];

	CHECK(strlen(m->name) <= MAGNET_NAME_MAX);
	for (const char *c = m->name; *c; c++)
		CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
	CHECK(m->n_trackers <= MAGNET_MAX_TRACKERS && m->n_peers <= MAGNET_MAX_PEERS);
	for (size_t i = 0; i < m->n_trackers; i++)
		CHECK(metainfo_url_kind(m->trackers[i], strlen(m->trackers[i]), problem,
		                        sizeof problem) == 1);
	for (size_t i = 0; i < m->n_peers; i++) {
		CHECK(m->peers[i].port != 0);
		CHECK(m->peers[i].host[0] != '\0');
		CHECK(memchr(m->peers[i].host, '\0', sizeof m->peers[i].host) != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct magnet m, back;
	struct magnet_error err;
	struct sta_buf b = STA_BUF_INIT;

	if (!magnet_parse((const char *)data, size, &m, &err)) {
		CHECK(err.code != MAGNET_ERR_NONE && err.msg[0] != '\0');
		return 0;
	}
	check_values(&m);
	magnet_build(&b, m.info_hash, m.name, (const char *const *)m.trackers, m.n_trackers,
	             m.peers, m.n_peers);
	CHECK(magnet_parse((const char *)b.data, b.len, &back, &err));
	CHECK(memcmp(back.info_hash, m.info_hash, 20) == 0);
	CHECK(strcmp(back.name, m.name) == 0);
	CHECK(back.n_trackers == m.n_trackers);
	for (size_t i = 0; i < m.n_trackers; i++)
		CHECK(strcmp(back.trackers[i], m.trackers[i]) == 0);
	CHECK(back.n_peers == m.n_peers);
	for (size_t i = 0; i < m.n_peers; i++)
		CHECK(strcmp(back.peers[i].host, m.peers[i].host) == 0 &&
		      back.peers[i].port == m.peers[i].port);
	magnet_free(&back);
	magnet_free(&m);
	buf_free(&b);
	return 0;
}
