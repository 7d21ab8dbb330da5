/* test_ws_memory: calls driven through a fake transport and clock: every queued and
 * reassembly byte accounted against [ws] max_memory, the largest backlog closed when a push
 * would pass it, the start deadline, and a mode's on_close running once the call is closing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "check.h"
#include "config.h"
#include "metrics.h"
#include "mode.h"
#include "ws_fake.h"

#define PRE FAKE_PRE
#define SID_MZ "MZ0123456789abcdef0123456789abcdef"

static struct config cfg;
static struct wsmetrics met;

static const struct call_conn conn = { "/ws/twilio-media", "", "127.0.0.1", "" };

static void rx(struct call *c, const char *text)
{
	call_on_rx(c, text, strlen(text), 1, 1, 0);
}

static void start(struct call *c)
{
	static unsigned n;
	char m[512];

	snprintf(m, sizeof(m), "{\"event\":\"start\",\"start\":{\"streamSid\":\"" SID_MZ "\","
		 "\"callSid\":\"CA%032x\"},\"streamSid\":\"" SID_MZ "\"}", 0x4d454d00u + ++n);
	rx(c, m);
}

/* Push N 160-byte media messages; how many were queued. */
static int push(struct call *c, int n)
{
	uint8_t frame[160];
	int i;

	memset(frame, 0x7f, sizeof(frame));
	for (i = 0; i < n; i++)
		if (call_send_media(c, frame, sizeof(frame)) < 0)
			break;
	return i;
}

static void test_accounting(void)
{
	struct fake fa = fake_init(0), fb = fake_init(0), fc = fake_init(0);
	struct call_env *env;
	struct call *a, *b, *c;
	int code, pushed;
	const char *reason;
	char err[128], chunk[600];
	size_t per, before;

	memset(&met, 0, sizeof(met));
	env = call_env_new(&cfg, &mode_echo, &met, &fake_io, PRE, err, sizeof(err));
	CHECK(env != NULL);
	if (!env)
		return;
	CHECK(met.memory_max == cfg.max_memory);
	a = call_new(env, &fa, &conn);
	b = call_new(env, &fb, &conn);
	start(a);
	start(b);
	(void)fake_pump(a, &fa);   /* the clear each start queued */
	(void)fake_pump(b, &fb);
	CHECK(call_env_memory(env) == 0 && met.memory_bytes == 0);

	/* one message: its whole allocation (entry, headroom, JSON) is accounted, and given
	 * back once written */
	CHECK(push(a, 1) == 1);
	per = call_env_memory(env);
	CHECK(per > 160 * 4 / 3 + PRE && per < 600);
	CHECK(met.memory_bytes == per);
	(void)fake_pump(a, &fa);
	CHECK(call_env_memory(env) == 0);

	/* A reads nothing more; B a little. A push that would pass max_memory closes the
	 * largest backlog (A), not B, the call that pushed. */
	pushed = push(a, 100000);
	CHECK(pushed > 100 && pushed < 100000);
	/* A itself pushed over the bound: it held the largest backlog, so it was closed */
	call_close_status(a, &code, &reason);
	CHECK(code == 1011);
	CHECK_STR(reason, "[ws] max_memory reached");
	CHECK(call_env_memory(env) == 0);   /* its queue was freed at once */
	CHECK(met.errors[WSERR_MEMORY] == 1);
	call_done(a);

	a = call_new(env, &fa, &conn);
	start(a);
	(void)fake_pump(a, &fa);
	CHECK(push(a, (int)(cfg.max_memory / per) - 3) == (int)(cfg.max_memory / per) - 3);
	CHECK(call_env_memory_high(env) == 1);   /* past 7/8: new streams get 503 */
	before = call_env_memory(env);
	CHECK(before <= cfg.max_memory);
	CHECK(push(b, 10) == 10);               /* B's push passes the bound: A goes */
	call_close_status(a, &code, &reason);
	CHECK_MSG(code == 1011 && !strcmp(reason, "[ws] max_memory reached"),
		  "the stalled reader (largest backlog) is closed, not the call that pushed");
	call_close_status(b, &code, &reason);
	CHECK(code == 1000 && reason[0] == '\0');   /* B is untouched */
	CHECK(call_env_memory(env) == 10 * per);
	CHECK(call_env_memory_high(env) == 0);
	CHECK(met.errors[WSERR_MEMORY] == 2);
	call_done(a);
	(void)fake_pump(b, &fb);
	CHECK(call_env_memory(env) == 0);

	/* reassembly: the buffer's growth is accounted while a message is open, and given back
	 * when it ends */
	c = call_new(env, &fc, &conn);
	memset(chunk, ' ', sizeof(chunk));
	call_on_rx(c, chunk, sizeof(chunk), 1, 0, 0);
	CHECK(call_env_memory(env) >= sizeof(chunk) && call_env_memory(env) <= cfg.max_message);
	call_on_rx(c, chunk, sizeof(chunk), 0, 0, 0);
	CHECK(call_env_memory(env) >= 2 * sizeof(chunk));
	call_on_rx(c, "{}", 2, 0, 1, 0);
	CHECK(call_env_memory(env) == 0);
	/* a call ending mid-message gives its buffer back too */
	call_on_rx(c, chunk, sizeof(chunk), 1, 0, 0);
	CHECK(call_env_memory(env) > 0);
	call_done(c);
	CHECK(call_env_memory(env) == 0 && met.memory_bytes == 0);
	/* a fragmented start whose callSid is refused closes the call while its text sits in the
	 * reassembly buffer (ASan: nothing reads it after the close freed it) */
	c = call_new(env, &fc, &conn);
	{
		static const char m[] = "{\"event\":\"start\",\"start\":{\"callSid\":\"CA../x\","
					"\"streamSid\":\"MZ1\"},\"streamSid\":\"MZ1\"}";

		call_on_rx(c, m, 20, 1, 0, 0);
		call_on_rx(c, m + 20, sizeof(m) - 21, 0, 1, 0);
	}
	call_close_status(c, &code, &reason);
	CHECK(code == 1008 && call_env_memory(env) == 0);
	call_done(c);
	call_done(b);
	call_env_free(env);
}

static void test_start_deadline(void)
{
	struct fake f = fake_init(0);
	struct call_env *env;
	struct call *c;
	int code, i;
	const char *reason;
	char err[128];

	memset(&met, 0, sizeof(met));
	env = call_env_new(&cfg, &mode_echo, &met, &fake_io, PRE, err, sizeof(err));
	if (!env)
		return;
	c = call_new(env, &f, &conn);
	CHECK(f.timer == (int64_t)cfg.start_seconds * 1000000);
	/* "connected" every second resets the idle timer but not the start deadline */
	for (i = 0; i < cfg.start_seconds - 1; i++) {
		fake_clock_us += 1000000;
		rx(c, "{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}");
		CHECK(call_on_timer(c) == 0);
	}
	call_close_status(c, &code, &reason);
	CHECK(code == 1000 && met.errors[WSERR_NO_START] == 0);   /* not yet */
	CHECK(f.timer == 1000000);   /* re-armed for the rest of the start deadline */
	fake_clock_us += 1000000;
	rx(c, "{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}");
	CHECK(call_on_timer(c) == 0);
	call_close_status(c, &code, &reason);
	CHECK(code == 1008);
	CHECK_STR(reason, "no start in 3 s");
	CHECK(met.errors[WSERR_NO_START] == 1);
	call_done(c);

	/* once started, only the idle timer is left */
	c = call_new(env, &f, &conn);
	start(c);
	fake_clock_us += (int64_t)cfg.start_seconds * 1000000 + 1;
	CHECK(call_on_timer(c) == 0);
	call_close_status(c, &code, &reason);
	CHECK(code == 1000 && reason[0] == '\0');
	CHECK(f.timer == ((int64_t)cfg.idle_seconds - cfg.start_seconds) * 1000000 - 1);
	call_done(c);
	call_env_free(env);
}

/* A mode whose on_close tries to send: the call is closing by then, so it cannot. */
static int close_send_result = 99;

static void probe_close(struct call *c)
{
	close_send_result = call_send_mark(c, "late");
}

static const struct mode_ops mode_probe = {
	.name = "probe", .summary = "test", .on_close = probe_close,
};

static void test_on_close_order(void)
{
	struct fake f = fake_init(0);
	struct call_env *env;
	struct call *c;
	uint64_t id;
	char err[128];

	memset(&met, 0, sizeof(met));
	env = call_env_new(&cfg, &mode_probe, &met, &fake_io, PRE, err, sizeof(err));
	if (!env)
		return;
	c = call_new(env, &f, &conn);
	start(c);
	id = call_id(c);
	call_done(c);
	CHECK_MSG(close_send_result == -1, "on_close cannot queue: the call is closing");
	CHECK(call_env_find(env, id) == NULL);   /* a worker's result finds nothing */
	CHECK(call_env_memory(env) == 0);
	call_env_free(env);
}

int main(void)
{
	char dir[] = "/tmp/test_ws_memory.XXXXXX";

	config_defaults(&cfg);
	cfg.validate = 0;   /* stream binding has its own test (test_ws_bind) */
	CHECK(mkdtemp(dir) != NULL);
	snprintf(cfg.log_dir, sizeof(cfg.log_dir), "%s", dir);
	cfg.max_message = 64 * 1024;
	cfg.max_queue_bytes = 4 * 1024 * 1024;   /* above max_memory: the process bound acts */
	cfg.max_memory = 1024 * 1024;
	cfg.start_seconds = 3;
	cfg.idle_seconds = 30;
	test_accounting();
	test_start_deadline();
	test_on_close_order();
	check_rmdir_flat(cfg.log_dir);
	return check_done();
}
