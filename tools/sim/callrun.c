/* callrun: the steps of `callpipe-sim call` (options, webhook, TwiML, stream, callbacks)
 * and its verdict, kept apart from main so tests and the load command can reuse them. */
#include "form.h"
#include "callrun.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "playout.h"
#include "simmsg.h"
#include "stream.h"
#include "token.h"
#include "wav.h"
#include "webhook.h"

/* Twilio's webhook parameters beyond the ones we are told (docs/PROTOCOL.md
 * §1.1); the city has a space so '+' decoding gets exercised. */
static const char *const geo[][2] = {
	{ "City", "SAN FRANCISCO" }, { "Country", "US" }, { "State", "CA" }, { "Zip", "94105" },
};

struct hook_ctx {
	const struct sim_callopts *o;
	struct sim_callrun *run;
	struct sim_engine *eng;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void iso_now(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ts.tv_nsec / 1000000) % 1000);
}

static void fail(struct sim_callrun *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct sim_callrun *run, const char *fmt, ...)
{
	va_list ap;

	if (run->failed)
		return;     /* the first reason is the one worth reading */
	run->failed = 1;
	va_start(ap, fmt);
	vsnprintf(run->reason, sizeof(run->reason), fmt, ap);
	va_end(ap);
}

/* A URL under --public-url is reached through BASE_URL (same path and query); others as
 * they are. */
static void route_url(const struct sim_callopts *o, const char *url, char *out, size_t cap)
{
	size_t n = o->public_base ? strlen(o->public_base) : 0;

	while (n && o->public_base[n - 1] == '/')
		n--;
	if (n && o->base && strncasecmp(url, o->public_base, n) == 0 &&
	    (url[n] == '/' || url[n] == '?' || url[n] == '\0')) {
		size_t b = strlen(o->base);

		while (b && o->base[b - 1] == '/')
			b--;
		snprintf(out, cap, "%.*s%s", (int)b, o->base, url + n);
	} else {
		snprintf(out, cap, "%s", url);
	}
}

/* Send one signed request as Twilio does: SEND_URL is where it goes, SIGN_URL what the
 * signature covers (both get the query for GET). Fills a callback result. */
static void http_call(const struct sim_callopts *o, const char *method, const char *send_url,
		      const char *sign_url, const struct twsig_param *p, size_t n,
		      struct sim_http_response *resp, struct sim_callback_result *res)
{
	char send[4096], sign[TWSIG_URL_MAX], sig[TWSIG_LEN + 1], err[256];
	struct sim_http_request req;
	char *form = form_encode(p, n);
	int get = strcmp(method, "GET") == 0;

	memset(&req, 0, sizeof(req));
	memset(resp, 0, sizeof(*resp));
	res->status = 0;
	if (!form) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return;
	}
	snprintf(send, sizeof(send), "%s%s%s", send_url, get && n ? (strchr(send_url, '?') ?
		 "&" : "?") : "", get ? form : "");
	snprintf(sign, sizeof(sign), "%s%s%s", sign_url, get && n ? (strchr(sign_url, '?') ?
		 "&" : "?") : "", get ? form : "");
	snprintf(res->url, sizeof(res->url), "%s", send);
	req.method = method;
	req.url = send;
	if (!get) {
		req.content_type = "application/x-www-form-urlencoded";
		req.body = form;
		req.body_len = strlen(form);
	}
	if (o->token && twsig_compute(o->token, sign, get ? NULL : p, get ? 0 : n, sig) == 0)
		req.signature = sig;
	req.timeout_ms = o->timeout_ms;
	if (sim_http_send(&req, resp, err, sizeof(err)))
		snprintf(res->error, sizeof(res->error), "%s", err);
	else
		res->status = resp->status;
	free(form);
}

/* The parameters every voice webhook carries, in Twilio's (alphabetical) order. */
static size_t call_params(const struct sim_callopts *o, struct sim_callrun *run,
			  const char *status, struct twsig_param *p, size_t cap,
			  char names[][32])
{
	size_t n = 0, i, k;
	const char *who[] = { "Called", "Caller", "From", "To" };

#define ADD(N, V) do { if (n < cap) { p[n].name = (N); p[n].value = (V); n++; } } while (0)
	ADD("AccountSid", run->account_sid);
	ADD("ApiVersion", "2010-04-01");
	ADD("CallSid", run->call_sid);
	ADD("CallStatus", status);
	for (i = 0; i < 4; i++) {
		const char *num = (i == 0 || i == 3) ? o->to : o->from;

		ADD(who[i], num);
		for (k = 0; k < 4; k++) {
			snprintf(names[i * 4 + k], 32, "%s%s", who[i], geo[k][0]);
			ADD(names[i * 4 + k], geo[k][1]);
		}
		if (i == 1)
			ADD("Direction", "inbound");
	}
	for (i = 0; i < o->nextra; i++)
		ADD(o->extra[i].name, o->extra[i].value);
#undef ADD
	return n;
}

static int xml_type(const char *ct)
{
	return strncasecmp(ct, "text/xml", 8) == 0 || strncasecmp(ct, "application/xml", 15) == 0;
}

static void do_webhook(const struct sim_callopts *o, struct sim_callrun *run)
{
	struct twsig_param p[64];
	char names[16][32], send[2048], sign[TWSIG_URL_MAX], err[256];
	struct sim_http_response resp;
	struct sim_callback_result res;
	size_t n = call_params(o, run, "ringing", p, 64, names);
	size_t b = strlen(o->base);

	while (b && o->base[b - 1] == '/')
		b--;
	snprintf(send, sizeof(send), "%.*s%s", (int)b, o->base, o->webhook_path);
	snprintf(run->webhook_url, sizeof(run->webhook_url), "%s", send);
	if (sim_public_url(send, o->public_base, sign, sizeof(sign), err, sizeof(err))) {
		fail(run, "webhook URL: %s", err);
		return;
	}
	memset(&res, 0, sizeof(res));
	http_call(o, "POST", send, sign, p, n, &resp, &res);
	run->webhook_sent = 1;
	run->webhook_status = res.status;
	run->webhook_ms = resp.total_ms;
	snprintf(run->webhook_ctype, sizeof(run->webhook_ctype), "%s", resp.content_type);
	if (!res.status) {
		snprintf(run->webhook_error, sizeof(run->webhook_error), "%s", res.error);
		fail(run, "the incoming_call webhook got no answer (%s); Twilio would play its "
		     "error message (11200) and hang up", res.error);
		goto out;
	}
	run->webhook_body = resp.body;
	resp.body = NULL;
	if (res.status != 200) {
		fail(run, "the incoming_call webhook answered HTTP %ld, not 200 (Twilio error "
		     "11200)%s", res.status, res.status == 403 ? ": a 403 usually means the "
		     "signature check failed; is the auth token right, and is --public-url the URL "
		     "Twilio calls?" : "");
		goto out;
	}
	if (!xml_type(resp.content_type))
		fail(run, "the incoming_call webhook answered Content-Type \"%s\"; Twilio reads "
		     "TwiML only from text/xml or application/xml", resp.content_type);
	run->twiml_ok = sim_twiml_parse(run->webhook_body, strlen(run->webhook_body),
					run->twiml) == 0;
	if (!run->twiml_ok)
		fail(run, "TwiML: %s", sim_twiml_first_error(run->twiml));
out:
	sim_http_response_free(&resp);
}

static void stream_callback(const struct sim_callopts *o, struct sim_callrun *run,
			    const char *event, const char *error)
{
	struct twsig_param p[8];
	struct sim_http_response resp;
	struct sim_callback_result *res;
	char ts[64], send[SIM_TWIML_URL_MAX];
	const char *cb = run->twiml->status_callback;
	size_t n = 0;

	if (!cb[0] || run->ncallbacks >= SIM_CALLBACKS_MAX)
		return;
	iso_now(ts, sizeof(ts));
	p[n++] = (struct twsig_param){ "AccountSid", run->account_sid };
	p[n++] = (struct twsig_param){ "CallSid", run->call_sid };
	p[n++] = (struct twsig_param){ "StreamSid", run->stream_sid };
	p[n++] = (struct twsig_param){ "StreamName", run->twiml->name[0] ? run->twiml->name :
				       run->stream_sid };
	p[n++] = (struct twsig_param){ "StreamEvent", event };
	if (error)
		p[n++] = (struct twsig_param){ "StreamError", error };
	p[n++] = (struct twsig_param){ "Timestamp", ts };
	res = &run->callbacks[run->ncallbacks++];
	memset(res, 0, sizeof(*res));
	snprintf(res->what, sizeof(res->what), "%s", event);
	route_url(o, cb, send, sizeof(send));
	http_call(o, run->twiml->status_method, send, cb, p, n, &resp, res);
	sim_http_response_free(&resp);
}

static void on_open(void *user, unsigned idx)
{
	struct hook_ctx *h = user;

	snprintf(h->run->stream_sid, sizeof(h->run->stream_sid), "%s",
		 sim_engine_stream_sid(h->eng, idx));
	stream_callback(h->o, h->run, "stream-started", NULL);
}

/* Work out where to dial for the Stream url and run the stream. */
static void do_stream(const struct sim_callopts *o, struct sim_callrun *run,
		      const uint8_t *audio, size_t audio_len)
{
	struct sim_engine_cfg cfg;
	struct sim_engine *eng;
	struct hook_ctx h = { o, run, NULL };
	char scheme[16], host[256], path[2048], pscheme[16], phost[256], err[256];
	char sig[TWSIG_LEN + 1], *params = NULL;
	const char *names[SIM_TWIML_PARAMS_MAX], *values[SIM_TWIML_PARAMS_MAX];
	int port = 0, pport = 0;
	size_t i;

	memset(&cfg, 0, sizeof(cfg));
	if (sim_url_split(run->stream_url, scheme, sizeof(scheme), host, sizeof(host), &port,
			  path, sizeof(path))) {
		fail(run, "the Stream url \"%s\" is not a URL", run->stream_url);
		return;
	}
	cfg.tls = strcasecmp(scheme, "wss") == 0;
	snprintf(cfg.host_header, sizeof(cfg.host_header), port ? "%s:%d" : "%s", host, port);
	snprintf(cfg.path, sizeof(cfg.path), "%s", path);
	snprintf(cfg.connect_host, sizeof(cfg.connect_host), "%s", host);
	cfg.connect_port = port ? port : cfg.tls ? 443 : 80;
	if (o->connect_host[0]) {
		snprintf(cfg.connect_host, sizeof(cfg.connect_host), "%s", o->connect_host);
		cfg.connect_port = o->connect_port;
		cfg.tls = o->tls;
	} else if (o->public_base && o->base &&
		   sim_url_split(o->public_base, pscheme, sizeof(pscheme), phost, sizeof(phost),
				 &pport, NULL, 0) == 0 && strcasecmp(phost, host) == 0 &&
		   (pport ? pport : strcasecmp(pscheme, "https") == 0 ? 443 : 80) ==
		   cfg.connect_port) {
		/* The Stream url is the public host: reach it through BASE_URL. */
		char bscheme[16], bhost[256];
		int bport = 0;

		sim_url_split(o->base, bscheme, sizeof(bscheme), bhost, sizeof(bhost), &bport,
			      NULL, 0);
		cfg.tls = strcasecmp(bscheme, "https") == 0;
		snprintf(cfg.connect_host, sizeof(cfg.connect_host), "%s", bhost);
		cfg.connect_port = bport ? bport : cfg.tls ? 443 : 80;
	}
	snprintf(run->dial, sizeof(run->dial), "%s:%d%s", cfg.connect_host, cfg.connect_port,
		 cfg.tls ? " (TLS)" : "");
	cfg.insecure = o->insecure;
	cfg.subprotocols = o->subprotocols;
	if (o->ws_signature)
		cfg.signature = o->ws_signature;
	else if (o->token && twsig_compute(o->token, run->stream_url, NULL, 0, sig) == 0)
		cfg.signature = sig;   /* the wss URL, no parameters (docs/PROTOCOL.md §3.6) */
	cfg.audio = audio;
	cfg.audio_len = audio_len;
	if (run->agent) {
		/* µ-law silence (0xFF) every 20 ms, for as long as --max-seconds allows. */
		static uint8_t silence[SIM_FRAME_BYTES];

		memset(silence, 0xFF, sizeof(silence));
		cfg.agent = run->agent;
		cfg.audio = silence;
		cfg.audio_len = (size_t)(o->max_seconds * 50 + 50) * SIM_FRAME_BYTES;
	}
	cfg.dtmf = o->dtmf;
	cfg.fast = o->fast;
	cfg.listen_only = run->twiml_ok && !run->twiml->bidirectional;
	cfg.record = o->record != NULL;
	cfg.drain_seconds = o->drain;
	cfg.inject = o->inject;
	cfg.ncalls = 1;
	cfg.hard_stop_seconds = run->agent ? o->max_seconds :
				(o->fast ? 0 : (double)audio_len / 8000.0) + o->drain + 30;
	cfg.trace = o->trace;
	cfg.lws_debug = o->lws_debug;

	for (i = 0; i < run->twiml->nparams; i++) {
		names[i] = run->twiml->params[i].name;
		values[i] = run->twiml->params[i].value;
	}
	/* no TwiML with --stream-url: the simulator makes the token callpipe-fcgi would */
	params = sim_token_params(o, o->stream_url == NULL, run->call_sid, run->account_sid,
				  names, values, run->twiml->nparams);
	eng = sim_engine_new(&cfg, &run->totals, err, sizeof(err));
	if (!eng || !params || sim_engine_add(eng, run->call_sid, run->account_sid, params) < 0) {
		fail(run, "cannot start the stream: %s", eng ? "out of memory" : err);
		goto out;
	}
	h.eng = eng;
	snprintf(run->stream_sid, sizeof(run->stream_sid), "%s", sim_engine_stream_sid(eng, 0));
	sim_engine_on_open(eng, on_open, &h);
	run->stream_tried = 1;
	sim_engine_run(eng);
	if (run->totals.connected) {
		stream_callback(o, run, "stream-stopped", NULL);
	} else {
		char e2[300];

		snprintf(e2, sizeof(e2), "%s", run->totals.handshake_error[0] ?
			 run->totals.handshake_error : "the stream did not connect");
		stream_callback(o, run, "stream-error", e2);
	}
	if (o->record) {
		size_t n;
		const int16_t *rec = sim_engine_recording(eng, 0, &n);
		static const int16_t none[1];

		if (wav_write_8k(o->record, rec ? rec : none, n, err, sizeof(err)))
			fail(run, "--record %s: %s", o->record, err);
	}
out:
	free(params);
	sim_engine_free(eng);
}

static void call_status(const struct sim_callopts *o, struct sim_callrun *run, double t0)
{
	struct twsig_param p[72];
	char names[16][32], send[2048], sign[TWSIG_URL_MAX], err[256], dur[32], ts[64];
	struct sim_http_response resp;
	struct sim_callback_result *res;
	size_t n, b = strlen(o->base);

	if (o->no_call_status || run->ncallbacks >= SIM_CALLBACKS_MAX)
		return;
	run->duration_s = mono_s() - t0;
	snprintf(dur, sizeof(dur), "%.0f", ceil(run->duration_s));
	iso_now(ts, sizeof(ts));
	n = call_params(o, run, "completed", p, 64, names);
	p[n++] = (struct twsig_param){ "CallDuration", dur };
	p[n++] = (struct twsig_param){ "CallbackSource", "call-progress-events" };
	p[n++] = (struct twsig_param){ "SequenceNumber", "0" };
	p[n++] = (struct twsig_param){ "Timestamp", ts };
	while (b && o->base[b - 1] == '/')
		b--;
	snprintf(send, sizeof(send), "%.*s%s", (int)b, o->base, o->status_path);
	if (sim_public_url(send, o->public_base, sign, sizeof(sign), err, sizeof(err)))
		return;
	res = &run->callbacks[run->ncallbacks++];
	memset(res, 0, sizeof(*res));
	snprintf(res->what, sizeof(res->what), "completed");
	http_call(o, "POST", send, sign, p, n, &resp, res);
	sim_http_response_free(&resp);
}

/* How the WebSocket ended, in words: "closed by server: 1009 (message too big)". */
void sim_callrun_close_words(const struct sim_totals *t, char *out, size_t cap)
{
	switch (t->closed_by) {
	case SIM_CLOSED_SERVER:
		snprintf(out, cap, "closed by server: %d%s%s%s%s", t->close_code,
			 t->close_reason[0] ? " (" : "", t->close_reason,
			 t->close_reason[0] ? ")" : "", t->close_after_stop ? ", after our stop" :
			 ", before the call ended");
		break;
	case SIM_CLOSED_CLIENT:
		snprintf(out, cap, "closed by client: stop, then close 1000, before any close "
			 "from the server");
		break;
	case SIM_CLOSED_DROPPED:
		snprintf(out, cap, "the connection dropped without a close frame (1006)%s",
			 t->close_after_stop ? ", after our stop" : ", before the call ended");
		break;
	default:
		snprintf(out, cap, "still open when the run was cut at its time limit");
		break;
	}
}

static void verdict(const struct sim_callopts *o, struct sim_callrun *run)
{
	const struct sim_totals *t = &run->totals;
	/* The server closed mid-call as asked: the echo can only cover what came before. */
	int cut_short = o->expect_close && t->closed_by == SIM_CLOSED_SERVER &&
			!t->close_after_stop;
	char why[400], how[200];
	size_t i;

	if (!run->stream_tried)
		return;
	if (!t->connected) {
		int code = t->nerrors ? t->errors[0].code : 31920;

		fail(run, "the Media Stream did not open: %s (Twilio error %d; Twilio tells only "
		     "the statusCallback, the caller hears silence)", t->handshake_error[0] ?
		     t->handshake_error : "no reason given", code);
		return;
	}
	if (t->nerrors) {
		const struct sim_errstat *e = &t->errors[0];

		if (e->code)
			fail(run, "Twilio error %d: %s%s", e->code, e->first,
			     sim_totals_error_count(t) > 1 ? " (and more, see above)" : "");
		else
			fail(run, "%s", e->first);
	}
	sim_callrun_close_words(t, how, sizeof(how));
	if (sim_inject_failure(t, o->expect_close, why, sizeof(why)))
		fail(run, "%s", why);
	if (o->expect_close && (t->closed_by != SIM_CLOSED_SERVER ||
				t->close_code != o->expect_close))
		fail(run, "expected the server to close the WebSocket with %d; %s", o->expect_close,
		     how);
	if (o->expect_echo) {
		if (t->mismatch_at >= 0)
			fail(run, "the echo differs from the audio sent at byte %lld (frame %lld)",
			     t->mismatch_at, t->mismatch_at / SIM_FRAME_BYTES);
		else if (!cut_short && t->bytes_matched < run->audio_len)
			fail(run, "only %llu of %zu bytes came back as echo%s%s",
			     (unsigned long long)t->bytes_matched, run->audio_len,
			     t->closed_by == SIM_CLOSED_CLIENT ? "" : "; ",
			     t->closed_by == SIM_CLOSED_CLIENT ? "" : how);
		if (cut_short && !t->bytes_received) {
			if (t->clears > 1)
				fail(run, "expected at most one clear, got %lu", t->clears);
		} else if (t->clears != 1) {
			fail(run, "expected exactly one clear before the echo, got %lu", t->clears);
		} else if (t->clears_before_media != 1) {
			fail(run, "the clear came after echoed audio (it flushed part of the "
			     "echo)");
		}
	} else if (run->agent) {
		/* What the caller heard, against what an agent call must sound like. */
		int code = t->close_after_stop ? 0 : t->closed_by == SIM_CLOSED_SERVER ?
			   t->close_code : t->closed_by == SIM_CLOSED_DROPPED ? 1006 : 0;

		if (!o->expect_close &&
		    sim_agent_verdict(run->agent, code, o->expect_hangup, o->max_seconds, why,
				      sizeof(why)))
			fail(run, "%s", why);
	} else if (!t->bytes_received && run->twiml->bidirectional && !cut_short) {
		fail(run, "no audio came back: the stream is up but the server sent no media, so "
		     "the caller hears silence");
	}
	for (i = 0; i < run->ncallbacks; i++) {
		const struct sim_callback_result *c = &run->callbacks[i];

		if (!c->status)
			fail(run, "the %s callback to %s got no answer (%s)", c->what, c->url,
			     c->error);
		else if (c->status < 200 || c->status > 299)
			fail(run, "the %s callback to %s answered HTTP %ld%s", c->what, c->url,
			     c->status, c->status == 403 ? " (signature refused?)" : "");
	}
}

int sim_callrun_webhook(const struct sim_callopts *o, struct sim_callrun *run)
{
	run->failed = 0;
	run->reason[0] = '\0';
	free(run->webhook_body);
	run->webhook_body = NULL;
	run->twiml_ok = 0;
	do_webhook(o, run);
	return run->failed || !run->twiml_ok ? -1 : 0;
}

int sim_callrun_execute(const struct sim_callopts *o, const uint8_t *audio, size_t audio_len,
			struct sim_callrun *run)
{
	double t0 = mono_s();

	memset(run, 0, sizeof(*run));
	sim_totals_init(&run->totals);
	run->audio_len = audio_len;
	run->twiml = calloc(1, sizeof(*run->twiml));
	if (o->agent)
		run->agent = sim_agent_new(&o->agent_cfg);
	if (!run->twiml || !run->totals.latency || (o->agent && !run->agent)) {
		fail(run, "out of memory");
		return 0;
	}
	if (o->call_sid)
		snprintf(run->call_sid, sizeof(run->call_sid), "%s", o->call_sid);
	else
		sim_random_sid("CA", run->call_sid);
	if (o->account_sid)
		snprintf(run->account_sid, sizeof(run->account_sid), "%s", o->account_sid);
	else
		sim_random_sid("AC", run->account_sid);
	if (o->stream_url) {
		char *q;

		/* A Stream url given by hand is treated as Twilio treats TwiML's. */
		snprintf(run->stream_url, sizeof(run->stream_url), "%s", o->stream_url);
		q = strpbrk(run->stream_url, "?#");
		if (q)
			*q = '\0';
		run->twiml->bidirectional = 1;
		run->twiml_ok = 1;
	} else {
		do_webhook(o, run);
		if (!run->failed && run->twiml_ok)
			snprintf(run->stream_url, sizeof(run->stream_url), "%s",
				 run->twiml->stream_url);
	}
	if (!run->failed && run->stream_url[0])
		do_stream(o, run, audio, audio_len);
	if (o->base && (run->webhook_status == 200 || o->stream_url))
		call_status(o, run, t0);
	run->duration_s = mono_s() - t0;
	verdict(o, run);
	return 0;
}

void sim_callrun_free(struct sim_callrun *run)
{
	sim_totals_free(&run->totals);
	free(run->twiml);
	free(run->webhook_body);
	sim_agent_free(run->agent);
	run->agent = NULL;
	run->twiml = NULL;
	run->webhook_body = NULL;
}
