/* lineread: reads lines from a file descriptor through one fixed buffer, so a file of any
 * size, or a "line" of any length, costs the same bounded memory. */
#include "lineread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read in 64 KiB steps: large enough that a call log (a few KiB to a few MiB) takes few
 * system calls, small enough not to matter next to the parsed-line struct. */
#define LINEREAD_CHUNK 65536

struct lineread {
	int fd;
	char *buf;
	size_t cap, start, end;	/* unconsumed bytes are buf[start..end) */
	size_t maxline;
	off_t off;		/* file offset of buf[start] */
	off_t left;		/* bytes still allowed to read; -1: no limit */
	int eof;
	int skipping;		/* inside a cut line: drop bytes up to the next newline */
};

struct lineread *lineread_new(int fd, off_t start, size_t maxline, off_t limit)
{
	struct lineread *lr = calloc(1, sizeof(*lr));

	if (!lr)
		return NULL;
	lr->cap = maxline + 1 + LINEREAD_CHUNK;
	lr->buf = malloc(lr->cap);
	if (!lr->buf) {
		free(lr);
		return NULL;
	}
	lr->fd = fd;
	lr->maxline = maxline;
	lr->off = start;
	lr->left = limit > 0 ? limit : -1;
	return lr;
}

static int fill(struct lineread *lr)
{
	size_t room;
	ssize_t n;

	if (lr->start > 0) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	room = lr->cap - lr->end;
	if (lr->left >= 0 && (off_t)room > lr->left)
		room = (size_t)lr->left;
	if (room == 0) {
		lr->eof = 1;
		return 0;
	}
	do
		n = read(lr->fd, lr->buf + lr->end, room);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		lr->eof = 1;
	lr->end += (size_t)n;
	if (lr->left >= 0)
		lr->left -= n;
	return 0;
}

static void consume(struct lineread *lr, size_t n)
{
	lr->start += n;
	lr->off += (off_t)n;
}

int lineread_next(struct lineread *lr, const char **line, size_t *len, int *flags)
{
	*line = NULL;
	*len = 0;
	*flags = 0;
	for (;;) {
		size_t have = lr->end - lr->start;
		char *s = lr->buf + lr->start;
		char *nl = have ? memchr(s, '\n', have) : NULL;

		if (nl) {
			size_t n = (size_t)(nl - s);

			if (lr->skipping) {
				lr->skipping = 0;
				consume(lr, n + 1);
				continue;
			}
			*line = s;
			if (n > lr->maxline) {
				*len = lr->maxline;
				*flags = LINEREAD_CUT;
			} else {
				*len = n;
			}
			consume(lr, n + 1);
			return 1;
		}
		if (lr->skipping) {
			consume(lr, have);
		} else if (have > lr->maxline) {
			/* No newline within maxline bytes: hand out the start, skip the rest. */
			*line = s;
			*len = lr->maxline;
			*flags = LINEREAD_CUT;
			lr->skipping = 1;
			consume(lr, have);
			return 1;
		} else if (lr->eof) {
			if (have == 0)
				return 0;
			*line = s;
			*len = have;
			*flags = LINEREAD_NOEOL;
			consume(lr, have);
			return 1;
		}
		if (lr->eof)
			return 0;
		if (fill(lr) < 0)
			return -1;
	}
}

off_t lineread_offset(const struct lineread *lr)
{
	return lr->off;
}

void lineread_free(struct lineread *lr)
{
	if (!lr)
		return;
	free(lr->buf);
	free(lr);
}
