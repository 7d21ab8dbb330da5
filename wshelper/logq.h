/* logq: callpipe-ws's call-log writer thread. The event loop formats each line and queues it;
 * the thread does the file I/O, so a slow or full disk never stalls every call's media. */
#ifndef CALLPIPE_LOGQ_H
#define CALLPIPE_LOGQ_H

#include <stddef.h>

#include "calllog.h"

/* The queue's bound: past either, a line is dropped (counted in /metrics, reported on
 * stderr). It only fills when the disk stalls: calls log a few lines a second, but a burst
 * (thousands of calls starting or ending at once, each with two or three lines of ~200
 * bytes) must fit whole, so the bound is in the tens of thousands of lines; 8 MiB at most. */
#define LOGQ_MAX_LINES 65536
#define LOGQ_MAX_BYTES (8 * 1024 * 1024)

/* Start the writer thread (signals blocked in it). 0, or -1 (then lines are written
 * synchronously, as before any start). */
int logq_start(void);
/* Write LINE (LEN bytes, a whole formatted line) to F: queued (taking a reference on F)
 * when the writer runs, else written now through calllog_file_write (unit tests, the
 * simulator). Never blocks on the disk when the writer runs. */
void logq_write(struct calllog_file *f, const char *line, size_t len);
/* Write everything queued, then stop the thread (at exit). Lines after it are written
 * synchronously. */
void logq_stop(void);
/* Lines dropped because the queue was full, since the start. */
unsigned long long logq_dropped(void);

#endif
