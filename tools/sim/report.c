/* report: what a simulated call or load run observed (counters, errors by Twilio code,
 * latency) and how it is told: a human summary with a PASS/FAIL line, or --json. */
#include "report.h"

#include <stdarg.h>
#include <string.h>

void sim_totals_init(struct sim_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->mismatch_at = -1;
	t->first_echo_ms = -1;
	t->latency = sim_hist_new();
	t->send_lag = sim_hist_new();
	t->due_latency = sim_hist_new();
	t->tick_lag = sim_hist_new();
}

void sim_totals_free(struct sim_totals *t)
{
	sim_hist_free(t->latency);
	sim_hist_free(t->send_lag);
	sim_hist_free(t->due_latency);
	sim_hist_free(t->tick_lag);
	t->latency = t->send_lag = t->due_latency = t->tick_lag = NULL;
}

void sim_totals_error(struct sim_totals *t, int code, const char *fmt, ...)
{
	struct sim_errstat *e = NULL;
	va_list ap;
	size_t i;

	for (i = 0; i < t->nerrors; i++)
		if (t->errors[i].code == code) {
			e = &t->errors[i];
			break;
		}
	if (!e) {
		if (t->nerrors < SIM_ERRKINDS) {
			e = &t->errors[t->nerrors++];
			e->code = code;
			va_start(ap, fmt);
			vsnprintf(e->first, sizeof(e->first), fmt, ap);
			va_end(ap);
		} else {
			e = &t->errors[SIM_ERRKINDS - 1];
		}
	}
	e->count++;
}

unsigned long sim_totals_error_count(const struct sim_totals *t)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; i < t->nerrors; i++)
		n += t->errors[i].count;
	return n;
}

void sim_totals_merge(struct sim_totals *d, const struct sim_totals *s)
{
	size_t i, j;

	d->calls += s->calls;
	d->connected += s->connected;
	d->completed += s->completed;
	d->handshake_failures += s->handshake_failures;
	d->cut_at_deadline += s->cut_at_deadline;
	d->server_closed_early += s->server_closed_early;
	/* Per-thread peaks may fall at different moments: their sum is an upper bound, exact
	 * when every call is up at once (the load steady state). */
	d->max_concurrent += s->max_concurrent;
	if (!d->http_status)
		d->http_status = s->http_status;
	if (!d->subprotocol_offered[0])
		memcpy(d->subprotocol_offered, s->subprotocol_offered, sizeof(d->subprotocol_offered));
	if (!d->subprotocol[0])
		memcpy(d->subprotocol, s->subprotocol, sizeof(d->subprotocol));
	if (!d->handshake_error[0])
		memcpy(d->handshake_error, s->handshake_error, sizeof(d->handshake_error));
	d->frames_sent += s->frames_sent;
	d->frames_received += s->frames_received;
	d->dtmf_sent += s->dtmf_sent;
	d->bytes_sent += s->bytes_sent;
	d->bytes_received += s->bytes_received;
	d->bytes_matched += s->bytes_matched;
	if (d->mismatch_at < 0)
		d->mismatch_at = s->mismatch_at;
	d->frames_lost += s->frames_lost;
	d->out_of_order += s->out_of_order;
	d->corrupted += s->corrupted;
	d->marks_received += s->marks_received;
	d->marks_returned += s->marks_returned;
	d->marks_flushed += s->marks_flushed;
	d->marks_unreturned += s->marks_unreturned;
	d->clears += s->clears;
	d->clears_before_media += s->clears_before_media;
	if (s->first_echo_ms >= 0 && (d->first_echo_ms < 0 || s->first_echo_ms < d->first_echo_ms))
		d->first_echo_ms = s->first_echo_ms;
	sim_hist_merge(d->latency, s->latency);
	sim_hist_merge(d->send_lag, s->send_lag);
	sim_hist_merge(d->due_latency, s->due_latency);
	sim_hist_merge(d->tick_lag, s->tick_lag);
	if (!d->closed_by && s->closed_by) {
		d->closed_by = s->closed_by;
		d->close_after_stop = s->close_after_stop;
		d->close_at_s = s->close_at_s;
		d->frames_before_close = s->frames_before_close;
	}
	if (!d->close_code && s->close_code) {
		d->close_code = s->close_code;
		memcpy(d->close_reason, s->close_reason, sizeof(d->close_reason));
	}
	if (d->stream_seconds == 0)
		d->stream_seconds = s->stream_seconds;
	if (!d->ninject && s->ninject) {
		d->ninject = s->ninject;
		memcpy(d->inject, s->inject, sizeof(d->inject));
	}
	for (i = 0; i < s->nerrors; i++) {
		for (j = 0; j < d->nerrors; j++)
			if (d->errors[j].code == s->errors[i].code)
				break;
		if (j == d->nerrors) {
			if (d->nerrors < SIM_ERRKINDS)
				d->errors[d->nerrors++] = s->errors[i];
			else
				d->errors[SIM_ERRKINDS - 1].count += s->errors[i].count;
			continue;
		}
		d->errors[j].count += s->errors[i].count;
	}
}

const char *sim_error_advice(int code)
{
	switch (code) {
	case 31901: return "connect timeout: nothing answered the TCP/TLS connect in time "
			   "(firewall, wrong host or port in the Stream url)";
	case 31902: return "connection refused: nothing listens there; is callpipe-ws "
			   "running, and does the proxy forward /ws/twilio-media to it?";
	case 31910: return "TLS error: the certificate or TLS setup of the wss:// host is "
			   "not acceptable";
	case 31920: return "handshake error: the upgrade was not answered with 101. A 404 "
			   "means a wrong path, 403 a refused signature, 200/502 a proxy "
			   "without WebSocket upgrade (Apache: ProxyPass ... upgrade=websocket)";
	case 31921: return "the server closed the socket: check the helper's log for why";
	case 31922: return "the Stream url is not wss://: Twilio dials only TLS WebSockets";
	case 31924: return "protocol error: e.g. audio sent back on a listen-only "
			   "<Start><Stream>; use <Connect><Stream> to be heard";
	case 31930: return "media buffer overflow: Twilio discards inbound audio";
	case 31931: return "more than 10 minutes of audio buffered: send audio in real "
			   "time or clear the buffer";
	case 31941: return "bad track: under <Connect><Stream> only track=\"inbound_track\"";
	case 31950: return "binary frame: every message must be a JSON text frame";
	case 31951: return "invalid message: Twilio ignores it and the caller hears "
			   "silence; check event names, keys and the streamSid from start";
	case 12100: return "the webhook's answer is not well-formed TwiML: the caller hears "
			   "\"an application error has occurred\"";
	case 11200: return "the webhook did not answer 200 with TwiML";
	default: return NULL;
	}
}

void sim_report_errors(FILE *f, const struct sim_totals *t)
{
	size_t i;

	for (i = 0; i < t->nerrors; i++) {
		const struct sim_errstat *e = &t->errors[i];
		const char *adv = sim_error_advice(e->code);

		if (e->code)
			fprintf(f, "  error %d x%lu: %s\n", e->code, e->count, e->first);
		else
			fprintf(f, "  error x%lu: %s\n", e->count, e->first);
		if (adv)
			fprintf(f, "    (%d means %s)\n", e->code, adv);
	}
}

void sim_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void sim_report_json_common(FILE *f, const struct sim_totals *t)
{
	const struct sim_hist *h = t->latency;
	size_t i;

	fprintf(f, "\"latency_ms\":{\"count\":%llu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
		"\"max\":%.3f,\"mean\":%.3f},",
		(unsigned long long)sim_hist_count(h), sim_hist_percentile(h, 50) / 1000.0,
		sim_hist_percentile(h, 90) / 1000.0, sim_hist_percentile(h, 99) / 1000.0,
		sim_hist_max(h) / 1000.0, sim_hist_mean(h) / 1000.0);
	fprintf(f, "\"errors\":[");
	for (i = 0; i < t->nerrors; i++) {
		fprintf(f, "%s{\"code\":%d,\"count\":%lu,\"first\":", i ? "," : "",
			t->errors[i].code, t->errors[i].count);
		sim_json_string(f, t->errors[i].first);
		fputc('}', f);
	}
	fprintf(f, "]");
}
