/* stats: latency histograms for echo measurements: microsecond samples into fixed buckets
 * (exact below 1 ms, 10 µs to 100 ms, 1 ms to 60 s), nearest-rank percentiles. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

/* Bucket layout: [0, 1000) µs one per µs; [1 ms, 100 ms) one per 10 µs; [100 ms, 60 s]
 * one per ms. 1000 + 9900 + 59901 buckets of 8 bytes: about 570 KiB, allocated once. */
#define B1_END 1000
#define B2_END 100000
#define B3_END 60000000
#define NB1 B1_END
#define NB2 ((B2_END - B1_END) / 10)
#define NB3 ((B3_END - B2_END) / 1000 + 1)
#define NBUCKETS (NB1 + NB2 + NB3)

struct sim_hist {
	uint64_t count;
	int64_t min, max;
	double sum;
	uint64_t b[NBUCKETS];
};

struct sim_hist *sim_hist_new(void)
{
	return calloc(1, sizeof(struct sim_hist));
}

void sim_hist_free(struct sim_hist *h)
{
	free(h);
}

static size_t bucket_of(int64_t us)
{
	if (us < B1_END)
		return (size_t)us;
	if (us < B2_END)
		return NB1 + (size_t)((us - B1_END) / 10);
	return NB1 + NB2 + (size_t)((us - B2_END) / 1000);
}

/* The largest value bucket I holds. */
static int64_t bucket_top(size_t i)
{
	if (i < NB1)
		return (int64_t)i;
	if (i < NB1 + NB2)
		return B1_END + (int64_t)(i - NB1) * 10 + 9;
	return B2_END + (int64_t)(i - NB1 - NB2) * 1000 + 999;
}

void sim_hist_add(struct sim_hist *h, int64_t us)
{
	if (us < 0)
		us = 0;
	if (us > B3_END)
		us = B3_END;
	if (!h->count || us < h->min)
		h->min = us;
	if (!h->count || us > h->max)
		h->max = us;
	h->count++;
	h->sum += (double)us;
	h->b[bucket_of(us)]++;
}

uint64_t sim_hist_count(const struct sim_hist *h)
{
	return h->count;
}

int64_t sim_hist_max(const struct sim_hist *h)
{
	return h->max;
}

int64_t sim_hist_min(const struct sim_hist *h)
{
	return h->min;
}

double sim_hist_mean(const struct sim_hist *h)
{
	return h->count ? h->sum / (double)h->count : 0.0;
}

/* ceil(P/100 * N), at least 1: the rank nearest-rank percentiles pick. */
static uint64_t rank_of(double p, uint64_t n)
{
	double r = ceil(p / 100.0 * (double)n - 1e-9);

	if (r < 1)
		r = 1;
	if (r > (double)n)
		r = (double)n;
	return (uint64_t)r;
}

int64_t sim_hist_percentile(const struct sim_hist *h, double p)
{
	uint64_t want, seen = 0;
	size_t i;

	if (!h->count)
		return 0;
	want = rank_of(p, h->count);
	for (i = 0; i < NBUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			int64_t top = bucket_top(i);

			/* Never report more than the largest value actually seen. */
			return top > h->max ? h->max : top;
		}
	}
	return h->max;
}

uint64_t sim_hist_count_over(const struct sim_hist *h, int64_t us)
{
	uint64_t n = 0;
	size_t i;

	if (us < 0)
		return h->count;
	if (us >= h->max)
		return 0;
	for (i = bucket_of(us > B3_END ? B3_END : us); i < NBUCKETS; i++)
		if (bucket_top(i) > us)
			n += h->b[i];
	return n;
}

void sim_hist_merge(struct sim_hist *dst, const struct sim_hist *src)
{
	size_t i;

	if (!src->count)
		return;
	if (!dst->count || src->min < dst->min)
		dst->min = src->min;
	if (!dst->count || src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (i = 0; i < NBUCKETS; i++)
		dst->b[i] += src->b[i];
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int64_t sim_percentile_exact(int64_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp64);
	return v[rank_of(p, n) - 1];
}
