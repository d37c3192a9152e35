/* Lowercase hex for info-hashes and piece hashes. */
#ifndef STA_HEX_H
#define STA_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes 2*len lowercase hex digits and a NUL to out (2*len + 1 bytes). */
void hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes exactly 2*outlen hex digits (either case) from in[0..inlen);
 * false, with out untouched, on a wrong length or any non-hex byte. */
bool hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen);
/* Value of one hex digit (either case), or -1. */
int hex_value(char c);

#endif
