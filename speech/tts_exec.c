/* tts_exec: the command engine: `/bin/sh -c COMMAND` gets the text on stdin and writes a WAV
 * on stdout, which is parsed as it streams and sent on while the command still runs. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "pcmsink.h"
#include "strutil.h"
#include "tts.h"
#include "tts_int.h"

extern char **environ;

/* Bytes before the data chunk (RIFF, fmt, LIST, …): real headers are under 100. */
#define HDR_MAX 4096
#define MAX_CHANNELS 16
#define RATE_MIN 8000
#define RATE_MAX 192000
/* What is kept of the command's stderr for the error message (the rest is read and dropped
 * so a chatty command cannot block on a full pipe). */
#define ERR_KEEP 512
#define PIECE 1024
#define ENV_NAME_MAX 64

struct wavparse {
	uint8_t hdr[HDR_MAX];
	size_t hlen;
	int in_data;              /* header done: bytes are audio */
	unsigned channels, rate;
	uint64_t left;            /* data bytes still expected (UINT64_MAX: until EOF) */
	uint8_t frame[MAX_CHANNELS * 2];
	size_t flen;              /* bytes of a frame split across reads */
	int16_t mono[PIECE];
	struct pcmsink *ps;
	tts_sink_fn sink;
	void *arg;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned le16(const uint8_t *p)
{
	return (unsigned)(p[0] | p[1] << 8);
}

/* Parse what is buffered: 1 when the data chunk starts at *DATA_OFF, 0 when more bytes are
 * needed, -1 with err on a header that is not 16-bit PCM WAV. */
static int hdr_parse(struct wavparse *w, size_t *data_off, char *err, size_t errlen)
{
	size_t off = 12;
	int have_fmt = 0;

	/* Say "not a WAV" as soon as the first bytes show it, even for a short output. */
	if (memcmp(w->hdr, "RIFF", w->hlen < 4 ? w->hlen : 4) != 0 ||
	    (w->hlen >= 12 && memcmp(w->hdr + 8, "WAVE", 4) != 0)) {
		strutil_seterr(err, errlen, "exec: the command's output is not a WAV file");
		return -1;
	}
	if (w->hlen < 12)
		return 0;
	while (w->hlen - off >= 8) {
		const uint8_t *ch = w->hdr + off;
		uint32_t size = le32(ch + 4);

		if (memcmp(ch, "data", 4) == 0) {
			if (!have_fmt) {
				strutil_seterr(err, errlen, "exec: WAV data before its fmt chunk");
				return -1;
			}
			/* Streaming writers cannot go back to fill in the size: 0 and 0xFFFFFFFF
			 * (and espeak-ng's 0x7FFFF000, which is simply large) mean "until EOF". */
			w->left = size == 0 || size == 0xffffffffu ? UINT64_MAX : size;
			*data_off = off + 8;
			return 1;
		}
		if ((uint64_t)off + 8 + size + (size & 1) > HDR_MAX) {
			strutil_seterr(err, errlen, "exec: WAV header longer than %d bytes", HDR_MAX);
			return -1;
		}
		if (w->hlen - off - 8 < size)
			return 0;   /* this chunk is not all here yet */
		if (memcmp(ch, "fmt ", 4) == 0) {
			unsigned tag, bits;

			if (size < 16) {
				strutil_seterr(err, errlen, "exec: WAV fmt chunk of %u bytes", size);
				return -1;
			}
			tag = le16(ch + 8);
			w->channels = le16(ch + 10);
			w->rate = le32(ch + 12);
			bits = le16(ch + 22);
			/* WAVE_FORMAT_EXTENSIBLE: the real tag starts its SubFormat GUID. */
			if (tag == 0xfffe && size >= 40)
				tag = le16(ch + 32);
			if (tag != 1 || bits != 16) {
				strutil_seterr(err, errlen,
					       "exec: WAV format %u with %u bits (16-bit PCM needed)",
					       tag, bits);
				return -1;
			}
			if (w->channels < 1 || w->channels > MAX_CHANNELS || w->rate < RATE_MIN ||
			    w->rate > RATE_MAX) {
				strutil_seterr(err, errlen, "exec: WAV with %u channels at %u Hz",
					       w->channels, w->rate);
				return -1;
			}
			have_fmt = 1;
		}
		off += 8 + size + (size & 1);
	}
	return 0;
}

/* Audio bytes: whole frames mixed to mono and sent on. 0, 1 (sink stop) or -1. */
static int wav_audio(struct wavparse *w, const uint8_t *p, size_t n)
{
	size_t fsize = (size_t)w->channels * 2, k = 0;
	int rc;

	if (w->left != UINT64_MAX) {
		if (n > w->left)
			n = (size_t)w->left;   /* bytes after the data chunk: other chunks */
		w->left -= n;
	}
	while (n > 0) {
		size_t take = fsize - w->flen < n ? fsize - w->flen : n;

		memcpy(w->frame + w->flen, p, take);
		w->flen += take;
		p += take;
		n -= take;
		if (w->flen == fsize) {
			long sum = 0;
			unsigned c;

			for (c = 0; c < w->channels; c++)
				sum += (int16_t)(uint16_t)le16(w->frame + 2 * c);
			w->mono[k++] = (int16_t)(sum / (long)w->channels);
			w->flen = 0;
		}
		if (k == PIECE) {
			rc = pcmsink_write(w->ps, w->mono, k);
			if (rc)
				return rc;
			k = 0;
		}
	}
	return k ? pcmsink_write(w->ps, w->mono, k) : 0;
}

/* Bytes from the command's stdout. 0, 1 (sink stop) or -1 with err. */
static int wav_feed(struct wavparse *w, const uint8_t *p, size_t n, char *err, size_t errlen)
{
	size_t data_off, extra;
	int rc;

	if (w->in_data) {
		rc = wav_audio(w, p, n);
		if (rc < 0)
			strutil_seterr(err, errlen, "exec: audio conversion failed");
		return rc;
	}
	while (n > 0 && !w->in_data) {
		size_t take = HDR_MAX - w->hlen < n ? HDR_MAX - w->hlen : n;

		memcpy(w->hdr + w->hlen, p, take);
		w->hlen += take;
		p += take;
		n -= take;
		rc = hdr_parse(w, &data_off, err, errlen);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			if (w->hlen == HDR_MAX) {
				strutil_seterr(err, errlen, "exec: WAV header longer than %d bytes",
					       HDR_MAX);
				return -1;
			}
			continue;
		}
		w->ps = pcmsink_new((int)w->rate, w->sink, w->arg, err, errlen);
		if (!w->ps)
			return -1;
		w->in_data = 1;
		/* What came after the header in the same read is audio already. */
		extra = w->hlen - data_off;
		if (extra) {
			rc = wav_audio(w, w->hdr + data_off, extra);
			if (rc)
				goto audio_rc;
		}
	}
	rc = n ? wav_audio(w, p, n) : 0;
audio_rc:
	if (rc < 0)
		strutil_seterr(err, errlen, "exec: audio conversion failed");
	return rc;
}

static void exec_voice(const struct config *cfg, const char *voice, const char *language,
		       char *out, size_t cap)
{
	const char *v = voice[0] ? voice : cfg->tts_voice;
	const char *l = language[0] ? language : cfg->agent_language;

	/* The command sees both, so both are part of what it would say. */
	if (v[0])
		snprintf(out, cap, "%s/%s", v, l);
	else
		snprintf(out, cap, "%s", l);
}

/* environ without CALLPIPE_VOICE / CALLPIPE_LANGUAGE, then those two: built before fork(),
 * since the child of a threaded process may only make async-signal-safe calls. */
static char **make_env(const char *voice, const char *lang, char *vbuf, size_t vcap,
		       char *lbuf, size_t lcap)
{
	size_t n = 0, i, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "CALLPIPE_VOICE=", 15) != 0 &&
		    strncmp(environ[i], "CALLPIPE_LANGUAGE=", 18) != 0)
			env[k++] = environ[i];
	snprintf(vbuf, vcap, "CALLPIPE_VOICE=%s", voice);
	snprintf(lbuf, lcap, "CALLPIPE_LANGUAGE=%s", lang);
	env[k++] = vbuf;
	env[k++] = lbuf;
	env[k] = NULL;
	return env;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* The first line of what the command wrote to stderr, for the error message. */
static const char *first_line(char *buf)
{
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf;
}

static int exec_synth(struct tts_engine *e, const struct tts_text *t, tts_sink_fn sink,
		      void *arg, char *err, size_t errlen)
{
	const struct config *cfg = e->cfg;
	const char *voice = t->voice && t->voice[0] ? t->voice : cfg->tts_voice;
	const char *lang = t->language && t->language[0] ? t->language : cfg->agent_language;
	char vbuf[ENV_NAME_MAX + CONFIG_STR_MAX], lbuf[ENV_NAME_MAX + CONFIG_STR_MAX];
	char errbuf[ERR_KEEP + 1];
	char *argv[] = {"/bin/sh", "-c", NULL, NULL};
	char cmd[CONFIG_STR_MAX];
	int in_p[2] = {-1, -1}, out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
	size_t tlen = strlen(t->text), twritten = 0, elen = 0;
	struct wavparse *w = NULL;
	sigset_t pipe_set, old_set;
	struct timespec t0;
	char **env = NULL;
	pid_t pid = -1;
	int status = 0, rc = -1, done = 0, timed_out = 0;
	uint8_t buf[8192];

	errbuf[0] = '\0';
	snprintf(cmd, sizeof(cmd), "%s", cfg->tts_command);
	argv[2] = cmd;
	w = calloc(1, sizeof(*w));
	env = make_env(voice, lang, vbuf, sizeof(vbuf), lbuf, sizeof(lbuf));
	if (!w || !env) {
		strutil_seterr(err, errlen, "exec: out of memory");
		goto out_nosig;
	}
	w->sink = sink;
	w->arg = arg;
	if (pipe2(in_p, O_CLOEXEC) < 0 || pipe2(out_p, O_CLOEXEC) < 0 ||
	    pipe2(err_p, O_CLOEXEC) < 0) {
		strutil_seterr(err, errlen, "exec: pipe: %s", strerror(errno));
		goto out_nosig;
	}
	/* A command that exits without reading its stdin would raise SIGPIPE on our write and
	 * kill the whole helper: block it on this thread, take any pending one at the end. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		strutil_seterr(err, errlen, "exec: fork: %s", strerror(errno));
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
		execve("/bin/sh", argv, env);
		_exit(127);
	}
	setpgid(pid, pid);   /* also here: no race with a kill before the child ran */
	close_fd(&in_p[0]);
	close_fd(&out_p[1]);
	close_fd(&err_p[1]);
	fcntl(in_p[1], F_SETFL, O_NONBLOCK);
	fcntl(out_p[0], F_SETFL, O_NONBLOCK);
	fcntl(err_p[0], F_SETFL, O_NONBLOCK);
	if (tlen == 0)
		close_fd(&in_p[1]);

	while (out_p[0] >= 0 || err_p[0] >= 0) {
		struct pollfd pf[3];
		int nf = 0, i_in = -1, i_out = -1, i_err = -1, prc;
		long left = cfg->tts_timeout_ms - ms_since(&t0);

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (in_p[1] >= 0) {
			pf[nf].fd = in_p[1];
			pf[nf].events = POLLOUT;
			i_in = nf++;
		}
		if (out_p[0] >= 0) {
			pf[nf].fd = out_p[0];
			pf[nf].events = POLLIN;
			i_out = nf++;
		}
		if (err_p[0] >= 0) {
			pf[nf].fd = err_p[0];
			pf[nf].events = POLLIN;
			i_err = nf++;
		}
		prc = poll(pf, (nfds_t)nf, (int)left);
		if (prc < 0 && errno != EINTR) {
			strutil_seterr(err, errlen, "exec: poll: %s", strerror(errno));
			goto kill;
		}
		if (prc <= 0)
			continue;
		if (i_in >= 0 && pf[i_in].revents) {
			ssize_t k = write(in_p[1], t->text + twritten, tlen - twritten);

			if (k > 0)
				twritten += (size_t)k;
			/* EPIPE: the command does not read its input; its output still counts. */
			if ((k < 0 && errno != EAGAIN && errno != EINTR) || twritten == tlen)
				close_fd(&in_p[1]);
		}
		if (i_out >= 0 && pf[i_out].revents) {
			ssize_t k = read(out_p[0], buf, sizeof(buf));

			if (k > 0) {
				int frc = wav_feed(w, buf, (size_t)k, err, errlen);

				if (frc == 1) {
					rc = 1;
					goto kill;
				}
				if (frc < 0)
					goto kill;
			} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				close_fd(&out_p[0]);
			}
		}
		if (i_err >= 0 && pf[i_err].revents) {
			ssize_t k = read(err_p[0], buf, sizeof(buf));

			if (k > 0) {
				size_t keep = ERR_KEEP - elen < (size_t)k ? ERR_KEEP - elen : (size_t)k;

				memcpy(errbuf + elen, buf, keep);
				elen += keep;
				errbuf[elen] = '\0';
			} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				close_fd(&err_p[0]);
			}
		}
	}
	close_fd(&in_p[1]);
	/* Output closed: wait for the exit, still within the timeout (a command can close
	 * stdout and keep running). */
	while (!timed_out) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			done = 1;
			break;
		}
		if (r < 0 && errno != EINTR) {
			strutil_seterr(err, errlen, "exec: waitpid: %s", strerror(errno));
			goto kill;
		}
		if (ms_since(&t0) >= cfg->tts_timeout_ms) {
			timed_out = 1;
			break;
		}
		{
			struct timespec nap = {0, 2 * 1000000};

			nanosleep(&nap, NULL);
		}
	}
	if (timed_out) {
		strutil_seterr(err, errlen, "exec: timed out after %d ms", cfg->tts_timeout_ms);
		goto kill;
	}
	if (WIFSIGNALED(status)) {
		strutil_seterr(err, errlen, "exec: command killed by signal %d%s%s",
			       WTERMSIG(status), elen ? ": " : "", first_line(errbuf));
		goto kill;
	}
	if (WEXITSTATUS(status) != 0) {
		strutil_seterr(err, errlen, "exec: command exited with status %d%s%s",
			       WEXITSTATUS(status), elen ? ": " : "", first_line(errbuf));
		goto kill;
	}
	if (!w->in_data) {
		strutil_seterr(err, errlen, "exec: the command wrote no WAV audio%s%s",
			       elen ? ": " : "", first_line(errbuf));
		goto kill;
	}
	rc = pcmsink_finish(w->ps);
	if (rc < 0)
		strutil_seterr(err, errlen, "exec: audio conversion failed");
kill:
	if (!done) {
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
	if (w)
		pcmsink_free(w->ps);
	free(w);
	free(env);
	return rc;
}

static void exec_free(struct tts_engine *e)
{
	(void)e;
}

const struct tts_engine_ops tts_exec_ops = {
	"exec", exec_synth, exec_voice, exec_free,
};

int tts_exec_open(struct tts_engine *e, char *err, size_t errlen)
{
	if (!e->cfg->tts_command[0]) {
		strutil_seterr(err, errlen, "exec: [tts] command is empty");
		return -1;
	}
	e->ops = &tts_exec_ops;
	e->impl = NULL;
	return 0;
}
