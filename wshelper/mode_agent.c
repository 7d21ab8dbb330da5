/* mode_agent: a call that talks: each turn POSTs to the turn URL, the TwiML answer is spoken
 * verb by verb as it streams in, then the call listens (keys, speech) by the Gather's rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "call.h"
#include "config.h"
#include "logesc.h"
#include "mode.h"
#include "recog.h"
#include "resq.h"
#include "streamtok.h"
#include "tts.h"
#include "turnclient.h"

/* The fields of every turn POST (docs/AGENT.md "Turns"); customParameters never replace them. */
static const char *const turn_fields[] = {
	"AccountSid", "CallSid", "StreamSid", "From", "To", "TurnIndex", "TurnEvent",
	"SpeechResult", "Confidence", "Digits", "Language", "Interrupted", "InterruptedAfterMs",
};
#define NFIELDS (sizeof(turn_fields) / sizeof(turn_fields[0]))

static int is_turn_field(const char *name)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		if (!strcmp(turn_fields[i], name))
			return 1;
	return 0;
}

void agent_default_gather(const struct config *cfg, struct turn_gather *g)
{
	memset(g, 0, sizeof(*g));
	g->input = TV_INPUT_DTMF;
	g->timeout_s = cfg->gather_timeout;
	g->speech_timeout_ms = g->timeout_s * 1000;
	g->max_speech_time_s = 60;
	g->finish_on_key = '#';
	g->barge_in = 1;
}

/* scheme://host[:port] of URL: its length. */
static size_t origin_len(const char *url)
{
	const char *p = strstr(url, "://");

	if (!p)
		return 0;
	p += 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

void agent_resolve_url(const char *base, const char *action, char *out, size_t cap)
{
	size_t o = origin_len(base), dir;

	if (!strncmp(action, "http://", 7) || !strncmp(action, "https://", 8) || !o) {
		snprintf(out, cap, "%s", action);
	} else if (action[0] == '/') {
		snprintf(out, cap, "%.*s%s", (int)o, base, action);
	} else {
		/* relative to the base's directory (RFC 3986 §5.2.3, without dot segments) */
		dir = strcspn(base + o, "?#") + o;
		while (dir > o && base[dir - 1] != '/')
			dir--;
		if (dir == o)
			snprintf(out, cap, "%.*s/%s", (int)o, base, action);
		else
			snprintf(out, cap, "%.*s%s", (int)dir, base, action);
	}
}

static void log_kv(struct agent *a, const char *event, const char *const *kv)
{
	call_log(a->c, event, kv);
}

void agent_hangup(struct agent *a, const char *reason)
{
	const char *kv[] = { "reason", reason, NULL };

	log_kv(a, "hangup", kv);
	fprintf(stderr, "WS_HANGUP sid=%s reason=%s\n", call_sid(a->c), reason);
	a->closing = 1;
	call_set_mode_timer(a->c, -1);
	call_close(a->c, 1000, "hangup", 1);
}

/* Say TEXT, then hang up once it has played. */
static void say_then_hangup(struct agent *a, const char *text, const char *reason)
{
	struct item *it;

	agent_items_clear(a);
	a->gather_pending = 0;
	a->listening = 0;
	if (text && *text && (it = agent_item_add(a, IT_SAY)))
		it->text = strdup(text);
	if (!agent_item_add(a, IT_HANGUP)) {
		agent_hangup(a, reason);
		return;
	}
	a->hangup_pending = 1;
	{
		const char *kv[] = { "reason", reason, "after", "goodbye", NULL };

		log_kv(a, "hangup_pending", kv);
	}
}

void agent_turn_abandon(struct agent *a, const char *why)
{
	char index[16];
	const char *kv[] = { "index", index, "event", a->event, "url", a->url, "why", why, NULL };

	if (!a->turn_busy)
		return;
	snprintf(index, sizeof(index), "%u", a->posted_index);
	log_kv(a, "turn_cancelled", kv);
	a->turn_busy = 0;
	a->turn_seq++;   /* what it still had queued is stale */
	turnclient_cancel(a->g->turns, a->id);
}

/* POST the turn described by a->event, a->posted_* and the call to URL. */
static void post(struct agent *a, const char *url)
{
	const struct config *cfg = call_config(a->c);
	const char *kv[2 * (NFIELDS + AG_PARAMS_MAX) + 1];
	const char *event = a->event;
	char index[16], after[24];
	size_t k = 0, i;

	snprintf(index, sizeof(index), "%u", a->posted_index);
	snprintf(after, sizeof(after), "%ld", a->posted_interrupted ? a->posted_after_ms : 0);
	if (url != a->url)
		snprintf(a->url, sizeof(a->url), "%s", url);
	kv[k++] = "AccountSid";
	kv[k++] = call_account_sid(a->c);
	kv[k++] = "CallSid";
	kv[k++] = call_sid(a->c);
	kv[k++] = "StreamSid";
	kv[k++] = call_stream_sid(a->c);
	kv[k++] = "From";
	kv[k++] = a->from;
	kv[k++] = "To";
	kv[k++] = a->to;
	kv[k++] = "TurnIndex";
	kv[k++] = index;
	kv[k++] = "TurnEvent";
	kv[k++] = event;
	kv[k++] = "SpeechResult";
	kv[k++] = !strcmp(event, "speech") ? a->speech : "";
	kv[k++] = "Confidence";
	kv[k++] = !strcmp(event, "speech") ? a->confidence : "";
	kv[k++] = "Digits";
	kv[k++] = !strcmp(event, "dtmf") ? a->digits : "";
	kv[k++] = "Language";
	kv[k++] = a->lg.language[0] ? a->lg.language : cfg->agent_language;
	kv[k++] = "Interrupted";
	kv[k++] = a->posted_interrupted ? "true" : "false";
	kv[k++] = "InterruptedAfterMs";
	kv[k++] = after;
	for (i = 0; i < a->nparams; i++) {
		kv[k++] = a->pname[i];
		kv[k++] = a->pvalue[i];
	}
	kv[k] = NULL;

	agent_items_clear(a);
	a->listening = 0;
	a->gather_pending = 0;
	a->gather_open = 0;
	a->listen_due_us = 0;
	a->verbs_in_turn = 0;
	a->t_turn_us = call_now(a->c);
	a->t_answer_us = 0;
	a->utter_play_start_us = 0;
	a->turn_seq++;
	if (turnclient_post(a->g->turns, a->id, a->turn_seq, a->url, kv) < 0) {
		const char *ekv[] = { "index", index, "event", event, "url", a->url, "reason",
				      "cannot queue the request (out of memory or shutting down)",
				      NULL };

		log_kv(a, "turn_error", ekv);
		a->turn_busy = 0;
		agent_hangup(a, "turn_failed");
		return;
	}
	a->turn_busy = 1;
}

void agent_post_turn(struct agent *a, const char *event, const char *url)
{
	agent_turn_abandon(a, "a new turn");
	snprintf(a->event, sizeof(a->event), "%s", event);
	a->posted_index = a->turn_index++;
	a->posted_interrupted = a->interrupted;
	a->posted_after_ms = a->interrupted_after_ms;
	a->interrupted = 0;
	a->interrupted_after_ms = 0;
	post(a, url);
}

void agent_redirect_turn(struct agent *a, const char *url)
{
	agent_turn_abandon(a, "redirect");
	post(a, url);
}

void agent_start_listening(struct agent *a, const struct turn_gather *g)
{
	char timeout[16], digits[16], finish[2] = { g->finish_on_key, '\0' }, st[16];
	const char *input = g->input == (TV_INPUT_DTMF | TV_INPUT_SPEECH) ? "dtmf speech" :
			    g->input == TV_INPUT_SPEECH ? "speech" : "dtmf";
	const char *kv[] = { "input", input, "timeout_s", timeout, "num_digits",
			     g->num_digits ? digits : NULL, "finish_on_key", finish[0] ? finish : "",
			     "action", g->action[0] ? g->action : NULL,
			     "speech_timeout", g->input & TV_INPUT_SPEECH ? st : NULL, NULL };

	if (&a->lg != g)
		a->lg = *g;
	agent_arm_vad(a);
	if (g->speech_timeout_ms < 0)
		snprintf(st, sizeof(st), "auto");
	else
		snprintf(st, sizeof(st), "%d", g->speech_timeout_ms);
	a->listening = 1;
	a->gather_pending = 0;
	a->ndigits = 0;
	a->digits[0] = '\0';
	a->listen_due_us = call_now(a->c) + (int64_t)g->timeout_s * 1000000;
	snprintf(timeout, sizeof(timeout), "%d", g->timeout_s);
	snprintf(digits, sizeof(digits), "%d", g->num_digits);
	log_kv(a, "listen", kv);
}

void agent_next_url(struct agent *a, char *out, size_t cap)
{
	if (a->lg.action[0])
		agent_resolve_url(a->url, a->lg.action, out, cap);
	else
		snprintf(out, cap, "%s", a->url);
}

static void finish_digits(struct agent *a)
{
	char url[sizeof(a->url)];

	agent_next_url(a, url, sizeof(url));
	a->timeouts = 0;
	/* the digits stay until the next listen: a <Redirect> in the answer posts them again */
	agent_post_turn(a, "dtmf", url);
}

/* --- turn results --- */

static void turn_verb(struct agent *a, const struct turn_verb *v)
{
	static const enum item_kind kinds[] = {
		[TV_SAY] = IT_SAY, [TV_PLAY] = IT_PLAY, [TV_PAUSE] = IT_PAUSE,
		[TV_GATHER] = IT_GATHER, [TV_GATHER_END] = IT_GATHER_END, [TV_HANGUP] = IT_HANGUP,
		[TV_REDIRECT] = IT_REDIRECT,
	};
	struct item *it;

	if ((unsigned)v->kind >= sizeof(kinds) / sizeof(kinds[0]))
		return;
	it = agent_item_add(a, kinds[v->kind]);
	if (!it)
		return;
	a->verbs_in_turn++;
	it->loop = v->loop > 0 ? v->loop : 1;
	snprintf(it->voice, sizeof(it->voice), "%s", v->voice);
	snprintf(it->language, sizeof(it->language), "%s", v->language);
	if (v->text && (v->kind == TV_SAY || v->kind == TV_PLAY || v->kind == TV_REDIRECT))
		it->text = strndup(v->text, v->text_len);
	if (v->kind == TV_PAUSE)
		it->pause_frames = v->pause_ms / (AG_FRAME_US / 1000);
	if (v->kind == TV_GATHER)
		it->gather = v->gather;
}

static void turn_done(struct agent *a, const struct result *r)
{
	const struct config *cfg = call_config(a->c);
	char index[16], first[24], total[24], bytes[24], verbs[16];
	long status = a->t_answer_us ? a->turn_status : 0;
	char st[16];

	a->turn_busy = 0;
	snprintf(index, sizeof(index), "%u", a->posted_index);
	snprintf(first, sizeof(first), "%lld", a->t_answer_us ?
		 (long long)((a->t_answer_us - a->t_turn_us) / 1000) : -1LL);
	snprintf(total, sizeof(total), "%ld", r->b);
	snprintf(bytes, sizeof(bytes), "%zu", r->len);
	snprintf(verbs, sizeof(verbs), "%d", a->verbs_in_turn);
	snprintf(st, sizeof(st), "%ld", status);
	{
		const char *kv[] = { "index", index, "event", a->event, "url", a->url, "status",
				     status ? st : "none", "first_byte_ms", first, "complete_ms", total,
				     "verbs", verbs, "bytes", bytes, "ok", r->a == 0 ? "yes" : "no",
				     NULL };

		log_kv(a, "turn", kv);
	}
	if (r->a == 0) {
		a->turn_errors = 0;
		return;
	}
	{
		const char *kv[] = { "index", index, "event", a->event, "url", a->url, "reason",
				     r->text, NULL };

		log_kv(a, "turn_error", kv);
	}
	{
		/* the reason can quote the turn server's answer: escaped like every log value */
		char mem[512];
		struct bytebuf reason;

		bytebuf_init_fixed(&reason, mem, sizeof(mem));
		logesc_put(&reason, r->text, 400, LOGESC_INNER);
		fprintf(stderr, "WS_TURN_ERROR sid=%s index=%s reason=\"%s\"\n", call_sid(a->c),
			index, bytebuf_cstr(&reason));
	}
	if (++a->turn_errors >= cfg->max_turn_errors) {
		say_then_hangup(a, cfg->error_text, "max_turn_errors");
		return;
	}
	/* the caller hears the error text, then the call listens again (the defaults) */
	{
		struct item *it = agent_item_add(a, IT_SAY);

		if (it)
			it->text = strdup(cfg->error_text);
	}
}

void agent_turn_result(struct agent *a, struct result *r)
{
	if (r->seq != a->turn_seq || a->hangup_pending)
		return;   /* an older turn's, cancelled by a barge-in or a Redirect */
	switch (r->kind) {
	case RESULT_TURN_HEAD:
		a->t_answer_us = r->t_us;
		a->turn_status = r->a;
		break;
	case RESULT_TURN_VERB:
		turn_verb(a, r->data);
		break;
	case RESULT_TURN_WARN: {
		char index[16];
		const char *kv[] = { "index", index, "detail", r->text, NULL };

		snprintf(index, sizeof(index), "%u", a->posted_index);
		log_kv(a, "turn_warning", kv);
		break;
	}
	case RESULT_TURN_DONE:
		turn_done(a, r);
		break;
	}
}

/* --- mode hooks --- */

static int agent_on_start(struct call *c)
{
	const struct config *cfg = call_config(c);
	struct agent_global *g = agent_global_get(c);
	struct agent *a;
	const char *name, *value;
	char url[sizeof(a->url)];
	size_t i;

	if (!g)
		return -1;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -1;
	a->c = c;
	a->g = g;
	a->id = call_id(c);
	call_set_mode_state(c, a);
	for (i = 0; call_param_at(c, i, &name, &value); i++) {
		if (!strcmp(name, "From"))
			snprintf(a->from, sizeof(a->from), "%s", value);
		else if (!strcmp(name, "To"))
			snprintf(a->to, sizeof(a->to), "%s", value);
		/* the stream token is a credential: it does not travel on to the turn URL */
		if (is_turn_field(name) || !strcmp(name, STREAMTOK_PARAM) ||
		    a->nparams >= AG_PARAMS_MAX)
			continue;
		snprintf(a->pname[a->nparams], sizeof(a->pname[0]), "%s", name);
		snprintf(a->pvalue[a->nparams], sizeof(a->pvalue[0]), "%s", value);
		a->nparams++;
	}
	agent_default_gather(cfg, &a->lg);
	agent_hear_init(a);
	if (cfg->turn_url[0])
		snprintf(url, sizeof(url), "%s", cfg->turn_url);
	else
		snprintf(url, sizeof(url), "%s/webhook/turn", cfg->public_url);
	{
		char voice[64];
		const char *kv[] = { "turn_url", url, "connect_to", cfg->turn_connect_to[0] ?
				     cfg->turn_connect_to : NULL, "tts", g->engine, "voice", voice, NULL };

		tts_voice(cfg, "", "", voice, sizeof(voice));
		call_log(c, "agent", kv);
	}
	agent_post_turn(a, "start", url);
	return 0;
}

static int agent_on_dtmf(struct call *c, const char *digit)
{
	struct agent *a = call_mode_state(c);
	const char *ignored = NULL;
	int gathering;

	if (!a)
		return 0;
	gathering = a->listening || a->gather_open;
	if (a->closing || a->hangup_pending)
		ignored = "hanging up";
	else if (gathering && !(a->lg.input & TV_INPUT_DTMF))
		ignored = "the Gather takes speech only";
	else if (agent_audio_playing(a) && gathering && !a->lg.barge_in)
		ignored = "bargeIn=false";
	{
		const char *kv[] = { "digit", digit, "ignored", ignored, NULL };

		call_log(c, "dtmf", kv);
	}
	if (ignored)
		return 0;
	/* keys win over an utterance being heard or recognized (input="dtmf speech") */
	agent_hear_cancel(a, "dtmf");
	/* no Gather open: the key starts the next turn's digits, by the defaults */
	if (!gathering)
		agent_default_gather(call_config(c), &a->lg);
	if (agent_audio_playing(a) || a->head || a->turn_busy)
		agent_barge_in(a, "dtmf");
	if (!a->listening)
		agent_start_listening(a, &a->lg);
	if (a->lg.finish_on_key && digit[0] == a->lg.finish_on_key && !digit[1]) {
		finish_digits(a);
	} else {
		if (a->ndigits < AG_DIGITS_MAX && digit[0] && !digit[1]) {
			a->digits[a->ndigits++] = digit[0];
			a->digits[a->ndigits] = '\0';
		}
		if (a->lg.num_digits && a->ndigits >= (size_t)a->lg.num_digits)
			finish_digits(a);
		else   /* Twilio: timeout is also the wait between keys */
			a->listen_due_us = call_now(c) + (int64_t)a->lg.timeout_s * 1000000;
	}
	agent_pump(a);
	return 0;
}

static int agent_on_timer(struct call *c)
{
	struct agent *a = call_mode_state(c);

	if (!a || a->closing)
		return 0;
	if (a->listening && a->listen_due_us && call_now(c) >= a->listen_due_us)
		agent_gather_timeout(a);
	agent_pump(a);
	return 0;
}

void agent_gather_timeout(struct agent *a)
{
	const struct config *cfg = call_config(a->c);

	a->listening = 0;
	a->listen_due_us = 0;
	if (a->ndigits) {
		finish_digits(a);
	} else if (a->head) {
		/* verbs after the Gather: Twilio's fall-through */
		const char *kv[] = { "then", "verbs after the Gather", NULL };

		call_log(a->c, "gather_timeout", kv);
	} else if (++a->timeouts >= cfg->max_timeouts) {
		say_then_hangup(a, cfg->goodbye_text, "max_timeouts");
	} else {
		char url[sizeof(a->url)];

		agent_next_url(a, url, sizeof(url));
		agent_post_turn(a, "timeout", url);
	}
}

static int agent_on_media(struct call *c, const uint8_t *ulaw, size_t n)
{
	struct agent *a = call_mode_state(c);

	/* the pump runs only when speech started or ended: most frames change nothing */
	if (a && !a->closing && agent_hear_media(a, ulaw, n) && !a->closing)
		agent_pump(a);
	return 0;
}

static int agent_on_mark(struct call *c, const char *name)
{
	struct agent *a = call_mode_state(c);

	if (a) {
		agent_mark_back(a, name);
		agent_pump(a);
	}
	return 0;
}

static int agent_on_drain(struct call *c)
{
	struct agent *a = call_mode_state(c);

	if (a)
		agent_pump(a);
	return 0;
}

static void agent_on_close(struct call *c)
{
	struct agent *a = call_mode_state(c);

	if (!a)
		return;
	if (a->utt)
		recog_cancel(a->utt);
	a->utt = NULL;
	agent_global_end_call(a->id);
	agent_items_clear(a);
	free(a);
	call_set_mode_state(c, NULL);
}

const struct mode_ops mode_agent = {
	.name = "agent",
	.summary = "talk with the caller: POST each turn to the turn URL ([agent] turn_url), "
		   "speak its TwiML answer ([tts]), gather keys and speech ([asr])",
	.on_start = agent_on_start,
	.on_media = agent_on_media,
	.on_dtmf = agent_on_dtmf,
	.on_mark = agent_on_mark,
	.on_close = agent_on_close,
	.on_timer = agent_on_timer,
	.on_drain = agent_on_drain,
	.on_wake = agent_on_wake,
	.shutdown = agent_shutdown,
};
