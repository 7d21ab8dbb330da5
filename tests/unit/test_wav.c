/* test_wav: files written under a mkdtemp dir and read back: every supported format, stereo
 * mix-down, rate conversion (length and a 1 kHz tone's frequency), raw µ-law, bad files. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "g711.h"
#include "wav.h"

static char dir[] = "/tmp/test_wav.XXXXXX";
static char path[300];

/* A growing byte buffer for building WAV files by hand. */
struct bytes {
	unsigned char *p;
	size_t len;
};

static void add(struct bytes *b, const void *data, size_t n)
{
	b->p = realloc(b->p, b->len + n);
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void add16(struct bytes *b, unsigned v)
{
	unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};

	add(b, x, 2);
}

static void add32(struct bytes *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 24)};

	add(b, x, 4);
}

enum fmtkind { PCM, MULAW, EXT_PCM, EXT_MULAW };

/* RIFF WAVE with a LIST chunk before fmt, a "junk" chunk of odd size between fmt and data,
 * and the given data bytes (all real-world files have chunks we must skip). */
static struct bytes make_wav(enum fmtkind kind, unsigned channels, unsigned rate,
			     unsigned bits, const void *data, size_t datalen)
{
	struct bytes b = {NULL, 0};
	unsigned tag = kind == MULAW ? 7 : kind == PCM ? 1 : 0xfffe;
	static const unsigned char tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
					       0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};

	add(&b, "RIFF", 4);
	add32(&b, 0);   /* fixed below */
	add(&b, "WAVE", 4);
	add(&b, "LIST", 4);
	add32(&b, 10);
	add(&b, "INFOISFT\0\0", 10);
	add(&b, "fmt ", 4);
	add32(&b, tag == 0xfffe ? 40 : 16);
	add16(&b, tag);
	add16(&b, channels);
	add32(&b, rate);
	add32(&b, rate * channels * bits / 8);
	add16(&b, channels * bits / 8);
	add16(&b, bits);
	if (tag == 0xfffe) {
		add16(&b, 22);
		add16(&b, bits);
		add32(&b, channels == 2 ? 3 : 4);
		add16(&b, kind == EXT_MULAW ? 7 : 1);
		add(&b, tail, sizeof(tail));
	}
	add(&b, "junk", 4);
	add32(&b, 3);
	add(&b, "abc\0", 4);   /* odd size: one pad byte */
	add(&b, "data", 4);
	add32(&b, (uint32_t)datalen);
	add(&b, data, datalen);
	b.p[4] = (unsigned char)(b.len - 8);
	b.p[5] = (unsigned char)((b.len - 8) >> 8);
	b.p[6] = (unsigned char)((b.len - 8) >> 16);
	b.p[7] = (unsigned char)((b.len - 8) >> 24);
	return b;
}

static void write_bytes(const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	fwrite(p, 1, n, fp);
	fclose(fp);
}

static int load(int16_t **s, size_t *n, char *err)
{
	return wav_load_8k(path, s, n, err, 256);
}

static void test_formats(void)
{
	int16_t pcm16[6] = {0, 1000, -1000, 32767, -32768, 12345};
	unsigned char pcm8[4] = {128, 255, 0, 192};
	unsigned char ulaw[4] = {0xff, 0x80, 0x00, 0x7e};
	unsigned char le[12];
	int16_t *s;
	size_t n, i;
	char err[256];
	struct bytes b;

	for (i = 0; i < 6; i++) {
		le[2 * i] = (unsigned char)pcm16[i];
		le[2 * i + 1] = (unsigned char)((uint16_t)pcm16[i] >> 8);
	}
	b = make_wav(PCM, 1, 8000, 16, le, 12);
	write_bytes(b.p, b.len);
	free(b.p);
	CHECK(load(&s, &n, err) == 0 && n == 6 && memcmp(s, pcm16, sizeof(pcm16)) == 0);
	free(s);

	b = make_wav(EXT_PCM, 1, 8000, 16, le, 12);
	write_bytes(b.p, b.len);
	free(b.p);
	CHECK_MSG(load(&s, &n, err) == 0 && n == 6 && memcmp(s, pcm16, sizeof(pcm16)) == 0,
		  "WAVE_FORMAT_EXTENSIBLE PCM16 read exactly");
	free(s);

	b = make_wav(PCM, 1, 8000, 8, pcm8, 4);
	write_bytes(b.p, b.len);
	free(b.p);
	CHECK_MSG(load(&s, &n, err) == 0 && n == 4 && s[0] == 0 && s[1] == 127 * 256 &&
		  s[2] == -32768 && s[3] == 64 * 256, "8-bit unsigned PCM");
	free(s);

	b = make_wav(MULAW, 1, 8000, 8, ulaw, 4);
	write_bytes(b.p, b.len);
	free(b.p);
	CHECK_MSG(load(&s, &n, err) == 0 && n == 4 && s[0] == 0 && s[1] == 32124 &&
		  s[2] == -32124 && s[3] == -8, "µ-law (format 7)");
	free(s);

	b = make_wav(EXT_MULAW, 1, 8000, 8, ulaw, 4);
	write_bytes(b.p, b.len);
	free(b.p);
	CHECK_MSG(load(&s, &n, err) == 0 && n == 4 && s[1] == 32124, "extensible µ-law");
	free(s);

	/* Stereo: the mean of the two channels. */
	{
		int16_t st[6] = {1000, 3000, -2000, 2000, 32767, 32767};
		unsigned char stle[12];

		for (i = 0; i < 6; i++) {
			stle[2 * i] = (unsigned char)st[i];
			stle[2 * i + 1] = (unsigned char)((uint16_t)st[i] >> 8);
		}
		b = make_wav(PCM, 2, 8000, 16, stle, 12);
		write_bytes(b.p, b.len);
		free(b.p);
		CHECK_MSG(load(&s, &n, err) == 0 && n == 3 && s[0] == 2000 && s[1] == 0 &&
			  s[2] == 32767, "stereo PCM16 mixed down");
		free(s);
		b = make_wav(PCM, 2, 8000, 8, (unsigned char[]){128, 192, 0, 255}, 4);
		write_bytes(b.p, b.len);
		free(b.p);
		CHECK_MSG(load(&s, &n, err) == 0 && n == 2 && s[0] == 32 * 256 && s[1] == -128,
			  "stereo 8-bit mixed down");
		free(s);
	}
	/* A partial frame at the end of the data is ignored. */
	b = make_wav(PCM, 1, 8000, 16, le, 11);
	write_bytes(b.p, b.len);
	free(b.p);
	CHECK(load(&s, &n, err) == 0 && n == 5);
	free(s);
	/* No samples at all is a valid, empty result. */
	b = make_wav(PCM, 1, 8000, 16, le, 0);
	write_bytes(b.p, b.len);
	free(b.p);
	CHECK(load(&s, &n, err) == 0 && n == 0 && s != NULL);
	free(s);
}

/* Zero crossings (sign changes) of S. */
static size_t crossings(const int16_t *s, size_t n)
{
	size_t i, c = 0;

	for (i = 1; i < n; i++)
		if ((s[i - 1] < 0) != (s[i] < 0))
			c++;
	return c;
}

static void tone_file(unsigned rate, unsigned channels, size_t frames, double hz)
{
	size_t i, ch;
	unsigned char *d = malloc(frames * channels * 2);
	struct bytes b;

	for (i = 0; i < frames; i++) {
		/* A quarter-step phase offset keeps samples off exact zero. */
		int16_t v = (int16_t)lrint(16000 * sin(2 * M_PI * hz * ((double)i + 0.25) / rate));

		for (ch = 0; ch < channels; ch++) {
			d[(i * channels + ch) * 2] = (unsigned char)v;
			d[(i * channels + ch) * 2 + 1] = (unsigned char)((uint16_t)v >> 8);
		}
	}
	b = make_wav(PCM, channels, rate, 16, d, frames * channels * 2);
	write_bytes(b.p, b.len);
	free(b.p);
	free(d);
}

static void test_rates(void)
{
	static const unsigned rates[] = {4000, 8000, 11025, 16000, 22050, 44100, 48000, 96000,
					 192000};
	size_t i;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		int16_t *s;
		size_t n, want = 8000, cross;
		char err[256], msg[128];

		/* One second of 1 kHz: 8000 samples back, about 2000 zero crossings. */
		tone_file(rates[i], i % 2 ? 2 : 1, rates[i], 1000);
		snprintf(msg, sizeof(msg), "%u Hz %s: 8000 samples", rates[i],
			 i % 2 ? "stereo" : "mono");
		CHECK_MSG(load(&s, &n, err) == 0 && n == want, msg);
		cross = s ? crossings(s, n) : 0;
		snprintf(msg, sizeof(msg), "%u Hz: 1 kHz tone keeps its frequency (%zu crossings)",
			 rates[i], cross);
		CHECK_MSG(cross >= 1990 && cross <= 2010, msg);
		free(s);
	}
	/* A 16 kHz file of N samples comes back as N/2 (odd N: rounded up). */
	{
		int16_t *s;
		size_t n;
		char err[256];

		tone_file(16000, 1, 8000, 440);
		CHECK(load(&s, &n, err) == 0 && n == 4000);
		free(s);
		tone_file(16000, 1, 1001, 440);
		CHECK(load(&s, &n, err) == 0 && n == 501);
		free(s);
	}
	/* Linear interpolation: a 4 kHz ramp doubles in length with midpoints in between. */
	{
		unsigned char d[8];
		int16_t *s, vals[4] = {0, 1000, 2000, 3000};
		size_t n, k;
		char err[256];
		struct bytes b;

		for (k = 0; k < 4; k++) {
			d[2 * k] = (unsigned char)vals[k];
			d[2 * k + 1] = (unsigned char)(vals[k] >> 8);
		}
		b = make_wav(PCM, 1, 4000, 16, d, 8);
		write_bytes(b.p, b.len);
		free(b.p);
		CHECK(load(&s, &n, err) == 0 && n == 8);
		CHECK(s && s[1] == 500 && s[2] == 1000 && s[5] == 2500 && s[6] == 3000 &&
		      s[7] == 3000);
		free(s);
	}
}

static void test_raw(void)
{
	unsigned char raw[5] = {0xff, 0x80, 0x00, 0x7e, 0xfe};
	int16_t *s;
	size_t n;
	char err[256];

	write_bytes(raw, 5);
	CHECK_MSG(load(&s, &n, err) == 0 && n == 5 && s[0] == 0 && s[1] == 32124 &&
		  s[2] == -32124 && s[3] == -8 && s[4] == 8, "a file without RIFF is raw µ-law");
	free(s);
	write_bytes("RIFF\0\0\0\0AVI ", 12);
	CHECK_MSG(load(&s, &n, err) == 0 && n == 12, "RIFF but not WAVE is raw too");
	free(s);
	write_bytes("", 0);
	CHECK(load(&s, &n, err) == 0 && n == 0);
	free(s);
}

/* Bad files and the message each gives (after "PATH: "). */
static void test_bad(void)
{
	int16_t *s = (int16_t *)1;
	size_t n = 99;
	char err[256], want[400];
	struct bytes b;
	unsigned char le[8] = {0};

	b = make_wav(PCM, 1, 8000, 16, le, 8);
	write_bytes(b.p, b.len - 1);   /* the data chunk is one byte short */
	CHECK(load(&s, &n, err) == -1 && s == NULL && n == 0);
	snprintf(want, sizeof(want), "%s: truncated: the data chunk claims 8 bytes, the file holds 7",
		 path);
	CHECK_STR(err, want);
	write_bytes(b.p, 44);   /* cut inside the fmt chunk */
	CHECK(load(&s, &n, err) == -1);
	snprintf(want, sizeof(want), "%s: truncated: chunk \"fmt \" claims 16 bytes, the file holds 6",
		 path);
	CHECK_STR(err, want);
	write_bytes(b.p, 30);   /* RIFF header and the LIST chunk only */
	CHECK(load(&s, &n, err) == -1);
	snprintf(want, sizeof(want), "%s: no data chunk", path);
	CHECK_STR(err, want);
	free(b.p);

	/* A chunk size near 4 GiB is bounded by the file, not trusted. */
	b = make_wav(PCM, 1, 8000, 16, le, 8);
	b.p[16] = b.p[17] = b.p[18] = b.p[19] = 0xff;   /* the LIST chunk's size */
	write_bytes(b.p, b.len);
	CHECK(load(&s, &n, err) == -1);
	CHECK(strstr(err, "truncated: chunk \"LIST\" claims 4294967295 bytes") != NULL);
	free(b.p);

	{
		static const struct {
			enum fmtkind kind;
			unsigned ch, rate, bits;
			const char *msg;
		} fmts[] = {
			{PCM, 3, 8000, 16, "3 channels (1 or 2 only)"},
			{PCM, 0, 8000, 16, "0 channels (1 or 2 only)"},
			{PCM, 1, 3999, 16, "sample rate 3999 Hz out of range (4000 .. 192000)"},
			{PCM, 1, 192001, 16, "sample rate 192001 Hz out of range (4000 .. 192000)"},
			{PCM, 1, 8000, 24, "unsupported PCM sample size 24 bits (8 or 16 only)"},
			{MULAW, 1, 8000, 16, "µ-law with 16 bits per sample (must be 8)"},
		};
		size_t i;

		for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
			b = make_wav(fmts[i].kind, fmts[i].ch, fmts[i].rate, fmts[i].bits, le, 8);
			write_bytes(b.p, b.len);
			free(b.p);
			snprintf(want, sizeof(want), "%s: %s", path, fmts[i].msg);
			CHECK_MSG(load(&s, &n, err) == -1, fmts[i].msg);
			CHECK_STR(err, want);
		}
	}
	/* A-law (6) and float (3) are refused by name. */
	b = make_wav(PCM, 1, 8000, 8, le, 8);
	b.p[8 + 4 + 18 + 8] = 6;   /* the format tag, after RIFF header, LIST chunk, fmt header */
	write_bytes(b.p, b.len);
	free(b.p);
	CHECK(load(&s, &n, err) == -1);
	snprintf(want, sizeof(want), "%s: unsupported format 6 (PCM and µ-law only)", path);
	CHECK_STR(err, want);
	/* data before fmt. */
	{
		struct bytes d = {NULL, 0};

		add(&d, "RIFF\x24\0\0\0WAVEdata\x04\0\0\0\0\0\0\0", 24);
		write_bytes(d.p, d.len);
		free(d.p);
		CHECK(load(&s, &n, err) == -1);
		snprintf(want, sizeof(want), "%s: data chunk before the fmt chunk", path);
		CHECK_STR(err, want);
	}
	/* Missing file. */
	{
		char missing[320];

		snprintf(missing, sizeof(missing), "%s/missing.wav", dir);
		CHECK(wav_load_8k(missing, &s, &n, err, sizeof(err)) == -1);
		snprintf(want, sizeof(want), "%s: No such file or directory", missing);
		CHECK_STR(err, want);
		CHECK(wav_load_8k(dir, &s, &n, err, sizeof(err)) == -1);
		snprintf(want, sizeof(want), "%s: not a regular file", dir);
		CHECK_STR(err, want);
	}
}

/* Over one hour at 8 kHz is refused before any sample is read or any memory allocated;
 * a sparse file makes this cheap. */
static void test_too_long(void)
{
	int16_t *s;
	size_t n;
	char err[256];
	struct bytes b;
	FILE *fp;
	uint32_t bytes = (WAV_MAX_SAMPLES_8K + 1) * 2;

	b = make_wav(PCM, 1, 8000, 16, "", 0);
	b.p[b.len - 4] = (unsigned char)bytes;
	b.p[b.len - 3] = (unsigned char)(bytes >> 8);
	b.p[b.len - 2] = (unsigned char)(bytes >> 16);
	b.p[b.len - 1] = (unsigned char)(bytes >> 24);
	fp = fopen(path, "wb");
	fwrite(b.p, 1, b.len, fp);
	fseek(fp, (long)bytes - 1, SEEK_CUR);
	fputc(0, fp);
	fclose(fp);
	free(b.p);
	CHECK(load(&s, &n, err) == -1);
	CHECK(strstr(err, ": too long (3600 s at 8 kHz; at most 3600 s)") != NULL);
	unlink(path);
}

static void test_write(void)
{
	int16_t in[1000], *s;
	size_t n, i;
	char err[256];
	unsigned char hdr[44];
	FILE *fp;

	for (i = 0; i < 1000; i++)
		in[i] = (int16_t)(i * 65 - 32768);
	CHECK(wav_write_8k(path, in, 1000, err, sizeof(err)) == 0);
	fp = fopen(path, "rb");
	CHECK(fp && fread(hdr, 1, 44, fp) == 44);
	if (fp)
		fclose(fp);
	CHECK(memcmp(hdr, "RIFF", 4) == 0 && memcmp(hdr + 8, "WAVEfmt ", 8) == 0 &&
	      memcmp(hdr + 36, "data", 4) == 0);
	CHECK(hdr[4] == (unsigned char)(2036 & 0xff) && hdr[5] == 2036 >> 8);   /* 36 + 2000 */
	CHECK(hdr[20] == 1 && hdr[22] == 1 && hdr[24] == 0x40 && hdr[25] == 0x1f);   /* 8000 */
	CHECK(hdr[32] == 2 && hdr[34] == 16 && hdr[40] == 0xd0 && hdr[41] == 0x07);   /* 2000 */
	CHECK(load(&s, &n, err) == 0 && n == 1000 && memcmp(s, in, sizeof(in)) == 0);
	free(s);
	CHECK(wav_write_8k(path, NULL, 0, err, sizeof(err)) == 0);
	CHECK(load(&s, &n, err) == 0 && n == 0);
	free(s);
	{
		char bad[320], want[400];

		snprintf(bad, sizeof(bad), "%s/no/such/dir.wav", dir);
		CHECK(wav_write_8k(bad, in, 10, err, sizeof(err)) == -1);
		snprintf(want, sizeof(want), "%s: No such file or directory", bad);
		CHECK_STR(err, want);
	}
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/test.wav", dir);
	test_formats();
	test_rates();
	test_raw();
	test_bad();
	test_too_long();
	test_write();
	unlink(path);
	rmdir(dir);
	return check_done();
}
