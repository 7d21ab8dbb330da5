/* stream: Twilio's side of Media Streams over a libwebsockets client: one context, any
 * number of calls, one timer tick pacing every call's 20 ms frames and its play-out. */
#include "engine.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/x509.h>

#include "g711.h"
#include "inject.h"
#include "lateness.h"
#include "playout.h"
#include "simmsg.h"
#include "webhook.h"

/* ---- the timer tick ------------------------------------------------------------------ */

static void finish_call(struct sim_call *c)
{
	struct sim_engine *e = c->eng;

	if (c->state == C_DONE)
		return;
	if (c->state == C_OPEN) {
		if (e->active)
			e->active--;
		if (c->stop_sent)
			e->t->completed++;
	}
	c->state = C_DONE;
	if (!c->t_close)
		c->t_close = lws_now_usecs();
	if (e->cfg.agent && c->idx == 0 && c->start_sent)
		sim_agent_finish(e->cfg.agent, c->t_close - c->t_media0, 0,
				 sim_playout_buffered(c->po), sim_playout_pending_marks(c->po));
	if (c->idx == 0 && c->t_open)
		e->t->stream_seconds = (double)(c->t_close - c->t_open) / 1e6;
	e->t->marks_unreturned += sim_playout_pending_marks(c->po) +
				  sim_playout_returned_marks(c->po);
	sim_inject_conclude(c, e->t);
	if (e->cfg.load && c->frames_sent)
		e->t->frames_lost += c->frames_sent > c->rx_bytes / SIM_FRAME_BYTES ?
			c->frames_sent - (uint32_t)(c->rx_bytes / SIM_FRAME_BYTES) : 0;
	c->wsi = NULL;
	free(c->rx);
	c->rx = NULL;
	c->rx_cap = 0;
}

static void connect_call(struct sim_call *c)
{
	struct sim_engine *e = c->eng;
	struct lws_client_connect_info i;

	char addr[sizeof(e->cfg.connect_host)];
	size_t n = strlen(e->cfg.connect_host);

	/* An IPv6 literal keeps its brackets in Host: but not in the address dialled. */
	if (n > 2 && e->cfg.connect_host[0] == '[' && e->cfg.connect_host[n - 1] == ']')
		snprintf(addr, sizeof(addr), "%.*s", (int)(n - 2), e->cfg.connect_host + 1);
	else
		snprintf(addr, sizeof(addr), "%s", e->cfg.connect_host);
	memset(&i, 0, sizeof(i));
	i.context = e->ctx;
	i.address = addr;
	i.port = e->cfg.connect_port;
	i.path = e->cfg.path;
	i.host = e->cfg.host_header;
	i.protocol = e->cfg.subprotocols;
	i.local_protocol_name = e->protocols[0].name;
	i.ietf_version_or_minus_one = -1;
	/* Twilio does not follow redirects on the stream: a 3xx is a failed handshake. */
	i.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
	if (e->cfg.tls) {
		i.ssl_connection |= LCCSCF_USE_SSL;
		if (e->cfg.insecure)
			i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_ALLOW_EXPIRED |
				LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
		i.alpn = "http/1.1";
	}
	i.opaque_user_data = c;
	i.pwsi = &c->wsi;
	c->state = C_CONNECTING;
	if (!lws_client_connect_via_info(&i) && c->state == C_CONNECTING) {
		char why[SIM_ERRTEXT];
		int code = sim_handshake_code("could not start the connection", 0, why,
					      sizeof(why));

		e->t->handshake_failures++;
		if (!e->t->handshake_error[0])
			snprintf(e->t->handshake_error, sizeof(e->t->handshake_error), "%s", why);
		sim_totals_error(e->t, code, "%s", why);
		finish_call(c);
	}
}

static void play_out(struct sim_call *c, int64_t now)
{
	uint8_t frame[SIM_FRAME_BYTES];
	int64_t due = (now - c->t_media0) / SIM_FRAME_US;
	struct sim_agent *agent = c->idx == 0 ? c->eng->cfg.agent : NULL;
	int guard = 0;
	size_t i, n, returned;

	/* Twilio plays 20 ms per 20 ms; catch up after a late tick, but boundedly. */
	while ((int64_t)c->played_ticks < due && guard++ < 512) {
		returned = sim_playout_returned_marks(c->po);
		n = sim_playout_tick(c->po, c->eng->cfg.record || agent ? frame : NULL);
		if (agent) {
			/* This frame sits at played_ticks * 20 ms in the recording. */
			sim_agent_played(agent, (int64_t)c->played_ticks * SIM_FRAME_US, frame, n);
			sim_agent_marks_played(agent, sim_playout_returned_marks(c->po) - returned);
		}
		c->played_ticks++;
		if (!c->eng->cfg.record)
			continue;
		if (c->rec_len + SIM_FRAME_BYTES > c->rec_cap) {
			size_t ncap = c->rec_cap ? c->rec_cap * 2 : 8000 * 8;
			int16_t *p = realloc(c->rec, ncap * sizeof(*p));

			if (!p)
				continue;
			c->rec = p;
			c->rec_cap = ncap;
		}
		for (i = 0; i < SIM_FRAME_BYTES; i++)
			c->rec[c->rec_len++] = g711_ulaw_decode(frame[i]);
	}
}

static void call_tick(struct sim_call *c, int64_t now)
{
	struct sim_engine *e = c->eng;
	size_t nd = e->cfg.dtmf ? strlen(e->cfg.dtmf) : 0;
	int64_t last_media, quiet_since;
	int all_back, drained;

	if (c->state == C_WAITING && now >= c->t_start) {
		connect_call(c);
		return;
	}
	if (c->state != C_OPEN || !c->start_sent || c->stop_sent || !c->wsi)
		return;
	play_out(c, now);
	if (e->cfg.agent && c->idx == 0) {
		struct sim_agent *a = e->cfg.agent;

		sim_agent_step(a, now - c->t_media0, sim_playout_buffered(c->po),
			       sim_playout_pending_marks(c->po), sim_playout_returned_marks(c->po));
		if (a->done)
			sim_call_send_stop(c);
		else if (sim_playout_returned_marks(c->po) ||
			 c->frames_sent < sim_call_frames_due(c, now) ||
			 sim_agent_key_due(a, now - c->t_media0) || sim_inject_due(c) ||
			 sim_inject_busy(c))
			lws_callback_on_writable(c->wsi);
		return;
	}
	if (e->cfg.tick_writes && c->frames_sent < sim_call_frames_due(c, now) && !c->hook_pending &&
	    !lws_partial_buffered(c->wsi)) {
		/* Load: write the due frame now, from the tick. Asking for WRITEABLE first
		 * costs two epoll_ctl calls and a pass of the loop per frame, and the socket
		 * has room (nothing of ours is buffered); should the kernel take only part,
		 * lws keeps the rest and finishes it when the socket drains. What else is
		 * waiting, or an error, goes the WRITEABLE way. */
		if (sim_call_write_next(c) != 0)
			lws_callback_on_writable(c->wsi);
	} else if (sim_playout_returned_marks(c->po) ||
		   c->frames_sent < sim_call_frames_due(c, now) ||
		   (c->dtmf_next < nd && c->frames_sent >= sim_call_dtmf_at(c, c->dtmf_next, nd)) ||
		   sim_inject_due(c) || sim_inject_busy(c)) {
		lws_callback_on_writable(c->wsi);
	}
	if (c->frames_sent < c->frames_total || c->dtmf_next < nd || sim_inject_pending(c) ||
	    sim_inject_busy(c))
		return;
	/* Everything is sent: hang up once the echo is back (or the server went quiet) and
	 * the caller has heard what was buffered, or when the drain time runs out. */
	last_media = c->frames_sent ? (e->cfg.load ? c->sent_at[(c->frames_sent - 1) % SENT_RING]
				       : c->sent_at[c->frames_sent - 1]) : c->t_media0;
	quiet_since = c->t_last_rx > last_media ? c->t_last_rx : last_media;
	all_back = c->rx_bytes >= (uint64_t)c->frames_sent * SIM_FRAME_BYTES;
	drained = !sim_playout_buffered(c->po) && !sim_playout_pending_marks(c->po) &&
		  !sim_playout_returned_marks(c->po);
	if (((all_back && now - last_media >= 2 * TICK_US) || now - quiet_since >= QUIET_US) &&
	    drained)
		sim_call_send_stop(c);
	else if (now - last_media >= (int64_t)(e->cfg.drain_seconds * 1e6))
		sim_call_send_stop(c);
}

/* Ctrl-C or SIGTERM: hang every call up now (stop, close) and report what was seen. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Engines running at once (load --threads): the first installs the handler, the last
 * puts back what was there. */
static pthread_mutex_t signals_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned signals_users;
static struct sigaction old_int, old_term;

static void signals_take(void)
{
	struct sigaction sa;

	pthread_mutex_lock(&signals_lock);
	if (signals_users++ == 0) {
		/* No SA_RESTART: poll() returns at once and the next tick hangs up. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
	}
	pthread_mutex_unlock(&signals_lock);
}

static void signals_give(void)
{
	pthread_mutex_lock(&signals_lock);
	if (--signals_users == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	pthread_mutex_unlock(&signals_lock);
}

static void tick(struct sim_engine *e)
{
	int64_t now = lws_now_usecs();
	unsigned i, done = 0;

	if (interrupted && e->deadline > now) {
		e->deadline = now;
		sim_totals_error(e->t, 0, "interrupted: the calls were hung up early");
	}

	if (now >= e->deadline) {
		for (i = 0; i < e->ncalls; i++) {
			struct sim_call *c = &e->calls[i];

			if (c->state == C_DONE)
				continue;
			if (c->state == C_OPEN && !c->stop_sent)
				sim_call_send_stop(c);
			if (c->state == C_WAITING) {
				finish_call(c);
				e->t->cut_at_deadline++;
			}
			/* Past the grace period, whatever is still open is abandoned. */
			if (now >= e->deadline + 3000000 && c->state != C_DONE) {
				e->t->cut_at_deadline++;
				finish_call(c);
			}
		}
	}
	for (i = 0; i < e->ncalls; i++) {
		call_tick(&e->calls[i], now);
		done += e->calls[i].state == C_DONE;
	}
	if (done == e->ncalls) {
		/* lws would otherwise sleep in poll() until its next internal timer. */
		e->finished = 1;
		lws_cancel_service(e->ctx);
		return;
	}
}

/* ---- the protocol callback ----------------------------------------------------------- */

void sim_call_closed_by(struct sim_call *c, int who)
{
	struct sim_totals *t = c->eng->t;

	if (t->closed_by)
		return;
	t->closed_by = who;
	t->close_after_stop = c->stop_sent;
	t->close_at_s = c->t_open ? (double)(lws_now_usecs() - c->t_open) / 1e6 : 0;
	t->frames_before_close = c->frames_sent;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct sim_call *c = lws_get_opaque_user_data(wsi);
	struct sim_engine *e = c ? c->eng : NULL;
	char buf[256];
	int r;

	(void)user;
	if (reason == LWS_CALLBACK_RAW_RX_FILE) {
		struct sim_engine *te = lws_context_user(lws_get_context(wsi));
		uint64_t expirations;

		if (read(te->tfd, &expirations, sizeof(expirations)) > 0 && !te->finished) {
			/* The loop's own lateness: the oldest expiry not served yet. */
			sim_lateness_add(te->t->tick_lag, te->grid0 + (int64_t)te->ticks_served *
					 TICK_US, lws_now_usecs());
			te->ticks_served += expirations;
			tick(te);
		}
		return 0;
	}
	if (!c)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (e->cfg.signature) {
			char **p = in;
			int n = snprintf(buf, sizeof(buf), "X-Twilio-Signature: %s\r\n",
					 e->cfg.signature);

			if (n > 0 && (size_t)n < len) {
				memcpy(*p, buf, (size_t)n);
				*p += n;
			}
		}
		break;
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
		/* The response headers are still here (they are freed before ESTABLISHED). */
		if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_PROTOCOL) < 0)
			buf[0] = '\0';
		if (!e->t->connected) {
			e->t->http_status = 101;
			snprintf(e->t->subprotocol, sizeof(e->t->subprotocol), "%.63s", buf);
		}
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->state = C_OPEN;
		c->t_open = lws_now_usecs();
		e->t->connected++;
		if (++e->active > e->t->max_concurrent)
			e->t->max_concurrent = e->active;
		c->po = c->po ? c->po : sim_playout_new(0);
		if (e->hook)
			c->hook_pending = 1;
		else
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		/* lws 4.1.6 then fails the connection with "connect SSL err 1: error:00000001:
		 * lib(0)::reason(1)", which says nothing: keep OpenSSL's own reason. USER is the
		 * X509_STORE_CTX, LEN the verdict so far; returning 0 leaves the verdict alone. */
		if (!len && user && !c->tls_verify[0])
			snprintf(c->tls_verify, sizeof(c->tls_verify), "%s",
				 X509_verify_cert_error_string(
					X509_STORE_CTX_get_error((X509_STORE_CTX *)user)));
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		long status = lws_http_client_http_response(wsi);
		char why[SIM_ERRTEXT], cert[300];
		int code;

		if (c->tls_verify[0]) {
			snprintf(cert, sizeof(cert), "the server's certificate was refused: %s; "
				 "Twilio wants one from a public CA for the Stream url's host "
				 "(--insecure accepts any)", c->tls_verify);
			in = cert;
		}
		code = sim_handshake_code(in ? (const char *)in : "", status, why, sizeof(why));

		if (c->state == C_DONE)
			break;
		e->t->handshake_failures++;
		if (!e->t->handshake_error[0]) {
			e->t->http_status = status;
			snprintf(e->t->handshake_error, sizeof(e->t->handshake_error), "%s", why);
		}
		sim_totals_error(e->t, code, "%s", why);
		finish_call(c);
		break;
	}
	case LWS_CALLBACK_CLIENT_RECEIVE:
		sim_call_receive(c, wsi, in, len);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c->state != C_OPEN)
			return -1;
		r = sim_call_write_next(c);
		if (r < 0)
			return -1;
		if (r > 0)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		/* The server's close frame, before ours (lws keeps an answer to our own close
		 * to itself): code 1005 when it carries none (RFC 6455 7.1.5). */
		if (!c->stop_sent)
			c->server_closed = 1;
		if (c->idx == 0 || !e->t->close_code) {
			const unsigned char *b = in;

			e->t->close_code = len >= 2 ? (b[0] << 8 | b[1]) : 1005;
			snprintf(e->t->close_reason, sizeof(e->t->close_reason), "%.*s",
				 len > 2 ? (int)(len - 2) : 0, len > 2 ? (const char *)in + 2 : "");
		}
		if (c->idx == 0)
			sim_call_closed_by(c, SIM_CLOSED_SERVER);
		/* The agent hung up (or the server gave up): what was still buffered is lost. */
		if (e->cfg.agent && c->idx == 0 && !c->stop_sent && c->start_sent)
			sim_agent_finish(e->cfg.agent, lws_now_usecs() - c->t_media0, 1,
					 sim_playout_buffered(c->po),
					 sim_playout_pending_marks(c->po));
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c->idx == 0 && !e->t->closed_by && c->state == C_OPEN) {
			sim_call_closed_by(c, SIM_CLOSED_DROPPED);
			e->t->close_code = 1006;   /* RFC 6455 7.1.5: closed with no close frame */
		}
		if (!c->stop_sent && c->state == C_OPEN) {
			e->t->server_closed_early++;
			if (!c->server_closed)
				sim_totals_error(e->t, SIM_ERR_CLOSED, "the connection dropped without "
						 "a close frame, before the call ended");
		}
		finish_call(c);
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		if (c->state == C_CONNECTING) {
			e->t->handshake_failures++;
			sim_totals_error(e->t, SIM_ERR_HANDSHAKE, "the connection closed during "
					 "the handshake");
			finish_call(c);
		}
		c->wsi = NULL;
		break;
	default:
		break;
	}
	return 0;
}

/* ---- the engine ---------------------------------------------------------------------- */

struct sim_engine *sim_engine_new(const struct sim_engine_cfg *cfg, struct sim_totals *totals,
				  char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct sim_engine *e = calloc(1, sizeof(*e));
	struct rlimit rl;

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->cfg = *cfg;
	e->t = totals;
	e->tfd = -1;
	snprintf(e->t->subprotocol_offered, sizeof(e->t->subprotocol_offered), "%s",
		 cfg->subprotocols ? cfg->subprotocols : "");
	for (e->t->ninject = 0; e->t->ninject < cfg->inject.n; e->t->ninject++)
		e->t->inject[e->t->ninject].kind = cfg->inject.order[e->t->ninject];
	e->scratch = malloc(SIM_RX_MAX);
	e->tx = malloc(TX_MAX);
	if (!e->scratch || !e->tx) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	e->protocols[0].name = "callpipe-sim";
	e->protocols[0].callback = callback;
	e->protocols[0].rx_buffer_size = RX_CHUNK;
	lws_set_log_level(cfg->lws_debug ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO
			  | LLL_CLIENT : 0, NULL);

	/* One descriptor per call: lift the soft limit to the hard one. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)cfg->ncalls + 64) {
		snprintf(err, errlen, "%u calls need %u file descriptors; the limit is %lu "
			 "(raise it with ulimit -n)", cfg->ncalls, cfg->ncalls + 64,
			 (unsigned long)rl.rlim_cur);
		goto fail;
	}
	memset(&info, 0, sizeof(info));
	{
		const char *lerr;

		e->loop = sim_loop_new((enum sim_loop_kind)cfg->event_loop, &lerr);
		if (lerr) {
			snprintf(err, errlen, "%s", lerr);
			goto fail;
		}
		sim_loop_prepare(e->loop, &info);
	}
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = e->protocols;
	info.gid = -1;
	info.uid = -1;
	info.timeout_secs = 10;   /* Twilio's longest connect wait (docs/PROTOCOL.md §1.3) */
	/* Any fd_limit_per_thread below the process limit makes lws 4.1 find the connection of
	 * every event by a linear scan of its whole table (wsi_from_fd(), "slow fds"): 8 % of
	 * a load run's CPU at 20000 descriptors. lws's EMFILE spin is an accept() loop, which a
	 * client context does not have, and the check above keeps the calls under the limit: so
	 * the limit is left to lws (direct lookup) unless it is huge. */
	info.fd_limit_per_thread = (unsigned)(rl.rlim_cur == RLIM_INFINITY ||
					      rl.rlim_cur > 65536 + 16 ? 65536 : 0);
	info.user = e;
	/* Always able to dial wss://: load learns the Stream url after this. */
	if (!cfg->no_ssl_global_init)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	e->ctx = lws_create_context(&info);
	if (!e->ctx) {
		snprintf(err, errlen, "libwebsockets could not create a client context");
		goto fail;
	}
	return e;
fail:
	sim_loop_free(e->loop);
	free(e->scratch);
	free(e->tx);
	free(e);
	return NULL;
}

int sim_engine_add(struct sim_engine *e, const char *call_sid, const char *account_sid,
		   const char *params_json)
{
	struct sim_call *c;
	size_t slots;

	if (e->ncalls == e->cap) {
		unsigned ncap = e->cap ? e->cap * 2 : 4;
		struct sim_call *p = realloc(e->calls, ncap * sizeof(*p));

		if (!p)
			return -1;
		e->calls = p;
		e->cap = ncap;
	}
	c = &e->calls[e->ncalls];
	memset(c, 0, sizeof(*c));
	c->eng = e;
	c->idx = e->ncalls;
	snprintf(c->call_sid, sizeof(c->call_sid), "%s", call_sid);
	snprintf(c->account_sid, sizeof(c->account_sid), "%s", account_sid);
	sim_random_sid("MZ", c->stream_sid);
	c->params_json = strdup(params_json ? params_json : "{}");
	c->seq = 1;
	c->frames_total = (uint32_t)(e->cfg.audio_len / SIM_FRAME_BYTES);
	slots = e->cfg.load ? SENT_RING : (c->frames_total ? c->frames_total : 1);
	c->sent_at = calloc(slots, sizeof(*c->sent_at));
	if (e->cfg.load) {
		c->sent_idx = malloc(SENT_RING * sizeof(*c->sent_idx));
		if (c->sent_idx)
			memset(c->sent_idx, 0xFF, SENT_RING * sizeof(*c->sent_idx));
	}
	c->po = sim_playout_new(0);
	if (!c->params_json || !c->sent_at || (e->cfg.load && !c->sent_idx) || !c->po) {
		free(c->params_json);
		free(c->sent_at);
		free(c->sent_idx);
		sim_playout_free(c->po);
		return -1;
	}
	e->t->calls++;
	return (int)e->ncalls++;
}

void sim_engine_set_dial(struct sim_engine *e, const struct sim_engine_cfg *dial)
{
	memcpy(e->cfg.connect_host, dial->connect_host, sizeof(e->cfg.connect_host));
	e->cfg.connect_port = dial->connect_port;
	memcpy(e->cfg.host_header, dial->host_header, sizeof(e->cfg.host_header));
	memcpy(e->cfg.path, dial->path, sizeof(e->cfg.path));
	e->cfg.signature = dial->signature;
	e->cfg.tls = dial->tls;
}

void sim_engine_on_open(struct sim_engine *e, sim_open_hook hook, void *user)
{
	e->hook = hook;
	e->hook_user = user;
}

/* A timerfd firing every TICK_US, watched by lws as a raw file descriptor. */
static int start_ticks(struct sim_engine *e)
{
	struct itimerspec its;
	lws_sock_file_fd_type u;
	struct lws_vhost *vh = lws_get_vhost_by_name(e->ctx, "default");

	struct timespec now;

	e->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (e->tfd < 0 || !vh || clock_gettime(CLOCK_MONOTONIC, &now))
		return -1;
	/* An absolute first expiry a tick from now: the expiries are then exactly
	 * grid0 + k * TICK_US (a periodic timerfd does not drift), which load calls align
	 * their frames to. lws_now_usecs() reads the same clock. */
	e->grid0 = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000 + TICK_US;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = e->grid0 / 1000000;
	its.it_value.tv_nsec = (long)(e->grid0 % 1000000) * 1000;
	its.it_interval.tv_nsec = TICK_US * 1000L;
	if (timerfd_settime(e->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		return -1;
	u.filefd = (lws_filefd_type)e->tfd;
	if (!lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, u, e->protocols[0].name,
					NULL))
		return -1;
	return 0;
}

static int engine_done(void *arg)
{
	return ((struct sim_engine *)arg)->finished;
}

/* Open hooks may block (an HTTP status callback): they run here, between rounds of events
 * and outside every lws callback; then the call may send its start. */
static void run_hooks(void *arg)
{
	struct sim_engine *e = arg;
	unsigned i;

	for (i = 0; e->hook && i < e->ncalls; i++) {
		struct sim_call *c = &e->calls[i];

		if (!c->hook_pending)
			continue;
		c->hook_pending = 0;
		e->hook(e->hook_user, i);
		if (c->wsi && c->state == C_OPEN)
			lws_callback_on_writable(c->wsi);
	}
}

void sim_engine_run(struct sim_engine *e)
{
	unsigned i;

	e->t0 = lws_now_usecs();
	e->deadline = e->t0 + (int64_t)(e->cfg.hard_stop_seconds * 1e6);
	for (i = 0; i < e->ncalls; i++)
		e->calls[i].t_start = e->t0 + (e->cfg.ramp > 0 ?
			(int64_t)(i * 1e6 / e->cfg.ramp) : 0);
	if (start_ticks(e)) {
		sim_totals_error(e->t, 0, "cannot start the pacing timer");
		return;
	}
	signals_take();
	sim_loop_run(e->loop, e->ctx, engine_done, run_hooks, e);
	if (e->tfd >= 0) {
		struct itimerspec off;

		memset(&off, 0, sizeof(off));
		timerfd_settime(e->tfd, 0, &off, NULL);
	}
	signals_give();
}

const char *sim_engine_stream_sid(const struct sim_engine *e, unsigned i)
{
	return i < e->ncalls ? e->calls[i].stream_sid : "";
}

const int16_t *sim_engine_recording(const struct sim_engine *e, unsigned i, size_t *n)
{
	*n = i < e->ncalls ? e->calls[i].rec_len : 0;
	return i < e->ncalls ? e->calls[i].rec : NULL;
}

void sim_engine_free(struct sim_engine *e)
{
	unsigned i;

	if (!e)
		return;
	if (e->ctx)
		lws_context_destroy(e->ctx);
	sim_loop_free(e->loop);
	for (i = 0; i < e->ncalls; i++) {
		struct sim_call *c = &e->calls[i];

		free(c->params_json);
		free(c->sent_at);
		free(c->sent_idx);
		free(c->rx);
		free(c->rec);
		sim_playout_free(c->po);
		sim_inject_free(c);
	}
	free(e->calls);
	free(e->scratch);
	free(e->tx);
	free(e);
}
