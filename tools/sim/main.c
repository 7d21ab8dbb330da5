/* callpipe-sim: a faithful fake Twilio for tests, diagnosis and load: sends webhooks,
 * plays a call over Media Streams with Twilio's outbound buffer, and measures echo. */
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "token.h"

static const char overview[] =
"usage: callpipe-sim call BASE_URL [options]\n"
"       callpipe-sim post URL [NAME=VALUE...] [options]\n"
"       callpipe-sim sign URL [NAME=VALUE...] --auth-token T [options]\n"
"       callpipe-sim load BASE_URL [--calls N] [--seconds S] [--ramp R] [options]\n"
"       callpipe-sim stream-token --auth-token T --call-sid CA... [options]\n"
"       callpipe-sim help [COMMAND] | --help | --version\n"
"  call          one whole inbound call, both ways; PASS or FAIL with why\n"
"  post, sign    one webhook request exactly as Twilio sends it; its signature\n"
"  load          many concurrent echo calls; latency percentiles and losses\n"
"  stream-token  the callpipe_token callpipe-fcgi would give a CallSid\n"
"  help COMMAND  a command's options (also: callpipe-sim COMMAND --help)\n"
"See callpipe-sim(1) for what each command checks, every option and the exit status.\n";

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
