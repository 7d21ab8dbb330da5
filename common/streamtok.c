/* streamtok: "v1.<expiry>.<hex HMAC-SHA256>" stream tokens (format and reasons in
 * streamtok.h): made by callpipe-fcgi and callpipe-sim, checked by callpipe-ws. */
#include "streamtok.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define KEY_LABEL "callpipe stream token v1"
/* A sid is 34 characters; anything much longer is not one, and bounds the MAC input. */
#define SID_MAX 64
#define EXPIRY_DIGITS_MAX 12

/* A sid the MAC may cover: bounded, and without the '|' that separates the fields (so a
 * part of one cannot be moved into the next). */
static int sid_ok(const char *s)
{
	return s && strlen(s) <= SID_MAX && !strchr(s, '|');
}

static void set_why(char *why, size_t whylen, const char *s)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", s);
}

static size_t bounded_len(const char *s, size_t max)
{
	size_t n = 0;

	while (n <= max && s[n])
		n++;
	return n;
}

/* The MAC over the message, as 64 lower-case hex digits + NUL. 0 or -1. */
static int mac_hex(const char *auth_token, const char *call_sid, const char *account_sid,
		   const char *expiry, char hex[STREAMTOK_MAC_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char key[EVP_MAX_MD_SIZE], md[EVP_MAX_MD_SIZE];
	unsigned int keylen = 0, mdlen = 0, i;
	char msg[16 + 2 * SID_MAX + EXPIRY_DIGITS_MAX];
	int n;

	n = snprintf(msg, sizeof(msg), "v1|%s|%s|%s", call_sid, account_sid, expiry);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -1;
	if (!HMAC(EVP_sha256(), auth_token, (int)strlen(auth_token),
		  (const unsigned char *)KEY_LABEL, strlen(KEY_LABEL), key, &keylen) ||
	    !HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, (size_t)n, md,
		  &mdlen) || mdlen * 2 != STREAMTOK_MAC_HEX) {
		OPENSSL_cleanse(key, sizeof(key));
		return -1;
	}
	OPENSSL_cleanse(key, sizeof(key));
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[STREAMTOK_MAC_HEX] = '\0';
	return 0;
}

int streamtok_make(const char *auth_token, const char *call_sid, const char *account_sid,
		   long long expiry, char *out, size_t cap)
{
	char exp[EXPIRY_DIGITS_MAX + 8], hex[STREAMTOK_MAC_HEX + 1];
	int n;

	if (out && cap)
		out[0] = '\0';
	if (!out || !auth_token || !*auth_token || expiry <= 0)
		return -1;
	call_sid = call_sid ? call_sid : "";
	account_sid = account_sid ? account_sid : "";
	if (!sid_ok(call_sid) || !sid_ok(account_sid))
		return -1;
	n = snprintf(exp, sizeof(exp), "%lld", expiry);
	if (n <= 0 || n > EXPIRY_DIGITS_MAX)
		return -1;
	if (mac_hex(auth_token, call_sid, account_sid, exp, hex))
		return -1;
	n = snprintf(out, cap, "v1.%s.%s", exp, hex);
	if (n < 0 || (size_t)n >= cap) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int streamtok_check(const char *auth_token, const char *call_sid, const char *account_sid,
		    const char *token, time_t now, char *why, size_t whylen)
{
	char exp[EXPIRY_DIGITS_MAX + 1], want[STREAMTOK_MAC_HEX + 1];
	const char *p, *dot;
	long long expiry = 0;
	size_t len, ne, i;
	char b[96];

	set_why(why, whylen, "");
	if (!token || !*token) {
		set_why(why, whylen, "missing");
		return -1;
	}
	/* Shape first, before any crypto: bounded length, "v1.", digits, ".", 64 hex. */
	len = bounded_len(token, STREAMTOK_MAX);
	if (len > STREAMTOK_MAX) {
		set_why(why, whylen, "malformed: too long");
		return -1;
	}
	if (strncmp(token, "v1.", 3) != 0) {
		set_why(why, whylen, "malformed: not v1.<expiry>.<mac>");
		return -1;
	}
	p = token + 3;
	dot = strchr(p, '.');
	ne = dot ? (size_t)(dot - p) : 0;
	if (!dot || ne == 0 || ne > EXPIRY_DIGITS_MAX || p[0] == '0') {
		set_why(why, whylen, "malformed: bad expiry");
		return -1;
	}
	for (i = 0; i < ne; i++) {
		if (p[i] < '0' || p[i] > '9') {
			set_why(why, whylen, "malformed: bad expiry");
			return -1;
		}
		expiry = expiry * 10 + (p[i] - '0');
	}
	memcpy(exp, p, ne);
	exp[ne] = '\0';
	if (strlen(dot + 1) != STREAMTOK_MAC_HEX) {
		set_why(why, whylen, "malformed: MAC is not 64 hex digits");
		return -1;
	}
	for (i = 0; i < STREAMTOK_MAC_HEX; i++) {
		char ch = dot[1 + i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
			set_why(why, whylen, "malformed: MAC is not 64 hex digits");
			return -1;
		}
	}
	if (!auth_token || !*auth_token || !sid_ok(call_sid) || !sid_ok(account_sid)) {
		set_why(why, whylen, "no auth token or bad sids to check against");
		return -1;
	}
	/* The MAC before the time checks: an unauthenticated token learns nothing about the
	 * clock; a genuine one is told precisely why it no longer counts. */
	if (mac_hex(auth_token, call_sid, account_sid, exp, want)) {
		set_why(why, whylen, "cannot compute the MAC");
		return -1;
	}
	if (CRYPTO_memcmp(want, dot + 1, STREAMTOK_MAC_HEX) != 0) {
		set_why(why, whylen, "wrong MAC (not made for this CallSid and AccountSid with "
			"this auth token)");
		return -1;
	}
	if ((long long)now > expiry) {
		snprintf(b, sizeof(b), "expired %lld s ago", (long long)now - expiry);
		set_why(why, whylen, b);
		return -1;
	}
	if (expiry - (long long)now > STREAMTOK_MAX_SECONDS + STREAMTOK_SKEW_SECONDS) {
		set_why(why, whylen, "expiry too far ahead");
		return -1;
	}
	return 0;
}
