/* agent: the caller of an agent-mode call (`call --agent`): splits what it hears into
 * utterances, sees when the agent waits, presses keys then, and judges the conversation. */
#include "agent.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "g711.h"
#include "playout.h"

int sim_agent_add_group(struct sim_agent_cfg *cfg, const char *keys, int64_t at_us,
			char *err, size_t cap)
{
	struct sim_agent_group *g;
	size_t n = strlen(keys);

	if (n == 0 || keys[strspn(keys, "0123456789*#")] != '\0') {
		snprintf(err, cap, "keys are 0-9, * and #, at least one, not '%s'", keys);
		return -1;
	}
	if (n > SIM_AGENT_KEYS_MAX) {
		snprintf(err, cap, "at most %d keys in one group", SIM_AGENT_KEYS_MAX);
		return -1;
	}
	if (cfg->ngroups >= SIM_AGENT_GROUPS_MAX) {
		snprintf(err, cap, "at most %d groups of keys", SIM_AGENT_GROUPS_MAX);
		return -1;
	}
	g = &cfg->groups[cfg->ngroups++];
	memset(g, 0, sizeof(*g));
	memcpy(g->keys, keys, n + 1);
	g->timed = at_us >= 0;
	g->scheduled = g->timed;
	g->at_us = at_us;
	g->first_us = g->last_us = -1;
	return 0;
}

struct sim_agent *sim_agent_new(const struct sim_agent_cfg *cfg)
{
	struct sim_agent *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->cfg = *cfg;
	a->last_media_us = a->quiet_from_us = 0;
	return a;
}

void sim_agent_free(struct sim_agent *a)
{
	if (!a)
		return;
	free(a->utts);
	free(a);
}

static struct sim_agent_utt *current(struct sim_agent *a)
{
	return a->open ? &a->utts[a->nutts - 1] : NULL;
}

static struct sim_agent_utt *latest(struct sim_agent *a)
{
	return a->nutts ? &a->utts[a->nutts - 1] : NULL;
}

static void end_utt(struct sim_agent *a, int64_t now, enum sim_agent_end why)
{
	struct sim_agent_utt *u = current(a);

	if (!u)
		return;
	u->end = why;
	u->end_us = now;
	a->open = 0;
}

void sim_agent_media(struct sim_agent *a, int64_t now, size_t len)
{
	struct sim_agent_utt *u;

	if (a->finished)
		return;
	if (!a->open) {
		if (a->nutts == a->cutts) {
			size_t ncap = a->cutts ? a->cutts * 2 : 8;
			struct sim_agent_utt *p = realloc(a->utts, ncap * sizeof(*p));

			if (!p)
				return;
			a->utts = p;
			a->cutts = ncap;
		}
		u = &a->utts[a->nutts++];
		memset(u, 0, sizeof(*u));
		u->start_us = now;
		u->end_us = -1;
		u->audible_us = -1;
		a->open = 1;
		a->reply_pending = 0;   /* whatever keys went out, this answers them */
	}
	u = current(a);
	u->frames++;
	u->bytes += len;
	a->frames++;
	if (len != SIM_FRAME_BYTES) {
		u->odd_frames++;
		a->odd_frames++;
	}
	a->last_media_us = now;
}

void sim_agent_played(struct sim_agent *a, int64_t now, const uint8_t *frame, size_t n)
{
	struct sim_agent_utt *u = current(a);
	double sq = 0;
	size_t i;

	if (!n || a->finished)
		return;
	/* The caller hears quiet from the end of this frame on. */
	a->quiet_from_us = now + SIM_FRAME_US;
	if (!u)
		return;
	for (i = 0; i < n; i++) {
		double s = g711_ulaw_decode(frame[i]);

		sq += s * s;
	}
	u->sumsq += sq;
	u->heard_bytes += n;
	if (u->audible_us < 0 && sqrt(sq / (double)n) > SIM_AGENT_RMS_FLOOR)
		u->audible_us = now > u->start_us ? now : u->start_us;
}

void sim_agent_marks_played(struct sim_agent *a, size_t n)
{
	struct sim_agent_utt *u = latest(a);

	if (!n)
		return;
	a->marks_played += n;
	if (u)
		u->marks_played += n;
}

void sim_agent_clear(struct sim_agent *a, int64_t now, size_t bytes, size_t marks)
{
	struct sim_agent_utt *u = latest(a);

	if (a->finished)
		return;
	a->clears++;
	a->marks_flushed += marks;
	if (now > a->quiet_from_us)
		a->quiet_from_us = now;
	if (!u)
		return;
	u->marks_flushed += marks;
	if (a->open) {
		u->clears++;
		u->flushed_bytes += bytes;
		end_utt(a, now, SIM_UTT_CLEAR);
	}
}

/* A group some of whose keys are still to go out. */
static int keys_in_flight(const struct sim_agent *a)
{
	size_t g;

	for (g = 0; g < a->cfg.ngroups; g++) {
		const struct sim_agent_group *gr = &a->cfg.groups[g];

		if (gr->scheduled && gr->sent < strlen(gr->keys) && (!gr->timed || gr->sent))
			return 1;
	}
	return 0;
}

static int all_keys_sent(const struct sim_agent *a)
{
	size_t g;

	for (g = 0; g < a->cfg.ngroups; g++)
		if (a->cfg.groups[g].sent < strlen(a->cfg.groups[g].keys))
			return 0;
	return 1;
}

int sim_agent_step(struct sim_agent *a, int64_t now, size_t buffered, size_t pending_marks,
		   size_t returned_unsent)
{
	int64_t quiet = a->last_media_us > a->quiet_from_us ? a->last_media_us :
			a->quiet_from_us;

	if (buffered > a->max_buffered)
		a->max_buffered = buffered;
	if (!a->open || a->finished || a->done || buffered || pending_marks || returned_unsent ||
	    now - quiet < a->cfg.quiet_us)
		return 0;
	/* The agent has finished speaking: all played, every mark back, quiet since. */
	end_utt(a, now, SIM_UTT_WAIT);
	a->waits++;
	if (keys_in_flight(a))
		return 1;
	while (a->next_wait_group < a->cfg.ngroups && a->cfg.groups[a->next_wait_group].timed)
		a->next_wait_group++;
	if (a->next_wait_group < a->cfg.ngroups) {
		struct sim_agent_group *g = &a->cfg.groups[a->next_wait_group++];

		g->scheduled = 1;
		g->at_us = now;
		g->at_wait = a->waits;
		return 1;
	}
	/* Nothing more to press: once the last keys have been answered, hang up. */
	if (all_keys_sent(a) && !a->reply_pending)
		a->done = 1;
	return 1;
}

/* The group whose next key is due soonest (at or before NOW), or -1. */
static long due_group(const struct sim_agent *a, int64_t now)
{
	int64_t best = 0;
	long pick = -1;
	size_t g;

	for (g = 0; g < a->cfg.ngroups; g++) {
		const struct sim_agent_group *gr = &a->cfg.groups[g];
		int64_t due = gr->at_us + (int64_t)gr->sent * a->cfg.gap_us;

		if (!gr->scheduled || gr->sent >= strlen(gr->keys) || due > now)
			continue;
		if (pick < 0 || due < best) {
			best = due;
			pick = (long)g;
		}
	}
	return pick;
}

char sim_agent_key_due(const struct sim_agent *a, int64_t now)
{
	long g = a->finished ? -1 : due_group(a, now);

	return g < 0 ? 0 : a->cfg.groups[g].keys[a->cfg.groups[g].sent];
}

void sim_agent_key_sent(struct sim_agent *a, int64_t now)
{
	long g = due_group(a, now);
	struct sim_agent_group *gr;

	if (g < 0)
		return;
	gr = &a->cfg.groups[g];
	if (gr->sent++ == 0) {
		gr->first_us = now;
		a->reply_pending = 1;
	}
	gr->last_us = now;
}

void sim_agent_finish(struct sim_agent *a, int64_t now, int hangup, size_t buffered,
		      size_t pending)
{
	if (a->finished)
		return;
	end_utt(a, now, hangup ? SIM_UTT_HANGUP : SIM_UTT_END);
	a->finished = 1;
	a->unplayed_at_end = buffered;
	a->pending_marks_at_end = pending;
}

double sim_agent_utt_rms(const struct sim_agent_utt *u)
{
	return u->heard_bytes ? sqrt(u->sumsq / (double)u->heard_bytes) : 0;
}

long sim_agent_reply(const struct sim_agent *a, size_t g, int audible)
{
	const struct sim_agent_group *gr = &a->cfg.groups[g];
	size_t i;

	if (!gr->sent)
		return -1;
	for (i = 0; i < a->nutts; i++) {
		const struct sim_agent_utt *u = &a->utts[i];

		if (u->start_us < gr->first_us)
			continue;
		if (!audible || sim_agent_utt_rms(u) > SIM_AGENT_RMS_FLOOR)
			return (long)i;
	}
	return -1;
}

size_t sim_agent_keys_sent(const struct sim_agent *a, int64_t *first_us)
{
	size_t g, n = 0;

	*first_us = -1;
	for (g = 0; g < a->cfg.ngroups; g++) {
		const struct sim_agent_group *gr = &a->cfg.groups[g];

		n += gr->sent;
		if (gr->sent && (*first_us < 0 || gr->first_us < *first_us))
			*first_us = gr->first_us;
	}
	return n;
}

long sim_agent_greeting(const struct sim_agent *a)
{
	int64_t first_key;
	size_t i;

	sim_agent_keys_sent(a, &first_key);
	for (i = 0; i < a->nutts; i++) {
		if (first_key >= 0 && a->utts[i].start_us >= first_key)
			break;
		if (sim_agent_utt_rms(&a->utts[i]) > SIM_AGENT_RMS_FLOOR)
			return (long)i;
	}
	return -1;
}

const char *sim_agent_end_name(enum sim_agent_end e)
{
	switch (e) {
	case SIM_UTT_WAIT: return "wait";
	case SIM_UTT_CLEAR: return "clear";
	case SIM_UTT_HANGUP: return "hangup";
	case SIM_UTT_END: return "end";
	default: return "open";
	}
}

static int keys_verdict(const struct sim_agent *a, double max_seconds, int hung_up,
			char *why, size_t cap)
{
	size_t g;

	for (g = 0; g < a->cfg.ngroups; g++) {
		const struct sim_agent_group *gr = &a->cfg.groups[g];
		long any = sim_agent_reply(a, g, 0), heard = sim_agent_reply(a, g, 1);

		if (gr->sent < strlen(gr->keys)) {
			snprintf(why, cap, "keys %s were %s: %s", gr->keys, gr->sent ? "not all sent" :
				 "never sent", hung_up ? "the agent hung up first" : gr->timed ?
				 "the call ended before their time" : a->open ? "the agent never "
				 "finished speaking (its audio kept coming or its marks did not come "
				 "back)" : "the agent did not wait for them before the call ended");
			return 1;
		}
		if (heard >= 0)
			continue;
		if (any >= 0)
			snprintf(why, cap, "the reply to keys %s was silence (utterance %ld, RMS "
				 "%.0f, floor %.0f)", gr->keys, any + 1,
				 sim_agent_utt_rms(&a->utts[any]), SIM_AGENT_RMS_FLOOR);
		else
			snprintf(why, cap, "no reply was heard after keys %s (%s)", gr->keys,
				 hung_up ? "the agent hung up" : "waited until the end of the call, "
				 "at most --max-seconds");
		(void)max_seconds;
		return 1;
	}
	return 0;
}

int sim_agent_verdict(const struct sim_agent *a, int close_code, int expect_hangup,
		      double max_seconds, char *why, size_t cap)
{
	int64_t first_key;

	if (a->odd_frames) {
		size_t i;

		for (i = 0; i < a->nutts && !a->utts[i].odd_frames; i++)
			;
		snprintf(why, cap, "%lu of the agent's %lu media messages were not 160 bytes "
			 "(20 ms), the first in utterance %zu", a->odd_frames, a->frames, i + 1);
		return 1;
	}
	sim_agent_keys_sent(a, &first_key);
	if (sim_agent_greeting(a) < 0) {
		if (!a->nutts || (first_key >= 0 && a->utts[0].start_us >= first_key))
			snprintf(why, cap, "no greeting: the agent sent no audio %s",
				 first_key >= 0 ? "before the first key" : "at all");
		else
			snprintf(why, cap, "no greeting: the agent's first utterance (%.2f s heard) "
				 "was silence (RMS %.0f, floor %.0f)%s",
				 (double)a->utts[0].heard_bytes / 8000.0,
				 sim_agent_utt_rms(&a->utts[0]), SIM_AGENT_RMS_FLOOR,
				 a->utts[0].end == SIM_UTT_WAIT ? "" : "; it never went quiet "
				 "(is the server echoing the caller?)");
		return 1;
	}
	if (close_code && close_code != 1000) {
		snprintf(why, cap, "the server ended the stream with %d before the caller hung up "
			 "(an agent hangs up with 1000)", close_code);
		return 1;
	}
	if (keys_verdict(a, max_seconds, close_code == 1000, why, cap))
		return 1;
	if (close_code == 1000 && (a->unplayed_at_end || a->pending_marks_at_end)) {
		snprintf(why, cap, "the agent hung up with %.0f ms of its audio not yet played "
			 "(%zu marks pending): the caller would not hear the end",
			 (double)a->unplayed_at_end / 8.0, a->pending_marks_at_end);
		return 1;
	}
	if (expect_hangup && close_code != 1000) {
		snprintf(why, cap, "expected the agent to hang up (the server closing with 1000); "
			 "it did not close before the caller hung up");
		return 1;
	}
	if (!close_code && !a->done) {
		snprintf(why, cap, "the call reached --max-seconds %g before the agent's last "
			 "reply ended (its audio kept coming or its marks did not come back)",
			 max_seconds);
		return 1;
	}
	return 0;
}
