/* test_recorder: frames in, WAV out (read back with libsndfile: length, rate, samples, 0640);
 * the play-cursor model of the outbound side; a file size limit and an existing file stop one
 * recording with its lines while another goes on. */
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sndfile.h>

#include "call.h"
#include "calllog.h"
#include "check.h"
#include "config.h"
#include "g711.h"
#include "logq.h"
#include "metrics.h"
#include "mode.h"
#include "recorder.h"

static char dir[] = "/tmp/test_recorder.XXXXXX";

#define SID_A "CA0123456789abcdef0123456789abcdef"
#define SID_B "CAfedcba9876543210fedcba9876543210"
#define SID_C "CA00000000000000000000000000000c0c"
#define SID_D "CA00000000000000000000000000000d0d"

/* A recording read back: its samples (as libsndfile decodes them) and its format. */
struct wav {
	SF_INFO info;
	short *s;
};

static int wav_read(const char *name, struct wav *w)
{
	char path[512];
	SNDFILE *sf;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	memset(w, 0, sizeof(*w));
	sf = sf_open(path, SFM_READ, &w->info);
	if (!sf)
		return -1;
	w->s = calloc((size_t)w->info.frames + 1, sizeof(short));
	if (sf_read_short(sf, w->s, w->info.frames) != w->info.frames) {
		sf_close(sf);
		return -1;
	}
	sf_close(sf);
	return 0;
}

static char *slurp(const char *name)
{
	static char buf[65536];
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf[0] = '\0';
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

static mode_t file_mode(const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 ? st.st_mode & 07777 : 0;
}

/* The µ-law byte for frame F, sample I: a pattern that differs per frame and sample. */
static uint8_t pat(unsigned f, unsigned i)
{
	return (uint8_t)(f * 7 + i * 3 + 1);
}

/* 250 inbound frames (5 s) in, the WAV out: 8 kHz µ-law, 40000 samples, each the G.711
 * value of the byte sent; 0640 even with umask 077; the `recording` line. */
static void test_inbound(void)
{
	struct calllog_file *log = calllog_file_new(dir, SID_A);
	struct recorder_log rl = { log, NULL };
	struct recorder *r;
	uint8_t frame[160];
	struct wav w;
	unsigned f, i, bad = 0;
	mode_t old = umask(077);   /* fchmod, not the umask, makes it 0640 */

	CHECK(recorder_new(dir, SID_A, "in", 0, &rl) == NULL);   /* no writer: off */
	CHECK(recorder_start() == 0);
	r = recorder_new(dir, SID_A, "in", 0, &rl);
	CHECK(r != NULL);
	for (f = 0; f < 250 && r; f++) {
		for (i = 0; i < 160; i++)
			frame[i] = pat(f, i);
		recorder_in(r, frame, sizeof(frame));
	}
	CHECK(r && recorder_samples(r) == 40000);
	if (r)
		recorder_close(r, 0, 0);
	recorder_stop();
	calllog_file_unref(log);
	umask(old);

	CHECK(wav_read(SID_A ".in.wav", &w) == 0);
	CHECK(w.info.frames == 40000);
	CHECK(w.info.samplerate == 8000 && w.info.channels == 1);
	CHECK(w.info.format == (SF_FORMAT_WAV | SF_FORMAT_ULAW));
	for (f = 0; w.s && f < 250; f++)
		for (i = 0; i < 160; i++)
			bad += w.s[f * 160 + i] != g711_ulaw_decode(pat(f, i));
	CHECK_MSG(w.s && bad == 0, "every sample read back is the one sent");
	free(w.s);
	CHECK(file_mode(SID_A ".in.wav") == 0640);
	CHECK(strstr(slurp(SID_A ".log"), " ws recording side=in file=" SID_A ".in.wav "
		      "seconds=5.00 bytes=") != NULL);
	CHECK(strstr(slurp(SID_A ".log"), " status=ok\n") != NULL);
}

static int all_silent(const short *s, size_t from, size_t to)
{
	for (; from < to; from++)
		if (s[from] != 0)
			return 0;
	return 1;
}

static int frames_are(const short *s, size_t at, unsigned f0, unsigned nframes)
{
	unsigned f, i;

	for (f = 0; f < nframes; f++)
		for (i = 0; i < 160; i++)
			if (s[at + f * 160 + i] != g711_ulaw_decode(pat(f0 + f, i)))
				return 0;
	return 1;
}

static void out_frames(struct recorder *r, int64_t now_us, unsigned f0, unsigned n)
{
	uint8_t frame[160];
	unsigned f, i;

	for (f = f0; f < f0 + n; f++) {
		for (i = 0; i < 160; i++)
			frame[i] = pat(f, i);
		recorder_out_written(r, now_us, frame, sizeof(frame));
	}
}

/* The outbound side on a fake clock (µs from the stream's start):
 *   0 ms: frames 0..9 written at once: they play 0..200 ms
 * 100 ms: a clear: 0..100 ms was heard (800 samples), the rest is flushed
 * 500 ms: frame 20 plays at once (the cursor is behind): samples 4000..4160
 * 900 ms: frames 30..39 (900..1100 ms); the stream ends at 1000 ms: half of them heard
 * and the file padded to 1.2 s. */
static void test_play_cursor(void)
{
	struct calllog_file *log = calllog_file_new(dir, SID_B);
	struct recorder_log rl = { log, NULL };
	struct recorder *r;
	struct wav w;

	CHECK(recorder_start() == 0);
	r = recorder_new(dir, SID_B, "out", 0, &rl);
	CHECK(r != NULL);
	if (!r)
		return;
	out_frames(r, 0, 0, 10);
	recorder_out_tick(r, 50000);
	CHECK(recorder_samples(r) == 400);   /* only what has played */
	recorder_out_clear(r, 100000);
	CHECK(recorder_samples(r) == 800);
	out_frames(r, 500000, 20, 1);
	recorder_out_tick(r, 600000);
	CHECK(recorder_samples(r) == 4160);
	out_frames(r, 900000, 30, 10);
	recorder_close(r, 1000000, 9600);
	recorder_stop();
	calllog_file_unref(log);

	CHECK(wav_read(SID_B ".out.wav", &w) == 0);
	CHECK(w.info.frames == 9600);
	if (w.s && w.info.frames == 9600) {
		CHECK_MSG(frames_are(w.s, 0, 0, 5), "0..100 ms: frames 0..4, heard before the clear");
		CHECK_MSG(all_silent(w.s, 800, 4000), "100..500 ms: the flushed frames 5..9 are not there");
		CHECK_MSG(frames_are(w.s, 4000, 20, 1), "500 ms: frame 20");
		CHECK_MSG(all_silent(w.s, 4160, 7200), "silence until 900 ms");
		CHECK_MSG(frames_are(w.s, 7200, 30, 5), "900..1000 ms: frames 30..34 heard");
		CHECK_MSG(all_silent(w.s, 8000, 9600), "frames 35..39 never played: silence to 1.2 s");
	}
	free(w.s);
	CHECK(strstr(slurp(SID_B ".log"), "recording side=out file=" SID_B ".out.wav seconds=1.20 "
		      "bytes=") != NULL);
}

/* A child with a 20 kB file size limit (SIGXFSZ ignored: the write fails with EFBIG): call C
 * records 5 s (40 kB) and stops with a reason; call D records 1 s and is fine; the child
 * itself carries on and exits 0. */
static void test_file_limit(void)
{
	pid_t pid = fork();
	int st = -1;
	const char *logc;

	if (pid == 0) {
		struct rlimit rl = { 20000, 20000 };
		struct calllog_file *lc = calllog_file_new(dir, SID_C);
		struct calllog_file *ld = calllog_file_new(dir, SID_D);
		struct recorder_log rc = { lc, NULL }, rd = { ld, NULL };
		struct recorder *a, *b;
		uint8_t frame[160];
		unsigned f;

		/* the log lines go first: the logs themselves stay under the limit */
		if (recorder_start() != 0 || setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(3);
		a = recorder_new(dir, SID_C, "in", 0, &rc);
		b = recorder_new(dir, SID_D, "in", 0, &rd);
		if (!a || !b)
			_exit(4);
		memset(frame, 0x55, sizeof(frame));
		for (f = 0; f < 250; f++) {
			recorder_in(a, frame, sizeof(frame));
			if (f < 50)
				recorder_in(b, frame, sizeof(frame));
		}
		recorder_close(a, 0, 0);
		recorder_close(b, 0, 0);
		recorder_stop();
		calllog_file_unref(lc);
		calllog_file_unref(ld);
		_exit(0);
	}
	CHECK(pid > 0);
	if (pid > 0)
		waitpid(pid, &st, 0);
	CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the process survives a file size limit");
	logc = slurp(SID_C ".log");
	CHECK(strstr(logc, " ws recording_stopped side=in file=" SID_C ".in.wav reason=\"write: ") != NULL);
	CHECK(strstr(logc, " status=stopped reason=\"write: ") != NULL);
	CHECK(strstr(slurp(SID_D ".log"), "recording side=in file=" SID_D ".in.wav seconds=1.00 "
		      "bytes=") != NULL);
	CHECK(strstr(slurp(SID_D ".log"), " status=ok\n") != NULL);
	CHECK(file_mode(SID_C ".in.wav") == 0640);
}

/* The writer held up inside a call-log line (as by a disk that stalls) while another call
 * records 18.8 MB: the queue stops at its bound, the rest is dropped and counted, never
 * blocking the caller, and the file keeps its length (silence where chunks were dropped). */
static sem_t blocked, release;

static void stalling_line(struct calllog_file *f, const char *line, size_t len)
{
	if (strstr(line, " recording_stopped ")) {
		sem_post(&blocked);
		sem_wait(&release);
	}
	calllog_file_write(f, line, len);
}

static void test_queue_full(void)
{
	static const char *sa = "CA0000000000000000000000000000f0f0";
	static const char *sb = "CA0000000000000000000000000000f1f1";
	struct calllog_file *la = calllog_file_new(dir, sa), *lb = calllog_file_new(dir, sb);
	struct recorder_log ra = { la, stalling_line }, rb = { lb, NULL };
	struct recorder *a, *b;
	static uint8_t chunk[RECORDER_CHUNK];
	const size_t total = 4700 * (size_t)RECORDER_CHUNK;   /* 18.8 MB, past the 16 MiB bound */
	char path[512];
	size_t i;
	int fd;
	struct wav w;
	unsigned long long dropped0 = recorder_dropped();

	sem_init(&blocked, 0, 0);
	sem_init(&release, 0, 0);
	snprintf(path, sizeof(path), "%s/%s.in.wav", dir, sa);
	fd = open(path, O_WRONLY | O_CREAT, 0600);   /* A's file exists: A stops at once */
	if (fd >= 0)
		close(fd);
	CHECK(recorder_start() == 0);
	a = recorder_new(dir, sa, "in", 0, &ra);
	b = recorder_new(dir, sb, "in", 0, &rb);
	if (!a || !b)
		return;
	memset(chunk, 0x33, sizeof(chunk));
	recorder_in(a, chunk, sizeof(chunk));
	recorder_in(a, chunk, 1);   /* the full chunk goes to the writer */
	sem_wait(&blocked);         /* the writer is stuck in A's recording_stopped line */
	for (i = 0; i < total; i += sizeof(chunk))
		recorder_in(b, chunk, sizeof(chunk));
	CHECK_MSG(recorder_dropped() > dropped0, "chunks past the queue's bound are dropped");
	/* closed while the writer is still stuck: B's last chunk is dropped too, and the
	 * file must still be as long as what was recorded */
	recorder_close(a, 0, 0);
	recorder_close(b, 0, 0);
	sem_post(&release);
	recorder_stop();
	calllog_file_unref(la);
	calllog_file_unref(lb);
	CHECK(strstr(slurp("CA0000000000000000000000000000f1f1.log"), " status=ok dropped_ms=") != NULL);
	CHECK(wav_read("CA0000000000000000000000000000f1f1.in.wav", &w) == 0);
	CHECK_MSG(w.info.frames == (sf_count_t)total, "the file keeps its length (silence where dropped)");
	CHECK_MSG(w.s && w.info.frames == (sf_count_t)total && w.s[0] == g711_ulaw_decode(0x33) &&
		  all_silent(w.s, total - 2 * RECORDER_CHUNK, total),
		  "the first chunk is there, the last ones dropped (silence)");
	free(w.s);
	sem_destroy(&blocked);
	sem_destroy(&release);
}

/* A side closed after the writer stopped is still finished (inline), not leaked. */
static void test_close_after_stop(void)
{
	static const char *sid = "CA0000000000000000000000000000a1a1";
	struct calllog_file *log = calllog_file_new(dir, sid);
	struct recorder_log rl = { log, NULL };
	struct recorder *r;
	uint8_t frame[160];
	struct wav w;

	memset(frame, 0x44, sizeof(frame));
	CHECK(recorder_start() == 0);
	r = recorder_new(dir, sid, "in", 0, &rl);
	if (!r)
		return;
	recorder_in(r, frame, sizeof(frame));
	recorder_stop();
	recorder_close(r, 0, 0);
	calllog_file_unref(log);
	CHECK(wav_read("CA0000000000000000000000000000a1a1.in.wav", &w) == 0 && w.info.frames == 160);
	free(w.s);
	CHECK(strstr(slurp("CA0000000000000000000000000000a1a1.log"), " seconds=0.02 ") != NULL);
}

/* --- through the call layer, on a fake transport and clock --- */

#define PRE 16
#define SID_MZ "MZ0123456789abcdef0123456789abcdef"
#define SID_E "CA0000000000000000000000000000eeee"

static int64_t clock_us = 1000000;
static int wants;

static void f_want(void *ctx)
{
	(void)ctx;
	wants++;
}

static void f_timer(void *ctx, int64_t us)
{
	(void)ctx;
	(void)us;
}

static int f_write(void *ctx, unsigned char *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return 0;
}

static int64_t f_now(void)
{
	return clock_us;
}

static const struct call_io fio = { f_want, f_timer, f_write, f_now };

/* at start: ten frames queued, frame F all bytes pat(F, 0) */
static int plumb_start(struct call *c)
{
	uint8_t frame[160];
	unsigned f;

	for (f = 0; f < 10; f++) {
		memset(frame, pat(f, 0), sizeof(frame));
		if (call_send_media(c, frame, sizeof(frame)) < 0)
			return -1;
	}
	return 0;
}

static const struct mode_ops mode_plumb = { .name = "plumb", .on_start = plumb_start };

static void rxs(struct call *c, const char *text)
{
	call_on_rx(c, text, strlen(text), 1, 1, 0);
}

/* Ten frames queued at 0 ms; three written at 0 ms (they play 0..60 ms); the fourth written
 * only at 100 ms (so it plays from 100 ms, not from 60 ms); a barge-in at 110 ms
 * (call_flush_media: the six unsent are dropped, the clear goes out at once and cuts frame 3
 * after 10 ms); frame 10 written at 130 ms; the stream ends at 200 ms. out.wav: frames 0-2,
 * silence, 10 ms of frame 3, silence, frame 10, and nothing after (frames 4..9 never went
 * out); in.wav: the two inbound frames, padded to out.wav's 150 ms. */
static void test_call_layer(void)
{
	struct config cfg;
	struct wsmetrics met;
	struct call_env *env;
	struct call *c;
	struct call_conn conn = { "/ws/twilio-media", "audio.twilio.com", "127.0.0.1", "" };
	char err[128], m[1024], b64[220];
	uint8_t frame[160];
	struct wav w;
	unsigned i;

	config_defaults(&cfg);
	cfg.validate = 0;
	cfg.record = CONFIG_RECORD_BOTH;
	snprintf(cfg.log_dir, sizeof(cfg.log_dir), "%s", dir);
	memset(&met, 0, sizeof(met));
	/* both threads, as in callpipe-ws: every call-log line goes through logq's */
	CHECK(logq_start() == 0 && recorder_start() == 0);
	env = call_env_new(&cfg, &mode_plumb, &met, &fio, PRE, err, sizeof(err));
	c = env ? call_new(env, NULL, &conn) : NULL;
	CHECK(c != NULL);
	if (!c)
		return;
	rxs(c, "{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}");
	snprintf(m, sizeof(m), "{\"event\":\"start\",\"sequenceNumber\":\"1\",\"start\":"
		 "{\"accountSid\":\"AC1\",\"streamSid\":\"" SID_MZ "\",\"callSid\":\"" SID_E
		 "\",\"tracks\":[\"inbound\"],\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\","
		 "\"sampleRate\":8000,\"channels\":1},\"customParameters\":{}},\"streamSid\":\""
		 SID_MZ "\"}");
	rxs(c, m);
	for (i = 0; i < 3; i++)
		call_on_writable(c);
	/* two inbound frames of 0x11 bytes ("ERER" is 0x11 0x11 0x11 in base64) */
	for (i = 0; i < 212; i += 4)
		memcpy(b64 + i, "ERER", 4);
	b64[212] = '\0';   /* 159 bytes, then one more "EQ==" */
	for (i = 2; i < 4; i++) {
		snprintf(m, sizeof(m), "{\"event\":\"media\",\"sequenceNumber\":\"%u\",\"media\":"
			 "{\"track\":\"inbound\",\"chunk\":\"%u\",\"timestamp\":\"0\",\"payload\":"
			 "\"%sEQ==\"},\"streamSid\":\"" SID_MZ "\"}", i, i, b64);
		rxs(c, m);
	}
	clock_us += 100000;
	call_on_writable(c);   /* frame 3 */
	clock_us += 10000;
	CHECK(call_flush_media(c) == 6);
	call_on_writable(c);   /* the clear */
	clock_us += 20000;
	memset(frame, pat(10, 0), sizeof(frame));
	call_send_media(c, frame, sizeof(frame));
	call_on_writable(c);
	clock_us += 70000;
	call_done(c);
	call_env_free(env);
	recorder_stop();
	logq_stop();

	CHECK(wav_read(SID_E ".out.wav", &w) == 0);
	CHECK_MSG(w.info.frames == 1200, "call: out.wav ends with frame 10 (frames 4-9 never sent)");
	if (w.s && w.info.frames == 1200) {
		CHECK_MSG(w.s[0] == g711_ulaw_decode(pat(0, 0)) && w.s[479] == g711_ulaw_decode(pat(2, 0)),
			  "call: frames 0-2 played 0..60 ms");
		CHECK_MSG(all_silent(w.s, 480, 800), "call: silence while frame 3 was still queued");
		CHECK_MSG(w.s[800] == g711_ulaw_decode(pat(3, 0)) && w.s[879] == w.s[800],
			  "call: frame 3 from 100 ms, when it was written");
		CHECK_MSG(all_silent(w.s, 880, 1040), "call: the rest of frame 3 flushed by the clear");
		CHECK_MSG(w.s[1040] == g711_ulaw_decode(pat(10, 0)) && w.s[1199] == w.s[1040],
			  "call: frame 10 at 130 ms");
	}
	free(w.s);
	CHECK(wav_read(SID_E ".in.wav", &w) == 0);
	CHECK(w.info.frames == 1200);
	if (w.s && w.info.frames == 1200) {
		CHECK_MSG(w.s[0] == g711_ulaw_decode(0x11) && w.s[319] == w.s[0],
			  "call: in.wav holds the two inbound frames");
		CHECK_MSG(all_silent(w.s, 320, 1200), "call: in.wav padded to out.wav's length");
	}
	free(w.s);
	CHECK(strstr(slurp(SID_E ".log"), " ws recording side=out file=" SID_E ".out.wav seconds=0.15 ")
	      != NULL);
}

/* A file already there (or a symlink) is never written through: that recording stops. */
static void test_no_overwrite(void)
{
	static const char *sid = "CA0000000000000000000000000000e0e0";
	struct calllog_file *log = calllog_file_new(dir, sid);
	struct recorder_log rl = { log, NULL };
	struct recorder *r;
	char target[512], link[512];
	uint8_t frame[160] = { 0 };
	int fd;

	snprintf(target, sizeof(target), "%s/target", dir);
	snprintf(link, sizeof(link), "%s/%s.in.wav", dir, sid);
	fd = open(target, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	CHECK(symlink(target, link) == 0);
	CHECK(recorder_start() == 0);
	r = recorder_new(dir, sid, "in", 0, &rl);
	if (r) {
		recorder_in(r, frame, sizeof(frame));
		recorder_close(r, 0, 0);
	}
	recorder_stop();
	calllog_file_unref(log);
	CHECK(strstr(slurp("CA0000000000000000000000000000e0e0.log"),
		      "status=stopped reason=\"create: the file exists (never overwritten)\"") != NULL);
	CHECK(strcmp(slurp("target"), "") == 0);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_file_limit();   /* first: it forks, and no writer thread may run then */
	test_inbound();
	test_play_cursor();
	test_no_overwrite();
	test_queue_full();
	test_close_after_stop();
	test_call_layer();
	if (!getenv("KEEP")) check_rmdir_flat(dir);
	return check_done();
}
