/* turnclient: agent turns POSTed by one thread driving a libcurl multi handle; each answer is
 * streamed into turnparse and every verb, warning, head and end is pushed to the result queue.
 *
 * Threads: turnclient_post() and turnclient_cancel() run on the lws thread and only touch
 * the job list under tc->mu, then curl_multi_wakeup(); everything curl does runs on the
 * client's own thread. A result is pushed with tc->mu held after checking the job's
 * cancelled flag, which is what lets turnclient_cancel() promise "nothing after I return"
 * without waiting for the thread.
 *
 * The program must call curl_global_init(CURL_GLOBAL_DEFAULT) and turnparse_init() before
 * turnclient_new(): neither is safe to run first on a worker thread. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "config.h"
#include "form.h"
#include "resq.h"
#include "strutil.h"
#include "turnclient.h"
#include "turnparse.h"
#include "twsig.h"

/* Hard limits. Jobs in flight across all calls: a call has one turn at a time (two during a
 * Redirect or barge-in race), so this is far above max_calls' worth of real use. */
#define TC_MAX_JOBS 8192
/* Form pairs per turn: the same bound the webhook parser accepts. */
#define TC_MAX_PAIRS FORM_MAX_PAIRS
/* Bytes of all names and values of one turn (custom parameters are < 500 chars each). */
#define TC_MAX_KV_BYTES (256u * 1024)
/* The poll's longest sleep: curl shortens it to its own timers, wakeups cut it short. */
#define TC_POLL_MS 1000
/* Connect budget: never more than the whole turn's. */
#define TC_CONNECT_MS 3000

struct tc_job {
	struct tc_job *prev, *next;      /* tc->pending (next only) or tc->jobs, under tc->mu */
	struct tc_job *fresh_next;       /* thread only: jobs to start in this round */
	struct turnclient *tc;
	uint64_t call_id;
	unsigned seq;
	int cancelled;                   /* under tc->mu: no result may be pushed any more */
	int started;                     /* thread only: the easy handle is in the multi */
	int64_t t0_us;                   /* when turnclient_post() was called */

	/* The request as posted: URL and the pairs, in one allocation each. */
	char *url;
	char **kv;                       /* name, value, …, NULL */
	size_t npairs;

	/* Thread only from here on. */
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *connect_to;
	char *body;
	struct turnparse *parser;
	int64_t first_byte_us;           /* 0 until the status line arrives */
	int head_done;                   /* the headers of the final (non-1xx) response ended */
	int failed;                      /* a callback decided the turn failed: why is in err */
	int verbs;                       /* verbs handed over so far (their index) */
	size_t body_bytes;
	char err[160];
	char curl_err[CURL_ERROR_SIZE];
};

struct turnclient {
	struct resq *q;
	CURLM *multi;
	pthread_t thread;
	int thread_started;

	/* Copied settings, so the config may go away. */
	char token[CONFIG_STR_MAX];
	char connect_to[CONFIG_STR_MAX + 4];   /* "::host:port", or "" */
	long timeout_ms, connect_ms;
	struct turnparse_limits lim;

	pthread_mutex_t mu;              /* guards everything below */
	struct tc_job *pending;          /* posted, not yet seen by the thread, oldest first */
	struct tc_job **pending_tail;
	struct tc_job *jobs;             /* taken by the thread (started or about to be) */
	size_t njobs;                    /* on both lists */
	int work;                        /* a post or a cancel the thread has not looked at */
	int stop;
};

static int64_t tc_ms_since(int64_t t0_us)
{
	int64_t d = resq_now_us() - t0_us;

	return d > 0 ? d / 1000 : 0;
}

/* --- jobs --------------------------------------------------------------------------------- */

/* Unlink J from tc->jobs; caller holds tc->mu. */
static void tc_unlink(struct turnclient *tc, struct tc_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		tc->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->prev = j->next = NULL;
	tc->njobs--;
}

/* Free J's transfer and memory; J is no longer on tc->jobs. Thread (or teardown) only. */
static void tc_job_free(struct tc_job *j)
{
	if (!j)
		return;
	if (j->easy) {
		if (j->started)
			curl_multi_remove_handle(j->tc->multi, j->easy);
		curl_easy_cleanup(j->easy);
	}
	curl_slist_free_all(j->headers);
	curl_slist_free_all(j->connect_to);
	if (j->parser)
		turnparse_free(j->parser);
	free(j->body);
	free(j->url);
	free(j->kv);
	free(j);
}

/* Queue R for J unless J was cancelled (or the client is stopping): checked under the same
 * lock turnclient_cancel() takes, so once cancel returns nothing of J's gets through. */
static void tc_push(struct tc_job *j, struct result *r)
{
	struct turnclient *tc = j->tc;

	if (!r)
		return;
	pthread_mutex_lock(&tc->mu);
	if (j->cancelled || tc->stop) {
		pthread_mutex_unlock(&tc->mu);
		result_free(r);
		return;
	}
	resq_push(tc->q, r);   /* a full queue frees R and counts the drop: nothing to add */
	pthread_mutex_unlock(&tc->mu);
}

static void tc_push_text(struct tc_job *j, int kind, long a, long b, size_t len,
			 const char *text)
{
	struct result *r = result_new(j->call_id, j->seq, kind);

	if (!r)
		return;
	r->a = a;
	r->b = b;
	r->len = len;
	snprintf(r->text, sizeof(r->text), "%s", text ? text : "");
	tc_push(j, r);
}

/* Record why J failed (the first reason wins: later ones are consequences). */
static void tc_fail(struct tc_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tc_fail(struct tc_job *j, const char *fmt, ...)
{
	va_list ap;

	if (j->failed)
		return;
	j->failed = 1;
	va_start(ap, fmt);
	vsnprintf(j->err, sizeof(j->err), fmt, ap);
	va_end(ap);
}

/* --- request ------------------------------------------------------------------------------ */

/* "Media type is text/xml or application/xml", parameters (;charset=…) allowed. */
static int tc_is_twiml(const char *ct)
{
	static const char *const ok[] = { "text/xml", "application/xml" };
	size_t n, i;

	if (!ct)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strcspn(ct, "; \t");
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (n == strlen(ok[i]) && strncasecmp(ct, ok[i], n) == 0)
			return 1;
	return 0;
}

/* --- curl callbacks (client thread) ------------------------------------------------------ */

static size_t tc_on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct tc_job *j = arg;
	size_t len = size * n;
	long status = 0;
	char *ct = NULL;

	if (!j->first_byte_us)
		j->first_byte_us = resq_now_us();
	/* Only the blank line that ends a header block matters here. */
	if (!(len == 2 && buf[0] == '\r' && buf[1] == '\n') && !(len == 1 && buf[0] == '\n'))
		return len;
	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 100 && status < 200)
		return len;   /* an interim response (100 Continue): the real one follows */
	curl_easy_getinfo(j->easy, CURLINFO_CONTENT_TYPE, &ct);
	j->head_done = 1;
	tc_push_text(j, RESULT_TURN_HEAD, status, (long)((j->first_byte_us - j->t0_us) / 1000), 0,
		     ct ? ct : "");
	if (status < 200 || status > 299)
		tc_fail(j, "HTTP %ld", status);
	else if (!tc_is_twiml(ct))
		tc_fail(j, "content type %.100s is not TwiML", ct && *ct ? ct : "(none)");
	/* Anything but LEN aborts the transfer (CURLE_WRITE_ERROR): the body is not read. */
	return j->failed ? 0 : len;
}

static void tc_on_verb(void *arg, const struct turn_verb *v)
{
	struct tc_job *j = arg;
	struct result *r = result_new(j->call_id, j->seq, RESULT_TURN_VERB);
	struct turn_verb *copy;
	char *text;

	if (!r)
		return;
	/* One block: the struct, then its text, so free() is the whole of verb_free. */
	copy = malloc(sizeof(*copy) + v->text_len + 1);
	if (!copy) {
		result_free(r);
		return;
	}
	*copy = *v;
	text = (char *)(copy + 1);
	if (v->text_len)
		memcpy(text, v->text, v->text_len);
	text[v->text_len] = '\0';
	copy->text = text;
	r->data = copy;
	r->free_data = turnclient_verb_free;
	r->len = sizeof(*copy) + v->text_len + 1;
	r->a = j->verbs++;
	tc_push(j, r);
}

static void tc_on_warn(void *arg, const char *msg)
{
	struct tc_job *j = arg;

	tc_push_text(j, RESULT_TURN_WARN, 0, 0, 0, msg);
}

static size_t tc_on_write(char *buf, size_t size, size_t n, void *arg)
{
	struct tc_job *j = arg;
	size_t len = size * n;
	char err[160];

	if (j->failed || !j->head_done)
		return 0;
	/* Our own hard limit, before the parser sees a byte: a 100 MB body stops here. */
	if (len > j->tc->lim.max_bytes - j->body_bytes) {
		j->body_bytes += len;
		tc_fail(j, "body over %zu bytes", j->tc->lim.max_bytes);
		return 0;
	}
	j->body_bytes += len;
	if (turnparse_feed(j->parser, buf, len, 0, err, sizeof(err)) != 0) {
		tc_fail(j, "%s", err);
		return 0;
	}
	return len;
}

/* --- transfers (client thread) ----------------------------------------------------------- */

/* Build J's easy handle and add it to the multi. -1 with J failed when it cannot start. */
static int tc_start(struct turnclient *tc, struct tc_job *j)
{
	struct twsig_param *params = NULL;
	char sig[TWSIG_LEN + 1], hdr[64 + TWSIG_LEN];
	struct curl_slist *h = NULL, *nh;
	size_t i;
	int ok = 1;

	/* kv holds the decoded pairs: what the body encodes and the signature is over */
	params = calloc(j->npairs ? j->npairs : 1, sizeof(*params));
	for (i = 0; params && i < j->npairs; i++) {
		params[i].name = j->kv[2 * i];
		params[i].value = j->kv[2 * i + 1];
	}
	j->parser = turnparse_new(&tc->lim, tc_on_verb, tc_on_warn, j);
	j->body = params ? form_encode(params, j->npairs) : NULL;
	j->easy = curl_easy_init();
	if (!params || !j->parser || !j->body || !j->easy) {
		free(params);
		tc_fail(j, "out of memory");
		return -1;
	}
	if (tc->token[0]) {
		if (twsig_compute(tc->token, j->url, params, j->npairs, sig) != 0) {
			free(params);
			tc_fail(j, "cannot sign the turn (URL over %d bytes?)", TWSIG_URL_MAX - 1);
			return -1;
		}
		snprintf(hdr, sizeof(hdr), "X-Twilio-Signature: %s", sig);
	}
	free(params);
	/* "Expect:" off: curl would otherwise wait for 100 Continue on large bodies. */
	static const char *const fixed[] = {
		"Content-Type: application/x-www-form-urlencoded",
		"Accept: text/xml, application/xml",
		"Expect:",
	};
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && ok; i++) {
		nh = curl_slist_append(h, fixed[i]);
		ok = nh != NULL;
		h = nh ? nh : h;
	}
	if (ok && tc->token[0]) {
		nh = curl_slist_append(h, hdr);
		ok = nh != NULL;
		h = nh ? nh : h;
	}
	j->headers = h;
	if (ok && tc->connect_to[0]) {
		j->connect_to = curl_slist_append(NULL, tc->connect_to);
		ok = j->connect_to != NULL;
	}
	if (!ok) {
		tc_fail(j, "out of memory");
		return -1;
	}

	CURL *e = j->easy;
	CURLcode c = CURLE_OK;
#define TC_SET(opt, val) do { if (c == CURLE_OK) c = curl_easy_setopt(e, opt, val); } while (0)
	TC_SET(CURLOPT_URL, j->url);
	TC_SET(CURLOPT_PROTOCOLS_STR, "http,https");
	TC_SET(CURLOPT_NOSIGNAL, 1L);              /* threads: no SIGALRM for DNS timeouts */
	TC_SET(CURLOPT_POST, 1L);
	TC_SET(CURLOPT_POSTFIELDS, j->body);
	TC_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(j->body));
	TC_SET(CURLOPT_HTTPHEADER, j->headers);
	TC_SET(CURLOPT_USERAGENT, "callpipe-ws");
	TC_SET(CURLOPT_TIMEOUT_MS, tc->timeout_ms);
	TC_SET(CURLOPT_CONNECTTIMEOUT_MS, tc->connect_ms);
	/* A Content-Length over the limit fails before a body byte is read. */
	TC_SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)tc->lim.max_bytes);
	TC_SET(CURLOPT_HEADERFUNCTION, tc_on_header);
	TC_SET(CURLOPT_HEADERDATA, j);
	TC_SET(CURLOPT_WRITEFUNCTION, tc_on_write);
	TC_SET(CURLOPT_WRITEDATA, j);
	TC_SET(CURLOPT_PRIVATE, j);
	TC_SET(CURLOPT_ERRORBUFFER, j->curl_err);
	if (j->connect_to)
		TC_SET(CURLOPT_CONNECT_TO, j->connect_to);
#undef TC_SET
	if (c != CURLE_OK) {
		tc_fail(j, "curl: %s", curl_easy_strerror(c));
		return -1;
	}
	if (curl_multi_add_handle(tc->multi, e) != CURLM_OK) {
		tc_fail(j, "curl: cannot add the transfer");
		return -1;
	}
	j->started = 1;
	return 0;
}

/* "host:port" the transfer went (or tried to go) to, for the error text. */
static void tc_peer(const struct tc_job *j, char *out, size_t outlen)
{
	char *ip = NULL, *host = NULL, *port = NULL;
	long pport = 0;
	CURLU *u;

	if (curl_easy_getinfo(j->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && *ip &&
	    curl_easy_getinfo(j->easy, CURLINFO_PRIMARY_PORT, &pport) == CURLE_OK && pport > 0) {
		snprintf(out, outlen, strchr(ip, ':') ? "[%s]:%ld" : "%s:%ld", ip, pport);
		return;
	}
	if (j->tc->connect_to[0]) {
		snprintf(out, outlen, "%s", j->tc->connect_to + 2);
		return;
	}
	snprintf(out, outlen, "%s", "?");
	u = curl_url();
	if (u && curl_url_set(u, CURLUPART_URL, j->url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
		snprintf(out, outlen, "%s:%s", host, port);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

/* J's transfer ended with RC: finish the parse and push its one DONE. */
static void tc_finish(struct turnclient *tc, struct tc_job *j, CURLcode rc)
{
	char err[160], peer[96];
	long os_errno = 0, conn_ms;
	double conn_s = 0;

	if (!j->failed) {
		switch (rc) {
		case CURLE_OK:
			if (turnparse_feed(j->parser, "", 0, 1, err, sizeof(err)) != 0)
				tc_fail(j, "%s", err);
			break;
		case CURLE_OPERATION_TIMEDOUT:
			/* Nothing connected within the connect budget, or the whole turn ran out. */
			curl_easy_getinfo(j->easy, CURLINFO_CONNECT_TIME, &conn_s);
			conn_ms = tc_ms_since(j->t0_us);
			if (conn_s <= 0 && !j->first_byte_us && conn_ms < tc->timeout_ms) {
				tc_peer(j, peer, sizeof(peer));
				tc_fail(j, "connect to %s timed out after %ld ms", peer,
					tc->connect_ms);
			} else {
				tc_fail(j, "timed out after %ld ms", tc->timeout_ms);
			}
			break;
		case CURLE_FILESIZE_EXCEEDED:
			tc_fail(j, "body over %zu bytes", tc->lim.max_bytes);
			break;
		case CURLE_COULDNT_CONNECT:
			curl_easy_getinfo(j->easy, CURLINFO_OS_ERRNO, &os_errno);
			tc_peer(j, peer, sizeof(peer));
			if (os_errno == ECONNREFUSED)
				tc_fail(j, "connection refused (%s)", peer);
			else
				tc_fail(j, "cannot connect to %s: %s", peer,
					j->curl_err[0] ? j->curl_err : curl_easy_strerror(rc));
			break;
		default:
			tc_fail(j, "%s", j->curl_err[0] ? j->curl_err : curl_easy_strerror(rc));
			break;
		}
	}
	/* One line, whatever a server or curl put in it. */
	for (char *p = j->err; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	tc_push_text(j, RESULT_TURN_DONE, j->failed ? -1 : 0, (long)tc_ms_since(j->t0_us),
		     j->body_bytes, j->failed ? j->err : "");
}

/* Move posted jobs onto tc->jobs and start them; free the cancelled ones. */
static void tc_take_work(struct turnclient *tc)
{
	struct tc_job *j, *nx, *dead = NULL, *fresh = NULL, **tail = &fresh;

	pthread_mutex_lock(&tc->mu);
	if (!tc->work) {
		pthread_mutex_unlock(&tc->mu);
		return;
	}
	tc->work = 0;
	for (j = tc->jobs; j; j = nx) {
		nx = j->next;
		if (j->cancelled) {
			tc_unlink(tc, j);
			j->next = dead;
			dead = j;
		}
	}
	/* Posted jobs join tc->jobs (where cancel can still flag them) in posting order;
	 * fresh chains them for this thread alone. */
	for (j = tc->pending; j; j = nx) {
		nx = j->next;
		if (j->cancelled) {
			tc->njobs--;
			j->next = dead;
			dead = j;
			continue;
		}
		j->prev = NULL;
		j->next = tc->jobs;
		if (tc->jobs)
			tc->jobs->prev = j;
		tc->jobs = j;
		*tail = j;
		tail = &j->fresh_next;
	}
	tc->pending = NULL;
	tc->pending_tail = &tc->pending;
	pthread_mutex_unlock(&tc->mu);

	for (j = dead; j; j = nx) {
		nx = j->next;
		tc_job_free(j);
	}
	for (j = fresh; j; j = nx) {
		nx = j->fresh_next;
		if (j->failed || tc_start(tc, j) != 0) {
			tc_finish(tc, j, CURLE_OK);
			pthread_mutex_lock(&tc->mu);
			tc_unlink(tc, j);
			pthread_mutex_unlock(&tc->mu);
			tc_job_free(j);
		}
	}
}

/* Every ended transfer: its DONE, then it goes. */
static void tc_reap(struct turnclient *tc)
{
	struct tc_job *j;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(tc->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		j = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		if (!j)
			continue;
		tc_finish(tc, j, m->data.result);   /* M is invalid after remove_handle */
		pthread_mutex_lock(&tc->mu);
		tc_unlink(tc, j);
		pthread_mutex_unlock(&tc->mu);
		tc_job_free(j);
	}
}

static void *tc_thread(void *arg)
{
	struct turnclient *tc = arg;
	int running = 0, stop;

	for (;;) {
		pthread_mutex_lock(&tc->mu);
		stop = tc->stop;
		pthread_mutex_unlock(&tc->mu);
		if (stop)
			break;
		tc_take_work(tc);
		curl_multi_perform(tc->multi, &running);
		tc_reap(tc);
		curl_multi_poll(tc->multi, NULL, 0, TC_POLL_MS, NULL);
	}
	return NULL;
}

/* --- API ---------------------------------------------------------------------------------- */

struct turnclient *turnclient_new(const struct config *cfg, struct resq *q, char *err,
				  size_t errlen)
{
	struct turnclient *tc;

	if (!cfg || !q) {
		strutil_seterr(err, errlen, "turnclient: no config or queue");
		return NULL;
	}
	tc = calloc(1, sizeof(*tc));
	if (!tc) {
		strutil_seterr(err, errlen, "turnclient: out of memory");
		return NULL;
	}
	tc->q = q;
	tc->pending_tail = &tc->pending;
	snprintf(tc->token, sizeof(tc->token), "%s", cfg->auth_token);
	if (cfg->turn_connect_to[0])
		snprintf(tc->connect_to, sizeof(tc->connect_to), "::%s", cfg->turn_connect_to);
	tc->timeout_ms = cfg->turn_timeout_ms > 0 ? cfg->turn_timeout_ms : 10000;
	tc->connect_ms = tc->timeout_ms < TC_CONNECT_MS ? tc->timeout_ms : TC_CONNECT_MS;
	tc->lim.max_bytes = cfg->max_turn_bytes ? cfg->max_turn_bytes : 65536;
	tc->lim.max_verbs = cfg->max_verbs > 0 ? cfg->max_verbs : 64;
	tc->lim.max_text = cfg->max_say_chars > 0 ? (size_t)cfg->max_say_chars : 4096;
	if (pthread_mutex_init(&tc->mu, NULL) != 0) {
		free(tc);
		strutil_seterr(err, errlen, "turnclient: cannot create a mutex");
		return NULL;
	}
	tc->multi = curl_multi_init();
	if (!tc->multi) {
		strutil_seterr(err, errlen, "turnclient: curl_multi_init failed");
		turnclient_free(tc);
		return NULL;
	}
	if (pthread_create(&tc->thread, NULL, tc_thread, tc) != 0) {
		strutil_seterr(err, errlen, "turnclient: cannot start its thread");
		turnclient_free(tc);
		return NULL;
	}
	tc->thread_started = 1;
	return tc;
}

int turnclient_post(struct turnclient *tc, uint64_t call_id, unsigned seq, const char *url,
		    const char *const *kv)
{
	size_t npairs = 0, bytes = 0, i;
	struct tc_job *j;
	char *p;

	if (!tc || !url)
		return -1;
	while (kv && kv[2 * npairs] && kv[2 * npairs + 1] && npairs < TC_MAX_PAIRS + 1)
		npairs++;
	for (i = 0; i < 2 * npairs; i++)
		bytes += strlen(kv[i]) + 1;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -1;
	j->tc = tc;
	j->call_id = call_id;
	j->seq = seq;
	j->t0_us = resq_now_us();
	j->url = strdup(url);
	if (npairs > TC_MAX_PAIRS || bytes > TC_MAX_KV_BYTES) {
		/* Let the thread report it as the turn's failure rather than lose the turn. */
		tc_fail(j, "turn has %zu fields, %zu bytes: over the limit", npairs, bytes);
		npairs = 0;
		bytes = 0;
	}
	/* One block: the pointer array, then the strings. */
	j->kv = malloc((2 * npairs + 1) * sizeof(char *) + bytes);
	if (!j->url || !j->kv) {
		free(j->url);
		free(j->kv);
		free(j);
		return -1;
	}
	p = (char *)(j->kv + 2 * npairs + 1);
	for (i = 0; i < 2 * npairs; i++) {
		size_t n = strlen(kv[i]) + 1;

		memcpy(p, kv[i], n);
		j->kv[i] = p;
		p += n;
	}
	j->kv[2 * npairs] = NULL;
	j->npairs = npairs;

	pthread_mutex_lock(&tc->mu);
	if (tc->stop || tc->njobs >= TC_MAX_JOBS) {
		pthread_mutex_unlock(&tc->mu);
		tc_job_free(j);
		return -1;
	}
	*tc->pending_tail = j;
	tc->pending_tail = &j->next;
	tc->njobs++;
	tc->work = 1;
	pthread_mutex_unlock(&tc->mu);
	curl_multi_wakeup(tc->multi);
	return 0;
}

void turnclient_cancel(struct turnclient *tc, uint64_t call_id)
{
	struct tc_job *j;
	int any = 0;

	if (!tc)
		return;
	pthread_mutex_lock(&tc->mu);
	for (j = tc->pending; j; j = j->next) {
		if (j->call_id == call_id && !j->cancelled) {
			j->cancelled = 1;
			any = 1;
		}
	}
	for (j = tc->jobs; j; j = j->next) {
		if (j->call_id == call_id && !j->cancelled) {
			j->cancelled = 1;
			any = 1;
		}
	}
	if (any)
		tc->work = 1;
	pthread_mutex_unlock(&tc->mu);
	if (any)
		curl_multi_wakeup(tc->multi);
}

void turnclient_free(struct turnclient *tc)
{
	struct tc_job *j;

	if (!tc)
		return;
	pthread_mutex_lock(&tc->mu);
	tc->stop = 1;
	pthread_mutex_unlock(&tc->mu);
	if (tc->thread_started) {
		curl_multi_wakeup(tc->multi);
		pthread_join(tc->thread, NULL);
	}
	/* The thread is gone: no lock needed any more. */
	while ((j = tc->jobs)) {
		tc_unlink(tc, j);
		tc_job_free(j);
	}
	while ((j = tc->pending)) {
		tc->pending = j->next;
		tc_job_free(j);
	}
	if (tc->multi)
		curl_multi_cleanup(tc->multi);
	pthread_mutex_destroy(&tc->mu);
	free(tc);
}

void turnclient_verb_free(void *verb)
{
	free(verb);   /* the struct and its text are one block (tc_on_verb) */
}
