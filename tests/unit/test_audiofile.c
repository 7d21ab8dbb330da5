/* test_audiofile: files written with libsndfile in a temp dir (44.1 kHz stereo WAV, FLAC,
 * 8 kHz float) decode to the right length and pitch; limits, corrupt and missing files fail. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <sndfile.h>

#include "audiofile.h"
#include "check.h"
#include "g711.h"

#define PI 3.14159265358979323846

/* Write FRAMES frames of a 1 kHz sine at RATE: CHANNELS copies, the second one negated when
 * OPPOSITE (so a correct mix-down is silence). */
static int write_file(const char *path, int format, int rate, int channels, long frames,
		      int opposite)
{
	SF_INFO info = {0};
	SNDFILE *sf;
	float *buf = malloc(sizeof(float) * (size_t)frames * (size_t)channels);
	long i;
	int c, ok;

	info.samplerate = rate;
	info.channels = channels;
	info.format = format;
	sf = sf_open(path, SFM_WRITE, &info);
	if (!sf || !buf) {
		printf("# cannot write %s: %s\n", path, sf_strerror(NULL));
		free(buf);
		return -1;
	}
	for (i = 0; i < frames; i++)
		for (c = 0; c < channels; c++) {
			float v = 0.5f * (float)sin(2 * PI * 1000 * (double)i / rate);

			buf[i * channels + c] = opposite && c == 1 ? -v : v;
		}
	ok = sf_writef_float(sf, buf, frames) == frames;
	sf_close(sf);
	free(buf);
	return ok ? 0 : -1;
}

static double crossings_hz(const uint8_t *u, size_t n)
{
	size_t i, first = 0, last = 0, count = 0;

	for (i = 101; i + 100 < n; i++)
		if (g711_ulaw_decode(u[i - 1]) < 0 && g711_ulaw_decode(u[i]) >= 0) {
			if (!count)
				first = i;
			last = i;
			count++;
		}
	return count < 2 ? 0 : (double)(count - 1) * 8000 / (double)(last - first);
}

static int peak(const uint8_t *u, size_t n)
{
	size_t i;
	int p = 0;

	for (i = 100; i + 100 < n; i++)
		if (abs(g711_ulaw_decode(u[i])) > p)
			p = abs(g711_ulaw_decode(u[i]));
	return p;
}

static int read_all(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	*data = malloc((size_t)n);
	*len = *data && fread(*data, 1, (size_t)n, f) == (size_t)n ? (size_t)n : 0;
	fclose(f);
	return *len ? 0 : -1;
}

int main(void)
{
	char dir[] = "/tmp/test_audiofile.XXXXXX", path[512], err[512];
	uint8_t *out = NULL, *data = NULL;
	size_t n = 0, len = 0;
	FILE *f;

	if (!mkdtemp(dir)) {
		CHECK_MSG(0, "mkdtemp");
		return check_done();
	}

	/* 44.1 kHz stereo, 1.5 s: 12000 samples at 8 kHz. */
	snprintf(path, sizeof(path), "%s/stereo.wav", dir);
	CHECK(write_file(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 66150, 0) == 0);
	CHECK(audiofile_decode_path(path, 1 << 20, &out, &n, err, sizeof(err)) == 0);
	printf("# stereo 44.1 kHz 1.5 s -> %zu bytes\n", n);
	CHECK_MSG(n >= 11996 && n <= 12004, "1.5 s at 44.1 kHz gives 12000 (+-4) 8 kHz samples");
	CHECK_MSG(fabs(crossings_hz(out, n) - 1000) < 3, "still a 1 kHz tone");
	CHECK_MSG(peak(out, n) > 14000 && peak(out, n) < 18500, "half scale stays half scale");
	free(out);
	out = NULL;

	/* The same bytes from memory. */
	CHECK(read_all(path, &data, &len) == 0);
	CHECK(audiofile_decode_mem(data, len, 1 << 20, &out, &n, err, sizeof(err)) == 0);
	CHECK(n >= 11996 && n <= 12004);
	free(out);
	out = NULL;

	/* Over the limit: refused, whichever way it comes. */
	CHECK(audiofile_decode_path(path, 5000, &out, &n, err, sizeof(err)) == -1);
	printf("# %s\n", err);
	CHECK(out == NULL && n == 0);
	CHECK(strstr(err, path) != NULL && strstr(err, "limit") != NULL);
	CHECK(audiofile_decode_mem(data, len, 5000, &out, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "memory") != NULL && strstr(err, "limit") != NULL);

	/* Corrupt: the header of a WAV, then garbage; and a truncated copy. */
	memcpy(data + 12, "garbage!garbage!", 16);
	CHECK(audiofile_decode_mem(data, 64, 1 << 20, &out, &n, err, sizeof(err)) == -1);
	printf("# %s\n", err);
	CHECK(strlen(err) > 30);
	snprintf(path, sizeof(path), "%s/corrupt.wav", dir);
	f = fopen(path, "wb");
	if (f) {
		fwrite("RIFF\x10\0\0\0WAVEjunkjunkjunk", 1, 24, f);
		fclose(f);
	}
	CHECK(audiofile_decode_path(path, 1 << 20, &out, &n, err, sizeof(err)) == -1);
	printf("# %s\n", err);
	CHECK(strstr(err, "corrupt.wav: ") != NULL && strlen(err) > strlen(path) + 5);
	free(data);
	data = NULL;

	/* Missing file. */
	snprintf(path, sizeof(path), "%s/missing.wav", dir);
	CHECK(audiofile_decode_path(path, 1 << 20, &out, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "missing.wav") != NULL);

	/* Opposite channels mix to silence: the channels really are averaged. */
	snprintf(path, sizeof(path), "%s/opposite.flac", dir);
	CHECK(write_file(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 2, 48000, 1) == 0);
	CHECK(audiofile_decode_path(path, 1 << 20, &out, &n, err, sizeof(err)) == 0);
	CHECK(n >= 7996 && n <= 8004);
	CHECK_MSG(peak(out, n) < 50, "left + (-left) mixes to silence (FLAC, 48 kHz)");
	free(out);
	out = NULL;

	/* 8 kHz float mono: no resampling, exact length. */
	snprintf(path, sizeof(path), "%s/float8k.wav", dir);
	CHECK(write_file(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 8000, 1, 4000, 0) == 0);
	CHECK(audiofile_decode_path(path, 4000, &out, &n, err, sizeof(err)) == 0);
	CHECK(n == 4000);
	CHECK(fabs(crossings_hz(out, n) - 1000) < 3);
	free(out);
	out = NULL;
	CHECK(audiofile_decode_path(path, 3999, &out, &n, err, sizeof(err)) == -1);

	check_rmdir_flat(dir);
	return check_done();
}
