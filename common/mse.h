/* Message stream encryption (MSE/PE, "protocol encryption"): the
 * obfuscated handshake that runs before the BitTorrent handshake, and the
 * RC4 stream after it.
 *
 * The handshake, A the initiator and B the responder:
 *   1 A->B  Ya, PadA
 *   2 B->A  Yb, PadB
 *   3 A->B  HASH('req1',S), HASH('req2',SKEY) xor HASH('req3',S),
 *           ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
 *   4 B->A  ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
 *   5 A->B  ENCRYPT2(payload)
 * Ya, Yb: Diffie-Hellman public keys over a 768-bit prime (96 bytes each);
 * S: the shared secret; SKEY: the info-hash; VC: 8 zero bytes; pads: 0..512
 * bytes. ENCRYPT is RC4 keyed with HASH('keyA',S,SKEY) for what A sends
 * and HASH('keyB',S,SKEY) for what B sends, the first 1024 bytes of key
 * stream dropped; ENCRYPT2 is the method B selected: RC4 continued, or
 * plaintext.
 *
 * Pure: the caller moves bytes between its socket and mse_hs_feed(), and
 * supplies the randomness (private key, padding), so tests are exact. The
 * only outside resource is libcrypto: DH through its BIGNUMs and RC4
 * through its EVP interface, which OpenSSL 3 keeps in the legacy provider;
 * struct mse_cipher loads that provider into a library context of its own,
 * leaving the default one (SHA-1 everywhere else) as it was.
 */
#ifndef STA_MSE_H
#define STA_MSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MSE_KEY_LEN 96          /* P, Ya, Yb, S */
#define MSE_PRIV_LEN 20         /* 160-bit private keys, as the spec advises */
#define MSE_PAD_MAX 512
#define MSE_VC_LEN 8
#define MSE_HASH_LEN 20
#define MSE_DROP 1024           /* key stream bytes discarded */
#define MSE_IA_MAX 1024         /* initial payload we send (a handshake is 68) */

/* crypto_provide / crypto_select bits. */
#define MSE_CRYPTO_PLAIN 0x01u
#define MSE_CRYPTO_RC4 0x02u

/* RC4 from libcrypto's legacy provider, loaded once by the program. */
struct mse_cipher {
	void *libctx;           /* OSSL_LIB_CTX */
	void *legacy;           /* OSSL_PROVIDER */
	void *rc4;              /* EVP_CIPHER */
};

/* false with a sentence in err (no legacy provider: RC4 unavailable). */
bool mse_cipher_load(struct mse_cipher *c, char *err, size_t errlen);
void mse_cipher_unload(struct mse_cipher *c);

/* One direction of an RC4 stream. */
struct mse_rc4 {
	void *ctx;              /* EVP_CIPHER_CTX; NULL when not set up */
};

/* Keys r and discards the first drop bytes of key stream (MSE: a 20-byte
 * key and MSE_DROP). Fatal on out of memory, like xmalloc. */
void mse_rc4_init(struct mse_rc4 *r, const struct mse_cipher *c, const uint8_t *key,
                  size_t keylen, size_t drop);
/* Encrypts or decrypts buf in place. */
void mse_rc4_crypt(struct mse_rc4 *r, uint8_t *buf, size_t len);
void mse_rc4_free(struct mse_rc4 *r);

/* ---- the handshake ---- */

enum mse_role { MSE_INITIATOR, MSE_RESPONDER };

enum mse_status {
	MSE_NEED_MORE,          /* feed more bytes */
	MSE_WANT_SKEY,          /* responder: call mse_hs_set_skey, then feed again */
	MSE_DONE,               /* the stream is set up; see mse_hs.select */
	MSE_ERROR,
};

enum mse_err {
	MSE_E_NONE = 0,
	MSE_E_PUBKEY,           /* the peer's public key is 0, 1, P-1 or >= P */
	MSE_E_SYNC,             /* no HASH('req1',S) or ENCRYPT(VC) within the padding */
	MSE_E_VC,               /* the verification constant did not decrypt to zeros */
	MSE_E_PAD,              /* PadC or PadD longer than 512 bytes */
	MSE_E_SELECT,           /* crypto_select not one of the methods we provided */
	MSE_E_NO_METHOD,        /* crypto_provide has no method we accept */
};

/* Randomness for one handshake: the caller fills it (RAND_bytes in the
 * daemon, constants in tests). */
struct mse_random {
	uint8_t priv[MSE_PRIV_LEN];
	uint16_t pad_len;       /* PadA or PadB length, <= MSE_PAD_MAX */
	uint8_t pad[MSE_PAD_MAX];
};

struct mse_hs {
	enum mse_role role;
	int state;
	const struct mse_cipher *cipher;
	uint32_t methods;       /* initiator: crypto_provide; responder: what it accepts */
	uint32_t select;        /* MSE_DONE: the method B selected */
	uint16_t ia_len;        /* responder at MSE_DONE: IA bytes that follow, RC4 */
	uint8_t req2[MSE_HASH_LEN]; /* responder at MSE_WANT_SKEY: HASH('req2',SKEY) */
	uint8_t priv[MSE_PRIV_LEN];
	uint8_t pub[MSE_KEY_LEN];
	uint8_t secret[MSE_KEY_LEN];
	uint8_t skey[MSE_HASH_LEN];
	uint8_t sync[MSE_HASH_LEN]; /* what ends the peer's padding */
	size_t sync_len;
	size_t skipped;         /* padding bytes passed while syncing */
	uint16_t pad_left;      /* PadC or PadD bytes still to skip */
	uint32_t provided;      /* responder: the initiator's crypto_provide */
	uint16_t my_ia_len;     /* initiator: IA, sent with step 3 */
	uint8_t my_ia[MSE_IA_MAX];
	uint16_t my_pad_len;    /* responder: PadB, sent with Yb */
	uint8_t my_pad[MSE_PAD_MAX];
	struct mse_rc4 enc, dec;
};

const char *mse_strerror(enum mse_err e);

/* Starts a handshake. Initiator: skey is the info-hash, ia[0..ia_len) the
 * initial payload (our BitTorrent handshake), methods what it provides;
 * step 1 is appended to out. Responder: skey and ia are NULL, methods is
 * what it accepts; nothing is sent until Ya is in. false only for bad
 * arguments (ia_len over MSE_IA_MAX, no methods). */
bool mse_hs_start(struct mse_hs *hs, enum mse_role role, const struct mse_cipher *c,
                  uint32_t methods, const struct mse_random *rnd, const uint8_t *skey,
                  const uint8_t *ia, size_t ia_len, struct sta_buf *out);

/* Feeds bytes received, in[0..len) (a prefix of what is buffered, any
 * length); *used is how many of them were taken, to drop from the front
 * of the input. Bytes to send are appended to out. At MSE_DONE, hs.select
 * is RC4 or plaintext and the rest of the input is the peer's ENCRYPT2
 * stream (for a responder: after hs.ia_len bytes of RC4 IA). On
 * MSE_ERROR *err says why. */
enum mse_status mse_hs_feed(struct mse_hs *hs, const uint8_t *in, size_t len, size_t *used,
                            struct sta_buf *out, enum mse_err *err);

/* Responder at MSE_WANT_SKEY: the info-hash whose HASH('req2', .) equals
 * hs.req2 (found by the caller, see mse_req2_hash). */
void mse_hs_set_skey(struct mse_hs *hs, const uint8_t skey[MSE_HASH_LEN]);
/* HASH('req2', skey), what a responder compares hs.req2 with. */
void mse_req2_hash(const uint8_t skey[MSE_HASH_LEN], uint8_t out[MSE_HASH_LEN]);

/* At MSE_DONE: moves the two RC4 streams out (the stream continues them). */
void mse_hs_take_streams(struct mse_hs *hs, struct mse_rc4 *enc, struct mse_rc4 *dec);
/* Frees what the handshake holds (its streams, unless taken). */
void mse_hs_free(struct mse_hs *hs);

/* The first bytes of an incoming connection: a plaintext BitTorrent
 * handshake ("\x13BitTorrent protocol"), MSE, or too few bytes to tell. */
enum mse_detect { MSE_DETECT_MORE, MSE_DETECT_PLAIN, MSE_DETECT_MSE };
enum mse_detect mse_detect(const uint8_t *in, size_t len);

#endif
