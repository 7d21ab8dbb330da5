/* router: the route table and the checks every webhook passes, in one fixed order, before a
 * route family's handler runs; the error responses and their stderr and call-log lines. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bytebuf.h"
#include "calllog.h"
#include "form.h"
#include "logesc.h"
#include "ratelimit.h"
#include "route.h"
#include "twsig.h"

#define METHOD_GET  1
#define METHOD_POST 2

struct route {
	const char *path;
	const char *name;
	int methods;
	const char *allow;
	route_handler_fn *handler;
};

/* docs/PROTOCOL.md §1.2: Twilio POSTs the incoming-call webhook, or GETs it when the number is
 * configured that way; the stream and call status callbacks are POSTs here (we never ask
 * for statusCallbackMethod=GET in the templates we ship). docs/AGENT.md:
 * callpipe-ws POSTs each turn, signed like a Twilio webhook. */
static const struct route routes[] = {
	{ "/webhook/incoming_call", "incoming_call", METHOD_GET | METHOD_POST, "GET, POST",
	  route_incoming_call },
	{ "/webhook/stream_status", "stream_status", METHOD_POST, "POST", route_stream_status },
	{ "/webhook/call_status", "call_status", METHOD_POST, "POST", route_call_status },
	{ "/webhook/turn", "turn", METHOD_POST, "POST", route_turn },
};

const char *response_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 500: return "Internal Server Error";
	default: return "Error";
	}
}

void response_free(struct response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

int route_respond(struct response *resp, int status, const char *ctype, const char *body,
		  size_t len)
{
	response_free(resp);
	resp->status = status;
	resp->content_type = NULL;
	if (!ctype)
		return 0;
	resp->body = malloc(len + 1);
	if (!resp->body) {
		resp->status = 500;
		return -1;
	}
	if (len)
		memcpy(resp->body, body, len);
	resp->body[len] = '\0';
	resp->body_len = len;
	resp->content_type = ctype;
	return 0;
}

const char *route_param(const struct route_ctx *rc, const char *name)
{
	const char *v = rc->params ? form_get(rc->params, name) : NULL;

	if (!v && rc->query)
		v = form_get(rc->query, name);
	return v;
}

void route_log(const struct route_ctx *rc, const char *event, const char *const *kv)
{
	/* calllog_append reports its own failures on stderr; a log that cannot be written
	 * never fails the call (docs/DESIGN.md §1.2). */
	(void)calllog_append(rc->cfg->log_dir, rc->callsid, "fcgi", event, kv);
}

/* --- stderr ------------------------------------------------------------------------- */

/* One stderr line: under mod_fcgid and lighttpd it lands in the web server's error log,
 * which adds its own timestamp. 2 KiB holds the signed URL a 403 names in the common
 * case; longer lines are cut and marked. */
#define ERRLINE_MAX 2048
/* No one value may crowd out the pairs after it (signed_url=, params=, remote=). */
#define ERRLINE_VALUE_MAX 1024

/* Write the line in L (cut lines end in "…") with one write(). */
static void errline_write(struct bytebuf *l, size_t cap, int limited)
{
	/* L's max was set 4 bytes short of CAP: room for "…" (3) and the newline. */
	l->max = cap;
	if (l->cut)
		bytebuf_add(l, "\xe2\x80\xa6", 3);
	bytebuf_putc(l, '\n');
	/* Lines a request causes before its signature is verified: anyone can send those, so
	 * they are rate limited (a flood of 403s must not fill the web server's error log). */
	ratelimit_stderr(limited ? &ratelimit_unauth : NULL, "callpipe-fcgi", (const char *)l->data,
			 l->len);
}

/* --- errors --------------------------------------------------------------------------- */

/* The CallSid an error line may go under: the one already checked, else one found in the
 * verified request's parameters. Only a valid CallSid names a file; OUT gets it. */
static int error_callsid(const struct route_ctx *rc, char *out, size_t cap)
{
	const char *sid = rc->callsid;

	if (!sid && (rc->params || rc->query))
		sid = route_param(rc, "CallSid");
	if (!sid || !calllog_valid_callsid(sid) || strlen(sid) >= cap)
		return 0;
	memcpy(out, sid, strlen(sid) + 1);
	return 1;
}

#define ERROR_KV_MAX 24

void route_fail(struct route_ctx *rc, struct response *resp, int status, const char *reason,
		const char *const *kv)
{
	const struct request *req = rc->req;
	char body[RESPONSE_TEXT_MAX], code[8], sid[64], linebuf[ERRLINE_MAX];
	const char *ckv[ERROR_KV_MAX + 1];
	struct bytebuf line;
	size_t n = 0;
	int len;

	len = snprintf(body, sizeof(body), "%d %s: %s\n", status, response_reason(status), reason);
	if (len < 0)
		len = 0;
	if ((size_t)len >= sizeof(body))
		len = (int)sizeof(body) - 1;
	route_respond(resp, status, "text/plain; charset=utf-8", body, (size_t)len);

	/* stderr: "callpipe-fcgi: 403 bad signature method=… uri=… signed_url=… params=…" */
	snprintf(code, sizeof(code), "%d", status);
	bytebuf_init_fixed(&line, linebuf, sizeof(linebuf) - 4);
	bytebuf_puts(&line, "callpipe-fcgi: ");
	bytebuf_puts(&line, code);
	bytebuf_putc(&line, ' ');
	logesc_put(&line, reason, ERRLINE_VALUE_MAX, LOGESC_INNER);
	logesc_kv(&line, "method", req->method, ERRLINE_VALUE_MAX);
	logesc_kv(&line, "uri", req->request_uri, ERRLINE_VALUE_MAX);
	for (size_t i = 0; kv && kv[i]; i += 2)
		logesc_kv(&line, kv[i], kv[i + 1], ERRLINE_VALUE_MAX);
	logesc_kv(&line, "remote", req->remote_addr, ERRLINE_VALUE_MAX);
	errline_write(&line, sizeof(linebuf), !rc->verified);

	/* The call's log: only a request whose signature verified may touch it. Before that,
	 * anyone could name a CallSid: its line would grow (or, after retention removed it,
	 * re-create) a real call's log and make it read as rejected. stderr only, above. */
	if (!rc->verified || !error_callsid(rc, sid, sizeof(sid)))
		return;
	ckv[n++] = "status";
	ckv[n++] = code;
	ckv[n++] = "reason";
	ckv[n++] = reason;
	ckv[n++] = "method";
	ckv[n++] = req->method;
	ckv[n++] = "uri";
	ckv[n++] = req->request_uri;
	for (size_t i = 0; kv && kv[i] && n + 2 <= ERROR_KV_MAX; i += 2) {
		ckv[n++] = kv[i];
		ckv[n++] = kv[i + 1];
	}
	ckv[n] = NULL;
	(void)calllog_append(rc->cfg->log_dir, sid, "fcgi", "http_error", ckv);
}

/* --- the checks ----------------------------------------------------------------------- */

static const struct route *find_route(const char *uri, size_t path_len)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strlen(routes[i].path) == path_len &&
		    memcmp(routes[i].path, uri, path_len) == 0)
			return &routes[i];
	}
	return NULL;
}

static int method_bit(const char *m)
{
	/* Methods are case-sensitive (RFC 9110 §9.1). */
	if (m && strcmp(m, "GET") == 0)
		return METHOD_GET;
	if (m && strcmp(m, "POST") == 0)
		return METHOD_POST;
	return 0;
}

/* application/x-www-form-urlencoded, any case, optionally followed by parameters
 * ("; charset=utf-8"), which the form encoding does not need. */
static int is_form_type(const char *ct)
{
	static const char want[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(want) - 1;

	if (!ct)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* Names of the signed parameters for a 403's log line, in the order sent; cut with "…". */
static void param_names(const struct form *f, char *out, size_t cap)
{
	struct bytebuf b;

	bytebuf_init_fixed(&b, out, cap - 4);   /* room for "…" and the NUL */
	for (size_t i = 0; f && i < form_count(f); i++) {
		size_t before = b.len;

		if ((i && bytebuf_putc(&b, ',') != 0) || bytebuf_puts(&b, form_at(f, i)->name) != 0) {
			b.len = before;
			b.cut = 1;
			break;
		}
	}
	b.max = cap;
	if (b.cut)
		bytebuf_add(&b, "\xe2\x80\xa6", 3);
	bytebuf_cstr(&b);
}

static int check_signature(struct route_ctx *rc, struct response *resp, int is_post)
{
	const struct config *cfg = rc->cfg;
	const struct request *req = rc->req;
	struct twsig_param params[FORM_MAX_PAIRS];
	char names[1024];
	size_t np = 0;
	int n;

	if (!cfg->validate) {
		rc->sig = "unchecked";
		rc->verified = 1;
		return 0;
	}
	if (!cfg->auth_token[0]) {
		/* config_check refuses this at start; a handmade config must not let anyone
		 * sign with an empty key. */
		route_fail(rc, resp, 500, "signature validation is on but auth_token is empty",
			   NULL);
		return -1;
	}
	/* docs/PROTOCOL.md §3.1: the URL Twilio requested, built from our public
	 * base URL (never from Host or SERVER_PORT), with path and query exactly as sent. */
	n = snprintf(rc->signed_url, sizeof(rc->signed_url), "%s%s", cfg->public_url,
		     req->request_uri);
	if (n < 0 || (size_t)n >= sizeof(rc->signed_url)) {
		rc->signed_url[0] = '\0';
		route_fail(rc, resp, 403, "URL too long to verify its signature", NULL);
		return -1;
	}
	/* POST signs the decoded body parameters, sorted (twsig sorts); GET only the URL. */
	if (is_post) {
		for (size_t i = 0; i < form_count(rc->params) && np < FORM_MAX_PAIRS; i++) {
			params[np].name = form_at(rc->params, i)->name;
			params[np].value = form_at(rc->params, i)->value;
			np++;
		}
	}
	if (req->signature && req->signature[0] &&
	    twsig_check(cfg->auth_token, rc->signed_url, params, np, req->signature)) {
		rc->sig = "ok";
		rc->verified = 1;
		return 0;
	}
	param_names(is_post ? rc->params : NULL, names, sizeof(names));
	{
		const char *kv[] = { "signed_url", rc->signed_url, "params", names, NULL };
		int missing = !req->signature || !req->signature[0];

		route_fail(rc, resp, 403, missing ? "missing signature" : "bad signature", kv);
	}
	return -1;
}

static int parse_params(struct route_ctx *rc, struct response *resp, int is_post)
{
	const struct request *req = rc->req;
	const char *q = strchr(req->request_uri, '?');
	char err[160];

	if (is_post) {
		if (req->body_state == REQUEST_BODY_SHORT) {
			route_fail(rc, resp, 400, "body length differs from CONTENT_LENGTH", NULL);
			return -1;
		}
		if (req->body_state != REQUEST_BODY_OK) {
			route_fail(rc, resp, 400, "could not read the body", NULL);
			return -1;
		}
		rc->params = form_parse(req->body ? req->body : "", req->body ? req->body_len : 0,
					err, sizeof(err));
		if (!rc->params) {
			const char *kv[] = { "error", err, NULL };

			route_fail(rc, resp, 400, "malformed form body", kv);
			return -1;
		}
	}
	if (q || !is_post) {
		struct form *f = form_parse(q ? q + 1 : "", q ? strlen(q + 1) : 0, err,
					    sizeof(err));

		if (!f) {
			const char *kv[] = { "error", err, NULL };

			route_fail(rc, resp, 400, "malformed query string", kv);
			return -1;
		}
		if (is_post)
			rc->query = f;
		else
			rc->params = f;
	}
	return 0;
}

/* The order of the checks, and why:
 *   route (404) -> method (405) -> size (413) -> content type (415) -> form (400)
 *   -> signature (403) -> CallSid (400) -> the route's handler.
 * Cheap, request-only checks come first and need nothing but the request line and
 * headers. The body is parsed only once it is known to be small and form-encoded, since
 * the signature covers its decoded parameters. The signature comes before anything that
 * touches the file system: the CallSid names the call's log file, and an unsigned request
 * must never create or grow one (until the signature passes, error lines go to stderr
 * only, rate limited). The CallSid check comes after the signature so that a forged
 * request is a 403 whatever it carries, and a traversal attempt ("CA../../etc") is a 400
 * that never reaches open(). */
int route_request(const struct config *cfg, const struct request *req, struct response *resp)
{
	struct route_ctx rc;
	const struct route *rt;
	const char *uri = req->request_uri ? req->request_uri : "";
	size_t path_len = strcspn(uri, "?");
	int m, is_post;
	struct request fixed;

	memset(resp, 0, sizeof(*resp));
	memset(&rc, 0, sizeof(rc));
	/* Work on a copy whose REQUEST_URI is never NULL. */
	fixed = *req;
	fixed.request_uri = uri;
	rc.cfg = cfg;
	rc.req = &fixed;

	rt = find_route(uri, path_len);
	if (!rt) {
		route_fail(&rc, resp, 404, "unknown route", NULL);
		goto done;
	}
	rc.route = rt->name;
	m = method_bit(req->method);
	if (!(m & rt->methods)) {
		route_fail(&rc, resp, 405, "method not allowed", NULL);
		snprintf(resp->allow, sizeof(resp->allow), "%s", rt->allow);
		goto done;
	}
	is_post = m == METHOD_POST;

	if (req->body_state == REQUEST_BODY_BAD_LENGTH) {
		route_fail(&rc, resp, 400, "CONTENT_LENGTH is not a number", NULL);
		goto done;
	}
	if (req->body_state == REQUEST_BODY_TOO_LARGE || req->body_len > cfg->max_body ||
	    (req->content_length >= 0 && (unsigned long long)req->content_length > cfg->max_body)) {
		char got[24], max[24];
		const char *kv[] = { "content_length", req->content_length >= 0 ? got : NULL,
				     "max_body", max, NULL };

		snprintf(got, sizeof(got), "%lld", req->content_length);
		snprintf(max, sizeof(max), "%zu", cfg->max_body);
		route_fail(&rc, resp, 413, "body over [fcgi] max_body", kv);
		goto done;
	}
	if (is_post && !is_form_type(req->content_type)) {
		const char *kv[] = { "content_type", req->content_type ? req->content_type : "",
				     NULL };

		route_fail(&rc, resp, 415,
			   "Content-Type is not application/x-www-form-urlencoded", kv);
		goto done;
	}
	if (parse_params(&rc, resp, is_post) != 0)
		goto done;
	if (check_signature(&rc, resp, is_post) != 0)
		goto done;
	{
		const char *sid = route_param(&rc, "CallSid");

		if (!sid) {
			route_fail(&rc, resp, 400, "missing CallSid", NULL);
			goto done;
		}
		if (!calllog_valid_callsid(sid)) {
			const char *kv[] = { "callsid", sid, NULL };

			route_fail(&rc, resp, 400, "malformed CallSid (want CA and 32 hex digits)",
				   kv);
			goto done;
		}
		rc.callsid = sid;
	}
	rt->handler(&rc, resp);
done:
	form_free(rc.params);
	form_free(rc.query);
	return resp->status >= 200 && resp->status < 300 ? 0 : -1;
}
