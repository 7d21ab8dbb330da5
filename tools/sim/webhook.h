/* webhook: the HTTP side of the fake Twilio: form-encode parameters, build the URL Twilio
 * signs, and send one webhook request with libcurl the way Twilio does (docs/PROTOCOL.md §1). */
#ifndef CALLPIPE_SIM_WEBHOOK_H
#define CALLPIPE_SIM_WEBHOOK_H

#include <stddef.h>

#include "twsig.h"

/* Twilio's TwiML documents are limited to 64 KB; 4 MiB is plenty for any answer we want
 * to print whole and still bounds what a misbehaving server can make us hold. */
#define SIM_HTTP_BODY_MAX (4u * 1024 * 1024)
/* Response headers are a few hundred bytes; 64 KiB bounds a server that sends without end. */
#define SIM_HTTP_HEADERS_MAX (64u * 1024)
/* Twilio gives a webhook 15 s in all, at most 10 s to connect (docs/PROTOCOL.md §1.3). */
#define SIM_HTTP_TIMEOUT_MS 15000L
#define SIM_HTTP_CONNECT_TIMEOUT_MS 10000L
/* Extra request headers a caller may add (--header). */
#define SIM_HTTP_EXTRA_MAX 32

struct sim_http_request {
	const char *method;        /* "POST" or "GET" (anything else is sent as given) */
	const char *url;           /* where to send it */
	const char *content_type;  /* NULL: no Content-Type header */
	const char *body;          /* NULL or BODY_LEN bytes */
	size_t body_len;
	const char *signature;     /* NULL: no X-Twilio-Signature header; "" sends it empty */
	const char *extra[SIM_HTTP_EXTRA_MAX]; /* "Name: value" lines, NULL-terminated */
	long timeout_ms;           /* 0: SIM_HTTP_TIMEOUT_MS */
};

struct sim_http_response {
	long status;               /* the final response's status (interim 1xx skipped) */
	char *headers;             /* "Name: value\n" lines of the final response, NUL-terminated */
	size_t headers_len;
	char *body;                /* NUL-terminated (the NUL is not counted) */
	size_t body_len;
	char content_type[256];    /* the Content-Type header, "" when absent */
	double total_ms;           /* time from start to the last byte */
};

/* Send the request; fills RESP (caller frees with sim_http_response_free even on error).
 * 0 when any HTTP response came back (whatever its status), -1 on a transport error
 * (refused, timeout, TLS, too large…) with err filled. */
int sim_http_send(const struct sim_http_request *req, struct sim_http_response *resp,
		  char *err, size_t errlen);
void sim_http_response_free(struct sim_http_response *resp);

/* The URL Twilio would have requested (and signs) for URL: PUBLIC_BASE (trailing '/'
 * dropped) followed by URL's path and query; or URL itself when PUBLIC_BASE is NULL or "".
 * 0, or -1 with err (URL without scheme://host, result too long). */
int sim_public_url(const char *url, const char *public_base, char *out, size_t cap,
		   char *err, size_t errlen);

/* Split URL "scheme://host[:port]/path?query" into its parts; any OUT may be NULL.
 * PORT is 0 when absent. Returns 0, or -1 when it is not scheme://host… or parts overflow. */
int sim_url_split(const char *url, char *scheme, size_t scheme_cap, char *host,
		  size_t host_cap, int *port, char *path, size_t path_cap);

/* Lower-case hex SHA-256 of DATA (65 bytes with the NUL), for Twilio's bodySHA256. */
void sim_sha256_hex(const void *data, size_t len, char out[65]);

/* "CA"/"AC"/"MZ" followed by 32 random lower-case hex digits into OUT (35 bytes). */
void sim_random_sid(const char *prefix, char out[35]);

#endif
