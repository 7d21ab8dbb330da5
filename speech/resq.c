/* resq: the result queue from worker threads to the lws thread: a mutex-guarded singly linked
 * list with a bound, taken whole by the loop after the wake callback interrupts its wait. */
#include "resq.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct resq {
	pthread_mutex_t lock;
	struct result *head, *tail;
	size_t count, max;
	unsigned long long dropped;
	void (*wake)(void *arg);
	void *wake_arg;
};

int64_t resq_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct resq *resq_new(size_t max, void (*wake)(void *arg), void *arg)
{
	struct resq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	pthread_mutex_init(&q->lock, NULL);
	q->max = max ? max : 1;
	q->wake = wake;
	q->wake_arg = arg;
	return q;
}

void result_free(struct result *r)
{
	if (!r)
		return;
	if (r->free_data)
		r->free_data(r->data);
	else
		free(r->data);
	free(r);
}

void resq_free(struct resq *q)
{
	struct result *r;

	if (!q)
		return;
	while ((r = q->head)) {
		q->head = r->next;
		result_free(r);
	}
	pthread_mutex_destroy(&q->lock);
	free(q);
}

struct result *result_new(uint64_t call_id, unsigned seq, int kind)
{
	struct result *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->call_id = call_id;
	r->seq = seq;
	r->kind = kind;
	r->t_us = resq_now_us();
	return r;
}

int resq_push(struct resq *q, struct result *r)
{
	int full;

	pthread_mutex_lock(&q->lock);
	full = q->count >= q->max;
	if (full) {
		q->dropped++;
	} else {
		r->next = NULL;
		if (q->tail)
			q->tail->next = r;
		else
			q->head = r;
		q->tail = r;
		q->count++;
	}
	pthread_mutex_unlock(&q->lock);
	if (full) {
		result_free(r);
		return -1;
	}
	/* outside the lock: the wake (lws_cancel_service: a write to an eventfd) may block
	 * briefly, and the loop takes the lock right after it wakes */
	if (q->wake)
		q->wake(q->wake_arg);
	return 0;
}

struct result *resq_take_all(struct resq *q)
{
	struct result *list;

	pthread_mutex_lock(&q->lock);
	list = q->head;
	q->head = q->tail = NULL;
	q->count = 0;
	pthread_mutex_unlock(&q->lock);
	return list;
}

unsigned long long resq_dropped(struct resq *q)
{
	unsigned long long n;

	pthread_mutex_lock(&q->lock);
	n = q->dropped;
	pthread_mutex_unlock(&q->lock);
	return n;
}
