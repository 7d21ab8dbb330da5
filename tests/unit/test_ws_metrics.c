/* test_ws_metrics: the Prometheus text of GET /metrics: every family with HELP and TYPE, every
 * label value, counts as given, the largest values fit WSMETRICS_TEXT_MAX, small buffers fail. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "metrics.h"

static char text[WSMETRICS_TEXT_MAX];

static int has(const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "\n%s\n", line);
	return strstr(text, want) != NULL || strncmp(text, line, strlen(line)) == 0;
}

int main(void)
{
	static const char *const families[] = {
		"callpipe_ws_active_calls", "callpipe_ws_calls_total",
		"callpipe_ws_media_frames_in_total", "callpipe_ws_media_frames_out_total",
		"callpipe_ws_marks_sent_total", "callpipe_ws_marks_returned_total",
		"callpipe_ws_clears_total", "callpipe_ws_handshake_rejections_total",
		"callpipe_ws_protocol_errors_total",
	};
	static const char *const reasons[] = { "path", "signature", "subprotocol", "capacity",
					       "draining", "memory", "handshake" };
	static const char *const kinds[] = { "json", "binary", "unknown_event",
		"media_before_start", "stream_sid", "base64", "sequence_gap", "too_big",
		"bad_call_sid", "idle", "invalid", "queue_full", "unbound_stream", "memory",
		"start_timeout" };
	struct wsmetrics m;
	char line[256];
	long n, full;
	size_t i;
	int ok = 1;

	memset(&m, 0, sizeof(m));
	m.active_calls = 3;
	m.calls_total = 17;
	m.frames_in = 1000;
	m.marks_returned = 2;
	m.rejections[WSREJ_SIGNATURE] = 4;
	m.errors[WSERR_SEQUENCE_GAP] = 5;
	m.memory_bytes = 123456;
	m.memory_max = 268435456;
	m.idle_shed = 7;
	m.log_lines_dropped = 11;
	n = wsmetrics_render(&m, text, sizeof(text));
	CHECK(n > 0 && (size_t)n == strlen(text));
	CHECK(text[n - 1] == '\n');
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		const char *type = i == 0 ? "gauge" : "counter";

		snprintf(line, sizeof(line), "# TYPE %s %s", families[i], type);
		ok &= has(line);
		snprintf(line, sizeof(line), "# HELP %s ", families[i]);
		ok &= strstr(text, line) != NULL;
	}
	CHECK_MSG(ok, "every family has HELP and TYPE lines");
	CHECK(has("callpipe_ws_active_calls 3"));
	CHECK(has("# TYPE callpipe_ws_memory_bytes gauge"));
	CHECK(has("callpipe_ws_memory_bytes 123456"));
	CHECK(has("callpipe_ws_memory_max_bytes 268435456"));
	CHECK(has("callpipe_ws_log_lines_dropped_total 11"));
	CHECK(has("callpipe_ws_idle_connections_shed_total 7"));
	CHECK(has("callpipe_ws_calls_total 17"));
	CHECK(has("callpipe_ws_media_frames_in_total 1000"));
	CHECK(has("callpipe_ws_media_frames_out_total 0"));
	CHECK(has("callpipe_ws_marks_returned_total 2"));
	CHECK(has("callpipe_ws_handshake_rejections_total{reason=\"signature\"} 4"));
	CHECK(has("callpipe_ws_protocol_errors_total{kind=\"sequence_gap\"} 5"));
	ok = 1;
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		snprintf(line, sizeof(line), "callpipe_ws_handshake_rejections_total{reason=\"%s\"} ",
			 reasons[i]);
		ok &= strstr(text, line) != NULL;
	}
	CHECK_MSG(ok, "every rejection reason is listed");
	ok = 1;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(line, sizeof(line), "callpipe_ws_protocol_errors_total{kind=\"%s\"} ",
			 kinds[i]);
		ok &= strstr(text, line) != NULL;
	}
	CHECK_MSG(ok, "every protocol error kind is listed");
	CHECK_STR(wsmetrics_rej_name(WSREJ_DRAINING), "draining");
	CHECK_STR(wsmetrics_err_name(WSERR_BAD_CALL_SID), "bad_call_sid");
	CHECK_STR(wsmetrics_err_name(WSERR_COUNT), "?");

	/* the largest numbers still fit the buffer /metrics uses */
	memset(&m, 0xff, sizeof(m));
	full = wsmetrics_render(&m, text, sizeof(text));
	CHECK(full > n);
	snprintf(line, sizeof(line), "callpipe_ws_clears_total %llu", ULLONG_MAX);
	CHECK(has(line));
	/* one byte short fails with an empty string; the exact size works */
	CHECK(wsmetrics_render(&m, text, (size_t)full) == -1 && text[0] == '\0');
	CHECK(wsmetrics_render(&m, text, (size_t)full + 1) == full);
	CHECK(wsmetrics_render(&m, NULL, 0) == -1);
	return check_done();
}
