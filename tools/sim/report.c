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
}

void sim_totals_free(struct sim_totals *t)
{
	sim_hist_free(t->latency);
	sim_hist_free(t->send_lag);
	t->latency = t->send_lag = NULL;
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
