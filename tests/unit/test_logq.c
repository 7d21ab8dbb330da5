/* test_logq: callpipe-ws's call-log writer thread: lines written in order and whole, the
 * handle kept alive by queued lines, the bound (a writer held up by a lock drops exactly
 * what passes LOGQ_MAX_LINES), and logq_stop writing everything before it returns. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "calllog.h"
#include "check.h"
#include "logq.h"

#define SID "CA0123456789abcdef0123456789abcdef"

static char dir[] = "/tmp/test_logq.XXXXXX";

static size_t count_lines(const char *path, int *whole_in_order)
{
	static char buf[8 << 20];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;
	size_t lines = 0, i, start = 0;

	if (fd >= 0)
		close(fd);
	*whole_in_order = n > 0 && buf[n - 1] == '\n';
	for (i = 0; n > 0 && i < (size_t)n; i++) {
		if (buf[i] != '\n')
			continue;
		{
			char want[64];
			int wl = snprintf(want, sizeof(want), "ws e%zu ", lines);

			if (i - start < (size_t)wl || memcmp(buf + start + 25, want, (size_t)wl) != 0)
				*whole_in_order = 0;
		}
		lines++;
		start = i + 1;
	}
	return lines;
}

static void put(struct calllog_file *f, size_t i)
{
	char line[CALLLOG_LINE_MAX], ev[32];
	const char *kv[] = {"pad", "0123456789012345678901234567890123456789", NULL};
	size_t len;

	snprintf(ev, sizeof(ev), "e%zu", i);
	len = calllog_format(line, sizeof(line), NULL, "ws", ev, kv);
	logq_write(f, line, len);
}

int main(void)
{
	char path[300];
	struct calllog_file *f;
	size_t i;
	int ok, fd;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/%s.log", dir, SID);

	/* No writer: synchronous, the line is there at once. */
	f = calllog_file_new(dir, SID);
	put(f, 0);
	CHECK_MSG(count_lines(path, &ok) == 1 && ok, "without a writer: written at once");

	/* A writer: 500 lines, the owner lets go at once, stop writes them all in order. */
	CHECK(logq_start() == 0);
	for (i = 1; i < 500; i++)
		put(f, i);
	calllog_file_unref(f);   /* the call ended; queued lines keep the file */
	logq_stop();
	CHECK_MSG(count_lines(path, &ok) == 500 && ok, "500 lines, whole and in order");
	CHECK(logq_dropped() == 0);

	/* The bound: hold the file's lock so the writer blocks on its first line; exactly
	 * LOGQ_MAX_LINES are accepted (the batch in the writer's hands counts), the rest are
	 * dropped and counted. */
	unlink(path);
	f = calllog_file_new(dir, SID);
	put(f, 0);   /* synchronous: creates the file */
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
	CHECK(logq_start() == 0);
	for (i = 1; i <= LOGQ_MAX_LINES + 76; i++)
		put(f, i);
	CHECK_MSG(logq_dropped() == 76, "1100 lines to a stuck writer: 76 dropped");
	flock(fd, LOCK_UN);
	close(fd);
	calllog_file_unref(f);
	logq_stop();
	CHECK_MSG(count_lines(path, &ok) == 1 + LOGQ_MAX_LINES && ok,
		  "the accepted lines are all written, whole and in order");
	unlink(path);
	rmdir(dir);
	return check_done();
}
