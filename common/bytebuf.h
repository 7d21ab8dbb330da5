/* bytebuf: one byte buffer with a hard cap: growable (audio as it is made, decoded files) or
 * fixed over the caller's array (log and error lines: never allocates, remembers a cut). */
#ifndef CALLPIPE_BYTEBUF_H
#define CALLPIPE_BYTEBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct bytebuf {
	uint8_t *data;
	size_t len;     /* bytes held */
	size_t cap;     /* bytes allocated */
	size_t max;     /* len never passes this */
	unsigned fixed : 1;   /* DATA is the caller's array: never reallocated or freed */
	unsigned cut : 1;     /* fixed mode: an append did not fit and was left out */
};

/* An empty buffer that will hold at most MAX bytes (nothing is allocated yet). */
void bytebuf_init(struct bytebuf *b, size_t max);
/* A buffer over the caller's array MEM of SIZE bytes: appends never allocate; one that
 * does not fit changes nothing, fails as in the growable mode (E2BIG) and sets CUT. The
 * bytes are not NUL-terminated (bytebuf_cstr does that). take returns NULL; free only
 * empties it. */
void bytebuf_init_fixed(struct bytebuf *b, void *mem, size_t size);
/* Make N more bytes part of the buffer and return them (unset) for the caller to fill,
 * growing by doubling. NULL, with nothing changed, when LEN + N would pass MAX (errno E2BIG)
 * or memory runs out (ENOMEM). */
uint8_t *bytebuf_extend(struct bytebuf *b, size_t n);
/* Append N bytes at P: 0, or -1 as bytebuf_extend(). */
int bytebuf_add(struct bytebuf *b, const void *p, size_t n);
/* Append the C string S / one byte C; 0 or -1 as bytebuf_add(). */
int bytebuf_puts(struct bytebuf *b, const char *s);
int bytebuf_putc(struct bytebuf *b, char c);
/* Append printf output whole, or nothing (-1, E2BIG) when it does not fit. */
int bytebuf_printf(struct bytebuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int bytebuf_vprintf(struct bytebuf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Bytes that can still be appended (MAX - LEN). */
size_t bytebuf_room(const struct bytebuf *b);
/* Fixed mode: NUL-terminate the content in place, dropping the last byte when the array is
 * full (and marking the buffer cut), and return it. */
const char *bytebuf_cstr(struct bytebuf *b);
/* Forget the first N bytes (at most LEN), moving the rest to the front. */
void bytebuf_consume(struct bytebuf *b, size_t n);
/* The data (the caller frees it; NULL when empty) and its length; B is empty afterwards. */
uint8_t *bytebuf_take(struct bytebuf *b, size_t *len);
void bytebuf_free(struct bytebuf *b);

#endif
