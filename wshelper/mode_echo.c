/* mode_echo: the diagnosis mode: a caller hears themselves. One clear before the first
 * echoed frame, then every inbound payload back in order; a mark every [ws] echo_mark_every. */
#include "mode.h"

#include <stdio.h>
#include <stdlib.h>

#include "call.h"
#include "config.h"

struct echo_state {
	unsigned long long frames;   /* echoed so far */
	unsigned long long marks;    /* marks sent so far */
	int cleared;
};

static int echo_start(struct call *c)
{
	struct echo_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -1;
	call_set_mode_state(c, st);
	return 0;
}

static int echo_media(struct call *c, const uint8_t *ulaw, size_t n)
{
	struct echo_state *st = call_mode_state(c);
	int every = call_config(c)->echo_mark_every;
	char name[32];

	if (!st)
		return -1;
	/* Whatever Twilio still buffers from before is not ours to play over: start clean. */
	if (!st->cleared) {
		if (call_send_clear(c) < 0)
			return 0;   /* the call is closing (queue full logs it) */
		st->cleared = 1;
	}
	if (call_send_media(c, ulaw, n) < 0)
		return 0;
	st->frames++;
	if (every > 0 && st->frames % (unsigned long long)every == 0) {
		snprintf(name, sizeof(name), "echo-%llu", ++st->marks);
		call_send_mark(c, name);
	}
	return 0;
}

static void echo_close(struct call *c)
{
	free(call_mode_state(c));
	call_set_mode_state(c, NULL);
}

const struct mode_ops mode_echo = {
	.name = "echo",
	.summary = "return every inbound frame to the caller (after one clear); "
		   "a mark every [ws] echo_mark_every frames",
	.on_start = echo_start,
	.on_media = echo_media,
	.on_close = echo_close,
};
