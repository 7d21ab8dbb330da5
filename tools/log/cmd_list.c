/* cmd_list: `callpipe-log list`, a row per call across one or more log directories, each
 * call summarized (logsum) over its files' lines merged by time (logmerge). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "calllog.h"
#include "cmd.h"
#include "lineread.h"
#include "logfile.h"
#include "logmerge.h"
#include "logparse.h"
#include "logsum.h"

/* list reads a call log whole up to 2 MiB (a 4-hour call with a mark every second writes
 * about 1.5 MiB); past that only its first and last MiB, which hold incoming_call and the
 * closing call_status / ws_done lines. Memory stays one parsed line and one read buffer
 * per file of the call. */
#define LIST_WINDOW (1024 * 1024)

#define NCOLS 8
#define CELL_MAX (2 * LOGSUM_STREAMS_MAX)	/* the NOTES cell holds the longest text */

struct row {
	struct logsum sum;
	long long sort_ms;	/* first event, or the files' earliest mtime when no line parsed */
	long long size;		/* bytes in all the call's files */
	char problem[CELL_MAX];	/* why a file could not be read */
};

/* One call log file found in one of the directories. */
struct entry {
	char sid[36];
	unsigned char dir;	/* index in the -d list */
	unsigned char old;	/* last written before --since: the call began before it */
	long long mtime_ms;
};

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
			*ms = cmd_now_ms() - n * units[i].ms;
			return 0;
		}
	}
	return -1;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->sort_ms != y->sort_ms)
		return x->sort_ms < y->sort_ms ? -1 : 1;
	return strcmp(x->sum.callsid, y->sum.callsid);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->sid, y->sid);

	return c ? c : (int)x->dir - (int)y->dir;
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
	return CMD_EXIT_ENV;
}

/* Note why a file of R could not be read (errno E); with several directories, which. */
static void add_problem(struct row *r, const char *dir, size_t ndirs, int e)
{
	size_t n = strlen(r->problem);
	char d[160];

	if (n + 8 >= sizeof(r->problem))
		return;
	if (ndirs > 1)
		snprintf(r->problem + n, sizeof(r->problem) - n, "%s%s: %s", n ? "; " : "",
			 cmd_esc(dir, d), strerror(e));
	else
		snprintf(r->problem + n, sizeof(r->problem) - n, "%s%s", n ? "; " : "",
			 strerror(e));
}

/* Summarize the call whose files are E[0..K) (one per directory, in -d order) into R:
 * their lines merged by time, fed to logsum as one file holding them would be. */
static void summarize_call(struct row *r, const struct entry *e, size_t k, DIR *const *d,
			   const char *const *dirs, size_t ndirs, size_t *denied,
			   struct logparse_line *ln)
{
	struct logfile_reader rd[LOGMERGE_SOURCES_MAX];
	int fds[LOGMERGE_SOURCES_MAX];
	size_t src_dir[LOGMERGE_SOURCES_MAX], nsrc = 0, s;
	long long mtime = LLONG_MAX;
	struct logmerge m;
	const char *line;
	size_t len;
	int flags, rc;

	memset(r, 0, sizeof(*r));
	logsum_init(&r->sum, e[0].sid);
	logmerge_init(&m);
	for (size_t i = 0; i < k && nsrc < LOGMERGE_SOURCES_MAX; i++) {
		char name[48];
		struct stat st;
		int fd;

		if (e[i].mtime_ms < mtime)
			mtime = e[i].mtime_ms;
		snprintf(name, sizeof(name), "%s.log", e[i].sid);
		fd = logfile_open_at(dirfd(d[e[i].dir]), name, &st);
		if (fd < 0) {
			add_problem(r, dirs[e[i].dir], ndirs, errno);
			denied[e[i].dir] += errno == EACCES;
			continue;
		}
		r->size += st.st_size;
		if (logfile_reader_init(&rd[nsrc], fd, st.st_size, LIST_WINDOW))
			r->sum.partial = 1;
		fds[nsrc] = fd;
		src_dir[nsrc] = e[i].dir;
		logmerge_add(&m, logfile_reader_next, &rd[nsrc]);
		nsrc++;
	}
	while ((rc = logmerge_next(&m, &line, &len, &flags, &s)) != 0) {
		if (rc < 0) {
			add_problem(r, dirs[src_dir[s]], ndirs, errno);
			denied[src_dir[s]] += errno == EACCES;
			continue;
		}
		if (!(flags & LINEREAD_CUT) && logparse_line(ln, line, len, NULL, 0) == 0)
			logsum_add(&r->sum, ln);
		else
			logsum_add_malformed(&r->sum);
	}
	for (size_t i = 0; i < nsrc; i++) {
		logfile_reader_free(&rd[i]);
		close(fds[i]);
	}
	r->sort_ms = r->sum.have_time ? r->sum.first_ms : mtime == LLONG_MAX ? 0 : mtime;
}

/* Add DIR's call logs (index DI) to *V. 0, or -1 with errno (readdir failed, or ENOMEM). */
static int scan_dir(DIR *d, unsigned char di, const char *since_arg, long long since,
		    struct entry **v, size_t *n, size_t *cap)
{
	struct dirent *de;

	/* errno is reset before each readdir(): NULL with errno set is an error, not the end */
	while ((errno = 0, de = readdir(d))) {
		struct stat st;
		struct entry *x;
		char sid[40];
		int have_st;

		/* Only CA<32 hex>.log names a call; anything else in the directory is not
		 * ours to read. */
		if (strlen(de->d_name) != 38 || strcmp(de->d_name + 34, ".log") != 0)
			continue;
		memcpy(sid, de->d_name, 34);
		sid[34] = '\0';
		if (!calllog_valid_callsid(sid))
			continue;
		have_st = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0;
		if (have_st && !S_ISREG(st.st_mode))
			continue;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			struct entry *nv = realloc(*v, nc * sizeof(**v));

			if (!nv) {
				errno = ENOMEM;
				return -1;
			}
			*v = nv;
			*cap = nc;
		}
		x = &(*v)[(*n)++];
		memset(x, 0, sizeof(*x));
		memcpy(x->sid, sid, 35);
		x->dir = di;
		x->mtime_ms = have_st ? st.st_mtim.tv_sec * 1000LL : 0;
		/* A file last written before --since holds a line from before it: the call
		 * began before it, whichever host's copy says so. */
		x->old = since_arg && have_st && st.st_mtim.tv_sec * 1000LL + 999 < since;
	}
	return errno ? -1 : 0;
}

int cmd_list(const char *const *dirs, size_t ndirs, const char *since_arg, int json)
{
	struct logparse_line *ln = NULL;
	struct entry *ents = NULL;
	struct row *rows = NULL;
	DIR *d[LOGMERGE_SOURCES_MAX] = { 0 };
	size_t n = 0, cap = 0, ne = 0, ecap = 0, denied[LOGMERGE_SOURCES_MAX] = { 0 };
	long long since = 0, now = cmd_now_ms();
	int rc = 0;
	char eb[160];

	if (since_arg && parse_since(since_arg, &since) < 0)
		return cmd_usage_error("--since \"%s\": want 2026-11-24[T10:15[:02]][Z] or an age "
				       "such as 30m, 2h, 7d", cmd_esc(since_arg, eb));
	if (ndirs > LOGMERGE_SOURCES_MAX)
		ndirs = LOGMERGE_SOURCES_MAX;	/* main refuses more */
	for (size_t i = 0; i < ndirs; i++) {
		int fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		d[i] = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d[i]) {
			fprintf(stderr, "callpipe-log: %s: %s\n", dirs[i], strerror(errno));
			if (fd >= 0)
				close(fd);
			rc = CMD_EXIT_ENV;
			goto done;
		}
		if (scan_dir(d[i], (unsigned char)i, since_arg, since, &ents, &ne, &ecap) < 0) {
			fprintf(stderr, "callpipe-log: %s: %s\n", dirs[i], strerror(errno));
			rc = CMD_EXIT_ENV;
			goto done;
		}
	}
	ln = malloc(sizeof(*ln));
	if (!ln)
		goto oom;
	/* A CallSid's files (one per directory at most) become neighbours, in -d order. */
	if (ne)
		qsort(ents, ne, sizeof(*ents), entry_cmp);
	for (size_t i = 0, j; i < ne; i = j) {
		int old = 0;

		for (j = i; j < ne && strcmp(ents[j].sid, ents[i].sid) == 0; j++)
			old |= ents[j].old;
		if (old)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct row *nr = realloc(rows, nc * sizeof(*rows));

			if (!nr)
				goto oom;
			rows = nr;
			cap = nc;
		}
		summarize_call(&rows[n], &ents[i], j - i, d, dirs, ndirs, denied, ln);
		if (since_arg && rows[n].sum.have_time && rows[n].sum.first_ms < since)
			continue;
		n++;
	}
	for (size_t i = 0; i < ndirs; i++)
		if (denied[i])
			fprintf(stderr, "callpipe-log: %zu call log%s in %s could not be read "
				"(Permission denied): run as the user the programs run as, or join "
				"its group\n", denied[i], denied[i] == 1 ? "" : "s", dirs[i]);
	if (n)
		qsort(rows, n, sizeof(*rows), row_cmp);
	if (json) {
		rc = print_json(rows, n, now);
	} else if (n == 0) {
		fputs("callpipe-log: no calls in ", stderr);
		cmd_print_dirs(stderr, dirs, ndirs);
		fprintf(stderr, "%s%s\n", since_arg ? " since " : "", since_arg ? since_arg : "");
	} else {
		print_table(rows, n, now);
	}
	goto done;
oom:
	fprintf(stderr, "callpipe-log: out of memory\n");
	rc = CMD_EXIT_ENV;
done:
	for (size_t i = 0; i < ndirs; i++)
		if (d[i])
			closedir(d[i]);
	free(ents);
	free(rows);
	free(ln);
	return rc;
}
