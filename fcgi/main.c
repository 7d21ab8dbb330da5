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
"usage: callpipe-fcgi [-c FILE]                 (spawned by a web server or systemd)\n"
"       callpipe-fcgi [-c FILE] --listen ADDR   (a FastCGI daemon)\n"
"       callpipe-fcgi [-c FILE] --check\n"
"       callpipe-fcgi --help | --version\n"
"  -c, --config FILE  the configuration file (default: $CALLPIPE_CONF)\n"
"      --listen ADDR  serve FastCGI on HOST:PORT or a unix socket path (with a '/')\n"
"      --check        check the configuration and render every template, then exit\n"
"  -h, --help         this text\n"
"  -V, --version      the version\n"
"See callpipe-fcgi(8) for routes, run modes, signals, files and exit status, and\n"
"callpipe.conf(5) for the configuration.\n";

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
