/* server: the lws side of callpipe-ws: the one protocol ("audio.twilio.com", first in the
 * list so upgrades without a subprotocol bind to it), HTTP /healthz and /metrics, upgrades. */
#ifndef CALLPIPE_WSSERVER_H
#define CALLPIPE_WSSERVER_H

#include <stddef.h>

struct config;
struct mode_ops;
struct lws_protocols;
struct lws_context;
struct wsserver;

/* What main.c wants to hear about; both run on the lws thread. */
struct wsserver_hooks {
	void *arg;
	/* lws_cancel_service() woke the loop (a signal, later a worker thread). */
	void (*wake)(void *arg);
	/* A call ended; wsserver_active() says how many are left. */
	void (*call_gone)(void *arg);
	/* The descriptor given to wsserver_watch_fd() is readable. */
	void (*fd_readable)(void *arg);
};

/* Request headers lws holds per connection while it reads them (info.max_http_header_data2):
 * lws 4.1.6 drops a request whose headers do not fit, with no HTTP answer (a proxy then says
 * 502). Room for what a client may send through Apache (a 5,000-character header, 64 headers
 * of 1 KB), so that server.c answers it with 431 or 400 instead. Allocated only while a
 * request's headers are read, in at most WSSERVER_HEADER_POOL connections at once. */
#define WSSERVER_HEADER_BYTES (96 * 1024)
#define WSSERVER_HEADER_POOL 256

struct wsserver *wsserver_new(const struct config *cfg, const struct mode_ops *mode,
			      const struct wsserver_hooks *hooks, char *err, size_t errlen);
/* Ends the calls still open (with their ws_done) and frees S. */
void wsserver_free(struct wsserver *s);

/* The protocol list for lws_context_creation_info.protocols; the context's user pointer
 * (info.user) must be S. */
const struct lws_protocols *wsserver_protocols(struct wsserver *s);

/* The context workers wake (lws_cancel_service) when they have results for a call; NULL
 * before the context is destroyed, once no worker runs any more. */
void wsserver_set_context(struct wsserver *s, struct lws_context *ctx);

/* Watch FD (a signalfd) in the loop of CTX, whichever event loop it runs: lws adopts it as a
 * raw file descriptor on the vhost VHOST_NAME and hooks.fd_readable runs when it has data
 * (lws owns FD from then on and closes it with the context). 0, or -1. */
int wsserver_watch_fd(struct wsserver *s, struct lws_context *ctx, const char *vhost_name,
		      int fd);

/* Descriptors: lws may hold FDL (its fd_limit_per_thread), and descriptor numbers stay below
 * FD_MAX. Connections that have not sent their request yet are then kept below what the
 * calls leave free: past that the oldest of them is closed (lws 4.1.6 would otherwise stop
 * accepting, and a real stream would wait behind idle ones). 0, or -1 on no memory. */
int wsserver_set_fd_budget(struct wsserver *s, unsigned fdl, unsigned long fd_max);

/* Refuse upgrades with 503 once N calls are open ([ws] max_calls, or fewer when the fd
 * limit cannot hold that many). */
void wsserver_set_max_calls(struct wsserver *s, int n);
/* From now on refuse new upgrades with 503 (and /healthz says 503 draining). */
void wsserver_drain(struct wsserver *s);
size_t wsserver_active(const struct wsserver *s);
/* Close every call with 1001 (going away) from its next WRITEABLE. */
void wsserver_close_all(struct wsserver *s);

#endif
