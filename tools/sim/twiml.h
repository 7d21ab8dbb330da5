/* twiml: parse the TwiML an incoming_call webhook answers with (libxml2) and check it the
 * way Twilio would before it opens a Media Stream (docs/PROTOCOL.md §2). */
#ifndef CALLPIPE_SIM_TWIML_H
#define CALLPIPE_SIM_TWIML_H

#include <stddef.h>

/* docs/PROTOCOL.md §2.3: each <Parameter>'s name+value is under 500 characters. */
#define SIM_TWIML_PARAM_MAX 500
/* Twilio documents no count; 64 is far beyond what <Stream> carries in practice. */
#define SIM_TWIML_PARAMS_MAX 64
#define SIM_TWIML_URL_MAX 2048
#define SIM_TWIML_ISSUES_MAX 16
/* Twilio reads TwiML documents up to 64 KB. */
#define SIM_TWIML_DOC_MAX (64u * 1024)

/* Characters are counted, not bytes: a UTF-8 character takes up to 4. */
#define SIM_TWIML_PARAM_BYTES (4 * SIM_TWIML_PARAM_MAX + 1)

struct sim_twiml_param {
	char name[SIM_TWIML_PARAM_BYTES];
	char value[SIM_TWIML_PARAM_BYTES];
};

struct sim_twiml_issue {
	int code;          /* Twilio error code, 0 when Twilio names none */
	int fatal;         /* 1: Twilio would not stream (or we cannot); 0: a warning */
	char text[240];
};

struct sim_twiml {
	int has_stream;            /* a <Stream> was found under <Connect> or <Start> */
	int bidirectional;         /* 1 under <Connect>, 0 under <Start> (listen only) */
	char url[SIM_TWIML_URL_MAX];        /* as written */
	char stream_url[SIM_TWIML_URL_MAX]; /* what Twilio dials: url without its query */
	char name[256];
	char track[64];
	char status_callback[SIM_TWIML_URL_MAX];
	char status_method[8];     /* "POST" (default) or "GET" */
	size_t nparams;
	struct sim_twiml_param params[SIM_TWIML_PARAMS_MAX];
	char before[256];          /* verbs Twilio runs before the stream, "Say Pause" */
	char after[256];           /* verbs after it (run when the stream ends) */
	size_t nissues;
	struct sim_twiml_issue issues[SIM_TWIML_ISSUES_MAX];
};

/* Parse LEN bytes of TwiML into OUT (zeroed first). Returns 0 when Twilio would open the
 * stream (warnings may be in issues), -1 when an issue is fatal (malformed XML, root not
 * <Response>, no <Stream>, no or bad url, bad track, a Parameter over the limit…). */
int sim_twiml_parse(const char *xml, size_t len, struct sim_twiml *out);

/* The first fatal issue's text, or "" (for one-line reasons). */
const char *sim_twiml_first_error(const struct sim_twiml *t);

#endif
