/* The source address of outgoing traffic. When stad listens on a specific
 * address, its peer connections, HTTP and UDP tracker traffic leave from
 * that address too: trackers and other clients tell peers apart by source
 * address, so several stads on 127.0.0.2, 127.0.0.3, ... must each show up
 * as their own. A wildcard listen address (0.0.0.0, ::) binds nothing.
 */
#ifndef STAD_SRCADDR_H
#define STAD_SRCADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 literal and a port into *ss; false when not a literal. */
bool srcaddr_parse(const char *literal, uint16_t port, struct sockaddr_storage *ss,
                   socklen_t *len);
/* sizeof the sockaddr of its family; 0 for a family other than IPv4/IPv6. */
socklen_t srcaddr_len(const struct sockaddr *sa);
/* 0.0.0.0 or ::. */
bool srcaddr_is_any(const struct sockaddr *sa);
/* Whether fd, about to talk to a family-dst peer, should be bound to src:
 * src set (not NULL) and of the same family. */
bool srcaddr_applies(const struct sockaddr *src, int dst_family);
/* Binds fd to src's address with port 0 (the kernel picks the port, at
 * connect for TCP so ephemeral ports are not used up by the bind). -1 with
 * errno on failure. */
int srcaddr_bind(int fd, const struct sockaddr *src, bool tcp);

#endif
