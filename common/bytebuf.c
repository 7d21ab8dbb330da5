/* bytebuf: the capped byte buffer: doubling growth (amortized linear), allocation never
 * past the cap, a fixed mode over the caller's array, and nothing changed when an append
 * does not fit. */
#include "bytebuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BYTEBUF_FIRST 4096

void bytebuf_init(struct bytebuf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
	b->fixed = 0;
	b->cut = 0;
}

void bytebuf_init_fixed(struct bytebuf *b, void *mem, size_t size)
{
	b->data = mem;
	b->len = 0;
	b->cap = b->max = mem ? size : 0;
	b->fixed = 1;
	b->cut = 0;
}

uint8_t *bytebuf_extend(struct bytebuf *b, size_t n)
{
	uint8_t *p;

	if (n > b->max - b->len) {
		if (b->fixed)
			b->cut = 1;
		errno = E2BIG;
		return NULL;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : BYTEBUF_FIRST;

		while (cap < b->len + n)
			cap = cap > b->max / 2 ? b->max : cap * 2;
		if (cap > b->max)
			cap = b->max;
		p = realloc(b->data, cap);
		if (!p) {
			errno = ENOMEM;
			return NULL;
		}
		b->data = p;
		b->cap = cap;
	}
	p = b->data + b->len;
	b->len += n;
	return p;
}

int bytebuf_add(struct bytebuf *b, const void *p, size_t n)
{
	uint8_t *dst = n ? bytebuf_extend(b, n) : NULL;

	if (n && !dst)
		return -1;
	if (n)
		memcpy(dst, p, n);
	return 0;
}

int bytebuf_puts(struct bytebuf *b, const char *s)
{
	return bytebuf_add(b, s, strlen(s));
}

int bytebuf_putc(struct bytebuf *b, char c)
{
	return bytebuf_add(b, &c, 1);
}

int bytebuf_vprintf(struct bytebuf *b, const char *fmt, va_list ap)
{
	char small[256], *tmp = small;
	va_list again;
	int n, rc;

	va_copy(again, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n < 0) {
		va_end(again);
		return -1;
	}
	if ((size_t)n >= sizeof(small)) {
		/* Rare (long lines): format once more into a buffer of the exact size. */
		if ((size_t)n > bytebuf_room(b)) {
			va_end(again);
			if (b->fixed)
				b->cut = 1;
			errno = E2BIG;
			return -1;
		}
		tmp = malloc((size_t)n + 1);
		if (!tmp) {
			va_end(again);
			errno = ENOMEM;
			return -1;
		}
		vsnprintf(tmp, (size_t)n + 1, fmt, again);
	}
	va_end(again);
	rc = bytebuf_add(b, tmp, (size_t)n);
	if (tmp != small)
		free(tmp);
	return rc;
}

int bytebuf_printf(struct bytebuf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = bytebuf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

size_t bytebuf_room(const struct bytebuf *b)
{
	return b->max - b->len;
}

const char *bytebuf_cstr(struct bytebuf *b)
{
	if (!b->fixed || !b->max)
		return "";
	if (b->len == b->max) {
		b->len--;
		b->cut = 1;
	}
	b->data[b->len] = '\0';
	return (const char *)b->data;
}

void bytebuf_consume(struct bytebuf *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

uint8_t *bytebuf_take(struct bytebuf *b, size_t *len)
{
	uint8_t *p = b->len && !b->fixed ? b->data : NULL;

	if (b->fixed) {
		if (len)
			*len = 0;
		b->len = 0;
		return NULL;
	}

	if (len)
		*len = b->len;
	if (!p)
		free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void bytebuf_free(struct bytebuf *b)
{
	if (b->fixed) {
		b->len = 0;
		return;
	}
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
