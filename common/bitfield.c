#include "bitfield.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

static inline size_t bf_nwords(uint32_t nbits)
{
	return ((size_t)nbits + 63) / 64;
}

static inline uint64_t bf_mask(uint32_t i)
{
	return 1ULL << (63 - i % 64);
}

void bitfield_init(struct bitfield *bf, uint32_t nbits)
{
	bf->words = xcalloc(bf_nwords(nbits), sizeof *bf->words);
	bf->nbits = nbits;
	bf->count = 0;
}

void bitfield_free(struct bitfield *bf)
{
	free(bf->words);
	bf->words = NULL;
	bf->nbits = 0;
	bf->count = 0;
}

bool bitfield_test(const struct bitfield *bf, uint32_t i)
{
	assert(i < bf->nbits);
	return (bf->words[i / 64] & bf_mask(i)) != 0;
}

bool bitfield_set(struct bitfield *bf, uint32_t i)
{
	assert(i < bf->nbits);
	uint64_t *w = &bf->words[i / 64];
	if (*w & bf_mask(i))
		return false;
	*w |= bf_mask(i);
	bf->count++;
	return true;
}

bool bitfield_clear(struct bitfield *bf, uint32_t i)
{
	assert(i < bf->nbits);
	uint64_t *w = &bf->words[i / 64];
	if (!(*w & bf_mask(i)))
		return false;
	*w &= ~bf_mask(i);
	bf->count--;
	return true;
}

void bitfield_set_all(struct bitfield *bf)
{
	size_t nw = bf_nwords(bf->nbits);

	if (nw == 0)
		return;
	memset(bf->words, 0xff, nw * sizeof *bf->words);
	/* Keep the spare bits of the last word clear. */
	if (bf->nbits % 64)
		bf->words[nw - 1] = ~0ULL << (64 - bf->nbits % 64);
	bf->count = bf->nbits;
}

void bitfield_clear_all(struct bitfield *bf)
{
	memset(bf->words, 0, bf_nwords(bf->nbits) * sizeof *bf->words);
	bf->count = 0;
}

bool bitfield_import(struct bitfield *bf, const uint8_t *wire, size_t len)
{
	size_t full = bf->nbits / 64;

	if (len != bitfield_wire_len(bf->nbits))
		return false;
	size_t tail = len - full * 8;
	if (bf->nbits % 8 && (wire[len - 1] & (0xff >> (bf->nbits % 8))))
		return false;
	uint32_t count = 0;
	for (size_t w = 0; w < full; w++) {
		bf->words[w] = load_u64be(wire + w * 8);
		count += (uint32_t)__builtin_popcountll(bf->words[w]);
	}
	if (tail) {
		uint64_t last = 0;
		for (size_t i = 0; i < tail; i++)
			last |= (uint64_t)wire[full * 8 + i] << (56 - 8 * i);
		bf->words[full] = last;
		count += (uint32_t)__builtin_popcountll(last);
	}
	bf->count = count;
	return true;
}

void bitfield_export(const struct bitfield *bf, uint8_t *out)
{
	size_t full = bf->nbits / 64;
	size_t tail = bitfield_wire_len(bf->nbits) - full * 8;

	for (size_t w = 0; w < full; w++)
		store_u64be(out + w * 8, bf->words[w]);
	for (size_t i = 0; i < tail; i++)
		out[full * 8 + i] = (uint8_t)(bf->words[full] >> (56 - 8 * i));
}

/* Word w of (a XOR invert) AND NOT b; b may be NULL. Inlined into each
 * caller with constant arguments, so the loops below carry no branches on
 * them. */
static inline uint64_t bf_word(const struct bitfield *a, const struct bitfield *b,
                               uint64_t invert, size_t w)
{
	uint64_t x = a->words[w] ^ invert;

	return b ? x & ~b->words[w] : x;
}

static inline uint32_t bf_scan(const struct bitfield *a, const struct bitfield *b,
                               uint64_t invert, uint32_t from)
{
	uint32_t nbits = a->nbits;

	if (from >= nbits)
		return nbits;
	size_t nw = bf_nwords(nbits);
	size_t w = from / 64;
	uint64_t word = bf_word(a, b, invert, w) & (~0ULL >> (from % 64));
	for (;;) {
		if (word) {
			/* With invert, spare bits read as set: clamp to nbits. */
			uint64_t i = (uint64_t)w * 64 + (uint64_t)__builtin_clzll(word);
			return i < nbits ? (uint32_t)i : nbits;
		}
		if (++w == nw)
			return nbits;
		word = bf_word(a, b, invert, w);
	}
}

uint32_t bitfield_next_set(const struct bitfield *bf, uint32_t from)
{
	return bf_scan(bf, NULL, 0, from);
}

uint32_t bitfield_next_clear(const struct bitfield *bf, uint32_t from)
{
	return bf_scan(bf, NULL, ~0ULL, from);
}

uint32_t bitfield_next_andnot(const struct bitfield *a, const struct bitfield *b, uint32_t from)
{
	assert(a->nbits == b->nbits);
	return bf_scan(a, b, 0, from);
}

bool bitfield_any_andnot(const struct bitfield *a, const struct bitfield *b)
{
	return bitfield_next_andnot(a, b, 0) < a->nbits;
}

uint32_t bitfield_count_andnot(const struct bitfield *a, const struct bitfield *b)
{
	size_t nw = bf_nwords(a->nbits);
	uint32_t n = 0;

	assert(a->nbits == b->nbits);
	for (size_t w = 0; w < nw; w++)
		n += (uint32_t)__builtin_popcountll(a->words[w] & ~b->words[w]);
	return n;
}
