/* Outgoing sockets bound to the listen address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "srcaddr.h"

static void test_parse(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;

	assert_true(srcaddr_parse("127.0.0.2", 6881, &ss, &len));
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&ss;
	assert_int_equal(len, sizeof *a4);
	assert_int_equal(a4->sin_family, AF_INET);
	assert_int_equal(ntohs(a4->sin_port), 6881);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), 0x7f000002);
	assert_false(srcaddr_is_any((struct sockaddr *)&ss));
	assert_int_equal(srcaddr_len((struct sockaddr *)&ss), sizeof *a4);

	assert_true(srcaddr_parse("::1", 1, &ss, &len));
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_false(srcaddr_is_any((struct sockaddr *)&ss));

	assert_true(srcaddr_parse("0.0.0.0", 1, &ss, &len));
	assert_true(srcaddr_is_any((struct sockaddr *)&ss));
	assert_true(srcaddr_parse("::", 1, &ss, &len));
	assert_true(srcaddr_is_any((struct sockaddr *)&ss));

	static const char *const bad[] = { "", "localhost", "127.0.0", "127.0.0.1 ",
	                                   "1.2.3.4:5", "[::1]", "::g", "256.0.0.1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(srcaddr_parse(bad[i], 1, &ss, &len));
}

static void test_applies(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct sockaddr unix_sa = { .sa_family = AF_UNIX };

	assert_true(srcaddr_parse("127.0.0.2", 0, &ss, &len));
	assert_true(srcaddr_applies((struct sockaddr *)&ss, AF_INET));
	assert_false(srcaddr_applies((struct sockaddr *)&ss, AF_INET6));
	assert_false(srcaddr_applies(NULL, AF_INET));
	assert_int_equal(srcaddr_len(&unix_sa), 0);
	assert_false(srcaddr_is_any(&unix_sa));
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(srcaddr_bind(fd, &unix_sa, false), -1);
	close(fd);
}

/* A TCP connection from a socket bound to 127.0.0.2 (port in the
 * sockaddr ignored) reaches a listener on 127.0.0.1 from 127.0.0.2. */
static void test_tcp_source(void **state)
{
	struct sockaddr_in lsin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof lsin;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_storage src;
	socklen_t slen;

	assert_int_equal(bind(lfd, (struct sockaddr *)&lsin, sizeof lsin), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&lsin, &l), 0);
	assert_true(srcaddr_parse("127.0.0.2", ntohs(lsin.sin_port), &src, &slen));

	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(srcaddr_bind(fd, (struct sockaddr *)&src, true), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&lsin, sizeof lsin), 0);
	struct sockaddr_in from;
	l = sizeof from;
	int afd = accept(lfd, (struct sockaddr *)&from, &l);
	assert_true(afd >= 0);
	assert_int_equal(ntohl(from.sin_addr.s_addr), 0x7f000002);
	assert_int_not_equal(from.sin_port, lsin.sin_port);
	close(afd);
	close(fd);
	close(lfd);
}

static void test_udp_source(void **state)
{
	struct sockaddr_in rsin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof rsin;
	int rfd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_storage src;
	socklen_t slen;

	assert_int_equal(bind(rfd, (struct sockaddr *)&rsin, sizeof rsin), 0);
	assert_int_equal(getsockname(rfd, (struct sockaddr *)&rsin, &l), 0);
	assert_true(srcaddr_parse("127.0.0.3", 0, &src, &slen));
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(srcaddr_bind(fd, (struct sockaddr *)&src, false), 0);
	assert_int_equal(sendto(fd, "x", 1, 0, (struct sockaddr *)&rsin, sizeof rsin), 1);
	struct sockaddr_in from;
	char c;
	l = sizeof from;
	assert_int_equal(recvfrom(rfd, &c, 1, 0, (struct sockaddr *)&from, &l), 1);
	assert_int_equal(ntohl(from.sin_addr.s_addr), 0x7f000003);
	close(fd);
	close(rfd);
}

/* An address that is not configured here cannot be bound. */
static void test_foreign_address(void **state)
{
	struct sockaddr_storage src;
	socklen_t slen;

	assert_true(srcaddr_parse("192.0.2.1", 0, &src, &slen));
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(srcaddr_bind(fd, (struct sockaddr *)&src, true), -1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_applies),
		cmocka_unit_test(test_tcp_source),
		cmocka_unit_test(test_udp_source),
		cmocka_unit_test(test_foreign_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
