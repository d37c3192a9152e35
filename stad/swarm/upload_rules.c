/* Which requests are served, and which pieces a choked peer may take. */
#include "upload_rules.h"

#include <netinet/in.h>

#include "peer_wire.h"

enum upload_verdict upload_rule(const struct upload_facts *f, uint32_t begin, uint32_t length,
                                const char **why)
{
	enum upload_verdict refuse = f->fast ? UPLOAD_REJECT : UPLOAD_IGNORE;

	if (f->piece_size == 0) {
		*why = "request for a piece past the end";
		return UPLOAD_CLOSE;
	}
	/* begin < size first, so size - begin cannot wrap. */
	if (length == 0 || begin >= f->piece_size || length > f->piece_size - begin) {
		*why = "request outside the piece";
		return UPLOAD_CLOSE;
	}
	if (length > f->max_block) {
		*why = "request longer than a block";
		return f->fast ? UPLOAD_REJECT : UPLOAD_CLOSE;
	}
	if (!f->serving || !f->have) {
		*why = "request for a piece we cannot serve";
		return refuse;
	}
	if (f->choking && !f->allowed_fast) {
		*why = "request while choked";
		return refuse;
	}
	if (f->queued >= f->queue_cap) {
		*why = "request queue full";
		return refuse;
	}
	*why = NULL;
	return UPLOAD_SERVE;
}

size_t upload_allowed_fast_set(const struct sockaddr *sa, const uint8_t info_hash[20],
                               uint32_t n_pieces, uint32_t out[UPLOAD_AF_K])
{
	const uint8_t *ip;

	if (n_pieces <= UPLOAD_AF_K)
		return 0;
	if (sa->sa_family == AF_INET) {
		ip = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6 &&
	           IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr)) {
		ip = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr + 12;
	} else {
		return 0;
	}
	return peer_wire_allowed_fast(ip, info_hash, n_pieces, out, UPLOAD_AF_K);
}
