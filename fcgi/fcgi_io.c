/* fcgi_io: libfcgi glue: FCGX parameters (or the CGI environment) into struct request, the
 * body read within [fcgi] max_body, and the response written as CGI headers and body. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytebuf.h"
#include "fcgi_io.h"
#include "request.h"

/* A request body that we refuse (413) may still be on its way; we read and drop this much
 * of it so a kept FastCGI connection stays in step, and close the connection past it. */
#define DRAIN_MAX (1024 * 1024)
/* The body is read this much at a time into a bytebuf capped at max_body + 1. */
#define BODY_CHUNK 4096

/* Where the request comes from: FastCGI or CGI, behind the same three operations. */
struct io_src {
	const char *(*param)(void *ctx, const char *name);
	/* > 0 bytes read, 0 at the end of the body, -1 on error. */
	long (*read)(void *ctx, char *buf, size_t len);
	void *ctx;
	/* CGI: the server need not close stdin, so read exactly CONTENT_LENGTH bytes
	 * (RFC 3875 §4.2). FastCGI: FCGI_STDIN ends with an empty record, read to it. */
	int exact;
};

/* What a request owns beyond the strings of its source; io_req_free is its teardown. */
struct io_req {
	struct request req;
	char *body;
	char *uri;       /* built only when REQUEST_URI is missing */
	int body_complete;  /* the whole body was consumed from the source */
};

static void io_req_free(struct io_req *r)
{
	free(r->body);
	free(r->uri);
	memset(r, 0, sizeof(*r));
}

/* CONTENT_LENGTH: -1 absent (or empty), -2 not a decimal number; large values saturate. */
static long long parse_length(const char *s)
{
	long long v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -2;
		if (v > (LLONG_MAX - 9) / 10)
			v = LLONG_MAX;
		else
			v = v * 10 + (*s - '0');
	}
	return v;
}

/* Every server we support sets REQUEST_URI (Apache mod_fcgid and mod_proxy_fcgi,
 * lighttpd); for any other, rebuild it from the pieces CGI defines. */
static char *rebuild_uri(const struct io_src *src)
{
	const char *sn = src->param(src->ctx, "SCRIPT_NAME");
	const char *pi = src->param(src->ctx, "PATH_INFO");
	const char *qs = src->param(src->ctx, "QUERY_STRING");
	size_t len;
	char *uri;

	sn = sn ? sn : "";
	pi = pi ? pi : "";
	len = strlen(sn) + strlen(pi) + (qs && *qs ? strlen(qs) + 1 : 0) + 1;
	uri = malloc(len);
	if (uri)
		snprintf(uri, len, "%s%s%s%s", sn, pi, qs && *qs ? "?" : "", qs && *qs ? qs : "");
	return uri;
}

static void read_body(const struct config *cfg, const struct io_src *src, struct io_req *r)
{
	long long cl = r->req.content_length;
	/* Never hold more than max_body + 1 bytes: the extra byte tells "too large". */
	size_t limit = cfg->max_body + 1, got;
	struct bytebuf body;

	if (cl == -2) {
		r->req.body_state = REQUEST_BODY_BAD_LENGTH;
		return;
	}
	if (cl >= 0 && (unsigned long long)cl > cfg->max_body) {
		r->req.body_state = REQUEST_BODY_TOO_LARGE;
		return;
	}
	if (src->exact) {
		if (cl <= 0) {
			r->body_complete = 1;
			return;
		}
		limit = (size_t)cl;
	}
	bytebuf_init(&body, limit);
	while (body.len < limit) {
		size_t want = limit - body.len < BODY_CHUNK ? limit - body.len : BODY_CHUNK;
		uint8_t *p = bytebuf_extend(&body, want);
		long n;

		if (!p) {
			bytebuf_free(&body);
			r->req.body_state = REQUEST_BODY_READ_ERROR;
			return;
		}
		n = src->read(src->ctx, (char *)p, want);
		body.len -= want - (n > 0 ? (size_t)n : 0);   /* keep only what was read */
		if (n < 0) {
			bytebuf_free(&body);
			r->req.body_state = REQUEST_BODY_READ_ERROR;
			return;
		}
		if (n == 0) {
			r->body_complete = 1;
			break;
		}
	}
	r->body = (char *)bytebuf_take(&body, &got);
	if (src->exact && got == (size_t)cl)
		r->body_complete = 1;
	r->req.body = r->body;
	r->req.body_len = got;
	if (got > cfg->max_body)
		r->req.body_state = REQUEST_BODY_TOO_LARGE;
	else if (cl >= 0 && got != (size_t)cl)
		r->req.body_state = REQUEST_BODY_SHORT;
}

static int build_request(const struct config *cfg, const struct io_src *src, struct io_req *r)
{
	struct request *req = &r->req;

	memset(r, 0, sizeof(*r));
	req->method = src->param(src->ctx, "REQUEST_METHOD");
	req->request_uri = src->param(src->ctx, "REQUEST_URI");
	if (!req->request_uri) {
		r->uri = rebuild_uri(src);
		if (!r->uri)
			return -1;
		req->request_uri = r->uri;
	}
	req->content_type = src->param(src->ctx, "CONTENT_TYPE");
	req->content_length = parse_length(src->param(src->ctx, "CONTENT_LENGTH"));
	req->signature = src->param(src->ctx, "HTTP_X_TWILIO_SIGNATURE");
	req->remote_addr = src->param(src->ctx, "REMOTE_ADDR");
	read_body(cfg, src, r);
	if (req->content_length == -2)
		req->content_length = -1;
	return 0;
}

/* The CGI response (RFC 3875 §6): Status, Content-Type, Allow, Content-Length, body. */
static size_t format_head(const struct response *resp, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "Status: %d %s\r\n", resp->status,
			 response_reason(resp->status));
	size_t len = n > 0 ? (size_t)n : 0;

	if (resp->content_type && len < cap) {
		n = snprintf(buf + len, cap - len, "Content-Type: %s\r\n", resp->content_type);
		len += n > 0 ? (size_t)n : 0;
	}
	if (resp->allow[0] && len < cap) {
		n = snprintf(buf + len, cap - len, "Allow: %s\r\n", resp->allow);
		len += n > 0 ? (size_t)n : 0;
	}
	/* A 204 has no body and (RFC 9110 §8.6) no Content-Length. */
	if (resp->status != 204 && len < cap) {
		n = snprintf(buf + len, cap - len, "Content-Length: %zu\r\n", resp->body_len);
		len += n > 0 ? (size_t)n : 0;
	}
	if (len < cap) {
		n = snprintf(buf + len, cap - len, "\r\n");
		len += n > 0 ? (size_t)n : 0;
	}
	return len < cap ? len : cap - 1;
}

/* Route the request of SRC and hand the head and body to PUT. */
static int serve(const struct config *cfg, const struct io_src *src,
		 int (*put)(void *ctx, const char *buf, size_t len), void *pctx,
		 int *body_complete)
{
	struct io_req r;
	struct response resp;
	char head[256];
	size_t hl;
	int rc = 0;

	memset(&resp, 0, sizeof(resp));
	if (build_request(cfg, src, &r) != 0) {
		resp.status = 500;
		resp.content_type = "text/plain; charset=utf-8";
		resp.body = strdup("500 Internal Server Error: out of memory\n");
		resp.body_len = resp.body ? strlen(resp.body) : 0;
	} else {
		route_request(cfg, &r.req, &resp);
	}
	hl = format_head(&resp, head, sizeof(head));
	if (put(pctx, head, hl) != 0 || (resp.body_len && put(pctx, resp.body, resp.body_len) != 0))
		rc = -1;
	*body_complete = r.body_complete;
	response_free(&resp);
	io_req_free(&r);
	return rc;
}

/* --- FastCGI ----------------------------------------------------------------------- */

static const char *fcgx_param(void *ctx, const char *name)
{
	FCGX_Request *fr = ctx;

	return FCGX_GetParam(name, fr->envp);
}

static long fcgx_read(void *ctx, char *buf, size_t len)
{
	FCGX_Request *fr = ctx;
	int want = len > INT_MAX ? INT_MAX : (int)len;
	int n = FCGX_GetStr(buf, want, fr->in);

	if (n < want && FCGX_GetError(fr->in) != 0)
		return -1;
	return n;
}

static int fcgx_put(void *ctx, const char *buf, size_t len)
{
	FCGX_Request *fr = ctx;

	while (len) {
		int chunk = len > INT_MAX ? INT_MAX : (int)len;

		if (FCGX_PutStr(buf, chunk, fr->out) != chunk)
			return -1;
		buf += chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

int fcgi_io_serve(const struct config *cfg, FCGX_Request *fr)
{
	struct io_src src = { fcgx_param, fcgx_read, fr, 0 };
	int complete = 0, rc;

	rc = serve(cfg, &src, fcgx_put, fr, &complete);
	if (FCGX_FFlush(fr->out) != 0)
		rc = -1;
	if (!complete) {
		/* We answered without reading the whole body (a 413). Drop what is left so
		 * the next request on a kept connection starts on a record boundary; past
		 * DRAIN_MAX give up and let libfcgi close the connection (the web server
		 * then opens a new one). */
		char sink[8192];
		size_t drained = 0;
		int n;

		while (drained < DRAIN_MAX && (n = FCGX_GetStr(sink, sizeof(sink), fr->in)) > 0)
			drained += (size_t)n;
		if (drained >= DRAIN_MAX || FCGX_GetError(fr->in) != 0)
			fr->keepConnection = 0;
	}
	return rc;
}

/* --- CGI ----------------------------------------------------------------------------- */

static const char *cgi_param(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static long cgi_read(void *ctx, char *buf, size_t len)
{
	(void)ctx;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -1 : (long)n;
	}
}

static int cgi_put(void *ctx, const char *buf, size_t len)
{
	(void)ctx;
	while (len) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int fcgi_io_serve_cgi(const struct config *cfg)
{
	struct io_src src = { cgi_param, cgi_read, NULL, 1 };
	int complete;

	return serve(cfg, &src, cgi_put, NULL, &complete);
}
