/* The extension-message hook of the peer connection (BEP 10). Each
 * extension is a room of its own (stad/ext/) that the connection and the
 * torrent know only through this table: the connection builds our
 * handshake from it, hands each extension the peer's handshake and the
 * messages sent to its id, and tells it when a peer goes; the torrent
 * ticks it and frees what it keeps per torrent. Every member but id may
 * be NULL. Loop thread only.
 */
#ifndef STAD_PEER_EXT_H
#define STAD_PEER_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct peer;
struct pw_ext_hs;
struct pw_msg;
struct torrent;

struct peer_ext {
	uint8_t id;               /* our id for it in "m" */
	/* Our handshake to a peer of t: its "m" entry and what else it says. */
	void (*handshake_out)(const struct torrent *t, struct pw_ext_hs *hs);
	/* The peer's handshake arrived. May close p. */
	void (*handshake_in)(struct peer *p, const struct pw_ext_hs *hs);
	/* A message to our id (the payload after it). May close p. */
	void (*message)(struct peer *p, const uint8_t *data, size_t len);
	/* A message that came before p's torrent had its metadata: true when
	 * the extension took it (it is not dispatched). May close p. */
	bool (*early_message)(struct peer *p, const struct pw_msg *m);
	/* p leaves its torrent; p is freed. */
	void (*peer_gone)(struct peer *p);
	void (*peer_free)(struct peer *p);
	/* t is made (before it has peers); once a second; t is freed. */
	void (*torrent_new)(struct torrent *t);
	void (*tick)(struct torrent *t);
	void (*torrent_free)(struct torrent *t);
};

/* Every extension, then NULL (stad/ext/extensions.c). */
extern const struct peer_ext *const peer_exts[];

/* Calls member(...) of every extension that has one. */
#define PEER_EXTS_CALL(member, ...)                                            \
	do {                                                                   \
		for (const struct peer_ext *const *e_ = peer_exts; *e_; e_++)  \
			if ((*e_)->member)                                     \
				(*e_)->member(__VA_ARGS__);                    \
	} while (0)

#endif
