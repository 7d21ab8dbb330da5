/* callio: one simulated call on the wire: the message due next (connected, start, marks
 * returned, dtmf, paced media, stop) and everything the server sends, checked like Twilio. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inject.h"
#include "lateness.h"
#include "simmsg.h"

static void trace(const struct sim_engine *e, const struct sim_call *c, const char *dir,
		  const char *msg, size_t len)
{
	if (e->cfg.trace)
		fprintf(stderr, "# call %u %s %.*s%s\n", c->idx, dir, (int)(len > 300 ? 300 : len),
			msg, len > 300 ? "..." : "");
}

void sim_load_frame(uint8_t *frame, uint32_t call, uint32_t counter)
{
	int i;

	for (i = 0; i < 4; i++) {
		frame[i] = (uint8_t)(counter >> (24 - 8 * i));
		frame[4 + i] = (uint8_t)(call >> (24 - 8 * i));
	}
	frame[8] = 0x5A;
	for (i = 0; i < 8; i++)
		frame[8] ^= frame[i];
	/* The rest is a fixed pattern the receiver checks, so corruption is seen. */
	for (i = 9; i < SIM_FRAME_BYTES; i++)
		frame[i] = (uint8_t)(0x80 | (i * 7));
}

int sim_load_frame_parse(const uint8_t *frame, uint32_t *call, uint32_t *counter)
{
	uint8_t x = 0x5A;
	int i;

	*call = *counter = 0;
	for (i = 0; i < 8; i++)
		x ^= frame[i];
	if (x != frame[8])
		return -1;
	for (i = 9; i < SIM_FRAME_BYTES; i++)
		if (frame[i] != (uint8_t)(0x80 | (i * 7)))
			return -1;
	for (i = 0; i < 4; i++) {
		*counter = (*counter << 8) | frame[i];
		*call = (*call << 8) | frame[4 + i];
	}
	return 0;
}

int sim_handshake_code(const char *reason, long status, char *why, size_t cap)
{
	const char *r = reason ? reason : "";

	if (status && status != 101) {
		const char *hint = status == 404 ? ": nothing upgrades at this path (check the "
			"Stream url's path, /ws/twilio-media)" :
			status == 401 || status == 403 ? ": refused, most likely the upgrade's "
			"X-Twilio-Signature (auth token, or the public URL the server signs)" :
			status == 400 ? ": often an offered subprotocol the server does not speak" :
			status == 200 ? ": answered as plain HTTP, a proxy that does not pass the "
			"WebSocket upgrade" :
			status >= 502 && status <= 504 ? ": the proxy could not reach the "
			"WebSocket server (is callpipe-ws running?)" :
			status >= 300 && status < 400 ? ": a redirect (Twilio does not follow "
			"them on a stream)" : "";

		snprintf(why, cap, "the upgrade was answered HTTP %ld, not 101%s", status, hint);
		return 31920;
	}
	if (strstr(r, "PROTOCOL")) {
		snprintf(why, cap, "the server answered a subprotocol that was not offered "
			 "(RFC 6455 4.1: the client must fail the connection)");
		return 31920;
	}
	if (strstr(r, "timed out") || strstr(r, "timeout")) {
		snprintf(why, cap, "connect timed out (%s)", r);
		return 31901;
	}
	if (strstr(r, "ssl") || strstr(r, "SSL") || strstr(r, "tls") || strstr(r, "TLS") ||
	    strstr(r, "cert")) {
		snprintf(why, cap, "TLS failed (%s)", r);
		return 31910;
	}
	if (strstr(r, "HS:") || strstr(r, "Accept") || strstr(r, "UPGRADE") ||
	    strstr(r, "Upgrade")) {
		snprintf(why, cap, "bad WebSocket handshake (%s)", r);
		return 31920;
	}
	/* lws 4.1.6 says "read failed" when the server closed the connection after accepting
	 * it, before any HTTP answer: what a TLS port does to a plain ws:// client. */
	if (strstr(r, "read failed")) {
		snprintf(why, cap, "the server closed the connection without answering the upgrade "
			 "(%s): a wss:// (TLS) port dialled as ws://?", r);
		return 31920;
	}
	snprintf(why, cap, "could not connect (%s)", r[0] ? r : "connection refused or reset");
	return 31902;
}

/* ---- what happens on the wire -------------------------------------------------------- */

static int send_text(struct sim_call *c, long n)
{
	char *msg = (char *)c->eng->tx + LWS_PRE;

	if (n < 0) {
		sim_totals_error(c->eng->t, 0, "internal: a message did not fit the send buffer");
		return -1;
	}
	trace(c->eng, c, ">", msg, (size_t)n);
	return sim_inject_send(c, msg, (size_t)n, 0);   /* in fragments with --inject fragmented */
}

uint32_t sim_call_dtmf_at(const struct sim_call *c, size_t i, size_t n)
{
	/* Digit I of N sits at (I+1)/(N+1) of the call: spread evenly, none at the edges. */
	return (uint32_t)(((uint64_t)c->frames_total * (i + 1)) / (n + 1));
}

uint32_t sim_call_frames_due(const struct sim_call *c, int64_t now)
{
	int64_t due;

	if (!c->start_sent)
		return 0;
	if (c->eng->cfg.fast)
		return c->frames_total;
	if (now < c->t_media0)
		return 0;   /* load: the schedule begins on the tick after start */
	due = (now - c->t_media0) / SIM_FRAME_US + 1;
	return due > (int64_t)c->frames_total ? c->frames_total : (uint32_t)due;
}

/* Send the one message that is due next; 1 if more are waiting, -1 to close. */
int sim_call_write_next(struct sim_call *c)
{
	struct sim_engine *e = c->eng;
	char *out = (char *)e->tx + LWS_PRE, name[SIM_MARK_NAME_MAX + 1];
	size_t cap = TX_MAX - LWS_PRE, nd = e->cfg.dtmf ? strlen(e->cfg.dtmf) : 0;
	int64_t now = lws_now_usecs();
	char key;

	if (c->closing) {
		if (c->idx == 0)
			sim_call_closed_by(c, SIM_CLOSED_CLIENT);
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return -1;
	}
	if (c->hook_pending)
		return 0;   /* the service loop runs the hook, then asks for WRITEABLE again */
	/* A message half sent in fragments goes on first: nothing may come between them
	 * but control frames (RFC 6455 5.4). */
	if (sim_inject_busy(c))
		return sim_inject_continue(c) ? -1 : 1;
	if (c->stop_sent) {
		if (c->stop_queued) {
			c->stop_queued = 0;
			return send_text(c, sim_msg_stop(out, cap, c->seq++, c->account_sid,
							 c->call_sid, c->stream_sid)) ? -1 : 1;
		}
		c->closing = 1;
		return 1;
	}
	if (!c->connected_sent) {
		c->connected_sent = 1;
		return send_text(c, sim_msg_connected(out, cap)) ? -1 : 1;
	}
	if (!c->start_sent) {
		int r = sim_inject_before_start(c);

		if (r)
			return r;
		if (send_text(c, sim_msg_start(out, cap, c->seq++, c->account_sid, c->stream_sid,
					       sim_inject_start_call_sid(c), c->params_json)))
			return -1;
		c->start_sent = 1;
		c->t_media0 = c->t_last_tx;
		/* Load: the schedule starts on the next tick, so each frame falls due on a tick
		 * and its lateness is the generator's, not up to a tick of waiting for one. */
		if (e->cfg.load)
			c->t_media0 = sim_lateness_grid_ceil(e->grid0, TICK_US, c->t_last_tx);
		return 1;
	}
	if (sim_playout_next_mark(c->po, name, sizeof(name))) {
		e->t->marks_returned++;
		return send_text(c, sim_msg_mark(out, cap, c->seq++, name, c->stream_sid)) ? -1 : 1;
	}
	if (e->cfg.agent && c->idx == 0 &&
	    (key = sim_agent_key_due(e->cfg.agent, now - c->t_media0)) != 0) {
		sim_agent_key_sent(e->cfg.agent, now - c->t_media0);
		e->t->dtmf_sent++;
		return send_text(c, sim_msg_dtmf(out, cap, c->seq++, key, c->stream_sid)) ? -1 : 1;
	}
	if (c->dtmf_next < nd && c->frames_sent >= sim_call_dtmf_at(c, c->dtmf_next, nd)) {
		e->t->dtmf_sent++;
		return send_text(c, sim_msg_dtmf(out, cap, c->seq++, e->cfg.dtmf[c->dtmf_next++],
						 c->stream_sid)) ? -1 : 1;
	}
	if (sim_inject_due(c))
		return sim_inject_write_due(c) ? -1 : 1;
	if (c->frames_sent < sim_call_frames_due(c, now)) {
		uint32_t f = c->frames_sent;
		uint8_t frame[SIM_FRAME_BYTES];
		const uint8_t *p;

		if (e->cfg.load) {
			sim_load_frame(frame, c->idx, f);
			p = frame;
		} else if (e->cfg.agent) {
			/* The caller's line: silence again and again, or what it says now. */
			p = c->idx == 0 ? sim_agent_say_frame(e->cfg.agent, now - c->t_media0) :
			    NULL;
			if (!p)
				p = e->cfg.audio;
		} else {
			p = e->cfg.audio + (size_t)f * SIM_FRAME_BYTES;
		}
		if (send_text(c, sim_msg_media(out, cap, c->seq++, f + 1,
					       (unsigned long)f * (SIM_FRAME_US / 1000), p,
					       SIM_FRAME_BYTES, c->stream_sid)))
			return -1;
		if (e->cfg.load) {
			c->sent_at[f % SENT_RING] = c->t_last_tx;
			c->sent_idx[f % SENT_RING] = f;
		} else {
			c->sent_at[f] = c->t_last_tx;
		}
		if (!e->cfg.fast)
			sim_lateness_record(e->t->send_lag, c->t_media0, f, c->t_last_tx);
		c->frames_sent++;
		e->t->frames_sent++;
		e->t->bytes_sent += SIM_FRAME_BYTES;
		return c->frames_sent < sim_call_frames_due(c, now) ||
		       sim_playout_returned_marks(c->po) || sim_inject_due(c) || sim_inject_busy(c);
	}
	/* Nothing due: the tick asks again when a frame's slot comes or it is time to hang up. */
	return 0;
}

/* Hang up: stop goes out from the next WRITEABLE (never from the tick: lws wants writes
 * there, and a fragmented message may be half sent), then the close. */
void sim_call_send_stop(struct sim_call *c)
{
	if (c->stop_sent || !c->wsi || c->state != C_OPEN)
		return;
	c->stop_queued = c->start_sent;
	c->stop_sent = 1;
	c->t_close = lws_now_usecs();
	lws_callback_on_writable(c->wsi);
}

/* ---- what comes back ----------------------------------------------------------------- */

static void echo_load(struct sim_call *c, const uint8_t *p, size_t n, int64_t now)
{
	struct sim_engine *e = c->eng;
	uint32_t call, counter;

	c->rx_bytes += n;
	while (n) {
		size_t room = (size_t)(SIM_FRAME_BYTES - c->part_len), k = room < n ? room : n;

		memcpy(c->part + c->part_len, p, k);
		c->part_len = (uint16_t)(c->part_len + k);
		p += k;
		n -= k;
		if (c->part_len < SIM_FRAME_BYTES)
			break;
		c->part_len = 0;
		e->t->frames_received++;
		if (sim_load_frame_parse(c->part, &call, &counter) || call != c->idx ||
		    counter >= c->frames_sent) {
			e->t->corrupted++;
			continue;
		}
		if (counter < c->next_expected)
			e->t->out_of_order++;
		else
			c->next_expected = counter + 1;
		if (c->sent_idx[counter % SENT_RING] == counter)
			sim_hist_add(e->t->latency, now - c->sent_at[counter % SENT_RING]);
		sim_lateness_record(e->t->due_latency, c->t_media0, counter, now);
	}
}

static void echo_call(struct sim_call *c, const uint8_t *p, size_t n, int64_t now)
{
	struct sim_engine *e = c->eng;
	uint64_t before = c->rx_bytes, f;

	if (!c->mismatch) {
		size_t avail = before < e->cfg.audio_len ? e->cfg.audio_len - (size_t)before : 0;
		size_t same = 0, lim = n < avail ? n : avail;

		while (same < lim && p[same] == e->cfg.audio[before + same])
			same++;
		e->t->bytes_matched += same;
		if (same < n) {
			c->mismatch = 1;
			e->t->mismatch_at = (long long)(before + same);
		}
	}
	c->rx_bytes += n;
	/* A frame echoed whole and intact: its latency is now minus when it was sent. */
	for (f = before / SIM_FRAME_BYTES; (f + 1) * SIM_FRAME_BYTES <= c->rx_bytes; f++) {
		if (f < c->frames_sent && (f + 1) * SIM_FRAME_BYTES <= e->t->bytes_matched &&
		    (f + 1) * SIM_FRAME_BYTES > before)
			sim_hist_add(e->t->latency, now - c->sent_at[f]);
	}
	e->t->frames_received = (unsigned long)(c->rx_bytes / SIM_FRAME_BYTES);
}

static void on_message(struct sim_call *c, const char *msg, size_t len)
{
	struct sim_engine *e = c->eng;
	struct sim_srv_msg m;
	char err[SIM_ERRTEXT];
	int64_t now = lws_now_usecs();
	size_t returned;
	int code;

	trace(e, c, "<", msg, len);
	c->t_last_rx = now;
	if (c->stop_sent)
		return;     /* the stream is over for Twilio: nothing more is read */
	code = sim_msg_parse(msg, len, c->start_sent ? c->stream_sid : NULL, e->scratch,
			     SIM_RX_MAX, &m, err, sizeof(err));
	if (code) {
		sim_totals_error(e->t, code, "%s", err);
		return;
	}
	switch (m.kind) {
	case SIM_MSG_MEDIA:
		if (e->cfg.listen_only) {
			sim_totals_error(e->t, SIM_ERR_PROTOCOL, "media sent back on a listen-only "
					 "<Start><Stream>");
			return;
		}
		if (m.wav_header)
			sim_totals_error(e->t, SIM_ERR_INVALID, "media payload starts with a "
					 "RIFF/WAV header: send raw µ-law, no file header");
		e->t->bytes_received += m.payload_len;
		if (sim_playout_media(c->po, e->scratch, m.payload_len))
			sim_totals_error(e->t, SIM_ERR_OVER_10MIN, "more than 10 minutes of audio "
					 "buffered; the excess was dropped");
		/* Played like any audio, but an injected payload is no echo of ours. */
		if (sim_inject_echo_seen(c, e->scratch, m.payload_len))
			break;
		if (e->cfg.agent) {
			if (c->idx == 0)
				sim_agent_media(e->cfg.agent, now - c->t_media0, m.payload_len);
			c->media_rx++;
			c->rx_bytes += m.payload_len;
			e->t->frames_received++;
			break;
		}
		if (c->media_rx++ == 0 && e->t->first_echo_ms < 0 && c->sent_at && c->frames_sent)
			e->t->first_echo_ms = (double)(now - c->sent_at[0]) / 1000.0;
		if (e->cfg.load)
			echo_load(c, e->scratch, m.payload_len, now);
		else
			echo_call(c, e->scratch, m.payload_len, now);
		break;
	case SIM_MSG_MARK:
		e->t->marks_received++;
		returned = sim_playout_returned_marks(c->po);
		if (sim_playout_mark(c->po, m.mark))
			sim_totals_error(e->t, 0, "more than %d marks pending; mark dropped",
					 SIM_PLAYOUT_MAX_MARKS);
		/* Nothing buffered: it is played, and goes back, at once. */
		if (e->cfg.agent && c->idx == 0)
			sim_agent_marks_played(e->cfg.agent, sim_playout_returned_marks(c->po) -
					       returned);
		break;
	case SIM_MSG_CLEAR:
		e->t->clears++;
		if (!c->media_rx)
			e->t->clears_before_media++;
		e->t->marks_flushed += sim_playout_pending_marks(c->po);
		if (e->cfg.agent && c->idx == 0)
			sim_agent_clear(e->cfg.agent, now - c->t_media0,
					sim_playout_buffered(c->po),
					sim_playout_pending_marks(c->po));
		sim_playout_clear(c->po);
		break;
	default:
		break;
	}
	if (sim_playout_returned_marks(c->po))
		lws_callback_on_writable(c->wsi);
}

void sim_call_receive(struct sim_call *c, struct lws *wsi, const char *in, size_t len)
{
	struct sim_engine *e = c->eng;
	int first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);

	if (first) {
		c->rx_len = 0;
		c->rx_over = 0;
		c->rx_binary = lws_frame_is_binary(wsi);
		if (c->rx_binary)
			sim_totals_error(e->t, SIM_ERR_BINARY, "a binary frame: every message must "
					 "be JSON in a text frame");
	}
	if (c->rx_binary)
		return;
	if (first && final) {
		/* The common case: a whole message in one piece, parsed in place. */
		on_message(c, in, len);
		return;
	}
	if (!c->rx_over && c->rx_len + len > SIM_RX_MAX) {
		c->rx_over = 1;
		sim_totals_error(e->t, SIM_ERR_INVALID, "a message over %u bytes (more audio than "
				 "10 minutes in one message); dropped", SIM_RX_MAX);
	}
	if (!c->rx_over) {
		if (c->rx_len + len > c->rx_cap) {
			size_t ncap = c->rx_cap ? c->rx_cap : 4096;
			char *p;

			while (ncap < c->rx_len + len)
				ncap *= 2;
			p = realloc(c->rx, ncap);
			if (!p) {
				c->rx_over = 1;
				sim_totals_error(e->t, 0, "out of memory reassembling a message");
				return;
			}
			c->rx = p;
			c->rx_cap = ncap;
		}
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
	}
	if (final && !c->rx_over) {
		on_message(c, c->rx, c->rx_len);
		/* Give back a big reassembly buffer once used; small ones are kept. */
		if (c->rx_cap > 64 * 1024) {
			free(c->rx);
			c->rx = NULL;
			c->rx_cap = 0;
		}
	}
}
