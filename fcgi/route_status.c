/* route_status: Twilio's status callbacks, /webhook/stream_status (the <Stream>
 * statusCallback) and /webhook/call_status (the call's status callback): a log line, 204. */
#include "route.h"

/* docs/PROTOCOL.md §1.4: answer 2xx quickly. This callback is the only
 * place where handshake failures (31920 …) become visible, so StreamError goes into the
 * call's log verbatim (logfmt-quoted by calllog). */
void route_stream_status(struct route_ctx *rc, struct response *resp)
{
	const char *kv[] = {
		"stream_event", route_param(rc, "StreamEvent"),
		"stream_sid", route_param(rc, "StreamSid"),
		"stream_name", route_param(rc, "StreamName"),
		"stream_error", route_param(rc, "StreamError"),
		"timestamp", route_param(rc, "Timestamp"),
		"sig", rc->sig,
		NULL
	};

	route_log(rc, "stream_status", kv);
	route_respond(resp, 204, NULL, NULL, 0);
}

/* The call's status callback: with CallStatus=completed (or busy, failed, no-answer,
 * canceled) it is the last line of a finished call, with its CallDuration in seconds. */
void route_call_status(struct route_ctx *rc, struct response *resp)
{
	const char *kv[] = {
		"call_status", route_param(rc, "CallStatus"),
		"call_duration", route_param(rc, "CallDuration"),
		"sig", rc->sig,
		NULL
	};

	route_log(rc, "call_status", kv);
	route_respond(resp, 204, NULL, NULL, 0);
}
