/* inject: bad input `callpipe-sim call --inject` puts on a Media Stream, sent from the call's
 * WRITEABLE turn like every message, and what the server did about each one. */
#include "inject.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "simmsg.h"

#define BIT(k) (1u << (k))
/* The kinds injected between media frames; the others act on the whole call. */
#define MID_CALL (BIT(SIM_INJ_JSON) | BIT(SIM_INJ_BINARY) | BIT(SIM_INJ_UNKNOWN) | \
		  BIT(SIM_INJ_STREAM_SID) | BIT(SIM_INJ_BASE64) | BIT(SIM_INJ_TOO_BIG))
/* `fragmented` sends each message as this many frames (RFC 6455 5.4: a text frame without
 * FIN, continuation frames, the last one with FIN). */
#define FRAGMENTS 3
/* A streamSid the server never gave out: MZ + 32 hex, unlike any random one we send. */
static const char wrong_sid[] = "MZ00000000000000000000000000000bad";

static const char *const names[SIM_INJ_NKINDS] = {
	"json", "binary", "unknown", "early-media", "stream-sid", "base64", "fragmented",
	"too-big", "bad-call-sid",
};

struct sim_inject {
	unsigned mid_done;             /* mid-call kinds sent so far */
	int early_done;
	int cur_kind;                  /* the injected kind now being sent, -1 for a real message */
	/* A message going out in fragments, one per WRITEABLE. */
	char *frag;
	size_t frag_len, frag_cap;
	unsigned frag_i, frag_n;       /* next fragment, fragments in all (0: none pending) */
	int frag_binary, frag_kind;
	uint8_t early[SIM_FRAME_BYTES], badsid[SIM_FRAME_BYTES];   /* payloads to spot */
};

const char *sim_inject_name(int kind)
{
	return kind >= 0 && kind < SIM_INJ_NKINDS ? names[kind] : "?";
}

int sim_inject_parse(const char *list, struct sim_inject_cfg *cfg, char *err, size_t errlen)
{
	const char *p = list;

	cfg->mask = 0;
	cfg->n = 0;
	while (*p) {
		size_t n = strcspn(p, ","), k;

		for (k = 0; k < SIM_INJ_NKINDS; k++)
			if (strlen(names[k]) == n && strncmp(p, names[k], n) == 0)
				break;
		if (k == SIM_INJ_NKINDS) {
			snprintf(err, errlen, "unknown kind '%.*s' (kinds: json, binary, "
				 "unknown, early-media, stream-sid, base64, fragmented, too-big, "
				 "bad-call-sid)", (int)(n > 40 ? 40 : n), p);
			return -1;
		}
		if (cfg->mask & BIT(k)) {
			snprintf(err, errlen, "'%s' is listed twice", names[k]);
			return -1;
		}
		cfg->mask |= BIT(k);
		cfg->order[cfg->n++] = (unsigned char)k;
		p += n;
		if (*p == ',' && *++p == '\0') {
			snprintf(err, errlen, "a trailing comma");
			return -1;
		}
	}
	if (!cfg->n) {
		snprintf(err, errlen, "no kind given");
		return -1;
	}
	return 0;
}

/* ---- per call state ------------------------------------------------------------------ */

static struct sim_inject *state(struct sim_call *c)
{
	struct sim_inject *s = c->inj;
	size_t i;

	if (s || !c->eng->cfg.inject.n)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cur_kind = s->frag_kind = -1;
	/* Payloads no tone or file is likely to hold, so an echo of them is recognised. */
	for (i = 0; i < SIM_FRAME_BYTES; i++) {
		s->early[i] = (uint8_t)(0x25 ^ (i * 11));
		s->badsid[i] = (uint8_t)(0x52 ^ (i * 13));
	}
	c->inj = s;
	return s;
}

void sim_inject_free(struct sim_call *c)
{
	if (!c->inj)
		return;
	free(c->inj->frag);
	free(c->inj);
	c->inj = NULL;
}

/* Call 0's record of KIND (the report is about one call), or NULL. */
static struct sim_inject_stat *stat_of(struct sim_call *c, int kind)
{
	unsigned i;

	if (c->idx != 0 || kind < 0)
		return NULL;
	for (i = 0; i < c->eng->t->ninject; i++)
		if (c->eng->t->inject[i].kind == kind)
			return &c->eng->t->inject[i];
	return NULL;
}

static void mark_sent(struct sim_call *c, int kind, size_t bytes)
{
	struct sim_inject_stat *st = stat_of(c, kind);

	if (!st)
		return;
	st->sent = 1;
	st->after_frame = c->frames_sent;
	st->at_s = c->t_open ? (double)(lws_now_usecs() - c->t_open) / 1e6 : 0;
	st->bytes = bytes;
}

static void count_fragment(struct sim_call *c, int kind)
{
	struct sim_inject_stat *st;

	if ((st = stat_of(c, SIM_INJ_FRAGMENTED)))
		st->fragments++;
	if (kind != SIM_INJ_FRAGMENTED && (st = stat_of(c, kind)))
		st->fragments++;
}

/* ---- sending ------------------------------------------------------------------------- */

/* Send fragment frag_i of the pending message: bytes [len*i/n, len*(i+1)/n), so each of the
 * n pieces holds at least one byte. Copied into the engine's buffer for its LWS_PRE room. */
static int frag_next(struct sim_call *c)
{
	struct sim_inject *s = c->inj;
	size_t a = s->frag_len * s->frag_i / s->frag_n;
	size_t b = s->frag_len * (s->frag_i + 1) / s->frag_n;
	unsigned char *out = c->eng->tx + LWS_PRE;
	int flags = lws_write_ws_flags(s->frag_binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT,
				       s->frag_i == 0, s->frag_i + 1 == s->frag_n);

	memcpy(out, s->frag + a, b - a);
	if (lws_write(c->wsi, out, b - a, (enum lws_write_protocol)flags) < (int)(b - a))
		return -1;
	count_fragment(c, s->frag_kind);
	if (++s->frag_i == s->frag_n)
		s->frag_n = 0;
	c->t_last_tx = lws_now_usecs();
	return 0;
}

/* Room for a LEN-byte message to go out in PIECES fragments; NULL when out of memory. */
static char *frag_begin(struct sim_call *c, size_t len, unsigned pieces, int binary)
{
	struct sim_inject *s = state(c);

	if (!s)
		return NULL;
	if (len > s->frag_cap) {
		char *p = realloc(s->frag, len);

		if (!p)
			return NULL;
		s->frag = p;
		s->frag_cap = len;
	}
	s->frag_len = len;
	s->frag_i = 0;
	s->frag_n = pieces > len ? (unsigned)len : pieces;
	s->frag_binary = binary;
	s->frag_kind = s->cur_kind;
	return s->frag;
}

/* How many frames a LEN-byte message takes: FRAGMENTS with `fragmented`, and never more
 * than the send buffer holds in one. */
static unsigned pieces_for(const struct sim_call *c, size_t len)
{
	size_t cap = TX_MAX - LWS_PRE, n = (len + cap - 1) / cap;

	if ((c->eng->cfg.inject.mask & BIT(SIM_INJ_FRAGMENTED)) && n < FRAGMENTS)
		n = FRAGMENTS;
	return n ? (unsigned)n : 1;
}

int sim_inject_send(struct sim_call *c, const char *msg, size_t len, int binary)
{
	unsigned char *out = c->eng->tx + LWS_PRE;
	unsigned pieces = pieces_for(c, len);
	struct sim_inject_stat *st;
	char *f;

	if (pieces > 1 && len > 1) {
		f = frag_begin(c, len, pieces, binary);
		if (!f)
			return -1;
		memcpy(f, msg, len);
		if ((st = stat_of(c, SIM_INJ_FRAGMENTED))) {
			if (!st->sent)
				mark_sent(c, SIM_INJ_FRAGMENTED, 0);
			st->bytes++;   /* for this kind: messages sent in fragments */
		}
		return frag_next(c);
	}
	if (msg != (const char *)out)
		memmove(out, msg, len);
	if (lws_write(c->wsi, out, len, binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < (int)len)
		return -1;
	if (c->inj)
		count_fragment(c, c->inj->cur_kind);
	c->t_last_tx = lws_now_usecs();
	return 0;
}

int sim_inject_busy(const struct sim_call *c)
{
	return c->inj && c->inj->frag_n;
}

int sim_inject_continue(struct sim_call *c)
{
	return frag_next(c);
}

static void trace(const struct sim_call *c, const char *msg, size_t len)
{
	if (c->eng->cfg.trace)
		fprintf(stderr, "# call %u > (inject) %.*s%s\n", c->idx,
			(int)(len > 300 ? 300 : len), msg, len > 300 ? "..." : "");
}

/* Send injected message MSG (LEN bytes, built anywhere) as KIND. */
static int send_injected(struct sim_call *c, int kind, const char *msg, long len, int binary)
{
	struct sim_inject *s = state(c);
	int r;

	if (!s || len < 0) {
		sim_totals_error(c->eng->t, 0, "internal: cannot build the injected %s message",
				 sim_inject_name(kind));
		return -1;
	}
	trace(c, binary ? "(binary)" : msg, binary ? 8 : (size_t)len);
	mark_sent(c, kind, (size_t)len);
	s->cur_kind = kind;
	r = sim_inject_send(c, msg, (size_t)len, binary);
	s->cur_kind = -1;
	return r;
}

/* too-big: {"event":"oversize","streamSid":"MZ…","padding":"xxx…"}, exactly N bytes, valid
 * JSON with an unknown event (so a server that takes it still has nothing to play). */
static int send_too_big(struct sim_call *c)
{
	size_t n = c->eng->cfg.inject.size, head, i;
	unsigned pieces = pieces_for(c, n);
	struct sim_inject *s = state(c);
	char *out;
	int r;

	if (!s)
		return -1;
	s->cur_kind = SIM_INJ_TOO_BIG;
	out = pieces > 1 ? frag_begin(c, n, pieces, 0) : (char *)c->eng->tx + LWS_PRE;
	s->cur_kind = -1;
	if (!out) {
		sim_totals_error(c->eng->t, 0, "out of memory for the too-big message");
		return -1;
	}
	head = (size_t)snprintf(out, n, "{\"event\":\"oversize\",\"streamSid\":\"%s\","
				"\"padding\":\"", c->stream_sid);
	for (i = head; i < n - 2; i++)
		out[i] = 'x';
	memcpy(out + n - 2, "\"}", 2);
	trace(c, out, n);
	mark_sent(c, SIM_INJ_TOO_BIG, n);
	if (pieces > 1) {
		struct sim_inject_stat *st = stat_of(c, SIM_INJ_FRAGMENTED);

		if (st)
			st->bytes++;
		return frag_next(c);
	}
	s->cur_kind = SIM_INJ_TOO_BIG;
	r = sim_inject_send(c, out, n, 0);
	s->cur_kind = -1;
	return r;
}

int sim_inject_before_start(struct sim_call *c)
{
	struct sim_inject *s;
	char *out = (char *)c->eng->tx + LWS_PRE;

	if (!(c->eng->cfg.inject.mask & BIT(SIM_INJ_EARLY_MEDIA)) || !(s = state(c)) ||
	    s->early_done)
		return 0;
	s->early_done = 1;
	/* Media with the sid start will carry: the server does not know it yet. */
	return send_injected(c, SIM_INJ_EARLY_MEDIA, out,
			     sim_msg_media(out, TX_MAX - LWS_PRE, c->seq++, 1, 0, s->early,
					   SIM_FRAME_BYTES, c->stream_sid), 0) ? -1 : 1;
}

const char *sim_inject_start_call_sid(struct sim_call *c)
{
	if (c->eng->cfg.inject.mask & BIT(SIM_INJ_BAD_CALL_SID)) {
		mark_sent(c, SIM_INJ_BAD_CALL_SID, 0);
		return "CA../../etc/passwd";
	}
	return c->call_sid;
}

/* The mid-call kind to send as number K (0-based), or -1 when there are fewer. */
static int mid_kind(const struct sim_call *c, unsigned k)
{
	const struct sim_inject_cfg *ic = &c->eng->cfg.inject;
	unsigned i;

	for (i = 0; i < ic->n; i++)
		if ((MID_CALL & BIT(ic->order[i])) && k-- == 0)
			return ic->order[i];
	return -1;
}

int sim_inject_pending(const struct sim_call *c)
{
	return c->eng->cfg.inject.n &&
	       mid_kind(c, c->inj ? c->inj->mid_done : 0) >= 0;
}

int sim_inject_due(const struct sim_call *c)
{
	unsigned k = c->inj ? c->inj->mid_done : 0;
	uint64_t at = SIM_INJECT_FIRST + (uint64_t)SIM_INJECT_GAP * k;

	if (!c->eng->cfg.inject.n || !c->start_sent || c->stop_sent || mid_kind(c, k) < 0)
		return 0;
	return c->frames_sent >= (at < c->frames_total ? at : c->frames_total);
}

int sim_inject_write_due(struct sim_call *c)
{
	struct sim_inject *s = state(c);
	char *out = (char *)c->eng->tx + LWS_PRE;
	size_t cap = TX_MAX - LWS_PRE;
	unsigned long ts = (unsigned long)c->frames_sent * (SIM_FRAME_US / 1000);
	int kind;

	if (!s)
		return -1;
	kind = mid_kind(c, s->mid_done++);
	switch (kind) {
	case SIM_INJ_JSON:
		return send_injected(c, kind, "{\"event\":\"media\",", 17, 0);
	case SIM_INJ_BINARY:
		return send_injected(c, kind, "\x80\x00\xff\x7e", 4, 1);
	case SIM_INJ_UNKNOWN:
		return send_injected(c, kind, out, snprintf(out, cap, "{\"event\":\"bogus\","
				     "\"streamSid\":\"%s\"}", c->stream_sid), 0);
	case SIM_INJ_STREAM_SID:
		return send_injected(c, kind, out, sim_msg_media(out, cap, c->seq++,
				     c->frames_sent, ts, s->badsid, SIM_FRAME_BYTES,
				     strcmp(c->stream_sid, wrong_sid) ? wrong_sid :
				     "MZ00000000000000000000000000000bae"), 0);
	case SIM_INJ_BASE64:
		return send_injected(c, kind, out, snprintf(out, cap, "{\"event\":\"media\","
				     "\"sequenceNumber\":\"%lu\",\"media\":{\"track\":\"inbound\","
				     "\"chunk\":\"%lu\",\"timestamp\":\"%lu\",\"payload\":"
				     "\"@@@@not~base64@@@@\"},\"streamSid\":\"%s\"}", c->seq++,
				     (unsigned long)c->frames_sent, ts, c->stream_sid), 0);
	case SIM_INJ_TOO_BIG:
		return send_too_big(c);
	default:
		return 0;
	}
}

/* ---- what came back ------------------------------------------------------------------ */

int sim_inject_echo_seen(struct sim_call *c, const uint8_t *p, size_t n)
{
	struct sim_inject *s = c->inj;
	struct sim_inject_stat *st = NULL;

	if (!s || n != SIM_FRAME_BYTES)
		return 0;
	if ((c->eng->cfg.inject.mask & BIT(SIM_INJ_EARLY_MEDIA)) && !memcmp(p, s->early, n))
		st = stat_of(c, SIM_INJ_EARLY_MEDIA);
	else if ((c->eng->cfg.inject.mask & BIT(SIM_INJ_STREAM_SID)) && !memcmp(p, s->badsid, n))
		st = stat_of(c, SIM_INJ_STREAM_SID);
	else
		return 0;
	if (st)
		st->echoed++;
	return 1;
}

/* What the server's close looked like, for a detail line. */
static void close_words(const struct sim_totals *t, char *out, size_t cap)
{
	if (t->closed_by == SIM_CLOSED_DROPPED)
		snprintf(out, cap, "the connection dropped without a close frame");
	else
		snprintf(out, cap, "the server closed %d%s%.123s%s", t->close_code,
			 t->close_reason[0] ? " (" : "", t->close_reason,
			 t->close_reason[0] ? ")" : "");
}

void sim_inject_conclude(struct sim_call *c, struct sim_totals *t)
{
	int closed = (t->closed_by == SIM_CLOSED_SERVER || t->closed_by == SIM_CLOSED_DROPPED) &&
		     !t->close_after_stop;
	struct sim_inject_stat *first = NULL, *frag = NULL;
	char how[160];
	unsigned i;

	if (c->idx != 0 || !t->ninject)
		return;
	close_words(t, how, sizeof(how));
	for (i = 0; i < t->ninject; i++) {
		struct sim_inject_stat *st = &t->inject[i];
		/* The server echoes in order: a frame sent after this one came back, so it read
		 * this message and went on. */
		int went_on = c->rx_bytes > (uint64_t)st->after_frame * SIM_FRAME_BYTES;

		if (!st->sent) {
			st->outcome = SIM_INJO_NOT_SENT;
			snprintf(st->detail, sizeof(st->detail), "not sent: the stream ended "
				 "before its turn");
		} else if (st->echoed) {
			st->outcome = SIM_INJO_ECHOED;
			snprintf(st->detail, sizeof(st->detail), "its payload came back as audio "
				 "%lu time(s): the server must ignore media %s",
				 (unsigned long)st->echoed, st->kind == SIM_INJ_EARLY_MEDIA ?
				 "sent before start" : "with a streamSid that is not the stream's");
		} else if (went_on || !closed) {
			st->outcome = SIM_INJO_KEPT;
			snprintf(st->detail, sizeof(st->detail), "the server went on with the call "
				 "(%s)%s", went_on ? "audio sent after it came back" :
				 "it did not close the stream before stop",
				 st->kind == SIM_INJ_TOO_BIG ? "; a server with a 64 KiB limit "
				 "closes with 1009" : st->kind == SIM_INJ_BAD_CALL_SID ?
				 "; callpipe-ws closes with 1008" :
				 st->kind == SIM_INJ_STREAM_SID || st->kind == SIM_INJ_EARLY_MEDIA ?
				 "; its payload did not come back" : "");
		} else if (st->kind == SIM_INJ_FRAGMENTED) {
			frag = st;     /* blamed only when nothing else was sent */
		} else if (!first || st->at_s < first->at_s) {
			first = st;
		}
	}
	if (!first)
		first = frag;
	/* The server closed mid-call: the earliest message it never showed it got past is
	 * the one it closed on; any sent after that one it may never have read. */
	for (i = 0; i < t->ninject; i++) {
		struct sim_inject_stat *st = &t->inject[i];

		if (!st->sent || st->echoed || st->outcome == SIM_INJO_KEPT)
			continue;
		if (st == first) {
			char ms[32];

			snprintf(ms, sizeof(ms), "%.1f", (t->close_at_s - st->at_s) * 1000.0);
			st->outcome = SIM_INJO_CLOSED;
			snprintf(st->detail, sizeof(st->detail), "%s %s ms after it", how, ms);
		} else if (st->kind == SIM_INJ_FRAGMENTED) {
			st->outcome = SIM_INJO_UNCLEAR;
			snprintf(st->detail, sizeof(st->detail), "messages went in fragments until "
				 "%s on the %s message", how, sim_inject_name(first->kind));
		} else {
			st->outcome = SIM_INJO_UNCLEAR;
			snprintf(st->detail, sizeof(st->detail), "sent after the %s message, on "
				 "which %s", sim_inject_name(first->kind), how);
		}
	}
}

/* ---- verdict and report -------------------------------------------------------------- */

static const char *outcome_word(enum sim_inject_outcome o)
{
	switch (o) {
	case SIM_INJO_KEPT: return "kept";
	case SIM_INJO_CLOSED: return "closed";
	case SIM_INJO_ECHOED: return "echoed";
	case SIM_INJO_UNCLEAR: return "unclear";
	default: return "not_sent";
	}
}

int sim_inject_failure(const struct sim_totals *t, int expect_close, char *out, size_t cap)
{
	unsigned i;

	for (i = 0; i < t->ninject; i++)
		if (t->inject[i].outcome == SIM_INJO_ECHOED) {
			snprintf(out, cap, "injected %s: %s", sim_inject_name(t->inject[i].kind),
				 t->inject[i].detail);
			return 1;
		}
	if (expect_close)
		return 0;
	for (i = 0; i < t->ninject; i++) {
		const struct sim_inject_stat *st = &t->inject[i];

		if (st->outcome == SIM_INJO_CLOSED && st->kind != SIM_INJ_TOO_BIG &&
		    st->kind != SIM_INJ_BAD_CALL_SID) {
			snprintf(out, cap, "injected %s: %s; bad input like this must be counted "
				 "and ignored, the call going on", sim_inject_name(st->kind),
				 st->detail);
			return 1;
		}
	}
	return 0;
}

static void where(const struct sim_inject_stat *st, char *out, size_t cap)
{
	if (!st->sent && st->kind != SIM_INJ_FRAGMENTED)
		snprintf(out, cap, "-");
	else if (st->kind == SIM_INJ_FRAGMENTED)
		snprintf(out, cap, "%zu messages in %lu fragments", st->bytes, st->fragments);
	else if (st->kind == SIM_INJ_EARLY_MEDIA)
		snprintf(out, cap, "before start");
	else if (st->kind == SIM_INJ_BAD_CALL_SID)
		snprintf(out, cap, "in start");
	else if (st->kind == SIM_INJ_TOO_BIG)
		snprintf(out, cap, "%zu bytes (%lu frame%s sent) after media frame %lu",
			 st->bytes, st->fragments, st->fragments == 1 ? "" : "s",
			 (unsigned long)st->after_frame);
	else
		snprintf(out, cap, "after media frame %lu", (unsigned long)st->after_frame);
}

void sim_inject_report(FILE *f, const struct sim_totals *t, int json)
{
	char w[96];
	unsigned i;

	if (json)
		fprintf(f, "\"injections\":[");
	for (i = 0; i < t->ninject; i++) {
		const struct sim_inject_stat *st = &t->inject[i];

		where(st, w, sizeof(w));
		if (!json) {
			fprintf(f, "inject    %-12s %s: %s: %s\n", sim_inject_name(st->kind), w,
				st->outcome == SIM_INJO_ECHOED ? "ECHOED" :
				st->outcome == SIM_INJO_NOT_SENT ? "not sent" :
				outcome_word(st->outcome), st->detail);
			continue;
		}
		fprintf(f, "%s{\"kind\":\"%s\",\"sent\":%s,\"where\":", i ? "," : "",
			sim_inject_name(st->kind), st->sent ? "true" : "false");
		sim_json_string(f, w);
		fprintf(f, ",\"after_frame\":%lu,\"at_seconds\":%.4f,\"bytes\":%zu,"
			"\"fragments\":%lu,\"echoed\":%d,\"outcome\":\"%s\",\"detail\":",
			(unsigned long)st->after_frame, st->at_s, st->bytes, st->fragments,
			st->echoed, outcome_word(st->outcome));
		sim_json_string(f, st->detail);
		fputc('}', f);
	}
	if (json)
		fputc(']', f);
}
