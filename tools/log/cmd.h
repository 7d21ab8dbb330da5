/* cmd: callpipe-log's list and show commands (several log directories merged by time) and
 * the few things they share with main.c: exit statuses, usage errors, safe arguments. */
#ifndef CALLPIPE_CMD_H
#define CALLPIPE_CMD_H

#include <stddef.h>
#include <stdio.h>

/* Exit statuses (documented in callpipe-log(1) and docs/LOGS.md). */
#define CMD_EXIT_NOTFOUND 1	/* show: no log for that CallSid */
#define CMD_EXIT_USAGE    2	/* bad command line, including a malformed CallSid */
#define CMD_EXIT_ENV      3	/* config, log directory or output unusable */

/* `list`: a row per CallSid found in any of DIRS (NDIRS, 1 .. LOGMERGE_SOURCES_MAX), each
 * summarized over the merge of its files; SINCE (may be NULL) as --since; JSON: --json. */
int cmd_list(const char *const *dirs, size_t ndirs, const char *since, int json);

/* `show CALLSID`: the call's lines from every one of DIRS that has its file, merged by
 * time, as a timeline (or, unless RAW, an agent call's conversation). */
int cmd_show(const char *const *dirs, size_t ndirs, const char *callsid, int raw);

/* "callpipe-log: MESSAGE (callpipe-log --help)" on stderr; returns CMD_EXIT_USAGE. */
int cmd_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "\"ARG\" is not a CallSid …" on stderr; returns CMD_EXIT_USAGE. */
int cmd_bad_callsid(const char *arg);

/* ARG made safe to print (it may hold anything a shell can pass) in BUF. */
const char *cmd_esc(const char *arg, char buf[160]);

/* DIRS (NDIRS) as "a, b, c" on OUT, as given (for messages on stderr, like the rest). */
void cmd_print_dirs(FILE *out, const char *const *dirs, size_t ndirs);

/* Wall-clock time in milliseconds since the Unix epoch. */
long long cmd_now_ms(void);

#endif
