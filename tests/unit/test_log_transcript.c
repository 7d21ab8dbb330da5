/* test_log_transcript: `callpipe-log show` for agent calls, the conversation built from a
 * fixed set of log lines: every event kind, barge-in, turn error, hostile peer text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../tools/log/logparse.h"
#include "../../tools/log/logsum.h"
#include "../../tools/log/transcript.h"

static struct logparse_line *ln;

#define T(ms) "2026-11-29T09:02:" ms "Z "

/* The transcript of LINES (NULL-terminated), zero at the first line, in a malloc'd string. */
static char *tell(const char *const *lines)
{
	struct transcript t;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int started = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; lines[i]; i++) {
		if (logparse_line(ln, lines[i], strlen(lines[i]), NULL, 0) != 0) {
			fprintf(out, "[unparsed %zu]\n", i);
			continue;
		}
		if (!started) {
			transcript_init(&t, out, ln->ts_ms);
			started = 1;
		}
		transcript_add(&t, ln);
	}
	if (started)
		transcript_end(&t);
	fclose(out);
	return buf;
}

static const char *const call[] = {
	T("00.000") "fcgi incoming_call from=+15551234567 to=+15557654321 call_status=ringing "
	"sig=ok",
	T("00.020") "ws ws_connected path=/ws/twilio-media subprotocol=audio.twilio.com",
	T("00.021") "ws ws_start stream_sid=MZ1 mode=agent",
	T("00.022") "ws agent turn_url=http://127.0.0.1:8080/webhook/turn tts=espeak voice=en-us",
	T("00.023") "fcgi turn index=0 event=start sig=ok",
	T("00.024") "ws turn index=0 event=start url=http://127.0.0.1:8080/webhook/turn status=200 "
	"first_byte_ms=1 complete_ms=1 verbs=3 bytes=477 ok=yes",
	T("02.900") "ws say text=\"Hello, this is callpipe.\" engine=espeak voice=en-us frames=189 "
	"first_frame_ms=3 since_answer_ms=3 cached=no",
	T("03.804") "ws ws_mark name=say-1",
	T("03.804") "ws mark name=say-1 result=played",
	T("03.805") "ws listen input=\"dtmf speech\" timeout_s=5 num_digits=2 finish_on_key=# "
	"action=/webhook/other",
	T("04.500") "ws ws_dtmf digit=4",
	T("04.500") "ws dtmf digit=4",
	T("04.600") "ws dtmf digit=2",
	T("04.700") "fcgi turn index=1 event=dtmf digits=42 sig=ok",
	T("04.701") "ws turn index=1 event=dtmf url=http://127.0.0.1:8080/webhook/other status=200 "
	"first_byte_ms=0 complete_ms=2 verbs=2 bytes=336 ok=yes",
	T("05.100") "ws play src=https://x.test/a.wav frames=100 first_frame_ms=5 cached=yes loop=2",
	T("05.200") "ws say text=\"You pressed 42.\" engine=espeak voice=en-us frames=58 "
	"first_frame_ms=0 since_answer_ms=400 cached=yes",
	T("05.300") "ws dtmf digit=9",
	T("05.301") "ws barge_in by=dtmf played_ms=240 dropped_frames=46",
	T("05.302") "ws mark name=say-2 result=flushed",
	T("05.310") "fcgi turn index=2 event=speech speech=\"book a table\" sig=ok",
	T("05.400") "ws turn index=2 event=speech url=http://127.0.0.1:8080/webhook/turn status=none "
	"first_byte_ms=-1 complete_ms=3000 verbs=0 bytes=0 ok=no",
	T("05.401") "ws turn_error index=2 event=speech url=http://127.0.0.1:8080/webhook/turn "
	"reason=\"timed out after 3000 ms\"",
	T("05.402") "ws turn_warning index=2 detail=\"unknown verb <Foo> skipped\"",
	T("05.403") "ws turn_warning verb=say index=1 detail=\"text cut at 2000 bytes\"",
	T("05.500") "ws gather_timeout then=\"verbs after the Gather\"",
	T("05.600") "ws dtmf digit=7 ignored=\"not listening\"",
	T("05.700") "ws hangup_pending reason=max_turn_errors after=goodbye",
	T("06.000") "ws hangup reason=max_turn_errors",
	T("06.100") "ws ws_stop",
	T("06.101") "ws ws_done rx=1 tx=1 close_code=1000 close_reason=\"stream stopped\"",
	T("06.200") "fcgi call_status call_status=completed call_duration=7 sig=ok",
	NULL
};

static const char want_call[] =
"   +0.00  call from +15551234567 to +15557654321\n"
"   +0.02  stream started (agent, espeak en-us, turns to http://127.0.0.1:8080/webhook/turn)\n"
"   +0.02  turn 0 (start): 200 in 1 ms, 3 verbs\n"
"   +0.03  agent: \"Hello, this is callpipe.\"  (3.8 s, first audio 3 ms after the answer)\n"
"   +3.81  listening: dtmf speech, timeout 5 s, 2 digits, finish on #, then /webhook/other\n"
"   +4.50  caller pressed: 4 2\n"
"   +4.70  turn 1 (dtmf, Digits 42) to http://127.0.0.1:8080/webhook/other: 200 in 2 ms, "
"2 verbs\n"
"   +5.10  agent: plays https://x.test/a.wav  (2.0 s, 2 times, cached)\n"
"   +5.10  agent: \"You pressed 42.\"  (1.2 s, cached)\n"
"   +5.30  caller pressed: 9\n"
"   +5.30  CALLER INTERRUPTED (dtmf): agent stopped after 240 ms, 0.9 s left unsaid\n"
"   +5.30  agent cut off: say-2 flushed before it was heard\n"
"   +5.31  caller said: \"book a table\"\n"
"   +5.40  turn 2 (speech): FAILED, no answer after 3000 ms\n"
"   +5.40  TURN 2 ERROR (speech): timed out after 3000 ms "
"(http://127.0.0.1:8080/webhook/turn)\n"
"   +5.40  turn 2 warning: unknown verb <Foo> skipped\n"
"   +5.40  turn 1 warning: <say> text cut at 2000 bytes\n"
"   +5.50  no answer from the caller in time: verbs after the Gather\n"
"   +5.60  caller pressed: 7 (ignored: not listening)\n"
"   +5.70  agent will hang up after goodbye (too many turn errors)\n"
"   +6.00  AGENT HUNG UP (too many turn errors)\n"
"   +6.10  stream stopped\n"
"   +6.20  call completed (7 s)\n";

static void test_call(void)
{
	char *got = tell(call);

	CHECK_STR(got, want_call);
	free(got);
}

/* A spoken conversation: the caller's words (from the asr line, not fcgi's copy of them),
 * how long after the speech they came, and how long after them the reply was heard; a
 * barge-in by speech; nothing recognized; a failed recognizer; speech a key dropped. */
static void test_speech(void)
{
	static const char *const lines[] = {
		T("00.000") "ws agent turn_url=http://t/turn tts=espeak voice=en-us",
		T("00.010") "ws turn index=0 event=start url=http://t/turn status=200 "
		"first_byte_ms=1 complete_ms=1 verbs=3 bytes=400 ok=yes",
		T("01.000") "ws barge_in by=speech played_ms=990 dropped_frames=10",
		T("01.000") "ws listen input=\"dtmf speech\" timeout_s=5 finish_on_key=# "
		"speech_timeout=auto",
		T("01.000") "ws speech_start floor_db=30 level_db=55 audio_before_ms=480",
		T("01.010") "ws say text=\"Hello.\" engine=espeak voice=en-us frames=50 "
		"first_frame_ms=1 since_answer_ms=1 cached=no interrupted=yes",
		T("03.300") "ws speech_end duration_ms=2040 by=silence",
		T("03.342") "ws asr engine=pocketsphinx text=\"go forward ten meters\" "
		"confidence=0.87 ms=42",
		T("03.343") "fcgi turn index=1 event=speech speech=\"go forward ten meters\" sig=ok",
		T("03.345") "ws turn index=1 event=speech url=http://t/turn status=200 "
		"first_byte_ms=1 complete_ms=2 verbs=3 bytes=400 ok=yes",
		T("05.000") "ws say text=\"You said go forward ten meters.\" engine=espeak "
		"voice=en-us frames=80 first_frame_ms=20 since_answer_ms=20 cached=no",
		T("06.000") "ws speech_start floor_db=30 level_db=50 audio_before_ms=480",
		T("06.500") "ws speech_end duration_ms=300 by=silence",
		T("06.530") "ws asr engine=pocketsphinx text=\"\" confidence=0.00 ms=30",
		T("07.000") "ws asr engine=http error=\"grammar x.gram not found\"",
		T("08.000") "ws speech_start floor_db=30 level_db=50 audio_before_ms=480",
		T("08.100") "ws dtmf digit=5",
		T("08.100") "ws speech_cancelled why=dtmf",
		NULL
	};
	static const char want[] =
"   +0.00  stream started (agent, espeak en-us, turns to http://t/turn)\n"
"   +0.01  turn 0 (start): 200 in 1 ms, 3 verbs\n"
"   +1.00  CALLER INTERRUPTED (speech): agent stopped after 990 ms, 0.2 s left unsaid\n"
"   +1.00  listening: dtmf speech, timeout 5 s, finish on #\n"
"   +0.01  agent: \"Hello.\"  (1.0 s, first audio 1 ms after the answer)\n"
"   +1.00  caller said: \"go forward ten meters\"  (2.0 s of speech, pocketsphinx, "
"confidence 0.87, 42 ms after it ended)\n"
"   +3.35  turn 1 (speech): 200 in 2 ms, 3 verbs\n"
"   +3.37  agent: \"You said go forward ten meters.\"  (1.6 s, first audio 20 ms after "
"the answer, 23 ms after the words)\n"
"   +6.00  caller not understood (no words recognized)  (0.3 s of speech, pocketsphinx, "
"30 ms after it ended)\n"
"   +7.00  caller not understood: recognition failed: grammar x.gram not found  (http)\n"
"   +8.00  caller's speech dropped (dtmf)\n"
"   +8.10  caller pressed: 5\n";
	char *got = tell(lines);

	CHECK_STR(got, want);
	free(got);
}

/* Said text, a URL and a reason holding ESC, CSI (0x9B, raw and as U+009B) and bad UTF-8:
 * the bytes are decoded by logparse, and must be escaped again on the way out. */
static void test_hostile(void)
{
	static const char *const lines[] = {
		T("00.000") "ws agent turn_url=\"http://x/\\x1B]0;owned\\x07\" tts=espeak voice=en",
		T("00.100") "ws say text=\"hi \\x1B[2J\\x9B31m \\xC2\\x9B \\xFF\\xFEok\" frames=5 "
		"first_frame_ms=1 since_answer_ms=1",
		T("00.200") "ws turn_error index=1 event=dtmf url=u reason=\"\\x1B[31mred\\r\\n\"",
		T("00.300") "ws dtmf digit=\"\\x1B\"",
		T("00.400") "fcgi turn index=1 event=speech speech=\"\\xC2\\x9B6n\" sig=ok",
		NULL
	};
	char *got = tell(lines);

	CHECK(got != NULL);
	CHECK(got && !strchr(got, 0x1b));
	CHECK(got && !strchr(got, (char)0x9b));
	CHECK(got && !strchr(got, 0x07) && !strchr(got, '\r'));
	CHECK(got && strstr(got, "turns to http://x/\\x1b]0;owned\\x07)"));
	CHECK(got && strstr(got, "agent: \"hi \\x1b[2J\\x9b31m \\xc2\\x9b \\xff\\xfeok\""));
	CHECK(got && strstr(got, "ERROR (dtmf): \\x1b[31mred\\r\\n (u)"));
	CHECK(got && strstr(got, "caller pressed: \\x1b\n"));
	CHECK(got && strstr(got, "caller said: \"\\xc2\\x9b6n\""));
	free(got);
}

/* Agent calls are recognized; echo calls are not. The caller hanging up is named. */
static void test_detect_and_caller_hangup(void)
{
	static const char *const agent_start = T("00.000") "ws ws_start stream_sid=MZ1 mode=agent";
	static const char *const echo_start = T("00.000") "ws ws_start stream_sid=MZ1 mode=echo";
	static const char *const lines[] = {
		T("00.000") "ws listen input=dtmf timeout_s=5 finish_on_key=#",
		T("01.000") "ws dtmf digit=1",
		T("01.500") "ws ws_stop",
		T("01.501") "ws ws_done close_code=1006 close_reason=\"connection lost\"",
		NULL
	};
	char *got;

	CHECK(logparse_line(ln, agent_start, strlen(agent_start), NULL, 0) == 0 &&
	      transcript_is_agent(ln));
	CHECK(logparse_line(ln, echo_start, strlen(echo_start), NULL, 0) == 0 &&
	      !transcript_is_agent(ln));
	got = tell(lines);
	CHECK_STR(got, "   +0.00  listening: dtmf, timeout 5 s, finish on #\n"
		  "   +1.00  caller pressed: 1\n"
		  "   +1.50  caller hung up (stream stopped)\n"
		  "   +1.50  stream closed: 1006 connection lost\n");
	free(got);
}

/* list's NOTES for an agent call: turns, turn errors, why the agent hung up. */
static void test_list_note(void)
{
	struct logsum s;
	char note[128];

	logsum_init(&s, "CA0123456789abcdef0123456789abcdef");
	for (size_t i = 0; call[i]; i++)
		if (logparse_line(ln, call[i], strlen(call[i]), NULL, 0) == 0)
			logsum_add(&s, ln);
	logsum_agent_note(&s, note, sizeof(note));
	CHECK_STR(note, "agent: 3 turns, 1 turn error, hung up max_turn_errors");
	logsum_init(&s, "CA0123456789abcdef0123456789abcdef");
	logsum_agent_note(&s, note, sizeof(note));
	CHECK_STR(note, "");
}

int main(void)
{
	ln = malloc(sizeof(*ln));
	if (!ln)
		return 1;
	test_call();
	test_speech();
	test_hostile();
	test_detect_and_caller_hangup();
	test_list_note();
	free(ln);
	return check_done();
}
