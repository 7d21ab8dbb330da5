/* tts_exec: the command engine: `/bin/sh -c COMMAND` gets the text on stdin and writes a WAV
 * on stdout, which is parsed as it streams and sent on while the command still runs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "pcmsink.h"
#include "strutil.h"
#include "subproc.h"
#include "tts.h"
#include "tts_int.h"

/* Bytes before the data chunk (RIFF, fmt, LIST, …): real headers are under 100. */
#define HDR_MAX 4096
#define MAX_CHANNELS 16
#define RATE_MIN 8000
#define RATE_MAX 192000
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

/* Each chunk of the command's stdout, parsed as it arrives. */
static int exec_out(void *arg, const uint8_t *p, size_t n, char *err, size_t errlen)
{
	return wav_feed(arg, p, n, err, errlen);
}

static int exec_synth(struct tts_engine *e, const struct tts_text *t, tts_sink_fn sink,
		      void *arg, char *err, size_t errlen)
{
	const struct config *cfg = e->cfg;
	const char *voice = t->voice && t->voice[0] ? t->voice : cfg->tts_voice;
	const char *lang = t->language && t->language[0] ? t->language : cfg->agent_language;
	char vbuf[ENV_NAME_MAX + CONFIG_STR_MAX], lbuf[ENV_NAME_MAX + CONFIG_STR_MAX];
	char *vars[] = {vbuf, lbuf, NULL};
	struct subproc_job j = {.command = cfg->tts_command, .in = t->text,
				.in_len = strlen(t->text), .timeout_ms = cfg->tts_timeout_ms,
				.tag = "exec", .out = exec_out};
	struct wavparse *w = calloc(1, sizeof(*w));
	int rc = -1;

	snprintf(vbuf, sizeof(vbuf), "CALLPIPE_VOICE=%s", voice);
	snprintf(lbuf, sizeof(lbuf), "CALLPIPE_LANGUAGE=%s", lang);
	j.env = subproc_env(vars);
	if (!w || !j.env) {
		strutil_seterr(err, errlen, "exec: out of memory");
		goto out;
	}
	w->sink = sink;
	w->arg = arg;
	j.arg = w;
	rc = subproc_run(&j, err, errlen);
	if (rc)
		goto out;
	rc = -1;
	if (!w->in_data) {
		strutil_seterr(err, errlen, "exec: the command wrote no WAV audio%s%s",
			       j.errline[0] ? ": " : "", j.errline);
		goto out;
	}
	rc = pcmsink_finish(w->ps);
	if (rc < 0)
		strutil_seterr(err, errlen, "exec: audio conversion failed");
out:
	if (w)
		pcmsink_free(w->ps);
	free(w);
	free(j.env);
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
