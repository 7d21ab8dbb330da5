/* agent: the caller of an agent-mode call (`call --agent`): splits what it hears into
 * utterances, sees when the agent waits, presses keys then, and judges the conversation. */
#ifndef CALLPIPE_SIM_AGENT_H
#define CALLPIPE_SIM_AGENT_H

#include <stddef.h>
#include <stdint.h>

/* A played 20 ms frame (or an utterance) whose decoded samples have an RMS above this is
 * heard as sound, not silence (about -44 dBFS; speech from a TTS is in the thousands). */
#define SIM_AGENT_RMS_FLOOR 200.0
#define SIM_AGENT_GROUPS_MAX 32      /* --dtmf and --dtmf-at groups, all told */
#define SIM_AGENT_KEYS_MAX 64        /* keys in one group */
#define SIM_AGENT_SAYS_MAX 16        /* --say clips */

struct sim_say_clip;

enum sim_agent_end { SIM_UTT_OPEN, SIM_UTT_WAIT, SIM_UTT_CLEAR, SIM_UTT_HANGUP, SIM_UTT_END };

struct sim_agent_group {
	char keys[SIM_AGENT_KEYS_MAX + 1];
	int timed;                   /* --dtmf-at: at AT_US; else at a wait */
	int64_t at_us;               /* --dtmf-at time, after stream start */
	int scheduled;
	unsigned at_wait;            /* the wait it went at (1 = the first), 0: timed/none */
	size_t sent;                 /* keys sent so far */
	int64_t first_us, last_us;   /* when its first and last key went out */
	unsigned order;              /* its place among --dtmf and --say on the command line */
};

/* One --say: the caller speaks CLIP at a wait (the agent listens) or at AT_US (over it). */
struct sim_agent_say {
	const struct sim_say_clip *clip;   /* not owned: the options keep it */
	unsigned order;
	int timed;                   /* --say-at: at AT_US; else at a wait */
	int64_t at_us;
	int scheduled;
	unsigned at_wait;
	size_t sent;                 /* bytes of it sent so far */
	/* When (µs after stream start) its first frame, the frame where its voice begins,
	 * the frame where it ends and its last frame went out; the first clear received after
	 * the voice began (before another clip started). -1: not (yet). */
	int64_t first_us, onset_us, voice_end_us, last_us, clear_us;
};

struct sim_agent_utt {
	int64_t start_us;            /* its first media message arrived (after stream start) */
	int64_t end_us;              /* when it ended (a wait, a clear, the close) */
	int64_t audible_us;          /* the first played frame above the floor, -1 none */
	enum sim_agent_end end;
	unsigned long frames, odd_frames;   /* media messages; those not 160 bytes */
	uint64_t bytes, heard_bytes, flushed_bytes;
	double sumsq;                /* of the decoded samples heard */
	unsigned long marks_played, marks_flushed, clears;
};

struct sim_agent_cfg {
	int64_t quiet_us;            /* --quiet-ms */
	int64_t gap_us;              /* --dtmf-gap-ms */
	size_t ngroups;
	struct sim_agent_group groups[SIM_AGENT_GROUPS_MAX];
	size_t nsays;
	struct sim_agent_say says[SIM_AGENT_SAYS_MAX];
	unsigned norder;             /* groups and says added so far */
};

struct sim_agent {
	struct sim_agent_cfg cfg;    /* groups carry their progress too */
	struct sim_agent_utt *utts;
	size_t nutts, cutts;
	int open;                    /* utts[nutts-1] is still going */
	int64_t last_media_us, quiet_from_us;
	unsigned waits;              /* times the agent was heard waiting */
	size_t next_wait_group;      /* the next --dtmf group (index into groups) to send */
	size_t next_wait_say;        /* the next --say (index into says) to speak at a wait */
	int reply_pending;           /* keys or a --say at a wait went out; no utterance has
	                                begun since */
	long say_active;             /* the clip being spoken (index into says), -1 none */
	int64_t say_done_us;         /* when the last clip ended, -1 none */
	int done;                    /* the script is over: hang up */
	int finished;                /* the stream ended (sim_agent_finish) */
	unsigned long clears, marks_played, marks_flushed, frames, odd_frames;
	uint64_t unplayed_at_end;    /* bytes still buffered when the stream ended */
	uint64_t max_buffered;       /* the most audio ever waiting in the buffer: how far
	                                ahead of the caller's ear the agent sends */
	size_t pending_marks_at_end;
};

/* Add a group of KEYS (0-9 * #) to CFG: at a wait (AT_US < 0) or AT_US after stream start.
 * 0, or -1 with ERR filled (bad key, too many). */
int sim_agent_add_group(struct sim_agent_cfg *cfg, const char *keys, int64_t at_us,
			char *err, size_t cap);

/* Add a --say of CLIP to CFG: at a wait (AT_US < 0) or AT_US after stream start. 0, or
 * -1 with ERR (too many). */
int sim_agent_add_say(struct sim_agent_cfg *cfg, const struct sim_say_clip *clip,
		      int64_t at_us, char *err, size_t cap);

/* A new agent for CFG (copied). NULL when out of memory. */
struct sim_agent *sim_agent_new(const struct sim_agent_cfg *cfg);
void sim_agent_free(struct sim_agent *a);

/* Every time is in µs after the stream's start message. */
/* A media message of LEN bytes arrived. */
void sim_agent_media(struct sim_agent *a, int64_t now, size_t len);
/* A play-out tick at NOW played N bytes of buffered audio (FRAME: 160 µ-law bytes). */
void sim_agent_played(struct sim_agent *a, int64_t now, const uint8_t *frame, size_t n);
/* N marks came back because their audio has played (or at once, nothing buffered). */
void sim_agent_marks_played(struct sim_agent *a, size_t n);
/* A clear flushed BYTES and returned MARKS pending marks: the utterance ends there. */
void sim_agent_clear(struct sim_agent *a, int64_t now, size_t bytes, size_t marks);
/* Once per tick: with the buffer's state, see whether the agent now waits (and act on it:
 * schedule the next keys, or decide the call is done). 1 when a wait was seen. */
int sim_agent_step(struct sim_agent *a, int64_t now, size_t buffered, size_t pending_marks,
		   size_t returned_unsent);
/* The key due at NOW, or 0; sim_agent_key_sent once it has gone out. */
char sim_agent_key_due(const struct sim_agent *a, int64_t now);
void sim_agent_key_sent(struct sim_agent *a, int64_t now);
/* The caller's media frame going out at NOW: the 160 bytes of the clip being spoken, or
 * NULL for silence (a clip due starts here; its progress and times are kept). */
const uint8_t *sim_agent_say_frame(struct sim_agent *a, int64_t now);
/* The utterance that answers say S (the first to begin after its first frame), or -1;
 * with AUDIBLE, the first such utterance with sound. */
long sim_agent_say_reply(const struct sim_agent *a, size_t s, int audible);
/* The stream ended at NOW (HANGUP: the server closed it), with BUFFERED bytes and
 * PENDING marks not played; only the first call counts. */
void sim_agent_finish(struct sim_agent *a, int64_t now, int hangup, size_t buffered,
		      size_t pending);

/* RMS of the decoded samples U heard (0 when it heard none). */
double sim_agent_utt_rms(const struct sim_agent_utt *u);
/* The utterance that answers group G (the first to begin after its first key), or -1;
 * with AUDIBLE, the first such utterance with sound (RMS above the floor). */
long sim_agent_reply(const struct sim_agent *a, size_t g, int audible);
/* The greeting: the first utterance with sound that began before any key; -1 none. */
long sim_agent_greeting(const struct sim_agent *a);
/* Keys sent in all, and when the first of them went (-1: none). */
size_t sim_agent_keys_sent(const struct sim_agent *a, int64_t *first_us);
/* What the call lacks for PASS, in words into WHY; 0 when nothing. CLOSE_CODE: the code
 * the server closed with before the caller hung up (1006: dropped), 0 when it did not;
 * 1000 is the agent hanging up (a <Hangup/>), a normal end. */
int sim_agent_verdict(const struct sim_agent *a, int close_code, int expect_hangup,
		      double max_seconds, char *why, size_t cap);
const char *sim_agent_end_name(enum sim_agent_end e);

#endif
