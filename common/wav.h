/* wav: read audio for the simulator (RIFF WAVE: PCM 8/16-bit, µ-law; mono or stereo; any
 * rate) as 8 kHz mono samples, and write 8 kHz 16-bit PCM WAV files for recordings. */
#ifndef CALLPIPE_WAV_H
#define CALLPIPE_WAV_H

#include <stddef.h>
#include <stdint.h>

/* Longest input accepted: one hour at 8 kHz. */
#define WAV_MAX_SAMPLES_8K (8000u * 3600)

/* Load PATH. A file that does not start with "RIFF....WAVE" is read as raw µ-law at
 * 8 kHz. Stereo is mixed down, other rates (4000 .. 192000 Hz) are resampled (linear) to
 * 8000 Hz; a result over WAV_MAX_SAMPLES_8K samples is an error, as is a truncated file.
 * *OUT is malloc'd (caller frees; not NULL on success, even for 0 samples).
 * Returns 0 or -1 with err filled (and *OUT NULL, *NSAMPLES 0). */
int wav_load_8k(const char *path, int16_t **out, size_t *nsamples, char *err, size_t errlen);

/* Write N samples of 8 kHz mono 16-bit PCM as a WAV file. 0 or -1 with err. */
int wav_write_8k(const char *path, const int16_t *samples, size_t n, char *err, size_t errlen);

#endif
