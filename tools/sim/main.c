/* callpipe-sim: a faithful fake Twilio for tests, diagnosis and load: sends webhooks,
 * plays a call over Media Streams with Twilio's outbound buffer, and measures echo. */
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "token.h"

static const char overview[] =
"usage: callpipe-sim COMMAND [ARGS...]      (callpipe-sim help COMMAND for details)\n"
"\n"
"A fake Twilio: it does to your server what Twilio does during a phone call, checks every\n"
"answer as strictly as Twilio would, and says in plain words what went wrong.\n"
"\n"
"Commands:\n"
"  call BASE_URL     one whole inbound call: incoming_call webhook, TwiML check, Media\n"
"                    Stream with audio both ways, status callbacks; PASS or FAIL with why.\n"
"                    Start here when a real call is silent.\n"
"  post URL [N=V..]  one webhook request exactly as Twilio sends it (signed); prints\n"
"                    the status, headers and body\n"
"  sign URL [N=V..]  print the X-Twilio-Signature Twilio would send\n"
"  load BASE_URL     many concurrent echo calls; echo latency percentiles and losses\n"
"  stream-token      print the callpipe_token callpipe-fcgi would give a CallSid\n"
"  help [COMMAND]    this text, or a command's manual\n"
"\n"
"Exit status: 0 success; 1 the call or load check failed (the reason is printed);\n"
"2 post got no HTTP response; 64 bad command line.\n";

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		fputs(overview, cmd ? stdout : stderr);
		return cmd ? SIM_EXIT_OK : SIM_EXIT_USAGE;
	}
	if (strcmp(cmd, "help") == 0) {
		const char *what = argc > 2 ? argv[2] : "";

		if (strcmp(what, "post") == 0 || strcmp(what, "sign") == 0)
			fputs(sim_help_post, stdout);
		else if (strcmp(what, "call") == 0)
			fputs(sim_help_call, stdout);
		else if (strcmp(what, "load") == 0)
			fputs(sim_help_load, stdout);
		else if (strcmp(what, "stream-token") == 0)
			fputs(sim_help_stream_token, stdout);
		else
			fputs(overview, stdout);
		return SIM_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0) {
		puts("callpipe-sim 0.1");
		return SIM_EXIT_OK;
	}
	/* Each command sees argv from its own name on, so getopt_long works unchanged. */
	if (strcmp(cmd, "post") == 0)
		return sim_cmd_post(argc - 1, argv + 1);
	if (strcmp(cmd, "sign") == 0)
		return sim_cmd_sign(argc - 1, argv + 1);
	if (strcmp(cmd, "call") == 0)
		return sim_cmd_call(argc - 1, argv + 1);
	if (strcmp(cmd, "load") == 0)
		return sim_cmd_load(argc - 1, argv + 1);
	if (strcmp(cmd, "stream-token") == 0)
		return sim_cmd_stream_token(argc - 1, argv + 1);
	fprintf(stderr, "callpipe-sim: unknown command '%s' (try callpipe-sim --help)\n", cmd);
	return SIM_EXIT_USAGE;
}
