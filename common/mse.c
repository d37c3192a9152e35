/* MSE/PE handshake and RC4 stream (see mse.h). */
#include "mse.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "sha1.h"

/* The spec's 768-bit safe prime; the generator is 2. */
static const char mse_prime_hex[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563";

static const uint8_t mse_vc[MSE_VC_LEN];
static const char mse_pstr[] = "\x13" "BitTorrent protocol";

enum {
	I_YB, I_SYNC, I_SELECT, I_PAD,
	R_YA, R_SYNC, R_SKEY, R_WAIT_SKEY, R_PROVIDE, R_PAD, R_IALEN,
	HS_DONE,
};

/* Out of memory or a libcrypto that cannot do what it always does: nothing
 * a caller can recover from, like xmalloc. */
static void __attribute__((noreturn)) mse_fatal(const char *what)
{
	fprintf(stderr, "<2>fatal: %s failed\n", what);
	abort();
}

const char *mse_strerror(enum mse_err e)
{
	switch (e) {
	case MSE_E_NONE: return "no error";
	case MSE_E_PUBKEY: return "encryption handshake: invalid Diffie-Hellman key";
	case MSE_E_SYNC: return "encryption handshake: no sync point within 512 bytes of padding";
	case MSE_E_VC: return "encryption handshake: wrong verification constant";
	case MSE_E_PAD: return "encryption handshake: padding over 512 bytes";
	case MSE_E_SELECT: return "encryption handshake: peer selected a method we did not offer";
	case MSE_E_NO_METHOD: return "encryption handshake: no encryption method in common";
	}
	return "encryption handshake: unknown error";
}

/* ---- RC4 ---- */

bool mse_cipher_load(struct mse_cipher *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	OSSL_LIB_CTX *lib = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *legacy = lib ? OSSL_PROVIDER_load(lib, "legacy") : NULL;
	EVP_CIPHER *rc4 = legacy ? EVP_CIPHER_fetch(lib, "RC4", NULL) : NULL;

	if (rc4 == NULL) {
		ERR_clear_error();
		if (legacy)
			OSSL_PROVIDER_unload(legacy);
		OSSL_LIB_CTX_free(lib);
		snprintf(err, errlen, "RC4 is not available: OpenSSL's legacy provider "
		         "(ossl-modules/legacy.so, part of libssl3) did not load; install it, "
		         "or set encryption = \"off\"");
		return false;
	}
	c->libctx = lib;
	c->legacy = legacy;
	c->rc4 = rc4;
	return true;
}

void mse_cipher_unload(struct mse_cipher *c)
{
	EVP_CIPHER_free(c->rc4);
	if (c->legacy)
		OSSL_PROVIDER_unload(c->legacy);
	OSSL_LIB_CTX_free(c->libctx);
	memset(c, 0, sizeof *c);
}

void mse_rc4_crypt(struct mse_rc4 *r, uint8_t *buf, size_t len)
{
	while (len > 0) {
		int n = len > INT_MAX ? INT_MAX : (int)len, outl;
		/* In place is allowed: out == in exactly. */
		if (EVP_CipherUpdate(r->ctx, buf, &outl, buf, n) != 1 || outl != n)
			mse_fatal("EVP_CipherUpdate(rc4)");
		buf += n;
		len -= (size_t)n;
	}
}

void mse_rc4_init(struct mse_rc4 *r, const struct mse_cipher *c, const uint8_t *key,
                  size_t keylen, size_t drop)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t zeros[256];

	if (x == NULL || EVP_CipherInit_ex2(x, c->rc4, NULL, NULL, 1, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_key_length(x, (int)keylen) != 1 ||
	    EVP_CipherInit_ex2(x, NULL, key, NULL, 1, NULL) != 1)
		mse_fatal("EVP_CipherInit_ex2(rc4)");
	r->ctx = x;
	while (drop > 0) {
		size_t n = drop < sizeof zeros ? drop : sizeof zeros;
		memset(zeros, 0, n);
		mse_rc4_crypt(r, zeros, n);
		drop -= n;
	}
}

void mse_rc4_free(struct mse_rc4 *r)
{
	EVP_CIPHER_CTX_free(r->ctx);
	r->ctx = NULL;
}

/* ---- Diffie-Hellman ---- */

/* out = base^priv mod P; base NULL means the generator 2. false when base
 * is not a valid public key (outside 2..P-2). */
static bool dh_exp(const uint8_t priv[MSE_PRIV_LEN], const uint8_t *base,
                   uint8_t out[MSE_KEY_LEN])
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *p = NULL, *b = BN_new(), *x = BN_bin2bn(priv, MSE_PRIV_LEN, NULL), *r = BN_new();
	bool ok = false;

	if (ctx == NULL || b == NULL || x == NULL || r == NULL ||
	    BN_hex2bn(&p, mse_prime_hex) == 0)
		mse_fatal("BN_new");
	if (base == NULL ? BN_set_word(b, 2) != 1 : BN_bin2bn(base, MSE_KEY_LEN, b) == NULL)
		mse_fatal("BN_bin2bn");
	/* 0, 1 and P-1 would give a secret anyone can guess. */
	BN_sub_word(p, 1);
	bool valid = BN_cmp(b, BN_value_one()) > 0 && BN_cmp(b, p) < 0;
	BN_add_word(p, 1);
	if (valid) {
		BN_set_flags(x, BN_FLG_CONSTTIME);
		if (BN_mod_exp_mont_consttime(r, b, x, p, ctx, NULL) != 1 ||
		    BN_bn2binpad(r, out, MSE_KEY_LEN) != MSE_KEY_LEN)
			mse_fatal("BN_mod_exp");
		ok = true;
	}
	BN_clear_free(x);
	BN_clear_free(r);
	BN_free(b);
	BN_free(p);
	BN_CTX_free(ctx);
	return ok;
}

/* HASH(tag, a, b): SHA-1 of the concatenation. */
static void hash3(const char *tag, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                  uint8_t out[MSE_HASH_LEN])
{
	uint8_t buf[4 + MSE_KEY_LEN + MSE_HASH_LEN];
	size_t tl = strlen(tag);

	memcpy(buf, tag, tl);
	memcpy(buf + tl, a, alen);
	if (blen)
		memcpy(buf + tl + alen, b, blen);
	sha1(buf, tl + alen + blen, out);
	explicit_bzero(buf, sizeof buf);
}

void mse_req2_hash(const uint8_t skey[MSE_HASH_LEN], uint8_t out[MSE_HASH_LEN])
{
	hash3("req2", skey, MSE_HASH_LEN, NULL, 0, out);
}

/* The two RC4 streams from S and SKEY: A sends with keyA, B with keyB. */
static void set_keys(struct mse_hs *hs)
{
	uint8_t ka[MSE_HASH_LEN], kb[MSE_HASH_LEN];
	bool a = hs->role == MSE_INITIATOR;

	hash3("keyA", hs->secret, MSE_KEY_LEN, hs->skey, MSE_HASH_LEN, ka);
	hash3("keyB", hs->secret, MSE_KEY_LEN, hs->skey, MSE_HASH_LEN, kb);
	mse_rc4_init(&hs->enc, hs->cipher, a ? ka : kb, MSE_HASH_LEN, MSE_DROP);
	mse_rc4_init(&hs->dec, hs->cipher, a ? kb : ka, MSE_HASH_LEN, MSE_DROP);
	explicit_bzero(ka, sizeof ka);
	explicit_bzero(kb, sizeof kb);
}

/* Appends n bytes and encrypts them in out. */
static void append_enc(struct mse_hs *hs, struct sta_buf *out, const void *p, size_t n)
{
	size_t at = out->len;

	buf_append(out, p, n);
	mse_rc4_crypt(&hs->enc, out->data + at, n);
}

/* Decrypts the next n (<= 16) bytes of the peer's stream into tmp. */
static void take_dec(struct mse_hs *hs, const uint8_t *in, size_t n, uint8_t *tmp)
{
	memcpy(tmp, in, n);
	mse_rc4_crypt(&hs->dec, tmp, n);
}

bool mse_hs_start(struct mse_hs *hs, enum mse_role role, const struct mse_cipher *c,
                  uint32_t methods, const struct mse_random *rnd, const uint8_t *skey,
                  const uint8_t *ia, size_t ia_len, struct sta_buf *out)
{
	memset(hs, 0, sizeof *hs);
	methods &= MSE_CRYPTO_PLAIN | MSE_CRYPTO_RC4;
	if (methods == 0 || ia_len > MSE_IA_MAX || rnd->pad_len > MSE_PAD_MAX ||
	    (role == MSE_INITIATOR && skey == NULL))
		return false;
	hs->role = role;
	hs->cipher = c;
	hs->methods = methods;
	memcpy(hs->priv, rnd->priv, MSE_PRIV_LEN);
	if (!dh_exp(hs->priv, NULL, hs->pub))
		mse_fatal("DH public key");
	if (role == MSE_RESPONDER) {
		hs->state = R_YA;
		/* PadB goes out with Yb, when Ya is in. */
		hs->my_pad_len = rnd->pad_len;
		memcpy(hs->my_pad, rnd->pad, rnd->pad_len);
		return true;
	}
	hs->state = I_YB;
	memcpy(hs->skey, skey, MSE_HASH_LEN);
	hs->my_ia_len = (uint16_t)ia_len;
	if (ia_len)
		memcpy(hs->my_ia, ia, ia_len);
	buf_append(out, hs->pub, MSE_KEY_LEN);
	buf_append(out, rnd->pad, rnd->pad_len);
	return true;
}

/* ---- the steps: each takes *n bytes of in[0..len) ---- */

/* Initiator, step 2 in: Yb. Sends step 3 and learns ENCRYPT(VC), what B's
 * PadB ends with (computing it advances the decrypt stream past VC). */
static enum mse_status step_yb(struct mse_hs *hs, const uint8_t *in, size_t len, size_t *n,
                               struct sta_buf *out, enum mse_err *err)
{
	uint8_t h[MSE_HASH_LEN], x[MSE_HASH_LEN], body[MSE_VC_LEN + 8];

	if (len < MSE_KEY_LEN)
		return MSE_NEED_MORE;
	if (!dh_exp(hs->priv, in, hs->secret)) {
		*err = MSE_E_PUBKEY;
		return MSE_ERROR;
	}
	*n = MSE_KEY_LEN;
	set_keys(hs);
	hash3("req1", hs->secret, MSE_KEY_LEN, NULL, 0, h);
	buf_append(out, h, sizeof h);
	mse_req2_hash(hs->skey, x);
	hash3("req3", hs->secret, MSE_KEY_LEN, NULL, 0, h);
	for (size_t i = 0; i < sizeof x; i++)
		x[i] ^= h[i];
	buf_append(out, x, sizeof x);
	memset(body, 0, sizeof body);                  /* VC, and PadC of length 0 */
	store_u32be(body + MSE_VC_LEN, hs->methods);   /* crypto_provide */
	store_u16be(body + MSE_VC_LEN + 6, hs->my_ia_len);
	append_enc(hs, out, body, sizeof body);
	append_enc(hs, out, hs->my_ia, hs->my_ia_len);
	memset(hs->sync, 0, MSE_VC_LEN);
	mse_rc4_crypt(&hs->dec, hs->sync, MSE_VC_LEN);
	hs->sync_len = MSE_VC_LEN;
	hs->state = I_SYNC;
	return MSE_NEED_MORE;
}

/* Responder, step 1 in: Ya. Sends Yb and PadB. */
static enum mse_status step_ya(struct mse_hs *hs, const uint8_t *in, size_t len, size_t *n,
                               struct sta_buf *out, enum mse_err *err)
{
	if (len < MSE_KEY_LEN)
		return MSE_NEED_MORE;
	if (!dh_exp(hs->priv, in, hs->secret)) {
		*err = MSE_E_PUBKEY;
		return MSE_ERROR;
	}
	*n = MSE_KEY_LEN;
	buf_append(out, hs->pub, MSE_KEY_LEN);
	buf_append(out, hs->my_pad, hs->my_pad_len);
	hash3("req1", hs->secret, MSE_KEY_LEN, NULL, 0, hs->sync);
	hs->sync_len = MSE_HASH_LEN;
	hs->state = R_SYNC;
	return MSE_NEED_MORE;
}

/* Skips the peer's random padding (PadA or PadB, at most 512 bytes) up to
 * hs->sync. Bytes that cannot start a match are taken as they come. */
static enum mse_status step_sync(struct mse_hs *hs, const uint8_t *in, size_t len, size_t *n,
                                 enum mse_err *err)
{
	size_t last = MSE_PAD_MAX - hs->skipped; /* the sync may start at most here */
	size_t k;

	for (k = 0; k <= last && k + hs->sync_len <= len; k++) {
		if (memcmp(in + k, hs->sync, hs->sync_len) == 0) {
			*n = k + hs->sync_len;
			hs->state = hs->role == MSE_INITIATOR ? I_SELECT : R_SKEY;
			return MSE_NEED_MORE;
		}
	}
	if (k > last) {
		*err = MSE_E_SYNC;
		return MSE_ERROR;
	}
	*n = k;
	hs->skipped += k;
	return MSE_NEED_MORE;
}

/* Initiator: crypto_select and len(PadD). */
static enum mse_status step_select(struct mse_hs *hs, const uint8_t *in, size_t len, size_t *n,
                                   enum mse_err *err)
{
	uint8_t t[6];

	if (len < sizeof t)
		return MSE_NEED_MORE;
	take_dec(hs, in, sizeof t, t);
	*n = sizeof t;
	hs->select = load_u32be(t);
	hs->pad_left = load_u16be(t + 4);
	/* Exactly one bit, and one we offered. */
	if ((hs->select & (hs->select - 1)) != 0 || (hs->select & hs->methods) == 0) {
		*err = MSE_E_SELECT;
		return MSE_ERROR;
	}
	if (hs->pad_left > MSE_PAD_MAX) {
		*err = MSE_E_PAD;
		return MSE_ERROR;
	}
	hs->state = I_PAD;
	return MSE_NEED_MORE;
}

/* PadC or PadD: encrypted, so the stream runs over it. */
static enum mse_status step_pad(struct mse_hs *hs, const uint8_t *in, size_t len, size_t *n)
{
	uint8_t scratch[MSE_PAD_MAX];
	size_t m = len < hs->pad_left ? len : hs->pad_left;

	take_dec(hs, in, m, scratch);
	*n = m;
	hs->pad_left = (uint16_t)(hs->pad_left - m);
	if (hs->pad_left > 0)
		return MSE_NEED_MORE;
	if (hs->role == MSE_INITIATOR) {
		hs->state = HS_DONE;
		return MSE_DONE;
	}
	hs->state = R_IALEN;
	return MSE_NEED_MORE;
}

/* Responder: HASH('req2',SKEY) xor HASH('req3',S); the caller finds SKEY. */
static enum mse_status step_skey(struct mse_hs *hs, const uint8_t *in, size_t len, size_t *n)
{
	uint8_t h[MSE_HASH_LEN];

	if (len < MSE_HASH_LEN)
		return MSE_NEED_MORE;
	hash3("req3", hs->secret, MSE_KEY_LEN, NULL, 0, h);
	for (size_t i = 0; i < MSE_HASH_LEN; i++)
		hs->req2[i] = in[i] ^ h[i];
	*n = MSE_HASH_LEN;
	hs->state = R_WAIT_SKEY;
	return MSE_WANT_SKEY;
}

void mse_hs_set_skey(struct mse_hs *hs, const uint8_t skey[MSE_HASH_LEN])
{
	memcpy(hs->skey, skey, MSE_HASH_LEN);
	set_keys(hs);
	hs->state = R_PROVIDE;
}

/* Responder: VC, crypto_provide, len(PadC). */
static enum mse_status step_provide(struct mse_hs *hs, const uint8_t *in, size_t len,
                                    size_t *n, enum mse_err *err)
{
	uint8_t t[MSE_VC_LEN + 6];

	if (len < sizeof t)
		return MSE_NEED_MORE;
	take_dec(hs, in, sizeof t, t);
	*n = sizeof t;
	if (memcmp(t, mse_vc, MSE_VC_LEN) != 0) {
		*err = MSE_E_VC;
		return MSE_ERROR;
	}
	hs->provided = load_u32be(t + MSE_VC_LEN);
	hs->pad_left = load_u16be(t + MSE_VC_LEN + 4);
	if (hs->pad_left > MSE_PAD_MAX) {
		*err = MSE_E_PAD;
		return MSE_ERROR;
	}
	hs->state = R_PAD;
	return MSE_NEED_MORE;
}

/* Responder: len(IA); selects the method and sends step 4 (no PadD). */
static enum mse_status step_ialen(struct mse_hs *hs, const uint8_t *in, size_t len, size_t *n,
                                  struct sta_buf *out, enum mse_err *err)
{
	uint8_t t[2], reply[MSE_VC_LEN + 6];
	uint32_t both = hs->provided & hs->methods;

	if (len < sizeof t)
		return MSE_NEED_MORE;
	take_dec(hs, in, sizeof t, t);
	*n = sizeof t;
	hs->ia_len = load_u16be(t);
	/* RC4 whenever both sides allow it. */
	hs->select = both & MSE_CRYPTO_RC4 ? MSE_CRYPTO_RC4 : both & MSE_CRYPTO_PLAIN;
	if (hs->select == 0) {
		*err = MSE_E_NO_METHOD;
		return MSE_ERROR;
	}
	memset(reply, 0, sizeof reply);
	store_u32be(reply + MSE_VC_LEN, hs->select);
	append_enc(hs, out, reply, sizeof reply);
	hs->state = HS_DONE;
	return MSE_DONE;
}

static enum mse_status step(struct mse_hs *hs, const uint8_t *in, size_t len, size_t *n,
                            struct sta_buf *out, enum mse_err *err)
{
	switch (hs->state) {
	case I_YB: return step_yb(hs, in, len, n, out, err);
	case R_YA: return step_ya(hs, in, len, n, out, err);
	case I_SYNC:
	case R_SYNC: return step_sync(hs, in, len, n, err);
	case I_SELECT: return step_select(hs, in, len, n, err);
	case I_PAD:
	case R_PAD: return step_pad(hs, in, len, n);
	case R_SKEY: return step_skey(hs, in, len, n);
	case R_WAIT_SKEY: return MSE_WANT_SKEY;
	case R_PROVIDE: return step_provide(hs, in, len, n, err);
	case R_IALEN: return step_ialen(hs, in, len, n, out, err);
	default: return MSE_DONE;
	}
}

enum mse_status mse_hs_feed(struct mse_hs *hs, const uint8_t *in, size_t len, size_t *used,
                            struct sta_buf *out, enum mse_err *err)
{
	static const uint8_t none[1];
	enum mse_status st;
	size_t off = 0;

	*err = MSE_E_NONE;
	if (in == NULL) /* len is 0: an empty buffer may have no storage */
		in = none;
	for (;;) {
		int before = hs->state;
		size_t n = 0;
		st = step(hs, in + off, len - off, &n, out, err);
		off += n;
		if (st != MSE_NEED_MORE || (n == 0 && hs->state == before))
			break;
	}
	*used = off;
	return st;
}

void mse_hs_take_streams(struct mse_hs *hs, struct mse_rc4 *enc, struct mse_rc4 *dec)
{
	*enc = hs->enc;
	*dec = hs->dec;
	hs->enc.ctx = hs->dec.ctx = NULL;
}

void mse_hs_free(struct mse_hs *hs)
{
	mse_rc4_free(&hs->enc);
	mse_rc4_free(&hs->dec);
	explicit_bzero(hs->priv, sizeof hs->priv);
	explicit_bzero(hs->secret, sizeof hs->secret);
}

enum mse_detect mse_detect(const uint8_t *in, size_t len)
{
	size_t n = len < 20 ? len : 20;

	if (len == 0)
		return MSE_DETECT_MORE;
	if (memcmp(in, mse_pstr, n) != 0)
		return MSE_DETECT_MSE;
	return n == 20 ? MSE_DETECT_PLAIN : MSE_DETECT_MORE;
}
