/* inject: bad input `callpipe-sim call --inject` puts on a Media Stream (non-JSON, binary,
 * unknown events, media before start or with a wrong streamSid, fragments, oversize, ...). */
#ifndef CALLPIPE_SIM_INJECT_H
#define CALLPIPE_SIM_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum sim_inject_kind {
	SIM_INJ_JSON,          /* a text frame that is not JSON */
	SIM_INJ_BINARY,        /* a binary frame (Twilio never sends one: 31950) */
	SIM_INJ_UNKNOWN,       /* valid JSON, unknown event */
	SIM_INJ_EARLY_MEDIA,   /* one media message between connected and start */
	SIM_INJ_STREAM_SID,    /* a media message with another streamSid */
	SIM_INJ_BASE64,        /* a media message whose payload is not base64 */
	SIM_INJ_FRAGMENTED,    /* every outbound message in 3 WebSocket fragments */
	SIM_INJ_TOO_BIG,       /* one text message of --inject-size bytes */
	SIM_INJ_BAD_CALL_SID,  /* start.callSid = CA../../etc/passwd */
	SIM_INJ_NKINDS
};

/* --inject-size: the default is just over callpipe-ws's [ws] max_message (64 KiB); the
 * most is what one simulator call may hold in memory for it. */
#define SIM_INJECT_SIZE_DEFAULT 70000
#define SIM_INJECT_SIZE_MIN 128
#define SIM_INJECT_SIZE_MAX (16u * 1024 * 1024)
/* Mid-call kinds go after media frame FIRST, then one every GAP frames, in the order given
 * (with fewer frames than that they all go after the last frame, before stop). */
#define SIM_INJECT_FIRST 5
#define SIM_INJECT_GAP 5

struct sim_inject_cfg {
	unsigned mask;                           /* 1 << kind for each kind asked */
	unsigned char order[SIM_INJ_NKINDS];     /* the kinds in the order given */
	unsigned n;
	size_t size;                             /* too-big: message bytes */
};

enum sim_inject_outcome {
	SIM_INJO_NOT_SENT,     /* the call ended (or the server closed) before its turn */
	SIM_INJO_KEPT,         /* the server went on with the call */
	SIM_INJO_CLOSED,       /* the server closed the stream on it */
	SIM_INJO_ECHOED,       /* media the server must ignore came back as audio */
	SIM_INJO_UNCLEAR,      /* sent, then the server closed; nothing shows whether this did it */
};

/* What happened to one injected kind: filled while the call runs (call 0 only) and
 * concluded when it ends. */
struct sim_inject_stat {
	int kind;
	int sent;
	uint32_t after_frame;          /* media frames sent before it */
	double at_s;                   /* seconds after the socket opened */
	size_t bytes;                  /* the message's size (fragmented: messages sent) */
	unsigned long fragments;       /* WebSocket frames it went out in */
	int echoed;
	enum sim_inject_outcome outcome;
	char detail[240];
};

/* The kind's name on the command line ("too-big"), or "?". */
const char *sim_inject_name(int kind);
/* Parse "json,binary,..." into CFG (size untouched); 0, or -1 with err naming the word. */
int sim_inject_parse(const char *list, struct sim_inject_cfg *cfg, char *err, size_t errlen);

/* The engine's side, in inject.c (struct sim_call is engine.h's). */
struct sim_call;
struct sim_totals;
/* Put one outbound message on the wire (in fragments when asked, from WRITEABLE only);
 * 0 or -1 to close. */
int sim_inject_send(struct sim_call *c, const char *msg, size_t len, int binary);
/* 1 while a fragmented message is half sent: send its next fragment before anything else
 * (sim_inject_continue: 0 or -1). */
int sim_inject_busy(const struct sim_call *c);
int sim_inject_continue(struct sim_call *c);
/* Right after connected (early-media): 1 sent, 0 nothing to send, -1 to close. */
int sim_inject_before_start(struct sim_call *c);
/* The callSid start carries (bad-call-sid replaces the real one, and counts as sent). */
const char *sim_inject_start_call_sid(struct sim_call *c);
/* Mid-call: 1 when an injection is due now (or -1 on error, after sending it with
 * sim_inject_write_due), 0 when none. */
int sim_inject_due(const struct sim_call *c);
int sim_inject_write_due(struct sim_call *c);
/* 1 while mid-call injections remain (the call must not hang up yet). */
int sim_inject_pending(const struct sim_call *c);
/* A media payload from the server: 1 when it is one we injected (then it is not echo). */
int sim_inject_echo_seen(struct sim_call *c, const uint8_t *p, size_t n);
/* The call ended: decide each injection's outcome into T. */
void sim_inject_conclude(struct sim_call *c, struct sim_totals *t);
void sim_inject_free(struct sim_call *c);

/* The run's verdict on the injections: 1 with OUT filled when one fails the call (media
 * the server had to ignore came back; without --expect-close, a close on input a server
 * must survive), else 0. */
int sim_inject_failure(const struct sim_totals *t, int expect_close, char *out, size_t cap);
/* One "inject" line per kind, or with JSON the "injections":[…] member (no comma). */
void sim_inject_report(FILE *f, const struct sim_totals *t, int json);

#endif
