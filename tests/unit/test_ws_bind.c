/* test_ws_bind: with validate = yes a start must carry a callpipe_token made for its CallSid
 * and AccountSid (else 1008, counted, no log file); one open stream per CallSid; never logged. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "call.h"
#include "check.h"
#include "config.h"
#include "metrics.h"
#include "mode.h"
#include "streamtok.h"
#include "ws_fake.h"

#define PRE FAKE_PRE
#define SID_MZ "MZ0123456789abcdef0123456789abcdef"
#define AS "AC0123456789abcdef0123456789abcdef"

static struct config cfg;
static struct wsmetrics met;

static const struct call_conn conn = { "/ws/twilio-media", "", "127.0.0.1", "" };

/* Open a call and send connected + a start for CS/ACCOUNT with customParameters PARAMS. */
static struct call *open_start(struct call_env *env, struct fake *f, const char *cs,
			       const char *account, const char *params)
{
	struct call *c = call_new(env, f, &conn);
	char m[2048];
	static const char conn_msg[] = "{\"event\":\"connected\",\"protocol\":\"Call\","
				       "\"version\":\"1.0.0\"}";

	snprintf(m, sizeof(m), "{\"event\":\"start\",\"sequenceNumber\":\"1\",\"start\":"
		 "{\"accountSid\":\"%s\",\"streamSid\":\"" SID_MZ "\",\"callSid\":\"%s\","
		 "\"tracks\":[\"inbound\"],\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\","
		 "\"sampleRate\":8000,\"channels\":1},\"customParameters\":{%s}},\"streamSid\":\""
		 SID_MZ "\"}", account, cs, params);
	call_on_rx(c, conn_msg, strlen(conn_msg), 1, 1, 0);
	call_on_rx(c, m, strlen(m), 1, 1, 0);
	return c;
}

static int log_exists(const char *cs)
{
	char p[1024];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s.log", cfg.log_dir, cs);
	return stat(p, &st) == 0;
}

static char *slurp_log(const char *cs)
{
	char p[1024];
	FILE *fp;
	char *buf = calloc(1, 65536);

	snprintf(p, sizeof(p), "%s/%s.log", cfg.log_dir, cs);
	fp = fopen(p, "r");
	if (fp && buf) {
		size_t n = fread(buf, 1, 65535, fp);
		buf[n] = '\0';
	}
	if (fp)
		fclose(fp);
	return buf;
}

/* A start refused as unbound: closed 1008 with the binding reason, no log file for CS. */
static int refused(struct call_env *env, const char *cs, const char *account, const char *params)
{
	struct fake f = fake_init(0);
	struct call *c = open_start(env, &f, cs, account, params);
	const char *reason;
	int code, ok;

	ok = fake_pump(c, &f) == -1;
	call_close_status(c, &code, &reason);
	ok &= code == 1008 && strcmp(reason, "stream not bound to a signed call") == 0;
	ok &= call_sid(c)[0] == '\0';
	call_done(c);
	ok &= !log_exists(cs);
	return ok;
}

static void hexsid(char *out, const char *prefix, unsigned n)
{
	snprintf(out, 35, "%s%032x", prefix, n);
}

int main(void)
{
	char dir[] = "/tmp/test_ws_bind.XXXXXX", err[128], tok[STREAMTOK_MAX + 1];
	char params[STREAMTOK_MAX + 200], cs[40], cs2[40];
	struct call_env *env;
	struct fake f1 = fake_init(0);
	struct call *c1;
	time_t now = time(NULL);
	char *log;

	config_defaults(&cfg);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(cfg.log_dir, sizeof(cfg.log_dir), "%s", dir);
	snprintf(cfg.auth_token, sizeof(cfg.auth_token), "tok-secret");
	cfg.validate = 1;
	memset(&met, 0, sizeof(met));
	env = call_env_new(&cfg, &mode_echo, &met, &fake_io, PRE, err, sizeof(err));
	CHECK(env != NULL);
	if (!env)
		return check_done();

	hexsid(cs, "CA", 1);
	/* no token, garbage, another CallSid's, another AccountSid's, expired, far ahead */
	CHECK_MSG(refused(env, cs, AS, ""), "validate=yes, no token: 1008, no log file");
	CHECK_MSG(refused(env, cs, AS, "\"callpipe_token\":\"garbage\""), "garbage token: 1008");
	hexsid(cs2, "CA", 2);
	streamtok_make(cfg.auth_token, cs2, AS, now + 300, tok, sizeof(tok));
	snprintf(params, sizeof(params), "\"callpipe_token\":\"%s\"", tok);
	CHECK_MSG(refused(env, cs, AS, params), "token for another CallSid: 1008");
	streamtok_make(cfg.auth_token, cs, AS, now + 300, tok, sizeof(tok));
	snprintf(params, sizeof(params), "\"callpipe_token\":\"%s\"", tok);
	CHECK_MSG(refused(env, cs, "AC0123456789abcdef0123456789abcdee", params),
		  "token for another AccountSid: 1008");
	streamtok_make("other-token", cs, AS, now + 300, tok, sizeof(tok));
	snprintf(params, sizeof(params), "\"callpipe_token\":\"%s\"", tok);
	CHECK_MSG(refused(env, cs, AS, params), "token made with another auth token: 1008");
	streamtok_make(cfg.auth_token, cs, AS, now - 1, tok, sizeof(tok));
	snprintf(params, sizeof(params), "\"callpipe_token\":\"%s\"", tok);
	CHECK_MSG(refused(env, cs, AS, params), "expired token: 1008");
	streamtok_make(cfg.auth_token, cs, AS, now + 2 * STREAMTOK_MAX_SECONDS, tok, sizeof(tok));
	snprintf(params, sizeof(params), "\"callpipe_token\":\"%s\"", tok);
	CHECK_MSG(refused(env, cs, AS, params), "token valid for two days: 1008");
	CHECK(met.errors[WSERR_UNBOUND_STREAM] == 7);
	CHECK(met.errors[WSERR_INVALID] == 0 && met.errors[WSERR_BAD_CALL_SID] == 0);

	/* the genuine one opens the call; the token is not in its log */
	streamtok_make(cfg.auth_token, cs, AS, now + 300, tok, sizeof(tok));
	snprintf(params, sizeof(params), "\"mode\":\"echo\",\"callpipe_token\":\"%s\","
		 "\"From\":\"+15551234567\"", tok);
	c1 = open_start(env, &f1, cs, AS, params);
	CHECK(fake_pump(c1, &f1) == 0);
	CHECK(strcmp(call_sid(c1), cs) == 0);
	CHECK_MSG(log_exists(cs), "valid token: the call opens and its log exists");
	log = slurp_log(cs);
	CHECK(log && strstr(log, " ws ws_start ") && strstr(log, "param_From=+15551234567"));
	CHECK_MSG(log && !strstr(log, tok + 14) && !strstr(log, "callpipe_token"),
		  "the token (name and MAC) is not in the call's log");
	free(log);

	/* a second stream with the same CallSid and a valid token while the first is open */
	{
		struct fake f2 = fake_init(0);
		struct call *c2 = open_start(env, &f2, cs, AS, params);
		const char *reason;
		int code;
		struct stat st1, st2;
		char p[1024];

		snprintf(p, sizeof(p), "%s/%s.log", cfg.log_dir, cs);
		CHECK(stat(p, &st1) == 0);
		CHECK(fake_pump(c2, &f2) == -1);
		call_close_status(c2, &code, &reason);
		CHECK_MSG(code == 1008, "second stream for an open CallSid: 1008");
		CHECK(met.errors[WSERR_UNBOUND_STREAM] == 8);
		call_done(c2);
		CHECK(stat(p, &st2) == 0);
		CHECK_MSG(st1.st_size == st2.st_size, "... and the open call's log is untouched");
	}
	/* once the first stopped, the CallSid may stream again (a later <Connect><Stream>) */
	{
		const char stop[] = "{\"event\":\"stop\",\"sequenceNumber\":\"2\",\"stop\":"
				    "{\"accountSid\":\"" AS "\",\"callSid\":\"CA\"},"
				    "\"streamSid\":\"" SID_MZ "\"}";
		struct fake f3 = fake_init(0);
		struct call *c3;

		call_on_rx(c1, stop, strlen(stop), 1, 1, 0);
		c3 = open_start(env, &f3, cs, AS, params);
		CHECK_MSG(fake_pump(c3, &f3) == 0 && strcmp(call_sid(c3), cs) == 0,
			  "after the first stream's stop, a new stream of the CallSid is accepted");
		call_done(c3);
	}
	fake_pump(c1, &f1);
	call_done(c1);

	/* validate = no: no token needed (the duplicate rule still holds) */
	cfg.validate = 0;
	{
		struct fake f4 = fake_init(0);
		struct call *c4;

		hexsid(cs2, "CA", 3);
		c4 = open_start(env, &f4, cs2, AS, "");
		CHECK_MSG(fake_pump(c4, &f4) == 0 && strcmp(call_sid(c4), cs2) == 0,
			  "validate=no: a start without a token opens the call");
		{
			struct fake f5 = fake_init(0);
			struct call *c5 = open_start(env, &f5, cs2, AS, "");
			const char *reason;
			int code;

			CHECK(fake_pump(c5, &f5) == -1);
			call_close_status(c5, &code, &reason);
			CHECK_MSG(code == 1008 && call_sid(c5)[0] == '\0',
				  "validate=no: a second open stream of the CallSid: 1008");
			call_done(c5);
		}
		call_done(c4);
	}
	call_env_free(env);
	check_rmdir_flat(dir);
	return check_done();
}
