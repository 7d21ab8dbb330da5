/* test_sim_msg: callpipe-sim's side of the Media Streams protocol: what it sends (strings vs
 * numbers as docs/PROTOCOL.md §4.4 has them) and how strictly it reads what a server sends. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "../../tools/sim/simmsg.h"
#include "../../tools/sim/stream.h"
#include "../../tools/sim/webhook.h"

#define SID "MZ0123456789abcdef0123456789abcdef"

static uint8_t buf[8192];
static struct sim_srv_msg m;
static char err[256];

static int parse(const char *json, const char *sid)
{
	return sim_msg_parse(json, strlen(json), sid, buf, sizeof(buf), &m, err, sizeof(err));
}

static void test_builders(void)
{
	char out[4096];
	const uint8_t payload[3] = { 0xFF, 0x7F, 0x00 };
	const char *names[] = { "From", "q\"uote" }, *values[] = { "+1555", "a\\b" };
	char *params = sim_msg_params_json(names, values, 2);
	cJSON *j, *s;

	CHECK(sim_msg_connected(out, sizeof(out)) > 0);
	CHECK_STR(out, "{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}");
	CHECK(sim_msg_start(out, sizeof(out), 1, "AC1", SID, "CA1", params) > 0);
	j = cJSON_Parse(out);
	CHECK(j != NULL);
	s = cJSON_GetObjectItem(j, "start");
	CHECK(cJSON_IsString(cJSON_GetObjectItem(j, "sequenceNumber")));
	CHECK_STR(cJSON_GetObjectItem(j, "sequenceNumber")->valuestring, "1");
	CHECK_STR(cJSON_GetObjectItem(j, "streamSid")->valuestring, SID);
	CHECK_STR(cJSON_GetObjectItem(s, "callSid")->valuestring, "CA1");
	CHECK(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "mediaFormat"),
						 "sampleRate")));
	CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "mediaFormat"), "channels")->valueint
	      == 1);
	CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(s, "tracks"), 0)->valuestring, "inbound");
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "customParameters"),
				      "q\"uote")->valuestring, "a\\b");
	cJSON_Delete(j);
	CHECK(sim_msg_media(out, sizeof(out), 3, 2, 20, payload, 3, SID) > 0);
	CHECK_STR(out, "{\"event\":\"media\",\"sequenceNumber\":\"3\",\"media\":{\"track\":"
		  "\"inbound\",\"chunk\":\"2\",\"timestamp\":\"20\",\"payload\":\"/38A\"},"
		  "\"streamSid\":\"" SID "\"}");
	CHECK(sim_msg_dtmf(out, sizeof(out), 5, '#', SID) > 0);
	CHECK_STR(out, "{\"event\":\"dtmf\",\"streamSid\":\"" SID "\",\"sequenceNumber\":\"5\","
		  "\"dtmf\":{\"track\":\"inbound_track\",\"digit\":\"#\"}}");
	CHECK(sim_msg_mark(out, sizeof(out), 4, "utt\"1\n", SID) > 0);
	j = cJSON_Parse(out);
	CHECK(j && strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "mark"), "name")->valuestring,
			  "utt\"1\n") == 0);
	cJSON_Delete(j);
	CHECK(sim_msg_stop(out, sizeof(out), 6, "AC1", "CA1", SID) > 0);
	CHECK_STR(out, "{\"event\":\"stop\",\"sequenceNumber\":\"6\",\"stop\":{\"accountSid\":"
		  "\"AC1\",\"callSid\":\"CA1\"},\"streamSid\":\"" SID "\"}");
	CHECK(sim_msg_media(out, 40, 3, 2, 20, payload, 3, SID) == -1);
	CHECK(sim_msg_mark(out, 50, 4, "x", SID) == -1);
	free(params);
}

static void test_parse_good(void)
{
	CHECK(parse("{\"event\":\"media\",\"streamSid\":\"" SID "\",\"media\":{\"payload\":"
		    "\"/38A\"}}", SID) == 0);
	CHECK(m.kind == SIM_MSG_MEDIA && m.payload_len == 3 && buf[0] == 0xFF && !m.wav_header);
	CHECK(parse(" {\"streamSid\":\"" SID "\",\"event\":\"mark\",\"mark\":{\"name\":\"m1\"}}\n",
		    SID) == 0);
	CHECK(m.kind == SIM_MSG_MARK);
	CHECK_STR(m.mark, "m1");
	CHECK(parse("{\"event\":\"clear\",\"streamSid\":\"" SID "\"}", SID) == 0);
	CHECK(m.kind == SIM_MSG_CLEAR);
	/* A WAV file as payload is still played (as noise) but flagged. */
	CHECK(parse("{\"event\":\"media\",\"streamSid\":\"" SID "\",\"media\":{\"payload\":"
		    "\"UklGRiQAAABXQVZF\"}}", SID) == 0);
	CHECK(m.wav_header == 1);
}

static const struct {
	const char *json;
	const char *why;
} bad[] = {
	{ "not json", "not JSON" },
	{ "{\"event\":\"clear\",\"streamSid\":\"" SID "\"} x", "trailing" },
	{ "[1,2]", "not a JSON object" },
	{ "{\"streamSid\":\"" SID "\"}", "no \"event\"" },
	{ "{\"event\":7,\"streamSid\":\"" SID "\"}", "no \"event\"" },
	{ "{\"event\":\"start\",\"streamSid\":\"" SID "\"}", "not one a server may send" },
	{ "{\"event\":\"Media\",\"streamSid\":\"" SID "\",\"media\":{\"payload\":\"AA==\"}}",
	  "not one a server may send" },
	{ "{\"event\":\"clear\"}", "without a \"streamSid\"" },
	{ "{\"event\":\"clear\",\"streamsid\":\"" SID "\"}", "unknown key \"streamsid\"" },
	{ "{\"event\":\"clear\",\"streamSid\":\"MZ000\"}", "not this stream's" },
	{ "{\"event\":\"media\",\"streamSid\":\"" SID "\"}", "without a \"media\" object" },
	{ "{\"event\":\"media\",\"streamSid\":\"" SID "\",\"media\":{}}", "media.payload" },
	{ "{\"event\":\"media\",\"streamSid\":\"" SID "\",\"media\":{\"payload\":\"\"}}", "empty" },
	{ "{\"event\":\"media\",\"streamSid\":\"" SID "\",\"media\":{\"payload\":\"!!!!\"}}",
	  "not valid base64" },
	{ "{\"event\":\"media\",\"streamSid\":\"" SID "\",\"media\":{\"payload\":\"AA==\","
	  "\"track\":\"outbound\"}}", "media.track" },
	{ "{\"event\":\"mark\",\"streamSid\":\"" SID "\",\"mark\":{}}", "mark.name" },
	{ "{\"event\":\"mark\",\"streamSid\":\"" SID "\",\"mark\":{\"name\":\"\"}}", "mark.name" },
	{ "{\"event\":\"mark\",\"streamSid\":\"" SID "\",\"mark\":\"m\"}", "\"mark\" object" },
	{ "{\"event\":\"mark\",\"streamSid\":\"" SID "\",\"mark\":{\"name\":\"a\",\"x\":1}}",
	  "mark.x" },
};

static void test_parse_bad(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int code = parse(bad[i].json, SID);

		CHECK_MSG(code == SIM_ERR_INVALID && strstr(err, bad[i].why) && m.kind == SIM_MSG_NONE,
			  bad[i].json);
		if (!strstr(err, bad[i].why))
			printf("#   error: %s\n#   want:  %s\n", err, bad[i].why);
	}
	/* Before start there is no streamSid to match: everything is 31951. */
	CHECK(parse("{\"event\":\"clear\",\"streamSid\":\"" SID "\"}", NULL) == SIM_ERR_INVALID);
	CHECK(strstr(err, "before start") != NULL);
	/* A payload too big for the buffer is refused, not overflowed. */
	{
		char *big = malloc(20000);

		if (big) {
			strcpy(big, "{\"event\":\"media\",\"streamSid\":\"" SID "\",\"media\":{\"payload\":\"");
			memset(big + strlen(big), 'A', 12000);
			strcpy(big + strlen(big) - 12000 + 12000, "\"}}");
			CHECK(sim_msg_parse(big, strlen(big), SID, buf, 100, &m, err, sizeof(err)) ==
			      SIM_ERR_INVALID);
			free(big);
		}
	}
}

static void test_load_frame(void)
{
	uint8_t f[160];
	uint32_t call, counter;

	sim_load_frame(f, 1234, 987654);
	CHECK(sim_load_frame_parse(f, &call, &counter) == 0);
	CHECK(call == 1234 && counter == 987654);
	f[100] ^= 1;
	CHECK_MSG(sim_load_frame_parse(f, &call, &counter) == -1, "a changed byte is seen");
	sim_load_frame(f, 1, 2);
	f[2] ^= 0x10;
	CHECK_MSG(sim_load_frame_parse(f, &call, &counter) == -1, "a changed counter is seen");
}

static void test_handshake_codes(void)
{
	char why[200];

	CHECK(sim_handshake_code("HS: ws upgrade response not 101", 404, why, sizeof(why)) == 31920);
	CHECK(strstr(why, "404") != NULL);
	CHECK(sim_handshake_code("HS: PROTOCOL malformed", 0, why, sizeof(why)) == 31920);
	CHECK(strstr(why, "not offered") != NULL);
	CHECK(sim_handshake_code("connect failed", 0, why, sizeof(why)) == 31902);
	/* a plain ws:// client at a TLS port: accepted, then closed without an answer */
	CHECK(sim_handshake_code("read failed", 0, why, sizeof(why)) == 31920);
	CHECK(strstr(why, "wss:// (TLS) port dialled as ws://") != NULL);
	CHECK(sim_handshake_code("timed out", 0, why, sizeof(why)) == 31901);
}

static void test_webhook_helpers(void)
{
	char out[512], err2[128], scheme[16], host[64], path[256];
	int port;

	CHECK(sim_public_url("http://127.0.0.1:8080/webhook/x?a=1", "https://v.example.com/", out,
			     sizeof(out), err2, sizeof(err2)) == 0);
	CHECK_STR(out, "https://v.example.com/webhook/x?a=1");
	CHECK(sim_public_url("http://127.0.0.1:8080/w", NULL, out, sizeof(out), err2,
			     sizeof(err2)) == 0);
	CHECK_STR(out, "http://127.0.0.1:8080/w");
	CHECK(sim_public_url("nonsense", NULL, out, sizeof(out), err2, sizeof(err2)) == -1);
	CHECK(sim_url_split("wss://[::1]:8443/ws/t?q#f", scheme, sizeof(scheme), host, sizeof(host),
			    &port, path, sizeof(path)) == 0);
	CHECK_STR(scheme, "wss");
	CHECK_STR(host, "[::1]");
	CHECK(port == 8443);
	CHECK_STR(path, "/ws/t?q");
	CHECK(sim_url_split("http://h?x=1", NULL, 0, host, sizeof(host), &port, path,
			    sizeof(path)) == 0);
	CHECK_STR(path, "/?x=1");
	CHECK(port == 0);
	CHECK(sim_url_split("http://h:99999/", NULL, 0, NULL, 0, &port, NULL, 0) == -1);
	CHECK(sim_url_split("http:///x", NULL, 0, NULL, 0, &port, NULL, 0) == -1);
	{
		char sid[35];

		sim_random_sid("CA", sid);
		CHECK(strlen(sid) == 34 && sid[0] == 'C' && sid[1] == 'A' &&
		      strspn(sid + 2, "0123456789abcdef") == 32);
	}
}

int main(void)
{
	test_builders();
	test_parse_good();
	test_parse_bad();
	test_load_frame();
	test_handshake_codes();
	test_webhook_helpers();
	return check_done();
}
