/* SHA-1 over OpenSSL's EVP interface. No globals: each context is private
 * to its owner, so worker threads hash in parallel with one context each. */
#ifndef STA_SHA1_H
#define STA_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN 20

/* One-shot digest of data[0..len). */
void sha1(const void *data, size_t len, uint8_t out[SHA1_LEN]);

/* Incremental digest. sha1_init allocates (fatal on out of memory);
 * sha1_final writes the digest and leaves the context ready for the next
 * message, so one context can hash many pieces; sha1_free releases it. */
struct sha1_ctx {
	void *md; /* EVP_MD_CTX, kept opaque so callers need no OpenSSL headers */
};

void sha1_init(struct sha1_ctx *c);
void sha1_update(struct sha1_ctx *c, const void *data, size_t len);
void sha1_final(struct sha1_ctx *c, uint8_t out[SHA1_LEN]);
void sha1_free(struct sha1_ctx *c);

#endif
