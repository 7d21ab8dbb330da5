/* test_subproc: the exec engines' command runner: stdin and stdout at once without deadlock,
 * the exit status and stderr line, a stop from the reader, the deadline killing the whole group. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "subproc.h"

#define BIG (1024 * 1024)   /* well past a pipe's 64 KiB, both ways */

struct sink {
	uint8_t *buf;
	size_t len, cap;
	int stop_with;   /* returned from the first call when non-zero */
};

static int collect(void *arg, const uint8_t *p, size_t n, char *err, size_t errlen)
{
	struct sink *s = arg;
	size_t take = s->cap - s->len < n ? s->cap - s->len : n;

	if (s->stop_with < 0)
		snprintf(err, errlen, "reader refused");
	if (s->stop_with)
		return s->stop_with;
	memcpy(s->buf + s->len, p, take);
	s->len += take;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* COMMAND with IN on stdin, stdout into S: subproc_run's result, *MS how long it took. */
static int run(const char *command, const void *in, size_t in_len, int timeout_ms,
	       struct sink *s, struct subproc_job *j, char *err, size_t errlen, double *ms)
{
	char *vars[] = {"SUBPROC_TEST=new", NULL};
	double t;
	int rc;

	memset(j, 0, sizeof(*j));
	j->command = command;
	j->in = in;
	j->in_len = in_len;
	j->timeout_ms = timeout_ms;
	j->tag = "t";
	j->out = collect;
	j->arg = s;
	j->env = subproc_env(vars);
	s->len = 0;
	err[0] = '\0';
	t = now_ms();
	rc = subproc_run(j, err, errlen);
	if (ms)
		*ms = now_ms() - t;
	free(j->env);
	printf("# %s -> %d \"%s\" (%zu bytes out)\n", command, rc, err, s->len);
	return rc;
}

/* Every holder of the pipe's write end has exited: EOF on RFD within WAIT_MS. The test's own
 * write end is closed first; the shell and its child inherited it (no O_CLOEXEC). */
static int holders_gone(int rfd, int wait_ms)
{
	struct pollfd pf = {.fd = rfd, .events = POLLIN};
	char c;

	return poll(&pf, 1, wait_ms) == 1 && read(rfd, &c, 1) == 0;
}

/* COMMAND (which starts a child and hangs) killed at a 300 ms deadline, and with it every
 * process it started: the child shares the group. */
static void check_group_killed(const char *command, const void *in, size_t in_len,
			       struct sink *s, struct subproc_job *j)
{
	char err[256];
	double ms = 0;
	int p[2];

	if (pipe(p) < 0) {
		CHECK_MSG(0, "pipe");
		return;
	}
	CHECK(run(command, in, in_len, 300, s, j, err, sizeof(err), &ms) == -1);
	CHECK_STR(err, "t: timed out after 300 ms");
	CHECK(ms >= 290 && ms < 1500);
	close(p[1]);
	CHECK_MSG(holders_gone(p[0], 1000), "the shell and its child are gone");
	close(p[0]);
}

int main(void)
{
	static struct subproc_job j;
	struct sink s = {.cap = BIG + 1};
	uint8_t *big = malloc(BIG);
	char err[256];
	double ms = 0;

	/* A deadlocked runner never returns: the alarm ends the test rather than the suite's
	 * patience. */
	alarm(60);
	s.buf = malloc(s.cap);
	if (!big || !s.buf)
		return 1;
	for (size_t i = 0; i < BIG; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 10));

	/* cat echoes while we still write: 1 MiB each way needs both at once */
	CHECK(run("cat", big, BIG, 5000, &s, &j, err, sizeof(err), NULL) == 0);
	CHECK(s.len == BIG && memcmp(s.buf, big, BIG) == 0);

	/* a command that never reads its stdin: no deadlock, no SIGPIPE, its output counts */
	CHECK(run("echo done", big, BIG, 5000, &s, &j, err, sizeof(err), &ms) == 0);
	CHECK(s.len == 5 && memcmp(s.buf, "done\n", 5) == 0);
	CHECK(ms < 2000);
	/* and one that does not read while it lives on, closing stdin later */
	CHECK(run("exec 0<&-; echo later", big, BIG, 5000, &s, &j, err, sizeof(err), NULL) == 0);
	CHECK(s.len == 6 && memcmp(s.buf, "later\n", 6) == 0);

	/* the environment: ours replaces an inherited one of the same name, keeps the rest */
	setenv("SUBPROC_TEST", "old", 1);
	setenv("SUBPROC_TESTX", "kept", 1);
	CHECK(run("echo \"$SUBPROC_TEST $SUBPROC_TESTX $(env | grep -c '^SUBPROC_TEST=')\"", "", 0,
		  5000, &s, &j, err, sizeof(err), NULL) == 0);
	CHECK(s.len == 11 && memcmp(s.buf, "new kept 1\n", 11) == 0);

	/* exit status and the first stderr line, control characters blanked, trimmed */
	CHECK(run("printf '  no model\\001here \\nsecond\\n' >&2; exit 3", "", 0, 5000, &s, &j,
		  err, sizeof(err), NULL) == -1);
	CHECK_STR(err, "t: command exited with status 3: no model here");
	CHECK_STR(j.errline, "no model here");
	CHECK(run("exit 4", "", 0, 5000, &s, &j, err, sizeof(err), NULL) == -1);
	CHECK_STR(err, "t: command exited with status 4");
	CHECK(run("kill -TERM $$", "", 0, 5000, &s, &j, err, sizeof(err), NULL) == -1);
	CHECK_STR(err, "t: command killed by signal 15");
	/* a clean exit still tells its stderr, for the caller's own complaints */
	CHECK(run("echo warning >&2", "", 0, 5000, &s, &j, err, sizeof(err), NULL) == 0);
	CHECK_STR(j.errline, "warning");

	/* the reader stops: its value back, the command killed now rather than at the deadline */
	s.stop_with = 7;
	CHECK(run("echo x; exec sleep 30", "", 0, 5000, &s, &j, err, sizeof(err), &ms) == 7);
	CHECK(ms < 2000);
	s.stop_with = -1;
	CHECK(run("echo x; exec sleep 30", "", 0, 5000, &s, &j, err, sizeof(err), &ms) == -1);
	CHECK_STR(err, "reader refused");
	CHECK(ms < 2000);
	s.stop_with = 0;

	/* a hung command and its child, stdout closed: killed at the deadline, the whole group
	 * (the child holds no pipe of ours, only the test's) */
	check_group_killed("sleep 30 >/dev/null 2>&1 & exec >&- 2>&-; wait", big, BIG, &s, &j);
	/* and one that holds stdout open, in the read loop */
	check_group_killed("sleep 30 & wait", "", 0, &s, &j);
	free(big);
	free(s.buf);
	return check_done();
}
