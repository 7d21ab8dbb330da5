/* test_sim_token: the callpipe_token a simulated start carries: the TwiML's as is, one made
 * for the call without TwiML (checked by common/streamtok), a given one, or none. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "../../tools/sim/callrun.h"
#include "check.h"
#include "streamtok.h"
#include "../../tools/sim/token.h"

#define CS "CA0123456789abcdef0123456789abcdef"
#define AS "AC0123456789abcdef0123456789abcdef"

/* The value of NAME in the JSON object TEXT (a static copy), NULL when absent. */
static const char *get(const char *text, const char *name)
{
	static char val[512];
	cJSON *o = cJSON_Parse(text ? text : "");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	const char *r = NULL;

	if (cJSON_IsString(v)) {
		snprintf(val, sizeof(val), "%s", v->valuestring);
		r = val;
	}
	cJSON_Delete(o);
	return r;
}

static int count(const char *text)
{
	cJSON *o = cJSON_Parse(text ? text : "");
	int n = cJSON_GetArraySize(o);

	cJSON_Delete(o);
	return n;
}

int main(void)
{
	static const char *const names[] = { "From", "callpipe_token" };
	static const char *const values[] = { "+15551234567", "v1.from-twiml" };
	struct sim_callopts o;
	const char *t;
	char *p;

	memset(&o, 0, sizeof(o));
	/* TwiML: its Parameters as they are, token included, even with the auth token */
	o.token = "secret";
	p = sim_token_params(&o, 1, CS, AS, names, values, 2);
	CHECK_STR(get(p, "callpipe_token"), "v1.from-twiml");
	CHECK_STR(get(p, "From"), "+15551234567");
	free(p);
	/* TwiML without the token: none is added (a real Twilio would not add one) */
	p = sim_token_params(&o, 1, CS, AS, names, values, 1);
	CHECK(get(p, "callpipe_token") == NULL && count(p) == 1);
	free(p);
	/* no TwiML, auth token known: one made for this call, valid for callpipe-ws */
	p = sim_token_params(&o, 0, CS, AS, NULL, NULL, 0);
	t = get(p, "callpipe_token");
	CHECK(t != NULL);
	CHECK_MSG(t && streamtok_check("secret", CS, AS, t, time(NULL), NULL, 0) == 0,
		  "the self-made token passes streamtok_check for the call's sids");
	CHECK_MSG(t && streamtok_check("secret", CS, AS, t,
				       time(NULL) + SIM_TOKEN_SECONDS + 5, NULL, 0) != 0,
		  "... and lives SIM_TOKEN_SECONDS");
	free(p);
	/* no TwiML, no auth token: nothing to make it with */
	o.token = NULL;
	p = sim_token_params(&o, 0, CS, AS, NULL, NULL, 0);
	CHECK(p && count(p) == 0);
	free(p);
	/* --stream-token replaces the TwiML's; --no-stream-token drops it */
	o.token = "secret";
	o.stream_token = "garbage";
	p = sim_token_params(&o, 1, CS, AS, names, values, 2);
	CHECK_STR(get(p, "callpipe_token"), "garbage");
	CHECK(count(p) == 2);
	free(p);
	p = sim_token_params(&o, 0, CS, AS, NULL, NULL, 0);
	CHECK_STR(get(p, "callpipe_token"), "garbage");
	free(p);
	o.stream_token = NULL;
	o.no_stream_token = 1;
	p = sim_token_params(&o, 1, CS, AS, names, values, 2);
	CHECK(get(p, "callpipe_token") == NULL && count(p) == 1);
	free(p);
	p = sim_token_params(&o, 0, CS, AS, NULL, NULL, 0);
	CHECK(p && count(p) == 0);
	free(p);
	return check_done();
}
