/* vad: voice activity detection and endpointing on 20 ms µ-law frames: a frame's level against
 * a noise floor that follows the quietest recent frames; start, end and cut of an utterance. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "g711.h"
#include "vad.h"

/* Squares of the decoded µ-law values: the level of a frame is 160 lookups and adds. */
static uint32_t sq_table[256];
static pthread_once_t sq_once = PTHREAD_ONCE_INIT;

static void sq_init(void)
{
	int i;

	for (i = 0; i < 256; i++) {
		int32_t s = g711_ulaw_decode((uint8_t)i);

		sq_table[i] = (uint32_t)(s * s);
	}
}

void vad_params_default(struct vad_params *p)
{
	p->margin_db = 12;
	p->echo_margin_db = 18;
	p->hold_margin_db = 8;
	p->min_level_db = 40;
	p->min_speech_ms = 180;
	p->gap_reset_ms = 200;
	p->preroll_ms = 300;
	p->floor_block_ms = 250;
}

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void vad_init(struct vad *v, const struct vad_params *p)
{
	pthread_once(&sq_once, sq_init);
	memset(v, 0, sizeof(*v));
	v->p = *p;
	v->p.margin_db = clamp(p->margin_db, 1, 60);
	v->p.echo_margin_db = clamp(p->echo_margin_db, v->p.margin_db, 60);
	v->p.hold_margin_db = clamp(p->hold_margin_db, 1, v->p.margin_db);
	v->p.min_level_db = clamp(p->min_level_db, 0, 90);
	v->p.min_speech_ms = clamp(p->min_speech_ms, VAD_FRAME_MS, 500);
	v->p.gap_reset_ms = clamp(p->gap_reset_ms, VAD_FRAME_MS, 1000);
	/* the ring holds the pre-roll and the frames that confirm a start */
	v->p.preroll_ms = clamp(p->preroll_ms, 0,
				VAD_RING * VAD_FRAME_MS - v->p.min_speech_ms - v->p.gap_reset_ms);
	v->p.floor_block_ms = clamp(p->floor_block_ms, VAD_FRAME_MS, 10000);
	v->speech_timeout_ms = 1000;
	v->state = VAD_QUIET;
}

void vad_arm(struct vad *v, int speech_timeout_ms, int max_speech_ms)
{
	v->speech_timeout_ms = speech_timeout_ms > VAD_FRAME_MS ? speech_timeout_ms : VAD_FRAME_MS;
	v->max_speech_ms = max_speech_ms > 0 ? max_speech_ms : 0;
}

/* Sub-blocks of a frame (5 ms each): voiced time is counted at this resolution, so a burst
 * that straddles frame edges is not taken for 20 ms more per edge than it lasted. */
#define SUBS 4
#define SUB_LEN (VAD_FRAME / SUBS)

/* The frame's level in dB (10 log10 of the mean square + 1; an all-zero frame is 0 dB) and
 * the sums of squares of its sub-blocks. */
static float frame_level(const uint8_t *ulaw, uint64_t sub[SUBS])
{
	uint64_t sum = 0;
	int i, k;

	for (k = 0; k < SUBS; k++) {
		uint64_t ss = 0;

		for (i = 0; i < SUB_LEN; i++)
			ss += sq_table[ulaw[k * SUB_LEN + i]];
		sub[k] = ss;
		sum += ss;
	}
	return 10.0f * log10f((float)sum / VAD_FRAME + 1.0f);
}

/* Sub-blocks of SUB louder than THR_DB. */
static unsigned voiced_subs(const uint64_t sub[SUBS], float thr_db)
{
	/* the same scale as frame_level, compared as powers: no logarithm per sub-block */
	double pw = pow(10.0, (double)thr_db / 10.0) - 1.0;
	unsigned n = 0;
	int k;

	for (k = 0; k < SUBS; k++)
		n += (double)sub[k] / SUB_LEN > pw;
	return n;
}

/* The floor: the lowest level of the last VAD_BLOCKS blocks and of the current one. A floor
 * that only a minimum sets drops at once when the line gets quieter and rises within
 * VAD_BLOCKS blocks when it gets noisier. */
static void floor_update(struct vad *v, float level)
{
	unsigned block = (unsigned)(v->p.floor_block_ms / VAD_FRAME_MS), i;
	float f;

	if (!v->cur_frames || level < v->cur_min)
		v->cur_min = level;
	if (++v->cur_frames >= block) {
		v->block_min[v->block_at] = v->cur_min;
		v->block_at = (v->block_at + 1) % VAD_BLOCKS;
		if (v->nblocks < VAD_BLOCKS)
			v->nblocks++;
		v->cur_frames = 0;
	}
	f = v->cur_frames ? v->cur_min : 1e9f;
	for (i = 0; i < v->nblocks; i++)
		if (v->block_min[i] < f)
			f = v->block_min[i];
	v->floor_db = f;
}

static void ring_push(struct vad *v, const uint8_t *ulaw)
{
	memcpy(v->ring[v->ring_at], ulaw, VAD_FRAME);
	v->ring_at = (v->ring_at + 1) % VAD_RING;
	if (v->ring_len < VAD_RING)
		v->ring_len++;
}

enum vad_event vad_frame(struct vad *v, const uint8_t *ulaw, int agent_playing)
{
	uint64_t sub[SUBS];
	float level = frame_level(ulaw, sub), thr;
	int margin, voiced;
	unsigned subs;

	v->nframes++;
	ring_push(v, ulaw);
	floor_update(v, level);
	v->level_db = level;
	if (v->state == VAD_SPEECH)
		margin = v->p.hold_margin_db;
	else
		margin = agent_playing ? v->p.echo_margin_db : v->p.margin_db;
	thr = v->floor_db + (float)margin;
	if (thr < (float)v->p.min_level_db)
		thr = (float)v->p.min_level_db;
	voiced = level > thr;
	/* before a start, voiced time is counted in 5 ms sub-blocks (v->voiced) */
	subs = v->state == VAD_SPEECH ? 0 : voiced_subs(sub, thr);

	switch (v->state) {
	case VAD_QUIET:
		if (!voiced)
			return VAD_NONE;
		v->state = VAD_MAYBE;
		v->voiced = subs;
		v->unvoiced = 0;
		v->frames = 1;
		break;
	case VAD_MAYBE:
		v->frames++;
		v->voiced += subs;   /* a frame's edge may hold a burst's last milliseconds */
		if (voiced) {
			v->unvoiced = 0;
		} else if (++v->unvoiced * VAD_FRAME_MS >= (unsigned)v->p.gap_reset_ms) {
			/* a click or a cough: it never reached min_speech_ms */
			v->state = VAD_QUIET;
			return VAD_NONE;
		}
		break;
	case VAD_SPEECH:
		v->frames++;
		if (voiced) {
			v->unvoiced = 0;
			v->speech_frames = v->frames;
		} else if (++v->unvoiced * VAD_FRAME_MS >= (unsigned)v->speech_timeout_ms) {
			v->state = VAD_QUIET;
			return VAD_END;
		}
		if (v->max_speech_ms && (long)v->frames * VAD_FRAME_MS >= v->max_speech_ms) {
			v->state = VAD_QUIET;
			v->speech_frames = v->frames;
			return VAD_MAX;
		}
		return VAD_NONE;
	}
	if (v->voiced * (VAD_FRAME_MS / SUBS) < (unsigned)v->p.min_speech_ms)
		return VAD_NONE;
	v->state = VAD_SPEECH;
	v->start_back = v->frames + (unsigned)(v->p.preroll_ms / VAD_FRAME_MS);
	if (v->start_back > v->ring_len)
		v->start_back = v->ring_len;
	v->speech_frames = voiced ? v->frames : v->frames - v->unvoiced;
	v->unvoiced = voiced ? 0 : v->unvoiced;
	return VAD_START;
}

int vad_preroll(const struct vad *v, const uint8_t **p1, size_t *n1, const uint8_t **p2,
		size_t *n2)
{
	unsigned k = v->start_back, first = (v->ring_at + VAD_RING - k) % VAD_RING;

	*p1 = *p2 = NULL;
	*n1 = *n2 = 0;
	if (!k)
		return 0;
	*p1 = v->ring[first];
	if (first + k <= VAD_RING) {
		*n1 = (size_t)k * VAD_FRAME;
		return 1;
	}
	*n1 = (size_t)(VAD_RING - first) * VAD_FRAME;
	*p2 = v->ring[0];
	*n2 = (size_t)(k - (VAD_RING - first)) * VAD_FRAME;
	return 2;
}

long vad_speech_ms(const struct vad *v)
{
	return v->speech_frames * VAD_FRAME_MS;
}

float vad_floor_db(const struct vad *v)
{
	return v->floor_db;
}

float vad_level_db(const struct vad *v)
{
	return v->level_db;
}
