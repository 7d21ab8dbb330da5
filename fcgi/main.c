/* callpipe-fcgi: answers Twilio's voice webhooks with TwiML and logs each call, as a
 * FastCGI program spawned by the web server, a FastCGI daemon (--listen or systemd's socket), or CGI. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "calllog.h"
#include "check.h"
#include "config.h"
#include "fcgi_io.h"
#include "fcgi_server.h"

#ifndef CALLPIPE_VERSION
#define CALLPIPE_VERSION "0.1.0"
#endif

#define EXIT_USAGE 2

static const char usage_text[] =
"usage: callpipe-fcgi [-c FILE] [--listen ADDR | --check] | --help | --version\n";

static const char help_text[] =
"NAME\n"
"    callpipe-fcgi - answer Twilio voice webhooks with TwiML, log every call\n"
"\n"
"SYNOPSIS\n"
"    callpipe-fcgi [-c FILE]                  (started by a web server: FastCGI or CGI)\n"
"    callpipe-fcgi [-c FILE] --listen ADDR    (a FastCGI daemon)\n"
"    callpipe-fcgi [-c FILE] --check\n"
"    callpipe-fcgi --help | --version\n"
"\n"
"DESCRIPTION\n"
"    callpipe-fcgi serves four webhooks, routed on REQUEST_URI without its query:\n"
"      POST|GET /webhook/incoming_call  200 text/xml, TwiML rendered from the template\n"
"               incoming_call.<digits of To>.xml if it exists, else incoming_call.xml\n"
"               (incoming_call_agent*.xml when [ws] mode = agent)\n"
"      POST     /webhook/turn           200 text/xml: agent mode's default turn handler,\n"
"               turn_<TurnEvent>[.<digits of To>].xml (start, dtmf, speech, timeout)\n"
"      POST     /webhook/stream_status  204; the <Stream> statusCallback, logged\n"
"      POST     /webhook/call_status    204; the call's status callback, logged\n"
"    A request must carry an X-Twilio-Signature made over [twilio] public_url followed by\n"
"    REQUEST_URI (unless [twilio] validate = no), a form-encoded body of at most\n"
"    [fcgi] max_body bytes, and a CallSid (CA and 32 hex digits). Each event becomes a\n"
"    line in the call's log, [log] dir/<CallSid>.log. A refused request gets 400\n"
"    (malformed form or CallSid), 403 (signature), 404, 405 (with Allow), 413, 415, or\n"
"    500 (template), and one line on stderr naming the reason, which the web server\n"
"    keeps in its error log. Templates are read on every request: edits apply at once.\n"
"\n"
"RUN MODES\n"
"    spawned  stdin is a listening socket (mod_fcgid, lighttpd \"bin-path\", spawn-fcgi):\n"
"             serve FastCGI on it one request at a time; the web server scales by\n"
"             starting more processes.\n"
"    daemon   --listen ADDR, or [fcgi] listen in the config: bind ADDR and serve it with\n"
"             [fcgi] threads worker threads (for mod_proxy_fcgi, lighttpd \"host\"); a\n"
"             connection the web server keeps open between requests (FCGI_KEEP_CONN)\n"
"             holds a thread of its own, up to 512 threads in all.\n"
"    CGI      neither: answer the one request described by the environment\n"
"             (REQUEST_METHOD, REQUEST_URI, CONTENT_TYPE, CONTENT_LENGTH,\n"
"             HTTP_X_TWILIO_SIGNATURE) and stdin on stdout, then exit.\n"
"\n"
"OPTIONS\n"
"    -c, --config FILE  the configuration file (default: $CALLPIPE_CONF; with neither,\n"
"                       the built-in defaults, which refuse to start: validation is on\n"
"                       and there is no auth token).\n"
"    --listen ADDR      HOST:PORT (127.0.0.1:9000, [::1]:9000, *:9000) or the path of a\n"
"                       unix socket (any ADDR holding a '/'), which is made mode 0660;\n"
"                       a stale socket file is replaced, a live one refused.\n"
"    --check            check the configuration, then render every *.xml template with\n"
"                       sample values and parse the result as XML; incoming_call*.xml\n"
"                       must hold <Response><Connect><Stream url=\"wss://...\">. Problems\n"
"                       are printed as file:line: message.\n"
"    -h, --help         print this help.\n"
"    -V, --version      print the version.\n"
"\n"
"ENVIRONMENT\n"
"    CALLPIPE_CONF      the configuration file when there is no -c. Set it with\n"
"                       FcgidInitialEnv (mod_fcgid), \"bin-environment\" (lighttpd) or\n"
"                       Environment= (systemd).\n"
"    FCGI_WEB_SERVER_ADDRS  libfcgi: comma-separated IPv4 addresses allowed to connect\n"
"                       to a TCP socket (default: any).\n"
"    REQUEST_METHOD, REQUEST_URI, CONTENT_TYPE, CONTENT_LENGTH, HTTP_X_TWILIO_SIGNATURE,\n"
"    REMOTE_ADDR        the request, in CGI mode (FastCGI passes the same as params).\n"
"\n"
"FILES\n"
"    /etc/callpipe/callpipe.conf            the usual place of the configuration\n"
"    TEMPLATES/incoming_call.xml            TwiML for every call ([fcgi] templates)\n"
"    TEMPLATES/incoming_call.DIGITS.xml     TwiML for calls to that number, e.g.\n"
"                                           incoming_call.15557654321.xml\n"
"    TEMPLATES/turn_EVENT.xml               agent turns (docs/AGENT.md)\n"
"    LOGDIR/CALLSID.log                     one log per call ([log] dir; 0640 files)\n"
"\n"
"SIGNALS\n"
"    SIGTERM, SIGINT, SIGUSR1  stop accepting, let requests in flight finish (at most\n"
"                       5 seconds), exit 0.\n"
"    SIGPIPE            ignored: a web server that hangs up fails only its request.\n"
"    SIGHUP             ignored: there is nothing to reopen (templates are read on\n"
"                       every request, logs are opened per line), and a stray HUP\n"
"                       (a logrotate script, a closed terminal) must not stop it.\n"
"\n"
"EXIT STATUS\n"
"    0  stopped by a signal, a CGI request answered, or --check found nothing wrong.\n"
"    1  a configuration error (the reason on stderr), the address cannot be bound, a\n"
"       fatal accept() error, requests still running 5 s after SIGTERM, or --check\n"
"       found problems.\n"
"    2  a usage error, or started as neither FastCGI nor CGI.\n"
"\n"
"EXAMPLES\n"
"    Apache with mod_fcgid (a2enmod fcgid), the default:\n"
"        Alias /webhook /usr/local/bin/callpipe-fcgi\n"
"        FcgidInitialEnv CALLPIPE_CONF /etc/callpipe/callpipe.conf\n"
"        <Location /webhook>\n"
"            SetHandler fcgid-script\n"
"            Options +ExecCGI\n"
"            Require all granted\n"
"        </Location>\n"
"\n"
"    Apache with mod_proxy_fcgi (a2enmod proxy_fcgi) and the daemon:\n"
"        callpipe-fcgi -c /etc/callpipe/callpipe.conf --listen 127.0.0.1:9000\n"
"        ProxyPass /webhook/ fcgi://127.0.0.1:9000/webhook/\n"
"\n"
"    lighttpd (mod_fastcgi) spawning it:\n"
"        fastcgi.server += ( \"/webhook/\" => ((\n"
"            \"bin-path\"        => \"/usr/local/bin/callpipe-fcgi\",\n"
"            \"socket\"          => \"/run/lighttpd/callpipe-fcgi.sock\",\n"
"            \"check-local\"     => \"disable\",\n"
"            \"bin-environment\" => ( \"CALLPIPE_CONF\" => \"/etc/callpipe/callpipe.conf\" ),\n"
"        )) )\n"
"\n"
"    Check the configuration and templates before reloading the web server:\n"
"        callpipe-fcgi -c /etc/callpipe/callpipe.conf --check\n"
"\n"
"    One request by hand, as CGI (with validate = no in dev.conf):\n"
"        printf 'CallSid=CA0123456789abcdef0123456789abcdef&To=%%2B15557654321' |\n"
"        REQUEST_METHOD=POST REQUEST_URI=/webhook/incoming_call CONTENT_LENGTH=60 \\\n"
"        CONTENT_TYPE=application/x-www-form-urlencoded callpipe-fcgi -c dev.conf\n"
"\n"
"SEE ALSO\n"
"    docs/FCGI.md, docs/CONFIG.md, twiml-templates/README.md\n";

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_arg = NULL, *listen_arg = NULL, *path, *listen_addr;
	static struct config cfg;
	char err[1024];
	int opt, check = 0;

	while ((opt = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf_arg = optarg; break;
		case 'l': listen_arg = optarg; break;
		case 'k': check = 1; break;
		case 'h': fputs(help_text, stdout); return 0;
		case 'V': printf("callpipe-fcgi %s\n", CALLPIPE_VERSION); return 0;
		default: fputs(usage_text, stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "callpipe-fcgi: unexpected argument '%s'\n%s", argv[optind],
			usage_text);
		return EXIT_USAGE;
	}
	if (check && listen_arg) {
		fprintf(stderr, "callpipe-fcgi: --check and --listen do not go together\n%s",
			usage_text);
		return EXIT_USAGE;
	}
	path = config_path(conf_arg);
	if (check)
		return fcgi_check_run(path);

	/* Under mod_fcgid stderr is Apache's error log: one line that says it all. */
	if (path) {
		if (config_load(&cfg, path, err, sizeof(err)) != 0) {
			fprintf(stderr, "callpipe-fcgi: %s\n", err);
			return 1;
		}
	} else {
		config_defaults(&cfg);
	}
	if (config_check(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "callpipe-fcgi: %s: %s\n",
			path ? path : "no config (-c or CALLPIPE_CONF), built-in defaults", err);
		return 1;
	}
	if (calllog_prepare_dir(cfg.log_dir, err, sizeof(err)) != 0)
		fprintf(stderr, "callpipe-fcgi: warning: call logs will not be written until "
			"[log] dir can be: %s\n", err);
	if (!cfg.validate)
		fprintf(stderr, "callpipe-fcgi: WARNING: [twilio] validate = no: X-Twilio-Signature "
			"is NOT checked, anyone who can reach the webhooks can post to them "
			"(call logs say sig=unchecked)\n");

	/* FCGX_Init installs libfcgi's own SIGPIPE/SIGTERM handlers where none are set;
	 * ours come after it (SIGPIPE here, the stop signals in server_run). */
	if (FCGX_Init() != 0) {
		fprintf(stderr, "callpipe-fcgi: FCGX_Init failed\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	/* systemd's socket (callpipe-fcgi.socket) comes before [fcgi] listen: the unit that
	 * passes it is the deployment's decision; an explicit --listen with it is a mistake. */
	switch (server_activated(err, sizeof(err))) {
	case -1:
		fprintf(stderr, "callpipe-fcgi: socket activation: %s\n", err);
		return 1;
	case 1: {
		char name[160];

		if (listen_arg) {
			fprintf(stderr, "callpipe-fcgi: --listen and a socket from systemd "
				"(LISTEN_FDS) do not go together\n%s", usage_text);
			return EXIT_USAGE;
		}
		server_socket_name(SERVER_ACTIVATION_FD, name, sizeof(name));
		fprintf(stderr, "callpipe-fcgi: listening on %s (socket activation: systemd's "
			"socket, descriptor %d%s) with %d thread%s\n", name, SERVER_ACTIVATION_FD,
			cfg.fcgi_listen[0] ? "; [fcgi] listen is ignored" : "",
			cfg.threads, cfg.threads == 1 ? "" : "s");
		return server_run(&cfg, SERVER_ACTIVATION_FD, cfg.threads,
				  SERVER_SOCKET_ACTIVATED, NULL);
	}
	default:
		break;
	}

	listen_addr = listen_arg ? listen_arg : (cfg.fcgi_listen[0] ? cfg.fcgi_listen : NULL);
	if (listen_addr) {
		int fd = server_listen(listen_addr, err, sizeof(err));

		if (fd < 0) {
			fprintf(stderr, "callpipe-fcgi: %s\n", err);
			return 1;
		}
		fprintf(stderr, "callpipe-fcgi: listening on %s with %d thread%s\n", listen_addr,
			cfg.threads, cfg.threads == 1 ? "" : "s");
		return server_run(&cfg, fd, cfg.threads, SERVER_SOCKET_OWNED,
				  strchr(listen_addr, '/') ? listen_addr : NULL);
	}
	if (!FCGX_IsCGI())
		return server_run(&cfg, 0, 1, SERVER_SOCKET_INHERITED, NULL);

	if (!getenv("REQUEST_METHOD")) {
		fprintf(stderr, "callpipe-fcgi: not started by a web server (stdin is not a "
			"listening socket and REQUEST_METHOD is unset); see callpipe-fcgi --help\n");
		return EXIT_USAGE;
	}
	return fcgi_io_serve_cgi(&cfg) == 0 ? 0 : 1;
}
