#include "strnum.h"

#include <string.h>

bool strnum_u64(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool strnum_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	bool neg = s[0] == '-';
	uint64_t mag;
	const char *digits = neg ? s + 1 : s;

	if (!strnum_u64(digits, strlen(digits), 0, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX,
	                &mag))
		return false;
	int64_t v = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}
