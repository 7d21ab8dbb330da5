/* request: one webhook request and its response as plain structs, so the routing and the
 * handlers never see libfcgi (fcgi_io.c fills these; the unit tests build them by hand). */
#ifndef CALLPIPE_FCGI_REQUEST_H
#define CALLPIPE_FCGI_REQUEST_H

#include <stddef.h>

#include "config.h"

/* What the I/O layer found while reading the body; the router turns it into a status in
 * its own order of checks (see router.c), so a 404 is still a 404 when the body was big. */
enum request_body {
	REQUEST_BODY_OK = 0,
	REQUEST_BODY_TOO_LARGE,    /* CONTENT_LENGTH, or the bytes sent, over [fcgi] max_body */
	REQUEST_BODY_BAD_LENGTH,   /* CONTENT_LENGTH is not a decimal number */
	REQUEST_BODY_SHORT,        /* fewer bytes than CONTENT_LENGTH promised, or more */
	REQUEST_BODY_READ_ERROR,   /* the web server connection failed mid-body */
};

struct request {
	const char *method;         /* REQUEST_METHOD ("POST", "GET", …); NULL is a 405 */
	const char *request_uri;    /* REQUEST_URI: path and query exactly as sent */
	const char *content_type;   /* CONTENT_TYPE, or NULL */
	long long content_length;   /* CONTENT_LENGTH, or -1 when absent */
	const char *body;           /* body_len bytes (not NUL-terminated), or NULL */
	size_t body_len;
	enum request_body body_state;
	const char *signature;      /* HTTP_X_TWILIO_SIGNATURE, or NULL */
	const char *remote_addr;    /* REMOTE_ADDR, for stderr lines only; may be NULL */
};

/* The largest text/plain error body (a status line and a short reason). */
#define RESPONSE_TEXT_MAX 256

struct response {
	int status;                 /* 200, 204, 400, 403, 404, 405, 413, 415, 500 */
	const char *content_type;   /* static string, or NULL for no body (204) */
	char allow[32];             /* the Allow header of a 405, else "" */
	char *body;                 /* malloc'd, NUL-terminated (body_len bytes); or NULL */
	size_t body_len;
};

/* Route REQ and fill RESP (zeroed on entry). Always fills a complete response, whatever
 * the request; 0 when the response is a 2xx, -1 for an error status. Thread-safe: it
 * only reads CFG and writes the call log and stderr with one write() per line. */
int route_request(const struct config *cfg, const struct request *req, struct response *resp);

/* The one teardown of a response: frees the body; RESP may be reused after. */
void response_free(struct response *resp);

/* "OK", "No Content", "Not Found"… for the statuses above; "Error" otherwise. */
const char *response_reason(int status);

#endif
