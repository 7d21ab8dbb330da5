/* test_g711: all 256 µ-law codes round-trip through decode then encode (0x7F, negative zero,
 * is the one exception), reference values, monotonic halves, and encoding every sample. */
#include <stdint.h>

#include "check.h"
#include "g711.h"

static void test_roundtrip(void)
{
	unsigned c, wrong = 0;

	for (c = 0; c < 256; c++) {
		uint8_t back = g711_ulaw_encode(g711_ulaw_decode((uint8_t)c));

		if (c == 0x7f)
			continue;
		if (back != c) {
			wrong++;
			printf("#   code 0x%02X -> %d -> 0x%02X\n", c, g711_ulaw_decode((uint8_t)c), back);
		}
	}
	CHECK_MSG(wrong == 0, "255 codes (all but 0x7F) decode and encode back to themselves");
	/* 0x7F is "negative zero": it decodes to 0, and 0 encodes as 0xFF (positive zero). */
	CHECK(g711_ulaw_decode(0x7f) == 0);
	CHECK(g711_ulaw_encode(0) == 0xff);
	CHECK(g711_ulaw_encode(g711_ulaw_decode(0x7f)) == 0xff);
}

static void test_known(void)
{
	CHECK(g711_ulaw_decode(0xff) == 0);
	CHECK(g711_ulaw_decode(0x00) == -32124);
	CHECK(g711_ulaw_decode(0x80) == 32124);
	CHECK(g711_ulaw_decode(0xfe) == 8);     /* smallest positive step */
	CHECK(g711_ulaw_decode(0x7e) == -8);
	CHECK(g711_ulaw_decode(0xef) == 132);   /* bottom of segment 1 */
	CHECK(g711_ulaw_encode(32767) == 0x80);   /* clipped */
	CHECK(g711_ulaw_encode(-32768) == 0x00);  /* clipped, and no overflow negating it */
	CHECK(g711_ulaw_encode(32635) == 0x80);
	CHECK(g711_ulaw_encode(-1) == 0x7f);
	CHECK(g711_ulaw_encode(1) == 0xff);
}

/* Codes 0x00..0x7F decode to rising values (-32124 .. 0), 0x80..0xFF to falling ones
 * (32124 .. 0): strictly, except the two zeros at the ends. */
static void test_monotonic(void)
{
	unsigned c, neg_bad = 0, pos_bad = 0;

	for (c = 1; c < 0x80; c++)
		if (!(g711_ulaw_decode((uint8_t)c) > g711_ulaw_decode((uint8_t)(c - 1))))
			neg_bad++;
	for (c = 0x81; c < 0x100; c++)
		if (!(g711_ulaw_decode((uint8_t)c) < g711_ulaw_decode((uint8_t)(c - 1))))
			pos_bad++;
	CHECK_MSG(neg_bad == 0, "decode rises strictly over 0x00..0x7F");
	CHECK_MSG(pos_bad == 0, "decode falls strictly over 0x80..0xFF");
	for (c = 0; c < 0x80; c++)
		if (g711_ulaw_decode((uint8_t)c) != -g711_ulaw_decode((uint8_t)(c | 0x80)))
			neg_bad++;
	CHECK_MSG(neg_bad == 0, "the two halves mirror each other");
}

/* Every 16-bit sample: encoding then decoding lands within half a quantisation step of
 * the (clipped) input, and encoding is monotonic. */
static void test_all_samples(void)
{
	long s, far = 0, nonmono = 0;
	int prev = -40000;

	for (s = -32768; s <= 32767; s++) {
		uint8_t c = g711_ulaw_encode((int16_t)s);
		int d = g711_ulaw_decode(c), clipped = s > 32635 ? 32635 : s < -32635 ? -32635 : (int)s;
		int step = 8, mag = clipped < 0 ? -clipped : clipped, e;

		/* Step size doubles with each segment: 8, 16, … 1024 (G.711 Table 2a). */
		for (e = 0; e < 7 && mag + 132 >= (0x100 << e); e++)
			step *= 2;
		if ((d > clipped ? d - clipped : clipped - d) > step / 2 + 1)
			far++;
		if (d < prev)
			nonmono++;
		prev = d;
	}
	CHECK_MSG(far == 0, "every sample decodes back within half a step");
	CHECK_MSG(nonmono == 0, "decode(encode(x)) never decreases as x rises");
}

int main(void)
{
	test_roundtrip();
	test_known();
	test_monotonic();
	test_all_samples();
	return check_done();
}
