/* g711: ITU-T G.711 µ-law companding (§ 3.2, Table 2a/2b), 8-bit codes for 14-bit-magnitude
 * linear samples: bias 0x84 (132), clip 32635, all bits inverted on the wire. */
#include "g711.h"

#define ULAW_BIAS 0x84
#define ULAW_CLIP 32635

uint8_t g711_ulaw_encode(int16_t sample)
{
	int s = sample, sign = 0, exponent, mantissa;
	unsigned mask;

	if (s < 0) {
		/* int, not int16_t: -(-32768) must not overflow before it is clipped. */
		s = -s;
		sign = 0x80;
	}
	if (s > ULAW_CLIP)
		s = ULAW_CLIP;
	s += ULAW_BIAS;   /* at most 32767: bit 14 is the highest that can be set */
	/* The segment is the position of the highest set bit above bit 7. */
	for (exponent = 7, mask = 0x4000; exponent > 0 && !(s & (int)mask); exponent--, mask >>= 1)
		;
	mantissa = (s >> (exponent + 3)) & 0x0f;
	return (uint8_t)~(sign | exponent << 4 | mantissa);
}

int16_t g711_ulaw_decode(uint8_t code)
{
	int c = (uint8_t)~code, exponent = (c >> 4) & 0x07, mantissa = c & 0x0f, s;

	/* The middle of the quantisation interval, minus the bias added when encoding. */
	s = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
	return (int16_t)(c & 0x80 ? -s : s);
}
