/* server: the lws protocol callback of callpipe-ws: upgrade checks in HTTP_CONFIRM_UPGRADE
 * (where an HTTP status can still be sent), /healthz and /metrics, and each stream's call. */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libwebsockets.h>

#include "bytebuf.h"
#include "call.h"
#include "config.h"
#include "logesc.h"
#include "ratelimit.h"
#include "logq.h"
#include "metrics.h"
#include "mode.h"
#include "upgrade.h"

/* lws hands a message to the callback in chunks of at most this (lws mallocs it once per
 * connection as rx_ubuf). A Twilio media message (20 ms = 160 bytes of µ-law, 216 in
 * base64, plus ~150 of JSON) fits in one; larger ones go through call.c's reassembly. */
#define RX_CHUNK 1024
/* lws caps each send() at tx_packet_size (else rx_buffer_size) and copies the rest into a
 * buffer list; our messages are small, so let one send() carry any of them whole. */
#define TX_PACKET (64 * 1024)
/* Response headers lws adds (status, server, content-type, -length, allow, cache-control)
 * stay well under 1 KiB; bodies are at most the metrics text. */
#define HTTP_BUF (LWS_PRE + 1024 + WSMETRICS_TEXT_MAX)

struct pss {
	struct call *call;
};

/* Descriptors kept free of not-yet-requested connections beyond the calls: the listener,
 * lws's event pipe, the signalfd, HTTP keep-alive connections, a 503 in progress. */
#define SHED_RESERVE 32

/* A connection accepted and not through its request yet, in a FIFO (oldest first) threaded
 * through an array indexed by its descriptor. */
struct pend {
	struct lws *wsi;
	int prev, next;   /* descriptors, -1 at the ends */
};

struct wsserver {
	const struct config *cfg;
	struct wsserver_hooks hooks;
	struct wsmetrics metrics;
	struct call_env *env;
	int draining;
	int max_calls;
	char sig_urls[UPGRADE_SIG_URLS][TWSIG_URL_MAX];
	size_t nsig_urls;
	struct pend *pend;          /* [pend_cap], indexed by descriptor */
	size_t pend_cap, npend;
	int phead, ptail;
	unsigned fdl;
	unsigned long long shed_unlogged;
	time_t shed_logged;
	unsigned char http_buf[HTTP_BUF];
	struct lws_protocols protocols[2];
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len);

static void io_want_write(void *ctx)
{
	lws_callback_on_writable(ctx);
}

static void io_set_timer(void *ctx, int64_t usecs)
{
	lws_set_timer_usecs(ctx, usecs > 0 ? usecs : 1);
}

static int io_write(void *ctx, unsigned char *buf, size_t len)
{
	int n = lws_write(ctx, buf, len, LWS_WRITE_TEXT);

	return n < 0 || (size_t)n < len ? -1 : 0;
}

static const struct call_io lws_io = {
	.want_write = io_want_write,
	.set_timer = io_set_timer,
	.write = io_write,
};

struct wsserver *wsserver_new(const struct config *cfg, const struct mode_ops *mode,
			      const struct wsserver_hooks *hooks, char *err, size_t errlen)
{
	struct wsserver *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = cfg;
	s->max_calls = cfg->max_calls;
	s->phead = s->ptail = -1;
	if (hooks)
		s->hooks = *hooks;
	s->env = call_env_new(cfg, mode, &s->metrics, &lws_io, LWS_PRE, err, errlen);
	if (!s->env) {
		free(s);
		return NULL;
	}
	/* Twilio signs the Stream url it dials: [twilio] stream_url when the TwiML has it
	 * (a helper serving wss:// itself), else the one derived from public_url. */
	s->nsig_urls = cfg->stream_url[0] ? upgrade_sig_urls_stream(cfg->stream_url, s->sig_urls)
					  : upgrade_sig_urls(cfg->public_url, s->sig_urls);
	if (cfg->validate && !s->nsig_urls && cfg->stream_url[0]) {
		snprintf(err, errlen, "[twilio] stream_url \"%s\" is not ws(s)://host[/path]: "
			 "cannot check signatures", cfg->stream_url);
		call_env_free(s->env);
		free(s);
		return NULL;
	}
	if (cfg->validate && !s->nsig_urls) {
		snprintf(err, errlen, "[twilio] public_url \"%s\" is not http(s)://host[/path]: "
			 "cannot check signatures", cfg->public_url);
		call_env_free(s->env);
		free(s);
		return NULL;
	}
	/* The Twilio protocol first: lws binds an upgrade offering no subprotocol to
	 * protocols[0] (vhost default_protocol_index), and plain HTTP lands there too. */
	s->protocols[0].name = UPGRADE_SUBPROTOCOL;
	s->protocols[0].callback = callback;
	s->protocols[0].per_session_data_size = sizeof(struct pss);
	s->protocols[0].rx_buffer_size = RX_CHUNK;
	s->protocols[0].tx_packet_size = TX_PACKET;
	return s;
}

void wsserver_free(struct wsserver *s)
{
	if (!s)
		return;
	call_env_free(s->env);
	free(s->pend);
	free(s);
}

const struct lws_protocols *wsserver_protocols(struct wsserver *s)
{
	return s->protocols;
}

void wsserver_set_max_calls(struct wsserver *s, int n)
{
	s->max_calls = n > 0 ? n : 1;
}

static void wake_loop(void *ctx)
{
	lws_cancel_service(ctx);
}

void wsserver_set_context(struct wsserver *s, struct lws_context *ctx)
{
	call_env_set_waker(s->env, ctx ? wake_loop : NULL, ctx);
}

int wsserver_watch_fd(struct wsserver *s, struct lws_context *ctx, const char *vhost_name,
		      int fd)
{
	struct lws_vhost *vh = lws_get_vhost_by_name(ctx, vhost_name);
	lws_sock_file_fd_type d;

	(void)s;
	if (!vh)
		return -1;
	d.filefd = fd;
	/* bound to protocols[0] (this callback): LWS_CALLBACK_RAW_RX_FILE below */
	return lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, d, NULL, NULL) ? 0 : -1;
}

int wsserver_set_fd_budget(struct wsserver *s, unsigned fdl, unsigned long fd_max)
{
	size_t i, cap = fd_max > (1UL << 20) ? (1UL << 20) : fd_max;

	s->fdl = fdl;
	s->pend = calloc(cap, sizeof(*s->pend));
	if (!s->pend)
		return -1;
	for (i = 0; i < cap; i++)
		s->pend[i].prev = s->pend[i].next = -1;
	s->pend_cap = cap;
	return 0;
}

/* Take entry FD out of the FIFO (by index: the wsi is not touched). */
static void pend_unlink(struct wsserver *s, int fd)
{
	struct pend *p = &s->pend[fd];

	if (p->prev >= 0)
		s->pend[p->prev].next = p->next;
	else
		s->phead = p->next;
	if (p->next >= 0)
		s->pend[p->next].prev = p->prev;
	else
		s->ptail = p->prev;
	p->wsi = NULL;
	p->prev = p->next = -1;
	s->npend--;
}

/* The entry's index is kept on the wsi itself (its opaque user data, which nothing else here
 * uses): by WSI_DESTROY lws has already closed the socket and forgotten its descriptor. */
static void pend_del(struct wsserver *s, struct lws *wsi)
{
	int fd = (int)(intptr_t)lws_get_opaque_user_data(wsi) - 1;

	if (fd < 0 || (size_t)fd >= s->pend_cap || s->pend[fd].wsi != wsi)
		return;
	lws_set_opaque_user_data(wsi, NULL);
	pend_unlink(s, fd);
}

/* A new connection: remember it, and close the oldest ones that still have not sent a request
 * while they hold more descriptors than the calls leave free. A real client (Apache) sends its
 * request at once, so it leaves this list within milliseconds; what stays is idle. */
static void pend_add(struct wsserver *s, struct lws *wsi)
{
	int fd = (int)lws_get_socket_fd(wsi);
	size_t calls = call_env_count(s->env), limit;
	time_t now;

	if (fd < 0 || (size_t)fd >= s->pend_cap)
		return;
	if (s->pend[fd].wsi)
		pend_unlink(s, fd);   /* should not happen: every wsi leaves by WSI_DESTROY */
	s->pend[fd].wsi = wsi;
	lws_set_opaque_user_data(wsi, (void *)(intptr_t)(fd + 1));
	s->pend[fd].prev = s->ptail;
	s->pend[fd].next = -1;
	if (s->ptail >= 0)
		s->pend[s->ptail].next = fd;
	else
		s->phead = fd;
	s->ptail = fd;
	s->npend++;
	limit = s->fdl > calls + SHED_RESERVE + 8 ? s->fdl - calls - SHED_RESERVE : 8;
	while (s->npend > limit && s->phead >= 0 && s->phead != fd) {
		struct lws *old = s->pend[s->phead].wsi;

		lws_set_opaque_user_data(old, NULL);
		pend_unlink(s, s->phead);
		/* closed on the next service round: not from inside another connection's callback */
		lws_set_timeout(old, PENDING_TIMEOUT_HOLDING_AH, LWS_TO_KILL_ASYNC);
		s->metrics.idle_shed++;
		s->shed_unlogged++;
	}
	now = time(NULL);
	if (s->shed_unlogged && now != s->shed_logged) {
		fprintf(stderr, "WS_SHED closed=%llu reason=\"idle connections (no request yet) past "
			"the descriptors the calls leave free; oldest first\" pending=%zu calls=%zu "
			"fd_limit=%u\n", s->shed_unlogged, s->npend, calls, s->fdl);
		s->shed_unlogged = 0;
		s->shed_logged = now;
	}
}

void wsserver_drain(struct wsserver *s)
{
	s->draining = 1;
}

size_t wsserver_active(const struct wsserver *s)
{
	return call_env_count(s->env);
}

void wsserver_close_all(struct wsserver *s)
{
	call_env_close_all(s->env, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
}

/* --- HTTP --- */

/* Status line, a few headers (XNAME: XVAL when XNAME, lower case with its ':') and BODY in
 * one write (HTTP/1.1 only: no h2c, and with TLS the ALPN is pinned to http/1.1 by tls.c).
 * 0, or -1 when the write failed. */
static int http_reply_x(struct wsserver *s, struct lws *wsi, unsigned code, const char *ctype,
			const char *xname, const char *xval, const char *body, size_t blen,
			int head_only)
{
	unsigned char *start = s->http_buf + LWS_PRE, *p = start, *end = s->http_buf + HTTP_BUF;
	char clen[24];
	int n;

	n = snprintf(clen, sizeof(clen), "%zu", blen);
	if (lws_add_http_header_status(wsi, code, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)ctype, (int)strlen(ctype), &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
					 (const unsigned char *)clen, n, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
					 (const unsigned char *)"no-store", 8, &p, end) ||
	    (xname && lws_add_http_header_by_name(wsi, (const unsigned char *)xname,
						  (const unsigned char *)xval,
						  (int)strlen(xval), &p, end)) ||
	    lws_finalize_http_header(wsi, &p, end))
		return -1;
	if (!head_only) {
		if (blen > (size_t)(end - p))
			return -1;
		memcpy(p, body, blen);
		p += blen;
	}
	n = (int)(p - start);
	return lws_write(wsi, start, (size_t)n, LWS_WRITE_HTTP) == n ? 0 : -1;
}

static int http_reply(struct wsserver *s, struct lws *wsi, unsigned code, const char *ctype,
		      const char *allow, const char *body, size_t blen, int head_only)
{
	return http_reply_x(s, wsi, code, ctype, allow ? "allow:" : NULL, allow, body, blen,
			    head_only);
}

static int http_text(struct wsserver *s, struct lws *wsi, unsigned code, const char *allow,
		     const char *body, int head_only)
{
	return http_reply(s, wsi, code, "text/plain; charset=utf-8", allow, body, strlen(body),
			  head_only);
}

static int http_request(struct wsserver *s, struct lws *wsi, const char *uri)
{
	char *u = NULL;
	int ulen = 0, meth = lws_http_get_uri_and_method(wsi, &u, &ulen), r;
	int head = meth == LWSHUMETH_HEAD, get = meth == LWSHUMETH_GET || head;
	const char *allow = "GET, HEAD";

	if (!uri)
		uri = "";
	if (upgrade_path_ok(uri)) {
		/* a browser or curl without Upgrade: say what this is (lws 4.1.6 has no reason
		 * phrase for 426 and would send "HTTP/1.1 426 "; 400 reads better) */
		r = http_text(s, wsi, HTTP_STATUS_BAD_REQUEST, NULL, "this is a WebSocket "
			      "endpoint (Twilio Media Streams); send Upgrade: websocket\n", head);
	} else if (strcmp(uri, "/healthz") && strcmp(uri, "/metrics")) {
		r = http_text(s, wsi, HTTP_STATUS_NOT_FOUND, NULL, "not found\n", head);
	} else if (!get) {
		r = http_text(s, wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, allow,
			      "method not allowed\n", 0);
	} else if (!strcmp(uri, "/healthz")) {
		r = s->draining ? http_text(s, wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, NULL,
					    "draining\n", head)
				: http_text(s, wsi, HTTP_STATUS_OK, NULL, "ok\n", head);
	} else {
		char text[WSMETRICS_TEXT_MAX];
		long n;

		s->metrics.log_lines_dropped = logq_dropped();
		n = wsmetrics_render(&s->metrics, text, sizeof(text));

		r = n < 0 ? http_text(s, wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, NULL,
				      "metrics do not fit\n", head)
			  : http_reply(s, wsi, HTTP_STATUS_OK, "text/plain; version=0.0.4",
				       NULL, text, (size_t)n, head);
	}
	if (r < 0)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* --- upgrade --- */

/* Count a refused upgrade and log one line for it. The requester is not authenticated yet:
 * the path and detail are escaped by logesc, and the line goes through the process's
 * stderr limit (ratelimit_unauth). */
static void reject_log(struct wsserver *s, struct lws *wsi, unsigned code, int rej,
		       const char *path, const char *detail)
{
	char peer[64] = "", mem[2048];
	struct bytebuf line;

	if (rej >= 0)
		s->metrics.rejections[rej]++;
	lws_get_peer_simple(wsi, peer, sizeof(peer));
	/* 5 bytes kept for the closing quote, "…" and the newline. */
	bytebuf_init_fixed(&line, mem, sizeof(mem) - 5);
	bytebuf_printf(&line, "WS_REJECT status=%u reason=%s path=", code,
		       rej >= 0 ? wsmetrics_rej_name(rej) : "upgrade");
	logesc_put(&line, path, 256, LOGESC_WORD);
	bytebuf_puts(&line, " peer=");
	logesc_put(&line, peer[0] ? peer : "-", 64, LOGESC_WORD);
	bytebuf_puts(&line, " detail=\"");
	logesc_put(&line, detail, bytebuf_room(&line), LOGESC_INNER);
	line.max = sizeof(mem);
	bytebuf_putc(&line, '"');
	bytebuf_putc(&line, '\n');
	ratelimit_stderr(&ratelimit_unauth, "callpipe-ws", mem, line.len);
}

/* Refuse an upgrade with an HTTP status (so a proxy passes it on instead of answering
 * 502), count it and log it. Returns what HTTP_CONFIRM_UPGRADE must return. */
static int reject(struct wsserver *s, struct lws *wsi, unsigned code, int rej,
		  const char *path, const char *detail)
{
	char body[160];
	/* The log names the URLs tried; the peer only learns that the signature failed. */
	const char *shown = code == HTTP_STATUS_FORBIDDEN ? "x-twilio-signature missing or wrong"
							  : detail;

	reject_log(s, wsi, code, rej, path, detail);
	snprintf(body, sizeof(body), "%s\n", shown);
	return http_text(s, wsi, code, NULL, body, 0) < 0 ? -1 : 1;
}

/* RFC 6455 §4.2.2: a client key is 16 random bytes in base64, 24 characters ending "==".
 * lws 4.1.6 hashes whatever it gets (and drops the connection, no answer, when it is
 * missing or 128+ characters long). */
static int key_ok(struct lws *wsi)
{
	char key[32];
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_KEY), i;

	if (n != 24 || lws_hdr_copy(wsi, key, sizeof(key), WSI_TOKEN_KEY) != 24)
		return 0;
	for (i = 0; i < 22; i++)
		if (!((key[i] >= 'A' && key[i] <= 'Z') || (key[i] >= 'a' && key[i] <= 'z') ||
		      (key[i] >= '0' && key[i] <= '9') || key[i] == '+' || key[i] == '/'))
			return 0;
	/* the last character before "==" carries 2 bits of data and 4 zero bits */
	return strchr("AQgw", key[21]) && key[22] == '=' && key[23] == '=';
}

/* Refuse an upgrade whose version is not 13 with 426 and "Sec-WebSocket-Version: 13"
 * (RFC 6455 §4.2.2, §4.4); lws 4.1.6 would answer any version as if it were 13. */
static int reject_version(struct wsserver *s, struct lws *wsi, const char *path, int n)
{
	char ver[16] = "", detail[96];
	const char *body = "Sec-WebSocket-Version must be 13\n";

	if (n > 0 && n < (int)sizeof(ver))
		lws_hdr_copy(wsi, ver, sizeof(ver), WSI_TOKEN_VERSION);
	snprintf(detail, sizeof(detail), "Sec-WebSocket-Version %s; only 13 is served",
		 n <= 0 ? "missing" : n >= (int)sizeof(ver) ? "too long" : ver);
	reject_log(s, wsi, 426, WSREJ_HANDSHAKE, path, detail);
	return http_reply_x(s, wsi, 426, "text/plain; charset=utf-8", "sec-websocket-version:",
			    "13", body, strlen(body), 0) < 0 ? -1 : 1;
}

/* Headers this big are no Twilio upgrade. lws holds a request's headers in one buffer of
 * WSSERVER_HEADER_BYTES (main.c) and drops the connection, with no answer, when they do
 * not fit; below that, these give a 431 with a reason. Headers lws does not know (X-…)
 * cannot be listed in 4.1.6, so only the signature and the known ones are measured. */
#define SIG_MAX 128
#define KNOWN_HEADERS_MAX 8192

static int headers_too_big(struct lws *wsi, char *why, size_t cap)
{
	int n = lws_hdr_custom_length(wsi, "x-twilio-signature:", 19), t;
	long total = 0;

	if (n > SIG_MAX) {
		snprintf(why, cap, "X-Twilio-Signature is %d characters (at most %d)", n, SIG_MAX);
		return 1;
	}
	for (t = 0; t < WSI_TOKEN_COUNT; t++) {
		int len = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);

		if (len > 0)
			total += len;
	}
	if (total > KNOWN_HEADERS_MAX) {
		snprintf(why, cap, "request headers are %ld bytes (at most %d)", total,
			 KNOWN_HEADERS_MAX);
		return 1;
	}
	return 0;
}

static int confirm_upgrade(struct wsserver *s, struct lws *wsi, const char *up)
{
	char path[64], sub[128], why[96], sig[64] = "";
	int n;

	n = lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI);
	if (n <= 0)
		snprintf(path, sizeof(path), "%s", n < 0 ? "(too long)" : "(none)");
	if (!up || strcasecmp(up, "websocket"))
		return reject(s, wsi, HTTP_STATUS_BAD_REQUEST, -1, path,
			      "only websocket upgrades are served here");
	if (n <= 0 || !upgrade_path_ok(path))
		return reject(s, wsi, HTTP_STATUS_NOT_FOUND, WSREJ_PATH, path,
			      "not a media stream path (" UPGRADE_PATH ")");
	if (headers_too_big(wsi, why, sizeof(why)))
		return reject(s, wsi, 431, WSREJ_HANDSHAKE, path, why);
	n = lws_hdr_total_length(wsi, WSI_TOKEN_VERSION);
	{
		char ver[4] = "";

		if (n == 2)
			lws_hdr_copy(wsi, ver, sizeof(ver), WSI_TOKEN_VERSION);
		if (strcmp(ver, "13"))
			return reject_version(s, wsi, path, n);
	}
	if (!lws_hdr_total_length(wsi, WSI_TOKEN_KEY))
		return reject(s, wsi, HTTP_STATUS_BAD_REQUEST, WSREJ_HANDSHAKE, path,
			      "Sec-WebSocket-Key missing");
	if (!key_ok(wsi))
		return reject(s, wsi, HTTP_STATUS_BAD_REQUEST, WSREJ_HANDSHAKE, path,
			      "Sec-WebSocket-Key is not 16 bytes in base64 (RFC 6455 4.1)");
	if (s->draining)
		return reject(s, wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, WSREJ_DRAINING, path,
			      "shutting down");
	if (call_env_count(s->env) >= (size_t)s->max_calls)
		return reject(s, wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, WSREJ_CAPACITY, path,
			      "[ws] max_calls reached");
	if (call_env_memory_high(s->env))
		return reject(s, wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, WSREJ_MEMORY, path,
			      "[ws] max_memory reached");
	if (s->cfg->validate) {
		n = lws_hdr_custom_length(wsi, "x-twilio-signature:", 19);
		if (n > 0 && n < (int)sizeof(sig))
			lws_hdr_custom_copy(wsi, sig, sizeof(sig), "x-twilio-signature:", 19);
		if (!upgrade_sig_check(s->cfg->auth_token, s->sig_urls, s->nsig_urls, sig)) {
			char detail[UPGRADE_SIG_URLS * 300 + 64];
			size_t i, o;

			o = (size_t)snprintf(detail, sizeof(detail), "%s; urls tried:",
					     n > 0 ? "x-twilio-signature does not match"
						   : "x-twilio-signature missing");
			for (i = 0; i < s->nsig_urls && o < sizeof(detail); i++)
				o += (size_t)snprintf(detail + o, sizeof(detail) - o, " %.256s",
						      s->sig_urls[i]);
			return reject(s, wsi, HTTP_STATUS_FORBIDDEN, WSREJ_SIGNATURE, path,
				      detail);
		}
	}
	n = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL);
	if (n > 0) {
		/* lws 4.1.6 drops (no HTTP answer) a list it cannot copy into char[128] */
		if (n >= (int)sizeof(sub) - 1 ||
		    lws_hdr_copy(wsi, sub, sizeof(sub), WSI_TOKEN_PROTOCOL) < 0) {
			snprintf(why, sizeof(why), "subprotocol list over 126 characters (%d)", n);
			return reject(s, wsi, HTTP_STATUS_BAD_REQUEST, WSREJ_SUBPROTOCOL, path, why);
		}
		if (upgrade_subprotocol(sub, why, sizeof(why)) == UPGRADE_SUB_REFUSE) {
			char detail[256];

			snprintf(detail, sizeof(detail), "%s: %.120s", why, sub);
			return reject(s, wsi, HTTP_STATUS_BAD_REQUEST, WSREJ_SUBPROTOCOL, path,
				      detail);
		}
	}
	return 0;
}

static int established(struct wsserver *s, struct lws *wsi, struct pss *pss)
{
	char path[64] = "", xff[256] = "", peer[64] = "";
	struct call_conn conn;

	/* The header table is still attached here and freed right after: copy now. */
	if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) < 0)
		path[0] = '\0';
	if (lws_hdr_copy(wsi, xff, sizeof(xff), WSI_TOKEN_X_FORWARDED_FOR) < 0)
		snprintf(xff, sizeof(xff), "(too long)");
	lws_get_peer_simple(wsi, peer, sizeof(peer));
	conn.path = path;
	conn.subprotocol = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) > 0 ?
			   UPGRADE_SUBPROTOCOL : "";
	conn.peer = peer;
	conn.xff = xff;
	pss->call = call_new(s->env, wsi, &conn);
	return pss->call ? 0 : -1;
}

/* How lws 4.1.6 closes a server stream (lib/core-net/close.c, lib/roles/ws/ops-ws.c): a
 * callback returning -1 after lws_close_reason() moves the wsi to WAITING_TO_SEND_CLOSE; the
 * next POLLOUT writes the close frame and enters AWAITING_CLOSE_ACK, where lws keeps reading,
 * drops data frames without a RECEIVE, and closes once the peer's close frame arrives (or
 * after its own 5 s). That is RFC 6455 §7.1.1. But lws leaves POLLOUT on after writing the
 * close frame, so one more SERVER_WRITEABLE follows, and a -1 from any callback while in
 * AWAITING_CLOSE_ACK kills the connection at once ("we tried the polite way"):
 * shutdown(SHUT_WR) and close() with the peer's media still unread, which Linux turns into
 * RST (lws's staged wait for the peer's FIN, LRS_SHUTDOWN, never runs in 4.1.6: it sets
 * socket_is_permanently_unusable just before testing it). Behind Apache the RST lost our
 * close frame. So call.c returns -1 exactly once to start the close, 0 from WRITEABLE after
 * that, and -1 from the timer only when the peer has not answered in CLOSE_ACK_US.
 *
 * Return -1 from a callback after setting our close frame's code and reason. */
static int close_now(struct lws *wsi, struct call *c)
{
	const char *reason;
	int code;

	call_close_status(c, &code, &reason);
	/* 1005/1006 are never sent on the wire (RFC 6455 §7.4.1) */
	if (code != 1005 && code != 1006)
		lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)reason,
				 strlen(reason));
	return -1;
}

/* One message per WRITEABLE is the lws minimal-example rule; but lws reads up to
 * pt_serv_buf_size (4 KiB, about ten 20 ms media messages) per POLLIN, so under load a
 * call's echo queue grew ten times faster than one-per-POLLOUT drained it (measured:
 * 2000 calls on one core, RSS 10 MB -> 500 MB). So write up to WRITE_BATCH messages while
 * the kernel still takes them (lws_send_pipe_choked() polls the socket; once a write is
 * partial lws holds the rest and we stop), then ask for WRITEABLE again. */
#define WRITE_BATCH 16

static int writeable(struct lws *wsi, struct pss *pss)
{
	int i;

	if (!pss || !pss->call)
		return 0;
	for (i = 0; i < WRITE_BATCH; i++) {
		if (call_on_writable(pss->call) < 0)
			return close_now(wsi, pss->call);
		if (!call_has_output(pss->call) || lws_send_pipe_choked(wsi))
			break;
	}
	return 0;
}

/* lws 4.1.6 closes a stream itself on a framing error (ops-ws.c lws_ws_rx_sm: RSV bits,
 * a reserved opcode, a continuation with nothing to continue, a fragmented control frame,
 * a missing FIN): it sets its close frame with lws_close_reason(1002, "rsv bits" …) and
 * returns -1, and no callback says why. The close payload it prepared is still readable
 * at CLOSED (lws_get_close_length/payload); when neither we nor the peer had closed, that
 * is the reason. */
static const char *lws_violation(const char *tag)
{
	static const struct { const char *tag, *text; } v[] = {
		{ "rsv bits", "protocol error: RSV bits set without an extension" },
		{ "bad opc", "protocol error: reserved opcode" },
		{ "bad cont", "protocol error: continuation frame out of place" },
		{ "frag ctl", "protocol error: fragmented control frame" },
		{ "bad fin", "protocol error: new message before the last one's FIN" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!strcmp(tag, v[i].tag))
			return v[i].text;
	return "protocol error";
}

static void transport_closed(struct lws *wsi, struct call *c)
{
	const unsigned char *p;
	char tag[24];
	int len = lws_get_close_length(wsi), code;

	if (len < 2)
		return;
	p = lws_get_close_payload(wsi);
	code = p[0] << 8 | p[1];
	if (code != LWS_CLOSE_STATUS_PROTOCOL_ERR)
		return;
	snprintf(tag, sizeof(tag), "%.*s", len - 2 < 23 ? len - 2 : 23, (const char *)p + 2);
	call_on_protocol_close(c, code, lws_violation(tag));
}

/* A peer's close code is 1000-1003, 1007-1011 or 3000-4999 (RFC 6455 §7.4). lws 4.1.6
 * replaces the others below 3000 with 1002 in the payload before it calls us (so a peer
 * that sent 999 or 1005 looks like a peer that sent 1002: both are logged as our 1002) and
 * echoes 5000 and up unchanged: those we replace with 1002 in place, so the close lws
 * echoes says 1002. Returns 1 when the code was a violation. */
static int peer_close_invalid(unsigned char *b, size_t len, int code, char *why, size_t cap)
{
	if (len == 1 || code == LWS_CLOSE_STATUS_PROTOCOL_ERR) {
		snprintf(why, cap, "protocol error: invalid close code from the peer");
		return 1;
	}
	if (len >= 2 && code >= 5000) {
		snprintf(why, cap, "protocol error: close code %d from the peer", code);
		b[0] = LWS_CLOSE_STATUS_PROTOCOL_ERR >> 8;
		b[1] = LWS_CLOSE_STATUS_PROTOCOL_ERR & 0xff;
		return 1;
	}
	return 0;
}

static void gone(struct wsserver *s, struct lws *wsi, struct pss *pss)
{
	if (!pss || !pss->call)
		return;
	transport_closed(wsi, pss->call);
	call_done(pss->call);
	pss->call = NULL;
	if (s->hooks.call_gone)
		s->hooks.call_gone(s->hooks.arg);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct wsserver *s = lws_context_user(lws_get_context(wsi));
	struct pss *pss = user;

	if (!s)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		pend_add(s, wsi);
		return 0;
	case LWS_CALLBACK_HTTP:
		pend_del(s, wsi);
		return http_request(s, wsi, in);
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		pend_del(s, wsi);
		return confirm_upgrade(s, wsi, in);
	case LWS_CALLBACK_ESTABLISHED:
		return established(s, wsi, pss);
	case LWS_CALLBACK_RECEIVE:
		if (pss && pss->call)
			call_on_rx(pss->call, in, len, lws_is_first_fragment(wsi),
				   lws_is_final_fragment(wsi), lws_frame_is_binary(wsi));
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return writeable(wsi, pss);
	case LWS_CALLBACK_TIMER:
		if (pss && pss->call && call_on_timer(pss->call) < 0)
			return close_now(wsi, pss->call);
		return 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (pss && pss->call) {
			unsigned char *b = in;
			int code = len >= 2 ? b[0] << 8 | b[1] : 0;
			char why[64];

			if (peer_close_invalid(b, len, code, why, sizeof(why))) {
				call_on_protocol_close(pss->call, LWS_CLOSE_STATUS_PROTOCOL_ERR, why);
				return 0;
			}
			call_on_peer_close(pss->call, code, len > 2 ? (const char *)b + 2 : NULL,
					   len > 2 ? len - 2 : 0);
		}
		return 0;   /* lws echoes the close frame */
	case LWS_CALLBACK_CLOSED:
	case LWS_CALLBACK_WSI_DESTROY:
		pend_del(s, wsi);
		gone(s, wsi, pss);
		return 0;
	case LWS_CALLBACK_RAW_RX_FILE:
		if (s->hooks.fd_readable)
			s->hooks.fd_readable(s->hooks.arg);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (s->hooks.wake)
			s->hooks.wake(s->hooks.arg);
		mode_wake_all(s->env);
		return 0;
	default:
		return 0;
	}
}
