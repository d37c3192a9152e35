/* RC4 under a bufferevent (mse_stream.c) over a socketpair: what the
 * bufferevent writes arrives encrypted (small writes, and chains moved in
 * with evbuffer_add_buffer as the uploads do), what arrives encrypted is
 * read as plaintext, bytes already buffered at attach time are handled,
 * and a decrypt limit stops RC4 after the initial payload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mse.h"
#include "mse_stream.h"

static const uint8_t key_out[20] = "key-for-what-we-send";
static const uint8_t key_in[20] = "key-for-what-we-get!";

struct env {
	struct mse_cipher c;
	struct event_base *base;
	struct bufferevent *bev;
	int fd;                  /* the other end, raw */
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	char err[256];
	int sv[2];

	assert_true(mse_cipher_load(&e->c, err, sizeof err));
	e->base = event_base_new();
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	e->bev = bufferevent_socket_new(e->base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_enable(e->bev, EV_READ | EV_WRITE);
	e->fd = sv[1];
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	bufferevent_free(e->bev);
	close(e->fd);
	event_base_free(e->base);
	mse_cipher_unload(&e->c);
	free(e);
	return 0;
}

static void rc4(struct env *e, struct mse_rc4 *r, const uint8_t key[20])
{
	mse_rc4_init(r, &e->c, key, 20, MSE_DROP);
}

static void pattern(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + seed + (i >> 9));
}

/* Runs the loop until the other end has read n bytes into out. */
static void read_raw(struct env *e, uint8_t *out, size_t n)
{
	size_t got = 0;

	for (int i = 0; i < 10000 && got < n; i++) {
		event_base_loop(e->base, EVLOOP_NONBLOCK);
		ssize_t r = read(e->fd, out + got, n - got);
		if (r > 0)
			got += (size_t)r;
	}
	assert_int_equal(got, n);
}

/* Runs the loop until the bufferevent's input holds n bytes. */
static void wait_input(struct env *e, size_t n)
{
	struct evbuffer *in = bufferevent_get_input(e->bev);

	for (int i = 0; i < 10000 && evbuffer_get_length(in) < n; i++)
		event_base_loop(e->base, EVLOOP_NONBLOCK);
	assert_int_equal(evbuffer_get_length(in), n);
}

static void test_output_encrypted(void **state)
{
	struct env *e = *state;
	struct mse_rc4 enc, check;
	static uint8_t big[300000], wire[sizeof big + 5];
	struct evbuffer *moved = evbuffer_new();

	/* Written before the stream: stays as it is. */
	bufferevent_write(e->bev, "plain", 5);
	rc4(e, &enc, key_out);
	struct mse_stream *m = mse_stream_attach(e->bev, &enc, NULL, 0);
	assert_null(enc.ctx); /* taken */
	pattern(big, sizeof big, 1);
	bufferevent_write(e->bev, big, 1000);
	evbuffer_add(moved, big + 1000, sizeof big - 1000);
	evbuffer_add_buffer(bufferevent_get_output(e->bev), moved);
	read_raw(e, wire, sizeof wire);
	assert_memory_equal(wire, "plain", 5);
	rc4(e, &check, key_out);
	mse_rc4_crypt(&check, wire + 5, sizeof big);
	assert_memory_equal(wire + 5, big, sizeof big);
	mse_rc4_free(&check);
	mse_stream_free(m, e->bev);
	evbuffer_free(moved);
}

static void test_input_decrypted(void **state)
{
	struct env *e = *state;
	struct mse_rc4 dec, peer;
	static uint8_t plain[200000], wire[sizeof plain];
	struct evbuffer *in = bufferevent_get_input(e->bev);

	pattern(plain, sizeof plain, 2);
	memcpy(wire, plain, sizeof wire);
	rc4(e, &peer, key_in);
	mse_rc4_crypt(&peer, wire, sizeof wire);
	/* 100 bytes arrive before the stream is attached. */
	assert_int_equal(write(e->fd, wire, 100), 100);
	wait_input(e, 100);
	rc4(e, &dec, key_in);
	struct mse_stream *m = mse_stream_attach(e->bev, NULL, &dec, MSE_STREAM_ALL);
	for (size_t off = 100; off < sizeof wire;) {
		ssize_t n = write(e->fd, wire + off, sizeof wire - off);
		if (n > 0)
			off += (size_t)n;
		event_base_loop(e->base, EVLOOP_NONBLOCK);
	}
	wait_input(e, sizeof plain);
	assert_memory_equal(evbuffer_pullup(in, -1), plain, sizeof plain);
	evbuffer_drain(in, sizeof plain);
	mse_rc4_free(&peer);
	mse_stream_free(m, e->bev);
}

/* Plaintext selected after an RC4 initial payload: only that many bytes
 * are decrypted, wherever the reads happen to split them. */
static void test_decrypt_limit(void **state)
{
	struct env *e = *state;
	struct mse_rc4 dec, peer;
	uint8_t plain[200], wire[200];
	struct evbuffer *in = bufferevent_get_input(e->bev);

	pattern(plain, sizeof plain, 3);
	memcpy(wire, plain, sizeof wire);
	rc4(e, &peer, key_in);
	mse_rc4_crypt(&peer, wire, 68);
	assert_int_equal(write(e->fd, wire, 30), 30);
	wait_input(e, 30);
	rc4(e, &dec, key_in);
	struct mse_stream *m = mse_stream_attach(e->bev, NULL, &dec, 68);
	assert_int_equal(write(e->fd, wire + 30, 20), 20);
	wait_input(e, 50);
	assert_int_equal(write(e->fd, wire + 50, sizeof wire - 50), (ssize_t)(sizeof wire - 50));
	wait_input(e, sizeof plain);
	assert_memory_equal(evbuffer_pullup(in, -1), plain, sizeof plain);
	evbuffer_drain(in, sizeof plain);
	mse_rc4_free(&peer);
	mse_stream_free(m, e->bev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_output_encrypted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_decrypted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decrypt_limit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
