/* pcmsink: 16-bit mono PCM at any rate in, 8 kHz µ-law out to a tts_sink_fn, streaming: the
 * one path every engine's audio takes (speexdsp resampling, G.711 encoding). */
#ifndef CALLPIPE_PCMSINK_H
#define CALLPIPE_PCMSINK_H

#include <stddef.h>
#include <stdint.h>

#include "tts.h"

struct pcmsink;

/* Audio at RATE Hz goes to SINK(ARG, …). NULL with err filled. */
struct pcmsink *pcmsink_new(int rate, tts_sink_fn sink, void *arg, char *err, size_t errlen);
/* Convert N samples and hand the µ-law to the sink at once. 0 to go on, 1 when the sink
 * asked to stop, -1 on failure. */
int pcmsink_write(struct pcmsink *p, const int16_t *pcm, size_t n);
/* Little-endian bytes (a network body may split a sample: the odd byte is kept). */
int pcmsink_write_le(struct pcmsink *p, const uint8_t *bytes, size_t n);
/* Drain the resampler's tail into the sink. 0, 1 or -1 as above. */
int pcmsink_finish(struct pcmsink *p);
void pcmsink_free(struct pcmsink *p);

#endif
