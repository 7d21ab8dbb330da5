/* asr_http: the [asr] engine = http: an OpenAI-compatible POST /v1/audio/transcriptions,
 * multipart (file as 8 kHz WAV, model, language, prompt, response_format=json). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "apikey.h"
#include "asr_int.h"
#include "config.h"
#include "strutil.h"

/* A transcript answer is small JSON; more than this is not one. */
#define BODY_MAX (256 * 1024)
#define ERRMSG_MAX 160
#define CONNECT_MAX_MS 3000

struct hdec {
	const struct config *cfg;
	CURL *curl;                    /* one per decoder: its connection is kept alive */
	struct curl_slist *headers;
	char curl_err[CURL_ERROR_SIZE];
	struct asr_pcmbuf pcm;
	char language[8];
	char *hints;
	char *body;
	size_t blen;
	int too_big;
};

static int http_open(struct asr_engine *e, char *err, size_t errlen)
{
	if (strncasecmp(e->cfg->asr_url, "http://", 7) != 0 &&
	    strncasecmp(e->cfg->asr_url, "https://", 8) != 0) {
		strutil_seterr(err, errlen, "asr http: [asr] url must be http:// or https://");
		return -1;
	}
	e->impl = NULL;
	return 0;
}

static void http_close(struct asr_engine *e)
{
	(void)e;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct hdec *h = arg;
	size_t n = size * nmemb;

	if (n > BODY_MAX - h->blen) {
		h->too_big = 1;
		return 0;
	}
	memcpy(h->body + h->blen, data, n);
	h->blen += n;
	h->body[h->blen] = '\0';
	return n;
}

static int build_headers(struct hdec *h)
{
	if (!(h->headers = curl_slist_append(NULL, "Expect:")))
		return -1;
	return apikey_append_bearer(&h->headers, h->cfg->asr_api_key, h->cfg->asr_api_key_env);
}

static void http_dec_free(void *dec)
{
	struct hdec *h = dec;

	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	asr_pcmbuf_free(&h->pcm);
	free(h->hints);
	free(h->body);
	free(h);
}

static void *http_dec_new(struct asr_engine *e, char *err, size_t errlen)
{
	const struct config *cfg = e->cfg;
	struct hdec *h = calloc(1, sizeof(*h));
	long timeout = cfg->asr_timeout_ms;

	if (!h || !(h->body = malloc(BODY_MAX + 1)) || !(h->curl = curl_easy_init())) {
		strutil_seterr(err, errlen, "asr http: out of memory");
		http_dec_free(h);
		return NULL;
	}
	h->cfg = cfg;
	h->pcm.max = (size_t)cfg->asr_max_seconds * 8000;
	if (build_headers(h) < 0) {
		strutil_seterr(err, errlen, "asr http: out of memory");
		http_dec_free(h);
		return NULL;
	}
	CURL *c = h->curl;
	curl_easy_setopt(c, CURLOPT_URL, cfg->asr_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->curl_err);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout < CONNECT_MAX_MS ? timeout
									: CONNECT_MAX_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);   /* worker threads: no SIGALRM */
	curl_easy_setopt(c, CURLOPT_USERAGENT, "callpipe-ws");
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	return h;
}

static void http_reset(void *dec)
{
	struct hdec *h = dec;

	h->pcm.n = 0;
	free(h->hints);
	h->hints = NULL;
}

static int http_start(void *dec, const struct asr_req *q, char *err, size_t errlen)
{
	struct hdec *h = dec;

	http_reset(h);
	asr_lang_iso(q->language, h->language, sizeof(h->language));
	if (q->hints[0] && !(h->hints = strdup(q->hints))) {
		strutil_seterr(err, errlen, "asr http: out of memory");
		return -1;
	}
	return 0;
}

static int http_feed(void *dec, const int16_t *pcm, size_t n, char *err, size_t errlen)
{
	struct hdec *h = dec;

	/* the API takes a whole file: the audio waits here until the end of the utterance */
	if (asr_pcmbuf_add(&h->pcm, pcm, n) < 0) {
		strutil_seterr(err, errlen, "asr http: more than %d s of audio",
			       h->cfg->asr_max_seconds);
		return -1;
	}
	return 0;
}

static int add_field(curl_mime *m, const char *name, const char *value)
{
	curl_mimepart *p = curl_mime_addpart(m);

	return p && curl_mime_name(p, name) == CURLE_OK &&
	       curl_mime_data(p, value, CURL_ZERO_TERMINATED) == CURLE_OK ? 0 : -1;
}

/* One printable line of S (at most ERRMSG_MAX characters) into OUT. */
static void printable(const char *s, char *out, size_t cap)
{
	size_t i;

	for (i = 0; s[i] && i < ERRMSG_MAX && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	out[i] = '\0';
}

static int http_finish(void *dec, struct asr_out *out, char *err, size_t errlen)
{
	struct hdec *h = dec;
	curl_mime *m = NULL;
	curl_mimepart *file;
	uint8_t *wav = NULL;
	size_t wlen = 0;
	long status = 0;
	CURLcode rc;
	cJSON *root = NULL;
	const cJSON *text;
	int ret = -1;

	h->blen = 0;
	h->body[0] = '\0';
	h->too_big = 0;
	h->curl_err[0] = '\0';
	wav = asr_wav_bytes(h->pcm.s, h->pcm.n, &wlen);
	m = curl_mime_init(h->curl);
	if (!wav || !m || !(file = curl_mime_addpart(m)) ||
	    curl_mime_name(file, "file") != CURLE_OK ||
	    curl_mime_data(file, (const char *)wav, wlen) != CURLE_OK ||
	    curl_mime_filename(file, "audio.wav") != CURLE_OK ||
	    curl_mime_type(file, "audio/wav") != CURLE_OK ||
	    add_field(m, "model", h->cfg->asr_model) < 0 ||
	    (h->language[0] && add_field(m, "language", h->language) < 0) ||
	    (h->hints && add_field(m, "prompt", h->hints) < 0) ||
	    add_field(m, "response_format", "json") < 0) {
		strutil_seterr(err, errlen, "asr http: out of memory");
		goto done;
	}
	curl_easy_setopt(h->curl, CURLOPT_MIMEPOST, m);
	rc = curl_easy_perform(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_MIMEPOST, NULL);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (h->too_big) {
		strutil_seterr(err, errlen, "asr http: HTTP %ld with a body over %d bytes", status,
			       BODY_MAX);
		goto done;
	}
	if (rc != CURLE_OK) {
		strutil_seterr(err, errlen, "asr http: %s%s%s", curl_easy_strerror(rc),
			       h->curl_err[0] ? ": " : "", h->curl_err);
		goto done;
	}
	root = cJSON_ParseWithLength(h->body, h->blen);
	if (status < 200 || status >= 300) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
		char line[ERRMSG_MAX + 1] = "";

		if (cJSON_IsString(msg))
			printable(msg->valuestring, line, sizeof(line));
		else if (cJSON_IsString(e))
			printable(e->valuestring, line, sizeof(line));
		else if (!root)
			printable(h->body, line, sizeof(line));
		strutil_seterr(err, errlen, "asr http: HTTP %ld%s%s", status, line[0] ? ": " : "",
			       line);
		goto done;
	}
	if (!root) {
		strutil_seterr(err, errlen, "asr http: HTTP %ld with a body that is not JSON",
			       status);
		goto done;
	}
	text = cJSON_GetObjectItemCaseSensitive(root, "text");
	if (!cJSON_IsString(text)) {
		strutil_seterr(err, errlen, "asr http: HTTP %ld with no \"text\" in the JSON",
			       status);
		goto done;
	}
	out->text = strdup(text->valuestring);
	if (!out->text) {
		strutil_seterr(err, errlen, "asr http: out of memory");
		goto done;
	}
	/* one line for the turn and the log: a long transcript's line breaks become spaces */
	for (char *c = out->text; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	{
		char *t = asr_first_line(out->text);

		memmove(out->text, t, strlen(t) + 1);
	}
	/* the API gives no confidence: full for words, none for nothing */
	out->conf = out->text[0] ? 1000 : 0;
	ret = 0;
done:
	cJSON_Delete(root);
	curl_mime_free(m);
	free(wav);
	http_reset(h);
	return ret;
}

const struct asr_engine_ops asr_http_ops = {
	.name = "http",
	.open = http_open,
	.close = http_close,
	.dec_new = http_dec_new,
	.dec_free = http_dec_free,
	.start = http_start,
	.feed = http_feed,
	.finish = http_finish,
	.reset = http_reset,
};
