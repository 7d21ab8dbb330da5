/* fcgi_server: how callpipe-fcgi serves FastCGI: on a listening socket a web server handed it
 * (stdin) or on one of its own (--listen), worker threads, and the drain on SIGTERM. */
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

/* Serve FastCGI requests on LISTEN_FD with NTHREADS workers (more while connections are
 * kept open, see SERVER_THREADS_MAX) until SIGTERM, SIGINT or
 * SIGUSR1 (libfcgi's "finish and exit"), then let requests in flight finish (at most
 * SERVER_DRAIN_SECONDS) and return the exit status: 0, or 1 after a fatal accept()
 * error or a drain that timed out. OWNED: the socket is ours (--listen), so it is shut
 * down at the signal (a socket inherited from mod_fcgid or spawn-fcgi may be shared with
 * sibling processes and is left alone). UNIX_PATH, when not NULL, is unlinked at the end. */
int server_run(const struct config *cfg, int listen_fd, int nthreads, int owned,
	       const char *unix_path);

#endif
