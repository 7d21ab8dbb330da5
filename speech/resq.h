/* resq: results from worker threads to the lws thread: a bounded, locked list, drained in
 * one piece; each push wakes the event loop (lws_cancel_service(), through a callback). */
#ifndef CALLPIPE_RESQ_H
#define CALLPIPE_RESQ_H

#include <stddef.h>
#include <stdint.h>

/* One result. CALL_ID names the call (never a pointer: the call may have ended, and then
 * the result is dropped); SEQ names the job it answers, so a stale one can be told apart. */
struct result {
	struct result *next;
	uint64_t call_id;
	unsigned seq;
	int kind;                    /* the producer's RESULT_* kind */
	long a, b;                   /* small numbers the kind defines */
	int64_t t_us;                /* monotonic µs when it was made */
	void *data;                  /* owned: freed with free_data (free() when NULL) */
	void (*free_data)(void *);
	size_t len;                  /* of data, where the kind says */
	char text[160];              /* a short message (an error, a reason) */
};

struct resq;

/* A queue of at most MAX results; WAKE(ARG) runs (on the pushing thread) after each push. */
struct resq *resq_new(size_t max, void (*wake)(void *arg), void *arg);
/* Frees what is still queued. */
void resq_free(struct resq *q);
/* A zeroed result with CALL_ID, SEQ, KIND and t_us set; NULL on no memory. */
struct result *result_new(uint64_t call_id, unsigned seq, int kind);
void result_free(struct result *r);
/* Queue R (taking it). -1 when the queue is full: R is freed and the drop counted. */
int resq_push(struct resq *q, struct result *r);
/* Everything queued, oldest first, as a list the caller frees with result_free(). */
struct result *resq_take_all(struct resq *q);
/* Results dropped because the queue was full. */
unsigned long long resq_dropped(struct resq *q);

/* Monotonic microseconds. */
int64_t resq_now_us(void);

#endif
