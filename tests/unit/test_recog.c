/* test_recog: the recognizer service with the pocketsphinx engine on real recordings
 * (Debian's pocketsphinx-testdata, made 8 kHz µ-law with sox): hints, grammars, refusals. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "g711.h"
#include "recog_harness.h"

#define TD "/usr/share/pocketsphinx/test/data"
#define GOFORWARD TD "/goforward.raw"

#if defined(__SANITIZE_ADDRESS__)
/* sphinxbase 0.8+5prealpha's JSGF parser leaks ~110 bytes when a file does not parse (the
 * bison error path drops its tokens; broken.gram below does that on purpose): the library's,
 * so only allocations under jsgf_parse_file are excused, which needs full malloc stacks
 * (the library has no frame pointers). speech/asr_sphinx.c avoids the parser's other leak. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:jsgf_parse_file\n";
}
#endif

static char gdir[64];
static _Atomic int blocker_started;

/* A job that holds its worker until pool_free() marks it cancelled. */
static void block_run(struct pool_job *job, void *ctx)
{
	(void)ctx;
	blocker_started = 1;
	for (int i = 0; i < 10000 && !job->cancelled; i++)
		usleep(1000);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	if (system(cmd) != 0)
		printf("# cp %s failed\n", from);
}

static void setup_cfg(struct config *cfg, int decoders)
{
	config_defaults(cfg);
	snprintf(cfg->asr_grammar_dir, sizeof(cfg->asr_grammar_dir), "%s", gdir);
	cfg->asr_decoders = decoders;
}

/* One utterance: begin with OPTS, feed A, end; the result (or NULL). */
static struct result *recognize(struct harness *h, struct recog *r, unsigned seq,
				const struct recog_opts *o, const uint8_t *a, size_t n,
				int realtime, double *end_to_result_ms, double *feed_ns)
{
	char err[200] = "";
	struct recog_utt *u = recog_begin(r, 7, seq, o, err, sizeof(err));
	double t_end;
	struct result *res;

	if (!u) {
		printf("# recog_begin: %s\n", err);
		return NULL;
	}
	if (harness_feed(u, a, n, realtime, feed_ns) < 0)
		printf("# recog_feed refused audio\n");
	t_end = harness_ms();
	recog_end(u);
	res = harness_wait(h, 20000);
	if (res && end_to_result_ms)
		*end_to_result_ms = harness_ms() - t_end;
	if (res)
		printf("# result seq=%u a=%ld conf=%ld text=\"%s\" note=\"%s\"\n", res->seq, res->a,
		       res->b, res->data ? (char *)res->data : "(null)", res->text);
	return res;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

int main(void)
{
	struct config cfg;
	struct harness h;
	struct recog *r;
	struct result *res;
	char err[256] = "", path[256];
	size_t ngo = 0, ncard = 0;
	uint8_t *go = harness_ulaw(GOFORWARD, 1, &ngo);
	uint8_t *card = harness_ulaw(TD "/cards/001.wav", 0, &ncard);
	struct recog_opts o = {0};
	double lat = 0, feed_ns = 0;
	long rss0, rss1;

	CHECK(go && ngo > 8000 * 2);
	CHECK(card && ncard > 8000);
	if (!go || !card)
		return check_done();
	snprintf(gdir, sizeof(gdir), "/tmp/test_recog.XXXXXX");
	CHECK(mkdtemp(gdir) != NULL);
	snprintf(path, sizeof(path), "%s/goforward.gram", gdir);
	copy_file(TD "/goforward.gram", path);
	snprintf(path, sizeof(path), "%s/cards.gram", gdir);
	copy_file(TD "/cards/cards.gram", path);
	snprintf(path, sizeof(path), "%s/broken.gram", gdir);
	{
		FILE *f = fopen(path, "w");

		fputs("#JSGF V1.0;\ngrammar broken;\npublic <x> = ( go forward ;\n", f);
		fclose(f);
	}
	/* a link out of grammar_dir: its real path decides */
	snprintf(path, sizeof(path), "%s/escape.gram", gdir);
	CHECK(symlink(TD "/goforward.gram", path) == 0);

	harness_init(&h, 2);
	setup_cfg(&cfg, 2);
	rss0 = rss_kb();
	lat = harness_ms();
	r = recog_new(&cfg, h.pool, h.resq, err, sizeof(err));
	lat = harness_ms() - lat;
	rss1 = rss_kb();
	printf("# recog_new (engine open + one decoder made): %.0f ms\n", lat);
	CHECK(r != NULL);
	if (!r) {
		printf("# %s\n", err);
		return check_done();
	}
	printf("# RSS of one decoder (grammar only): %ld kB\n", rss1 - rss0);
	CHECK_STR(recog_engine_name(r), "pocketsphinx");

	/* hints -> a phrase grammar; 20 ms pieces in real time, as a call sends them */
	o.hints = "go forward ten meters, turn left, stop";
	res = recognize(&h, r, 1, &o, go, ngo, 1, &lat, &feed_ns);
	CHECK(res && res->kind == RESULT_ASR && res->call_id == 7 && res->seq == 1);
	CHECK(res && res->a == 0);
	CHECK_STR(res ? (char *)res->data : NULL, "go forward ten meters");
	CHECK(res && res->len == strlen("go forward ten meters"));
	CHECK(res && res->b > 0 && res->b <= 1000);
	printf("# %.1f s of speech fed in 20 ms pieces: recog_end -> RESULT_ASR %.1f ms; "
	       "recog_feed median %.0f ns per 20 ms piece\n", (double)ngo / 8000, lat, feed_ns);
	/* printed, not asserted: timings belong to `make bench` (docs/BENCHMARKS.md), where a
	 * loaded machine cannot fail the suite */
	result_free(res);

	/* the same audio all at once: the whole decode after the end (the worst case): RTF */
	res = recognize(&h, r, 2, &o, go, ngo, 0, &lat, NULL);
	CHECK_STR(res ? (char *)res->data : NULL, "go forward ten meters");
	printf("# burst: %.1f s of audio decoded in %.1f ms after the end: RTF %.3f\n",
	       (double)ngo / 8000, lat, lat / 1000.0 / ((double)ngo / 8000));
	CHECK(lat / 1000.0 / ((double)ngo / 8000) < 0.5);
	result_free(res);

	/* a JSGF file from grammar_dir */
	o.hints = NULL;
	o.grammar = "goforward.gram";
	res = recognize(&h, r, 3, &o, go, ngo, 0, NULL, NULL);
	CHECK(res && res->a == 0);
	CHECK_STR(res ? (char *)res->data : NULL, "go forward ten meters");
	result_free(res);

	o.grammar = "cards.gram";
	res = recognize(&h, r, 4, &o, card, ncard, 0, NULL, NULL);
	CHECK(res && res->a == 0);
	CHECK_STR(res ? (char *)res->data : NULL, "ten of clubs");
	result_free(res);

	{
		size_t n2 = 0;
		uint8_t *card2 = harness_ulaw(TD "/cards/002.wav", 0, &n2);

		res = card2 ? recognize(&h, r, 16, &o, card2, n2, 0, NULL, NULL) : NULL;
		CHECK_STR(res ? (char *)res->data : NULL, "four queen of clubs");
		CHECK(res && res->b > 500);
		result_free(res);
		free(card2);
	}

	/* a grammar that does not parse: a failed result naming it, never a crash */
	o.grammar = "broken.gram";
	res = recognize(&h, r, 5, &o, card, ncard, 0, NULL, NULL);
	CHECK(res && res->a == -1 && strstr(res->text, "grammar"));
	result_free(res);

	/* names that escape grammar_dir or do not exist are refused at begin */
	{
		const char *bad[] = {"../x.gram", "..gram.gram", "sub/x.gram", "x.txt", ".gram",
				     "missing.gram", "escape.gram", "/etc/passwd.gram"};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct recog_utt *u;

			o.grammar = bad[i];
			err[0] = '\0';
			u = recog_begin(r, 7, 99, &o, err, sizeof(err));
			CHECK_MSG(u == NULL && err[0], bad[i]);
			if (u)
				recog_cancel(u);
			else
				printf("#   %s\n", err);
		}
		o.grammar = NULL;
	}

	/* silence, line noise and loud white noise with hints */
	{
		size_t n = 8000 * 2;
		uint8_t *quiet = malloc(n), *hiss = malloc(n), *loud = malloc(n);
		unsigned seed = 12345;

		for (size_t i = 0; i < n; i++) {
			int v;

			seed = seed * 1103515245u + 12345u;
			v = (int)((seed >> 16) & 0x7fff) - 0x4000;   /* uniform in -16384 .. 16383 */
			quiet[i] = g711_ulaw_encode(0);
			hiss[i] = g711_ulaw_encode((int16_t)(v / 64));   /* about -45 dBFS: a line */
			loud[i] = g711_ulaw_encode((int16_t)(v / 2));    /* about -11 dBFS */
		}
		o.hints = "go forward ten meters, turn left, stop";
		res = recognize(&h, r, 6, &o, quiet, n, 0, NULL, NULL);
		CHECK(res && res->a == 0);
		CHECK_STR(res ? (char *)res->data : NULL, "");
		CHECK(res && res->b == 0);
		result_free(res);
		res = recognize(&h, r, 7, &o, hiss, n, 0, NULL, NULL);
		CHECK(res && res->a == 0);
		CHECK_STR(res ? (char *)res->data : NULL, "");
		CHECK(res && res->b == 0);
		result_free(res);
		/* Loud noise: the grammar's posterior is 1.0 for "stop" stretched over it; the
		 * phone-duration check turns that into nothing */
		res = recognize(&h, r, 13, &o, loud, n, 0, NULL, NULL);
		CHECK(res && res->a == 0);
		CHECK_STR(res ? (char *)res->data : NULL, "");
		CHECK(res && res->b == 0);
		result_free(res);
		free(quiet);
		free(hiss);
		free(loud);
	}

	/* hint phrases the dictionary lacks are left out, with a note; none left: a failure */
	o.hints = "go forward ten meters, zorbluck left, stop<now>";
	res = recognize(&h, r, 8, &o, go, ngo, 0, NULL, NULL);
	CHECK(res && res->a == 0);
	CHECK_STR(res ? (char *)res->data : NULL, "go forward ten meters");
	CHECK(res && strstr(res->text, "zorbluck") && strstr(res->text, "not in the dictionary"));
	CHECK(res && strstr(res->text, "stop<now>") && strstr(res->text, "cannot hold"));
	result_free(res);
	o.hints = "zorbluck, florp";
	res = recognize(&h, r, 9, &o, go, ngo, 0, NULL, NULL);
	CHECK(res && res->a == -1 && strstr(res->text, "no usable hint phrase"));
	CHECK_STR(res ? (char *)res->data : NULL, "");
	result_free(res);

	/* cancel: no result comes, and the decoder is free again for the next utterance */
	{
		struct recog_utt *u, *u2;

		o.hints = "go forward ten meters, turn left, stop";
		u = recog_begin(r, 8, 10, &o, err, sizeof(err));
		CHECK(u != NULL);
		harness_feed(u, go, ngo / 2, 0, NULL);
		recog_cancel(u);
		u2 = recog_begin(r, 9, 11, &o, err, sizeof(err));
		harness_feed(u2, go, ngo / 2, 0, NULL);
		recog_cancel_call(r, 9);
		CHECK(harness_wait(&h, 1500) == NULL);
		res = recognize(&h, r, 12, &o, go, ngo, 0, NULL, NULL);
		CHECK_STR(res ? (char *)res->data : NULL, "go forward ten meters");
		result_free(res);
	}
	/* more hint lists than a decoder keeps (8): the oldest are dropped and remade, and the
	 * answer stays right (two workers: the utterances land on both decoders) */
	{
		static const char *const extra[] = {"yes", "no", "hello", "right", "up", "down",
						     "one", "two", "three", "four", "yes"};
		char hints[128];
		int right = 0;

		for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
			snprintf(hints, sizeof(hints), "%s, go forward ten meters, turn left", extra[i]);
			o.hints = hints;
			o.grammar = NULL;
			res = recognize(&h, r, 20 + (unsigned)i, &o, go, ngo, 0, NULL, NULL);
			right += res && res->a == 0 && !strcmp(res->data, "go forward ten meters");
			result_free(res);
		}
		CHECK(right == (int)(sizeof(extra) / sizeof(extra[0])));
	}

	/* neither hints nor grammar: the language model, loaded now by this decoder only
	 * (its words on telephone audio are poor: only that an answer comes is checked) */
	{
		long before = rss_kb(), after;

		o.hints = NULL;
		o.grammar = NULL;
		res = recognize(&h, r, 14, &o, go, ngo, 0, &lat, NULL);
		after = rss_kb();
		CHECK(res && res->a == 0 && res->data);
		printf("# LM loaded on first use: RSS +%ld kB; decode after the end %.0f ms\n",
		       after - before, lat);
		CHECK(after - before > 20000);
		result_free(res);
		res = recognize(&h, r, 15, &o, go, ngo, 0, &lat, NULL);
		CHECK(res && res->a == 0);
		printf("# LM again (loaded): RTF %.3f\n", lat / 1000.0 / ((double)ngo / 8000));
		result_free(res);
	}
	harness_fini_recog(&h, r);

	/* one decoder, three callers at once: they wait their turn, audio buffered, and each
	 * gets its own answer in full */
	harness_init(&h, 2);
	setup_cfg(&cfg, 1);
	r = recog_new(&cfg, h.pool, h.resq, err, sizeof(err));
	CHECK(r != NULL);
	if (r) {
		struct recog_opts og = {.hints = "go forward ten meters, turn left, stop"};
		struct recog_opts oc = {.grammar = "cards.gram"};
		struct recog_utt *u[3];
		int seen[3] = {0, 0, 0};

		u[0] = recog_begin(r, 1, 1, &og, err, sizeof(err));
		u[1] = recog_begin(r, 2, 2, &oc, err, sizeof(err));
		u[2] = recog_begin(r, 3, 3, &og, err, sizeof(err));
		CHECK(u[0] && u[1] && u[2]);
		for (size_t off = 0; off < ngo; off += 160) {
			size_t k = ngo - off < 160 ? ngo - off : 160;

			recog_feed(u[0], go + off, k);
			if (off < ncard)
				recog_feed(u[1], card + off, ncard - off < 160 ? ncard - off : 160);
			recog_feed(u[2], go + off, k);
		}
		/* past [asr] max_seconds: refused */
		{
			uint8_t big[8000];

			memset(big, 0xff, sizeof(big));
			int refused = 0;

			for (int i = 0; i < cfg.asr_max_seconds + 1 && !refused; i++)
				refused = recog_feed(u[2], big, sizeof(big)) < 0;
			CHECK(refused);
		}
		recog_cancel(u[2]);
		recog_end(u[1]);
		recog_end(u[0]);
		for (int i = 0; i < 2; i++) {
			res = harness_wait(&h, 20000);
			CHECK(res != NULL);
			if (!res)
				break;
			if (res->seq == 1 && strcmp(res->data, "go forward ten meters") == 0)
				seen[0] = 1;
			if (res->seq == 2 && strcmp(res->data, "ten of clubs") == 0)
				seen[1] = 1;
			result_free(res);
		}
		CHECK(seen[0] && seen[1]);
		CHECK(harness_wait(&h, 300) == NULL);
	}
	harness_fini_recog(&h, r);

	/* the pool shut down with an utterance's job still queued (the one worker is held by
	 * another job): feeding says so, and the end gives a failed result, not a hang */
	harness_init(&h, 1);
	setup_cfg(&cfg, 1);
	r = recog_new(&cfg, h.pool, h.resq, err, sizeof(err));
	CHECK(r != NULL);
	if (r) {
		struct recog_opts og = {.hints = "stop"};
		struct recog_utt *u = recog_begin(r, 5, 50, &og, err, sizeof(err));
		struct pool_job blocker = {.run = block_run};

		CHECK(pool_submit(h.pool, &blocker) == 0);
		for (int i = 0; i < 5000 && !blocker_started; i++)
			usleep(1000);   /* bounded: the worker picks the job up */
		CHECK(blocker_started);
		CHECK(recog_feed(u, go, 1600) == 0);   /* its job waits behind the blocker */
		pool_free(h.pool);                    /* drops it: the utterance is stopped */
		h.pool = NULL;
		CHECK(recog_feed(u, go, 160) == -1);
		recog_end(u);
		res = harness_wait(&h, 1000);
		CHECK(res && res->seq == 50 && res->a == -1 && strstr(res->text, "stopped"));
		result_free(res);
	}
	harness_fini_recog(&h, r);

	/* a wrong model path is a start-up error */
	harness_init(&h, 1);
	setup_cfg(&cfg, 1);
	snprintf(cfg.asr_model_dir, sizeof(cfg.asr_model_dir), "/nonexistent");
	err[0] = '\0';
	r = recog_new(&cfg, h.pool, h.resq, err, sizeof(err));
	CHECK(r == NULL && strstr(err, "/nonexistent"));
	recog_free(r);
	harness_fini(&h);

	free(go);
	free(card);
	check_rmdir_flat(gdir);
	return check_done();
}
