/* tts_int: what the TTS engines (tts_espeak.c, tts_http.c, tts_exec.c) share with the
 * dispatcher in tts.c; private to speech/, nothing else includes it. */
#ifndef CALLPIPE_TTS_INT_H
#define CALLPIPE_TTS_INT_H

#include <stddef.h>

#include "tts.h"

struct tts_engine_ops {
	const char *name;   /* "espeak", "http", "exec" */
	int (*synth)(struct tts_engine *e, const struct tts_text *t, tts_sink_fn sink, void *arg,
		     char *err, size_t errlen);
	/* the voice a synthesis of VOICE / LANGUAGE ("" for the defaults) would use: a function
	 * of the configuration alone, so the agent names it (cache key, log) with no engine */
	void (*voice)(const struct config *cfg, const char *voice, const char *language,
		      char *out, size_t cap);
	void (*free)(struct tts_engine *e);   /* frees impl only */
};

struct tts_engine {
	const struct tts_engine_ops *ops;
	const struct config *cfg;
	void *impl;
};

extern const struct tts_engine_ops tts_espeak_ops, tts_http_ops, tts_exec_ops;

/* Each engine's constructor fills E->ops and E->impl. 0, or -1 with err filled. */
int tts_espeak_open(struct tts_engine *e, char *err, size_t errlen);
int tts_http_open(struct tts_engine *e, char *err, size_t errlen);
int tts_exec_open(struct tts_engine *e, char *err, size_t errlen);

#endif
