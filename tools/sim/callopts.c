/* callopts: the command line of `callpipe-sim call`, checked up front so a typo is a usage
 * error (exit 64) and never a failed call. */
#include "callrun.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "webhook.h"

int sim_parse_hostport(const char *s, char *host, size_t cap, int *port)
{
	const char *colon;
	char *end;
	long p;
	size_t n;

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -1;
		n = (size_t)(rb - s - 1);
		s++;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= cap)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	p = strtol(colon + 1, &end, 10);
	if (*end || p < 1 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

static int num_opt(const char *name, const char *arg, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(arg, &end);

	if (*end || end == arg || !(v >= lo && v <= hi)) {
		fprintf(stderr, "callpipe-sim: %s wants a number from %g to %g, not '%s'\n",
			name, lo, hi, arg);
		return -1;
	}
	*out = v;
	return 0;
}

static int add_param(struct sim_callopts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct twsig_param *p;

	if (!eq || eq == arg) {
		fprintf(stderr, "callpipe-sim: --param wants NAME=VALUE, not '%s'\n", arg);
		return -1;
	}
	p = realloc(o->extra, (o->nextra + 1) * sizeof(*p));
	if (!p)
		return -1;
	o->extra = p;
	p[o->nextra].name = strndup(arg, (size_t)(eq - arg));
	p[o->nextra].value = eq + 1;
	if (!p[o->nextra].name)
		return -1;
	o->nextra++;
	return 0;
}

/* --dtmf KEYS (AT < 0) or --dtmf-at AT:KEYS, kept in order until --agent is known. */
static int add_dtmf_arg(struct sim_callopts *o, const char *keys, double at)
{
	if (o->ndtmf_args >= SIM_AGENT_GROUPS_MAX) {
		fprintf(stderr, "callpipe-sim: at most %d --dtmf and --dtmf-at options\n",
			SIM_AGENT_GROUPS_MAX);
		return -1;
	}
	o->dtmf_args[o->ndtmf_args] = keys;
	o->dtmf_arg_order[o->ndtmf_args] = o->nargs_ordered++;
	o->dtmf_arg_at[o->ndtmf_args++] = at;
	return 0;
}

/* --say FILE, at the time a --say-at before it gave (or at a wait). */
static int add_say_arg(struct sim_callopts *o, const char *path)
{
	if (o->nsay_args >= SIM_AGENT_SAYS_MAX) {
		fprintf(stderr, "callpipe-sim: at most %d --say options\n", SIM_AGENT_SAYS_MAX);
		return -1;
	}
	o->say_args[o->nsay_args] = path;
	o->say_arg_order[o->nsay_args] = o->nargs_ordered++;
	o->say_arg_at[o->nsay_args++] = o->say_at_pending;
	o->say_at_pending = -1;
	return 0;
}

/* Load every --say clip and give the agent the keys and clips in command-line order. */
static int agent_script(struct sim_callopts *o)
{
	char err[400];
	size_t d = 0, s = 0;
	unsigned k;

	if (o->nsay_args) {
		o->says = calloc(o->nsay_args, sizeof(*o->says));
		if (!o->says) {
			fprintf(stderr, "callpipe-sim: out of memory\n");
			return SIM_EXIT_FAIL;
		}
	}
	for (k = 0; k < o->nargs_ordered; k++) {
		if (d < o->ndtmf_args && o->dtmf_arg_order[d] == k) {
			double at = o->dtmf_arg_at[d];

			if (sim_agent_add_group(&o->agent_cfg, o->dtmf_args[d],
						at < 0 ? -1 : (int64_t)(at * 1e6), err, sizeof(err))) {
				fprintf(stderr, "callpipe-sim: --dtmf%s: %s\n", at < 0 ? "" : "-at",
					err);
				return SIM_EXIT_USAGE;
			}
			d++;
		} else if (s < o->nsay_args && o->say_arg_order[s] == k) {
			double at = o->say_arg_at[s];

			if (sim_say_load(&o->says[s], o->say_args[s], o->say_raw_rate, err,
					 sizeof(err)) ||
			    sim_agent_add_say(&o->agent_cfg, &o->says[s],
					      at < 0 ? -1 : (int64_t)(at * 1e6), err, sizeof(err))) {
				fprintf(stderr, "callpipe-sim: --say: %s\n", err);
				return SIM_EXIT_USAGE;
			}
			s++;
		}
	}
	return 0;
}

/* The options that only mean something with --agent, and those that mean nothing with it. */
static int agent_opts(struct sim_callopts *o)
{
	int r;

	if (!o->agent) {
		if (o->ndtmf_at || o->expect_hangup || o->nsay_args || o->say_at_pending >= 0) {
			fprintf(stderr, "callpipe-sim: --%s goes with --agent\n", o->ndtmf_at ?
				"dtmf-at" : o->expect_hangup ? "expect-hangup" : o->nsay_args ? "say" :
				"say-at");
			return SIM_EXIT_USAGE;
		}
		return 0;
	}
	if (o->say_at_pending >= 0) {
		fprintf(stderr, "callpipe-sim: --say-at times the --say after it; none followed\n");
		return SIM_EXIT_USAGE;
	}
	if (o->audio_file || o->seconds_given || o->fast || o->expect_echo || o->drain_given) {
		fprintf(stderr, "callpipe-sim: --%s does not go with --agent (the caller sends "
			"silence, hangs up after the agent's last reply, at most --max-seconds)\n",
			o->audio_file ? "audio" : o->seconds_given ? "seconds" : o->fast ? "fast" :
			o->expect_echo ? "expect-echo" : "drain");
		return SIM_EXIT_USAGE;
	}
	o->agent_cfg.quiet_us = (int64_t)(o->quiet_ms * 1000);
	o->agent_cfg.gap_us = (int64_t)(o->dtmf_gap_ms * 1000);
	r = agent_script(o);
	if (r)
		return r;
	o->dtmf = NULL;   /* the agent presses the keys */
	return 0;
}

void sim_callopts_free(struct sim_callopts *o)
{
	size_t i;

	for (i = 0; i < o->nextra; i++)
		free((char *)o->extra[i].name);
	free(o->extra);
	o->extra = NULL;
	o->nextra = 0;
	for (i = 0; o->says && i < o->nsay_args; i++)
		sim_say_clip_free(&o->says[i]);
	free(o->says);
	o->says = NULL;
}

int sim_callopts_parse(int argc, char **argv, struct sim_callopts *o)
{
	enum { O_TOKEN = 256, O_PUBLIC, O_FROM, O_TO, O_PARAM, O_CALLSID, O_WHPATH, O_STPATH,
	       O_NOSTATUS, O_STREAMURL, O_CONNECT, O_TLS, O_INSECURE, O_NOSUB, O_SUB, O_WSSIG,
	       O_AUDIO, O_SECONDS, O_FAST, O_DTMF, O_RECORD, O_ECHO, O_DRAIN, O_TIMEOUT,
	       O_JSON, O_TRACE, O_LWSDEBUG, O_INJECT, O_INJSIZE, O_EXPCLOSE, O_AGENT, O_DTMFAT,
	       O_DTMFGAP, O_QUIET, O_MAXSEC, O_EXPHANGUP, O_ACCOUNT, O_STOKEN, O_NOSTOKEN,
	       O_SAY, O_SAYAT, O_SAYRATE, O_HELP };
	static const struct option lo[] = {
		{ "auth-token", required_argument, NULL, O_TOKEN },
		{ "public-url", required_argument, NULL, O_PUBLIC },
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ "param", required_argument, NULL, O_PARAM },
		{ "call-sid", required_argument, NULL, O_CALLSID },
		{ "account-sid", required_argument, NULL, O_ACCOUNT },
		{ "stream-token", required_argument, NULL, O_STOKEN },
		{ "no-stream-token", no_argument, NULL, O_NOSTOKEN },
		{ "webhook-path", required_argument, NULL, O_WHPATH },
		{ "status-path", required_argument, NULL, O_STPATH },
		{ "no-call-status", no_argument, NULL, O_NOSTATUS },
		{ "stream-url", required_argument, NULL, O_STREAMURL },
		{ "connect", required_argument, NULL, O_CONNECT },
		{ "tls", no_argument, NULL, O_TLS },
		{ "insecure", no_argument, NULL, O_INSECURE },
		{ "no-subprotocol", no_argument, NULL, O_NOSUB },
		{ "subprotocol", required_argument, NULL, O_SUB },
		{ "ws-signature", required_argument, NULL, O_WSSIG },
		{ "audio", required_argument, NULL, O_AUDIO },
		{ "seconds", required_argument, NULL, O_SECONDS },
		{ "fast", no_argument, NULL, O_FAST },
		{ "dtmf", required_argument, NULL, O_DTMF },
		{ "record", required_argument, NULL, O_RECORD },
		{ "expect-echo", no_argument, NULL, O_ECHO },
		{ "drain", required_argument, NULL, O_DRAIN },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "json", no_argument, NULL, O_JSON },
		{ "trace", no_argument, NULL, O_TRACE },
		{ "lws-debug", no_argument, NULL, O_LWSDEBUG },
		{ "inject", required_argument, NULL, O_INJECT },
		{ "inject-size", required_argument, NULL, O_INJSIZE },
		{ "expect-close", required_argument, NULL, O_EXPCLOSE },
		{ "agent", no_argument, NULL, O_AGENT },
		{ "dtmf-at", required_argument, NULL, O_DTMFAT },
		{ "dtmf-gap-ms", required_argument, NULL, O_DTMFGAP },
		{ "quiet-ms", required_argument, NULL, O_QUIET },
		{ "max-seconds", required_argument, NULL, O_MAXSEC },
		{ "expect-hangup", no_argument, NULL, O_EXPHANGUP },
		{ "say", required_argument, NULL, O_SAY },
		{ "say-at", required_argument, NULL, O_SAYAT },
		{ "say-raw-rate", required_argument, NULL, O_SAYRATE },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	char err[200];
	double v;
	int c;

	memset(o, 0, sizeof(*o));
	o->inject.size = SIM_INJECT_SIZE_DEFAULT;
	o->from = "+15551234567";
	o->to = "+15557654321";
	o->webhook_path = "/webhook/incoming_call";
	o->status_path = "/webhook/call_status";
	o->subprotocols = "audio.twilio.com";
	o->seconds = 3;
	o->drain = 5;
	o->max_seconds = 60;
	o->quiet_ms = 700;
	o->dtmf_gap_ms = 100;
	o->say_at_pending = -1;
	o->say_raw_rate = SIM_SAY_RAW_RATE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_TOKEN: o->token = optarg; break;
		case O_PUBLIC: o->public_base = optarg; break;
		case O_FROM: o->from = optarg; break;
		case O_TO: o->to = optarg; break;
		case O_PARAM:
			if (add_param(o, optarg))
				return SIM_EXIT_USAGE;
			break;
		case O_CALLSID: o->call_sid = optarg; break;
		case O_ACCOUNT:
			if (strlen(optarg) > 34) {
				fprintf(stderr, "callpipe-sim: --account-sid is at most 34 characters\n");
				return SIM_EXIT_USAGE;
			}
			o->account_sid = optarg;
			break;
		case O_STOKEN: o->stream_token = optarg; break;
		case O_NOSTOKEN: o->no_stream_token = 1; break;
		case O_WHPATH: o->webhook_path = optarg; break;
		case O_STPATH: o->status_path = optarg; break;
		case O_NOSTATUS: o->no_call_status = 1; break;
		case O_STREAMURL: o->stream_url = optarg; break;
		case O_CONNECT:
			if (sim_parse_hostport(optarg, o->connect_host, sizeof(o->connect_host),
					       &o->connect_port)) {
				fprintf(stderr, "callpipe-sim: --connect wants HOST:PORT, not '%s'\n",
					optarg);
				return SIM_EXIT_USAGE;
			}
			break;
		case O_TLS: o->tls = 1; break;
		case O_INSECURE: o->insecure = 1; break;
		case O_NOSUB: o->no_subprotocol = 1; break;
		case O_SUB: o->subprotocols = optarg; break;
		case O_WSSIG: o->ws_signature = optarg; break;
		case O_AUDIO: o->audio_file = optarg; break;
		case O_SECONDS:
			if (num_opt("--seconds", optarg, 0.02, 3600, &o->seconds))
				return SIM_EXIT_USAGE;
			o->seconds_given = 1;
			break;
		case O_FAST: o->fast = 1; break;
		case O_DTMF:
			if (optarg[strspn(optarg, "0123456789*#")] != '\0') {
				fprintf(stderr, "callpipe-sim: --dtmf digits are 0-9, * and #\n");
				return SIM_EXIT_USAGE;
			}
			o->dtmf = optarg;
			if (add_dtmf_arg(o, optarg, -1))
				return SIM_EXIT_USAGE;
			break;
		case O_DTMFAT: {
			char *colon = strchr(optarg, ':'), secs[32];

			if (!colon || colon == optarg || (size_t)(colon - optarg) >= sizeof(secs)) {
				fprintf(stderr, "callpipe-sim: --dtmf-at wants SECONDS:KEYS, not "
					"'%s'\n", optarg);
				return SIM_EXIT_USAGE;
			}
			snprintf(secs, sizeof(secs), "%.*s", (int)(colon - optarg), optarg);
			if (num_opt("--dtmf-at", secs, 0, 3600, &v) ||
			    add_dtmf_arg(o, colon + 1, v))
				return SIM_EXIT_USAGE;
			o->ndtmf_at++;
			break;
		}
		case O_AGENT: o->agent = 1; break;
		case O_SAY:
			if (add_say_arg(o, optarg))
				return SIM_EXIT_USAGE;
			break;
		case O_SAYAT:
			if (o->say_at_pending >= 0) {
				fprintf(stderr, "callpipe-sim: --say-at times the --say after it; two "
					"came in a row\n");
				return SIM_EXIT_USAGE;
			}
			if (num_opt("--say-at", optarg, 0, 3600, &o->say_at_pending))
				return SIM_EXIT_USAGE;
			break;
		case O_SAYRATE:
			/* audio/resample's range */
			if (num_opt("--say-raw-rate", optarg, 8000, 192000, &v) || v != (int)v)
				return SIM_EXIT_USAGE;
			o->say_raw_rate = (int)v;
			break;
		case O_EXPHANGUP: o->expect_hangup = 1; break;
		case O_DTMFGAP:
			if (num_opt("--dtmf-gap-ms", optarg, 0, 10000, &o->dtmf_gap_ms))
				return SIM_EXIT_USAGE;
			break;
		case O_QUIET:
			if (num_opt("--quiet-ms", optarg, 20, 60000, &o->quiet_ms))
				return SIM_EXIT_USAGE;
			break;
		case O_MAXSEC:
			if (num_opt("--max-seconds", optarg, 1, 3600, &o->max_seconds))
				return SIM_EXIT_USAGE;
			break;
		case O_RECORD: o->record = optarg; break;
		case O_ECHO: o->expect_echo = 1; break;
		case O_DRAIN:
			if (num_opt("--drain", optarg, 0, 600, &o->drain))
				return SIM_EXIT_USAGE;
			o->drain_given = 1;
			break;
		case O_TIMEOUT:
			if (num_opt("--timeout", optarg, 0.1, 3600, &v))
				return SIM_EXIT_USAGE;
			o->timeout_ms = (long)(v * 1000);
			break;
		case O_JSON: o->json = 1; break;
		case O_TRACE: o->trace = 1; break;
		case O_LWSDEBUG: o->lws_debug = 1; break;
		case O_INJECT:
			if (sim_inject_parse(optarg, &o->inject, err, sizeof(err))) {
				fprintf(stderr, "callpipe-sim: --inject: %s\n", err);
				return SIM_EXIT_USAGE;
			}
			break;
		case O_INJSIZE: {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (*end || end == optarg || n < SIM_INJECT_SIZE_MIN ||
			    n > SIM_INJECT_SIZE_MAX) {
				fprintf(stderr, "callpipe-sim: --inject-size is a byte count from "
					"%u to %u, not '%s'\n", SIM_INJECT_SIZE_MIN,
					SIM_INJECT_SIZE_MAX, optarg);
				return SIM_EXIT_USAGE;
			}
			o->inject.size = n;
			break;
		}
		case O_EXPCLOSE:
			/* RFC 6455 7.4: codes a peer may send are 1000-4999 */
			if (num_opt("--expect-close", optarg, 1000, 4999, &v) || v != (int)v)
				return SIM_EXIT_USAGE;
			o->expect_close = (int)v;
			break;
		case O_HELP:
		case 'h':
			return -1;
		default:
			return SIM_EXIT_USAGE;
		}
	}
	/* With --stream-url there is no webhook: BASE_URL only says where call_status goes. */
	if (optind == argc && o->stream_url) {
		o->base = NULL;
	} else if (optind != argc - 1) {
		fprintf(stderr, "callpipe-sim: call wants one BASE_URL, or --stream-url URL "
			"(try --help)\n");
		return SIM_EXIT_USAGE;
	} else {
		o->base = argv[optind];
	}
	if (o->base && (sim_url_split(o->base, NULL, 0, NULL, 0, NULL, NULL, 0) ||
	    (strncmp(o->base, "http://", 7) && strncmp(o->base, "https://", 8)))) {
		fprintf(stderr, "callpipe-sim: BASE_URL must be http(s)://host[:port], not '%s'\n",
			o->base);
		return SIM_EXIT_USAGE;
	}
	if (o->public_base && sim_url_split(o->public_base, NULL, 0, NULL, 0, NULL, NULL, 0)) {
		fprintf(stderr, "callpipe-sim: --public-url must be scheme://host[:port]\n");
		return SIM_EXIT_USAGE;
	}
	if (o->stream_url && strncmp(o->stream_url, "ws://", 5) &&
	    strncmp(o->stream_url, "wss://", 6)) {
		fprintf(stderr, "callpipe-sim: --stream-url must be ws:// or wss://\n");
		return SIM_EXIT_USAGE;
	}
	if (o->stream_token && o->no_stream_token) {
		fprintf(stderr, "callpipe-sim: --stream-token and --no-stream-token exclude each "
			"other\n");
		return SIM_EXIT_USAGE;
	}
	if (o->no_subprotocol)
		o->subprotocols = NULL;
	if (o->tls && !o->connect_host[0]) {
		fprintf(stderr, "callpipe-sim: --tls goes with --connect\n");
		return SIM_EXIT_USAGE;
	}
	return agent_opts(o);
}
