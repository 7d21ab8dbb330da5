/* loadrun: `callpipe-sim load` over N threads, each with its own libwebsockets context and
 * event loop owning every Nth call; their totals are merged into one report. */
#include "loadrun.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct share {
	struct sim_engine *eng;
	struct sim_totals t;       /* this thread's own: nothing is shared while running */
	pthread_t th;
	int started;
};

struct sim_loadrun {
	unsigned n, next;
	struct share s[SIM_LOAD_THREADS_MAX];
};

struct sim_loadrun *sim_loadrun_new(const struct sim_engine_cfg *cfg, unsigned threads,
				    char *err, size_t errlen)
{
	struct sim_loadrun *r;
	struct sim_engine_cfg one = *cfg;
	unsigned k;

	if (threads < 1 || threads > SIM_LOAD_THREADS_MAX) {
		snprintf(err, errlen, "threads is 1 to %d", SIM_LOAD_THREADS_MAX);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Each thread starts its share at its share of the rate: together, the same ramp. */
	one.ramp = cfg->ramp / threads;
	for (k = 0; k < threads; k++) {
		sim_totals_init(&r->s[k].t);
		r->n = k + 1;
		/* Contexts are made here, one after the other (lws and OpenSSL set-up is not
		 * meant to race), and only run in the threads. */
		one.no_ssl_global_init = k > 0;
		r->s[k].eng = sim_engine_new(&one, &r->s[k].t, err, errlen);
		if (!r->s[k].eng) {
			sim_loadrun_free(r);
			return NULL;
		}
	}
	return r;
}

int sim_loadrun_add(struct sim_loadrun *r, const char *call_sid, const char *account_sid,
		    const char *params_json)
{
	struct share *s = &r->s[r->next];

	r->next = (r->next + 1) % r->n;
	return sim_engine_add(s->eng, call_sid, account_sid, params_json) < 0 ? -1 : 0;
}

void sim_loadrun_set_dial(struct sim_loadrun *r, const struct sim_engine_cfg *dial)
{
	unsigned k;

	for (k = 0; k < r->n; k++)
		sim_engine_set_dial(r->s[k].eng, dial);
}

static void *run_share(void *arg)
{
	sim_engine_run(((struct share *)arg)->eng);
	return NULL;
}

int sim_loadrun_run(struct sim_loadrun *r)
{
	unsigned k;
	int rc = 0;

	if (r->n == 1) {
		sim_engine_run(r->s[0].eng);   /* no thread for the common case */
		return 0;
	}
	for (k = 0; k < r->n; k++) {
		r->s[k].started = pthread_create(&r->s[k].th, NULL, run_share, &r->s[k]) == 0;
		if (!r->s[k].started) {
			sim_totals_error(&r->s[k].t, 0, "could not start load thread %u: its "
					 "calls did not run", k);
			rc = -1;
		}
	}
	for (k = 0; k < r->n; k++)
		if (r->s[k].started)
			pthread_join(r->s[k].th, NULL);
	return rc;
}

void sim_loadrun_totals(const struct sim_loadrun *r, struct sim_totals *out)
{
	unsigned k;

	for (k = 0; k < r->n; k++)
		sim_totals_merge(out, &r->s[k].t);
}

void sim_loadrun_free(struct sim_loadrun *r)
{
	unsigned k;

	if (!r)
		return;
	for (k = 0; k < r->n; k++) {
		sim_engine_free(r->s[k].eng);
		sim_totals_free(&r->s[k].t);
	}
	free(r);
}
