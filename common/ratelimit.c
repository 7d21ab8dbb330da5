/* ratelimit: token bucket (RATE tokens per second, bucket of RATE) under a mutex, and the
 * stderr writer that announces and then counts the lines it drops. */
#include "ratelimit.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

struct ratelimit ratelimit_unauth = RATELIMIT_INIT(RATELIMIT_LINES_PER_S);

int ratelimit_take_at(struct ratelimit *rl, int64_t now_ns, unsigned long *suppressed)
{
	int ok;

	if (rl->rate == 0) {
		*suppressed = 0;
		return 1;
	}
	pthread_mutex_lock(&rl->lock);
	if (rl->last_ns == 0 || now_ns < rl->last_ns) {
		rl->last_ns = now_ns;
	} else {
		rl->tokens += (double)(now_ns - rl->last_ns) * rl->rate / 1e9;
		if (rl->tokens > rl->rate)
			rl->tokens = rl->rate;
		rl->last_ns = now_ns;
	}
	ok = rl->tokens >= 1.0;
	if (ok) {
		rl->tokens -= 1.0;
		*suppressed = rl->suppressed;
		rl->suppressed = 0;
		rl->announced = 0;
	} else {
		rl->suppressed++;
		*suppressed = rl->announced ? 0 : 1;
		rl->announced = 1;
	}
	pthread_mutex_unlock(&rl->lock);
	return ok;
}

int ratelimit_take(struct ratelimit *rl, unsigned long *suppressed)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ratelimit_take_at(rl, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, suppressed);
}

int ratelimit_write_stderr(const char *line, size_t len)
{
	while (len) {
		ssize_t n = write(STDERR_FILENO, line, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		line += n;
		len -= (size_t)n;
	}
	return 0;
}

int ratelimit_stderr(struct ratelimit *rl, const char *who, const char *line, size_t len)
{
	unsigned long supp = 0;
	char note[160];
	int n;

	if (rl && !ratelimit_take(rl, &supp)) {
		if (supp) {
			n = snprintf(note, sizeof(note), "%s: stderr rate limit: over %u lines/s, "
				     "dropping lines\n", who, rl->rate);
			if (n > 0 && (size_t)n < sizeof(note))
				ratelimit_write_stderr(note, (size_t)n);
		}
		return 0;
	}
	if (supp) {
		n = snprintf(note, sizeof(note), "%s: stderr rate limit: %lu lines dropped\n", who,
			     supp);
		if (n > 0 && (size_t)n < sizeof(note))
			ratelimit_write_stderr(note, (size_t)n);
	}
	return ratelimit_write_stderr(line, len) == 0;
}
