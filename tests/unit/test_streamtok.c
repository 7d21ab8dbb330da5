/* test_streamtok: stream tokens round-trip, fail on any changed field, expire, refuse far
 * future expiries and malformed input, and match a vector computed with the openssl CLI. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "streamtok.h"

#define TOK "12345"
#define CS "CA0123456789abcdef0123456789abcdef"
#define AS "AC0123456789abcdef0123456789abcdef"
#define NOW 1700000000LL

/* openssl CLI, no callpipe code:
 *   K=$(printf 'callpipe stream token v1' | openssl dgst -sha256 -mac HMAC -macopt key:12345)
 *   printf 'v1|CA0123…ef|AC0123…ef|1700000000' |
 *       openssl dgst -sha256 -mac HMAC -macopt hexkey:$K */
#define VECTOR "v1.1700000000.0abf9309a0c47525867ccef0f6fe0c271cb27bdc5cd87162aa1d085af98ba1a2"

static int ok(const char *tok, time_t now)
{
	char why[128];

	return streamtok_check(TOK, CS, AS, tok, now, why, sizeof(why)) == 0;
}

static void expect_why(const char *tok, time_t now, const char *want, const char *what)
{
	char why[128];
	int rc = streamtok_check(TOK, CS, AS, tok, now, why, sizeof(why));

	CHECK_MSG(rc == -1 && strstr(why, want) != NULL, what);
	if (rc != -1 || !strstr(why, want))
		printf("#   rc %d why \"%s\", want \"%s\"\n", rc, why, want);
}

int main(void)
{
	char t[STREAMTOK_MAX + 1], bad[STREAMTOK_MAX + 64], why[128];
	char longtok[400];
	size_t i;

	/* round trip */
	CHECK(streamtok_make(TOK, CS, AS, NOW + 300, t, sizeof(t)) == 0);
	CHECK(strncmp(t, "v1.1700000300.", 14) == 0 && strlen(t) == 14 + 64);
	CHECK(ok(t, (time_t)NOW));
	CHECK(ok(t, (time_t)(NOW + 300)));   /* valid up to and including its expiry second */
	CHECK(streamtok_check(TOK, CS, AS, t, (time_t)NOW, why, sizeof(why)) == 0 && !why[0]);

	/* the fixed vector, computed outside our code */
	CHECK(streamtok_make(TOK, CS, AS, NOW, t, sizeof(t)) == 0);
	CHECK_STR(t, VECTOR);
	CHECK(ok(VECTOR, (time_t)NOW));

	/* each field changed -> wrong MAC */
	CHECK(streamtok_make(TOK, CS, AS, NOW + 300, t, sizeof(t)) == 0);
	CHECK(streamtok_check("12346", CS, AS, t, (time_t)NOW, why, sizeof(why)) == -1 &&
	      strstr(why, "wrong MAC"));
	CHECK(streamtok_check(TOK, "CA0123456789abcdef0123456789abcdee", AS, t, (time_t)NOW, why,
			      sizeof(why)) == -1 && strstr(why, "wrong MAC"));
	CHECK(streamtok_check(TOK, CS, "AC0123456789abcdef0123456789abcdee", t, (time_t)NOW, why,
			      sizeof(why)) == -1 && strstr(why, "wrong MAC"));
	CHECK(streamtok_check(TOK, CS, "", t, (time_t)NOW, why, sizeof(why)) == -1);
	snprintf(bad, sizeof(bad), "%s", t);
	bad[12] = bad[12] == '1' ? '2' : '1';             /* the expiry's last digit */
	expect_why(bad, (time_t)NOW, "wrong MAC", "expiry changed: wrong MAC");
	for (i = 14; i < strlen(t); i += 9) {              /* MAC digits, every ninth */
		snprintf(bad, sizeof(bad), "%s", t);
		bad[i] = bad[i] == 'a' ? 'b' : 'a';
		CHECK_MSG(!ok(bad, (time_t)NOW), "one MAC digit changed: refused");
	}
	/* the sid fields cannot slide into each other */
	CHECK(streamtok_make(TOK, "CA1", "2|AC", NOW + 300, t, sizeof(t)) == -1);
	CHECK(streamtok_make(TOK, "CA1", "2AC", NOW + 300, t, sizeof(t)) == 0);
	CHECK(streamtok_check(TOK, "CA1|2", "AC", t, (time_t)NOW, why, sizeof(why)) == -1);
	CHECK(streamtok_check(TOK, "CA12", "AC", t, (time_t)NOW, why, sizeof(why)) == -1);

	/* time */
	CHECK(streamtok_make(TOK, CS, AS, NOW + 300, t, sizeof(t)) == 0);
	expect_why(t, (time_t)(NOW + 301), "expired 1 s ago", "one second after expiry: expired");
	CHECK(streamtok_make(TOK, CS, AS, NOW + STREAMTOK_MAX_SECONDS + STREAMTOK_SKEW_SECONDS,
			     t, sizeof(t)) == 0);
	CHECK_MSG(ok(t, (time_t)NOW), "expiry at the lifetime limit + skew: accepted");
	CHECK(streamtok_make(TOK, CS, AS, NOW + STREAMTOK_MAX_SECONDS + STREAMTOK_SKEW_SECONDS + 1,
			     t, sizeof(t)) == 0);
	expect_why(t, (time_t)NOW, "too far ahead", "one second beyond: refused");
	CHECK(streamtok_make(TOK, CS, AS, 999999999999LL, t, sizeof(t)) == 0);
	expect_why(t, (time_t)NOW, "too far ahead", "year 33658: refused");

	/* truncated and garbage */
	CHECK(streamtok_make(TOK, CS, AS, NOW + 300, t, sizeof(t)) == 0);
	snprintf(bad, sizeof(bad), "%.*s", (int)strlen(t) - 1, t);
	expect_why(bad, (time_t)NOW, "malformed", "one digit short: malformed");
	snprintf(bad, sizeof(bad), "%sa", t);
	expect_why(bad, (time_t)NOW, "malformed", "one digit long: malformed");
	snprintf(bad, sizeof(bad), "%.14s", t);
	expect_why(bad, (time_t)NOW, "malformed", "no MAC: malformed");
	snprintf(bad, sizeof(bad), "%s", t);
	bad[20] = 'A';                                      /* upper-case hex is not the form */
	expect_why(bad, (time_t)NOW, "malformed", "upper-case hex: malformed");
	expect_why("", (time_t)NOW, "missing", "empty: missing");
	CHECK(streamtok_check(TOK, CS, AS, NULL, (time_t)NOW, why, sizeof(why)) == -1 &&
	      strcmp(why, "missing") == 0);
	expect_why("garbage", (time_t)NOW, "malformed", "garbage: malformed");
	expect_why("v2.1700000300.0abf", (time_t)NOW, "malformed", "another version: malformed");
	snprintf(bad, sizeof(bad), "v1.01700000300.%s", t + 14);
	expect_why(bad, (time_t)NOW, "bad expiry", "leading zero: malformed");
	snprintf(bad, sizeof(bad), "v1.-1.%s", t + 14);
	expect_why(bad, (time_t)NOW, "bad expiry", "negative expiry: malformed");
	snprintf(bad, sizeof(bad), "v1.1234567890123.%s", t + 14);
	expect_why(bad, (time_t)NOW, "bad expiry", "13-digit expiry: malformed");
	memset(longtok, 'v', sizeof(longtok) - 1);
	longtok[sizeof(longtok) - 1] = '\0';
	expect_why(longtok, (time_t)NOW, "too long", "400 bytes: too long before any work");

	/* making refuses what it cannot stand behind */
	CHECK(streamtok_make("", CS, AS, NOW, t, sizeof(t)) == -1 && t[0] == '\0');
	CHECK(streamtok_make(NULL, CS, AS, NOW, t, sizeof(t)) == -1);
	CHECK(streamtok_make(TOK, CS, AS, 0, t, sizeof(t)) == -1);
	CHECK(streamtok_make(TOK, CS, AS, NOW, t, 40) == -1 && t[0] == '\0');
	memset(longtok, 'C', 70);
	longtok[70] = '\0';
	CHECK(streamtok_make(TOK, longtok, AS, NOW, t, sizeof(t)) == -1);
	CHECK(streamtok_check(TOK, longtok, AS, VECTOR, (time_t)NOW, why, sizeof(why)) == -1);
	/* NULL account sid is "" */
	CHECK(streamtok_make(TOK, CS, NULL, NOW + 10, t, sizeof(t)) == 0);
	CHECK(streamtok_check(TOK, CS, "", t, (time_t)NOW, why, sizeof(why)) == 0);
	/* why may be NULL */
	CHECK(streamtok_check(TOK, CS, AS, "x", (time_t)NOW, NULL, 0) == -1);
	return check_done();
}
