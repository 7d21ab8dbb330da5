/* callrun: the steps of `callpipe-sim call` (options, webhook, TwiML, stream, callbacks)
 * and its verdict, kept apart from main so tests and the load command can reuse them. */
#ifndef CALLPIPE_SIM_CALLRUN_H
#define CALLPIPE_SIM_CALLRUN_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "inject.h"
#include "report.h"
#include "say.h"
#include "twiml.h"
#include "twsig.h"

struct sim_callopts {
	const char *base;              /* BASE_URL; NULL with --stream-url alone */
	const char *token, *public_base, *from, *to, *call_sid;
	const char *account_sid;       /* --account-sid, NULL: random AC + 32 hex */
	const char *stream_token;      /* --stream-token: send this callpipe_token */
	int no_stream_token;           /* --no-stream-token: send none */
	const char *webhook_path, *status_path;
	int no_call_status;
	const char *stream_url;        /* --stream-url: skip the webhook */
	char connect_host[256];        /* --connect, "" when not given */
	int connect_port;
	int tls, insecure, no_subprotocol;
	const char *subprotocols, *ws_signature;
	const char *audio_file;
	double seconds, drain;
	int fast, expect_echo, json, trace, lws_debug;
	const char *dtmf, *record;
	long timeout_ms;
	struct twsig_param *extra;     /* --param pairs (names malloc'd) */
	size_t nextra;
	struct sim_inject_cfg inject;  /* --inject, --inject-size */
	int expect_close;              /* --expect-close CODE, 0 none */
	/* --agent: play the caller of an agent (callpipe-ws in agent mode) */
	int agent, expect_hangup;
	double max_seconds, quiet_ms, dtmf_gap_ms;
	struct sim_agent_cfg agent_cfg; /* --dtmf groups (one per wait) and --dtmf-at */
	int seconds_given, drain_given, ndtmf_at;
	size_t ndtmf_args;
	const char *dtmf_args[SIM_AGENT_GROUPS_MAX + 1];
	double dtmf_arg_at[SIM_AGENT_GROUPS_MAX + 1];   /* -1: --dtmf */
	unsigned dtmf_arg_order[SIM_AGENT_GROUPS_MAX + 1];
	/* --say FILE (repeatable; in command-line order with the --dtmf groups), --say-at S
	 * (times the --say after it), --say-raw-rate HZ */
	size_t nsay_args;
	const char *say_args[SIM_AGENT_SAYS_MAX + 1];
	double say_arg_at[SIM_AGENT_SAYS_MAX + 1];      /* -1: at a wait */
	unsigned say_arg_order[SIM_AGENT_SAYS_MAX + 1];
	unsigned nargs_ordered;        /* --dtmf, --dtmf-at and --say seen so far */
	double say_at_pending;         /* a --say-at waiting for its --say, -1 none */
	int say_raw_rate;
	struct sim_say_clip *says;     /* the clips loaded (nsay_args), owned */
};

#define SIM_CALLBACKS_MAX 4

struct sim_callback_result {
	char what[32];                 /* stream-started, stream-stopped, stream-error, completed */
	char url[4096];
	long status;                   /* 0: no response */
	char error[256];
};

struct sim_callrun {
	int failed;
	char reason[600];
	char call_sid[64], account_sid[35], stream_sid[35];
	/* webhook */
	int webhook_sent;
	char webhook_url[2048];
	long webhook_status;
	char webhook_ctype[256];
	double webhook_ms;
	char webhook_error[256];
	char *webhook_body;            /* kept for the report when it is not TwiML */
	/* TwiML */
	struct sim_twiml *twiml;
	int twiml_ok;
	/* stream */
	int stream_tried;
	char stream_url[SIM_TWIML_URL_MAX];
	char dial[320];                /* "host:port (tls)" */
	struct sim_totals totals;
	size_t audio_len;
	/* callbacks */
	size_t ncallbacks;
	struct sim_callback_result callbacks[SIM_CALLBACKS_MAX];
	double duration_s;
	struct sim_agent *agent;       /* --agent: what the caller heard and pressed */
};

/* Parse `call` options: 0, an exit status (>0), or -1 for --help. */
int sim_callopts_parse(int argc, char **argv, struct sim_callopts *o);
void sim_callopts_free(struct sim_callopts *o);

/* Run the call with AUDIO (µ-law, whole frames). RUN is filled (free with
 * sim_callrun_free); run->failed and run->reason carry the verdict. Returns 0. */
int sim_callrun_execute(const struct sim_callopts *o, const uint8_t *audio, size_t audio_len,
			struct sim_callrun *run);
/* Only the incoming_call webhook and the TwiML check, for RUN's call_sid/account_sid
 * (RUN zeroed with twiml allocated). 0 when the TwiML opens a stream, else -1 with
 * run->reason. */
int sim_callrun_webhook(const struct sim_callopts *o, struct sim_callrun *run);
/* Print the summary (or --json) on stdout. */
void sim_callrun_report(const struct sim_callopts *o, const struct sim_callrun *run);
void sim_callrun_free(struct sim_callrun *run);

/* How the call's WebSocket ended, in words ("closed by server: 1009 (message too big),
 * before the call ended"). */
void sim_callrun_close_words(const struct sim_totals *t, char *out, size_t cap);

/* Parse "HOST:PORT" ("[v6]:PORT" too); 0 or -1. */
int sim_parse_hostport(const char *s, char *host, size_t cap, int *port);

#endif
