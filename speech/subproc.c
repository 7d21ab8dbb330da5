/* subproc: run `/bin/sh -c COMMAND` in its own process group, feed its stdin while reading its
 * stdout, kill the group at a deadline, and turn its exit status and stderr into one error line. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "strutil.h"
#include "subproc.h"

extern char **environ;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* S cut at its first line end, control characters blanked (the line goes into log lines),
 * leading and trailing blanks dropped; moved to the start of S. */
static void first_line(char *s)
{
	char *b = s, *e;

	s[strcspn(s, "\r\n")] = '\0';
	for (e = s; *e; e++)
		if ((unsigned char)*e < 0x20 || *e == 0x7f)
			*e = ' ';
	while (*b == ' ')
		b++;
	e = b + strlen(b);
	while (e > b && e[-1] == ' ')
		e--;
	memmove(s, b, (size_t)(e - b));
	s[e - b] = '\0';
}

char **subproc_env(char *const *vars)
{
	size_t n = 0, nv = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	while (vars[nv])
		nv++;
	env = calloc(n + nv + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t v;

		for (v = 0; v < nv; v++) {
			size_t len = strcspn(vars[v], "=") + 1;   /* the name and its '=' */

			if (strncmp(environ[i], vars[v], len) == 0)
				break;
		}
		if (v == nv)
			env[k++] = environ[i];
	}
	for (size_t v = 0; v < nv; v++)
		env[k++] = vars[v];
	env[k] = NULL;
	return env;
}

/* Appends what fits of N bytes at P to BUF (LEN of CAP used, NUL-terminated): the rest is
 * dropped, the pipe still drained. */
static void keep(char *buf, size_t *len, size_t cap, const char *p, size_t n)
{
	size_t take = cap - *len < n ? cap - *len : n;

	memcpy(buf + *len, p, take);
	*len += take;
	buf[*len] = '\0';
}

/* The poll loop until stdout and stderr are closed: 0, -1 with err, > 0 (OUT's stop), or -2
 * at the deadline. */
static int pump(struct subproc_job *j, int *in_fd, int *out_fd, int *err_fd, long t0,
		char *err, size_t errlen)
{
	const uint8_t *in = j->in;
	size_t wdone = 0, elen = 0;
	char buf[8192];

	while (*out_fd >= 0 || *err_fd >= 0) {
		struct pollfd pf[3];
		int nf = 0, ii = -1, io = -1, ie = -1, prc;
		long left = j->timeout_ms - (now_ms() - t0);

		if (left <= 0)
			return -2;
		if (*in_fd >= 0)
			pf[ii = nf++] = (struct pollfd){.fd = *in_fd, .events = POLLOUT};
		if (*out_fd >= 0)
			pf[io = nf++] = (struct pollfd){.fd = *out_fd, .events = POLLIN};
		if (*err_fd >= 0)
			pf[ie = nf++] = (struct pollfd){.fd = *err_fd, .events = POLLIN};
		prc = poll(pf, (nfds_t)nf, (int)left);
		if (prc < 0 && errno != EINTR) {
			strutil_seterr(err, errlen, "%s: poll: %s", j->tag, strerror(errno));
			return -1;
		}
		if (prc <= 0)
			continue;
		if (ii >= 0 && pf[ii].revents) {
			ssize_t k = write(*in_fd, in + wdone, j->in_len - wdone);

			if (k > 0)
				wdone += (size_t)k;
			/* EPIPE: the command does not read its input; its output still counts. */
			if ((k < 0 && errno != EAGAIN && errno != EINTR) || wdone == j->in_len)
				close_fd(in_fd);
		}
		if (io >= 0 && pf[io].revents) {
			ssize_t k = read(*out_fd, buf, sizeof(buf));

			if (k > 0) {
				int orc = j->out(j->arg, (const uint8_t *)buf, (size_t)k, err, errlen);

				if (orc)
					return orc < 0 ? -1 : orc;
			} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				close_fd(out_fd);
			}
		}
		if (ie >= 0 && pf[ie].revents) {
			ssize_t k = read(*err_fd, buf, sizeof(buf));

			if (k > 0)
				keep(j->errline, &elen, SUBPROC_ERR_KEEP, buf, (size_t)k);
			else if (k == 0 || (errno != EAGAIN && errno != EINTR))
				close_fd(err_fd);
		}
	}
	return 0;
}

/* Outputs closed: the exit, still within the deadline (a command can close stdout and keep
 * running). 0 with *STATUS, -1 with err, -2 at the deadline. */
static int wait_exit(struct subproc_job *j, pid_t pid, int *status, long t0, char *err,
		     size_t errlen)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR) {
			strutil_seterr(err, errlen, "%s: waitpid: %s", j->tag, strerror(errno));
			return -1;
		}
		if (now_ms() - t0 >= j->timeout_ms)
			return -2;
		nanosleep(&(struct timespec){0, 2 * 1000000}, NULL);
	}
}

int subproc_run(struct subproc_job *j, char *err, size_t errlen)
{
	char *argv[] = {"/bin/sh", "-c", NULL, NULL};
	char *cmd = strdup(j->command);
	int in_p[2] = {-1, -1}, out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
	sigset_t pipe_set, old_set;
	pid_t pid;
	long t0;
	int status = 0, rc = -1, reaped = 0;

	j->errline[0] = '\0';
	if (!cmd) {
		strutil_seterr(err, errlen, "%s: out of memory", j->tag);
		return -1;
	}
	argv[2] = cmd;
	if (pipe2(in_p, O_CLOEXEC) < 0 || pipe2(out_p, O_CLOEXEC) < 0 ||
	    pipe2(err_p, O_CLOEXEC) < 0) {
		strutil_seterr(err, errlen, "%s: pipe: %s", j->tag, strerror(errno));
		goto out_nosig;
	}
	/* A command that exits without reading its stdin would raise SIGPIPE on our write and
	 * kill the whole helper: block it on this thread, take any pending one at the end. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
	t0 = now_ms();
	pid = fork();
	if (pid < 0) {
		strutil_seterr(err, errlen, "%s: fork: %s", j->tag, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		sigset_t none;

		/* Its own process group, so a timeout kills the shell and what it started. */
		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in_p[0], 0) < 0 || dup2(out_p[1], 1) < 0 || dup2(err_p[1], 2) < 0)
			_exit(127);
		execve("/bin/sh", argv, j->env);
		_exit(127);
	}
	setpgid(pid, pid);   /* also here: no race with a kill before the child ran */
	close_fd(&in_p[0]);
	close_fd(&out_p[1]);
	close_fd(&err_p[1]);
	fcntl(in_p[1], F_SETFL, O_NONBLOCK);
	fcntl(out_p[0], F_SETFL, O_NONBLOCK);
	fcntl(err_p[0], F_SETFL, O_NONBLOCK);
	if (j->in_len == 0)
		close_fd(&in_p[1]);

	rc = pump(j, &in_p[1], &out_p[0], &err_p[0], t0, err, errlen);
	close_fd(&in_p[1]);
	if (rc == 0) {
		rc = wait_exit(j, pid, &status, t0, err, errlen);
		reaped = rc == 0;
	}
	{
		/* The error text wants the line cut; a caller's later complaint wants it too. */
		int had = j->errline[0] != '\0';

		first_line(j->errline);
		if (rc == -2) {
			strutil_seterr(err, errlen, "%s: timed out after %d ms", j->tag,
				       j->timeout_ms);
			rc = -1;
		} else if (reaped && WIFSIGNALED(status)) {
			strutil_seterr(err, errlen, "%s: command killed by signal %d%s%s", j->tag,
				       WTERMSIG(status), had ? ": " : "", j->errline);
			rc = -1;
		} else if (reaped && WEXITSTATUS(status) != 0) {
			strutil_seterr(err, errlen, "%s: command exited with status %d%s%s",
				       j->tag, WEXITSTATUS(status), had ? ": " : "", j->errline);
			rc = -1;
		}
	}
	if (!reaped) {
		/* The whole group: sh and whatever it started. */
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
out:
	{
		/* Take a SIGPIPE our writes raised before the old mask comes back. */
		struct timespec zero = {0, 0};
		sigset_t pending;

		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
		pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	}
out_nosig:
	close_fd(&in_p[0]);
	close_fd(&in_p[1]);
	close_fd(&out_p[0]);
	close_fd(&out_p[1]);
	close_fd(&err_p[0]);
	close_fd(&err_p[1]);
	free(cmd);
	return rc;
}
