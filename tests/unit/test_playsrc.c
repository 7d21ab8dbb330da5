/* test_playsrc: <Play> sources: media_dir confinement (.., absolute, symlinks), decoding a
 * 44.1 kHz WAV, URLs through the stub's --static server, the disk cache and its bound. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <sndfile.h>

#include "check.h"
#include "stub.h"
#include "config.h"
#include "playsrc.h"

#define STUB "tests/stubs/openai_speech.py"   /* tests/run runs from the repo root */

/* The stub serving DIR (--static), on a port it picks. */
static int static_stub(struct stub *s, const char *dir)
{
	const char *argv[] = {STUB, "--port", "0", "--static", dir, NULL};

	return stub_start(s, argv);
}

/* SECONDS of a 440 Hz tone at RATE Hz, CHANNELS channels, as 16-bit WAV. */
static int write_wav(const char *path, int rate, int channels, double seconds)
{
	SF_INFO info = {.samplerate = rate, .channels = channels,
			.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	sf_count_t frames = (sf_count_t)(rate * seconds);
	short *buf;

	if (!f)
		return -1;
	buf = calloc((size_t)frames * (size_t)channels, sizeof(*buf));
	for (sf_count_t i = 0; buf && i < frames; i++)
		for (int c = 0; c < channels; c++)
			buf[i * channels + c] = (short)(8000 * sin(2 * M_PI * 440 * (double)i / rate));
	int ok = buf && sf_writef_short(f, buf, frames) == frames;
	free(buf);
	sf_close(f);
	return ok ? 0 : -1;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void cache_path(const char *dir, const char *url, char *out, size_t cap)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char hex[65];

	EVP_Digest(url, strlen(url), md, &len, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < len && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(out, cap, "%s/%s", dir, hex);
}

static void age(const char *path, int seconds_ago)
{
	struct timespec ts[2];
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= seconds_ago;
	ts[1] = ts[0];
	utimensat(AT_FDCWD, path, ts, 0);
}

static int load(const struct config *cfg, const char *src, size_t *n, int *cached, char *err,
		size_t errlen)
{
	uint8_t *out = NULL;
	int r = playsrc_load(cfg, src, &out, n, cached, err, errlen);
	CHECK_MSG(r == 0 ? out != NULL : out == NULL, "output set exactly on success");
	free(out);
	return r;
}

static char root[256], media[300], cache[300], web[300], outside[300];

static void test_local(struct config *cfg)
{
	char err[256], p[600];
	size_t n;
	int cached;

	snprintf(p, sizeof(p), "%s/tone.wav", media);
	CHECK(write_wav(p, 44100, 1, 1.0) == 0);
	snprintf(p, sizeof(p), "%s/sub", media);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sub/stereo.wav", media);
	CHECK(write_wav(p, 48000, 2, 0.5) == 0);
	CHECK(write_wav(outside, 8000, 1, 0.2) == 0);
	snprintf(p, sizeof(p), "%s/escape.wav", media);
	CHECK(symlink(outside, p) == 0);
	snprintf(p, sizeof(p), "%s/alias.wav", media);
	CHECK(symlink("tone.wav", p) == 0);
	snprintf(p, sizeof(p), "%s/sub/up", media);
	CHECK(symlink("../..", p) == 0);
	snprintf(p, sizeof(p), "%s/notes.txt", media);
	write_text(p, "not audio at all\n");

	CHECK(load(cfg, "tone.wav", &n, &cached, err, sizeof(err)) == 0);
	printf("# 1 s at 44.1 kHz -> %zu bytes of 8 kHz\n", n);
	CHECK(n >= 7950 && n <= 8050);
	CHECK(cached == 0);
	CHECK(load(cfg, "sub/stereo.wav", &n, &cached, err, sizeof(err)) == 0);
	CHECK(n >= 3950 && n <= 4050);
	CHECK(load(cfg, "./sub//stereo.wav", &n, &cached, err, sizeof(err)) == 0);
	CHECK(load(cfg, "alias.wav", &n, &cached, err, sizeof(err)) == 0);   /* stays inside */

	static const char *const refused[] = {
		"../x.wav", "/etc/passwd", "sub/../../x.wav", "..", "escape.wav",
		"sub/up/outside.wav", "sub/..", "a/../tone.wav",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char want[128], msg[160];
		int r = load(cfg, refused[i], &n, &cached, err, sizeof(err));
		snprintf(want, sizeof(want), "\"%s\" is outside [agent] media_dir", refused[i]);
		snprintf(msg, sizeof(msg), "%s refused as outside media_dir", refused[i]);
		CHECK_MSG(r == -1 && strcmp(err, want) == 0, msg);
		if (r != -1 || strcmp(err, want) != 0)
			printf("#   err: %s\n", err);
	}
	CHECK(load(cfg, "nope.wav", &n, &cached, err, sizeof(err)) == -1);
	CHECK(strstr(err, "No such file") != NULL);
	CHECK(load(cfg, "sub", &n, &cached, err, sizeof(err)) == -1);
	CHECK(strstr(err, "not a regular file") != NULL);
	CHECK(load(cfg, "notes.txt", &n, &cached, err, sizeof(err)) == -1);
	printf("#   err: %s\n", err);
	CHECK(load(cfg, "", &n, &cached, err, sizeof(err)) == -1);
	/* Control characters never reach the error text. */
	CHECK(load(cfg, "../\n\x1b[31m", &n, &cached, err, sizeof(err)) == -1);
	CHECK(strchr(err, '\n') == NULL && strchr(err, '\x1b') == NULL);
}

static void test_url(struct config *cfg)
{
	struct stub s;
	char err[256], url[256], p[600], cp[700];
	size_t n;
	int cached;
	struct stat st;

	snprintf(p, sizeof(p), "%s/tone.wav", web);
	CHECK(write_wav(p, 44100, 1, 1.0) == 0);
	snprintf(p, sizeof(p), "%s/page.html", web);
	write_text(p, "<html>not audio</html>\n");
	CHECK(static_stub(&s, web) == 0);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/tone.wav", s.port);
	CHECK(load(cfg, url, &n, &cached, err, sizeof(err)) == 0);
	CHECK(n >= 7950 && n <= 8050);
	CHECK(cached == 0);
	CHECK(stat(cache, &st) == 0 && (st.st_mode & 07777) == 0750);
	cache_path(cache, url, cp, sizeof(cp));
	CHECK(stat(cp, &st) == 0 && (st.st_mode & 07777) == 0640);
	CHECK(load(cfg, url, &n, &cached, err, sizeof(err)) == 0);
	CHECK(cached == 1);
	CHECK(n >= 7950 && n <= 8050);

	/* 404, redirects (3 followed, a 4th refused), non-audio. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/missing.wav", s.port);
	CHECK(load(cfg, url, &n, &cached, err, sizeof(err)) == -1);
	CHECK(strstr(err, "HTTP 404") != NULL);
	printf("#   err: %s\n", err);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/redirect/2/tone.wav", s.port);
	CHECK(load(cfg, url, &n, &cached, err, sizeof(err)) == 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/redirect/3/tone.wav", s.port);
	CHECK(load(cfg, url, &n, &cached, err, sizeof(err)) == -1);
	printf("#   err: %s\n", err);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/page.html", s.port);
	CHECK(load(cfg, url, &n, &cached, err, sizeof(err)) == -1);
	cache_path(cache, url, cp, sizeof(cp));
	CHECK_MSG(access(cp, F_OK) != 0, "a body that does not decode is not cached");
	/* Over play_max_bytes. */
	cfg->play_max_bytes = 4096;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/tone.wav?big", s.port);
	CHECK(load(cfg, url, &n, &cached, err, sizeof(err)) == -1);
	CHECK(strstr(err, "over 4096 bytes") != NULL);
	printf("#   err: %s\n", err);
	cfg->play_max_bytes = 16u << 20;
	CHECK(load(cfg, "ftp://127.0.0.1/x.wav", &n, &cached, err, sizeof(err)) == -1);
	CHECK(strstr(err, "only http:// and https://") != NULL);
	CHECK(load(cfg, "file:///etc/passwd", &n, &cached, err, sizeof(err)) == -1);

	/* The cache bound: room for two 88 KB files; the least recently used goes. */
	char ua[4][256], pa[4][700];
	for (int i = 0; i < 4; i++) {
		snprintf(ua[i], sizeof(ua[i]), "http://127.0.0.1:%d/tone.wav?v=%d", s.port, i);
		cache_path(cache, ua[i], pa[i], sizeof(pa[i]));
	}
	check_rmdir_flat(cache);
	cfg->play_cache_bytes = 2 * 88244 + 1000;
	CHECK(load(cfg, ua[0], &n, &cached, err, sizeof(err)) == 0);
	age(pa[0], 30);
	CHECK(load(cfg, ua[1], &n, &cached, err, sizeof(err)) == 0);
	age(pa[1], 20);
	CHECK(load(cfg, ua[2], &n, &cached, err, sizeof(err)) == 0);
	CHECK_MSG(access(pa[0], F_OK) != 0, "the oldest file was evicted");
	CHECK(access(pa[1], F_OK) == 0 && access(pa[2], F_OK) == 0);
	/* A hit refreshes: [1] is used again, so [2] is the one to go when [3] arrives. */
	age(pa[2], 10);
	CHECK(load(cfg, ua[1], &n, &cached, err, sizeof(err)) == 0 && cached == 1);
	CHECK(load(cfg, ua[3], &n, &cached, err, sizeof(err)) == 0);
	CHECK(access(pa[1], F_OK) == 0 && access(pa[3], F_OK) == 0);
	CHECK_MSG(access(pa[2], F_OK) != 0, "the least recently used file was evicted");

	/* The server gone: the cache still answers; an uncached URL fails. */
	stub_stop(&s);
	CHECK(load(cfg, ua[3], &n, &cached, err, sizeof(err)) == 0);
	CHECK(cached == 1);
	CHECK(n >= 7950 && n <= 8050);
	CHECK(load(cfg, ua[0], &n, &cached, err, sizeof(err)) == -1);
	printf("#   err: %s\n", err);
	/* No temp file left behind. */
	DIR *d = opendir(cache);
	struct dirent *e;
	int tmp = 0;
	while (d && (e = readdir(d)))
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			tmp++;
	if (d)
		closedir(d);
	CHECK(tmp == 0);
}

int main(void)
{
	static struct config cfg;
	char p[600];

	curl_global_init(CURL_GLOBAL_DEFAULT);   /* the program's job, before any thread */
	config_defaults(&cfg);
	if (access(STUB, R_OK) != 0) {
		CHECK_MSG(0, "tests/stubs/openai_speech.py is reachable (run from the repo root)");
		return check_done();
	}
	snprintf(root, sizeof(root), "/tmp/callpipe-playsrc-XXXXXX");
	if (!mkdtemp(root)) {
		CHECK_MSG(0, "mkdtemp");
		return check_done();
	}
	snprintf(media, sizeof(media), "%s/media", root);
	snprintf(cache, sizeof(cache), "%s/cache/play", root);
	snprintf(web, sizeof(web), "%s/web", root);
	snprintf(outside, sizeof(outside), "%s/outside.wav", root);
	mkdir(media, 0755);
	mkdir(web, 0755);
	snprintf(cfg.media_dir, sizeof(cfg.media_dir), "%s", media);
	snprintf(cfg.play_cache_dir, sizeof(cfg.play_cache_dir), "%s", cache);
	cfg.tts_timeout_ms = 5000;

	test_local(&cfg);
	test_url(&cfg);

	snprintf(p, sizeof(p), "%s/sub", media);
	check_rmdir_flat(p);
	check_rmdir_flat(media);
	check_rmdir_flat(web);
	check_rmdir_flat(cache);
	snprintf(p, sizeof(p), "%s/cache", root);
	rmdir(p);
	check_rmdir_flat(root);
	curl_global_cleanup();
	return check_done();
}
