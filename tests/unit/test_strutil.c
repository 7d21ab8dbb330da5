/* test_strutil: the error setter (truncation, NULL and empty buffers), every byte through the
 * hex digit value, and UTF-8 well-formedness at the boundary of each rule of Unicode Table 3-7. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "strutil.h"

static void test_seterr(void)
{
	char err[16];

	strutil_seterr(err, sizeof(err), "%s:%d: %s", "a.conf", 7, "bad");
	CHECK_STR(err, "a.conf:7: bad");

	/* Too long: cut, always NUL-terminated, never past ERRLEN. */
	memset(err, 'x', sizeof(err));
	strutil_seterr(err, 8, "%s", "0123456789abcdef");
	CHECK_STR(err, "0123456");
	CHECK_MSG(err[8] == 'x', "seterr writes nothing past errlen");

	memset(err, 'x', sizeof(err));
	strutil_seterr(err, 1, "%s", "anything");
	CHECK_MSG(err[0] == '\0' && err[1] == 'x', "seterr with errlen 1 gives \"\"");

	memset(err, 'x', sizeof(err));
	strutil_seterr(err, 0, "%s", "anything");
	CHECK_MSG(err[0] == 'x', "seterr with errlen 0 leaves the buffer alone");

	strutil_seterr(NULL, 64, "%s", "anything");
	CHECK_MSG(1, "seterr with a NULL buffer does nothing (and does not crash)");

	strutil_seterr(err, sizeof(err), "100%% %c", '!');
	CHECK_STR(err, "100% !");
}

/* Every byte, and the values around the byte range a caller may pass (EOF, signed chars). */
static void test_hexval(void)
{
	static const char digits[] = "0123456789abcdef", upper[] = "ABCDEF";
	static const int outside[] = {-1, -128, -255, 256, 256 + '0', 256 + 'a', 0x130, 0x7fffffff};
	int want[256], c, bad = 0;
	size_t i;
	char msg[64];

	for (c = 0; c < 256; c++)
		want[c] = -1;
	for (i = 0; i < 16; i++)
		want[(unsigned char)digits[i]] = (int)i;
	for (i = 0; i < 6; i++)
		want[(unsigned char)upper[i]] = 10 + (int)i;
	for (c = 0; c < 256; c++) {
		int got = strutil_hexval(c);

		if (got != want[c]) {
			snprintf(msg, sizeof(msg), "hexval(0x%02x) = %d, want %d", c, got, want[c]);
			CHECK_MSG(0, msg);
			bad++;
		}
	}
	CHECK_MSG(bad == 0, "hexval of all 256 bytes: 0-9, a-f, A-F give 0..15, the rest -1");
	for (i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		snprintf(msg, sizeof(msg), "hexval(%d) = -1", outside[i]);
		CHECK_MSG(strutil_hexval(outside[i]) == -1, msg);
	}
	/* A byte above 0x7f read through a (signed) char must not alias a digit. */
	CHECK(strutil_hexval((char)0xb0) == -1 && strutil_hexval((char)0xe1) == -1);
}

/* BYTES (AVAIL of them readable), the length strutil_utf8_len must give (0: ill-formed) and
 * the bytes one U+FFFD replaces (strutil_utf8_subpart). */
static const struct {
	const char *bytes;
	size_t avail, len, subpart;
	const char *why;
} utf8[] = {
	{"", 0, 0, 0, "nothing available"},
	{"\x00", 1, 1, 1, "NUL is ASCII"},
	{"A", 1, 1, 1, "ASCII"},
	{"\x7f", 1, 1, 1, "DEL, last ASCII"},
	{"\x41\xff", 1, 1, 1, "only the first byte of ASCII counts"},
	/* lead bytes that never start a sequence */
	{"\x80", 1, 0, 1, "lone continuation 80"},
	{"\xbf\x80", 2, 0, 1, "lone continuation BF"},
	{"\xc0\x80", 2, 0, 1, "C0 80: overlong NUL"},
	{"\xc1\xbf", 2, 0, 1, "C1 BF: overlong U+007F"},
	{"\xf5\x80\x80\x80", 4, 0, 1, "F5: above U+10FFFF"},
	{"\xf7\xbf\xbf\xbf", 4, 0, 1, "F7"},
	{"\xf8\x88\x80\x80\x80", 5, 0, 1, "F8: 5-byte form"},
	{"\xfe", 1, 0, 1, "FE"},
	{"\xff", 1, 0, 1, "FF"},
	/* 2 bytes: C2..DF 80..BF */
	{"\xc2\x80", 2, 2, 2, "U+0080, first 2-byte (C1 control: still well-formed)"},
	{"\xc2\x9f", 2, 2, 2, "U+009F, last C1 control"},
	{"\xc2\xa0", 2, 2, 2, "U+00A0"},
	{"\xdf\xbf", 2, 2, 2, "U+07FF, last 2-byte"},
	{"\xc2\x7f", 2, 0, 1, "C2 7F: second byte below 80"},
	{"\xc2\xc0", 2, 0, 1, "C2 C0: second byte above BF"},
	{"\xc2", 1, 0, 1, "C2 cut short"},
	{"\xc2\x80", 1, 0, 1, "C2 80 with one byte available"},
	/* 3 bytes: E0 A0..BF; E1..EC, EE, EF 80..BF; ED 80..9F */
	{"\xe0\x9f\xbf", 3, 0, 1, "E0 9F BF: overlong U+07FF"},
	{"\xe0\x80\x80", 3, 0, 1, "E0 80 80: overlong NUL"},
	{"\xe0\xa0\x80", 3, 3, 3, "U+0800, first 3-byte"},
	{"\xe0\xbf\xbf", 3, 3, 3, "U+0FFF"},
	{"\xe0\xc0\x80", 3, 0, 1, "E0 C0"},
	{"\xe1\x80\x80", 3, 3, 3, "U+1000"},
	{"\xe1\x7f\x80", 3, 0, 1, "E1 7F"},
	{"\xec\xbf\xbf", 3, 3, 3, "U+CFFF"},
	{"\xed\x80\x80", 3, 3, 3, "U+D000"},
	{"\xed\x9f\xbf", 3, 3, 3, "U+D7FF, last before the surrogates"},
	{"\xed\xa0\x80", 3, 0, 1, "U+D800, first surrogate"},
	{"\xed\xbf\xbf", 3, 0, 1, "U+DFFF, last surrogate"},
	{"\xee\x80\x80", 3, 3, 3, "U+E000, first after the surrogates"},
	{"\xef\xbf\xbd", 3, 3, 3, "U+FFFD"},
	{"\xef\xbf\xbe", 3, 3, 3, "U+FFFE: noncharacter, but well-formed"},
	{"\xef\xbf\xbf", 3, 3, 3, "U+FFFF: noncharacter, but well-formed"},
	{"\xe1\x80\x7f", 3, 0, 2, "E1 80 7F: third byte below 80"},
	{"\xe1\x80\xc0", 3, 0, 2, "E1 80 C0: third byte above BF"},
	{"\xe1\x80", 2, 0, 2, "E1 80 cut short"},
	{"\xe0\xa0", 2, 0, 2, "E0 A0 cut short"},
	{"\xe1\x80\x80", 2, 0, 2, "E1 80 80 with two bytes available"},
	{"\xed\x9f", 2, 0, 2, "ED 9F cut short"},
	{"\xe1", 1, 0, 1, "E1 cut short"},
	/* 4 bytes: F0 90..BF; F1..F3 80..BF; F4 80..8F */
	{"\xf0\x8f\xbf\xbf", 4, 0, 1, "F0 8F BF BF: overlong U+FFFF"},
	{"\xf0\x90\x80\x80", 4, 4, 4, "U+10000, first 4-byte"},
	{"\xf0\xbf\xbf\xbf", 4, 4, 4, "U+3FFFF"},
	{"\xf0\xc0\x80\x80", 4, 0, 1, "F0 C0"},
	{"\xf1\x80\x80\x80", 4, 4, 4, "U+40000"},
	{"\xf3\xbf\xbf\xbf", 4, 4, 4, "U+FFFFF"},
	{"\xf4\x80\x80\x80", 4, 4, 4, "U+100000"},
	{"\xf4\x8f\xbf\xbf", 4, 4, 4, "U+10FFFF, the last code point"},
	{"\xf4\x90\x80\x80", 4, 0, 1, "F4 90: U+110000"},
	{"\xf4\xbf\xbf\xbf", 4, 0, 1, "F4 BF"},
	{"\xf0\x90\x80\x7f", 4, 0, 3, "fourth byte below 80"},
	{"\xf0\x90\x80\xc0", 4, 0, 3, "fourth byte above BF"},
	{"\xf0\x90\x7f\x80", 4, 0, 2, "third byte below 80"},
	{"\xf1\x80\x80", 3, 0, 3, "F1 80 80 cut short"},
	{"\xf4\x8f\xbf\xbf", 3, 0, 3, "U+10FFFF with three bytes available"},
	{"\xf0\x90", 2, 0, 2, "F0 90 cut short"},
	{"\xf4", 1, 0, 1, "F4 cut short"},
};

static void test_utf8_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++) {
		/* Exactly AVAIL bytes on the heap, so the sanitizer build catches a read past it. */
		unsigned char *s = malloc(utf8[i].avail ? utf8[i].avail : 1);
		size_t len, sub;
		char msg[160];

		if (!s) {
			CHECK_MSG(0, "malloc");
			return;
		}
		memcpy(s, utf8[i].bytes, utf8[i].avail);
		len = strutil_utf8_len(s, utf8[i].avail);
		sub = strutil_utf8_subpart(s, utf8[i].avail);
		snprintf(msg, sizeof(msg), "%s: len %zu (want %zu), subpart %zu (want %zu)",
			 utf8[i].why, len, utf8[i].len, sub, utf8[i].subpart);
		CHECK_MSG(len == utf8[i].len && sub == utf8[i].subpart, msg);
		free(s);
	}
}

/* Independent oracle: a sequence is well-formed exactly when it is the encoding of a Unicode
 * scalar value (0..10FFFF without D800..DFFF). Encode them all; mark every proper prefix. */
static size_t encode(uint32_t cp, unsigned char b[4])
{
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (unsigned char)(0xf0 | cp >> 18);
	b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	b[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Bit sets over 1-, 2- and 3-byte strings (big-endian index): WELL[k] holds the complete
 * encodings of length k, PREFIX[k] the proper prefixes of length k of longer ones. */
static uint8_t *well[4], *prefix[4];

static size_t key(const unsigned char *b, size_t k)
{
	size_t v = 0, i;

	for (i = 0; i < k; i++)
		v = v << 8 | b[i];
	return v;
}

static int bit(const uint8_t *set, size_t v)
{
	return set[v >> 3] >> (v & 7) & 1;
}

static void set_bit(uint8_t *set, size_t v)
{
	set[v >> 3] |= (uint8_t)(1u << (v & 7));
}

/* What the oracle says for the first K bytes of B (K <= 3 when complete sequences of up to 3
 * bytes are asked for; a 4-byte one is checked by decoding). */
static void oracle(const unsigned char *b, size_t k, size_t *len, size_t *sub)
{
	size_t j;

	*len = 0;
	for (j = 1; j <= k && j <= 3; j++)
		if (bit(well[j], key(b, j)))
			*len = j;
	if (k == 4 && !*len && bit(prefix[3], key(b, 3)) && (b[3] & 0xc0) == 0x80)
		*len = 4;   /* a valid 3-byte prefix of a 4-byte form and a continuation byte */
	if (*len) {
		*sub = *len;
		return;
	}
	*sub = 1;
	for (j = 1; j <= k && j <= 3; j++)
		if (bit(prefix[j], key(b, j)))
			*sub = j;
}

static int build_oracle(void)
{
	uint32_t cp;
	size_t k, j;
	unsigned char b[4];

	for (k = 1; k <= 3; k++) {
		well[k] = calloc((size_t)1 << (8 * k - 3), 1);
		prefix[k] = calloc((size_t)1 << (8 * k - 3), 1);
		if (!well[k] || !prefix[k])
			return -1;
	}
	for (cp = 0; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		k = encode(cp, b);
		if (k <= 3)
			set_bit(well[k], key(b, k));
		for (j = 1; j < k; j++)
			set_bit(prefix[j], key(b, j));
	}
	return 0;
}

/* Every scalar value round-trips; every 1-, 2- and 3-byte string, and every 4-byte string
 * whose last two bytes are boundary values, gets the oracle's answer. */
static void test_utf8_exhaustive(void)
{
	static const unsigned char edge[] = {0x00, 0x41, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x9f,
					     0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xf0, 0xf4,
					     0xf5, 0xff};
	unsigned char b[4];
	size_t n = 0, bad = 0, len, sub, k, x, y;
	uint32_t cp, v;
	char msg[128];

	if (build_oracle() != 0) {
		CHECK_MSG(0, "oracle allocation");
		return;
	}
	for (cp = 0; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		k = encode(cp, b);
		if (strutil_utf8_len(b, k) != k || strutil_utf8_len(b, k - 1) != 0)
			bad++;
		n++;
	}
	snprintf(msg, sizeof(msg), "all %zu scalar values accepted whole, refused cut short", n);
	CHECK_MSG(bad == 0 && n == 0x10ffff + 1 - 0x800, msg);

	for (k = 1, n = 0, bad = 0; k <= 3; k++) {
		for (v = 0; v < 1u << (8 * k); v++) {
			for (x = 0; x < k; x++)
				b[x] = (unsigned char)(v >> (8 * (k - 1 - x)));
			oracle(b, k, &len, &sub);
			if (strutil_utf8_len(b, k) != len || strutil_utf8_subpart(b, k) != sub) {
				if (bad++ < 5) {
					snprintf(msg, sizeof(msg), "%zu-byte %06x: len %zu/%zu, "
						 "sub %zu/%zu", k, (unsigned)v,
						 strutil_utf8_len(b, k), len,
						 strutil_utf8_subpart(b, k), sub);
					CHECK_MSG(0, msg);
				}
			}
			n++;
		}
	}
	snprintf(msg, sizeof(msg), "all %zu strings of 1, 2 and 3 bytes agree with the oracle",
		 n);
	CHECK_MSG(bad == 0, msg);

	for (v = 0, n = 0, bad = 0; v < 0x10000; v++) {
		b[0] = (unsigned char)(v >> 8);
		b[1] = (unsigned char)v;
		for (x = 0; x < sizeof(edge); x++) {
			for (y = 0; y < sizeof(edge); y++) {
				b[2] = edge[x];
				b[3] = edge[y];
				oracle(b, 4, &len, &sub);
				if (strutil_utf8_len(b, 4) != len ||
				    strutil_utf8_subpart(b, 4) != sub)
					bad++;
				n++;
			}
		}
	}
	snprintf(msg, sizeof(msg), "%zu 4-byte strings (boundary last bytes) agree", n);
	CHECK_MSG(bad == 0, msg);

	for (k = 1; k <= 3; k++) {
		free(well[k]);
		free(prefix[k]);
	}
}

int main(void)
{
	test_seterr();
	test_hexval();
	test_utf8_table();
	test_utf8_exhaustive();
	return check_done();
}
