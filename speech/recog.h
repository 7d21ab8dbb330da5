/* recog: the recognizer service: the [asr] engine, its decoders and its jobs; utterances of
 * calls are fed 8 kHz µ-law as they arrive and their transcripts come back as RESULT_ASR. */
#ifndef CALLPIPE_RECOG_H
#define CALLPIPE_RECOG_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct pool;
struct resq;

/* The resq kind of a recognition result (agent.h's kinds are 1 and 2, the turn client's
 * RESULT_TURN_* start at 100). */
#define RESULT_ASR 10

struct recog;        /* process-wide: the [asr] engine, its decoders, its jobs */
struct recog_utt;    /* one utterance of one call; used only on the lws thread */

struct recog_opts {
	const char *language;   /* Gather language ("en-US"); NULL: [agent] language */
	const char *hints;      /* Gather hints: phrases separated by ',' ; NULL or "" none */
	const char *grammar;    /* Gather grammar: a file name under [asr] grammar_dir; NULL none */
};

/* What arrives on the resq (struct result) when an utterance is recognized:
 * kind RESULT_ASR, call_id and seq as given to recog_begin; a = 0 ok / -1 failed
 * (text = one-line reason); b = confidence in thousandths (0..1000); data = malloc'd
 * NUL-terminated transcript (len = strlen), "" when nothing was recognized;
 * t_us = when it was made. */

struct recog *recog_new(const struct config *cfg, struct pool *pool, struct resq *resq,
			char *err, size_t errlen);
void recog_free(struct recog *r);      /* after the pool is freed (no job runs any more) */
const char *recog_engine_name(const struct recog *r);   /* "pocketsphinx" | "http" | "exec" */
/* Start an utterance (the VAD saw speech start). Audio fed before it (the VAD's pre-roll)
 * is the caller's to pass in through recog_feed right after. NULL with ERR when the options
 * are refused (a grammar name that escapes grammar_dir or does not exist, ...). */
struct recog_utt *recog_begin(struct recog *r, uint64_t call_id, unsigned seq,
			      const struct recog_opts *o, char *err, size_t errlen);
/* 8 kHz mu-law as it arrives (any N). Cheap on the lws thread: copies, and hands work to a
 * worker (the decoder is fed while the caller speaks). -1 past maxSpeechTime-like caps. */
int recog_feed(struct recog_utt *u, const uint8_t *ulaw, size_t n);
/* End of the utterance: the result comes as RESULT_ASR. U is the recog's from here on. */
void recog_end(struct recog_utt *u);
/* Drop it (barge-in ignored, call ended, Gather cancelled): no result comes. U is gone. */
void recog_cancel(struct recog_utt *u);
/* Drop every utterance of CALL_ID (call teardown). */
void recog_cancel_call(struct recog *r, uint64_t call_id);

#endif
