/* test_sim_say: callpipe-sim's speaking caller (`call --agent --say`): the options, clips
 * loaded and converted to 8 kHz µ-law, and when each is spoken (at a wait, at a time, in
 * order with the keys), the clear and the reply it is measured against, and the verdict. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "g711.h"
#include "wav.h"
#include "../../tools/sim/agent.h"
#include "../../tools/sim/callrun.h"
#include "../../tools/sim/playout.h"
#include "../../tools/sim/say.h"
#include "../../tools/sim/sim.h"

#define MS 1000

static char dir[] = "/tmp/test_sim_say.XXXXXX";

/* SILENT_MS of silence, then LOUD_MS of a 440 Hz tone, then SILENT_MS again, as raw
 * 16-bit little-endian mono at RATE. */
static void write_raw(const char *path, int rate, int silent_ms, int loud_ms)
{
	FILE *f = fopen(path, "wb");
	long i, n1 = (long)rate * silent_ms / 1000, n2 = (long)rate * loud_ms / 1000;

	for (i = 0; f && i < 2 * n1 + n2; i++) {
		int16_t v = i >= n1 && i < n1 + n2 ?
			    (int16_t)(8000 * sin(2 * M_PI * 440 * (double)i / rate)) : 0;
		uint8_t b[2] = { (uint8_t)(v & 0xFF), (uint8_t)((uint16_t)v >> 8) };

		fwrite(b, 1, 2, f);
	}
	if (f)
		fclose(f);
}

static void test_load(void)
{
	struct sim_say_clip c;
	char path[256], err[400];
	int16_t pcm[8000];
	size_t i;

	CHECK(sim_say_is_raw("a/goforward.raw") && sim_say_is_raw("x.PCM") &&
	      sim_say_is_raw("y.s16"));
	CHECK(!sim_say_is_raw("x.wav") && !sim_say_is_raw("raw") && !sim_say_is_raw(".raw.wav"));

	/* Raw at 16 kHz: 0.5 s silence, 1 s tone, 0.5 s silence -> 2 s at 8 kHz. */
	snprintf(path, sizeof(path), "%s/tone.raw", dir);
	write_raw(path, 16000, 500, 1000);
	CHECK(sim_say_load(&c, path, 16000, err, sizeof(err)) == 0);
	CHECK(c.len % SIM_FRAME_BYTES == 0);
	CHECK(c.len >= 15840 && c.len <= 16160);
	/* The voice: the tone's frames, within a frame of where it is (resampler delay). */
	CHECK(c.voice_from >= 3840 && c.voice_from <= 4160);
	CHECK(c.voice_to >= 11840 && c.voice_to <= 12320);
	CHECK(strcmp(c.path, path) == 0);
	sim_say_clip_free(&c);
	/* The same file read at 8 kHz is twice as long: the rate is what --say-raw-rate says. */
	CHECK(sim_say_load(&c, path, 8000, err, sizeof(err)) == 0);
	CHECK(c.len >= 31840 && c.len <= 32160);
	sim_say_clip_free(&c);

	/* A WAV at 8 kHz, 0.99 s: padded to whole frames with µ-law silence. */
	for (i = 0; i < 7920; i++)
		pcm[i] = (int16_t)(6000 * sin((double)i * 0.3));
	snprintf(path, sizeof(path), "%s/tone.wav", dir);
	CHECK(wav_write_8k(path, pcm, 7920, err, sizeof(err)) == 0);
	CHECK(sim_say_load(&c, path, 16000, err, sizeof(err)) == 0);
	CHECK(c.len == 8000);
	CHECK(c.voice_from == 0 && c.voice_to == 8000);
	sim_say_clip_free(&c);

	/* All silence: no voice. */
	memset(pcm, 0, sizeof(pcm));
	CHECK(wav_write_8k(path, pcm, 8000, err, sizeof(err)) == 0);
	CHECK(sim_say_load(&c, path, 16000, err, sizeof(err)) == 0);
	CHECK(c.voice_to == 0);
	sim_say_clip_free(&c);

	/* Errors name the file and the reason. */
	snprintf(path, sizeof(path), "%s/odd.raw", dir);
	write_raw(path, 8000, 0, 0);
	CHECK(sim_say_load(&c, path, 16000, err, sizeof(err)) == -1 && strstr(err, "no audio"));
	{
		FILE *f = fopen(path, "wb");

		if (f) {
			fputs("abc", f);
			fclose(f);
		}
	}
	CHECK(sim_say_load(&c, path, 16000, err, sizeof(err)) == -1 &&
	      strstr(err, "whole number of 16-bit samples") && strstr(err, path));
	snprintf(path, sizeof(path), "%s/none.wav", dir);
	CHECK(sim_say_load(&c, path, 16000, err, sizeof(err)) == -1 && strstr(err, path));
}

/* Parse ARGS (NULL-terminated) as `call` options; the exit status. */
static int parse(struct sim_callopts *o, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)"call";
	while (*args && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return sim_callopts_parse(argc, argv, o);
}

static void test_options(void)
{
	struct sim_callopts o;
	char a[256], b[256];

	snprintf(a, sizeof(a), "%s/tone.raw", dir);
	write_raw(a, 16000, 100, 300);
	snprintf(b, sizeof(b), "%s/tone.wav", dir);

	/* In command-line order with the keys: say, keys, say (timed). */
	{
		const char *args[] = { "http://127.0.0.1:1", "--agent", "--say", a, "--dtmf", "1#",
				       "--say-at", "2.5", "--say", b, "--say-raw-rate", "16000",
				       NULL };

		CHECK(parse(&o, args) == 0);
		CHECK(o.agent_cfg.nsays == 2 && o.agent_cfg.ngroups == 1);
		CHECK(o.agent_cfg.says[0].order == 0 && o.agent_cfg.groups[0].order == 1 &&
		      o.agent_cfg.says[1].order == 2);
		CHECK(!o.agent_cfg.says[0].timed && o.agent_cfg.says[0].at_us < 0);
		CHECK(o.agent_cfg.says[1].timed && o.agent_cfg.says[1].at_us == 2500 * MS);
		CHECK(o.agent_cfg.says[0].clip == &o.says[0] && o.says[0].len > 0);
		CHECK(strcmp(o.agent_cfg.says[1].clip->path, b) == 0);
		sim_callopts_free(&o);
	}
	/* --say-raw-rate after the --say still applies (the clips load once all is known). */
	{
		const char *args[] = { "http://127.0.0.1:1", "--agent", "--say", a,
				       "--say-raw-rate", "8000", NULL };

		CHECK(parse(&o, args) == 0);
		CHECK(o.says[0].len >= 7840);   /* 0.5 s at 16 kHz read as 1 s at 8 kHz */
		sim_callopts_free(&o);
	}
	/* Usage errors: exit 64. */
	{
		const char *no_agent[] = { "http://127.0.0.1:1", "--say", a, NULL };
		const char *dangling[] = { "http://127.0.0.1:1", "--agent", "--say", a, "--say-at",
					   "1", NULL };
		const char *twice[] = { "http://127.0.0.1:1", "--agent", "--say-at", "1",
					"--say-at", "2", "--say", a, NULL };
		const char *bad_at[] = { "http://127.0.0.1:1", "--agent", "--say-at", "-1",
					 "--say", a, NULL };
		const char *bad_rate[] = { "http://127.0.0.1:1", "--agent", "--say-raw-rate",
					   "44100.5", "--say", a, NULL };
		const char *missing[] = { "http://127.0.0.1:1", "--agent", "--say", "/nonexistent.wav",
					  NULL };
		const char *const *bad[] = { no_agent, dangling, twice, bad_at, bad_rate, missing };
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			CHECK_MSG(parse(&o, bad[i]) == SIM_EXIT_USAGE, "a bad --say option is exit 64");
			sim_callopts_free(&o);
		}
	}
}

/* The clock, the buffer and the caller's line around one agent, as stream.c drives them:
 * a 2 ms tick, a play-out frame and a caller frame every 20 ms, a step each tick. */
struct rig {
	struct sim_agent *a;
	struct sim_playout *po;
	int64_t now;
	uint32_t played, sent;
	size_t voiced;          /* caller frames that carried a clip */
	int64_t first_voiced, last_voiced;
};

static struct sim_say_clip clip_a, clip_b, clip_quiet;

/* A clip of LOUD_FRAMES of tone between PAD_FRAMES of silence on each side. */
static void make_clip(struct sim_say_clip *c, const char *name, int pad, int loud)
{
	size_t i, n = (size_t)(2 * pad + loud) * SIM_FRAME_BYTES;

	memset(c, 0, sizeof(*c));
	c->path = strdup(name);
	c->ulaw = malloc(n);
	for (i = 0; c->ulaw && i < n; i++) {
		size_t f = i / SIM_FRAME_BYTES;

		c->ulaw[i] = f >= (size_t)pad && f < (size_t)(pad + loud) ?
			     g711_ulaw_encode((int16_t)(6000 * sin((double)i * 0.3))) : 0xFF;
	}
	c->len = c->ulaw ? n : 0;
	sim_say_voice(c->ulaw, c->len, &c->voice_from, &c->voice_to);
}

static void rig_init(struct rig *r, struct sim_agent_cfg *cfg)
{
	memset(r, 0, sizeof(*r));
	cfg->quiet_us = 700 * MS;
	cfg->gap_us = 100 * MS;
	r->a = sim_agent_new(cfg);
	r->po = sim_playout_new(0);
	r->first_voiced = r->last_voiced = -1;
}

static void rig_free(struct rig *r)
{
	sim_agent_free(r->a);
	sim_playout_free(r->po);
}

static void run_to(struct rig *r, int64_t until)
{
	uint8_t frame[SIM_FRAME_BYTES];
	char name[64];

	for (; r->now <= until; r->now += 2 * MS) {
		while ((int64_t)r->played < r->now / (20 * MS)) {
			size_t back = sim_playout_returned_marks(r->po);
			size_t n = sim_playout_tick(r->po, frame);

			sim_agent_played(r->a, (int64_t)r->played * 20 * MS, frame, n);
			sim_agent_marks_played(r->a, sim_playout_returned_marks(r->po) - back);
			r->played++;
		}
		while (sim_playout_next_mark(r->po, name, sizeof(name)))
			;
		sim_agent_step(r->a, r->now, sim_playout_buffered(r->po),
			       sim_playout_pending_marks(r->po), sim_playout_returned_marks(r->po));
		/* The caller's frame k goes at k * 20 ms, as callio.c's paced media. */
		while ((int64_t)r->sent * 20 * MS <= r->now) {
			const uint8_t *p = sim_agent_say_frame(r->a, r->now);

			if (p) {
				r->voiced++;
				if (r->first_voiced < 0)
					r->first_voiced = r->now;
				r->last_voiced = r->now;
			}
			r->sent++;
		}
		while (sim_agent_key_due(r->a, r->now))
			sim_agent_key_sent(r->a, r->now);
	}
}

/* MSEC of a loud tone arrives at once as 160-byte media messages, then a mark. */
static void speak(struct rig *r, int msec, const char *mark)
{
	uint8_t f[SIM_FRAME_BYTES];
	int i, j;

	for (i = 0; i < msec / 20; i++) {
		for (j = 0; j < SIM_FRAME_BYTES; j++)
			f[j] = g711_ulaw_encode((int16_t)(6000 * sin((i * 160 + j) * 0.3)));
		sim_playout_media(r->po, f, sizeof(f));
		sim_agent_media(r->a, r->now, sizeof(f));
	}
	if (mark) {
		size_t back = sim_playout_returned_marks(r->po);

		sim_playout_mark(r->po, mark);
		sim_agent_marks_played(r->a, sim_playout_returned_marks(r->po) - back);
	}
}

static void test_say_at_wait(void)
{
	struct sim_agent_cfg cfg;
	struct sim_agent_say *s;
	struct rig r;
	char why[300], err[100];

	memset(&cfg, 0, sizeof(cfg));
	CHECK(sim_agent_add_say(&cfg, &clip_a, -1, err, sizeof(err)) == 0);
	rig_init(&r, &cfg);
	s = &r.a->cfg.says[0];
	speak(&r, 1000, "greeting");
	/* While the greeting plays and for 700 ms after, the caller is silent. */
	run_to(&r, 1690 * MS);
	CHECK(r.voiced == 0 && s->first_us < 0);
	run_to(&r, 1850 * MS);
	CHECK(r.a->waits == 1 && s->at_wait == 1);
	/* It starts with the caller's next frame, and goes on frame after frame. */
	CHECK(s->first_us >= s->at_us && s->first_us - s->at_us <= 20 * MS);
	run_to(&r, s->first_us + 5000 * MS);
	CHECK(r.voiced == clip_a.len / SIM_FRAME_BYTES);
	CHECK(r.last_voiced - r.first_voiced == (int64_t)(r.voiced - 1) * 20 * MS);
	CHECK(s->sent == clip_a.len && r.a->say_active == -1);
	/* Onset at the first tone frame (after 10 of silence), end at the last one (40 on). */
	CHECK(s->onset_us - s->first_us == 10 * 20 * MS);
	CHECK(s->voice_end_us - s->onset_us == 39 * 20 * MS);
	CHECK(s->last_us - s->first_us == 59 * 20 * MS);
	/* No reply yet: the caller waits for it, however long. */
	CHECK(!r.a->done && r.a->reply_pending);
	CHECK(sim_agent_say_reply(r.a, 0, 0) == -1);
	speak(&r, 400, "reply");
	CHECK(sim_agent_say_reply(r.a, 0, 0) == 1);
	run_to(&r, r.now + 1200 * MS);
	CHECK(r.a->done);
	CHECK(sim_agent_verdict(r.a, 0, 0, 60, why, sizeof(why)) == 0);
	rig_free(&r);

	/* Never answered: the verdict names the clip. */
	rig_init(&r, &cfg);
	speak(&r, 200, NULL);
	run_to(&r, 5000 * MS);
	CHECK(r.a->cfg.says[0].sent == clip_a.len && !r.a->done);
	sim_agent_finish(r.a, r.now, 0, 0, 0);
	CHECK(sim_agent_verdict(r.a, 0, 0, 5, why, sizeof(why)) == 1);
	CHECK(strstr(why, "no reply was heard after saying a.wav") != NULL);
	rig_free(&r);

	/* The agent hangs up before the wait: never said. */
	rig_init(&r, &cfg);
	speak(&r, 200, NULL);
	run_to(&r, 300 * MS);
	sim_agent_finish(r.a, r.now, 1, 0, 0);
	CHECK(sim_agent_verdict(r.a, 1000, 0, 60, why, sizeof(why)) == 1);
	CHECK(strstr(why, "never said a.wav") && strstr(why, "hung up first"));
	rig_free(&r);
}

static void test_order_with_keys(void)
{
	struct sim_agent_cfg cfg;
	struct rig r;
	char err[100];

	/* --dtmf 1 --say a --say b: keys at wait 1, a at wait 2, b at wait 3. */
	memset(&cfg, 0, sizeof(cfg));
	CHECK(sim_agent_add_group(&cfg, "1", -1, err, sizeof(err)) == 0);
	CHECK(sim_agent_add_say(&cfg, &clip_a, -1, err, sizeof(err)) == 0);
	CHECK(sim_agent_add_say(&cfg, &clip_b, -1, err, sizeof(err)) == 0);
	rig_init(&r, &cfg);
	speak(&r, 200, "g");
	run_to(&r, 1000 * MS);
	CHECK(r.a->waits == 1 && r.a->cfg.groups[0].sent == 1 && r.voiced == 0);
	speak(&r, 200, "r1");
	run_to(&r, 2000 * MS);
	CHECK(r.a->waits == 2 && r.a->cfg.says[0].at_wait == 2 && r.a->cfg.says[1].first_us < 0);
	/* A wait while the caller speaks does not start the next clip; what the agent said
	 * meanwhile ("x", begun after the clip began) is its answer, so once the clip is out
	 * and quiet follows for --quiet-ms, the next clip goes. */
	speak(&r, 100, "x");
	run_to(&r, 2900 * MS);
	CHECK(r.a->waits == 3 && r.a->say_active == 0 && !r.a->cfg.says[1].scheduled);
	CHECK(sim_agent_say_reply(r.a, 0, 0) == 2);
	run_to(&r, 5000 * MS);
	CHECK(r.a->cfg.says[1].at_wait == 3);
	CHECK(r.a->cfg.says[1].first_us - r.a->cfg.says[0].last_us >= 700 * MS &&
	      r.a->cfg.says[1].first_us - r.a->cfg.says[0].last_us <= 722 * MS);
	rig_free(&r);

	/* --say a --dtmf 1: the clip first, the keys at the wait after its reply. */
	memset(&cfg, 0, sizeof(cfg));
	CHECK(sim_agent_add_say(&cfg, &clip_b, -1, err, sizeof(err)) == 0);
	CHECK(sim_agent_add_group(&cfg, "1", -1, err, sizeof(err)) == 0);
	rig_init(&r, &cfg);
	speak(&r, 200, "g");
	run_to(&r, 1000 * MS);
	CHECK(r.a->cfg.says[0].at_wait == 1 && !r.a->cfg.groups[0].scheduled);
	run_to(&r, 1500 * MS);
	speak(&r, 200, "r1");
	run_to(&r, 2500 * MS);
	CHECK(r.a->cfg.groups[0].at_wait == 2 && r.a->cfg.groups[0].sent == 1);
	rig_free(&r);

	/* Too many clips. */
	memset(&cfg, 0, sizeof(cfg));
	for (int i = 0; i < SIM_AGENT_SAYS_MAX; i++)
		sim_agent_add_say(&cfg, &clip_a, -1, err, sizeof(err));
	CHECK(sim_agent_add_say(&cfg, &clip_a, -1, err, sizeof(err)) == -1 && strstr(err, "at most"));
}

static void test_say_at_barge_in(void)
{
	struct sim_agent_cfg cfg;
	struct sim_agent_say *s;
	struct rig r;
	char why[300], err[100];

	memset(&cfg, 0, sizeof(cfg));
	CHECK(sim_agent_add_say(&cfg, &clip_a, 500 * MS, err, sizeof(err)) == 0);
	rig_init(&r, &cfg);
	s = &r.a->cfg.says[0];
	speak(&r, 3000, "long");
	run_to(&r, 498 * MS);
	CHECK(s->first_us < 0);
	run_to(&r, 520 * MS);
	CHECK(s->first_us == 500 * MS);           /* at its time, over the agent */
	CHECK(!r.a->reply_pending);               /* said over the agent: no answer owed yet */
	run_to(&r, 898 * MS);
	CHECK(s->onset_us == 700 * MS);
	/* The agent hears it and clears: 200 ms after the onset; its answer is now owed. */
	sim_agent_clear(r.a, r.now, sim_playout_buffered(r.po), sim_playout_pending_marks(r.po));
	sim_playout_clear(r.po);
	CHECK(s->clear_us - s->onset_us == 200 * MS);
	CHECK(r.a->reply_pending && r.a->utts[0].end == SIM_UTT_CLEAR);
	/* A second clear does not move the first. */
	sim_agent_clear(r.a, r.now + 100 * MS, 0, 0);
	CHECK(s->clear_us == 900 * MS);
	/* The reply comes 500 ms after the voice ended; the caller hangs up after it. */
	run_to(&r, 1600 * MS);
	CHECK(s->voice_end_us == 1480 * MS);
	CHECK(!r.a->done);                        /* the answer is owed: no hang-up */
	run_to(&r, s->voice_end_us + 498 * MS);
	speak(&r, 300, "reply");
	CHECK(sim_agent_say_reply(r.a, 0, 0) == 1);
	CHECK(r.a->utts[1].start_us - s->voice_end_us == 500 * MS);
	run_to(&r, r.now + 1200 * MS);
	CHECK(r.a->done);
	CHECK(sim_agent_verdict(r.a, 0, 0, 60, why, sizeof(why)) == 0);
	rig_free(&r);

	/* A clear that never comes: said over the agent and not heard needs no reply; the
	 * caller hangs up once it is all played and quiet (no further wait is needed). */
	rig_init(&r, &cfg);
	speak(&r, 1000, "greeting");
	run_to(&r, 4000 * MS);
	CHECK(r.a->cfg.says[0].sent == clip_a.len && r.a->cfg.says[0].clear_us < 0);
	CHECK(r.a->done);
	CHECK(sim_agent_verdict(r.a, 0, 0, 60, why, sizeof(why)) == 0);
	rig_free(&r);

	/* Still saying it when the greeting's wait comes: the keys wait for the clip to end
	 * and a quiet after it (a caller does not key while talking). */
	memset(&cfg, 0, sizeof(cfg));
	CHECK(sim_agent_add_say(&cfg, &clip_a, 500 * MS, err, sizeof(err)) == 0);
	CHECK(sim_agent_add_group(&cfg, "1", -1, err, sizeof(err)) == 0);
	rig_init(&r, &cfg);
	speak(&r, 200, "greeting");
	run_to(&r, 1000 * MS);
	CHECK(r.a->waits == 1 && r.a->say_active == 0 && !r.a->cfg.groups[0].scheduled);
	run_to(&r, 3000 * MS);
	CHECK(r.a->cfg.groups[0].sent == 1);
	CHECK(r.a->cfg.groups[0].first_us - r.a->cfg.says[0].last_us >= 700 * MS);
	rig_free(&r);

	/* A clear long after the voice ended is not this clip's. */
	rig_init(&r, &cfg);
	speak(&r, 8000, "long");
	run_to(&r, 5000 * MS);
	sim_agent_clear(r.a, r.now, sim_playout_buffered(r.po), 0);
	CHECK(r.a->cfg.says[0].clear_us < 0);
	rig_free(&r);
}

static void test_silent_clip(void)
{
	struct sim_agent_cfg cfg;
	struct rig r;
	char why[300], err[100];

	/* Silence at a wait (the Gather's timeout): the agent's timeout prompt is the reply. */
	memset(&cfg, 0, sizeof(cfg));
	CHECK(sim_agent_add_say(&cfg, &clip_quiet, -1, err, sizeof(err)) == 0);
	rig_init(&r, &cfg);
	speak(&r, 200, "g");
	run_to(&r, 1500 * MS);
	CHECK(r.a->say_active == 0 && r.a->cfg.says[0].onset_us < 0);
	speak(&r, 400, "are you there");   /* over the caller's silence */
	run_to(&r, 6000 * MS);
	CHECK(r.a->cfg.says[0].voice_end_us < 0 && r.a->cfg.says[0].last_us > 0);
	CHECK(sim_agent_say_reply(r.a, 0, 1) == 1);
	CHECK(r.a->done);
	CHECK(sim_agent_verdict(r.a, 0, 0, 60, why, sizeof(why)) == 0);
	rig_free(&r);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		CHECK_MSG(0, "mkdtemp");
		return check_done();
	}
	make_clip(&clip_a, "a.wav", 10, 40);
	make_clip(&clip_b, "b.wav", 5, 10);
	make_clip(&clip_quiet, "quiet.wav", 100, 0);
	CHECK(clip_a.voice_from == 1600 && clip_a.voice_to == 8000 && clip_quiet.voice_to == 0);
	test_load();
	test_options();
	test_say_at_wait();
	test_order_with_keys();
	test_say_at_barge_in();
	test_silent_clip();
	sim_say_clip_free(&clip_a);
	sim_say_clip_free(&clip_b);
	sim_say_clip_free(&clip_quiet);
	check_rmdir_flat(dir);
	return check_done();
}
