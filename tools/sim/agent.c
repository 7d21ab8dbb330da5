/* agent: the caller of an agent-mode call (`call --agent`): splits what it hears into
 * utterances, sees when the agent waits, presses keys then, and judges the conversation. */
#include "agent.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "g711.h"
#include "playout.h"
#include "say.h"

/* A clear this long after a clip's voice ended still answers it (the agent's endpointing
 * may cut the audio only once it is sure the caller speaks). */
#define SAY_CLEAR_WINDOW_US 2000000

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
	g->order = cfg->norder++;
	return 0;
}

int sim_agent_add_say(struct sim_agent_cfg *cfg, const struct sim_say_clip *clip,
		      int64_t at_us, char *err, size_t cap)
{
	struct sim_agent_say *s;

	if (cfg->nsays >= SIM_AGENT_SAYS_MAX) {
		snprintf(err, cap, "at most %d --say clips", SIM_AGENT_SAYS_MAX);
		return -1;
	}
	s = &cfg->says[cfg->nsays++];
	memset(s, 0, sizeof(*s));
	s->clip = clip;
	s->timed = at_us >= 0;
	s->scheduled = s->timed;
	s->at_us = at_us;
	s->first_us = s->onset_us = s->voice_end_us = s->last_us = s->clear_us = -1;
	s->order = cfg->norder++;
	return 0;
}

struct sim_agent *sim_agent_new(const struct sim_agent_cfg *cfg)
{
	struct sim_agent *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->cfg = *cfg;
	a->last_media_us = a->quiet_from_us = 0;
	a->say_active = -1;
	a->say_done_us = -1;
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

/* A clear at NOW answers the clip whose voice began last, if it is still speaking or has
 * just stopped: the agent heard the caller, so its answer is awaited. */
static void say_clear(struct sim_agent *a, int64_t now)
{
	struct sim_agent_say *s = NULL;
	size_t i;

	for (i = 0; i < a->cfg.nsays; i++) {
		struct sim_agent_say *c = &a->cfg.says[i];

		if (c->onset_us >= 0 && (!s || c->onset_us > s->onset_us))
			s = c;
	}
	if (!s || s->clear_us >= 0 ||
	    (s->voice_end_us >= 0 && now - s->voice_end_us > SAY_CLEAR_WINDOW_US))
		return;
	s->clear_us = now;
	a->reply_pending = 1;
}

void sim_agent_clear(struct sim_agent *a, int64_t now, size_t bytes, size_t marks)
{
	struct sim_agent_utt *u = latest(a);

	if (a->finished)
		return;
	a->clears++;
	a->marks_flushed += marks;
	say_clear(a, now);
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

/* A clip being spoken, or one given to this wait and not yet begun. */
static int says_in_flight(const struct sim_agent *a)
{
	size_t i;

	if (a->say_active >= 0)
		return 1;
	for (i = 0; i < a->cfg.nsays; i++) {
		const struct sim_agent_say *s = &a->cfg.says[i];

		if (s->scheduled && !s->timed && s->sent < s->clip->len)
			return 1;
	}
	return 0;
}

static int script_over(const struct sim_agent *a)
{
	size_t i;

	for (i = 0; i < a->cfg.nsays; i++)
		if (a->cfg.says[i].sent < a->cfg.says[i].clip->len)
			return 0;
	return all_keys_sent(a) && !a->reply_pending && a->say_active < 0;
}

/* At a wait: the next --dtmf or --say in command-line order goes now. */
static void schedule_next(struct sim_agent *a, int64_t now)
{
	struct sim_agent_group *g = NULL;
	struct sim_agent_say *s = NULL;

	while (a->next_wait_group < a->cfg.ngroups && a->cfg.groups[a->next_wait_group].timed)
		a->next_wait_group++;
	while (a->next_wait_say < a->cfg.nsays && a->cfg.says[a->next_wait_say].timed)
		a->next_wait_say++;
	if (a->next_wait_group < a->cfg.ngroups)
		g = &a->cfg.groups[a->next_wait_group];
	if (a->next_wait_say < a->cfg.nsays)
		s = &a->cfg.says[a->next_wait_say];
	if (g && (!s || g->order < s->order)) {
		a->next_wait_group++;
		g->scheduled = 1;
		g->at_us = now;
		g->at_wait = a->waits;
	} else if (s) {
		a->next_wait_say++;
		s->scheduled = 1;
		s->at_us = now;
		s->at_wait = a->waits;
	} else if (script_over(a)) {
		/* Nothing more to press or say, the last of it answered: hang up. */
		a->done = 1;
	}
}

int sim_agent_step(struct sim_agent *a, int64_t now, size_t buffered, size_t pending_marks,
		   size_t returned_unsent)
{
	int64_t quiet = a->last_media_us > a->quiet_from_us ? a->last_media_us :
			a->quiet_from_us;

	if (buffered > a->max_buffered)
		a->max_buffered = buffered;
	if (a->finished || a->done || buffered || pending_marks || returned_unsent)
		return 0;
	if (!a->open) {
		/* A clip can end after the agent's last wait (said over it, or still being
		 * said when the wait came): once it is all out, nothing is owed, and it has
		 * been quiet that long, that is a wait too: the next step goes, or hang up. */
		if (quiet < a->say_done_us)
			quiet = a->say_done_us;
		if (a->cfg.nsays && a->waits && !a->reply_pending && !keys_in_flight(a) &&
		    !says_in_flight(a) && now - quiet >= a->cfg.quiet_us)
			schedule_next(a, now);
		return 0;
	}
	if (now - quiet < a->cfg.quiet_us)
		return 0;
	/* The agent has finished speaking: all played, every mark back, quiet since. */
	end_utt(a, now, SIM_UTT_WAIT);
	a->waits++;
	if (keys_in_flight(a) || says_in_flight(a))
		return 1;
	schedule_next(a, now);
	return 1;
}

const uint8_t *sim_agent_say_frame(struct sim_agent *a, int64_t now)
{
	struct sim_agent_say *s;
	const struct sim_say_clip *c;
	const uint8_t *p;
	size_t i;

	if (a->finished || a->done)
		return NULL;
	if (a->say_active < 0) {
		long pick = -1;

		for (i = 0; i < a->cfg.nsays; i++) {
			s = &a->cfg.says[i];
			if (s->scheduled && !s->sent && s->at_us <= now &&
			    (pick < 0 || s->at_us < a->cfg.says[pick].at_us))
				pick = (long)i;
		}
		if (pick < 0)
			return NULL;
		a->say_active = pick;
		s = &a->cfg.says[pick];
		s->first_us = now;
		if (!s->timed)
			a->reply_pending = 1;   /* the agent was listening: it answers */
	}
	s = &a->cfg.says[a->say_active];
	c = s->clip;
	p = c->ulaw + s->sent;
	/* A frame goes out once its 20 ms are captured: its send time is when the server
	 * could know of that audio at the earliest. */
	if (c->voice_to && s->sent == c->voice_from)
		s->onset_us = now;
	s->sent += SIM_FRAME_BYTES;
	if (c->voice_to && s->sent == c->voice_to)
		s->voice_end_us = now;
	if (s->sent >= c->len) {
		s->last_us = now;
		a->say_active = -1;
		a->say_done_us = now;
	}
	return p;
}

long sim_agent_say_reply(const struct sim_agent *a, size_t si, int audible)
{
	const struct sim_agent_say *s = &a->cfg.says[si];
	size_t i;

	if (s->first_us < 0)
		return -1;
	for (i = 0; i < a->nutts; i++) {
		const struct sim_agent_utt *u = &a->utts[i];

		if (u->start_us < s->first_us)
			continue;
		if (!audible || sim_agent_utt_rms(u) > SIM_AGENT_RMS_FLOOR)
			return (long)i;
	}
	return -1;
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

static int says_verdict(const struct sim_agent *a, int hung_up, char *why, size_t cap)
{
	size_t i;

	for (i = 0; i < a->cfg.nsays; i++) {
		const struct sim_agent_say *s = &a->cfg.says[i];
		const char *path = s->clip->path;
		long any, heard;

		if (s->sent < s->clip->len) {
			snprintf(why, cap, "the caller %s %s: %s", s->sent ? "did not finish saying" :
				 "never said", path, hung_up ? "the agent hung up first" :
				 s->timed ? "the call ended before its time" : a->open ?
				 "the agent never finished speaking (its audio kept coming or its "
				 "marks did not come back)" : "the agent did not wait for it before "
				 "the call ended");
			return 1;
		}
		/* At a wait the agent listened, and a clear says it heard: either way an answer
		 * is due. A clip said over the agent and not heard needs none. */
		if (s->timed && s->clear_us < 0)
			continue;
		any = sim_agent_say_reply(a, i, 0);
		heard = sim_agent_say_reply(a, i, 1);
		if (heard >= 0)
			continue;
		if (any >= 0)
			snprintf(why, cap, "the reply to saying %s was silence (utterance %ld, RMS "
				 "%.0f, floor %.0f)", path, any + 1, sim_agent_utt_rms(&a->utts[any]),
				 SIM_AGENT_RMS_FLOOR);
		else
			snprintf(why, cap, "no reply was heard after saying %s (%s)", path,
				 hung_up ? "the agent hung up" : "waited until the end of the call, "
				 "at most --max-seconds");
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
	if (keys_verdict(a, max_seconds, close_code == 1000, why, cap) ||
	    says_verdict(a, close_code == 1000, why, cap))
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
