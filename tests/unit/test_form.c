/* test_form: table-driven tests of form_parse: decoding, repeated keys, empty values and
 * segments, and every rejection (bad escapes, NULs, empty names, too many pairs, too large). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "form.h"
#include "twsig.h"

/* Accepted inputs: the expected pairs, as "name=value" joined by '|' after decoding. */
static const struct {
	const char *in, *want;
} good[] = {
	{"", ""},
	{"a=1", "a=1"},
	{"a=1&b=2", "a=1|b=2"},
	{"a=", "a="},
	{"a", "a="},
	{"a&b=", "a=|b="},
	{"a=1&&b=2", "a=1|b=2"},
	{"a=1&", "a=1"},
	{"&a=1", "a=1"},
	{"&&&", ""},
	{"a=1&a=2&a=3", "a=1|a=2|a=3"},
	{"b=2&a=1&b=1", "b=2|a=1|b=1"},
	{"a+b=c+d", "a b=c d"},
	{"a%20b=c%2Bd", "a b=c+d"},
	{"x=%2b%2B%3d%26", "x=++=&"},
	{"x=a=b=c", "x=a=b=c"},
	{"From=%2B15551234567&To=%2B15557654321", "From=+15551234567|To=+15557654321"},
	{"Caller=%E2%9C%93", "Caller=\xe2\x9c\x93"},
	{"raw=\xff\xfe", "raw=\xff\xfe"},
	{"%41%42=%43", "AB=C"},
	{"x=%7e%7E", "x=~~"},
	{"x=100%25", "x=100%"},
	{"CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=ringing",
	 "CallSid=CA0123456789abcdef0123456789abcdef|CallStatus=ringing"},
};

/* Rejected inputs and the message each must give. */
static const struct {
	const char *in;
	size_t len;   /* 0: strlen */
	const char *err;
} bad[] = {
	{"a=%", 0, "invalid percent-escape at offset 2"},
	{"a=%4", 0, "invalid percent-escape at offset 2"},
	{"a=%zz", 0, "invalid percent-escape at offset 2"},
	{"a=%4g", 0, "invalid percent-escape at offset 2"},
	{"a=%g4", 0, "invalid percent-escape at offset 2"},
	{"a=1&b=%%41", 0, "invalid percent-escape at offset 6"},
	{"%=1", 0, "invalid percent-escape at offset 0"},
	{"ok=1&x%4=1", 0, "invalid percent-escape at offset 6"},
	{"a=%4&b=1", 0, "invalid percent-escape at offset 2"},
	{"a=%00", 0, "NUL byte (%00) in value at offset 2"},
	{"a%00=1", 0, "NUL byte (%00) in name at offset 1"},
	{"a=1\0b", 5, "NUL byte in value at offset 3"},
	{"\0=1", 3, "NUL byte in name at offset 0"},
	{"=x", 0, "empty parameter name at offset 0"},
	{"a=1&=2", 0, "empty parameter name at offset 4"},
	{"=", 0, "empty parameter name at offset 0"},
};

static void join_pairs(const struct form *f, char *buf, size_t cap)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < form_count(f); i++) {
		const struct form_pair *p = form_at(f, i);

		o += (size_t)snprintf(buf + o, cap - o, "%s%s=%s", i ? "|" : "", p->name, p->value);
		if (o >= cap)
			return;
	}
}

static void test_good(void)
{
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char err[128], got[256], msg[300];
		struct form *f = form_parse(good[i].in, strlen(good[i].in), err, sizeof(err));

		snprintf(msg, sizeof(msg), "parse \"%s\"", good[i].in);
		CHECK_MSG(f != NULL, msg);
		if (!f) {
			printf("#   error: %s\n", err);
			continue;
		}
		join_pairs(f, got, sizeof(got));
		CHECK_STR(got, good[i].want);
		form_free(f);
	}
}

static void test_bad(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[128] = "unset", msg[200];
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].in);
		struct form *f = form_parse(bad[i].in, len, err, sizeof(err));

		snprintf(msg, sizeof(msg), "reject \"%s\"", bad[i].in);
		CHECK_MSG(f == NULL, msg);
		form_free(f);
		CHECK_STR(err, bad[i].err);
	}
}

static void test_accessors(void)
{
	static const char body[] = "Digits=5678&Sid=CA123&Digits=1234&Empty=&Flag";
	char err[128];
	struct form *f = form_parse(body, strlen(body), err, sizeof(err));

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(form_count(f) == 5);
	CHECK_STR(form_get(f, "Digits"), "5678");   /* the first of a repeated name */
	CHECK_STR(form_at(f, 2)->value, "1234");
	CHECK_STR(form_get(f, "Empty"), "");
	CHECK_STR(form_get(f, "Flag"), "");
	CHECK(form_get(f, "digits") == NULL);      /* case-sensitive */
	CHECK(form_get(f, "Missing") == NULL);
	CHECK(form_at(f, 5) == NULL);
	form_free(f);
	form_free(NULL);
	CHECK(form_count(NULL) == 0);

	/* Only LEN bytes are read: the rest of the buffer is not part of the form. */
	f = form_parse("a=1&b=2", 3, err, sizeof(err));
	CHECK(f && form_count(f) == 1 && strcmp(form_get(f, "a"), "1") == 0);
	form_free(f);
	f = form_parse(NULL, 0, err, sizeof(err));
	CHECK(f && form_count(f) == 0);
	form_free(f);
}

static void test_limits(void)
{
	char err[128];
	size_t n = FORM_MAX_PAIRS, i, o = 0;
	char *buf = malloc(n * 8 + 16);
	struct form *f;

	for (i = 0; i < n; i++)
		o += (size_t)sprintf(buf + o, "k%zu=v&", i % 1000);
	f = form_parse(buf, o, err, sizeof(err));
	CHECK_MSG(f && form_count(f) == FORM_MAX_PAIRS, "exactly FORM_MAX_PAIRS pairs accepted");
	form_free(f);
	o += (size_t)sprintf(buf + o, "one=more");
	f = form_parse(buf, o, err, sizeof(err));
	CHECK_MSG(f == NULL, "FORM_MAX_PAIRS + 1 pairs rejected");
	CHECK_STR(err, "too many parameters (over 512)");
	free(buf);

	/* Empty segments do not count as pairs. */
	buf = malloc(FORM_MAX_PAIRS * 2 + 8);
	memset(buf, '&', FORM_MAX_PAIRS * 2);
	memcpy(buf + FORM_MAX_PAIRS * 2, "a=1", 3);
	f = form_parse(buf, FORM_MAX_PAIRS * 2 + 3, err, sizeof(err));
	CHECK_MSG(f && form_count(f) == 1, "1,024 empty segments and one pair accepted");
	form_free(f);
	free(buf);

	/* The size check comes before any read, so a huge LEN is safe to claim. */
	f = form_parse("a=1", (size_t)FORM_MAX_INPUT + 1, err, sizeof(err));
	CHECK(f == NULL);
	CHECK_STR(err, "input too large (16777217 bytes, at most 16777216)");

	/* One value of FORM_MAX_INPUT bytes is accepted. */
	buf = malloc(FORM_MAX_INPUT);
	memset(buf, 'x', FORM_MAX_INPUT);
	memcpy(buf, "v=", 2);
	f = form_parse(buf, FORM_MAX_INPUT, err, sizeof(err));
	CHECK(f && strlen(form_get(f, "v")) == FORM_MAX_INPUT - 2);
	form_free(f);
	free(buf);
}

/* Every byte value decodes from its %XX escape (upper and lower case), except %00. */
static void test_all_escapes(void)
{
	unsigned b, wrong = 0;

	for (b = 1; b < 256; b++) {
		char in[16], err[128];
		struct form *f;
		const char *v;

		snprintf(in, sizeof(in), "v=%%%02X&w=%%%02x", b, b);
		f = form_parse(in, strlen(in), err, sizeof(err));
		v = f ? form_get(f, "v") : NULL;
		if (!v || (unsigned char)v[0] != b || v[1] || strcmp(v, form_get(f, "w")) != 0)
			wrong++;
		form_free(f);
	}
	CHECK_MSG(wrong == 0, "every %01..%FF escape decodes to its byte, either case");
}

/* The encoder writes what Twilio's stack writes, and the parser reads every byte back. */
static void test_encode(void)
{
	const struct twsig_param p[] = { { "From", "+1 555" }, { "A*b", "x.y-z_~é&=" } };
	struct twsig_param all[2];
	char every[256], *f;
	struct form *back;
	int i;

	f = form_encode(p, 2);
	CHECK_STR(f, "From=%2B1+555&A*b=x.y-z_%7E%C3%A9%26%3D");
	free(f);
	f = form_encode(p, 0);
	CHECK_STR(f, "");
	free(f);
	for (i = 1; i < 256; i++)
		every[i - 1] = (char)i;
	every[255] = '\0';
	all[0].name = "every byte";
	all[0].value = every;
	all[1].name = "empty";
	all[1].value = "";
	f = form_encode(all, 2);
	back = f ? form_parse(f, strlen(f), NULL, 0) : NULL;
	CHECK(back && form_count(back) == 2);
	CHECK_MSG(back && !strcmp(form_get(back, "every byte"), every) &&
		  !strcmp(form_get(back, "empty"), ""),
		  "bytes 1..255 and an empty value survive form_encode then form_parse");
	form_free(back);
	free(f);
}

int main(void)
{
	test_encode();
	test_good();
	test_bad();
	test_accessors();
	test_limits();
	test_all_escapes();
	return check_done();
}
