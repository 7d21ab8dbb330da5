/* call_int: what call.c (state, output, timers, teardown) and call_rx.c (messages in) share
 * about one call; private to the call module, nothing else includes it. */
#ifndef CALLPIPE_CALL_INT_H
#define CALLPIPE_CALL_INT_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

#include "bytebuf.h"
#include "call.h"
#include "metrics.h"
#include "twmsg.h"

/* Close codes (RFC 6455 §7.4.1). */
#define CLOSE_NORMAL       1000
#define CLOSE_GOING_AWAY   1001
#define CLOSE_NO_STATUS    1005
#define CLOSE_ABNORMAL     1006
#define CLOSE_POLICY       1008
#define CLOSE_TOO_BIG      1009
#define CLOSE_INTERNAL     1011

/* A close we asked for must have been handed to the transport by then (a flush that does not
 * drain), or the timer hands it over anyway. */
#define CLOSE_FORCE_US (5 * 1000000LL)
/* Once our close frame is handed over, the peer gets this long to answer with its own close
 * (RFC 6455 §5.5.1, §7.1.1: the server closes TCP after that); then the timer drops the
 * connection. lws 4.1.6 would wait 5 s (PENDING_TIMEOUT_CLOSE_ACK); 2 s is plenty for a peer
 * that speaks WebSocket and keeps a SIGTERM drain short. */
#define CLOSE_ACK_US (2 * 1000000LL)

enum qkind { Q_MEDIA, Q_MARK, Q_CLEAR };

/* One outbound message: allocated when queued, freed once written. */
struct qent {
	struct qent *next;
	size_t len;
	size_t alloc;          /* bytes allocated, as accounted against [ws] max_memory */
	size_t raw_len;        /* Q_MEDIA while recording: the µ-law, the last bytes of alloc */
	unsigned char kind;
	unsigned char buf[];   /* env->pre bytes of headroom, then the JSON text */
};

struct call_env {
	const struct config *cfg;
	const struct mode_ops *default_mode;
	struct wsmetrics *m;
	const struct call_io *io;
	size_t pre;
	struct call *head;
	size_t count;
	struct twmsg *msg;          /* parse scratch: the lws loop handles one message at a time */
	uint8_t *payload;           /* decoded media scratch: 3/4 of [ws] max_message */
	size_t payload_cap;
	char (*keys)[TWMSG_PARAM_LEN + 8];  /* param_<Name> keys for ws_start */
	uint64_t next_id;           /* call ids: a counter, never reused in a process */
	size_t mem_bytes;           /* held for all calls: queue entries, reassembly buffers */
	pthread_mutex_t wake_lock;  /* guards the waker: workers read it, the loop clears it */
	void (*wake)(void *arg);
	void *wake_arg;
};

struct calllog_file;

struct call {
	struct call_env *env;
	uint64_t id;
	void *ctx;
	struct call *prev, *next;
	const struct mode_ops *mode;
	void *mode_state;
	const struct twmsg *start;  /* the start message, only while on_start runs */

	/* handshake facts; paths are checked before the upgrade, so these fit */
	char path[24];
	char subprotocol[20];
	char peer[48];
	char xff[128];
	char stream_sid[TWMSG_SID_MAX];
	char call_sid[TWMSG_SID_MAX];
	char account_sid[TWMSG_SID_MAX];

	/* closing: call_close() ran; close_sent: call_on_writable() (or the timer) handed our
	 * close to the transport, which now waits for the peer's close */
	unsigned started : 1, stopped : 1, closing : 1, flush : 1, close_sent : 1, peer_closed : 1,
		 done : 1, has_seq : 1;
	int close_code, peer_code;
	char close_reason[64], peer_reason[64];

	unsigned long long rx, tx, marks_sent, marks_returned, clears, last_seq;
	unsigned errors[WSERR_COUNT];
	int64_t t_open_us, last_rx_us;

	/* reassembly of fragmented messages (lws delivers chunks); capped at [ws] max_message,
	 * its allocation accounted in mem */
	struct bytebuf rxb;
	unsigned rx_binary : 1, rx_discard : 1;
	size_t rx_acct;             /* of which accounted for rxb (its allocation) */
	size_t mem;                 /* this call's share of env->mem_bytes */

	struct qent *qhead, *qtail;
	size_t qbytes;
	size_t qmedia;              /* Q_MEDIA entries in the queue */
	size_t drain_low;           /* on_drain once qmedia <= this; 0 with !want_drain */
	unsigned want_drain : 1;
	int64_t mode_due_us;        /* the mode's timer, 0 when none */
	/* the call's log file: made at the first line after start, released in call_done
	 * (lines still queued for logq's writer keep it open until written) */
	struct calllog_file *log;
	/* [agent] record: the caller's side and what the caller heard (speech/recorder.h);
	 * NULL when not recording */
	struct recorder *rec_in, *rec_out;
};

/* Monotonic microseconds (env->io->now_us when a test fakes the clock). */
int64_t call_now_us(const struct call_env *env);
/* One line on stderr, written with one write(). */
void call_elog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Peer text made safe for a stderr line: one word ("-" when empty), or a value to print
 * inside "…". */
const char *call_safe(const char *s, char *buf, size_t cap);
const char *call_quoted(const char *s, char *buf, size_t cap);
/* SRC (NULL is "") into DST, cut to CAP. */
void call_copy(char *dst, size_t cap, const char *src);
/* Account N more bytes for C against [ws] max_memory. When that would pass it, the call
 * with the largest backlog (which may be C) is closed (1011, logged) and its memory
 * released, until N fits. 0 when N is accounted; -1 when it is not (C was closed). */
int call_mem_reserve(struct call *c, size_t n);
/* Account N bytes for C without a check (memory already taken). */
void call_mem_add(struct call *c, size_t n);
/* Give back N bytes accounted for C. */
void call_mem_release(struct call *c, size_t n);
/* Drop C's reassembly buffer (and its accounting). */
void call_rx_free(struct call *c);
/* Recording ([agent] record, call_rec.c): both sides made once the start is accepted (and
 * logged); every accepted inbound payload; closed in call_done. */
void call_rec_start(struct call *c);
void call_rec_media(struct call *c, const uint8_t *ulaw, size_t n);
void call_rec_close(struct call *c);
/* Count a protocol error; log the first of each kind per call. */
void call_proto_error(struct call *c, enum wsmetrics_err kind, const char *detail);

#endif
