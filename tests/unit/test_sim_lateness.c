/* test_sim_lateness: the load generator's own lateness from synthetic timestamps: due times,
 * lateness per send, the p99-over-bound verdict at its edges, merged per-thread histograms. */
#include <stdint.h>

#include "check.h"
#include "../../tools/sim/lateness.h"

#define T0 1000000000LL   /* an arbitrary monotonic start, in µs */

static void test_due(void)
{
	CHECK(sim_lateness_due(T0, 0) == T0);
	CHECK(sim_lateness_due(T0, 1) == T0 + 20000);
	CHECK(sim_lateness_due(T0, 50) == T0 + 1000000);
	/* an hour of frames does not overflow 32 bits of microseconds in the product */
	CHECK(sim_lateness_due(0, 180000) == 3600000000LL);
}

static void test_grid(void)
{
	/* ticks at T0, T0+2000, ...: a start between two ticks waits for the next one */
	CHECK(sim_lateness_grid_ceil(T0, 2000, T0) == T0);
	CHECK(sim_lateness_grid_ceil(T0, 2000, T0 + 1) == T0 + 2000);
	CHECK(sim_lateness_grid_ceil(T0, 2000, T0 + 1999) == T0 + 2000);
	CHECK(sim_lateness_grid_ceil(T0, 2000, T0 + 2000) == T0 + 2000);
	CHECK(sim_lateness_grid_ceil(T0, 2000, T0 + 2001) == T0 + 4000);
	CHECK(sim_lateness_grid_ceil(T0, 2000, T0 + 3600000123LL) == T0 + 3600002000LL);
	/* before the grid's first tick: that tick */
	CHECK(sim_lateness_grid_ceil(T0, 2000, T0 - 5000) == T0);
	/* every 20 ms frame of a grid-aligned schedule is itself on a tick */
	CHECK((sim_lateness_due(sim_lateness_grid_ceil(T0, 2000, T0 + 777), 13) - T0) % 2000 == 0);
}

static void test_record(void)
{
	struct sim_hist *h = sim_hist_new();

	sim_lateness_record(h, T0, 0, T0);                  /* on time */
	sim_lateness_record(h, T0, 5, T0 + 100000 + 300);   /* frame 5, 300 µs late */
	sim_lateness_record(h, T0, 7, T0 + 140000 - 50);    /* early: counts as on time */
	CHECK(sim_hist_count(h) == 3);
	CHECK(sim_hist_max(h) == 300);
	CHECK(sim_hist_min(h) == 0);
	CHECK(sim_hist_percentile(h, 50) == 0);
	sim_hist_free(h);
}

/* 100 sends, LATE of them 50 ms late, the rest 1 ms late. */
static struct sim_hist *sends(int late)
{
	struct sim_hist *h = sim_hist_new();
	uint32_t f;

	for (f = 0; f < 100; f++)
		sim_lateness_record(h, T0, f, sim_lateness_due(T0, f) +
				    (f < 100u - (uint32_t)late ? 1000 : 50000));
	return h;
}

static void test_behind(void)
{
	struct sim_hist *h, *empty = sim_hist_new();

	/* Nearest rank: p99 of 100 is the 99th value; one late send in 100 is the 100th. */
	h = sends(1);
	CHECK(!sim_lateness_behind(h, SIM_LATENESS_BOUND_US));
	CHECK(sim_hist_count_over(h, SIM_LATENESS_BOUND_US) == 1);
	sim_hist_free(h);
	h = sends(2);
	CHECK(sim_lateness_behind(h, SIM_LATENESS_BOUND_US));
	CHECK(sim_hist_count_over(h, SIM_LATENESS_BOUND_US) == 2);
	/* the same sends under a looser bound are on time */
	CHECK(!sim_lateness_behind(h, 50000));
	sim_hist_free(h);
	/* exactly at the bound is on time, one microsecond over is behind */
	h = sim_hist_new();
	sim_lateness_record(h, T0, 3, sim_lateness_due(T0, 3) + SIM_LATENESS_BOUND_US);
	CHECK(!sim_lateness_behind(h, SIM_LATENESS_BOUND_US));
	CHECK(sim_hist_count_over(h, SIM_LATENESS_BOUND_US) == 0);
	sim_lateness_record(h, T0, 4, sim_lateness_due(T0, 4) + SIM_LATENESS_BOUND_US + 1);
	CHECK(sim_lateness_behind(h, SIM_LATENESS_BOUND_US));
	sim_hist_free(h);
	/* no sends: nothing to say it fell behind */
	CHECK(!sim_lateness_behind(empty, SIM_LATENESS_BOUND_US));
	sim_hist_free(empty);
}

static void test_merge(void)
{
	struct sim_hist *a = sends(1), *b = sends(1), *all = sim_hist_new();

	/* Each thread alone keeps time; together 2 of 200 late is still p99 on time. */
	sim_hist_merge(all, a);
	sim_hist_merge(all, b);
	CHECK(sim_hist_count(all) == 200);
	CHECK(sim_hist_max(all) == 50000 && sim_hist_min(all) == 1000);
	CHECK(!sim_lateness_behind(all, SIM_LATENESS_BOUND_US));
	/* A third thread that fell behind pulls the merged p99 over. */
	sim_hist_free(b);
	b = sends(10);
	sim_hist_merge(all, b);
	CHECK(sim_hist_count(all) == 300);
	CHECK(sim_lateness_behind(all, SIM_LATENESS_BOUND_US));
	CHECK(sim_hist_count_over(all, SIM_LATENESS_BOUND_US) == 12);
	/* merging an empty histogram changes nothing */
	sim_hist_free(b);
	b = sim_hist_new();
	sim_hist_merge(all, b);
	CHECK(sim_hist_count(all) == 300 && sim_hist_min(all) == 1000);
	sim_hist_free(a);
	sim_hist_free(b);
	sim_hist_free(all);
}

int main(void)
{
	test_due();
	test_grid();
	test_record();
	test_behind();
	test_merge();
	return check_done();
}
