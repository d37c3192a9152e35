/* MSE handshake. Two modes, by the low bit of byte 0:
 *
 * raw: the rest of the input is what a peer sends to one codec (byte 1
 * picks initiator or responder and the chunk size), so every sync and
 * length check meets arbitrary bytes;
 *
 * pair: an initiator and a responder talk, with the pads, the methods and
 * the chunk size taken from the input, and the remaining input a list of
 * (direction, offset, xor) tampers applied to the bytes in flight. RC4 is a
 * stream cipher, so xoring ciphertext xors the plaintext under it: the
 * fuzzer reaches every encrypted field (crypto_provide, crypto_select,
 * len(PadC), len(IA), ...) with any value it likes.
 *
 * Checks: the codec takes no more than it was given, never asks for SKEY
 * twice, and untampered pairs always agree on one method. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mse.h"

#define CHECK(c)                       \
	do {                               \
		if (!(c))                      \
			__builtin_trap();          \
	} while (0)

#define MAX_TAMPERS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t skey[20] = "fuzzfuzzfuzzfuzzfuzz";

struct tamper {
	uint8_t dir;
	uint16_t off;
	uint8_t x;
};

struct side {
	struct mse_hs hs;
	struct sta_buf rx;
	size_t fed, arrived;
	enum mse_status st;
};

/* What arrived and is not taken (NULL + 0 is undefined, so no pointer
 * arithmetic on an empty buffer). */
static const uint8_t *pending(const struct side *s)
{
	return s->rx.data ? s->rx.data + s->fed : NULL;
}

static const struct mse_cipher *cipher(void)
{
	static struct mse_cipher c;
	static bool loaded;
	char err[256];

	if (!loaded && !mse_cipher_load(&c, err, sizeof err))
		abort();
	loaded = true;
	return &c;
}

static void rnd_init(struct mse_random *r, uint8_t seed, uint16_t pad_len)
{
	for (int i = 0; i < MSE_PRIV_LEN; i++)
		r->priv[i] = (uint8_t)(seed + 31 * i);
	r->pad_len = pad_len % (MSE_PAD_MAX + 1);
	for (int i = 0; i < MSE_PAD_MAX; i++)
		r->pad[i] = (uint8_t)(seed ^ i);
}

/* One feed of what arrived; the responder's SKEY question is answered
 * with skey whatever it asked (a wrong key fails later, at the VC). */
static void feed(struct side *s, struct sta_buf *to_peer)
{
	size_t used;
	enum mse_err err;

	if (s->st == MSE_DONE || s->st == MSE_ERROR)
		return;
	s->st = mse_hs_feed(&s->hs, pending(s), s->arrived - s->fed, &used, to_peer, &err);
	CHECK(used <= s->arrived - s->fed);
	CHECK((s->st == MSE_ERROR) == (err != MSE_E_NONE));
	s->fed += used;
	if (s->st == MSE_WANT_SKEY) {
		mse_hs_set_skey(&s->hs, skey);
		s->st = mse_hs_feed(&s->hs, pending(s), s->arrived - s->fed, &used, to_peer,
		                    &err);
		CHECK(s->st != MSE_WANT_SKEY);
		s->fed += used;
	}
}

static void run_raw(const uint8_t *data, size_t size)
{
	struct side s;
	struct mse_random rnd;
	struct sta_buf out = STA_BUF_INIT;
	size_t chunk = (size_t)(data[0] >> 1) + 1;

	memset(&s, 0, sizeof s);
	rnd_init(&rnd, 7, 3);
	if (!mse_hs_start(&s.hs, data[0] & 1 ? MSE_RESPONDER : MSE_INITIATOR, cipher(),
	                  MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN, &rnd, skey, NULL, 0, &out))
		abort();
	buf_append(&s.rx, data + 1, size - 1);
	while (s.arrived < s.rx.len && s.st != MSE_DONE && s.st != MSE_ERROR) {
		s.arrived = s.rx.len - s.arrived < chunk ? s.rx.len : s.arrived + chunk;
		feed(&s, &out);
	}
	mse_hs_free(&s.hs);
	buf_free(&s.rx);
	buf_free(&out);
}

/* Appends out to the peer's input, applying the tampers of direction dir
 * to absolute stream offsets. */
static void deliver(struct side *to, struct sta_buf *out, const struct tamper *t, size_t nt,
                    uint8_t dir)
{
	size_t base = to->rx.len;

	buf_append(&to->rx, out->data, out->len);
	for (size_t i = 0; i < nt; i++)
		if (t[i].dir == dir && t[i].off >= base && t[i].off < to->rx.len)
			to->rx.data[t[i].off] ^= t[i].x;
	buf_clear(out);
}

static void run_pair(const uint8_t *data, size_t size)
{
	struct side a, b;
	struct mse_random ra, rb;
	struct sta_buf out = STA_BUF_INIT;
	struct tamper t[MAX_TAMPERS];
	size_t nt = 0, chunk = (size_t)(data[1] % 128) + 1;
	uint8_t ia[68] = "\x13" "BitTorrent protocol";

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	rnd_init(&ra, 1, (uint16_t)(data[4] << 8 | data[5]));
	rnd_init(&rb, 2, (uint16_t)(data[6] << 8 | data[7]));
	for (size_t p = 8; p + 4 <= size && nt < MAX_TAMPERS; p += 4)
		t[nt++] = (struct tamper){ data[p] & 1, (uint16_t)(data[p + 1] << 8 | data[p + 2]),
		                           data[p + 3] };
	if (!mse_hs_start(&a.hs, MSE_INITIATOR, cipher(), (data[2] & 3) ? data[2] & 3 : 2, &ra, skey,
	                  ia, sizeof ia, &out) ||
	    !mse_hs_start(&b.hs, MSE_RESPONDER, cipher(), (data[3] & 3) ? data[3] & 3 : 2, &rb, NULL,
	                  NULL, 0, &out))
		abort();
	deliver(&b, &out, t, nt, 0);
	for (int round = 0; round < 4096; round++) {
		size_t before = a.fed + b.fed + a.rx.len + b.rx.len;
		a.arrived = a.rx.len - a.arrived < chunk ? a.rx.len : a.arrived + chunk;
		b.arrived = b.rx.len - b.arrived < chunk ? b.rx.len : b.arrived + chunk;
		feed(&a, &out);
		deliver(&b, &out, t, nt, 0);
		feed(&b, &out);
		deliver(&a, &out, t, nt, 1);
		if (a.fed + b.fed + a.rx.len + b.rx.len == before && a.arrived == a.rx.len &&
		    b.arrived == b.rx.len)
			break;
	}
	bool methods_meet = (a.hs.methods & b.hs.methods) != 0;
	if (nt == 0)
		CHECK((a.st == MSE_DONE && b.st == MSE_DONE && a.hs.select == b.hs.select) ||
		      (!methods_meet && b.st == MSE_ERROR));
	mse_hs_free(&a.hs);
	mse_hs_free(&b.hs);
	buf_free(&a.rx);
	buf_free(&b.rx);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (data[0] & 1) {
		if (size >= 8)
			run_pair(data, size);
	} else {
		run_raw(data + 1, size - 1);
	}
	return 0;
}
