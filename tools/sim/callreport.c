/* callreport: the summary of one simulated call, for a person (what happened at each step,
 * errors with their meaning, a PASS/FAIL line) or for a program (--json). */
#include <stdio.h>
#include <string.h>

#include "callrun.h"
#include "playout.h"

static double ms(int64_t us)
{
	return (double)us / 1000.0;
}

/* The ms from a clip's end of voice (its last frame when it has none) to T, -1 when T or
 * the clip did not happen. */
static double say_after_end(const struct sim_agent_say *s, int64_t t)
{
	int64_t end = s->voice_end_us >= 0 ? s->voice_end_us : s->last_us;

	return t >= 0 && end >= 0 ? ms(t - end) : -1.0;
}

/* One --say: when it went, its voice, the clear it drew, the reply. */
static void say_human(const struct sim_agent *a, size_t i)
{
	const struct sim_agent_say *s = &a->cfg.says[i];
	long rep = sim_agent_say_reply(a, i, 0), heard = sim_agent_say_reply(a, i, 1);

	printf("say       %s ", s->clip->path);
	if (s->timed)
		printf("at %.3f s", ms(s->at_us) / 1000.0);
	else if (s->at_wait)
		printf("at wait %u", s->at_wait);
	else
		printf("at a wait");
	if (!s->sent) {
		printf(": never said\n");
		return;
	}
	printf(", %.2f s sent %.3f..%.3f s", (double)s->sent / 8000.0, ms(s->first_us) / 1000.0,
	       ms(s->last_us >= 0 ? s->last_us : s->first_us) / 1000.0);
	if (s->onset_us >= 0 && s->voice_end_us >= 0)
		printf(", voice %.3f..%.3f s", ms(s->onset_us) / 1000.0,
		       ms(s->voice_end_us) / 1000.0);
	else if (s->onset_us >= 0)
		printf(", voice from %.3f s (cut short)", ms(s->onset_us) / 1000.0);
	else
		printf(", no voice (silence)");
	if (s->clear_us >= 0 && s->onset_us >= 0)
		printf("; clear %.0f ms after its onset", ms(s->clear_us - s->onset_us));
	if (rep < 0) {
		printf("; no reply heard\n");
		return;
	}
	printf("; reply (utterance %ld) %.0f ms after its end", rep + 1,
	       say_after_end(s, a->utts[rep].start_us));
	if (heard >= 0 && a->utts[heard].audible_us >= 0)
		printf(", audible after %.0f ms\n", say_after_end(s, a->utts[heard].audible_us));
	else
		printf(", silence\n");
}

/* call --agent: each utterance heard, each group of keys and its reply, the totals. */
static void agent_human(const struct sim_callrun *r)
{
	const struct sim_agent *a = r->agent;
	const struct sim_totals *t = &r->totals;
	long greeting = sim_agent_greeting(a);
	int64_t first_key;
	size_t i, g;

	printf("media     sent %lu frames of %s (%.2f s), received %llu bytes (%lu frames, "
	       "%s)\n", t->frames_sent, a->cfg.nsays ? "silence and speech" : "silence",
	       t->frames_sent * 0.02,
	       (unsigned long long)t->bytes_received, t->frames_received,
	       a->odd_frames ? "some not 160 bytes" : "all 160 bytes");
	for (i = 0; i < a->nutts; i++) {
		const struct sim_agent_utt *u = &a->utts[i];
		double rms = sim_agent_utt_rms(u);
		const char *role = (long)i == greeting ? "greeting" : "";

		for (g = 0; !role[0] && g < a->cfg.ngroups; g++)
			if (sim_agent_reply(a, g, 0) == (long)i)
				role = "reply";
		for (g = 0; !role[0] && g < a->cfg.nsays; g++)
			if (sim_agent_say_reply(a, g, 0) == (long)i)
				role = "reply";
		printf("utterance %zu  at %.3f s  heard %.2f s  %lu frames (", i + 1,
		       ms(u->start_us) / 1000.0, (double)u->heard_bytes / 8000.0, u->frames);
		if (u->odd_frames)
			printf("%lu not 160 bytes)", u->odd_frames);
		else
			printf("all 160 bytes)");
		printf("  rms %.0f%s  marks %lu played, %lu flushed%s%s  ended by %s\n", rms,
		       rms > SIM_AGENT_RMS_FLOOR ? "" : " (silence)", u->marks_played,
		       u->marks_flushed, role[0] ? "  " : "", role, sim_agent_end_name(u->end));
	}
	for (g = 0; g < a->cfg.ngroups; g++) {
		const struct sim_agent_group *gr = &a->cfg.groups[g];
		long rep = sim_agent_reply(a, g, 0), heard = sim_agent_reply(a, g, 1);

		printf("keys      %s ", gr->keys);
		if (gr->timed)
			printf("at %.3f s", ms(gr->at_us) / 1000.0);
		else if (gr->at_wait)
			printf("at wait %u", gr->at_wait);
		else
			printf("at a wait");
		if (!gr->sent) {
			printf(": never sent\n");
			continue;
		}
		printf(", %zu sent %.3f..%.3f s; ", gr->sent, ms(gr->first_us) / 1000.0,
		       ms(gr->last_us) / 1000.0);
		if (rep < 0) {
			printf("no reply heard\n");
			continue;
		}
		printf("reply (utterance %ld) after %.0f ms", rep + 1,
		       ms(a->utts[rep].start_us - gr->last_us));
		if (heard >= 0 && a->utts[heard].audible_us >= 0)
			printf(", audible after %.0f ms\n",
			       ms(a->utts[heard].audible_us - gr->last_us));
		else
			printf(", silence\n");
	}
	for (g = 0; g < a->cfg.nsays; g++)
		say_human(a, g);
	sim_agent_keys_sent(a, &first_key);
	printf("agent     ");
	if (a->nutts)
		printf("first audio %.0f ms after stream start", ms(a->utts[0].start_us));
	else
		printf("no audio heard");
	printf("; %u wait%s; marks %lu played, %lu flushed; clears %lu; %s\n", a->waits,
	       a->waits == 1 ? "" : "s", a->marks_played, a->marks_flushed, a->clears,
	       a->done ? "the caller hung up after the last reply" :
	       "the caller's script was not finished");
}

static void human(const struct sim_callopts *o, const struct sim_callrun *r)
{
	const struct sim_totals *t = &r->totals;
	const struct sim_twiml *tw = r->twiml;
	char how[200];
	size_t i;

	printf("call      %s  CallSid=%s  From=%s To=%s\n", o->base ? o->base : r->stream_url,
	       r->call_sid, o->from, o->to);
	if (r->webhook_sent) {
		if (r->webhook_status)
			printf("webhook   POST %s -> HTTP %ld %s (%.1f ms)\n", r->webhook_url,
			       r->webhook_status, r->webhook_ctype, r->webhook_ms);
		else
			printf("webhook   POST %s -> no answer: %s\n", r->webhook_url,
			       r->webhook_error);
		if (r->webhook_status && r->webhook_status != 200 && r->webhook_body) {
			int n = (int)strcspn(r->webhook_body, "\r\n");
			const char *rest = r->webhook_body + n;

			rest += strspn(rest, " \t\r\n");
			printf("          body: %.*s%s\n", n > 300 ? 300 : n, r->webhook_body,
			       *rest || n > 300 ? " ..." : "");
		}
	}
	if (tw && (tw->has_stream || tw->nissues)) {
		if (tw->has_stream)
			printf("twiml     <%s><Stream url=\"%s\">, %zu Parameter%s%s%s%s%s\n",
			       tw->bidirectional ? "Connect" : "Start", tw->url, tw->nparams,
			       tw->nparams == 1 ? "" : "s",
			       tw->status_callback[0] ? ", statusCallback " : "",
			       tw->status_callback, tw->after[0] ? "; then " : "", tw->after);
		for (i = 0; i < tw->nissues; i++)
			printf("          %s%s%.0d%s %s\n", tw->issues[i].fatal ? "ERROR" : "warning",
			       tw->issues[i].code ? " " : "", tw->issues[i].code,
			       "", tw->issues[i].text);
	}
	if (r->stream_tried) {
		printf("stream    dial %s, GET %s, offered %s\n", r->dial, r->stream_url,
		       o->subprotocols ? o->subprotocols : "no subprotocol");
		if (t->connected)
			printf("handshake HTTP 101, subprotocol %s\n",
			       t->subprotocol[0] ? t->subprotocol : "none");
		else if (t->http_status)
			printf("handshake HTTP %ld: %s\n", t->http_status, t->handshake_error);
		else
			printf("handshake failed: %s\n", t->handshake_error);
	}
	if (t->connected && r->agent)
		agent_human(r);
	if (t->connected && !r->agent) {
		printf("media     sent %lu frames (%.2f s)%s, received %llu bytes (%lu frames)\n",
		       t->frames_sent, t->frames_sent * 0.02, o->fast ? " fast" : "",
		       (unsigned long long)t->bytes_received, t->frames_received);
		printf("echo      %llu of %zu bytes match what was sent, in order%s\n",
		       (unsigned long long)t->bytes_matched, r->audio_len,
		       t->mismatch_at >= 0 ? "; first difference at byte " : "");
		if (t->mismatch_at >= 0)
			printf("          (byte %lld)\n", t->mismatch_at);
		if (t->first_echo_ms >= 0)
			printf("latency   first echo %.1f ms; per frame p50 %.2f p90 %.2f p99 %.2f "
			       "max %.2f ms (%llu frames)\n", t->first_echo_ms,
			       sim_hist_percentile(t->latency, 50) / 1000.0,
			       sim_hist_percentile(t->latency, 90) / 1000.0,
			       sim_hist_percentile(t->latency, 99) / 1000.0,
			       sim_hist_max(t->latency) / 1000.0,
			       (unsigned long long)sim_hist_count(t->latency));
		printf("marks     %lu received, %lu returned (%lu flushed by clear), %lu never "
		       "returned; clears %lu (%lu before the first audio)\n", t->marks_received,
		       t->marks_returned, t->marks_flushed, t->marks_unreturned, t->clears,
		       t->clears_before_media);
		if (t->dtmf_sent)
			printf("dtmf      %lu digits sent (%s)\n", t->dtmf_sent, o->dtmf);
	}
	if (t->connected) {
		int hung_up = r->agent && t->closed_by == SIM_CLOSED_SERVER &&
			      !t->close_after_stop && t->close_code == 1000;

		if (r->agent)
			printf("marks     %lu received, %lu returned (%lu flushed by clear), %lu "
			       "never returned; clears %lu; dtmf %lu keys sent\n",
			       t->marks_received, t->marks_returned, t->marks_flushed,
			       t->marks_unreturned, t->clears, t->dtmf_sent);
		sim_inject_report(stdout, t, 0);
		sim_callrun_close_words(t, how, sizeof(how));
		printf("close     %s%s, after %.3f s", hung_up ? "agent hung up: " : "", how,
		       t->close_at_s);
		if ((t->closed_by == SIM_CLOSED_SERVER || t->closed_by == SIM_CLOSED_DROPPED) &&
		    !t->close_after_stop)
			printf(" (%lu media frame%s sent by then); Twilio would go on with %s",
			       t->frames_before_close, t->frames_before_close == 1 ? "" : "s",
			       tw && tw->after[0] ? tw->after : "nothing: it hangs up");
		printf("\n");
		if (o->expect_close)
			printf("          expected the server to close with %d: %s\n",
			       o->expect_close, t->closed_by == SIM_CLOSED_SERVER &&
			       t->close_code == o->expect_close ? "yes" : "no");
	}
	for (i = 0; i < r->ncallbacks; i++) {
		const struct sim_callback_result *c = &r->callbacks[i];

		if (c->status)
			printf("callback  %s -> %s HTTP %ld\n", c->what, c->url, c->status);
		else
			printf("callback  %s -> %s no answer: %s\n", c->what, c->url, c->error);
	}
	if (t->nerrors) {
		printf("errors\n");
		sim_report_errors(stdout, t);
	} else if (r->stream_tried) {
		printf("errors    none\n");
	}
	if (r->failed)
		printf("FAIL: %s\n", r->reason);
	else if (o->expect_close)
		printf("PASS: the server closed the stream with %d as expected%s\n", o->expect_close,
		       o->expect_echo ? "; the echo before it was exact" : "");
	else if (tw && !tw->bidirectional)
		printf("PASS: the stream works (listen only: <Start><Stream> takes no audio back)\n");
	else if (r->agent)
		printf("PASS: the agent spoke: greeting heard, %zu key group%s answered, %zu "
		       "clip%s said%s\n", r->agent->cfg.ngroups,
		       r->agent->cfg.ngroups == 1 ? "" : "s", r->agent->cfg.nsays,
		       r->agent->cfg.nsays == 1 ? "" : "s",
		       t->closed_by == SIM_CLOSED_SERVER && !t->close_after_stop ?
		       ", the agent hung up" : ", the caller hung up");
	else
		printf("PASS: the pipe works both ways\n");
}

static void json_kv_str(const char *k, const char *v, int comma)
{
	printf("%s\"%s\":", comma ? "," : "", k);
	sim_json_string(stdout, v ? v : "");
}

static void agent_json(const struct sim_callopts *o, const struct sim_callrun *r)
{
	const struct sim_agent *a = r->agent;
	const struct sim_totals *t = &r->totals;
	size_t i, g;

	printf(",\"agent\":{\"quiet_ms\":%.0f,\"max_seconds\":%g,\"rms_floor\":%.0f,"
	       "\"first_audio_ms\":%.1f,\"greeting\":%ld,\"waits\":%u,\"frames\":%lu,"
	       "\"frames_not_160\":%lu,\"marks_played\":%lu,\"marks_flushed\":%lu,"
	       "\"clears\":%lu,\"done\":%s,\"hung_up\":%s,\"unplayed_ms_at_end\":%.1f,"
	       "\"pending_marks_at_end\":%zu,\"max_buffered_ms\":%.1f,\"utterances\":[",
	       o->quiet_ms, o->max_seconds,
	       SIM_AGENT_RMS_FLOOR, a->nutts ? ms(a->utts[0].start_us) : -1.0,
	       sim_agent_greeting(a) + 1, a->waits, a->frames, a->odd_frames, a->marks_played,
	       a->marks_flushed, a->clears, a->done ? "true" : "false",
	       t->closed_by == SIM_CLOSED_SERVER && !t->close_after_stop &&
	       t->close_code == 1000 ? "true" : "false", (double)a->unplayed_at_end / 8.0,
	       a->pending_marks_at_end, (double)a->max_buffered / 8.0);
	for (i = 0; i < a->nutts; i++) {
		const struct sim_agent_utt *u = &a->utts[i];

		printf("%s{\"index\":%zu,\"start_ms\":%.1f,\"end_ms\":%.1f,\"audible_ms\":%.1f,"
		       "\"heard_ms\":%.1f,\"flushed_ms\":%.1f,\"frames\":%lu,"
		       "\"frames_not_160\":%lu,\"all_160\":%s,\"rms\":%.1f,\"sound\":%s,"
		       "\"marks_played\":%lu,\"marks_flushed\":%lu,\"ended_by\":\"%s\"}",
		       i ? "," : "", i + 1, ms(u->start_us), ms(u->end_us),
		       u->audible_us >= 0 ? ms(u->audible_us) : -1.0,
		       (double)u->heard_bytes / 8.0, (double)u->flushed_bytes / 8.0, u->frames,
		       u->odd_frames, u->odd_frames ? "false" : "true", sim_agent_utt_rms(u),
		       sim_agent_utt_rms(u) > SIM_AGENT_RMS_FLOOR ? "true" : "false",
		       u->marks_played, u->marks_flushed, sim_agent_end_name(u->end));
	}
	printf("],\"keys\":[");
	for (g = 0; g < a->cfg.ngroups; g++) {
		const struct sim_agent_group *gr = &a->cfg.groups[g];
		long rep = sim_agent_reply(a, g, 0), heard = sim_agent_reply(a, g, 1);

		printf("%s{", g ? "," : "");
		json_kv_str("keys", gr->keys, 0);
		printf(",\"when\":\"%s\",\"at_ms\":%.1f,\"at_wait\":%u,\"sent\":%zu,"
		       "\"first_sent_ms\":%.1f,\"last_sent_ms\":%.1f,\"reply_utterance\":%ld,"
		       "\"reply_ms\":%.1f,\"reply_audible_ms\":%.1f,\"reply_heard\":%s}",
		       gr->timed ? "at" : "wait", gr->scheduled ? ms(gr->at_us) : -1.0,
		       gr->at_wait, gr->sent, gr->sent ? ms(gr->first_us) : -1.0,
		       gr->sent ? ms(gr->last_us) : -1.0, rep + 1,
		       rep >= 0 ? ms(a->utts[rep].start_us - gr->last_us) : -1.0,
		       heard >= 0 && a->utts[heard].audible_us >= 0 ?
		       ms(a->utts[heard].audible_us - gr->last_us) : -1.0,
		       heard >= 0 ? "true" : "false");
	}
	printf("],\"says\":[");
	for (g = 0; g < a->cfg.nsays; g++) {
		const struct sim_agent_say *s = &a->cfg.says[g];
		long rep = sim_agent_say_reply(a, g, 0), heard = sim_agent_say_reply(a, g, 1);

		printf("%s{", g ? "," : "");
		json_kv_str("file", s->clip->path, 0);
		printf(",\"when\":\"%s\",\"at_ms\":%.1f,\"at_wait\":%u,\"clip_ms\":%.1f,"
		       "\"sent_ms\":%.1f,\"first_ms\":%.1f,\"last_ms\":%.1f,\"onset_ms\":%.1f,"
		       "\"voice_end_ms\":%.1f,\"clear_ms\":%.1f,\"reply_utterance\":%ld,"
		       "\"reply_start_ms\":%.1f,\"reply_ms\":%.1f,\"reply_audible_ms\":%.1f,"
		       "\"reply_heard\":%s}",
		       s->timed ? "at" : "wait", s->scheduled ? ms(s->at_us) : -1.0, s->at_wait,
		       (double)s->clip->len / 8.0, (double)s->sent / 8.0,
		       s->first_us >= 0 ? ms(s->first_us) : -1.0,
		       s->last_us >= 0 ? ms(s->last_us) : -1.0,
		       s->onset_us >= 0 ? ms(s->onset_us) : -1.0,
		       s->voice_end_us >= 0 ? ms(s->voice_end_us) : -1.0,
		       s->clear_us >= 0 && s->onset_us >= 0 ? ms(s->clear_us - s->onset_us) : -1.0,
		       rep + 1, rep >= 0 ? ms(a->utts[rep].start_us) : -1.0,
		       rep >= 0 ? say_after_end(s, a->utts[rep].start_us) : -1.0,
		       heard >= 0 && a->utts[heard].audible_us >= 0 ?
		       say_after_end(s, a->utts[heard].audible_us) : -1.0,
		       heard >= 0 ? "true" : "false");
	}
	printf("]}");
}

static void json(const struct sim_callopts *o, const struct sim_callrun *r)
{
	const struct sim_totals *t = &r->totals;
	const struct sim_twiml *tw = r->twiml;
	size_t i;

	printf("{\"outcome\":\"%s\"", r->failed ? "fail" : "pass");
	json_kv_str("reason", r->failed ? r->reason : "", 1);
	json_kv_str("call_sid", r->call_sid, 1);
	json_kv_str("account_sid", r->account_sid, 1);
	json_kv_str("stream_sid", r->stream_sid, 1);
	printf(",\"webhook\":{\"sent\":%s,\"status\":%ld", r->webhook_sent ? "true" : "false",
	       r->webhook_status);
	json_kv_str("url", r->webhook_url, 1);
	json_kv_str("content_type", r->webhook_ctype, 1);
	json_kv_str("error", r->webhook_error, 1);
	printf(",\"ms\":%.3f}", r->webhook_ms);
	printf(",\"twiml\":{\"ok\":%s,\"stream\":%s,\"bidirectional\":%s",
	       r->twiml_ok ? "true" : "false", tw && tw->has_stream ? "true" : "false",
	       tw && tw->bidirectional ? "true" : "false");
	if (tw) {
		json_kv_str("url", tw->url, 1);
		json_kv_str("status_callback", tw->status_callback, 1);
		json_kv_str("after", tw->after, 1);
		printf(",\"parameters\":{");
		for (i = 0; i < tw->nparams; i++) {
			if (i)
				putchar(',');
			sim_json_string(stdout, tw->params[i].name);
			putchar(':');
			sim_json_string(stdout, tw->params[i].value);
		}
		printf("},\"issues\":[");
		for (i = 0; i < tw->nissues; i++) {
			printf("%s{\"code\":%d,\"fatal\":%s", i ? "," : "", tw->issues[i].code,
			       tw->issues[i].fatal ? "true" : "false");
			json_kv_str("text", tw->issues[i].text, 1);
			putchar('}');
		}
		putchar(']');
	}
	printf("}");
	printf(",\"handshake\":{\"tried\":%s,\"status\":%ld", r->stream_tried ? "true" : "false",
	       t->http_status);
	json_kv_str("dial", r->dial, 1);
	json_kv_str("url", r->stream_url, 1);
	json_kv_str("offered", o->subprotocols ? o->subprotocols : "", 1);
	json_kv_str("subprotocol", t->subprotocol, 1);
	json_kv_str("error", t->handshake_error, 1);
	printf("}");
	printf(",\"frames_sent\":%lu,\"frames_received\":%lu,\"bytes_sent\":%llu,"
	       "\"bytes_received\":%llu,\"bytes_matched\":%llu,\"mismatch_at\":%lld,"
	       "\"first_echo_ms\":%.3f,\"dtmf_sent\":%lu,\"marks_received\":%lu,"
	       "\"marks_returned\":%lu,\"marks_flushed\":%lu,\"marks_unreturned\":%lu,"
	       "\"clears\":%lu,\"clears_before_media\":%lu,\"server_closed_first\":%s,"
	       "\"close_code\":%d,\"stream_seconds\":%.3f,\"duration_seconds\":%.3f,"
	       "\"closed_by\":\"%s\",\"close_after_stop\":%s,\"close_at_seconds\":%.4f,"
	       "\"frames_before_close\":%lu,\"expect_close\":%d,",
	       t->frames_sent, t->frames_received, (unsigned long long)t->bytes_sent,
	       (unsigned long long)t->bytes_received, (unsigned long long)t->bytes_matched,
	       t->mismatch_at, t->first_echo_ms, t->dtmf_sent, t->marks_received,
	       t->marks_returned, t->marks_flushed, t->marks_unreturned, t->clears,
	       t->clears_before_media, t->server_closed_early ? "true" : "false",
	       t->close_code, t->stream_seconds, r->duration_s,
	       t->closed_by == SIM_CLOSED_SERVER ? "server" : t->closed_by == SIM_CLOSED_CLIENT ?
	       "client" : t->closed_by == SIM_CLOSED_DROPPED ? "dropped" : "none",
	       t->close_after_stop ? "true" : "false", t->close_at_s, t->frames_before_close,
	       o->expect_close);
	json_kv_str("close_reason", t->close_reason, 0);
	putchar(',');
	sim_inject_report(stdout, t, 1);
	putchar(',');
	sim_report_json_common(stdout, t);
	if (r->agent)
		agent_json(o, r);
	printf(",\"callbacks\":[");
	for (i = 0; i < r->ncallbacks; i++) {
		printf("%s{", i ? "," : "");
		json_kv_str("event", r->callbacks[i].what, 0);
		json_kv_str("url", r->callbacks[i].url, 1);
		printf(",\"status\":%ld", r->callbacks[i].status);
		json_kv_str("error", r->callbacks[i].error, 1);
		putchar('}');
	}
	printf("]}\n");
}

void sim_callrun_report(const struct sim_callopts *o, const struct sim_callrun *run)
{
	if (o->json)
		json(o, run);
	else
		human(o, run);
	fflush(stdout);
	if (run->failed && o->json)
		fprintf(stderr, "callpipe-sim: FAIL: %s\n", run->reason);
}
