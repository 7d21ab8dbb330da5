/* calllog: the plain-text per-call log, one file <CallSid>.log per call in [log] dir.
 * One event per line, written with one write() on an O_APPEND descriptor (files 0640). */
#ifndef CALLPIPE_CALLLOG_H
#define CALLPIPE_CALLLOG_H

#include <stddef.h>
#include <time.h>

/* A whole line never exceeds this; longer values are cut (and marked with "…"). */
#define CALLLOG_LINE_MAX 4096

/* 1 when SID is "CA" followed by exactly 32 hex digits (either case), else 0.
 * Only such a sid may name a file: no path separators or dots can get through. */
int calllog_valid_callsid(const char *sid);

/* Make DIR (one level) with mode 0750 when it is missing. 0 or -1 with err. */
int calllog_prepare_dir(const char *dir, char *err, size_t errlen);

/* Format one line into BUF (NUL-terminated, ends in '\n'):
 *   2026-11-24T10:15:02.123Z fcgi incoming_call from=+15551234567 sig=ok
 * WHEN NULL means now. KV is a NULL-terminated list of key, value, key, value…; a NULL
 * value skips the pair. Values that are empty or hold spaces, quotes, '=' or backslashes
 * are quoted with \" and \\ escaped; control characters become \n \r \t or \xHH, so none
 * reaches the file (invalid UTF-8 and C1 controls become \xHH too, and are quoted).
 * The line, '\n' included, is at most min(CAP, CALLLOG_LINE_MAX) - 1 bytes: a value is cut
 * to CALLLOG_LINE_MAX / 2 bytes or to the room left, ending in "…", and when pairs had to
 * be left out the line ends in " …". Keys, PROG and EVENT keep [A-Za-z0-9_.:-] ('_' else).
 * Returns the length written (without the NUL). */
size_t calllog_format(char *buf, size_t cap, const struct timespec *when,
		      const char *prog, const char *event, const char *const *kv);

/* Append one line to DIR/CALLSID.log (created 0640). Never blocks for long, never
 * aborts: on failure it prints one line naming the file and errno to stderr and
 * returns -1; callers go on with the call. */
int calllog_append(const char *dir, const char *callsid, const char *prog,
		   const char *event, const char *const *kv);

#endif
