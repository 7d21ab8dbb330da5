/* turnparse: the TwiML a turn URL answers, parsed with libxml2's push parser as the body
 * streams in: each verb is handed over as soon as its element closes, within hard limits. */
#ifndef CALLPIPE_TURNPARSE_H
#define CALLPIPE_TURNPARSE_H

#include <stddef.h>

enum turn_verb_kind {
	TV_SAY,
	TV_PLAY,
	TV_PAUSE,
	TV_GATHER,       /* <Gather> opened: its settings; its prompts follow with in_gather set */
	TV_GATHER_END,   /* </Gather> (or <Gather/>): the prompts are complete */
	TV_HANGUP,
	TV_REDIRECT,
};

#define TV_INPUT_DTMF   1
#define TV_INPUT_SPEECH 2

#define TV_LOOP_MAX 100          /* loop="0" (Twilio: "repeat") and larger values cap here */
#define TV_URL_MAX 1024
#define TV_HINTS_MAX 1024
#define TURNPARSE_MAX_DEPTH 16   /* elements nested deeper than this fail the turn */

/* <Gather> attributes with Twilio's defaults applied. */
struct turn_gather {
	int input;               /* TV_INPUT_* bits; default dtmf */
	int timeout_s;           /* timeout, default 5 (0 .. 600) */
	int speech_timeout_ms;   /* speechTimeout in ms; -1 for "auto"; default: timeout_s */
	int max_speech_time_s;   /* maxSpeechTime, default 60 */
	int num_digits;          /* numDigits, 0 when not set */
	char finish_on_key;      /* finishOnKey: one of 0-9 * #, '\0' when "" ; default '#' */
	int barge_in;            /* bargeIn, default 1 */
	char action[TV_URL_MAX]; /* "" when not set */
	char hints[TV_HINTS_MAX];
	char language[32];       /* "" when not set (the agent's default applies) */
	char grammar[128];       /* callpipe's grammar="name.gram", "" when not set */
};

struct turn_verb {
	enum turn_verb_kind kind;
	int in_gather;           /* a Say/Play/Pause nested in <Gather> (one of its prompts) */
	int loop;                /* Say, Play: times to play, 1 .. TV_LOOP_MAX */
	int pause_ms;            /* Pause: length (default 1 s), 0 .. 600 s */
	char voice[64];          /* Say: "" when not set */
	char language[32];       /* Say: "" when not set */
	const char *text;        /* Say: the text (whitespace runs folded); Play: the URL or path;
	                            Redirect: the URL; "" otherwise. Valid during the callback. */
	size_t text_len;
	struct turn_gather gather;   /* TV_GATHER, and repeated in its TV_GATHER_END */
};

/* A limit of 0 is no limit. */
struct turnparse_limits {
	size_t max_bytes;        /* body bytes ([agent] max_turn_bytes) */
	int max_verbs;           /* verbs handed over ([agent] max_verbs), prompts included */
	size_t max_text;         /* bytes of one Say text or URL ([agent] max_say_chars) */
};

/* A verb is complete: runs on the thread that called turnparse_feed(). */
typedef void (*turnparse_verb_fn)(void *arg, const struct turn_verb *v);
/* Something was skipped (unknown verb or attribute, a bad attribute value replaced by its
 * default): MSG is one line for a turn_warning, e.g. "unknown verb <Dial> skipped". */
typedef void (*turnparse_warn_fn)(void *arg, const char *msg);

struct turnparse;

/* Initialise libxml2 (xmlInitParser): call once from main before any thread starts. */
void turnparse_init(void);

struct turnparse *turnparse_new(const struct turnparse_limits *lim, turnparse_verb_fn on_verb,
				turnparse_warn_fn on_warn, void *arg);
/* Feed the next LEN bytes of the body (FINAL on the last call, LEN may be 0 then). Verbs
 * complete in them are handed over before this returns. 0, or -1 with err filled and
 * nothing more handed over: XML that is not well-formed ("line 3: ..."), a root other than
 * <Response>, a limit passed ("body over 65536 bytes", "more than 64 verbs", "<Say> text
 * over 4096 bytes"), or, with FINAL, a document that did not end. */
int turnparse_feed(struct turnparse *p, const char *buf, size_t len, int final, char *err,
		   size_t errlen);
void turnparse_free(struct turnparse *p);

#endif
