/* logq: a mutex-guarded FIFO of formatted lines, each holding a reference to its call's log
 * handle (so the handle outlives the call until its last line is written), and one thread. */
#include "logq.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

struct ent {
	struct ent *next;
	struct calllog_file *f;
	size_t len;
	char line[];
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	struct ent *head, *tail;
	size_t lines, bytes;
	unsigned long long dropped;
	int running, stopping;
} q = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static struct ratelimit drop_limit = RATELIMIT_INIT(RATELIMIT_LINES_PER_S);

static void *writer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&q.lock);
	for (;;) {
		struct ent *batch, *e;
		size_t n = 0, bytes = 0;

		while (!q.head && !q.stopping)
			pthread_cond_wait(&q.cond, &q.lock);
		if (!q.head)
			break;   /* stopping, and everything is written */
		batch = q.head;
		q.head = q.tail = NULL;
		pthread_mutex_unlock(&q.lock);
		/* The file I/O, off the lock: the loop can queue meanwhile. */
		while ((e = batch)) {
			batch = e->next;
			calllog_file_write(e->f, e->line, e->len);
			calllog_file_unref(e->f);
			n++;
			bytes += e->len;
			free(e);
		}
		pthread_mutex_lock(&q.lock);
		q.lines -= n;
		q.bytes -= bytes;
	}
	pthread_mutex_unlock(&q.lock);
	return NULL;
}

int logq_start(void)
{
	sigset_t all, old;
	int rc;

	if (q.running)
		return 0;
	/* Signals belong to the loop thread (its handler wakes lws). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	q.stopping = 0;
	rc = pthread_create(&q.thread, NULL, writer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -1;
	q.running = 1;
	return 0;
}

static void report_drop(const char *line, size_t len)
{
	char msg[256];
	size_t i = 0, words = 0, o;
	int n;

	/* Name the event (the line's third word) so the reader knows what is missing. */
	while (i < len && words < 2)
		if (line[i++] == ' ')
			words++;
	for (o = i; o < len && o - i < 40 && line[o] != ' ' && line[o] != '\n'; o++)
		;
	n = snprintf(msg, sizeof(msg), "callpipe-ws: call log queue full (%d lines or %d bytes "
		     "waiting for the disk): line dropped: %.*s\n", LOGQ_MAX_LINES, LOGQ_MAX_BYTES,
		     (int)(o - i), line + i);
	if (n > 0 && (size_t)n < sizeof(msg))
		ratelimit_stderr(&drop_limit, "callpipe-ws", msg, (size_t)n);
}

void logq_write(struct calllog_file *f, const char *line, size_t len)
{
	struct ent *e;

	if (!f)
		return;
	if (!q.running) {
		calllog_file_write(f, line, len);
		return;
	}
	pthread_mutex_lock(&q.lock);
	if (q.lines >= LOGQ_MAX_LINES || q.bytes + len > LOGQ_MAX_BYTES ||
	    !(e = malloc(sizeof(*e) + len))) {
		q.dropped++;
		pthread_mutex_unlock(&q.lock);
		report_drop(line, len);
		return;
	}
	e->next = NULL;
	e->f = calllog_file_ref(f);
	e->len = len;
	memcpy(e->line, line, len);
	if (q.tail)
		q.tail->next = e;
	else
		q.head = e;
	q.tail = e;
	q.lines++;
	q.bytes += len;
	pthread_cond_signal(&q.cond);
	pthread_mutex_unlock(&q.lock);
}

void logq_stop(void)
{
	if (!q.running)
		return;
	pthread_mutex_lock(&q.lock);
	q.stopping = 1;
	pthread_cond_signal(&q.cond);
	pthread_mutex_unlock(&q.lock);
	pthread_join(q.thread, NULL);
	q.running = 0;
}

unsigned long long logq_dropped(void)
{
	unsigned long long n;

	pthread_mutex_lock(&q.lock);
	n = q.dropped;
	pthread_mutex_unlock(&q.lock);
	return n;
}
