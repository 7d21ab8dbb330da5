/* logfile: opens one call log for reading without following links or blocking on a FIFO,
 * and reads its lines whole or, for a big file, by its head and tail (bounded memory). */
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "lineread.h"
#include "logparse.h"

enum { PHASE_HEAD, PHASE_TAIL, PHASE_DONE };

int logfile_open_at(int dirfd, const char *name, struct stat *st)
{
	/* No symlinks, and O_NONBLOCK so a FIFO left in the directory cannot hang us. */
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

int logfile_reader_init(struct logfile_reader *r, int fd, off_t size, off_t window)
{
	r->fd = fd;
	r->size = size;
	r->window = window > 0 && size > 2 * window ? window : 0;
	r->phase = PHASE_HEAD;
	r->skip_first = 0;
	r->lr = NULL;
	return r->window > 0;
}

/* Start reading [FROM, FROM+LIMIT) (LIMIT 0: to EOF). */
static int start(struct logfile_reader *r, off_t from, off_t limit)
{
	if (lseek(r->fd, from, SEEK_SET) < 0)
		return -1;
	r->lr = lineread_new(r->fd, from, LOGPARSE_LINE_MAX, limit);
	if (!r->lr) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int logfile_reader_next(void *ctx, const char **line, size_t *len, int *flags)
{
	struct logfile_reader *r = ctx;

	for (;;) {
		int rc;

		if (r->phase == PHASE_DONE)
			return 0;
		if (!r->lr && start(r, r->phase == PHASE_HEAD ? 0 :
				    r->size - r->window - 1,
				    r->phase == PHASE_HEAD ? r->window : r->window + 1) < 0)
			return -1;
		rc = lineread_next(r->lr, line, len, flags);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			if (r->skip_first) {
				r->skip_first = 0;
				continue;
			}
			/* In a window the last line may be cut by the window's end: dropped. */
			if ((*flags & LINEREAD_NOEOL) && r->window > 0)
				continue;
			return 1;
		}
		lineread_free(r->lr);
		r->lr = NULL;
		if (r->phase == PHASE_HEAD && r->window > 0) {
			/* Start one byte early: if it is a newline, the first line read is empty
			 * and the window's first real line is whole. */
			r->phase = PHASE_TAIL;
			r->skip_first = 1;
		} else {
			r->phase = PHASE_DONE;
		}
	}
}

void logfile_reader_free(struct logfile_reader *r)
{
	if (r->lr)
		lineread_free(r->lr);
	r->lr = NULL;
	r->phase = PHASE_DONE;
}
