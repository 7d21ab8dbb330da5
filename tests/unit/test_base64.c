/* test_base64: RFC 4648 §10 vectors, strict-decoding rejections, and a round trip of every
 * 1- and 2-byte input (as lighttpd's src/t/test_base64.c does). */
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "check.h"

static const struct {
	const char *plain, *encoded;
} rfc4648[] = {
	{"", ""},
	{"f", "Zg=="},
	{"fo", "Zm8="},
	{"foo", "Zm9v"},
	{"foob", "Zm9vYg=="},
	{"fooba", "Zm9vYmE="},
	{"foobar", "Zm9vYmFy"},
};

/* Inputs a strict decoder must refuse, with why. */
static const struct {
	const char *in, *why;
} invalid[] = {
	{"Zg=", "length not a multiple of 4"},
	{"Zg", "missing padding"},
	{"Z", "single character"},
	{"Zm9vY", "5 characters"},
	{"Zh==", "non-zero pad bits (1 byte)"},
	{"Zm9=", "non-zero pad bits (2 bytes)"},
	{"Zg==Zg==", "padding in the middle"},
	{"Z===", "three pad characters"},
	{"====", "only padding"},
	{"=Zm9", "pad at the start"},
	{"Zm=v", "pad before data"},
	{"Zm9v\n", "trailing newline"},
	{"Zm 9v", "space inside"},
	{" Zm9", "leading space"},
	{"Zm9v\r\nYmFy", "CRLF inside"},
	{"Zm9-", "URL-safe '-'"},
	{"Zm9_", "URL-safe '_'"},
	{"Zm9*", "bad character '*'"},
	{"Zm9\x80", "high byte"},
};

static void test_vectors(void)
{
	size_t i;

	for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		char enc[32], msg[96];
		uint8_t dec[32];
		size_t plen = strlen(rfc4648[i].plain);
		long n = base64_encode((const uint8_t *)rfc4648[i].plain, plen, enc, sizeof(enc));

		snprintf(msg, sizeof(msg), "encode \"%s\" = \"%s\"", rfc4648[i].plain,
			 rfc4648[i].encoded);
		CHECK_MSG(n == (long)strlen(rfc4648[i].encoded) &&
			  strcmp(enc, rfc4648[i].encoded) == 0, msg);
		n = base64_decode(rfc4648[i].encoded, strlen(rfc4648[i].encoded), dec, sizeof(dec));
		snprintf(msg, sizeof(msg), "decode \"%s\" = \"%s\"", rfc4648[i].encoded,
			 rfc4648[i].plain);
		CHECK_MSG(n == (long)plen && memcmp(dec, rfc4648[i].plain, plen) == 0, msg);
	}
}

static void test_invalid(void)
{
	size_t i;

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		uint8_t dec[64];
		char msg[96];

		snprintf(msg, sizeof(msg), "decode rejects %s", invalid[i].why);
		CHECK_MSG(base64_decode(invalid[i].in, strlen(invalid[i].in), dec, sizeof(dec)) == -1,
			  msg);
	}
	/* The length is what counts, not a NUL: an embedded NUL is a bad character. */
	CHECK(base64_decode("Zm\0v", 4, (uint8_t[4]){0}, 4) == -1);
}

static void test_capacity(void)
{
	char enc[9];
	uint8_t dec[6];

	CHECK(base64_encode((const uint8_t *)"foobar", 6, enc, 8) == -1);   /* no room for NUL */
	CHECK(base64_encode((const uint8_t *)"foobar", 6, enc, 9) == 8);
	CHECK(base64_decode("Zm9vYmFy", 8, dec, 5) == -1);
	CHECK(base64_decode("Zm9vYmFy", 8, dec, 6) == 6);
	CHECK(base64_decode("Zm9vYg==", 8, dec, 4) == 4);   /* exact size, padding counted */
	CHECK(base64_decode("", 0, NULL, 0) == 0);
	CHECK(BASE64_ENCODED_LEN(160) == 216);   /* one 20 ms µ-law frame */
	CHECK(BASE64_DECODED_MAX(216) == 162);
}

/* Every 1- and 2-byte input encodes, decodes back identically, and gives the right length. */
static void test_roundtrip_all(void)
{
	unsigned a, b, bad1 = 0, bad2 = 0;
	char enc[8];
	uint8_t in[2], dec[4];

	for (a = 0; a < 256; a++) {
		in[0] = (uint8_t)a;
		if (base64_encode(in, 1, enc, sizeof(enc)) != 4 || enc[2] != '=' ||
		    base64_decode(enc, 4, dec, sizeof(dec)) != 1 || dec[0] != in[0])
			bad1++;
	}
	CHECK_MSG(bad1 == 0, "all 256 one-byte inputs round-trip");
	for (a = 0; a < 256; a++) {
		for (b = 0; b < 256; b++) {
			in[0] = (uint8_t)a;
			in[1] = (uint8_t)b;
			if (base64_encode(in, 2, enc, sizeof(enc)) != 4 || enc[3] != '=' ||
			    base64_decode(enc, 4, dec, sizeof(dec)) != 2 ||
			    memcmp(dec, in, 2) != 0)
				bad2++;
		}
	}
	CHECK_MSG(bad2 == 0, "all 65,536 two-byte inputs round-trip");
	if (bad1 || bad2)
		printf("#   failures: %u one-byte, %u two-byte\n", bad1, bad2);
}

/* Every 4-character quantum "AAx=" with a non-zero low pad bit is refused: of the 64
 * characters in the third position, exactly 16 (low two bits zero) decode. */
static void test_pad_bits_exhaustive(void)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned i, ok1 = 0, ok2 = 0;

	for (i = 0; i < 64; i++) {
		char q[5] = {'Q', 'U', alpha[i], '=', 0};
		char q2[5] = {'Q', alpha[i], '=', '=', 0};
		uint8_t dec[3];

		if (base64_decode(q, 4, dec, sizeof(dec)) == 2)
			ok1++;
		if (base64_decode(q2, 4, dec, sizeof(dec)) == 1)
			ok2++;
	}
	CHECK_MSG(ok1 == 16, "exactly 16 of 64 last characters valid before one '='");
	CHECK_MSG(ok2 == 4, "exactly 4 of 64 second characters valid before '=='");
}

/* Every byte value in every position of a quantum: the 64 alphabet characters decode to
 * their index (the decoder's lookup table against the alphabet), all others are refused. */
static void test_every_byte(void)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned c, pos, bad = 0;

	for (c = 0; c < 256; c++) {
		const char *at = c ? memchr(alpha, (int)c, 64) : NULL;
		int want = at ? (int)(at - alpha) : -1;

		for (pos = 0; pos < 4; pos++) {
			char q[4] = { 'A', 'A', 'A', 'A' };
			uint8_t dec[3];
			uint32_t v;
			long n;

			if (c == '=' && pos == 3)
				continue;   /* "AAA=" is a padded quantum: test_pad_bits_exhaustive */
			q[pos] = (char)c;
			n = base64_decode(q, 4, dec, sizeof(dec));
			v = (uint32_t)dec[0] << 16 | (uint32_t)dec[1] << 8 | dec[2];
			if (want < 0 ? n != -1 : n != 3 || v != (uint32_t)want << (6 * (3 - pos)))
				bad++;
		}
	}
	CHECK_MSG(bad == 0, "each of the 256 byte values in each quantum position: its alphabet "
		  "index, or refused");
}

int main(void)
{
	test_vectors();
	test_invalid();
	test_capacity();
	test_roundtrip_all();
	test_pad_bits_exhaustive();
	test_every_byte();
	return check_done();
}
