/* fcgi_server: FastCGI serving: a socket of our own (--listen), systemd's (socket activation) or
 * the one a web server handed us on stdin, worker threads each on FCGX_Accept_r, the drain. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "fcgi_io.h"
#include "fcgi_server.h"

/* The listen backlog; the kernel caps it at net.core.somaxconn. */
#define LISTEN_BACKLOG 1024

/* Set by the signal handler; read by every thread. */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
	/* Tells libfcgi's own accept loop to give up too (it only sets a flag). */
	FCGX_ShutdownPending();
}

/* --- listening --------------------------------------------------------------------- */

static int listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: unix socket path longer than %zu bytes", path,
			 sizeof(sa.sun_path) - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s: exists and is not a socket", path);
			return -1;
		}
		/* A socket file nobody accepts on is left over from a crash: replace it.
		 * One that answers belongs to a running server: refuse. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			snprintf(err, errlen, "%s: another server is listening on it", path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		if (unlink(path) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "%s: cannot remove the stale socket: %s", path,
				 strerror(errno));
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* 0660 from the start (start-up is single-threaded, so umask is ours): the web
	 * server's group connects, nobody else. */
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		umask(old);
		snprintf(err, errlen, "cannot bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, 0660) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static int listen_tcp(const char *addr, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(addr, ':'), *port, *h = host;
	struct addrinfo hints, *res = NULL;
	int fd = -1, gai, saved = 0;
	size_t hl;

	if (!colon || !colon[1]) {
		snprintf(err, errlen, "%s: want HOST:PORT or a unix socket path", addr);
		return -1;
	}
	port = colon + 1;
	hl = (size_t)(colon - addr);
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl >= sizeof(host)) {
		snprintf(err, errlen, "%s: host name too long", addr);
		return -1;
	}
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (hl == 0 || strcmp(host, "*") == 0)
		h = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	gai = getaddrinfo(h, port, &hints, &res);
	if (gai != 0) {
		snprintf(err, errlen, "%s: %s", addr, gai_strerror(gai));
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int one = 1;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		/* A restart must not wait for TIME_WAIT connections of the last run. */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, LISTEN_BACKLOG) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(saved));
	return fd;
}

int server_listen(const char *addr, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (strchr(addr, '/'))
		return listen_unix(addr, err, errlen);
	return listen_tcp(addr, err, errlen);
}

/* --- socket activation ----------------------------------------------------------------- */

/* A decimal environment value in [0, max]; -1 when it is not one. */
static long env_number(const char *v, long max)
{
	char *end;
	long n;

	if (!v || *v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n > max)
		return -1;
	return n;
}

int server_activated(char *err, size_t errlen)
{
	const char *pid_s = getenv("LISTEN_PID"), *fds_s = getenv("LISTEN_FDS");
	long pid, fds;
	int type = 0, listening = 0, flags;
	socklen_t len;
	struct stat st;

	if (err && errlen)
		err[0] = '\0';
	if (!pid_s || !fds_s)
		return 0;
	pid = env_number(pid_s, 0x7fffffffL);
	if (pid < 0) {
		snprintf(err, errlen, "LISTEN_PID=%.32s is not a process id", pid_s);
		return -1;
	}
	/* Meant for another process (a parent that was activated and started us): not ours
	 * to take, and not ours to unset either. */
	if (pid != (long)getpid())
		return 0;
	/* Whatever happens next, nothing we start must take these for its own. */
	fds = env_number(fds_s, 0x7fffffffL);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (fds != 1) {
		snprintf(err, errlen, "LISTEN_FDS=%.32s: socket activation must pass exactly one "
			 "socket (one ListenStream= in the .socket unit)", fds_s);
		return -1;
	}
	len = sizeof(type);
	if (fstat(SERVER_ACTIVATION_FD, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    getsockopt(SERVER_ACTIVATION_FD, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    type != SOCK_STREAM) {
		snprintf(err, errlen, "LISTEN_FDS=1 but descriptor %d is not a stream socket",
			 SERVER_ACTIVATION_FD);
		return -1;
	}
	len = sizeof(listening);
	if (getsockopt(SERVER_ACTIVATION_FD, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
	    !listening) {
		snprintf(err, errlen, "LISTEN_FDS=1 but descriptor %d is not a listening socket "
			 "(a .socket unit with Accept=yes passes connections: use Accept=no)",
			 SERVER_ACTIVATION_FD);
		return -1;
	}
	flags = fcntl(SERVER_ACTIVATION_FD, F_GETFD);
	if (flags >= 0)
		fcntl(SERVER_ACTIVATION_FD, F_SETFD, flags | FD_CLOEXEC);
	return 1;
}

void server_socket_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[128], port[16];

	snprintf(buf, len, "descriptor %d", fd);
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_UNIX) {
		const struct sockaddr_un *su = (const struct sockaddr_un *)&ss;

		if (su->sun_path[0])
			snprintf(buf, len, "%.*s", (int)sizeof(su->sun_path), su->sun_path);
	} else if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
			       NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
		snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
	}
}

/* --- workers --------------------------------------------------------------------------- */

struct pool {
	const struct config *cfg;
	int listen_fd;
	pthread_t main_thread;
	pthread_attr_t attr;
	pthread_mutex_t lock;
	pthread_cond_t changed;   /* busy or alive went down */
	int busy;                 /* requests between FCGX_Accept_r and FCGX_Finish_r */
	int alive;                /* worker threads still in their loop */
	int parked;               /* workers holding a kept connection between requests */
	int started;              /* entries of tids in use */
	atomic_int failed;        /* a worker hit an accept() error it cannot get past */
	pthread_t tids[SERVER_THREADS_MAX];
};

/* Static, not on server_run's stack: a worker parked on a kept connection may outlive
 * server_run (it ends with the process), and must not point into a dead frame. */
static struct pool pool;

static void *worker(void *arg);

/* Start one more worker; the caller holds p->lock. 0, or -1 (at the cap, or no thread). */
static int spawn_locked(struct pool *p)
{
	int e;

	if (p->started >= SERVER_THREADS_MAX)
		return -1;
	e = pthread_create(&p->tids[p->started], &p->attr, worker, p);
	if (e != 0) {
		fprintf(stderr, "callpipe-fcgi: cannot start a worker thread: %s\n", strerror(e));
		return -1;
	}
	p->started++;
	p->alive++;
	return 0;
}

/* accept() errors that pass: out of descriptors or memory for a moment. */
static int transient(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM || e == EINTR ||
	       e == ECONNABORTED || e == EAGAIN;
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	FCGX_Request fr;
	time_t last_warn = 0;
	int parked = 0;

	/* No mutex around FCGX_Accept_r, unlike libfcgi's examples/threaded.c ("some
	 * platforms require accept() serialization"): on Linux concurrent accept() on one
	 * socket is safe and wakes one waiter; libfcgi builds without USE_LOCKING here and
	 * FCGX_Accept_r touches only this request and statics FCGX_Init set. A mutex would
	 * also hold every other worker while one reads a slow client's FCGI_PARAMS. */
	FCGX_InitRequest(&fr, p->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!stop_signal) {
		int rc = FCGX_Accept_r(&fr);

		if (rc < 0) {
			int e = -rc;

			if (stop_signal)
				break;
			if (transient(e)) {
				time_t now = time(NULL);

				if (now != last_warn)
					fprintf(stderr, "callpipe-fcgi: accept: %s (retrying)\n",
						strerror(e));
				last_warn = now;
				nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
				continue;
			}
			fprintf(stderr, "callpipe-fcgi: accept failed: %s; stopping\n",
				e > 0 && e < 4096 ? strerror(e) : "libfcgi error");
			atomic_store(&p->failed, 1);
			pthread_kill(p->main_thread, SIGTERM);
			break;
		}
		pthread_mutex_lock(&p->lock);
		p->busy++;
		p->parked -= parked;
		parked = 0;
		pthread_mutex_unlock(&p->lock);

		(void)fcgi_io_serve(p->cfg, &fr);

		/* FCGI_KEEP_CONN (mod_proxy_fcgi enablereuse=on) parks this worker on the
		 * connection, in a read inside FCGX_Accept_r, until the web server sends
		 * the next request on it. If every worker parked, new connections would
		 * wait in the backlog until the web server's timeout (measured: Apache's
		 * AH01075 "timeout ... (polling)" once its pool outgrew [fcgi] threads).
		 * So one worker always stays free to accept: the last would-be parker
		 * starts another worker first, up to SERVER_THREADS_MAX. Closing the kept
		 * connection instead was measured worse: libfcgi lingers up to 2 s in
		 * close() for a peer that keeps pooled connections open, and the web
		 * server may reuse the connection as it closes ("connection reset"). A
		 * worker whose kept connection ended is still counted parked until its
		 * next request; that only starts a worker early. */
		pthread_mutex_lock(&p->lock);
		if (fr.keepConnection) {
			parked = 1;
			p->parked++;
			if (p->parked >= p->alive && spawn_locked(p) != 0 &&
			    p->parked >= p->alive) {
				/* At the cap: close rather than leave nobody accepting. */
				fr.keepConnection = 0;
				parked = 0;
				p->parked--;
			}
		}
		pthread_mutex_unlock(&p->lock);
		FCGX_Finish_r(&fr);

		pthread_mutex_lock(&p->lock);
		p->busy--;
		pthread_cond_broadcast(&p->changed);
		pthread_mutex_unlock(&p->lock);
	}
	/* Free what a kept connection holds without libfcgi's 2-second lingering close. */
	FCGX_Free(&fr, 0);
	pthread_mutex_lock(&p->lock);
	p->parked -= parked;
	p->alive--;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static const char *signame(int sig)
{
	switch (sig) {
	case SIGTERM: return "SIGTERM";
	case SIGINT: return "SIGINT";
	case SIGUSR1: return "SIGUSR1";
	default: return "a signal";
	}
}

int server_run(const struct config *cfg, int listen_fd, int nthreads, enum server_socket kind,
	       const char *unix_path)
{
	static const int stops[] = { SIGTERM, SIGINT, SIGUSR1 };
	struct pool *pp = &pool;
	struct sigaction sa;
	sigset_t block, wait_mask;
	pthread_condattr_t ca;
	struct timespec deadline;
	int started = 0, status = 0, all_done;

	memset(pp, 0, sizeof(*pp));
	pp->cfg = cfg;
	pp->listen_fd = listen_fd;
	pp->main_thread = pthread_self();
	pthread_mutex_init(&pp->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pp->changed, &ca);
	pthread_condattr_destroy(&ca);
	if (nthreads < 1)
		nthreads = 1;

	/* The stop signals are blocked in every worker (they inherit this mask) and taken
	 * only by this thread, in sigsuspend(): a worker's read() or write() in the middle
	 * of a request is never cut short by EINTR, and no wake-up can be lost between a
	 * check of the flag and the wait. The handler is installed without SA_RESTART, as
	 * libfcgi needs for FCGX_Accept_r to return on a signal in a single-threaded loop;
	 * here it is the shutdown() of our listening socket (EINVAL from accept()) that
	 * returns idle workers from FCGX_Accept_r, and the process exits once no request
	 * is in flight, wherever a worker sits (an accept() on a shared socket, or a read
	 * on a connection the web server keeps open between requests). */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigaddset(&block, stops[i]);
	pthread_sigmask(SIG_BLOCK, &block, &wait_mask);
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigdelset(&wait_mask, stops[i]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigaction(stops[i], &sa, NULL);

	/* Workers need little stack (the largest frame is a request's ~16 KiB of
	 * parameters); 1 MiB instead of the 8 MiB default keeps many of them cheap. */
	pthread_attr_init(&pp->attr);
	pthread_attr_setstacksize(&pp->attr, 1024 * 1024);
	pthread_mutex_lock(&pp->lock);
	for (int i = 0; i < nthreads; i++) {
		if (spawn_locked(pp) != 0)
			break;
	}
	started = pp->started;
	pthread_mutex_unlock(&pp->lock);
	if (started == 0)
		return 1;

	while (!stop_signal)
		sigsuspend(&wait_mask);
	if (kind != SERVER_SOCKET_INHERITED)
		fprintf(stderr, "callpipe-fcgi: %s: stopping\n", signame(stop_signal));
	/* Wakes every worker in accept() (EINVAL) and turns new connections away. Not on
	 * systemd's socket: that would end its listening for the next start too; there the
	 * idle workers stay in accept() until exit() ends them, and a connection one of
	 * them takes during the drain is served like any other. */
	if (kind == SERVER_SOCKET_OWNED)
		shutdown(listen_fd, SHUT_RDWR);

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += SERVER_DRAIN_SECONDS;
	pthread_mutex_lock(&pp->lock);
	while (pp->busy > 0 && pthread_cond_timedwait(&pp->changed, &pp->lock, &deadline) == 0)
		;
	if (pp->busy > 0) {
		fprintf(stderr, "callpipe-fcgi: %d requests still running after %d s; exiting\n",
			pp->busy, SERVER_DRAIN_SECONDS);
		status = 1;
	}
	/* Workers idle in accept() leave at once after the shutdown(); give them a moment
	 * so they can be joined (clean for the sanitizers), but never wait on a worker
	 * parked on a kept connection or a shared socket: exit() ends those. */
	if (kind == SERVER_SOCKET_OWNED) {
		struct timespec soon;

		clock_gettime(CLOCK_MONOTONIC, &soon);
		soon.tv_nsec += 200 * 1000 * 1000;
		if (soon.tv_nsec >= 1000000000L) {
			soon.tv_sec++;
			soon.tv_nsec -= 1000000000L;
		}
		while (pp->alive > 0 && pthread_cond_timedwait(&pp->changed, &pp->lock, &soon) == 0)
			;
	}
	all_done = pp->alive == 0;
	started = pp->started;
	pthread_mutex_unlock(&pp->lock);
	if (all_done) {
		for (int i = 0; i < started; i++)
			pthread_join(pp->tids[i], NULL);
		pthread_cond_destroy(&pp->changed);
		pthread_mutex_destroy(&pp->lock);
		pthread_attr_destroy(&pp->attr);
	}
	if (kind == SERVER_SOCKET_OWNED)
		close(listen_fd);
	if (unix_path)
		unlink(unix_path);
	if (atomic_load(&pp->failed))
		status = 1;
	return status;
}
