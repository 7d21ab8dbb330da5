/* twsig: X-Twilio-Signature (docs/PROTOCOL.md §3): base64(HMAC-SHA1(token,
 * URL + sorted name/value pairs)), checked in constant time against the URL's port forms. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base64.h"
#include "twsig.h"

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* docs/PROTOCOL.md §3.2: by name, then value, in byte order (strcmp compares as unsigned char). */
static int param_cmp(const void *a, const void *b)
{
	const struct twsig_param *x = a, *y = b;
	int c = strcmp(nz(x->name), nz(y->name));

	return c ? c : strcmp(nz(x->value), nz(y->value));
}

int twsig_compute(const char *token, const char *url, const struct twsig_param *params,
		  size_t nparams, char out[TWSIG_LEN + 1])
{
	struct twsig_param *sorted = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t urllen, total, i, o;
	char *data;
	int rc = -1;

	out[0] = '\0';
	if (!url)
		return -1;
	urllen = strlen(url);
	if (urllen >= TWSIG_URL_MAX)
		return -1;
	total = urllen;
	for (i = 0; i < nparams; i++) {
		size_t add = strlen(nz(params[i].name)) + strlen(nz(params[i].value));

		if (add > SIZE_MAX - total - 1)
			return -1;
		total += add;
	}
	data = malloc(total + 1);
	if (nparams) {
		sorted = malloc(nparams * sizeof(*sorted));
		if (sorted) {
			memcpy(sorted, params, nparams * sizeof(*sorted));
			qsort(sorted, nparams, sizeof(*sorted), param_cmp);
		}
	}
	if (!data || (nparams && !sorted))
		goto out;
	memcpy(data, url, urllen);
	o = urllen;
	for (i = 0; i < nparams; i++) {
		size_t nl = strlen(nz(sorted[i].name)), vl = strlen(nz(sorted[i].value));

		memcpy(data + o, nz(sorted[i].name), nl);
		o += nl;
		memcpy(data + o, nz(sorted[i].value), vl);
		o += vl;
	}
	token = nz(token);
	if (!HMAC(EVP_sha1(), token, (int)strlen(token), (const unsigned char *)data, o, md,
		  &mdlen) || mdlen != 20)
		goto out;
	if (base64_encode(md, mdlen, out, TWSIG_LEN + 1) != TWSIG_LEN)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(md, sizeof(md));
	free(data);
	free(sorted);
	if (rc)
		out[0] = '\0';
	return rc;
}

/* Default port of a URL scheme (SCHEME is LEN bytes), or NULL when it has none we know. */
static const char *default_port(const char *scheme, size_t len)
{
	if ((len == 5 && strncasecmp(scheme, "https", 5) == 0) ||
	    (len == 3 && strncasecmp(scheme, "wss", 3) == 0))
		return "443";
	if ((len == 4 && strncasecmp(scheme, "http", 4) == 0) ||
	    (len == 2 && strncasecmp(scheme, "ws", 2) == 0))
		return "80";
	return NULL;
}

size_t twsig_url_forms(const char *url, char forms[2][TWSIG_URL_MAX])
{
	const char *sep, *auth, *host_end, *end, *port, *dport;
	size_t urllen, plen;

	if (!url || (urllen = strlen(url)) >= TWSIG_URL_MAX)
		return 0;
	memcpy(forms[0], url, urllen + 1);

	sep = strstr(url, "://");
	if (!sep || !(dport = default_port(url, (size_t)(sep - url))))
		return 1;
	auth = sep + 3;
	end = auth + strcspn(auth, "/?#");
	/* userinfo@ would make the port search ambiguous; Twilio never signs such URLs. */
	if (memchr(auth, '@', (size_t)(end - auth)))
		return 1;
	if (*auth == '[') {   /* IPv6 literal: the port is after the ']' */
		const char *rb = memchr(auth, ']', (size_t)(end - auth));

		if (!rb)
			return 1;
		host_end = rb + 1;
	} else {
		host_end = memchr(auth, ':', (size_t)(end - auth));
		if (!host_end)
			host_end = end;
	}
	if (host_end == auth)
		return 1;
	if (host_end == end) {
		/* No port: the second form adds the default one after the host. */
		plen = strlen(dport);
		if (urllen + 1 + plen >= TWSIG_URL_MAX)
			return 1;
		memcpy(forms[1], url, (size_t)(end - url));
		forms[1][end - url] = ':';
		memcpy(forms[1] + (end - url) + 1, dport, plen);
		memcpy(forms[1] + (end - url) + 1 + plen, end, strlen(end) + 1);
		return 2;
	}
	if (*host_end != ':')
		return 1;
	port = host_end + 1;
	plen = (size_t)(end - port);
	if (plen != strlen(dport) || memcmp(port, dport, plen) != 0)
		return 1;   /* a non-default (or malformed) port is signed only as given */
	/* The default port: the second form drops ":port". */
	memcpy(forms[1], url, (size_t)(host_end - url));
	memcpy(forms[1] + (host_end - url), end, strlen(end) + 1);
	return 2;
}

int twsig_check(const char *token, const char *url, const struct twsig_param *params,
		size_t nparams, const char *sig)
{
	char forms[2][TWSIG_URL_MAX], want[TWSIG_LEN + 1];
	size_t n, i;
	int match = 0;

	/* An empty token would make every signature forgeable: refuse rather than compare. */
	if (!sig || strlen(sig) != TWSIG_LEN || !token || !*token)
		return 0;
	n = twsig_url_forms(url, forms);
	for (i = 0; i < n; i++) {
		if (twsig_compute(token, forms[i], params, nparams, want) != 0)
			continue;
		/* Constant time over the fixed length (lighttpd ck_memeq_const_time_fixed_len). */
		if (CRYPTO_memcmp(want, sig, TWSIG_LEN) == 0)
			match = 1;
	}
	OPENSSL_cleanse(want, sizeof(want));
	return match;
}
