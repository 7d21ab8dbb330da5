/* recog_harness: what the recognizer tests share: a pool and a resq whose pushes wake a
 * condition variable, a result waited for with a deadline, test audio made with sox. */
#ifndef CALLPIPE_TEST_RECOG_HARNESS_H
#define CALLPIPE_TEST_RECOG_HARNESS_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool.h"
#include "recog.h"
#include "resq.h"

struct harness {
	struct pool *pool;
	struct resq *resq;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int pushes;
};

static void harness_wake(void *arg)
{
	struct harness *h = arg;

	pthread_mutex_lock(&h->mu);
	h->pushes++;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->mu);
}

static inline void harness_init(struct harness *h, int workers)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cond, NULL);
	h->pool = pool_new(workers, NULL, NULL, NULL);
	h->resq = resq_new(64, harness_wake, h);
}

/* The pool first (no job runs any more), then R (may be NULL), then the queue: the order
 * recog_free() needs. */
static inline void harness_fini_recog(struct harness *h, struct recog *r)
{
	pool_free(h->pool);
	h->pool = NULL;
	recog_free(r);
	resq_free(h->resq);
	h->resq = NULL;
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cond);
}

static inline void harness_fini(struct harness *h)
{
	pool_free(h->pool);
	resq_free(h->resq);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cond);
}

static inline double harness_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* The next result (oldest first), waiting up to MS; NULL when none came. */
static inline struct result *harness_wait(struct harness *h, int ms)
{
	static struct result *pending;   /* taken but not yet handed out */
	double end = harness_ms() + ms;

	for (;;) {
		struct result *r;
		int seen;

		pthread_mutex_lock(&h->mu);
		seen = h->pushes;   /* read before taking: a later push changes it */
		pthread_mutex_unlock(&h->mu);
		if (!pending)
			pending = resq_take_all(h->resq);
		if (pending) {
			r = pending;
			pending = r->next;
			r->next = NULL;
			return r;
		}
		double left = end - harness_ms();
		if (left <= 0)
			return NULL;
		struct timespec dl;

		clock_gettime(CLOCK_REALTIME, &dl);
		long long ns = dl.tv_nsec + (long long)(left * 1e6);
		dl.tv_sec += (time_t)(ns / 1000000000);
		dl.tv_nsec = (long)(ns % 1000000000);
		pthread_mutex_lock(&h->mu);
		while (h->pushes == seen &&
		       pthread_cond_timedwait(&h->cond, &h->mu, &dl) == 0)
			;
		pthread_mutex_unlock(&h->mu);
	}
}

/* FILE (any format sox reads; raw 16 kHz s16le when RAW16K) as 8 kHz µ-law, malloc'd. */
static inline uint8_t *harness_ulaw(const char *file, int raw16k, size_t *n)
{
	char cmd[1024];
	uint8_t *buf = malloc(8000 * 120);
	FILE *p;

	snprintf(cmd, sizeof(cmd), "sox -q %s '%s' -t raw -r 8000 -e mu-law -b 8 -c 1 -",
		 raw16k ? "-t raw -r 16000 -e signed-integer -b 16 -c 1 -L" : "", file);
	p = popen(cmd, "r");
	*n = 0;
	if (!p || !buf) {
		free(buf);
		return NULL;
	}
	*n = fread(buf, 1, 8000 * 120, p);
	if (pclose(p) != 0 || *n == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int harness_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Feed N bytes in 20 ms pieces (as Twilio sends them), paced in real time when REALTIME;
 * the median cost of one recog_feed() call in *FEED_NS_PER (ns) when not NULL (the mean is
 * the machine's scheduling more than ours on a shared 2-core box), the mean and p99 printed. */
static inline int harness_feed(struct recog_utt *u, const uint8_t *a, size_t n, int realtime,
			       double *feed_ns_per)
{
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	double t = 0, each[8000];
	size_t pieces = 0;

	for (size_t off = 0; off < n; off += 160) {
		size_t k = n - off < 160 ? n - off : 160;
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (recog_feed(u, a + off, k) < 0)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);

		t += ns;
		if (pieces < sizeof(each) / sizeof(each[0]))
			each[pieces] = ns;
		pieces++;
		if (realtime) {   /* pacing like the network, not waiting for a state */
			next.tv_nsec += 20000000;
			if (next.tv_nsec >= 1000000000) {
				next.tv_sec++;
				next.tv_nsec -= 1000000000;
			}
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		}
	}
	if (feed_ns_per && pieces) {
		size_t k = pieces < 8000 ? pieces : 8000;

		qsort(each, k, sizeof(each[0]), harness_cmp_double);
		*feed_ns_per = each[k / 2];
		printf("# recog_feed per 20 ms piece: median %.0f ns, mean %.0f ns, p99 %.0f ns\n",
		       each[k / 2], t / (double)pieces, each[k * 99 / 100]);
	}
	return 0;
}

#endif
