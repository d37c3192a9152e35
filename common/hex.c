#include "hex.h"

void hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen)
{
	if (outlen > SIZE_MAX / 2 || inlen != 2 * outlen)
		return false;
	for (size_t i = 0; i < inlen; i++) {
		if (hex_value(in[i]) < 0)
			return false;
	}
	for (size_t i = 0; i < outlen; i++)
		out[i] = (uint8_t)(hex_value(in[2 * i]) << 4 | hex_value(in[2 * i + 1]));
	return true;
}
