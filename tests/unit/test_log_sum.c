/* test_log_sum: callpipe-log's per-call summary (outcome, duration, stream events) and its
 * bounded line reader (cut lines, missing final newline, read limits, offsets). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "../../tools/log/lineread.h"
#include "../../tools/log/logparse.h"
#include "../../tools/log/logsum.h"

static struct logparse_line *ln;

#define T0 "2026-11-24T10:15:02.000Z "
#define T1 "2026-11-24T10:15:04.500Z "
#define T2 "2026-11-24T10:16:10.250Z "
#define NOW 1795515302000LL	/* 2026-11-24T10:15:02Z */

/* Summarize LINES (NULL-terminated) of one call; OUT gets its outcome at NOW + AGE_MS. */
static void summarize(struct logsum *s, const char *const *lines, long long age_ms,
		      char *out, size_t cap)
{
	logsum_init(s, "CA0123456789abcdef0123456789abcdef");
	for (size_t i = 0; lines[i]; i++) {
		if (logparse_line(ln, lines[i], strlen(lines[i]), NULL, 0) == 0)
			logsum_add(s, ln);
		else
			logsum_add_malformed(s);
	}
	logsum_outcome(s, NOW + age_ms, out, cap);
}

static const char *const incoming =
	T0 "fcgi incoming_call from=+15551234567 to=+15557654321 call_status=ringing "
	"direction=inbound sig=ok template=incoming_call.xml";

static void test_outcomes(void)
{
	static const struct {
		const char *what, *want;
		const char *lines[6];
		long long age;
	} t[] = {
		{ "completed", "completed", { incoming,
		  T1 "fcgi stream_status stream_event=stream-started stream_sid=MZ1 sig=ok",
		  T2 "ws ws_done rx=10 tx=10 close_code=1000 close_reason=\"stream stopped\"",
		  T2 "fcgi call_status call_status=completed call_duration=68 sig=ok" }, 0 },
		{ "busy", "busy", { incoming, T1 "fcgi call_status call_status=busy "
		  "call_duration=0 sig=ok" }, 0 },
		{ "no-answer", "no-answer", { incoming, T1 "fcgi call_status "
		  "call_status=no-answer sig=ok" }, 0 },
		{ "the last call_status counts", "completed", { incoming,
		  T1 "fcgi call_status call_status=in-progress sig=ok",
		  T2 "fcgi call_status call_status=completed call_duration=9 sig=ok" }, 0 },
		{ "stream error beats completed", "stream-error", { incoming,
		  T1 "fcgi stream_status stream_event=stream-error stream_error=\"31920 Stream - "
		  "WebSocket - Handshake Error\" sig=ok",
		  T2 "fcgi call_status call_status=completed call_duration=3 sig=ok" }, 0 },
		{ "fcgi 500", "error:500", { T0 "fcgi http_error status=500 reason=\"template "
		  "cannot be read\" template=/x/incoming_call.xml" }, 0 },
		{ "fcgi 403", "rejected:403", { incoming, T1 "fcgi http_error status=403 "
		  "reason=\"bad signature\" signed_url=https://x/webhook/stream_status" }, 0 },
		{ "ws dropped (1006)", "ws-error:1006", { incoming, T2 "ws ws_done rx=1 tx=1 "
		  "close_code=1006 close_reason=\"connection lost\"",
		  T2 "fcgi call_status call_status=completed sig=ok" }, 0 },
		{ "ws peer 1005 is normal", "completed", { incoming,
		  T2 "ws ws_done close_code=1005",
		  T2 "fcgi call_status call_status=completed sig=ok" }, 0 },
		{ "ws idle", "ws-idle", { incoming, T2 "ws ws_done errors_idle=1 close_code=1000 "
		  "close_reason=\"idle timeout\"" }, 0 },
		{ "recent, no status", "in-progress", { incoming,
		  T1 "ws ws_start stream_sid=MZ1 tracks=inbound" }, 60000 },
		{ "old, no status", "unknown", { incoming }, LOGSUM_IN_PROGRESS_MS + 5000 },
		{ "nothing parsed", "unknown", { "garbage", "more garbage" }, 0 },
	};
	char out[LOGSUM_OUTCOME_MAX], msg[160];
	struct logsum s;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		summarize(&s, t[i].lines, t[i].age, out, sizeof(out));
		snprintf(msg, sizeof(msg), "outcome %s: %s", t[i].what, out);
		CHECK_MSG(strcmp(out, t[i].want) == 0, msg);
	}
}

static void test_fields(void)
{
	const char *const lines[] = {
		incoming,
		T1 "fcgi stream_status stream_event=stream-started sig=ok",
		T1 "fcgi stream_status stream_event=stream-started sig=ok",
		"this line is broken",
		T2 "ws ws_done rx=3 tx=3 errors_bad_json=2 errors_base64=1 gaps=4 close_code=1000",
		T2 "fcgi stream_status stream_event=stream-stopped sig=ok",
		NULL
	};
	const char *const via_ws[] = {
		T1 "ws ws_start stream_sid=MZ1 param_From=\"client:Ann Smith\" param_To=+1555",
		T2 "fcgi stream_status stream_event=stream-error stream_error=\"Handshake\"",
		NULL
	};
	char out[LOGSUM_OUTCOME_MAX];
	struct logsum s;
	int from_status;

	summarize(&s, lines, 0, out, sizeof(out));
	CHECK_STR(s.from, "+15551234567");
	CHECK_STR(s.to, "+15557654321");
	CHECK_STR(s.streams, "started,stopped");
	CHECK_STR(s.ws_errors, "bad_json=2,base64=1");
	CHECK(s.lines == 5 && s.malformed == 1);
	CHECK(s.first_ms == 1795515302000LL && s.last_ms == 1795515370250LL);
	CHECK(logsum_duration_ms(&s, &from_status) == 68250 && from_status == 0);

	summarize(&s, via_ws, 0, out, sizeof(out));
	CHECK_STR(s.from, "client:Ann Smith");
	CHECK_STR(s.to, "+1555");
	CHECK_STR(s.streams, "error");
	CHECK_STR(out, "stream-error");

	{
		const char *const st[] = { incoming, T2 "fcgi call_status call_status=completed "
					   "call_duration=79 sig=ok", NULL };

		summarize(&s, st, 0, out, sizeof(out));
		CHECK(logsum_duration_ms(&s, &from_status) == 79000 && from_status == 1);
	}
	{
		/* Terminal escapes in From never reach the table. */
		const char *const evil[] = { T0 "fcgi incoming_call from=\"\\x1b[2J\" to=1", NULL };

		summarize(&s, evil, 0, out, sizeof(out));
		CHECK_STR(s.from, "\\x1b[2J");
	}
	{
		/* Many stream events end in "..." instead of overflowing. */
		const char *many[40];
		int k = 0;

		for (; k < 38; k++)
			many[k] = k % 2 ? T1 "fcgi stream_status stream_event=stream-started" :
				  T1 "fcgi stream_status stream_event=stream-stopped";
		many[k] = NULL;
		summarize(&s, many, 0, out, sizeof(out));
		CHECK(strlen(s.streams) < sizeof(s.streams) &&
		      strcmp(s.streams + strlen(s.streams) - 3, "...") == 0);
	}
}

static void test_durations(void)
{
	static const struct { long long ms; const char *want; } t[] = {
		{ -1, "?" }, { 0, "0ms" }, { 850, "850ms" }, { 1000, "1.0s" }, { 12345, "12.3s" },
		{ 59999, "59.9s" }, { 60000, "1m00s" }, { 245000, "4m05s" },
		{ 3599999, "59m59s" }, { 3600000, "1h00m" }, { 7380000, "2h03m" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		logsum_format_duration(buf, sizeof(buf), t[i].ms);
		CHECK_STR(buf, t[i].want);
	}
}

/* A temporary file holding LEN bytes of DATA, open for reading at offset 0. */
static int tmpfile_with(const char *data, size_t len)
{
	char path[] = "/tmp/test_log_sum.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	if (write(fd, data, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_lineread(void)
{
	size_t biglen = 200000, len;
	char *data = malloc(biglen + 100);
	struct lineread *lr;
	const char *line;
	int fd, flags, n;

	/* "first\n" + 200000 x's + "\nlast" (no final newline) */
	strcpy(data, "first\n");
	memset(data + 6, 'x', biglen);
	memcpy(data + 6 + biglen, "\nlast", 5);
	fd = tmpfile_with(data, 6 + biglen + 5);
	CHECK(fd >= 0);
	lr = lineread_new(fd, 0, 1000, 0);
	CHECK(lr != NULL);
	CHECK(lineread_next(lr, &line, &len, &flags) == 1 && len == 5 &&
	      memcmp(line, "first", 5) == 0 && flags == 0);
	CHECK(lineread_offset(lr) == 6);
	n = lineread_next(lr, &line, &len, &flags);
	CHECK(n == 1 && len == 1000 && flags == LINEREAD_CUT && line[0] == 'x');
	n = lineread_next(lr, &line, &len, &flags);
	CHECK(n == 1 && len == 4 && memcmp(line, "last", 4) == 0 && flags == LINEREAD_NOEOL);
	CHECK(lineread_next(lr, &line, &len, &flags) == 0);
	CHECK(lineread_offset(lr) == (off_t)(6 + biglen + 5));
	lineread_free(lr);

	/* A limit stops the reader mid-file; the line it cuts comes back NOEOL. */
	lseek(fd, 0, SEEK_SET);
	lr = lineread_new(fd, 0, 1000, 9);
	CHECK(lineread_next(lr, &line, &len, &flags) == 1 && len == 5);
	CHECK(lineread_next(lr, &line, &len, &flags) == 1 && len == 3 &&
	      flags == LINEREAD_NOEOL);
	CHECK(lineread_next(lr, &line, &len, &flags) == 0);
	lineread_free(lr);
	close(fd);

	/* Empty lines and a file of newlines only. */
	fd = tmpfile_with("\n\na\n", 4);
	lr = lineread_new(fd, 0, 1000, 0);
	CHECK(lineread_next(lr, &line, &len, &flags) == 1 && len == 0 && flags == 0);
	CHECK(lineread_next(lr, &line, &len, &flags) == 1 && len == 0);
	CHECK(lineread_next(lr, &line, &len, &flags) == 1 && len == 1 && line[0] == 'a');
	CHECK(lineread_next(lr, &line, &len, &flags) == 0);
	lineread_free(lr);
	close(fd);

	/* A cut line ending exactly at a newline: the next line is intact. */
	memset(data, 'y', 3000);
	memcpy(data + 3000, "\nnext\n", 6);
	fd = tmpfile_with(data, 3006);
	lr = lineread_new(fd, 0, 1000, 0);
	CHECK(lineread_next(lr, &line, &len, &flags) == 1 && flags == LINEREAD_CUT);
	CHECK(lineread_next(lr, &line, &len, &flags) == 1 && len == 4 &&
	      memcmp(line, "next", 4) == 0 && flags == 0);
	CHECK(lineread_next(lr, &line, &len, &flags) == 0);
	lineread_free(lr);
	close(fd);

	free(data);
}

int main(void)
{
	ln = malloc(sizeof(*ln));
	if (!ln)
		return 1;
	test_outcomes();
	test_fields();
	test_durations();
	test_lineread();
	free(ln);
	return check_done();
}
