/* tts_http: the [tts] engine = http: an OpenAI-compatible POST /v1/audio/speech with
 * response_format "pcm" (24 kHz s16le mono), streamed into a pcmsink as it arrives. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "apikey.h"
#include "config.h"
#include "pcmsink.h"
#include "strutil.h"
#include "tts_int.h"

/* OpenAI documents response_format "pcm" as 24 kHz, 16-bit signed little-endian mono. */
#define HTTP_PCM_RATE 24000
/* Ten minutes of that audio: no utterance is longer, so more is a broken or hostile server. */
#define HTTP_MAX_AUDIO ((curl_off_t)HTTP_PCM_RATE * 2 * 600)
/* An error body is a small JSON document; the first 4 KiB hold error.message. */
#define HTTP_ERRBODY_MAX 4096
/* What of error.message goes into err (it ends up in the call log). */
#define HTTP_ERRMSG_MAX 200
#define HTTP_CONNECT_MAX_MS 3000

struct tts_http {
	CURL *curl;                    /* one handle per engine: its connection is kept alive */
	struct curl_slist *headers;    /* Content-Type, Authorization (when a key is known) */
	char curl_err[CURL_ERROR_SIZE];
};

/* One synthesis in flight: what the write callback needs and what it found. */
struct http_xfer {
	CURL *curl;
	struct pcmsink *sink;
	long status;                   /* 0 until the first body byte */
	int bad_type;                  /* a 2xx whose Content-Type is not audio */
	char ctype[64];
	int too_long;                  /* more than HTTP_MAX_AUDIO */
	int stopped;                   /* the sink asked to stop */
	int sink_failed;
	curl_off_t audio_bytes;
	char errbody[HTTP_ERRBODY_MAX + 1];
	size_t errbody_len;
};

static int type_is_audio(const char *ct)
{
	if (!ct)
		return 0;   /* no Content-Type at all: a raw body, as some servers send it */
	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, "audio/", 6) == 0)
		return 1;
	size_t n = strlen("application/octet-stream");
	return strncasecmp(ct, "application/octet-stream", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	size_t n = size * nmemb;

	if (x->status == 0) {
		char *ct = NULL;

		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
		curl_easy_getinfo(x->curl, CURLINFO_CONTENT_TYPE, &ct);
		if (x->status >= 200 && x->status < 300 && ct && !type_is_audio(ct)) {
			x->bad_type = 1;
			snprintf(x->ctype, sizeof(x->ctype), "%s", ct);
			for (char *c = x->ctype; *c; c++)   /* it goes into the call log */
				if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '"')
					*c = '?';
		}
	}
	if (x->status < 200 || x->status >= 300) {
		size_t room = HTTP_ERRBODY_MAX - x->errbody_len;
		size_t take = n < room ? n : room;

		memcpy(x->errbody + x->errbody_len, data, take);
		x->errbody_len += take;
		x->errbody[x->errbody_len] = '\0';
		return take == n ? n : 0;   /* past 4 KiB: enough to report, stop reading */
	}
	if (x->bad_type)
		return 0;
	if ((curl_off_t)n > HTTP_MAX_AUDIO - x->audio_bytes) {
		x->too_long = 1;
		return 0;
	}
	x->audio_bytes += (curl_off_t)n;
	int r = pcmsink_write_le(x->sink, (const uint8_t *)data, n);
	if (r == 1)
		x->stopped = 1;
	else if (r < 0)
		x->sink_failed = 1;
	return r == 0 ? n : 0;
}

/* "HTTP 401: <error.message>" from an OpenAI-style error body, printable and bounded. */
static void http_status_error(const struct http_xfer *x, char *err, size_t errlen)
{
	char msg[HTTP_ERRMSG_MAX + 1] = "";
	cJSON *root = cJSON_ParseWithLength(x->errbody, x->errbody_len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
	const char *src = NULL;

	if (cJSON_IsString(m))
		src = m->valuestring;
	else if (cJSON_IsString(e))   /* some servers: {"error": "text"} */
		src = e->valuestring;
	else if (!root)
		src = x->errbody;     /* not JSON: the body's text itself */
	if (src) {
		size_t i;
		for (i = 0; src[i] && i < HTTP_ERRMSG_MAX; i++) {
			unsigned char c = (unsigned char)src[i];
			msg[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
		}
		msg[i] = '\0';
	}
	cJSON_Delete(root);
	if (msg[0])
		strutil_seterr(err, errlen, "tts http: HTTP %ld: %s", x->status, msg);
	else
		strutil_seterr(err, errlen, "tts http: HTTP %ld", x->status);
}

static const char *http_voice_name(const struct config *cfg, const char *voice)
{
	if (voice && voice[0])
		return voice;
	if (cfg->tts_voice[0])
		return cfg->tts_voice;
	return "alloy";
}

static void http_voice(const struct config *cfg, const char *voice, const char *language,
		       char *out, size_t cap)
{
	(void)language;   /* OpenAI's voices speak whatever language the text is in */
	if (cap)
		snprintf(out, cap, "%s", http_voice_name(cfg, voice));
}

static char *request_body(const struct tts_engine *e, const struct tts_text *t)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;

	if (o && cJSON_AddStringToObject(o, "model", e->cfg->tts_model) &&
	    cJSON_AddStringToObject(o, "input", t->text) &&
	    cJSON_AddStringToObject(o, "voice", http_voice_name(e->cfg, t->voice)) &&
	    cJSON_AddStringToObject(o, "response_format", "pcm") &&
	    cJSON_AddNumberToObject(o, "speed", e->cfg->tts_speed))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static int http_synth(struct tts_engine *e, const struct tts_text *t, tts_sink_fn sink,
		      void *arg, char *err, size_t errlen)
{
	struct tts_http *h = e->impl;
	struct http_xfer *x = NULL;
	char *body = NULL;
	int ret = -1;

	if (!t || !t->text) {
		strutil_seterr(err, errlen, "tts http: no text");
		return -1;
	}
	x = calloc(1, sizeof(*x));
	body = request_body(e, t);
	if (!x || !body) {
		strutil_seterr(err, errlen, "tts http: out of memory");
		goto done;
	}
	x->curl = h->curl;
	x->sink = pcmsink_new(HTTP_PCM_RATE, sink, arg, err, errlen);
	if (!x->sink)
		goto done;

	h->curl_err[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, x);
	CURLcode rc = curl_easy_perform(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, NULL);
	if (x->status == 0)   /* no body at all: the status from the headers, if any came */
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &x->status);

	if (x->stopped) {
		ret = 1;
	} else if (x->sink_failed) {
		strutil_seterr(err, errlen, "tts http: converting the audio failed");
	} else if (x->status != 0 && (x->status < 200 || x->status >= 300) &&
		   (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)) {
		http_status_error(x, err, errlen);
	} else if (x->bad_type) {
		strutil_seterr(err, errlen, "tts http: HTTP %ld with Content-Type \"%s\", not audio",
			       x->status, x->ctype);
	} else if (x->too_long) {
		strutil_seterr(err, errlen, "tts http: more than %d minutes of audio",
			       (int)(HTTP_MAX_AUDIO / (HTTP_PCM_RATE * 2) / 60));
	} else if (rc != CURLE_OK) {
		strutil_seterr(err, errlen, "tts http: %s%s%s", curl_easy_strerror(rc),
			       h->curl_err[0] ? ": " : "", h->curl_err);
	} else if (x->status < 200 || x->status >= 300) {
		http_status_error(x, err, errlen);
	} else if (x->audio_bytes < 2) {
		strutil_seterr(err, errlen, "tts http: HTTP %ld with no audio", x->status);
	} else {
		int r = pcmsink_finish(x->sink);
		if (r < 0)
			strutil_seterr(err, errlen, "tts http: converting the audio failed");
		ret = r;
	}
done:
	if (x)
		pcmsink_free(x->sink);
	free(x);
	cJSON_free(body);
	return ret;
}

static void http_free(struct tts_engine *e)
{
	struct tts_http *h = e->impl;

	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);   /* the Authorization line included */
	free(h);
	e->impl = NULL;
}

const struct tts_engine_ops tts_http_ops = {
	.name = "http",
	.synth = http_synth,
	.voice = http_voice,
	.free = http_free,
};

/* Headers every request carries (the key read once: workers open their engines at start). */
static int build_headers(struct tts_http *h, const struct config *cfg)
{
	if (!(h->headers = curl_slist_append(NULL, "Content-Type: application/json")))
		return -1;
	/* No 100-continue round trip before a long text. */
	if (!curl_slist_append(h->headers, "Expect:"))
		return -1;
	return apikey_append_bearer(&h->headers, cfg->tts_api_key, cfg->tts_api_key_env);
}

int tts_http_open(struct tts_engine *e, char *err, size_t errlen)
{
	const struct config *cfg = e->cfg;
	struct tts_http *h = calloc(1, sizeof(*h));
	long timeout = cfg->tts_timeout_ms;
	long connect = timeout < HTTP_CONNECT_MAX_MS ? timeout : HTTP_CONNECT_MAX_MS;

	if (strncasecmp(cfg->tts_url, "http://", 7) != 0 &&
	    strncasecmp(cfg->tts_url, "https://", 8) != 0) {
		strutil_seterr(err, errlen, "tts http: [tts] url must be http:// or https://");
		free(h);
		return -1;
	}
	if (!h || !(h->curl = curl_easy_init()) || build_headers(h, cfg) < 0) {
		strutil_seterr(err, errlen, "tts http: out of memory");
		if (h) {
			curl_easy_cleanup(h->curl);
			curl_slist_free_all(h->headers);
		}
		free(h);
		return -1;
	}
	CURL *c = h->curl;
	curl_easy_setopt(c, CURLOPT_URL, cfg->tts_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->curl_err);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);   /* worker threads: no SIGALRM */
	curl_easy_setopt(c, CURLOPT_USERAGENT, "callpipe-ws");
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, NULL);   /* raw PCM: no compression */
	e->ops = &tts_http_ops;
	e->impl = h;
	return 0;
}
