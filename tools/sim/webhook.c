/* webhook: the HTTP side of the fake Twilio: form-encode parameters, build the URL Twilio
 * signs, and send one webhook request with libcurl the way Twilio does (docs/PROTOCOL.md §1). */
#include "webhook.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/sha.h>

struct collect {
	struct sim_http_response *resp;
	size_t headers_cap, body_cap;
	int too_big;               /* 1: headers, 2: body over its limit */
};

static int grow(char **buf, size_t *cap, size_t need, size_t limit)
{
	size_t ncap = *cap ? *cap : 1024;
	char *p;

	if (need > limit + 1)
		return -1;
	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if (ncap > limit + 1)
		ncap = limit + 1;
	p = realloc(*buf, ncap);
	if (!p)
		return -1;
	*buf = p;
	*cap = ncap;
	return 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct collect *c = userp;
	struct sim_http_response *r = c->resp;
	size_t len = size * nmemb, n = len;

	/* A status line starts a new response (after 100 Continue or a 1xx): forget the
	 * headers of the interim one so only the final response's headers are kept. */
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		r->headers_len = 0;
		if (r->headers)
			r->headers[0] = '\0';
		r->content_type[0] = '\0';
		return len;
	}
	while (n && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	if (n == 0)
		return len;
	if (grow(&r->headers, &c->headers_cap, r->headers_len + n + 2, SIM_HTTP_HEADERS_MAX)) {
		c->too_big = 1;
		return 0;
	}
	memcpy(r->headers + r->headers_len, data, n);
	r->headers_len += n;
	r->headers[r->headers_len++] = '\n';
	r->headers[r->headers_len] = '\0';
	if (n > 13 && strncasecmp(data, "content-type:", 13) == 0) {
		size_t i = 13, m;

		while (i < n && (data[i] == ' ' || data[i] == '\t'))
			i++;
		m = n - i < sizeof(r->content_type) - 1 ? n - i : sizeof(r->content_type) - 1;
		memcpy(r->content_type, data + i, m);
		r->content_type[m] = '\0';
	}
	return len;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct collect *c = userp;
	struct sim_http_response *r = c->resp;
	size_t len = size * nmemb;

	if (grow(&r->body, &c->body_cap, r->body_len + len + 1, SIM_HTTP_BODY_MAX)) {
		c->too_big = 2;
		return 0;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

static void random_hex(char *out, size_t ndigits)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];
	size_t i, nbytes = (ndigits + 1) / 2;

	if (nbytes > sizeof(raw))
		nbytes = sizeof(raw);
	if (getrandom(raw, nbytes, 0) != (ssize_t)nbytes) {
		/* getrandom on Linux only fails before the pool is seeded; fall back. */
		for (i = 0; i < nbytes; i++)
			raw[i] = (unsigned char)(rand() ^ (int)time(NULL));
	}
	for (i = 0; i < ndigits && i / 2 < nbytes; i++)
		out[i] = hex[(i & 1) ? (raw[i / 2] & 15) : (raw[i / 2] >> 4)];
	out[i] = '\0';
}

void sim_random_sid(const char *prefix, char out[35])
{
	out[0] = prefix[0];
	out[1] = prefix[1];
	random_hex(out + 2, 32);
}

int sim_http_send(const struct sim_http_request *req, struct sim_http_response *resp,
		  char *err, size_t errlen)
{
	static int curl_ready;
	char ebuf[CURL_ERROR_SIZE] = "", line[4200], token[40];
	struct curl_slist *hdrs = NULL, *l;
	struct collect c = { .resp = resp };
	CURLcode rc;
	CURL *h;
	int ret = -1, i;

	memset(resp, 0, sizeof(*resp));
	if (err && errlen)
		err[0] = '\0';
	if (!curl_ready) {
		/* The simulator is single-threaded; initialise once on first use. */
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, errlen, "libcurl failed to initialise");
			return -1;
		}
		curl_ready = 1;
	}
	h = curl_easy_init();
	if (!h) {
		snprintf(err, errlen, "libcurl: out of memory");
		return -1;
	}
	/* The headers Twilio's webhook requests carry; "Expect:" stops libcurl from sending
	 * "Expect: 100-continue" on larger bodies, which Twilio never does. */
	random_hex(token, 32);
	snprintf(line, sizeof(line), "I-Twilio-Idempotency-Token: %.8s-%.4s-%.4s-%.4s-%.12s",
		 token, token + 8, token + 12, token + 16, token + 20);
	l = curl_slist_append(hdrs, line);
	hdrs = l ? l : hdrs;
	const char *fixed[] = { "Accept: */*", "Cache-Control: max-age=259200",
				"X-Home-Region: us1", "Expect:", NULL };
	for (i = 0; fixed[i]; i++) {
		l = curl_slist_append(hdrs, fixed[i]);
		hdrs = l ? l : hdrs;
	}
	if (req->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
		l = curl_slist_append(hdrs, line);
		hdrs = l ? l : hdrs;
	} else {
		l = curl_slist_append(hdrs, "Content-Type:");
		hdrs = l ? l : hdrs;
	}
	if (req->signature) {
		/* "Name;" is libcurl's spelling of a header with an empty value. */
		if (req->signature[0])
			snprintf(line, sizeof(line), "X-Twilio-Signature: %s", req->signature);
		else
			snprintf(line, sizeof(line), "X-Twilio-Signature;");
		l = curl_slist_append(hdrs, line);
		hdrs = l ? l : hdrs;
	}
	for (i = 0; i < SIM_HTTP_EXTRA_MAX && req->extra[i]; i++) {
		l = curl_slist_append(hdrs, req->extra[i]);
		hdrs = l ? l : hdrs;
	}

	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "TwilioProxy/1.1");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms
			 : SIM_HTTP_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, SIM_HTTP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &c);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(req->method, "POST") == 0) {
			curl_easy_setopt(h, CURLOPT_POST, 1L);
		} else {
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
			curl_easy_setopt(h, CURLOPT_UPLOAD, 0L);
		}
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(req->body ? req->body_len : 0));
	}

	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		if (c.too_big == 1)
			snprintf(err, errlen, "response headers over %u bytes", SIM_HTTP_HEADERS_MAX);
		else if (c.too_big == 2)
			snprintf(err, errlen, "response body over %u bytes", SIM_HTTP_BODY_MAX);
		else
			snprintf(err, errlen, "%s: %s", curl_easy_strerror(rc),
				 ebuf[0] ? ebuf : "no detail");
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	double t = 0;
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &t);
	resp->total_ms = t * 1000.0;
	if (!resp->body) {
		resp->body = calloc(1, 1);
		if (!resp->body) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	if (!resp->headers) {
		resp->headers = calloc(1, 1);
		if (!resp->headers) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	ret = 0;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return ret;
}

void sim_http_response_free(struct sim_http_response *resp)
{
	free(resp->headers);
	free(resp->body);
	resp->headers = resp->body = NULL;
	resp->headers_len = resp->body_len = 0;
}

int sim_url_split(const char *url, char *scheme, size_t scheme_cap, char *host,
		  size_t host_cap, int *port, char *path, size_t path_cap)
{
	const char *p = strstr(url, "://"), *h, *hend, *colon;
	size_t n;

	if (port)
		*port = 0;
	if (!p || p == url)
		return -1;
	n = (size_t)(p - url);
	if (scheme) {
		if (n >= scheme_cap)
			return -1;
		memcpy(scheme, url, n);
		scheme[n] = '\0';
	}
	h = p + 3;
	hend = h + strcspn(h, "/?#");
	if (hend == h)
		return -1;
	/* An IPv6 literal keeps its colons inside [ ]; the port follows the ']'. */
	colon = NULL;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(hend - h));

		if (!rb)
			return -1;
		if (rb + 1 < hend && rb[1] == ':')
			colon = rb + 1;
	} else {
		colon = memchr(h, ':', (size_t)(hend - h));
	}
	n = (size_t)((colon ? colon : hend) - h);
	if (n == 0)
		return -1;
	if (host) {
		if (n >= host_cap)
			return -1;
		memcpy(host, h, n);
		host[n] = '\0';
	}
	if (colon) {
		long v = 0;
		const char *d;

		if (colon + 1 == hend)
			return -1;
		for (d = colon + 1; d < hend; d++) {
			if (!isdigit((unsigned char)*d))
				return -1;
			v = v * 10 + (*d - '0');
			if (v > 65535)
				return -1;
		}
		if (v == 0)
			return -1;
		if (port)
			*port = (int)v;
	}
	if (path) {
		const char *rest = hend;
		size_t rn = strcspn(rest, "#");

		if (*rest != '/') {
			/* "http://host?x" means path "/" then the query. */
			if (rn + 2 > path_cap)
				return -1;
			path[0] = '/';
			memcpy(path + 1, rest, rn);
			path[rn + 1] = '\0';
		} else {
			if (rn + 1 > path_cap)
				return -1;
			memcpy(path, rest, rn);
			path[rn] = '\0';
		}
	}
	return 0;
}

int sim_public_url(const char *url, const char *public_base, char *out, size_t cap,
		   char *err, size_t errlen)
{
	char path[TWSIG_URL_MAX];
	size_t blen;

	if (cap)
		out[0] = '\0';
	if (sim_url_split(url, NULL, 0, NULL, 0, NULL, path, sizeof(path))) {
		snprintf(err, errlen, "not a URL (scheme://host[:port]/path): %s", url);
		return -1;
	}
	if (!public_base || !public_base[0]) {
		if (strlen(url) + 1 > cap) {
			snprintf(err, errlen, "URL longer than %zu characters", cap - 1);
			return -1;
		}
		strcpy(out, url);
		return 0;
	}
	if (sim_url_split(public_base, NULL, 0, NULL, 0, NULL, NULL, 0)) {
		snprintf(err, errlen, "public URL is not scheme://host[:port][/path]: %s",
			 public_base);
		return -1;
	}
	blen = strlen(public_base);
	while (blen && public_base[blen - 1] == '/')
		blen--;
	if (blen + strlen(path) + 1 > cap) {
		snprintf(err, errlen, "public URL longer than %zu characters", cap - 1);
		return -1;
	}
	memcpy(out, public_base, blen);
	strcpy(out + blen, path);
	return 0;
}

void sim_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	int i;

	SHA256(data, len, md);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}
