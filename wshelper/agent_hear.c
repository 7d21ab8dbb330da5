/* agent_hear: an agent call hears speech: every inbound frame goes through the VAD; while a
 * speech Gather listens (or its prompts play, for barge-in) an utterance is fed to recog. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "call.h"
#include "config.h"
#include "recog.h"
#include "resq.h"

void agent_hear_init(struct agent *a)
{
	const struct config *cfg = call_config(a->c);
	struct vad_params p;

	vad_params_default(&p);
	p.margin_db = cfg->vad_margin_db;
	p.echo_margin_db = cfg->vad_echo_margin_db;
	p.min_level_db = cfg->vad_min_level_db;
	p.min_speech_ms = cfg->vad_min_speech_ms;
	p.preroll_ms = cfg->vad_preroll_ms;
	vad_init(&a->vad, &p);
	agent_arm_vad(a);
}

void agent_arm_vad(struct agent *a)
{
	int timeout = a->lg.speech_timeout_ms;

	if (timeout < 0)   /* speechTimeout="auto" */
		timeout = call_config(a->c)->speech_timeout_auto_ms;
	vad_arm(&a->vad, timeout, a->lg.max_speech_time_s * 1000);
}

/* 1 when speech starting now is heard: a Gather that takes speech listens, or its prompts
 * play and it lets the caller barge in. */
static int hears_speech(const struct agent *a)
{
	if (!a->g->recog || !(a->lg.input & TV_INPUT_SPEECH) || a->closing ||
	    a->hangup_pending || a->asr_pending)
		return 0;
	if (a->listening)
		return 1;
	return (a->gather_open || a->gather_pending) && a->lg.barge_in;
}

static void speech_end(struct agent *a, const char *why)
{
	char dur[24];
	const char *kv[] = { "duration_ms", dur, "by", why, NULL };

	snprintf(dur, sizeof(dur), "%ld", vad_speech_ms(&a->vad));
	call_log(a->c, "speech_end", kv);
	recog_end(a->utt);   /* the recog's from here: its RESULT_ASR comes */
	a->utt = NULL;
	a->asr_pending = 1;
	a->t_speech_end_us = call_now(a->c);
}

static void speech_start(struct agent *a)
{
	const struct config *cfg = call_config(a->c);
	struct recog_opts o;
	char err[256] = "", floor[16], level[16], pre[24];
	const uint8_t *p1, *p2;
	size_t n1, n2;

	/* the caller talks over the prompts: they stop at once (clear), and the next turn
	 * says so (Interrupted, InterruptedAfterMs) */
	if (agent_audio_playing(a))
		agent_barge_in(a, "speech");
	if (!a->listening)
		agent_start_listening(a, &a->lg);
	a->listen_due_us = 0;   /* the Gather's timeout does not run while the caller speaks */
	vad_preroll(&a->vad, &p1, &n1, &p2, &n2);
	snprintf(floor, sizeof(floor), "%.0f", (double)vad_floor_db(&a->vad));
	snprintf(level, sizeof(level), "%.0f", (double)vad_level_db(&a->vad));
	snprintf(pre, sizeof(pre), "%zu", (n1 + n2) / 8);
	{
		const char *kv[] = { "floor_db", floor, "level_db", level, "audio_before_ms", pre,
				     NULL };

		call_log(a->c, "speech_start", kv);
	}
	memset(&o, 0, sizeof(o));
	o.language = a->lg.language[0] ? a->lg.language : cfg->agent_language;
	o.hints = a->lg.hints[0] ? a->lg.hints : NULL;
	o.grammar = a->lg.grammar[0] ? a->lg.grammar : NULL;
	a->utt = recog_begin(a->g->recog, a->id, ++a->utt_seq, &o, err, sizeof(err));
	if (!a->utt) {
		const char *kv[] = { "engine", recog_engine_name(a->g->recog), "error",
				     err[0] ? err : "cannot start an utterance", NULL };

		call_log(a->c, "asr", kv);
		agent_gather_timeout(a);
		return;
	}
	if ((n1 && recog_feed(a->utt, p1, n1) < 0) || (n2 && recog_feed(a->utt, p2, n2) < 0))
		speech_end(a, "recognizer_cap");
}

/* 1 when the frame changed the call's state (speech started or ended). */
static int hear_frame(struct agent *a, const uint8_t *frame)
{
	enum vad_event e = vad_frame(&a->vad, frame, agent_audio_playing(a));

	if (a->utt) {
		if (recog_feed(a->utt, frame, AG_FRAME) < 0)
			speech_end(a, "recognizer_cap");
		else if (e == VAD_END)
			speech_end(a, "silence");
		else if (e == VAD_MAX)
			speech_end(a, "max_speech_time");
		else
			return 0;
		return 1;
	}
	if (e == VAD_START && hears_speech(a)) {
		speech_start(a);
		return 1;
	}
	return 0;
}

int agent_hear_media(struct agent *a, const uint8_t *ulaw, size_t n)
{
	int changed = 0;

	while (n && !a->closing) {
		size_t k = AG_FRAME - a->fbuf_len;

		if (!a->fbuf_len && n >= AG_FRAME) {   /* Twilio's 20 ms payloads: no copy */
			changed |= hear_frame(a, ulaw);
			ulaw += AG_FRAME;
			n -= AG_FRAME;
			continue;
		}
		if (k > n)
			k = n;
		memcpy(a->fbuf + a->fbuf_len, ulaw, k);
		a->fbuf_len += k;
		ulaw += k;
		n -= k;
		if (a->fbuf_len == AG_FRAME) {
			a->fbuf_len = 0;
			changed |= hear_frame(a, a->fbuf);
		}
	}
	return changed;
}

void agent_hear_cancel(struct agent *a, const char *why)
{
	const char *kv[] = { "why", why, NULL };

	if (!a->utt && !a->asr_pending)
		return;
	if (a->utt)
		recog_cancel(a->utt);
	a->utt = NULL;
	a->asr_pending = 0;
	a->utt_seq++;   /* its result, if one is under way, is stale */
	call_log(a->c, "speech_cancelled", kv);
}

void agent_asr_result(struct agent *a, struct result *r)
{
	const char *text = r->data && r->a == 0 ? (const char *)r->data : "";
	char conf[8], ms[24], url[sizeof(a->url)];
	long b = r->b < 0 ? 0 : r->b > 1000 ? 1000 : r->b;

	if (r->seq != a->utt_seq || !a->asr_pending)
		return;   /* cancelled: a key, a barge-in, the turn moved on */
	a->asr_pending = 0;
	snprintf(conf, sizeof(conf), "%ld.%02ld", b / 1000, (b % 1000) / 10);
	snprintf(ms, sizeof(ms), "%lld", (long long)((call_now(a->c) - a->t_speech_end_us) / 1000));
	{
		const char *kv[] = { "engine", recog_engine_name(a->g->recog), "text", text,
				     "confidence", conf, "ms", ms,
				     "error", r->a < 0 ? r->text : NULL,
				     /* with a result, text is a warning about the request (hint
				      * phrases left out and why) */
				     "warning", r->a == 0 && r->text[0] ? r->text : NULL, NULL };

		call_log(a->c, "asr", kv);
	}
	/* Nothing recognized: like Twilio without actionOnEmptyResult, the Gather is as if
	 * it heard nothing (its fall-through, or a TurnEvent=timeout turn) */
	if (!*text) {
		agent_gather_timeout(a);
		return;
	}
	snprintf(a->speech, sizeof(a->speech), "%s", text);
	snprintf(a->confidence, sizeof(a->confidence), "%s", conf);
	a->timeouts = 0;
	agent_next_url(a, url, sizeof(url));
	agent_post_turn(a, "speech", url);
}
