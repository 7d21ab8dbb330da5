/* tts: text to speech behind one small interface: espeak-ng (embedded), an OpenAI-compatible
 * HTTP API, or a command. Audio is streamed out as 8 kHz µ-law while it is being made. */
#ifndef CALLPIPE_TTS_H
#define CALLPIPE_TTS_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct tts_engine;

/* One utterance. VOICE and LANGUAGE may be "" (then [tts] voice and [agent] language). */
struct tts_text {
	const char *text;       /* UTF-8, plain text */
	const char *voice;      /* engine-specific voice name, "" for the default */
	const char *language;   /* BCP-47 (en-US, he-IL), "" for the default */
};

/* Called on the synthesizing thread with each piece of audio as soon as it is made: 8 kHz
 * µ-law, N bytes (any N, not framed). Return 0 to go on, non-zero to stop synthesis. */
typedef int (*tts_sink_fn)(void *arg, const uint8_t *ulaw, size_t n);

/* The engine [tts] engine names, for one thread: an engine is used by one thread at a time
 * (callers make one per worker). espeak-ng keeps global state: every espeak engine shares it
 * under one process-wide lock held for a whole utterance, so the sink must be quick and must
 * not call tts_* itself. NULL with err filled. */
struct tts_engine *tts_engine_new(const struct config *cfg, char *err, size_t errlen);
/* Synthesize T, calling SINK as audio is made. 0 when done, 1 when SINK stopped it, -1 on
 * failure with err filled (one line naming what failed: engine, HTTP status, exit code). */
int tts_engine_synth(struct tts_engine *e, const struct tts_text *t, tts_sink_fn sink,
		     void *arg, char *err, size_t errlen);
/* "espeak", "http" or "exec". */
const char *tts_engine_name(const struct tts_engine *e);
/* The voice the engine would use for VOICE / LANGUAGE (after defaults and mapping, e.g.
 * en-US -> "en-us" for espeak): for the cache key and the call log. */
void tts_engine_voice(const struct tts_engine *e, const char *voice, const char *language,
		      char *out, size_t cap);
void tts_engine_free(struct tts_engine *e);
/* What tts_engine_voice() says for an engine of CFG, without one: the agent names the voice
 * (cache key, call log) on its own thread while the engines live on workers. */
void tts_voice(const struct config *cfg, const char *voice, const char *language, char *out,
	       size_t cap);

/* espeak-ng's voice for a BCP-47 language tag: "en-US" -> "en-us", "he-IL" -> "he",
 * "pt-BR" -> "pt-br", "fr-FR" -> "fr"; the tag lower-cased when nothing better is known. */
void tts_espeak_voice_for(const char *language, char *out, size_t cap);

#endif
