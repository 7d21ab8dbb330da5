/* report: what a simulated call or load run observed (counters, errors by Twilio code,
 * latency) and how it is told: a human summary with a PASS/FAIL line, or --json. */
#ifndef CALLPIPE_SIM_REPORT_H
#define CALLPIPE_SIM_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "inject.h"
#include "stats.h"

/* Distinct error codes kept (each with its count and first message); more are summed
 * under the last slot. docs/PROTOCOL.md §5 names 13 stream codes. */
#define SIM_ERRKINDS 16
#define SIM_ERRTEXT 240

enum sim_closed_by {
	SIM_CLOSED_NONE,       /* still open when the run was cut */
	SIM_CLOSED_CLIENT,     /* we sent the close frame first */
	SIM_CLOSED_SERVER,     /* the server's close frame came first */
	SIM_CLOSED_DROPPED,    /* the TCP connection ended without a close frame */
};

struct sim_errstat {
	int code;                  /* Twilio error code, or 0 for faults Twilio names none for */
	unsigned long count;
	char first[SIM_ERRTEXT];   /* the first occurrence, in words */
};

struct sim_totals {
	/* calls */
	unsigned long calls, connected, completed, handshake_failures, cut_at_deadline;
	unsigned long server_closed_early;   /* server closed before our stop */
	unsigned long max_concurrent;
	/* handshake (the first call's, or the first failure's) */
	long http_status;                    /* 101 on success; 0 when none came back */
	char subprotocol_offered[128];
	char subprotocol[64];                /* answered; "" for none */
	char handshake_error[SIM_ERRTEXT];
	/* media */
	unsigned long frames_sent, frames_received, dtmf_sent;
	uint64_t bytes_sent, bytes_received, bytes_matched;
	long long mismatch_at;               /* first byte offset that differed, -1 none */
	unsigned long frames_lost, out_of_order, corrupted;
	unsigned long marks_received, marks_returned, marks_flushed, marks_unreturned;
	unsigned long clears, clears_before_media;
	double first_echo_ms;                /* -1 when nothing came back */
	struct sim_hist *latency;            /* per-frame echo latency, µs */
	struct sim_hist *send_lag;           /* how late frames left vs their 20 ms slot, µs */
	/* load: echo arrival minus the frame's 20 ms slot (not its write), µs: what a caller
	 * hears when the server's backpressure kept frames waiting in the generator */
	struct sim_hist *due_latency;
	/* load: how late the generator's own pacing tick ran against its grid, µs (per tick;
	 * a missed tick counts from the oldest). Its loop's lateness, whatever the server does. */
	struct sim_hist *tick_lag;
	/* close (the first call's) */
	int closed_by;                       /* SIM_CLOSED_*: who closed the WebSocket */
	int close_after_stop;                /* ... after our stop had gone out */
	int close_code;                      /* the server's close code (1006: dropped), 0 none */
	char close_reason[124];
	double close_at_s;                   /* when, in seconds after the socket opened */
	unsigned long frames_before_close;   /* media frames sent by then */
	double stream_seconds;               /* first call: open to close */
	/* bad input injected (call --inject; the first call's), in the order given */
	unsigned ninject;
	struct sim_inject_stat inject[SIM_INJ_NKINDS];
	/* errors */
	size_t nerrors;
	struct sim_errstat errors[SIM_ERRKINDS];
};

void sim_totals_init(struct sim_totals *t);
void sim_totals_free(struct sim_totals *t);
/* Count one error with CODE; the first message per code is kept. */
void sim_totals_error(struct sim_totals *t, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
unsigned long sim_totals_error_count(const struct sim_totals *t);
/* Add SRC's counts, histograms and errors to DST (load threads into one report). What
 * describes one call (the handshake, who closed, injections) comes from the first SRC that
 * has it: thread 0 holds call 0. */
void sim_totals_merge(struct sim_totals *dst, const struct sim_totals *src);

/* One line of advice for CODE (what it means, what to look at), or NULL. */
const char *sim_error_advice(int code);

/* Human text of the error table ("  31951 x3  media message with streamSid …"). */
void sim_report_errors(FILE *f, const struct sim_totals *t);
/* The latency line and the errors as JSON members (no braces), for --json writers. */
void sim_report_json_common(FILE *f, const struct sim_totals *t);
/* A JSON string literal (quotes included) for S. */
void sim_json_string(FILE *f, const char *s);

#endif
