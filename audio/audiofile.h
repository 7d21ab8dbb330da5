/* audiofile: any audio file libsndfile reads (WAV, FLAC, Ogg/Vorbis, …, any rate, any
 * channel count) decoded to 8 kHz µ-law for the phone line: channels mixed, speexdsp resampling. */
#ifndef CALLPIPE_AUDIOFILE_H
#define CALLPIPE_AUDIOFILE_H

#include <stddef.h>
#include <stdint.h>

/* Decode the file at PATH, or the LEN bytes at DATA, into a malloc'd buffer of 8 kHz µ-law
 * (*OUT, *N). More than MAX_OUT bytes of output (MAX_OUT / 8000 seconds) is an error, so a
 * hostile file cannot take the memory. 0, or -1 with err naming the file and the reason
 * (libsndfile's message for a format it cannot read). */
int audiofile_decode_path(const char *path, size_t max_out, uint8_t **out, size_t *n,
			  char *err, size_t errlen);
int audiofile_decode_mem(const void *data, size_t len, size_t max_out, uint8_t **out,
			 size_t *n, char *err, size_t errlen);

#endif
