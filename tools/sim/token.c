/* token: what callpipe_token a simulated stream sends (the TwiML's, self-made, given or
 * none) and `callpipe-sim stream-token`, which prints one for tests and by hand. */
#include "token.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"
#include "simmsg.h"
#include "streamtok.h"
#include "twiml.h"

const char sim_help_stream_token[] =
"usage: callpipe-sim stream-token --auth-token T --call-sid CA... [--account-sid AC...]\n"
"                                 [--expires-in S | --expiry UNIX]\n"
"  --auth-token T      the key (the Twilio auth token)\n"
"  --call-sid SID      the CallSid the token is for\n"
"  --account-sid SID   the AccountSid (default empty)\n"
"  --expires-in S      valid S seconds from now (default 300)\n"
"  --expiry UNIX       valid until this Unix time\n"
"  -h, --help          this text\n"
"See callpipe-sim(1).\n";

char *sim_token_params(const struct sim_callopts *o, int from_twiml, const char *call_sid,
		       const char *account_sid, const char *const *names,
		       const char *const *values, size_t n)
{
	const char *nm[SIM_TWIML_PARAMS_MAX + 1], *vl[SIM_TWIML_PARAMS_MAX + 1];
	char made[STREAMTOK_MAX + 1];
	size_t i, k = 0;

	for (i = 0; i < n && k < SIM_TWIML_PARAMS_MAX; i++) {
		/* replaced or dropped below when the command line says so */
		if ((o->no_stream_token || o->stream_token) &&
		    strcmp(names[i], STREAMTOK_PARAM) == 0)
			continue;
		nm[k] = names[i];
		vl[k++] = values[i];
	}
	if (o->stream_token) {
		nm[k] = STREAMTOK_PARAM;
		vl[k++] = o->stream_token;
	} else if (!o->no_stream_token && !from_twiml && o->token &&
		   streamtok_make(o->token, call_sid, account_sid,
				  (long long)time(NULL) + SIM_TOKEN_SECONDS, made,
				  sizeof(made)) == 0) {
		nm[k] = STREAMTOK_PARAM;
		vl[k++] = made;
	}
	return sim_msg_params_json(nm, vl, k);
}

int sim_cmd_stream_token(int argc, char **argv)
{
	enum { O_TOKEN = 256, O_CALLSID, O_ACCOUNT, O_IN, O_AT, O_HELP };
	static const struct option lo[] = {
		{ "auth-token", required_argument, NULL, O_TOKEN },
		{ "call-sid", required_argument, NULL, O_CALLSID },
		{ "account-sid", required_argument, NULL, O_ACCOUNT },
		{ "expires-in", required_argument, NULL, O_IN },
		{ "expiry", required_argument, NULL, O_AT },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	const char *token = NULL, *cs = NULL, *as = "";
	long long in = SIM_TOKEN_SECONDS, at = 0;
	char out[STREAMTOK_MAX + 1], *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_TOKEN: token = optarg; break;
		case O_CALLSID: cs = optarg; break;
		case O_ACCOUNT: as = optarg; break;
		case O_IN:
		case O_AT: {
			long long v = strtoll(optarg, &end, 10);

			if (*end || end == optarg || v < -1000000000LL || v > 999999999999LL) {
				fprintf(stderr, "callpipe-sim: --%s wants a whole number of seconds, "
					"not '%s'\n", c == O_IN ? "expires-in" : "expiry", optarg);
				return SIM_EXIT_USAGE;
			}
			if (c == O_IN)
				in = v;
			else
				at = v;
			break;
		}
		case O_HELP:
		case 'h':
			fputs(sim_help_stream_token, stdout);
			return SIM_EXIT_OK;
		default:
			return SIM_EXIT_USAGE;
		}
	}
	if (!token || !*token || !cs || optind != argc) {
		fprintf(stderr, "callpipe-sim: stream-token wants --auth-token and --call-sid "
			"(try --help)\n");
		return SIM_EXIT_USAGE;
	}
	if (!at)
		at = (long long)time(NULL) + in;
	if (streamtok_make(token, cs, as, at, out, sizeof(out)) != 0) {
		fprintf(stderr, "callpipe-sim: no token for these values (a sid over 64 characters "
			"or with '|', or an expiry before 1970?)\n");
		return SIM_EXIT_USAGE;
	}
	printf("%s\n", out);
	return SIM_EXIT_OK;
}
