/* lateness: how late the load generator put each 20 ms frame on the wire against its
 * schedule, and whether it kept real time (p99 within a bound) so its run measures the server. */
#ifndef CALLPIPE_SIM_LATENESS_H
#define CALLPIPE_SIM_LATENESS_H

#include <stdint.h>

#include "stats.h"

/* The default bound: a generator whose sends are p99 more than 5 ms late adds that much to
 * every echo it times and offers less than real-time load; its step is not the server's. */
#define SIM_LATENESS_BOUND_US 5000

/* The first tick of a grid (ticks at GRID0 + k * TICK_US) at or after T: a load call's
 * schedule starts there, so its frames fall due on ticks, not up to a tick before one. */
int64_t sim_lateness_grid_ceil(int64_t grid0, int64_t tick_us, int64_t t);
/* When frame FRAME of a stream whose frame 0 was due at T0_US is due (20 ms apart). */
int64_t sim_lateness_due(int64_t t0_us, uint32_t frame);
/* Record into H how late something due at DUE_US happened at AT_US (early counts 0). */
void sim_lateness_add(struct sim_hist *h, int64_t due_us, int64_t at_us);
/* Record into H how late frame FRAME left: SENT_US minus its due time (early counts 0). */
void sim_lateness_record(struct sim_hist *h, int64_t t0_us, uint32_t frame, int64_t sent_us);
/* 1 when the p99 of H is over BOUND_US: late past the bound. 0 with no samples. */
int sim_lateness_behind(const struct sim_hist *h, int64_t bound_us);

#endif
