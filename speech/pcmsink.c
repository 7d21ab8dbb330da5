/* pcmsink: PCM at any rate to 8 kHz µ-law for a tts_sink_fn, in fixed pieces so memory stays
 * bounded whatever an engine hands over at once (speexdsp resampling, G.711 encoding). */
#include <stdint.h>
#include <stdlib.h>

#include "g711.h"
#include "pcmsink.h"
#include "resample.h"
#include "strutil.h"

#define OUT_RATE 8000
/* Input taken per step: 1024 samples is 46 ms at 22 kHz, small enough that the first µ-law
 * reaches the sink quickly, large enough that the sink is not called per sample. */
#define PIECE 1024
/* resampler_out_max(PIECE) at the largest ratio pcmsink meets (8 kHz in, 8 kHz out is not
 * resampled; the worst is 8001 -> 8000, under 1.0) with room to spare. */
#define OUT_CAP (PIECE + 64)
/* speexdsp's VoIP default: ample for a phone line, and cheap. */
#define QUALITY 4

struct pcmsink {
	struct resampler *rs;   /* NULL when the input is already 8 kHz */
	tts_sink_fn sink;
	void *arg;
	int odd_valid;          /* pcmsink_write_le: a sample's low byte held over */
	uint8_t odd;
	int16_t pcm[OUT_CAP];
	int16_t in[PIECE];      /* pcmsink_write_le's decoded samples */
	uint8_t ulaw[OUT_CAP];
};

struct pcmsink *pcmsink_new(int rate, tts_sink_fn sink, void *arg, char *err, size_t errlen)
{
	struct pcmsink *p;

	if (!sink) {
		strutil_seterr(err, errlen, "pcmsink: no sink");
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		strutil_seterr(err, errlen, "pcmsink: out of memory");
		return NULL;
	}
	if (rate != OUT_RATE) {
		p->rs = resampler_new(rate, OUT_RATE, QUALITY, err, errlen);
		if (!p->rs) {
			free(p);
			return NULL;
		}
	}
	p->sink = sink;
	p->arg = arg;
	return p;
}

/* Encode N 8 kHz samples and hand them over. 0 or 1 (the sink said stop). */
static int emit(struct pcmsink *p, const int16_t *pcm, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		p->ulaw[i] = g711_ulaw_encode(pcm[i]);
	return p->sink(p->arg, p->ulaw, n) ? 1 : 0;
}

int pcmsink_write(struct pcmsink *p, const int16_t *pcm, size_t n)
{
	size_t off = 0;

	while (off < n) {
		size_t take = n - off > PIECE ? PIECE : n - off;
		int rc;

		if (p->rs) {
			long got = resampler_run(p->rs, pcm + off, take, p->pcm, OUT_CAP);

			if (got < 0)
				return -1;
			rc = emit(p, p->pcm, (size_t)got);
		} else {
			rc = emit(p, pcm + off, take);
		}
		if (rc)
			return rc;
		off += take;
	}
	return 0;
}

int pcmsink_write_le(struct pcmsink *p, const uint8_t *bytes, size_t n)
{
	size_t off = 0;

	while (off < n) {
		size_t k = 0;
		int rc;

		if (p->odd_valid) {
			p->in[k++] = (int16_t)(uint16_t)(p->odd | bytes[off++] << 8);
			p->odd_valid = 0;
		}
		while (k < PIECE && n - off >= 2) {
			p->in[k++] = (int16_t)(uint16_t)(bytes[off] | bytes[off + 1] << 8);
			off += 2;
		}
		if (k < PIECE && n - off == 1) {
			/* Half a sample: its high byte comes with the next body piece. */
			p->odd = bytes[off++];
			p->odd_valid = 1;
		}
		rc = pcmsink_write(p, p->in, k);
		if (rc)
			return rc;
	}
	return 0;
}

int pcmsink_finish(struct pcmsink *p)
{
	long got;

	p->odd_valid = 0;
	if (!p->rs)
		return 0;
	got = resampler_drain(p->rs, p->pcm, OUT_CAP);
	if (got < 0)
		return -1;
	return emit(p, p->pcm, (size_t)got);
}

void pcmsink_free(struct pcmsink *p)
{
	if (!p)
		return;
	resampler_free(p->rs);
	free(p);
}
