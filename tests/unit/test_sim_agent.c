/* test_sim_agent: callpipe-sim's caller of an agent call: utterances, the wait detector
 * (all played, marks back, quiet), keys at waits and at times, replies, and the verdict. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "g711.h"
#include "../../tools/sim/agent.h"
#include "../../tools/sim/playout.h"

#define MS 1000

/* The buffer and the clock around one agent, as stream.c drives it: a 2 ms tick, a play-out
 * frame every 20 ms, a step each tick. */
struct rig {
	struct sim_agent *a;
	struct sim_playout *po;
	int64_t now;
	uint32_t played;
	int waits_seen;
};

static void rig_init(struct rig *r, struct sim_agent_cfg *cfg)
{
	memset(r, 0, sizeof(*r));
	if (!cfg->quiet_us)
		cfg->quiet_us = 700 * MS;
	if (!cfg->gap_us)
		cfg->gap_us = 100 * MS;
	r->a = sim_agent_new(cfg);
	r->po = sim_playout_new(0);
}

static void rig_free(struct rig *r)
{
	sim_agent_free(r->a);
	sim_playout_free(r->po);
}

/* Keys the rig "sends" as they fall due, into SENT. */
static char sent[128];

static void run_to(struct rig *r, int64_t until)
{
	uint8_t frame[SIM_FRAME_BYTES];
	char name[64];
	char k;

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
		r->waits_seen += sim_agent_step(r->a, r->now, sim_playout_buffered(r->po),
						sim_playout_pending_marks(r->po),
						sim_playout_returned_marks(r->po));
		while ((k = sim_agent_key_due(r->a, r->now)) != 0) {
			size_t n = strlen(sent);

			if (n + 1 < sizeof(sent)) {
				sent[n] = k;
				sent[n + 1] = '\0';
			}
			sim_agent_key_sent(r->a, r->now);
		}
	}
}

/* MSEC of a loud tone (or silence) arrives at once as 160-byte media messages, then a mark. */
static void speak(struct rig *r, int msec, int loud, const char *mark)
{
	uint8_t f[SIM_FRAME_BYTES];
	int i, j;

	for (i = 0; i < msec / 20; i++) {
		for (j = 0; j < SIM_FRAME_BYTES; j++)
			f[j] = loud ? g711_ulaw_encode((int16_t)(6000 * sin((i * 160 + j) * 0.3)))
				    : 0xFF;
		sim_playout_media(r->po, f, sizeof(f));
		sim_agent_media(r->a, r->now, sizeof(f));
	}
	if (mark) {
		size_t back = sim_playout_returned_marks(r->po);

		sim_playout_mark(r->po, mark);
		sim_agent_marks_played(r->a, sim_playout_returned_marks(r->po) - back);
	}
}

static void test_greeting_wait_keys_reply(void)
{
	struct sim_agent_cfg cfg;
	struct rig r;
	char why[300], err[100];

	memset(&cfg, 0, sizeof(cfg));
	CHECK(sim_agent_add_group(&cfg, "42#", -1, err, sizeof(err)) == 0);
	rig_init(&r, &cfg);
	sent[0] = '\0';
	run_to(&r, 100 * MS);
	CHECK(r.a->nutts == 0 && r.waits_seen == 0);   /* no audio yet: nothing to wait after */
	speak(&r, 1000, 1, "greeting");
	/* 1 s of audio plays until ~1.1 s: no wait while it plays, nor 700 ms after. */
	run_to(&r, 1700 * MS);
	CHECK(r.waits_seen == 0);
	CHECK(sent[0] == '\0');
	run_to(&r, 1850 * MS);
	CHECK(r.waits_seen == 1);
	/* Played until 1.1 s, then 700 ms of quiet. */
	CHECK(r.a->utts[0].end_us >= 1800 * MS && r.a->utts[0].end_us <= 1822 * MS);
	CHECK(r.a->nutts == 1 && r.a->utts[0].end == SIM_UTT_WAIT);
	CHECK(r.a->utts[0].heard_bytes == 8000);
	CHECK(r.a->utts[0].marks_played == 1);
	CHECK(sim_agent_utt_rms(&r.a->utts[0]) > SIM_AGENT_RMS_FLOOR);
	CHECK(r.a->utts[0].audible_us >= 100 * MS && r.a->utts[0].audible_us <= 140 * MS);
	/* The keys go at the wait, 100 ms apart. */
	CHECK_STR(sent, "4");
	CHECK(r.a->cfg.groups[0].at_wait == 1);
	run_to(&r, 2100 * MS);
	CHECK_STR(sent, "42#");
	CHECK(!r.a->done);
	/* The reply, 300 ms after the last key. */
	run_to(&r, r.a->cfg.groups[0].last_us + 298 * MS);
	speak(&r, 400, 1, "reply");
	CHECK(r.a->nutts == 2);
	CHECK(sim_agent_reply(r.a, 0, 0) == 1);
	CHECK(sim_agent_reply(r.a, 0, 1) == -1);   /* not heard yet */
	CHECK(r.a->utts[1].start_us - r.a->cfg.groups[0].last_us == 300 * MS);
	run_to(&r, r.now + 1000 * MS);
	CHECK(!r.a->done);          /* played by now + 400, quiet 700 after */
	run_to(&r, r.now + 200 * MS);
	CHECK(r.a->done);
	CHECK(sim_agent_reply(r.a, 0, 1) == 1);
	CHECK(sim_agent_verdict(r.a, 0, 0, 60, why, sizeof(why)) == 0);
	CHECK(sim_agent_greeting(r.a) == 0);
	/* --expect-hangup wants the server to close; a close with 1000 with all played is fine. */
	CHECK(sim_agent_verdict(r.a, 0, 1, 60, why, sizeof(why)) == 1 && strstr(why, "hang up"));
	sim_agent_finish(r.a, r.now, 1, 0, 0);
	CHECK(sim_agent_verdict(r.a, 1000, 1, 60, why, sizeof(why)) == 0);
	rig_free(&r);
}

static void test_mark_holds_the_wait(void)
{
	struct sim_agent_cfg cfg;
	struct rig r;

	memset(&cfg, 0, sizeof(cfg));
	rig_init(&r, &cfg);
	speak(&r, 200, 1, NULL);
	run_to(&r, 1500 * MS);
	CHECK(r.waits_seen == 1 && r.a->done);   /* no keys: done after the greeting */
	rig_free(&r);

	/* A mark the caller has not sent back yet keeps the agent "speaking". */
	rig_init(&r, &cfg);
	speak(&r, 200, 1, "m");
	CHECK(sim_agent_step(r.a, 5000 * MS, 0, 0, 1) == 0);
	CHECK(sim_agent_step(r.a, 5000 * MS, 0, 1, 0) == 0);
	CHECK(sim_agent_step(r.a, 5000 * MS, 160, 0, 0) == 0);
	CHECK(sim_agent_step(r.a, 5000 * MS, 0, 0, 0) == 1);
	rig_free(&r);
}

static void test_echo_never_waits(void)
{
	struct sim_agent_cfg cfg;
	struct rig r;
	char why[300];
	int i;

	/* What an echo server sends back to a silent caller: silence, every 20 ms. */
	memset(&cfg, 0, sizeof(cfg));
	rig_init(&r, &cfg);
	for (i = 0; i < 150; i++) {
		speak(&r, 20, 0, NULL);
		run_to(&r, r.now + 18 * MS);
	}
	CHECK(r.waits_seen == 0 && r.a->nutts == 1);
	sim_agent_finish(r.a, r.now, 0, sim_playout_buffered(r.po), 0);
	CHECK(r.a->utts[0].end == SIM_UTT_END);
	CHECK(sim_agent_verdict(r.a, 0, 0, 3, why, sizeof(why)) == 1);
	CHECK(strstr(why, "no greeting") && strstr(why, "silence") && strstr(why, "echoing"));
	rig_free(&r);
}

static void test_clear_and_timed_keys(void)
{
	struct sim_agent_cfg cfg;
	struct rig r;
	char why[300], err[100];

	memset(&cfg, 0, sizeof(cfg));
	CHECK(sim_agent_add_group(&cfg, "5", 500 * MS, err, sizeof(err)) == 0);
	CHECK(sim_agent_add_group(&cfg, "x", -1, err, sizeof(err)) == -1);
	CHECK(sim_agent_add_group(&cfg, "", -1, err, sizeof(err)) == -1);
	rig_init(&r, &cfg);
	sent[0] = '\0';
	speak(&r, 2000, 1, "long");
	run_to(&r, 498 * MS);
	CHECK_STR(sent, "");
	run_to(&r, 520 * MS);
	CHECK_STR(sent, "5");          /* barge-in: pressed while the agent speaks */
	/* The server clears: the rest is flushed, the pending mark comes back at once. */
	run_to(&r, 600 * MS);
	sim_agent_clear(r.a, r.now, sim_playout_buffered(r.po), sim_playout_pending_marks(r.po));
	sim_playout_clear(r.po);
	CHECK(r.a->utts[0].end == SIM_UTT_CLEAR);
	CHECK(r.a->utts[0].marks_flushed == 1 && r.a->utts[0].flushed_bytes > 10000);
	CHECK(r.a->clears == 1);
	run_to(&r, 700 * MS);
	speak(&r, 300, 1, "r");
	run_to(&r, 2000 * MS);
	CHECK(r.a->nutts == 2 && sim_agent_reply(r.a, 0, 1) == 1);
	CHECK(r.a->done);
	CHECK(sim_agent_verdict(r.a, 0, 0, 60, why, sizeof(why)) == 0);
	rig_free(&r);
}

static void test_verdicts(void)
{
	struct sim_agent_cfg cfg;
	struct rig r;
	char why[300], err[100];

	/* No reply after the keys. */
	memset(&cfg, 0, sizeof(cfg));
	CHECK(sim_agent_add_group(&cfg, "1", -1, err, sizeof(err)) == 0);
	rig_init(&r, &cfg);
	speak(&r, 200, 1, NULL);
	run_to(&r, 3000 * MS);
	CHECK(r.a->cfg.groups[0].sent == 1 && !r.a->done);
	sim_agent_finish(r.a, r.now, 0, 0, 0);
	CHECK(sim_agent_verdict(r.a, 0, 0, 3, why, sizeof(why)) == 1);
	CHECK(strstr(why, "no reply was heard after keys 1") != NULL);
	rig_free(&r);

	/* The agent hangs up before the keys: they were never sent. */
	rig_init(&r, &cfg);
	speak(&r, 200, 1, NULL);
	run_to(&r, 300 * MS);
	sim_agent_finish(r.a, r.now, 1, 0, 0);
	CHECK(sim_agent_verdict(r.a, 1000, 0, 60, why, sizeof(why)) == 1);
	CHECK(strstr(why, "never sent") && strstr(why, "hung up first"));
	rig_free(&r);

	/* Hanging up over unplayed audio; frames that are not 160 bytes; another close code. */
	memset(&cfg, 0, sizeof(cfg));
	rig_init(&r, &cfg);
	speak(&r, 1000, 1, "bye");
	run_to(&r, 200 * MS);
	sim_agent_finish(r.a, r.now, 1, sim_playout_buffered(r.po),
			 sim_playout_pending_marks(r.po));
	CHECK(r.a->utts[0].end == SIM_UTT_HANGUP);
	CHECK(sim_agent_verdict(r.a, 1000, 0, 60, why, sizeof(why)) == 1);
	CHECK(strstr(why, "not yet played") != NULL);
	CHECK(sim_agent_verdict(r.a, 1011, 0, 60, why, sizeof(why)) == 1 && strstr(why, "1011"));
	rig_free(&r);

	rig_init(&r, &cfg);
	sim_agent_media(r.a, 0, 320);
	sim_agent_finish(r.a, 10, 0, 0, 0);
	CHECK(sim_agent_verdict(r.a, 0, 0, 60, why, sizeof(why)) == 1 &&
	      strstr(why, "not 160 bytes"));
	rig_free(&r);

	/* Nothing at all. */
	rig_init(&r, &cfg);
	sim_agent_finish(r.a, 10, 0, 0, 0);
	CHECK(sim_agent_verdict(r.a, 0, 0, 60, why, sizeof(why)) == 1 &&
	      strstr(why, "no audio at all"));
	rig_free(&r);
}

int main(void)
{
	test_greeting_wait_keys_reply();
	test_mark_holds_the_wait();
	test_echo_never_waits();
	test_clear_and_timed_keys();
	test_verdicts();
	return check_done();
}
