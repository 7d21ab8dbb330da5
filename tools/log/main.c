/* callpipe-log: the call log viewer: a row per call (list), one call as a timeline (show),
 * every call's new lines as they come (tail), read from [log] dir (DESIGN.md "Call log"). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <cjson/cJSON.h>

#include "calllog.h"
#include "config.h"
#include "lineread.h"
#include "logparse.h"
#include "logsum.h"
#include "logtail.h"
#include "transcript.h"

/* Exit statuses (documented in callpipe-log(1) and docs/LOGS.md). */
#define EXIT_NOTFOUND 1		/* show: no log for that CallSid */
#define EXIT_USAGE    2		/* bad command line, including a malformed CallSid */
#define EXIT_ENV      3		/* config, log directory or output unusable */

/* list reads a call log whole up to 2 MiB (a 4-hour call with a mark every second writes
 * about 1.5 MiB); past that only its first and last MiB, which hold incoming_call and the
 * closing call_status / ws_done lines. Memory stays one parsed line and one read buffer. */
#define LIST_WINDOW (1024 * 1024)

#define NCOLS 8
#define CELL_MAX (2 * LOGSUM_STREAMS_MAX)	/* the NOTES cell holds the longest text */

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
"  -d, --dir DIR      read DIR (default: [log] dir of the configuration)\n"
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
	fprintf(out, usage_text, LOGTAIL_LINES_MAX);
}

/* ARG made safe to print (it may hold anything a shell can pass) in BUF. */
static const char *esc(const char *arg, char buf[160])
{
	logparse_escape(buf, 160, arg, strlen(arg));
	return buf;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("callpipe-log: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (callpipe-log --help)\n", stderr);
	return EXIT_USAGE;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* TIME as ISO 8601 (UTC) or as an age ("30m"). */
static int parse_since(const char *s, long long *ms)
{
	static const struct { char unit; long long ms; } units[] = {
		{ 's', 1000 }, { 'm', 60000 }, { 'h', 3600000 }, { 'd', 86400000 },
		{ 'w', 7 * 86400000LL },
	};
	char *end;
	long long n;

	if (logparse_time(s, ms) == 0)
		return 0;
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || n > 100000 || end[0] == '\0' || end[1] != '\0')
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].unit == end[0]) {
			*ms = now_ms() - n * units[i].ms;
			return 0;
		}
	}
	return -1;
}

/* --- reading one file ---------------------------------------------------------------- */

static int open_log_at(int dirfd, const char *name, struct stat *st)
{
	/* No symlinks, and O_NONBLOCK so a FIFO left in the directory cannot hang us. */
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* Feed the lines in [FROM, FROM+LIMIT) (LIMIT 0: to EOF) to S. In a window (LIMIT set),
 * the first line (SKIP_FIRST) and the last (cut by the limit) may be partial: dropped. */
static int sum_range(int fd, off_t from, off_t limit, int skip_first, struct logsum *s,
		     struct logparse_line *ln)
{
	struct lineread *lr;
	const char *line;
	size_t len;
	int flags, r;

	if (lseek(fd, from, SEEK_SET) < 0)
		return -1;
	lr = lineread_new(fd, from, LOGPARSE_LINE_MAX, limit);
	if (!lr)
		return -1;
	while ((r = lineread_next(lr, &line, &len, &flags)) == 1) {
		if (skip_first) {
			skip_first = 0;
			continue;
		}
		if ((flags & LINEREAD_NOEOL) && limit > 0)
			continue;
		if (!(flags & LINEREAD_CUT) && logparse_line(ln, line, len, NULL, 0) == 0)
			logsum_add(s, ln);
		else
			logsum_add_malformed(s);
	}
	lineread_free(lr);
	return r;
}

static int summarize(int fd, off_t size, struct logsum *s, struct logparse_line *ln)
{
	if (size <= 2 * LIST_WINDOW)
		return sum_range(fd, 0, 0, 0, s, ln);
	s->partial = 1;
	if (sum_range(fd, 0, LIST_WINDOW, 0, s, ln) < 0)
		return -1;
	/* Start one byte early: if it is a newline, the first line read is empty and the
	 * window's first real line is whole. */
	return sum_range(fd, size - LIST_WINDOW - 1, LIST_WINDOW + 1, 1, s, ln);
}

/* --- list ------------------------------------------------------------------------------ */

struct row {
	struct logsum sum;
	long long sort_ms;	/* first event, or the file's mtime when no line parsed */
	long long size;
	char problem[80];	/* why the file could not be read */
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->sort_ms != y->sort_ms)
		return x->sort_ms < y->sort_ms ? -1 : 1;
	return strcmp(x->sum.callsid, y->sum.callsid);
}

/* The cells of one row (header when R is NULL), each NUL-terminated in CELL. */
static void row_cells(const struct row *r, long long now, char cell[NCOLS][CELL_MAX])
{
	static const char *const head[NCOLS] = {
		"STARTED (UTC)", "CALLSID", "FROM", "TO", "DURATION", "STREAM", "OUTCOME", "NOTES"
	};
	const struct logsum *s;
	size_t cap = sizeof(cell[0]);
	int n = 0;

	if (!r) {
		for (int i = 0; i < NCOLS; i++)
			snprintf(cell[i], cap, "%s", head[i]);
		return;
	}
	s = &r->sum;
	if (s->have_time)
		logparse_format_time(cell[0], cap, s->first_ms, 0);
	else
		snprintf(cell[0], cap, "?");
	snprintf(cell[1], cap, "%s", s->callsid);
	snprintf(cell[2], cap, "%s", s->from[0] ? s->from : "-");
	snprintf(cell[3], cap, "%s", s->to[0] ? s->to : "-");
	logsum_format_duration(cell[4], cap, logsum_duration_ms(s, NULL));
	snprintf(cell[5], cap, "%s", s->streams[0] ? s->streams : "-");
	if (r->problem[0])
		snprintf(cell[6], cap, "unreadable");
	else
		logsum_outcome(s, now, cell[6], cap);
	logsum_agent_note(s, cell[7], cap);
	n = (int)strlen(cell[7]);
	if (r->problem[0])
		n += snprintf(cell[7] + n, cap - (size_t)n, "%s%s", n ? "; " : "", r->problem);
	if (s->malformed && (size_t)n < cap)
		n += snprintf(cell[7] + n, cap - (size_t)n, "%s%lu malformed line%s", n ? "; " : "",
			      s->malformed, s->malformed == 1 ? "" : "s");
	if (s->ws_errors[0] && (size_t)n < cap)
		n += snprintf(cell[7] + n, cap - (size_t)n, "%sws errors %s", n ? "; " : "",
			      s->ws_errors);
	if (s->partial && (size_t)n < cap)
		snprintf(cell[7] + n, cap - (size_t)n, "%sread first and last MiB of %.1f MiB",
			 n ? "; " : "", (double)r->size / (1024 * 1024));
}

static void print_table(const struct row *rows, size_t n, long long now)
{
	char cell[NCOLS][CELL_MAX];
	size_t w[NCOLS] = { 0 };
	int last = NCOLS - 1;

	for (size_t i = 0; i <= n; i++) {
		row_cells(i ? &rows[i - 1] : NULL, now, cell);
		for (int c = 0; c < NCOLS; c++)
			if (logparse_width(cell[c]) > w[c])
				w[c] = logparse_width(cell[c]);
		if (i && cell[NCOLS - 1][0])
			last = NCOLS;
	}
	/* NOTES only when some row has one; no trailing blanks. */
	for (size_t i = 0; i <= n; i++) {
		int end = last;

		row_cells(i ? &rows[i - 1] : NULL, now, cell);
		while (end > 1 && !cell[end - 1][0])
			end--;
		for (int c = 0; c < end; c++) {
			fputs(cell[c], stdout);
			if (c < end - 1)
				for (size_t k = logparse_width(cell[c]); k < w[c] + 2; k++)
					putchar(' ');
		}
		putchar('\n');
	}
}

static int print_json(const struct row *rows, size_t n, long long now)
{
	/* An array with one call per line: valid JSON for jq, and still greppable. */
	fputs("[", stdout);
	for (size_t i = 0; i < n; i++) {
		const struct logsum *s = &rows[i].sum;
		cJSON *o = cJSON_CreateObject(), *ev;
		char buf[64], out[LOGSUM_OUTCOME_MAX], list[LOGSUM_STREAMS_MAX], *text;
		int from_status;
		long long d = logsum_duration_ms(s, &from_status);

		if (!o)
			goto oom;
		cJSON_AddStringToObject(o, "call_sid", s->callsid);
		if (s->have_time) {
			logparse_format_time(buf, sizeof(buf), s->first_ms, 1);
			cJSON_AddStringToObject(o, "first_event", buf);
			logparse_format_time(buf, sizeof(buf), s->last_ms, 1);
			cJSON_AddStringToObject(o, "last_event", buf);
		} else {
			cJSON_AddNullToObject(o, "first_event");
			cJSON_AddNullToObject(o, "last_event");
		}
		cJSON_AddStringToObject(o, "from", s->from);
		cJSON_AddStringToObject(o, "to", s->to);
		if (d >= 0)
			cJSON_AddNumberToObject(o, "duration_ms", (double)d);
		else
			cJSON_AddNullToObject(o, "duration_ms");
		cJSON_AddStringToObject(o, "duration_source", from_status ? "call_duration" :
					"events");
		ev = cJSON_AddArrayToObject(o, "stream_events");
		snprintf(list, sizeof(list), "%s", s->streams);
		for (char *save = NULL, *tok = strtok_r(list, ",", &save); ev && tok;
		     tok = strtok_r(NULL, ",", &save))
			cJSON_AddItemToArray(ev, cJSON_CreateString(tok));
		if (rows[i].problem[0])
			snprintf(out, sizeof(out), "unreadable");
		else
			logsum_outcome(s, now, out, sizeof(out));
		cJSON_AddStringToObject(o, "outcome", out);
		cJSON_AddStringToObject(o, "call_status", s->call_status);
		cJSON_AddNumberToObject(o, "lines", (double)s->lines);
		cJSON_AddNumberToObject(o, "malformed_lines", (double)s->malformed);
		cJSON_AddStringToObject(o, "ws_errors", s->ws_errors);
		cJSON_AddBoolToObject(o, "partial", s->partial);
		if (s->agent) {
			cJSON_AddNumberToObject(o, "agent_turns", (double)s->turns);
			cJSON_AddNumberToObject(o, "agent_turn_errors", (double)s->turn_errors);
			cJSON_AddStringToObject(o, "agent_hangup", s->hangup);
		}
		if (rows[i].problem[0])
			cJSON_AddStringToObject(o, "error", rows[i].problem);
		text = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (!text)
			goto oom;
		printf("%s\n%s", i ? "," : "", text);
		free(text);
	}
	puts(n ? "\n]" : "]");
	return 0;
oom:
	fprintf(stderr, "callpipe-log: out of memory\n");
	return EXIT_ENV;
}

static int cmd_list(const char *dir, const char *since_arg, int json)
{
	struct logparse_line *ln = malloc(sizeof(*ln));
	struct row *rows = NULL;
	size_t n = 0, cap = 0, denied = 0;
	long long since = 0, now = now_ms();
	struct dirent *de;
	int dirfd, rc = 0;
	char eb[160];
	DIR *d;

	if (since_arg && parse_since(since_arg, &since) < 0) {
		free(ln);
		return usage_error("--since \"%s\": want 2026-11-24[T10:15[:02]][Z] or an age "
				   "such as 30m, 2h, 7d", esc(since_arg, eb));
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = dirfd >= 0 ? fdopendir(dirfd) : NULL;
	if (!d || !ln) {
		fprintf(stderr, "callpipe-log: %s: %s\n", dir, strerror(errno));
		if (dirfd >= 0 && !d)
			close(dirfd);
		free(ln);
		return EXIT_ENV;
	}
	/* errno is reset before each readdir(): NULL with errno set is an error, not the end */
	while ((errno = 0, de = readdir(d))) {
		char sid[40];
		struct stat st = { 0 };
		struct row *r;
		int fd;

		/* Only CA<32 hex>.log names a call; anything else in the directory is not
		 * ours to read. */
		if (strlen(de->d_name) != 38 || strcmp(de->d_name + 34, ".log") != 0)
			continue;
		memcpy(sid, de->d_name, 34);
		sid[34] = '\0';
		if (!calllog_valid_callsid(sid))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (!S_ISREG(st.st_mode) ||
		     (since_arg && st.st_mtim.tv_sec * 1000LL + 999 < since)))
			continue;	/* last written before --since: began before it */
		if (n == cap) {
			struct row *nr = realloc(rows, (cap ? cap * 2 : 64) * sizeof(*rows));

			if (!nr) {
				fprintf(stderr, "callpipe-log: out of memory\n");
				rc = EXIT_ENV;
				goto done;
			}
			rows = nr;
			cap = cap ? cap * 2 : 64;
		}
		r = &rows[n];
		memset(r, 0, sizeof(*r));
		logsum_init(&r->sum, sid);
		fd = open_log_at(dirfd, de->d_name, &st);
		if (fd < 0 || summarize(fd, st.st_size, &r->sum, ln) < 0) {
			int e = errno;

			snprintf(r->problem, sizeof(r->problem), "%s", strerror(e));
			denied += e == EACCES;
		}
		if (fd >= 0) {
			r->size = st.st_size;
			close(fd);
		}
		r->sort_ms = r->sum.have_time ? r->sum.first_ms : st.st_mtim.tv_sec * 1000LL;
		if (since_arg && r->sum.have_time && r->sum.first_ms < since)
			continue;
		n++;
	}
	if (errno) {
		fprintf(stderr, "callpipe-log: %s: %s\n", dir, strerror(errno));
		rc = EXIT_ENV;
		goto done;
	}
	if (denied)
		fprintf(stderr, "callpipe-log: %zu call log%s in %s could not be read (Permission "
			"denied): run as the user the programs run as, or join its group\n",
			denied, denied == 1 ? "" : "s", dir);
	if (n)
		qsort(rows, n, sizeof(*rows), row_cmp);
	if (json)
		rc = print_json(rows, n, now);
	else if (n == 0)
		fprintf(stderr, "callpipe-log: no calls in %s%s%s\n", dir,
			since_arg ? " since " : "", since_arg ? since_arg : "");
	else
		print_table(rows, n, now);
done:
	closedir(d);
	free(rows);
	free(ln);
	return rc;
}

/* --- show ------------------------------------------------------------------------------ */

static int bad_callsid(const char *arg)
{
	char buf[160];

	fprintf(stderr, "callpipe-log: \"%s\" is not a CallSid (CA followed by 32 hex digits)\n",
		esc(arg, buf));
	return EXIT_USAGE;
}

static void print_offset(long long off_ms)
{
	char buf[32];
	long long a = off_ms < 0 ? -off_ms : off_ms;

	snprintf(buf, sizeof(buf), "%c%lld.%03llds", off_ms < 0 ? '-' : '+', a / 1000, a % 1000);
	printf("%10s  ", buf);
}

static int cmd_show(const char *dir, const char *arg, int raw)
{
	struct transcript tr;
	struct logparse_line *ln;
	struct lineread *lr;
	struct logsum sum;
	struct stat st;
	char sid[40], name[48], err[128], buf[64];
	const char *line;
	size_t len;
	long long base = -1;
	int dirfd, fd, flags, r, pass, agent = 0;

	if (!calllog_valid_callsid(arg))
		return bad_callsid(arg);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		fprintf(stderr, "callpipe-log: %s: %s\n", dir, strerror(errno));
		return EXIT_ENV;
	}
	snprintf(sid, sizeof(sid), "%s", arg);
	snprintf(name, sizeof(name), "%s.log", sid);
	fd = open_log_at(dirfd, name, &st);
	if (fd < 0 && errno == ENOENT) {
		/* Twilio writes sids in lower-case hex; accept one typed in upper case. */
		for (char *p = sid + 2; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		snprintf(name, sizeof(name), "%s.log", sid);
		fd = open_log_at(dirfd, name, &st);
	}
	close(dirfd);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT) {
			fprintf(stderr, "callpipe-log: no log for %s in %s\n", arg, dir);
			return EXIT_NOTFOUND;
		}
		fprintf(stderr, "callpipe-log: %s/%s: %s%s\n", dir, name,
			e == EINVAL ? "not a regular file" :
			e == ELOOP ? "a symbolic link (not followed)" : strerror(e),
			e == EACCES ? " (run as the user the programs run as, or join its group)" :
			"");
		return EXIT_ENV;
	}
	ln = malloc(sizeof(*ln));
	if (!ln) {
		close(fd);
		fprintf(stderr, "callpipe-log: out of memory\n");
		return EXIT_ENV;
	}
	logsum_init(&sum, sid);
	/* Two passes, both in bounded memory: the first finds the first event's time (the
	 * zero of the timeline) and whether the call is an agent's, the second prints. */
	for (pass = 0; pass < 2; pass++) {
		if (lseek(fd, 0, SEEK_SET) < 0 || !(lr = lineread_new(fd, 0, LOGPARSE_LINE_MAX, 0)))
			break;
		while ((r = lineread_next(lr, &line, &len, &flags)) == 1) {
			int ok = !(flags & LINEREAD_CUT) &&
				 logparse_line(ln, line, len, err, sizeof(err)) == 0;

			if (pass == 0) {
				if (ok && base < 0)
					base = ln->ts_ms;
				if (ok && !raw && transcript_is_agent(ln)) {
					agent = 1;
					break;
				}
				continue;
			}
			if (ok) {
				logsum_add(&sum, ln);
				if (agent) {
					transcript_add(&tr, ln);
					continue;
				}
				print_offset(ln->ts_ms - base);
				logtail_print_event(stdout, ln);
			} else {
				logsum_add_malformed(&sum);
				printf("%10s  ", "?");
				logtail_print_malformed(stdout, (flags & LINEREAD_CUT) ?
							"line too long" : err, line, len,
							flags & LINEREAD_CUT);
			}
		}
		lineread_free(lr);
		if (r < 0) {
			fprintf(stderr, "callpipe-log: %s/%s: %s\n", dir, name, strerror(errno));
			free(ln);
			close(fd);
			return EXIT_ENV;
		}
		if (pass == 0) {
			printf("%s  %s/%s", sid, dir, name);
			if (base >= 0) {
				logparse_format_time(buf, sizeof(buf), base, 1);
				printf("  first event %s", buf);
			}
			putchar('\n');
			transcript_init(&tr, stdout, base);
		}
	}
	if (agent)
		transcript_end(&tr);
	close(fd);
	free(ln);
	{
		char out[LOGSUM_OUTCOME_MAX], dur[32];

		logsum_outcome(&sum, now_ms(), out, sizeof(out));
		logsum_format_duration(dur, sizeof(dur), logsum_duration_ms(&sum, NULL));
		printf("-- %lu line%s", sum.lines + sum.malformed,
		       sum.lines + sum.malformed == 1 ? "" : "s");
		if (sum.malformed)
			printf(" (%lu malformed)", sum.malformed);
		printf("; outcome %s; duration %s; stream %s%s\n", out, dur,
		       sum.streams[0] ? sum.streams : "-", agent ? "; --raw for every line" : "");
	}
	return 0;
}

/* --- tail ------------------------------------------------------------------------------ */

static int cmd_tail(const char *dir, const char *sid, int lines, int once, int force_poll)
{
	struct sigaction sa;
	struct logtail_opts o = {
		.dir = dir, .callsid = sid, .lines = lines, .once = once,
		.interval_ms = 250, .poll = force_poll, .out = stdout, .stop = &stop_flag,
	};
	char err[256];

	if (sid && !calllog_valid_callsid(sid))
		return bad_callsid(sid);
	/* No SA_RESTART: the wait in logtail_run returns at once and sees the flag. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (logtail_run(&o, err, sizeof(err)) < 0) {
		fprintf(stderr, "callpipe-log: %s\n", err);
		return EXIT_ENV;
	}
	return 0;
}

/* --- main ------------------------------------------------------------------------------ */

/* -d DIR, else [log] dir of -c FILE / $CALLPIPE_CONF, else the default. */
static int resolve_dir(const char *dir_opt, const char *conf_opt, struct config *cfg,
		       const char **dir)
{
	const char *path;
	char err[512];

	*dir = NULL;
	if (dir_opt) {
		*dir = dir_opt;
		return 0;
	}
	path = config_path(conf_opt);
	if (path) {
		if (config_load(cfg, path, err, sizeof(err)) < 0) {
			fprintf(stderr, "callpipe-log: %s\n", err);
			return EXIT_ENV;
		}
	} else {
		config_defaults(cfg);
	}
	if (!cfg->log_dir[0]) {
		fprintf(stderr, "callpipe-log: %s sets no [log] dir; use -d DIR\n",
			path ? path : "the default configuration");
		return EXIT_ENV;
	}
	*dir = cfg->log_dir;
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
	const char *dir_opt = NULL, *conf_opt = NULL, *since = NULL, *cmd, *dir;
	int json = 0, once = 0, force_poll = 0, raw = 0, lines = 10, lines_set = 0, c, rc;
	char *end, eb[160];

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:c:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dir_opt = optarg; break;
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
				return usage_error("-n \"%s\": want a number of lines, 0 to %d",
						   esc(optarg, eb), LOGTAIL_LINES_MAX);
			lines_set = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return usage_error("option \"%s\" needs an argument",
					   esc(argv[optind - 1], eb));
		default:
			return usage_error("unknown option \"%s\"", esc(argv[optind - 1], eb));
		}
	}
	if (optind >= argc)
		return usage_error("no command: list, show CALLSID or tail");
	cmd = argv[optind++];
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "list") && strcmp(cmd, "show") && strcmp(cmd, "tail"))
		return usage_error("unknown command \"%s\": list, show CALLSID or tail",
				   esc(cmd, eb));
	if ((since || json) && strcmp(cmd, "list"))
		return usage_error("--since and --json go with list, not %s", cmd);
	if (raw && strcmp(cmd, "show"))
		return usage_error("--raw goes with show, not %s", cmd);
	if ((once || lines_set || force_poll) && strcmp(cmd, "tail"))
		return usage_error("-n, --once and --poll go with tail, not %s", cmd);
	if (strcmp(cmd, "show") == 0 && argc - optind != 1)
		return usage_error("show takes one CallSid");
	if (strcmp(cmd, "list") == 0 && argc - optind != 0)
		return usage_error("list takes no argument (\"%s\")", esc(argv[optind], eb));
	if (strcmp(cmd, "tail") == 0 && argc - optind > 1)
		return usage_error("tail takes at most one CallSid (\"%s\")",
				   esc(argv[optind + 1], eb));

	rc = resolve_dir(dir_opt, conf_opt, &cfg, &dir);
	if (rc)
		return rc;
	if (access(dir, R_OK | X_OK) != 0) {
		/* Say where the directory came from: the usual surprise is the default. */
		const char *path = config_path(conf_opt);
		int e = errno;

		if (dir_opt)
			fprintf(stderr, "callpipe-log: %s: %s\n", dir, strerror(e));
		else if (path)
			fprintf(stderr, "callpipe-log: %s: %s ([log] dir in %s)\n", dir,
				strerror(e), path);
		else
			fprintf(stderr, "callpipe-log: %s: %s (the default [log] dir; -d DIR or "
				"-c FILE names another)\n", dir, strerror(e));
		return EXIT_ENV;
	}
	if (strcmp(cmd, "list") == 0)
		rc = cmd_list(dir, since, json);
	else if (strcmp(cmd, "show") == 0)
		rc = cmd_show(dir, argv[optind], raw);
	else
		rc = cmd_tail(dir, optind < argc ? argv[optind] : NULL, lines, once, force_poll);
	if ((fflush(stdout) == EOF || ferror(stdout)) && rc == 0) {
		fprintf(stderr, "callpipe-log: writing output: %s\n", strerror(errno));
		rc = EXIT_ENV;
	}
	return rc;
}
