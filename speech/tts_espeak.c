/* tts_espeak: the embedded espeak-ng engine. libespeak-ng is one global synthesizer, not
 * thread-safe: every instance shares it under one process-wide mutex held per utterance. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <espeak-ng/speak_lib.h>

#include "config.h"
#include "pcmsink.h"
#include "strutil.h"
#include "tts.h"
#include "tts_int.h"

/* Length of the buffers espeak hands the callback. Measured with libespeak-ng 1.51 in
 * synchronous mode: 10, 20, 50 and the default 60 ms all give the same ~80 callbacks for 4 s
 * of speech and the first one 0.06-0.1 ms after espeak_Synth (it calls back per synthesized
 * chunk regardless); 20 is kept as the documented intent, small pieces early. */
#define BUFLEN_MS 20
/* UTF-8 bytes of one utterance: [agent] max_say_chars is at most 65536 characters. */
#define MAX_TEXT 262144
#define VOICE_MAX 64

/* The one espeak-ng of the process: guarded by g_lock, initialized by the first instance
 * and kept (see espeak_free). Held for a whole utterance, since the voice, the rate and the
 * callback are global settings too. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_refs;                 /* engines open */
static int g_rate;                 /* espeak_Initialize's sample rate (22050) */
static char g_voice[VOICE_MAX];    /* voice last set, so a repeated one is not reloaded */
static int g_wpm;

/* The utterance being synthesized: set and cleared under g_lock, read by the callback,
 * which espeak calls on the synthesizing thread from inside espeak_Synth(). */
struct synth_ctx {
	struct pcmsink *ps;
	int stopped;   /* the sink said stop */
	int failed;    /* pcmsink_write failed */
};
static struct synth_ctx *g_ctx;

static int on_audio(short *wav, int n, espeak_EVENT *events)
{
	struct synth_ctx *c = g_ctx;
	int rc;

	(void)events;
	if (!c || !wav || n <= 0)   /* NULL: synthesis done; 0: no audio this time */
		return 0;
	if (c->stopped || c->failed)
		return 1;
	rc = pcmsink_write(c->ps, wav, (size_t)n);
	if (rc == 1)
		c->stopped = 1;
	else if (rc < 0)
		c->failed = 1;
	return rc ? 1 : 0;
}

static void espeak_voice(const struct config *cfg, const char *voice, const char *language,
			 char *out, size_t cap)
{
	if (voice[0])
		snprintf(out, cap, "%s", voice);
	else if (cfg->tts_voice[0])
		snprintf(out, cap, "%s", cfg->tts_voice);
	else
		tts_espeak_voice_for(language[0] ? language : cfg->agent_language, out, cap);
}

/* Voice and rate for this utterance; under g_lock. */
static int espeak_prepare(const struct tts_engine *e, const struct tts_text *t, char *err,
			  size_t errlen)
{
	char voice[VOICE_MAX];
	double wpm = espeakRATE_NORMAL * e->cfg->tts_speed;
	espeak_ERROR rc;

	espeak_voice(e->cfg, t->voice ? t->voice : "", t->language ? t->language : "", voice,
		     sizeof(voice));
	if (!voice[0]) {
		strutil_seterr(err, errlen, "espeak: no voice (set [tts] voice or [agent] language)");
		return -1;
	}
	if (strcmp(voice, g_voice) != 0) {
		rc = espeak_SetVoiceByName(voice);
		if (rc != EE_OK) {
			/* The current voice is unknown now: force a reload next time. */
			g_voice[0] = '\0';
			strutil_seterr(err, errlen, "espeak-ng has no voice \"%s\"", voice);
			return -1;
		}
		snprintf(g_voice, sizeof(g_voice), "%s", voice);
		g_wpm = 0;   /* a new voice may bring its own rate */
	}
	if (wpm < espeakRATE_MINIMUM)
		wpm = espeakRATE_MINIMUM;
	if (wpm > espeakRATE_MAXIMUM)
		wpm = espeakRATE_MAXIMUM;
	if ((int)wpm != g_wpm) {
		if (espeak_SetParameter(espeakRATE, (int)wpm, 0) != EE_OK) {
			strutil_seterr(err, errlen, "espeak: cannot set the rate to %d wpm", (int)wpm);
			return -1;
		}
		g_wpm = (int)wpm;
	}
	return 0;
}

static int espeak_synth(struct tts_engine *e, const struct tts_text *t, tts_sink_fn sink,
			void *arg, char *err, size_t errlen)
{
	struct synth_ctx c = {NULL, 0, 0};
	size_t len = strlen(t->text);
	espeak_ERROR erc;
	int rc = -1;

	if (len > MAX_TEXT) {
		strutil_seterr(err, errlen, "espeak: text of %zu bytes is over the limit of %d",
			       len, MAX_TEXT);
		return -1;
	}
	pthread_mutex_lock(&g_lock);
	c.ps = pcmsink_new(g_rate, sink, arg, err, errlen);
	if (!c.ps)
		goto out;
	if (espeak_prepare(e, t, err, errlen) < 0)
		goto out;
	g_ctx = &c;
	espeak_SetSynthCallback(on_audio);
	/* AUDIO_OUTPUT_SYNCHRONOUS: espeak_Synth synthesizes here and calls on_audio as each
	 * buffer is made, returning when done or aborted. Plain text: no SSML, so a '<' in a
	 * caller-influenced string is spoken, not interpreted. */
	erc = espeak_Synth(t->text, len + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL);
	g_ctx = NULL;
	if (c.failed) {
		strutil_seterr(err, errlen, "espeak: audio conversion failed");
		goto out;
	}
	if (c.stopped) {
		rc = 1;
		goto out;
	}
	if (erc != EE_OK) {
		strutil_seterr(err, errlen, "espeak: synthesis failed (espeak_Synth %d)", (int)erc);
		goto out;
	}
	rc = pcmsink_finish(c.ps);
	if (rc < 0)
		strutil_seterr(err, errlen, "espeak: audio conversion failed");
out:
	pthread_mutex_unlock(&g_lock);
	pcmsink_free(c.ps);
	return rc;
}

/* espeak_Terminate() is never called: in libespeak-ng 1.51 (Debian 12) it blocks forever on
 * a condition variable after AUDIO_OUTPUT_SYNCHRONOUS use (seen in test_tts). espeak stays
 * initialized until the process exits; the count only says whether any engine is open. */
static void espeak_free(struct tts_engine *e)
{
	(void)e;
	pthread_mutex_lock(&g_lock);
	if (g_refs > 0)
		g_refs--;
	pthread_mutex_unlock(&g_lock);
}

const struct tts_engine_ops tts_espeak_ops = {
	"espeak", espeak_synth, espeak_voice, espeak_free,
};

int tts_espeak_open(struct tts_engine *e, char *err, size_t errlen)
{
	int rate;

	pthread_mutex_lock(&g_lock);
	if (g_rate == 0) {
		/* DONT_EXIT: without it a missing espeak-ng-data makes the library exit(). */
		rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, BUFLEN_MS, NULL,
					 espeakINITIALIZE_DONT_EXIT);
		if (rate <= 0) {
			pthread_mutex_unlock(&g_lock);
			strutil_seterr(err, errlen,
				       "espeak: espeak_Initialize failed (is espeak-ng-data installed?)");
			return -1;
		}
		g_rate = rate;
	}
	g_refs++;
	pthread_mutex_unlock(&g_lock);
	e->ops = &tts_espeak_ops;
	e->impl = NULL;
	return 0;
}
