/* test_calllog: line format (timestamp, logfmt quoting and escaping, cutting at the line
 * limit), CallSid checks, and appends: modes, refusals, failures, concurrent writers, short
 * writes taken back (RLIMIT_FSIZE), and handles (reopen). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "calllog.h"
#include "check.h"

#define SID "CA0123456789abcdef0123456789ABCDEF"

static char dir[] = "/tmp/test_calllog.XXXXXX";
/* 2026-11-24T10:15:02.123Z */
static const struct timespec when = {1795515302, 123456789};

static const struct {
	const char *value, *want;
} quoting[] = {
	{"+15551234567", "k=+15551234567"},
	{"ok", "k=ok"},
	{"", "k=\"\""},
	{"two words", "k=\"two words\""},
	{"a\"b", "k=\"a\\\"b\""},
	{"a\\b", "k=\"a\\\\b\""},
	{"a=b", "k=\"a=b\""},
	{"line1\nline2", "k=\"line1\\nline2\""},
	{"cr\rtab\t", "k=\"cr\\rtab\\t\""},
	{"bell\a esc\x1b del\x7f", "k=\"bell\\x07 esc\\x1B del\\x7F\""},
	{"caf\xc3\xa9", "k=caf\xc3\xa9"},                     /* UTF-8 kept */
	{"\xe2\x9c\x93 ok", "k=\"\xe2\x9c\x93 ok\""},
	{"bad\xff", "k=\"bad\\xFF\""},                        /* invalid UTF-8 escaped */
	{"\xc0\xaf", "k=\"\\xC0\\xAF\""},                     /* overlong '/' */
	{"\xed\xa0\x80", "k=\"\\xED\\xA0\\x80\""},            /* surrogate */
	{"\xc2\x9b[2J", "k=\"\\xC2\\x9B[2J\""},               /* C1 CSI: escaped */
	{"\xf0\x9f\x93\x9e", "k=\xf0\x9f\x93\x9e"},            /* U+1F4DE kept */
	{"x\xe2\x80\xaey", "k=\"x\\xE2\\x80\\xAEy\""},        /* bidi RLO: escaped */
	{"a\xe2\x80\xa8" "b", "k=\"a\\xE2\\x80\\xA8b\""},     /* U+2028: escaped */
	{"https://h/ws/twilio-media", "k=https://h/ws/twilio-media"},
};

static void test_format(void)
{
	char buf[CALLLOG_LINE_MAX];
	const char *kv[] = {"from", "+15551234567", "to", "+15557654321", "skipped", NULL,
			    "sig", "ok", NULL};
	size_t n, i;

	n = calllog_format(buf, sizeof(buf), &when, "fcgi", "incoming_call", kv);
	CHECK_STR(buf, "2026-11-24T10:15:02.123Z fcgi incoming_call from=+15551234567 "
		  "to=+15557654321 sig=ok\n");
	CHECK(n == strlen(buf));
	n = calllog_format(buf, sizeof(buf), &when, "ws", "ws_done", NULL);
	CHECK_STR(buf, "2026-11-24T10:15:02.123Z ws ws_done\n");
	/* Milliseconds are truncated, never rounded up into the next second. */
	{
		struct timespec t = {0, 999999999};

		calllog_format(buf, sizeof(buf), &t, "ws", "e", NULL);
		CHECK_STR(buf, "1970-01-01T00:00:00.999Z ws e\n");
	}
	/* Without a time, the current one: same shape. */
	n = calllog_format(buf, sizeof(buf), NULL, "ws", "e", NULL);
	CHECK(n == 30 && buf[10] == 'T' && buf[23] == 'Z' && buf[19] == '.');
	/* Keys, program and event stay single tokens whatever the caller passes. */
	{
		const char *weird[] = {"bad key=", "v", "", "empty", NULL};

		calllog_format(buf, sizeof(buf), &when, "f cgi", "a\nb", weird);
		CHECK_STR(buf, "2026-11-24T10:15:02.123Z f_cgi a_b bad_key_=v _=empty\n");
	}
	for (i = 0; i < sizeof(quoting) / sizeof(quoting[0]); i++) {
		const char *one[] = {"k", quoting[i].value, NULL};
		char want[256];

		calllog_format(buf, sizeof(buf), &when, "fcgi", "e", one);
		snprintf(want, sizeof(want), "2026-11-24T10:15:02.123Z fcgi e %s\n", quoting[i].want);
		CHECK_STR(buf, want);
	}
	/* Every byte value 1..255 as a value: one line, no raw control character in it. */
	{
		unsigned b, bad = 0;

		for (b = 1; b < 256; b++) {
			char v[2] = {(char)b, 0};
			const char *one[] = {"k", v, NULL};
			size_t j;

			n = calllog_format(buf, sizeof(buf), &when, "fcgi", "e", one);
			for (j = 0; j + 1 < n; j++)
				if ((unsigned char)buf[j] < 0x20 || buf[j] == 0x7f)
					bad++;
			if (buf[n - 1] != '\n' || strlen(buf) != n)
				bad++;
		}
		CHECK_MSG(bad == 0, "no byte value puts a control character in the line");
	}
}

static int utf8_tail_ok(const char *buf, size_t n)
{
	/* The line ends in "…\n" or "…\"\n" and is valid up to there. */
	return n >= 4 && buf[n - 1] == '\n' &&
	       (memcmp(buf + n - 4, "\xe2\x80\xa6", 3) == 0 ||
		memcmp(buf + n - 5, "\xe2\x80\xa6\"", 4) == 0);
}

static void test_cut(void)
{
	static char big[20000], buf[CALLLOG_LINE_MAX + 100];
	size_t n, k;
	unsigned bad = 0;

	/* One huge value: cut, marked, and the pairs after it still there. */
	memset(big, 'x', sizeof(big) - 1);
	{
		const char *kv[] = {"a", big, "sig", "ok", NULL};

		n = calllog_format(buf, sizeof(buf), &when, "fcgi", "e", kv);
		CHECK(n < CALLLOG_LINE_MAX);
		CHECK(strstr(buf, "x\xe2\x80\xa6 sig=ok\n") != NULL);
	}
	/* Many huge values: the line stays under the limit and ends with " …". */
	{
		const char *kv[] = {"a", big, "b", big, "c", big, "d", big, "e", big, "f", big, NULL};

		n = calllog_format(buf, sizeof(buf), &when, "fcgi", "e", kv);
		CHECK(n <= CALLLOG_LINE_MAX - 1 && n == strlen(buf));
		CHECK(n > CALLLOG_LINE_MAX - 16);   /* the room was used */
		CHECK(memcmp(buf + n - 5, " \xe2\x80\xa6\n", 5) == 0);
	}
	/* A value that must be escaped is cut between escapes, never inside one, and the
	 * result stays valid UTF-8: try every cut point with a value of 3-byte characters
	 * and quotes, through small buffers. */
	for (k = 40; k < 200; k++) {
		char v[400];
		const char *kv[] = {"k", v, NULL};
		size_t j;

		for (j = 0; j + 4 < sizeof(v); j += 4)
			memcpy(v + j, "\xe2\x9c\x93\"", 4);
		v[j] = '\0';
		n = calllog_format(buf, k, &when, "fcgi", "e", kv);
		if (n > k - 1 || !utf8_tail_ok(buf, n))
			bad++;
		/* No dangling backslash before the closing quote. */
		if (n >= 6 && buf[n - 2] == '"' && buf[n - 6] == '\\' && buf[n - 7] != '\\')
			bad++;
	}
	CHECK_MSG(bad == 0, "cuts at every buffer size from 40 to 199 are clean");
	/* Exactly fitting values are not cut. */
	{
		const char *kv[] = {"k", "abc", NULL};

		n = calllog_format(buf, 41, &when, "fcgi", "e", kv);
		CHECK_STR(buf, "2026-11-24T10:15:02.123Z fcgi e k=abc\n");
	}
	/* Tiny buffers never overflow. */
	for (k = 0; k < 40; k++) {
		const char *kv[] = {"k", "value", NULL};

		memset(buf, 'Z', sizeof(buf));
		n = calllog_format(buf, k, &when, "fcgi", "e", kv);
		if ((k && n >= k) || buf[k] != 'Z' || (k && strlen(buf) != n))
			bad++;
	}
	CHECK_MSG(bad == 0, "buffers of 0..39 bytes are never overrun");
}

static void test_callsid(void)
{
	static const struct {
		const char *sid;
		int ok;
	} sids[] = {
		{SID, 1},
		{"CA00000000000000000000000000000000", 1},
		{"CAffffffffffffffffffffffffffffffff", 1},
		{"CA0123456789abcdef0123456789abcde", 0},     /* 31 hex */
		{"CA0123456789abcdef0123456789abcdef0", 0},   /* 33 hex */
		{"ca0123456789abcdef0123456789abcdef", 0},
		{"AC0123456789abcdef0123456789abcdef", 0},
		{"CA0123456789abcdef0123456789abcdeg", 0},
		{"CA../../../../../../../../etc/passwd", 0},
		{"CA0123456789abcdef/123456789abcdef", 0},
		{"CA0123456789abcdef.123456789abcdef", 0},
		{"", 0},
		{"CA", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(sids) / sizeof(sids[0]); i++)
		CHECK_MSG(calllog_valid_callsid(sids[i].sid) == sids[i].ok, sids[i].sid);
	CHECK(calllog_valid_callsid(NULL) == 0);
}

/* Run FN with stderr going to a file; returns what it printed. */
static char captured[2048];
static int with_stderr(int (*fn)(void *), void *arg)
{
	char path[300];
	int saved = dup(2), fd, rc;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stderr.txt", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	rc = fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, captured, sizeof(captured) - 1);
	captured[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return rc;
}

struct append_args {
	const char *dir, *sid;
};

static int do_append(void *p)
{
	struct append_args *a = p;
	const char *kv[] = {"from", "+15551234567", NULL};

	return calllog_append(a->dir, a->sid, "fcgi", "incoming_call", kv);
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, cap - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

static void test_append(void)
{
	char logs[300], path[400], buf[4096], want[600], err[300];
	struct append_args a;
	struct stat st;
	mode_t old;

	snprintf(logs, sizeof(logs), "%s/calls", dir);
	old = umask(0077);
	CHECK(calllog_prepare_dir(logs, err, sizeof(err)) == 0);
	CHECK(stat(logs, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0750);
	CHECK(calllog_prepare_dir(logs, err, sizeof(err)) == 0);   /* existing: fine */
	umask(0);
	a.dir = logs;
	a.sid = SID;
	CHECK(with_stderr(do_append, &a) == 0);
	CHECK_STR(captured, "");
	snprintf(path, sizeof(path), "%s/%s.log", logs, SID);
	CHECK_MSG(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640,
		  "created 0640 under umask 0");
	CHECK(with_stderr(do_append, &a) == 0);
	read_file(path, buf, sizeof(buf));
	CHECK(strlen(buf) == 2 * 62);
	CHECK(strstr(buf, "Z fcgi incoming_call from=+15551234567\n") != NULL);
	CHECK(strstr(buf + 62, "Z fcgi incoming_call from=+15551234567\n") == buf + 62 + 23);
	unlink(path);
	umask(0077);
	CHECK(with_stderr(do_append, &a) == 0);
	CHECK_MSG(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640,
		  "created 0640 under umask 077");
	/* An existing file's mode is left alone. */
	chmod(path, 0600);
	CHECK(with_stderr(do_append, &a) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	umask(old);

	/* An invalid sid touches nothing and says so. */
	a.sid = "CA../../etc/passwd";
	CHECK(with_stderr(do_append, &a) == -1);
	CHECK_STR(captured, "callpipe: call log: invalid CallSid (line dropped: incoming_call)\n");

	/* A missing directory: -1 and one line naming file, errno text and event. */
	snprintf(path, sizeof(path), "%s/nowhere", dir);
	a.dir = path;
	a.sid = SID;
	CHECK(with_stderr(do_append, &a) == -1);
	snprintf(want, sizeof(want), "callpipe: call log %s/%s.log: No such file or directory "
		 "(line dropped: incoming_call)\n", path, SID);
	CHECK_STR(captured, want);

	/* A directory that is a file. */
	snprintf(path, sizeof(path), "%s/plainfile", dir);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	a.dir = path;
	CHECK(with_stderr(do_append, &a) == -1);
	CHECK(strstr(captured, ": Not a directory (line dropped: incoming_call)\n") != NULL);
	CHECK(calllog_prepare_dir(path, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s: exists and is not a directory", path);
	CHECK_STR(err, want);
	unlink(path);

	/* A symlink where the log file would be is never followed. */
	a.dir = logs;
	snprintf(path, sizeof(path), "%s/CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.log", logs);
	snprintf(want, sizeof(want), "%s/target", dir);
	close(open(want, O_WRONLY | O_CREAT, 0600));
	CHECK(symlink(want, path) == 0);   /* the setup itself, checked (and -D_FORTIFY_SOURCE wants it) */
	a.sid = "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	CHECK(with_stderr(do_append, &a) == -1);
	CHECK(strstr(captured, "Too many levels of symbolic links") != NULL);
	CHECK(stat(want, &st) == 0 && st.st_size == 0);
	unlink(path);
	unlink(want);

	/* A FIFO there: refused at once instead of blocking. */
	a.sid = "CAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	snprintf(path, sizeof(path), "%s/%s.log", logs, a.sid);
	mkfifo(path, 0600);
	CHECK(with_stderr(do_append, &a) == -1);
	CHECK(strstr(captured, "No such device or address") != NULL);
	unlink(path);

	/* A directory there. */
	mkdir(path, 0700);
	CHECK(with_stderr(do_append, &a) == -1);
	CHECK(strstr(captured, "Is a directory") != NULL);
	rmdir(path);
}

#define THREADS 8
#define LINES 200

struct writer {
	const char *dir;
	int id;
};

static void *writer_main(void *p)
{
	struct writer *w = p;
	char big[1500], id[16];
	int i;

	memset(big, 'a' + w->id, sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(id, sizeof(id), "%d", w->id);
	for (i = 0; i < LINES; i++) {
		const char *kv[] = {"writer", id, "payload", big, NULL};

		calllog_append(w->dir, SID, "ws", "stress", kv);
	}
	return NULL;
}

/* Concurrent writers with long lines: every line in the file is whole. */
static void test_concurrent(void)
{
	pthread_t t[THREADS];
	struct writer w[THREADS];
	char logs[300], path[400], *buf, *line, *save = NULL;
	size_t size = (size_t)THREADS * LINES * CALLLOG_LINE_MAX;
	int i, lines = 0, whole = 0, fd;
	ssize_t n, got = 0;

	snprintf(logs, sizeof(logs), "%s/calls", dir);
	snprintf(path, sizeof(path), "%s/%s.log", logs, SID);
	unlink(path);
	for (i = 0; i < THREADS; i++) {
		w[i].dir = logs;
		w[i].id = i;
		pthread_create(&t[i], NULL, writer_main, &w[i]);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	buf = malloc(size + 1);
	fd = open(path, O_RDONLY);
	while (fd >= 0 && (n = read(fd, buf + got, size - (size_t)got)) > 0)
		got += n;
	if (fd >= 0)
		close(fd);
	buf[got] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = strstr(line, "payload=");

		lines++;
		if (p && strlen(p + 8) == 1499 && strspn(p + 8, (char[]){p[8], 0}) == 1499)
			whole++;
	}
	CHECK_MSG(lines == THREADS * LINES, "8 threads x 200 lines: 1600 lines");
	CHECK_MSG(whole == THREADS * LINES, "every line is whole (one write each)");
	free(buf);
	unlink(path);
}

/* A real short write: in a child whose RLIMIT_FSIZE stops the file 40 bytes into a line
 * (SIGXFSZ ignored, so write() returns the short count, then EFBIG), the line is taken back
 * whole; with the limit raised the next line is whole and not glued to a fragment. */
static void test_short_write(void)
{
	char path[400], buf[4096], want[600];
	const char *first = "2026-11-24T10:15:02.123Z fcgi first\n";
	char second[91];
	pid_t pid;
	int status = -1;

	memset(second, 'y', 89);
	memcpy(second, "2026-11-24T10:15:02.123Z fcgi second k=", 39);
	second[89] = '\n';
	second[90] = '\0';
	snprintf(path, sizeof(path), "%s/short.log", dir);
	unlink(path);
	pid = fork();
	if (pid == 0) {
		struct rlimit rl;
		char err[256];
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600), rc = 0;

		signal(SIGXFSZ, SIG_IGN);
		if (fd < 0 || calllog_write(fd, first, strlen(first), err, sizeof(err)) != 0)
			_exit(10);
		getrlimit(RLIMIT_FSIZE, &rl);
		rl.rlim_cur = strlen(first) + 40;
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(11);
		if (calllog_write(fd, second, 90, err, sizeof(err)) != -1)
			rc |= 1;
		/* what the report says: the errno, and that the part written was taken back */
		if (!strstr(err, "File too large (40 of 90 bytes written, taken back)"))
			rc |= 2;
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_FSIZE, &rl);
		if (calllog_write(fd, second, 90, err, sizeof(err)) != 0)
			rc |= 4;
		_exit(rc);
	}
	waitpid(pid, &status, 0);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "short write: -1 with the reason, then the next line written");
	read_file(path, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%s%s", first, second);
	CHECK_MSG(strcmp(buf, want) == 0, "the file holds the first line and the whole second");
	unlink(path);
}

/* The same on a real full file system, when we may mount a tmpfs (root): the log's last
 * page has 40 bytes left when the disk fills, so a 90-byte line is a short write, then
 * ENOSPC; it is taken back, and once space returns the next line is whole. */
static void test_full_tmpfs(void)
{
	char mnt[300], path[400], filler[400], err[256], big[4056], line[90], *buf;
	struct stat st;
	int fd, ff;
	size_t n = 0;

	snprintf(mnt, sizeof(mnt), "%s/tmpfs", dir);
	mkdir(mnt, 0700);
	if (geteuid() != 0 || mount("tmpfs", mnt, "tmpfs", 0, "size=256k") != 0) {
		printf("# skip: no tmpfs mount (needs root)\n");
		rmdir(mnt);
		return;
	}
	snprintf(path, sizeof(path), "%s/log", mnt);
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	memset(line, 'b', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	CHECK(calllog_write(fd, big, sizeof(big), err, sizeof(err)) == 0);
	/* Fill the rest of the file system, page by page and then byte by byte. */
	ff = open(filler, O_WRONLY | O_CREAT, 0600);
	{
		static char chunk[4096];

		while (write(ff, chunk, sizeof(chunk)) == (ssize_t)sizeof(chunk) && n++ < 1000)
			;
		while (write(ff, chunk, 1) == 1 && n++ < 10000)
			;
	}
	close(ff);
	CHECK_MSG(calllog_write(fd, line, sizeof(line), err, sizeof(err)) == -1 &&
		  strstr(err, "No space left on device (40 of 90 bytes written, taken back)"),
		  "full tmpfs: a short write (40 of 90), taken back");
	CHECK(fstat(fd, &st) == 0 && st.st_size == (off_t)sizeof(big));
	unlink(filler);
	CHECK(calllog_write(fd, line, sizeof(line), err, sizeof(err)) == 0);
	close(fd);
	buf = malloc(8192);
	CHECK_MSG(read_file(path, buf, 8192) == sizeof(big) + sizeof(line) &&
		  memcmp(buf + sizeof(big), line, sizeof(line)) == 0,
		  "full tmpfs: once space returns the next line is whole, not glued to a fragment");
	free(buf);
	unlink(path);
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
}

static int do_bad_handle(void *arg)
{
	(void)arg;
	return calllog_file_new(dir, "CA../x") == NULL ? 0 : -1;
}

/* Handles: opened at the first write, created 0640; a reopen after the file was renamed
 * (rotation) writes to a new file at the path; lines are whole. */
static void test_handle(void)
{
	char logs[300], path[400], moved[420], buf[4096];
	struct calllog_file *f, *g;
	struct stat st;
	const char *l1 = "2026-11-24T10:15:02.123Z ws one\n", *l2 = "2026-11-24T10:15:02.123Z ws two\n";

	snprintf(logs, sizeof(logs), "%s/calls", dir);
	snprintf(path, sizeof(path), "%s/%s.log", logs, SID);
	snprintf(moved, sizeof(moved), "%s.1", path);
	unlink(path);
	f = calllog_file_new(logs, SID);
	CHECK(f != NULL);
	CHECK_MSG(stat(path, &st) != 0, "no file before the first line");
	CHECK(calllog_file_write(f, l1, strlen(l1)) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
	rename(path, moved);
	g = calllog_file_ref(f);
	calllog_file_unref(f);   /* G still holds it open */
	CHECK(calllog_file_write(g, l2, strlen(l2)) == 0);
	read_file(moved, buf, sizeof(buf));
	CHECK_MSG(strlen(buf) == strlen(l1) + strlen(l2), "without a reopen: the old file");
	calllog_reopen_all();
	CHECK(calllog_file_write(g, l1, strlen(l1)) == 0);
	read_file(path, buf, sizeof(buf));
	CHECK_STR(buf, l1);
	calllog_file_unref(g);
	unlink(path);
	unlink(moved);
	CHECK(with_stderr(do_bad_handle, NULL) == 0);
	CHECK_STR(captured, "callpipe: call log: invalid CallSid (line dropped: open)\n");
}

int main(void)
{
	char cmd[300];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_format();
	test_cut();
	test_callsid();
	test_append();
	test_concurrent();
	test_short_write();
	test_full_tmpfs();
	test_handle();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return check_done();
}
