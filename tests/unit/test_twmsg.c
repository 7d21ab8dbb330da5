/* test_twmsg: every Media Streams message shape of docs/PROTOCOL.md §4.3 parsed field by field,
 * malformed messages with their precise error kinds, and the outbound builders round-tripped. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "twmsg.h"

#define SID_MZ "MZ0123456789abcdef0123456789abcdef"
#define SID_CA "CA0123456789abcdef0123456789abcdef"
#define SID_AC "AC0123456789abcdef0123456789abcdef"

static struct twmsg msg;      /* ~33 KiB: not on the stack */
static uint8_t payload[4096];
static char err[256];

static enum twmsg_error parse(const char *text)
{
	return twmsg_parse(text, strlen(text), &msg, payload, sizeof(payload), err, sizeof(err));
}

/* The messages of docs/PROTOCOL.md §4.3 (Twilio to server), with real-looking sids. */
static void test_protocol_shapes(void)
{
	static const uint8_t ulaw[] = { 0xff, 0x7f, 0x00, 0x80, 0x55, 0xd5 };

	CHECK(parse("{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}") ==
	      TWMSG_OK);
	CHECK(msg.event == TWMSG_CONNECTED);
	CHECK_STR(msg.protocol, "Call");
	CHECK_STR(msg.version, "1.0.0");
	CHECK(!msg.has_seq);
	CHECK_STR(msg.stream_sid, "");

	CHECK(parse("{\"event\":\"start\",\"sequenceNumber\":\"1\",\"start\":{\"accountSid\":\""
		    SID_AC "\",\"streamSid\":\"" SID_MZ "\",\"callSid\":\"" SID_CA "\",\"tracks\":"
		    "[\"inbound\"],\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\",\"sampleRate\":8000,"
		    "\"channels\":1},\"customParameters\":{\"From\":\"+15551234567\",\"mode\":\"echo\"}"
		    "},\"streamSid\":\"" SID_MZ "\"}") == TWMSG_OK);
	CHECK(msg.event == TWMSG_START);
	CHECK(msg.has_seq && msg.seq == 1);
	CHECK_STR(msg.stream_sid, SID_MZ);
	CHECK_STR(msg.call_sid, SID_CA);
	CHECK_STR(msg.account_sid, SID_AC);
	CHECK_STR(msg.tracks, "inbound");
	CHECK_STR(msg.encoding, "audio/x-mulaw");
	CHECK(msg.sample_rate == 8000);
	CHECK(msg.channels == 1);
	CHECK(msg.nparams == 2);
	CHECK(msg.params_dropped == 0);
	CHECK_STR(twmsg_param(&msg, "From"), "+15551234567");
	CHECK_STR(twmsg_param(&msg, "mode"), "echo");
	CHECK(twmsg_param(&msg, "from") == NULL);   /* names are case-sensitive */

	CHECK(parse("{\"event\":\"media\",\"sequenceNumber\":\"3\",\"media\":{\"track\":\"inbound\","
		    "\"chunk\":\"1\",\"timestamp\":\"5\",\"payload\":\"/38AgFXV\"},\"streamSid\":\""
		    SID_MZ "\"}") == TWMSG_OK);
	CHECK(msg.event == TWMSG_MEDIA);
	CHECK(msg.has_seq && msg.seq == 3);
	CHECK_STR(msg.track, "inbound");
	CHECK_STR(msg.chunk, "1");
	CHECK_STR(msg.timestamp, "5");
	CHECK(msg.payload == payload);
	CHECK(msg.payload_len == sizeof(ulaw) && memcmp(msg.payload, ulaw, sizeof(ulaw)) == 0);
	CHECK(twmsg_param(&msg, "From") == NULL);   /* only a start has parameters */
	CHECK_STR(msg.call_sid, "");                 /* the earlier start's fields are gone */

	CHECK(parse("{\"event\":\"dtmf\",\"streamSid\":\"" SID_MZ "\",\"sequenceNumber\":\"5\","
		    "\"dtmf\":{\"track\":\"inbound_track\",\"digit\":\"1\"}}") == TWMSG_OK);
	CHECK(msg.event == TWMSG_DTMF);
	CHECK_STR(msg.digit, "1");
	CHECK_STR(msg.track, "inbound_track");
	CHECK(msg.seq == 5);
	CHECK(parse("{\"event\":\"dtmf\",\"streamSid\":\"MZ1\",\"dtmf\":{\"digit\":\"#\"}}") ==
	      TWMSG_OK && !strcmp(msg.digit, "#"));
	CHECK(parse("{\"event\":\"dtmf\",\"streamSid\":\"MZ1\",\"dtmf\":{\"digit\":\"D\"}}") ==
	      TWMSG_OK && !strcmp(msg.digit, "D"));

	CHECK(parse("{\"event\":\"mark\",\"sequenceNumber\":\"4\",\"streamSid\":\"" SID_MZ "\","
		    "\"mark\":{\"name\":\"utt-1\"}}") == TWMSG_OK);
	CHECK(msg.event == TWMSG_MARK);
	CHECK_STR(msg.mark_name, "utt-1");

	CHECK(parse("{\"event\":\"stop\",\"sequenceNumber\":\"5\",\"stop\":{\"accountSid\":\""
		    SID_AC "\",\"callSid\":\"" SID_CA "\"},\"streamSid\":\"" SID_MZ "\"}") ==
	      TWMSG_OK);
	CHECK(msg.event == TWMSG_STOP);
	CHECK_STR(msg.call_sid, SID_CA);
	CHECK_STR(msg.stream_sid, SID_MZ);

	/* stop without its object is still a stop */
	CHECK(parse("{\"event\":\"stop\",\"streamSid\":\"" SID_MZ "\"}") == TWMSG_OK);
	CHECK(msg.event == TWMSG_STOP);
}

static void test_start_variants(void)
{
	char *big;
	size_t i, o;

	/* an empty start.streamSid falls back to the top level */
	CHECK(parse("{\"event\":\"start\",\"start\":{\"callSid\":\"\",\"streamSid\":\"\"},"
		    "\"streamSid\":\"" SID_MZ "\"}") == TWMSG_OK);
	CHECK_STR(msg.stream_sid, SID_MZ);
	CHECK_STR(msg.call_sid, "");   /* the call refuses it (1008), not the parser */
	/* streamSid only at the top level */
	CHECK(parse("{\"event\":\"start\",\"start\":{\"callSid\":\"" SID_CA "\"},\"streamSid\":\""
		    SID_MZ "\"}") == TWMSG_OK);
	CHECK_STR(msg.stream_sid, SID_MZ);
	CHECK(msg.nparams == 0 && msg.sample_rate == 0 && msg.tracks[0] == '\0');

	/* several tracks are joined */
	CHECK(parse("{\"event\":\"start\",\"start\":{\"callSid\":\"x\",\"streamSid\":\"MZ1\","
		    "\"tracks\":[\"inbound\",\"outbound\",3]}}") == TWMSG_OK);
	CHECK_STR(msg.tracks, "inbound,outbound");

	/* customParameters: 40 entries keep 32; a non-string, and a 500-character value, are
	 * dropped; a 499-character value is kept */
	big = malloc(64 * 1024);
	CHECK(big != NULL);
	if (!big)
		return;
	o = (size_t)sprintf(big, "{\"event\":\"start\",\"start\":{\"callSid\":\"c\",\"streamSid\":"
			    "\"s\",\"customParameters\":{\"n\":5,\"long\":\"");
	for (i = 0; i < 500; i++)
		big[o++] = 'v';
	o += (size_t)sprintf(big + o, "\",\"ok\":\"");
	for (i = 0; i < 499; i++)
		big[o++] = 'w';
	o += (size_t)sprintf(big + o, "\"");
	for (i = 0; i < 40; i++)
		o += (size_t)sprintf(big + o, ",\"p%zu\":\"%zu\"", i, i);
	sprintf(big + o, "}}}");
	CHECK(parse(big) == TWMSG_OK);
	CHECK(msg.nparams == TWMSG_PARAMS_MAX);
	CHECK(msg.params_dropped == 2 + 9);   /* n, long, and p31..p39 */
	CHECK(twmsg_param(&msg, "ok") && strlen(twmsg_param(&msg, "ok")) == 499);
	CHECK(twmsg_param(&msg, "long") == NULL);
	CHECK(twmsg_param(&msg, "n") == NULL);
	CHECK_STR(twmsg_param(&msg, "p30"), "30");
	CHECK(twmsg_param(&msg, "p31") == NULL);
	free(big);

	/* sequenceNumber forms */
	CHECK(parse("{\"event\":\"connected\",\"sequenceNumber\":42}") == TWMSG_OK);
	CHECK(msg.has_seq && msg.seq == 42);
	CHECK(parse("{\"event\":\"connected\",\"sequenceNumber\":\"4x\"}") == TWMSG_OK);
	CHECK(!msg.has_seq);
	CHECK(parse("{\"event\":\"connected\",\"sequenceNumber\":\"\"}") == TWMSG_OK);
	CHECK(!msg.has_seq);
	CHECK(parse("{\"event\":\"connected\",\"sequenceNumber\":-1}") == TWMSG_OK);
	CHECK(!msg.has_seq);
	CHECK(parse("{\"event\":\"connected\",\"sequenceNumber\":\"1234567890123456789\"}") ==
	      TWMSG_OK);
	CHECK(!msg.has_seq);   /* 19 digits: refused rather than risk overflow */
	CHECK(parse("{\"event\":\"connected\",\"sequenceNumber\":\"123456789012345678\"}") ==
	      TWMSG_OK);
	CHECK(msg.has_seq && msg.seq == 123456789012345678ULL);
}

static const struct {
	const char *text;
	enum twmsg_error want;
	const char *why;
} bad[] = {
	{ "", TWMSG_ERR_JSON, "empty" },
	{ "{", TWMSG_ERR_JSON, "truncated" },
	{ "{\"event\":\"media\"", TWMSG_ERR_JSON, "unterminated object" },
	{ "not json", TWMSG_ERR_JSON, "text" },
	{ "[1,2]", TWMSG_ERR_JSON, "array" },
	{ "\"media\"", TWMSG_ERR_JSON, "string" },
	{ "{}", TWMSG_ERR_INVALID, "no event" },
	{ "{\"event\":5}", TWMSG_ERR_INVALID, "event not a string" },
	{ "{\"Event\":\"media\"}", TWMSG_ERR_INVALID, "misspelled key" },
	{ "{\"event\":\"hello\"}", TWMSG_ERR_UNKNOWN_EVENT, "unknown event" },
	{ "{\"event\":\"MEDIA\"}", TWMSG_ERR_UNKNOWN_EVENT, "event case matters" },
	{ "{\"event\":\"clear\",\"streamSid\":\"MZ1\"}", TWMSG_ERR_UNKNOWN_EVENT,
	  "clear goes the other way" },
	{ "{\"event\":\"media\",\"streamSid\":5,\"media\":{\"payload\":\"\"}}",
	  TWMSG_ERR_INVALID, "streamSid not a string" },
	{ "{\"event\":\"media\",\"streamSid\":\"MZ0123456789012345678901234567890123456789"
	  "0123456789012345678901234\",\"media\":{\"payload\":\"\"}}",
	  TWMSG_ERR_INVALID, "streamSid of 64 characters" },
	{ "{\"event\":\"start\"}", TWMSG_ERR_INVALID, "start without start" },
	{ "{\"event\":\"start\",\"start\":[]}", TWMSG_ERR_INVALID, "start not an object" },
	{ "{\"event\":\"start\",\"start\":{\"streamSid\":\"MZ1\"}}", TWMSG_ERR_INVALID,
	  "start without callSid" },
	{ "{\"event\":\"start\",\"start\":{\"callSid\":7,\"streamSid\":\"MZ1\"}}",
	  TWMSG_ERR_INVALID, "callSid not a string" },
	{ "{\"event\":\"start\",\"start\":{\"callSid\":\"CA1\"}}", TWMSG_ERR_INVALID,
	  "start without any streamSid" },
	{ "{\"event\":\"start\",\"start\":{\"callSid\":\"CA1\",\"streamSid\":\"\"}}",
	  TWMSG_ERR_INVALID, "start with an empty streamSid" },
	{ "{\"event\":\"start\",\"start\":{\"callSid\":\"CA0123456789012345678901234567890123456"
	  "7890123456789012345678901234\",\"streamSid\":\"MZ1\"}}", TWMSG_ERR_INVALID,
	  "callSid of 64 characters" },
	{ "{\"event\":\"media\",\"streamSid\":\"MZ1\"}", TWMSG_ERR_INVALID, "media without media" },
	{ "{\"event\":\"media\",\"streamSid\":\"MZ1\",\"media\":{}}", TWMSG_ERR_INVALID,
	  "media without payload" },
	{ "{\"event\":\"media\",\"streamSid\":\"MZ1\",\"media\":{\"payload\":null}}",
	  TWMSG_ERR_INVALID, "payload null" },
	{ "{\"event\":\"media\",\"streamSid\":\"MZ1\",\"media\":{\"Payload\":\"AAAA\"}}",
	  TWMSG_ERR_INVALID, "payload misspelled" },
	{ "{\"event\":\"media\",\"streamSid\":\"MZ1\",\"media\":{\"payload\":\"AAA\"}}",
	  TWMSG_ERR_BASE64, "payload length not a multiple of 4" },
	{ "{\"event\":\"media\",\"streamSid\":\"MZ1\",\"media\":{\"payload\":\"AA*A\"}}",
	  TWMSG_ERR_BASE64, "payload bad character" },
	{ "{\"event\":\"media\",\"streamSid\":\"MZ1\",\"media\":{\"payload\":\"AA=A\"}}",
	  TWMSG_ERR_BASE64, "payload pad in the middle" },
	{ "{\"event\":\"media\",\"streamSid\":\"MZ1\",\"media\":{\"payload\":\"Zh==\"}}",
	  TWMSG_ERR_BASE64, "payload non-zero pad bits" },
	{ "{\"event\":\"media\",\"streamSid\":\"MZ1\",\"media\":{\"payload\":\"AA AA\"}}",
	  TWMSG_ERR_BASE64, "payload with a space" },
	{ "{\"event\":\"dtmf\",\"streamSid\":\"MZ1\"}", TWMSG_ERR_INVALID, "dtmf without dtmf" },
	{ "{\"event\":\"dtmf\",\"streamSid\":\"MZ1\",\"dtmf\":{\"digit\":1}}", TWMSG_ERR_INVALID,
	  "digit not a string" },
	{ "{\"event\":\"dtmf\",\"streamSid\":\"MZ1\",\"dtmf\":{\"digit\":\"X\"}}", TWMSG_ERR_INVALID,
	  "digit not a keypad key" },
	{ "{\"event\":\"dtmf\",\"streamSid\":\"MZ1\",\"dtmf\":{\"digit\":\"12\"}}", TWMSG_ERR_INVALID,
	  "two digits" },
	{ "{\"event\":\"dtmf\",\"streamSid\":\"MZ1\",\"dtmf\":{\"digit\":\"1\u202e\"}}",
	  TWMSG_ERR_INVALID, "digit with U+202E" },
	{ "{\"event\":\"dtmf\",\"streamSid\":\"MZ1\",\"dtmf\":{\"digit\":\"a\"}}", TWMSG_ERR_INVALID,
	  "lower-case a" },
	{ "{\"event\":\"mark\",\"streamSid\":\"MZ1\",\"mark\":{}}", TWMSG_ERR_INVALID,
	  "mark without name" },
	{ "{\"event\":\"mark\",\"streamSid\":\"MZ1\"}", TWMSG_ERR_INVALID, "mark without mark" },
};

static void test_malformed(void)
{
	char what[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum twmsg_error e = parse(bad[i].text);

		snprintf(what, sizeof(what), "%s -> %s (got %s: %s)", bad[i].why,
			 twmsg_error_name(bad[i].want), twmsg_error_name(e), err);
		CHECK_MSG(e == bad[i].want && err[0], what);
	}
	/* NULL text, and a message cut by its length (not by a NUL) */
	CHECK(twmsg_parse(NULL, 0, &msg, payload, sizeof(payload), err, sizeof(err)) ==
	      TWMSG_ERR_JSON);
	CHECK(twmsg_parse("{\"event\":\"stop\"}xxxx", 16, &msg, payload, sizeof(payload), err,
			  sizeof(err)) == TWMSG_OK);
	CHECK(twmsg_parse("{\"event\":\"stop\"}", 10, &msg, payload, sizeof(payload), err,
			  sizeof(err)) == TWMSG_ERR_JSON);
	/* an error leaves no stale fields behind */
	CHECK(msg.event == TWMSG_NONE && msg.payload == NULL && msg.stream_sid[0] == '\0');
}

static void test_payload_bounds(void)
{
	static uint8_t small[3];
	const char *four = "{\"event\":\"media\",\"streamSid\":\"MZ1\",\"media\":{\"payload\":"
			   "\"AAAAAA==\"}}";   /* 4 bytes */
	const char *three = "{\"event\":\"media\",\"streamSid\":\"MZ1\",\"media\":{\"payload\":"
			    "\"AAAA\"}}";      /* 3 bytes */
	const char *empty = "{\"event\":\"media\",\"streamSid\":\"MZ1\",\"media\":{\"payload\":"
			    "\"\"}}";

	CHECK(twmsg_parse(four, strlen(four), &msg, small, sizeof(small), err, sizeof(err)) ==
	      TWMSG_ERR_TOO_BIG);
	CHECK(twmsg_parse(three, strlen(three), &msg, small, sizeof(small), err, sizeof(err)) ==
	      TWMSG_OK && msg.payload_len == 3);
	CHECK(twmsg_parse(empty, strlen(empty), &msg, small, sizeof(small), err, sizeof(err)) ==
	      TWMSG_OK && msg.payload_len == 0);
	CHECK(twmsg_parse(three, strlen(three), &msg, small, 0, err, sizeof(err)) ==
	      TWMSG_ERR_TOO_BIG);
	/* a NULL/0 error buffer is allowed */
	CHECK(twmsg_parse("nope", 4, &msg, small, sizeof(small), NULL, 0) == TWMSG_ERR_JSON);
}

static void test_build(void)
{
	uint8_t all[256];
	char out[2048], tiny[256];
	long n, need;
	size_t i, cap;
	int ok;

	CHECK(twmsg_build_clear(out, sizeof(out), "MZ1") ==
	      (long)strlen("{\"event\":\"clear\",\"streamSid\":\"MZ1\"}"));
	CHECK_STR(out, "{\"event\":\"clear\",\"streamSid\":\"MZ1\"}");
	CHECK(twmsg_build_mark(out, sizeof(out), "MZ1", "echo-1") > 0);
	CHECK_STR(out, "{\"event\":\"mark\",\"streamSid\":\"MZ1\",\"mark\":{\"name\":\"echo-1\"}}");
	CHECK(twmsg_build_media(out, sizeof(out), "MZ1", (const uint8_t *)"\xff\x7f\x00", 3) > 0);
	CHECK_STR(out, "{\"event\":\"media\",\"streamSid\":\"MZ1\",\"media\":{\"payload\":\"/38A\"}}");
	CHECK(twmsg_build_media(out, sizeof(out), "MZ1", NULL, 0) > 0);
	CHECK_STR(out, "{\"event\":\"media\",\"streamSid\":\"MZ1\",\"media\":{\"payload\":\"\"}}");

	/* every byte value survives build -> parse */
	for (i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	n = twmsg_build_media(out, sizeof(out), SID_MZ, all, sizeof(all));
	CHECK(n > 0 && (size_t)n < twmsg_media_size(strlen(SID_MZ), sizeof(all)));
	CHECK(twmsg_parse(out, (size_t)n, &msg, payload, sizeof(payload), err, sizeof(err)) ==
	      TWMSG_OK);
	CHECK(msg.event == TWMSG_MEDIA && msg.payload_len == 256 &&
	      memcmp(msg.payload, all, 256) == 0);
	CHECK_STR(msg.stream_sid, SID_MZ);

	/* mark names are JSON-escaped and come back unchanged */
	n = twmsg_build_mark(out, sizeof(out), "MZ1", "a\"b\\c\n\x01 d");
	CHECK(n > 0 && (size_t)n < twmsg_mark_size(3, strlen("a\"b\\c\n\x01 d")));
	CHECK_STR(out, "{\"event\":\"mark\",\"streamSid\":\"MZ1\",\"mark\":{\"name\":"
		       "\"a\\\"b\\\\c\\u000a\\u0001 d\"}}");
	CHECK(twmsg_parse(out, (size_t)n, &msg, payload, sizeof(payload), err, sizeof(err)) ==
	      TWMSG_OK);
	CHECK_STR(msg.mark_name, "a\"b\\c\n\x01 d");

	/* every buffer one byte short of the need fails cleanly; the exact need works */
	need = twmsg_build_media(out, sizeof(out), "MZ1", all, 10) + 1;
	ok = 1;
	for (cap = 0; cap < (size_t)need; cap++) {
		memset(tiny, 'x', sizeof(tiny));
		if (twmsg_build_media(cap ? tiny : NULL, cap, "MZ1", all, 10) != -1 ||
		    (cap && tiny[0] != '\0'))
			ok = 0;
	}
	CHECK_MSG(ok, "media: every capacity below the need fails with an empty string");
	CHECK(twmsg_build_media(tiny, (size_t)need, "MZ1", all, 10) == need - 1);
	need = twmsg_build_mark(out, sizeof(out), "MZ1", "x") + 1;
	CHECK(twmsg_build_mark(tiny, (size_t)need - 1, "MZ1", "x") == -1);
	CHECK(twmsg_build_mark(tiny, (size_t)need, "MZ1", "x") == need - 1);
	need = twmsg_build_clear(out, sizeof(out), "MZ1") + 1;
	CHECK(twmsg_build_clear(tiny, (size_t)need - 1, "MZ1") == -1);
	CHECK(twmsg_build_clear(tiny, (size_t)need, "MZ1") == need - 1);
	CHECK(twmsg_clear_size(3) >= (size_t)need);
}

static void test_names(void)
{
	CHECK_STR(twmsg_event_name(TWMSG_MEDIA), "media");
	CHECK_STR(twmsg_event_name(TWMSG_STOP), "stop");
	CHECK_STR(twmsg_event_name((enum twmsg_event)99), "?");
	CHECK_STR(twmsg_error_name(TWMSG_ERR_UNKNOWN_EVENT), "unknown_event");
	CHECK_STR(twmsg_error_name(TWMSG_ERR_TOO_BIG), "too_big");
	CHECK_STR(twmsg_error_name((enum twmsg_error)99), "?");
}

int main(void)
{
	test_protocol_shapes();
	test_start_variants();
	test_malformed();
	test_payload_bounds();
	test_build();
	test_names();
	return check_done();
}
