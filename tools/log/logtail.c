/* logtail: `callpipe-log tail`, following new lines across every call log in a directory
 * (new files too) with inotify, or polling where inotify is unavailable; bounded memory. */
#include "logtail.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "calllog.h"
#include "lineread.h"

/* Files followed at once: the table starts at 1024 and doubles up to 65536 entries (about
 * 5 MiB), far above [ws] max_calls (default 4096) calls being written at the same time.
 * A file not written for TAIL_IDLE_MS is forgotten when room is needed, and picked up
 * again by time if it is written to later: its old lines are older than the TAIL_SLACK_MS
 * window, so none is printed twice. Only with more than 65536 files written within that
 * minute would a recently written one be forgotten (and a line perhaps repeated). */
#define TAIL_FILES_MIN 1024
#define TAIL_FILES_MAX 65536
#define TAIL_IDLE_MS 60000
/* A file first seen while following (not written since before the tail began) is read from
 * its last 64 KiB at most: enough for the lines of the last seconds of any call. */
#define TAIL_WINDOW 65536
/* A line's timestamp is taken just before its write(); allow for that and for the time
 * between a write and our look at the file. */
#define TAIL_SLACK_MS 2000
/* inotify events are read in one go; repeated events for one file are merged. */
#define TAIL_EVBUF 65536
#define TAIL_BATCH 256
/* "CA" + 32 hex + ".log" */
#define TAIL_NAME_LEN 38

struct tfile {
	char name[TAIL_NAME_LEN + 1];
	dev_t dev;
	ino_t ino;
	off_t off;		/* everything before this was printed (or was there at start) */
	long long touched_ms;
};

struct held {			/* one line kept for the first -n output */
	long long ts;
	unsigned long long seq;
	char sid[36];
	char *text;
	size_t len;
};

struct heap {
	struct held *v;
	size_t n, cap;
	unsigned long long seq;
};

struct tail {
	const struct logtail_opts *o;
	int dirfd;
	DIR *dir;
	struct tfile *files;
	size_t nfiles, cap;
	uint32_t *index;	/* open addressing on the name: entry number + 1, 0 free */
	size_t icap;		/* 2 * cap, a power of two */
	long long start_ms, prev_ms;
	struct logparse_line *ln;
	char names[TAIL_BATCH][TAIL_NAME_LEN + 1];	/* one inotify batch, merged */
	unsigned char fresh[TAIL_BATCH];		/* created since the tail began */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static long long mtime_ms(const struct stat *st)
{
	return st->st_mtim.tv_sec * 1000LL + st->st_mtim.tv_nsec / 1000000;
}

void logtail_print_event(FILE *out, const struct logparse_line *ln)
{
	size_t w;

	logparse_fput(out, ln->prog, strlen(ln->prog));
	for (w = logparse_width(ln->prog); w < 4; w++)
		fputc(' ', out);
	fputs("  ", out);
	logparse_fput(out, ln->event, strlen(ln->event));
	if (ln->kv_text[0]) {
		/* "incoming_call" and "stream_status" are the longest events the programs
		 * write (docs/LOGS.md); pad to one more so the pairs line up. */
		for (w = logparse_width(ln->event); w < 14; w++)
			fputc(' ', out);
		fputs(" ", out);
		logparse_fput(out, ln->kv_text, strlen(ln->kv_text));
	}
	fputc('\n', out);
}

void logtail_print_malformed(FILE *out, const char *reason, const char *raw, size_t len,
			     int cut)
{
	fputs("[malformed: ", out);
	logparse_fput(out, reason, strlen(reason));
	if (cut)
		fprintf(out, "; cut at %d bytes", LOGPARSE_LINE_MAX);
	fputs("]  ", out);
	logparse_fput(out, raw, len);
	fputc('\n', out);
}

/* SID gets the CallSid when NAME is a call log ("CA…32 hex….log") this tail follows. */
static int call_name(const struct tail *t, const char *name, char sid[36])
{
	size_t len = strlen(name);

	if (len != TAIL_NAME_LEN || strcmp(name + 34, ".log") != 0)
		return 0;
	memcpy(sid, name, 34);
	sid[34] = '\0';
	if (!calllog_valid_callsid(sid))
		return 0;
	return !t->o->callsid || strcmp(sid, t->o->callsid) == 0;
}

/* Print one line of call SID, unless it is older than THRESHOLD (-1: print all). */
static void emit(struct tail *t, const char *sid, const char *s, size_t len, int flags,
		 long long threshold)
{
	char err[128];
	int ok = logparse_line(t->ln, s, len, err, sizeof(err)) == 0;

	/* Catching up by time: undated lines cannot be placed, and a line from the future
	 * (a clock set back since) was not written just now either. */
	if (threshold >= 0 && (!ok || t->ln->ts_ms < threshold ||
			       t->ln->ts_ms > now_ms() + TAIL_SLACK_MS))
		return;
	fprintf(t->o->out, "%s  ", sid);
	if (ok) {
		fprintf(t->o->out, "%s  ", t->ln->ts);
		logtail_print_event(t->o->out, t->ln);
	} else {
		logtail_print_malformed(t->o->out, err, s, len, flags & LINEREAD_CUT);
	}
}

static int held_less(const struct held *a, const struct held *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->seq < b->seq);
}

static int held_cmp(const void *a, const void *b)
{
	return held_less(a, b) ? -1 : held_less(b, a) ? 1 : 0;
}

static void heap_swap(struct heap *h, size_t i, size_t j)
{
	struct held x = h->v[i];

	h->v[i] = h->v[j];
	h->v[j] = x;
}

static void heap_down(struct heap *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->n && held_less(&h->v[l], &h->v[m]))
			m = l;
		if (r < h->n && held_less(&h->v[r], &h->v[m]))
			m = r;
		if (m == i)
			return;
		heap_swap(h, i, m);
		i = m;
	}
}

/* Keep the CAP newest lines: a min-heap on (time, order read). */
static void heap_push(struct heap *h, long long ts, const char *sid, const char *s, size_t len)
{
	struct held x = { .ts = ts, .seq = h->seq++ };

	if (h->n == h->cap && !held_less(&h->v[0], &x))
		return;
	x.text = malloc(len ? len : 1);
	if (!x.text)
		return;
	memcpy(x.text, s, len);
	x.len = len;
	snprintf(x.sid, sizeof(x.sid), "%s", sid);
	if (h->n == h->cap) {
		free(h->v[0].text);
		h->v[0] = x;
		heap_down(h, 0);
		return;
	}
	h->v[h->n] = x;
	for (size_t i = h->n++; i > 0 && held_less(&h->v[i], &h->v[(i - 1) / 2]);
	     i = (i - 1) / 2)
		heap_swap(h, i, (i - 1) / 2);
}

/* Read FD's whole lines in [FROM, TO); print them (or keep them in H). SKIP_FIRST drops
 * the first line (the reader started inside it). Returns the offset after the last whole
 * line: a line still being written stays for the next round. */
static off_t read_lines(struct tail *t, int fd, const char *sid, off_t from, off_t to,
			int skip_first, long long threshold, struct heap *h)
{
	struct lineread *lr;
	const char *s;
	size_t len;
	int flags;
	off_t done = from;
	long long last_ts = -1;

	if (to <= from || lseek(fd, from, SEEK_SET) < 0)
		return from;
	lr = lineread_new(fd, from, LOGPARSE_LINE_MAX, to - from);
	if (!lr)
		return from;
	while (lineread_next(lr, &s, &len, &flags) == 1) {
		if (flags & LINEREAD_NOEOL)
			break;
		done = lineread_offset(lr);
		if (skip_first) {
			skip_first = 0;
			continue;
		}
		if (h) {
			/* An undated line sorts with the line before it. */
			if (logparse_line(t->ln, s, len, NULL, 0) == 0)
				last_ts = t->ln->ts_ms;
			heap_push(h, last_ts, sid, s, len);
		} else {
			emit(t, sid, s, len, flags, threshold);
		}
	}
	lineread_free(lr);
	return done;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct tfile *find_file(struct tail *t, const char *name)
{
	size_t mask = t->icap - 1;

	for (size_t i = name_hash(name) & mask; t->index[i]; i = (i + 1) & mask)
		if (strcmp(t->files[t->index[i] - 1].name, name) == 0)
			return &t->files[t->index[i] - 1];
	return NULL;
}

static void index_insert(struct tail *t, size_t entry)
{
	size_t mask = t->icap - 1, i = name_hash(t->files[entry].name) & mask;

	while (t->index[i])
		i = (i + 1) & mask;
	t->index[i] = (uint32_t)entry + 1;
}

static void index_rebuild(struct tail *t)
{
	memset(t->index, 0, t->icap * sizeof(*t->index));
	for (size_t i = 0; i < t->nfiles; i++)
		index_insert(t, i);
}

/* Room for one more file: forget idle ones, else grow, else forget the least recent. */
static int make_room(struct tail *t)
{
	long long idle = now_ms() - TAIL_IDLE_MS;
	size_t k = 0, lru = 0;

	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].touched_ms >= idle)
			t->files[k++] = t->files[i];
	if (k < t->nfiles) {
		t->nfiles = k;
		index_rebuild(t);
		return 0;
	}
	if (t->cap < TAIL_FILES_MAX) {
		struct tfile *nf = realloc(t->files, 2 * t->cap * sizeof(*nf));
		uint32_t *ni;

		if (!nf)
			return -1;
		t->files = nf;
		ni = realloc(t->index, 4 * t->cap * sizeof(*ni));
		if (!ni)
			return -1;
		t->index = ni;
		t->cap *= 2;
		t->icap = 2 * t->cap;
		index_rebuild(t);
		return 0;
	}
	for (size_t i = 1; i < t->nfiles; i++)
		if (t->files[i].touched_ms < t->files[lru].touched_ms)
			lru = i;
	t->files[lru] = t->files[--t->nfiles];
	index_rebuild(t);
	return 0;
}

/* A new entry for NAME (never NULL: when memory runs out the table stays as it is and the
 * least recent entry is reused). Pointers to other entries are invalid afterwards. */
static struct tfile *add_file(struct tail *t, const char *name, const struct stat *st)
{
	struct tfile *f;

	if (t->nfiles == t->cap && make_room(t) < 0) {
		size_t lru = 0;

		for (size_t i = 1; i < t->nfiles; i++)
			if (t->files[i].touched_ms < t->files[lru].touched_ms)
				lru = i;
		t->files[lru] = t->files[--t->nfiles];
		index_rebuild(t);
	}
	f = &t->files[t->nfiles];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->touched_ms = now_ms();
	index_insert(t, t->nfiles++);
	return f;
}

static int open_log(struct tail *t, const char *name, struct stat *st)
{
	/* O_NONBLOCK: a FIFO planted in the directory must not hang the viewer. */
	int fd = openat(t->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* NAME changed (or may have: PRE is its lstat from a scan, NULL after an inotify event).
 * FRESH: inotify saw it created after the tail began, so all of it is new. */
static void follow_file(struct tail *t, const char *name, const struct stat *pre, int fresh)
{
	struct tfile *f = find_file(t, name);
	long long threshold = -1;
	struct stat st;
	char sid[36];
	off_t from;
	int fd, skip = 0;

	if (!call_name(t, name, sid))
		return;
	if (pre) {
		if (!S_ISREG(pre->st_mode))
			return;
		if (f && f->ino == pre->st_ino && f->dev == pre->st_dev &&
		    f->off == pre->st_size)
			return;
		if (!f && mtime_ms(pre) < t->prev_ms - TAIL_SLACK_MS)
			return;
	}
	fd = open_log(t, name, &st);
	if (fd < 0)
		return;
	if (!f && fresh) {
		f = add_file(t, name, &st);
		from = 0;
	} else if (!f) {
		/* Not followed yet but written to since the last look: print what was
		 * written since then (by the lines' own time), not what was there before. */
		if (mtime_ms(&st) < t->prev_ms - TAIL_SLACK_MS) {
			close(fd);
			return;
		}
		f = add_file(t, name, &st);
		threshold = t->prev_ms - TAIL_SLACK_MS;
		if (threshold < t->start_ms)
			threshold = t->start_ms;
		from = st.st_size > TAIL_WINDOW ? st.st_size - TAIL_WINDOW - 1 : 0;
		skip = from > 0;
	} else if (f->ino != st.st_ino || f->dev != st.st_dev || st.st_size < f->off) {
		f->dev = st.st_dev;	/* replaced or truncated: it is all new */
		f->ino = st.st_ino;
		from = 0;
	} else {
		from = f->off;
	}
	f->off = read_lines(t, fd, sid, from, st.st_size, skip, threshold, NULL);
	f->touched_ms = now_ms();
	close(fd);
}

static int scan(struct tail *t)
{
	struct dirent *de;

	rewinddir(t->dir);
	while ((errno = 0, de = readdir(t->dir))) {
		struct stat st;
		char sid[36];

		if (!call_name(t, de->d_name, sid))
			continue;
		if (fstatat(t->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			follow_file(t, de->d_name, &st, 0);
	}
	return errno ? -1 : 0;
}

struct cand {
	char name[TAIL_NAME_LEN + 1];
	long long mtime;
};

/* Print the newest N lines across all calls, and start following those files. */
static int initial(struct tail *t, int n)
{
	struct cand *c = calloc((size_t)n, sizeof(*c));
	struct heap h = { .cap = (size_t)n };
	size_t nc = 0;
	struct dirent *de;
	int rc = 0;

	h.v = calloc((size_t)n, sizeof(*h.v));
	if (!c || !h.v) {
		free(c);
		free(h.v);
		return -1;
	}
	/* The newest N lines live in at most the N most recently written files (a line's
	 * time is taken just before its write; two writers within a millisecond may swap). */
	rewinddir(t->dir);
	while ((errno = 0, de = readdir(t->dir))) {
		struct stat st;
		char sid[36];
		size_t i;

		if (!call_name(t, de->d_name, sid) ||
		    fstatat(t->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (nc == (size_t)n && mtime_ms(&st) <= c[nc - 1].mtime)
			continue;
		i = nc < (size_t)n ? nc++ : nc - 1;
		for (; i > 0 && c[i - 1].mtime < mtime_ms(&st); i--)
			c[i] = c[i - 1];
		memcpy(c[i].name, de->d_name, TAIL_NAME_LEN + 1);	/* call_name() checked */
		c[i].mtime = mtime_ms(&st);
	}
	if (errno)
		rc = -1;
	for (size_t i = 0; i < nc; i++) {
		/* A line's time is before its file's mtime: older files cannot help. */
		struct stat st;
		struct tfile *f;
		off_t from, window = (off_t)n * 512 > TAIL_WINDOW ? (off_t)n * 512 : TAIL_WINDOW;
		char sid[36];
		int fd;

		if (h.n == h.cap && c[i].mtime < h.v[0].ts)
			break;
		fd = open_log(t, c[i].name, &st);
		if (fd < 0)
			continue;
		call_name(t, c[i].name, sid);
		from = st.st_size > window ? st.st_size - window - 1 : 0;
		f = add_file(t, c[i].name, &st);
		f->off = read_lines(t, fd, sid, from, st.st_size, from > 0, -1, &h);
		f->touched_ms = now_ms();
		close(fd);
	}
	qsort(h.v, h.n, sizeof(*h.v), held_cmp);
	for (size_t i = 0; i < h.n; i++) {
		emit(t, h.v[i].sid, h.v[i].text, h.v[i].len, 0, -1);
		free(h.v[i].text);
	}
	free(h.v);
	free(c);
	return rc;
}

/* Read pending inotify events; follow each named file once. Returns 1 when a full scan is
 * needed (queue overflow, too many names), -1 when the directory went away, else 0. */
static int drain_events(struct tail *t, int ifd)
{
	char (*names)[TAIL_NAME_LEN + 1] = t->names;
	char buf[TAIL_EVBUF] __attribute__((aligned(__alignof__(struct inotify_event))));
	size_t nn = 0;
	int full = 0, gone = 0;

	for (;;) {
		ssize_t r = read(ifd, buf, sizeof(buf));

		if (r <= 0)
			break;
		for (char *p = buf; p < buf + r;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			size_t i;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW)
				full = 1;
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
				gone = 1;
			if (!ev->len || strlen(ev->name) != TAIL_NAME_LEN)
				continue;
			for (i = 0; i < nn && strcmp(names[i], ev->name) != 0; i++)
				;
			if (i == nn) {
				if (nn == TAIL_BATCH) {
					full = 1;
					continue;
				}
				memcpy(names[nn], ev->name, TAIL_NAME_LEN + 1);
				t->fresh[nn++] = 0;
			}
			if (ev->mask & (IN_CREATE | IN_MOVED_TO))
				t->fresh[i] = 1;
		}
	}
	if (gone)
		return -1;
	if (full)
		return 1;
	for (size_t i = 0; i < nn; i++)
		follow_file(t, names[i], NULL, t->fresh[i]);
	return 0;
}

int logtail_run(const struct logtail_opts *o, char *err, size_t errlen)
{
	struct tail t = { .o = o, .dirfd = -1 };
	int ifd = -1, rc = -1, fd;

	if (err && errlen)
		err[0] = '\0';
	t.dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t.dirfd < 0) {
		snprintf(err, errlen, "%s: %s", o->dir, strerror(errno));
		return -1;
	}
	fd = dup(t.dirfd);
	t.dir = fd >= 0 ? fdopendir(fd) : NULL;
	t.cap = TAIL_FILES_MIN;
	t.icap = 2 * t.cap;
	t.files = calloc(t.cap, sizeof(*t.files));
	t.index = calloc(t.icap, sizeof(*t.index));
	t.ln = malloc(sizeof(*t.ln));
	if (!t.dir || !t.files || !t.index || !t.ln) {
		snprintf(err, errlen, "%s: %s", o->dir, strerror(errno ? errno : ENOMEM));
		if (!t.dir && fd >= 0)
			close(fd);
		goto done;
	}
	t.start_ms = t.prev_ms = now_ms();
	if (!o->once && !o->poll) {
		/* Watch before the first read so nothing written meanwhile is missed. */
		ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (ifd >= 0 && inotify_add_watch(ifd, o->dir, IN_MODIFY | IN_CREATE |
						  IN_MOVED_TO | IN_DELETE_SELF |
						  IN_MOVE_SELF | IN_ONLYDIR) < 0) {
			close(ifd);
			ifd = -1;
		}
	}
	if (o->lines > 0 && initial(&t, o->lines) < 0) {
		snprintf(err, errlen, "%s: %s", o->dir, strerror(errno ? errno : ENOMEM));
		goto done;
	}
	/* Lines written after start_ms but before the watch existed had no event: one scan
	 * picks them up (by time), so nothing written after the start is missed. */
	if (!o->once && scan(&t) < 0) {
		snprintf(err, errlen, "%s: %s", o->dir, strerror(errno));
		goto done;
	}
	fflush(o->out);
	while (!o->once && !*o->stop) {
		long long round = now_ms();
		int r = 0;

		if (ifd >= 0) {
			struct pollfd p = { .fd = ifd, .events = POLLIN };

			if (poll(&p, 1, 500) > 0)
				r = drain_events(&t, ifd);
			if (r < 0) {
				snprintf(err, errlen, "%s was removed or moved", o->dir);
				goto done;
			}
		} else {
			poll(NULL, 0, o->interval_ms > 0 ? o->interval_ms : 250);
			r = 1;
		}
		if (r == 1 && scan(&t) < 0) {
			snprintf(err, errlen, "%s: %s", o->dir, strerror(errno));
			goto done;
		}
		t.prev_ms = round;
		if (fflush(o->out) == EOF || ferror(o->out)) {
			snprintf(err, errlen, "writing output: %s", strerror(errno));
			goto done;
		}
	}
	rc = 0;
done:
	if (ifd >= 0)
		close(ifd);
	if (t.dir)
		closedir(t.dir);
	close(t.dirfd);
	free(t.files);
	free(t.index);
	free(t.ln);
	return rc;
}
