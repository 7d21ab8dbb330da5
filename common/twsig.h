/* twsig: X-Twilio-Signature, HMAC-SHA1 over the public URL and the sorted POST parameters
 * (docs/PROTOCOL.md §3), with the port variants Twilio's helper libraries accept. */
#ifndef CALLPIPE_TWSIG_H
#define CALLPIPE_TWSIG_H

#include <stddef.h>

/* base64 of a 20-byte HMAC-SHA1 is 28 characters. */
#define TWSIG_LEN 28
/* Longest URL (with port variants) we sign; Twilio's own limit is 4000 characters. */
#define TWSIG_URL_MAX 4096

struct twsig_param {
	const char *name;   /* decoded */
	const char *value;  /* decoded */
};

/* Signature of URL (exactly as given) plus PARAMS sorted by name then value, byte order.
 * OUT gets TWSIG_LEN characters and a NUL. Returns 0, or -1 (URL too long, no memory). */
int twsig_compute(const char *token, const char *url, const struct twsig_param *params,
		  size_t nparams, char out[TWSIG_LEN + 1]);

/* The URL forms worth trying for URL: as given, then with the scheme's default port
 * added (:443 for https/wss, :80 for http/ws) when it has none, or removed when it has it.
 * Writes up to 2 strings into FORMS (each TWSIG_URL_MAX); returns how many. */
size_t twsig_url_forms(const char *url, char forms[2][TWSIG_URL_MAX]);

/* 1 when SIG matches URL or one of its port forms, compared in constant time; else 0.
 * A NULL or empty SIG is 0, and so is a NULL or empty TOKEN (anyone could sign with it). */
int twsig_check(const char *token, const char *url, const struct twsig_param *params,
		size_t nparams, const char *sig);

#endif
