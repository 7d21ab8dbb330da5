/* transcript: `callpipe-log show` for an agent call, told as a conversation (who said
 * what, and when, from the call's start) from its parsed log lines, one at a time. */
#include "transcript.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Display width of the offset column ("+1234.56"). */
#define OFFSET_WIDTH 8

static int is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

/* The value of KEY as a number >= -1, or -2 when absent or not a number. */
static long long num(const struct logparse_line *ln, const char *key)
{
	const char *v = logparse_get(ln, key);
	char *end;
	long long n;

	if (!v || !*v)
		return -2;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || *end || n < -1)
		return -2;
	return n;
}

/* Peer text, terminal-safe (control characters, C1, bad UTF-8 escaped); "?" when absent. */
static void put(struct transcript *t, const char *v)
{
	if (!v)
		fputs("?", t->out);
	else
		logparse_fput(t->out, v, strlen(v));
}

void transcript_offset(FILE *out, long long ms, long long base_ms)
{
	char buf[40];
	long long off = ms - base_ms, a = off < 0 ? -off : off;

	/* Hundredths, rounded: the log's milliseconds are more than a reader needs. */
	a = (a + 5) / 10;
	snprintf(buf, sizeof(buf), "%c%lld.%02lld", off < 0 ? '-' : '+', a / 100, a % 100);
	fprintf(out, "%*s  ", OFFSET_WIDTH, buf);
}

static void at(struct transcript *t, long long ms)
{
	transcript_offset(t->out, ms, t->base_ms);
}

/* "3.8 s" for FRAMES of 20 ms. */
static void put_frames(struct transcript *t, long long frames)
{
	long long tenths = (frames * 20 + 50) / 100;

	fprintf(t->out, "%lld.%lld s", tenths / 10, tenths % 10);
}

/* The keys pressed so far, as one line at the first key's time. */
static void flush_keys(struct transcript *t)
{
	if (!t->keys[0])
		return;
	at(t, t->keys_ms);
	fprintf(t->out, "caller pressed: %s\n", t->keys);
	t->keys[0] = '\0';
}

int transcript_is_agent(const struct logparse_line *ln)
{
	if (!is(ln->prog, "ws"))
		return 0;
	return is(ln->event, "agent") ||
	       (is(ln->event, "ws_start") && is(logparse_get(ln, "mode"), "agent"));
}

void transcript_init(struct transcript *t, FILE *out, long long base_ms)
{
	memset(t, 0, sizeof(*t));
	t->out = out;
	t->base_ms = base_ms;
	t->answer_ms = -1;
	t->fcgi_index = -1;
	t->speech_start_ms = t->speech_ms = t->asr_ms = -1;
}

static void on_key(struct transcript *t, const struct logparse_line *ln)
{
	const char *d = logparse_get(ln, "digit"), *ign = logparse_get(ln, "ignored");
	size_t len = strlen(t->keys);
	char one[32];

	logparse_escape(one, sizeof(one), d ? d : "?", d ? strlen(d) : 1);
	if (ign) {
		flush_keys(t);
		at(t, ln->ts_ms);
		fprintf(t->out, "caller pressed: %s (ignored: ", one);
		put(t, ign);
		fputs(")\n", t->out);
		return;
	}
	if (len + strlen(one) + 2 >= sizeof(t->keys))
		flush_keys(t), len = 0;
	if (!len)
		t->keys_ms = ln->ts_ms;
	snprintf(t->keys + len, sizeof(t->keys) - len, "%s%s", len ? " " : "", one);
}

static void on_agent(struct transcript *t, const struct logparse_line *ln)
{
	const char *url = logparse_get(ln, "turn_url"), *ct = logparse_get(ln, "connect_to");

	if (url)
		logparse_escape(t->turn_url, sizeof(t->turn_url), url, strlen(url));
	at(t, ln->ts_ms);
	fputs("stream started (agent, ", t->out);
	put(t, logparse_get(ln, "tts"));
	fputc(' ', t->out);
	put(t, logparse_get(ln, "voice"));
	fputs(", turns to ", t->out);
	put(t, url);
	if (ct) {
		fputs(" via ", t->out);
		put(t, ct);
	}
	fputs(")\n", t->out);
}

static void on_turn(struct transcript *t, const struct logparse_line *ln)
{
	const char *ev = logparse_get(ln, "event"), *st = logparse_get(ln, "status");
	const char *url = logparse_get(ln, "url");
	long long idx = num(ln, "index"), ms = num(ln, "complete_ms"), verbs = num(ln, "verbs");
	char eurl[TRANSCRIPT_KEEP_MAX];

	t->turns++;
	t->answer_ms = ln->ts_ms;
	t->first_audio = 1;
	at(t, ln->ts_ms);
	fprintf(t->out, "turn %lld (", idx);
	put(t, ev);
	if (is(ev, "dtmf") && idx == t->fcgi_index && t->fcgi_digits[0])
		fprintf(t->out, ", Digits %s", t->fcgi_digits);
	fputs(")", t->out);
	if (url) {
		logparse_escape(eurl, sizeof(eurl), url, strlen(url));
		if (strcmp(eurl, t->turn_url) != 0)
			fprintf(t->out, " to %s", eurl);
	}
	if (!is(logparse_get(ln, "ok"), "no")) {
		fputs(": ", t->out);
		put(t, st);
		if (ms >= 0)
			fprintf(t->out, " in %lld ms", ms);
		if (verbs >= 0)
			fprintf(t->out, ", %lld verb%s", verbs, verbs == 1 ? "" : "s");
	} else if (!st || is(st, "none")) {
		fputs(": FAILED, no answer", t->out);
		if (ms >= 0)
			fprintf(t->out, " after %lld ms", ms);
	} else {
		fputs(": FAILED, status ", t->out);
		put(t, st);
		if (ms >= 0)
			fprintf(t->out, " after %lld ms", ms);
	}
	fputc('\n', t->out);
}

/* fcgi's own turn line (the default handler): what the caller said reaches the page. */
static void on_fcgi_turn(struct transcript *t, const struct logparse_line *ln)
{
	const char *d = logparse_get(ln, "digits"), *sp = logparse_get(ln, "speech");

	t->fcgi_index = num(ln, "index");
	t->fcgi_digits[0] = '\0';
	if (d)
		logparse_escape(t->fcgi_digits, sizeof(t->fcgi_digits), d, strlen(d));
	if (sp && *sp && !t->asr_seen) {
		at(t, ln->ts_ms);
		fputs("caller said: \"", t->out);
		put(t, sp);
		fputs("\"\n", t->out);
	}
}

/* say and play: placed at their first audio (the answer + since_answer_ms) when known. */
static void on_audio(struct transcript *t, const struct logparse_line *ln, int say)
{
	long long frames = num(ln, "frames"), since = num(ln, "since_answer_ms");
	long long loop = num(ln, "loop"), when = ln->ts_ms;
	int failed = is(logparse_get(ln, "failed"), "yes");

	if (since >= 0 && t->answer_ms >= 0)
		when = t->answer_ms + since;
	at(t, when);
	fputs(failed ? "agent (FAILED): " : "agent: ", t->out);
	if (say) {
		fputc('"', t->out);
		put(t, logparse_get(ln, "text"));
		fputc('"', t->out);
	} else {
		fputs("plays ", t->out);
		put(t, logparse_get(ln, "src"));
	}
	fputs("  (", t->out);
	if (frames >= 0)
		put_frames(t, frames);
	else
		fputs("? s", t->out);
	if (loop > 1)
		fprintf(t->out, ", %lld times", loop);
	if (is(logparse_get(ln, "cached"), "yes"))
		fputs(", cached", t->out);
	if (t->first_audio && since >= 0) {
		fprintf(t->out, ", first audio %lld ms after the answer", since);
		if (t->asr_ms >= 0 && when >= t->asr_ms)
			fprintf(t->out, ", %lld ms after the words", when - t->asr_ms);
	} else if (num(ln, "first_frame_ms") == -1)
		fputs(", never played", t->out);
	fputs(")\n", t->out);
	t->first_audio = 0;
	t->asr_ms = -1;
}

/* The recognizer's answer: told at the start of the speech it heard, with how long that
 * speech was and how long after its end the words were there. */
static void on_asr(struct transcript *t, const struct logparse_line *ln)
{
	const char *text = logparse_get(ln, "text"), *err = logparse_get(ln, "error");
	const char *conf = logparse_get(ln, "confidence");
	long long ms = num(ln, "ms");

	t->asr_seen = 1;
	at(t, t->speech_start_ms >= 0 ? t->speech_start_ms : ln->ts_ms);
	if (text && *text) {
		fputs("caller said: \"", t->out);
		put(t, text);
		fputc('"', t->out);
		t->asr_ms = ln->ts_ms;
	} else if (err) {
		fputs("caller not understood: recognition failed: ", t->out);
		put(t, err);
	} else {
		fputs("caller not understood (no words recognized)", t->out);
	}
	fputs("  (", t->out);
	if (t->speech_ms >= 0)
		fprintf(t->out, "%lld.%lld s of speech, ", (t->speech_ms + 50) / 1000,
			(t->speech_ms + 50) / 100 % 10);
	put(t, logparse_get(ln, "engine"));
	if (conf && text && *text) {
		fputs(", confidence ", t->out);
		put(t, conf);
	}
	if (ms >= 0)
		fprintf(t->out, ", %lld ms after it ended", ms);
	fputs(")\n", t->out);
	t->speech_start_ms = t->speech_ms = -1;
}

static void on_listen(struct transcript *t, const struct logparse_line *ln)
{
	const char *in = logparse_get(ln, "input"), *fk = logparse_get(ln, "finish_on_key");
	const char *act = logparse_get(ln, "action");
	long long to = num(ln, "timeout_s"), nd = num(ln, "num_digits");

	at(t, ln->ts_ms);
	fputs("listening: ", t->out);
	put(t, in);
	if (to >= 0)
		fprintf(t->out, ", timeout %lld s", to);
	if (nd > 0)
		fprintf(t->out, ", %lld digit%s", nd, nd == 1 ? "" : "s");
	if (fk && *fk) {
		fputs(", finish on ", t->out);
		put(t, fk);
	}
	if (act) {
		fputs(", then ", t->out);
		put(t, act);
	}
	fputc('\n', t->out);
}

static const char *hangup_why(const char *r)
{
	static const struct { const char *reason, *text; } why[] = {
		{ "verb", "a <Hangup> verb" },
		{ "max_timeouts", "too many timeouts" },
		{ "max_turn_errors", "too many turn errors" },
		{ "turn_failed", "the turn failed" },
	};

	for (size_t i = 0; r && i < sizeof(why) / sizeof(why[0]); i++)
		if (strcmp(r, why[i].reason) == 0)
			return why[i].text;
	return NULL;
}

static void on_hangup(struct transcript *t, const struct logparse_line *ln, int pending)
{
	const char *r = logparse_get(ln, "reason"), *why = hangup_why(r);

	at(t, ln->ts_ms);
	if (pending) {
		fputs("agent will hang up after ", t->out);
		put(t, logparse_get(ln, "after"));
		fputs(" (", t->out);
	} else {
		t->agent_hangup = 1;
		fputs("AGENT HUNG UP (", t->out);
	}
	if (why)
		fputs(why, t->out);
	else
		put(t, r);
	fputs(")\n", t->out);
}

/* The agent's own events (prog ws). 1 when EV was one. */
static int on_ws(struct transcript *t, const struct logparse_line *ln, const char *ev)
{
	if (is(ev, "agent")) {
		on_agent(t, ln);
	} else if (is(ev, "turn")) {
		on_turn(t, ln);
	} else if (is(ev, "turn_error")) {
		t->turn_errors++;
		at(t, ln->ts_ms);
		fprintf(t->out, "TURN %lld ERROR (", num(ln, "index"));
		put(t, logparse_get(ln, "event"));
		fputs("): ", t->out);
		put(t, logparse_get(ln, "reason"));
		if (logparse_get(ln, "url")) {
			fputs(" (", t->out);
			put(t, logparse_get(ln, "url"));
			fputc(')', t->out);
		}
		fputc('\n', t->out);
	} else if (is(ev, "turn_warning")) {
		const char *verb = logparse_get(ln, "verb");

		at(t, ln->ts_ms);
		fprintf(t->out, "turn %lld warning: ", num(ln, "index"));
		if (verb) {
			fputs("<", t->out);
			put(t, verb);
			fputs("> ", t->out);
		}
		put(t, logparse_get(ln, "detail"));
		fputc('\n', t->out);
	} else if (is(ev, "say") || is(ev, "play")) {
		on_audio(t, ln, is(ev, "say"));
	} else if (is(ev, "mark")) {
		if (!is(logparse_get(ln, "result"), "played")) {
			at(t, ln->ts_ms);
			fputs("agent cut off: ", t->out);
			put(t, logparse_get(ln, "name"));
			fputs(" ", t->out);
			put(t, logparse_get(ln, "result"));
			fputs(" before it was heard\n", t->out);
		}
	} else if (is(ev, "listen")) {
		on_listen(t, ln);
	} else if (is(ev, "speech_start")) {
		t->speech_start_ms = ln->ts_ms;
	} else if (is(ev, "speech_end")) {
		t->speech_ms = num(ln, "duration_ms");
	} else if (is(ev, "asr")) {
		on_asr(t, ln);
	} else if (is(ev, "speech_cancelled")) {
		at(t, t->speech_start_ms >= 0 ? t->speech_start_ms : ln->ts_ms);
		fputs("caller's speech dropped (", t->out);
		put(t, logparse_get(ln, "why"));
		fputs(")\n", t->out);
		t->speech_start_ms = t->speech_ms = -1;
	} else if (is(ev, "barge_in")) {
		long long played = num(ln, "played_ms"), dropped = num(ln, "dropped_frames");

		t->barge_ins++;
		at(t, ln->ts_ms);
		fputs("CALLER INTERRUPTED (", t->out);
		put(t, logparse_get(ln, "by"));
		fputs("): agent stopped", t->out);
		if (played >= 0)
			fprintf(t->out, " after %lld ms", played);
		if (dropped >= 0) {
			fputs(", ", t->out);
			put_frames(t, dropped);
			fputs(" left unsaid", t->out);
		}
		fputc('\n', t->out);
	} else if (is(ev, "gather_timeout")) {
		at(t, ln->ts_ms);
		fputs("no answer from the caller in time: ", t->out);
		put(t, logparse_get(ln, "then"));
		fputc('\n', t->out);
	} else if (is(ev, "hangup") || is(ev, "hangup_pending")) {
		on_hangup(t, ln, is(ev, "hangup_pending"));
	} else if (is(ev, "ws_stop")) {
		t->stopped = 1;
		at(t, ln->ts_ms);
		fputs(t->agent_hangup ? "stream stopped\n" : "caller hung up (stream stopped)\n",
		      t->out);
	} else if (is(ev, "ws_done")) {
		const char *code = logparse_get(ln, "close_code");

		if (t->stopped && (is(code, "1000") || is(code, "1001") || is(code, "1005")))
			return 1;
		at(t, ln->ts_ms);
		fputs("stream closed: ", t->out);
		put(t, code);
		fputs(" ", t->out);
		put(t, logparse_get(ln, "close_reason"));
		fputc('\n', t->out);
	} else if (is(ev, "ws_error")) {
		at(t, ln->ts_ms);
		fputs("stream protocol error: ", t->out);
		put(t, logparse_get(ln, "kind"));
		fputs(" ", t->out);
		put(t, logparse_get(ln, "detail"));
		fputc('\n', t->out);
	} else {
		return 0;
	}
	return 1;
}

static void on_fcgi(struct transcript *t, const struct logparse_line *ln, const char *ev)
{
	const char *v;

	if (is(ev, "incoming_call")) {
		at(t, ln->ts_ms);
		fputs("call from ", t->out);
		put(t, logparse_get(ln, "from"));
		fputs(" to ", t->out);
		put(t, logparse_get(ln, "to"));
		fputc('\n', t->out);
	} else if (is(ev, "stream_status") &&
		   is(logparse_get(ln, "stream_event"), "stream-error")) {
		at(t, ln->ts_ms);
		fputs("STREAM ERROR: ", t->out);
		put(t, logparse_get(ln, "stream_error"));
		fputc('\n', t->out);
	} else if (is(ev, "call_status") && (v = logparse_get(ln, "call_status")) &&
		   !is(v, "ringing") && !is(v, "in-progress")) {
		at(t, ln->ts_ms);
		fputs("call ", t->out);
		put(t, v);
		if ((v = logparse_get(ln, "call_duration"))) {
			fputs(" (", t->out);
			put(t, v);
			fputs(" s)", t->out);
		}
		fputc('\n', t->out);
	} else if (is(ev, "http_error")) {
		at(t, ln->ts_ms);
		fputs("WEBHOOK REFUSED: ", t->out);
		put(t, logparse_get(ln, "status"));
		fputs(" ", t->out);
		put(t, logparse_get(ln, "reason"));
		fputs(" (", t->out);
		put(t, logparse_get(ln, "uri"));
		fputs(")\n", t->out);
	}
}

void transcript_add(struct transcript *t, const struct logparse_line *ln)
{
	const char *ev = ln->event;

	if (is(ln->prog, "ws") && is(ev, "dtmf")) {
		on_key(t, ln);
		return;
	}
	/* The raw Twilio echoes of what the agent lines tell better. */
	if (is(ev, "ws_dtmf") || is(ev, "ws_mark") || is(ev, "ws_connected") ||
	    is(ev, "ws_start"))
		return;
	if (is(ln->prog, "fcgi") && is(ev, "turn")) {
		/* The request for the keys just pressed: print them first. */
		flush_keys(t);
		on_fcgi_turn(t, ln);
		return;
	}
	if (is(ln->prog, "ws")) {
		/* Known events only: the keys stay held across lines that print nothing. */
		/* (a key drops the speech it interrupted: that speech began before the keys) */
		if (!(is(ev, "mark") && is(logparse_get(ln, "result"), "played")) &&
		    !is(ev, "ws_done") && !is(ev, "speech_cancelled"))
			flush_keys(t);
		on_ws(t, ln, ev);
	} else if (is(ln->prog, "fcgi")) {
		flush_keys(t);
		on_fcgi(t, ln, ev);
	}
}

void transcript_end(struct transcript *t)
{
	flush_keys(t);
}
