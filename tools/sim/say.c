/* say: what the simulated caller says (`call --agent --say FILE`): an audio file made into
 * the 8 kHz µ-law frames Twilio would send, and where in it the voice starts and ends. */
#include "say.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent.h"
#include "audiofile.h"
#include "g711.h"
#include "playout.h"

/* A raw file is read whole before conversion: 120 s of 16-bit audio at 192 kHz at most. */
#define RAW_MAX_BYTES ((size_t)SIM_SAY_MAX_SECONDS * 192000 * 2)

int sim_say_is_raw(const char *path)
{
	static const char *const ext[] = { ".raw", ".pcm", ".s16" };
	size_t n = strlen(path), i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (n > 4 && strcasecmp(path + n - 4, ext[i]) == 0)
			return 1;
	return 0;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v & 0xFFFF);
	put16(p + 2, v >> 16);
}

/* Raw s16le mono at RATE: given a WAV header in memory, it takes the same libsndfile and
 * speexdsp path as any other file, so both kinds are converted alike. */
static int load_raw(const char *path, int rate, uint8_t **out, size_t *n, char *err,
		    size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t len = 0, bcap = RAW_MAX_BYTES / 64;
	uint8_t *buf = NULL, *p;
	int r = -1;

	if (!f) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Read into room after the header, doubling it up to RAW_MAX_BYTES. */
	for (;;) {
		p = realloc(buf, 44 + bcap);
		if (!p) {
			snprintf(err, cap, "%s: out of memory", path);
			goto out;
		}
		buf = p;
		len += fread(buf + 44 + len, 1, bcap - len, f);
		if (len < bcap)
			break;
		if (bcap >= RAW_MAX_BYTES) {
			snprintf(err, cap, "%s: longer than %d s at %d Hz", path, SIM_SAY_MAX_SECONDS,
				 rate);
			goto out;
		}
		bcap *= 2;
	}
	if (ferror(f)) {
		snprintf(err, cap, "%s: read error", path);
		goto out;
	}
	if (!len) {
		snprintf(err, cap, "%s: no audio in it", path);
		goto out;
	}
	if (len % 2) {
		snprintf(err, cap, "%s: %zu bytes is not a whole number of 16-bit samples", path,
			 len);
		goto out;
	}
	memcpy(buf, "RIFF", 4);
	put32(buf + 4, (uint32_t)(36 + len));
	memcpy(buf + 8, "WAVEfmt ", 8);
	put32(buf + 16, 16);
	put16(buf + 20, 1);                      /* PCM */
	put16(buf + 22, 1);                      /* mono */
	put32(buf + 24, (uint32_t)rate);
	put32(buf + 28, (uint32_t)rate * 2);
	put16(buf + 32, 2);
	put16(buf + 34, 16);
	memcpy(buf + 36, "data", 4);
	put32(buf + 40, (uint32_t)len);
	r = audiofile_decode_mem(buf, 44 + len, (size_t)SIM_SAY_MAX_SECONDS * 8000, out, n, err,
				 cap);
	if (r) {
		char why[200];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, cap, "%s (raw, %d Hz): %s", path, rate, why);
	}
out:
	free(buf);
	fclose(f);
	return r;
}

void sim_say_voice(const uint8_t *ulaw, size_t len, size_t *from, size_t *to)
{
	size_t f, i, frames = len / SIM_FRAME_BYTES;
	int any = 0;

	*from = *to = 0;
	for (f = 0; f < frames; f++) {
		double sq = 0;

		for (i = 0; i < SIM_FRAME_BYTES; i++) {
			double s = g711_ulaw_decode(ulaw[f * SIM_FRAME_BYTES + i]);

			sq += s * s;
		}
		if (sqrt(sq / SIM_FRAME_BYTES) <= SIM_AGENT_RMS_FLOOR)
			continue;
		if (!any)
			*from = f * SIM_FRAME_BYTES;
		any = 1;
		*to = (f + 1) * SIM_FRAME_BYTES;
	}
}

int sim_say_load(struct sim_say_clip *c, const char *path, int raw_rate, char *err,
		 size_t cap)
{
	uint8_t *pcm = NULL, *p;
	size_t n = 0, whole;
	int r;

	memset(c, 0, sizeof(*c));
	if (sim_say_is_raw(path))
		r = load_raw(path, raw_rate, &pcm, &n, err, cap);
	else
		r = audiofile_decode_path(path, (size_t)SIM_SAY_MAX_SECONDS * 8000, &pcm, &n, err,
					  cap);
	if (r)
		return -1;
	if (!n) {
		free(pcm);
		snprintf(err, cap, "%s: no audio in it", path);
		return -1;
	}
	whole = (n + SIM_FRAME_BYTES - 1) / SIM_FRAME_BYTES * SIM_FRAME_BYTES;
	p = realloc(pcm, whole);
	c->path = strdup(path);
	if (!p || !c->path) {
		free(p ? p : pcm);
		free(c->path);
		c->path = NULL;
		snprintf(err, cap, "%s: out of memory", path);
		return -1;
	}
	memset(p + n, 0xFF, whole - n);   /* µ-law silence */
	c->ulaw = p;
	c->len = whole;
	sim_say_voice(c->ulaw, c->len, &c->voice_from, &c->voice_to);
	return 0;
}

void sim_say_clip_free(struct sim_say_clip *c)
{
	free(c->path);
	free(c->ulaw);
	memset(c, 0, sizeof(*c));
}
