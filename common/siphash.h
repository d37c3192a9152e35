/* SipHash-2-4 (Aumasson & Bernstein): a keyed 64-bit PRF for short inputs.
 * Used where an attacker picks the input: hash-table keys chosen by peers,
 * and the tracker's stateless UDP connection ids. */
#ifndef STA_SIPHASH_H
#define STA_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

/* The 64-bit tag of data[0..len) under a 16-byte key, as the reference
 * implementation defines it (key and message read little-endian). */
uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len);

#endif
