/* asr_util: small pieces the recognizer engines share: a bounded sample buffer, WAV bytes
 * for the engines that send a whole file, the ISO-639-1 part of a language tag. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asr_int.h"

int asr_pcmbuf_add(struct asr_pcmbuf *b, const int16_t *pcm, size_t n)
{
	if (n > b->max - b->n)
		return -1;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 8000;
		int16_t *s;

		while (cap < b->n + n)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		s = realloc(b->s, cap * sizeof(*s));
		if (!s)
			return -1;
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->n, pcm, n * sizeof(*pcm));
	b->n += n;
	return 0;
}

void asr_pcmbuf_free(struct asr_pcmbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->n = b->cap = 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

uint8_t *asr_wav_bytes(const int16_t *s, size_t n, size_t *len)
{
	size_t data = n * 2;
	uint8_t *w = malloc(44 + data);

	if (!w)
		return NULL;
	memcpy(w, "RIFF", 4);
	put32(w + 4, (uint32_t)(36 + data));
	memcpy(w + 8, "WAVEfmt ", 8);
	put32(w + 16, 16);
	put16(w + 20, 1);          /* PCM */
	put16(w + 22, 1);          /* mono */
	put32(w + 24, 8000);
	put32(w + 28, 16000);      /* bytes per second */
	put16(w + 32, 2);
	put16(w + 34, 16);
	memcpy(w + 36, "data", 4);
	put32(w + 40, (uint32_t)data);
	for (size_t i = 0; i < n; i++)
		put16(w + 44 + 2 * i, (uint16_t)s[i]);
	*len = 44 + data;
	return w;
}

void asr_lang_iso(const char *bcp47, char *out, size_t cap)
{
	size_t n = strspn(bcp47 ? bcp47 : "", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

	if (!cap)
		return;
	out[0] = '\0';
	if (n != 2 || n >= cap || (bcp47[n] != '\0' && bcp47[n] != '-' && bcp47[n] != '_'))
		return;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)bcp47[i]);
	out[n] = '\0';
}

char *asr_first_line(char *s)
{
	char *e;

	s[strcspn(s, "\r\n")] = '\0';
	for (e = s; *e; e++)
		if ((unsigned char)*e < 0x20 || *e == 0x7f)
			*e = ' ';
	while (*s == ' ')
		s++;
	e = s + strlen(s);
	while (e > s && e[-1] == ' ')
		*--e = '\0';
	return s;
}

long asr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
