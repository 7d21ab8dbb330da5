/* route: what router.c shares with the route families (route_incoming.c, route_status.c,
 * route_turn.c): the per-request context, error and log helpers, and the templates. */
#ifndef CALLPIPE_FCGI_ROUTE_H
#define CALLPIPE_FCGI_ROUTE_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "form.h"
#include "request.h"
#include "streamtok.h"
#include "twsig.h"

/* One request on its way through the checks of router.c. Fields are filled stage by
 * stage; a handler sees them all filled. */
struct route_ctx {
	const struct config *cfg;
	const struct request *req;
	const char *route;          /* "incoming_call", …: the route's name, for logs */
	struct form *params;        /* POST: the body; GET: the query string */
	struct form *query;         /* POST only: the query string when there is one */
	const char *callsid;        /* a valid CallSid (after the last check) */
	const char *sig;            /* "ok" or "unchecked" (after the signature check) */
	int verified;               /* the signature stage passed (or validation is off) */
	char signed_url[TWSIG_URL_MAX];  /* [twilio] public_url + REQUEST_URI, once built */
};

/* A route family's handler: fills RESP (a 2xx, or an error through route_fail). */
typedef void route_handler_fn(struct route_ctx *rc, struct response *resp);

route_handler_fn route_incoming_call;
route_handler_fn route_stream_status;
route_handler_fn route_call_status;
route_handler_fn route_turn;

/* First value of NAME: the body's, else the query string's (POST), or NULL. */
const char *route_param(const struct route_ctx *rc, const char *name);

/* Set RESP to STATUS with a copy of BODY (LEN bytes) of type CTYPE (NULL: no body).
 * 0, or -1 when out of memory (RESP is then a bodyless 500). */
int route_respond(struct response *resp, int status, const char *ctype, const char *body,
		  size_t len);

/* Answer STATUS with a short text/plain body naming REASON, and log the reason: one line
 * on stderr always, and a line `http_error` in the call's log when the request names a
 * valid CallSid (before the signature is verified: only into a log that already exists).
 * KV (NULL-terminated key, value… or NULL) adds details to both logs, never to the body. */
void route_fail(struct route_ctx *rc, struct response *resp, int status, const char *reason,
		const char *const *kv);

/* Append EVENT with KV to the call's log (rc->callsid must be set). */
void route_log(const struct route_ctx *rc, const char *event, const char *const *kv);

/* --- templates (route_incoming.c; `--check` uses them too) -------------------------- */

/* Room for [twilio] public_url plus the longest suffix we append. */
#define ROUTE_URL_MAX (CONFIG_STR_MAX + 64)

/* The variables a template sees: the computed URLs first (a request parameter cannot
 * override them), then PRIMARY's parameters, then SECONDARY's. */
struct route_vars {
	char public_url[ROUTE_URL_MAX];
	char stream_url[ROUTE_URL_MAX];          /* [twilio] stream_url, else https→wss,
	                                            http→ws, + /ws/twilio-media */
	char status_callback_url[ROUTE_URL_MAX]; /* + /webhook/stream_status */
	char call_status_url[ROUTE_URL_MAX];     /* + /webhook/call_status */
	char stream_token[STREAMTOK_MAX + 1];    /* route_vars_token: "" until made */
	const struct form *primary;
	const struct form *secondary;
};

void route_vars_init(struct route_vars *v, const struct config *cfg,
		     const struct form *primary, const struct form *secondary);

/* Make V's stream_token for CALL_SID and ACCOUNT_SID, valid [twilio] stream_token_seconds
 * from NOW (docs/WS.md "Stream binding"). Without an auth token it stays "" (validate = no:
 * callpipe-ws does not ask for one). 0, or -1 when it cannot be made. */
int route_vars_token(struct route_vars *v, const struct config *cfg, const char *call_sid,
		     const char *account_sid, time_t now);

/* tmpl_lookup_fn over a struct route_vars. */
const char *route_vars_lookup(void *ctx, const char *name, size_t len);

/* Read PATH whole into *TEXT (malloc'd, NUL-terminated, *LEN bytes). A template is never
 * larger than its rendered output may be, so more than TMPL_OUT_MAX bytes is an error.
 * 0, or -1 with *ERRNUM (the errno, 0 when the file is too big or not a regular file)
 * and ERR filled ("cannot open: No such file or directory"). */
int route_template_read(const char *path, char **text, size_t *len, int *errnum,
			char *err, size_t errlen);

/* The override name for the To number: "<STEM>.<digits of To>.xml" into OUT
 * ("incoming_call.15557654321.xml"), or 0 when TO has no digits or more than 20 (E.164
 * numbers have at most 15). */
int route_template_override(const char *stem, const char *to, char *out, size_t cap);

/* The stem of the incoming-call template for the configured [ws] mode:
 * "incoming_call_agent" when mode = agent, else "incoming_call". */
const char *route_incoming_stem(const struct config *cfg);

/* Answer 200 text/xml with the template <STEM>.<digits of To>.xml when it exists, else
 * <STEM>.xml, rendered with the request's parameters (struct route_vars). NAME gets the
 * file name used. 0, or -1 after route_fail (500: the file cannot be read or rendered). */
int route_render(struct route_ctx *rc, struct response *resp, const char *stem, char *name,
		 size_t cap);

#endif
