/* test_tts: the espeak-ng engine (streams, stops, refuses unknown voices, shared between
 * threads), the BCP-47 voice table, and the exec engine with real commands and failures. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "config.h"
#include "g711.h"
#include "tts.h"

struct got {
	size_t n;
	int calls, stop_after;
	double energy;              /* sum of squares of the decoded samples */
	struct timespec first;      /* when the first audio came */
	size_t first_n;             /* bytes of the first sink call */
};

static int got_sink(void *arg, const uint8_t *ulaw, size_t n)
{
	struct got *g = arg;
	size_t i;

	if (g->calls++ == 0) {
		clock_gettime(CLOCK_MONOTONIC, &g->first);
		g->first_n = n;
	}
	for (i = 0; i < n; i++) {
		double v = g711_ulaw_decode(ulaw[i]);

		g->energy += v * v;
	}
	g->n += n;
	return g->stop_after && g->calls >= g->stop_after;
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static double rms(const struct got *g)
{
	return g->n ? sqrt(g->energy / (double)g->n) : 0;
}

static void test_voice_for(void)
{
	static const char *const table[][2] = {
		{"en-US", "en-us"}, {"en-GB", "en-gb"}, {"he-IL", "he"}, {"pt-BR", "pt-br"},
		{"fr-FR", "fr"}, {"de-DE", "de"}, {"es-ES", "es"}, {"es-MX", "es-419"},
		{"en_us", "en-us"}, {"EN-au", "en-gb"}, {"zh-CN", "cmn"}, {"it", "it"},
		{"nl-NL", "nl"}, {"en", "en-us"}, {"", ""},
	};
	char out[32];
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		tts_espeak_voice_for(table[i][0], out, sizeof(out));
		CHECK_STR(out, table[i][1]);
	}
	tts_espeak_voice_for("pt-BR", out, 3);
	CHECK_STR(out, "pt");   /* cut, still terminated */
}

static void test_espeak(struct config *cfg)
{
	struct tts_engine *e;
	struct tts_text t = {"Hello world.", "", ""};
	struct got g = {0};
	struct timespec t0, t1;
	char err[256] = "", voice[64];
	int rc;

	snprintf(cfg->tts_engine, sizeof(cfg->tts_engine), "espeak");
	e = tts_engine_new(cfg, err, sizeof(err));
	CHECK(e != NULL);
	if (!e) {
		printf("# %s\n", err);
		return;
	}
	CHECK_STR(tts_engine_name(e), "espeak");
	tts_engine_voice(e, "", "he-IL", voice, sizeof(voice));
	CHECK_STR(voice, "he");
	tts_engine_voice(e, "", "", voice, sizeof(voice));
	CHECK_STR(voice, "en-us");   /* [agent] language en-US */

	/* Warm up once (voice and dictionary load), then measure. */
	rc = tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err));
	CHECK(rc == 0);
	memset(&g, 0, sizeof(g));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(rc == 0);
	printf("# espeak \"%s\": %zu bytes (%.2f s) in %d sink calls, first after %.2f ms, "
	       "done in %.2f ms (real-time factor %.3f), rms %.0f\n", t.text, g.n,
	       (double)g.n / 8000, g.calls, ms_between(&t0, &g.first), ms_between(&t0, &t1),
	       ms_between(&t0, &t1) / 1000 / ((double)g.n / 8000), rms(&g));
	CHECK_MSG(g.n >= 4000 && g.n <= 24000, "\"Hello world.\" is 0.5 .. 3 s of audio");
	CHECK_MSG(rms(&g) > 500, "with energy in it");
	CHECK_MSG(g.calls > 1, "streamed: more than one sink call");
	/* streamed, by structure rather than by a clock (a loaded machine makes timings lie):
	 * the first piece handed out is a small part of the whole */
	CHECK_MSG(g.first_n <= g.n / 4, "the first piece is at most a quarter of the audio");

	/* A longer text, for the real-time factor of a sentence. */
	t.text = "Thank you for calling. Please tell me briefly how I can help you today.";
	memset(&g, 0, sizeof(g));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(rc == 0);
	printf("# espeak sentence: %.2f s of audio, first after %.2f ms, done in %.2f ms "
	       "(real-time factor %.3f), %d sink calls\n", (double)g.n / 8000,
	       ms_between(&t0, &g.first), ms_between(&t0, &t1),
	       ms_between(&t0, &t1) / 1000 / ((double)g.n / 8000), g.calls);

	/* Speed 2.0: noticeably shorter. */
	{
		size_t normal = g.n;

		cfg->tts_speed = 2.0;
		memset(&g, 0, sizeof(g));
		CHECK(tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err)) == 0);
		CHECK_MSG(g.n < normal * 3 / 4, "[tts] speed 2.0 speaks faster");
		cfg->tts_speed = 1.0;
	}

	/* The sink says stop on its second call. */
	memset(&g, 0, sizeof(g));
	g.stop_after = 2;
	rc = tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err));
	CHECK(rc == 1);
	CHECK(g.calls == 2);

	/* Unknown voice, then a known one works again. */
	t.voice = "xx-nonexistent";
	CHECK(tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err)) == -1);
	CHECK_STR(err, "espeak-ng has no voice \"xx-nonexistent\"");
	t.voice = "";
	t.language = "he-IL";
	t.text = "שלום";
	memset(&g, 0, sizeof(g));
	CHECK(tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err)) == 0);
	CHECK_MSG(g.n > 1600 && rms(&g) > 500, "Hebrew speaks");
	tts_engine_free(e);

	/* Free then open again: the one espeak-ng goes on working. */
	e = tts_engine_new(cfg, err, sizeof(err));
	CHECK(e != NULL);
	t.language = "";
	t.text = "Again.";
	memset(&g, 0, sizeof(g));
	CHECK(e && tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err)) == 0);
	CHECK(g.n > 1600);
	tts_engine_free(e);
}

/* Four engines on four threads share the one espeak-ng. */
struct worker {
	const struct config *cfg;
	int ok;
};

static void *espeak_worker(void *arg)
{
	struct worker *w = arg;
	struct tts_text t = {"One two three.", "", ""};
	char err[256];
	struct tts_engine *e = tts_engine_new(w->cfg, err, sizeof(err));
	int i;

	w->ok = e != NULL;
	for (i = 0; e && i < 5; i++) {
		struct got g = {0};

		if (tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err)) != 0 || g.n < 4000)
			w->ok = 0;
	}
	tts_engine_free(e);
	return NULL;
}

static void test_espeak_threads(const struct config *cfg)
{
	pthread_t th[4];
	struct worker w[4];
	int i, all = 1;

	for (i = 0; i < 4; i++) {
		w[i].cfg = cfg;
		w[i].ok = 0;
		pthread_create(&th[i], NULL, espeak_worker, &w[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		all &= w[i].ok;
	}
	CHECK_MSG(all, "4 threads x 5 utterances on their own espeak engines");
}

static void test_exec(struct config *cfg)
{
	struct tts_engine *e;
	struct tts_text t = {"Hello from the command engine.", "", ""};
	struct got g = {0};
	struct timespec t0, t1;
	char err[512] = "";
	int rc;

	snprintf(cfg->tts_engine, sizeof(cfg->tts_engine), "exec");
	cfg->tts_command[0] = '\0';
	CHECK(tts_engine_new(cfg, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "command") != NULL);

	snprintf(cfg->tts_command, sizeof(cfg->tts_command), "espeak-ng --stdout");
	e = tts_engine_new(cfg, err, sizeof(err));
	CHECK(e != NULL);
	if (!e)
		return;
	CHECK_STR(tts_engine_name(e), "exec");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc)
		printf("# %s\n", err);
	CHECK(rc == 0);
	printf("# exec espeak-ng: %.2f s of audio, first after %.2f ms, done in %.2f ms, "
	       "%d sink calls\n", (double)g.n / 8000, ms_between(&t0, &g.first),
	       ms_between(&t0, &t1), g.calls);
	CHECK_MSG(g.n >= 8000 && g.n <= 40000 && rms(&g) > 500, "the command's WAV is audio");
	CHECK(g.calls > 1);

	/* Environment for the command; a stereo 16 kHz WAV made by sox, mixed down. */
	tts_engine_free(e);
	snprintf(cfg->tts_command, sizeof(cfg->tts_command),
		 "test \"$CALLPIPE_VOICE/$CALLPIPE_LANGUAGE\" = \"v1/he-IL\" || exit 9; "
		 "sox -n -t wav -r 16000 -c 2 -b 16 - synth 0.5 sine 1000 2>/dev/null");
	e = tts_engine_new(cfg, err, sizeof(err));
	t.voice = "v1";
	t.language = "he-IL";
	memset(&g, 0, sizeof(g));
	rc = e ? tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err)) : -1;
	if (rc)
		printf("# %s\n", err);
	CHECK(rc == 0);
	CHECK_MSG(g.n >= 3990 && g.n <= 4010, "sox 0.5 s stereo 16 kHz -> 4000 bytes");
	t.voice = "";
	t.language = "";
	tts_engine_free(e);

	/* Timeout: killed, and soon. */
	snprintf(cfg->tts_command, sizeof(cfg->tts_command), "sleep 5");
	cfg->tts_timeout_ms = 300;
	e = tts_engine_new(cfg, err, sizeof(err));
	memset(&g, 0, sizeof(g));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = e ? tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err)) : 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(rc == -1);
	CHECK_STR(err, "exec: timed out after 300 ms");
	printf("# timeout returned after %.0f ms\n", ms_between(&t0, &t1));
	CHECK(ms_between(&t0, &t1) >= 290 && ms_between(&t0, &t1) < 1000);
	tts_engine_free(e);

	/* A command that keeps stdout open in a grandchild: the group is killed. */
	snprintf(cfg->tts_command, sizeof(cfg->tts_command), "sleep 7 & sleep 6");
	e = tts_engine_new(cfg, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = e ? tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err)) : 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(rc == -1 && ms_between(&t0, &t1) < 1000);
	tts_engine_free(e);
	cfg->tts_timeout_ms = 10000;

	/* Non-zero exit: the status and the first line of stderr. */
	snprintf(cfg->tts_command, sizeof(cfg->tts_command),
		 "echo 'voice not found: x' >&2; echo second >&2; exit 3");
	e = tts_engine_new(cfg, err, sizeof(err));
	rc = e ? tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err)) : 0;
	CHECK(rc == -1);
	CHECK_STR(err, "exec: command exited with status 3: voice not found: x");
	tts_engine_free(e);

	snprintf(cfg->tts_command, sizeof(cfg->tts_command), "exit 3");
	e = tts_engine_new(cfg, err, sizeof(err));
	rc = e ? tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err)) : 0;
	CHECK(rc == -1);
	CHECK_STR(err, "exec: command exited with status 3");
	tts_engine_free(e);

	/* Not a WAV. */
	snprintf(cfg->tts_command, sizeof(cfg->tts_command), "echo hello");
	e = tts_engine_new(cfg, err, sizeof(err));
	rc = e ? tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err)) : 0;
	CHECK(rc == -1 && strstr(err, "not a WAV") != NULL);
	tts_engine_free(e);

	/* The sink stops a long command early: 1, and no waiting for it. */
	snprintf(cfg->tts_command, sizeof(cfg->tts_command),
		 "sox -n -t wav -r 22050 -c 1 -b 16 - synth 30 sine 440 2>/dev/null; sleep 5");
	e = tts_engine_new(cfg, err, sizeof(err));
	memset(&g, 0, sizeof(g));
	g.stop_after = 3;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = e ? tts_engine_synth(e, &t, got_sink, &g, err, sizeof(err)) : 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(rc == 1 && g.calls == 3 && ms_between(&t0, &t1) < 2000);
	tts_engine_free(e);
}

int main(void)
{
	struct config cfg;
	char err[256];

	config_defaults(&cfg);
	test_voice_for();
	snprintf(cfg.tts_engine, sizeof(cfg.tts_engine), "nope");
	CHECK(tts_engine_new(&cfg, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "nope") != NULL);
	test_espeak(&cfg);
	test_espeak_threads(&cfg);
	test_exec(&cfg);
	return check_done();
}
