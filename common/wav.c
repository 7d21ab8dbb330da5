/* wav: RIFF WAVE reading (PCM 8/16-bit, µ-law, WAVE_FORMAT_EXTENSIBLE; 1 or 2 channels; any
 * rate from 4 to 192 kHz) into 8 kHz mono samples, raw µ-law files, and 8 kHz PCM16 output. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "g711.h"
#include "strutil.h"
#include "wav.h"

#define WAVE_FORMAT_PCM 0x0001
#define WAVE_FORMAT_MULAW 0x0007
#define WAVE_FORMAT_EXTENSIBLE 0xfffe
#define RATE_MIN 4000
#define RATE_MAX 192000
#define OUT_RATE 8000

/* The GUID of WAVE_FORMAT_EXTENSIBLE's SubFormat after its first two bytes (the format tag):
 * xxxxxxxx-0000-0010-8000-00aa00389b71 (mmreg.h KSDATAFORMAT_SUBTYPE_*). */
static const uint8_t guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
				      0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Buffered reader of the data chunk that yields one mono sample per frame. */
struct src {
	FILE *fp;
	unsigned format, channels, bytes;   /* bytes per sample: 1 or 2 */
	uint64_t frames, pos;               /* frames in the chunk, frames read */
	uint8_t buf[8192];
	size_t have, off;
	int ioerr;
};

static int src_next(struct src *s, int *out)
{
	size_t fsize = (size_t)s->channels * s->bytes;
	int ch, sum = 0;

	if (s->pos >= s->frames)
		return -1;
	if (s->have - s->off < fsize) {
		uint64_t left = (s->frames - s->pos) * fsize;
		size_t want = sizeof(s->buf) / fsize * fsize, got;

		if (want > left)
			want = (size_t)left;
		got = fread(s->buf, 1, want, s->fp);
		if (got < fsize) {
			s->ioerr = 1;
			return -1;
		}
		s->have = got;
		s->off = 0;
	}
	for (ch = 0; ch < (int)s->channels; ch++) {
		const uint8_t *p = s->buf + s->off + (size_t)ch * s->bytes;

		if (s->format == WAVE_FORMAT_MULAW)
			sum += g711_ulaw_decode(p[0]);
		else if (s->bytes == 1)
			sum += (p[0] - 128) * 256;   /* 8-bit PCM is unsigned, 128 is silence */
		else
			sum += (int16_t)le16(p);
	}
	s->off += fsize;
	s->pos++;
	*out = sum / (int)s->channels;   /* stereo: the mean of both channels */
	return 0;
}

/* Resample the data chunk to OUT_RATE with linear interpolation into a new array. */
static int convert(struct src *s, unsigned rate, int16_t **out, size_t *n, const char *path,
		   char *err, size_t errlen)
{
	uint64_t nout, j, idx = 0;
	int16_t *o;
	int a = 0, b = 0, have_b;

	/* ceil(frames * 8000 / rate): the last output sample still lies inside the input. */
	nout = (s->frames * OUT_RATE + rate - 1) / rate;
	if (nout > WAV_MAX_SAMPLES_8K) {
		strutil_seterr(err, errlen, "%s: too long (%llu s at 8 kHz; at most %u s)", path,
			       (unsigned long long)(nout / OUT_RATE),
			       WAV_MAX_SAMPLES_8K / OUT_RATE);
		return -1;
	}
	o = malloc((size_t)(nout ? nout : 1) * sizeof(*o));
	if (!o) {
		strutil_seterr(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if (nout) {
		if (src_next(s, &a) != 0)
			goto ioerr;
		have_b = src_next(s, &b) == 0;
		if (!have_b && s->ioerr)
			goto ioerr;
		for (j = 0; j < nout; j++) {
			uint64_t num = j * rate, want = num / OUT_RATE;
			int frac = (int)(num % OUT_RATE), v;

			while (idx < want && have_b) {   /* advance so that a = x[want] */
				a = b;
				idx++;
				have_b = src_next(s, &b) == 0;
				if (!have_b && s->ioerr)
					goto ioerr;
			}
			v = have_b ? a + (int)(((long long)(b - a) * frac) / OUT_RATE) : a;
			o[j] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
		}
	}
	*out = o;
	*n = (size_t)nout;
	return 0;
ioerr:
	free(o);
	strutil_seterr(err, errlen, "%s: read error in the data chunk", path);
	return -1;
}

/* A file that is not RIFF WAVE: raw µ-law at 8 kHz, one byte per sample. */
static int load_raw(FILE *fp, uint64_t size, const char *path, int16_t **out, size_t *n,
		    char *err, size_t errlen)
{
	uint8_t buf[8192];
	int16_t *o;
	size_t i = 0, got, k;

	if (size > WAV_MAX_SAMPLES_8K) {
		strutil_seterr(err, errlen, "%s: too long for raw µ-law (%llu bytes; at most %u)",
			       path, (unsigned long long)size, WAV_MAX_SAMPLES_8K);
		return -1;
	}
	o = malloc((size_t)(size ? size : 1) * sizeof(*o));
	if (!o) {
		strutil_seterr(err, errlen, "%s: out of memory", path);
		return -1;
	}
	rewind(fp);
	while (i < size && (got = fread(buf, 1, sizeof(buf), fp)) > 0) {
		for (k = 0; k < got && i < size; k++)
			o[i++] = g711_ulaw_decode(buf[k]);
	}
	if (i != size) {
		free(o);
		strutil_seterr(err, errlen, "%s: read error", path);
		return -1;
	}
	*out = o;
	*n = i;
	return 0;
}

/* Parse the fmt chunk (BODY, LEN bytes) into S and *RATE. */
static int parse_fmt(const uint8_t *body, uint32_t len, struct src *s, unsigned *rate,
		     const char *path, char *err, size_t errlen)
{
	unsigned format, bits, align;

	if (len < 16) {
		strutil_seterr(err, errlen, "%s: fmt chunk too short (%u bytes)", path, len);
		return -1;
	}
	format = le16(body);
	s->channels = le16(body + 2);
	*rate = le32(body + 4);
	align = le16(body + 12);
	bits = le16(body + 14);
	if (format == WAVE_FORMAT_EXTENSIBLE) {
		/* cbSize (2), wValidBitsPerSample (2), dwChannelMask (4), SubFormat GUID (16). */
		if (len < 40 || le16(body + 16) < 22) {
			strutil_seterr(err, errlen,
				       "%s: WAVE_FORMAT_EXTENSIBLE fmt chunk too short", path);
			return -1;
		}
		if (memcmp(body + 26, guid_tail, sizeof(guid_tail)) != 0) {
			strutil_seterr(err, errlen,
				       "%s: unsupported WAVE_FORMAT_EXTENSIBLE sub-format", path);
			return -1;
		}
		format = le16(body + 24);
	}
	if (format != WAVE_FORMAT_PCM && format != WAVE_FORMAT_MULAW) {
		strutil_seterr(err, errlen, "%s: unsupported format %u (PCM and µ-law only)", path,
			       format);
		return -1;
	}
	if (format == WAVE_FORMAT_PCM && bits != 8 && bits != 16) {
		strutil_seterr(err, errlen, "%s: unsupported PCM sample size %u bits "
			       "(8 or 16 only)", path, bits);
		return -1;
	}
	if (format == WAVE_FORMAT_MULAW && bits != 8) {
		strutil_seterr(err, errlen, "%s: µ-law with %u bits per sample (must be 8)", path,
			       bits);
		return -1;
	}
	if (s->channels != 1 && s->channels != 2) {
		strutil_seterr(err, errlen, "%s: %u channels (1 or 2 only)", path, s->channels);
		return -1;
	}
	if (*rate < RATE_MIN || *rate > RATE_MAX) {
		strutil_seterr(err, errlen, "%s: sample rate %u Hz out of range (%d .. %d)", path,
			       *rate, RATE_MIN, RATE_MAX);
		return -1;
	}
	s->format = format;
	s->bytes = bits / 8;
	if (align != s->channels * s->bytes) {
		strutil_seterr(err, errlen,
			       "%s: block align %u does not match %u channel(s) of %u bits", path,
			       align, s->channels, bits);
		return -1;
	}
	return 0;
}

int wav_load_8k(const char *path, int16_t **out, size_t *nsamples, char *err, size_t errlen)
{
	uint8_t hdr[12], ch[8], fmtbody[64];
	struct src *s = NULL;
	struct stat st;
	uint64_t size, pos = 12;
	unsigned rate = 0;
	int have_fmt = 0, rc = -1;
	FILE *fp;

	*out = NULL;
	*nsamples = 0;
	if (err && errlen)
		err[0] = '\0';
	fp = fopen(path, "rb");
	if (!fp) {
		strutil_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
		strutil_seterr(err, errlen, "%s: not a regular file", path);
		goto done;
	}
	size = (uint64_t)st.st_size;
	if (size < 12 || fread(hdr, 1, 12, fp) != 12 || memcmp(hdr, "RIFF", 4) != 0 ||
	    memcmp(hdr + 8, "WAVE", 4) != 0) {
		rc = load_raw(fp, size, path, out, nsamples, err, errlen);
		goto done;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		strutil_seterr(err, errlen, "%s: out of memory", path);
		goto done;
	}
	s->fp = fp;
	/* Walk the chunks: id (4), size (4, little-endian), body, a pad byte if size is odd. */
	for (;;) {
		uint32_t len;

		if (pos + 8 > size) {
			strutil_seterr(err, errlen, "%s: no data chunk", path);
			goto done;
		}
		if (fread(ch, 1, 8, fp) != 8) {
			strutil_seterr(err, errlen, "%s: read error", path);
			goto done;
		}
		len = le32(ch + 4);
		pos += 8;
		if (memcmp(ch, "data", 4) == 0) {
			if (!have_fmt) {
				strutil_seterr(err, errlen, "%s: data chunk before the fmt chunk",
					       path);
				goto done;
			}
			if ((uint64_t)len > size - pos) {
				strutil_seterr(err, errlen, "%s: truncated: the data chunk claims "
					       "%u bytes, the file holds %llu", path, len,
					       (unsigned long long)(size - pos));
				goto done;
			}
			/* A partial frame at the end (a sloppy writer) is ignored. */
			s->frames = len / ((uint64_t)s->channels * s->bytes);
			rc = convert(s, rate, out, nsamples, path, err, errlen);
			goto done;
		}
		if ((uint64_t)len > size - pos) {   /* a missing final pad byte is tolerated */
			char id[5];
			int k;

			for (k = 0; k < 4; k++)
				id[k] = ch[k] >= 0x20 && ch[k] < 0x7f ? (char)ch[k] : '?';
			id[4] = '\0';
			strutil_seterr(err, errlen, "%s: truncated: chunk \"%s\" claims %u bytes, "
				       "the file holds %llu", path, id, len,
				       (unsigned long long)(size - pos));
			goto done;
		}
		if (memcmp(ch, "fmt ", 4) == 0) {
			uint32_t keep = len < sizeof(fmtbody) ? len : (uint32_t)sizeof(fmtbody);

			if (have_fmt) {
				strutil_seterr(err, errlen, "%s: two fmt chunks", path);
				goto done;
			}
			memset(fmtbody, 0, sizeof(fmtbody));
			if (fread(fmtbody, 1, keep, fp) != keep) {
				strutil_seterr(err, errlen, "%s: read error", path);
				goto done;
			}
			if (parse_fmt(fmtbody, len, s, &rate, path, err, errlen) != 0)
				goto done;
			have_fmt = 1;
			if (fseeko(fp, (off_t)(pos + len + (len & 1)), SEEK_SET) != 0) {
				strutil_seterr(err, errlen, "%s: %s", path, strerror(errno));
				goto done;
			}
		} else if (fseeko(fp, (off_t)(len + (len & 1)), SEEK_CUR) != 0) {
			/* LIST, fact, cue, bext…: not needed to play the audio. */
			strutil_seterr(err, errlen, "%s: %s", path, strerror(errno));
			goto done;
		}
		pos += (uint64_t)len + (len & 1);
	}
done:
	free(s);
	fclose(fp);
	if (rc != 0) {
		free(*out);
		*out = NULL;
		*nsamples = 0;
	}
	return rc;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

int wav_write_8k(const char *path, const int16_t *samples, size_t n, char *err, size_t errlen)
{
	uint8_t h[44], buf[8192];
	size_t i = 0, k;
	uint32_t data;
	FILE *fp;

	if (err && errlen)
		err[0] = '\0';
	/* RIFF sizes are 32-bit: the data chunk and the 36 header bytes before it must fit. */
	if (n > (UINT32_MAX - 36) / 2) {
		strutil_seterr(err, errlen, "%s: too many samples for a WAV file (%zu)", path, n);
		return -1;
	}
	data = (uint32_t)n * 2;
	memcpy(h, "RIFF", 4);
	put32(h + 4, 36 + data);
	memcpy(h + 8, "WAVEfmt ", 8);
	put32(h + 16, 16);
	put16(h + 20, WAVE_FORMAT_PCM);
	put16(h + 22, 1);              /* mono */
	put32(h + 24, OUT_RATE);
	put32(h + 28, OUT_RATE * 2);   /* bytes per second */
	put16(h + 32, 2);              /* block align */
	put16(h + 34, 16);             /* bits per sample */
	memcpy(h + 36, "data", 4);
	put32(h + 40, data);

	fp = fopen(path, "wb");
	if (!fp) {
		strutil_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fwrite(h, 1, sizeof(h), fp) != sizeof(h))
		goto fail;
	while (i < n) {
		for (k = 0; k + 2 <= sizeof(buf) && i < n; k += 2, i++)
			put16(buf + k, (uint16_t)samples[i]);
		if (fwrite(buf, 1, k, fp) != k)
			goto fail;
	}
	if (fclose(fp) != 0) {
		strutil_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
fail:
	strutil_seterr(err, errlen, "%s: %s", path, strerror(errno));
	fclose(fp);
	return -1;
}
