/* logparse: reads one call log line (docs/DESIGN.md §1.2) back into its timestamp, program,
 * event and key=value pairs, undoing exactly the logfmt quoting calllog_format() writes. */
#ifndef CALLPIPE_LOGPARSE_H
#define CALLPIPE_LOGPARSE_H

#include <stddef.h>
#include <stdio.h>

/* Longest line the viewer parses. calllog never writes more than CALLLOG_LINE_MAX (4096)
 * bytes; four times that leaves room for a future writer and still fits on the stack of
 * any caller. Longer lines are reported as malformed (cut) by the line reader. */
#define LOGPARSE_LINE_MAX 16384

/* The shortest pair is "k=v" plus a space, so a line of LOGPARSE_LINE_MAX bytes cannot hold
 * more than LOGPARSE_LINE_MAX / 4 pairs. */
#define LOGPARSE_MAX_KV (LOGPARSE_LINE_MAX / 4)

/* Room for "2026-11-24T10:15:02.123456789Z" and a NUL. */
#define LOGPARSE_TS_MAX 40

struct logparse_kv {
	const char *key;	/* points into the line's store, NUL-terminated */
	const char *value;	/* decoded: quotes and escapes undone */
	size_t value_len;	/* bytes in value (a decoded \x00 would hide behind strlen) */
};

/* One parsed line. Big (about 130 KiB): allocate one per program and reuse it. */
struct logparse_line {
	long long ts_ms;		/* milliseconds since the Unix epoch, UTC */
	char ts[LOGPARSE_TS_MAX];	/* the timestamp as written */
	const char *prog;		/* "fcgi", "ws", … */
	const char *event;		/* "incoming_call", … */
	const char *kv_text;		/* the raw key=value text as written ("" when none) */
	size_t nkv;
	int pairs_cut;			/* pairs were left out: the line ended in " …" */
	struct logparse_kv kv[LOGPARSE_MAX_KV];
	/* prog, event, the raw pairs and their decoded copies: each at most the line's length */
	char store[2 * LOGPARSE_LINE_MAX + 16];
};

/* Parse LINE (LEN bytes, no trailing newline needed; a trailing "\n" or "\r\n" is ignored).
 * Fills OUT and returns 0, or returns -1 with a precise reason in err ("column 42:
 * unterminated quote"). Raw control characters, bare words without '=', unknown escapes
 * and lines over LOGPARSE_LINE_MAX are errors: calllog never writes them. */
int logparse_line(struct logparse_line *out, const char *line, size_t len,
		  char *err, size_t errlen);

/* The value of the last pair named KEY (a later pair overrides an earlier one), or NULL. */
const char *logparse_get(const struct logparse_line *ln, const char *key);

/* Parse an ISO 8601 UTC time: "2026-11-24", "2026-11-24T10:15", "2026-11-24T10:15:02",
 * "2026-11-24 10:15:02.123", each with an optional trailing 'Z'. 0 with *ms set, or -1. */
int logparse_time(const char *s, long long *ms);

/* The time of LINE (LEN bytes): its first field, parsed as logparse_line() does (exactly
 * YYYY-MM-DDTHH:MM:SS[.fraction]Z). 0 with *ms set, or -1 when the line has no such time
 * (the rest of the line may still be malformed: only the first field is looked at). */
int logparse_line_time(const char *line, size_t len, long long *ms);

/* Format MS as "2026-11-24T10:15:02.123Z" (WITH_MS) or "2026-11-24 10:15:02" into BUF. */
void logparse_format_time(char *buf, size_t cap, long long ms, int with_ms);

/* Copy S (LEN bytes) into BUF for a terminal: control bytes and DEL become \n, \t, \r or
 * \xHH, invalid UTF-8 bytes become \xHH, valid UTF-8 is kept. Always NUL-terminates; cuts
 * at a character boundary when BUF is too small. Returns the bytes written. */
size_t logparse_escape(char *buf, size_t cap, const char *s, size_t len);

/* Write S (LEN bytes) to OUT escaped as logparse_escape() does, however long. */
void logparse_fput(FILE *out, const char *s, size_t len);

/* Display width of the UTF-8 string S: code points counted, continuation bytes not. */
size_t logparse_width(const char *s);

#endif
