/* ratelimit: a token bucket for stderr lines that peers can cause without authenticating
 * (403s, refused upgrades), so a flood cannot fill the web server's error log or the disk. */
#ifndef CALLPIPE_RATELIMIT_H
#define CALLPIPE_RATELIMIT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Lines per second (and burst) of the stderr limit both programs use. */
#define RATELIMIT_LINES_PER_S 20

struct ratelimit {
	pthread_mutex_t lock;       /* fcgi workers are threads */
	unsigned rate;              /* tokens per second, and the bucket's size; 0: no limit */
	double tokens;
	int64_t last_ns;            /* last refill; 0 before the first call */
	unsigned long suppressed;   /* dropped since the last line let through */
	int announced;              /* the "dropping" notice of this run was written */
};

#define RATELIMIT_INIT(r) { PTHREAD_MUTEX_INITIALIZER, (r), (double)(r), 0, 0, 0 }

/* The process's limit for lines that peers cause before they are authenticated
 * (callpipe-fcgi's errors before the signature verified, callpipe-ws's WS_REJECT):
 * RATELIMIT_LINES_PER_S. Unit tests set its rate to 0 to see every line. */
extern struct ratelimit ratelimit_unauth;

/* The bucket at time NOW_NS (monotonic ns): 1 when a line may go out (one token taken; then
 * *SUPPRESSED gets how many lines were dropped before it, and the count restarts), else 0
 * (the line is counted as dropped; *SUPPRESSED gets 1 for the first drop of a run, so the
 * caller can say once that it is dropping, else 0). */
int ratelimit_take_at(struct ratelimit *rl, int64_t now_ns, unsigned long *suppressed);
int ratelimit_take(struct ratelimit *rl, unsigned long *suppressed);

/* Write LINE (LEN bytes, ending in '\n') to stderr with one write() when RL lets it
 * through (RL NULL: always). Around a run of dropped lines it writes two lines of its own,
 * starting with WHO: "WHO: stderr rate limit: over N lines/s, dropping lines" when the
 * first is dropped, and "WHO: stderr rate limit: K lines dropped" before the next line
 * let through. Returns 1 when LINE was written, 0 when dropped or on a write error. */
int ratelimit_stderr(struct ratelimit *rl, const char *who, const char *line, size_t len);

/* One write() of LEN bytes to stderr (retrying short writes and EINTR): lines from
 * concurrent threads never interleave mid-line. 0, or -1 on error. */
int ratelimit_write_stderr(const char *line, size_t len);

#endif
