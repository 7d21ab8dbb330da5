/* asr_int: what the recognizer engines (asr_sphinx.c, asr_http.c, asr_exec.c) share with the
 * service in recog.c; private to speech/, nothing else includes it. */
#ifndef CALLPIPE_ASR_INT_H
#define CALLPIPE_ASR_INT_H

#include <stddef.h>
#include <stdint.h>

struct config;

/* What one utterance asks for, resolved by recog.c (defaults applied, grammar checked). */
struct asr_req {
	const char *language;      /* BCP-47, never NULL */
	const char *hints;         /* "" for none */
	const char *grammar_path;  /* a real path inside grammar_dir, "" for none */
};

/* What a finished utterance gives. */
struct asr_out {
	char *text;        /* malloc'd transcript, "" for nothing */
	int conf;          /* 0 .. 1000 */
	char warn[160];    /* "" or a note for the call log (hint phrases left out) */
};

struct asr_engine {
	const struct asr_engine_ops *ops;
	const struct config *cfg;
	void *impl;        /* engine-wide state, read-only once open */
};

/* A decoder is used by one thread at a time, for one utterance at a time: START, FEEDs,
 * then FINISH or RESET. Each returns 0, or -1 with err (one line naming what failed). */
struct asr_engine_ops {
	const char *name;
	int (*open)(struct asr_engine *e, char *err, size_t errlen);
	void (*close)(struct asr_engine *e);
	void *(*dec_new)(struct asr_engine *e, char *err, size_t errlen);
	void (*dec_free)(void *dec);
	int (*start)(void *dec, const struct asr_req *q, char *err, size_t errlen);
	/* 8 kHz 16-bit mono samples */
	int (*feed)(void *dec, const int16_t *pcm, size_t n, char *err, size_t errlen);
	int (*finish)(void *dec, struct asr_out *out, char *err, size_t errlen);
	void (*reset)(void *dec);   /* abandon the utterance under way (may be called twice) */
};

extern const struct asr_engine_ops asr_sphinx_ops, asr_http_ops, asr_exec_ops;

/* Shared helpers (asr_util.c). */

/* A growing buffer of 8 kHz samples for the engines that send a whole file, at most
 * MAX samples. */
struct asr_pcmbuf {
	int16_t *s;
	size_t n, cap, max;
};
int asr_pcmbuf_add(struct asr_pcmbuf *b, const int16_t *pcm, size_t n);
void asr_pcmbuf_free(struct asr_pcmbuf *b);
/* The samples as a 44-byte-header WAV (8 kHz 16-bit mono) in malloc'd memory. */
uint8_t *asr_wav_bytes(const int16_t *s, size_t n, size_t *len);
/* "en-US" -> "en": the ISO-639-1 part, lower-cased ("" when the tag does not start with
 * one: "cmn-Hans" has none, and the field is then left out). */
void asr_lang_iso(const char *bcp47, char *out, size_t cap);
/* The first line of S, trimmed of blanks, control characters made spaces, in place. */
char *asr_first_line(char *s);
/* Monotonic milliseconds. */
long asr_now_ms(void);

#endif
