/* playsrc: where <Play> audio comes from: a path under [agent] media_dir (one that escapes
 * it is refused), or an http(s) URL fetched once into a bounded on-disk cache. */
#ifndef CALLPIPE_PLAYSRC_H
#define CALLPIPE_PLAYSRC_H

#include <stddef.h>
#include <stdint.h>

struct config;

/* Decode what <Play>SRC</Play> names to 8 kHz µ-law (*OUT malloc'd, *N bytes), blocking: call
 * it on a worker thread. SRC is an http:// or https:// URL (fetched with libcurl, at most
 * [agent] play_max_bytes, [tts] timeout_ms; kept under [agent] play_cache_dir, a directory
 * this creates 0750, files 0640, the oldest removed beyond play_cache_bytes) or a relative
 * path under [agent] media_dir ("..", absolute paths and symlinks that leave the directory
 * are refused). *CACHED is set to 1 when a URL came from the disk cache. 0, or -1 with err
 * naming SRC and what was wrong ("outside media_dir", "HTTP 404", libsndfile's message). */
int playsrc_load(const struct config *cfg, const char *src, uint8_t **out, size_t *n,
		 int *cached, char *err, size_t errlen);

#endif
