/* subproc: run `/bin/sh -c COMMAND` in its own process group, feed its stdin while reading its
 * stdout, kill the group at a deadline, and turn its exit status and stderr into one error line. */
#ifndef CALLPIPE_SUBPROC_H
#define CALLPIPE_SUBPROC_H

#include <stddef.h>
#include <stdint.h>

/* Kept of the command's stderr for the error message (the rest is read and dropped, so a
 * chatty command cannot block on a full pipe). */
#define SUBPROC_ERR_KEEP 512

/* Bytes from the command's stdout as they arrive: 0 goes on, < 0 stops with ERR set (the run
 * fails), > 0 stops and is what subproc_run returns. A stopped command's group is killed. */
typedef int (*subproc_out_fn)(void *arg, const uint8_t *p, size_t n, char *err, size_t errlen);

struct subproc_job {
	const char *command;      /* run as /bin/sh -c COMMAND */
	char **env;               /* its whole environment (subproc_env) */
	const void *in;           /* written to its stdin, which is closed after */
	size_t in_len;
	int timeout_ms;           /* from the start to its exit */
	const char *tag;          /* prefix of every error: "exec", "asr exec" */
	subproc_out_fn out;
	void *arg;
	/* Filled in: the first line of its stderr (control characters blanked, trimmed), also
	 * after a clean exit, for the caller's own complaints about the output. */
	char errline[SUBPROC_ERR_KEEP + 1];
};

/* 0: the command exited with status 0. -1 with ERR: it could not start, timed out, was killed
 * by a signal or exited non-zero (with its first stderr line), or OUT failed. > 0: OUT's stop.
 * SIGPIPE is blocked on the calling thread meanwhile (a command need not read its stdin). */
int subproc_run(struct subproc_job *j, char *err, size_t errlen);

/* environ without the names of VARS ("NAME=value", NULL-terminated), then VARS: built before
 * fork(), since the child of a threaded process may only make async-signal-safe calls. The
 * array (not the strings) is the caller's to free(); NULL when out of memory. */
char **subproc_env(char *const *vars);

#endif
