/* simloop: the simulator's choice of event loop for its libwebsockets client context: lws's
 * own poll() loop, or libev on epoll as a foreign loop (cost per ready socket, not per socket). */
#include "simloop.h"

#include <stdlib.h>

#include <ev.h>

/* After lws_context_destroy() a foreign loop must run until lws has closed its watchers;
 * this bounds that run should one stay active (as callpipe-ws does). */
#define TEARDOWN_S 5.0

struct sim_loop {
	struct ev_loop *loop;
	void *foreign[1];
	ev_prepare check;            /* runs before each wait: the place to test DONE */
	int (*done)(void *);
	void (*between)(void *);
	void *arg;
};

struct sim_loop *sim_loop_new(enum sim_loop_kind kind, const char **err)
{
	struct sim_loop *l;

	*err = NULL;
	if (kind == SIM_LOOP_POLL)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l) {
		*err = "out of memory";
		return NULL;
	}
	/* poll() walks every descriptor on each wakeup (every 2 ms tick, every echo); epoll
	 * reports only the ready ones: with thousands of calls that is most of the cost. */
	l->loop = ev_loop_new(EVBACKEND_EPOLL);
	if (!l->loop)
		l->loop = ev_loop_new(EVFLAG_AUTO);
	if (!l->loop) {
		free(l);
		*err = "cannot create a libev loop";
		return NULL;
	}
	return l;
}

void sim_loop_prepare(struct sim_loop *l, struct lws_context_creation_info *info)
{
	if (!l)
		return;
	l->foreign[0] = l->loop;
	info->foreign_loops = l->foreign;
	info->options |= LWS_SERVER_OPTION_LIBEV;
}

static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct sim_loop *l = w->data;

	(void)revents;
	if (l->between)
		l->between(l->arg);
	if (l->done(l->arg))
		ev_break(loop, EVBREAK_ALL);
}

void sim_loop_run(struct sim_loop *l, struct lws_context *ctx, int (*done)(void *),
		  void (*between)(void *), void *arg)
{
	if (!l) {
		while (!done(arg)) {
			if (lws_service(ctx, 0) < 0)
				break;
			if (between)
				between(arg);
		}
		return;
	}
	l->done = done;
	l->between = between;
	l->arg = arg;
	ev_prepare_init(&l->check, on_prepare);
	l->check.data = l;
	ev_prepare_start(l->loop, &l->check);
	ev_run(l->loop, 0);
	ev_prepare_stop(l->loop, &l->check);
}

static void teardown_expired(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

void sim_loop_free(struct sim_loop *l)
{
	ev_timer guard;

	if (!l)
		return;
	/* The guard does not count as active (ev_unref): the run ends when lws's last
	 * watcher stops, or at the guard. */
	ev_timer_init(&guard, teardown_expired, TEARDOWN_S, 0.);
	ev_timer_start(l->loop, &guard);
	ev_unref(l->loop);
	ev_run(l->loop, 0);
	ev_ref(l->loop);
	ev_timer_stop(l->loop, &guard);
	ev_loop_destroy(l->loop);
	free(l);
}

const char *sim_loop_name(const struct sim_loop *l)
{
	if (!l)
		return "poll";
	return ev_backend(l->loop) == EVBACKEND_EPOLL ? "libev (epoll)" : "libev (other backend)";
}
