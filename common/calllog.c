/* calllog: per-call log lines (DESIGN.md "Call log"): UTC time, program, event, logfmt pairs,
 * appended with one write() on an O_APPEND descriptor so concurrent writers never interleave. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "calllog.h"
#include "strutil.h"

/* No single value may take more than this, so one long value cannot crowd out the pairs
 * after it (sig=, reason=…); the line as a whole is still capped at CALLLOG_LINE_MAX. */
#define CALLLOG_VALUE_MAX (CALLLOG_LINE_MAX / 2)

static const char ellipsis[] = "\xe2\x80\xa6";   /* U+2026 "…", 3 bytes */

/* A bounded line under construction: LIM content bytes, then '\n' and the NUL. */
struct line {
	char *buf;
	size_t len, lim;
};

static int put(struct line *l, const char *s, size_t n)
{
	if (l->len + n > l->lim)
		return -1;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	return 0;
}

int calllog_valid_callsid(const char *sid)
{
	size_t i;

	if (!sid || sid[0] != 'C' || sid[1] != 'A')
		return 0;
	for (i = 2; i < 34; i++)
		if (strutil_hexval((unsigned char)sid[i]) < 0)
			return 0;
	return sid[34] == '\0';
}

int calllog_prepare_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (err && errlen)
		err[0] = '\0';
	if (!dir || !*dir) {
		snprintf(err, errlen, "call log directory not set");
		return -1;
	}
	if (mkdir(dir, 0750) == 0) {
		/* mkdir's mode passes through the umask; set it exactly. */
		if (chmod(dir, 0750) != 0) {
			snprintf(err, errlen, "%s: chmod 0750: %s", dir, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a directory", dir);
		return -1;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at S (N bytes available, S[0] >= 0x80), or 0 when it
 * is not one (strutil_utf8_len: no overlongs, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = strutil_utf8_len(s, n);

	/* C1 controls (U+0080..U+009F) act on terminals like ESC does: escape them too. */
	if (len == 2 && s[0] == 0xc2 && s[1] <= 0x9f)
		return 0;
	return len;
}

/* 1 when V must be quoted: empty, or holding a byte that is not plain printable ASCII or a
 * valid UTF-8 character. */
static int needs_quotes(const unsigned char *v)
{
	if (!*v)
		return 1;
	for (; *v; v++) {
		if (*v <= ' ' || *v == '"' || *v == '=' || *v == '\\' || *v == 0x7f)
			return 1;
		if (*v >= 0x80) {
			size_t n = utf8_len(v, strlen((const char *)v));

			if (!n)
				return 1;
			v += n - 1;
		}
	}
	return 0;
}

/* The escaped form of the character at V: sets *OUT (ESC or V itself) and returns its
 * length; *ADV gets the number of input bytes it stands for. */
static size_t escape_unit(const unsigned char *v, char esc[8], const char **out, size_t *adv)
{
	size_t n;

	*out = esc;
	*adv = 1;
	if (*v == '"' || *v == '\\') {
		esc[0] = '\\';
		esc[1] = (char)*v;
		return 2;
	}
	if (*v == '\n' || *v == '\r' || *v == '\t') {
		esc[0] = '\\';
		esc[1] = *v == '\n' ? 'n' : *v == '\r' ? 'r' : 't';
		return 2;
	}
	if (*v < 0x20 || *v == 0x7f)
		return (size_t)snprintf(esc, 8, "\\x%02X", *v);
	if (*v >= 0x80) {
		n = utf8_len(v, strlen((const char *)v));
		if (!n)
			return (size_t)snprintf(esc, 8, "\\x%02X", *v);
		*out = (const char *)v;
		*adv = n;
		return n;
	}
	*out = (const char *)v;
	return 1;
}

/* Append one value, escaped and quoted when needed, in at most BUDGET bytes (at least 5);
 * a value that does not fit is cut at a character boundary and ends in "…". */
static void put_value(struct line *l, const char *value, size_t budget)
{
	const unsigned char *v;
	int quote = needs_quotes((const unsigned char *)value);
	size_t full = quote ? 2 : 0, max = l->len + budget, reserve, n, adv;
	const char *s;
	char esc[8];
	int cut;

	for (v = (const unsigned char *)value; *v; v += adv)
		full += escape_unit(v, esc, &s, &adv);
	cut = full > budget;
	/* Room kept for what closes the value: the quote, and "…" when it is cut. */
	reserve = (quote ? 1 : 0) + (cut ? sizeof(ellipsis) - 1 : 0);
	if (quote)
		put(l, "\"", 1);
	for (v = (const unsigned char *)value; *v; v += adv) {
		n = escape_unit(v, esc, &s, &adv);
		if (l->len + n + reserve > max)
			break;
		put(l, s, n);
	}
	if (cut)
		put(l, ellipsis, sizeof(ellipsis) - 1);
	if (quote)
		put(l, "\"", 1);
}

/* Keys, the program and the event come from our code, but keep each one logfmt token. */
static int put_token(struct line *l, const char *t)
{
	if (!t || !*t)
		return put(l, "_", 1);
	for (; *t; t++) {
		char c = *t;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == ':'))
			c = '_';
		if (put(l, &c, 1) != 0)
			return -1;
	}
	return 0;
}

size_t calllog_format(char *buf, size_t cap, const struct timespec *when,
		      const char *prog, const char *event, const char *const *kv)
{
	struct line l;
	struct timespec now;
	struct tm tm;
	char ts[64];
	size_t i, n, hard, soft;
	int dropped = 0;

	if (!buf || cap == 0)
		return 0;
	if (cap > CALLLOG_LINE_MAX)
		cap = CALLLOG_LINE_MAX;
	if (cap < 2) {
		buf[0] = '\0';
		return 0;
	}
	l.buf = buf;
	l.len = 0;
	hard = l.lim = cap - 2;   /* room for '\n' and the NUL */
	/* Pairs end 4 bytes early so a line that had to leave some out can end in " …". */
	soft = hard > 4 ? hard - 4 : 0;

	if (!when) {
		clock_gettime(CLOCK_REALTIME, &now);
		when = &now;
	}
	if (!gmtime_r(&when->tv_sec, &tm))
		memset(&tm, 0, sizeof(tm));
	n = (size_t)snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec, (long)(when->tv_nsec / 1000000) % 1000);
	put(&l, ts, n < sizeof(ts) ? n : sizeof(ts) - 1);
	put_token(&l, prog);
	put(&l, " ", 1);
	put_token(&l, event);

	for (i = 0; kv && kv[i]; i += 2) {
		size_t before = l.len, budget, j, end;

		if (!kv[i + 1])
			continue;
		/* The last pair may use the 4 bytes kept for " …": nothing can follow it. */
		for (j = i + 2; kv[j] && !kv[j + 1]; j += 2)
			;
		end = kv[j] ? soft : hard;
		l.lim = end;
		/* " key=" and at least a quoted "…" (5 bytes) must fit, or the pair is left out. */
		if (put(&l, " ", 1) != 0 || put_token(&l, kv[i]) != 0 || put(&l, "=", 1) != 0 ||
		    l.len + 5 > end) {
			l.len = before;
			dropped = 1;
			break;
		}
		budget = end - l.len;
		if (budget > CALLLOG_VALUE_MAX)
			budget = CALLLOG_VALUE_MAX;
		put_value(&l, kv[i + 1], budget);
	}
	l.lim = hard;
	if (dropped && l.len + 1 + sizeof(ellipsis) - 1 <= l.lim) {
		put(&l, " ", 1);
		put(&l, ellipsis, sizeof(ellipsis) - 1);
	}
	buf[l.len++] = '\n';
	buf[l.len] = '\0';
	return l.len;
}

int calllog_append(const char *dir, const char *callsid, const char *prog,
		   const char *event, const char *const *kv)
{
	char path[4096], line[CALLLOG_LINE_MAX], shortw[64], ebuf[128];
	const char *why;
	struct stat st;
	size_t len;
	ssize_t w;
	int fd, tries, created = 0;

	if (!calllog_valid_callsid(callsid)) {
		/* The sid would name a file: refuse before touching the file system, and do not
		 * print it raw (it is peer input). */
		fprintf(stderr, "callpipe: call log: invalid CallSid (line dropped: %s)\n",
			event ? event : "?");
		return -1;
	}
	if (!dir || snprintf(path, sizeof(path), "%s/%s.log", dir, callsid) >= (int)sizeof(path)) {
		fprintf(stderr, "callpipe: call log %s/%s.log: %s (line dropped: %s)\n",
			dir ? dir : "(no directory)", callsid,
			dir ? "File name too long" : "no directory", event ? event : "?");
		return -1;
	}
	len = calllog_format(line, sizeof(line), NULL, prog, event, kv);

	/* Create it 0640 if missing; otherwise open the existing file. Never follow a symlink,
	 * and never block on a FIFO someone left there (O_NONBLOCK; no effect on files). */
	for (tries = 0; tries < 3; tries++) {
		fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
			  0640);
		if (fd >= 0) {
			created = 1;
			break;
		}
		if (errno != EEXIST)
			break;
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd >= 0 || errno != ENOENT)   /* ENOENT: removed in between, try again */
			break;
	}
	if (fd < 0)
		goto fail;
	if (created && fchmod(fd, 0640) != 0)
		goto fail_fd;
	if (!created) {
		if (fstat(fd, &st) != 0)
			goto fail_fd;
		if (!S_ISREG(st.st_mode)) {
			close(fd);
			why = "not a regular file";
			goto fail_why;
		}
	}
	do {
		w = write(fd, line, len);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		goto fail_fd;
	if ((size_t)w != len) {
		close(fd);
		snprintf(shortw, sizeof(shortw), "short write (%zd of %zu bytes)", w, len);
		why = shortw;
		goto fail_why;
	}
	/* The data is in the file once write() returned; close() errors cannot undo it. */
	close(fd);
	return 0;
fail_fd:
	{
		int e = errno;

		close(fd);
		errno = e;
	}
fail:
	why = strerror_r(errno, ebuf, sizeof(ebuf));   /* GNU: thread-safe, returns the text */
fail_why:
	fprintf(stderr, "callpipe: call log %s: %s (line dropped: %s)\n", path, why,
		event ? event : "?");
	return -1;
}
