/* test_tts_http: the [tts] engine = http against tests/stubs/openai_speech.py (real espeak-ng
 * speech, streamed chunked): audio, streaming, keys, HTTP errors, timeouts, sink stop. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "check.h"
#include "stub.h"
#include "config.h"
#include "g711.h"
#include "tts_int.h"

#define STUB "tests/stubs/openai_speech.py"   /* tests/run runs from the repo root */

/* Start the speech stub with ARGS (NULL-terminated) after --port 0. */
static int speech_stub(struct stub *s, const char *const *args)
{
	const char *argv[24] = {STUB, "--port", "0"};
	int n = 3;

	for (int i = 0; args[i] && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return stub_start(s, argv);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

struct got {
	uint8_t buf[8000 * 30];
	size_t n;
	int calls;
	int stop_after;   /* calls; 0 = never stop */
	double first_ms;
};

static int sink(void *arg, const uint8_t *ulaw, size_t n)
{
	struct got *g = arg;

	if (g->calls++ == 0)
		g->first_ms = now_ms();
	if (n > sizeof(g->buf) - g->n)
		n = sizeof(g->buf) - g->n;
	memcpy(g->buf + g->n, ulaw, n);
	g->n += n;
	return g->stop_after && g->calls >= g->stop_after;
}

static double rms(const struct got *g)
{
	double sum = 0;
	for (size_t i = 0; i < g->n; i++) {
		double v = g711_ulaw_decode(g->buf[i]);
		sum += v * v;
	}
	return g->n ? sqrt(sum / (double)g->n) : 0;
}

static void set_url(struct config *cfg, const struct stub *s)
{
	snprintf(cfg->tts_url, sizeof(cfg->tts_url), "http://127.0.0.1:%d/v1/audio/speech",
		 s->port);
}

/* Open an engine on CFG, say TEXT into G; the synth result, err in ERR. */
static int say(const struct config *cfg, const char *text, struct got *g, char *err,
	       size_t errlen, double *t0)
{
	struct tts_engine e = {.cfg = cfg};
	struct tts_text t = {.text = text, .voice = "", .language = ""};
	int r;

	err[0] = '\0';
	if (tts_http_open(&e, err, errlen) < 0)
		return -2;
	if (t0)
		*t0 = now_ms();
	r = e.ops->synth(&e, &t, sink, g, err, errlen);
	e.ops->free(&e);
	return r;
}

static struct got g;   /* big: not on the stack */

static void test_audio(struct config *cfg)
{
	struct stub s;
	char err[256];
	double t0, t1;
	const char *args[] = {"--key", "sk-test", NULL};

	CHECK(speech_stub(&s, args) == 0);
	set_url(cfg, &s);
	snprintf(cfg->tts_api_key, sizeof(cfg->tts_api_key), "sk-test");

	memset(&g, 0, sizeof(g));
	int r = say(cfg, "Hello world", &g, err, sizeof(err), &t0);
	t1 = now_ms();
	CHECK(r == 0);
	if (r != 0)
		printf("#   err: %s\n", err);
	printf("# \"Hello world\": %zu bytes (%.2f s) of 8 kHz audio in %d sink calls, rms %.0f; "
	       "first audio %.1f ms after the request, done after %.1f ms\n", g.n, g.n / 8000.0,
	       g.calls, rms(&g), g.first_ms - t0, t1 - t0);
	CHECK(g.n >= 4000 && g.n <= 24000);   /* 0.5 .. 3 s */
	CHECK(rms(&g) > 500);                 /* speech, not silence */

	/* The same engine twice: the handle (and its connection) is reused. */
	{
		struct tts_engine e = {.cfg = cfg};
		struct tts_text t = {.text = "One.", .voice = "", .language = ""};
		CHECK(tts_http_open(&e, err, sizeof(err)) == 0);
		memset(&g, 0, sizeof(g));
		CHECK(e.ops->synth(&e, &t, sink, &g, err, sizeof(err)) == 0);
		size_t first = g.n;
		t.text = "Two.";
		CHECK(e.ops->synth(&e, &t, sink, &g, err, sizeof(err)) == 0);
		CHECK(first > 0 && g.n > first);
		/* A stop, then the same engine still works. */
		memset(&g, 0, sizeof(g));
		g.stop_after = 1;
		t.text = "This sentence is long enough to come in several chunks of audio.";
		CHECK(e.ops->synth(&e, &t, sink, &g, err, sizeof(err)) == 1);
		CHECK(g.calls == 1);
		memset(&g, 0, sizeof(g));
		t.text = "Again.";
		CHECK(e.ops->synth(&e, &t, sink, &g, err, sizeof(err)) == 0);
		CHECK(g.n > 0);
		e.ops->free(&e);
	}

	/* Wrong key: OpenAI's 401 and its message. */
	snprintf(cfg->tts_api_key, sizeof(cfg->tts_api_key), "sk-wrong-key");
	memset(&g, 0, sizeof(g));
	CHECK(say(cfg, "Hello", &g, err, sizeof(err), NULL) == -1);
	CHECK(strstr(err, "HTTP 401") != NULL);
	CHECK(strstr(err, "Incorrect API key provided") != NULL);
	printf("#   err: %s\n", err);
	CHECK(g.calls == 0);

	/* No key at all: no Authorization header is sent. */
	cfg->tts_api_key[0] = '\0';
	snprintf(cfg->tts_api_key_env, sizeof(cfg->tts_api_key_env), "CALLPIPE_TEST_NO_SUCH_KEY");
	unsetenv("CALLPIPE_TEST_NO_SUCH_KEY");
	CHECK(say(cfg, "Hello", &g, err, sizeof(err), NULL) == -1);
	CHECK(strstr(err, "HTTP 401: You didn't provide an API key") != NULL);

	/* The key from api_key_env. */
	snprintf(cfg->tts_api_key_env, sizeof(cfg->tts_api_key_env), "CALLPIPE_TEST_TTS_KEY");
	setenv("CALLPIPE_TEST_TTS_KEY", "sk-test", 1);
	memset(&g, 0, sizeof(g));
	CHECK(say(cfg, "Hello", &g, err, sizeof(err), NULL) == 0);
	CHECK(g.n > 0);
	/* An empty variable counts as unset. */
	setenv("CALLPIPE_TEST_TTS_KEY", "", 1);
	CHECK(say(cfg, "Hello", &g, err, sizeof(err), NULL) == -1);
	CHECK(strstr(err, "HTTP 401") != NULL);
	unsetenv("CALLPIPE_TEST_TTS_KEY");

	/* A path the server does not have: 404 with its message. */
	snprintf(cfg->tts_api_key, sizeof(cfg->tts_api_key), "sk-test");
	snprintf(cfg->tts_url, sizeof(cfg->tts_url), "http://127.0.0.1:%d/v1/nope", s.port);
	CHECK(say(cfg, "Hello", &g, err, sizeof(err), NULL) == -1);
	CHECK(strstr(err, "HTTP 404: Invalid URL") != NULL);
	stub_stop(&s);

	/* Nobody listening any more. */
	CHECK(say(cfg, "Hello", &g, err, sizeof(err), NULL) == -1);
	CHECK(strstr(err, "onnect") != NULL);
	printf("#   err: %s\n", err);
}

static void test_streaming(struct config *cfg)
{
	struct stub s;
	char err[256];
	double t0, t1;
	const char *args[] = {"--chunk-delay-ms", "50", NULL};

	cfg->tts_api_key[0] = '\0';
	CHECK(speech_stub(&s, args) == 0);
	set_url(cfg, &s);
	memset(&g, 0, sizeof(g));
	CHECK(say(cfg, "Hello world, this is streaming.", &g, err, sizeof(err), &t0) == 0);
	t1 = now_ms();
	printf("# streaming (50 ms between 100 ms chunks): first audio %.1f ms after the request, "
	       "done after %.1f ms, %d sink calls\n", g.first_ms - t0, t1 - t0, g.calls);
	CHECK(g.calls >= 5);
	CHECK(g.first_ms - t0 < (t1 - t0) / 2);   /* audio before the transfer ended */
	CHECK(t1 - g.first_ms > 200);
	stub_stop(&s);
}

static void test_failures(struct config *cfg)
{
	struct stub s;
	char err[256];

	cfg->tts_api_key[0] = '\0';
	{
		const char *args[] = {"--fail-status", "500", NULL};
		CHECK(speech_stub(&s, args) == 0);
		set_url(cfg, &s);
		CHECK(say(cfg, "Hello", &g, err, sizeof(err), NULL) == -1);
		CHECK(strstr(err, "HTTP 500") != NULL);
		printf("#   err: %s\n", err);
		stub_stop(&s);
	}
	{   /* no answer within timeout_ms */
		const char *args[] = {"--delay-ms", "2000", NULL};
		CHECK(speech_stub(&s, args) == 0);
		set_url(cfg, &s);
		cfg->tts_timeout_ms = 300;
		double t0 = now_ms();
		CHECK(say(cfg, "Hello", &g, err, sizeof(err), NULL) == -1);
		double took = now_ms() - t0;
		CHECK(strstr(err, "timed out") != NULL);
		CHECK(took >= 250 && took < 1500);
		printf("#   err after %.0f ms: %s\n", took, err);
		stub_stop(&s);
	}
	{   /* the body stalls mid-stream: the whole transfer is bounded */
		const char *args[] = {"--chunk-delay-ms", "400", NULL};
		CHECK(speech_stub(&s, args) == 0);
		set_url(cfg, &s);
		cfg->tts_timeout_ms = 2000;
		memset(&g, 0, sizeof(g));
		CHECK(say(cfg, "Hello world, this one is slow to arrive.", &g, err, sizeof(err),
			  NULL) == -1);
		CHECK(strstr(err, "timed out") != NULL);
		CHECK(g.n > 0);
		stub_stop(&s);
		cfg->tts_timeout_ms = 10000;
	}
	{   /* a 200 that is not audio */
		const char *args[] = {"--content-type", "text/html; charset=utf-8", NULL};
		CHECK(speech_stub(&s, args) == 0);
		set_url(cfg, &s);
		memset(&g, 0, sizeof(g));
		CHECK(say(cfg, "Hello", &g, err, sizeof(err), NULL) == -1);
		CHECK(strstr(err, "not audio") != NULL);
		CHECK(g.calls == 0);
		stub_stop(&s);
	}
	{   /* audio/pcm (some servers) is accepted */
		const char *args[] = {"--content-type", "audio/pcm", NULL};
		CHECK(speech_stub(&s, args) == 0);
		set_url(cfg, &s);
		memset(&g, 0, sizeof(g));
		CHECK(say(cfg, "Hello", &g, err, sizeof(err), NULL) == 0);
		stub_stop(&s);
	}
	/* Not an http(s) URL. */
	snprintf(cfg->tts_url, sizeof(cfg->tts_url), "file:///etc/passwd");
	CHECK(say(cfg, "Hello", &g, err, sizeof(err), NULL) == -2);
}

static void test_voice(struct config *cfg)
{
	struct tts_engine e = {.cfg = cfg};
	char err[128], v[64], engine[sizeof(cfg->tts_engine)];

	snprintf(cfg->tts_url, sizeof(cfg->tts_url), "http://127.0.0.1:9/v1/audio/speech");
	cfg->tts_voice[0] = '\0';
	CHECK(tts_http_open(&e, err, sizeof(err)) == 0);
	CHECK_STR(e.ops->name, "http");
	e.ops->voice(cfg, "", "he-IL", v, sizeof(v));
	CHECK_STR(v, "alloy");
	e.ops->voice(cfg, "echo", "en-US", v, sizeof(v));
	CHECK_STR(v, "echo");
	snprintf(cfg->tts_voice, sizeof(cfg->tts_voice), "nova");
	e.ops->voice(cfg, NULL, "", v, sizeof(v));
	CHECK_STR(v, "nova");
	cfg->tts_voice[0] = '\0';
	/* the agent's name for it, with no engine at hand, is the same */
	snprintf(engine, sizeof(engine), "%s", cfg->tts_engine);
	snprintf(cfg->tts_engine, sizeof(cfg->tts_engine), "http");
	tts_voice(cfg, "", "he-IL", v, sizeof(v));
	CHECK_STR(v, "alloy");
	snprintf(cfg->tts_engine, sizeof(cfg->tts_engine), "espeak");
	tts_voice(cfg, "", "he-IL", v, sizeof(v));
	CHECK_STR(v, "he");
	snprintf(cfg->tts_engine, sizeof(cfg->tts_engine), "%s", engine);
	e.ops->free(&e);
}

int main(void)
{
	static struct config cfg;

	/* The program's job, once, before any thread: curl_global_init is not thread-safe. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	config_defaults(&cfg);
	snprintf(cfg.tts_engine, sizeof(cfg.tts_engine), "http");
	cfg.tts_timeout_ms = 10000;
	if (access(STUB, R_OK) != 0) {
		CHECK_MSG(0, "tests/stubs/openai_speech.py is reachable (run from the repo root)");
		return check_done();
	}
	test_voice(&cfg);
	test_audio(&cfg);
	test_streaming(&cfg);
	test_failures(&cfg);
	curl_global_cleanup();
	return check_done();
}
