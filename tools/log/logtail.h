/* logtail: `callpipe-log tail`, following new lines across every call log in a directory
 * (new files too) with inotify, or polling where inotify is unavailable; bounded memory. */
#ifndef CALLPIPE_LOGTAIL_H
#define CALLPIPE_LOGTAIL_H

#include <signal.h>
#include <stdio.h>

#include "logparse.h"

/* How many of the newest lines -n may ask for: each is held until printed (at most
 * LOGPARSE_LINE_MAX bytes), so this bounds the start-up memory to about 16 MiB. */
#define LOGTAIL_LINES_MAX 1000

struct logtail_opts {
	const char *dir;
	const char *callsid;	/* only this call (NULL: every call) */
	int lines;		/* print the newest N lines first (0 .. LOGTAIL_LINES_MAX) */
	int once;		/* then exit instead of following */
	int poll;		/* poll the directory even where inotify works (NFS) */
	int interval_ms;	/* polling interval (--poll, or inotify unavailable) */
	FILE *out;
	volatile sig_atomic_t *stop;	/* set by the caller's SIGINT/SIGTERM handler */
};

/* Run until *stop is set (or once). 0, or -1 with err (directory unreadable, removed). */
int logtail_run(const struct logtail_opts *o, char *err, size_t errlen);

/* Print "prog  event  k=v…" of LN (padded columns, terminal-safe) and a newline. Used by
 * `show` and `tail` alike. */
void logtail_print_event(FILE *out, const struct logparse_line *ln);

/* Print "[malformed: REASON]  RAW" (terminal-safe) and a newline. */
void logtail_print_malformed(FILE *out, const char *reason, const char *raw, size_t len,
			     int cut);

#endif
