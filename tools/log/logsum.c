/* logsum: one call's summary for `callpipe-log list` (who called, how long, what the stream
 * did, how it ended), built from its parsed log lines one at a time. */
#include "logsum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void logsum_init(struct logsum *s, const char *callsid)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->callsid, sizeof(s->callsid), "%s", callsid ? callsid : "");
	s->call_duration_s = -1;
	s->first_ms = s->last_ms = -1;
}

/* Copy V for display: terminal-safe (logparse_escape), cut to the field. */
static void setfield(char *dst, size_t cap, const char *v)
{
	logparse_escape(dst, cap, v, strlen(v));
}

/* The Twilio error code in a StreamError text ("31920 Stream - WebSocket - Handshake
 * Error", "… (31920)"): the first run of exactly five digits starting with 3
 * (docs/PROTOCOL.md §5). "?" when there is none. */
static void error_code(const char *text, char *code, size_t cap)
{
	for (const char *p = text; p && *p; p++) {
		size_t n = strspn(p, "0123456789");

		if (n == 5 && *p == '3' && (p == text || p[-1] < '0' || p[-1] > '9')) {
			snprintf(code, cap, "%.5s", p);
			return;
		}
		if (n)
			p += n - 1;
	}
	snprintf(code, cap, "?");
}

/* Append WORD to the comma-separated LIST; "..." ends a list that is full. With DEDUP, a
 * word equal to the last one is not repeated (a callback retried adds nothing to read). */
static void add_item(char *list, size_t cap, const char *word, int dedup)
{
	size_t len = strlen(list), wl = strlen(word);
	const char *last = strrchr(list, ',');

	last = last ? last + 1 : list;
	if (dedup && len && strcmp(last, word) == 0)
		return;
	if (len + 1 + wl + 4 >= cap) {
		if (strcmp(last, "...") != 0 && len + 5 < cap)
			strcat(list, len ? ",..." : "...");
		return;
	}
	if (len)
		strcat(list, ",");
	strcat(list, word);
}

static void add_stream_event(struct logsum *s, const char *word)
{
	add_item(s->streams, sizeof(s->streams), word, 1);
}

/* The HTTP status of an fcgi rejected/error line, whatever the key is called. */
static void status_of(const struct logparse_line *ln, char *dst, size_t cap)
{
	static const char *const keys[] = { "status", "http_status", "code" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = logparse_get(ln, keys[i]);

		if (v && *v && strlen(v) <= 3 && strspn(v, "0123456789") == strlen(v)) {
			snprintf(dst, cap, "%s", v);
			return;
		}
	}
	snprintf(dst, cap, "?");
}

/* RFC 6455 section 7.4.1: 1000 normal, 1001 going away (Twilio hanging up, our drain),
 * 1005 no status given. Everything else (1006 dropped connection, 1008 policy, 1009 too
 * big, 1011 server error…) is worth a look. No code at all is not news either. */
static int abnormal_close(const char *code)
{
	if (!code || !*code || strcmp(code, "0") == 0 || strcmp(code, "-") == 0)
		return 0;
	return strcmp(code, "1000") != 0 && strcmp(code, "1001") != 0 &&
	       strcmp(code, "1005") != 0;
}

void logsum_add(struct logsum *s, const struct logparse_line *ln)
{
	const char *ev = ln->event, *v;

	s->lines++;
	if (!s->have_time || ln->ts_ms < s->first_ms)
		s->first_ms = ln->ts_ms;
	if (!s->have_time || ln->ts_ms > s->last_ms)
		s->last_ms = ln->ts_ms;
	s->have_time = 1;

	if (strcmp(ev, "ws_start") == 0 && (v = logparse_get(ln, "mode")) &&
	    strcmp(v, "agent") == 0)
		s->agent = 1;
	if (strcmp(ev, "incoming_call") == 0) {
		if ((v = logparse_get(ln, "from")))
			setfield(s->from, sizeof(s->from), v);
		if ((v = logparse_get(ln, "to")))
			setfield(s->to, sizeof(s->to), v);
		s->from_incoming = 1;
	} else if (strcmp(ln->prog, "ws") == 0 && (strcmp(ev, "agent") == 0 ||
		   strcmp(ev, "turn") == 0 || strcmp(ev, "turn_error") == 0 ||
		   strcmp(ev, "hangup") == 0)) {
		s->agent = 1;
		if (ev[0] == 'h' && (v = logparse_get(ln, "reason")))
			setfield(s->hangup, sizeof(s->hangup), v[0] ? v : "?");
		s->turns += strcmp(ev, "turn") == 0;
		s->turn_errors += strcmp(ev, "turn_error") == 0;
	} else if (strcmp(ev, "ws_start") == 0 && !s->from_incoming) {
		/* The TwiML template passes From and To as <Parameter>s: use them when the
		 * incoming_call line is missing (a log dir shared with another webhook). */
		if (!s->from[0] && (v = logparse_get(ln, "param_From")))
			setfield(s->from, sizeof(s->from), v);
		if (!s->to[0] && (v = logparse_get(ln, "param_To")))
			setfield(s->to, sizeof(s->to), v);
	} else if (strcmp(ev, "stream_status") == 0) {
		v = logparse_get(ln, "stream_event");
		if (v && strcmp(v, "stream-error") == 0) {
			char code[16], word[24];

			error_code(logparse_get(ln, "stream_error"), code, sizeof(code));
			if (!s->stream_error[0])
				snprintf(s->stream_error, sizeof(s->stream_error), "%s", code);
			if (strcmp(code, "?") == 0)
				snprintf(word, sizeof(word), "error");
			else
				snprintf(word, sizeof(word), "error:%s", code);
			add_stream_event(s, word);
		} else if (v && strncmp(v, "stream-", 7) == 0 && v[7]) {
			char word[32];

			logparse_escape(word, sizeof(word), v + 7, strlen(v + 7));
			add_stream_event(s, word);
		} else if (v) {
			char word[32];

			logparse_escape(word, sizeof(word), v, strlen(v));
			add_stream_event(s, word[0] ? word : "?");
		}
	} else if (strcmp(ev, "call_status") == 0) {
		if ((v = logparse_get(ln, "call_status")) && *v)
			setfield(s->call_status, sizeof(s->call_status), v);
		if ((v = logparse_get(ln, "call_duration")) && *v) {
			char *end;
			long long d = strtoll(v, &end, 10);

			if (*end == '\0' && d >= 0 && d < 100LL * 24 * 3600)
				s->call_duration_s = d;
		}
	} else if (strcmp(ev, "http_error") == 0 || strcmp(ev, "rejected") == 0 ||
		   strcmp(ev, "error") == 0) {
		/* fcgi's refusals: 4xx the request's fault, 5xx ours (template, memory). */
		char st[16];

		status_of(ln, st, sizeof(st));
		if (st[0] == '5' || (st[0] == '?' && strcmp(ev, "error") == 0)) {
			if (!s->error[0])
				snprintf(s->error, sizeof(s->error), "%s", st);
		} else if (!s->rejected[0]) {
			snprintf(s->rejected, sizeof(s->rejected), "%s", st);
		}
	} else if (strcmp(ev, "ws_done") == 0) {
		v = logparse_get(ln, "close_code");
		if (!s->ws_close[0] && abnormal_close(v))
			setfield(s->ws_close, sizeof(s->ws_close), v);
		v = logparse_get(ln, "close_reason");
		if ((v && strcmp(v, "idle timeout") == 0) || logparse_get(ln, "errors_idle"))
			s->ws_idle = 1;
		for (size_t i = 0; i < ln->nkv; i++) {
			const char *k = ln->kv[i].key;
			char item[64];

			if (strncmp(k, "errors_", 7) != 0 || !k[7])
				continue;
			snprintf(item, sizeof(item), "%.32s=%.16s", k + 7, ln->kv[i].value);
			add_item(s->ws_errors, sizeof(s->ws_errors), item, 0);
		}
	}
}

void logsum_add_malformed(struct logsum *s)
{
	s->malformed++;
}

long long logsum_duration_ms(const struct logsum *s, int *from_status)
{
	if (from_status)
		*from_status = 0;
	if (s->call_duration_s >= 0) {
		if (from_status)
			*from_status = 1;
		return s->call_duration_s * 1000;
	}
	if (!s->have_time)
		return -1;
	return s->last_ms - s->first_ms;
}

void logsum_outcome(const struct logsum *s, long long now_ms, char *buf, size_t cap)
{
	if (s->stream_error[0])
		snprintf(buf, cap, "stream-error");
	else if (s->error[0])
		snprintf(buf, cap, "error:%s", s->error);
	else if (s->rejected[0])
		snprintf(buf, cap, "rejected:%s", s->rejected);
	else if (s->ws_close[0])
		snprintf(buf, cap, "ws-error:%s", s->ws_close);
	else if (s->ws_idle)
		snprintf(buf, cap, "ws-idle");
	else if (s->call_status[0])
		snprintf(buf, cap, "%s", s->call_status);
	else if (s->have_time && now_ms - s->last_ms < LOGSUM_IN_PROGRESS_MS)
		snprintf(buf, cap, "in-progress");
	else
		snprintf(buf, cap, "unknown");
}

void logsum_agent_note(const struct logsum *s, char *buf, size_t cap)
{
	int n;

	if (cap == 0)
		return;
	buf[0] = '\0';
	if (!s->agent)
		return;
	n = snprintf(buf, cap, "agent: %lu turn%s", s->turns, s->turns == 1 ? "" : "s");
	if (s->turn_errors && n >= 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, ", %lu turn error%s", s->turn_errors,
			      s->turn_errors == 1 ? "" : "s");
	if (s->hangup[0] && n >= 0 && (size_t)n < cap)
		snprintf(buf + n, cap - (size_t)n, ", hung up %s", s->hangup);
}

void logsum_format_duration(char *buf, size_t cap, long long ms)
{
	if (ms < 0)
		snprintf(buf, cap, "?");
	else if (ms < 1000)
		snprintf(buf, cap, "%lldms", ms);
	else if (ms < 60000)
		snprintf(buf, cap, "%lld.%llds", ms / 1000, ms % 1000 / 100);
	else if (ms < 3600000)
		snprintf(buf, cap, "%lldm%02llds", ms / 60000, ms / 1000 % 60);
	else
		snprintf(buf, cap, "%lldh%02lldm", ms / 3600000, ms / 60000 % 60);
}
