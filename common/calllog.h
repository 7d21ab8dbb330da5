/* calllog: the plain-text per-call log, one file <CallSid>.log per call in [log] dir (0640).
 * One event per line, written whole or not at all (flock, cut back after a short write). */
#ifndef CALLPIPE_CALLLOG_H
#define CALLPIPE_CALLLOG_H

#include <stddef.h>
#include <time.h>

/* A whole line never exceeds this; longer values are cut (and marked with "…"). */
#define CALLLOG_LINE_MAX 4096
/* DIR/CallSid.log always fits (config strings are shorter). */
#define CALLLOG_PATH_MAX 4096

/* 1 when SID is "CA" followed by exactly 32 hex digits (either case), else 0.
 * Only such a sid may name a file: no path separators or dots can get through. */
int calllog_valid_callsid(const char *sid);

/* Make DIR (one level) with mode 0750 when it is missing. 0 or -1 with err. */
int calllog_prepare_dir(const char *dir, char *err, size_t errlen);

/* Format one line into BUF (NUL-terminated, ends in '\n'):
 *   2026-11-24T10:15:02.123Z fcgi incoming_call from=+15551234567 sig=ok
 * WHEN NULL means now. KV is a NULL-terminated list of key, value, key, value…; a NULL
 * value skips the pair. Values are escaped by logesc (LOGESC_LOGFMT): quoted when empty or
 * holding spaces, '=' or anything escaped; quotes and backslashes escaped; controls (C0,
 * DEL, C1), invalid UTF-8, bidi controls and U+2028/U+2029 as \n \r \t or \xHH, so none
 * reaches the file.
 * The line, '\n' included, is at most min(CAP, CALLLOG_LINE_MAX) - 1 bytes: a value is cut
 * to CALLLOG_LINE_MAX / 2 bytes or to the room left, ending in "…", and when pairs had to
 * be left out the line ends in " …". Keys, PROG and EVENT keep [A-Za-z0-9_.:-] ('_' else).
 * Returns the length written (without the NUL). */
size_t calllog_format(char *buf, size_t cap, const struct timespec *when,
		      const char *prog, const char *event, const char *const *kv);

/* Append one line to DIR/CALLSID.log (created 0640): open, calllog_write, close. Never
 * aborts: on failure it prints one line naming the file and the error to stderr (rate
 * limited) and returns -1; callers go on with the call. Only for a caller whose request
 * was authenticated: it creates the file. */
int calllog_append(const char *dir, const char *callsid, const char *prog,
		   const char *event, const char *const *kv);

/* Write LINE (LEN bytes, a whole line) to FD (an O_APPEND call log) so no reader or other
 * writer ever sees part of it: under flock(LOCK_EX), note the size, write, and when the
 * write comes up short (full disk, RLIMIT_FSIZE) ftruncate back to the noted size. 0, or
 * -1 with ERR saying what happened (the line is then not in the file at all). */
int calllog_write(int fd, const char *line, size_t len, char *err, size_t errlen);

/* A call's log file kept open across lines: callpipe-ws holds one per started call. No file
 * system access until the first write (which opens, creating the file 0640); refcounted so
 * lines still queued for a writer thread keep it alive. NULL (reported on stderr) when the
 * CallSid is invalid or memory runs out. */
struct calllog_file;
struct calllog_file *calllog_file_new(const char *dir, const char *callsid);
struct calllog_file *calllog_file_ref(struct calllog_file *f);
/* Drop a reference; the last one closes the file. Any thread. */
void calllog_file_unref(struct calllog_file *f);
/* Write one formatted line through calllog_write (reopening first when
 * calllog_reopen_all() ran since the file was opened). Failures are reported on stderr
 * (rate limited); 0 or -1. One thread at a time per handle. */
int calllog_file_write(struct calllog_file *f, const char *line, size_t len);
/* Every handle reopens its file before its next line (SIGHUP, after logs were rotated).
 * Async-signal-safe (one atomic add). */
void calllog_reopen_all(void);

#endif
