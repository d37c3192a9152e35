/* A fixed-size bit set over a torrent's pieces.
 *
 * Bits live in 64-bit words in wire order: piece 0 is the most significant
 * bit of word 0, as it is the high bit of the first byte of a BEP 3
 * bitfield, so import and export are big-endian word loads and stores and
 * "next set bit" is a count of leading zeros. Spare bits past nbits are
 * always zero, so word-wide operations need no masking. The number of set
 * bits is kept up to date on every change: reading it is O(1).
 */
#ifndef STA_BITFIELD_H
#define STA_BITFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bitfield {
	uint64_t *words;
	uint32_t nbits;
	uint32_t count;     /* bits set */
};

/* Allocates an all-clear set of nbits bits; free with bitfield_free. */
void bitfield_init(struct bitfield *bf, uint32_t nbits);
void bitfield_free(struct bitfield *bf);

/* Bytes of the wire form of a set of nbits bits. */
static inline size_t bitfield_wire_len(uint32_t nbits)
{
	return ((size_t)nbits + 7) / 8;
}

/* Indexes must be below nbits (a caller bug otherwise: checked by assert). */
bool bitfield_test(const struct bitfield *bf, uint32_t i);
/* Both return true when the bit changed. */
bool bitfield_set(struct bitfield *bf, uint32_t i);
bool bitfield_clear(struct bitfield *bf, uint32_t i);
void bitfield_set_all(struct bitfield *bf);
void bitfield_clear_all(struct bitfield *bf);

static inline uint32_t bitfield_count(const struct bitfield *bf)
{
	return bf->count;
}

static inline bool bitfield_all(const struct bitfield *bf)
{
	return bf->count == bf->nbits;
}

static inline bool bitfield_none(const struct bitfield *bf)
{
	return bf->count == 0;
}

/* Loads a peer's wire bitfield. Fails, leaving bf unchanged, when len is not
 * exactly bitfield_wire_len(nbits) or a spare bit in the last byte is set
 * (BEP 3: drop such a peer). */
bool bitfield_import(struct bitfield *bf, const uint8_t *wire, size_t len);
/* Writes bitfield_wire_len(nbits) bytes to out. */
void bitfield_export(const struct bitfield *bf, uint8_t *out);

/* First index >= from whose bit is set (or clear); nbits when there is none,
 * including when from >= nbits. */
uint32_t bitfield_next_set(const struct bitfield *bf, uint32_t from);
uint32_t bitfield_next_clear(const struct bitfield *bf, uint32_t from);

/* Pieces in a but not in b ("the peer has it, we lack it"). a and b must
 * have the same nbits. */
uint32_t bitfield_next_andnot(const struct bitfield *a, const struct bitfield *b, uint32_t from);
bool bitfield_any_andnot(const struct bitfield *a, const struct bitfield *b);
uint32_t bitfield_count_andnot(const struct bitfield *a, const struct bitfield *b);

#endif
