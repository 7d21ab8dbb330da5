/* resample: resample.h over speexdsp's integer mono resampler, with the filter's initial
 * delay skipped and its tail flushed at the end so a stream keeps its length. */
#include <stdint.h>
#include <stdlib.h>

#include <speex/speex_resampler.h>

#include "resample.h"
#include "strutil.h"

#define RATE_MIN 8000
#define RATE_MAX 192000
/* speexdsp takes a spx_uint32_t length per call: feed it in slices well below that, which also
 * bounds each call's work. */
#define SLICE 65536u

struct resampler {
	SpeexResamplerState *st;
	int in_rate, out_rate;
};

struct resampler *resampler_new(int in_rate, int out_rate, int quality, char *err,
				size_t errlen)
{
	struct resampler *r;
	int e = 0;

	if (in_rate < RATE_MIN || in_rate > RATE_MAX || out_rate < RATE_MIN ||
	    out_rate > RATE_MAX) {
		strutil_seterr(err, errlen, "resampler: rate %d -> %d Hz out of range %d .. %d",
			       in_rate, out_rate, RATE_MIN, RATE_MAX);
		return NULL;
	}
	if (quality < 0 || quality > 10) {
		strutil_seterr(err, errlen, "resampler: quality %d out of range 0 .. 10", quality);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		strutil_seterr(err, errlen, "resampler: out of memory");
		return NULL;
	}
	r->st = speex_resampler_init(1, (spx_uint32_t)in_rate, (spx_uint32_t)out_rate, quality,
				     &e);
	if (!r->st) {
		strutil_seterr(err, errlen, "resampler: %s", speex_resampler_strerror(e));
		free(r);
		return NULL;
	}
	/* Without this the output starts with input_latency samples of silence (the filter
	 * filling up): skipping them keeps the output aligned with the input, and the drain
	 * at the end gives back exactly the tail they would have pushed out. */
	speex_resampler_skip_zeros(r->st);
	r->in_rate = in_rate;
	r->out_rate = out_rate;
	return r;
}

size_t resampler_out_max(const struct resampler *r, size_t n_in)
{
	/* n_in * ratio, rounded up, plus slack for the filter's fractional phase carried over
	 * from the previous call. */
	return (size_t)(((uint64_t)n_in * (uint64_t)r->out_rate + (uint64_t)r->in_rate - 1) /
			(uint64_t)r->in_rate) + 4;
}

long resampler_run(struct resampler *r, const int16_t *in, size_t n_in, int16_t *out,
		   size_t out_cap)
{
	size_t done_in = 0, done_out = 0;

	while (done_in < n_in) {
		size_t want_in = n_in - done_in, room = out_cap - done_out;
		spx_uint32_t il, ol;

		if (want_in > SLICE)
			want_in = SLICE;
		if (room > SLICE * 2)
			room = SLICE * 2;
		if (room == 0)
			return -1;
		il = (spx_uint32_t)want_in;
		ol = (spx_uint32_t)room;
		if (speex_resampler_process_int(r->st, 0, in + done_in, &il, out + done_out, &ol) !=
		    RESAMPLER_ERR_SUCCESS)
			return -1;
		/* No input taken and no output made: OUT is full, the caller left too little. */
		if (il == 0 && ol == 0)
			return -1;
		done_in += il;
		done_out += ol;
	}
	return (long)done_out;
}

long resampler_drain(struct resampler *r, int16_t *out, size_t out_cap)
{
	static const int16_t zeros[256];
	/* The samples still in the filter are its output latency: stop there so the zeros
	 * fed in to push them out add no silence of their own. */
	size_t left_in = (size_t)speex_resampler_get_input_latency(r->st);
	size_t want_out = (size_t)speex_resampler_get_output_latency(r->st), done = 0;

	if (want_out > out_cap)
		want_out = out_cap;
	while (left_in > 0 && done < want_out) {
		spx_uint32_t il = (spx_uint32_t)(left_in < 256 ? left_in : 256);
		spx_uint32_t ol = (spx_uint32_t)(want_out - done);

		if (speex_resampler_process_int(r->st, 0, zeros, &il, out + done, &ol) !=
		    RESAMPLER_ERR_SUCCESS)
			return -1;
		if (il == 0 && ol == 0)
			break;
		left_in -= il;
		done += ol;
	}
	return (long)done;
}

void resampler_free(struct resampler *r)
{
	if (!r)
		return;
	speex_resampler_destroy(r->st);
	free(r);
}
