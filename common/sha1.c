#include "sha1.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

/* Failures here mean a broken libcrypto (no SHA-1 provider) or no memory:
 * nothing a caller can recover from, like xmalloc. */
static void __attribute__((noreturn)) sha1_fatal(const char *what)
{
	fprintf(stderr, "<2>fatal: %s failed\n", what);
	abort();
}

void sha1(const void *data, size_t len, uint8_t out[SHA1_LEN])
{
	if (EVP_Digest(data, len, out, NULL, EVP_sha1(), NULL) != 1)
		sha1_fatal("EVP_Digest(sha1)");
}

void sha1_init(struct sha1_ctx *c)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha1(), NULL) != 1)
		sha1_fatal("EVP_DigestInit_ex(sha1)");
	c->md = md;
}

void sha1_update(struct sha1_ctx *c, const void *data, size_t len)
{
	if (EVP_DigestUpdate(c->md, data, len) != 1)
		sha1_fatal("EVP_DigestUpdate");
}

void sha1_final(struct sha1_ctx *c, uint8_t out[SHA1_LEN])
{
	/* DigestInit_ex with a NULL type reuses the context's digest. */
	if (EVP_DigestFinal_ex(c->md, out, NULL) != 1 || EVP_DigestInit_ex(c->md, NULL, NULL) != 1)
		sha1_fatal("EVP_DigestFinal_ex");
}

void sha1_free(struct sha1_ctx *c)
{
	EVP_MD_CTX_free(c->md);
	c->md = NULL;
}
