/* test_vad: endpointing on real speech (pocketsphinx's goforward.raw made 8 kHz µ-law as
 * Twilio sends it), line noise, silence, short bursts, echo margin, floor tracking, cost. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "g711.h"
#include "resample.h"
#include "vad.h"

#define GOFORWARD "/usr/share/pocketsphinx/test/data/goforward.raw"
#define MAXF 4000            /* frames a test signal has at most (80 s) */

/* A signal: whole 20 ms frames of µ-law. */
struct sig {
	uint8_t (*f)[VAD_FRAME];
	size_t n;
};

static uint32_t rnd_state = 12345;

static int rnd_pm(int amp)   /* uniform in [-amp, amp] */
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (int)((rnd_state >> 8) % (unsigned)(2 * amp + 1)) - amp;
}

static void sig_init(struct sig *s)
{
	s->f = calloc(MAXF, VAD_FRAME);
	s->n = 0;
}

/* MS of white noise, uniform in ±AMP (its RMS is AMP / sqrt(3)). */
static void add_noise(struct sig *s, int ms, int amp)
{
	int i, k;

	for (k = 0; k < ms / VAD_FRAME_MS && s->n < MAXF; k++, s->n++)
		for (i = 0; i < VAD_FRAME; i++)
			s->f[s->n][i] = g711_ulaw_encode((int16_t)rnd_pm(amp));
}

/* goforward.raw (16 kHz s16le) resampled to 8 kHz, scaled by GAIN, µ-law; 0 frames when the
 * file is not there. */
static size_t add_goforward(struct sig *s, double gain)
{
	FILE *fp = fopen(GOFORWARD, "rb");
	int16_t in[16000 * 4], out[8000 * 4 + 512];
	size_t n, k, i, before = s->n;
	long m, d;
	char err[128];
	struct resampler *r;

	if (!fp)
		return 0;
	n = fread(in, 2, sizeof(in) / 2, fp);
	fclose(fp);
	r = resampler_new(16000, 8000, 4, err, sizeof(err));
	if (!r)
		return 0;
	m = resampler_run(r, in, n, out, sizeof(out) / 2);
	d = m < 0 ? 0 : resampler_drain(r, out + m, sizeof(out) / 2 - (size_t)m);
	resampler_free(r);
	if (m < 0)
		return 0;
	m += d;
	for (k = 0; k + VAD_FRAME <= (size_t)m && s->n < MAXF; k += VAD_FRAME, s->n++)
		for (i = 0; i < VAD_FRAME; i++) {
			double v = out[k + i] * gain;

			v = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
			s->f[s->n][i] = g711_ulaw_encode((int16_t)v);
		}
	return s->n - before;
}

/* What a run of the VAD over a signal saw. */
struct run {
	int starts, ends, maxes;
	long start_ms, end_ms, speech_ms;   /* of the first start / end (-1: none) */
	long preroll_from_ms;               /* where the first start's pre-roll begins */
	size_t preroll_bytes;
};

static void run_vad(struct vad *v, const struct sig *s, int playing, struct run *r)
{
	size_t k;

	r->starts = r->ends = r->maxes = 0;
	r->start_ms = r->end_ms = r->speech_ms = r->preroll_from_ms = -1;
	r->preroll_bytes = 0;
	for (k = 0; k < s->n; k++) {
		enum vad_event e = vad_frame(v, s->f[k], playing);
		long now_ms = (long)(k + 1) * VAD_FRAME_MS;   /* the end of this frame */

		if (e == VAD_START && !r->starts++) {
			const uint8_t *p1, *p2;
			size_t n1, n2;

			r->start_ms = now_ms;
			vad_preroll(v, &p1, &n1, &p2, &n2);
			r->preroll_bytes = n1 + n2;
			r->preroll_from_ms = now_ms - (long)((n1 + n2) / 8);
			/* the pre-roll's last frame is the one just fed */
			CHECK_MSG(memcmp((p2 ? p2 + n2 : p1 + n1) - VAD_FRAME, s->f[k],
					 VAD_FRAME) == 0, "the pre-roll ends with the current frame");
		} else if ((e == VAD_END || e == VAD_MAX) && r->end_ms < 0) {
			r->end_ms = now_ms;
			r->speech_ms = vad_speech_ms(v);
		}
		r->ends += e == VAD_END;
		r->maxes += e == VAD_MAX;
	}
}

static void fresh(struct vad *v, int timeout_ms, int max_ms)
{
	struct vad_params p;

	vad_params_default(&p);
	vad_init(v, &p);
	vad_arm(v, timeout_ms, max_ms);
}

/* goforward.raw: by inspection (20 ms frame levels) the line noise is about 31 dB, "go"
 * starts at 500 ms, the pauses inside the phrase are at most 140 ms, and "meters" ends at
 * about 2380 ms. The recording is followed by 1 s of its own level of noise. */
static void test_goforward(struct vad *v)
{
	struct sig s;
	struct run r;
	size_t n;

	sig_init(&s);
	n = add_goforward(&s, 1.0);
	if (!n) {
		printf("# skip: %s missing (pocketsphinx-testdata)\n", GOFORWARD);
		CHECK_MSG(0, "goforward.raw is installed (pocketsphinx-testdata)");
		free(s.f);
		return;
	}
	add_noise(&s, 1000, 55);   /* RMS 32: the recording's own floor */
	fresh(v, 300, 60000);
	run_vad(v, &s, 0, &r);
	printf("# goforward: start at %ld ms (pre-roll from %ld), end at %ld, speech %ld ms, "
	       "floor %.1f dB\n", r.start_ms, r.preroll_from_ms, r.end_ms, r.speech_ms,
	       (double)vad_floor_db(v));
	CHECK(r.starts == 1);
	CHECK(r.ends == 1);
	/* start confirmed at most 250 ms after the onset (the barge-in goal), never before it */
	CHECK(r.start_ms >= 500 && r.start_ms <= 750);
	/* the pre-roll reaches back before the onset: the first syllable is not lost */
	CHECK(r.preroll_from_ms >= 0 && r.preroll_from_ms <= 480);
	/* end: after the last word + speechTimeout (300 ms), within 200 ms of it */
	CHECK(r.end_ms >= 2380 + 300 - 60 && r.end_ms <= 2380 + 300 + 200);
	CHECK(r.speech_ms >= 1700 && r.speech_ms <= 2100);
	CHECK(vad_floor_db(v) > 20 && vad_floor_db(v) < 35);

	/* a speechTimeout shorter than the phrase's pauses cuts it: the measure above holds */
	fresh(v, 100, 60000);
	run_vad(v, &s, 0, &r);
	printf("# goforward with speechTimeout 100 ms: %d utterances\n", r.starts);
	CHECK(r.starts >= 2);

	/* maxSpeechTime cuts */
	fresh(v, 300, 1000);
	run_vad(v, &s, 0, &r);
	CHECK(r.maxes >= 1);
	CHECK(r.speech_ms == 1000);

	/* real speech at its own level still starts while the agent plays (barge-in) */
	fresh(v, 300, 60000);
	run_vad(v, &s, 1, &r);
	CHECK(r.starts == 1 && r.start_ms <= 750);

	/* echo margin: a sound 15 dB over the line's floor (between the 12 dB margin and the
	 * 18 dB one) starts when the agent is quiet, not while its audio plays */
	s.n = 0;
	add_noise(&s, 2000, 55);
	add_noise(&s, 1000, 300);
	add_noise(&s, 1000, 55);
	fresh(v, 300, 60000);
	run_vad(v, &s, 0, &r);
	CHECK(r.starts == 1);
	fresh(v, 300, 60000);
	run_vad(v, &s, 1, &r);
	CHECK(r.starts == 0);
	free(s.f);
}

static void test_silence_and_noise(struct vad *v)
{
	struct sig s;
	struct run r;
	size_t k;

	sig_init(&s);
	for (s.n = 0; s.n < 500; s.n++)   /* 10 s of µ-law silence */
		memset(s.f[s.n], 0xFF, VAD_FRAME);
	fresh(v, 300, 60000);
	run_vad(v, &s, 0, &r);
	CHECK(r.starts == 0);

	/* line noise, from -60 to -40 dBFS, 20 s each: never speech */
	for (k = 0; k < 3; k++) {
		int amp[] = { 55, 170, 550 };

		s.n = 0;
		add_noise(&s, 20000, amp[k]);
		fresh(v, 300, 60000);
		run_vad(v, &s, 0, &r);
		CHECK_MSG(r.starts == 0, "white noise at line level never starts");
	}
	free(s.f);
}

/* A burst (a cough, a click) over line noise: LEN_MS of loud noise. */
static int burst_starts(struct vad *v, int len_ms)
{
	struct sig s;
	struct run r;

	sig_init(&s);
	add_noise(&s, 2000, 55);
	add_noise(&s, len_ms, 8000);
	add_noise(&s, 2000, 55);
	fresh(v, 300, 60000);
	run_vad(v, &s, 0, &r);
	free(s.f);
	return r.starts;
}

/* A burst of LEN_SAMPLES loud samples starting OFFSET samples into a frame, over line
 * noise: a cough does not keep to our 20 ms frames. */
static int burst_at_starts(struct vad *v, int offset, int len_samples)
{
	struct sig s;
	struct run r;
	int i, at = 100 * VAD_FRAME + offset;   /* 2 s in */

	sig_init(&s);
	add_noise(&s, 4000, 55);
	for (i = 0; i < len_samples; i++, at++)
		s.f[at / VAD_FRAME][at % VAD_FRAME] = g711_ulaw_encode((int16_t)rnd_pm(8000));
	fresh(v, 300, 60000);
	run_vad(v, &s, 0, &r);
	free(s.f);
	return r.starts;
}

static void test_bursts(struct vad *v)
{
	int off, starts150 = 0, starts200 = 0;

	/* 150 ms (1200 samples) touches 9 frames when it straddles frame edges: voiced time is
	 * counted in 5 ms, so it still does not start, at any offset in the frame */
	for (off = 0; off < VAD_FRAME; off += 8) {
		starts150 += burst_at_starts(v, off, 1200);
		starts200 += burst_at_starts(v, off, 1600);
	}
	CHECK(starts150 == 0);
	CHECK(starts200 == VAD_FRAME / 8);

	CHECK(burst_starts(v, 20) == 0);
	CHECK(burst_starts(v, 100) == 0);
	CHECK(burst_starts(v, 160) == 0);
	/* and what is long enough does start (so the above is the minimum at work) */
	CHECK(burst_starts(v, 200) == 1);
	CHECK(burst_starts(v, 400) == 1);
}

/* The floor follows the line: up when it gets noisier (within the block history), down at
 * once when it gets quieter, and speech after loud noise still starts. */
static void test_floor(struct vad *v)
{
	struct sig s;
	struct run r;
	size_t k;
	float quiet, loud;

	sig_init(&s);
	fresh(v, 300, 60000);
	add_noise(&s, 3000, 55);           /* ~30 dB */
	run_vad(v, &s, 0, &r);
	quiet = vad_floor_db(v);
	s.n = 0;
	add_noise(&s, 6000, 1700);         /* ~60 dB: a noisier line */
	run_vad(v, &s, 0, &r);
	loud = vad_floor_db(v);
	printf("# floor: %.1f dB on quiet noise, %.1f dB after 6 s of loud noise\n",
	       (double)quiet, (double)loud);
	CHECK(quiet > 25 && quiet < 33);
	CHECK(loud > 55 && loud < 63);
	/* the jump itself looks like a start; it ends once the floor has caught up */
	CHECK(r.ends == r.starts);
	/* speech well above the loud line is heard (goforward peaks near 70 dB: x4 = +12 dB) */
	s.n = 0;
	if (add_goforward(&s, 4.0)) {
		/* the recording's own quiet parts are far below the loud line: mix them over it */
		size_t i;

		for (k = 0; k < s.n; k++)
			for (i = 0; i < VAD_FRAME; i++) {
				int x = g711_ulaw_decode(s.f[k][i]) + rnd_pm(1700);

				x = x > 32767 ? 32767 : x < -32768 ? -32768 : x;
				s.f[k][i] = g711_ulaw_encode((int16_t)x);
			}
		add_noise(&s, 1000, 1700);
		vad_arm(v, 300, 60000);
		run_vad(v, &s, 0, &r);
		CHECK(r.starts == 1 && r.ends == 1);
	}
	/* quiet again: the floor drops at once */
	s.n = 0;
	add_noise(&s, 500, 55);
	run_vad(v, &s, 0, &r);
	CHECK(vad_floor_db(v) < quiet + 3);
	free(s.f);
}

static void test_cost(struct vad *v)
{
	struct sig s;
	struct timespec t0, t1;
	size_t k, frames = 0;
	int rep, events = 0;
	double ns;

	sig_init(&s);
	add_noise(&s, 2000, 55);
	add_noise(&s, 2000, 5000);
	fresh(v, 300, 60000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (rep = 0; rep < 50; rep++)
		for (k = 0; k < s.n; k++, frames++)
			events += vad_frame(v, s.f[k], 0) != VAD_NONE;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
	     (double)frames;
	printf("# vad: %.0f ns per 20 ms frame (%zu frames, %d events)\n", ns, frames, events);
	/* printed, not asserted: timings belong to `make bench` (docs/BENCHMARKS.md) */
	CHECK(frames == 50 * s.n);
	free(s.f);
}

int main(void)
{
	static struct vad v;   /* 8 KB of ring: not on the stack */

	test_goforward(&v);
	test_silence_and_noise(&v);
	test_bursts(&v);
	test_floor(&v);
	test_cost(&v);
	return check_done();
}
