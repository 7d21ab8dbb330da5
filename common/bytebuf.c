/* bytebuf: the capped growable byte buffer: doubling growth (amortized linear), allocation
 * never past the cap, and nothing changed when an append does not fit. */
#include "bytebuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BYTEBUF_FIRST 4096

void bytebuf_init(struct bytebuf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

uint8_t *bytebuf_extend(struct bytebuf *b, size_t n)
{
	uint8_t *p;

	if (n > b->max - b->len) {
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

void bytebuf_consume(struct bytebuf *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

uint8_t *bytebuf_take(struct bytebuf *b, size_t *len)
{
	uint8_t *p = b->len ? b->data : NULL;

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
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
