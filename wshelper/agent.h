/* agent: what the agent mode's files share: the process-wide engines (workers, turn client,
 * TTS cache), the per-call state, and the audio timeline that turns verbs into frames. */
#ifndef CALLPIPE_AGENT_H
#define CALLPIPE_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "turnparse.h"
#include "vad.h"

struct call;
struct call_env;
struct config;
struct pool;
struct recog;
struct recog_utt;
struct resq;
struct result;
struct tts_cache;
struct tts_clip;
struct turnclient;

/* µ-law frame: 20 ms at 8 kHz, what Twilio sends and expects. */
#define AG_FRAME 160
#define AG_FRAME_US 20000
/* µ-law silence (positive zero). */
#define AG_SILENCE 0xFF
/* A Say is synthesized a sentence at a time (at most this many bytes of text per piece), and
 * the next piece only once less than AG_AHEAD_BYTES of audio (4 s) waits unsent: 60 s of
 * speech never sits in memory at once, and the caller never waits for the whole text. */
#define AG_PIECE_MAX 240
#define AG_AHEAD_BYTES (4 * 8000)
/* Audio one timeline item holds, or one job hands over, at most: 10 minutes of µ-law (what
 * <Play> decodes at most). */
#define AG_AUDIO_MAX (600 * 8000)
/* An utterance kept whole for the cache at most (30 s of µ-law). */
#define AG_CACHE_CLIP_MAX (30 * 8000)
#define AG_DIGITS_MAX 64
/* A SpeechResult kept for the turn POST at most (longer transcripts are cut). */
#define AG_SPEECH_MAX 1024
#define AG_PARAMS_MAX 16
/* Utterances sent and not yet played (their marks out) at most. */
#define AG_MARKS_MAX 64

/* Results our jobs push (the turn client's are RESULT_TURN_*). */
enum {
	RESULT_AUDIO = 1,      /* data = µ-law bytes, len; seq = the timeline item's id */
	RESULT_AUDIO_DONE,     /* a = 0 or -1 (text = why); b = 1 when from the cache;
	                          seq = the item's id */
};

/* --- process-wide --- */

struct agent_global {
	const struct config *cfg;
	struct call_env *env;
	struct resq *resq;
	struct pool *pool;
	struct turnclient *turns;
	struct tts_cache *cache;
	struct recog *recog;        /* NULL when the [asr] engine cannot start: speech unheard */
	char engine[16];            /* [tts] engine */
};

/* The one agent_global, made on the first agent call (NULL when it cannot be: logged). */
struct agent_global *agent_global_get(struct call *c);

/* Queue synthesis of TEXT[0..LEN) (PLAY: decoding of the source TEXT names) for item ITEM_ID
 * of call CALL_ID; KEY_VOICE is the cache key's voice. 0 or -1. */
int agent_submit_audio(struct agent_global *g, uint64_t call_id, unsigned item_id, int play,
		       const char *text, size_t len, const char *voice, const char *language,
		       const char *key_voice);
/* A cached utterance (a reference the caller drops), or NULL. */
struct tts_clip *agent_cache_get(struct agent_global *g, const char *voice, const char *text);
/* Barge-in: the call's synthesis jobs and turn are cancelled (its utterance is not). */
void agent_global_cancel_call(uint64_t call_id);
/* The call ended: its jobs, turns and utterances are cancelled, no result of it is used. */
void agent_global_end_call(uint64_t call_id);
/* mode hooks for the whole process */
void agent_on_wake(struct call_env *env);
void agent_shutdown(void);

/* --- the audio timeline of one call --- */

enum item_kind { IT_SAY, IT_PLAY, IT_PAUSE, IT_GATHER, IT_GATHER_END, IT_HANGUP, IT_REDIRECT };

/* One verb waiting or playing. Audio items collect µ-law from their job in buf. */
struct item {
	struct item *next;
	enum item_kind kind;
	unsigned id;                /* the seq of its jobs' results */
	int loop, loops_done;
	char *text;                 /* Say text, Play source, Redirect URL */
	size_t text_len;
	char voice[64], language[32];
	char voice_key[64];         /* Say: the engine's voice for these (cache key, log) */
	struct turn_gather gather;  /* IT_GATHER */
	/* audio: what the jobs made, of which SENT bytes have gone out as frames */
	struct bytebuf audio;
	size_t sent;
	size_t piece_at;            /* Say: text offset of the next piece to synthesize */
	unsigned job_busy : 1, all_made : 1, started : 1, failed : 1, cached : 1, cut : 1;
	long frames;
	int64_t t_queued_us, t_first_frame_us;
	long pause_frames;
};

/* A mark we sent, until it comes back. */
struct agent_mark {
	char name[24];              /* "" when the slot is free */
	int flushed;                /* a clear went out after it: back means flushed, not heard */
};

/* The whole state of one agent call. */
struct agent {
	struct call *c;
	struct agent_global *g;
	uint64_t id;
	/* the stream's customParameters, for every turn POST */
	char from[64], to[64];
	size_t nparams;
	char pname[AG_PARAMS_MAX][64], pvalue[AG_PARAMS_MAX][256];

	/* turns */
	char url[1024];             /* the URL of the turn in flight or last posted */
	unsigned turn_index;        /* TurnIndex of the next new turn */
	/* the turn posted last, as a <Redirect> posts it again: its TurnIndex, event (above)
	 * and what it said of the interruption */
	unsigned posted_index;
	int posted_interrupted;
	long posted_after_ms;
	unsigned turn_seq;          /* results of older turns are dropped */
	int turn_busy;              /* a POST is in flight */
	int turn_errors, timeouts;  /* in a row */
	char event[16];
	int verbs_in_turn;
	int64_t t_turn_us, t_answer_us;  /* POST sent; its head arrived */
	long turn_status;           /* HTTP status of the answer */
	int interrupted;
	long interrupted_after_ms;

	/* timeline */
	struct item *head, *tail;
	unsigned next_item;
	int64_t play_end_us;        /* when the audio sent so far will have played */
	int64_t utter_play_start_us;
	unsigned marks_out;         /* marks sent, not yet back */
	struct agent_mark marks[AG_MARKS_MAX];
	unsigned mark_seq;
	int gather_open;            /* between IT_GATHER and IT_GATHER_END of this turn */

	/* listening */
	int listening;              /* the Gather (or the defaults) is armed */
	int gather_pending;         /* an IT_GATHER_END was reached: listen once audio played */
	struct turn_gather lg;      /* the settings heard with */
	char digits[AG_DIGITS_MAX + 1];
	size_t ndigits;
	int64_t listen_due_us;      /* the Gather timeout (or inter-key timeout) */
	int hangup_pending;
	int closing;

	/* hearing speech (mode_agent.c): the VAD runs on every inbound frame */
	struct vad vad;
	uint8_t fbuf[AG_FRAME];     /* a frame not yet whole (payloads of other sizes) */
	size_t fbuf_len;
	struct recog_utt *utt;      /* the utterance being fed, NULL when none */
	unsigned utt_seq;           /* RESULT_ASR of an older utterance is dropped */
	int asr_pending;            /* speech ended, its RESULT_ASR not yet here */
	int64_t t_speech_end_us;
	char speech[AG_SPEECH_MAX + 1];   /* SpeechResult of the last speech turn */
	char confidence[8];               /* its Confidence, "0.00" .. "1.00" */
};

/* Timeline (agent_play.c). */
struct item *agent_item_add(struct agent *a, enum item_kind kind);
void agent_items_clear(struct agent *a);
/* Send what the timeline allows now; arms the mode timer for the next step. */
void agent_pump(struct agent *a);
/* A result for item SEQ arrived. */
void agent_item_result(struct agent *a, struct result *r);
/* Barge-in: drop unsent audio and the items of the interrupted prompts, send clear. */
void agent_barge_in(struct agent *a, const char *why);
/* A mark came back. */
void agent_mark_back(struct agent *a, const char *name);
/* 1 while audio we sent may still be playing at the caller. */
int agent_audio_playing(const struct agent *a);

/* State machine (mode_agent.c) the timeline calls. */
/* A turn client result for this call. */
void agent_turn_result(struct agent *a, struct result *r);
void agent_start_listening(struct agent *a, const struct turn_gather *g);
void agent_post_turn(struct agent *a, const char *event, const char *url);
/* The turn still streaming is given up (WHY: "barge_in", "redirect", "a new turn"): logged as
 * turn_cancelled, its transfer aborted, whatever it still had queued dropped. */
void agent_turn_abandon(struct agent *a, const char *why);
/* <Redirect>: the turn posted last, POSTed again (same TurnIndex and fields) to URL. */
void agent_redirect_turn(struct agent *a, const char *url);
void agent_hangup(struct agent *a, const char *reason);
/* The turn URL a relative ACTION names against BASE. */
void agent_resolve_url(const char *base, const char *action, char *out, size_t cap);
/* Defaults of a listen with no Gather. */
void agent_default_gather(const struct config *cfg, struct turn_gather *g);
/* The listen ran out (its timeout, or speech that gave no words): the digits so far, the
 * verbs after the Gather, or a TurnEvent=timeout turn (max_timeouts: goodbye). */
void agent_gather_timeout(struct agent *a);
/* The URL the next turn goes to: the Gather's action resolved, else the current one. */
void agent_next_url(struct agent *a, char *out, size_t cap);

/* Hearing speech (agent_hear.c). */
void agent_hear_init(struct agent *a);
/* The VAD's endpointing set from the Gather being heard (a->lg). */
void agent_arm_vad(struct agent *a);
/* Inbound audio (the media hook). 1 when speech started or ended (the timeline may move). */
int agent_hear_media(struct agent *a, const uint8_t *ulaw, size_t n);
/* A RESULT_ASR for this call. */
void agent_asr_result(struct agent *a, struct result *r);
/* Drop the utterance being heard or awaited (a key was pressed, the call ends). */
void agent_hear_cancel(struct agent *a, const char *why);

#endif
