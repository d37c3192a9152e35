/* Binding outgoing sockets to the configured listen address. */
#include "srcaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

bool srcaddr_parse(const char *literal, uint16_t port, struct sockaddr_storage *ss,
                   socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, literal, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof *a4;
		return true;
	}
	if (inet_pton(AF_INET6, literal, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof *a6;
		return true;
	}
	return false;
}

socklen_t srcaddr_len(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (sa->sa_family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}

bool srcaddr_is_any(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

bool srcaddr_applies(const struct sockaddr *src, int dst_family)
{
	return src != NULL && src->sa_family == dst_family;
}

int srcaddr_bind(int fd, const struct sockaddr *src, bool tcp)
{
	struct sockaddr_storage ss;
	socklen_t len = srcaddr_len(src);

	if (len == 0) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	memcpy(&ss, src, len);
	if (src->sa_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
#ifdef IP_BIND_ADDRESS_NO_PORT
	if (tcp) {
		int one = 1;
		/* Best effort: without it the bind merely reserves a port early. */
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
	}
#endif
	return bind(fd, (struct sockaddr *)&ss, len);
}
