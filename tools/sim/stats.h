/* stats: latency histograms for echo measurements: microsecond samples into fixed buckets
 * (exact below 1 ms, 10 µs to 100 ms, 1 ms to 60 s), nearest-rank percentiles. */
#ifndef CALLPIPE_SIM_STATS_H
#define CALLPIPE_SIM_STATS_H

#include <stddef.h>
#include <stdint.h>

struct sim_hist;

struct sim_hist *sim_hist_new(void);
void sim_hist_free(struct sim_hist *h);
/* Record one sample in microseconds (negative counts as 0; past 60 s counts as 60 s). */
void sim_hist_add(struct sim_hist *h, int64_t us);
uint64_t sim_hist_count(const struct sim_hist *h);
int64_t sim_hist_max(const struct sim_hist *h);   /* exact; 0 when empty */
int64_t sim_hist_min(const struct sim_hist *h);   /* exact; 0 when empty */
double sim_hist_mean(const struct sim_hist *h);   /* exact; 0 when empty */
/* Nearest-rank percentile P (0 < P <= 100): the smallest recorded value v such that at
 * least ceil(P/100 * count) samples are <= v, reported as the top of v's bucket (so never
 * under the true value, and at most one bucket width over it); 0 when empty. */
int64_t sim_hist_percentile(const struct sim_hist *h, double p);

/* Samples over US (exact at bucket edges: the histogram counts per bucket, so a bucket that
 * straddles US counts whole when its top is over US). */
uint64_t sim_hist_count_over(const struct sim_hist *h, int64_t us);
/* Add every sample of SRC to DST (per-thread histograms merged into one). */
void sim_hist_merge(struct sim_hist *dst, const struct sim_hist *src);

/* The same nearest-rank percentile over a plain array (sorted in place); 0 when N is 0.
 * Exact; the unit tests hold the histogram to it. */
int64_t sim_percentile_exact(int64_t *v, size_t n, double p);

#endif
