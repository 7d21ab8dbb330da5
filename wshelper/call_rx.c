/* call_rx: a call's inbound side: chunks reassembled into messages (lws does not), each
 * parsed and checked against docs/PROTOCOL.md §4, then handed to the call's mode. */
#include "call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "call_int.h"
#include "calllog.h"
#include "config.h"
#include "metrics.h"
#include "mode.h"
#include "streamtok.h"
#include "twmsg.h"

static int valid_stream_sid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'z') ||
		      (s[n] >= 'A' && s[n] <= 'Z')))
			return 0;
	return n > 0;
}

/* logfmt keys must stay bare words: param_<Name> keeps [A-Za-z0-9_.-] of the name. */
static void param_key(char *dst, size_t cap, const char *name)
{
	size_t o = (size_t)snprintf(dst, cap, "param_");

	for (; *name && o + 1 < cap; name++) {
		char ch = *name;
		int ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
			 (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '.' || ch == '-';
		dst[o++] = ok ? ch : '_';
	}
	dst[o] = '\0';
}

static void log_start(struct call *c, const struct twmsg *m)
{
	/* 11 fixed pairs + one per parameter, + NULL */
	const char *kv[2 * (12 + TWMSG_PARAMS_MAX) + 1];
	char (*keys)[TWMSG_PARAM_LEN + 8] = c->env->keys;
	char fmt[128], rate[16], ch[16], dropped[24];
	size_t i, k = 0;
	const char *conn[] = { "path", c->path, "subprotocol", c->subprotocol[0] ? c->subprotocol :
			       "none", "peer", c->peer, "x_forwarded_for", c->xff[0] ? c->xff : NULL,
			       NULL };

	call_log(c, "ws_connected", conn);
	snprintf(rate, sizeof(rate), "%d", m->sample_rate);
	snprintf(ch, sizeof(ch), "%d", m->channels);
	snprintf(fmt, sizeof(fmt), "%s;rate=%s;channels=%s", m->encoding[0] ? m->encoding : "?",
		 rate, ch);
	snprintf(dropped, sizeof(dropped), "%zu", m->params_dropped);
	kv[k++] = "stream_sid";
	kv[k++] = m->stream_sid;
	kv[k++] = "account_sid";
	kv[k++] = m->account_sid[0] ? m->account_sid : NULL;
	kv[k++] = "tracks";
	kv[k++] = m->tracks;
	kv[k++] = "media_format";
	kv[k++] = fmt;
	kv[k++] = "mode";
	kv[k++] = c->mode ? c->mode->name : "?";
	kv[k++] = "params_dropped";
	kv[k++] = m->params_dropped ? dropped : NULL;
	for (i = 0; i < m->nparams; i++) {
		/* The token is a credential for the time it lives: never in a log. */
		if (strcmp(m->params[i].name, STREAMTOK_PARAM) == 0)
			continue;
		param_key(keys[i], sizeof(keys[i]), m->params[i].name);
		kv[k++] = keys[i];
		kv[k++] = m->params[i].value;
	}
	kv[k] = NULL;
	call_log(c, "ws_start", kv);
}

/* Refuse a start that is not bound to a call we verified, before anything names a file
 * with its CallSid (docs/WS.md "Stream binding"): the upgrade's signature is the same for
 * every call, so it proves nothing about the call. One line on stderr, 1008, counted. */
static int unbound(struct call *c, const struct twmsg *m, const char *why)
{
	char b1[80], b2[80], b3[200];

	c->env->m->errors[WSERR_UNBOUND_STREAM]++;
	c->errors[WSERR_UNBOUND_STREAM]++;
	call_elog("WS_REJECT kind=unbound_stream peer=%s call_sid=%s account_sid=%s "
		  "detail=\"%s; closing 1008\"", c->peer, call_safe(m->call_sid, b1, sizeof(b1)),
		  call_safe(m->account_sid, b2, sizeof(b2)), call_quoted(why, b3, sizeof(b3)));
	call_close(c, CLOSE_POLICY, "stream not bound to a signed call", 0);
	return -1;
}

/* 0 when the start may open the call: its callpipe_token was made for its CallSid and
 * AccountSid (with validate = yes), and no other stream of this CallSid is open. */
static int check_binding(struct call *c, const struct twmsg *m)
{
	const struct call *o;
	char why[160], reason[200];

	if (c->env->cfg->validate) {
		const char *tok = twmsg_param(m, STREAMTOK_PARAM);

		if (streamtok_check(c->env->cfg->auth_token, m->call_sid, m->account_sid, tok,
				    time(NULL), why, sizeof(why)) != 0) {
			snprintf(reason, sizeof(reason), "customParameters.%s %s", STREAMTOK_PARAM,
				 why);
			return unbound(c, m, reason);
		}
	}
	/* A token lives for minutes: within that time a replay must not take over or double
	 * a call. A stream its peer stopped, or that we are closing, no longer counts. */
	for (o = c->env->head; o; o = o->next)
		if (o != c && o->started && !o->done && !o->stopped && !o->closing &&
		    strcmp(o->call_sid, m->call_sid) == 0)
			return unbound(c, m, "a stream for this callSid is already open");
	return 0;
}

static void on_start(struct call *c, const struct twmsg *m)
{
	const char *want;
	char b1[80];

	if (c->started) {
		call_proto_error(c, WSERR_INVALID, "second start ignored");
		return;
	}
	if (!calllog_valid_callsid(m->call_sid)) {
		/* Never name a file with it: the helper's own log only. */
		c->env->m->errors[WSERR_BAD_CALL_SID]++;
		c->errors[WSERR_BAD_CALL_SID]++;
		call_elog("WS_ERROR kind=bad_call_sid peer=%s call_sid=%s detail=\"start.callSid is "
		          "not CA + 32 hex; closing 1008\"", c->peer, call_safe(m->call_sid, b1, sizeof(b1)));
		call_close(c, CLOSE_POLICY, "invalid callSid", 0);
		return;
	}
	if (!valid_stream_sid(m->stream_sid)) {
		c->env->m->errors[WSERR_INVALID]++;
		c->errors[WSERR_INVALID]++;
		call_elog("WS_ERROR kind=invalid peer=%s call_sid=%s detail=\"start.streamSid is not "
		          "alphanumeric; closing 1008\"", c->peer, m->call_sid);
		call_close(c, CLOSE_POLICY, "invalid streamSid", 0);
		return;
	}
	if (check_binding(c, m) != 0)
		return;
	call_copy(c->call_sid, sizeof(c->call_sid), m->call_sid);
	call_copy(c->stream_sid, sizeof(c->stream_sid), m->stream_sid);
	call_copy(c->account_sid, sizeof(c->account_sid), m->account_sid);
	c->started = 1;
	want = twmsg_param(m, "mode");
	if (want && !mode_find(want))
		call_elog("WS_WARN sid=%s unknown mode \"%s\" asked in customParameters; using %s",
		          c->call_sid, call_safe(want, b1, sizeof(b1)), c->mode->name);
	else if (want)
		c->mode = mode_find(want);
	log_start(c, m);
	call_rec_start(c);
	call_elog("WS_START sid=%s", c->call_sid);
	c->start = m;
	if (c->mode->on_start && c->mode->on_start(c) < 0)
		call_close(c, CLOSE_INTERNAL, "mode error", 0);
	c->start = NULL;
}

static void mode_result(struct call *c, int r)
{
	if (r < 0)
		call_close(c, CLOSE_INTERNAL, "mode error", 0);
}

static void handle_message(struct call *c, const char *text, size_t len)
{
	struct call_env *env = c->env;
	struct twmsg *m = env->msg;
	char err[160], b1[TWMSG_NAME_MAX];
	enum twmsg_error e;

	e = twmsg_parse(text, len, m, env->payload, env->payload_cap, err, sizeof(err));
	/* A message we cannot use still took its sequenceNumber: check it first, so one bad
	 * message is not also counted as a gap. */
	if (m->has_seq) {
		char gap[96];

		if (c->has_seq && m->seq != c->last_seq + 1) {
			snprintf(gap, sizeof(gap), "sequenceNumber %llu after %llu", m->seq,
				 c->last_seq);
			call_proto_error(c, WSERR_SEQUENCE_GAP, gap);
		}
		c->has_seq = 1;
		c->last_seq = m->seq;
	}
	switch (e) {
	case TWMSG_OK:
		break;
	case TWMSG_ERR_JSON:
		call_proto_error(c, WSERR_JSON, err);
		return;
	case TWMSG_ERR_UNKNOWN_EVENT:
		call_proto_error(c, WSERR_UNKNOWN_EVENT, err);
		return;
	case TWMSG_ERR_BASE64:
		call_proto_error(c, WSERR_BASE64, err);
		return;
	case TWMSG_ERR_TOO_BIG:
		call_proto_error(c, WSERR_TOO_BIG, err);
		return;
	case TWMSG_ERR_INVALID:
	default:
		call_proto_error(c, WSERR_INVALID, err);
		return;
	}

	if (m->event == TWMSG_CONNECTED)
		return;
	if (m->event == TWMSG_START) {
		on_start(c, m);
		return;
	}
	if (!c->started) {
		snprintf(err, sizeof(err), "%s before start", twmsg_event_name(m->event));
		call_proto_error(c, WSERR_MEDIA_BEFORE_START, err);
		return;
	}
	if (strcmp(m->stream_sid, c->stream_sid) != 0) {
		snprintf(err, sizeof(err), "%s with streamSid \"%.64s\"", twmsg_event_name(m->event),
			 m->stream_sid);
		call_proto_error(c, WSERR_STREAM_SID, err);
		return;
	}

	switch (m->event) {
	case TWMSG_MEDIA:
		c->rx++;
		env->m->frames_in++;
		call_rec_media(c, m->payload, m->payload_len);
		if (c->mode->on_media)
			mode_result(c, c->mode->on_media(c, m->payload, m->payload_len));
		break;
	case TWMSG_DTMF: {
		const char *kv[] = { "digit", m->digit, NULL };

		call_log(c, "ws_dtmf", kv);
		if (c->mode->on_dtmf)
			mode_result(c, c->mode->on_dtmf(c, m->digit));
		break;
	}
	case TWMSG_MARK: {
		const char *kv[] = { "name", m->mark_name, NULL };

		c->marks_returned++;
		env->m->marks_returned++;
		call_elog("WS_MARK name=%s", call_safe(m->mark_name, b1, sizeof(b1)));
		call_log(c, "ws_mark", kv);
		if (c->mode->on_mark)
			mode_result(c, c->mode->on_mark(c, m->mark_name));
		break;
	}
	case TWMSG_STOP: {
		const char *kv[] = { NULL };

		if (c->stopped)
			break;
		c->stopped = 1;
		call_elog("WS_STOP sid=%s", c->call_sid);
		call_log(c, "ws_stop", kv);
		if (c->mode->on_stop)
			mode_result(c, c->mode->on_stop(c));
		/* Twilio hangs up after stop; send what is queued, then close. */
		call_close(c, CLOSE_NORMAL, "stream stopped", 1);
		break;
	}
	default:
		break;
	}
}

void call_rx_free(struct call *c)
{
	if (c->rx_acct)
		call_mem_release(c, c->rx_acct);
	c->rx_acct = 0;
	bytebuf_free(&c->rxb);
}

/* Append a chunk to the reassembly buffer, its growth accounted against [ws] max_memory
 * before it happens: bytebuf grows by doubling from 4 KiB, so its new allocation is at most
 * max(4 KiB, twice what it must hold), never over max_message. What it really allocated is
 * settled afterwards (rx_acct follows the allocation, whatever bytebuf's growth policy). 0,
 * or -1 when the call was closed (memory, or none left). */
static int rx_append(struct call *c, const void *in, size_t len)
{
	size_t want = c->rxb.len + len, bound;

	if (want > c->rxb.cap) {
		bound = want * 2 > 4096 ? want * 2 : 4096;
		if (bound > c->rxb.max)
			bound = c->rxb.max;
		if (bound > c->rx_acct) {
			if (call_mem_reserve(c, bound - c->rx_acct) < 0)
				return -1;   /* closed: call_close freed the buffer */
			c->rx_acct = bound;
		}
	}
	if (bytebuf_add(&c->rxb, in, len) < 0) {
		call_elog("WS_ERROR kind=no_memory sid=%s", c->call_sid[0] ? c->call_sid : "-");
		call_close(c, CLOSE_INTERNAL, "out of memory", 0);
		return -1;
	}
	if (c->rxb.cap > c->rx_acct)
		call_mem_add(c, c->rxb.cap - c->rx_acct);   /* grew past the bound */
	else if (c->rxb.cap < c->rx_acct)
		call_mem_release(c, c->rx_acct - c->rxb.cap);
	c->rx_acct = c->rxb.cap;
	return 0;
}

void call_on_rx(struct call *c, const void *in, size_t len, int first, int final, int binary)
{
	size_t max = c->env->cfg->max_message;
	char detail[96];

	c->last_rx_us = call_now_us(c->env);
	if (first) {
		c->rxb.len = 0;
		c->rx_binary = binary ? 1 : 0;
		c->rx_discard = 0;
		if (binary)
			call_proto_error(c, WSERR_BINARY, "binary message ignored (Twilio error 31950)");
	}
	if (c->closing || c->rx_binary || c->rx_discard)
		goto end;
	if (first && final) {
		if (len <= max)
			handle_message(c, in, len);
		else
			goto too_big;
		goto end;
	}
	if (c->rxb.len + len > max)
		goto too_big;
	if (len && rx_append(c, in, len) < 0)
		goto end;
	if (final) {
		/* handle_message reads the text only while parsing, before anything it does can
		 * close the call (which frees the buffer) */
		size_t n = c->rxb.len;
		uint8_t *text = n ? c->rxb.data : NULL;

		handle_message(c, text ? (const char *)text : "", n);
		c->rxb.len = 0;
	}
	goto end;

too_big:
	snprintf(detail, sizeof(detail), "message over [ws] max_message (%zu bytes)", max);
	call_proto_error(c, WSERR_TOO_BIG, detail);
	call_elog("WS_CLOSE sid=%s code=%d reason=\"message too big\" detail=\"%s\"",
	          c->call_sid[0] ? c->call_sid : "-", CLOSE_TOO_BIG, detail);
	c->rx_discard = 1;
	call_close(c, CLOSE_TOO_BIG, "message too big", 0);
end:
	/* Keep idle calls small: the fragment buffer lives only while a message is open. */
	if (final)
		call_rx_free(c);
}
