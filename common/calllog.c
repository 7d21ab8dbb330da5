/* calllog: per-call log lines (docs/DESIGN.md §1.2): UTC time, program, event, logfmt pairs
 * (escaped by logesc), each written whole or not at all under flock() (see calllog_write). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "bytebuf.h"
#include "calllog.h"
#include "logesc.h"
#include "ratelimit.h"
#include "strutil.h"

/* No single value may take more than this, so one long value cannot crowd out the pairs
 * after it (sig=, reason=…); the line as a whole is still capped at CALLLOG_LINE_MAX. */
#define CALLLOG_VALUE_MAX (CALLLOG_LINE_MAX / 2)

static const char ellipsis[] = "\xe2\x80\xa6";   /* U+2026 "…", 3 bytes */

/* Failures to write a call log go to stderr; a full disk must not flood it too. */
static struct ratelimit fail_limit = RATELIMIT_INIT(RATELIMIT_LINES_PER_S);
/* Bumped by calllog_reopen_all(); a handle opened under an older value reopens its file. */
static unsigned reopen_gen;

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

size_t calllog_format(char *buf, size_t cap, const struct timespec *when,
		      const char *prog, const char *event, const char *const *kv)
{
	struct bytebuf l;
	struct timespec now;
	struct tm tm;
	size_t i, hard, soft;
	int dropped = 0;

	if (!buf || cap == 0)
		return 0;
	if (cap > CALLLOG_LINE_MAX)
		cap = CALLLOG_LINE_MAX;
	if (cap < 2) {
		buf[0] = '\0';
		return 0;
	}
	/* Content only: '\n' and the NUL go after it. LIMIT moves (max) as pairs are placed. */
	bytebuf_init_fixed(&l, buf, cap - 2);
	hard = cap - 2;
	/* Pairs end 4 bytes early so a line that had to leave some out can end in " …". */
	soft = hard > 4 ? hard - 4 : 0;

	if (!when) {
		clock_gettime(CLOCK_REALTIME, &now);
		when = &now;
	}
	if (!gmtime_r(&when->tv_sec, &tm))
		memset(&tm, 0, sizeof(tm));
	bytebuf_printf(&l, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ", tm.tm_year + 1900,
		       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		       (long)(when->tv_nsec / 1000000) % 1000);
	logesc_token(&l, prog);
	bytebuf_putc(&l, ' ');
	logesc_token(&l, event);

	for (i = 0; kv && kv[i]; i += 2) {
		size_t j, end, budget;

		if (!kv[i + 1])
			continue;
		/* The last pair may use the 4 bytes kept for " …": nothing can follow it. */
		for (j = i + 2; kv[j] && !kv[j + 1]; j += 2)
			;
		end = kv[j] ? soft : hard;
		if (l.len > end)
			break;
		l.max = end;
		budget = end - l.len;
		if (budget > CALLLOG_VALUE_MAX)
			budget = CALLLOG_VALUE_MAX;
		/* logesc_kv leaves the pair out whole when " key=" and a quoted "…" do not fit. */
		if (logesc_kv(&l, kv[i], kv[i + 1], budget) != 0) {
			dropped = 1;
			break;
		}
	}
	l.max = hard;
	if (dropped && bytebuf_room(&l) >= 1 + sizeof(ellipsis) - 1) {
		bytebuf_putc(&l, ' ');
		bytebuf_add(&l, ellipsis, sizeof(ellipsis) - 1);
	}
	buf[l.len++] = '\n';
	buf[l.len] = '\0';
	return l.len;
}

/* The event of a formatted line (its third word), for failure reports. */
static void line_event(const char *line, size_t len, char *out, size_t cap)
{
	size_t i = 0, words = 0, o = 0;

	while (i < len && words < 2)
		if (line[i++] == ' ')
			words++;
	while (i < len && line[i] != ' ' && line[i] != '\n' && o + 1 < cap)
		out[o++] = line[i++];
	out[o] = '\0';
	if (!o)
		snprintf(out, cap, "?");
}

static void report(const char *path, const char *why, const char *line, size_t len)
{
	char msg[CALLLOG_PATH_MAX + 256], event[48];
	int n;

	line_event(line, len, event, sizeof(event));
	n = snprintf(msg, sizeof(msg), "callpipe: call log %s: %s (line dropped: %s)\n", path, why,
		     event);
	if (n > 0)
		ratelimit_stderr(&fail_limit, "callpipe: call log",
				 msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

int calllog_write(int fd, const char *line, size_t len, char *err, size_t errlen)
{
	struct stat st;
	size_t done = 0;
	int rc = 0, e = 0;

	/* Both programs append to the file: the lock makes "note the size, write, cut back"
	 * one step, so neither a reader nor the other writer ever sees half a line. */
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			strutil_seterr(err, errlen, "flock: %s", strerror(errno));
			return -1;
		}
	}
	if (fstat(fd, &st) != 0) {
		strutil_seterr(err, errlen, "fstat: %s", strerror(errno));
		flock(fd, LOCK_UN);
		return -1;
	}
	while (done < len) {
		ssize_t w = write(fd, line + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = w < 0 ? errno : EIO;
			rc = -1;
			break;
		}
		done += (size_t)w;
	}
	if (rc != 0) {
		/* A full disk or RLIMIT_FSIZE: write() took part of the line. Take it back, so
		 * the file still ends in '\n' and the next line is not glued to a fragment. */
		if (done && ftruncate(fd, st.st_size) != 0)
			strutil_seterr(err, errlen, "%s after %zu of %zu bytes, and ftruncate back "
				       "failed: %s", strerror(e), done, len, strerror(errno));
		else
			strutil_seterr(err, errlen, "%s (%zu of %zu bytes written, taken back)",
				       strerror(e), done, len);
	}
	flock(fd, LOCK_UN);
	return rc;
}

/* Open (creating 0640 when CREATE) the log file at PATH for appending. Never follows a
 * symlink, never blocks on a FIFO someone left there (O_NONBLOCK; no effect on files), and
 * refuses anything but a regular file. The fd, or -1 with err. */
static int open_log(const char *path, int create, char *err, size_t errlen)
{
	struct stat st;
	int fd = -1, tries, created = 0;

	for (tries = 0; tries < 3; tries++) {
		if (create) {
			fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_APPEND | O_CLOEXEC |
				  O_NOFOLLOW, 0640);
			if (fd >= 0) {
				created = 1;
				break;
			}
			if (errno != EEXIST)
				break;
		}
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd >= 0 || errno != ENOENT || !create)   /* ENOENT: removed in between */
			break;
	}
	if (fd < 0) {
		strutil_seterr(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (created && fchmod(fd, 0640) != 0) {
		strutil_seterr(err, errlen, "fchmod: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!created && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		strutil_seterr(err, errlen, "not a regular file");
		close(fd);
		return -1;
	}
	return fd;
}

/* DIR/SID.log into PATH, or -1 after a report on stderr. */
static int log_path(char *path, size_t cap, const char *dir, const char *callsid,
		    const char *event)
{
	char msg[CALLLOG_PATH_MAX + 128];
	int n;

	if (!calllog_valid_callsid(callsid)) {
		/* The sid would name a file: refuse before touching the file system, and do not
		 * print it (it is peer input). */
		n = snprintf(msg, sizeof(msg), "callpipe: call log: invalid CallSid (line dropped: "
			     "%.40s)\n", event ? event : "?");
		ratelimit_stderr(&fail_limit, "callpipe: call log", msg, (size_t)n);
		return -1;
	}
	if (!dir || snprintf(path, cap, "%s/%s.log", dir, callsid) >= (int)cap) {
		n = snprintf(msg, sizeof(msg), "callpipe: call log %.3900s/%s.log: %s (line "
			     "dropped: %.40s)\n", dir ? dir : "(no directory)", callsid,
			     dir ? "File name too long" : "no directory", event ? event : "?");
		if (n > 0)
			ratelimit_stderr(&fail_limit, "callpipe: call log", msg,
					 (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
		return -1;
	}
	return 0;
}

int calllog_append(const char *dir, const char *callsid, const char *prog,
		   const char *event, const char *const *kv)
{
	char path[CALLLOG_PATH_MAX], line[CALLLOG_LINE_MAX], err[256];
	size_t len;
	int fd, rc;

	if (log_path(path, sizeof(path), dir, callsid, event) != 0)
		return -1;
	len = calllog_format(line, sizeof(line), NULL, prog, event, kv);
	fd = open_log(path, 1, err, sizeof(err));
	if (fd < 0) {
		report(path, err, line, len);
		return -1;
	}
	rc = calllog_write(fd, line, len, err, sizeof(err));
	if (rc != 0)
		report(path, err, line, len);
	/* The data is in the file once write() returned; close() errors cannot undo it. */
	close(fd);
	return rc;
}

/* --- handles ------------------------------------------------------------------------- */

struct calllog_file {
	int refs;           /* atomic: the owner and each queued line hold one */
	int fd;             /* -1 until the first write, and after a failed open */
	unsigned gen;       /* reopen_gen when FD was opened */
	char path[];
};

struct calllog_file *calllog_file_new(const char *dir, const char *callsid)
{
	char path[CALLLOG_PATH_MAX];
	struct calllog_file *f;

	if (log_path(path, sizeof(path), dir, callsid, "open") != 0)
		return NULL;
	f = malloc(sizeof(*f) + strlen(path) + 1);
	if (!f)
		return NULL;
	f->refs = 1;
	f->fd = -1;
	f->gen = 0;
	memcpy(f->path, path, strlen(path) + 1);
	return f;
}

struct calllog_file *calllog_file_ref(struct calllog_file *f)
{
	if (f)
		__atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
	return f;
}

void calllog_file_unref(struct calllog_file *f)
{
	if (!f || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

int calllog_file_write(struct calllog_file *f, const char *line, size_t len)
{
	unsigned gen = __atomic_load_n(&reopen_gen, __ATOMIC_ACQUIRE);
	char err[256];

	if (f->fd >= 0 && f->gen != gen) {
		close(f->fd);
		f->fd = -1;
	}
	if (f->fd < 0) {
		f->fd = open_log(f->path, 1, err, sizeof(err));
		if (f->fd < 0) {
			report(f->path, err, line, len);
			return -1;
		}
		f->gen = gen;
	}
	if (calllog_write(f->fd, line, len, err, sizeof(err)) != 0) {
		report(f->path, err, line, len);
		return -1;
	}
	return 0;
}

void calllog_reopen_all(void)
{
	__atomic_add_fetch(&reopen_gen, 1, __ATOMIC_RELEASE);
}
