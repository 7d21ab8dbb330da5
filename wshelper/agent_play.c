/* agent_play: the audio timeline of an agent call: verbs become 20 ms µ-law frames paced a
 * little ahead of the caller's ear ([agent] lead_ms), a mark after each utterance, barge-in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "call.h"
#include "config.h"
#include "resq.h"
#include "tts.h"
#include "ttscache.h"

/* Our own outbound queue holds at most this many frames (1 s): past it the socket is slow
 * (a peer that does not read) and we wait for on_drain instead of queueing more. */
#define QUEUE_HIGH 50
#define QUEUE_LOW 10
/* Pacing wakes at most this often per call: each top-up sends about this much audio. */
#define TOPUP_US 200000
/* Bytes already sent are cut from a Say's buffer once there are this many, so a long text
 * never keeps its whole audio (a looping item keeps it: it plays again). */
#define TRIM_AT (64 * 1024)

struct item *agent_item_add(struct agent *a, enum item_kind kind)
{
	struct item *it = calloc(1, sizeof(*it));

	if (!it)
		return NULL;
	it->kind = kind;
	it->id = ++a->next_item;
	it->loop = 1;
	bytebuf_init(&it->audio, AG_AUDIO_MAX);
	it->t_queued_us = call_now(a->c);
	if (a->tail)
		a->tail->next = it;
	else
		a->head = it;
	a->tail = it;
	return it;
}

static void item_free(struct item *it)
{
	free(it->text);
	bytebuf_free(&it->audio);
	free(it);
}

static void item_pop(struct agent *a)
{
	struct item *it = a->head;

	if (!it)
		return;
	a->head = it->next;
	if (!a->head)
		a->tail = NULL;
	item_free(it);
}

void agent_items_clear(struct agent *a)
{
	while (a->head)
		item_pop(a);
}

static struct item *item_find(struct agent *a, unsigned id)
{
	struct item *it;

	for (it = a->head; it; it = it->next)
		if (it->id == id)
			return it;
	return NULL;
}

/* The end of the next piece of TEXT from AT: a sentence end ('.', '!', '?', ';', ':' then a
 * space, or a newline) within AG_PIECE_MAX bytes, else the last space, else a cut on a UTF-8
 * character boundary. */
static size_t piece_end(const char *text, size_t at, size_t len)
{
	size_t max = len - at > AG_PIECE_MAX ? at + AG_PIECE_MAX : len, i, space = 0;

	for (i = at; i < max; i++) {
		char ch = text[i];

		if (ch == '\n' || ((ch == '.' || ch == '!' || ch == '?' || ch == ';' || ch == ':') &&
				   (i + 1 == len || text[i + 1] == ' ')))
			return i + 1;
		if (ch == ' ')
			space = i;
	}
	if (max == len)
		return len;
	if (space > at)
		return space;
	while (max > at + 1 && ((unsigned char)text[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* Ask for the next piece of a Say: from the cache when it is there (no worker round trip),
 * else a job. Returns 0, or -1 when no job could be queued. */
static int say_next_piece(struct agent *a, struct item *it)
{
	size_t len = it->text_len;

	while (!it->job_busy && it->piece_at < len && it->audio.len - it->sent < AG_AHEAD_BYTES) {
		size_t end = piece_end(it->text, it->piece_at, len);
		char saved = it->text[end];
		struct tts_clip *clip;

		it->text[end] = '\0';
		clip = agent_cache_get(a->g, it->voice_key, it->text + it->piece_at);
		if (clip) {
			if (bytebuf_add(&it->audio, tts_clip_data(clip), tts_clip_len(clip)) < 0)
				it->failed = 1;
			tts_clip_unref(clip);
		} else {
			it->cached = 0;   /* cached=yes in the log: every piece came from the cache */
			if (agent_submit_audio(a->g, a->id, it->id, 0, it->text + it->piece_at,
					       end - it->piece_at, it->voice, it->language,
					       it->voice_key) < 0) {
				it->text[end] = saved;
				return -1;
			}
			it->job_busy = 1;
		}
		it->text[end] = saved;
		for (it->piece_at = end; it->text[it->piece_at] == ' '; it->piece_at++)
			;
	}
	if (it->piece_at >= len && !it->job_busy)
		it->all_made = 1;
	return 0;
}

static void item_start(struct agent *a, struct item *it)
{
	it->started = 1;
	switch (it->kind) {
	case IT_SAY:
		it->text_len = it->text ? strlen(it->text) : 0;
		it->cached = 1;
		tts_voice(a->g->cfg, it->voice, it->language, it->voice_key, sizeof(it->voice_key));
		if (!it->text_len)
			it->all_made = 1;
		else if (say_next_piece(a, it) < 0)
			it->failed = 1;
		break;
	case IT_PLAY:
		if (agent_submit_audio(a->g, a->id, it->id, 1, it->text, strlen(it->text), "", "",
				       "") < 0)
			it->failed = 1;
		else
			it->job_busy = 1;
		break;
	case IT_PAUSE:
		it->all_made = 1;
		break;
	default:
		break;
	}
}

void agent_item_result(struct agent *a, struct result *r)
{
	struct item *it = item_find(a, r->seq);

	if (!it)
		return;   /* a barge-in dropped it */
	if (r->kind == RESULT_AUDIO) {
		if (bytebuf_add(&it->audio, r->data, r->len) < 0)
			it->failed = 1;
		return;
	}
	/* RESULT_AUDIO_DONE */
	it->job_busy = 0;
	if (r->a < 0) {
		char idx[16];
		const char *kv[] = { "verb", it->kind == IT_PLAY ? "play" : "say", "index", idx,
				     "detail", r->text, NULL };

		snprintf(idx, sizeof(idx), "%u", a->posted_index);
		call_log(a->c, "turn_warning", kv);
		it->failed = 1;
		return;
	}
	if (it->kind == IT_PLAY) {
		it->cached = r->b ? 1 : 0;
		it->all_made = 1;
	} else if (say_next_piece(a, it) < 0) {
		it->failed = 1;
	}
}

/* --- marks --- */

int agent_audio_playing(const struct agent *a)
{
	const struct item *it = a->head;

	return a->marks_out > 0 || (it && (it->kind == IT_SAY || it->kind == IT_PLAY ||
					   it->kind == IT_PAUSE) && it->frames > 0);
}

static void log_item(struct agent *a, struct item *it)
{
	char frames[24], wait[24], since[24], loop[16];

	snprintf(frames, sizeof(frames), "%ld", it->frames);
	snprintf(wait, sizeof(wait), "%lld", it->t_first_frame_us ?
		 (long long)((it->t_first_frame_us - it->t_queued_us) / 1000) : -1LL);
	snprintf(since, sizeof(since), "%lld", a->t_answer_us && it->t_first_frame_us ?
		 (long long)((it->t_first_frame_us - a->t_answer_us) / 1000) : -1LL);
	snprintf(loop, sizeof(loop), "%d", it->loop);
	if (it->kind == IT_SAY) {
		const char *kv[] = { "text", it->text, "engine", a->g->engine, "voice", it->voice_key,
				     "frames", frames, "first_frame_ms", wait, "since_answer_ms", since,
				     "cached", it->cached ? "yes" : "no", "loop", it->loop > 1 ? loop : NULL,
				     "failed", it->failed ? "yes" : NULL,
				     "interrupted", it->cut ? "yes" : NULL, NULL };
		call_log(a->c, "say", kv);
	} else if (it->kind == IT_PLAY) {
		const char *kv[] = { "src", it->text, "frames", frames, "first_frame_ms", wait,
				     "cached", it->cached ? "yes" : "no", "loop", it->loop > 1 ? loop : NULL,
				     "failed", it->failed ? "yes" : NULL,
				     "interrupted", it->cut ? "yes" : NULL, NULL };
		call_log(a->c, "play", kv);
	}
}

/* The utterance's audio is all queued: a mark after it tells when it has played. */
static void send_mark(struct agent *a, const char *kind)
{
	struct agent_mark *m = a->marks;
	unsigned i;

	for (i = 0; i < AG_MARKS_MAX && m[i].name[0]; i++)
		;
	if (i == AG_MARKS_MAX)
		return;   /* 64 utterances unplayed: the caller's side is stuck; skip this mark */
	snprintf(m[i].name, sizeof(m[i].name), "%s-%u", kind, ++a->mark_seq);
	m[i].flushed = 0;
	if (call_send_mark(a->c, m[i].name) < 0) {
		m[i].name[0] = '\0';
		return;
	}
	a->marks_out++;
}

void agent_mark_back(struct agent *a, const char *name)
{
	struct agent_mark *m = a->marks;
	unsigned i;

	for (i = 0; i < AG_MARKS_MAX; i++) {
		if (m[i].name[0] && !strcmp(m[i].name, name)) {
			const char *kv[] = { "name", name, "result", m[i].flushed ? "flushed" :
					     "played", NULL };

			call_log(a->c, "mark", kv);
			m[i].name[0] = '\0';
			a->marks_out--;
			return;
		}
	}
}

/* --- barge-in --- */

void agent_barge_in(struct agent *a, const char *why)
{
	struct agent_mark *m = a->marks;
	int64_t now = call_now(a->c);
	long dropped;
	char played[24], frames[24];
	unsigned i;

	a->interrupted = 1;
	a->interrupted_after_ms = a->utter_play_start_us && now > a->utter_play_start_us ?
				  (long)((now - a->utter_play_start_us) / 1000) : 0;
	dropped = call_flush_media(a->c);
	for (i = 0; i < AG_MARKS_MAX; i++)
		if (m[i].name[0])
			m[i].flushed = 1;
	a->play_end_us = now;
	agent_turn_abandon(a, "barge_in");
	agent_global_cancel_call(a->id);   /* and the synthesis under way */
	/* the utterance cut short is logged as far as it went (frames: what was sent) */
	if (a->head && a->head->frames > 0 && a->head->kind != IT_PAUSE) {
		a->head->cut = 1;
		log_item(a, a->head);
	}
	/* the rest of the answer goes too: the keys make the next turn (a Gather's
	 * fall-through runs only when nothing is pressed) */
	agent_items_clear(a);
	a->gather_open = 0;
	snprintf(played, sizeof(played), "%ld", a->interrupted_after_ms);
	snprintf(frames, sizeof(frames), "%ld", dropped < 0 ? 0 : dropped);
	{
		const char *kv[] = { "by", why, "played_ms", played, "dropped_frames", frames,
				     NULL };

		call_log(a->c, "barge_in", kv);
	}
}

/* --- the pump --- */

/* Send frames of IT while the lead allows. 1 when the item is all sent, 0 to wait. */
static int send_frames(struct agent *a, struct item *it, int64_t now, int64_t *wake_at)
{
	int64_t lead = (int64_t)call_config(a->c)->lead_ms * 1000;
	uint8_t frame[AG_FRAME];

	for (;;) {
		size_t avail;

		if (a->play_end_us < now)
			a->play_end_us = now;
		if (a->play_end_us - now >= lead) {
			int64_t t = a->play_end_us - lead + TOPUP_US;

			if (!*wake_at || t < *wake_at)
				*wake_at = t;
			return 0;
		}
		if (call_media_queued(a->c) >= QUEUE_HIGH) {
			call_want_drain(a->c, QUEUE_LOW);
			return 0;
		}
		if (it->kind == IT_PAUSE) {
			if (it->pause_frames <= 0)
				return 1;
			memset(frame, AG_SILENCE, sizeof(frame));
			it->pause_frames--;
		} else {
			if (it->kind == IT_SAY && !it->all_made)
				say_next_piece(a, it);
			avail = it->audio.len - it->sent;
			if (avail >= AG_FRAME) {
				memcpy(frame, it->audio.data + it->sent, AG_FRAME);
				it->sent += AG_FRAME;
			} else if (it->all_made || it->failed) {
				if (!avail)
					return 1;
				memcpy(frame, it->audio.data + it->sent, avail);
				memset(frame + avail, AG_SILENCE, AG_FRAME - avail);
				it->sent += avail;
			} else {
				return 0;   /* the worker's next audio wakes us */
			}
		}
		if (call_send_media(a->c, frame, AG_FRAME) < 0)
			return 0;   /* closing */
		if (!it->t_first_frame_us) {
			it->t_first_frame_us = now;
			if (!a->utter_play_start_us)
				a->utter_play_start_us = a->play_end_us;
		}
		it->frames++;
		a->play_end_us += AG_FRAME_US;
		if (it->loop == 1 && it->sent >= TRIM_AT) {
			bytebuf_consume(&it->audio, it->sent);
			it->sent = 0;
		}
	}
}

void agent_pump(struct agent *a)
{
	int64_t now = call_now(a->c), wake_at = 0;
	struct item *it;

	if (a->closing)
		return;
	/* while listening, what is left are the verbs after the Gather: they run only when it
	 * times out (agent_gather_timeout) */
	while ((it = a->head) && !a->gather_pending && !a->listening) {
		int done;

		switch (it->kind) {
		case IT_SAY:
		case IT_PLAY:
		case IT_PAUSE:
			if (!it->started)
				item_start(a, it);
			done = send_frames(a, it, now, &wake_at);
			if (!done && !(it->failed && !it->job_busy))
				goto wait;
			if (it->loops_done + 1 < it->loop && !it->failed && it->frames > 0) {
				it->loops_done++;
				it->sent = 0;
				continue;
			}
			if (it->frames > 0)
				send_mark(a, it->kind == IT_SAY ? "say" : it->kind == IT_PLAY ? "play" :
					  "pause");
			if (it->kind != IT_PAUSE)
				log_item(a, it);
			item_pop(a);
			break;
		case IT_GATHER:
			a->gather_open = 1;
			a->lg = it->gather;
			agent_arm_vad(a);
			item_pop(a);
			break;
		case IT_GATHER_END:
			/* listen once its prompts have played; what follows is its fall-through */
			a->gather_open = 0;
			a->gather_pending = 1;
			item_pop(a);
			break;
		case IT_HANGUP:
			if (a->marks_out)
				goto wait;   /* the audio before it plays out first (its mark) */
			agent_hangup(a, "verb");
			return;
		case IT_REDIRECT: {
			char url[sizeof(a->url)];

			/* its answer replaces the rest: posting clears the timeline */
			agent_resolve_url(a->url, it->text ? it->text : "", url, sizeof(url));
			agent_redirect_turn(a, url);
			return;
		}
		}
	}
wait:
	if (!a->listening && !a->turn_busy && !a->marks_out && !a->closing &&
	    (a->gather_pending || !a->head)) {
		struct turn_gather g;

		if (a->gather_pending) {
			g = a->lg;
		} else {
			agent_default_gather(call_config(a->c), &g);
		}
		agent_start_listening(a, &g);
	}
	if (a->listening && a->listen_due_us && (!wake_at || a->listen_due_us < wake_at))
		wake_at = a->listen_due_us;
	call_set_mode_timer(a->c, wake_at ? (wake_at > now ? wake_at - now : 1) : -1);
}
