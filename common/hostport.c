#include "hostport.h"

#include <stdio.h>
#include <string.h>

#include "strnum.h"

/* Letters, digits, '-', '.', and ':' inside brackets: nothing a resolver
 * or a log line could take for something else. */
static bool host_chars_ok(const char *h, size_t n, bool bracketed)
{
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		          c == '-' || c == '.' || (bracketed && c == ':');
		if (!ok)
			return false;
	}
	return n > 0;
}

bool hostport_split(const char *s, char host[HOSTPORT_HOST_MAX + 1], uint16_t *port, char *why,
                    size_t whysz)
{
	const char *colon = strrchr(s, ':');
	uint64_t p;

	if (colon == NULL || !strnum_u64(colon + 1, strlen(colon + 1), 1, 65535, &p)) {
		snprintf(why, whysz, "\"%.64s\" is not HOST:PORT with a port from 1 to 65535", s);
		return false;
	}
	size_t n = (size_t)(colon - s);
	bool bracketed = n >= 2 && s[0] == '[' && s[n - 1] == ']';
	const char *h = bracketed ? s + 1 : s;
	n -= bracketed ? 2 : 0;
	if (n > HOSTPORT_HOST_MAX || !host_chars_ok(h, n, bracketed) ||
	    (!bracketed && memchr(h, ':', n) != NULL)) {
		snprintf(why, whysz, "\"%.64s\" has no valid host before the port (IPv6 addresses "
		         "go in brackets: [2001:db8::1]:6881)", s);
		return false;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (uint16_t)p;
	return true;
}
