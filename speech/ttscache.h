/* ttscache: synthesized utterances kept in memory, keyed by engine, voice and text, bounded
 * in bytes (least recently used out first), so a greeting is synthesized once. Thread-safe. */
#ifndef CALLPIPE_TTSCACHE_H
#define CALLPIPE_TTSCACHE_H

#include <stddef.h>
#include <stdint.h>

struct tts_cache;
/* An immutable, reference-counted piece of 8 kHz µ-law audio. */
struct tts_clip;

/* A cache holding at most MAX_BYTES of audio (0: caches nothing). NULL on no memory. */
struct tts_cache *tts_cache_new(size_t max_bytes);
void tts_cache_free(struct tts_cache *c);
/* The clip for (ENGINE, VOICE, TEXT) with a reference the caller must drop, or NULL. */
struct tts_clip *tts_cache_get(struct tts_cache *c, const char *engine, const char *voice,
			       const char *text);
/* Store a copy of ULAW[0..N) for the key (replacing an older one); a clip larger than a
 * quarter of the cache is not kept. */
void tts_cache_put(struct tts_cache *c, const char *engine, const char *voice,
		   const char *text, const uint8_t *ulaw, size_t n);
/* Entries and bytes held, hits and misses so far (for /metrics and tests). */
void tts_cache_stats(struct tts_cache *c, size_t *entries, size_t *bytes,
		     unsigned long long *hits, unsigned long long *misses);

const uint8_t *tts_clip_data(const struct tts_clip *clip);
size_t tts_clip_len(const struct tts_clip *clip);
void tts_clip_unref(struct tts_clip *clip);

#endif
