/* cmd_common: what callpipe-log's commands share: usage errors, terminal-safe arguments,
 * the clock. */
#include "cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "logparse.h"

const char *cmd_esc(const char *arg, char buf[160])
{
	logparse_escape(buf, 160, arg, strlen(arg));
	return buf;
}

int cmd_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("callpipe-log: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (callpipe-log --help)\n", stderr);
	return CMD_EXIT_USAGE;
}

int cmd_bad_callsid(const char *arg)
{
	char buf[160];

	fprintf(stderr, "callpipe-log: \"%s\" is not a CallSid (CA followed by 32 hex digits)\n",
		cmd_esc(arg, buf));
	return CMD_EXIT_USAGE;
}

long long cmd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void cmd_print_dirs(FILE *out, const char *const *dirs, size_t ndirs)
{
	for (size_t i = 0; i < ndirs; i++)
		fprintf(out, "%s%s", i ? ", " : "", dirs[i]);
}
