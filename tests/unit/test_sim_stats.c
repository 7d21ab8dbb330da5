/* test_sim_stats: callpipe-sim's latency percentiles: the nearest-rank definition on small
 * known sets, and the histogram held to the exact answer on random data. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "../../tools/sim/stats.h"

static void test_exact_small(void)
{
	int64_t v[10] = { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 }, one[1] = { 42 };

	/* Nearest rank: P50 of 1..10 is the 5th value, P90 the 9th, P99 and P100 the 10th. */
	CHECK(sim_percentile_exact(v, 10, 50) == 5);
	CHECK(sim_percentile_exact(v, 10, 90) == 9);
	CHECK(sim_percentile_exact(v, 10, 91) == 10);
	CHECK(sim_percentile_exact(v, 10, 99) == 10);
	CHECK(sim_percentile_exact(v, 10, 100) == 10);
	CHECK(sim_percentile_exact(v, 10, 10) == 1);
	CHECK(sim_percentile_exact(v, 10, 0.001) == 1);
	CHECK(sim_percentile_exact(one, 1, 50) == 42);
	CHECK(sim_percentile_exact(v, 0, 50) == 0);
}

static void test_hist_small(void)
{
	struct sim_hist *h = sim_hist_new();
	int i;

	CHECK(sim_hist_percentile(h, 50) == 0 && sim_hist_count(h) == 0 && sim_hist_max(h) == 0);
	for (i = 1; i <= 100; i++)
		sim_hist_add(h, i * 10);   /* 10 µs .. 1000 µs */
	CHECK(sim_hist_count(h) == 100);
	CHECK(sim_hist_percentile(h, 50) == 500);
	CHECK(sim_hist_percentile(h, 99) == 990);
	CHECK(sim_hist_percentile(h, 100) == 1000);
	CHECK(sim_hist_max(h) == 1000);
	CHECK(sim_hist_min(h) == 10);
	CHECK(sim_hist_mean(h) > 504.9 && sim_hist_mean(h) < 505.1);
	/* Out-of-range samples are clamped, never lost. */
	sim_hist_add(h, -5);
	sim_hist_add(h, 999999999999LL);
	CHECK(sim_hist_count(h) == 102);
	CHECK(sim_hist_min(h) == 0);
	CHECK(sim_hist_max(h) == 60000000);
	sim_hist_free(h);
}

/* Bucket width at V: exact below 1 ms, 10 µs to 100 ms, 1 ms beyond. */
static int64_t width(int64_t v)
{
	return v < 1000 ? 1 : v < 100000 ? 10 : 1000;
}

static void test_hist_vs_exact(void)
{
	static const double ps[] = { 1, 10, 50, 90, 99, 99.9, 100 };
	struct sim_hist *h = sim_hist_new();
	int64_t *v = malloc(100000 * sizeof(*v));
	uint32_t r = 7;
	size_t i, k, bad = 0;

	for (i = 0; v && i < 100000; i++) {
		r = r * 1103515245u + 12345u;
		/* A long-tailed mix: mostly sub-millisecond, some tens of ms, a few seconds. */
		switch ((r >> 16) % 10) {
		case 0: v[i] = (r >> 4) % 3000000; break;
		case 1: case 2: v[i] = (r >> 4) % 90000; break;
		default: v[i] = (r >> 4) % 900; break;
		}
		sim_hist_add(h, v[i]);
	}
	for (k = 0; v && k < sizeof(ps) / sizeof(ps[0]); k++) {
		int64_t want = sim_percentile_exact(v, 100000, ps[k]);
		int64_t got = sim_hist_percentile(h, ps[k]);

		/* Never under the truth, and at most one bucket over it. */
		if (got < want || got - want >= width(want)) {
			bad++;
			printf("#   p%g: histogram %lld, exact %lld\n", ps[k], (long long)got,
			       (long long)want);
		}
	}
	CHECK_MSG(v && bad == 0, "histogram percentiles within one bucket of the exact ones");
	free(v);
	sim_hist_free(h);
}

int main(void)
{
	test_exact_small();
	test_hist_small();
	test_hist_vs_exact();
	return check_done();
}
