/* bytebuf: one growable byte buffer with a hard cap, for every piece of code that collects
 * bytes of a length it does not know in advance (audio as it is made, decoded files). */
#ifndef CALLPIPE_BYTEBUF_H
#define CALLPIPE_BYTEBUF_H

#include <stddef.h>
#include <stdint.h>

struct bytebuf {
	uint8_t *data;
	size_t len;     /* bytes held */
	size_t cap;     /* bytes allocated */
	size_t max;     /* len never passes this */
};

/* An empty buffer that will hold at most MAX bytes (nothing is allocated yet). */
void bytebuf_init(struct bytebuf *b, size_t max);
/* Make N more bytes part of the buffer and return them (unset) for the caller to fill,
 * growing by doubling. NULL, with nothing changed, when LEN + N would pass MAX (errno E2BIG)
 * or memory runs out (ENOMEM). */
uint8_t *bytebuf_extend(struct bytebuf *b, size_t n);
/* Append N bytes at P: 0, or -1 as bytebuf_extend(). */
int bytebuf_add(struct bytebuf *b, const void *p, size_t n);
/* Forget the first N bytes (at most LEN), moving the rest to the front. */
void bytebuf_consume(struct bytebuf *b, size_t n);
/* The data (the caller frees it; NULL when empty) and its length; B is empty afterwards. */
uint8_t *bytebuf_take(struct bytebuf *b, size_t *len);
void bytebuf_free(struct bytebuf *b);

#endif
