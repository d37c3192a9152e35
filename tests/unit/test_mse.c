#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "hex.h"
#include "mse.h"
#include "sha1.h"

/* Known answers from tests/lib/statest/mse.py, an independent Python
 * implementation of the spec (its RC4 checked against the published
 * "Key"/"Plaintext" vectors): private keys 0x01..0x14 (A) and 0x15..0x28
 * (B), PadA 01 02 03, PadB c8..ce, SKEY twenty 'S', IA the BitTorrent
 * handshake below, RC4 selected. */
static const char kat_ya[] =
	"96e112dab29e8c5272accb9b17b26887ce54a144a4e3b697c7d159b7a817e556"
	"b0918db2b4c658e02a87f7e5fb14b18a553e084cbf3dad2d30f16596ccb982d4"
	"06258c61b30c5c1dae2ddc60bdbd48d79896312aad63238c39e1a633821eb693";
static const char kat_yb[] =
	"a3e981e821087e74b889c5bfc373ec5be9ed09c85282b9cdb6b07dbaabe0ee51"
	"38a91e6245657219d1019ce47ed3613f037c6932a69069a3928b146b354e79cb"
	"feaad601d12598943c43b5b5529915b2c604e43fd6f9ced4efbe68f9edfaeee7";
static const char kat_step3[] =
	"83c8d8a3d91a5bf40d723666c4258731c8427ccb850935aa38a47f3ebedf0344"
	"44475a266bf936677217155ba373a786c745cdb83835a20b8dfa5519ac7829e4"
	"0f5b4da2697e69032a6b3a0d6755cb14b9fffdcb7b63c2a3ed68fcae34f174b5"
	"530a5dc03594578e53766fea8a67a9f09a313e7687de46fed1de2834";
static const char kat_step4[] = "7f432c9019d8e31e470e1a3e41e3";
static const char kat_pay_b[] = "7dc1907d4d2c8810f448efa81a65"; /* "payload from B" */
static const char kat_pay_a[] = "b1e7f91e93f2f567f274b3466452"; /* "payload from A" */

static const uint8_t skey[20] = "SSSSSSSSSSSSSSSSSSSS";
static const uint8_t pad_a[] = { 1, 2, 3 };
static const uint8_t pad_b[] = { 200, 201, 202, 203, 204, 205, 206 };

static struct mse_cipher cipher;

static int load_cipher(void **state)
{
	char err[256];

	assert_true(mse_cipher_load(&cipher, err, sizeof err));
	return 0;
}

static int unload_cipher(void **state)
{
	mse_cipher_unload(&cipher);
	return 0;
}

/* Hex to a heap buffer of *len bytes. */
static uint8_t *unhex(const char *h, size_t *len)
{
	*len = strlen(h) / 2;
	uint8_t *b = malloc(*len + 1);
	assert_true(hex_decode(h, 2 * *len, b, *len));
	return b;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
	size_t n;
	uint8_t *w = unhex(want, &n);

	assert_int_equal(len, n);
	assert_memory_equal(got, w, n);
	free(w);
}

static void ia_handshake(uint8_t ia[68])
{
	memcpy(ia, "\x13" "BitTorrent protocol", 20);
	memset(ia + 20, 0, 8);
	memcpy(ia + 28, skey, 20);
	memcpy(ia + 48, "-ST0100-abcdefghijkl", 20);
}

static void rnd_fixed(struct mse_random *r, uint8_t first, const uint8_t *pad, size_t pad_len)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < MSE_PRIV_LEN; i++)
		r->priv[i] = (uint8_t)(first + i);
	r->pad_len = (uint16_t)pad_len;
	if (pad_len)
		memcpy(r->pad, pad, pad_len);
}

/* ---- RC4 ---- */

static void rc4_vector(const char *key, const char *plain, const char *want, size_t drop)
{
	struct mse_rc4 r;
	uint8_t buf[64];
	size_t n = strlen(plain);

	memcpy(buf, plain, n);
	mse_rc4_init(&r, &cipher, (const uint8_t *)key, strlen(key), drop);
	mse_rc4_crypt(&r, buf, n);
	assert_hex(buf, n, want);
	mse_rc4_free(&r);
}

static void test_rc4_vectors(void **state)
{
	rc4_vector("Key", "Plaintext", "bbf316e8d940af0ad3", 0);
	rc4_vector("Wiki", "pedia", "1021bf0420", 0);
	rc4_vector("Secret", "Attack at dawn", "45a01f645fc35b383552544b9bf5", 0);
}

static void test_rc4_drop_and_split(void **state)
{
	struct mse_rc4 a, b;
	uint8_t one[3000], two[3000];

	memset(one, 0, sizeof one);
	memset(two, 0, sizeof two);
	/* Dropping 1024 equals running 1024 bytes through by hand. */
	mse_rc4_init(&a, &cipher, skey, 20, MSE_DROP);
	mse_rc4_init(&b, &cipher, skey, 20, 0);
	mse_rc4_crypt(&b, two, 1024);
	memset(two, 0, 1024);
	mse_rc4_crypt(&a, one, 1);
	mse_rc4_crypt(&a, one + 1, 1500);
	mse_rc4_crypt(&a, one + 1501, 1499);
	mse_rc4_crypt(&b, two, 3000);
	assert_memory_equal(one, two, sizeof one);
	mse_rc4_free(&a);
	mse_rc4_free(&b);
}

static void test_rc4_drop_vector(void **state)
{
	struct mse_rc4 r;
	uint8_t z[16] = { 0 };

	mse_rc4_init(&r, &cipher, (const uint8_t *)"Key", 3, 1024);
	mse_rc4_crypt(&r, z, sizeof z);
	assert_hex(z, sizeof z, "ca88075fe00acd8a8119914d76c04993");
	mse_rc4_free(&r);
}

/* ---- known answers ---- */

static void test_kat_initiator(void **state)
{
	struct mse_hs hs;
	struct mse_random rnd;
	struct sta_buf out = STA_BUF_INIT;
	struct sta_buf in = STA_BUF_INIT;
	uint8_t ia[68];
	enum mse_err err;
	size_t used, n;

	ia_handshake(ia);
	rnd_fixed(&rnd, 1, pad_a, sizeof pad_a);
	assert_true(mse_hs_start(&hs, MSE_INITIATOR, &cipher, MSE_CRYPTO_RC4, &rnd, skey, ia,
	                         sizeof ia, &out));
	assert_hex(out.data, MSE_KEY_LEN, kat_ya);
	assert_memory_equal(out.data + MSE_KEY_LEN, pad_a, sizeof pad_a);
	assert_int_equal(out.len, MSE_KEY_LEN + sizeof pad_a);
	buf_clear(&out);

	uint8_t *yb = unhex(kat_yb, &n);
	buf_append(&in, yb, n);
	buf_append(&in, pad_b, sizeof pad_b);
	free(yb);
	assert_int_equal(mse_hs_feed(&hs, in.data, in.len, &used, &out, &err), MSE_NEED_MORE);
	/* PadB is 7 bytes: each could still start ENCRYPT(VC), none is taken. */
	assert_int_equal(used, MSE_KEY_LEN);
	assert_hex(out.data, out.len, kat_step3);

	buf_clear(&in); /* not taken: PadB; then step 4 and B's payload */
	buf_append(&in, pad_b, sizeof pad_b);
	uint8_t *s4 = unhex(kat_step4, &n);
	buf_append(&in, s4, n);
	free(s4);
	uint8_t *pb = unhex(kat_pay_b, &n);
	buf_append(&in, pb, n);
	free(pb);
	buf_clear(&out);
	assert_int_equal(mse_hs_feed(&hs, in.data, in.len, &used, &out, &err), MSE_DONE);
	assert_int_equal(hs.select, MSE_CRYPTO_RC4);
	assert_int_equal(out.len, 0);
	assert_int_equal(in.len - used, n);

	struct mse_rc4 enc, dec;
	mse_hs_take_streams(&hs, &enc, &dec);
	mse_hs_free(&hs);
	mse_rc4_crypt(&dec, in.data + used, n);
	assert_memory_equal(in.data + used, "payload from B", n);
	uint8_t msg[14];
	memcpy(msg, "payload from A", sizeof msg);
	mse_rc4_crypt(&enc, msg, sizeof msg);
	assert_hex(msg, sizeof msg, kat_pay_a);
	mse_rc4_free(&enc);
	mse_rc4_free(&dec);
	buf_free(&in);
	buf_free(&out);
}

static void test_kat_responder(void **state)
{
	struct mse_hs hs;
	struct mse_random rnd;
	struct sta_buf out = STA_BUF_INIT;
	struct sta_buf in = STA_BUF_INIT;
	uint8_t ia[68], req2[20];
	enum mse_err err;
	size_t used, n;

	rnd_fixed(&rnd, 21, pad_b, sizeof pad_b);
	assert_true(mse_hs_start(&hs, MSE_RESPONDER, &cipher, MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN,
	                         &rnd, NULL, NULL, 0, &out));
	assert_int_equal(out.len, 0);
	uint8_t *ya = unhex(kat_ya, &n);
	buf_append(&in, ya, n);
	free(ya);
	buf_append(&in, pad_a, sizeof pad_a);
	uint8_t *s3 = unhex(kat_step3, &n);
	buf_append(&in, s3, n);
	free(s3);

	assert_int_equal(mse_hs_feed(&hs, in.data, in.len, &used, &out, &err), MSE_WANT_SKEY);
	assert_hex(out.data, MSE_KEY_LEN, kat_yb);
	assert_memory_equal(out.data + MSE_KEY_LEN, pad_b, sizeof pad_b);
	mse_req2_hash(skey, req2);
	assert_memory_equal(hs.req2, req2, 20);
	/* Asked again without an answer: still waiting, nothing taken. */
	size_t used2;
	assert_int_equal(mse_hs_feed(&hs, in.data + used, in.len - used, &used2, &out, &err),
	                 MSE_WANT_SKEY);
	assert_int_equal(used2, 0);

	mse_hs_set_skey(&hs, skey);
	buf_clear(&out);
	size_t off = used;
	assert_int_equal(mse_hs_feed(&hs, in.data + off, in.len - off, &used, &out, &err), MSE_DONE);
	off += used;
	assert_int_equal(hs.select, MSE_CRYPTO_RC4);
	assert_int_equal(hs.ia_len, 68);
	assert_hex(out.data, out.len, kat_step4);
	assert_int_equal(in.len - off, 68);
	struct mse_rc4 enc, dec;
	mse_hs_take_streams(&hs, &enc, &dec);
	mse_hs_free(&hs);
	mse_rc4_crypt(&dec, in.data + off, 68);
	ia_handshake(ia);
	assert_memory_equal(in.data + off, ia, 68);
	uint8_t msg[14];
	memcpy(msg, "payload from B", sizeof msg);
	mse_rc4_crypt(&enc, msg, sizeof msg);
	assert_hex(msg, sizeof msg, kat_pay_b);
	mse_rc4_free(&enc);
	mse_rc4_free(&dec);
	buf_free(&in);
	buf_free(&out);
}

/* ---- two codecs talking, byte by byte ---- */

struct side {
	struct mse_hs hs;
	struct sta_buf rx;       /* bytes sent to this side, not yet fed */
	enum mse_status st;
	enum mse_err err;
	size_t fed;              /* of rx, taken by the codec */
	size_t arrived;          /* of rx, "received" so far */
};

/* What arrived and is not taken (NULL + 0 is undefined, so no pointer
 * arithmetic on an empty buffer). */
static const uint8_t *pending(const struct side *s)
{
	return s->rx.data ? s->rx.data + s->fed : NULL;
}

/* Lets step more bytes of each side's input arrive per round and feeds
 * all that arrived and is not taken; answers WANT_SKEY with known. */
static void pump(struct side *a, struct side *b, size_t step, const uint8_t *known)
{
	struct side *sides[2] = { a, b };

	for (int round = 0; round < 100000; round++) {
		bool moved = false;
		for (int i = 0; i < 2; i++) {
			struct side *s = sides[i], *peer = sides[1 - i];
			if (s->st == MSE_DONE || s->st == MSE_ERROR)
				continue;
			size_t used, before = s->arrived;
			struct sta_buf out = STA_BUF_INIT;
			s->arrived = s->rx.len - s->arrived < step ? s->rx.len : s->arrived + step;
			s->st = mse_hs_feed(&s->hs, pending(s), s->arrived - s->fed, &used, &out,
			                    &s->err);
			s->fed += used;
			if (s->st == MSE_WANT_SKEY) {
				uint8_t want[20];
				mse_req2_hash(known, want);
				assert_memory_equal(want, s->hs.req2, 20);
				mse_hs_set_skey(&s->hs, known);
				s->st = MSE_NEED_MORE;
			}
			buf_append(&peer->rx, out.data, out.len);
			moved |= used > 0 || out.len > 0 || s->arrived > before;
			buf_free(&out);
		}
		if (!moved)
			return;
	}
	fail_msg("the handshake did not settle");
}

static void start_pair(struct side *a, struct side *b, uint32_t provide, uint32_t accept,
                       uint16_t pad_len_a, uint16_t pad_len_b)
{
	struct mse_random ra, rb;
	uint8_t ia[68];

	memset(a, 0, sizeof *a);
	memset(b, 0, sizeof *b);
	ia_handshake(ia);
	memset(&ra, 0, sizeof ra);
	memset(&rb, 0, sizeof rb);
	for (int i = 0; i < MSE_PRIV_LEN; i++) {
		ra.priv[i] = (uint8_t)(7 * i + 3);
		rb.priv[i] = (uint8_t)(11 * i + 5);
	}
	for (int i = 0; i < MSE_PAD_MAX; i++) {
		ra.pad[i] = (uint8_t)(i * 13);
		rb.pad[i] = (uint8_t)(i * 29);
	}
	ra.pad_len = pad_len_a;
	rb.pad_len = pad_len_b;
	assert_true(mse_hs_start(&a->hs, MSE_INITIATOR, &cipher, provide, &ra, skey, ia, sizeof ia,
	                         &b->rx));
	assert_true(mse_hs_start(&b->hs, MSE_RESPONDER, &cipher, accept, &rb, NULL, NULL, 0,
	                         &a->rx));
}

static void end_pair(struct side *a, struct side *b)
{
	mse_hs_free(&a->hs);
	mse_hs_free(&b->hs);
	buf_free(&a->rx);
	buf_free(&b->rx);
}

static void test_pair_every_split(void **state)
{
	const size_t steps[] = { 1, 7, 95, 97, 600, 4096 };
	const uint16_t pads[][2] = { { 0, 0 }, { 512, 512 }, { 1, 511 }, { 300, 0 } };

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		for (size_t j = 0; j < sizeof pads / sizeof pads[0]; j++) {
			struct side a, b;
			start_pair(&a, &b, MSE_CRYPTO_RC4, MSE_CRYPTO_RC4, pads[j][0], pads[j][1]);
			pump(&a, &b, steps[i], skey);
			assert_int_equal(a.st, MSE_DONE);
			assert_int_equal(b.st, MSE_DONE);
			assert_int_equal(a.hs.select, MSE_CRYPTO_RC4);
			/* B has exactly the RC4 IA left over. */
			assert_int_equal(b.rx.len - b.fed, 68);
			assert_int_equal(b.hs.ia_len, 68);
			/* The streams continue in step both ways. */
			uint8_t m[5] = "hello";
			mse_rc4_crypt(&a.hs.enc, b.rx.data + b.fed, 68);
			mse_rc4_crypt(&b.hs.dec, b.rx.data + b.fed, 68);
			mse_rc4_crypt(&b.hs.enc, m, 5);
			mse_rc4_crypt(&a.hs.dec, m, 5);
			assert_memory_equal(m, "hello", 5);
			end_pair(&a, &b);
		}
	}
}

static void test_pair_plaintext_selected(void **state)
{
	struct side a, b;

	/* A offers plaintext only; B takes both: plaintext is selected. */
	start_pair(&a, &b, MSE_CRYPTO_PLAIN, MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN, 5, 5);
	pump(&a, &b, 64, skey);
	assert_int_equal(a.st, MSE_DONE);
	assert_int_equal(b.st, MSE_DONE);
	assert_int_equal(a.hs.select, MSE_CRYPTO_PLAIN);
	assert_int_equal(b.hs.select, MSE_CRYPTO_PLAIN);
	end_pair(&a, &b);

	/* B requires RC4: no method in common. */
	start_pair(&a, &b, MSE_CRYPTO_PLAIN, MSE_CRYPTO_RC4, 5, 5);
	pump(&a, &b, 64, skey);
	assert_int_equal(b.st, MSE_ERROR);
	assert_int_equal(b.err, MSE_E_NO_METHOD);
	assert_int_not_equal(a.st, MSE_DONE);
	end_pair(&a, &b);
}

static void test_pair_wrong_skey(void **state)
{
	struct side a, b;
	uint8_t other[20];

	/* B answers with another torrent's key: its RC4 stream differs, so
	 * the VC does not decrypt to zeros. */
	memset(other, 'T', sizeof other);
	start_pair(&a, &b, MSE_CRYPTO_RC4, MSE_CRYPTO_RC4, 0, 0);
	size_t used;
	struct sta_buf out = STA_BUF_INIT;
	assert_int_equal(mse_hs_feed(&b.hs, b.rx.data, b.rx.len, &used, &a.rx, &b.err),
	                 MSE_NEED_MORE);
	assert_int_equal(mse_hs_feed(&a.hs, a.rx.data, a.rx.len, &used, &b.rx, &a.err),
	                 MSE_NEED_MORE);
	size_t off = MSE_KEY_LEN;
	assert_int_equal(mse_hs_feed(&b.hs, b.rx.data + off, b.rx.len - off, &used, &out, &b.err),
	                 MSE_WANT_SKEY);
	off += used;
	mse_hs_set_skey(&b.hs, other);
	assert_int_equal(mse_hs_feed(&b.hs, b.rx.data + off, b.rx.len - off, &used, &out, &b.err),
	                 MSE_ERROR);
	assert_int_equal(b.err, MSE_E_VC);
	buf_free(&out);
	end_pair(&a, &b);
}

/* ---- hostile input ---- */

static void test_bad_public_keys(void **state)
{
	static const char p_hex[] =
		"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
		"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
		"4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563";
	uint8_t keys[5][MSE_KEY_LEN];

	memset(keys, 0, sizeof keys);               /* 0 */
	keys[1][MSE_KEY_LEN - 1] = 1;               /* 1 */
	assert_true(hex_decode(p_hex, 192, keys[2], MSE_KEY_LEN));
	memcpy(keys[3], keys[2], MSE_KEY_LEN);
	keys[3][MSE_KEY_LEN - 1] -= 1;              /* P - 1 */
	memset(keys[4], 0xff, MSE_KEY_LEN);         /* > P */
	for (int role = 0; role < 2; role++) {
		for (int i = 0; i < 5; i++) {
			struct mse_hs hs;
			struct mse_random rnd;
			struct sta_buf out = STA_BUF_INIT;
			enum mse_err err;
			size_t used;
			rnd_fixed(&rnd, 1, NULL, 0);
			assert_true(mse_hs_start(&hs, role ? MSE_RESPONDER : MSE_INITIATOR, &cipher,
			                         MSE_CRYPTO_RC4, &rnd, skey, NULL, 0, &out));
			buf_clear(&out);
			assert_int_equal(mse_hs_feed(&hs, keys[i], MSE_KEY_LEN, &used, &out, &err),
			                 MSE_ERROR);
			assert_int_equal(err, MSE_E_PUBKEY);
			assert_int_equal(out.len, 0); /* nothing answered */
			mse_hs_free(&hs);
			buf_free(&out);
		}
	}
}

/* The padding may be 512 bytes, not 513. */
static void test_sync_limit(void **state)
{
	for (int role = 0; role < 2; role++) {
		struct mse_hs hs;
		struct mse_random rnd;
		struct sta_buf out = STA_BUF_INIT, junk = STA_BUF_INIT;
		enum mse_err err;
		size_t used;
		uint8_t y[MSE_KEY_LEN];

		rnd_fixed(&rnd, 1, NULL, 0);
		assert_true(mse_hs_start(&hs, role ? MSE_RESPONDER : MSE_INITIATOR, &cipher,
		                         MSE_CRYPTO_RC4, &rnd, skey, NULL, 0, &out));
		memset(y, 0, sizeof y);
		y[MSE_KEY_LEN - 1] = 2;
		buf_append(&junk, y, sizeof y);
		for (int i = 0; i < 512 + 20; i++)
			buf_append_byte(&junk, 0xAA);
		/* 512 + sync_len - 1 bytes: the last possible start is still open. */
		size_t sync = role ? 20 : 8;
		size_t upto = MSE_KEY_LEN + 512 + sync - 1;
		assert_int_equal(mse_hs_feed(&hs, junk.data, upto, &used, &out, &err), MSE_NEED_MORE);
		assert_int_equal(mse_hs_feed(&hs, junk.data + used, junk.len - used, &used, &out, &err),
		                 MSE_ERROR);
		assert_int_equal(err, MSE_E_SYNC);
		mse_hs_free(&hs);
		buf_free(&out);
		buf_free(&junk);
	}
}

/* A hand-made step 3 with len(PadC) = pad: 512 passes, 513 fails. */
static enum mse_status feed_padc(uint16_t pad, enum mse_err *err)
{
	struct side a, b;
	struct sta_buf s3 = STA_BUF_INIT, out = STA_BUF_INIT;
	size_t used;
	uint8_t h[20], x[20], key[20], body[14];
	uint8_t buf[4 + MSE_KEY_LEN + 20];

	start_pair(&a, &b, MSE_CRYPTO_RC4, MSE_CRYPTO_RC4, 0, 0);
	/* B answers Ya; A learns S from Yb. */
	assert_int_equal(mse_hs_feed(&b.hs, b.rx.data, b.rx.len, &used, &a.rx, err), MSE_NEED_MORE);
	struct sta_buf dummy = STA_BUF_INIT;
	assert_int_equal(mse_hs_feed(&a.hs, a.rx.data, a.rx.len, &used, &dummy, err),
	                 MSE_NEED_MORE);
	buf_free(&dummy);
	const uint8_t *s = a.hs.secret;
	memcpy(buf, "req1", 4);
	memcpy(buf + 4, s, MSE_KEY_LEN);
	sha1(buf, 4 + MSE_KEY_LEN, h);
	buf_append(&s3, h, 20);
	mse_req2_hash(skey, x);
	memcpy(buf, "req3", 4);
	sha1(buf, 4 + MSE_KEY_LEN, h);
	for (int i = 0; i < 20; i++)
		x[i] ^= h[i];
	buf_append(&s3, x, 20);
	memcpy(buf, "keyA", 4);
	memcpy(buf + 4 + MSE_KEY_LEN, skey, 20);
	sha1(buf, 4 + MSE_KEY_LEN + 20, key);
	struct mse_rc4 enc;
	mse_rc4_init(&enc, &cipher, key, 20, MSE_DROP);
	memset(body, 0, sizeof body);
	store_u32be(body + 8, MSE_CRYPTO_RC4);
	store_u16be(body + 12, pad);
	size_t at = s3.len;
	buf_append(&s3, body, sizeof body);
	for (int i = 0; i < pad + 2; i++)
		buf_append_byte(&s3, 0); /* PadC, len(IA) = 0 */
	mse_rc4_crypt(&enc, s3.data + at, s3.len - at);
	mse_rc4_free(&enc);

	enum mse_status st = mse_hs_feed(&b.hs, s3.data, s3.len, &used, &out, err);
	if (st == MSE_WANT_SKEY) {
		mse_hs_set_skey(&b.hs, skey);
		size_t more;
		st = mse_hs_feed(&b.hs, s3.data + used, s3.len - used, &more, &out, err);
	}
	buf_free(&s3);
	buf_free(&out);
	end_pair(&a, &b);
	return st;
}

static void test_padc_limit(void **state)
{
	enum mse_err err;

	assert_int_equal(feed_padc(512, &err), MSE_DONE);
	assert_int_equal(feed_padc(0, &err), MSE_DONE);
	assert_int_equal(feed_padc(513, &err), MSE_ERROR);
	assert_int_equal(err, MSE_E_PAD);
	assert_int_equal(feed_padc(65535, &err), MSE_ERROR);
	assert_int_equal(err, MSE_E_PAD);
}

static void test_start_arguments(void **state)
{
	struct mse_hs hs;
	struct mse_random rnd;
	struct sta_buf out = STA_BUF_INIT;
	uint8_t big[MSE_IA_MAX + 1] = { 0 };

	rnd_fixed(&rnd, 1, NULL, 0);
	assert_false(mse_hs_start(&hs, MSE_INITIATOR, &cipher, 0, &rnd, skey, NULL, 0, &out));
	assert_false(mse_hs_start(&hs, MSE_INITIATOR, &cipher, 0x04, &rnd, skey, NULL, 0, &out));
	assert_false(mse_hs_start(&hs, MSE_INITIATOR, &cipher, MSE_CRYPTO_RC4, &rnd, skey, big,
	                          sizeof big, &out));
	assert_false(mse_hs_start(&hs, MSE_INITIATOR, &cipher, MSE_CRYPTO_RC4, &rnd, NULL, NULL, 0,
	                          &out));
	rnd.pad_len = MSE_PAD_MAX + 1;
	assert_false(mse_hs_start(&hs, MSE_RESPONDER, &cipher, MSE_CRYPTO_RC4, &rnd, NULL, NULL, 0,
	                          &out));
	assert_int_equal(out.len, 0);
}

static void test_detect(void **state)
{
	const uint8_t *pstr = (const uint8_t *)"\x13" "BitTorrent protocol\0\0";

	assert_int_equal(mse_detect(pstr, 0), MSE_DETECT_MORE);
	for (size_t n = 1; n < 20; n++)
		assert_int_equal(mse_detect(pstr, n), MSE_DETECT_MORE);
	assert_int_equal(mse_detect(pstr, 20), MSE_DETECT_PLAIN);
	assert_int_equal(mse_detect(pstr, 22), MSE_DETECT_PLAIN);
	assert_int_equal(mse_detect((const uint8_t *)"\x13" "BitTorrent Protocol", 20),
	                 MSE_DETECT_MSE);
	assert_int_equal(mse_detect((const uint8_t *)"\x13" "Bx", 3), MSE_DETECT_MSE);
	assert_int_equal(mse_detect((const uint8_t *)"\x12", 1), MSE_DETECT_MSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rc4_vectors),
		cmocka_unit_test(test_rc4_drop_vector),
		cmocka_unit_test(test_rc4_drop_and_split),
		cmocka_unit_test(test_kat_initiator),
		cmocka_unit_test(test_kat_responder),
		cmocka_unit_test(test_pair_every_split),
		cmocka_unit_test(test_pair_plaintext_selected),
		cmocka_unit_test(test_pair_wrong_skey),
		cmocka_unit_test(test_bad_public_keys),
		cmocka_unit_test(test_sync_limit),
		cmocka_unit_test(test_padc_limit),
		cmocka_unit_test(test_start_arguments),
		cmocka_unit_test(test_detect),
	};

	return cmocka_run_group_tests(tests, load_cipher, unload_cipher);
}
