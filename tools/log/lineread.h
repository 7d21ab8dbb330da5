/* lineread: reads lines from a file descriptor through one fixed buffer, so a file of any
 * size, or a "line" of any length, costs the same bounded memory. */
#ifndef CALLPIPE_LINEREAD_H
#define CALLPIPE_LINEREAD_H

#include <stddef.h>
#include <sys/types.h>

/* Flags returned with a line. */
#define LINEREAD_CUT   1	/* longer than maxline: the first maxline bytes, the rest skipped */
#define LINEREAD_NOEOL 2	/* the last bytes before EOF (or the read limit), no newline */

struct lineread;

/* Read FD (not owned, not closed) from its current position, which the caller says is
 * file offset START. At most LIMIT bytes are read (0: no limit). MAXLINE bounds a line.
 * NULL when out of memory. */
struct lineread *lineread_new(int fd, off_t start, size_t maxline, off_t limit);

/* The next line without its newline: 1 with *line, *len and *flags set (the pointer is
 * valid until the next call), 0 at EOF (or limit), -1 on a read error (errno kept). */
int lineread_next(struct lineread *lr, const char **line, size_t *len, int *flags);

/* File offset just past the last line returned (past its newline). */
off_t lineread_offset(const struct lineread *lr);

void lineread_free(struct lineread *lr);

#endif
