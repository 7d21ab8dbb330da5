/* logq: callpipe-ws's call-log writer thread. The event loop formats each line and queues it;
 * the thread does the file I/O, so a slow or full disk never stalls every call's media. */
#ifndef CALLPIPE_LOGQ_H
#define CALLPIPE_LOGQ_H

#include <stddef.h>

#include "calllog.h"

/* The queue's bound: past either, a line is dropped (counted, reported on stderr). 1024
 * lines is several seconds of a busy helper's logging (calls log a few lines per second). */
#define LOGQ_MAX_LINES 1024
#define LOGQ_MAX_BYTES (1024 * 1024)

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
