/* base64: RFC 4648 §4 encoding and strict decoding (the alphabet Twilio's media payloads use).
 * Strict: length a multiple of 4, "=" only as the last one or two characters, zero pad bits. */
#include "base64.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of each byte as an alphabet character, or -1 (this includes '=' and whitespace).
 * A table, not a chain of range tests: every media frame decodes ~216 of them, and the
 * branches mispredict on base64's evenly spread characters. */
static const signed char b64_values[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static int b64_value(unsigned char c)
{
	return b64_values[c];
}

long base64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	size_t need, i, o = 0;

	if (len > ((size_t)-1 - 3) / 4 * 3 - 3)
		return -1;
	need = BASE64_ENCODED_LEN(len);
	if (!out || cap < need + 1) {
		if (out && cap)
			out[0] = '\0';
		return -1;
	}
	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = b64_alphabet[v >> 6 & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = b64_alphabet[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return (long)o;
}

long base64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	size_t pad = 0, outlen, i, o = 0;

	/* RFC 4648 §3.2: padded input is always whole quanta of 4 characters. */
	if (len % 4 != 0)
		return -1;
	if (len == 0)
		return 0;
	if (!in)
		return -1;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	outlen = len / 4 * 3 - pad;
	if (outlen > cap || (outlen && !out))
		return -1;

	for (i = 0; i < len; i += 4) {
		int v[4], k, last = i + 4 == len;
		uint32_t q;

		for (k = 0; k < 4; k++) {
			v[k] = b64_value((unsigned char)in[i + k]);
			/* '=' is only valid in the pad positions of the last quantum. */
			if (v[k] < 0 && !(last && k >= 4 - (int)pad && in[i + k] == '='))
				return -1;
		}
		if (!last || pad == 0) {
			q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			    (uint32_t)v[3];
			out[o++] = (uint8_t)(q >> 16);
			out[o++] = (uint8_t)(q >> 8);
			out[o++] = (uint8_t)q;
		} else if (pad == 1) {
			/* RFC 4648 §3.5: the unused bits must be zero for a canonical encoding. */
			if (v[2] & 0x03)
				return -1;
			q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6;
			out[o++] = (uint8_t)(q >> 16);
			out[o++] = (uint8_t)(q >> 8);
		} else {
			if (v[1] & 0x0f)
				return -1;
			q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12;
			out[o++] = (uint8_t)(q >> 16);
		}
	}
	return (long)o;
}
