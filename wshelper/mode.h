/* mode: what a call does with its stream. Every mode (echo today, agent modes later) sees
 * each event of a call through these hooks and answers only through call_send_*(). */
#ifndef CALLPIPE_MODE_H
#define CALLPIPE_MODE_H

#include <stddef.h>
#include <stdint.h>

struct call;
struct call_env;

/* Hooks run on the lws thread and must never block: slow work (TTS, ASR, HTTP) goes to a
 * worker thread that hands results back through a queue and lws_cancel_service().
 * A hook returning -1 closes the call (1011, "mode error"). Any hook may be NULL. */
struct mode_ops {
	const char *name;
	const char *summary;   /* one line for --help */
	/* start arrived (call_stream_sid(), call_sid(), call_param() are set) */
	int (*on_start)(struct call *c);
	/* one inbound media payload, decoded µ-law, in order */
	int (*on_media)(struct call *c, const uint8_t *ulaw, size_t n);
	int (*on_dtmf)(struct call *c, const char *digit);
	/* a mark we sent came back: its audio has played, or a clear flushed it */
	int (*on_mark)(struct call *c, const char *name);
	int (*on_stop)(struct call *c);
	/* last hook of every started call, whoever closed: free per-call mode state here */
	void (*on_close)(struct call *c);
	/* the timer set with call_set_mode_timer() fired */
	int (*on_timer)(struct call *c);
	/* the queued media fell to the low-water mark given to call_want_drain() */
	int (*on_drain)(struct call *c);
	/* the loop was woken (a worker pushed results): runs once per wake for the process,
	 * not per call; ENV finds calls by id */
	void (*on_wake)(struct call_env *env);
	/* the process is ending, before the transport goes: cancel work, join threads */
	void (*shutdown)(void);
};

extern const struct mode_ops mode_echo;
extern const struct mode_ops mode_agent;

/* The mode called NAME, or NULL. */
const struct mode_ops *mode_find(const char *name);
/* The NULL-terminated list of modes, for --help. */
const struct mode_ops *const *mode_list(void);
/* Every mode's on_wake (the loop's wake callback), and every mode's shutdown. */
void mode_wake_all(struct call_env *env);
void mode_shutdown_all(void);

#endif
