/* metrics: the helper's counters and their Prometheus text rendering for GET /metrics
 * (text format 0.0.4). Plain counters: the lws loop is the only writer. */
#ifndef CALLPIPE_WSMETRICS_H
#define CALLPIPE_WSMETRICS_H

#include <stddef.h>

/* Why an upgrade was refused (callpipe_ws_handshake_rejections_total{reason=…}). */
enum wsmetrics_rej {
	WSREJ_PATH,        /* 404: not /ws/twilio-media(/) */
	WSREJ_SIGNATURE,   /* 403: x-twilio-signature missing or wrong */
	WSREJ_SUBPROTOCOL, /* 400: subprotocols offered, none of them audio.twilio.com */
	WSREJ_CAPACITY,    /* 503: [ws] max_calls reached */
	WSREJ_DRAINING,    /* 503: shutting down */
	WSREJ_MEMORY,      /* 503: [ws] max_memory nearly reached */
	WSREJ_HANDSHAKE,   /* 400/426/431: Sec-WebSocket-Key or -Version wrong, headers too big */
	WSREJ_COUNT
};

/* Protocol errors on accepted streams (callpipe_ws_protocol_errors_total{kind=…}). */
enum wsmetrics_err {
	WSERR_JSON,               /* not JSON / not an object */
	WSERR_INVALID,            /* JSON, but a required field missing or mistyped */
	WSERR_BINARY,             /* a binary message (Twilio: 31950) */
	WSERR_UNKNOWN_EVENT,
	WSERR_MEDIA_BEFORE_START, /* media, dtmf, mark or stop before start */
	WSERR_STREAM_SID,         /* streamSid absent or not the stream's */
	WSERR_BASE64,
	WSERR_SEQUENCE_GAP,       /* sequenceNumber not previous + 1 */
	WSERR_TOO_BIG,            /* message over [ws] max_message: closed with 1009 */
	WSERR_BAD_CALL_SID,       /* start.callSid not CA + 32 hex: closed with 1008 */
	WSERR_IDLE,               /* nothing for [ws] idle_seconds: closed */
	WSERR_QUEUE_FULL,         /* outbound queue over [ws] max_queue_bytes: closed with 1011 */
	WSERR_UNBOUND_STREAM,     /* start without a valid callpipe_token (validate = yes), or
	                             for a CallSid that already has an open stream: 1008 */
	WSERR_MEMORY,             /* largest backlog when [ws] max_memory was reached: 1011 */
	WSERR_NO_START,           /* no start within [ws] start_seconds: closed with 1008 */
	WSERR_COUNT
};

struct wsmetrics {
	unsigned long long active_calls;
	unsigned long long calls_total;
	unsigned long long frames_in;
	unsigned long long frames_out;
	unsigned long long marks_sent;
	unsigned long long marks_returned;
	unsigned long long clears;
	unsigned long long rejections[WSREJ_COUNT];
	unsigned long long errors[WSERR_COUNT];
	/* bytes held for all calls (queued out, being reassembled), against [ws] max_memory */
	unsigned long long memory_bytes;
	unsigned long long memory_max;
	/* connections closed before their request, oldest first, to keep descriptors free */
	unsigned long long idle_shed;
	/* call-log lines dropped because the writer thread's queue was full (logq) */
	unsigned long long log_lines_dropped;
};

/* Label value of a reason or kind ("path", "sequence_gap"…). */
const char *wsmetrics_rej_name(enum wsmetrics_rej r);
const char *wsmetrics_err_name(enum wsmetrics_err e);

/* Render M as Prometheus text into OUT (CAP bytes, NUL-terminated). Returns the length,
 * or -1 when it does not fit (WSMETRICS_TEXT_MAX always does). */
#define WSMETRICS_TEXT_MAX 8192
long wsmetrics_render(const struct wsmetrics *m, char *out, size_t cap);

#endif
