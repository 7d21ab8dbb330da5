/* audiofile: libsndfile decoding (a path, or bytes in memory through its virtual I/O) to 8 kHz
 * µ-law: read as float, channels averaged, speexdsp resampling, output bounded by MAX_OUT. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "audiofile.h"
#include "bytebuf.h"
#include "g711.h"
#include "resample.h"
#include "strutil.h"

#define OUT_RATE 8000
#define RATE_MIN 8000
#define RATE_MAX 192000
/* More channels than this is not a sound file anyone means to play on a phone. */
#define MAX_CHANNELS 64
/* Floats read per step, all channels together: bounds the working memory. */
#define READ_SAMPLES 8192
/* Mono samples resampled per step. */
#define PIECE 1024
#define RS_CAP (PIECE + 64)
#define QUALITY 4

/* The bytes of audiofile_decode_mem, seen by libsndfile as a file. */
struct memfile {
	const unsigned char *data;
	sf_count_t len, pos;
};

static sf_count_t mem_len(void *u)
{
	return ((struct memfile *)u)->len;
}

static sf_count_t mem_seek(sf_count_t off, int whence, void *u)
{
	struct memfile *m = u;
	sf_count_t to;

	switch (whence) {
	case SEEK_SET: to = off; break;
	case SEEK_CUR: to = m->pos + off; break;
	case SEEK_END: to = m->len + off; break;
	default: return -1;
	}
	if (to < 0 || to > m->len)
		return -1;
	m->pos = to;
	return to;
}

static sf_count_t mem_read(void *ptr, sf_count_t count, void *u)
{
	struct memfile *m = u;
	sf_count_t n = m->len - m->pos;

	if (count < n)
		n = count;
	if (n <= 0)
		return 0;
	memcpy(ptr, m->data + m->pos, (size_t)n);
	m->pos += n;
	return n;
}

static sf_count_t mem_write(const void *ptr, sf_count_t count, void *u)
{
	(void)ptr;
	(void)count;
	(void)u;
	return 0;   /* read-only */
}

static sf_count_t mem_tell(void *u)
{
	return ((struct memfile *)u)->pos;
}

/* The growing µ-law output, never past its max. */
struct outbuf {
	struct bytebuf b;
	const char *name;
};

static int out_add(struct outbuf *o, const int16_t *pcm, size_t n, char *err, size_t errlen)
{
	uint8_t *p = bytebuf_extend(&o->b, n);
	size_t i;

	if (!p && errno == E2BIG) {
		strutil_seterr(err, errlen,
			       "%s: longer than the limit of %zu bytes (%.1f s at 8 kHz)", o->name,
			       o->b.max, (double)o->b.max / OUT_RATE);
		return -1;
	}
	if (!p) {
		strutil_seterr(err, errlen, "%s: out of memory", o->name);
		return -1;
	}
	for (i = 0; i < n; i++)
		p[i] = g711_ulaw_encode(pcm[i]);
	return 0;
}

static int16_t to_s16(float v)
{
	float s = v * 32768.0f;

	if (!(s > -32768.0f))   /* NaN too */
		return s != s ? 0 : -32768;
	if (s > 32767.0f)
		return 32767;
	return (int16_t)s;
}

/* Mono 8 kHz through the resampler (or straight) into OUT. */
static int push(struct resampler *rs, const int16_t *mono, size_t n, struct outbuf *o,
		int16_t *tmp, char *err, size_t errlen)
{
	long got;

	if (!rs)
		return out_add(o, mono, n, err, errlen);
	got = resampler_run(rs, mono, n, tmp, RS_CAP);
	if (got < 0) {
		strutil_seterr(err, errlen, "%s: resampling failed", o->name);
		return -1;
	}
	return out_add(o, tmp, (size_t)got, err, errlen);
}

static int decode(SNDFILE *sf, const SF_INFO *info, struct outbuf *o, char *err,
		  size_t errlen)
{
	struct resampler *rs = NULL;
	float *buf = NULL;
	int16_t mono[PIECE], tmp[RS_CAP];
	size_t frames_per_read;
	int rc = -1;

	if (info->channels < 1 || info->channels > MAX_CHANNELS) {
		strutil_seterr(err, errlen, "%s: %d channels (at most %d)", o->name, info->channels,
			       MAX_CHANNELS);
		return -1;
	}
	if (info->samplerate < RATE_MIN || info->samplerate > RATE_MAX) {
		strutil_seterr(err, errlen, "%s: sample rate %d Hz not supported (%d .. %d)",
			       o->name, info->samplerate, RATE_MIN, RATE_MAX);
		return -1;
	}
	/* Refuse up front when the header already says it is too long; the running check in
	 * out_add() catches headers that lie or do not know. */
	if (info->frames > 0 &&
	    (double)info->frames * OUT_RATE / info->samplerate > (double)o->b.max + 16) {
		strutil_seterr(err, errlen,
			       "%s: %.1f s of audio is longer than the limit of %zu bytes (%.1f s "
			       "at 8 kHz)", o->name, (double)info->frames / info->samplerate,
			       o->b.max, (double)o->b.max / OUT_RATE);
		return -1;
	}
	if (info->samplerate != OUT_RATE) {
		rs = resampler_new(info->samplerate, OUT_RATE, QUALITY, err, errlen);
		if (!rs)
			return -1;
	}
	frames_per_read = PIECE;
	buf = malloc(sizeof(float) * (size_t)info->channels * frames_per_read);
	if (!buf) {
		strutil_seterr(err, errlen, "%s: out of memory", o->name);
		goto out;
	}
	for (;;) {
		sf_count_t got = sf_readf_float(sf, buf, (sf_count_t)frames_per_read), f;
		int c;

		if (got <= 0)
			break;
		for (f = 0; f < got; f++) {
			float sum = 0;

			for (c = 0; c < info->channels; c++)
				sum += buf[f * info->channels + c];
			mono[f] = to_s16(sum / (float)info->channels);
		}
		if (push(rs, mono, (size_t)got, o, tmp, err, errlen) < 0)
			goto out;
	}
	if (sf_error(sf) != SF_ERR_NO_ERROR) {
		strutil_seterr(err, errlen, "%s: %s", o->name, sf_strerror(sf));
		goto out;
	}
	if (rs) {
		long got = resampler_drain(rs, tmp, RS_CAP);

		if (got < 0 || out_add(o, tmp, (size_t)got, err, errlen) < 0) {
			if (got < 0)
				strutil_seterr(err, errlen, "%s: resampling failed", o->name);
			goto out;
		}
	}
	rc = 0;
out:
	free(buf);
	resampler_free(rs);
	return rc;
}

static int finish(SNDFILE *sf, const SF_INFO *info, struct outbuf *o, uint8_t **out,
		  size_t *n, char *err, size_t errlen)
{
	int rc = decode(sf, info, o, err, errlen);

	sf_close(sf);
	if (rc < 0) {
		bytebuf_free(&o->b);
		return -1;
	}
	*out = bytebuf_take(&o->b, n);
	/* Not NULL on success, even for an empty file, so callers can free() and test. */
	if (!*out && !(*out = malloc(1))) {
		strutil_seterr(err, errlen, "%s: out of memory", o->name);
		return -1;
	}
	return 0;
}

int audiofile_decode_path(const char *path, size_t max_out, uint8_t **out, size_t *n,
			  char *err, size_t errlen)
{
	SF_INFO info;
	SNDFILE *sf;
	struct outbuf o = {{.max = max_out}, path};

	*out = NULL;
	*n = 0;
	memset(&info, 0, sizeof(info));
	sf = sf_open(path, SFM_READ, &info);
	if (!sf) {
		strutil_seterr(err, errlen, "%s: %s", path, sf_strerror(NULL));
		return -1;
	}
	return finish(sf, &info, &o, out, n, err, errlen);
}

int audiofile_decode_mem(const void *data, size_t len, size_t max_out, uint8_t **out,
			 size_t *n, char *err, size_t errlen)
{
	SF_VIRTUAL_IO vio = {mem_len, mem_seek, mem_read, mem_write, mem_tell};
	struct memfile m = {data, (sf_count_t)len, 0};
	SF_INFO info;
	SNDFILE *sf;
	char name[64];
	struct outbuf o = {{.max = max_out}, name};

	*out = NULL;
	*n = 0;
	snprintf(name, sizeof(name), "audio in memory (%zu bytes)", len);
	memset(&info, 0, sizeof(info));
	sf = sf_open_virtual(&vio, SFM_READ, &info, &m);
	if (!sf) {
		strutil_seterr(err, errlen, "%s: %s", name, sf_strerror(NULL));
		return -1;
	}
	return finish(sf, &info, &o, out, n, err, errlen);
}
