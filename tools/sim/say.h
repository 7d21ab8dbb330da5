/* say: what the simulated caller says (`call --agent --say FILE`): an audio file made into
 * the 8 kHz µ-law frames Twilio would send, and where in it the voice starts and ends. */
#ifndef CALLPIPE_SIM_SAY_H
#define CALLPIPE_SIM_SAY_H

#include <stddef.h>
#include <stdint.h>

/* One clip is at most this long: a caller's turn, not a recording to replay. */
#define SIM_SAY_MAX_SECONDS 120
/* --say-raw-rate's default: pocketsphinx-testdata's raw files (goforward.raw) are 16 kHz. */
#define SIM_SAY_RAW_RATE 16000

struct sim_say_clip {
	char *path;                  /* as given (malloc'd copy) */
	uint8_t *ulaw;               /* whole 160-byte frames, the last padded with silence */
	size_t len;
	/* The voice: from the first 20 ms frame above SIM_AGENT_RMS_FLOOR to the end of the
	 * last one (byte offsets into ULAW); VOICE_TO 0 when no frame is (silence, a hum). */
	size_t voice_from, voice_to;
};

/* 1 when PATH names raw audio (16-bit little-endian mono: ".raw", ".pcm", ".s16"), read
 * at --say-raw-rate; anything else is a file libsndfile reads (WAV, FLAC, Ogg…). */
int sim_say_is_raw(const char *path);

/* Load PATH into C (any rate, any channels; RAW_RATE for raw files), resampled to 8 kHz
 * with speexdsp, µ-law, padded to whole frames. 0, or -1 with ERR (the file, the reason). */
int sim_say_load(struct sim_say_clip *c, const char *path, int raw_rate, char *err,
		 size_t cap);
void sim_say_clip_free(struct sim_say_clip *c);

/* Where the voice is in LEN bytes of µ-law (see struct sim_say_clip). */
void sim_say_voice(const uint8_t *ulaw, size_t len, size_t *from, size_t *to);

#endif
