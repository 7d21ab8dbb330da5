/* logsum: one call's summary for `callpipe-log list` (who called, how long, what the stream
 * did, how it ended), built from its parsed log lines one at a time. */
#ifndef CALLPIPE_LOGSUM_H
#define CALLPIPE_LOGSUM_H

#include <stddef.h>

#include "logparse.h"

/* Display fields are cut to these sizes (a phone number, a SIP URI or client:name fits). */
#define LOGSUM_FIELD_MAX 96
#define LOGSUM_STREAMS_MAX 96
#define LOGSUM_OUTCOME_MAX 48

/* A call counts as still in progress when its last line is younger than this and no final
 * call_status arrived: Twilio ends a call after 4 hours unless the account asked for more. */
#define LOGSUM_IN_PROGRESS_MS (4LL * 3600 * 1000)

struct logsum {
	char callsid[40];
	int have_time;			/* at least one line parsed */
	long long first_ms, last_ms;
	char from[LOGSUM_FIELD_MAX];
	char to[LOGSUM_FIELD_MAX];
	int from_incoming;		/* from/to came from incoming_call (not ws_start) */
	char call_status[32];		/* the last call_status line's status ("" if none) */
	long long call_duration_s;	/* -1 when no call_status line gave one */
	char streams[LOGSUM_STREAMS_MAX];	/* "started,stopped", "error:31920" */
	char stream_error[16];		/* first stream-error code ("31920" or "?") */
	char rejected[16];		/* status of the first fcgi rejected line ("403", "?") */
	char error[16];			/* status of the first fcgi error line */
	char ws_close[16];		/* the first abnormal ws_done close_code */
	int ws_idle;			/* the helper closed the stream for silence */
	char ws_errors[LOGSUM_STREAMS_MAX];	/* ws_done errors_<kind>: "json=2,base64=1" */
	int agent;			/* an agent call (ws "agent" line, or mode=agent) */
	unsigned long turns, turn_errors;	/* the agent's turn requests, failed ones */
	char hangup[32];		/* why the agent hung up ("" when it did not) */
	unsigned long lines, malformed;
	int partial;			/* the middle of a big file was not read */
};

void logsum_init(struct logsum *s, const char *callsid);

/* Account for one parsed line (lines in file order). */
void logsum_add(struct logsum *s, const struct logparse_line *ln);

/* Account for a line that did not parse. */
void logsum_add_malformed(struct logsum *s);

/* The call's duration in milliseconds: call_duration when a call_status line gave it,
 * else last minus first event; -1 when no line parsed. *FROM_STATUS (may be NULL) says
 * which. */
long long logsum_duration_ms(const struct logsum *s, int *from_status);

/* One word for how the call went, worst news first: stream-error (a stream_status
 * stream-error), error:500 (fcgi answered 5xx), rejected:403 (fcgi answered 4xx),
 * ws-error:1006 (ws_done closed with a code other than 1000, 1001, 1005), ws-idle (the
 * helper closed a silent stream), then the last call_status (completed, busy, no-answer,
 * failed, canceled…), else in-progress when the last line is recent (NOW_MS), else
 * unknown. */
void logsum_outcome(const struct logsum *s, long long now_ms, char *buf, size_t cap);

/* "agent: 3 turns, 1 turn error, hung up max_timeouts" for an agent call, else "". */
void logsum_agent_note(const struct logsum *s, char *buf, size_t cap);

/* "850ms", "12.3s", "4m05s", "2h03m". */
void logsum_format_duration(char *buf, size_t cap, long long ms);

#endif
