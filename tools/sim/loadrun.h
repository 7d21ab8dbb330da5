/* loadrun: `callpipe-sim load` over N threads, each with its own libwebsockets context and
 * event loop owning every Nth call; their totals are merged into one report. */
#ifndef CALLPIPE_SIM_LOADRUN_H
#define CALLPIPE_SIM_LOADRUN_H

#include <stddef.h>

#include "report.h"
#include "stream.h"

/* Load runs with more threads than this are refused (each holds a context and 8 MB). */
#define SIM_LOAD_THREADS_MAX 64

struct sim_loadrun;

/* THREADS engines for CFG (ramp: calls per second over all threads). NULL with err. */
struct sim_loadrun *sim_loadrun_new(const struct sim_engine_cfg *cfg, unsigned threads,
				    char *err, size_t errlen);
/* Add a call (as sim_engine_add) to the next thread in turn; -1 on failure. */
int sim_loadrun_add(struct sim_loadrun *r, const char *call_sid, const char *account_sid,
		    const char *params_json);
void sim_loadrun_set_dial(struct sim_loadrun *r, const struct sim_engine_cfg *dial);
/* Run every thread's calls to their end; 0, or -1 when a thread could not start (its calls
 * then never ran: the merged totals say so). */
int sim_loadrun_run(struct sim_loadrun *r);
/* Merge every thread's totals into OUT (initialised by the caller). */
void sim_loadrun_totals(const struct sim_loadrun *r, struct sim_totals *out);
void sim_loadrun_free(struct sim_loadrun *r);

#endif
