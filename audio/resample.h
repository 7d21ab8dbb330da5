/* resample: sample-rate conversion of 16-bit mono PCM with speexdsp (speex_resampler_*), in
 * streaming pieces: one converter per stream, fed as audio arrives, drained at the end. */
#ifndef CALLPIPE_RESAMPLE_H
#define CALLPIPE_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

struct resampler;

/* A converter from IN_RATE to OUT_RATE Hz (8000 .. 192000). QUALITY 0 .. 10 (speexdsp's
 * scale; 4 is its VoIP default). NULL with err filled on a bad rate or no memory. */
struct resampler *resampler_new(int in_rate, int out_rate, int quality, char *err,
				size_t errlen);
/* Convert all N_IN samples of IN; writes at most OUT_CAP samples to OUT and returns how many
 * (or -1 when OUT_CAP is too small: resampler_out_max() gives the room to leave). */
long resampler_run(struct resampler *r, const int16_t *in, size_t n_in, int16_t *out,
		   size_t out_cap);
/* Room OUT needs for N_IN input samples. */
size_t resampler_out_max(const struct resampler *r, size_t n_in);
/* The samples still inside the filter (its latency), flushed at the end of a stream:
 * returns how many were written to OUT (at most OUT_CAP). */
long resampler_drain(struct resampler *r, int16_t *out, size_t out_cap);
void resampler_free(struct resampler *r);

#endif
