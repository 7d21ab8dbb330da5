/* test_asr_exec: the [asr] engine = exec: the WAV on the command's stdin, the transcript from
 * its first stdout line, its environment, exit status and stderr, a hung one killed in time. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "recog_harness.h"

static uint8_t audio[8000];   /* 1 s */

/* One utterance through COMMAND; the result, *MS from end to result. */
static struct result *run(const char *command, int timeout_ms, const struct recog_opts *o,
			  double *ms)
{
	struct config cfg;
	struct harness h;
	char err[200] = "";
	struct recog *r;
	struct recog_utt *u;
	struct result *res = NULL;
	double t;

	config_defaults(&cfg);
	snprintf(cfg.asr_engine, sizeof(cfg.asr_engine), "exec");
	snprintf(cfg.asr_command, sizeof(cfg.asr_command), "%s", command);
	cfg.asr_timeout_ms = timeout_ms;
	harness_init(&h, 1);
	r = recog_new(&cfg, h.pool, h.resq, err, sizeof(err));
	if (!r) {
		printf("# recog_new: %s\n", err);
		harness_fini(&h);
		return NULL;
	}
	u = recog_begin(r, 1, 1, o, err, sizeof(err));
	if (u) {
		harness_feed(u, audio, sizeof(audio), 0, NULL);
		t = harness_ms();
		recog_end(u);
		res = harness_wait(&h, 10000);
		if (ms)
			*ms = harness_ms() - t;
	}
	if (res)
		printf("# a=%ld conf=%ld text=\"%s\" reason=\"%s\"\n", res->a, res->b,
		       (char *)res->data, res->text);
	harness_fini_recog(&h, r);
	return res;
}

/* PID is gone or a zombie ('Z' in /proc/PID/stat), looked at for up to a second. */
static int proc_dead(int pid)
{
	for (int i = 0; i < 100; i++) {
		char path[64], buf[256], *p;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (!f)
			return 1;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (p && p[1] == ' ' && p[2] == 'Z')
			return 1;
		usleep(10000);   /* SIGKILL delivery is asynchronous */
	}
	return 0;
}

int main(void)
{
	struct recog_opts o = {.language = "de-DE", .hints = "ja, nein"};
	struct result *res;
	char cmd[512], pidfile[64];
	double ms = 0;

	memset(audio, 0xff, sizeof(audio));

	/* the first line, trimmed; the WAV's size proves what came on stdin */
	res = run("n=$(wc -c); printf '  heard %s bytes  \\nsecond line\\n' $n", 5000, &o, NULL);
	CHECK(res && res->a == 0);
	CHECK_STR(res ? (char *)res->data : NULL, "heard 16044 bytes");
	CHECK(res && res->b == 1000);
	result_free(res);

	/* a real 8 kHz 16-bit mono WAV, as sox reads it */
	res = run("sox -t wav - -n stat 2>&1 | grep -c 'Length (seconds): *1.000000'", 5000, &o,
		  NULL);
	CHECK_STR(res ? (char *)res->data : NULL, "1");
	result_free(res);

	/* the request in the environment */
	res = run("cat >/dev/null; echo \"$CALLPIPE_LANGUAGE|$CALLPIPE_HINTS|$CALLPIPE_GRAMMAR\"",
		  5000, &o, NULL);
	CHECK_STR(res ? (char *)res->data : NULL, "de-DE|ja, nein|");
	result_free(res);

	/* nothing heard: "" with no confidence */
	res = run("cat >/dev/null", 5000, &o, NULL);
	CHECK(res && res->a == 0 && res->b == 0);
	CHECK_STR(res ? (char *)res->data : NULL, "");
	result_free(res);

	/* a failing command: its status and its first stderr line */
	res = run("echo 'model missing' >&2; exit 3", 5000, &o, NULL);
	CHECK(res && res->a == -1 && strstr(res->text, "status 3") &&
	      strstr(res->text, "model missing"));
	result_free(res);

	/* a hung command and its child: killed at the timeout, the whole group */
	snprintf(pidfile, sizeof(pidfile), "/tmp/test_asr_exec.%d.pid", (int)getpid());
	snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! > %s; wait", pidfile);
	res = run(cmd, 300, &o, &ms);
	CHECK(res && res->a == -1 && strstr(res->text, "timed out after 300 ms"));
	CHECK(ms >= 290 && ms < 1500);
	printf("# hung command: result after %.0f ms\n", ms);
	result_free(res);
	{
		FILE *f = fopen(pidfile, "r");
		int pid = 0;

		CHECK(f && fscanf(f, "%d", &pid) == 1 && pid > 0);
		if (f)
			fclose(f);
		/* killed: gone, or a zombie its new parent has not reaped yet */
		CHECK(pid > 0 && proc_dead(pid));
		unlink(pidfile);
	}

	/* an empty command is a start-up error */
	res = run("", 5000, &o, NULL);
	CHECK(res == NULL);
	return check_done();
}
