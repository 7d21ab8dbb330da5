/* asr_exec: the [asr] engine = exec: `/bin/sh -c COMMAND` gets the utterance as a WAV file
 * (8 kHz 16-bit mono) on stdin and writes the transcript as its first stdout line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asr_int.h"
#include "config.h"
#include "strutil.h"
#include "subproc.h"

#define OUT_MAX 4096      /* stdout kept: a transcript line; the rest is read and dropped */

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

/* The command's stdout: what fits of the transcript line; the rest is read and dropped. */
struct xout {
	char buf[OUT_MAX + 1];
	size_t len;
};

static int exec_out(void *arg, const uint8_t *p, size_t n, char *err, size_t errlen)
{
	struct xout *o = arg;
	size_t keep = OUT_MAX - o->len < n ? OUT_MAX - o->len : n;

	(void)err;
	(void)errlen;
	memcpy(o->buf + o->len, p, keep);
	o->len += keep;
	o->buf[o->len] = '\0';
	return 0;
}

static int exec_finish(void *dec, struct asr_out *out, char *err, size_t errlen)
{
	struct xdec *x = dec;
	char *vars[] = {x->lang, x->hints, x->grammar, NULL};
	struct xout o = {.len = 0};
	struct subproc_job j = {.command = x->cfg->asr_command,
				.timeout_ms = x->cfg->asr_timeout_ms, .tag = "asr exec",
				.out = exec_out, .arg = &o};
	uint8_t *wav = asr_wav_bytes(x->pcm.s, x->pcm.n, &j.in_len);
	int rc = -1;

	o.buf[0] = '\0';
	x->pcm.n = 0;
	j.in = wav;
	j.env = subproc_env(vars);
	if (!wav || !j.env) {
		strutil_seterr(err, errlen, "asr exec: out of memory");
		goto out;
	}
	if (subproc_run(&j, err, errlen) < 0)
		goto out;
	out->text = strdup(asr_first_line(o.buf));
	if (!out->text) {
		strutil_seterr(err, errlen, "asr exec: out of memory");
		goto out;
	}
	out->conf = out->text[0] ? 1000 : 0;   /* a command gives no confidence */
	rc = 0;
out:
	free(wav);
	free(j.env);
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
