/* logfile: opens one call log for reading without following links or blocking on a FIFO,
 * and reads its lines whole or, for a big file, by its head and tail (bounded memory). */
#ifndef CALLPIPE_LOGFILE_H
#define CALLPIPE_LOGFILE_H

#include <sys/stat.h>
#include <sys/types.h>

struct lineread;

/* NAME in DIRFD, a regular file: the descriptor with *ST filled, or -1 with errno (ELOOP
 * for a symbolic link, EINVAL for anything but a regular file). */
int logfile_open_at(int dirfd, const char *name, struct stat *st);

struct logfile_reader {
	int fd;			/* not owned */
	off_t size;
	off_t window;		/* 0: the whole file */
	int phase;		/* the head window, then the tail window, then done */
	int skip_first;		/* the tail window starts inside a line */
	struct lineread *lr;
};

/* Read FD (SIZE bytes) from its start: every line when WINDOW is 0 or the file is at most
 * 2 * WINDOW bytes; else only the whole lines of its first and last WINDOW bytes (the
 * middle, and the line each window cuts, are skipped). Returns 1 when the file is read
 * in part, 0 when whole. */
int logfile_reader_init(struct logfile_reader *r, int fd, off_t size, off_t window);

/* A logmerge_next_fn (CTX is the reader): 1 with a line, 0 at the end, -1 with errno. */
int logfile_reader_next(void *ctx, const char **line, size_t *len, int *flags);

void logfile_reader_free(struct logfile_reader *r);

#endif
