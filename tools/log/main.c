/* callpipe-log: the call log viewer: a row per call (list), one call as a timeline (show),
 * every call's new lines as they come (tail), read from [log] dir or the -d directories
 * (several hosts' copies, merged by time: cmd_list.c, cmd_show.c) (docs/DESIGN.md §1.2). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calllog.h"
#include "cmd.h"
#include "config.h"
#include "logmerge.h"
#include "logtail.h"

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static const char usage_text[] =
"NAME\n"
"    callpipe-log - read callpipe's per-call logs\n"
"\n"
"SYNOPSIS\n"
"    callpipe-log [-d DIR | -c FILE] list [--since TIME] [--json]\n"
"    callpipe-log [-d DIR | -c FILE] show [--raw] CALLSID\n"
"    callpipe-log [-d DIR | -c FILE] tail [-n N] [--once | --poll] [CALLSID]\n"
"\n"
"DESCRIPTION\n"
"    callpipe-fcgi and callpipe-ws append one line per event to DIR/<CallSid>.log:\n"
"        2026-11-24T10:15:02.123Z fcgi incoming_call from=+15551234567 sig=ok\n"
"    (UTC time, program, event, logfmt key=value pairs). This tool reads them back.\n"
"    docs/LOGS.md lists every event and key.\n"
"\n"
"COMMANDS\n"
"    list    One row per call (files CA<32 hex>.log; other files are ignored), oldest\n"
"            first: first event time (UTC), CallSid, From, To, duration (call_duration\n"
"            from the call_status callback, else first to last line), the stream\n"
"            callbacks seen (started,stopped or error:31920), the outcome, and notes\n"
"            (malformed lines, protocol errors the helper counted).\n"
"            Outcomes, worst news first: stream-error, error:5xx (fcgi failed),\n"
"            rejected:4xx (fcgi refused a webhook, e.g. 403 bad signature),\n"
"            ws-error:CODE (media socket closed with a code other than 1000, 1001,\n"
"            1005), ws-idle (the helper closed a silent stream), then Twilio's final\n"
"            call status (completed, busy, no-answer, failed, canceled), else\n"
"            in-progress (last line under 4 hours old) or unknown.\n"
"    show CALLSID\n"
"            The call's lines in file order as a timeline, each with its offset from\n"
"            the first event: \"+1.234s  ws    ws_start       stream_sid=MZ...\", then a\n"
"            summary line. CALLSID is CA followed by 32 hex digits. An agent call\n"
"            is told as its conversation (\"+4.69  agent: \"You pressed 42.\"  (1.2 s)\",\n"
"            keys, turns, errors, barge-ins, hangups); --raw: the timeline instead.\n"
"    tail [CALLSID]\n"
"            The newest lines across all calls (or one), then every new line as it is\n"
"            written, new calls included: \"CALLSID  TIME  PROG  EVENT  k=v...\".\n"
"            Stops on Ctrl-C (SIGINT) or SIGTERM.\n"
"\n"
"OPTIONS\n"
"    -d, --dir DIR      read DIR (default: [log] dir of the configuration)\n"
"                       repeat for several hosts' copies (at most %d), merged by time\n"
"    -c, --config FILE  the configuration to take [log] dir from (default:\n"
"                       $CALLPIPE_CONF, else built-in defaults: /var/log/callpipe)\n"
"    --since TIME       list: calls whose first event is at or after TIME, in UTC:\n"
"                       2026-11-24, 2026-11-24T10:15, 2026-11-24 10:15:02, ...Z;\n"
"                       or an age: 90s, 30m, 2h, 7d\n"
"    --json             list: a JSON array, one object per call\n"
"    --raw              show: every line as the timeline, for agent calls too\n"
"    -n, --lines N      tail: print the newest N lines first (default 10, 0 to %d)\n"
"    --once             tail: print them and exit instead of following\n"
"    --poll             tail: look every 250 ms instead of using inotify (needed on\n"
"                       NFS and other network file systems, where inotify misses\n"
"                       writes made on other machines)\n"
"    -h, --help         this text\n"
"\n"
"    Lines that do not parse are shown as they are, escaped, after\n"
"    \"[malformed: REASON]\". Control characters never reach the terminal.\n"
"\n"
"EXIT STATUS\n"
"    0  success (an empty list included)\n"
"    1  show: there is no log for that CallSid\n"
"    2  usage: unknown command or option, bad argument, malformed CallSid\n"
"    3  the configuration, the log directory, a log file or the output failed\n"
"\n"
"EXAMPLES\n"
"    callpipe-log list --since 2h\n"
"    callpipe-log -d ./run/calls show CA0123456789abcdef0123456789abcdef\n"
"    callpipe-log -c /etc/callpipe/callpipe.conf tail\n"
"    callpipe-log list --json | jq '.[] | select(.outcome != \"completed\")'\n";

static void usage(FILE *out)
{
	fprintf(out, usage_text, LOGMERGE_SOURCES_MAX, LOGTAIL_LINES_MAX);
}

/* --- tail ------------------------------------------------------------------------------ */

static int run_tail(const char *dir, const char *sid, int lines, int once, int force_poll)
{
	struct sigaction sa;
	struct logtail_opts o = {
		.dir = dir, .callsid = sid, .lines = lines, .once = once,
		.interval_ms = 250, .poll = force_poll, .out = stdout, .stop = &stop_flag,
	};
	char err[256];

	if (sid && !calllog_valid_callsid(sid))
		return cmd_bad_callsid(sid);
	/* No SA_RESTART: the wait in logtail_run returns at once and sees the flag. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (logtail_run(&o, err, sizeof(err)) < 0) {
		fprintf(stderr, "callpipe-log: %s\n", err);
		return CMD_EXIT_ENV;
	}
	return 0;
}

/* --- main ------------------------------------------------------------------------------ */

/* The -d DIRs, else [log] dir of -c FILE / $CALLPIPE_CONF, else the default (one). */
static int resolve_dirs(const char **dirs, size_t *ndirs, const char *conf_opt,
			struct config *cfg)
{
	const char *path;
	char err[512];

	if (*ndirs)
		return 0;
	path = config_path(conf_opt);
	if (path) {
		if (config_load(cfg, path, err, sizeof(err)) < 0) {
			fprintf(stderr, "callpipe-log: %s\n", err);
			return CMD_EXIT_ENV;
		}
	} else {
		config_defaults(cfg);
	}
	if (!cfg->log_dir[0]) {
		fprintf(stderr, "callpipe-log: %s sets no [log] dir; use -d DIR\n",
			path ? path : "the default configuration");
		return CMD_EXIT_ENV;
	}
	dirs[0] = cfg->log_dir;
	*ndirs = 1;
	return 0;
}

/* A directory given twice (or through a link to it) would merge a file with itself and
 * show every line twice: 1 with the message in MSG, else 0. */
static int same_dirs(const char *const *dirs, size_t ndirs, char *msg, size_t cap)
{
	struct stat st[LOGMERGE_SOURCES_MAX];
	int ok[LOGMERGE_SOURCES_MAX];

	for (size_t i = 0; i < ndirs && i < LOGMERGE_SOURCES_MAX; i++) {
		/* One that cannot be looked at now: the command will say what is wrong. */
		ok[i] = stat(dirs[i], &st[i]) == 0;
		for (size_t j = 0; ok[i] && j < i; j++) {
			char a[160], b[160];

			if (ok[j] && st[j].st_dev == st[i].st_dev && st[j].st_ino == st[i].st_ino) {
				snprintf(msg, cap, "-d \"%s\" and -d \"%s\" are the same directory",
					 cmd_esc(dirs[j], a), cmd_esc(dirs[i], b));
				return 1;
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_SINCE = 256, OPT_JSON, OPT_ONCE, OPT_POLL, OPT_RAW };
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "poll", no_argument, NULL, OPT_POLL },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "lines", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct config cfg;
	const char *dirs[LOGMERGE_SOURCES_MAX], *conf_opt = NULL, *since = NULL, *cmd;
	size_t ndirs = 0, given;
	int json = 0, once = 0, force_poll = 0, raw = 0, lines = 10, lines_set = 0, c, rc;
	char *end, eb[160], msg[400];

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:c:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			/* Each host's copy of its log directory: merged, up to the cap. */
			if (ndirs == LOGMERGE_SOURCES_MAX)
				return cmd_usage_error("-d: at most %d directories",
						       LOGMERGE_SOURCES_MAX);
			dirs[ndirs++] = optarg;
			break;
		case 'c': conf_opt = optarg; break;
		case OPT_SINCE: since = optarg; break;
		case OPT_JSON: json = 1; break;
		case OPT_ONCE: once = 1; break;
		case OPT_POLL: force_poll = 1; break;
		case OPT_RAW: raw = 1; break;
		case 'n':
			errno = 0;
			lines = (int)strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || lines < 0 ||
			    lines > LOGTAIL_LINES_MAX)
				return cmd_usage_error("-n \"%s\": want a number of lines, 0 to %d",
						   cmd_esc(optarg, eb), LOGTAIL_LINES_MAX);
			lines_set = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return cmd_usage_error("option \"%s\" needs an argument",
					   cmd_esc(argv[optind - 1], eb));
		default:
			return cmd_usage_error("unknown option \"%s\"", cmd_esc(argv[optind - 1], eb));
		}
	}
	if (optind >= argc)
		return cmd_usage_error("no command: list, show CALLSID or tail");
	cmd = argv[optind++];
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "list") && strcmp(cmd, "show") && strcmp(cmd, "tail"))
		return cmd_usage_error("unknown command \"%s\": list, show CALLSID or tail",
				   cmd_esc(cmd, eb));
	if ((since || json) && strcmp(cmd, "list"))
		return cmd_usage_error("--since and --json go with list, not %s", cmd);
	if (raw && strcmp(cmd, "show"))
		return cmd_usage_error("--raw goes with show, not %s", cmd);
	if ((once || lines_set || force_poll) && strcmp(cmd, "tail"))
		return cmd_usage_error("-n, --once and --poll go with tail, not %s", cmd);
	if (strcmp(cmd, "show") == 0 && argc - optind != 1)
		return cmd_usage_error("show takes one CallSid");
	if (strcmp(cmd, "list") == 0 && argc - optind != 0)
		return cmd_usage_error("list takes no argument (\"%s\")", cmd_esc(argv[optind], eb));
	if (strcmp(cmd, "tail") == 0 && argc - optind > 1)
		return cmd_usage_error("tail takes at most one CallSid (\"%s\")",
				   cmd_esc(argv[optind + 1], eb));

	/* Following several directories would mean following copies: they are read once
	 * they have been brought together (docs/LOGS.md "Several hosts"). */
	if (strcmp(cmd, "tail") == 0 && ndirs > 1)
		return cmd_usage_error("tail reads one directory (-d given %zu times)", ndirs);

	given = ndirs;
	rc = resolve_dirs(dirs, &ndirs, conf_opt, &cfg);
	if (rc)
		return rc;
	for (size_t i = 0; i < ndirs; i++) {
		/* Say where the directory came from: the usual surprise is the default. */
		const char *path = config_path(conf_opt);
		int e;

		if (access(dirs[i], R_OK | X_OK) == 0)
			continue;
		e = errno;
		if (given)
			fprintf(stderr, "callpipe-log: %s: %s\n", dirs[i], strerror(e));
		else if (path)
			fprintf(stderr, "callpipe-log: %s: %s ([log] dir in %s)\n", dirs[i],
				strerror(e), path);
		else
			fprintf(stderr, "callpipe-log: %s: %s (the default [log] dir; -d DIR or "
				"-c FILE names another)\n", dirs[i], strerror(e));
		return CMD_EXIT_ENV;
	}
	if (ndirs > 1 && same_dirs(dirs, ndirs, msg, sizeof(msg)))
		return cmd_usage_error("%s", msg);
	if (strcmp(cmd, "list") == 0)
		rc = cmd_list(dirs, ndirs, since, json);
	else if (strcmp(cmd, "show") == 0)
		rc = cmd_show(dirs, ndirs, argv[optind], raw);
	else
		rc = run_tail(dirs[0], optind < argc ? argv[optind] : NULL, lines, once,
			      force_poll);
	if ((fflush(stdout) == EOF || ferror(stdout)) && rc == 0) {
		fprintf(stderr, "callpipe-log: writing output: %s\n", strerror(errno));
		rc = CMD_EXIT_ENV;
	}
	return rc;
}
