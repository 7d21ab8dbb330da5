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
"usage: callpipe-log [-d DIR | -c FILE] list [--since TIME] [--json]\n"
"       callpipe-log [-d DIR | -c FILE] show [--raw] CALLSID\n"
"       callpipe-log [-d DIR | -c FILE] tail [-n N] [--once | --poll] [CALLSID]\n"
"  -d, --dir DIR      read DIR (default: [log] dir of the configuration); repeat\n"
"                     for several hosts' copies (at most %d), merged by time\n"
"  -c, --config FILE  take [log] dir from FILE (default: $CALLPIPE_CONF)\n"
"      --since TIME   list: calls since TIME (UTC: 2026-11-24T10:15) or an age (2h, 7d)\n"
"      --json         list: a JSON array, one object per call\n"
"      --raw          show: every line as the timeline, for agent calls too\n"
"  -n, --lines N      tail: print the newest N lines first (default 10, 0 to %d)\n"
"      --once         tail: print them and exit instead of following\n"
"      --poll         tail: look every 250 ms instead of using inotify (NFS)\n"
"  -h, --help         this text\n"
"See callpipe-log(1) for the commands, outcomes and exit status.\n";

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
