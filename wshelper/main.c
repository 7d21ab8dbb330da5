/* callpipe-ws: the media socket helper: options and config, the lws context and its service
 * loop, signals (SIGTERM/SIGINT drain then exit, SIGHUP reopens --log and reloads TLS), banner. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>
#include <curl/curl.h>
#include <libwebsockets.h>

#include "calllog.h"
#include "config.h"
#include "logq.h"
#include "recorder.h"
#include "mode.h"
#include "turnparse.h"
#include "server.h"
#include "tls.h"

#define CALLPIPE_WS_VERSION "0.1.0"

/* After the drain, closes (1001) get this long to be acknowledged before the context goes. */
#define CLOSE_WAIT_US (2 * 1000000LL)
/* Descriptors kept free for what is not a connection: stdio, the --log file, call log
 * appends (open/write/close), lws's event pipe and listener, libc. */
#define FD_RESERVE 32
/* Connections beyond max_calls still get an answer (/metrics, a 503 for the next call). */
#define FD_HTTP_HEADROOM 64
/* After lws_context_destroy(), a foreign libev loop runs until lws has closed its watchers;
 * this bounds that run in case one stays active. */
#define EV_TEARDOWN_S 5.0
/* lws 4.1.6's libev plugin arms its one timer only when it is idle (ev_timer_set and
 * ev_timer_start on an active ev_timer change nothing), so a timer scheduled earlier than the
 * armed one (a call's idle timeout, the drain) waits for it: minutes when the 300 s ping is
 * armed. Its idle watcher, which runs after any descriptor event, services every due timer;
 * waking the cancel pipe this often bounds the lateness. */
#define EV_TICK_S 0.1
/* A connection must have sent its whole request (headers) this long after it was accepted
 * (lws: PENDING_TIMEOUT_ESTABLISH_WITH_SERVER, then HOLDING_AH), or lws drops it. Apache in
 * front sends a request at once; the default (5 s, then 10 s for the headers) let idle
 * connections hold descriptors long enough to keep real calls waiting. With [ws] tls_cert
 * the TLS handshake must finish in it too: lws 4.1.6 times SSL_accept with
 * timeout_secs_ah_idle (measured: 30 there kept a silent client open past 20 s). */
#define HANDSHAKE_SECONDS 3

struct app {
	struct config cfg;
	struct lws_context *ctx;
	struct wsserver *srv;
	const char *log_path;
	int quit;
	int draining;
	int closing_all;
	lws_sorted_usec_list_t sul_drain;   /* end of [ws] drain_seconds */
	lws_sorted_usec_list_t sul_wait;    /* end of the wait for closes to be acknowledged */
	struct ev_loop *loop;               /* [ws] event_loop = libev; NULL for lws's poll() */
	ev_prepare quit_check;              /* leaves ev_run() once quit is set */
	ev_timer tick;                      /* see EV_TICK_S */
	int sig_fd;                         /* signalfd of SIGTERM, SIGINT, SIGHUP */
};

/* SIGTERM, SIGINT and SIGHUP are blocked in every thread (the mask is set before the
 * first one starts and threads inherit it) and read from a signalfd in the event loop: no
 * signal handler runs, so nothing has to be async-signal-safe (lws_cancel_service() from a
 * handler was safe only because it happens to be one write()). */
static void signals_block(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

static void usage(FILE *f)
{
	const struct mode_ops *const *m;

	fprintf(f,
"usage: callpipe-ws [-c FILE] [--listen HOST:PORT] [--mode NAME] [--log FILE]\n"
"       callpipe-ws --help | --version\n"
"  -c, --config FILE         the configuration file (default: $CALLPIPE_CONF)\n"
"  -l, --listen HOST:PORT    listen there instead of [ws] listen (127.0.0.1:8081)\n"
"  -m, --mode NAME           the mode of calls that ask for none, instead of [ws] mode\n"
"  -L, --log FILE            append stderr to FILE; SIGHUP reopens it\n"
"  -h, --help                this text\n"
"  -V, --version             the version and libwebsockets' version\n"
"Modes:\n");
	for (m = mode_list(); *m; m++)
		fprintf(f, "  %-10s %s\n", (*m)->name, (*m)->summary);
	fprintf(f,
"See callpipe-ws(8) for endpoints, signals, files, exit status and the WS_* stderr\n"
"lines, and callpipe.conf(5) for the configuration.\n");
}

static int open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0) {
		fprintf(stderr, "callpipe-ws: cannot open log %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fd != STDERR_FILENO) {
		if (dup2(fd, STDERR_FILENO) < 0) {
			fprintf(stderr, "callpipe-ws: dup2 %s: %s\n", path, strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static void lws_log_line(int level, const char *line)
{
	size_t n = strlen(line);

	(void)level;
	/* some lws 4.1.6 messages lack their newline */
	fprintf(stderr, "lws: %s%s", line, n && line[n - 1] == '\n' ? "" : "\n");
}

/* HOST:PORT, [V6]:PORT, *:PORT or :PORT into IFACE (NULL = every interface) and PORT. */
static int parse_listen(const char *s, char *iface, size_t cap, int *port, int *v4)
{
	const char *colon, *h = s;
	size_t hl;
	char *end;
	long p;

	*v4 = 0;
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - s);
	}
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end || colon[1] == '\0' || p < 1 || p > 65535 || hl >= cap)
		return -1;
	*port = (int)p;
	memcpy(iface, h, hl);
	iface[hl] = '\0';
	if (!strcmp(iface, "*"))
		iface[0] = '\0';
	if (!strcmp(iface, "localhost"))
		snprintf(iface, cap, "127.0.0.1");
	*v4 = iface[0] && strspn(iface, "0123456789.") == strlen(iface);
	return 0;
}

/* lws 4.1.6 treats EADDRNOTAVAIL as "interface not up yet": lws_create_context() succeeds
 * and the vhost retries bind() every second, forever, listening nowhere. For an address
 * literal, find out first and refuse to start instead. Names (interfaces) are left to lws. */
static int check_bindable(const char *iface, int port, char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	char service[8];
	int fd, one = 1, r;

	if (!iface[0])
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(iface, service, &hints, &ai) != 0)
		return 0;   /* not an address literal */
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		freeaddrinfo(ai);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	r = bind(fd, ai->ai_addr, ai->ai_addrlen);
	if (r < 0)
		snprintf(err, errlen, "bind %s port %d: %s", iface, port, strerror(errno));
	close(fd);
	freeaddrinfo(ai);
	return r < 0 ? -1 : 0;
}

/* lws stops accepting (disables POLLIN on the listener) when a thread's descriptors reach
 * fd_limit_per_thread - 1; keep that below RLIMIT_NOFILE or accept() fails with EMFILE
 * and the loop spins. Raise the soft limit towards the hard one when max_calls needs it. */
static unsigned fd_limit(int max_calls, rlim_t *soft_out)
{
	unsigned long want = (unsigned long)max_calls + FD_HTTP_HEADROOM + FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		rl.rlim_cur = 1024;
		rl.rlim_max = 1024;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		struct rlimit nr = rl;

		nr.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &nr) == 0)
			rl = nr;
	}
	*soft_out = rl.rlim_cur;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > want)
		return (unsigned)(want - FD_RESERVE);
	return rl.rlim_cur > 2 * FD_RESERVE ? (unsigned)(rl.rlim_cur - FD_RESERVE) : FD_RESERVE;
}

static void sul_wait_cb(lws_sorted_usec_list_t *sul)
{
	struct app *a = lws_container_of(sul, struct app, sul_wait);

	if (wsserver_active(a->srv))
		fprintf(stderr, "callpipe-ws: %zu call(s) did not acknowledge the close in time\n",
			wsserver_active(a->srv));
	a->quit = 1;
}

static void close_all(struct app *a)
{
	if (a->closing_all)
		return;
	a->closing_all = 1;
	fprintf(stderr, "callpipe-ws: closing %zu call(s) with 1001\n", wsserver_active(a->srv));
	wsserver_close_all(a->srv);
	lws_sul_schedule(a->ctx, 0, &a->sul_wait, sul_wait_cb, CLOSE_WAIT_US);
}

static void sul_drain_cb(lws_sorted_usec_list_t *sul)
{
	close_all(lws_container_of(sul, struct app, sul_drain));
}

/* SIGHUP: reopen --log (logrotate); load a renewed certificate (certbot's deploy hook). */
static void on_sighup(struct app *a)
{
	char err[512];

	calllog_reopen_all();   /* every open call's log, after rotation */
	if (a->log_path && open_log(a->log_path) == 0)
		fprintf(stderr, "callpipe-ws: SIGHUP: reopened %s\n", a->log_path);
	if (!a->cfg.tls_cert[0])
		return;
	if (wstls_reload(a->ctx, a->cfg.tls_cert, a->cfg.tls_key, err, sizeof(err)) < 0) {
		fprintf(stderr, "callpipe-ws: SIGHUP: keeping the certificate in use: %s\n", err);
	} else {
		char what[600];

		wstls_describe(a->cfg.tls_cert, what, sizeof(what));
		fprintf(stderr, "callpipe-ws: SIGHUP: TLS reloaded: %s\n", what);
	}
}

/* SIGTERM or SIGINT: drain, then close what is left; a second one skips the wait. */
static void on_sigterm(struct app *a)
{
	if (a->draining) {
		fprintf(stderr, "callpipe-ws: second signal: not waiting for the drain\n");
		lws_sul_cancel(&a->sul_drain);
		close_all(a);
		return;
	}
	a->draining = 1;
	wsserver_drain(a->srv);
	fprintf(stderr, "callpipe-ws: shutting down: refusing new streams, %zu call(s) "
		"have up to %d s\n", wsserver_active(a->srv), a->cfg.drain_seconds);
	if (!wsserver_active(a->srv))
		a->quit = 1;
	else if (a->cfg.drain_seconds <= 0)
		close_all(a);
	else
		lws_sul_schedule(a->ctx, 0, &a->sul_drain, sul_drain_cb,
				 (lws_usec_t)a->cfg.drain_seconds * LWS_US_PER_SEC);
}

/* The signalfd is readable (on the loop's thread): handle every signal queued. */
static void on_signalfd(void *arg)
{
	struct app *a = arg;
	struct signalfd_siginfo si;

	while (read(a->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			on_sighup(a);
		else
			on_sigterm(a);
	}
}

static void on_call_gone(void *arg)
{
	struct app *a = arg;

	if (a->draining && !wsserver_active(a->srv))
		a->quit = 1;
}

/* Runs before each wait for events, after every callback of the last round: the libev
 * counterpart of testing app.quit around lws_service(). */
static void ev_quit_check(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct app *a = w->data;

	(void)revents;
	if (a->quit)
		ev_break(loop, EVBREAK_ALL);
}

static void ev_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct app *a = w->data;

	(void)loop;
	(void)revents;
	lws_cancel_service(a->ctx);
}

static void ev_teardown_expired(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	fprintf(stderr, "callpipe-ws: lws teardown did not finish in %.0f s\n", EV_TEARDOWN_S);
	ev_break(loop, EVBREAK_ALL);
}

/* lws 4.1.6 with a foreign loop: lws_context_destroy() stops lws's watchers and closes its
 * connections, but the loop must keep running until the last close has gone through; the
 * loop ends by itself when no watcher is active. A timer that does not count as active
 * (ev_unref) bounds that. */
static void ev_finish(struct ev_loop *loop)
{
	ev_timer guard;

	ev_timer_init(&guard, ev_teardown_expired, EV_TEARDOWN_S, 0.);
	ev_timer_start(loop, &guard);
	ev_unref(loop);
	ev_run(loop, 0);
	ev_ref(loop);
	ev_timer_stop(loop, &guard);
	ev_loop_destroy(loop);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "mode", required_argument, NULL, 'm' },
		{ "log", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_arg = NULL, *listen_arg = NULL, *mode_arg = NULL, *path;
	struct lws_context_creation_info info;
	struct wsserver_hooks hooks;
	const struct mode_ops *mode;
	sigset_t sigs;
	struct app app;
	void *foreign_loops[1];
	char err[512], iface[128];
	int opt, port, v4;
	unsigned fdl, headroom;
	int max_calls;
	rlim_t soft;

	/* First of all: every thread started from here on (libcurl's, the agent's workers,
	 * the turn client's) inherits the mask, so these signals reach only the signalfd. */
	signals_block(&sigs);
	memset(&app, 0, sizeof(app));
	app.sig_fd = -1;
	while ((opt = getopt_long(argc, argv, "c:l:m:L:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf_arg = optarg; break;
		case 'l': listen_arg = optarg; break;
		case 'm': mode_arg = optarg; break;
		case 'L': app.log_path = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V':
			printf("callpipe-ws %s (libwebsockets %s)\n", CALLPIPE_WS_VERSION,
			       lws_get_library_version());
			return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "callpipe-ws: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (app.log_path && open_log(app.log_path) < 0)
		return 1;

	path = config_path(conf_arg);
	if (path) {
		if (config_load(&app.cfg, path, err, sizeof(err)) < 0) {
			fprintf(stderr, "callpipe-ws: %s\n", err);
			return 1;
		}
	} else {
		config_defaults(&app.cfg);
	}
	if (listen_arg)
		snprintf(app.cfg.ws_listen, sizeof(app.cfg.ws_listen), "%s", listen_arg);
	if (mode_arg)
		snprintf(app.cfg.mode, sizeof(app.cfg.mode), "%s", mode_arg);
	if (config_check(&app.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "callpipe-ws: refusing to start: %s%s%s\n", path ? path : "",
			path ? ": " : "", err);
		return 1;
	}
	mode = mode_find(app.cfg.mode);
	if (!mode) {
		fprintf(stderr, "callpipe-ws: unknown mode \"%s\" (see --help for the list)\n",
			app.cfg.mode);
		return 1;
	}
	if (parse_listen(app.cfg.ws_listen, iface, sizeof(iface), &port, &v4) < 0) {
		fprintf(stderr, "callpipe-ws: listen \"%s\" is not HOST:PORT\n", app.cfg.ws_listen);
		return 1;
	}
	if (check_bindable(iface, port, err, sizeof(err)) < 0) {
		fprintf(stderr, "callpipe-ws: cannot listen on %s: %s\n", app.cfg.ws_listen, err);
		return 1;
	}
	/* lws 4.1.6 reports a bad certificate or key only as "problem getting cert" and fails
	 * the context: find out first, and say which file and why. */
	if (app.cfg.tls_cert[0]) {
		char warn[512];

		if (wstls_check(app.cfg.tls_cert, app.cfg.tls_key, err, sizeof(err), warn,
				sizeof(warn)) < 0) {
			fprintf(stderr, "callpipe-ws: refusing to start: %s\n", err);
			return 1;
		}
		if (warn[0])
			fprintf(stderr, "callpipe-ws: warning: %s\n", warn);
	}
	if (calllog_prepare_dir(app.cfg.log_dir, err, sizeof(err)) < 0)
		fprintf(stderr, "callpipe-ws: warning: call logs will fail: %s\n", err);

	hooks.arg = &app;
	hooks.wake = NULL;
	hooks.call_gone = on_call_gone;
	hooks.fd_readable = on_signalfd;
	/* Both keep global state that must be set up once, before any thread (the agent's
	 * workers and turn client) uses them. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	turnparse_init();
	/* libespeak-ng 1.51 opens a PulseAudio connection when it starts, even for synthesis
	 * into a callback: it looks for a sound server (a desktop session's, when one is
	 * reachable) and, as a daemon user, prints "Failed to create secure directory". This
	 * process plays no sound: point libpulse at a path nothing listens on. Before any
	 * thread, since setenv() is not safe beside getenv() in another. */
	setenv("PULSE_SERVER", "unix:/dev/null", 1);
	app.srv = wsserver_new(&app.cfg, mode, &hooks, err, sizeof(err));
	if (!app.srv) {
		fprintf(stderr, "callpipe-ws: %s\n", err);
		return 1;
	}
	if (logq_start() != 0)   /* call-log writes off the loop; else they stay inline */
		fprintf(stderr, "callpipe-ws: warning: no call log writer thread\n");
	if (app.cfg.record && recorder_start() != 0)   /* [agent] record: files off the loop */
		fprintf(stderr, "callpipe-ws: warning: no recording writer thread: not recording\n");

	fdl = fd_limit(app.cfg.max_calls, &soft);
	/* Beyond the fd limit lws stops accepting and connections wait unanswered in the
	 * backlog; below it, calls past max_calls get a clean 503. So cap max_calls to what
	 * the descriptors allow, keeping some for HTTP (/metrics, 503 answers). */
	headroom = fdl / 4 < FD_HTTP_HEADROOM ? fdl / 4 : FD_HTTP_HEADROOM;
	max_calls = app.cfg.max_calls;
	if ((unsigned long)max_calls + headroom > fdl)
		max_calls = (int)(fdl - headroom);
	wsserver_set_max_calls(app.srv, max_calls);
	if (wsserver_set_fd_budget(app.srv, fdl, soft == RLIM_INFINITY ? 1UL << 20 :
				   (unsigned long)soft) < 0) {
		fprintf(stderr, "callpipe-ws: out of memory\n");
		wsserver_free(app.srv);
		return 1;
	}
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_line);
	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = iface[0] ? iface : NULL;
	info.protocols = wsserver_protocols(app.srv);
	info.vhost_name = "callpipe-ws";
	info.server_string = "callpipe-ws";
	info.user = app.srv;
	info.fd_limit_per_thread = fdl;
	info.timeout_secs = HANDSHAKE_SECONDS;
	info.timeout_secs_ah_idle = HANDSHAKE_SECONDS;
	info.max_http_header_data2 = WSSERVER_HEADER_BYTES;
	info.max_http_header_pool2 = WSSERVER_HEADER_POOL;
	/* An IPv4 literal binds an IPv4 socket; lws would otherwise try it as IPv6. */
	info.options = v4 ? LWS_SERVER_OPTION_DISABLE_IPV6 : 0;
	if (app.cfg.tls_cert[0])
		wstls_setup(&info, app.cfg.tls_cert, app.cfg.tls_key);
	if (app.cfg.event_loop == CONFIG_EVLOOP_LIBEV) {
		/* poll() walks every descriptor on each wakeup; epoll costs per ready one. */
		app.loop = ev_loop_new(EVBACKEND_EPOLL);
		if (!app.loop)
			app.loop = ev_loop_new(EVFLAG_AUTO);
		if (!app.loop) {
			fprintf(stderr, "callpipe-ws: cannot create the libev loop\n");
			wsserver_free(app.srv);
			return 1;
		}
		foreign_loops[0] = app.loop;
		info.foreign_loops = foreign_loops;
		info.options |= LWS_SERVER_OPTION_LIBEV;
	}
	app.ctx = lws_create_context(&info);
	if (!app.ctx) {
		fprintf(stderr, "callpipe-ws: cannot listen on %s (in use, or not an address "
			"of this host?%s)\n", app.cfg.ws_listen, app.cfg.tls_cert[0] ?
			" or TLS setup failed: see the lws: lines above" : "");
		if (app.loop)
			ev_loop_destroy(app.loop);
		wsserver_free(app.srv);
		return 1;
	}

	wsserver_set_context(app.srv, app.ctx);
	/* lws adopts it as a raw file descriptor, on either event loop (poll or libev) */
	app.sig_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (app.sig_fd < 0 || wsserver_watch_fd(app.srv, app.ctx, "callpipe-ws", app.sig_fd) < 0) {
		fprintf(stderr, "callpipe-ws: cannot watch signals: %s\n",
			app.sig_fd < 0 ? strerror(errno) : "lws did not adopt the signalfd");
		if (app.sig_fd >= 0)
			close(app.sig_fd);
		wsserver_set_context(app.srv, NULL);
		lws_context_destroy(app.ctx);
		if (app.loop)
			ev_finish(app.loop);
		wsserver_free(app.srv);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	fprintf(stderr, "callpipe-ws %s (libwebsockets %s) listening on %s (%s), mode %s, "
		"max_calls %d (fd limit %u of %llu), event loop %s\n", CALLPIPE_WS_VERSION,
		lws_get_library_version(), app.cfg.ws_listen,
		app.cfg.tls_cert[0] ? "wss, TLS 1.2+" : "ws, plain: TLS is the proxy's",
		mode->name, max_calls, fdl,
		(unsigned long long)soft,
		!app.loop ? "poll" : ev_backend(app.loop) == EVBACKEND_EPOLL ? "libev (epoll)" :
		"libev");
	if (app.cfg.validate)
		fprintf(stderr, "callpipe-ws: validate=yes (upgrade signature and stream token "
			"required) public_url=%s log_dir=%s\n", app.cfg.public_url, app.cfg.log_dir);
	else
		fprintf(stderr, "callpipe-ws: validate=NO (signatures and stream tokens not checked) "
			"public_url=%s log_dir=%s\n", app.cfg.public_url, app.cfg.log_dir);
	if (app.cfg.tls_cert[0]) {
		char what[600];

		wstls_describe(app.cfg.tls_cert, what, sizeof(what));
		fprintf(stderr, "callpipe-ws: TLS: %s, key %s\n", what, app.cfg.tls_key);
	}
	if (app.cfg.stream_url[0])
		fprintf(stderr, "callpipe-ws: upgrade signatures are checked over [twilio] "
			"stream_url %s\n", app.cfg.stream_url);
	else if (app.cfg.tls_cert[0] && app.cfg.validate)
		fprintf(stderr, "callpipe-ws: warning: serving wss:// itself but [twilio] "
			"stream_url is not set: signatures are checked over the stream URL of "
			"public_url (%s/ws/twilio-media as wss://); set stream_url to the URL "
			"Twilio dials (docs/WS.md \"Direct TLS\")\n", app.cfg.public_url);
	if (max_calls < app.cfg.max_calls)
		fprintf(stderr, "callpipe-ws: warning: the fd limit (%llu) allows %d calls, fewer "
			"than [ws] max_calls %d: raise LimitNOFILE / ulimit -n\n",
			(unsigned long long)soft, max_calls, app.cfg.max_calls);

	if (app.loop) {
		ev_prepare_init(&app.quit_check, ev_quit_check);
		app.quit_check.data = &app;
		ev_prepare_start(app.loop, &app.quit_check);
		ev_timer_init(&app.tick, ev_tick, EV_TICK_S, EV_TICK_S);
		app.tick.data = &app;
		ev_timer_start(app.loop, &app.tick);
		ev_run(app.loop, 0);
		ev_timer_stop(app.loop, &app.tick);
		ev_prepare_stop(app.loop, &app.quit_check);
	} else {
		while (!app.quit)
			if (lws_service(app.ctx, 0) < 0)
				break;
	}

	fprintf(stderr, "callpipe-ws: exiting (%zu call(s) still open)\n",
		wsserver_active(app.srv));
	/* Workers and the turn client's thread wake the context: stop them before it goes. */
	mode_shutdown_all();
	wsserver_set_context(app.srv, NULL);
	lws_sul_cancel(&app.sul_drain);
	lws_sul_cancel(&app.sul_wait);
	lws_context_destroy(app.ctx);
	if (app.loop)
		ev_finish(app.loop);
	wsserver_free(app.srv);
	recorder_stop();   /* every recording closed, its line queued for logq */
	logq_stop();   /* every queued call-log line (ws_done of the calls just ended) written */
	return 0;
}
