/* test_logmerge: callpipe-log's merge of one call's files from several hosts by time: order,
 * ties, undated lines, empty and failing sources, and list's summary over a merge. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../tools/log/logmerge.h"
#include "../../tools/log/logparse.h"
#include "../../tools/log/logsum.h"

/* A source over a NULL-terminated array of lines; FAIL_AT >= 0 makes that line an error. */
struct mem {
	const char *const *lines;
	size_t i;
	int fail_at;
	char buf[256];		/* each line is handed out from here: a reader's own buffer */
};

static int mem_next(void *ctx, const char **line, size_t *len, int *flags)
{
	struct mem *m = ctx;

	if ((int)m->i == m->fail_at) {
		errno = EIO;
		return -1;
	}
	if (!m->lines[m->i])
		return 0;
	snprintf(m->buf, sizeof(m->buf), "%s", m->lines[m->i++]);
	*line = m->buf;
	*len = strlen(m->buf);
	*flags = 0;
	return 1;
}

/* Merge the sources in S (N of them) into OUT as "LINE|SRC\n"; returns logmerge's last rc. */
static int merge(struct mem *s, size_t n, char *out, size_t cap)
{
	struct logmerge m;
	const char *line;
	size_t len, src, used = 0;
	int flags, r;

	out[0] = '\0';
	logmerge_init(&m);
	for (size_t i = 0; i < n; i++)
		logmerge_add(&m, mem_next, &s[i]);
	while ((r = logmerge_next(&m, &line, &len, &flags, &src)) == 1 && used < cap)
		used += (size_t)snprintf(out + used, cap - used, "%.*s|%zu\n", (int)len, line, src);
	return r;
}

#define T(s) "2026-11-24T10:15:" s "Z"

static void test_interleaved(void)
{
	static const char *const a[] = { T("01.000") " fcgi a1", T("04.000") " fcgi a2",
					 T("09.000") " fcgi a3", NULL };
	static const char *const b[] = { T("02.000") " ws b1", T("03.000") " ws b2",
					 T("10.000") " ws b3", NULL };
	static const char *const c[] = { T("00.500") " ws c1", T("05.000") " ws c2", NULL };
	struct mem s[3] = { { a, 0, -1, "" }, { b, 0, -1, "" }, { c, 0, -1, "" } };
	char out[2048];

	CHECK(merge(s, 3, out, sizeof(out)) == 0);
	CHECK_STR(out,
		  T("00.500") " ws c1|2\n" T("01.000") " fcgi a1|0\n" T("02.000") " ws b1|1\n"
		  T("03.000") " ws b2|1\n" T("04.000") " fcgi a2|0\n" T("05.000") " ws c2|2\n"
		  T("09.000") " fcgi a3|0\n" T("10.000") " ws b3|1\n");
}

static void test_ties(void)
{
	/* Equal times: the source added first goes first, and a file's own lines keep
	 * their order. */
	static const char *const a[] = { T("01.000") " fcgi a1", T("02.000") " fcgi a2",
					 T("02.000") " fcgi a3", NULL };
	static const char *const b[] = { T("01.000") " ws b1", T("02.000") " ws b2", NULL };
	static const char *const c[] = { T("02.000") " ws c1", T("02.000") " ws c2", NULL };
	struct mem s[3] = { { c, 0, -1, "" }, { b, 0, -1, "" }, { a, 0, -1, "" } };
	char out[2048];

	CHECK(merge(s, 3, out, sizeof(out)) == 0);
	CHECK_STR(out,
		  T("01.000") " ws b1|1\n" T("01.000") " fcgi a1|2\n"
		  T("02.000") " ws c1|0\n" T("02.000") " ws c2|0\n" T("02.000") " ws b2|1\n"
		  T("02.000") " fcgi a2|2\n" T("02.000") " fcgi a3|2\n");
}

static void test_undated(void)
{
	/* An undated line follows the line before it in its file, even when another file
	 * has lines between that line's time and the next dated line of its own; leading
	 * undated lines go first. */
	static const char *const a[] = { "garbage first", T("01.000") " fcgi a1",
					 "not a log line", "2026-13-40T99:99:99.000Z ws bad",
					 T("05.000") " fcgi a2", NULL };
	static const char *const b[] = { T("00.000") " ws b1", T("01.000") " ws b2",
					 T("02.000") " ws b3", NULL };
	struct mem s[2] = { { a, 0, -1, "" }, { b, 0, -1, "" } };
	char out[2048];

	CHECK(merge(s, 2, out, sizeof(out)) == 0);
	CHECK_STR(out,
		  "garbage first|0\n" T("00.000") " ws b1|1\n" T("01.000") " fcgi a1|0\n"
		  "not a log line|0\n" "2026-13-40T99:99:99.000Z ws bad|0\n"
		  T("01.000") " ws b2|1\n" T("02.000") " ws b3|1\n" T("05.000") " fcgi a2|0\n");
}

static void test_empty_and_one(void)
{
	static const char *const none[] = { NULL };
	/* Out of time order within the file (two writers a millisecond apart): one source
	 * is that file as it is. */
	static const char *const a[] = { T("02.000") " ws a1", T("01.999") " fcgi a2", NULL };
	struct mem s[3] = { { none, 0, -1, "" }, { a, 0, -1, "" }, { none, 0, -1, "" } };
	struct mem e[2] = { { none, 0, -1, "" }, { none, 0, -1, "" } };
	struct logmerge m;
	const char *line;
	size_t len;
	int flags;
	char out[1024];

	CHECK(merge(s, 3, out, sizeof(out)) == 0);
	CHECK_STR(out, T("02.000") " ws a1|1\n" T("01.999") " fcgi a2|1\n");
	CHECK(merge(e, 2, out, sizeof(out)) == 0);
	CHECK_STR(out, "");
	logmerge_init(&m);
	CHECK(logmerge_next(&m, &line, &len, &flags, NULL) == 0);
}

static void test_failure_and_cap(void)
{
	static const char *const a[] = { T("01.000") " fcgi a1", T("03.000") " fcgi a2", NULL };
	static const char *const b[] = { T("02.000") " ws b1", T("04.000") " ws b2", NULL };
	struct mem s[2] = { { a, 0, -1, "" }, { b, 0, 1, "" } };
	struct logmerge m;
	const char *line;
	size_t len, src = 99;
	int flags, r, n = 0;
	struct mem dummy = { a, 0, -1, "" };

	logmerge_init(&m);
	logmerge_add(&m, mem_next, &s[0]);
	logmerge_add(&m, mem_next, &s[1]);
	while ((r = logmerge_next(&m, &line, &len, &flags, &src)) == 1)
		n++;
	/* a1, then b1; reading b's second line fails: reported with its source... */
	CHECK(r == -1 && src == 1 && errno == EIO && n == 2);
	/* ...and the merge goes on without it. */
	CHECK(logmerge_next(&m, &line, &len, &flags, &src) == 1 && src == 0 &&
	      strncmp(line, T("03.000"), 24) == 0);
	CHECK(logmerge_next(&m, &line, &len, &flags, &src) == 0);

	logmerge_init(&m);
	for (int i = 0; i < LOGMERGE_SOURCES_MAX; i++)
		n -= logmerge_add(&m, mem_next, &dummy) == 0;
	CHECK(n == 2 - LOGMERGE_SOURCES_MAX);	/* every source under the cap was taken */
	CHECK(logmerge_add(&m, mem_next, &dummy) == -1);
}

/* list's promise: the summary of the merge of a call's files is the summary of one file
 * holding all its lines in time order. Webhooks balanced over two hosts (A, B) and the
 * stream on a third: the later call_status and the stream events' order come from time. */
static void test_summary(void)
{
	static const char *const whole[] = {
		T("02.123") " fcgi incoming_call from=+15551234567 to=+15557654321 sig=ok",
		T("02.900") " ws ws_start stream_sid=MZ1 param_From=+15550000000 mode=echo",
		T("03.000") " fcgi stream_status stream_event=stream-started sig=ok",
		T("40.000") " ws ws_done rx=10 tx=10 close_code=1000 errors_bad_json=1",
		T("40.100") " fcgi stream_status stream_event=stream-stopped sig=ok",
		T("41.000") " fcgi call_status call_status=in-progress sig=ok",
		T("42.000") " fcgi call_status call_status=completed call_duration=39 sig=ok",
		NULL };
	const char *const host_a[] = { whole[0], whole[2], whole[5], NULL };
	const char *const host_b[] = { whole[4], whole[6], NULL };
	const char *const ws[] = { whole[1], whole[3], NULL };
	struct logparse_line *ln = malloc(sizeof(*ln));
	struct mem s[3] = { { host_b, 0, -1, "" }, { ws, 0, -1, "" }, { host_a, 0, -1, "" } };
	struct logsum one, merged;
	struct logmerge m;
	const char *line;
	size_t len;
	int flags;
	char o1[LOGSUM_OUTCOME_MAX], o2[LOGSUM_OUTCOME_MAX];

	if (!ln)
		return;
	logsum_init(&one, "CA0123456789abcdef0123456789abcdef");
	for (size_t i = 0; whole[i]; i++)
		if (logparse_line(ln, whole[i], strlen(whole[i]), NULL, 0) == 0)
			logsum_add(&one, ln);
	logsum_init(&merged, "CA0123456789abcdef0123456789abcdef");
	logmerge_init(&m);
	for (size_t i = 0; i < 3; i++)
		logmerge_add(&m, mem_next, &s[i]);
	while (logmerge_next(&m, &line, &len, &flags, NULL) == 1)
		if (logparse_line(ln, line, len, NULL, 0) == 0)
			logsum_add(&merged, ln);
	logsum_outcome(&one, 0, o1, sizeof(o1));
	logsum_outcome(&merged, 0, o2, sizeof(o2));
	CHECK_STR(o1, "completed");
	CHECK_STR(o2, o1);
	CHECK_STR(merged.from, one.from);
	CHECK_STR(merged.streams, "started,stopped");
	CHECK_STR(merged.call_status, one.call_status);
	CHECK_STR(merged.ws_errors, one.ws_errors);
	CHECK(merged.lines == one.lines && merged.first_ms == one.first_ms &&
	      merged.last_ms == one.last_ms && merged.call_duration_s == 39);
	free(ln);
}

static void test_line_time(void)
{
	long long ms;

	CHECK(logparse_line_time(T("02.123") " fcgi x", 31, &ms) == 0 && ms % 100000 == 2123);
	CHECK(logparse_line_time(T("02.123"), 24, &ms) == 0);
	CHECK(logparse_line_time("2026-11-24 10:15:02 fcgi x", 26, &ms) == -1);
	CHECK(logparse_line_time("", 0, &ms) == -1);
	CHECK(logparse_line_time(" " T("02.123"), 25, &ms) == -1);
}

int main(void)
{
	test_interleaved();
	test_ties();
	test_undated();
	test_empty_and_one();
	test_failure_and_cap();
	test_summary();
	test_line_time();
	return check_done();
}
