/* lateness: how late the load generator put each 20 ms frame on the wire against its
 * schedule, and whether it kept real time (p99 within a bound) so its run measures the server. */
#include "lateness.h"

#include "playout.h"

int64_t sim_lateness_grid_ceil(int64_t grid0, int64_t tick_us, int64_t t)
{
	if (tick_us <= 0 || t <= grid0)
		return grid0;
	return grid0 + (t - grid0 + tick_us - 1) / tick_us * tick_us;
}

int64_t sim_lateness_due(int64_t t0_us, uint32_t frame)
{
	return t0_us + (int64_t)frame * SIM_FRAME_US;
}

void sim_lateness_add(struct sim_hist *h, int64_t due_us, int64_t at_us)
{
	int64_t late = at_us - due_us;

	/* Nothing is done before it is due; should it be (a clock read before the due time
	 * was taken), it counts as on time. */
	sim_hist_add(h, late > 0 ? late : 0);
}

void sim_lateness_record(struct sim_hist *h, int64_t t0_us, uint32_t frame, int64_t sent_us)
{
	sim_lateness_add(h, sim_lateness_due(t0_us, frame), sent_us);
}

int sim_lateness_behind(const struct sim_hist *h, int64_t bound_us)
{
	return sim_hist_count(h) > 0 && sim_hist_percentile(h, 99) > bound_us;
}
