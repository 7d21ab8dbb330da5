/* test_turnclient: the turn client against tests/stubs/turnsrv.py on loopback: heads, streamed
 * verbs, the stub's own signature check, connect_to, every failure path, cancel, parallel calls. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "stub.h"
#include "config.h"
#include "resq.h"
#include "turnclient.h"
#include "turnparse.h"

#define TOKEN "T0k3n"
#define MAX_GOT 4096

/* --- results: everything pushed, kept in arrival order ------------------------------------ */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_pushed;   /* under g_mu: pushes since the last take */
static struct resq *g_q;
static struct result *g_got[MAX_GOT];
static int g_ngot;

static void on_wake(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g_mu);
	g_pushed++;
	pthread_cond_signal(&g_cv);
	pthread_mutex_unlock(&g_mu);
}

/* Move what is queued into g_got, waiting up to MS for something to arrive. */
static void collect(int ms)
{
	struct timespec dl;
	struct result *r, *nx;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g_mu);
	while (!g_pushed && ms > 0)
		if (pthread_cond_timedwait(&g_cv, &g_mu, &dl) == ETIMEDOUT)
			break;
	g_pushed = 0;
	pthread_mutex_unlock(&g_mu);
	for (r = resq_take_all(g_q); r; r = nx) {
		nx = r->next;
		if (g_ngot < MAX_GOT)
			g_got[g_ngot++] = r;
		else
			result_free(r);
	}
}

/* The Nth (0-based) result of KIND for CALL/SEQ collected so far, or NULL. */
static struct result *find(uint64_t call, unsigned seq, int kind, int nth)
{
	for (int i = 0; i < g_ngot; i++)
		if (g_got[i]->call_id == call && g_got[i]->seq == seq && g_got[i]->kind == kind &&
		    nth-- == 0)
			return g_got[i];
	return NULL;
}

static int count_call(uint64_t call)
{
	int n = 0;

	for (int i = 0; i < g_ngot; i++)
		n += g_got[i]->call_id == call;
	return n;
}

static struct result *wait_done(uint64_t call, unsigned seq, int ms)
{
	int64_t end = resq_now_us() + (int64_t)ms * 1000;
	struct result *d;

	while (!(d = find(call, seq, RESULT_TURN_DONE, 0)) && resq_now_us() < end)
		collect((int)((end - resq_now_us()) / 1000) + 1);
	return d;
}

static const char *verb_text(const struct result *r)
{
	const struct turn_verb *v = r ? r->data : NULL;

	return v ? v->text : NULL;
}

/* --- the stub ----------------------------------------------------------------------------- */

static struct stub g_stub = {-1, 0};
static int g_port;
static char g_log[256];

static int turn_stub_start(void)
{
	const char *script = getenv("TURNSRV");
	const char *argv[] = {script ? script : "tests/stubs/turnsrv.py", "--port", "0",
			      "--token", TOKEN, "--url-base", "http://127.0.0.1:{port}",
			      "--url-base", "http://turn.example.test:{port}", "--log", g_log, NULL};
	int rc = stub_start(&g_stub, argv);

	g_port = g_stub.port;
	return rc;
}

/* The stub's JSON line for a request to PATH containing WANT, or 0. */
static int log_has(const char *want)
{
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *f = fopen(g_log, "r");

	while (f && !found && getline(&line, &cap, f) > 0)
		found = strstr(line, want) != NULL;
	free(line);
	if (f)
		fclose(f);
	return found;
}

/* --- tests -------------------------------------------------------------------------------- */

static char g_base[64];

static struct turnclient *client(int timeout_ms, const char *token, const char *connect_to)
{
	struct config cfg;
	char err[256];
	struct turnclient *tc;

	config_defaults(&cfg);
	snprintf(cfg.auth_token, sizeof(cfg.auth_token), "%s", token);
	snprintf(cfg.turn_connect_to, sizeof(cfg.turn_connect_to), "%s", connect_to);
	cfg.turn_timeout_ms = timeout_ms;
	cfg.max_turn_bytes = 65536;
	/* Texts may fill the body: /huge must meet the body limit, not the <Say> one. */
	cfg.max_say_chars = 65536;
	tc = turnclient_new(&cfg, g_q, err, sizeof(err));
	if (!tc)
		printf("# turnclient_new: %s\n", err);
	return tc;
}

static int post(struct turnclient *tc, uint64_t call, unsigned seq, const char *path)
{
	static const char *const kv[] = { "CallSid", "CA0123", "TurnEvent", "start", NULL };
	char url[256];

	snprintf(url, sizeof(url), "%s%s", g_base, path);
	return turnclient_post(tc, call, seq, url, kv);
}

static void test_ok(struct turnclient *tc)
{
	int64_t t0 = resq_now_us();
	struct result *h, *v, *d;

	CHECK(post(tc, 1, 1, "/ok") == 0);
	d = wait_done(1, 1, 5000);
	h = find(1, 1, RESULT_TURN_HEAD, 0);
	v = find(1, 1, RESULT_TURN_VERB, 0);
	CHECK(h && h->a == 200);
	CHECK(h && strncmp(h->text, "text/xml", 8) == 0);
	CHECK(v && v->a == 0 && ((struct turn_verb *)v->data)->kind == TV_SAY);
	CHECK_STR(verb_text(v), "Hello.");
	CHECK(find(1, 1, RESULT_TURN_VERB, 1) == NULL);
	CHECK(d && d->a == 0 && d->text[0] == '\0');
	CHECK(d && d->len == strlen("<Response><Say>Hello.</Say></Response>"));
	CHECK(h && v && d && h->t_us <= v->t_us && v->t_us <= d->t_us);
	if (h && v)
		printf("# /ok: POST -> HEAD %.2f ms (b = %ld), -> first verb %.2f ms\n",
		       (double)(h->t_us - t0) / 1000.0, h->b, (double)(v->t_us - t0) / 1000.0);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Warm numbers (connection reused): the median of 21 turns, for the report. */
static void measure_ok(struct turnclient *tc)
{
	int64_t head[21], verb[21];
	int n = 0;

	for (unsigned i = 0; i < 21; i++) {
		int64_t t0 = resq_now_us();
		struct result *h, *v;

		if (post(tc, 9, i, "/ok") != 0 || !wait_done(9, i, 5000))
			break;
		h = find(9, i, RESULT_TURN_HEAD, 0);
		v = find(9, i, RESULT_TURN_VERB, 0);
		if (!h || !v)
			break;
		head[n] = h->t_us - t0;
		verb[n++] = v->t_us - t0;
	}
	CHECK(n == 21);
	if (n != 21)
		return;
	qsort(head, 21, sizeof(head[0]), cmp_i64);
	qsort(verb, 21, sizeof(verb[0]), cmp_i64);
	printf("# /ok warm, median of 21: POST -> HEAD %.2f ms, -> first verb %.2f ms "
	       "(max %.2f / %.2f)\n", (double)head[10] / 1000.0, (double)verb[10] / 1000.0,
	       (double)head[20] / 1000.0, (double)verb[20] / 1000.0);
}

static void test_stream(struct turnclient *tc)
{
	struct result *v1, *v2, *d;

	CHECK(post(tc, 2, 1, "/stream") == 0);
	d = wait_done(2, 1, 6000);
	v1 = find(2, 1, RESULT_TURN_VERB, 0);
	v2 = find(2, 1, RESULT_TURN_VERB, 1);
	CHECK_STR(verb_text(v1), "First.");
	CHECK_STR(verb_text(v2), "Second.");
	CHECK(v2 && v2->a == 1);
	CHECK(d && d->a == 0);
	/* Streaming, not buffered: the first verb came with the first chunk, ~1.5 s early. */
	CHECK(v1 && d && d->t_us - v1->t_us >= 1000000);
	if (v1 && d)
		printf("# /stream: first verb %lld ms before DONE\n",
		       (long long)(d->t_us - v1->t_us) / 1000);
}

/* Odd bytes in fields, in an order that is not sorted: the stub decodes and re-signs. */
static void test_signature(struct turnclient *tc)
{
	static const char *const kv[] = {
		"TurnEvent", "dtmf", "Digits", "42", "From", "+1 555&x=y%z", "SpeechResult",
		"caf\xc3\xa9 \"q\"", "Empty", "", NULL };
	char url[256], want[512];
	struct result *d;

	snprintf(url, sizeof(url), "%s/echo-fields?x=1&y=a%%20b", g_base);
	CHECK(turnclient_post(tc, 3, 1, url, kv) == 0);
	d = wait_done(3, 1, 5000);
	CHECK(d && d->a == 0);
	CHECK_STR(verb_text(find(3, 1, RESULT_TURN_VERB, 0)), "event dtmf digits 42");
	snprintf(want, sizeof(want),
		 "\"url\": \"%s/echo-fields?x=1&y=a%%20b\", \"fields\": [[\"TurnEvent\", \"dtmf\"], "
		 "[\"Digits\", \"42\"], [\"From\", \"+1 555&x=y%%z\"], [\"SpeechResult\", "
		 "\"caf\\u00e9 \\\"q\\\"\"], [\"Empty\", \"\"]], \"sig\": \"ok\"", g_base);
	CHECK_MSG(log_has(want), "stub verified the signature over the exact URL and fields");
	if (!log_has(want))
		printf("#   want: %s\n", want);
	CHECK(log_has("\"user_agent\": \"callpipe-ws\", \"accept\": \"text/xml, application/xml\", "
		      "\"content_type\": \"application/x-www-form-urlencoded\""));
}

static void test_connect_to(void)
{
	char ct[64], url[128], want[256];
	struct turnclient *tc;
	struct result *d;
	static const char *const kv[] = { "TurnEvent", "start", NULL };

	snprintf(ct, sizeof(ct), "127.0.0.1:%d", g_port);
	tc = client(5000, TOKEN, ct);
	CHECK(tc != NULL);
	if (!tc)
		return;
	snprintf(url, sizeof(url), "http://turn.example.test:%d/ok?via=connect_to", g_port);
	CHECK(turnclient_post(tc, 4, 1, url, kv) == 0);
	d = wait_done(4, 1, 5000);
	CHECK(d && d->a == 0);
	if (d && d->a)
		printf("#   %s\n", d->text);
	CHECK_STR(verb_text(find(4, 1, RESULT_TURN_VERB, 0)), "Hello.");
	snprintf(want, sizeof(want), "\"url\": \"%s\", \"fields\": [[\"TurnEvent\", \"start\"]], "
		 "\"sig\": \"ok\", \"host\": \"turn.example.test:%d\"", url, g_port);
	CHECK_MSG(log_has(want), "connect_to: signed over the example URL, Host kept");
	turnclient_free(tc);
}

struct fail_case {
	const char *path;
	int head;            /* status expected in HEAD, 0: no HEAD */
	const char *text;    /* DONE text (prefix when it ends in '*') */
};

static void test_failures(struct turnclient *tc, struct turnclient *tc_short,
			  struct turnclient *tc_badsig)
{
	static const struct fail_case cases[] = {
		{ "/status/500", 500, "HTTP 500" },
		{ "/html", 200, "content type text/html is not TwiML" },
		{ "/broken", 200, "line *" },
		{ "/nowhere", 404, "HTTP 404" },
	};
	struct result *d, *h;
	char msg[160];
	unsigned seq = 1;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++, seq++) {
		const struct fail_case *c = &cases[i];
		size_t n = strlen(c->text);

		CHECK(post(tc, 5, seq, c->path) == 0);
		d = wait_done(5, seq, 5000);
		h = find(5, seq, RESULT_TURN_HEAD, 0);
		snprintf(msg, sizeof(msg), "%s: HEAD %d, DONE -1 \"%s\"", c->path, c->head, c->text);
		CHECK_MSG(h && h->a == c->head && d && d->a == -1 &&
			  (c->text[n - 1] == '*' ? strncmp(d->text, c->text, n - 1) == 0
						  : strcmp(d->text, c->text) == 0), msg);
		if (d)
			printf("#   %s -> \"%s\"\n", c->path, d->text);
		CHECK(find(5, seq, RESULT_TURN_VERB, 0) == NULL);
	}

	/* The stub refuses a wrong signature with 403: the header is really checked. */
	CHECK(post(tc_badsig, 5, seq, "/ok") == 0);
	d = wait_done(5, seq, 5000);
	CHECK(d && d->a == -1 && strcmp(d->text, "HTTP 403") == 0);
	seq++;

	/* A turn that never answers ends at turn_timeout_ms (500). */
	CHECK(post(tc_short, 5, seq, "/hang") == 0);
	d = wait_done(5, seq, 5000);
	CHECK(d && d->a == -1);
	CHECK_STR(d ? d->text : NULL, "timed out after 500 ms");
	CHECK(d && d->b >= 450 && d->b <= 1500);
	if (d)
		printf("#   /hang -> \"%s\" after %ld ms\n", d->text, d->b);
	seq++;

	/* Slowloris: one byte a second never beats the whole-turn timeout. */
	CHECK(post(tc_short, 5, seq, "/slowloris") == 0);
	d = wait_done(5, seq, 5000);
	CHECK(d && d->a == -1 && strcmp(d->text, "timed out after 500 ms") == 0);
	seq++;

	/* 100 MB offered: stopped at max_turn_bytes, quickly, without holding the body. */
	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	CHECK(post(tc, 5, seq, "/huge") == 0);
	d = wait_done(5, seq, 10000);
	getrusage(RUSAGE_SELF, &ru1);
	CHECK(d && d->a == -1);
	CHECK_STR(d ? d->text : NULL, "body over 65536 bytes");
	CHECK(d && d->b < 2000);
	CHECK(d && d->len > 65536 && d->len <= 65536 + 2 * CURL_MAX_WRITE_SIZE);
	CHECK(ru1.ru_maxrss - ru0.ru_maxrss < 32 * 1024);   /* KiB */
	if (d)
		printf("#   /huge -> \"%s\" after %ld ms, %zu bytes read\n", d->text, d->b, d->len);
	seq++;

	/* Nothing listens on port 9 (discard) on a test machine. */
	static const char *const kv[] = { "TurnEvent", "start", NULL };
	CHECK(turnclient_post(tc, 5, seq, "http://127.0.0.1:9/ok", kv) == 0);
	d = wait_done(5, seq, 5000);
	CHECK(d && d->a == -1);
	CHECK_STR(d ? d->text : NULL, "connection refused (127.0.0.1:9)");
	CHECK(find(5, seq, RESULT_TURN_HEAD, 0) == NULL);
	seq++;

	/* Exactly one DONE per turn, whatever went wrong. */
	for (unsigned s = 1; s < seq; s++) {
		snprintf(msg, sizeof(msg), "call 5 turn %u: one DONE", s);
		CHECK_MSG(find(5, s, RESULT_TURN_DONE, 0) && !find(5, s, RESULT_TURN_DONE, 1), msg);
	}
}

static void test_cancel(struct turnclient *tc, struct turnclient *tc_short)
{
	int n;

	/* In flight: the transfer is connected and waiting. */
	CHECK(post(tc_short, 6, 1, "/hang") == 0);
	collect(200);
	turnclient_cancel(tc_short, 6);
	collect(0);
	n = count_call(6);
	collect(1000);   /* past the 500 ms timeout a DONE would have come by now */
	collect(0);
	CHECK_MSG(count_call(6) == n, "/hang cancelled: nothing after cancel returned");

	/* Mid-stream: the first verb is in, cancel before the second. */
	CHECK(post(tc, 7, 1, "/stream") == 0);
	while (!find(7, 1, RESULT_TURN_VERB, 0) && !find(7, 1, RESULT_TURN_DONE, 0))
		collect(3000);
	turnclient_cancel(tc, 7);
	collect(0);
	n = count_call(7);
	collect(2500);
	collect(0);
	CHECK_MSG(count_call(7) == n && !find(7, 1, RESULT_TURN_DONE, 0),
		  "/stream cancelled after its first verb: no second verb, no DONE");

	/* Before the thread even saw it; then the same call posts again and is served. */
	CHECK(post(tc, 8, 1, "/ok") == 0);
	turnclient_cancel(tc, 8);
	CHECK(post(tc, 8, 2, "/ok") == 0);
	CHECK(wait_done(8, 2, 5000) != NULL);
	collect(200);
	CHECK(count_call(8) > 0 && find(8, 1, RESULT_TURN_DONE, 0) == NULL &&
	      find(8, 1, RESULT_TURN_HEAD, 0) == NULL);
}

static void test_parallel(struct turnclient *tc)
{
	static const char *const kv_a[] = { "TurnEvent", "dtmf", "Digits", "111", NULL };
	static const char *const kv_b[] = { "TurnEvent", "speech", "Digits", "222", NULL };
	char url[128];
	struct result *ds, *da, *db;

	CHECK(post(tc, 20, 1, "/stream") == 0);
	snprintf(url, sizeof(url), "%s/echo-fields", g_base);
	CHECK(turnclient_post(tc, 21, 1, url, kv_a) == 0);
	CHECK(turnclient_post(tc, 22, 1, url, kv_b) == 0);
	ds = wait_done(20, 1, 6000);
	da = find(21, 1, RESULT_TURN_DONE, 0);
	db = find(22, 1, RESULT_TURN_DONE, 0);
	CHECK(ds && da && db && ds->a == 0 && da->a == 0 && db->a == 0);
	CHECK_STR(verb_text(find(21, 1, RESULT_TURN_VERB, 0)), "event dtmf digits 111");
	CHECK_STR(verb_text(find(22, 1, RESULT_TURN_VERB, 0)), "event speech digits 222");
	CHECK(!find(21, 1, RESULT_TURN_VERB, 1) && !find(22, 1, RESULT_TURN_VERB, 1));
	/* In parallel: the quick ones did not wait behind the 1.5 s stream. */
	CHECK(ds && da && db && da->t_us < ds->t_us - 500000 && db->t_us < ds->t_us - 500000);
}

int main(void)
{
	struct turnclient *tc, *tc_short, *tc_badsig;
	char dir[] = "/tmp/test_turnclient.XXXXXX";

	/* The program's job, per turnclient.h: once, before any thread. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	turnparse_init();
	if (!mkdtemp(dir)) {
		CHECK_MSG(0, "mkdtemp");
		return check_done();
	}
	snprintf(g_log, sizeof(g_log), "%s/turns.jsonl", dir);
	if (turn_stub_start() != 0) {
		CHECK_MSG(0, "turnsrv.py started (python3 tests/stubs/turnsrv.py from the repo root)");
		stub_stop(&g_stub);
		check_rmdir_flat(dir);
		return check_done();
	}
	snprintf(g_base, sizeof(g_base), "http://127.0.0.1:%d", g_port);
	g_q = resq_new(MAX_GOT, on_wake, NULL);
	tc = client(5000, TOKEN, "");
	tc_short = client(500, TOKEN, "");
	tc_badsig = client(5000, "not-the-token", "");
	CHECK(g_q && tc && tc_short && tc_badsig);
	if (g_q && tc && tc_short && tc_badsig) {
		test_ok(tc);
		measure_ok(tc);
		test_stream(tc);
		test_signature(tc);
		test_connect_to();
		test_failures(tc, tc_short, tc_badsig);
		test_cancel(tc, tc_short);
		test_parallel(tc);
		CHECK(resq_dropped(g_q) == 0);
	}
	turnclient_free(tc);
	turnclient_free(tc_short);
	turnclient_free(tc_badsig);
	/* Nothing is pushed once free has returned. */
	collect(0);
	for (int i = 0; i < g_ngot; i++)
		result_free(g_got[i]);
	resq_free(g_q);
	stub_stop(&g_stub);
	check_rmdir_flat(dir);
	curl_global_cleanup();
	return check_done();
}
