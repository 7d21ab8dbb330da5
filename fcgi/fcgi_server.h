/* fcgi_server: how callpipe-fcgi serves FastCGI: on a listening socket a web server handed it
 * (stdin), systemd's (socket activation) or its own (--listen); worker threads; the drain. */
#ifndef CALLPIPE_FCGI_SERVER_H
#define CALLPIPE_FCGI_SERVER_H

#include <stddef.h>

#include "config.h"

/* Longest time requests in flight get to finish after SIGTERM. Ours take milliseconds;
 * scripts/stack and systemd wait longer before SIGKILL. */
#define SERVER_DRAIN_SECONDS 5
/* Most worker threads ever: [fcgi] threads accept new connections, and a connection the
 * web server keeps open between requests (FCGI_KEEP_CONN) holds one more, so this bounds
 * [fcgi] threads plus the pool of a mod_proxy_fcgi with enablereuse=on (Apache's default
 * MaxRequestWorkers is 150). */
#define SERVER_THREADS_MAX 512

/* Bind and listen on ADDR, which is "HOST:PORT", "[IPv6]:PORT", "*:PORT", or the path of
 * a unix socket (anything holding a '/'): made mode 0660, a stale socket file replaced, a
 * live one refused. Unlike FCGX_OpenSocket this never exit()s. The descriptor, or -1
 * with ERR filled. */
int server_listen(const char *addr, char *err, size_t errlen);

/* The descriptor systemd passes first (SD_LISTEN_FDS_START in sd-daemon.h). */
#define SERVER_ACTIVATION_FD 3

/* Systemd socket activation, without libsystemd: when LISTEN_PID is this process and
 * LISTEN_FDS is 1, the listening socket is SERVER_ACTIVATION_FD. Returns 1 (that
 * descriptor checked to be a listening stream socket, made close-on-exec, and LISTEN_PID,
 * LISTEN_FDS and LISTEN_FDNAMES unset so nothing we start inherits them), 0 when the
 * variables are absent or name another process (not activated), or -1 with ERR filled
 * (LISTEN_FDS other than 1, a malformed variable, or descriptor 3 not a listening socket). */
int server_activated(char *err, size_t errlen);

/* What a listening socket is bound to, for a banner: a unix socket's path, HOST:PORT, or
 * "descriptor N" when it cannot tell. */
void server_socket_name(int fd, char *buf, size_t len);

/* Whose listening socket server_run serves, which decides what it does with it at SIGTERM. */
enum server_socket {
	/* Inherited from mod_fcgid or spawn-fcgi on stdin, maybe shared with sibling
	 * processes: left alone, and the stop is not announced (Apache stops these). */
	SERVER_SOCKET_INHERITED,
	/* Ours (--listen): shut down at the signal, which wakes the idle workers and turns
	 * new connections away, then closed. */
	SERVER_SOCKET_OWNED,
	/* systemd's (socket activation): never shut down, since systemd keeps listening on
	 * it and connections that arrive while we stop wait there for the next start. */
	SERVER_SOCKET_ACTIVATED,
};

/* Serve FastCGI requests on LISTEN_FD with NTHREADS workers (more while connections are
 * kept open, see SERVER_THREADS_MAX) until SIGTERM, SIGINT or
 * SIGUSR1 (libfcgi's "finish and exit"), then let requests in flight finish (at most
 * SERVER_DRAIN_SECONDS) and return the exit status: 0, or 1 after a fatal accept()
 * error or a drain that timed out. KIND says whose socket it is (see enum server_socket).
 * UNIX_PATH, when not NULL, is unlinked at the end. */
int server_run(const struct config *cfg, int listen_fd, int nthreads, enum server_socket kind,
	       const char *unix_path);

#endif
