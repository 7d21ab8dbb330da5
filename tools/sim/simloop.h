/* simloop: the simulator's choice of event loop for its libwebsockets client context: lws's
 * own poll() loop, or libev on epoll as a foreign loop (cost per ready socket, not per socket). */
#ifndef CALLPIPE_SIM_SIMLOOP_H
#define CALLPIPE_SIM_SIMLOOP_H

#include <libwebsockets.h>

enum sim_loop_kind { SIM_LOOP_POLL, SIM_LOOP_LIBEV };

struct sim_loop;

/* A loop of KIND for one context (NULL for SIM_LOOP_POLL, or when libev cannot make one:
 * *err says so). With a loop, sim_loop_prepare() fills INFO before lws_create_context(). */
struct sim_loop *sim_loop_new(enum sim_loop_kind kind, const char **err);
void sim_loop_prepare(struct sim_loop *l, struct lws_context_creation_info *info);
/* Run CTX until DONE() says so; between rounds of events, BETWEEN (may be NULL) runs outside
 * every lws callback. With L NULL this is lws_service() in a loop. */
void sim_loop_run(struct sim_loop *l, struct lws_context *ctx, int (*done)(void *),
		  void (*between)(void *), void *arg);
/* After lws_context_destroy(): let lws close its watchers (bounded), then free L. */
void sim_loop_free(struct sim_loop *l);
/* "poll", "libev (epoll)" or "libev (<other backend>)". */
const char *sim_loop_name(const struct sim_loop *l);

#endif
