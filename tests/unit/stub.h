/* stub: a unit test's Python stub server (tests/stubs/): forked with python3, its first
 * stdout line "listening on PORT" read with a deadline, stopped with SIGTERM and reaped. */
#ifndef CALLPIPE_TEST_STUB_H
#define CALLPIPE_TEST_STUB_H

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

struct stub {
	pid_t pid;
	int port;
};

/* Run `python3 ARGS…` (ARGS: the script, then its options, "--port 0" among them; NULL
 * ends it). 0 once it said which port it listens on (within 10 s), else -1. */
static inline int stub_start(struct stub *s, const char *const *args)
{
	const char *argv[32] = {"python3"};
	char line[128];
	size_t len = 0, n = 1;
	int fd[2];

	for (; args[n - 1] && n < 31; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	s->pid = -1;
	s->port = 0;
	if (pipe(fd) < 0)
		return -1;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);   /* never outlive a crashed test */
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	close(fd[1]);
	while (len < sizeof(line) - 1) {
		struct pollfd p = {.fd = fd[0], .events = POLLIN};

		if (poll(&p, 1, 10000) <= 0 || read(fd[0], line + len, 1) <= 0 ||
		    line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	close(fd[0]);
	return sscanf(line, "listening on %d", &s->port) == 1 && s->port > 0 ? 0 : -1;
}

static inline void stub_stop(struct stub *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = -1;
}

#endif
