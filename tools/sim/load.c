/* load: `callpipe-sim load`, many concurrent echo calls at real-time cadence over one lws
 * client context; echo latency percentiles, losses, reordering, handshake failures. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "callrun.h"
#include "playout.h"
#include "lateness.h"
#include "loadrun.h"
#include "report.h"
#include "sim.h"
#include "simloop.h"
#include "simmsg.h"
#include "stats.h"
#include "stream.h"
#include "token.h"
#include "webhook.h"

/* Bounds (issue 3): an hour per call, 20000 calls, and a hard stop 30 s after the last
 * call's audio should have ended. */
#define LOAD_SECONDS_MAX 3600
#define LOAD_GRACE_SECONDS 30

const char sim_help_load[] =
"usage: callpipe-sim load BASE_URL [--calls N] [--seconds S] [--ramp R] [options]\n"
"  --calls N           concurrent calls (default 10, at most 20000)\n"
"  --seconds S         audio per call (default 10, at most 3600)\n"
"  --ramp R            start the calls evenly over R seconds (default N/100)\n"
"  --connect HOST:PORT dial HOST:PORT, keeping the path and the Host header\n"
"  --path P            the stream path (default /ws/twilio-media)\n"
"  --webhook           do the incoming_call webhook for each call first\n"
"  --auth-token T      sign the webhooks and the upgrades\n"
"  --public-url BASE   the URL Twilio uses (signatures cover it)\n"
"  --no-subprotocol    offer no Sec-WebSocket-Protocol\n"
"  --subprotocol LIST  offer LIST instead of audio.twilio.com\n"
"  --insecure          accept any TLS certificate\n"
"  --threads N         N event loops in N threads, each owning every Nth call (default 1)\n"
"  --event-loop L      libev (epoll, the default) or poll (lws's own loop)\n"
"  --tick-writes, --no-tick-writes\n"
"                      write each frame from the pacing tick (default), or after a\n"
"                      WRITEABLE callback\n"
"  --late-bound MS     the generator is behind when its tick lateness p99 is over MS\n"
"                      (default 5): the run then says 'generator behind'\n"
"  --drain S           a call waits at most S s for its echo (default 5)\n"
"  --json              one JSON object instead of the summary\n"
"  --trace             print every WebSocket message on stderr\n"
"  --lws-debug         let libwebsockets log on stderr\n"
"  -h, --help          this text\n"
"See callpipe-sim(1) for what is measured and how to read the result.\n";

struct load_opts {
	struct sim_callopts c;         /* base, token, public_base, subprotocols... */
	unsigned calls;
	double seconds, ramp;          /* ramp: seconds over which the calls start */
	const char *path;
	int webhook;
	int event_loop;                /* enum sim_loop_kind */
	int64_t late_bound_us;         /* send lateness p99 over this: generator behind */
	unsigned threads;              /* event loops, each owning every Nth call */
	int tick_writes;               /* --tick-writes */
};

static int parse(int argc, char **argv, struct load_opts *o)
{
	enum { O_CALLS = 256, O_SECONDS, O_RAMP, O_CONNECT, O_PATH, O_WEBHOOK, O_TOKEN, O_PUBLIC,
	       O_NOSUB, O_SUB, O_INSECURE, O_DRAIN, O_JSON, O_TRACE, O_LWSDEBUG, O_HELP,
	       O_EVLOOP, O_LATEBOUND, O_THREADS, O_TICKWRITES, O_NOTICKWRITES };
	static const struct option lo[] = {
		{ "calls", required_argument, NULL, O_CALLS },
		{ "seconds", required_argument, NULL, O_SECONDS },
		{ "ramp", required_argument, NULL, O_RAMP },
		{ "connect", required_argument, NULL, O_CONNECT },
		{ "path", required_argument, NULL, O_PATH },
		{ "webhook", no_argument, NULL, O_WEBHOOK },
		{ "auth-token", required_argument, NULL, O_TOKEN },
		{ "public-url", required_argument, NULL, O_PUBLIC },
		{ "no-subprotocol", no_argument, NULL, O_NOSUB },
		{ "subprotocol", required_argument, NULL, O_SUB },
		{ "insecure", no_argument, NULL, O_INSECURE },
		{ "drain", required_argument, NULL, O_DRAIN },
		{ "json", no_argument, NULL, O_JSON },
		{ "event-loop", required_argument, NULL, O_EVLOOP },
		{ "late-bound", required_argument, NULL, O_LATEBOUND },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "tick-writes", no_argument, NULL, O_TICKWRITES },
		{ "no-tick-writes", no_argument, NULL, O_NOTICKWRITES },
		{ "trace", no_argument, NULL, O_TRACE },
		{ "lws-debug", no_argument, NULL, O_LWSDEBUG },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	double v;
	int ch;

	memset(o, 0, sizeof(*o));
	o->calls = 10;
	o->seconds = 10;
	o->ramp = -1;                  /* default: 100 calls per second (see below) */
	o->path = "/ws/twilio-media";
	o->c.from = "+15551234567";
	o->c.to = "+15557654321";
	o->c.webhook_path = "/webhook/incoming_call";
	o->c.subprotocols = "audio.twilio.com";
	o->c.drain = 5;
	o->event_loop = SIM_LOOP_LIBEV;
	o->late_bound_us = SIM_LATENESS_BOUND_US;
	o->threads = 1;
	o->tick_writes = 1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case O_CALLS:
			v = strtod(optarg, &end);
			if (*end || !(v >= 1 && v <= SIM_CALLS_MAX) || v != (unsigned)v) {
				fprintf(stderr, "callpipe-sim: --calls is 1 to %d\n", SIM_CALLS_MAX);
				return SIM_EXIT_USAGE;
			}
			o->calls = (unsigned)v;
			break;
		case O_SECONDS:
			v = strtod(optarg, &end);
			if (*end || !(v >= 0.02 && v <= LOAD_SECONDS_MAX)) {
				fprintf(stderr, "callpipe-sim: --seconds is 0.02 to %d\n",
					LOAD_SECONDS_MAX);
				return SIM_EXIT_USAGE;
			}
			o->seconds = v;
			break;
		case O_RAMP:
			v = strtod(optarg, &end);
			if (*end || !(v >= 0 && v <= LOAD_SECONDS_MAX)) {
				fprintf(stderr, "callpipe-sim: --ramp is the seconds over which the "
					"calls start, 0 to %d\n", LOAD_SECONDS_MAX);
				return SIM_EXIT_USAGE;
			}
			o->ramp = v;
			break;
		case O_CONNECT:
			if (sim_parse_hostport(optarg, o->c.connect_host, sizeof(o->c.connect_host),
					       &o->c.connect_port)) {
				fprintf(stderr, "callpipe-sim: --connect wants HOST:PORT\n");
				return SIM_EXIT_USAGE;
			}
			break;
		case O_PATH: o->path = optarg; break;
		case O_WEBHOOK: o->webhook = 1; break;
		case O_TOKEN: o->c.token = optarg; break;
		case O_PUBLIC: o->c.public_base = optarg; break;
		case O_NOSUB: o->c.no_subprotocol = 1; break;
		case O_SUB: o->c.subprotocols = optarg; break;
		case O_INSECURE: o->c.insecure = 1; break;
		case O_DRAIN:
			v = strtod(optarg, &end);
			if (*end || !(v >= 0 && v <= 600)) {
				fprintf(stderr, "callpipe-sim: --drain is 0 to 600 seconds\n");
				return SIM_EXIT_USAGE;
			}
			o->c.drain = v;
			break;
		case O_JSON: o->c.json = 1; break;
		case O_EVLOOP:
			if (strcmp(optarg, "libev") == 0) {
				o->event_loop = SIM_LOOP_LIBEV;
			} else if (strcmp(optarg, "poll") == 0) {
				o->event_loop = SIM_LOOP_POLL;
			} else {
				fprintf(stderr, "callpipe-sim: --event-loop is libev or poll\n");
				return SIM_EXIT_USAGE;
			}
			break;
		case O_LATEBOUND:
			v = strtod(optarg, &end);
			if (*end || !(v >= 0.1 && v <= 1000)) {
				fprintf(stderr, "callpipe-sim: --late-bound is 0.1 to 1000 ms\n");
				return SIM_EXIT_USAGE;
			}
			o->late_bound_us = (int64_t)(v * 1000 + 0.5);
			break;
		case O_THREADS:
			v = strtod(optarg, &end);
			if (*end || !(v >= 1 && v <= SIM_LOAD_THREADS_MAX) || v != (unsigned)v) {
				fprintf(stderr, "callpipe-sim: --threads is 1 to %d\n",
					SIM_LOAD_THREADS_MAX);
				return SIM_EXIT_USAGE;
			}
			o->threads = (unsigned)v;
			break;
		case O_TICKWRITES: o->tick_writes = 1; break;
		case O_NOTICKWRITES: o->tick_writes = 0; break;
		case O_TRACE: o->c.trace = 1; break;
		case O_LWSDEBUG: o->c.lws_debug = 1; break;
		case O_HELP:
		case 'h':
			return -1;
		default:
			return SIM_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "callpipe-sim: load wants exactly one BASE_URL (try --help)\n");
		return SIM_EXIT_USAGE;
	}
	o->c.base = argv[optind];
	if (sim_url_split(o->c.base, NULL, 0, NULL, 0, NULL, NULL, 0) ||
	    (strncmp(o->c.base, "http://", 7) && strncmp(o->c.base, "https://", 8))) {
		fprintf(stderr, "callpipe-sim: BASE_URL must be http(s)://host[:port]\n");
		return SIM_EXIT_USAGE;
	}
	if (o->c.no_subprotocol)
		o->c.subprotocols = NULL;
	if (o->ramp < 0)
		o->ramp = o->calls / 100.0;
	return 0;
}

/* "http(s)://host[:port][/...]" + PATH as the ws(s):// URL of the stream. */
static int ws_url(const char *base, const char *path, char *out, size_t cap)
{
	char scheme[16], host[256], port_s[16] = "";
	int port = 0;

	if (sim_url_split(base, scheme, sizeof(scheme), host, sizeof(host), &port, NULL, 0))
		return -1;
	if (port)
		snprintf(port_s, sizeof(port_s), ":%d", port);
	snprintf(out, cap, "%s://%s%s%s", strcasecmp(scheme, "https") == 0 ? "wss" : "ws",
		 host, port_s, path);
	return 0;
}

/* The generator's own loop late past the bound (p99 of its pacing ticks): it, not the server,
 * set the pace. Sends can also be late because the server stopped reading (TCP
 * backpressure): that is the server's result, and shows in due_latency, not here. */
static int behind(const struct load_opts *o, const struct sim_totals *t)
{
	return sim_lateness_behind(t->tick_lag, o->late_bound_us);
}

static void summary(const struct load_opts *o, const struct sim_totals *t,
		    const struct sim_hist *wh, const char *url, double wall, double cpu,
		    const char *verdict)
{
	const struct sim_hist *l = t->latency, *g = t->send_lag, *k = t->tick_lag;
	const struct sim_hist *d = t->due_latency;

	if (o->c.json) {
		printf("{\"outcome\":\"%s\",\"reason\":", verdict[0] ? "fail" : "pass");
		sim_json_string(stdout, verdict);
		printf(",\"url\":");
		sim_json_string(stdout, url);
		printf(",\"ramp_seconds\":%.3f,\"seconds_per_call\":%.3f,\"threads\":%u,"
		       "\"event_loop\":\"%s\"", o->ramp, o->seconds, o->threads,
		       o->event_loop == SIM_LOOP_LIBEV ? "libev" : "poll");
		printf(",\"calls\":%lu,\"connected\":%lu,\"completed\":%lu,\"handshake_failures\":%lu,"
		       "\"max_concurrent\":%lu,\"cut_at_deadline\":%lu,\"server_closed_first\":%lu,"
		       "\"frames_sent\":%lu,\"frames_received\":%lu,\"frames_lost\":%lu,"
		       "\"out_of_order\":%lu,\"corrupted\":%lu,\"marks_received\":%lu,"
		       "\"marks_returned\":%lu,\"clears\":%lu,\"seconds\":%.3f,\"cpu_seconds\":%.3f,",
		       t->calls, t->connected, t->completed, t->handshake_failures,
		       t->max_concurrent, t->cut_at_deadline, t->server_closed_early,
		       t->frames_sent, t->frames_received, t->frames_lost, t->out_of_order,
		       t->corrupted, t->marks_received, t->marks_returned, t->clears, wall, cpu);
		printf("\"send_lag_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f,"
		       "\"over_bound\":%llu},",
		       sim_hist_percentile(g, 50) / 1000.0, sim_hist_percentile(g, 99) / 1000.0,
		       sim_hist_max(g) / 1000.0,
		       (unsigned long long)sim_hist_count_over(g, o->late_bound_us));
		printf("\"tick_lag_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f,"
		       "\"bound\":%.3f},\"generator_behind\":%s,\"simulator_behind\":%s,",
		       sim_hist_percentile(k, 50) / 1000.0, sim_hist_percentile(k, 99) / 1000.0,
		       sim_hist_max(k) / 1000.0, o->late_bound_us / 1000.0,
		       behind(o, t) ? "true" : "false", behind(o, t) ? "true" : "false");
		printf("\"due_latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
		       "\"max\":%.3f},",
		       sim_hist_percentile(d, 50) / 1000.0, sim_hist_percentile(d, 90) / 1000.0,
		       sim_hist_percentile(d, 99) / 1000.0, sim_hist_max(d) / 1000.0);
		printf("\"webhook_ms\":{\"count\":%llu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},",
		       (unsigned long long)sim_hist_count(wh), sim_hist_percentile(wh, 50) / 1000.0,
		       sim_hist_percentile(wh, 99) / 1000.0, sim_hist_max(wh) / 1000.0);
		sim_report_json_common(stdout, t);
		printf("}\n");
		return;
	}
	printf("load      %u calls x %.1f s, started over %.1f s, to %s (%u thread%s, %s)\n",
	       o->calls, o->seconds, o->ramp, url, o->threads, o->threads == 1 ? "" : "s",
	       o->event_loop == SIM_LOOP_LIBEV ? "libev" : "poll");
	if (sim_hist_count(wh))
		printf("webhook   %llu posted: p50 %.2f p99 %.2f max %.2f ms\n",
		       (unsigned long long)sim_hist_count(wh), sim_hist_percentile(wh, 50) / 1000.0,
		       sim_hist_percentile(wh, 99) / 1000.0, sim_hist_max(wh) / 1000.0);
	printf("calls     %lu connected, %lu completed, %lu handshake failures, %lu at once "
	       "at most%s\n", t->connected, t->completed, t->handshake_failures,
	       t->max_concurrent, t->cut_at_deadline ? " (some cut at the hard stop)" : "");
	if (t->handshake_error[0])
		printf("          first handshake failure: %s\n", t->handshake_error);
	printf("frames    %lu sent, %lu echoed, %lu lost, %lu out of order, %lu corrupted\n",
	       t->frames_sent, t->frames_received, t->frames_lost, t->out_of_order,
	       t->corrupted);
	printf("latency   p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms  (%llu frames timed)\n",
	       sim_hist_percentile(l, 50) / 1000.0, sim_hist_percentile(l, 90) / 1000.0,
	       sim_hist_percentile(l, 99) / 1000.0, sim_hist_max(l) / 1000.0,
	       (unsigned long long)sim_hist_count(l));
	printf("from slot p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms  (echo against each frame's "
	       "20 ms slot)\n", sim_hist_percentile(d, 50) / 1000.0,
	       sim_hist_percentile(d, 90) / 1000.0, sim_hist_percentile(d, 99) / 1000.0,
	       sim_hist_max(d) / 1000.0);
	printf("send lag  p50 %.2f  p99 %.2f  max %.2f ms, %llu sends over %.1f ms\n",
	       sim_hist_percentile(g, 50) / 1000.0, sim_hist_percentile(g, 99) / 1000.0,
	       sim_hist_max(g) / 1000.0, (unsigned long long)sim_hist_count_over(g,
	       o->late_bound_us), o->late_bound_us / 1000.0);
	printf("generator tick lag p50 %.2f  p99 %.2f  max %.2f ms (bound %.1f): %s  (%.1f s CPU "
	       "in %.1f s)\n", sim_hist_percentile(k, 50) / 1000.0,
	       sim_hist_percentile(k, 99) / 1000.0, sim_hist_max(k) / 1000.0,
	       o->late_bound_us / 1000.0, behind(o, t) ? "BEHIND" : "on time", cpu, wall);
	printf("marks     %lu received, %lu returned; clears %lu\n", t->marks_received,
	       t->marks_returned, t->clears);
	if (t->nerrors) {
		printf("errors\n");
		sim_report_errors(stdout, t);
	} else {
		printf("errors    none\n");
	}
	if (behind(o, t))
		printf("generator behind: its pacing ran p99 %.1f ms late (bound %.1f ms): it, "
		       "not the server, limits this run; do not count it as the server's result. "
		       "Give it a core of its own or more --threads.\n",
		       sim_hist_percentile(k, 99) / 1000.0, o->late_bound_us / 1000.0);
	if (verdict[0])
		printf("FAIL: %s\n", verdict);
	else
		printf("PASS: %lu calls, every frame echoed in order\n", t->calls);
}

static double now_s(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Webhooks first (one per call, in order), each call keeping its TwiML's Parameters. */
static int webhooks(const struct load_opts *o, struct sim_loadrun *lr, struct sim_hist *wh,
		    char *stream_url, size_t cap, char *verdict, size_t vcap)
{
	struct sim_callrun run;
	const char *names[SIM_TWIML_PARAMS_MAX], *values[SIM_TWIML_PARAMS_MAX];
	unsigned i;
	size_t k;

	memset(&run, 0, sizeof(run));
	run.twiml = calloc(1, sizeof(*run.twiml));
	if (!run.twiml)
		return -1;
	for (i = 0; i < o->calls; i++) {
		char *params;

		sim_random_sid("CA", run.call_sid);
		sim_random_sid("AC", run.account_sid);
		if (sim_callrun_webhook(&o->c, &run)) {
			snprintf(verdict, vcap, "webhook of call %u: %.300s", i, run.reason);
			sim_callrun_free(&run);
			return -1;
		}
		sim_hist_add(wh, (int64_t)(run.webhook_ms * 1000));
		if (i == 0)
			snprintf(stream_url, cap, "%s", run.twiml->stream_url);
		for (k = 0; k < run.twiml->nparams; k++) {
			names[k] = run.twiml->params[k].name;
			values[k] = run.twiml->params[k].value;
		}
		params = sim_token_params(&o->c, 1, run.call_sid, run.account_sid, names, values,
					  run.twiml->nparams);
		if (!params || sim_loadrun_add(lr, run.call_sid, run.account_sid, params) < 0) {
			free(params);
			sim_callrun_free(&run);
			return -1;
		}
		free(params);
	}
	sim_callrun_free(&run);
	return 0;
}

int sim_cmd_load(int argc, char **argv)
{
	struct load_opts o;
	struct sim_engine_cfg cfg;
	struct sim_loadrun *lr = NULL;
	struct sim_totals t;
	struct sim_hist *wh = sim_hist_new();
	struct rusage ru;
	char url[2048], scheme[16], host[256], path[2048], sign_url[TWSIG_URL_MAX];
	char sig[TWSIG_LEN + 1], err[256], verdict[400] = "", pscheme[16], phost[256];
	double w0, wall, cpu;
	int rc = parse(argc, argv, &o), port = 0, pport = 0;
	unsigned i;

	if (rc) {
		sim_hist_free(wh);
		if (rc < 0) {
			fputs(sim_help_load, stdout);
			return 0;
		}
		return rc;
	}
	sim_totals_init(&t);
	memset(&cfg, 0, sizeof(cfg));
	cfg.load = 1;
	cfg.audio_len = (size_t)(o.seconds * 50 + 0.5) * SIM_FRAME_BYTES;
	cfg.ncalls = o.calls;
	/* The engine wants a rate: N calls spread evenly over the ramp's seconds. */
	cfg.ramp = o.ramp > 0 && o.calls > 1 ? (o.calls - 1) / o.ramp : 0;
	cfg.hard_stop_seconds = o.ramp + o.seconds + LOAD_GRACE_SECONDS;
	cfg.drain_seconds = o.c.drain;
	cfg.subprotocols = o.c.subprotocols;
	cfg.insecure = o.c.insecure;
	cfg.trace = o.c.trace;
	cfg.lws_debug = o.c.lws_debug;
	cfg.event_loop = o.event_loop;
	cfg.tick_writes = o.tick_writes;
	w0 = now_s(CLOCK_MONOTONIC);
	/* The engine is made before the webhooks so calls can be added as they come. */
	if (ws_url(o.c.base, o.path, url, sizeof(url))) {
		fprintf(stderr, "callpipe-sim: bad BASE_URL\n");
		rc = SIM_EXIT_USAGE;
		goto out;
	}
	lr = sim_loadrun_new(&cfg, o.threads, err, sizeof(err));
	if (!lr) {
		snprintf(verdict, sizeof(verdict), "%s", err);
		goto report;
	}
	if (o.webhook) {
		if (webhooks(&o, lr, wh, url, sizeof(url), verdict, sizeof(verdict)))
			goto report;
	} else {
		for (i = 0; i < o.calls; i++) {
			char cs[35], as[35], *params;
			int bad;

			sim_random_sid("CA", cs);
			sim_random_sid("AC", as);
			/* no TwiML: with the auth token, each call's own callpipe_token */
			params = sim_token_params(&o.c, 0, cs, as, NULL, NULL, 0);
			bad = !params || sim_loadrun_add(lr, cs, as, params) < 0;
			free(params);
			if (bad) {
				snprintf(verdict, sizeof(verdict), "out of memory adding calls");
				goto report;
			}
		}
	}
	/* Where to dial: --connect, else the URL's own host, or BASE_URL's when the URL is
	 * under --public-url (the same rules as call). */
	if (sim_url_split(url, scheme, sizeof(scheme), host, sizeof(host), &port, path,
			  sizeof(path))) {
		snprintf(verdict, sizeof(verdict), "the Stream url %.300s is not a URL", url);
		goto report;
	}
	{
		struct sim_engine_cfg dial;

		memset(&dial, 0, sizeof(dial));
		dial.tls = strcasecmp(scheme, "wss") == 0;
		snprintf(dial.host_header, sizeof(dial.host_header), port ? "%s:%d" : "%s", host,
			 port);
		snprintf(dial.path, sizeof(dial.path), "%s", path);
		snprintf(dial.connect_host, sizeof(dial.connect_host), "%s", host);
		dial.connect_port = port ? port : dial.tls ? 443 : 80;
		if (o.c.connect_host[0]) {
			snprintf(dial.connect_host, sizeof(dial.connect_host), "%s",
				 o.c.connect_host);
			dial.connect_port = o.c.connect_port;
			dial.tls = 0;
		} else if (o.c.public_base && sim_url_split(o.c.public_base, pscheme,
				sizeof(pscheme), phost, sizeof(phost), &pport, NULL, 0) == 0 &&
			   strcasecmp(phost, host) == 0) {
			char bscheme[16], bhost[256];
			int bport = 0;

			sim_url_split(o.c.base, bscheme, sizeof(bscheme), bhost, sizeof(bhost),
				      &bport, NULL, 0);
			dial.tls = strcasecmp(bscheme, "https") == 0;
			snprintf(dial.connect_host, sizeof(dial.connect_host), "%s", bhost);
			dial.connect_port = bport ? bport : dial.tls ? 443 : 80;
		}
		/* The upgrade is signed over the public wss URL, no parameters. */
		snprintf(sign_url, sizeof(sign_url), "%s", url);
		if (!o.webhook && o.c.public_base && ws_url(o.c.public_base, path, sign_url,
							    sizeof(sign_url)))
			snprintf(sign_url, sizeof(sign_url), "%s", url);
		if (o.c.token && twsig_compute(o.c.token, sign_url, NULL, 0, sig) == 0)
			dial.signature = sig;
		sim_loadrun_set_dial(lr, &dial);
	}
	sim_loadrun_run(lr);
report:
	if (lr)
		sim_loadrun_totals(lr, &t);
	wall = now_s(CLOCK_MONOTONIC) - w0;
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	      (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	if (!verdict[0]) {
		if (t.handshake_failures)
			snprintf(verdict, sizeof(verdict), "%lu of %lu calls failed the handshake "
				 "(%s)", t.handshake_failures, t.calls, t.handshake_error);
		else if (t.nerrors && t.errors[0].code)
			snprintf(verdict, sizeof(verdict), "Twilio error %d: %s", t.errors[0].code,
				 t.errors[0].first);
		else if (t.nerrors)
			snprintf(verdict, sizeof(verdict), "%s", t.errors[0].first);
		else if (t.frames_lost || t.out_of_order || t.corrupted)
			snprintf(verdict, sizeof(verdict), "%lu frames lost, %lu out of order, "
				 "%lu corrupted", t.frames_lost, t.out_of_order, t.corrupted);
		else if (t.completed < t.calls)
			snprintf(verdict, sizeof(verdict), "only %lu of %lu calls completed "
				 "(%lu closed by the server first)", t.completed, t.calls,
				 t.server_closed_early);
	}
	summary(&o, &t, wh, url, wall, cpu, verdict);
	rc = verdict[0] ? SIM_EXIT_FAIL : SIM_EXIT_OK;
out:
	sim_loadrun_free(lr);
	sim_totals_free(&t);
	sim_hist_free(wh);
	sim_callopts_free(&o.c);
	return rc;
}
