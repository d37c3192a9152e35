/* Checked number parsing: whole string, range-checked, no sign surprises. */
#ifndef STA_STRNUM_H
#define STA_STRNUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses exactly s[0..len) as a decimal unsigned integer in [min, max].
 * No sign, no spaces, no empty string; leading zeros are accepted.
 * Returns false (and leaves *out alone) on anything else. */
bool strnum_u64(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out);
/* Same for a NUL-terminated string, optionally signed. */
bool strnum_i64(const char *s, int64_t min, int64_t max, int64_t *out);

#endif
