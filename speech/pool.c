/* pool: a fixed set of worker threads taking jobs from one locked FIFO; each worker owns the
 * context its INIT made (a TTS engine, which is not thread-safe), so jobs never share one. */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>

struct worker {
	struct pool *pool;
	pthread_t thread;
	int index, started;
	struct pool_job *running;   /* guarded by pool->lock */
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pool_job *head, *tail;
	unsigned queued;
	int stopping;
	int nworkers;
	void *(*init)(void *arg, int index);
	void (*fini)(void *ctx);
	void *arg;
	struct worker *workers;
};

static void *worker_main(void *p)
{
	struct worker *w = p;
	struct pool *pool = w->pool;
	void *ctx = pool->init ? pool->init(pool->arg, w->index) : NULL;

	for (;;) {
		struct pool_job *job;

		pthread_mutex_lock(&pool->lock);
		while (!pool->head && !pool->stopping)
			pthread_cond_wait(&pool->cond, &pool->lock);
		if (pool->stopping) {
			pthread_mutex_unlock(&pool->lock);
			break;
		}
		job = pool->head;
		pool->head = job->next;
		if (!pool->head)
			pool->tail = NULL;
		pool->queued--;
		w->running = job;
		pthread_mutex_unlock(&pool->lock);

		job->run(job, ctx);   /* frees (or hands on) the job */

		pthread_mutex_lock(&pool->lock);
		w->running = NULL;
		pthread_mutex_unlock(&pool->lock);
	}
	if (pool->fini)
		pool->fini(ctx);
	return NULL;
}

struct pool *pool_new(int nworkers, void *(*init)(void *arg, int index),
		      void (*fini)(void *ctx), void *arg)
{
	struct pool *p = calloc(1, sizeof(*p));
	int i;

	if (!p)
		return NULL;
	p->workers = calloc((size_t)(nworkers > 0 ? nworkers : 1), sizeof(*p->workers));
	if (!p->workers) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->init = init;
	p->fini = fini;
	p->arg = arg;
	for (i = 0; i < (nworkers > 0 ? nworkers : 1); i++) {
		p->workers[i].pool = p;
		p->workers[i].index = i;
		if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0) {
			pool_free(p);
			return NULL;
		}
		p->workers[i].started = 1;
		p->nworkers = i + 1;
	}
	return p;
}

int pool_submit(struct pool *p, struct pool_job *job)
{
	pthread_mutex_lock(&p->lock);
	if (p->stopping) {
		pthread_mutex_unlock(&p->lock);
		if (job->drop)
			job->drop(job);
		return -1;
	}
	job->next = NULL;
	job->cancelled = 0;
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	p->queued++;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Take the queued jobs matching (ALL or CALL_ID) off the list under the lock; drop them
 * after it, since a drop callback may free memory or take other locks. */
static void cancel_matching(struct pool *p, int all, uint64_t call_id)
{
	struct pool_job **pp, *dropped = NULL, *j;
	int i;

	pthread_mutex_lock(&p->lock);
	for (pp = &p->head; *pp;) {
		j = *pp;
		if (all || j->call_id == call_id) {
			*pp = j->next;
			j->next = dropped;
			dropped = j;
			p->queued--;
		} else {
			pp = &j->next;
		}
	}
	p->tail = NULL;
	for (j = p->head; j; j = j->next)
		p->tail = j;
	for (i = 0; i < p->nworkers; i++)
		if (p->workers[i].running && (all || p->workers[i].running->call_id == call_id))
			p->workers[i].running->cancelled = 1;
	pthread_mutex_unlock(&p->lock);
	while ((j = dropped)) {
		dropped = j->next;
		if (j->drop)
			j->drop(j);
	}
}

void pool_cancel_call(struct pool *p, uint64_t call_id)
{
	cancel_matching(p, 0, call_id);
}

unsigned pool_queued(struct pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->queued;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void pool_free(struct pool *p)
{
	int i;

	if (!p)
		return;
	cancel_matching(p, 1, 0);
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nworkers; i++)
		if (p->workers[i].started)
			pthread_join(p->workers[i].thread, NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p->workers);
	free(p);
}
