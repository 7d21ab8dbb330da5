/* metrics: label names of the helper's counters and the Prometheus text exposition
 * (format 0.0.4: HELP and TYPE lines, then one sample per line). */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const rej_names[WSREJ_COUNT] = {
	[WSREJ_PATH] = "path",
	[WSREJ_SIGNATURE] = "signature",
	[WSREJ_SUBPROTOCOL] = "subprotocol",
	[WSREJ_CAPACITY] = "capacity",
	[WSREJ_DRAINING] = "draining",
	[WSREJ_MEMORY] = "memory",
	[WSREJ_HANDSHAKE] = "handshake",
};

static const char *const err_names[WSERR_COUNT] = {
	[WSERR_JSON] = "json",
	[WSERR_INVALID] = "invalid",
	[WSERR_BINARY] = "binary",
	[WSERR_UNKNOWN_EVENT] = "unknown_event",
	[WSERR_MEDIA_BEFORE_START] = "media_before_start",
	[WSERR_STREAM_SID] = "stream_sid",
	[WSERR_BASE64] = "base64",
	[WSERR_SEQUENCE_GAP] = "sequence_gap",
	[WSERR_TOO_BIG] = "too_big",
	[WSERR_BAD_CALL_SID] = "bad_call_sid",
	[WSERR_IDLE] = "idle",
	[WSERR_QUEUE_FULL] = "queue_full",
	[WSERR_UNBOUND_STREAM] = "unbound_stream",
	[WSERR_MEMORY] = "memory",
	[WSERR_NO_START] = "start_timeout",
};

const char *wsmetrics_rej_name(enum wsmetrics_rej r)
{
	return (unsigned)r < WSREJ_COUNT ? rej_names[r] : "?";
}

const char *wsmetrics_err_name(enum wsmetrics_err e)
{
	return (unsigned)e < WSERR_COUNT ? err_names[e] : "?";
}

struct out {
	char *buf;
	size_t cap, len;
	int overflow;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->overflow = 1;
		return;
	}
	o->len += (size_t)n;
}

static void one(struct out *o, const char *name, const char *type, const char *help,
		unsigned long long v)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, v);
}

long wsmetrics_render(const struct wsmetrics *m, char *out, size_t cap)
{
	struct out o = { out, cap, 0, 0 };
	int i;

	if (!out || !cap)
		return -1;
	out[0] = '\0';
	one(&o, "callpipe_ws_active_calls", "gauge", "Media streams open now.", m->active_calls);
	one(&o, "callpipe_ws_calls_total", "counter", "Media streams accepted.", m->calls_total);
	one(&o, "callpipe_ws_media_frames_in_total", "counter",
	    "Media messages received from Twilio.", m->frames_in);
	one(&o, "callpipe_ws_media_frames_out_total", "counter",
	    "Media messages sent to Twilio.", m->frames_out);
	one(&o, "callpipe_ws_marks_sent_total", "counter", "Mark messages sent.", m->marks_sent);
	one(&o, "callpipe_ws_marks_returned_total", "counter",
	    "Mark messages Twilio returned.", m->marks_returned);
	one(&o, "callpipe_ws_clears_total", "counter", "Clear messages sent.", m->clears);
	one(&o, "callpipe_ws_memory_bytes", "gauge",
	    "Bytes held for calls (outbound queues, reassembly), bounded by [ws] max_memory.",
	    m->memory_bytes);
	one(&o, "callpipe_ws_memory_max_bytes", "gauge", "[ws] max_memory.", m->memory_max);
	one(&o, "callpipe_ws_idle_connections_shed_total", "counter",
	    "Connections closed before sending a request, to keep descriptors for calls.",
	    m->idle_shed);
	one(&o, "callpipe_ws_log_lines_dropped_total", "counter",
	    "Call-log lines dropped because the writer's queue was full (a stalled disk).",
	    m->log_lines_dropped);

	put(&o, "# HELP callpipe_ws_handshake_rejections_total WebSocket upgrades refused, "
		"by reason.\n# TYPE callpipe_ws_handshake_rejections_total counter\n");
	for (i = 0; i < WSREJ_COUNT; i++)
		put(&o, "callpipe_ws_handshake_rejections_total{reason=\"%s\"} %llu\n",
		    rej_names[i], m->rejections[i]);
	put(&o, "# HELP callpipe_ws_protocol_errors_total Bad input on accepted streams, "
		"by kind.\n# TYPE callpipe_ws_protocol_errors_total counter\n");
	for (i = 0; i < WSERR_COUNT; i++)
		put(&o, "callpipe_ws_protocol_errors_total{kind=\"%s\"} %llu\n",
		    err_names[i], m->errors[i]);
	if (o.overflow) {
		out[0] = '\0';
		return -1;
	}
	return (long)o.len;
}
