/* call: one media stream's state: the mode's hooks, a lazily allocated bounded outbound
 * queue, the idle timer, closing, and the one teardown (messages in: call_rx.c). */
#include "call.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytebuf.h"
#include "call_int.h"
#include "calllog.h"
#include "logesc.h"
#include "logq.h"
#include "ratelimit.h"
#include "recorder.h"
#include "config.h"
#include "metrics.h"
#include "mode.h"
#include "twmsg.h"

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t call_now_us(const struct call_env *env)
{
	return env->io->now_us ? env->io->now_us() : mono_us();
}

void call_elog(const char *fmt, ...)
{
	char mem[1024];
	struct bytebuf line;
	va_list ap;

	/* The format is ours; peer text in it went through call_safe/call_quoted. 4 bytes
	 * are kept for "…" and the newline. */
	bytebuf_init_fixed(&line, mem, sizeof(mem) - 4);
	va_start(ap, fmt);
	if (bytebuf_vprintf(&line, fmt, ap) != 0 && line.cut) {
		/* Too long for the line: keep what fits, cut on a character boundary. */
		va_end(ap);
		va_start(ap, fmt);
		line.len = (size_t)vsnprintf(mem, sizeof(mem) - 4, fmt, ap);
		if (line.len > sizeof(mem) - 5)
			line.len = sizeof(mem) - 5;
		while (line.len && ((unsigned char)mem[line.len] & 0xc0) == 0x80)
			line.len--;
	}
	va_end(ap);
	line.max = sizeof(mem);
	if (line.cut)
		bytebuf_add(&line, "\xe2\x80\xa6", 3);
	bytebuf_putc(&line, '\n');
	/* one write per line, so lines from one process never interleave mid-line */
	ratelimit_write_stderr(mem, line.len);
}

/* Values printed on stderr lines come from the peer: logesc keeps each a single word on one
 * line (a space, controls, invalid UTF-8 and bidi controls escaped as \xHH), cut with "…"
 * to CAP. */
const char *call_safe(const char *s, char *buf, size_t cap)
{
	struct bytebuf b;

	if (!s || !*s || cap < 2)
		return "-";
	bytebuf_init_fixed(&b, buf, cap);
	logesc_put(&b, s, cap - 1, LOGESC_WORD);
	return bytebuf_cstr(&b);
}

/* The same for a free-text value printed inside "…": spaces stay, '"' and '\' are escaped. */
const char *call_quoted(const char *s, char *buf, size_t cap)
{
	struct bytebuf b;

	if (cap < 2)
		return "";
	bytebuf_init_fixed(&b, buf, cap);
	logesc_put(&b, s, cap - 1, LOGESC_INNER);
	return bytebuf_cstr(&b);
}

struct call_env *call_env_new(const struct config *cfg, const struct mode_ops *default_mode,
			      struct wsmetrics *metrics, const struct call_io *io, size_t pre,
			      char *err, size_t errlen)
{
	struct call_env *env = calloc(1, sizeof(*env));

	if (err && errlen)
		err[0] = '\0';
	if (!env)
		goto nomem;
	env->cfg = cfg;
	env->default_mode = default_mode;
	env->m = metrics;
	env->io = io;
	env->pre = pre;
	metrics->memory_max = cfg->max_memory;
	pthread_mutex_init(&env->wake_lock, NULL);
	/* A payload is base64 inside one message, so it decodes to at most 3/4 of it. */
	env->payload_cap = cfg->max_message / 4 * 3 + 3;
	env->msg = malloc(sizeof(*env->msg));
	env->payload = malloc(env->payload_cap);
	env->keys = calloc(TWMSG_PARAMS_MAX, sizeof(*env->keys));
	if (!env->msg || !env->payload || !env->keys)
		goto nomem;
	return env;
nomem:
	if (err && errlen)
		snprintf(err, errlen, "out of memory");
	if (env) {
		free(env->msg);
		free(env->payload);
		free(env->keys);
		free(env);
	}
	return NULL;
}

void call_env_free(struct call_env *env)
{
	if (!env)
		return;
	while (env->head)
		call_done(env->head);
	pthread_mutex_destroy(&env->wake_lock);
	free(env->msg);
	free(env->payload);
	free(env->keys);
	free(env);
}

size_t call_env_count(const struct call_env *env)
{
	return env->count;
}

size_t call_env_memory(const struct call_env *env)
{
	return env->mem_bytes;
}

int call_env_memory_high(const struct call_env *env)
{
	size_t max = env->cfg->max_memory;

	return env->mem_bytes >= max - max / 8;
}

void call_env_close_all(struct call_env *env, int code, const char *reason)
{
	struct call *c;

	for (c = env->head; c; c = c->next)
		call_close(c, code, reason, 0);
}

struct call *call_env_find(struct call_env *env, uint64_t id)
{
	struct call *c;

	/* A list walk: results arrive at most a few per call per 20 ms, and the list is the
	 * calls of one process. */
	for (c = env->head; c; c = c->next)
		if (c->id == id)
			return c->done ? NULL : c;
	return NULL;
}

void call_env_foreach(struct call_env *env, void (*fn)(struct call *c, void *arg), void *arg)
{
	struct call *c, *next;

	for (c = env->head; c; c = next) {
		next = c->next;
		fn(c, arg);
	}
}

void call_env_set_waker(struct call_env *env, void (*wake)(void *arg), void *arg)
{
	pthread_mutex_lock(&env->wake_lock);
	env->wake = wake;
	env->wake_arg = arg;
	pthread_mutex_unlock(&env->wake_lock);
}

void call_env_wake(struct call_env *env)
{
	/* under the lock, so the transport can clear the waker before its context goes and
	 * know no worker is inside it */
	pthread_mutex_lock(&env->wake_lock);
	if (env->wake)
		env->wake(env->wake_arg);
	pthread_mutex_unlock(&env->wake_lock);
}

void call_copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

struct call *call_new(struct call_env *env, void *ctx, const struct call_conn *conn)
{
	struct call *c = calloc(1, sizeof(*c));
	char b1[64], b2[64];

	if (!c)
		return NULL;
	c->env = env;
	c->id = ++env->next_id;
	c->ctx = ctx;
	c->mode = env->default_mode;
	call_copy(c->path, sizeof(c->path), conn->path);
	call_copy(c->subprotocol, sizeof(c->subprotocol), conn->subprotocol);
	call_copy(c->peer, sizeof(c->peer), conn->peer);
	call_copy(c->xff, sizeof(c->xff), conn->xff);
	bytebuf_init(&c->rxb, env->cfg->max_message);
	c->t_open_us = c->last_rx_us = call_now_us(env);
	c->next = env->head;
	if (env->head)
		env->head->prev = c;
	env->head = c;
	env->count++;
	env->m->active_calls++;
	env->m->calls_total++;
	call_elog("WS_CONNECTED path=%s subprotocol=%s", call_safe(c->path, b1, sizeof(b1)),
	          c->subprotocol[0] ? call_safe(c->subprotocol, b2, sizeof(b2)) : "none");
	/* the start deadline comes first unless idle_seconds is shorter */
	env->io->set_timer(ctx, (int64_t)(env->cfg->start_seconds < env->cfg->idle_seconds ?
				      env->cfg->start_seconds : env->cfg->idle_seconds) * 1000000);
	return c;
}

uint64_t call_id(const struct call *c)
{
	return c->id;
}

const struct mode_ops *call_mode(const struct call *c)
{
	return c->mode;
}

struct call_env *call_get_env(const struct call *c)
{
	return c->env;
}

int64_t call_now(const struct call *c)
{
	return call_now_us(c->env);
}

const char *call_account_sid(const struct call *c)
{
	return c->account_sid;
}

int call_param_at(const struct call *c, size_t n, const char **name, const char **value)
{
	if (!c->start || n >= c->start->nparams)
		return 0;
	*name = c->start->params[n].name;
	*value = c->start->params[n].value;
	return 1;
}

const char *call_sid(const struct call *c)
{
	return c->call_sid;
}

const char *call_stream_sid(const struct call *c)
{
	return c->stream_sid;
}

const struct config *call_config(const struct call *c)
{
	return c->env->cfg;
}

const char *call_param(const struct call *c, const char *name)
{
	return c->start ? twmsg_param(c->start, name) : NULL;
}

void *call_mode_state(const struct call *c)
{
	return c->mode_state;
}

void call_set_mode_state(struct call *c, void *state)
{
	c->mode_state = state;
}

void call_log(const struct call *c, const char *event, const char *const *kv)
{
	char line[CALLLOG_LINE_MAX];
	size_t len;

	/* Only after the signed upgrade and a valid start: the CallSid names the file. */
	if (!c->started)
		return;
	if (!c->log) {
		/* No file system access here: the handle opens at its first write. Callers
		 * hold the call as const; the handle is a cache of the call's own. */
		((struct call *)c)->log = calllog_file_new(c->env->cfg->log_dir, c->call_sid);
		if (!c->log)
			return;
	}
	/* Formatted on the loop; written by logq's thread (never on the loop). */
	len = calllog_format(line, sizeof(line), NULL, "ws", event, kv);
	logq_write(c->log, line, len);
}

/* Count a protocol error; log the first of each kind per call, in the call's log when the
 * call is known (after start), else on stderr. */
void call_proto_error(struct call *c, enum wsmetrics_err kind, const char *detail)
{
	char b1[200];

	c->env->m->errors[kind]++;
	if (c->errors[kind]++)
		return;
	if (c->started) {
		const char *kv[] = { "kind", wsmetrics_err_name(kind), "detail", detail, NULL };
		call_log(c, "ws_error", kv);
	} else {
		call_elog("WS_ERROR kind=%s peer=%s detail=\"%s\"", wsmetrics_err_name(kind), c->peer,
		          call_quoted(detail, b1, sizeof(b1)));
	}
}

static void qfree_all(struct call *c);

void call_close(struct call *c, int code, const char *reason, int flush)
{
	if (c->closing || c->done)
		return;
	c->closing = 1;
	c->flush = flush ? 1 : 0;
	c->close_code = code;
	call_copy(c->close_reason, sizeof(c->close_reason), reason);
	/* Nothing more is read into the reassembly buffer; without flush nothing queued will be
	 * sent either: give the memory back now, not when the peer (maybe the one that stopped
	 * reading) lets the close frame out. */
	call_rx_free(c);
	if (!flush)
		qfree_all(c);
	c->env->io->want_write(c->ctx);
	c->env->io->set_timer(c->ctx, CLOSE_FORCE_US);
}

void call_close_status(const struct call *c, int *code, const char **reason)
{
	*code = c->close_code ? c->close_code : CLOSE_NORMAL;
	*reason = c->close_reason;
}

/* --- memory bound --- */

/* The open call holding the most memory, or NULL when none holds any. */
static struct call *largest(struct call_env *env)
{
	struct call *c, *big = NULL;

	for (c = env->head; c; c = c->next)
		if (!c->closing && !c->done && c->mem && (!big || c->mem > big->mem))
			big = c;
	return big;
}

int call_mem_reserve(struct call *c, size_t n)
{
	struct call_env *env = c->env;
	size_t max = env->cfg->max_memory;
	char detail[160];

	/* Each round closes one call, which releases all it holds: bounded by the calls. */
	while (env->mem_bytes + n > max) {
		struct call *v = largest(env);

		if (!v)
			v = c;   /* nothing else holds anything: C itself must go */
		if (v == c)
			snprintf(detail, sizeof(detail), "[ws] max_memory (%zu bytes) reached: this "
				 "call held the largest backlog, %zu bytes, and asked for %zu more",
				 max, c->mem, n);
		else
			snprintf(detail, sizeof(detail), "[ws] max_memory (%zu bytes) reached: this "
				 "call held the largest backlog, %zu bytes", max, v->mem);
		call_proto_error(v, WSERR_MEMORY, detail);
		call_elog("WS_CLOSE sid=%s code=%d reason=\"[ws] max_memory reached\" peer=%s "
			  "detail=\"%s\"", v->call_sid[0] ? v->call_sid : "-", CLOSE_INTERNAL,
			  v->peer, detail);
		call_close(v, CLOSE_INTERNAL, "[ws] max_memory reached", 0);
		if (v == c)
			return -1;
	}
	call_mem_add(c, n);
	return 0;
}

void call_mem_add(struct call *c, size_t n)
{
	c->env->mem_bytes += n;
	c->mem += n;
	c->env->m->memory_bytes = c->env->mem_bytes;
}

void call_mem_release(struct call *c, size_t n)
{
	c->env->mem_bytes -= n;
	c->mem -= n;
	c->env->m->memory_bytes = c->env->mem_bytes;
}

/* --- outbound queue --- */

static void qfree(struct call *c, struct qent *q)
{
	call_mem_release(c, q->alloc);
	free(q);
}

static struct qent *qalloc(struct call *c, size_t need)
{
	size_t alloc = sizeof(struct qent) + c->env->pre + need;
	struct qent *q;

	if (!c->started || c->closing)
		return NULL;
	if (call_mem_reserve(c, alloc) < 0)
		return NULL;
	q = malloc(alloc);
	if (!q) {
		call_mem_release(c, alloc);
		call_elog("WS_ERROR kind=no_memory sid=%s", c->call_sid);
		return NULL;
	}
	q->alloc = alloc;
	q->raw_len = 0;
	return q;
}

static int qpush(struct call *c, struct qent *q, long len, unsigned char kind)
{
	size_t max = c->env->cfg->max_queue_bytes;
	char detail[96];

	if (len < 0) {
		qfree(c, q);
		return -1;
	}
	if (c->qbytes + (size_t)len > max) {
		qfree(c, q);
		snprintf(detail, sizeof(detail), "outbound queue over %zu bytes", max);
		call_proto_error(c, WSERR_QUEUE_FULL, detail);
		call_elog("WS_CLOSE sid=%s code=%d reason=\"%s\"", c->call_sid, CLOSE_INTERNAL, detail);
		call_close(c, CLOSE_INTERNAL, "outbound queue full", 0);
		return -1;
	}
	q->next = NULL;
	q->len = (size_t)len;
	q->kind = kind;
	if (c->qtail)
		c->qtail->next = q;
	else
		c->qhead = q;
	c->qtail = q;
	c->qbytes += q->len;
	if (kind == Q_MEDIA)
		c->qmedia++;
	c->env->io->want_write(c->ctx);
	return 0;
}

int call_send_media(struct call *c, const uint8_t *ulaw, size_t n)
{
	size_t need = twmsg_media_size(strlen(c->stream_sid), n);
	/* recording what is sent: the µ-law kept beside the JSON (nothing when not recording) */
	size_t raw = c->rec_out ? n : 0;
	struct qent *q = qalloc(c, need + raw);

	if (!q)
		return -1;
	if (raw) {
		q->raw_len = raw;
		memcpy((unsigned char *)q + q->alloc - raw, ulaw, raw);
	}
	return qpush(c, q, twmsg_build_media((char *)q->buf + c->env->pre, need, c->stream_sid,
					     ulaw, n), Q_MEDIA);
}

int call_send_mark(struct call *c, const char *name)
{
	size_t need = twmsg_mark_size(strlen(c->stream_sid), strlen(name));
	struct qent *q = qalloc(c, need);

	if (!q)
		return -1;
	return qpush(c, q, twmsg_build_mark((char *)q->buf + c->env->pre, need, c->stream_sid,
					    name), Q_MARK);
}

int call_send_clear(struct call *c)
{
	size_t need = twmsg_clear_size(strlen(c->stream_sid));
	struct qent *q = qalloc(c, need);

	if (!q)
		return -1;
	return qpush(c, q, twmsg_build_clear((char *)q->buf + c->env->pre, need, c->stream_sid),
		     Q_CLEAR);
}

long call_flush_media(struct call *c)
{
	struct qent **pp, *e, *last = NULL;
	long dropped = 0;

	if (!c->started || c->closing)
		return -1;
	for (pp = &c->qhead; (e = *pp);) {
		if (e->kind == Q_MEDIA) {
			*pp = e->next;
			c->qbytes -= e->len;
			c->qmedia--;
			qfree(c, e);
			dropped++;
		} else {
			last = e;
			pp = &e->next;
		}
	}
	c->qtail = last;
	if (call_send_clear(c) < 0)
		return -1;
	/* it was queued last; it goes first: audio Twilio already holds must stop now, not
	 * after the marks still waiting in our queue */
	if (last) {
		e = last->next;
		last->next = NULL;
		c->qtail = last;
		e->next = c->qhead;
		c->qhead = e;
	}
	return dropped;
}

size_t call_media_queued(const struct call *c)
{
	return c->qmedia;
}

void call_want_drain(struct call *c, size_t low)
{
	c->want_drain = 1;
	c->drain_low = low;
}

/* Arm the one transport timer for the earliest of the idle deadline and the mode's timer
 * (the close timers take it over once closing). */
static void arm_timer(struct call *c)
{
	int64_t t = call_now_us(c->env);
	int64_t due = c->last_rx_us + (int64_t)c->env->cfg->idle_seconds * 1000000;
	int64_t start_due = c->t_open_us + (int64_t)c->env->cfg->start_seconds * 1000000;

	if (c->closing)
		return;
	if (!c->started && start_due < due)
		due = start_due;
	if (c->mode_due_us && c->mode_due_us < due)
		due = c->mode_due_us;
	c->env->io->set_timer(c->ctx, due > t ? due - t : 1);
}

void call_set_mode_timer(struct call *c, int64_t usecs)
{
	c->mode_due_us = usecs < 0 ? 0 : call_now_us(c->env) + (usecs > 0 ? usecs : 1);
	arm_timer(c);
}

static void qfree_all(struct call *c)
{
	while (c->qhead) {
		struct qent *q = c->qhead;

		c->qhead = q->next;
		qfree(c, q);
	}
	c->qtail = NULL;
	c->qbytes = 0;
	c->qmedia = 0;
}

/* Hand our close to the transport (call_on_writable() or call_on_timer() returns -1): it
 * sends the close frame, then keeps reading, and discarding, until the peer's close frame
 * arrives (RFC 6455 §5.5.1, §7.1.1), and closes TCP then. Closing TCP at once, with the
 * peer's frames still arriving, makes Linux answer with RST, and a proxy in front (Apache)
 * then drops the client's side before it has passed our close frame on (the client sees
 * 1006, Twilio 31921). From here on nothing more is written by us; the timer bounds the
 * wait. The queue will never be sent: free it now. */
static int close_handoff(struct call *c)
{
	c->close_sent = 1;
	qfree_all(c);
	c->env->io->set_timer(c->ctx, CLOSE_ACK_US);
	return -1;
}

int call_on_writable(struct call *c)
{
	struct qent *q = c->qhead;

	if (c->close_sent)
		return 0;   /* the close is the transport's now; asking to close again kills it */
	if (c->closing && (!c->flush || !q))
		return close_handoff(c);
	if (!q)
		return 0;
	if (c->env->io->write(c->ctx, q->buf + c->env->pre, q->len) < 0) {
		if (!c->closing) {
			c->closing = 1;
			c->close_code = CLOSE_ABNORMAL;
			call_copy(c->close_reason, sizeof(c->close_reason), "write failed");
		}
		return close_handoff(c);
	}
	switch (q->kind) {
	case Q_MEDIA:
		c->tx++;
		c->qmedia--;
		c->env->m->frames_out++;
		if (c->rec_out && q->raw_len)
			recorder_out_written(c->rec_out, call_now_us(c->env),
					     (unsigned char *)q + q->alloc - q->raw_len, q->raw_len);
		break;
	case Q_MARK:
		c->marks_sent++;
		c->env->m->marks_sent++;
		break;
	case Q_CLEAR:
		c->clears++;
		c->env->m->clears++;
		if (c->rec_out)
			recorder_out_clear(c->rec_out, call_now_us(c->env));
		break;
	}
	c->qhead = q->next;
	if (!c->qhead)
		c->qtail = NULL;
	c->qbytes -= q->len;
	qfree(c, q);
	if (c->qhead || c->closing)
		c->env->io->want_write(c->ctx);
	if (c->want_drain && c->qmedia <= c->drain_low && !c->closing) {
		c->want_drain = 0;
		if (c->mode->on_drain && c->mode->on_drain(c) < 0)
			call_close(c, CLOSE_INTERNAL, "mode error", 0);
	}
	return 0;
}

int call_has_output(const struct call *c)
{
	return !c->close_sent && (c->qhead || c->closing);
}

int call_on_timer(struct call *c)
{
	int64_t idle = (int64_t)c->env->cfg->idle_seconds * 1000000, t = call_now_us(c->env);
	char detail[64];

	if (c->close_sent)
		return -1;   /* the peer did not answer our close within CLOSE_ACK_US: drop it */
	if (c->closing)
		return close_handoff(c);   /* the flush did not drain in CLOSE_FORCE_US: close now */
	if (c->mode_due_us && t >= c->mode_due_us) {
		c->mode_due_us = 0;
		if (c->started && c->mode->on_timer && c->mode->on_timer(c) < 0)
			call_close(c, CLOSE_INTERNAL, "mode error", 0);
		if (c->closing)
			return 0;
	}
	if (!c->started && t - c->t_open_us >= (int64_t)c->env->cfg->start_seconds * 1000000) {
		/* Any frame resets the idle timer, so a stream sending only "connected" (or
		 * nothing) would hold a max_calls slot for ever: start has its own deadline.
		 * There is no CallSid, so no call log: stderr only. */
		snprintf(detail, sizeof(detail), "no start in %d s", c->env->cfg->start_seconds);
		c->env->m->errors[WSERR_NO_START]++;
		c->errors[WSERR_NO_START]++;
		call_elog("WS_CLOSE sid=- code=%d reason=\"%s\" peer=%s", CLOSE_POLICY, detail,
			  c->peer);
		call_close(c, CLOSE_POLICY, detail, 0);
		return 0;
	}
	if (t - c->last_rx_us < idle) {
		arm_timer(c);
		return 0;
	}
	snprintf(detail, sizeof(detail), "no message for %d s", c->env->cfg->idle_seconds);
	call_proto_error(c, WSERR_IDLE, detail);
	call_elog("WS_CLOSE sid=%s code=%d reason=\"idle timeout\" detail=\"%s\"",
	          c->call_sid[0] ? c->call_sid : "-", CLOSE_NORMAL, detail);
	call_close(c, CLOSE_NORMAL, "idle timeout", 0);
	return 0;
}

void call_on_peer_close(struct call *c, int code, const char *reason, size_t reason_len)
{
	size_t n = reason_len < sizeof(c->peer_reason) - 1 ? reason_len : sizeof(c->peer_reason) - 1;

	c->peer_closed = 1;
	c->peer_code = code ? code : CLOSE_NO_STATUS;
	memcpy(c->peer_reason, reason ? reason : "", reason ? n : 0);
	c->peer_reason[reason ? n : 0] = '\0';
}

void call_on_protocol_close(struct call *c, int code, const char *reason)
{
	char b1[80];

	if (c->close_code || c->done)
		return;
	c->close_code = code;
	call_copy(c->close_reason, sizeof(c->close_reason), reason);
	c->peer_closed = 0;   /* what the peer sent was the violation, not a close of its own */
	call_elog("WS_CLOSE sid=%s code=%d reason=\"%s\" peer=%s", c->call_sid[0] ? c->call_sid :
		  "-", code, call_quoted(reason, b1, sizeof(b1)), c->peer);
}

/* --- teardown --- */

void call_done(struct call *c)
{
	struct call_env *env;
	char v[8][24], errs[WSERR_COUNT][24], keys[WSERR_COUNT][40];
	const char *kv[2 * (12 + WSERR_COUNT) + 1];
	const char *by, *reason;
	size_t k = 0;
	int code, i;

	if (!c || c->done)
		return;
	c->done = 1;
	env = c->env;
	/* closing before the mode's on_close: it can no longer queue or send (qalloc refuses)
	 * to a transport that is going away */
	c->closing = 1;
	if (c->started && c->mode->on_close)
		c->mode->on_close(c);
	call_rec_close(c);

	if (c->close_code) {
		by = "server";
		code = c->close_code;
		reason = c->close_reason;
	} else if (c->peer_closed) {
		by = "peer";
		code = c->peer_code;
		reason = c->peer_reason;
	} else {
		by = "network";
		code = CLOSE_ABNORMAL;
		reason = "connection lost without a close frame";
	}
	call_elog("WS_DONE sid=%s rx=%llu tx=%llu", c->call_sid[0] ? c->call_sid : "-", c->rx, c->tx);

	snprintf(v[0], sizeof(v[0]), "%llu", c->rx);
	snprintf(v[1], sizeof(v[1]), "%llu", c->tx);
	snprintf(v[2], sizeof(v[2]), "%llu", c->marks_sent);
	snprintf(v[3], sizeof(v[3]), "%llu", c->marks_returned);
	snprintf(v[4], sizeof(v[4]), "%llu", c->clears);
	snprintf(v[5], sizeof(v[5]), "%u", c->errors[WSERR_SEQUENCE_GAP]);
	snprintf(v[6], sizeof(v[6]), "%lld", (long long)((call_now_us(env) - c->t_open_us) / 1000));
	snprintf(v[7], sizeof(v[7]), "%d", code);
	kv[k++] = "rx";
	kv[k++] = v[0];
	kv[k++] = "tx";
	kv[k++] = v[1];
	kv[k++] = "marks_sent";
	kv[k++] = v[2];
	kv[k++] = "marks_returned";
	kv[k++] = v[3];
	kv[k++] = "clears";
	kv[k++] = v[4];
	kv[k++] = "gaps";
	kv[k++] = v[5];
	for (i = 0; i < WSERR_COUNT; i++) {
		if (!c->errors[i] || i == WSERR_SEQUENCE_GAP)
			continue;
		snprintf(keys[i], sizeof(keys[i]), "errors_%s", wsmetrics_err_name(i));
		snprintf(errs[i], sizeof(errs[i]), "%u", c->errors[i]);
		kv[k++] = keys[i];
		kv[k++] = errs[i];
	}
	kv[k++] = "duration_ms";
	kv[k++] = v[6];
	kv[k++] = "close_code";
	kv[k++] = v[7];
	kv[k++] = "close_reason";
	kv[k++] = reason;
	kv[k++] = "closed_by";
	kv[k++] = by;
	kv[k] = NULL;
	call_log(c, "ws_done", kv);
	/* Its last line may still be queued: that line's reference keeps the file open. */
	calllog_file_unref(c->log);
	c->log = NULL;

	qfree_all(c);
	call_rx_free(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		env->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	env->count--;
	env->m->active_calls--;
	free(c);
}
