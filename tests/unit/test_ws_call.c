/* test_ws_call: one call driven through a fake transport and clock: echo order with one clear
 * and marks, errors counted and logged once per kind, reassembly, 1009, 1008, idle, queue cap,
 * and the close hand-over (one -1, then wait for the peer's close, bounded by the timer). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call.h"
#include "check.h"
#include "config.h"
#include "metrics.h"
#include "mode.h"
#include "twmsg.h"
#include "ws_fake.h"

#define PRE FAKE_PRE
#define SID_MZ "MZ0123456789abcdef0123456789abcdef"

static struct config cfg;
static struct wsmetrics met;
static struct twmsg pm;       /* for parsing what the call wrote */
static uint8_t pbuf[4096];

static void rx(struct call *c, const char *text)
{
	call_on_rx(c, text, strlen(text), 1, 1, 0);
}

static char callsid[40];

static void start(struct call *c, const char *params)
{
	char m[1024];
	static unsigned n;

	snprintf(callsid, sizeof(callsid), "CA%032x", ++n);
	snprintf(m, sizeof(m), "{\"event\":\"start\",\"sequenceNumber\":\"1\",\"start\":"
		 "{\"accountSid\":\"AC1\",\"streamSid\":\"" SID_MZ "\",\"callSid\":\"%s\","
		 "\"tracks\":[\"inbound\"],\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\","
		 "\"sampleRate\":8000,\"channels\":1},\"customParameters\":{%s}},\"streamSid\":\""
		 SID_MZ "\"}", callsid, params ? params : "");
	rx(c, "{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}");
	rx(c, m);
}

static void media(struct call *c, unsigned seq, uint8_t fill, size_t n)
{
	char m[1024], b64[400];
	size_t i;
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	/* n is a multiple of 3 here: every 3 bytes of FILL are 4 characters */
	for (i = 0; i < n / 3 * 4; i += 4) {
		uint32_t v = (uint32_t)fill << 16 | (uint32_t)fill << 8 | fill;
		b64[i] = al[v >> 18 & 63];
		b64[i + 1] = al[v >> 12 & 63];
		b64[i + 2] = al[v >> 6 & 63];
		b64[i + 3] = al[v & 63];
	}
	b64[n / 3 * 4] = '\0';
	snprintf(m, sizeof(m), "{\"event\":\"media\",\"sequenceNumber\":\"%u\",\"media\":"
		 "{\"track\":\"inbound\",\"chunk\":\"%u\",\"timestamp\":\"0\",\"payload\":\"%s\"},"
		 "\"streamSid\":\"" SID_MZ "\"}", seq, seq, b64);
	rx(c, m);
}

/* Lines of the call's log file holding " EVENT" (and NEEDLE when given). */
static int log_count(const char *event, const char *needle)
{
	char path[1024], line[4096], ev[64];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.log", cfg.log_dir, callsid);
	snprintf(ev, sizeof(ev), " ws %s", event);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, ev) && (!needle || strstr(line, needle)))
			n++;
	fclose(f);
	return n;
}

static int files_in_log_dir(void)
{
	DIR *d = opendir(cfg.log_dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static const char *event_of(const char *text)
{
	if (twmsg_parse(text, strlen(text), &pm, pbuf, sizeof(pbuf), NULL, 0) != TWMSG_OK) {
		/* outbound clear is not an inbound event: recognise it by hand */
		return strstr(text, "\"event\":\"clear\"") ? "clear" : "?";
	}
	return twmsg_event_name(pm.event);
}

static void test_echo(struct call_env *env)
{
	struct call_conn conn = { "/ws/twilio-media", "audio.twilio.com", "127.0.0.1", "" };
	struct fake f = fake_init(1);
	struct call *c;
	int order_ok = 1, code;
	const char *reason;
	unsigned i;

	fake_reset(&f);
	memset(&met, 0, sizeof(met));
	c = call_new(env, &f, &conn);
	CHECK(c != NULL);
	CHECK(met.active_calls == 1 && met.calls_total == 1);
	CHECK(f.timer == (int64_t)cfg.start_seconds * 1000000);   /* start is due first */
	CHECK(call_send_media(c, (const uint8_t *)"x", 1) == -1);   /* no streamSid yet */
	start(c, "\"From\":\"+15551234567\",\"odd name\":\"v\"");
	CHECK_STR(call_sid(c), callsid);
	CHECK_STR(call_stream_sid(c), SID_MZ);
	for (i = 0; i < 12; i++)
		media(c, i + 2, (uint8_t)i, 159);
	CHECK(fake_pump(c, &f) == 0);
	/* clear, m1..m5, mark echo-1, m6..m10, mark echo-2, m11, m12 */
	CHECK(f.nout == 15);
	CHECK_STR(event_of(f.out[0]), "clear");
	for (i = 1; i < f.nout && i < 15; i++) {
		const char *ev = event_of(f.out[i]);

		if (i == 6 || i == 12) {
			order_ok &= !strcmp(ev, "mark");
			order_ok &= !strcmp(pm.mark_name, i == 6 ? "echo-1" : "echo-2");
		} else {
			unsigned frame = i < 6 ? i - 1 : i < 12 ? i - 2 : i - 3;

			order_ok &= !strcmp(ev, "media") && pm.payload_len == 159 &&
				    pm.payload[0] == frame && pm.payload[158] == frame;
		}
		order_ok &= !strcmp(pm.stream_sid, SID_MZ) || !strcmp(ev, "clear");
	}
	CHECK_MSG(order_ok, "echo: every payload back in order, marks after frames 5 and 10");
	CHECK(met.frames_in == 12 && met.frames_out == 12 && met.marks_sent == 2 &&
	      met.clears == 1);

	rx(c, "{\"event\":\"mark\",\"sequenceNumber\":\"14\",\"streamSid\":\"" SID_MZ "\","
	      "\"mark\":{\"name\":\"echo-1\"}}");
	rx(c, "{\"event\":\"dtmf\",\"sequenceNumber\":\"15\",\"streamSid\":\"" SID_MZ "\","
	      "\"dtmf\":{\"track\":\"inbound_track\",\"digit\":\"7\"}}");
	CHECK(met.marks_returned == 1);
	media(c, 16, 0x55, 3);
	rx(c, "{\"event\":\"stop\",\"sequenceNumber\":\"17\",\"streamSid\":\"" SID_MZ "\"}");
	/* stop closes after flushing: the last echo goes out, then the close */
	CHECK(fake_pump(c, &f) == -1);
	CHECK(f.nout == 16 && !strcmp(event_of(f.out[15]), "media"));
	call_close_status(c, &code, &reason);
	CHECK(code == 1000);
	CHECK_STR(reason, "stream stopped");
	call_done(c);
	CHECK(met.active_calls == 0);
	CHECK(log_count("ws_connected", "subprotocol=audio.twilio.com") == 1);
	CHECK(log_count("ws_start", "param_From=+15551234567") == 1);
	CHECK(log_count("ws_start", "param_odd_name=v") == 1);
	CHECK(log_count("ws_start", "mode=echo") == 1);
	CHECK(log_count("ws_mark", "name=echo-1") == 1);
	CHECK(log_count("ws_dtmf", "digit=7") == 1);
	CHECK(log_count("ws_stop", NULL) == 1);
	CHECK(log_count("ws_done", "rx=13 tx=13 marks_sent=2 marks_returned=1 clears=1 gaps=0") ==
	      1);
	CHECK(log_count("ws_done", "close_code=1000 close_reason=\"stream stopped\" "
			"closed_by=server") == 1);
	CHECK(log_count("ws_error", NULL) == 0);
	fake_reset(&f);
}

static void test_errors_once(struct call_env *env)
{
	struct call_conn conn = { "/ws/twilio-media/", "", "10.0.0.1", "203.0.113.9" };
	struct fake f = fake_init(1);
	struct call *c;
	int i;

	fake_reset(&f);
	memset(&met, 0, sizeof(met));
	c = call_new(env, &f, &conn);
	media(c, 0, 1, 3);   /* before start: counted, logged on stderr */
	start(c, "\"mode\":\"nosuchmode\"");
	for (i = 0; i < 3; i++) {
		rx(c, "{oops");
		call_on_rx(c, "\x01\x02", 2, 1, 1, 1);
		rx(c, "{\"event\":\"bogus\"}");
		rx(c, "{\"event\":\"media\",\"streamSid\":\"MZother\",\"media\":{\"payload\":\"\"}}");
		rx(c, "{\"event\":\"media\",\"streamSid\":\"" SID_MZ "\",\"media\":{\"payload\":\"A\"}}");
		rx(c, "{\"event\":\"media\",\"streamSid\":\"" SID_MZ "\"}");
	}
	CHECK(met.errors[WSERR_MEDIA_BEFORE_START] == 1);
	CHECK(met.errors[WSERR_JSON] == 3);
	CHECK(met.errors[WSERR_BINARY] == 3);
	CHECK(met.errors[WSERR_UNKNOWN_EVENT] == 3);
	CHECK(met.errors[WSERR_STREAM_SID] == 3);
	CHECK(met.errors[WSERR_BASE64] == 3);
	CHECK(met.errors[WSERR_INVALID] == 3);
	CHECK(log_count("ws_error", "kind=json") == 1);
	CHECK(log_count("ws_error", "kind=binary") == 1);
	CHECK(log_count("ws_error", "kind=unknown_event") == 1);
	CHECK(log_count("ws_error", "kind=stream_sid") == 1);
	CHECK(log_count("ws_error", "kind=base64") == 1);
	CHECK(log_count("ws_error", "kind=invalid") == 1);
	CHECK(log_count("ws_connected", "x_forwarded_for=203.0.113.9") == 1);
	/* an unknown mode falls back to the default, and the call goes on */
	CHECK(log_count("ws_start", "mode=echo") == 1);
	media(c, 2, 9, 6);
	CHECK(fake_pump(c, &f) == 0);
	CHECK(f.nout == 2 && !strcmp(event_of(f.out[1]), "media") && pm.payload_len == 6);
	/* gaps: 2 then 5 is one gap; a bad message keeps its number (6), so 7 is no gap */
	media(c, 5, 1, 3);
	rx(c, "{\"event\":\"nope\",\"sequenceNumber\":\"6\"}");
	media(c, 7, 1, 3);
	CHECK(met.errors[WSERR_SEQUENCE_GAP] == 1);
	CHECK(log_count("ws_error", "kind=sequence_gap") == 1);
	call_on_peer_close(c, 1000, "bye", 3);
	call_done(c);
	CHECK(log_count("ws_done", "gaps=1 errors_json=3 errors_invalid=3 errors_binary=3 "
			"errors_unknown_event=4") == 1);
	CHECK(log_count("ws_done", "close_code=1000 close_reason=bye closed_by=peer") == 1);
	fake_reset(&f);
}

static void test_fragments(struct call_env *env)
{
	struct call_conn conn = { "/ws/twilio-media", "", "127.0.0.1", "" };
	char m[1024], big[2048];
	struct fake f = fake_init(1);
	struct call *c;
	size_t n;
	int code;
	const char *reason;

	fake_reset(&f);
	memset(&met, 0, sizeof(met));
	c = call_new(env, &f, &conn);
	snprintf(callsid, sizeof(callsid), "CA%032x", 0xfeedu);
	n = (size_t)snprintf(m, sizeof(m), "{\"event\":\"start\",\"start\":{\"callSid\":\"%s\","
			     "\"streamSid\":\"MZ1\"},\"streamSid\":\"MZ1\"}", callsid);
	call_on_rx(c, m, 10, 1, 0, 0);
	call_on_rx(c, m + 10, 20, 0, 0, 0);
	call_on_rx(c, m + 30, n - 30, 0, 0, 0);
	CHECK(call_sid(c)[0] == '\0');          /* not complete yet */
	call_on_rx(c, "", 0, 0, 1, 0);          /* zero-length final chunk */
	CHECK_STR(call_sid(c), callsid);
	n = (size_t)snprintf(m, sizeof(m), "{\"event\":\"media\",\"streamSid\":\"MZ1\",\"media\":"
			     "{\"payload\":\"AAEC\"}}");
	call_on_rx(c, m, 5, 1, 0, 0);
	call_on_rx(c, m + 5, n - 5, 0, 1, 0);
	CHECK(fake_pump(c, &f) == 0 && f.nout == 2 && !strcmp(event_of(f.out[1]), "media") &&
	      pm.payload_len == 3 && pm.payload[2] == 2);
	CHECK(met.errors[WSERR_JSON] == 0);

	/* over max_message across chunks: 1009, and nothing after it is parsed */
	memset(big, ' ', sizeof(big));
	call_on_rx(c, big, 1000, 1, 0, 0);
	call_on_rx(c, big, 1000, 0, 0, 0);
	CHECK(met.errors[WSERR_TOO_BIG] == 1);
	call_on_rx(c, big, 10, 0, 1, 0);
	media(c, 3, 1, 3);
	CHECK(met.frames_in == 1);
	CHECK(fake_pump(c, &f) == -1);
	call_close_status(c, &code, &reason);
	CHECK(code == 1009);
	CHECK_STR(reason, "message too big");
	call_done(c);
	CHECK(log_count("ws_done", "close_code=1009") == 1);

	/* one chunk over max_message, before start */
	fake_reset(&f);
	c = call_new(env, &f, &conn);
	call_on_rx(c, big, cfg.max_message + 1 <= sizeof(big) ? cfg.max_message + 1 : sizeof(big),
		   1, 1, 0);
	CHECK(fake_pump(c, &f) == -1);
	call_close_status(c, &code, &reason);
	CHECK(code == 1009);
	call_done(c);
	fake_reset(&f);
}

static void test_bad_callsid(struct call_env *env)
{
	struct call_conn conn = { "/ws/twilio-media", "", "127.0.0.1", "" };
	static const char *const sids[] = { "CA../../../etc/passwd", "CA0123", "",
		"CA0123456789abcdef0123456789abcdeg", "XX0123456789abcdef0123456789abcdef" };
	int before = files_in_log_dir(), code, ok = 1;
	const char *reason;
	struct fake f = fake_init(1);
	char m[512];
	size_t i;

	memset(&met, 0, sizeof(met));
	for (i = 0; i < sizeof(sids) / sizeof(sids[0]); i++) {
		struct call *c;

		fake_reset(&f);
		c = call_new(env, &f, &conn);
		snprintf(m, sizeof(m), "{\"event\":\"start\",\"start\":{\"callSid\":\"%s\","
			 "\"streamSid\":\"MZ1\"},\"streamSid\":\"MZ1\"}", sids[i]);
		rx(c, m);
		ok &= call_sid(c)[0] == '\0';
		ok &= fake_pump(c, &f) == -1;
		call_close_status(c, &code, &reason);
		ok &= code == 1008 && !strcmp(reason, "invalid callSid");
		call_done(c);
	}
	CHECK_MSG(ok, "a start with a bad callSid is closed with 1008 \"invalid callSid\"");
	CHECK(met.errors[WSERR_BAD_CALL_SID] == 5);
	CHECK(files_in_log_dir() == before);
	fake_reset(&f);
}

static void test_idle_and_queue(struct call_env *env)
{
	struct call_conn conn = { "/ws/twilio-media", "", "127.0.0.1", "" };
	int64_t idle = (int64_t)cfg.idle_seconds * 1000000;
	uint8_t frame[160];
	const char *reason;
	struct fake f = fake_init(1);
	struct call *c;
	int code, i, r = 0;

	fake_reset(&f);
	memset(&met, 0, sizeof(met));
	c = call_new(env, &f, &conn);
	start(c, NULL);
	fake_clock_us += idle - 1000000;
	media(c, 2, 1, 3);                 /* activity 1 s before the deadline */
	fake_clock_us += 1000000;
	CHECK(call_on_timer(c) == 0);      /* not idle: re-armed for the rest */
	CHECK(f.timer == idle - 1000000);
	CHECK(met.errors[WSERR_IDLE] == 0);
	fake_clock_us += idle;
	CHECK(call_on_timer(c) == 0);
	CHECK(met.errors[WSERR_IDLE] == 1);
	CHECK(fake_pump(c, &f) == -1);          /* queued echo is dropped, close now */
	call_close_status(c, &code, &reason);
	CHECK(code == 1000);
	CHECK_STR(reason, "idle timeout");
	CHECK(f.timer == 2000000);         /* the peer has 2 s to answer our close frame */
	CHECK(call_on_timer(c) == -1);     /* it did not: the timer drops the connection */
	call_done(c);

	fake_reset(&f);
	c = call_new(env, &f, &conn);
	start(c, NULL);
	memset(frame, 0xff, sizeof(frame));
	for (i = 0; i < 100 && r == 0; i++)
		r = call_send_media(c, frame, sizeof(frame));
	CHECK(r == -1 && i > 5);   /* max_queue_bytes 4096 holds some 370-byte messages */
	CHECK(met.errors[WSERR_QUEUE_FULL] == 1);
	CHECK(call_send_mark(c, "x") == -1 && call_send_clear(c) == -1);
	CHECK(fake_pump(c, &f) == -1 && f.nout == 0);
	call_close_status(c, &code, &reason);
	CHECK(code == 1011);
	call_done(c);
	CHECK(log_count("ws_done", "errors_queue_full=1") == 1);

	/* a failed write ends the call as a network loss */
	fake_reset(&f);
	c = call_new(env, &f, &conn);
	start(c, NULL);
	media(c, 2, 1, 3);
	f.fail_write = 1;
	CHECK(fake_pump(c, &f) == -1);
	call_done(c);
	CHECK(log_count("ws_done", "close_code=1006") == 1);
	fake_reset(&f);
}

/* After call_on_writable() returned -1 the close frame is the transport's: lws 4.1.6 then
 * waits for the peer's close (AWAITING_CLOSE_ACK) but gives one more WRITEABLE, and a second
 * -1 there killed the connection with the peer's frames unread (RST; behind Apache the
 * client lost our close frame). So: exactly one -1, then 0 and nothing written. */
static void test_close_handoff(struct call_env *env)
{
	struct call_conn conn = { "/ws/twilio-media", "", "127.0.0.1", "" };
	uint8_t frame[160];
	const char *reason;
	struct fake f = fake_init(1);
	struct call *c;
	int code, i;

	fake_reset(&f);
	memset(&met, 0, sizeof(met));
	c = call_new(env, &f, &conn);
	start(c, NULL);
	media(c, 2, 1, 3);
	call_close(c, 1008, "policy", 0);
	CHECK(f.timer == 5000000);         /* until the close is handed over: 5 s */
	CHECK(call_has_output(c) == 1);
	CHECK(fake_pump(c, &f) == -1);
	CHECK(f.nout == 0);                /* not flushed: the queued clear and echo dropped */
	CHECK(f.timer == 2000000);         /* then 2 s for the peer's close frame */
	CHECK(call_has_output(c) == 0);
	f.want = 0;
	for (i = 0; i < 3; i++)
		CHECK(call_on_writable(c) == 0);   /* lws's extra WRITEABLEs: no second -1 */
	CHECK(f.want == 0 && f.nout == 0);
	media(c, 3, 1, 3);                 /* frames still arriving are dropped, not queued */
	CHECK(met.frames_in == 1 && call_has_output(c) == 0 && f.want == 0);
	call_close(c, 1001, "again", 0);   /* a later close (drain) changes nothing */
	call_close_status(c, &code, &reason);
	CHECK(code == 1008 && !strcmp(reason, "policy"));
	CHECK(call_on_timer(c) == -1);     /* no answer in 2 s: drop */
	call_done(c);
	CHECK(log_count("ws_done", "close_code=1008 close_reason=policy closed_by=server") == 1);

	/* stop: flush, then hand over; the peer's close arriving later does not change who
	 * closed first */
	fake_reset(&f);
	c = call_new(env, &f, &conn);
	start(c, NULL);
	media(c, 2, 7, 3);
	rx(c, "{\"event\":\"stop\",\"sequenceNumber\":\"3\",\"streamSid\":\"" SID_MZ "\"}");
	CHECK(fake_pump(c, &f) == -1 && f.nout == 2);   /* clear and the echo, then the close */
	CHECK(call_on_writable(c) == 0 && f.nout == 2);
	call_on_peer_close(c, 1000, "ok", 2);
	call_done(c);
	CHECK(log_count("ws_done", "close_code=1000 close_reason=\"stream stopped\" "
			"closed_by=server") == 1);

	/* a flush that never drains: at 5 s the timer hands the close over anyway (queue
	 * dropped, nothing more written), then 2 s for the answer */
	fake_reset(&f);
	c = call_new(env, &f, &conn);
	start(c, NULL);
	memset(frame, 0x11, sizeof(frame));
	for (i = 0; i < 5; i++)
		call_send_media(c, frame, sizeof(frame));
	call_close(c, 1000, "stream stopped", 1);
	CHECK(call_on_timer(c) == -1);
	CHECK(f.timer == 2000000 && call_has_output(c) == 0);
	CHECK(call_on_writable(c) == 0 && f.nout == 0);
	CHECK(call_on_timer(c) == -1);
	call_done(c);

	/* a failed write is handed over too: one -1, then quiet */
	fake_reset(&f);
	c = call_new(env, &f, &conn);
	start(c, NULL);
	media(c, 2, 1, 3);
	f.fail_write = 1;
	CHECK(fake_pump(c, &f) == -1);
	CHECK(call_on_writable(c) == 0 && call_has_output(c) == 0);
	call_done(c);
	CHECK(log_count("ws_done", "close_code=1006") == 1);
	CHECK(met.active_calls == 0);
	fake_reset(&f);
}

/* A mode that only counts the hooks the agent relies on. */
static int plumb_timers, plumb_drains, plumb_wakes;
static size_t plumb_drain_at;

static int plumb_timer(struct call *c)
{
	(void)c;
	plumb_timers++;
	return 0;
}

static int plumb_drain(struct call *c)
{
	plumb_drains++;
	plumb_drain_at = call_media_queued(c);
	return 0;
}

static const struct mode_ops mode_plumb = {
	.name = "plumb", .summary = "test", .on_timer = plumb_timer, .on_drain = plumb_drain,
};

static void plumb_wake(void *arg)
{
	(void)arg;
	plumb_wakes++;
}

/* The plumbing for slow work: the flush puts one clear ahead of the marks and drops only
 * media; the drain hook fires once at the low-water mark; the mode timer shares the one
 * transport timer with the idle timer; ids find calls until they end; the waker. */
static void test_agent_plumbing(void)
{
	struct call_conn conn = { "/ws/twilio-media", "", "127.0.0.1", "" };
	struct fake f = fake_init(1);
	struct call_env *env;
	struct call *c;
	char err[128];
	uint8_t frame[160];
	int64_t idle = (int64_t)cfg.idle_seconds * 1000000;
	uint64_t id;
	int i;

	fake_reset(&f);
	memset(&met, 0, sizeof(met));
	memset(frame, 0xff, sizeof(frame));
	env = call_env_new(&cfg, &mode_plumb, &met, &fake_io, PRE, err, sizeof(err));
	CHECK(env != NULL);
	if (!env)
		return;
	c = call_new(env, &f, &conn);
	start(c, NULL);
	id = call_id(c);
	CHECK(id != 0 && call_env_find(env, id) == c && call_env_find(env, id + 1) == NULL);
	CHECK(call_flush_media(c) == 0);   /* nothing queued: just the clear */
	CHECK(fake_pump(c, &f) == 0 && f.nout == 1 && !strcmp(event_of(f.out[0]), "clear"));

	for (i = 0; i < 5; i++)
		call_send_media(c, frame, sizeof(frame));
	call_send_mark(c, "say-1");
	for (i = 0; i < 3; i++)
		call_send_media(c, frame, sizeof(frame));
	CHECK(call_media_queued(c) == 8);
	CHECK(call_flush_media(c) == 8);
	CHECK(call_media_queued(c) == 0);
	CHECK(fake_pump(c, &f) == 0);
	CHECK_MSG(f.nout == 3 && !strcmp(event_of(f.out[1]), "clear") &&
		  !strcmp(event_of(f.out[2]), "mark") && !strcmp(pm.mark_name, "say-1"),
		  "flush: the clear leaves before the queued mark, no media after it");

	for (i = 0; i < 10; i++)
		call_send_media(c, frame, sizeof(frame));
	call_want_drain(c, 3);
	for (i = 0; i < 10 && f.want; i++) {
		f.want = 0;
		call_on_writable(c);
		if (call_media_queued(c))
			f.want = 1;
	}
	CHECK_MSG(plumb_drains == 1 && plumb_drain_at == 3,
		  "on_drain once, when the queued media fell to the low-water mark");

	call_set_mode_timer(c, 500000);
	CHECK(f.timer == 500000);   /* the mode's timer is sooner than the idle one */
	fake_clock_us += 500000;
	CHECK(call_on_timer(c) == 0);
	CHECK(plumb_timers == 1);
	CHECK(f.timer == idle - 500000);   /* back to the idle deadline */
	call_set_mode_timer(c, 2 * idle);
	CHECK(f.timer == idle - 500000);   /* a later mode timer leaves idle first */
	call_set_mode_timer(c, -1);
	fake_clock_us += idle - 500000;
	CHECK(call_on_timer(c) == 0 && plumb_timers == 1);   /* cancelled: only idle */

	call_env_set_waker(env, plumb_wake, NULL);
	call_env_wake(env);
	call_env_set_waker(env, NULL, NULL);
	call_env_wake(env);
	CHECK(plumb_wakes == 1);

	call_done(c);
	CHECK(call_env_find(env, id) == NULL);
	call_env_free(env);
	fake_reset(&f);
}

static void test_env_free(void)
{
	struct call_conn conn = { "/ws/twilio-media", "", "127.0.0.1", "" };
	struct call_env *env;
	struct fake f1 = { .timer = -1 }, f2 = { .timer = -1 };
	char err[128];

	fake_reset(&f1);
	fake_reset(&f2);
	memset(&met, 0, sizeof(met));
	env = call_env_new(&cfg, &mode_echo, &met, &fake_io, PRE, err, sizeof(err));
	CHECK(env != NULL);
	if (!env)
		return;
	call_new(env, &f1, &conn);
	start(call_new(env, &f2, &conn), NULL);
	CHECK(call_env_count(env) == 2);
	call_env_close_all(env, 1001, "server shutting down");
	CHECK(f1.want == 1 && f2.want == 1);
	call_env_free(env);
	CHECK(met.active_calls == 0);
	CHECK(log_count("ws_done", "close_code=1001 close_reason=\"server shutting down\"") == 1);
	fake_reset(&f1);
	fake_reset(&f2);
}

static void cleanup(void)
{
	check_rmdir_flat(cfg.log_dir);
}

int main(void)
{
	char dir[] = "/tmp/test_ws_call.XXXXXX", err[128];
	struct call_env *env;

	config_defaults(&cfg);
	/* stream binding (a callpipe_token per start) has its own test: test_ws_bind */
	cfg.validate = 0;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(cfg.log_dir, sizeof(cfg.log_dir), "%s", dir);
	cfg.echo_mark_every = 5;
	cfg.max_message = 1024;
	cfg.max_queue_bytes = 4096;
	cfg.idle_seconds = 30;
	CHECK(mode_find("echo") == &mode_echo && mode_find("nope") == NULL);
	env = call_env_new(&cfg, &mode_echo, &met, &fake_io, PRE, err, sizeof(err));
	CHECK(env != NULL);
	if (!env)
		return check_done();
	test_echo(env);
	test_errors_once(env);
	test_fragments(env);
	test_bad_callsid(env);
	test_idle_and_queue(env);
	test_close_handoff(env);
	CHECK(call_env_count(env) == 0);
	call_env_free(env);
	test_env_free();
	test_agent_plumbing();
	cleanup();
	return check_done();
}
