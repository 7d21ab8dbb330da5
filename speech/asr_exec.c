/* asr_exec: the [asr] engine = exec: `/bin/sh -c COMMAND` gets the utterance as a WAV file
 * (8 kHz 16-bit mono) on stdin and writes the transcript as its first stdout line. */
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

#include "asr_int.h"
#include "config.h"
#include "strutil.h"

extern char **environ;

#define OUT_MAX 4096      /* stdout kept: a transcript line; the rest is read and dropped */
#define ERR_KEEP 256      /* stderr kept for the error message */
#define ENV_MAX (CONFIG_STR_MAX + 4200)

struct xdec {
	const struct config *cfg;
	struct asr_pcmbuf pcm;
	char lang[64], hints[4200 + 32], grammar[CONFIG_STR_MAX + 64];
};

static int exec_open(struct asr_engine *e, char *err, size_t errlen)
{
	if (!e->cfg->asr_command[0]) {
		strutil_seterr(err, errlen, "asr exec: [asr] command is empty");
		return -1;
	}
	e->impl = NULL;
	return 0;
}

static void exec_close(struct asr_engine *e)
{
	(void)e;
}

static void *exec_dec_new(struct asr_engine *e, char *err, size_t errlen)
{
	struct xdec *x = calloc(1, sizeof(*x));

	if (!x) {
		strutil_seterr(err, errlen, "asr exec: out of memory");
		return NULL;
	}
	x->cfg = e->cfg;
	x->pcm.max = (size_t)e->cfg->asr_max_seconds * 8000;
	return x;
}

static void exec_dec_free(void *dec)
{
	struct xdec *x = dec;

	if (!x)
		return;
	asr_pcmbuf_free(&x->pcm);
	free(x);
}

static void exec_reset(void *dec)
{
	((struct xdec *)dec)->pcm.n = 0;
}

static int exec_start(void *dec, const struct asr_req *q, char *err, size_t errlen)
{
	struct xdec *x = dec;

	(void)err;
	(void)errlen;
	x->pcm.n = 0;
	snprintf(x->lang, sizeof(x->lang), "CALLPIPE_LANGUAGE=%s", q->language);
	snprintf(x->hints, sizeof(x->hints), "CALLPIPE_HINTS=%s", q->hints);
	snprintf(x->grammar, sizeof(x->grammar), "CALLPIPE_GRAMMAR=%s", q->grammar_path);
	return 0;
}

static int exec_feed(void *dec, const int16_t *pcm, size_t n, char *err, size_t errlen)
{
	struct xdec *x = dec;

	if (asr_pcmbuf_add(&x->pcm, pcm, n) < 0) {
		strutil_seterr(err, errlen, "asr exec: more than %d s of audio",
			       x->cfg->asr_max_seconds);
		return -1;
	}
	return 0;
}

/* environ without our three names, then ours: built before fork(), since the child of a
 * threaded process may only make async-signal-safe calls. */
static char **make_env(struct xdec *x)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 4, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "CALLPIPE_LANGUAGE=", 18) != 0 &&
		    strncmp(environ[i], "CALLPIPE_HINTS=", 15) != 0 &&
		    strncmp(environ[i], "CALLPIPE_GRAMMAR=", 17) != 0)
			env[k++] = environ[i];
	env[k++] = x->lang;
	env[k++] = x->hints;
	env[k++] = x->grammar;
	env[k] = NULL;
	return env;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static int exec_finish(void *dec, struct asr_out *out, char *err, size_t errlen)
{
	struct xdec *x = dec;
	const struct config *cfg = x->cfg;
	char *argv[] = {"/bin/sh", "-c", NULL, NULL};
	char cmd[CONFIG_STR_MAX], obuf[OUT_MAX + 1], ebuf[ERR_KEEP + 1], junk[4096];
	int in_p[2] = {-1, -1}, out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
	size_t wlen = 0, wdone = 0, olen = 0, elen = 0;
	uint8_t *wav = asr_wav_bytes(x->pcm.s, x->pcm.n, &wlen);
	char **env = make_env(x);
	sigset_t pipe_set, old_set;
	long t0 = asr_now_ms();
	pid_t pid = -1;
	int status = 0, rc = -1, reaped = 0;

	obuf[0] = ebuf[0] = '\0';
	snprintf(cmd, sizeof(cmd), "%s", cfg->asr_command);
	argv[2] = cmd;
	x->pcm.n = 0;
	if (!wav || !env) {
		strutil_seterr(err, errlen, "asr exec: out of memory");
		goto out_nosig;
	}
	if (pipe2(in_p, O_CLOEXEC) < 0 || pipe2(out_p, O_CLOEXEC) < 0 ||
	    pipe2(err_p, O_CLOEXEC) < 0) {
		strutil_seterr(err, errlen, "asr exec: pipe: %s", strerror(errno));
		goto out_nosig;
	}
	/* a command that does not read all its stdin must not SIGPIPE the helper */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
	pid = fork();
	if (pid < 0) {
		strutil_seterr(err, errlen, "asr exec: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		sigset_t none;

		setpgid(0, 0);   /* its own group: a timeout kills the shell and its children */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in_p[0], 0) < 0 || dup2(out_p[1], 1) < 0 || dup2(err_p[1], 2) < 0)
			_exit(127);
		execve("/bin/sh", argv, env);
		_exit(127);
	}
	setpgid(pid, pid);
	close_fd(&in_p[0]);
	close_fd(&out_p[1]);
	close_fd(&err_p[1]);
	fcntl(in_p[1], F_SETFL, O_NONBLOCK);
	fcntl(out_p[0], F_SETFL, O_NONBLOCK);
	fcntl(err_p[0], F_SETFL, O_NONBLOCK);
	while (out_p[0] >= 0 || err_p[0] >= 0) {
		struct pollfd pf[3];
		int nf = 0, ii = -1, io = -1, ie = -1, prc;
		long left = cfg->asr_timeout_ms - (asr_now_ms() - t0);

		if (left <= 0)
			goto timeout;
		if (in_p[1] >= 0)
			pf[ii = nf++] = (struct pollfd){.fd = in_p[1], .events = POLLOUT};
		if (out_p[0] >= 0)
			pf[io = nf++] = (struct pollfd){.fd = out_p[0], .events = POLLIN};
		if (err_p[0] >= 0)
			pf[ie = nf++] = (struct pollfd){.fd = err_p[0], .events = POLLIN};
		prc = poll(pf, (nfds_t)nf, (int)left);
		if (prc < 0 && errno != EINTR) {
			strutil_seterr(err, errlen, "asr exec: poll: %s", strerror(errno));
			goto kill;
		}
		if (prc <= 0)
			continue;
		if (ii >= 0 && pf[ii].revents) {
			ssize_t k = write(in_p[1], wav + wdone, wlen - wdone);

			if (k > 0)
				wdone += (size_t)k;
			if ((k < 0 && errno != EAGAIN && errno != EINTR) || wdone == wlen)
				close_fd(&in_p[1]);
		}
		if (io >= 0 && pf[io].revents) {
			ssize_t k = read(out_p[0], junk, sizeof(junk));

			if (k > 0) {
				size_t keep = OUT_MAX - olen < (size_t)k ? OUT_MAX - olen : (size_t)k;

				memcpy(obuf + olen, junk, keep);
				olen += keep;
				obuf[olen] = '\0';
			} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				close_fd(&out_p[0]);
			}
		}
		if (ie >= 0 && pf[ie].revents) {
			ssize_t k = read(err_p[0], junk, sizeof(junk));

			if (k > 0) {
				size_t keep = ERR_KEEP - elen < (size_t)k ? ERR_KEEP - elen : (size_t)k;

				memcpy(ebuf + elen, junk, keep);
				elen += keep;
				ebuf[elen] = '\0';
			} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				close_fd(&err_p[0]);
			}
		}
	}
	close_fd(&in_p[1]);
	/* outputs closed: the exit, still within the timeout */
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			reaped = 1;
			break;
		}
		if (r < 0 && errno != EINTR) {
			strutil_seterr(err, errlen, "asr exec: waitpid: %s", strerror(errno));
			goto kill;
		}
		if (asr_now_ms() - t0 >= cfg->asr_timeout_ms)
			goto timeout;
		nanosleep(&(struct timespec){0, 2 * 1000000}, NULL);
	}
	if (WIFSIGNALED(status)) {
		strutil_seterr(err, errlen, "asr exec: command killed by signal %d%s%s",
			       WTERMSIG(status), elen ? ": " : "", asr_first_line(ebuf));
		goto kill;
	}
	if (WEXITSTATUS(status) != 0) {
		strutil_seterr(err, errlen, "asr exec: command exited with status %d%s%s",
			       WEXITSTATUS(status), elen ? ": " : "", asr_first_line(ebuf));
		goto kill;
	}
	{
		char *line = asr_first_line(obuf);

		out->text = strdup(line);
	}
	if (!out->text) {
		strutil_seterr(err, errlen, "asr exec: out of memory");
		goto kill;
	}
	out->conf = out->text[0] ? 1000 : 0;   /* a command gives no confidence */
	rc = 0;
	goto kill;
timeout:
	strutil_seterr(err, errlen, "asr exec: timed out after %d ms", cfg->asr_timeout_ms);
kill:
	if (!reaped) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
out:
	{
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
	free(wav);
	free(env);
	return rc;
}

const struct asr_engine_ops asr_exec_ops = {
	.name = "exec",
	.open = exec_open,
	.close = exec_close,
	.dec_new = exec_dec_new,
	.dec_free = exec_dec_free,
	.start = exec_start,
	.feed = exec_feed,
	.finish = exec_finish,
	.reset = exec_reset,
};
