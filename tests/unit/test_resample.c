/* test_resample: a 1 kHz sine through 22050 -> 8000 keeps its frequency and its length, fed
 * in odd pieces; the pcmsink path (resampled and straight 8 kHz, split little-endian bytes). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "g711.h"
#include "pcmsink.h"
#include "resample.h"

#define PI 3.14159265358979323846

static void sine(int16_t *s, size_t n, int rate, double hz, double amp)
{
	size_t i;

	for (i = 0; i < n; i++)
		s[i] = (int16_t)(amp * sin(2 * PI * hz * (double)i / rate));
}

/* Rising zero crossings per second of S (N samples at RATE), skipping EDGE samples at each
 * end where the filter's start and end may bend the wave. */
static double freq_of(const int16_t *s, size_t n, int rate, size_t edge)
{
	size_t i, first = 0, last = 0, count = 0;

	for (i = edge + 1; i + edge < n; i++)
		if (s[i - 1] < 0 && s[i] >= 0) {
			if (!count)
				first = i;
			last = i;
			count++;
		}
	if (count < 2)
		return 0;
	return (double)(count - 1) * rate / (double)(last - first);
}

static void test_sine(void)
{
	enum { N = 22050 };   /* one second */
	int16_t *in = malloc(N * sizeof(*in)), *out;
	struct resampler *r;
	char err[256] = "";
	size_t off = 0, got = 0, cap;
	long k, peak = 0;
	size_t i;
	double f;

	sine(in, N, 22050, 1000, 16000);
	r = resampler_new(22050, 8000, 4, err, sizeof(err));
	CHECK(r != NULL);
	if (!r) {
		free(in);
		return;
	}
	cap = resampler_out_max(r, N) + 256;
	out = malloc(cap * sizeof(*out));
	/* Pieces of varying, odd sizes, as audio arrives from an engine. */
	while (off < N) {
		size_t take = 1 + (off * 7919) % 997;

		if (take > N - off)
			take = N - off;
		k = resampler_run(r, in + off, take, out + got, cap - got);
		if (k < 0)
			break;
		got += (size_t)k;
		off += take;
	}
	CHECK_MSG(off == N, "all input taken");
	k = resampler_drain(r, out + got, cap - got);
	CHECK(k > 0);
	got += k > 0 ? (size_t)k : 0;
	printf("# 22050 -> 8000: %zu samples out of %d in\n", got, N);
	CHECK_MSG(got >= 8000 - 4 && got <= 8000 + 4, "one second in, one second (8000 +- 4) out");
	f = freq_of(out, got, 8000, 100);
	printf("# frequency out: %.2f Hz\n", f);
	CHECK_MSG(fabs(f - 1000) < 2, "the 1 kHz sine is still 1 kHz");
	for (i = 100; i + 100 < got; i++)
		if (labs((long)out[i]) > peak)
			peak = labs((long)out[i]);
	CHECK_MSG(peak > 14000 && peak < 18000, "amplitude kept (peak near 16000)");
	/* Alignment: skip_zeros puts input sample 0 at output sample 0, so the sine still
	 * starts near zero and rising. */
	CHECK_MSG(abs(out[0]) < 3000 && out[3] > out[0], "no leading silence or delay");
	CHECK(resampler_run(r, in, 1000, out, 10) == -1);   /* OUT too small */
	resampler_free(r);
	free(in);
	free(out);
}

static void test_bad(void)
{
	char err[256] = "";

	CHECK(resampler_new(4000, 8000, 4, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "4000") != NULL);
	CHECK(resampler_new(22050, 8000, 11, err, sizeof(err)) == NULL);
	CHECK(resampler_new(22050, 300000, 4, err, sizeof(err)) == NULL);
	resampler_free(NULL);
}

struct collect {
	uint8_t *buf;
	size_t n, cap;
	int calls, stop_after;
};

static int collect_sink(void *arg, const uint8_t *ulaw, size_t n)
{
	struct collect *c = arg;

	if (c->n + n <= c->cap) {
		memcpy(c->buf + c->n, ulaw, n);
		c->n += n;
	}
	c->calls++;
	return c->stop_after && c->calls >= c->stop_after;
}

static void test_pcmsink(void)
{
	enum { N = 48000 };
	int16_t *in = malloc(N * sizeof(*in)), dec[8000];
	uint8_t *le = malloc(N * 2);
	struct collect c = {malloc(20000), 0, 20000, 0, 0};
	struct pcmsink *p;
	char err[256] = "";
	size_t i, off;
	int rc = 0;

	/* 48 kHz, one second, in bytes split at odd offsets. */
	sine(in, N, 48000, 1000, 12000);
	for (i = 0; i < N; i++) {
		le[2 * i] = (uint8_t)((uint16_t)in[i] & 0xff);
		le[2 * i + 1] = (uint8_t)((uint16_t)in[i] >> 8);
	}
	p = pcmsink_new(48000, collect_sink, &c, err, sizeof(err));
	CHECK(p != NULL);
	for (off = 0; p && off < N * 2 && rc == 0; off += 333) {
		size_t take = N * 2 - off < 333 ? N * 2 - off : 333;

		rc = pcmsink_write_le(p, le + off, take);
	}
	CHECK(rc == 0);
	CHECK(p && pcmsink_finish(p) == 0);
	printf("# pcmsink 48000: %zu bytes in %d calls\n", c.n, c.calls);
	CHECK_MSG(c.n >= 7996 && c.n <= 8004, "one second at 48 kHz is 8000 µ-law bytes");
	for (i = 0; i < 8000 && i < c.n; i++)
		dec[i] = g711_ulaw_decode(c.buf[i]);
	CHECK_MSG(fabs(freq_of(dec, c.n < 8000 ? c.n : 8000, 8000, 100) - 1000) < 2,
		  "split little-endian bytes reassemble into the same 1 kHz sine");
	pcmsink_free(p);

	/* 8 kHz goes straight through: exactly the encoded samples. */
	c.n = 0;
	c.calls = 0;
	p = pcmsink_new(8000, collect_sink, &c, err, sizeof(err));
	CHECK(p != NULL);
	CHECK(p && pcmsink_write(p, in, 5000) == 0);
	CHECK(p && pcmsink_finish(p) == 0);
	CHECK(c.n == 5000);
	CHECK(c.n == 5000 && c.buf[1234] == g711_ulaw_encode(in[1234]));
	CHECK_MSG(c.calls == 5, "in pieces of 1024 samples");
	pcmsink_free(p);

	/* A sink that says stop. */
	c.n = 0;
	c.calls = 0;
	c.stop_after = 2;
	p = pcmsink_new(22050, collect_sink, &c, err, sizeof(err));
	CHECK(p && pcmsink_write(p, in, N) == 1);
	CHECK(c.calls == 2);
	pcmsink_free(p);
	CHECK(pcmsink_new(100, collect_sink, &c, err, sizeof(err)) == NULL);
	free(in);
	free(le);
	free(c.buf);
}

int main(void)
{
	test_sine();
	test_bad();
	test_pcmsink();
	return check_done();
}
