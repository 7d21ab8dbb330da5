/* test_asr_http: the [asr] engine = http against tests/stubs/openai_transcribe.py (a real
 * recognizer behind OpenAI's documented API): each multipart field, keys, every failure path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "config.h"
#include "recog_harness.h"
#include "stub.h"

#define STUB "tests/stubs/openai_transcribe.py"   /* tests/run runs from the repo root */
#define HINTS "go forward ten meters, turn left, stop"

static char record[64];
static uint8_t *go;
static size_t ngo;

static int start_stub(struct stub *s, const char *const *extra)
{
	const char *argv[24] = {STUB, "--port", "0", "--grammar-from-prompt", "--record", record};
	int n = 6;

	for (int i = 0; extra && extra[i] && n < 23; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	unlink(record);
	return stub_start(s, argv);
}

static void set_url(struct config *cfg, int port)
{
	config_defaults(cfg);
	snprintf(cfg->asr_engine, sizeof(cfg->asr_engine), "http");
	snprintf(cfg->asr_url, sizeof(cfg->asr_url),
		 "http://127.0.0.1:%d/v1/audio/transcriptions", port);
	snprintf(cfg->asr_api_key_env, sizeof(cfg->asr_api_key_env), "L1_TEST_NO_SUCH_VAR");
	cfg->asr_decoders = 1;
}

/* Recognize goforward on CFG with LANGUAGE; the result, *MS the time end -> result. */
static struct result *run(const struct config *cfg, const char *language, double *ms)
{
	struct harness h;
	char err[200] = "";
	struct recog *r;
	struct recog_utt *u;
	struct recog_opts o = {.language = language, .hints = HINTS};
	struct result *res = NULL;
	double t;

	harness_init(&h, 1);
	r = recog_new(cfg, h.pool, h.resq, err, sizeof(err));
	if (!r) {
		printf("# recog_new: %s\n", err);
		harness_fini(&h);
		return NULL;
	}
	u = recog_begin(r, 1, 1, &o, err, sizeof(err));
	if (u) {
		harness_feed(u, go, ngo, 0, NULL);
		t = harness_ms();
		recog_end(u);
		res = harness_wait(&h, 15000);
		if (ms)
			*ms = harness_ms() - t;
	}
	if (res)
		printf("# a=%ld conf=%ld text=\"%s\" reason=\"%s\"\n", res->a, res->b,
		       (char *)res->data, res->text);
	harness_fini_recog(&h, r);
	return res;
}

/* The last request the stub recorded, parsed. */
static cJSON *last_request(void)
{
	char line[8192], last[8192] = "";
	FILE *f = fopen(record, "r");

	while (f && fgets(line, sizeof(line), f))
		memcpy(last, line, sizeof(last));
	if (f)
		fclose(f);
	return cJSON_Parse(last);
}

static const char *field_str(const cJSON *req, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(req, "fields"), name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* One failure mode: stub started with EXTRA; the result must be a = -1 with WANT in it. */
static void failure(const char *const *extra, int timeout_ms, const char *want)
{
	struct stub s;
	struct config cfg;
	struct result *res;
	double ms = 0;

	CHECK(start_stub(&s, extra) == 0);
	set_url(&cfg, s.port);
	if (timeout_ms)
		cfg.asr_timeout_ms = timeout_ms;
	res = run(&cfg, NULL, &ms);
	CHECK_MSG(res && res->a == -1 && strstr(res->text, want), want);
	CHECK(res && res->data && ((char *)res->data)[0] == '\0');
	if (timeout_ms)
		CHECK(ms < timeout_ms + 1000);
	result_free(res);
	stub_stop(&s);
}

int main(void)
{
	struct stub s;
	struct config cfg;
	struct result *res;
	cJSON *req;
	double ms = 0;

	go = harness_ulaw("/usr/share/pocketsphinx/test/data/goforward.raw", 1, &ngo);
	CHECK(go != NULL);
	if (!go)
		return check_done();
	snprintf(record, sizeof(record), "/tmp/test_asr_http.%d.jsonl", (int)getpid());

	/* the request, field by field, and a real transcript back */
	{
		const char *extra[] = {"--key", "sk-test-123", NULL};

		CHECK(start_stub(&s, extra) == 0);
	}
	set_url(&cfg, s.port);
	snprintf(cfg.asr_api_key, sizeof(cfg.asr_api_key), "sk-test-123");
	res = run(&cfg, "en-US", &ms);
	CHECK(res && res->a == 0 && res->kind == RESULT_ASR);
	CHECK_STR(res ? (char *)res->data : NULL, "go forward ten meters");
	CHECK(res && res->b == 1000);
	printf("# http: recog_end -> RESULT_ASR %.0f ms (the stub runs pocketsphinx_continuous)\n",
	       ms);
	result_free(res);
	req = last_request();
	CHECK(req != NULL);
	{
		const cJSON *auth = cJSON_GetObjectItemCaseSensitive(req, "authorization");
		const cJSON *ct = cJSON_GetObjectItemCaseSensitive(req, "content_type");
		const cJSON *path = cJSON_GetObjectItemCaseSensitive(req, "path");
		const cJSON *file = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(req, "fields"), "file");
		const cJSON *wav = cJSON_GetObjectItemCaseSensitive(file, "wav");

		CHECK_STR(cJSON_IsString(path) ? path->valuestring : NULL,
			  "/v1/audio/transcriptions");
		CHECK_STR(cJSON_IsString(auth) ? auth->valuestring : NULL, "Bearer sk-test-123");
		CHECK(cJSON_IsString(ct) &&
		      strncmp(ct->valuestring, "multipart/form-data; boundary=", 30) == 0);
		CHECK_STR(field_str(req, "model"), "whisper-1");
		CHECK_STR(field_str(req, "language"), "en");
		CHECK_STR(field_str(req, "prompt"), HINTS);
		CHECK_STR(field_str(req, "response_format"), "json");
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(file, "filename")),
			  "audio.wav");
		CHECK_STR(cJSON_GetStringValue(
				  cJSON_GetObjectItemCaseSensitive(file, "content_type")),
			  "audio/wav");
		CHECK(num(wav, "format") == 1 && num(wav, "channels") == 1);
		CHECK(num(wav, "rate") == 8000 && num(wav, "bits") == 16);
		CHECK(num(wav, "data_bytes") == (double)ngo * 2);
		CHECK(num(file, "size") == (double)ngo * 2 + 44);
	}
	cJSON_Delete(req);

	/* the key from the environment variable [asr] api_key_env names; another language */
	set_url(&cfg, s.port);
	snprintf(cfg.asr_api_key_env, sizeof(cfg.asr_api_key_env), "L1_TEST_ASR_KEY");
	setenv("L1_TEST_ASR_KEY", "sk-test-123", 1);
	snprintf(cfg.asr_model, sizeof(cfg.asr_model), "gpt-4o-transcribe");
	res = run(&cfg, "pt-BR", NULL);
	CHECK(res && res->a == 0);
	result_free(res);
	req = last_request();
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "authorization")),
		  "Bearer sk-test-123");
	CHECK_STR(field_str(req, "language"), "pt");
	CHECK_STR(field_str(req, "model"), "gpt-4o-transcribe");
	cJSON_Delete(req);

	/* a tag with no ISO-639-1 part: no language field (the API takes two letters only) */
	res = run(&cfg, "cmn-Hans-CN", NULL);
	CHECK(res && res->a == 0);
	result_free(res);
	req = last_request();
	CHECK(req && field_str(req, "model") && !field_str(req, "language"));
	cJSON_Delete(req);

	/* a wrong key: 401 with OpenAI's message */
	set_url(&cfg, s.port);
	snprintf(cfg.asr_api_key, sizeof(cfg.asr_api_key), "sk-wrong");
	res = run(&cfg, NULL, NULL);
	CHECK(res && res->a == -1 && strstr(res->text, "HTTP 401: Incorrect API key"));
	result_free(res);
	stub_stop(&s);

	{
		const char *st500[] = {"--fail-status", "500", NULL};
		const char *st400[] = {"--fail-status", "400", NULL};
		const char *bad[] = {"--bad-json", NULL};
		const char *notext[] = {"--no-text", NULL};
		const char *slow[] = {"--delay-ms", "3000", NULL};

		failure(st500, 0, "HTTP 500: The stub was told to fail with 500");
		failure(st400, 0, "HTTP 400: The stub was told to fail with 400");
		failure(bad, 0, "not JSON");
		failure(notext, 0, "no \"text\"");
		failure(slow, 400, "Timeout");
	}
	/* nobody listening */
	{
		struct config c;

		set_url(&c, 1);
		res = run(&c, NULL, NULL);
		CHECK(res && res->a == -1 && strstr(res->text, "asr http: "));
		result_free(res);
	}
	/* a url that is not http(s) is a start-up error */
	{
		struct harness h;
		char err[200] = "";

		config_defaults(&cfg);
		snprintf(cfg.asr_engine, sizeof(cfg.asr_engine), "http");
		snprintf(cfg.asr_url, sizeof(cfg.asr_url), "file:///etc/passwd");
		harness_init(&h, 1);
		CHECK(recog_new(&cfg, h.pool, h.resq, err, sizeof(err)) == NULL &&
		      strstr(err, "http://"));
		harness_fini(&h);
	}
	unlink(record);
	free(go);
	return check_done();
}
