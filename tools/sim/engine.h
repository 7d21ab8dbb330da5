/* engine: the state stream.c (lws glue, timer, engine) and callio.c (what one call sends
 * and how it reads what comes back) share; internal to callpipe-sim's stream module. */
#ifndef CALLPIPE_SIM_ENGINE_H
#define CALLPIPE_SIM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "playout.h"
#include "report.h"
#include "simloop.h"
#include "stream.h"

/* The pacing tick: 2 ms keeps each call's frames within 2 ms of their 20 ms slots while
 * one pass over 20000 small structs stays far below a millisecond. It comes from a timerfd
 * in lws's poll set, not an lws timer: lws 4.1 rounds a timer's poll() wait down to whole
 * milliseconds and so spins with poll(0) for the last fraction before each one. */
#define TICK_US 2000
/* Load mode remembers the send time of the last 64 frames (1.28 s) per call; an echo later
 * than that is counted as lost, not timed. */
#define SENT_RING 64
/* After the last frame, this long without anything arriving means the server is done. A
 * sanitizer build on a loaded machine was seen to pause longer than 0.5 s (the echo's tail then
 * counted as lost); a server that echoes everything ends the call at once anyway. */
#define QUIET_US 2000000
/* lws reads into a buffer of this size; bigger messages arrive in pieces we reassemble. */
#define RX_CHUNK 2048
/* One outgoing message: a 160-byte frame is 216 base64 characters plus ~200 of JSON; a
 * start with 64 Parameters of 500 characters (escaped up to 6x) needs more. */
#define TX_MAX (LWS_PRE + 256 * 1024)

enum call_state { C_WAITING, C_CONNECTING, C_OPEN, C_DONE };

struct sim_call {
	struct sim_engine *eng;
	struct lws *wsi;
	unsigned idx;
	enum call_state state;
	unsigned connected_sent:1, start_sent:1, stop_sent:1, closing:1, hook_pending:1,
		 server_closed:1, mismatch:1, stop_queued:1;
	char call_sid[35], account_sid[35], stream_sid[35];
	char *params_json;
	unsigned long seq;             /* the next sequenceNumber */
	uint32_t frames_sent, frames_total, dtmf_next, played_ticks, media_rx;
	int64_t t_start, t_open, t_media0, t_last_tx, t_last_rx, t_close;
	struct sim_playout *po;
	char *rx;                      /* a message being reassembled */
	size_t rx_len, rx_cap;
	int rx_binary, rx_over;
	uint64_t rx_bytes;             /* media bytes received */
	uint8_t part[SIM_FRAME_BYTES]; /* load: bytes of a frame not yet complete */
	uint16_t part_len;
	uint32_t next_expected;        /* load: the counter we expect next */
	int64_t *sent_at;              /* call: per frame; load: ring of SENT_RING */
	uint32_t *sent_idx;            /* load: which frame each ring slot holds */
	struct sim_inject *inj;        /* --inject state (inject.c), NULL when none */
	int16_t *rec;                  /* played-out audio (record) */
	size_t rec_len, rec_cap;
	char tls_verify[96];           /* why OpenSSL refused the server's certificate, or "" */
};

struct sim_engine {
	struct sim_engine_cfg cfg;
	struct sim_totals *t;
	struct lws_context *ctx;
	struct sim_loop *loop;         /* NULL: lws's own poll() loop */
	struct lws_protocols protocols[2];
	int tfd;                       /* the tick's timerfd */
	int64_t grid0;                 /* its first expiry (lws_now_usecs clock); then every TICK_US */
	uint64_t ticks_served;         /* expiries read so far: the next is grid0 + this * TICK_US */
	struct sim_call *calls;
	unsigned ncalls, cap, next_start, active;
	int64_t t0, deadline;
	int finished;
	sim_open_hook hook;
	void *hook_user;
	uint8_t tone[SIM_FRAME_BYTES];
	uint8_t *scratch;              /* decoded payloads (single-threaded, shared) */
	unsigned char *tx;             /* LWS_PRE + one message */
};

/* stream.c: record who closed call 0's WebSocket (SIM_CLOSED_*), when, and how far in;
 * the first one recorded stands. */
void sim_call_closed_by(struct sim_call *c, int who);

/* callio.c: one call on the wire. */
/* Send the one message due next from WRITEABLE; 1 when more wait, 0 when none, -1 to close. */
int sim_call_write_next(struct sim_call *c);
/* Send stop now (from the tick) and close after it. */
void sim_call_send_stop(struct sim_call *c);
/* LWS_CALLBACK_CLIENT_RECEIVE: reassemble, check, act (media, mark, clear). */
void sim_call_receive(struct sim_call *c, struct lws *wsi, const char *in, size_t len);
/* Frames whose 20 ms slot has come (all of them with --fast). */
uint32_t sim_call_frames_due(const struct sim_call *c, int64_t now);
/* The frame after which dtmf digit I of N goes. */
uint32_t sim_call_dtmf_at(const struct sim_call *c, size_t i, size_t n);

#endif
