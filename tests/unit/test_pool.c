/* test_pool: the worker pool and the result queue: every job runs exactly once or is dropped,
 * cancel by call id, a running job sees its cancel flag, a full queue drops, wakes happen. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "pool.h"
#include "resq.h"

static atomic_int wakes, inits, finis, ran, dropped_jobs;

struct tjob {
	struct pool_job job;
	struct resq *q;
	int hold_ms;          /* block this long (polling the cancel flag) */
	atomic_int *saw_cancel;
	atomic_int *started;
};

static void wake(void *arg)
{
	(void)arg;
	atomic_fetch_add(&wakes, 1);
}

static void *winit(void *arg, int index)
{
	(void)arg;
	atomic_fetch_add(&inits, 1);
	return (void *)(long)(index + 1);
}

static void wfini(void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&finis, 1);
}

static void trun(struct pool_job *j, void *ctx)
{
	struct tjob *t = (struct tjob *)j;
	int waited = 0;

	if (t->started)
		atomic_store(t->started, 1);
	while (waited < t->hold_ms && !j->cancelled) {
		usleep(1000);
		waited++;
	}
	if (j->cancelled && t->saw_cancel)
		atomic_store(t->saw_cancel, 1);
	atomic_fetch_add(&ran, 1);
	if (t->q) {
		struct result *r = result_new(j->call_id, 0, 1);

		r->a = (long)ctx;   /* which worker context ran it */
		resq_push(t->q, r);
	}
	free(t);
}

static void tdrop(struct pool_job *j)
{
	atomic_fetch_add(&dropped_jobs, 1);
	free(j);
}

static struct tjob *mk(struct resq *q, uint64_t call_id, int hold_ms)
{
	struct tjob *t = calloc(1, sizeof(*t));

	t->job.call_id = call_id;
	t->job.run = trun;
	t->job.drop = tdrop;
	t->q = q;
	t->hold_ms = hold_ms;
	return t;
}

static int count_list(struct result *r, long *ctx_mask)
{
	int n = 0;

	while (r) {
		struct result *next = r->next;

		if (ctx_mask)
			*ctx_mask |= 1L << r->a;
		n++;
		result_free(r);
		r = next;
	}
	return n;
}

static void test_all_run(void)
{
	struct resq *q = resq_new(1000, wake, NULL);
	struct pool *p = pool_new(3, winit, wfini, NULL);
	int i, got = 0, tries;
	long mask = 0;

	atomic_store(&ran, 0);
	atomic_store(&wakes, 0);
	for (i = 0; i < 100; i++)
		pool_submit(p, &mk(q, (uint64_t)i, i % 7 == 0 ? 2 : 0)->job);
	for (tries = 0; tries < 2000 && got < 100; tries++) {
		got += count_list(resq_take_all(q), &mask);
		if (got < 100)
			usleep(1000);
	}
	CHECK(got == 100);
	CHECK(atomic_load(&ran) == 100);
	CHECK(atomic_load(&wakes) == 100);
	CHECK(atomic_load(&inits) == 3);
	CHECK_MSG((mask & ~0xeL) == 0 && mask != 0, "results come from the 3 workers' contexts");
	pool_free(p);
	CHECK(atomic_load(&finis) == 3);
	resq_free(q);
}

static void test_cancel(void)
{
	struct resq *q = resq_new(1000, NULL, NULL);
	struct pool *p = pool_new(1, NULL, NULL, NULL);
	atomic_int saw = 0, started = 0;
	struct tjob *blocker = mk(q, 7, 5000);
	int i, tries;

	blocker->saw_cancel = &saw;
	blocker->started = &started;
	atomic_store(&ran, 0);
	atomic_store(&dropped_jobs, 0);
	pool_submit(p, &blocker->job);
	for (tries = 0; tries < 2000 && !atomic_load(&started); tries++)
		usleep(1000);
	for (i = 0; i < 10; i++)
		pool_submit(p, &mk(q, i % 2 ? 7 : 8, 0)->job);
	CHECK(pool_queued(p) == 10);
	pool_cancel_call(p, 7);   /* 5 queued dropped, the running blocker told */
	CHECK(atomic_load(&dropped_jobs) == 5);
	CHECK(pool_queued(p) <= 5);
	for (tries = 0; tries < 3000 && atomic_load(&ran) < 6; tries++)
		usleep(1000);
	CHECK_MSG(atomic_load(&saw) == 1, "the running job of the cancelled call saw cancelled");
	CHECK(atomic_load(&ran) == 6);
	pool_free(p);
	count_list(resq_take_all(q), NULL);
	resq_free(q);
}

static void test_free_drops_queued(void)
{
	struct pool *p = pool_new(1, NULL, NULL, NULL);
	atomic_int started = 0;
	struct tjob *blocker = mk(NULL, 1, 100000);
	int i, tries;

	blocker->started = &started;
	atomic_store(&dropped_jobs, 0);
	pool_submit(p, &blocker->job);
	for (tries = 0; tries < 2000 && !atomic_load(&started); tries++)
		usleep(1000);
	for (i = 0; i < 4; i++)
		pool_submit(p, &mk(NULL, 2, 0)->job);
	pool_free(p);   /* must not wait 100 s: the running job is cancelled */
	CHECK(atomic_load(&dropped_jobs) == 4);
}

static void test_queue_full(void)
{
	struct resq *q = resq_new(3, NULL, NULL);
	int i, rc = 0;

	for (i = 0; i < 5; i++)
		rc += resq_push(q, result_new(1, (unsigned)i, 2));
	CHECK(rc == -2);
	CHECK(resq_dropped(q) == 2);
	{
		struct result *r = resq_take_all(q);

		CHECK(r && r->seq == 0 && r->next && r->next->seq == 1);
		CHECK(count_list(r, NULL) == 3);
	}
	CHECK(resq_take_all(q) == NULL);
	resq_free(q);
}

int main(void)
{
	test_all_run();
	test_cancel();
	test_free_drops_queued();
	test_queue_full();
	return check_done();
}
