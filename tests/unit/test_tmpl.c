/* test_tmpl: references and literal braces, template errors with line numbers, the escaping
 * of every single byte value, UTF-8 edge cases (overlongs, surrogates, truncation), limits. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tmpl.h"

/* Variables: From, To, Name.With-Dots_1, Empty; and "Value" returns the test's value. */
static const char *test_value;

static const char *lookup(void *ctx, const char *name, size_t len)
{
	static const char *const vars[][2] = {
		{"From", "+15551234567"},
		{"To", "+15557654321"},
		{"Name.With-Dots_1", "dotted"},
		{"Empty", ""},
		{"Evil", "<Hangup/>&\"'"},
	};
	size_t i;

	(void)ctx;
	if (len == 5 && memcmp(name, "Value", 5) == 0)
		return test_value;
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strlen(vars[i][0]) == len && memcmp(vars[i][0], name, len) == 0)
			return vars[i][1];
	return NULL;
}

static const char *ctx_lookup(void *ctx, const char *name, size_t len)
{
	return len == 3 && memcmp(name, "Who", 3) == 0 ? ctx : NULL;
}

static const struct {
	const char *tmpl, *want;
} good[] = {
	{"", ""},
	{"plain <Say>text</Say>", "plain <Say>text</Say>"},
	{"{{From}}", "+15551234567"},
	{"a{{From}}b{{To}}c", "a+15551234567b+15557654321c"},
	{"{{ From }}", "+15551234567"},
	{"{{   From}}", "+15551234567"},
	{"{{From\t}}", "+15551234567"},
	{"{{Name.With-Dots_1}}", "dotted"},
	{"[{{Unknown}}]", "[]"},
	{"[{{Empty}}]", "[]"},
	{"{{Evil}}", "&lt;Hangup/&gt;&amp;&quot;&apos;"},
	{"}}", "}}"},
	{"a } b { c", "a } b { c"},
	{"{ {From} }", "{ {From} }"},
	{"}}{{From}}}}", "}}+15551234567}}"},
	{"{{From}}}", "+15551234567}"},
	{"{", "{"},
	{"}", "}"},
	{"x{", "x{"},
	{"<Stream url=\"{{From}}\"/>\n", "<Stream url=\"+15551234567\"/>\n"},
	/* The template is trusted: its own markup and characters are copied unchanged. */
	{"<a>&amp;\t\x01</a>", "<a>&amp;\t\x01</a>"},
};

static const struct {
	const char *tmpl, *err;
} bad[] = {
	{"{{From", "line 1: unterminated {{"},
	{"{{", "line 1: unterminated {{"},
	{"{{ ", "line 1: unterminated {{"},
	{"ok\n\n{{From}", "line 3: unterminated {{From"},
	{"{{From\n}}", "line 1: unterminated {{From"},
	{"a\nb\n{{}}", "line 3: {{ without a variable name (names are letters, digits, '_', '.' "
		       "and '-')"},
	{"{{ }}", "line 1: {{ without a variable name (names are letters, digits, '_', '.' and '-')"},
	{"{{{From}}}", "line 1: {{ without a variable name (names are letters, digits, '_', '.' "
		       "and '-')"},
	{"{{From To}}", "line 1: invalid character 'T' in {{From (expected }})"},
	{"{{From|upper}}", "line 1: invalid character '|' in {{From (expected }})"},
	{"{{From}x}", "line 1: invalid character '}' in {{From (expected }})"},
	{"\n{{caf\xc3\xa9}}", "line 2: invalid character '?' in {{caf (expected }})"},
	{"{{$x}}", "line 1: {{ without a variable name (names are letters, digits, '_', '.' and "
		   "'-')"},
};

/* A one-line description of template T for the check lines. */
static const char *desc(const char *t)
{
	static char buf[128];
	size_t o = 0;

	for (; *t && o + 3 < sizeof(buf); t++) {
		if (*t == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = (unsigned char)*t < 0x20 ? '?' : *t;
		}
	}
	buf[o] = '\0';
	return buf;
}

static long render(const char *t, size_t len, char *out, size_t cap, char *err)
{
	return tmpl_render(t, len, lookup, NULL, out, cap, err, 256);
}

static void test_render(void)
{
	char out[1024], err[256];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		long n = render(good[i].tmpl, strlen(good[i].tmpl), out, sizeof(out), err);

		CHECK_MSG(n == (long)strlen(good[i].want), desc(good[i].tmpl));
		CHECK_STR(out, good[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long n = render(bad[i].tmpl, strlen(bad[i].tmpl), out, sizeof(out), err);

		CHECK_MSG(n == -1 && out[0] == '\0', desc(bad[i].tmpl));
		CHECK_STR(err, bad[i].err);
	}
	/* LEN counts, not a NUL: the rest of the buffer is not template. */
	CHECK(render("{{From}}xyz", 8, out, sizeof(out), err) == 12);
	CHECK(render("{{From}}", 7, out, sizeof(out), err) == -1);
	CHECK(render("a\0b", 3, out, sizeof(out), err) == -1);
	CHECK_STR(err, "line 1: NUL byte in template");
	/* No lookup function: every variable is empty. */
	CHECK(tmpl_render("[{{From}}]", 10, NULL, NULL, out, sizeof(out), err, sizeof(err)) == 2);
	CHECK_STR(out, "[]");
	/* The context pointer reaches the lookup, with the name's exact bytes. */
	CHECK(tmpl_render("{{ Who }}", 9, ctx_lookup, "ctx value", out, sizeof(out), err,
			  sizeof(err)) == 9);
	CHECK_STR(out, "ctx value");
}

static void test_limits(void)
{
	char out[16], err[256];
	char *big;

	CHECK(render("0123456789abcde", 15, out, sizeof(out), err) == 15);
	CHECK(render("0123456789abcdef", 16, out, sizeof(out), err) == -1);
	CHECK_STR(err, "output exceeds 15 bytes");
	CHECK(out[0] == '\0');
	test_value = "&&&";   /* 3 bytes in, 15 out: exactly fits */
	CHECK(render("{{Value}}", 9, out, sizeof(out), err) == 15);
	test_value = "&&&a";
	CHECK(render("{{Value}}", 9, out, sizeof(out), err) == -1);
	CHECK_STR(err, "output exceeds 15 bytes");
	CHECK(render("", 0, out, 1, err) == 0 && out[0] == '\0');
	CHECK(render("x", 1, out, 1, err) == -1);
	/* A template error is reported even when the output already overflowed. */
	CHECK(render("0123456789abcdefghij{{", 22, out, sizeof(out), err) == -1);
	CHECK_STR(err, "line 1: unterminated {{");

	/* TMPL_OUT_MAX: a value of 100,000 '<' becomes 400,000 bytes, over the limit. */
	big = malloc(TMPL_OUT_MAX + 1);
	memset(big, '<', 100000);
	big[100000] = '\0';
	test_value = big;
	{
		char *o = malloc(TMPL_OUT_MAX);

		CHECK(tmpl_render("{{Value}}", 9, lookup, NULL, o, TMPL_OUT_MAX, err, sizeof(err)) == -1);
		CHECK_STR(err, "output exceeds 262143 bytes");
		big[60000] = '\0';
		CHECK(tmpl_render("{{Value}}", 9, lookup, NULL, o, TMPL_OUT_MAX, err, sizeof(err)) ==
		      240000);
		free(o);
	}
	free(big);
	test_value = NULL;
}

/* Every byte value 1..255 alone as a value, rendered through tmpl_xml_escape. */
static void test_every_byte(void)
{
	unsigned b, wrong = 0;

	for (b = 1; b < 256; b++) {
		char in[2] = {(char)b, 0}, out[16];
		const char *want;
		char one[2] = {(char)b, 0};
		long n = tmpl_xml_escape(in, out, sizeof(out));

		if (b == '&')
			want = "&amp;";
		else if (b == '<')
			want = "&lt;";
		else if (b == '>')
			want = "&gt;";
		else if (b == '"')
			want = "&quot;";
		else if (b == '\'')
			want = "&apos;";
		else if (b < 0x20 || b == 0x7f)
			want = "";   /* dropped: tab, newline and CR too */
		else if (b >= 0x80)
			want = "\xef\xbf\xbd";   /* a lone high byte is never valid UTF-8 */
		else
			want = one;
		if (n != (long)strlen(want) || strcmp(out, want) != 0) {
			wrong++;
			printf("#   byte 0x%02X gave \"%s\"\n", b, out);
		}
	}
	CHECK_MSG(wrong == 0, "each of the 255 byte values escapes as expected");
}

static const struct {
	const char *in, *want, *why;
} utf8[] = {
	{"caf\xc3\xa9", "caf\xc3\xa9", "2-byte é kept"},
	{"\xe2\x82\xac", "\xe2\x82\xac", "3-byte € kept"},
	{"\xf0\x9f\x93\x9e", "\xf0\x9f\x93\x9e", "4-byte U+1F4DE kept"},
	{"\xc2\x80", "\xc2\x80", "U+0080 (lowest 2-byte) kept"},
	{"\xdf\xbf", "\xdf\xbf", "U+07FF kept"},
	{"\xe0\xa0\x80", "\xe0\xa0\x80", "U+0800 (lowest 3-byte) kept"},
	{"\xed\x9f\xbf", "\xed\x9f\xbf", "U+D7FF (below surrogates) kept"},
	{"\xee\x80\x80", "\xee\x80\x80", "U+E000 (above surrogates) kept"},
	{"\xef\xbf\xbd", "\xef\xbf\xbd", "U+FFFD kept"},
	{"\xf0\x90\x80\x80", "\xf0\x90\x80\x80", "U+10000 kept"},
	{"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", "U+10FFFF kept"},
	{"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", "overlong '/' (C0 AF): two replacements"},
	{"\xc1\xbf", "\xef\xbf\xbd\xef\xbf\xbd", "overlong C1 BF"},
	{"\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "overlong 3-byte '/'"},
	{"\xe0\x9f\xbf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "overlong U+07FF in 3 bytes"},
	{"\xf0\x80\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	 "overlong 4-byte '/'"},
	{"\xf0\x8f\xbf\xbf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	 "overlong U+FFFF in 4 bytes"},
	{"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "surrogate U+D800"},
	{"\xed\xbf\xbf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "surrogate U+DFFF"},
	{"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	 "U+110000, above the range"},
	{"\xf5\x80\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "lead F5"},
	{"\xff", "\xef\xbf\xbd", "byte FF"},
	{"\xe2\x82", "\xef\xbf\xbd", "truncated 3-byte at the end: one replacement"},
	{"\xe2\x82x", "\xef\xbf\xbdx", "truncated 3-byte before ASCII"},
	{"\xf0\x9f\x93", "\xef\xbf\xbd", "truncated 4-byte"},
	{"\xf0\x9f\x93<", "\xef\xbf\xbd&lt;", "truncated 4-byte before '<'"},
	{"\xc3", "\xef\xbf\xbd", "lone lead byte"},
	{"\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd", "lone continuation bytes"},
	{"\xc3\xc3\xa9", "\xef\xbf\xbd\xc3\xa9", "lead then a valid character"},
	{"\xef\xbf\xbe", "\xef\xbf\xbd", "U+FFFE is not an XML character"},
	{"\xef\xbf\xbf", "\xef\xbf\xbd", "U+FFFF is not an XML character"},
	{"a\tb\nc\rd", "abcd", "tab, newline and CR dropped"},
	{"\x1b[31mred", "[31mred", "ESC dropped"},
	{"Tom & Jerry's \"<show>\"", "Tom &amp; Jerry&apos;s &quot;&lt;show&gt;&quot;", "mixed"},
};

static void test_utf8(void)
{
	size_t i;

	for (i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++) {
		char out[64], tmplout[64], err[256];
		long n = tmpl_xml_escape(utf8[i].in, out, sizeof(out));

		CHECK_MSG(n == (long)strlen(utf8[i].want) && strcmp(out, utf8[i].want) == 0,
			  utf8[i].why);
		if (n < 0 || strcmp(out, utf8[i].want) != 0) {
			size_t j;

			printf("#   got:");
			for (j = 0; n > 0 && j < (size_t)n; j++)
				printf(" %02X", (unsigned char)out[j]);
			printf("\n");
		}
		/* tmpl_render substitutes values by the same rules. */
		test_value = utf8[i].in;
		render("{{Value}}", 9, tmplout, sizeof(tmplout), err);
		CHECK_MSG(strcmp(out, tmplout) == 0, "render escapes like tmpl_xml_escape");
	}
	test_value = NULL;
}

/* Every 2-byte sequence: valid ones kept, everything else gives valid UTF-8 without
 * control characters (the output of any value is always safe XML character data). */
static void test_all_pairs(void)
{
	unsigned a, b, wrong = 0, kept = 0;

	for (a = 1; a < 256; a++) {
		for (b = 1; b < 256; b++) {
			char in[3] = {(char)a, (char)b, 0}, out[32];
			long n = tmpl_xml_escape(in, out, sizeof(out)), k;

			if (n < 0) {
				wrong++;
				continue;
			}
			for (k = 0; k < n; k++)
				if ((unsigned char)out[k] < 0x20 || out[k] == 0x7f || out[k] == '<' ||
				    out[k] == '>' || out[k] == '"' || out[k] == '\'')
					wrong++;
			if (a >= 0xc2 && a <= 0xdf && b >= 0x80 && b <= 0xbf)
				kept += n == 2 && memcmp(in, out, 2) == 0;
		}
	}
	CHECK_MSG(wrong == 0, "no 2-byte value puts a control character or markup in the output");
	CHECK_MSG(kept == 30 * 64, "all 1,920 valid 2-byte characters kept unchanged");
}

static void test_escape_limits(void)
{
	char out[8];

	CHECK(tmpl_xml_escape("abcdefg", out, sizeof(out)) == 7);
	CHECK(tmpl_xml_escape("abcdefgh", out, sizeof(out)) == -1 && out[0] == '\0');
	CHECK(tmpl_xml_escape("&", out, 5) == -1);
	CHECK(tmpl_xml_escape("&", out, 6) == 5);
	CHECK(tmpl_xml_escape("\xe2\x82\xac", out, 3) == -1);   /* never half a character */
	CHECK(tmpl_xml_escape("", out, 1) == 0);
	CHECK(tmpl_xml_escape(NULL, out, 1) == 0);
	CHECK(tmpl_xml_escape("x", out, 0) == -1);
}

int main(void)
{
	test_render();
	test_limits();
	test_every_byte();
	test_utf8();
	test_all_pairs();
	test_escape_limits();
	return check_done();
}
