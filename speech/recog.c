/* recog: the recognizer service: each utterance holds one of [asr] decoders decoders while it
 * is fed (or waits for one, its audio buffered), its work runs as pool jobs in order. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "asr_int.h"
#include "config.h"
#include "g711.h"
#include "pool.h"
#include "recog.h"
#include "resq.h"
#include "strutil.h"

/* Audio handed to the engine per step: 250 ms, so a long backlog (an utterance that waited
 * for a decoder) is worked through without holding the lock for long. */
#define STEP_BYTES 2000
#define HINTS_MAX 4096
/* Audio gathered before a job is queued: 100 ms, so a speaking call wakes a worker 10 times
 * a second, not 50; what is left at the end decodes in about a millisecond (RTF ~0.01). */
#define BATCH_BYTES 800

struct slot {
	void *dec;          /* made by the first utterance that needs it (on a worker) */
	int busy;
	int dirty;          /* an utterance was left under way: reset before the next start */
};

struct recog {
	const struct config *cfg;
	struct pool *pool;
	struct resq *resq;
	struct asr_engine eng;
	pthread_mutex_t mu;          /* everything below, and each utterance's shared state */
	struct slot *slots;
	int nslots;
	struct recog_utt *wait_head, *wait_tail;   /* waiting for a decoder, oldest first */
	struct recog_utt *all;       /* every live utterance */
	size_t max_bytes;            /* µ-law bytes per utterance */
	char grammar_root[PATH_MAX]; /* realpath of grammar_dir ("" when it does not exist) */
};

struct recog_utt {
	struct pool_job job;
	struct recog *r;
	struct recog_utt *prev, *next;   /* r->all */
	struct recog_utt *wnext;         /* r->wait_* */
	uint64_t call_id;
	unsigned seq;
	char language[32];
	char *hints;
	char grammar_path[PATH_MAX];
	/* under r->mu */
	uint8_t *buf;                    /* µ-law not yet handed to the engine */
	size_t len, cap, total;
	int slot;                        /* -1: none yet */
	int waiting, scheduled, ended, cancelled, dead;
	/* the job's own (only one job of an utterance runs at a time) */
	int started, failed;
	char err[160];
	int16_t pcm[STEP_BYTES];
};

const char *recog_engine_name(const struct recog *r)
{
	return r->eng.ops->name;
}

static void unlink_utt(struct recog *r, struct recog_utt *u)
{
	if (u->prev)
		u->prev->next = u->next;
	else
		r->all = u->next;
	if (u->next)
		u->next->prev = u->prev;
	if (u->waiting) {
		struct recog_utt **pp = &r->wait_head, *last = NULL;

		while (*pp && *pp != u) {
			last = *pp;
			pp = &(*pp)->wnext;
		}
		if (*pp)
			*pp = u->wnext;
		if (r->wait_tail == u)
			r->wait_tail = last;
		u->waiting = 0;
	}
}

/* Under the lock: give up U's decoder (to the oldest waiter) and free U. Returns the waiter
 * to submit after the lock is dropped, or NULL. */
static struct recog_utt *release_free(struct recog *r, struct recog_utt *u)
{
	struct recog_utt *w = NULL;

	unlink_utt(r, u);
	if (u->slot >= 0) {
		struct slot *s = &r->slots[u->slot];

		/* a decoder left mid-utterance is reset by its next user, on a worker */
		if (u->started)
			s->dirty = 1;
		s->busy = 0;
		if ((w = r->wait_head)) {
			r->wait_head = w->wnext;
			if (!r->wait_head)
				r->wait_tail = NULL;
			w->waiting = 0;
			w->slot = u->slot;
			s->busy = 1;
			if (w->len || w->ended) {
				w->scheduled = 1;
			} else {
				w = NULL;
			}
		}
	}
	free(u->buf);
	free(u->hints);
	free(u);
	return w;
}

static void submit(struct recog *r, struct recog_utt *u)
{
	if (u)
		pool_submit(r->pool, &u->job);   /* a refusal calls utt_drop */
}

static void push_result(struct recog *r, uint64_t call_id, unsigned seq, int ok,
			struct asr_out *o, const char *why)
{
	struct result *res = result_new(call_id, seq, RESULT_ASR);

	if (!res) {
		free(o ? o->text : NULL);
		return;
	}
	res->a = ok ? 0 : -1;
	res->b = ok && o ? o->conf : 0;
	res->data = ok && o && o->text ? o->text : NULL;
	if (!res->data)
		res->data = strdup("");
	else if (o)
		o->text = NULL;
	res->len = res->data ? strlen(res->data) : 0;
	if (!res->data)
		res->a = -1;
	snprintf(res->text, sizeof(res->text), "%s", ok ? (o ? o->warn : "") : why);
	res->t_us = resq_now_us();
	resq_push(r->resq, res);
}

/* Start the engine on U's decoder, making or resetting it first. */
static int start_utt(struct recog *r, struct recog_utt *u)
{
	struct slot *s = &r->slots[u->slot];   /* ours while we hold it: no lock needed */
	struct asr_req q = {u->language, u->hints ? u->hints : "", u->grammar_path};

	if (!s->dec) {
		s->dec = r->eng.ops->dec_new(&r->eng, u->err, sizeof(u->err));
		if (!s->dec)
			return -1;
	}
	if (s->dirty) {
		r->eng.ops->reset(s->dec);
		s->dirty = 0;
	}
	u->started = 1;
	return r->eng.ops->start(s->dec, &q, u->err, sizeof(u->err));
}

static void utt_run(struct pool_job *job, void *worker_ctx)
{
	struct recog_utt *u = (struct recog_utt *)((char *)job - offsetof(struct recog_utt, job));
	struct recog *r = u->r;
	uint8_t step[STEP_BYTES];

	(void)worker_ctx;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		size_t n;

		if (u->cancelled) {
			struct recog_utt *w = release_free(r, u);

			pthread_mutex_unlock(&r->mu);
			submit(r, w);
			return;
		}
		if (u->len == 0 && !u->ended) {
			u->scheduled = 0;
			pthread_mutex_unlock(&r->mu);
			return;
		}
		if (u->len == 0) {
			struct asr_out out = {0};
			struct slot *s = &r->slots[u->slot];
			uint64_t call_id = u->call_id;
			unsigned seq = u->seq;
			struct recog_utt *w;
			int ok = 0;

			pthread_mutex_unlock(&r->mu);
			if (!u->failed && !u->started && start_utt(r, u) < 0)
				u->failed = 1;
			if (!u->failed) {
				if (r->eng.ops->finish(s->dec, &out, u->err, sizeof(u->err)) < 0)
					u->failed = 1;
				else
					ok = 1;
				u->started = 0;   /* the decoder is back at rest */
			}
			pthread_mutex_lock(&r->mu);
			/* recog_cancel_call may have come meanwhile: then no result */
			if (!u->cancelled)
				push_result(r, call_id, seq, ok, &out, u->err);
			else
				free(out.text);
			w = release_free(r, u);
			pthread_mutex_unlock(&r->mu);
			submit(r, w);
			return;
		}
		n = u->len < STEP_BYTES ? u->len : STEP_BYTES;
		memcpy(step, u->buf, n);
		memmove(u->buf, u->buf + n, u->len - n);
		u->len -= n;
		pthread_mutex_unlock(&r->mu);
		if (!u->failed && !u->started && start_utt(r, u) < 0)
			u->failed = 1;
		if (!u->failed) {
			for (size_t i = 0; i < n; i++)
				u->pcm[i] = g711_ulaw_decode(step[i]);
			if (r->eng.ops->feed(r->slots[u->slot].dec, u->pcm, n, u->err,
					     sizeof(u->err)) < 0)
				u->failed = 1;
		}
		pthread_mutex_lock(&r->mu);
	}
}

/* The pool dropped a queued job (it is shutting down, or the call's jobs were cancelled):
 * no job of U will run any more. */
static void utt_drop(struct pool_job *job)
{
	struct recog_utt *u = (struct recog_utt *)((char *)job - offsetof(struct recog_utt, job));
	struct recog *r = u->r;
	struct recog_utt *w = NULL;

	pthread_mutex_lock(&r->mu);
	u->scheduled = 0;
	u->dead = 1;
	if (u->cancelled) {
		w = release_free(r, u);
	} else if (u->ended) {
		push_result(r, u->call_id, u->seq, 0, NULL, "asr: the recognizer stopped");
		w = release_free(r, u);
	}
	pthread_mutex_unlock(&r->mu);
	submit(r, w);
}

/* NAME must be a plain file name ending in .gram whose real path is inside grammar_dir. */
static int grammar_resolve(struct recog *r, const char *name, char *out, char *err,
			   size_t errlen)
{
	char path[PATH_MAX * 2], real[PATH_MAX];
	size_t n = strlen(name), root = strlen(r->grammar_root);
	struct stat st;

	if (n < 6 || n > 255 || strchr(name, '/') || strstr(name, "..") ||
	    strcmp(name + n - 5, ".gram") != 0 || name[0] == '.') {
		strutil_seterr(err, errlen, "asr: grammar \"%.80s\" refused: a file name ending in "
			       ".gram, without '/' or '..'", name);
		return -1;
	}
	if (!root) {
		strutil_seterr(err, errlen, "asr: [asr] grammar_dir %.200s does not exist",
			       r->cfg->asr_grammar_dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", r->grammar_root, name);
	if (!realpath(path, real) || stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
		strutil_seterr(err, errlen, "asr: grammar \"%.80s\" not found in [asr] grammar_dir",
			       name);
		return -1;
	}
	/* a symlink inside grammar_dir may point out of it: the real path decides */
	if (strncmp(real, r->grammar_root, root) != 0 || real[root] != '/') {
		strutil_seterr(err, errlen, "asr: grammar \"%.80s\" is outside [asr] grammar_dir",
			       name);
		return -1;
	}
	snprintf(out, PATH_MAX, "%s", real);
	return 0;
}

struct recog_utt *recog_begin(struct recog *r, uint64_t call_id, unsigned seq,
			      const struct recog_opts *o, char *err, size_t errlen)
{
	struct recog_utt *u = calloc(1, sizeof(*u));
	const char *lang = o && o->language && o->language[0] ? o->language
							      : r->cfg->agent_language;

	if (!u) {
		strutil_seterr(err, errlen, "asr: out of memory");
		return NULL;
	}
	if (o && o->grammar && o->grammar[0] &&
	    grammar_resolve(r, o->grammar, u->grammar_path, err, errlen) < 0) {
		free(u);
		return NULL;
	}
	if (o && o->hints && strlen(o->hints) > HINTS_MAX) {
		strutil_seterr(err, errlen, "asr: hints longer than %d characters", HINTS_MAX);
		free(u);
		return NULL;
	}
	if (o && o->hints && o->hints[0] && !(u->hints = strdup(o->hints))) {
		strutil_seterr(err, errlen, "asr: out of memory");
		free(u);
		return NULL;
	}
	snprintf(u->language, sizeof(u->language), "%s", lang);
	u->r = r;
	u->call_id = call_id;
	u->seq = seq;
	u->slot = -1;
	/* call_id 0: pool_cancel_call() of a call leaves these jobs alone; recog_cancel_call()
	 * is how a call's utterances go */
	u->job.call_id = 0;
	u->job.run = utt_run;
	u->job.drop = utt_drop;
	pthread_mutex_lock(&r->mu);
	u->next = r->all;
	if (r->all)
		r->all->prev = u;
	r->all = u;
	for (int i = 0; i < r->nslots; i++)
		if (!r->slots[i].busy) {
			r->slots[i].busy = 1;
			u->slot = i;
			break;
		}
	if (u->slot < 0) {
		u->waiting = 1;
		if (r->wait_tail)
			r->wait_tail->wnext = u;
		else
			r->wait_head = u;
		r->wait_tail = u;
	}
	pthread_mutex_unlock(&r->mu);
	return u;
}

int recog_feed(struct recog_utt *u, const uint8_t *ulaw, size_t n)
{
	struct recog *r = u->r;
	int go = 0;

	pthread_mutex_lock(&r->mu);
	if (u->dead || n > r->max_bytes - u->total) {
		pthread_mutex_unlock(&r->mu);
		return -1;
	}
	if (u->len + n > u->cap) {
		size_t cap = u->cap ? u->cap : 4096;
		uint8_t *b;

		while (cap < u->len + n)
			cap *= 2;
		b = realloc(u->buf, cap);
		if (!b) {
			pthread_mutex_unlock(&r->mu);
			return -1;
		}
		u->buf = b;
		u->cap = cap;
	}
	memcpy(u->buf + u->len, ulaw, n);
	u->len += n;
	u->total += n;
	if (u->slot >= 0 && !u->scheduled && u->len >= BATCH_BYTES)
		go = u->scheduled = 1;
	pthread_mutex_unlock(&r->mu);
	if (go)
		submit(r, u);
	return 0;
}

void recog_end(struct recog_utt *u)
{
	struct recog *r = u->r;
	struct recog_utt *w = NULL;
	int go = 0;

	pthread_mutex_lock(&r->mu);
	u->ended = 1;
	if (u->dead) {
		push_result(r, u->call_id, u->seq, 0, NULL, "asr: the recognizer stopped");
		w = release_free(r, u);
	} else if (u->slot >= 0 && !u->scheduled) {
		go = u->scheduled = 1;
	}
	pthread_mutex_unlock(&r->mu);
	submit(r, w);
	if (go)
		submit(r, u);
}

/* Under the lock: U's owner gives it up. Returns a waiter to submit. */
static struct recog_utt *cancel_locked(struct recog *r, struct recog_utt *u)
{
	u->cancelled = 1;
	if (u->scheduled)
		return NULL;   /* its job frees it */
	return release_free(r, u);
}

void recog_cancel(struct recog_utt *u)
{
	struct recog *r;
	struct recog_utt *w;

	if (!u)
		return;
	r = u->r;
	pthread_mutex_lock(&r->mu);
	w = cancel_locked(r, u);
	pthread_mutex_unlock(&r->mu);
	submit(r, w);
}

void recog_cancel_call(struct recog *r, uint64_t call_id)
{
	struct recog_utt *u, *next, *subs = NULL;

	pthread_mutex_lock(&r->mu);
	for (u = r->all; u; u = next) {
		next = u->next;
		if (u->call_id == call_id && !u->cancelled) {
			struct recog_utt *w = cancel_locked(r, u);

			/* a waiter that got a decoder: queued here, submitted after the lock */
			if (w) {
				w->wnext = subs;
				subs = w;
			}
		}
	}
	pthread_mutex_unlock(&r->mu);
	while ((u = subs)) {
		subs = u->wnext;
		u->wnext = NULL;
		submit(r, u);
	}
}

static const struct asr_engine_ops *engine_ops(const char *name)
{
	if (strcmp(name, "http") == 0)
		return &asr_http_ops;
	if (strcmp(name, "exec") == 0)
		return &asr_exec_ops;
	return &asr_sphinx_ops;
}

struct recog *recog_new(const struct config *cfg, struct pool *pool, struct resq *resq,
			char *err, size_t errlen)
{
	struct recog *r = calloc(1, sizeof(*r));

	if (!r || !(r->slots = calloc((size_t)cfg->asr_decoders, sizeof(*r->slots)))) {
		strutil_seterr(err, errlen, "asr: out of memory");
		free(r);
		return NULL;
	}
	r->cfg = cfg;
	r->pool = pool;
	r->resq = resq;
	r->nslots = cfg->asr_decoders;
	r->max_bytes = (size_t)cfg->asr_max_seconds * 8000;
	if (!realpath(cfg->asr_grammar_dir, r->grammar_root))
		r->grammar_root[0] = '\0';   /* grammars refused until it exists */
	pthread_mutex_init(&r->mu, NULL);
	r->eng.ops = engine_ops(cfg->asr_engine);
	r->eng.cfg = cfg;
	if (r->eng.ops->open(&r->eng, err, errlen) < 0)
		goto fail;
	/* One decoder now: a wrong model path or key is a start-up error, not a first-call
	 * one, and the first utterance does not wait for a model to load. */
	r->slots[0].dec = r->eng.ops->dec_new(&r->eng, err, errlen);
	if (!r->slots[0].dec) {
		r->eng.ops->close(&r->eng);
		goto fail;
	}
	return r;
fail:
	pthread_mutex_destroy(&r->mu);
	free(r->slots);
	free(r);
	return NULL;
}

void recog_free(struct recog *r)
{
	if (!r)
		return;
	/* No job runs now: what the owners did not give up goes here. */
	while (r->all)
		release_free(r, r->all);
	for (int i = 0; i < r->nslots; i++)
		if (r->slots[i].dec)
			r->eng.ops->dec_free(r->slots[i].dec);
	r->eng.ops->close(&r->eng);
	pthread_mutex_destroy(&r->mu);
	free(r->slots);
	free(r);
}
