/* vad: voice activity detection and endpointing for one call's inbound 8 kHz µ-law, 20 ms
 * frames at a time: frame level against an adaptive noise floor, no allocation per frame. */
#ifndef CALLPIPE_VAD_H
#define CALLPIPE_VAD_H

#include <stddef.h>
#include <stdint.h>

#define VAD_FRAME 160            /* bytes (samples) per frame: 20 ms at 8 kHz */
#define VAD_FRAME_MS 20
/* Frames of audio kept for the pre-roll at most (1 s): preroll_ms + min_speech_ms fit. */
#define VAD_RING 50
/* Per-block minima the floor is the minimum of (VAD_BLOCKS * block length of history). */
#define VAD_BLOCKS 16

/* Levels are in dB of the frame's RMS over 16-bit linear PCM (0 dB = RMS 1; full scale is
 * about 90 dB: subtract 90.3 for dBFS). docs/AGENT.md "Listening" says why each default. */
struct vad_params {
	int margin_db;           /* a frame is voiced above floor + margin (12) */
	int echo_margin_db;      /* the margin while the agent's own audio plays (18) */
	int hold_margin_db;      /* inside speech a frame still counts above floor + this (8) */
	int min_level_db;        /* never voiced below this, whatever the floor (40 = -50 dBFS) */
	int min_speech_ms;       /* voiced time before speech starts (180) */
	int gap_reset_ms;        /* unvoiced time that drops a start not yet confirmed (200) */
	int preroll_ms;          /* audio before the first voiced frame handed over (300) */
	int floor_block_ms;      /* the floor is the lowest frame of the last VAD_BLOCKS blocks of
	                            this length (250: 4 s of history) */
};

enum vad_event {
	VAD_NONE,
	VAD_START,       /* speech started: vad_preroll() has the audio from before it */
	VAD_END,         /* silence for speech_timeout_ms after speech */
	VAD_MAX,         /* speech went on for max_speech_ms: cut there */
};

enum vad_state { VAD_QUIET, VAD_MAYBE, VAD_SPEECH };

struct vad {
	struct vad_params p;
	int speech_timeout_ms, max_speech_ms;
	enum vad_state state;
	/* the floor: minima of the finished blocks, and of the current one */
	float block_min[VAD_BLOCKS];
	unsigned nblocks, block_at;
	float cur_min;
	unsigned cur_frames;
	float floor_db, level_db;   /* after the last frame */
	/* the utterance under way (counts of frames) */
	unsigned voiced;            /* before the start: voiced 5 ms sub-blocks */
	unsigned unvoiced, frames;
	unsigned start_back;        /* at VAD_START: frames of the ring that are the pre-roll */
	long speech_frames;         /* first voiced frame .. last voiced frame */
	/* the last VAD_RING frames, for the pre-roll */
	uint8_t ring[VAD_RING][VAD_FRAME];
	unsigned ring_at, ring_len;
	uint64_t nframes;           /* frames seen since vad_init */
};

/* The defaults above. */
void vad_params_default(struct vad_params *p);
/* Start a VAD with P (copied; bad values clamped to working ones). No allocation: V may be
 * embedded in a call's state. */
void vad_init(struct vad *v, const struct vad_params *p);
/* Endpointing from now on (an utterance under way included): end after SPEECH_TIMEOUT_MS of
 * silence, cut after MAX_SPEECH_MS (0: no cut). The state and the floor are kept: the VAD
 * runs on every frame of a call, and a Gather only changes its timeouts. */
void vad_arm(struct vad *v, int speech_timeout_ms, int max_speech_ms);
/* One 20 ms frame (VAD_FRAME bytes of µ-law). AGENT_PLAYING: the agent's own audio is
 * playing at the caller, so what comes back may be its echo (a higher margin applies). */
enum vad_event vad_frame(struct vad *v, const uint8_t *ulaw, int agent_playing);
/* Right after VAD_START: the audio to hand the recognizer first, oldest first, in at most
 * two pieces (the ring wraps): the pre-roll and the frames that confirmed the start,
 * including the current frame. Returns the number of pieces (0..2). */
int vad_preroll(const struct vad *v, const uint8_t **p1, size_t *n1, const uint8_t **p2,
		size_t *n2);
/* After VAD_END or VAD_MAX: the speech's length in ms (first to last voiced frame). */
long vad_speech_ms(const struct vad *v);
/* The noise floor and the last frame's level, in dB (for logs and tests). */
float vad_floor_db(const struct vad *v);
float vad_level_db(const struct vad *v);

#endif
