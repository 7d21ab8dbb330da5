/* agent_global: the agent mode's process-wide parts, made on its first call: the worker pool
 * (each worker owns a TTS engine), the turn client, the TTS cache, and the result dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "call.h"
#include "config.h"
#include "mode.h"
#include "playsrc.h"
#include "pool.h"
#include "recog.h"
#include "resq.h"
#include "tts.h"
#include "ttscache.h"
#include "turnclient.h"

/* Results waiting for the loop at most: far above what calls in flight make between two
 * wakes (a few per call per 100 ms); past it a result is dropped and counted. */
#define RESQ_MAX 65536
/* A job posts its first audio as soon as one frame is made (latency), then in pieces of
 * about 100 ms (fewer wakes). */
#define POST_FIRST AG_FRAME
#define POST_NEXT (5 * AG_FRAME)

static struct agent_global *global;

struct agent_worker {
	const struct config *cfg;
	struct tts_engine *tts;
	int tts_failed;
};

static void *worker_init(void *arg, int index)
{
	struct agent_worker *w = calloc(1, sizeof(*w));

	(void)index;
	if (w)
		w->cfg = arg;
	return w;
}

static void worker_fini(void *ctx)
{
	struct agent_worker *w = ctx;

	if (!w)
		return;
	tts_engine_free(w->tts);
	free(w);
}

static void wake(void *arg)
{
	call_env_wake(arg);
}

/* --- jobs --- */

struct audio_job {
	struct pool_job job;
	struct agent_global *g;
	unsigned item_id;
	int play;                   /* a Play source, else a Say piece */
	char *text;
	char voice[64], language[32], key_voice[64];
	struct bytebuf acc;         /* made, not yet posted */
	size_t posted;
	struct bytebuf whole;       /* the whole utterance, for the cache */
	int whole_ok;
};

static void job_free(struct audio_job *j)
{
	free(j->text);
	bytebuf_free(&j->acc);
	bytebuf_free(&j->whole);
	free(j);
}

static void job_drop(struct pool_job *pj)
{
	job_free((struct audio_job *)pj);
}

static void post_done(struct audio_job *j, int ok, int cached, const char *why)
{
	struct result *r = result_new(j->job.call_id, j->item_id, RESULT_AUDIO_DONE);

	if (!r)
		return;
	r->a = ok ? 0 : -1;
	r->b = cached;
	snprintf(r->text, sizeof(r->text), "%s", why ? why : "");
	resq_push(j->g->resq, r);
}

/* Hand the audio made so far to the loop (DATA is taken: freed with the result). */
static int post_bytes(struct audio_job *j, uint8_t *data, size_t len)
{
	struct result *r;

	if (!len)
		return 0;
	r = result_new(j->job.call_id, j->item_id, RESULT_AUDIO);
	if (!r) {
		free(data);
		return -1;
	}
	r->data = data;
	r->len = len;
	j->posted += len;
	return resq_push(j->g->resq, r);
}

static int post_audio(struct audio_job *j)
{
	size_t len;
	uint8_t *data = bytebuf_take(&j->acc, &len);

	return post_bytes(j, data, len);
}

static int tts_sink(void *arg, const uint8_t *ulaw, size_t n)
{
	struct audio_job *j = arg;

	if (j->job.cancelled)
		return 1;
	if (bytebuf_add(&j->acc, ulaw, n) < 0)
		return 1;
	/* past the cache's clip size the utterance is not kept whole */
	if (j->whole_ok && bytebuf_add(&j->whole, ulaw, n) < 0)
		j->whole_ok = 0;
	if (j->acc.len >= (j->posted ? POST_NEXT : POST_FIRST))
		return post_audio(j) < 0 ? 1 : 0;
	return 0;
}

static void run_say(struct audio_job *j, struct agent_worker *w)
{
	struct tts_text t = { j->text, j->voice, j->language };
	char err[256];
	int rc;

	if (!w->tts && !w->tts_failed) {
		w->tts = tts_engine_new(w->cfg, err, sizeof(err));
		if (!w->tts) {
			w->tts_failed = 1;
			fprintf(stderr, "callpipe-ws: TTS engine \"%s\" cannot start: %s\n",
				w->cfg->tts_engine, err);
		}
	}
	if (!w->tts) {
		post_done(j, 0, 0, "TTS engine not available (see the helper's log)");
		return;
	}
	j->whole_ok = 1;
	rc = tts_engine_synth(w->tts, &t, tts_sink, j, err, sizeof(err));
	if (rc == 0 && post_audio(j) == 0) {
		if (j->whole_ok && j->whole.len)
			tts_cache_put(j->g->cache, j->g->engine, j->key_voice, j->text,
				      j->whole.data, j->whole.len);
		post_done(j, 1, 0, NULL);
	} else if (rc > 0 || j->job.cancelled) {
		/* the call went: nobody reads what we would post */
	} else {
		post_done(j, 0, 0, rc < 0 ? err : "out of memory");
	}
}

static void run_play(struct audio_job *j)
{
	uint8_t *out = NULL;
	size_t n = 0;
	int cached = 0;
	char err[256];

	if (playsrc_load(j->g->cfg, j->text, &out, &n, &cached, err, sizeof(err)) < 0) {
		post_done(j, 0, 0, err);
		return;
	}
	if (j->job.cancelled) {
		free(out);
		return;
	}
	post_bytes(j, out, n);
	post_done(j, 1, cached, NULL);
}

static void job_run(struct pool_job *pj, void *ctx)
{
	struct audio_job *j = (struct audio_job *)pj;

	if (!j->job.cancelled) {
		if (j->play)
			run_play(j);
		else
			run_say(j, ctx);
	}
	job_free(j);
}

int agent_submit_audio(struct agent_global *g, uint64_t call_id, unsigned item_id, int play,
		       const char *text, size_t len, const char *voice, const char *language,
		       const char *key_voice)
{
	struct audio_job *j = calloc(1, sizeof(*j));

	if (!j || !(j->text = strndup(text, len))) {
		free(j);
		return -1;
	}
	j->job.call_id = call_id;
	j->job.run = job_run;
	j->job.drop = job_drop;
	j->g = g;
	j->item_id = item_id;
	j->play = play;
	bytebuf_init(&j->acc, AG_AUDIO_MAX);
	bytebuf_init(&j->whole, AG_CACHE_CLIP_MAX);
	snprintf(j->voice, sizeof(j->voice), "%s", voice ? voice : "");
	snprintf(j->language, sizeof(j->language), "%s", language ? language : "");
	snprintf(j->key_voice, sizeof(j->key_voice), "%s", key_voice ? key_voice : "");
	return pool_submit(g->pool, &j->job);
}

/* --- the process-wide state --- */

struct agent_global *agent_global_get(struct call *c)
{
	struct agent_global *g;
	char err[256];

	if (global)
		return global;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->cfg = call_config(c);
	g->env = call_get_env(c);
	snprintf(g->engine, sizeof(g->engine), "%s", g->cfg->tts_engine);
	g->resq = resq_new(RESQ_MAX, wake, g->env);
	g->cache = tts_cache_new(g->cfg->tts_cache_bytes);
	g->pool = pool_new(g->cfg->workers, worker_init, worker_fini, (void *)g->cfg);
	if (g->pool && g->resq) {
		/* without a recognizer the agent still speaks and hears keys: said once here */
		g->recog = recog_new(g->cfg, g->pool, g->resq, err, sizeof(err));
		if (!g->recog)
			fprintf(stderr, "callpipe-ws: speech recognition is off: %s\n", err);
	}
	g->turns = g->resq ? turnclient_new(g->cfg, g->resq, err, sizeof(err)) : NULL;
	if (!g->resq || !g->cache || !g->pool || !g->turns) {
		fprintf(stderr, "callpipe-ws: agent mode cannot start: %s\n",
			g->resq && g->cache && g->pool ? err : "out of memory or threads");
		turnclient_free(g->turns);
		pool_free(g->pool);
		if (g->recog)
			recog_free(g->recog);
		tts_cache_free(g->cache);
		resq_free(g->resq);
		free(g);
		return NULL;
	}
	global = g;
	return g;
}

void agent_global_cancel_call(uint64_t call_id)
{
	if (!global)
		return;
	turnclient_cancel(global->turns, call_id);
	pool_cancel_call(global->pool, call_id);
}

void agent_global_end_call(uint64_t call_id)
{
	if (!global)
		return;
	agent_global_cancel_call(call_id);
	if (global->recog)
		recog_cancel_call(global->recog, call_id);
}

void agent_on_wake(struct call_env *env)
{
	struct result *r, *next;

	if (!global)
		return;
	for (r = resq_take_all(global->resq); r; r = next) {
		struct call *c = call_env_find(env, r->call_id);
		struct agent *a = c && call_mode(c) == &mode_agent ? call_mode_state(c) : NULL;

		next = r->next;
		if (a && !a->closing) {
			if (r->kind == RESULT_ASR)
				agent_asr_result(a, r);
			else if (r->kind >= RESULT_TURN_HEAD)
				agent_turn_result(a, r);
			else
				agent_item_result(a, r);
			/* the call may have closed in there; its state lives until on_close */
			if (!a->closing)
				agent_pump(a);
		}
		result_free(r);
	}
}

/* A call still open when the process ends: from here on its hooks do nothing that needs the
 * engines (the transport may still run them while it closes the connection). */
static void quiesce(struct call *c, void *arg)
{
	struct agent *a = call_mode(c) == &mode_agent ? call_mode_state(c) : NULL;

	(void)arg;
	if (!a)
		return;
	a->closing = 1;
	/* the recognizer goes below, before the transport closes this call (on_close) */
	if (a->utt)
		recog_cancel(a->utt);
	a->utt = NULL;
}

void agent_shutdown(void)
{
	struct agent_global *g = global;

	if (!g)
		return;
	call_env_foreach(g->env, quiesce, NULL);
	global = NULL;
	/* threads first: they push into the queue and wake the loop */
	turnclient_free(g->turns);
	pool_free(g->pool);
	if (g->recog)
		recog_free(g->recog);   /* after the pool: no job of it runs any more */
	resq_free(g->resq);
	tts_cache_free(g->cache);
	free(g);
}

struct tts_clip *agent_cache_get(struct agent_global *g, const char *voice, const char *text)
{
	return tts_cache_get(g->cache, g->engine, voice, text);
}
