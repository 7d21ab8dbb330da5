/* recorder: loop side (chunks placed by sample position; the outbound play cursor) and the
 * writer thread (libsndfile WAV µ-law, silence for gaps, a write error stops one file). */
#include "recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "calllog.h"
#include "ratelimit.h"

/* µ-law's zero (G.711: 0xFF is +0). */
#define ULAW_SILENCE 0xFF
/* One sample lasts 125 µs at 8 kHz. */
#define SAMPLE_US 125

enum jkind { J_DATA, J_CLOSE };

/* A chunk of one side, placed at sample POS; or the side's close (POS: pad to). */
struct rjob {
	struct rjob *next;
	struct recorder *r;
	unsigned char kind;
	uint64_t pos;
	size_t len;
	uint8_t data[];
};

struct recorder {
	/* --- loop side --- */
	int64_t t0_us;
	uint64_t pos;              /* position after the last sample handed on */
	struct rjob *job;          /* the chunk being gathered (RECORDER_CHUNK bytes) */
	struct rjob *close_job;    /* allocated up front: the close is never lost */
	uint8_t *held;             /* outbound samples not yet played */
	size_t held_off, held_len, held_cap;
	int64_t held_start_us;     /* play time of held[held_off] */
	uint64_t held_pos;         /* file position of held[held_off] */
	uint64_t dropped;          /* samples dropped (queue full, no memory) */
	/* --- writer side --- */
	SNDFILE *sf;
	int fd;
	uint64_t written;          /* samples in the file */
	long long bytes;           /* the file's size when it was closed */
	int failed;                /* a write failed: the rest is discarded */
	int stopped;               /* atomic: set by the writer once failed, read by the loop */
	char reason[160];
	struct recorder_log log;
	char side[4];
	const char *name;          /* the file name inside path */
	char path[];
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	struct rjob *head, *tail;
	size_t bytes;
	unsigned long long dropped;
	int running, stopping;
} q = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static struct ratelimit drop_limit = RATELIMIT_INIT(RATELIMIT_LINES_PER_S);

static size_t job_alloc(size_t cap)
{
	return sizeof(struct rjob) + cap;
}

/* --- writer thread --- */

static void log_line(struct recorder *r, const char *event, const char *const *kv)
{
	char line[CALLLOG_LINE_MAX];
	size_t len;

	if (!r->log.log)
		return;
	len = calllog_format(line, sizeof(line), NULL, "ws", event, kv);
	if (r->log.line)
		r->log.line(r->log.log, line, len);
	else
		calllog_file_write(r->log.log, line, len);
}

/* Close the file (libsndfile writes the header's final lengths), note its size. */
static int close_file(struct recorder *r)
{
	struct stat st;
	int rc = 0;

	if (!r->sf)
		return 0;
	if (sf_close(r->sf) != 0)
		rc = -1;
	r->sf = NULL;
	if (fstat(r->fd, &st) == 0)
		r->bytes = (long long)st.st_size;
	close(r->fd);
	r->fd = -1;
	return rc;
}

/* The recording stops here (the call goes on): one call-log line now, the file closed with
 * what it holds. */
static void fail(struct recorder *r, const char *step, const char *why)
{
	const char *kv[] = { "side", r->side, "file", r->name, "reason", r->reason, NULL };

	if (r->failed)
		return;
	r->failed = 1;
	snprintf(r->reason, sizeof(r->reason), "%s: %s", step, why);
	__atomic_store_n(&r->stopped, 1, __ATOMIC_RELEASE);
	close_file(r);
	log_line(r, "recording_stopped", kv);
}

static int open_file(struct recorder *r)
{
	SF_INFO info;

	/* Never through a symlink, never over an existing file (a recording, or a file
	 * someone placed there); the umask does not decide the mode. */
	r->fd = open(r->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (r->fd < 0) {
		fail(r, "create", errno == EEXIST ? "the file exists (never overwritten)" :
		     strerror(errno));
		return -1;
	}
	if (fchmod(r->fd, 0640) != 0) {
		fail(r, "fchmod 0640", strerror(errno));
		close(r->fd);
		r->fd = -1;
		return -1;
	}
	memset(&info, 0, sizeof(info));
	info.samplerate = RECORDER_RATE;
	info.channels = 1;
	info.format = SF_FORMAT_WAV | SF_FORMAT_ULAW;
	r->sf = sf_open_fd(r->fd, SFM_WRITE, &info, 0);
	if (!r->sf) {
		fail(r, "libsndfile", sf_strerror(NULL));
		close(r->fd);
		r->fd = -1;
		return -1;
	}
	return 0;
}

/* The bytes are µ-law already: written raw, no conversion. */
static int write_raw(struct recorder *r, const uint8_t *p, size_t n)
{
	sf_count_t w = sf_write_raw(r->sf, p, (sf_count_t)n);

	if (w > 0)
		r->written += (uint64_t)w;
	if (w != (sf_count_t)n) {
		fail(r, "write", sf_strerror(r->sf));
		return -1;
	}
	return 0;
}

static int write_silence(struct recorder *r, uint64_t n)
{
	static const uint8_t zero[RECORDER_CHUNK] = { [0 ... RECORDER_CHUNK - 1] = ULAW_SILENCE };

	while (n) {
		size_t k = n < sizeof(zero) ? (size_t)n : sizeof(zero);

		if (write_raw(r, zero, k) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

static void do_data(struct recorder *r, const struct rjob *j)
{
	size_t skip = 0;

	if (r->failed || (!r->sf && open_file(r) < 0))
		return;
	if (j->pos > r->written && write_silence(r, j->pos - r->written) < 0)
		return;
	if (j->pos < r->written)   /* never expected: positions only grow */
		skip = r->written - j->pos < j->len ? (size_t)(r->written - j->pos) : j->len;
	if (write_raw(r, j->data + skip, j->len - skip) < 0)
		return;
	/* the header says what is there, so a file being recorded (or left by a crash) reads */
	sf_command(r->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
}

static void do_close(struct recorder *r, uint64_t pad_to)
{
	char secs[32], bytes[32], dropped[32];
	const char *kv[16];
	size_t k = 0;

	/* a side that never had audio still gets its (silent, aligned) file */
	if (!r->failed && (r->sf || open_file(r) == 0) && pad_to > r->written)
		write_silence(r, pad_to - r->written);
	if (!r->failed && close_file(r) != 0)
		fail(r, "close", "libsndfile could not finish the file");
	snprintf(secs, sizeof(secs), "%.2f", (double)r->written / RECORDER_RATE);
	snprintf(bytes, sizeof(bytes), "%lld", r->bytes);
	snprintf(dropped, sizeof(dropped), "%llu",
		 (unsigned long long)(r->dropped * 1000 / RECORDER_RATE));
	kv[k++] = "side";
	kv[k++] = r->side;
	kv[k++] = "file";
	kv[k++] = r->name;
	kv[k++] = "seconds";
	kv[k++] = secs;
	kv[k++] = "bytes";
	kv[k++] = bytes;
	kv[k++] = "status";
	kv[k++] = r->failed ? "stopped" : "ok";
	if (r->failed) {
		kv[k++] = "reason";
		kv[k++] = r->reason;
	}
	if (r->dropped) {
		kv[k++] = "dropped_ms";
		kv[k++] = dropped;
	}
	kv[k] = NULL;
	log_line(r, "recording", kv);
	calllog_file_unref(r->log.log);
	free(r);
}

/* One job, then freed (a close frees its recorder too). */
static void run_job(struct rjob *j)
{
	struct recorder *r = j->r;
	uint64_t pad = j->pos;

	if (j->kind == J_DATA) {
		do_data(r, j);
		free(j);
		return;
	}
	free(j);
	do_close(r, pad);
}

static void *writer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&q.lock);
	for (;;) {
		struct rjob *batch, *j;
		size_t bytes = 0;

		while (!q.head && !q.stopping)
			pthread_cond_wait(&q.cond, &q.lock);
		if (!q.head)
			break;   /* stopping, and everything is written */
		batch = q.head;
		q.head = q.tail = NULL;
		pthread_mutex_unlock(&q.lock);
		while ((j = batch)) {
			batch = j->next;
			if (j->kind == J_DATA)
				bytes += job_alloc(RECORDER_CHUNK);
			run_job(j);
		}
		pthread_mutex_lock(&q.lock);
		q.bytes -= bytes;
	}
	pthread_mutex_unlock(&q.lock);
	return NULL;
}

int recorder_start(void)
{
	sigset_t all, old;
	int rc;

	if (q.running)
		return 0;
	/* Signals belong to the loop thread. SIGXFSZ (a file size limit) must not kill the
	 * process: with it ignored, a write past the limit fails with EFBIG instead. */
	signal(SIGXFSZ, SIG_IGN);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	q.stopping = 0;
	rc = pthread_create(&q.thread, NULL, writer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -1;
	q.running = 1;
	return 0;
}

void recorder_stop(void)
{
	if (!q.running)
		return;
	pthread_mutex_lock(&q.lock);
	q.stopping = 1;
	pthread_cond_signal(&q.cond);
	pthread_mutex_unlock(&q.lock);
	pthread_join(q.thread, NULL);
	q.running = 0;
}

unsigned long long recorder_dropped(void)
{
	unsigned long long n;

	pthread_mutex_lock(&q.lock);
	n = q.dropped;
	pthread_mutex_unlock(&q.lock);
	return n;
}

/* --- loop side --- */

static void enqueue(struct rjob *j, int bounded)
{
	pthread_mutex_lock(&q.lock);
	if (!q.running) {
		/* the writer stopped with calls still open (not in callpipe-ws, whose calls end
		 * first): do it here rather than leak it */
		pthread_mutex_unlock(&q.lock);
		run_job(j);
		return;
	}
	if (bounded && q.bytes + job_alloc(RECORDER_CHUNK) > RECORDER_QUEUE_BYTES) {
		char msg[200];
		int n;

		q.dropped++;
		pthread_mutex_unlock(&q.lock);
		j->r->dropped += j->len;
		n = snprintf(msg, sizeof(msg), "callpipe-ws: recording queue full (%u bytes waiting "
			     "for the disk): %zu ms of %s dropped (silence in the file)\n",
			     RECORDER_QUEUE_BYTES, j->len * 1000 / RECORDER_RATE, j->r->name);
		if (n > 0 && (size_t)n < sizeof(msg))
			ratelimit_stderr(&drop_limit, "callpipe-ws", msg, (size_t)n);
		free(j);
		return;
	}
	if (bounded)
		q.bytes += job_alloc(RECORDER_CHUNK);
	j->next = NULL;
	if (q.tail)
		q.tail->next = j;
	else
		q.head = j;
	q.tail = j;
	pthread_cond_signal(&q.cond);
	pthread_mutex_unlock(&q.lock);
}

static void flush_job(struct recorder *r)
{
	struct rjob *j = r->job;

	r->job = NULL;
	if (j && j->len)
		enqueue(j, 1);
	else
		free(j);
}

/* Hand N samples at file position POS on to the writer (through the chunk being gathered). */
static void emit(struct recorder *r, uint64_t pos, const uint8_t *p, size_t n)
{
	if (pos < r->pos) {   /* overlap: positions only grow */
		size_t skip = r->pos - pos < n ? (size_t)(r->pos - pos) : n;

		p += skip;
		n -= skip;
		pos += skip;
	}
	while (n) {
		struct rjob *j = r->job;
		size_t k;

		if (j && j->pos + j->len != pos) {
			uint64_t gap = pos - (j->pos + j->len);

			if (gap < RECORDER_CHUNK - j->len) {   /* a short gap: silence in place */
				memset(j->data + j->len, ULAW_SILENCE, (size_t)gap);
				j->len += (size_t)gap;
			} else {
				flush_job(r);
				j = NULL;
			}
		}
		if (j && j->len == RECORDER_CHUNK) {
			flush_job(r);
			j = NULL;
		}
		if (!j) {
			j = malloc(job_alloc(RECORDER_CHUNK));
			if (!j) {   /* as if the queue were full: silence there */
				r->dropped += n;
				r->pos = pos + n;
				return;
			}
			j->r = r;
			j->kind = J_DATA;
			j->pos = pos;
			j->len = 0;
			r->job = j;
		}
		k = RECORDER_CHUNK - j->len < n ? RECORDER_CHUNK - j->len : n;
		memcpy(j->data + j->len, p, k);
		j->len += k;
		p += k;
		n -= k;
		pos += k;
		r->pos = pos;
	}
}

struct recorder *recorder_new(const char *dir, const char *callsid, const char *side,
			      int64_t t0_us, const struct recorder_log *log)
{
	size_t plen = strlen(dir) + 1 + strlen(callsid) + 1 + strlen(side) + 5;
	struct recorder *r;

	if (!q.running)
		return NULL;
	r = calloc(1, sizeof(*r) + plen);
	if (!r)
		return NULL;
	r->close_job = calloc(1, sizeof(struct rjob));
	if (!r->close_job) {
		free(r);
		return NULL;
	}
	snprintf(r->path, plen, "%s/%s.%s.wav", dir, callsid, side);
	r->name = r->path + strlen(dir) + 1;
	snprintf(r->side, sizeof(r->side), "%s", side);
	r->t0_us = t0_us;
	r->fd = -1;
	if (log) {
		r->log = *log;
		r->log.log = calllog_file_ref(log->log);
	}
	return r;
}

static int stopped(const struct recorder *r)
{
	return __atomic_load_n(&r->stopped, __ATOMIC_ACQUIRE);
}

void recorder_in(struct recorder *r, const uint8_t *ulaw, size_t n)
{
	if (stopped(r)) {
		r->pos += n;
		return;
	}
	emit(r, r->pos, ulaw, n);
}

static uint64_t at(const struct recorder *r, int64_t t_us)
{
	return t_us > r->t0_us ? (uint64_t)((t_us - r->t0_us) / SAMPLE_US) : 0;
}

/* Samples held whose play time has come (started before NOW) go to the file. */
static void commit(struct recorder *r, int64_t now_us, size_t at_least)
{
	size_t due = 0;

	if (!r->held_len)
		return;
	if (now_us > r->held_start_us)
		due = (size_t)((now_us - r->held_start_us + SAMPLE_US - 1) / SAMPLE_US);
	if (due < at_least)
		due = at_least;
	if (due > r->held_len)
		due = r->held_len;
	if (!due)
		return;
	if (!stopped(r))
		emit(r, r->held_pos, r->held + r->held_off, due);
	r->held_pos += due;
	r->pos = r->held_pos;
	r->held_off += due;
	r->held_len -= due;
	r->held_start_us += (int64_t)due * SAMPLE_US;
	if (!r->held_len)
		r->held_off = 0;
}

void recorder_out_tick(struct recorder *r, int64_t now_us)
{
	commit(r, now_us, 0);
}

void recorder_out_written(struct recorder *r, int64_t now_us, const uint8_t *ulaw, size_t n)
{
	commit(r, now_us, 0);
	if (!r->held_len) {
		/* the cursor is behind: this frame plays now */
		uint64_t p = at(r, now_us);

		r->held_start_us = now_us;
		r->held_pos = p > r->pos ? p : r->pos;
	}
	/* bounded: past RECORDER_HOLD_MAX the oldest is taken as played */
	if (r->held_len + n > RECORDER_HOLD_MAX)
		commit(r, now_us, r->held_len + n - RECORDER_HOLD_MAX);
	if (n > RECORDER_HOLD_MAX) {
		ulaw += n - RECORDER_HOLD_MAX;
		n = RECORDER_HOLD_MAX;
	}
	if (r->held_off + r->held_len + n > r->held_cap) {
		if (r->held_len)
			memmove(r->held, r->held + r->held_off, r->held_len);
		r->held_off = 0;
		if (r->held_len + n > r->held_cap) {
			size_t cap = r->held_cap ? r->held_cap : 1600;
			uint8_t *nh;

			while (cap < r->held_len + n)
				cap *= 2;
			nh = realloc(r->held, cap);
			if (!nh) {   /* no room: these samples are lost (silence) */
				r->dropped += n;
				return;
			}
			r->held = nh;
			r->held_cap = cap;
		}
	}
	memcpy(r->held + r->held_off + r->held_len, ulaw, n);
	r->held_len += n;
}

void recorder_out_clear(struct recorder *r, int64_t now_us)
{
	commit(r, now_us, 0);
	/* what Twilio held beyond this moment is flushed: the caller never hears it */
	r->held_len = 0;
	r->held_off = 0;
}

uint64_t recorder_samples(const struct recorder *r)
{
	return r->pos;
}

void recorder_close(struct recorder *r, int64_t now_us, uint64_t pad_to)
{
	struct rjob *j = r->close_job;

	recorder_out_clear(r, now_us);   /* the stream ended: unplayed audio is never heard */
	free(r->held);
	r->held = NULL;
	r->held_cap = 0;
	if (!stopped(r))
		flush_job(r);
	else {
		free(r->job);
		r->job = NULL;
	}
	r->close_job = NULL;
	j->r = r;
	j->kind = J_CLOSE;
	/* at least the side's own length: chunks dropped at the end still count as silence */
	j->pos = pad_to > r->pos ? pad_to : r->pos;
	enqueue(j, 0);
}
