/* call: the state of one media stream in one struct: Twilio messages in (reassembled,
 * parsed, checked, handed to the call's mode), a bounded outbound queue, idle and close. */
#ifndef CALLPIPE_CALL_H
#define CALLPIPE_CALL_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct mode_ops;
struct wsmetrics;
struct call;
struct call_env;

/* What the transport does for a call. server.c maps these onto lws; unit tests fake them.
 * CTX is the pointer given to call_new() (the wsi). */
struct call_io {
	/* Ask for one call_on_writable() soon (lws_callback_on_writable). */
	void (*want_write)(void *ctx);
	/* Run call_on_timer() in USECS, replacing any earlier timer (lws_set_timer_usecs). */
	void (*set_timer)(void *ctx, int64_t usecs);
	/* Send one text message of LEN bytes at BUF; the `pre` bytes before BUF are free for
	 * the transport's framing (LWS_PRE). Only called from call_on_writable(). 0 or -1. */
	int (*write)(void *ctx, unsigned char *buf, size_t len);
	/* Monotonic microseconds; NULL means CLOCK_MONOTONIC (tests pass a fake clock). */
	int64_t (*now_us)(void);
};

/* Connection facts copied from the handshake (the header table is gone afterwards). */
struct call_conn {
	const char *path;          /* /ws/twilio-media or /ws/twilio-media/ */
	const char *subprotocol;   /* "audio.twilio.com" or "" when none was offered */
	const char *peer;          /* address of the TCP peer (the proxy, usually) */
	const char *xff;           /* X-Forwarded-For, or "" */
};

/* Shared by all calls of one process: configuration, counters, parse scratch, the list of
 * open calls. PRE is the headroom each outbound message needs (LWS_PRE). NULL on no memory. */
struct call_env *call_env_new(const struct config *cfg, const struct mode_ops *default_mode,
			      struct wsmetrics *metrics, const struct call_io *io, size_t pre,
			      char *err, size_t errlen);
/* Ends every call still open (call_done) and frees ENV. */
void call_env_free(struct call_env *env);
size_t call_env_count(const struct call_env *env);
/* Bytes held for all calls (outbound queue entries, reassembly buffers), bounded by
 * [ws] max_memory; and 1 once they reach 7/8 of it: new streams are refused then (503),
 * since a new call would soon find no room and push out the largest backlog. */
size_t call_env_memory(const struct call_env *env);
int call_env_memory_high(const struct call_env *env);
/* call_close() on every open call (SIGTERM after [ws] drain_seconds). */
void call_env_close_all(struct call_env *env, int code, const char *reason);
/* The open call with id ID (call_id()), or NULL once it has ended: how results from worker
 * threads, which carry ids and never pointers, find their call. */
struct call *call_env_find(struct call_env *env, uint64_t id);
/* FN(call, ARG) for every open call. */
void call_env_foreach(struct call_env *env, void (*fn)(struct call *c, void *arg), void *arg);
/* How a worker thread wakes the event loop (lws_cancel_service on the context); set by the
 * transport once the loop exists, cleared (NULL) before it goes. Thread-safe. */
void call_env_set_waker(struct call_env *env, void (*wake)(void *arg), void *arg);
/* Wake the loop from any thread: the modes' on_wake hooks then run on the loop's thread.
 * Does nothing when no waker is set. */
void call_env_wake(struct call_env *env);

/* --- for the transport --- */

/* A stream was accepted (ESTABLISHED). Counts it, logs WS_CONNECTED, arms the idle timer.
 * NULL on no memory (the transport then drops the connection). */
struct call *call_new(struct call_env *env, void *ctx, const struct call_conn *conn);
/* One chunk of a WebSocket message as the transport delivers it (lws does not
 * reassemble): FIRST on the first chunk of a message, FINAL on its last (which may be
 * empty), BINARY for a binary message. */
void call_on_rx(struct call *c, const void *in, size_t len, int first, int final, int binary);
/* The socket can take one message: send the next queued one, or say it is time to close.
 * 0 keeps the connection; -1 (once per call) hands our close to the transport: send the
 * close frame (code and reason from call_close_status()), then read and discard until the
 * peer's close frame arrives and only then close TCP (RFC 6455 §7.1.1). The timer is armed
 * to bound that wait; after -1 this returns 0 and writes nothing. */
int call_on_writable(struct call *c);
/* 1 while queued messages (or our close) wait for call_on_writable(). */
int call_has_output(const struct call *c);
/* The timer set through call_io fired. 0, or -1: close now. Before our close was handed over
 * (a flush that did not drain) that is the same hand-over as call_on_writable()'s -1; after
 * it, the peer did not answer our close in time and the transport drops the connection. */
int call_on_timer(struct call *c);
/* The peer sent a close frame (code 0 when it had none). */
void call_on_peer_close(struct call *c, int code, const char *reason, size_t reason_len);
/* The transport closed the stream itself for a WebSocket protocol error (lws 4.1.6: RSV
 * bits, a reserved opcode, a stray continuation, an invalid close code from the peer),
 * with close CODE: ws_done says closed_by=server with REASON, unless we or the peer had
 * closed first. One stderr line. */
void call_on_protocol_close(struct call *c, int code, const char *reason);
/* Code and reason to put in our close frame. */
void call_close_status(const struct call *c, int *code, const char **reason);
/* The one teardown: the mode's on_close, WS_DONE and ws_done, counters, free. Safe to
 * call once per call_new(); C is freed. */
void call_done(struct call *c);

/* --- for modes (and the transport) --- */

/* Queue outbound messages (docs/PROTOCOL.md §4.5). -1 before start (there is no
 * streamSid yet), once the call is closing, or when the queue would pass
 * [ws] max_queue_bytes (that also closes the call with 1011). */
int call_send_media(struct call *c, const uint8_t *ulaw, size_t n);
int call_send_mark(struct call *c, const char *name);
int call_send_clear(struct call *c);
/* Barge-in: drop every media message not yet written and put a clear ahead of whatever is
 * still queued, so it leaves next. Queued marks stay (after the clear, Twilio returns them at
 * once: that is how the mode learns their audio was flushed). Returns the media messages
 * dropped, or -1 when the call cannot send. */
long call_flush_media(struct call *c);
/* Media messages queued and not yet written (each 20 ms at 160 bytes). */
size_t call_media_queued(const struct call *c);
/* Ask for the mode's on_drain once the queued media falls to LOW messages or fewer. */
void call_want_drain(struct call *c, size_t low);
/* The mode's own timer, apart from the idle and close timers: on_timer runs after USECS
 * (replacing an earlier one); a negative USECS cancels it. */
void call_set_mode_timer(struct call *c, int64_t usecs);
/* Close the call: our close frame carries CODE and REASON. When FLUSH, queued messages
 * go out first; otherwise they are dropped. */
void call_close(struct call *c, int code, const char *reason, int flush);

uint64_t call_id(const struct call *c);              /* unique in this process, never 0 */
struct call_env *call_get_env(const struct call *c);
const struct mode_ops *call_mode(const struct call *c);
int64_t call_now(const struct call *c);              /* monotonic µs (the env's clock) */
const char *call_sid(const struct call *c);          /* CallSid, "" before start */
const char *call_stream_sid(const struct call *c);   /* streamSid, "" before start */
const struct config *call_config(const struct call *c);
/* customParameters NAME from the start message, or NULL (only inside on_start). */
const char *call_param(const struct call *c, const char *name);
/* The Nth customParameters entry (name and value), 0 when there is none (only inside
 * on_start). */
int call_param_at(const struct call *c, size_t n, const char **name, const char **value);
/* AccountSid from the start message, "" before start. */
const char *call_account_sid(const struct call *c);
/* Per-call state a mode owns (set in on_start, freed in on_close). */
void *call_mode_state(const struct call *c);
void call_set_mode_state(struct call *c, void *state);
/* Append EVENT with KV (key, value, …, NULL) to the call's log file; ignored before start. */
void call_log(const struct call *c, const char *event, const char *const *kv);

#endif
