/* test_twsig: every X-Twilio-Signature vector of docs/PROTOCOL.md §3.7 (compute exact, check
 * accepts, rejects a flipped bit, wrong token, wrong URL, extra param), port forms, variants. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "twsig.h"

static const struct twsig_param call_params[] = {
	{"CallSid", "CA1234567890ABCDE"},
	{"Caller", "+14158675309"},
	{"Digits", "1234"},
	{"From", "+14158675309"},
	{"To", "+18005551212"},
};
/* The same set given out of order: the module sorts, callers need not. */
static const struct twsig_param call_params_shuffled[] = {
	{"To", "+18005551212"},
	{"Digits", "1234"},
	{"CallSid", "CA1234567890ABCDE"},
	{"From", "+14158675309"},
	{"Caller", "+14158675309"},
};
static const struct twsig_param repeated_params[] = {
	{"Sid", "CA123"},
	{"SidAccount", "AC123"},
	{"Digits", "5678"},
	{"Digits", "1234"},
};

#define NP(a) (sizeof(a) / sizeof((a)[0]))

/* The base64 digit whose 6-bit value differs from C's in the lowest bit only. */
static char flip_low_bit(char c)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = strchr(alpha, c);

	return p ? alpha[(p - alpha) ^ 1] : 'A';
}

/* docs/PROTOCOL.md §3.7, test vectors 1-5 (auth token 12345). */
static const struct {
	const char *url;
	const struct twsig_param *params;
	size_t n;
	const char *sig;
} vectors[] = {
	{"https://mycompany.com/myapp.php?foo=1&bar=2", call_params, NP(call_params),
	 "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
	{"https://mycompany.com:443/myapp.php?foo=1&bar=2", call_params, NP(call_params),
	 "kvajT1Ptam85bY51eRf/AJRuM3w="},
	{"http://mycompany.com:80/myapp.php?foo=1&bar=2", call_params, NP(call_params),
	 "0ZXoZLH/DfblKGATFgpif+LLRf4="},
	{"http://mycompany.com:1234/myapp.php?foo=1&bar=2", call_params, NP(call_params),
	 "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="},
	{"https://mycompany.com/myapp.php?foo=1&bar=2", repeated_params, NP(repeated_params),
	 "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
};

static void test_vectors(void)
{
	size_t i;

	for (i = 0; i < NP(vectors); i++) {
		char sig[TWSIG_LEN + 1], bad[TWSIG_LEN + 1], url[TWSIG_URL_MAX], msg[200];
		struct twsig_param *extra;
		int rc;

		rc = twsig_compute("12345", vectors[i].url, vectors[i].params, vectors[i].n, sig);
		snprintf(msg, sizeof(msg), "vector %zu: compute gives %s", i + 1, vectors[i].sig);
		CHECK_MSG(rc == 0 && strcmp(sig, vectors[i].sig) == 0, msg);
		if (strcmp(sig, vectors[i].sig) != 0)
			printf("#   got: %s\n", sig);

		snprintf(msg, sizeof(msg), "vector %zu: check accepts it", i + 1);
		CHECK_MSG(twsig_check("12345", vectors[i].url, vectors[i].params, vectors[i].n,
				      vectors[i].sig) == 1, msg);

		/* One flipped bit in the decoded signature: flip a base64 digit's low bit. */
		memcpy(bad, vectors[i].sig, sizeof(bad));
		bad[5] = flip_low_bit(bad[5]);
		snprintf(msg, sizeof(msg), "vector %zu: check rejects a changed bit", i + 1);
		CHECK_MSG(twsig_check("12345", vectors[i].url, vectors[i].params, vectors[i].n,
				      bad) == 0, msg);

		snprintf(msg, sizeof(msg), "vector %zu: check rejects the wrong token", i + 1);
		CHECK_MSG(twsig_check("12346", vectors[i].url, vectors[i].params, vectors[i].n,
				      vectors[i].sig) == 0, msg);

		snprintf(url, sizeof(url), "%s&baz=3", vectors[i].url);
		snprintf(msg, sizeof(msg), "vector %zu: check rejects a different URL", i + 1);
		CHECK_MSG(twsig_check("12345", url, vectors[i].params, vectors[i].n,
				      vectors[i].sig) == 0, msg);

		extra = malloc((vectors[i].n + 1) * sizeof(*extra));
		memcpy(extra, vectors[i].params, vectors[i].n * sizeof(*extra));
		extra[vectors[i].n] = (struct twsig_param){"AddedTomorrow", "1"};
		snprintf(msg, sizeof(msg), "vector %zu: check rejects an extra parameter", i + 1);
		CHECK_MSG(twsig_check("12345", vectors[i].url, extra, vectors[i].n + 1,
				      vectors[i].sig) == 0, msg);
		snprintf(msg, sizeof(msg), "vector %zu: check rejects a missing parameter", i + 1);
		CHECK_MSG(twsig_check("12345", vectors[i].url, vectors[i].params, vectors[i].n - 1,
				      vectors[i].sig) == 0, msg);
		free(extra);
	}
}

static void test_order_and_params(void)
{
	char a[TWSIG_LEN + 1], b[TWSIG_LEN + 1];
	static const struct twsig_param dup_a[] = {{"Digits", "1234"}, {"Digits", "5678"}};
	static const struct twsig_param dup_b[] = {{"Digits", "5678"}, {"Digits", "1234"}};
	/* Byte order: upper case sorts before lower case ("To" < "to"), "a" < "ab". */
	static const struct twsig_param case_a[] = {{"to", "1"}, {"To", "2"}, {"ab", ""}, {"a", "b"}};
	static const struct twsig_param case_b[] = {{"To", "2"}, {"a", "b"}, {"ab", ""}, {"to", "1"}};

	CHECK(twsig_compute("12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
			    call_params_shuffled, NP(call_params_shuffled), a) == 0);
	CHECK_STR(a, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
	CHECK(twsig_compute("t", "https://h/p", dup_a, 2, a) == 0);
	CHECK(twsig_compute("t", "https://h/p", dup_b, 2, b) == 0);
	CHECK_MSG(strcmp(a, b) == 0, "repeated names sort by value, whatever the input order");
	CHECK(twsig_compute("t", "https://h/p", case_a, 4, a) == 0);
	CHECK(twsig_compute("t", "https://h/p", case_b, 4, b) == 0);
	CHECK_MSG(strcmp(a, b) == 0, "byte-order sort is independent of the input order");
	/* The params array the caller passes is not reordered. */
	CHECK_STR(case_a[0].name, "to");
	/* No parameters (GET, WebSocket upgrade): the URL alone is signed. */
	CHECK(twsig_compute("12345", "wss://h/ws/twilio-media", NULL, 0, a) == 0);
	CHECK(strlen(a) == TWSIG_LEN);
	CHECK(twsig_check("12345", "wss://h/ws/twilio-media", NULL, 0, a) == 1);
	CHECK(twsig_check("12345", "wss://h/ws/twilio-media/", NULL, 0, a) == 0);
}

static const struct {
	const char *url;
	size_t n;
	const char *second;
} forms[] = {
	{"https://h/p", 2, "https://h:443/p"},
	{"https://h:443/p", 2, "https://h/p"},
	{"https://h", 2, "https://h:443"},
	{"https://h:443", 2, "https://h"},
	{"https://h?x=1", 2, "https://h:443?x=1"},
	{"http://h/p?a=b", 2, "http://h:80/p?a=b"},
	{"http://h:80/p?a=b", 2, "http://h/p?a=b"},
	{"wss://h/ws/twilio-media", 2, "wss://h:443/ws/twilio-media"},
	{"wss://h:443/ws/twilio-media", 2, "wss://h/ws/twilio-media"},
	{"ws://127.0.0.1/x", 2, "ws://127.0.0.1:80/x"},
	{"ws://127.0.0.1:80/x", 2, "ws://127.0.0.1/x"},
	{"HTTPS://h/p", 2, "HTTPS://h:443/p"},
	{"https://[::1]/p", 2, "https://[::1]:443/p"},
	{"https://[::1]:443/p", 2, "https://[::1]/p"},
	{"https://h:8443/p", 1, NULL},
	{"https://h:80/p", 1, NULL},      /* 80 is not https's default */
	{"http://h:443/p", 1, NULL},
	{"http://h:1234/myapp.php", 1, NULL},
	{"https://h:/p", 1, NULL},
	{"https://u@h/p", 1, NULL},
	{"ftp://h/p", 1, NULL},
	{"not a url", 1, NULL},
	{"https:///p", 1, NULL},
	{"https://h/p:443", 2, "https://h:443/p:443"},   /* a colon in the path is no port */
};

static void test_url_forms(void)
{
	size_t i;
	char f[2][TWSIG_URL_MAX], *longurl;

	for (i = 0; i < NP(forms); i++) {
		char msg[200];
		size_t n = twsig_url_forms(forms[i].url, f);

		snprintf(msg, sizeof(msg), "url forms of %s: %zu", forms[i].url, forms[i].n);
		CHECK_MSG(n == forms[i].n && strcmp(f[0], forms[i].url) == 0, msg);
		if (n == 2 && forms[i].second)
			CHECK_STR(f[1], forms[i].second);
		else if (n != forms[i].n)
			printf("#   got %zu forms\n", n);
	}
	/* A URL of TWSIG_URL_MAX - 1 characters has one form (no room for ":443"). */
	longurl = malloc(TWSIG_URL_MAX + 1);
	memset(longurl, 'a', TWSIG_URL_MAX);
	memcpy(longurl, "https://h/", 10);
	longurl[TWSIG_URL_MAX - 1] = '\0';
	CHECK(twsig_url_forms(longurl, f) == 1);
	longurl[TWSIG_URL_MAX - 1] = 'a';
	longurl[TWSIG_URL_MAX] = '\0';
	CHECK(twsig_url_forms(longurl, f) == 0);
	CHECK(twsig_compute("t", longurl, NULL, 0, f[0]) == -1);
	CHECK(twsig_check("t", longurl, NULL, 0, "RSOYDt4T1cUTdK1PDd93/VVr8B8=") == 0);
	free(longurl);
	CHECK(twsig_url_forms(NULL, f) == 0);
}

/* docs/PROTOCOL.md §3.4: a signature over one port spelling is accepted for the other. */
static void test_port_variants(void)
{
	static const char *pairs[][2] = {
		{"https://h:443/p", "https://h/p"},
		{"https://h/p", "https://h:443/p"},
		{"http://h:80/p", "http://h/p"},
		{"http://h/p", "http://h:80/p"},
		{"wss://h/ws/twilio-media", "wss://h:443/ws/twilio-media"},
	};
	char sig[TWSIG_LEN + 1];
	size_t i;

	for (i = 0; i < NP(pairs); i++) {
		char msg[200];

		twsig_compute("12345", pairs[i][0], call_params, NP(call_params), sig);
		snprintf(msg, sizeof(msg), "signed over %s, accepted for %s", pairs[i][0],
			 pairs[i][1]);
		CHECK_MSG(twsig_check("12345", pairs[i][1], call_params, NP(call_params), sig) == 1,
			  msg);
	}
	/* docs/PROTOCOL.md §3.7 vector 2 (":443") checked against the URL without the port. */
	CHECK(twsig_check("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", call_params,
			  NP(call_params), "kvajT1Ptam85bY51eRf/AJRuM3w=") == 1);
	/* Vector 3 (":80") checked against the URL without the port. */
	CHECK(twsig_check("12345", "http://mycompany.com/myapp.php?foo=1&bar=2", call_params,
			  NP(call_params), "0ZXoZLH/DfblKGATFgpif+LLRf4=") == 1);
	/* Vector 4 (":1234") is not accepted without its port, nor with another. */
	CHECK(twsig_check("12345", "http://mycompany.com/myapp.php?foo=1&bar=2", call_params,
			  NP(call_params), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=") == 0);
	/* A different scheme is a different URL. */
	twsig_compute("12345", "http://h/p", NULL, 0, sig);
	CHECK(twsig_check("12345", "https://h/p", NULL, 0, sig) == 0);
	CHECK(twsig_check("12345", "https://h:80/p", NULL, 0, sig) == 0);
}

static void test_bad_inputs(void)
{
	char sig[TWSIG_LEN + 1];

	twsig_compute("12345", "https://h/p", NULL, 0, sig);
	CHECK(twsig_check("12345", "https://h/p", NULL, 0, NULL) == 0);
	CHECK(twsig_check("12345", "https://h/p", NULL, 0, "") == 0);
	CHECK(twsig_check("", "https://h/p", NULL, 0, sig) == 0);
	CHECK(twsig_check(NULL, "https://h/p", NULL, 0, sig) == 0);
	/* A prefix or an extension of the right signature is not the signature. */
	{
		char longer[TWSIG_LEN + 2], shorter[TWSIG_LEN];

		snprintf(longer, sizeof(longer), "%sA", sig);
		memcpy(shorter, sig, TWSIG_LEN - 1);
		shorter[TWSIG_LEN - 1] = '\0';
		CHECK(twsig_check("12345", "https://h/p", NULL, 0, longer) == 0);
		CHECK(twsig_check("12345", "https://h/p", NULL, 0, shorter) == 0);
	}
	CHECK(twsig_check("12345", NULL, NULL, 0, sig) == 0);
	CHECK(twsig_compute("12345", NULL, NULL, 0, sig) == -1 && sig[0] == '\0');
}

int main(void)
{
	test_vectors();
	test_order_and_params();
	test_url_forms();
	test_port_variants();
	test_bad_inputs();
	return check_done();
}
