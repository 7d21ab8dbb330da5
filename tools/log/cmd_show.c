/* cmd_show: `callpipe-log show CALLSID`, one call's lines from every log directory that has
 * its file, merged by time (logmerge), told as a timeline or as the agent's conversation. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calllog.h"
#include "cmd.h"
#include "lineread.h"
#include "logfile.h"
#include "logmerge.h"
#include "logparse.h"
#include "logsum.h"
#include "logtail.h"
#include "transcript.h"

/* The call's file in one directory. */
struct found {
	int fd;
	size_t dir;		/* index in the -d list */
	char name[48];
	struct logfile_reader rd;
};

static void print_offset(long long off_ms)
{
	char buf[32];
	long long a = off_ms < 0 ? -off_ms : off_ms;

	snprintf(buf, sizeof(buf), "%c%lld.%03llds", off_ms < 0 ? '-' : '+', a / 1000, a % 1000);
	printf("%10s  ", buf);
}

/* Open ARG's file in DIR into F: 1 found, 0 not there, -1 with the error printed. */
static int find_in(const char *dir, const char *arg, struct found *f)
{
	struct stat st;
	char sid[40];
	int dirfd, e;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		fprintf(stderr, "callpipe-log: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	snprintf(sid, sizeof(sid), "%s", arg);
	snprintf(f->name, sizeof(f->name), "%s.log", sid);
	f->fd = logfile_open_at(dirfd, f->name, &st);
	if (f->fd < 0 && errno == ENOENT) {
		/* Twilio writes sids in lower-case hex; accept one typed in upper case. */
		for (char *p = sid + 2; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		snprintf(f->name, sizeof(f->name), "%s.log", sid);
		f->fd = logfile_open_at(dirfd, f->name, &st);
	}
	e = errno;
	close(dirfd);
	if (f->fd >= 0)
		return 1;
	if (e == ENOENT)
		return 0;	/* normal with several hosts: not every one saw the call */
	fprintf(stderr, "callpipe-log: %s/%s: %s%s\n", dir, f->name,
		e == EINVAL ? "not a regular file" :
		e == ELOOP ? "a symbolic link (not followed)" : strerror(e),
		e == EACCES ? " (run as the user the programs run as, or join its group)" : "");
	return -1;
}

static void print_summary(const struct logsum *sum, int agent)
{
	char out[LOGSUM_OUTCOME_MAX], dur[32];

	logsum_outcome(sum, cmd_now_ms(), out, sizeof(out));
	logsum_format_duration(dur, sizeof(dur), logsum_duration_ms(sum, NULL));
	printf("-- %lu line%s", sum->lines + sum->malformed,
	       sum->lines + sum->malformed == 1 ? "" : "s");
	if (sum->malformed)
		printf(" (%lu malformed)", sum->malformed);
	printf("; outcome %s; duration %s; stream %s%s\n", out, dur,
	       sum->streams[0] ? sum->streams : "-", agent ? "; --raw for every line" : "");
}

int cmd_show(const char *const *dirs, size_t ndirs, const char *arg, int raw)
{
	struct found f[LOGMERGE_SOURCES_MAX];
	struct transcript tr;
	struct logparse_line *ln = NULL;
	struct logsum sum;
	struct logmerge m;
	char sid[40], err[128], buf[64];
	const char *line;
	size_t nf = 0, len, src = 0;
	long long base = -1;
	int flags, r = 0, e, pass, agent = 0, rc = 0;

	if (!calllog_valid_callsid(arg))
		return cmd_bad_callsid(arg);
	for (size_t i = 0; i < ndirs && i < LOGMERGE_SOURCES_MAX; i++) {
		int got = find_in(dirs[i], arg, &f[nf]);

		if (got < 0) {
			rc = CMD_EXIT_ENV;
			goto done;
		}
		if (got) {
			f[nf].dir = i;
			nf++;
		}
	}
	if (nf == 0) {
		fprintf(stderr, "callpipe-log: no log for %s in ", arg);
		cmd_print_dirs(stderr, dirs, ndirs);
		fputc('\n', stderr);
		return CMD_EXIT_NOTFOUND;
	}
	ln = malloc(sizeof(*ln));
	if (!ln) {
		fprintf(stderr, "callpipe-log: out of memory\n");
		rc = CMD_EXIT_ENV;
		goto done;
	}
	/* The sid as the first file found spells it (lower case when typed upper). */
	snprintf(sid, sizeof(sid), "%.34s", f[0].name);
	logsum_init(&sum, sid);
	/* Two passes over the merge, both in bounded memory: the first finds the first
	 * event's time (the zero of the timeline) and whether the call is an agent's, the
	 * second prints. */
	for (pass = 0; pass < 2; pass++) {
		logmerge_init(&m);
		for (size_t i = 0; i < nf; i++) {
			logfile_reader_init(&f[i].rd, f[i].fd, 0, 0);
			logmerge_add(&m, logfile_reader_next, &f[i].rd);
		}
		while ((r = logmerge_next(&m, &line, &len, &flags, &src)) == 1) {
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
		e = errno;
		for (size_t i = 0; i < nf; i++)
			logfile_reader_free(&f[i].rd);
		if (r < 0) {
			fprintf(stderr, "callpipe-log: %s/%s: %s\n", dirs[f[src].dir],
				f[src].name, strerror(e));
			rc = CMD_EXIT_ENV;
			goto done;
		}
		if (pass == 0) {
			printf("%s  ", sid);
			for (size_t i = 0; i < nf; i++)
				printf("%s%s/%s", i ? ", " : "", dirs[f[i].dir], f[i].name);
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
	print_summary(&sum, agent);
done:
	for (size_t i = 0; i < nf; i++)
		close(f[i].fd);
	free(ln);
	return rc;
}
