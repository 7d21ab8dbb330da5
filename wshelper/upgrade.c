/* upgrade: path, subprotocol and signature rules for the WebSocket upgrade, kept free of
 * lws types so they are unit-tested; server.c applies them in HTTP_CONFIRM_UPGRADE. */
#include "upgrade.h"

#include <stdio.h>
#include <string.h>

int upgrade_path_ok(const char *path)
{
	return path && (strcmp(path, UPGRADE_PATH) == 0 || strcmp(path, UPGRADE_PATH "/") == 0);
}

/* RFC 7230 §3.2.6 tchar: what RFC 6455 §4.1 allows in a subprotocol token. */
static int tchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* lws 4.1.6 tokenizes the list (lws_tokenize, server-ws.c) and drops the connection without
 * an HTTP answer when it fails; a token made of digits then a second '.' before any other
 * character ("1.2.3") is a "malformed float" to it. */
static int lws_float_trap(const char *t, size_t n)
{
	int digits = 0, dot = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i] >= '0' && t[i] <= '9') {
			digits = 1;
		} else if (t[i] == '.' && digits) {
			if (dot)
				return 1;
			dot = 1;
		} else {
			return 0;
		}
	}
	return 0;
}

static enum upgrade_sub refuse(char *why, size_t whylen, const char *msg)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", msg);
	return UPGRADE_SUB_REFUSE;
}

enum upgrade_sub upgrade_subprotocol(const char *list, char *why, size_t whylen)
{
	const char *p = list;
	int found = 0;

	if (why && whylen)
		why[0] = '\0';
	if (!list || !*list)
		return UPGRADE_SUB_NONE;
	/* lws copies the header into char[128] (sizeof - 1 usable, NUL included): longer
	 * lists are dropped by lws, so we answer 400 first. */
	if (strlen(list) > 126)
		return refuse(why, whylen, "subprotocol list over 126 characters");
	for (;;) {
		const char *t;
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		t = p;
		while (tchar(*p))
			p++;
		n = (size_t)(p - t);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != ',')
			return refuse(why, whylen, "malformed subprotocol list");
		/* RFC 7230 §7: empty list elements are ignored; lws 4.1.6 only tolerates them
		 * after the protocol it picks (it stops reading there). */
		if (!n && !found)
			return refuse(why, whylen, "empty element in subprotocol list");
		/* lws copies each token into char[64] */
		if (n > 63)
			return refuse(why, whylen, "subprotocol token over 63 characters");
		if (!found && lws_float_trap(t, n))
			return refuse(why, whylen, "subprotocol token lws cannot parse");
		if (n == strlen(UPGRADE_SUBPROTOCOL) && !memcmp(t, UPGRADE_SUBPROTOCOL, n))
			found = 1;
		if (!*p)
			break;
		p++;   /* ',' */
	}
	if (!found)
		return refuse(why, whylen, "no supported subprotocol (only " UPGRADE_SUBPROTOCOL ")");
	return UPGRADE_SUB_TWILIO;
}

static int put(char dst[TWSIG_URL_MAX], const char *a, const char *b, const char *c)
{
	int n = snprintf(dst, TWSIG_URL_MAX, "%s%s%s", a, b, c);

	return n > 0 && n < TWSIG_URL_MAX;
}

/* The four forms for REST[0..RLEN) + SUFFIX (REST being host[:port][/path] without a
 * trailing '/'): WS:// and HTTP:// spellings, each with and without the trailing '/'. */
static size_t fill(char urls[UPGRADE_SIG_URLS][TWSIG_URL_MAX], const char *ws,
		   const char *http, const char *rest, size_t rlen, const char *suffix)
{
	char base[TWSIG_URL_MAX], hbase[TWSIG_URL_MAX];
	int n1 = snprintf(base, sizeof(base), "%s%.*s%s", ws, (int)rlen, rest, suffix);
	int n2 = snprintf(hbase, sizeof(hbase), "%s%.*s%s", http, (int)rlen, rest, suffix);

	if (n1 < 0 || n1 >= (int)sizeof(base) || n2 < 0 || n2 >= (int)sizeof(hbase))
		return 0;
	if (!put(urls[0], base, "", "") || !put(urls[1], base, "/", "") ||
	    !put(urls[2], hbase, "", "") || !put(urls[3], hbase, "/", ""))
		return 0;
	return UPGRADE_SIG_URLS;
}

/* URL without its scheme (which SCHEME_S or SCHEME names, e.g. "https://" or "http://"),
 * and the length of the rest without trailing '/'; NULL when it has neither scheme. */
static const char *strip(const char *url, const char *scheme_s, const char *scheme,
			 int *secure, size_t *rlen)
{
	const char *rest;

	if (!url)
		return NULL;
	if (strncmp(url, scheme_s, strlen(scheme_s)) == 0) {
		rest = url + strlen(scheme_s);
		*secure = 1;
	} else if (strncmp(url, scheme, strlen(scheme)) == 0) {
		rest = url + strlen(scheme);
		*secure = 0;
	} else {
		return NULL;
	}
	*rlen = strlen(rest);
	/* public_url has no trailing '/' by contract, but one is cheap to tolerate */
	while (*rlen && rest[*rlen - 1] == '/')
		(*rlen)--;
	return rest;
}

/* The signed URL's spellings from a base URL with scheme SECURE or PLAIN, plus PATH. */
static size_t sig_urls(const char *base, const char *secure_scheme, const char *plain_scheme,
		       const char *path, char urls[UPGRADE_SIG_URLS][TWSIG_URL_MAX])
{
	int secure;
	size_t rlen;
	const char *rest = strip(base, secure_scheme, plain_scheme, &secure, &rlen);

	if (!rest)
		return 0;
	return fill(urls, secure ? "wss://" : "ws://", secure ? "https://" : "http://", rest,
		    rlen, path);
}

size_t upgrade_sig_urls(const char *public_url, char urls[UPGRADE_SIG_URLS][TWSIG_URL_MAX])
{
	return sig_urls(public_url, "https://", "http://", UPGRADE_PATH, urls);
}

size_t upgrade_sig_urls_stream(const char *stream_url,
			       char urls[UPGRADE_SIG_URLS][TWSIG_URL_MAX])
{
	return sig_urls(stream_url, "wss://", "ws://", "", urls);
}

int upgrade_sig_check(const char *token, char urls[][TWSIG_URL_MAX], size_t n, const char *sig)
{
	size_t i;
	int ok = 0;

	if (!sig || !*sig)
		return 0;
	/* Try every form (no early exit) so the time taken does not say which one matched. */
	for (i = 0; i < n; i++)
		ok |= twsig_check(token, urls[i], NULL, 0, sig);
	return ok;
}
