/* test_log_parse: the call log line parser of callpipe-log reads back exactly what
 * calllog_format() wrote (round trips of tricky values), and refuses everything else. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "calllog.h"
#include "../../tools/log/logparse.h"

static struct logparse_line *ln;

/* 2026-11-24T10:15:02.123Z */
static const struct timespec when = { 1795515302, 123456789 };

/* Format KEY=VAL with calllog_format, parse it back; 1 when the value is the same bytes. */
static int roundtrip(const char *key, const char *val, char *why, size_t whylen)
{
	const char *kv[] = { key, val, NULL };
	char buf[CALLLOG_LINE_MAX], err[128];
	size_t n = calllog_format(buf, sizeof(buf), &when, "ws", "ws_start", kv);

	if (logparse_line(ln, buf, n, err, sizeof(err)) != 0) {
		snprintf(why, whylen, "parse error %s in: %s", err, buf);
		return 0;
	}
	if (ln->nkv != 1 || strcmp(ln->kv[0].key, key) != 0 ||
	    ln->kv[0].value_len != strlen(val) ||
	    memcmp(ln->kv[0].value, val, strlen(val)) != 0) {
		snprintf(why, whylen, "value differs in: %s", buf);
		return 0;
	}
	if (ln->ts_ms != 1795515302123LL || strcmp(ln->prog, "ws") != 0 ||
	    strcmp(ln->event, "ws_start") != 0) {
		snprintf(why, whylen, "header differs in: %s", buf);
		return 0;
	}
	return 1;
}

static void test_tricky_values(void)
{
	static const struct { const char *what, *val; } t[] = {
		{ "plain", "+15551234567" },
		{ "empty", "" },
		{ "space", "client:Ann Smith" },
		{ "leading and trailing spaces", "  x  " },
		{ "only spaces", "   " },
		{ "double quote", "say \"hi\"" },
		{ "lone quote", "\"" },
		{ "backslash", "C:\\path\\" },
		{ "backslash then quote", "\\\"" },
		{ "ends in backslash", "abc\\" },
		{ "equals", "a=b" },
		{ "key=value lookalike", "x=1 y=\"2\"" },
		{ "newline cr tab", "line1\nline2\r\tend" },
		{ "ESC sequence", "\x1b[31mred\x1b[0m" },
		{ "control 0x01 and DEL", "\x01\x7f" },
		{ "literal \\x41 text", "\\x41" },
		{ "literal \\n text", "\\n" },
		{ "UTF-8", "caf\xc3\xa9 \xe2\x98\x8e \xf0\x9f\x93\x9e" },
		{ "C1 control U+009B", "\xc2\x9b" "2J" },
		{ "invalid UTF-8", "\xff\xfe\xc3" },
		{ "overlong UTF-8", "\xc0\xaf" },
		{ "surrogate", "\xed\xa0\x80" },
		{ "ellipsis alone", "\xe2\x80\xa6" },
		{ "31920 stream error", "31920 Stream - WebSocket - Handshake Error" },
		{ "URL with query", "https://voice.example.com/webhook/incoming_call?a=1&b=2" },
		{ "JSON", "{\"event\":\"media\",\"n\":1}" },
	};
	char why[CALLLOG_LINE_MAX + 200], msg[CALLLOG_LINE_MAX + 300];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int ok = roundtrip("k", t[i].val, why, sizeof(why));

		snprintf(msg, sizeof(msg), "round trip: %s", t[i].what);
		CHECK_MSG(ok, msg);
		if (!ok)
			printf("#   %s\n", why);
	}
}

/* Every 1-byte and every 2-byte value (bytes 1..255) comes back unchanged. */
static void test_exhaustive(void)
{
	char why[CALLLOG_LINE_MAX + 200], v[3];
	int bad = 0;

	for (int a = 1; a < 256; a++) {
		v[0] = (char)a;
		v[1] = '\0';
		if (!roundtrip("k", v, why, sizeof(why)) && bad++ < 3)
			printf("#   byte 0x%02x: %s\n", a, why);
		for (int b = 1; b < 256; b++) {
			v[1] = (char)b;
			v[2] = '\0';
			if (!roundtrip("k", v, why, sizeof(why)) && bad++ < 3)
				printf("#   bytes 0x%02x 0x%02x: %s\n", a, b, why);
		}
	}
	CHECK_MSG(bad == 0, "every 1- and 2-byte value round-trips");
}

/* Random values (a fixed xorshift seed, so a failure repeats) of any bytes but NUL. */
static void test_random(void)
{
	uint32_t x = 2463534242u;
	char why[CALLLOG_LINE_MAX + 200], v[64];
	int bad = 0;

	for (int i = 0; i < 20000; i++) {
		size_t len;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		len = x % sizeof(v);
		for (size_t j = 0; j < len; j++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			/* Bias towards the bytes that matter: quotes, backslashes, spaces, '=' */
			v[j] = x % 3 ? "\"\\ =\n\x01\xe2\x80\xa6x"[x % 11]
				     : (char)(x % 255 + 1);
		}
		v[len] = '\0';
		if (!roundtrip("k", v, why, sizeof(why)) && bad++ < 3)
			printf("#   %s\n", why);
	}
	CHECK_MSG(bad == 0, "20000 random values round-trip");
}

static void test_many_pairs(void)
{
	const char *kv[] = {
		"from", "+15551234567", "to", "+1 555 765", "skipped", NULL, "empty", "",
		"reason", "stream stopped", "errors_bad_json", "2", NULL
	};
	char buf[CALLLOG_LINE_MAX], err[128];
	size_t n = calllog_format(buf, sizeof(buf), &when, "fcgi", "incoming_call", kv);

	CHECK(logparse_line(ln, buf, n, err, sizeof(err)) == 0);
	CHECK(ln->nkv == 5);
	CHECK_STR(logparse_get(ln, "from"), "+15551234567");
	CHECK_STR(logparse_get(ln, "to"), "+1 555 765");
	CHECK(logparse_get(ln, "skipped") == NULL);
	CHECK_STR(logparse_get(ln, "empty"), "");
	CHECK_STR(logparse_get(ln, "reason"), "stream stopped");
	CHECK_STR(logparse_get(ln, "errors_bad_json"), "2");
	CHECK_STR(ln->ts, "2026-11-24T10:15:02.123Z");
	CHECK_STR(ln->prog, "fcgi");
	CHECK_STR(ln->event, "incoming_call");
	CHECK_STR(ln->kv_text, "from=+15551234567 to=\"+1 555 765\" empty=\"\" "
		  "reason=\"stream stopped\" errors_bad_json=2");
	CHECK(ln->pairs_cut == 0);
}

/* Lines calllog had to shorten still parse: a cut value ends in "…", left-out pairs are
 * marked by a trailing " …". */
static void test_cut_lines(void)
{
	static char big[3 * CALLLOG_LINE_MAX];
	const char *kv1[] = { "a", big, "b", "after", NULL };
	const char *kv2[42];
	char buf[CALLLOG_LINE_MAX], err[128], keys[20][16];
	size_t n, k = 0;
	const char *a;

	memset(big, 'x', sizeof(big) - 1);
	big[5] = ' ';
	n = calllog_format(buf, sizeof(buf), &when, "ws", "ws_start", kv1);
	CHECK(logparse_line(ln, buf, n, err, sizeof(err)) == 0);
	a = logparse_get(ln, "a");
	CHECK(a && strlen(a) > 100 && strcmp(a + strlen(a) - 3, "\xe2\x80\xa6") == 0);
	CHECK_STR(logparse_get(ln, "b"), "after");

	for (int i = 0; i < 20; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		kv2[k++] = keys[i];
		kv2[k++] = big + sizeof(big) - 1 - 1000;	/* 1000 x's */
	}
	kv2[k] = NULL;
	n = calllog_format(buf, sizeof(buf), &when, "ws", "ws_done", kv2);
	CHECK(logparse_line(ln, buf, n, err, sizeof(err)) == 0);
	CHECK(ln->pairs_cut == 1);
	CHECK(ln->nkv >= 3 && ln->nkv < 20);
}

static void test_malformed(void)
{
	static const struct { const char *what, *line; } t[] = {
		{ "empty", "" },
		{ "newline only", "\n" },
		{ "free text", "hello world" },
		{ "no program", "2026-11-24T10:15:02.123Z" },
		{ "no event", "2026-11-24T10:15:02.123Z fcgi" },
		{ "no event after space", "2026-11-24T10:15:02.123Z fcgi " },
		{ "timestamp without Z", "2026-11-24T10:15:02.123 fcgi x" },
		{ "month 13", "2026-13-24T10:15:02.123Z fcgi x" },
		{ "February 30", "2026-02-30T10:15:02.123Z fcgi x" },
		{ "hour 24", "2026-11-24T24:15:02.123Z fcgi x" },
		{ "date only", "2026-11-24 fcgi x" },
		{ "unterminated quote", "2026-11-24T10:15:02.123Z fcgi x a=\"abc" },
		{ "quote escaped at end", "2026-11-24T10:15:02.123Z fcgi x a=\"abc\\\"" },
		{ "unknown escape", "2026-11-24T10:15:02.123Z fcgi x a=\"\\q\"" },
		{ "short hex escape", "2026-11-24T10:15:02.123Z fcgi x a=\\x4" },
		{ "bad hex escape", "2026-11-24T10:15:02.123Z fcgi x a=\\xZZ" },
		{ "raw control character", "2026-11-24T10:15:02.123Z fcgi x a=b\x1b" },
		{ "raw tab", "2026-11-24T10:15:02.123Z fcgi x a=\"b\tc\"" },
		{ "bare word", "2026-11-24T10:15:02.123Z fcgi x a=1 oops" },
		{ "text after closing quote", "2026-11-24T10:15:02.123Z fcgi x a=\"b\"c" },
		{ "key missing", "2026-11-24T10:15:02.123Z fcgi x =1" },
		{ "quote in program", "2026-11-24T10:15:02.123Z fc\"gi x" },
		{ "ellipsis not last", "2026-11-24T10:15:02.123Z fcgi x \xe2\x80\xa6 a=1" },
	};
	char err[128], msg[200];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = logparse_line(ln, t[i].line, strlen(t[i].line), err, sizeof(err));

		snprintf(msg, sizeof(msg), "malformed: %s -> %s", t[i].what, r ? err : "parsed!");
		CHECK_MSG(r == -1 && err[0] != '\0', msg);
	}
	/* Accepted variants: CRLF ending, no fraction, no pairs, a bare "k=". */
	{
		const char *l1 = "2026-11-24T10:15:02Z ws ws_stop\r\n";

		CHECK(logparse_line(ln, l1, strlen(l1), err, sizeof(err)) == 0);
	}
	CHECK(ln->ts_ms == 1795515302000LL && ln->nkv == 0 && ln->kv_text[0] == '\0');
	{
		const char *l2 = "2026-11-24T10:15:02.1Z ws x k= j=\"\"";

		CHECK(logparse_line(ln, l2, strlen(l2), err, sizeof(err)) == 0);
	}
	CHECK(ln->ts_ms == 1795515302100LL && ln->nkv == 2);
	CHECK_STR(logparse_get(ln, "k"), "");
	{
		/* Longer than any line the parser takes. */
		size_t len = LOGPARSE_LINE_MAX + 100;
		char *huge = malloc(len);

		memset(huge, 'a', len);
		memcpy(huge, "2026-11-24T10:15:02.123Z fcgi x a=", 34);
		CHECK(huge && logparse_line(ln, huge, len, err, sizeof(err)) == -1);
		free(huge);
	}
}

/* Random garbage never crashes the parser (ASan/UBSan watch in the sanitizer build). */
static void test_garbage(void)
{
	uint32_t x = 88172645u;
	char line[200], err[128];
	int parsed = 0;

	for (int i = 0; i < 50000; i++) {
		size_t len;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		len = x % sizeof(line);
		memcpy(line, "2026-11-24T10:15:02.123Z ws e ", 30);
		for (size_t j = 30; j < len; j++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			line[j] = "a=\" \\xnF0\x01\xe2"[x % 12];
		}
		parsed += logparse_line(ln, line, len < 30 ? 30 : len, err, sizeof(err)) == 0;
	}
	CHECK_MSG(parsed > 0, "50000 garbage lines parsed or refused without a crash");
}

static void test_times(void)
{
	long long ms;
	char buf[64];

	CHECK(logparse_time("2026-11-24", &ms) == 0 && ms == 1795478400000LL);
	CHECK(logparse_time("2026-11-24T10:15", &ms) == 0 && ms == 1795515300000LL);
	CHECK(logparse_time("2026-11-24 10:15:02", &ms) == 0 && ms == 1795515302000LL);
	CHECK(logparse_time("2026-11-24T10:15:02.5Z", &ms) == 0 && ms == 1795515302500LL);
	CHECK(logparse_time("2026-11-24T10:15:02.123456789Z", &ms) == 0 &&
	      ms == 1795515302123LL);
	CHECK(logparse_time("2024-02-29", &ms) == 0 && ms == 1709164800000LL);
	CHECK(logparse_time("2023-02-29", &ms) == -1);
	CHECK(logparse_time("2026-11-24T10", &ms) == -1);
	CHECK(logparse_time("2026-11-24T10:60", &ms) == -1);
	CHECK(logparse_time("2026-11-24T10:15:02.", &ms) == -1);
	CHECK(logparse_time("2026-11-24x", &ms) == -1);
	CHECK(logparse_time("yesterday", &ms) == -1);
	CHECK(logparse_time("", &ms) == -1);

	logparse_format_time(buf, sizeof(buf), 1795515302123LL, 1);
	CHECK_STR(buf, "2026-11-24T10:15:02.123Z");
	logparse_format_time(buf, sizeof(buf), 1795515302123LL, 0);
	CHECK_STR(buf, "2026-11-24 10:15:02");
	logparse_format_time(buf, sizeof(buf), 0, 1);
	CHECK_STR(buf, "1970-01-01T00:00:00.000Z");
	logparse_format_time(buf, sizeof(buf), -1000, 1);
	CHECK_STR(buf, "1969-12-31T23:59:59.000Z");
	logparse_format_time(buf, sizeof(buf), 1709164800000LL + 86399999, 1);
	CHECK_STR(buf, "2024-02-29T23:59:59.999Z");
	{
		/* Every day of 400 years (a whole Gregorian cycle) formats and parses back. */
		int bad = 0;

		for (long long d = -365; d < 146097 - 365; d++) {
			long long t = d * 86400000LL + 45296789, back;

			logparse_format_time(buf, sizeof(buf), t, 1);
			if ((logparse_time(buf, &back) != 0 || back != t) && bad++ < 3)
				printf("#   %lld -> %s\n", t, buf);
		}
		CHECK_MSG(bad == 0, "400 years of days format and parse back");
	}
}

static void test_escape(void)
{
	char buf[64];

	logparse_escape(buf, sizeof(buf), "a\x1b[2Jb", 6);
	CHECK_STR(buf, "a\\x1b[2Jb");
	logparse_escape(buf, sizeof(buf), "x\ny\tz\r", 6);
	CHECK_STR(buf, "x\\ny\\tz\\r");
	logparse_escape(buf, sizeof(buf), "caf\xc3\xa9", 5);
	CHECK_STR(buf, "caf\xc3\xa9");
	logparse_escape(buf, sizeof(buf), "\xc2\x9b" "2J", 4);
	CHECK_STR(buf, "\\xc2\\x9b2J");
	logparse_escape(buf, sizeof(buf), "\xff\x7f", 2);
	CHECK_STR(buf, "\\xff\\x7f");
	/* what reorders or splits a displayed line (a log value decoded from \xE2\x80\xAE
	 * gives these bytes back) is escaped again for the terminal */
	logparse_escape(buf, sizeof(buf), "a\xe2\x80\xae" "b", 5);
	CHECK_STR(buf, "a\\xe2\\x80\\xaeb");
	logparse_escape(buf, sizeof(buf), "\xe2\x80\xa8\xd8\x9c\xe2\x81\xa6", 8);
	CHECK_STR(buf, "\\xe2\\x80\\xa8\\xd8\\x9c\\xe2\\x81\\xa6");
	logparse_escape(buf, sizeof(buf), "\xe2\x80\xa6", 3);   /* U+2026 stays */
	CHECK_STR(buf, "\xe2\x80\xa6");
	logparse_escape(buf, sizeof(buf), "a\0b", 3);
	CHECK_STR(buf, "a\\x00b");
	/* Cut at a character boundary: never half an escape or half a UTF-8 sequence. */
	logparse_escape(buf, 6, "ab\x1b", 3);
	CHECK_STR(buf, "ab");
	logparse_escape(buf, 5, "abc\xe2\x98\x8e", 6);
	CHECK_STR(buf, "abc");
	CHECK(logparse_width("caf\xc3\xa9 \xe2\x98\x8e") == 6);
}

int main(void)
{
	ln = malloc(sizeof(*ln));
	if (!ln)
		return 1;
	test_tricky_values();
	test_exhaustive();
	test_random();
	test_many_pairs();
	test_cut_lines();
	test_malformed();
	test_garbage();
	test_times();
	test_escape();
	free(ln);
	return check_done();
}
