/* The extensions the peer connection speaks (peer_ext.h): a new one is a
 * room in stad/ext/ and a line here. */
#include <stddef.h>

#include "magnet_torrent.h"
#include "metadata.h"
#include "peer_ext.h"
#include "pex.h"

/* BEP 9, with what a magnet torrent's peers say before its metadata is in. */
static const struct peer_ext metadata_ext = {
	.id = METADATA_EXT_ID,
	.handshake_out = metadata_ext_handshake,
	.handshake_in = metadata_on_ext_handshake,
	.message = metadata_on_message,
	.early_message = magnet_early_msg,
	.peer_gone = metadata_peer_gone,
	.peer_free = magnet_early_free,
	.tick = metadata_tick,
	.torrent_new = metadata_torrent_new,
	.torrent_free = metadata_torrent_free,
};

/* BEP 11. */
static const struct peer_ext pex_ext = {
	.id = PEX_EXT_ID,
	.handshake_out = pex_ext_handshake,
	.handshake_in = pex_on_ext_handshake,
	.message = pex_on_message,
	.peer_free = pex_peer_free,
	.tick = pex_tick,
};

const struct peer_ext *const peer_exts[] = { &metadata_ext, &pex_ext, NULL };
