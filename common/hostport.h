/* "HOST:PORT" as a user writes it in a config file: a DNS name, an IPv4
 * literal, or an IPv6 literal in brackets ("[2001:db8::1]:6881"), and a
 * port from 1 to 65535. Pure. */
#ifndef STA_HOSTPORT_H
#define STA_HOSTPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOSTPORT_HOST_MAX 253   /* the longest DNS name */

/* Splits s into host (without brackets, NUL-terminated, at most
 * HOSTPORT_HOST_MAX characters) and port. False with a sentence in why
 * (whysz bytes) when s is not of that shape. */
bool hostport_split(const char *s, char host[HOSTPORT_HOST_MAX + 1], uint16_t *port, char *why,
                    size_t whysz);

#endif
