/* pool: worker threads for slow work (speech synthesis, file decoding, fetching): a queue of
 * jobs, each worker owning its own engine context; cancel by call id; join on shutdown. */
#ifndef CALLPIPE_POOL_H
#define CALLPIPE_POOL_H

#include <stdint.h>

struct pool;

/* A job. The submitter allocates it; the pool calls exactly one of RUN (on a worker, with
 * the worker's context) or DROP (cancelled before it ran), and never touches it after. */
struct pool_job {
	struct pool_job *next;
	uint64_t call_id;
	_Atomic int cancelled;       /* set by pool_cancel_call() while RUN may be running */
	void (*run)(struct pool_job *job, void *worker_ctx);
	void (*drop)(struct pool_job *job);
};

/* NWORKERS threads; each calls INIT(ARG, index) once at start for its context (NULL is a
 * valid context) and FINI(ctx) before it exits. NULL when a thread cannot start. */
struct pool *pool_new(int nworkers, void *(*init)(void *arg, int index),
		      void (*fini)(void *ctx), void *arg);
/* Queue JOB. -1 when the pool is shutting down (JOB is then dropped). */
int pool_submit(struct pool *p, struct pool_job *job);
/* Drop the queued jobs of CALL_ID and mark its running ones cancelled. */
void pool_cancel_call(struct pool *p, uint64_t call_id);
/* Jobs waiting. */
unsigned pool_queued(struct pool *p);
/* Drop every queued job, mark running ones cancelled, join the workers, free. */
void pool_free(struct pool *p);

#endif
