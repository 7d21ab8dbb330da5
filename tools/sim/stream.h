/* stream: Twilio's side of Media Streams over a libwebsockets client: one context, any
 * number of calls, one timer tick pacing every call's 20 ms frames and its play-out. */
#ifndef CALLPIPE_SIM_STREAM_H
#define CALLPIPE_SIM_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "inject.h"
#include "report.h"
#include "twsig.h"

/* A server message is at most 10 minutes of µ-law in base64 plus its JSON: anything larger
 * could only overflow Twilio's buffer (31931). 600 s * 8000 B * 4/3 = 6.4 MB. */
#define SIM_RX_MAX (8u * 1024 * 1024)
/* Load mode: no more calls than this (one fd each). */
#define SIM_CALLS_MAX 20000

struct sim_engine_cfg {
	/* Where to dial and what the upgrade says. */
	char connect_host[256];
	int connect_port;
	char host_header[300];      /* Host: as the Stream url has it */
	char path[2048];            /* the Stream url's path (Twilio drops the query) */
	int tls;                    /* wss:// */
	int insecure;               /* accept any certificate (--insecure) */
	const char *subprotocols;   /* Sec-WebSocket-Protocol offered, NULL: none */
	const char *signature;      /* X-Twilio-Signature on the upgrade, NULL: none */
	/* What each call sends. */
	const uint8_t *audio;       /* µ-law, a whole number of 160-byte frames */
	size_t audio_len;
	const char *dtmf;           /* digits spread through the call, NULL: none */
	int fast;                   /* send media as fast as possible */
	int load;                   /* payloads carry frame counters; aggregate stats only */
	int listen_only;            /* <Start><Stream>: audio back is 31924 */
	int record;                 /* keep the played-out audio (call mode) */
	double drain_seconds;       /* after the last frame: wait this long at most */
	struct sim_inject_cfg inject;   /* bad input to send (call mode; n == 0: none) */
	/* call --agent: call 0 is the caller of an agent (not owned; NULL: echo call). AUDIO
	 * is then one frame sent over and over, AUDIO_LEN what --max-seconds allows; keys
	 * come from the agent, hang-up when its script is done. */
	struct sim_agent *agent;
	/* Load mode. */
	unsigned ncalls;
	double ramp;                /* calls started per second (0: all at once) */
	double hard_stop_seconds;   /* from the first start; calls still open are cut */
	int trace;                  /* print each message on stderr */
	int lws_debug;
	int event_loop;             /* enum sim_loop_kind: SIM_LOOP_POLL (0) or SIM_LOOP_LIBEV */
	int tick_writes;            /* load: write due frames from the tick, not via WRITEABLE */
	int no_ssl_global_init;     /* load threads after the first: OpenSSL is set up once */
};

/* Called from the service loop (never inside an lws callback, so it may block, e.g. for
 * an HTTP status callback) once a call's socket is open and before start is sent. */
typedef void (*sim_open_hook)(void *user, unsigned call);

struct sim_engine;

/* A context ready to run CFG (copied, but AUDIO, DTMF, SUBPROTOCOLS and SIGNATURE must
 * outlive the engine). NULL with err filled. */
struct sim_engine *sim_engine_new(const struct sim_engine_cfg *cfg, struct sim_totals *totals,
				  char *err, size_t errlen);
/* Add a call with its sids and start.customParameters (a JSON object, copied; NULL: {}).
 * Returns its index, or -1. */
int sim_engine_add(struct sim_engine *e, const char *call_sid, const char *account_sid,
		   const char *params_json);
/* Replace where and how calls dial (connect_host/port, host_header, path, tls, signature)
 * with DIAL's; for load, which learns the Stream url after the engine is made. */
void sim_engine_set_dial(struct sim_engine *e, const struct sim_engine_cfg *dial);
void sim_engine_on_open(struct sim_engine *e, sim_open_hook hook, void *user);
/* Run every call to its end (or the hard stop); totals are filled as it goes. */
void sim_engine_run(struct sim_engine *e);
/* The stream sid given to call I, and the seconds it was open; after run. */
const char *sim_engine_stream_sid(const struct sim_engine *e, unsigned i);
/* Call I's played-out audio (16-bit 8 kHz, decoded µ-law) when cfg.record was set. */
const int16_t *sim_engine_recording(const struct sim_engine *e, unsigned i, size_t *n);
void sim_engine_free(struct sim_engine *e);

/* What a handshake failure string from libwebsockets maps to: a Twilio code and words. */
int sim_handshake_code(const char *lws_reason, long http_status, char *why, size_t cap);

/* Load-mode payload: frame counter and call index in the first 8 bytes of FRAME (160). */
void sim_load_frame(uint8_t *frame, uint32_t call, uint32_t counter);
/* 0 when FRAME is one sim_load_frame made (counter and call filled), else -1. */
int sim_load_frame_parse(const uint8_t *frame, uint32_t *call, uint32_t *counter);

#endif
