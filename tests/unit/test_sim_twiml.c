/* test_sim_twiml: callpipe-sim's TwiML check: what Twilio accepts (<Connect><Stream>, wss,
 * inbound_track, Parameters) and what it refuses or warns about, each with its code. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../tools/sim/twiml.h"

static struct sim_twiml *tw;

static int parse(const char *xml)
{
	return sim_twiml_parse(xml, strlen(xml), tw);
}

/* 1 when some issue has CODE (any code when CODE is -1) and FATAL and contains WORDS. */
static int has_issue(int code, int fatal, const char *words)
{
	size_t i;

	for (i = 0; i < tw->nissues; i++)
		if ((code < 0 || tw->issues[i].code == code) && tw->issues[i].fatal == fatal &&
		    strstr(tw->issues[i].text, words))
			return 1;
	return 0;
}

static void test_good(void)
{
	CHECK(parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>\n  <Say>Hi</Say>\n"
		    "  <Connect>\n    <Stream url=\"wss://voice.example.com/ws/twilio-media\" "
		    "statusCallback=\"https://voice.example.com/webhook/stream_status\" "
		    "track=\"inbound_track\" name=\"s1\">\n"
		    "      <Parameter name=\"From\" value=\"+15551234567\"/>\n"
		    "      <Parameter name=\"mode\" value=\"echo\"/>\n    </Stream>\n  </Connect>\n"
		    "  <Say>The stream has ended. Goodbye.</Say>\n</Response>\n") == 0);
	CHECK(tw->has_stream && tw->bidirectional);
	CHECK_STR(tw->url, "wss://voice.example.com/ws/twilio-media");
	CHECK_STR(tw->stream_url, "wss://voice.example.com/ws/twilio-media");
	CHECK_STR(tw->status_callback, "https://voice.example.com/webhook/stream_status");
	CHECK_STR(tw->status_method, "POST");
	CHECK_STR(tw->name, "s1");
	CHECK(tw->nparams == 2);
	CHECK_STR(tw->params[0].name, "From");
	CHECK_STR(tw->params[0].value, "+15551234567");
	CHECK_STR(tw->params[1].value, "echo");
	CHECK_STR(tw->before, "Say");
	CHECK_STR(tw->after, "Say");
	CHECK(tw->nissues == 0);
	CHECK_STR(sim_twiml_first_error(tw), "");
}

static void test_ws_and_query(void)
{
	/* ws:// is accepted with a warning (tests run without TLS); the query is dropped. */
	CHECK(parse("<Response><Connect><Stream url=\"ws://127.0.0.1:8080/ws/twilio-media?x=1\"/>"
		    "</Connect></Response>") == 0);
	CHECK(has_issue(31922, 0, "ws://"));
	CHECK(has_issue(0, 0, "query string"));
	CHECK_STR(tw->stream_url, "ws://127.0.0.1:8080/ws/twilio-media");
	CHECK(parse("<Response><Connect><Stream url=\"https://h/ws\"/></Connect></Response>") == -1);
	CHECK(has_issue(31922, 1, "not wss"));
	CHECK(parse("<Response><Connect><Stream/></Connect></Response>") == -1);
	CHECK(has_issue(0, 1, "no url"));
	/* A URL with no path still dials "/". */
	CHECK(parse("<Response><Connect><Stream url=\"wss://h\"/></Connect></Response>") == 0);
	CHECK_STR(tw->stream_url, "wss://h/");
}

static void test_track(void)
{
	CHECK(parse("<Response><Connect><Stream url=\"wss://h/ws\" track=\"both_tracks\"/>"
		    "</Connect></Response>") == -1);
	CHECK(has_issue(31941, 1, "inbound_track"));
	CHECK(parse("<Response><Connect><Stream url=\"wss://h/ws\" track=\"outbound_track\"/>"
		    "</Connect></Response>") == -1);
	CHECK(parse("<Response><Start><Stream url=\"wss://h/ws\" track=\"both_tracks\"/>"
		    "</Start><Pause length=\"60\"/></Response>") == 0);
	CHECK(!tw->bidirectional && tw->has_stream);
	CHECK(has_issue(0, 0, "listen-only"));
	CHECK(parse("<Response><Start><Stream url=\"wss://h/ws\" track=\"sideways\"/>"
		    "</Start></Response>") == -1);
	CHECK(has_issue(31941, 1, "sideways"));
}

static void test_parameters(void)
{
	char xml[4096], big[600];

	/* name+value must stay under 500 characters: 499 passes, 500 fails. */
	memset(big, 'v', sizeof(big));
	big[499 - 4] = '\0';
	snprintf(xml, sizeof(xml), "<Response><Connect><Stream url=\"wss://h/ws\">"
		 "<Parameter name=\"abcd\" value=\"%s\"/></Stream></Connect></Response>", big);
	CHECK_MSG(parse(xml) == 0, "name+value of 499 characters is accepted");
	CHECK(tw->nparams == 1 && strlen(tw->params[0].value) == 495);
	big[499 - 4] = 'v';
	big[500 - 4] = '\0';
	snprintf(xml, sizeof(xml), "<Response><Connect><Stream url=\"wss://h/ws\">"
		 "<Parameter name=\"abcd\" value=\"%s\"/></Stream></Connect></Response>", big);
	CHECK_MSG(parse(xml) == -1, "name+value of 500 characters is refused");
	CHECK(has_issue(0, 1, "under 500"));
	/* Characters, not bytes: 300 two-byte characters are 300. */
	xml[0] = '\0';
	strcat(xml, "<Response><Connect><Stream url=\"wss://h/ws\"><Parameter name=\"n\" value=\"");
	for (int i = 0; i < 300; i++)
		strcat(xml, "\xc3\xa9");
	strcat(xml, "\"/></Stream></Connect></Response>");
	CHECK_MSG(parse(xml) == 0, "300 two-byte characters count as 300");
	CHECK_MSG(strlen(tw->params[0].value) == 600, "and are kept whole (600 bytes)");
	CHECK(parse("<Response><Connect><Stream url=\"wss://h/ws\"><Parameter value=\"x\"/>"
		    "</Stream></Connect></Response>") == -1);
	CHECK(has_issue(0, 1, "no name"));
	CHECK(parse("<Response><Connect><Stream url=\"wss://h/ws\"><Parameter name=\"a&amp;b\" "
		    "value=\"&lt;x&gt;\"/></Stream></Connect></Response>") == 0);
	CHECK_STR(tw->params[0].name, "a&b");
	CHECK_STR(tw->params[0].value, "<x>");
}

static void test_structure(void)
{
	CHECK(parse("<Response><Connect><Stream url=\"wss://h/ws\">") == -1);
	CHECK(has_issue(12100, 1, "not well-formed"));
	CHECK(parse("") == -1);
	CHECK(has_issue(12100, 1, ""));
	CHECK(parse("<Reply><Connect><Stream url=\"wss://h/ws\"/></Connect></Reply>") == -1);
	CHECK(has_issue(12102, 1, "Reply"));
	CHECK(parse("<Response><Say>Hello</Say></Response>") == -1);
	CHECK(has_issue(0, 1, "no <Connect><Stream>"));
	CHECK(parse("<Response><Connect><Room>r</Room></Connect></Response>") == -1);
	CHECK(has_issue(0, 1, "no <Stream>"));
	CHECK(parse("<Response><Hangup/><Connect><Stream url=\"wss://h/ws\"/></Connect>"
		    "</Response>") == -1);
	CHECK(has_issue(0, 1, "Hangup"));
	CHECK(parse("<Response><Redirect>/x</Redirect></Response>") == -1);
	CHECK(has_issue(0, 1, "Redirect"));
	CHECK(parse("<Response><Frobnicate/><Connect><Stream url=\"wss://h/ws\" "
		    "colour=\"red\"/></Connect></Response>") == 0);
	CHECK(has_issue(12200, 0, "Frobnicate"));
	CHECK(has_issue(12200, 0, "colour"));
	/* An entity is not expanded from outside, nothing is fetched. */
	CHECK(parse("<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><Response>&x;"
		    "<Connect><Stream url=\"wss://h/ws\"/></Connect></Response>") == 0);
}

static void test_status_callback(void)
{
	CHECK(parse("<Response><Connect><Stream url=\"wss://h/ws\" statusCallback=\"/rel\"/>"
		    "</Connect></Response>") == 0);
	CHECK(has_issue(0, 0, "absolute"));
	CHECK_STR(tw->status_callback, "");
	CHECK(parse("<Response><Connect><Stream url=\"wss://h/ws\" statusCallback=\"http://h/s\" "
		    "statusCallbackMethod=\"get\"/></Connect></Response>") == 0);
	CHECK_STR(tw->status_method, "GET");
	CHECK(parse("<Response><Connect><Stream url=\"wss://h/ws\" statusCallback=\"http://h/s\" "
		    "statusCallbackMethod=\"PUT\"/></Connect></Response>") == 0);
	CHECK_STR(tw->status_method, "POST");
	CHECK(has_issue(0, 0, "PUT"));
}

static void test_agent_hangup_after(void)
{
	/* Agent mode's incoming-call TwiML: Twilio runs <Hangup/> after the stream ends, so
	 * it is no error there (before the stream it is fatal). */
	CHECK(parse("<Response><Connect><Stream url=\"wss://h/ws/twilio-media\">"
		    "<Parameter name=\"From\" value=\"+15551234567\"/>"
		    "<Parameter name=\"To\" value=\"+15557654321\"/></Stream></Connect>"
		    "<Hangup/></Response>") == 0);
	CHECK(tw->has_stream && tw->bidirectional && tw->nparams == 2);
	CHECK_STR(tw->after, "Hangup");
	CHECK_STR(tw->before, "");
	CHECK(tw->nissues == 0);
	CHECK(parse("<Response><Connect><Stream url=\"wss://h/ws\"/></Connect>"
		    "<Say>Bye</Say><Hangup/></Response>") == 0);
	CHECK_STR(tw->after, "Say Hangup");
	CHECK(parse("<Response><Hangup/><Connect><Stream url=\"wss://h/ws\"/></Connect>"
		    "</Response>") == -1);
	CHECK(has_issue(0, 1, "Hangup"));
}

int main(void)
{
	tw = calloc(1, sizeof(*tw));
	if (!tw)
		return 1;
	test_good();
	test_ws_and_query();
	test_track();
	test_parameters();
	test_structure();
	test_status_callback();
	test_agent_hangup_after();
	free(tw);
	return check_done();
}
