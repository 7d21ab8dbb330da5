/* turnclient: the agent's turn POSTs on one thread running a libcurl multi handle: a signed
 * form body, the answer streamed into turnparse, each verb handed back as soon as it closes. */
#ifndef CALLPIPE_TURNCLIENT_H
#define CALLPIPE_TURNCLIENT_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct resq;
struct turnclient;

/* What a turn sends back through the result queue (struct result, SEQ = the turn's seq). */
enum {
	/* the status line and headers arrived: a = HTTP status, b = ms from start to first
	 * byte; text = the Content-Type */
	RESULT_TURN_HEAD = 100,
	/* one verb: data = struct turn_verb (a copy: text and gather owned by it, freed with
	 * free_data), a = index of the verb in the body */
	RESULT_TURN_VERB,
	/* a skipped element or attribute: text = the warning */
	RESULT_TURN_WARN,
	/* the turn ended: a = 0 when it succeeded, else -1 and text = what was wrong (one
	 * line: "HTTP 500", "content type text/html is not TwiML", "timed out after 10000 ms",
	 * "body over 65536 bytes", "line 2: ..."), b = ms from start to complete; len = body
	 * bytes received. Nothing follows it for this seq. */
	RESULT_TURN_DONE,
};

/* A client posting for CFG ([agent] turn_timeout_ms, max_turn_bytes, max_verbs,
 * max_say_chars, connect_to; [twilio] auth_token signs) with results into Q. Starts its
 * thread. NULL with err filled. */
struct turnclient *turnclient_new(const struct config *cfg, struct resq *q, char *err,
				  size_t errlen);
/* POST the form KV (key, value, …, NULL; copied) to URL for call CALL_ID as turn SEQ. The
 * signature is X-Twilio-Signature over URL and KV (docs/PROTOCOL.md §3). 0, or -1 (no memory, or
 * shutting down) with no result to come. */
int turnclient_post(struct turnclient *tc, uint64_t call_id, unsigned seq, const char *url,
		    const char *const *kv);
/* Abort every transfer of CALL_ID (the call ended, or a Redirect/barge-in replaced the
 * turn): no result for it is queued after this returns. */
void turnclient_cancel(struct turnclient *tc, uint64_t call_id);
/* Abort everything, join the thread, free. */
void turnclient_free(struct turnclient *tc);

/* Free a struct turn_verb copy made for RESULT_TURN_VERB (the free_data of those results). */
void turnclient_verb_free(void *verb);

#endif
