/* test_logesc: the one log escaper: each class of character (table), the three modes, cuts at
 * the budget on a character boundary, and work bounded by the budget (linear, counted). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytebuf.h"
#include "call_int.h"
#include "check.h"
#include "logesc.h"
#include "strutil.h"

static const struct {
	const char *in, *logfmt, *inner, *word;
} table[] = {
	{"plain", "plain", "plain", "plain"},
	{"", "\"\"", "", ""},
	{"two words", "\"two words\"", "two words", "two\\x20words"},
	{"a=b", "\"a=b\"", "a=b", "a=b"},
	{"q\"b\\", "\"q\\\"b\\\\\"", "q\\\"b\\\\", "q\\\"b\\\\"},
	{"n\nr\rt\t", "\"n\\nr\\rt\\t\"", "n\\nr\\rt\\t", "n\\nr\\rt\\t"},
	{"\x01\x1b[2J\x7f", "\"\\x01\\x1B[2J\\x7F\"", "\\x01\\x1B[2J\\x7F", "\\x01\\x1B[2J\\x7F"},
	/* C1 controls (0x9B is CSI on a terminal), as valid UTF-8 and as raw bytes */
	{"\xc2\x9b" "2J", "\"\\xC2\\x9B2J\"", "\\xC2\\x9B2J", "\\xC2\\x9B2J"},
	{"\xc2\x80", "\"\\xC2\\x80\"", "\\xC2\\x80", "\\xC2\\x80"},
	{"\x9b" "2J", "\"\\x9B2J\"", "\\x9B2J", "\\x9B2J"},
	/* valid UTF-8 stays; U+00A0 is the first character after C1 */
	{"caf\xc3\xa9 \xc2\xa0", "\"caf\xc3\xa9 \xc2\xa0\"", "caf\xc3\xa9 \xc2\xa0",
	 "caf\xc3\xa9\\x20\xc2\xa0"},
	{"\xf0\x9f\x93\x9e", "\xf0\x9f\x93\x9e", "\xf0\x9f\x93\x9e", "\xf0\x9f\x93\x9e"},
	/* invalid UTF-8: stray continuation, overlong, surrogate, above U+10FFFF, cut short */
	{"\x80", "\"\\x80\"", "\\x80", "\\x80"},
	{"\xc0\xaf", "\"\\xC0\\xAF\"", "\\xC0\\xAF", "\\xC0\\xAF"},
	{"\xed\xa0\x80", "\"\\xED\\xA0\\x80\"", "\\xED\\xA0\\x80", "\\xED\\xA0\\x80"},
	{"\xf4\x90\x80\x80", "\"\\xF4\\x90\\x80\\x80\"", "\\xF4\\x90\\x80\\x80",
	 "\\xF4\\x90\\x80\\x80"},
	{"\xe2\x82", "\"\\xE2\\x82\"", "\\xE2\\x82", "\\xE2\\x82"},
	/* line and paragraph separators */
	{"a\xe2\x80\xa8" "b", "\"a\\xE2\\x80\\xA8b\"", "a\\xE2\\x80\\xA8b", "a\\xE2\\x80\\xA8b"},
	{"\xe2\x80\xa9", "\"\\xE2\\x80\\xA9\"", "\\xE2\\x80\\xA9", "\\xE2\\x80\\xA9"},
	/* bidi controls: ALM, LRM, RLM, LRE..RLO, LRI..PDI */
	{"\xd8\x9c", "\"\\xD8\\x9C\"", "\\xD8\\x9C", "\\xD8\\x9C"},
	{"\xe2\x80\x8e\xe2\x80\x8f", "\"\\xE2\\x80\\x8E\\xE2\\x80\\x8F\"",
	 "\\xE2\\x80\\x8E\\xE2\\x80\\x8F", "\\xE2\\x80\\x8E\\xE2\\x80\\x8F"},
	{"\xe2\x80\xaa", "\"\\xE2\\x80\\xAA\"", "\\xE2\\x80\\xAA", "\\xE2\\x80\\xAA"},
	{"x\xe2\x80\xaeyz", "\"x\\xE2\\x80\\xAEyz\"", "x\\xE2\\x80\\xAEyz", "x\\xE2\\x80\\xAEyz"},
	{"\xe2\x81\xa6\xe2\x81\xa9", "\"\\xE2\\x81\\xA6\\xE2\\x81\\xA9\"",
	 "\\xE2\\x81\\xA6\\xE2\\x81\\xA9", "\\xE2\\x81\\xA6\\xE2\\x81\\xA9"},
	/* neighbours that are not special: U+200D ZWJ, U+202F, U+2065, U+206A, U+061B */
	{"\xe2\x80\x8d\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\xd8\x9b",
	 "\xe2\x80\x8d\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\xd8\x9b",
	 "\xe2\x80\x8d\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\xd8\x9b",
	 "\xe2\x80\x8d\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\xd8\x9b"},
};

static const char *esc(const char *in, size_t budget, enum logesc_mode mode, char *mem,
		       size_t cap)
{
	struct bytebuf b;

	bytebuf_init_fixed(&b, mem, cap);
	logesc_put(&b, in, budget, mode);
	return bytebuf_cstr(&b);
}

static void test_table(void)
{
	char mem[256];
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		CHECK_STR(esc(table[i].in, 200, LOGESC_LOGFMT, mem, sizeof(mem)), table[i].logfmt);
		CHECK_STR(esc(table[i].in, 200, LOGESC_INNER, mem, sizeof(mem)), table[i].inner);
		CHECK_STR(esc(table[i].in, 200, LOGESC_WORD, mem, sizeof(mem)), table[i].word);
	}
	CHECK_STR(esc(NULL, 200, LOGESC_LOGFMT, mem, sizeof(mem)), "\"\"");
}

/* Every byte pair: nothing below 0x20, no DEL, no C1 and no invalid UTF-8 gets out. */
static void test_all_pairs(void)
{
	char mem[64];
	unsigned a, b, bad = 0;

	for (a = 1; a < 256; a++)
		for (b = 0; b < 256; b++) {
			char in[3] = {(char)a, (char)b, 0};
			const unsigned char *o = (const unsigned char *)esc(in, 60, LOGESC_WORD, mem,
									   sizeof(mem));
			size_t n = strlen((const char *)o), i, k;

			for (i = 0; i < n; i += k) {
				k = strutil_utf8_len(o + i, n - i);
				if (!k || o[i] <= ' ' || o[i] == 0x7f ||
				    (k == 2 && o[i] == 0xc2 && o[i + 1] <= 0x9f)) {
					bad++;
					break;
				}
			}
		}
	CHECK_MSG(bad == 0, "no byte pair leaves a space, control or invalid UTF-8 in a word");
}

/* Cuts: at every budget, the output fits, ends in "…" (and the quote) and is valid UTF-8
 * that never ends inside an escape. */
static void test_cut(void)
{
	/* 2-, 3- and 4-byte characters, escapes and quotes mixed */
	static const char v[] = "\xc3\xa9" "ab\xe2\x9c\x93\"\n\xf0\x9f\x93\x9e\x01\xe2\x80\xae"
				"\xc3\xa9\xc3\xa9 xyz\\\xff" "end";
	char mem[256], full[256];
	size_t budget, bad = 0, fulllen;

	snprintf(full, sizeof(full), "%s", esc(v, 200, LOGESC_LOGFMT, mem, sizeof(mem)));
	fulllen = strlen(full);
	for (budget = 0; budget <= fulllen + 2; budget++) {
		const char *o = esc(v, budget, LOGESC_LOGFMT, mem, sizeof(mem));
		size_t n = strlen(o), i, k;

		if (n > budget)
			bad++;
		if (budget >= fulllen) {
			if (strcmp(o, full) != 0)
				bad++;
			continue;
		}
		if (budget < 5) {
			/* too small for a quoted "…": nothing, or a bare "…" */
			if (n != 0 && strcmp(o, "\xe2\x80\xa6") != 0)
				bad++;
			continue;
		}
		/* cut: "…" (then the closing quote when quoted: the look-ahead stops at the
		 * budget, so a cut value is quoted only when what it read needs quotes), and
		 * the rest a prefix of the full form; at most one unit (12 bytes) unused. */
		{
			int q = o[0] == '"';
			size_t tail = q ? 4 : 3;

			if (n < tail + (size_t)q ||
			    memcmp(o + n - tail, "\xe2\x80\xa6\"", tail) != 0 ||
			    memcmp(o + q, full + 1, n - tail - (size_t)q) != 0 || n + 12 < budget) {
				printf("# budget %zu: %s\n", budget, o);
				bad++;
			}
		}
		for (i = 0; i < n; i += k) {
			k = strutil_utf8_len((const unsigned char *)o + i, n - i);
			if (!k) {
				bad++;
				break;
			}
		}
		/* never ends inside an escape: an odd run of '\' before the ellipsis, or a
		 * partial \xHH */
		{
			size_t end = n - (o[0] == '"' ? 4 : 3), bs = 0;

			while (bs < end && o[end - 1 - bs] == '\\')
				bs++;
			if (bs % 2)
				bad++;
			if (end >= 2 && o[end - 2] == '\\' && o[end - 1] == 'x')
				bad++;
			if (end >= 3 && o[end - 3] == '\\' && o[end - 2] == 'x')
				bad++;
		}
	}
	CHECK_MSG(bad == 0, "every budget from 0 to the full length cuts cleanly");
	/* Bare mode: "…" without quotes. */
	CHECK_STR(esc("abcdefghij", 6, LOGESC_INNER, mem, sizeof(mem)), "abc\xe2\x80\xa6");
	CHECK_STR(esc("abcdef", 6, LOGESC_INNER, mem, sizeof(mem)), "abcdef");
	/* A cut never splits a multi-byte character. */
	CHECK_STR(esc("a\xe2\x9c\x93\xe2\x9c\x93", 6, LOGESC_INNER, mem, sizeof(mem)),
		  "a\xe2\x80\xa6");
	/* The buffer's room is a budget too, and the buffer remembers the cut. */
	{
		struct bytebuf b;
		char small[12];

		bytebuf_init_fixed(&b, small, sizeof(small));
		logesc_put(&b, "hello world, long", 100, LOGESC_LOGFMT);
		CHECK(b.len <= sizeof(small) && b.cut);
		CHECK(b.len == 12 && memcmp(small, "\"hello w\xe2\x80\xa6\"", 12) == 0);
	}
}

static char *fill_utf8(size_t n)
{
	char *s = malloc(n + 1);
	size_t i;

	for (i = 0; i + 1 < n; i += 2) {
		s[i] = (char)0xc3;
		s[i + 1] = (char)0xa9;
	}
	s[i] = '\0';
	return s;
}

static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Work: the bytes read are bounded by the budget whatever the input's length, and grow
 * linearly with the input when the budget is not the limit. */
static void test_work(void)
{
	char *big = fill_utf8(256 * 1024), *small = fill_utf8(64 * 1024), *mem = malloc(1 << 20);
	struct bytebuf b;
	size_t r_small, r_big;
	double t0, t_small = 1e9, t_big = 1e9;
	int i;

	bytebuf_init_fixed(&b, mem, 1 << 20);
	r_big = logesc_put(&b, big, 2048, LOGESC_LOGFMT);
	CHECK_MSG(r_big <= 2 * (2048 + 8), "a 256 KiB value with a 2 KiB budget reads <= 4 KiB");
	CHECK(b.len <= 2048);
	b.len = 0;
	r_small = logesc_put(&b, small, 1 << 20, LOGESC_LOGFMT);
	b.len = 0;
	r_big = logesc_put(&b, big, 1 << 20, LOGESC_LOGFMT);
	CHECK_MSG(r_small == 2 * 64 * 1024 && r_big == 2 * 256 * 1024,
		  "unbounded budget: each pass reads each byte once");
	CHECK(b.len == 256 * 1024);
	/* Time, compared not absolute: 4x the input must not cost 16x (quadratic). The best
	 * of 5 runs each keeps scheduling noise out. */
	for (i = 0; i < 5; i++) {
		b.len = 0;
		t0 = cpu_s();
		logesc_put(&b, small, 1 << 20, LOGESC_LOGFMT);
		if (cpu_s() - t0 < t_small)
			t_small = cpu_s() - t0;
		b.len = 0;
		t0 = cpu_s();
		logesc_put(&b, big, 1 << 20, LOGESC_LOGFMT);
		if (cpu_s() - t0 < t_big)
			t_big = cpu_s() - t0;
	}
	printf("# logesc: 2-byte UTF-8, 64 KiB %.0f us, 256 KiB %.0f us (%.2f ns/byte)\n",
	       t_small * 1e6, t_big * 1e6, t_big * 1e9 / (256 * 1024));
	CHECK_MSG(t_big < 10 * t_small + 0.001, "4x the input costs well under 16x the time");
	free(big);
	free(small);
	free(mem);
}

static void test_kv(void)
{
	char mem[64];
	struct bytebuf b;

	bytebuf_init_fixed(&b, mem, sizeof(mem));
	CHECK(logesc_kv(&b, "uri", "/a b", 100) == 0);
	CHECK(logesc_kv(&b, "skipped", NULL, 100) == 0);
	CHECK(logesc_kv(&b, "bad key", "v", 100) == 0);
	CHECK_STR(bytebuf_cstr(&b), " uri=\"/a b\" bad_key=v");
	/* A pair that cannot fit " key=" and a quoted "…" is left out whole. */
	bytebuf_init_fixed(&b, mem, 10);
	CHECK(logesc_kv(&b, "long_key", "value", 100) != 0);
	CHECK(b.len == 0 && b.cut);
}

/* callpipe-ws's stderr helpers are logesc's word and inner modes. */
static void test_ws_helpers(void)
{
	char b[32];

	CHECK_STR(call_safe("", b, sizeof(b)), "-");
	CHECK_STR(call_safe("mark 1\xc2\x9b", b, sizeof(b)), "mark\\x201\\xC2\\x9B");
	CHECK_STR(call_safe("\xe2\x80\xae" "abc", b, sizeof(b)), "\\xE2\\x80\\xAEabc");
	CHECK_STR(call_quoted("say \"hi\"\n", b, sizeof(b)), "say \\\"hi\\\"\\n");
	CHECK_STR(call_safe("0123456789012345678901234567890123456789", b, 12),
		  "01234567\xe2\x80\xa6");
}

int main(void)
{
	test_table();
	test_all_pairs();
	test_cut();
	test_work();
	test_kv();
	test_ws_helpers();
	return check_done();
}
