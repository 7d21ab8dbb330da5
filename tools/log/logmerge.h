/* logmerge: one call's lines from several log files (copies of several hosts' log
 * directories) as one stream in time order, without holding more than a line per file. */
#ifndef CALLPIPE_LOGMERGE_H
#define CALLPIPE_LOGMERGE_H

#include <stddef.h>

/* How many files one merge reads: `callpipe-log -d` may be given this many times. A
 * deployment has a host per helper or per web server; 16 is far above that, and each
 * source costs an open file and a line buffer. */
#define LOGMERGE_SOURCES_MAX 16

/* A source of lines, in its file's order: 1 with *line, *len (no newline) and *flags (the
 * line must stay valid until this source's next call), 0 at its end, -1 on a read error
 * (errno kept). */
typedef int (*logmerge_next_fn)(void *ctx, const char **line, size_t *len, int *flags);

struct logmerge_src {
	logmerge_next_fn next;
	void *ctx;
	const char *line;	/* the source's next line, once read */
	size_t len;
	int flags;
	long long key;		/* its time (ms), or the time of the line before it */
	int state;		/* need a line, have one, ended */
};

struct logmerge {
	struct logmerge_src src[LOGMERGE_SOURCES_MAX];
	size_t n;
};

void logmerge_init(struct logmerge *m);

/* Add a source (after those added before: order breaks ties). 0, or -1 when there are
 * already LOGMERGE_SOURCES_MAX. */
int logmerge_add(struct logmerge *m, logmerge_next_fn next, void *ctx);

/* The next line of the merge: the sources' next lines compared by their timestamp (the
 * line's first field, logparse_line_time()); equal times go in the order the sources were
 * added. A line without a time takes the time of the line before it in its own file, so it
 * comes right after that line (a file's leading lines without a time come first of all).
 * A file's own lines are never reordered: the merge of one source is that file as it is.
 * 1 with *line, *len, *flags and *src (the index of the source, may be NULL) set, valid
 * until the next call; 0 when every source has ended; -1 when a source failed (*src says
 * which, errno kept): that source counts as ended, and the merge may go on. */
int logmerge_next(struct logmerge *m, const char **line, size_t *len, int *flags,
		  size_t *src);

#endif
