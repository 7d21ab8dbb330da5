/* ws_fake: the fake transport the callpipe-ws unit tests drive calls through (struct call_io):
 * writable requests counted, the last timer kept, writes counted (copied when asked), a clock. */
#ifndef CALLPIPE_WS_FAKE_H
#define CALLPIPE_WS_FAKE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"

/* Headroom the call must leave before each message (LWS_PRE in the real transport). */
#define FAKE_PRE 16
#define FAKE_OUT_MAX 256

struct fake {
	int want;                 /* writable requests not yet served */
	int64_t timer;            /* last timer asked for, -1 none */
	size_t nout;              /* messages written */
	int keep;                 /* keep NUL-terminated copies of the first FAKE_OUT_MAX in out[] */
	int fail_write;           /* make every write fail */
	char *out[FAKE_OUT_MAX];
};

/* The clock every fake call reads (monotonic µs); tests move it. */
static int64_t fake_clock_us = 1000000;

static inline void fake_want(void *ctx)
{
	((struct fake *)ctx)->want++;
}

static inline void fake_timer(void *ctx, int64_t us)
{
	((struct fake *)ctx)->timer = us;
}

static inline int fake_write(void *ctx, unsigned char *buf, size_t len)
{
	struct fake *f = ctx;

	memset(buf - FAKE_PRE, 0xaa, FAKE_PRE);   /* the headroom is ours to use (ASan checks) */
	if (f->fail_write)
		return -1;
	if (f->keep && f->nout < FAKE_OUT_MAX) {
		f->out[f->nout] = malloc(len + 1);
		memcpy(f->out[f->nout], buf, len);
		f->out[f->nout][len] = '\0';
	}
	f->nout++;
	return 0;
}

static inline int64_t fake_now(void)
{
	return fake_clock_us;
}

static const struct call_io fake_io = { fake_want, fake_timer, fake_write, fake_now };

/* An empty fake (KEEP: copy what is written). */
static inline struct fake fake_init(int keep)
{
	struct fake f;

	memset(&f, 0, sizeof(f));
	f.timer = -1;
	f.keep = keep;
	return f;
}

/* Free the copies and start again, keeping KEEP. */
static inline void fake_reset(struct fake *f)
{
	size_t i;
	int keep = f->keep;

	for (i = 0; i < f->nout && i < FAKE_OUT_MAX; i++)
		free(f->out[i]);
	*f = fake_init(keep);
}

/* Serve writable requests as lws would; -1 once the call hands its close over. */
static inline int fake_pump(struct call *c, struct fake *f)
{
	while (f->want > 0) {
		f->want--;
		if (call_on_writable(c) < 0)
			return -1;
	}
	return 0;
}

#endif
