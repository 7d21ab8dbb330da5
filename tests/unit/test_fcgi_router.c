/* test_fcgi_router: route_request driven directly (no libfcgi): every route, every error
 * status and its order, signatures, templates and overrides, agent mode's turns and
 * incoming call, and the call-log lines. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calllog.h"
#include "check.h"
#include "config.h"
/* fcgi/check.h: tests/unit/check.h has the same name and comes first. */
#include "../../fcgi/check.h"
#include "form.h"
#include "request.h"
#include "ratelimit.h"
#include "route.h"
#include "twsig.h"

#define PUB "https://voice.example.test"
#define TOKEN "tok-0123456789"
#define FORM "application/x-www-form-urlencoded"

static char base[256], tpl_dir[300], log_dir[300], empty_dir[300];
static struct config cfg;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void spit(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static char *call_log(const char *sid)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.log", log_dir, sid);
	return slurp(path);
}

static int file_count(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* X-Twilio-Signature of a POST: URL plus the decoded body parameters (GET: BODY NULL). */
static void sign(const char *url, const char *body, char out[TWSIG_LEN + 1])
{
	struct twsig_param params[FORM_MAX_PAIRS];
	struct form *f = NULL;
	size_t n = 0;
	char err[128];

	if (body) {
		f = form_parse(body, strlen(body), err, sizeof(err));
		for (size_t i = 0; f && i < form_count(f); i++) {
			params[n].name = form_at(f, i)->name;
			params[n].value = form_at(f, i)->value;
			n++;
		}
	}
	if (twsig_compute(TOKEN, url, params, n, out) != 0)
		out[0] = '\0';
	form_free(f);
}

/* Captured stderr of the last request. */
static char errout[8192];

static int run(const struct config *c, const char *method, const char *uri, const char *ctype,
	       const char *body, const char *sig, struct response *resp)
{
	struct request req;
	char tmp[512];
	int saved, fd, rc;
	ssize_t n;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.request_uri = uri;
	req.content_type = ctype;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.content_length = body ? (long long)strlen(body) : -1;
	req.signature = sig;
	req.remote_addr = "127.0.0.1";

	snprintf(tmp, sizeof(tmp), "%s/stderr", base);
	fflush(stderr);
	saved = dup(2);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
	rc = route_request(c, &req, resp);
	dup2(saved, 2);
	close(saved);
	fd = open(tmp, O_RDONLY);
	n = fd >= 0 ? read(fd, errout, sizeof(errout) - 1) : -1;
	errout[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return rc;
}

/* A signed POST to PATH (+ query) with BODY: the common case. */
static int post_signed(const char *uri, const char *body, struct response *resp)
{
	char url[1024], sig[TWSIG_LEN + 1];

	snprintf(url, sizeof(url), "%s%s", PUB, uri);
	sign(url, body, sig);
	return run(&cfg, "POST", uri, FORM, body, sig, resp);
}

static int has(const char *hay, const char *needle)
{
	return hay && needle && strstr(hay, needle) != NULL;
}

static const char *const shipped_names[] = {
	"incoming_call.xml", "incoming_call_agent.xml", "turn_start.xml", "turn_speech.xml",
	"turn_dtmf.xml", "turn_timeout.xml",
};

static void setup(void)
{
	char err[256], *shipped;

	snprintf(base, sizeof(base), "%s/callpipe-router-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	CHECK(mkdtemp(base) != NULL);
	snprintf(tpl_dir, sizeof(tpl_dir), "%s/templates", base);
	snprintf(log_dir, sizeof(log_dir), "%s/calls", base);
	snprintf(empty_dir, sizeof(empty_dir), "%s/empty", base);
	mkdir(tpl_dir, 0755);
	mkdir(empty_dir, 0755);
	CHECK(calllog_prepare_dir(log_dir, err, sizeof(err)) == 0);

	/* The shipped templates (tests run from the top of the tree), and a few overrides. */
	for (size_t i = 0; i < sizeof(shipped_names) / sizeof(shipped_names[0]); i++) {
		char src[128], msg[160];

		snprintf(src, sizeof(src), "twiml-templates/%s", shipped_names[i]);
		snprintf(msg, sizeof(msg), "the shipped %s is readable", src);
		shipped = slurp(src);
		CHECK_MSG(shipped != NULL, msg);
		spit(tpl_dir, shipped_names[i], shipped ? shipped : "");
		free(shipped);
	}
	spit(tpl_dir, "incoming_call_agent.15550000001.xml",
	     "<?xml version=\"1.0\"?>\n<Response><Say>agent override for {{To}}</Say></Response>\n");
	spit(tpl_dir, "turn_dtmf.15550000001.xml",
	     "<Response><Say>override {{Digits}} for {{To}}</Say></Response>\n");
	spit(tpl_dir, "turn_speech.15550000500.xml", "<Response>{{ broken\n");
	spit(tpl_dir, "incoming_call.15550000001.xml",
	     "<?xml version=\"1.0\"?>\n<Response><Say>override for {{To}}</Say></Response>\n");
	spit(tpl_dir, "incoming_call.15550000500.xml", "<Response>{{ broken\n");

	config_defaults(&cfg);
	snprintf(cfg.public_url, sizeof(cfg.public_url), "%s", PUB);
	snprintf(cfg.auth_token, sizeof(cfg.auth_token), "%s", TOKEN);
	cfg.validate = 1;
	snprintf(cfg.log_dir, sizeof(cfg.log_dir), "%s", log_dir);
	snprintf(cfg.templates_dir, sizeof(cfg.templates_dir), "%s", tpl_dir);
	cfg.max_body = 65536;
}

#define SID1 "CA0123456789abcdef0123456789abcdef"
#define CALL1 "CallSid=" SID1 "&AccountSid=AC0123456789abcdef0123456789abcdef" \
	"&From=%2B15551234567&To=%2B15557654321&CallStatus=ringing&Direction=inbound" \
	"&ApiVersion=2010-04-01"

static void test_incoming_call(void)
{
	struct response r;
	char *log;

	CHECK(post_signed("/webhook/incoming_call", CALL1, &r) == 0);
	CHECK(r.status == 200);
	CHECK_STR(r.content_type, "text/xml");
	CHECK(r.body && r.body_len == strlen(r.body));
	CHECK(has(r.body, "<Stream url=\"wss://voice.example.test/ws/twilio-media\""));
	CHECK(has(r.body, "statusCallback=\"https://voice.example.test/webhook/stream_status\""));
	CHECK(has(r.body, "<Parameter name=\"From\" value=\"+15551234567\"/>"));
	CHECK(has(r.body, "<Parameter name=\"To\" value=\"+15557654321\"/>"));
	CHECK(has(r.body, "<Parameter name=\"CallSid\" value=\"" SID1 "\"/>"));
	CHECK(has(r.body, "<Say>The stream has ended. Goodbye.</Say>"));
	CHECK(!has(r.body, "{{"));
	CHECK(r.allow[0] == '\0');
	CHECK(errout[0] == '\0');
	response_free(&r);

	log = call_log(SID1);
	CHECK_MSG(log != NULL, "incoming_call made the call's log");
	CHECK(has(log, " fcgi incoming_call from=+15551234567 to=+15557654321 call_status=ringing "
		  "direction=inbound sig=ok template=incoming_call.xml\n"));
	free(log);

	/* A parameter Twilio adds tomorrow: accepted, and signed over like the rest. */
	CHECK(post_signed("/webhook/incoming_call", CALL1 "&SomethingNew2027=surprise", &r) == 0);
	CHECK(r.status == 200);
	response_free(&r);
	{
		char url[256], sig[TWSIG_LEN + 1];

		snprintf(url, sizeof(url), "%s/webhook/incoming_call", PUB);
		sign(url, CALL1, sig);
		run(&cfg, "POST", "/webhook/incoming_call", FORM, CALL1 "&SomethingNew2027=x", sig,
		    &r);
		CHECK_MSG(r.status == 403, "a parameter added after signing: 403");
		response_free(&r);
	}

	/* GET: the parameters ride in the query string, which the signed URL holds. */
	{
		const char *uri = "/webhook/incoming_call?" CALL1;
		char url[1024], sig[TWSIG_LEN + 1];

		snprintf(url, sizeof(url), "%s%s", PUB, uri);
		sign(url, NULL, sig);
		CHECK(run(&cfg, "GET", uri, NULL, NULL, sig, &r) == 0);
		CHECK(r.status == 200);
		CHECK(has(r.body, "<Parameter name=\"From\" value=\"+15551234567\"/>"));
		response_free(&r);
		/* Signed as if it were a POST of the same parameters: wrong. */
		sign(url, CALL1, sig);
		run(&cfg, "GET", uri, NULL, NULL, sig, &r);
		CHECK_MSG(r.status == 403, "a GET signed with parameters appended: 403");
		response_free(&r);
	}

	/* Content-Type parameters and case do not matter. */
	{
		char url[256], sig[TWSIG_LEN + 1];

		snprintf(url, sizeof(url), "%s/webhook/incoming_call", PUB);
		sign(url, CALL1, sig);
		run(&cfg, "POST", "/webhook/incoming_call",
		    "Application/X-WWW-Form-Urlencoded; charset=UTF-8", CALL1, sig, &r);
		CHECK_MSG(r.status == 200, "Content-Type with charset, any case: 200");
		response_free(&r);
	}
}

static void test_templates(void)
{
	struct response r;
	char *log, name[64];

	CHECK(post_signed("/webhook/incoming_call",
			  "CallSid=" SID1 "&From=%2B15551234567&To=%2B1+555+000-0001", &r) == 0);
	CHECK(has(r.body, "override for +1 555 000-0001"));
	response_free(&r);
	log = call_log(SID1);
	CHECK(has(log, "template=incoming_call.15550000001.xml"));
	free(log);

	/* A number without an override gets the default. */
	CHECK(post_signed("/webhook/incoming_call", "CallSid=" SID1 "&To=%2B15559999999", &r) == 0);
	CHECK(has(r.body, "<Connect>"));
	response_free(&r);

	/* An override that does not render: 500, and the file and reason in the log. */
	post_signed("/webhook/incoming_call", "CallSid=" SID1 "&To=%2B15550000500", &r);
	CHECK(r.status == 500);
	CHECK_STR(r.content_type, "text/plain; charset=utf-8");
	CHECK(has(r.body, "template"));
	response_free(&r);
	log = call_log(SID1);
	CHECK(has(log, "fcgi http_error status=500 reason=\"template cannot be rendered\""));
	CHECK(has(log, "incoming_call.15550000500.xml"));
	CHECK(has(log, "unterminated"));
	free(log);
	CHECK(has(errout, "callpipe-fcgi: 500 template cannot be rendered"));

	/* No default template at all: 500 naming the file. */
	{
		struct config c = cfg;

		snprintf(c.templates_dir, sizeof(c.templates_dir), "%s", empty_dir);
		c.validate = 0;
		run(&c, "POST", "/webhook/incoming_call", FORM, "CallSid=" SID1 "&To=%2B1", NULL,
		    &r);
		CHECK(r.status == 500);
		CHECK(has(errout, "incoming_call.xml"));
		CHECK(has(errout, "No such file"));
		response_free(&r);
	}

	/* A hostile From is escaped wherever it lands. */
	CHECK(post_signed("/webhook/incoming_call",
			  "CallSid=" SID1 "&From=%3Cx%3E%26%22%27&To=%2B15557654321", &r) == 0);
	CHECK(has(r.body, "<Parameter name=\"From\" value=\"&lt;x&gt;&amp;&quot;&apos;\"/>"));
	CHECK(!has(r.body, "<x>"));
	response_free(&r);

	/* The override name: digits of To only, at most 20. */
	CHECK(route_template_override("incoming_call", "+15557654321", name, sizeof(name)) == 1);
	CHECK_STR(name, "incoming_call.15557654321.xml");
	CHECK(route_template_override("incoming_call", "../+1/2", name, sizeof(name)) == 1);
	CHECK_STR(name, "incoming_call.12.xml");
	CHECK(route_template_override("incoming_call", "anonymous", name, sizeof(name)) == 0);
	CHECK(route_template_override("incoming_call", "123456789012345678901", name,
				      sizeof(name)) == 0);
	CHECK(route_template_override("incoming_call", NULL, name, sizeof(name)) == 0);
	CHECK(route_template_override("turn_dtmf", "+1 555 000-0001", name, sizeof(name)) == 1);
	CHECK_STR(name, "turn_dtmf.15550000001.xml");
	CHECK(route_template_override("incoming_call_agent", "+15557654321", name,
				      sizeof(name)) == 1);
	CHECK_STR(name, "incoming_call_agent.15557654321.xml");

	/* http public URLs give ws:// streams. */
	{
		struct route_vars v;
		struct config c = cfg;

		snprintf(c.public_url, sizeof(c.public_url), "http://127.0.0.1:8080");
		route_vars_init(&v, &c, NULL, NULL);
		CHECK_STR(v.stream_url, "ws://127.0.0.1:8080/ws/twilio-media");
		CHECK_STR(v.call_status_url, "http://127.0.0.1:8080/webhook/call_status");
		CHECK_STR(route_vars_lookup(&v, "public_url", 10), "http://127.0.0.1:8080");
		CHECK(route_vars_lookup(&v, "Nope", 4) == NULL);
	}
	/* [twilio] stream_url replaces the derived stream URL, and nothing else. */
	{
		struct route_vars v;
		struct config c = cfg;

		snprintf(c.stream_url, sizeof(c.stream_url),
			 "wss://media.example.test:8443/ws/twilio-media");
		route_vars_init(&v, &c, NULL, NULL);
		CHECK_STR(route_vars_lookup(&v, "stream_url", 10),
			  "wss://media.example.test:8443/ws/twilio-media");
		CHECK_STR(v.status_callback_url, "https://voice.example.test/webhook/stream_status");
	}
}

/* The rendered TwiML of a deployment whose helper serves wss:// itself ([twilio] stream_url):
 * the Stream url is the override, the callbacks still go to public_url. */
static void test_stream_url_override(void)
{
	struct config saved = cfg;
	struct response r;

	snprintf(cfg.stream_url, sizeof(cfg.stream_url),
		 "wss://media.example.test:8443/ws/twilio-media");
	CHECK(post_signed("/webhook/incoming_call", CALL1, &r) == 0);
	CHECK(r.status == 200);
	CHECK(has(r.body, "<Stream url=\"wss://media.example.test:8443/ws/twilio-media\""));
	CHECK(!has(r.body, "wss://voice.example.test"));
	CHECK(has(r.body, "statusCallback=\"https://voice.example.test/webhook/stream_status\""));
	response_free(&r);
	cfg = saved;
}

#define SID2 "CAfedcba9876543210fedcba9876543210"

static void test_status_callbacks(void)
{
	struct response r;
	char *log;

	CHECK(post_signed("/webhook/stream_status",
			  "AccountSid=AC0123456789abcdef0123456789abcdef&CallSid=" SID2
			  "&StreamSid=MZ0123456789abcdef0123456789abcdef&StreamName=s1"
			  "&StreamEvent=stream-error"
			  "&StreamError=31920+Stream+-+WebSocket+-+Handshake+Error"
			  "&Timestamp=2026-11-24T10%3A15%3A02Z", &r) == 0);
	CHECK(r.status == 204);
	CHECK(r.body == NULL && r.body_len == 0 && r.content_type == NULL);
	response_free(&r);
	CHECK(post_signed("/webhook/stream_status", "CallSid=" SID2 "&StreamEvent=stream-started"
			  "&StreamSid=MZ0123456789abcdef0123456789abcdef", &r) == 0);
	CHECK(r.status == 204);
	response_free(&r);
	CHECK(post_signed("/webhook/call_status", "CallSid=" SID2 "&CallStatus=completed"
			  "&CallDuration=42", &r) == 0);
	CHECK(r.status == 204);
	response_free(&r);

	log = call_log(SID2);
	CHECK(has(log, " fcgi stream_status stream_event=stream-error "
		  "stream_sid=MZ0123456789abcdef0123456789abcdef stream_name=s1 "
		  "stream_error=\"31920 Stream - WebSocket - Handshake Error\" "
		  "timestamp=2026-11-24T10:15:02Z sig=ok\n"));
	CHECK(has(log, " fcgi stream_status stream_event=stream-started "
		  "stream_sid=MZ0123456789abcdef0123456789abcdef sig=ok\n"));
	CHECK(has(log, " fcgi call_status call_status=completed call_duration=42 sig=ok\n"));
	free(log);
}

static void expect(int got, int want, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %d", what, want);
	CHECK_MSG(got == want, msg);
	if (got != want)
		printf("#   got %d\n", got);
}

#define SID3 "CA11111111111111111111111111111111"

static void test_errors(void)
{
	struct response r;
	char url[256], sig[TWSIG_LEN + 1];
	struct request req;

	run(&cfg, "POST", "/webhook/no_such_route", FORM, CALL1, NULL, &r);
	expect(r.status, 404, "unknown route");
	CHECK(has(r.body, "404 Not Found"));
	CHECK(has(errout, "callpipe-fcgi: 404 unknown route method=POST "
		  "uri=/webhook/no_such_route remote=127.0.0.1\n"));
	response_free(&r);
	run(&cfg, "POST", "/webhook/incoming_call/", FORM, CALL1, NULL, &r);
	expect(r.status, 404, "a trailing slash is another route");
	response_free(&r);
	run(&cfg, "POST", NULL, FORM, CALL1, NULL, &r);
	expect(r.status, 404, "no REQUEST_URI");
	response_free(&r);
	run(&cfg, "GET", "/webhook/nope?/webhook/incoming_call", NULL, NULL, NULL, &r);
	expect(r.status, 404, "the query is not part of the route");
	response_free(&r);

	run(&cfg, "GET", "/webhook/stream_status", NULL, NULL, NULL, &r);
	expect(r.status, 405, "GET stream_status");
	CHECK_STR(r.allow, "POST");
	response_free(&r);
	run(&cfg, "PUT", "/webhook/incoming_call", FORM, CALL1, NULL, &r);
	expect(r.status, 405, "PUT incoming_call");
	CHECK_STR(r.allow, "GET, POST");
	response_free(&r);
	run(&cfg, "post", "/webhook/call_status", FORM, CALL1, NULL, &r);
	expect(r.status, 405, "methods are case-sensitive");
	CHECK_STR(r.allow, "POST");
	response_free(&r);
	run(&cfg, NULL, "/webhook/call_status", FORM, CALL1, NULL, &r);
	expect(r.status, 405, "no REQUEST_METHOD");
	response_free(&r);

	/* 413 from CONTENT_LENGTH alone (the body was never read), and from bytes read. */
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.request_uri = "/webhook/incoming_call";
	req.content_type = "application/json";
	req.content_length = 70000;
	req.body_state = REQUEST_BODY_TOO_LARGE;
	route_request(&cfg, &req, &r);
	expect(r.status, 413, "CONTENT_LENGTH over max_body (before 415)");
	response_free(&r);
	req.request_uri = "/webhook/other";
	route_request(&cfg, &req, &r);
	expect(r.status, 404, "404 before 413");
	response_free(&r);
	req.request_uri = "/webhook/stream_status";
	req.method = "GET";
	route_request(&cfg, &req, &r);
	expect(r.status, 405, "405 before 413");
	response_free(&r);
	req.method = "POST";
	req.content_length = 65537;
	req.body_state = REQUEST_BODY_OK;
	route_request(&cfg, &req, &r);
	expect(r.status, 413, "CONTENT_LENGTH max_body + 1");
	response_free(&r);
	req.content_length = -1;
	req.body_state = REQUEST_BODY_TOO_LARGE;
	route_request(&cfg, &req, &r);
	expect(r.status, 413, "more bytes than max_body without CONTENT_LENGTH");
	response_free(&r);
	req.content_type = FORM;
	req.body_state = REQUEST_BODY_BAD_LENGTH;
	route_request(&cfg, &req, &r);
	expect(r.status, 400, "CONTENT_LENGTH not a number");
	response_free(&r);
	req.body_state = REQUEST_BODY_SHORT;
	req.body = "CallSid=" SID1;
	req.body_len = strlen(req.body);
	route_request(&cfg, &req, &r);
	expect(r.status, 400, "body shorter than CONTENT_LENGTH");
	response_free(&r);

	run(&cfg, "POST", "/webhook/incoming_call", "application/json", "{}", NULL, &r);
	expect(r.status, 415, "JSON body");
	CHECK(has(errout, "content_type=application/json"));
	response_free(&r);
	run(&cfg, "POST", "/webhook/incoming_call", NULL, CALL1, NULL, &r);
	expect(r.status, 415, "no Content-Type");
	response_free(&r);
	run(&cfg, "POST", "/webhook/incoming_call", FORM "x", CALL1, NULL, &r);
	expect(r.status, 415, "a longer type that starts the same");
	response_free(&r);
	run(&cfg, "GET", "/webhook/incoming_call?" CALL1, "application/json", NULL, "x", &r);
	expect(r.status, 403, "a GET's Content-Type does not matter");
	response_free(&r);

	run(&cfg, "POST", "/webhook/incoming_call", FORM, "CallSid=" SID1 "&From=%zz", NULL, &r);
	expect(r.status, 400, "malformed form (before the signature)");
	CHECK(has(r.body, "malformed form"));
	response_free(&r);
	run(&cfg, "POST", "/webhook/incoming_call?a=%g0", FORM, CALL1, NULL, &r);
	expect(r.status, 400, "malformed query string");
	response_free(&r);

	CHECK(post_signed("/webhook/incoming_call", "From=%2B15551234567", &r) != 0);
	expect(r.status, 400, "missing CallSid");
	CHECK(has(r.body, "missing CallSid"));
	response_free(&r);
	post_signed("/webhook/incoming_call", "CallSid=CA123&From=%2B1", &r);
	expect(r.status, 400, "short CallSid");
	response_free(&r);
	post_signed("/webhook/call_status", "CallSid=" SID1 "0", &r);
	expect(r.status, 400, "CallSid one digit too long");
	response_free(&r);

	/* A traversal attempt: 400, and nothing made anywhere. */
	{
		int before = file_count(log_dir), parent = file_count(base);
		char path[512];

		post_signed("/webhook/incoming_call", "CallSid=CA..%2F..%2Fetc%2Fpasswd&To=%2B1",
			    &r);
		expect(r.status, 400, "CallSid CA../../etc/passwd");
		response_free(&r);
		post_signed("/webhook/stream_status", "CallSid=CA..%2F..%2Fpwned", &r);
		expect(r.status, 400, "CallSid CA../../pwned");
		response_free(&r);
		CHECK_MSG(file_count(log_dir) == before, "no file in the log dir");
		CHECK_MSG(file_count(base) == parent, "no file next to it");
		snprintf(path, sizeof(path), "%s/../pwned.log", log_dir);
		CHECK(access(path, F_OK) != 0);
		/* Unsigned, the same is a 403: the signature is checked first. */
		run(&cfg, "POST", "/webhook/stream_status", FORM, "CallSid=CA..%2F..%2Fpwned", NULL,
		    &r);
		expect(r.status, 403, "unsigned traversal attempt");
		response_free(&r);
	}

	/* Signatures. */
	snprintf(url, sizeof(url), "%s/webhook/incoming_call", PUB);
	run(&cfg, "POST", "/webhook/incoming_call", FORM, CALL1, NULL, &r);
	expect(r.status, 403, "no signature");
	CHECK(has(r.body, "missing signature"));
	CHECK(has(errout, "callpipe-fcgi: 403 missing signature"));
	response_free(&r);
	run(&cfg, "POST", "/webhook/incoming_call", FORM, CALL1, "", &r);
	expect(r.status, 403, "empty signature");
	response_free(&r);
	run(&cfg, "POST", "/webhook/incoming_call", FORM, CALL1, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	    &r);
	expect(r.status, 403, "bad signature");
	CHECK(has(r.body, "bad signature"));
	CHECK(has(errout, "callpipe-fcgi: 403 bad signature method=POST "
		  "uri=/webhook/incoming_call signed_url=https://voice.example.test/webhook/"
		  "incoming_call params=CallSid,AccountSid,From,To,CallStatus,Direction,"
		  "ApiVersion"));
	CHECK_MSG(!has(errout, TOKEN), "the token never reaches stderr");
	{
		char *log = call_log(SID1);

		/* SID1 has a log already: an unsigned request still never writes into it. */
		CHECK_MSG(log && !has(log, "status=403"), "the rejection stays out of the call log");
		CHECK_MSG(!has(log, TOKEN), "the token never reaches the call log");
		free(log);
	}
	response_free(&r);

	/* Signed over the loopback URL (what a proxy sees): 403. */
	sign("http://127.0.0.1:8080/webhook/incoming_call", CALL1, sig);
	run(&cfg, "POST", "/webhook/incoming_call", FORM, CALL1, sig, &r);
	expect(r.status, 403, "signed over the wrong URL");
	response_free(&r);
	/* Signed with another token. */
	{
		struct config c = cfg;
		char good[TWSIG_LEN + 1];

		sign(url, CALL1, good);
		snprintf(c.auth_token, sizeof(c.auth_token), "another-token");
		run(&c, "POST", "/webhook/incoming_call", FORM, CALL1, good, &r);
		expect(r.status, 403, "signed with another token");
		response_free(&r);
	}
	/* Twilio's port forms: the URL with :443 signs too. */
	sign("https://voice.example.test:443/webhook/incoming_call", CALL1, sig);
	run(&cfg, "POST", "/webhook/incoming_call", FORM, CALL1, sig, &r);
	expect(r.status, 200, "signed over the URL with :443");
	response_free(&r);
	/* The query string is part of the signed URL, exactly as sent. */
	sign(PUB "/webhook/incoming_call?a=1&b=%2F", CALL1, sig);
	run(&cfg, "POST", "/webhook/incoming_call?a=1&b=%2F", FORM, CALL1, sig, &r);
	expect(r.status, 200, "signed with the query as sent");
	response_free(&r);
	run(&cfg, "POST", "/webhook/incoming_call?a=1&b=/", FORM, CALL1, sig, &r);
	expect(r.status, 403, "the query decoded is another URL");
	response_free(&r);

	/* A rejected request for a call without a log creates none. */
	run(&cfg, "POST", "/webhook/stream_status", FORM, "CallSid=" SID3 "&StreamEvent=x", "bad",
	    &r);
	expect(r.status, 403, "bad signature for a new call");
	response_free(&r);
	CHECK_MSG(call_log(SID3) == NULL, "an unsigned request creates no call log");

	/* Validation on but no token (a handmade config): refuse, never sign with "". */
	{
		struct config c = cfg;

		c.auth_token[0] = '\0';
		run(&c, "POST", "/webhook/incoming_call", FORM, CALL1, "x", &r);
		expect(r.status, 500, "validate=yes without a token");
		response_free(&r);
	}
}


/* docs/AGENT.md "Turns": every field always present, empty when it does not apply. */
#define SID6 "CA66666666666666666666666666666666"
#define SID7 "CA77777777777777777777777777777777"
#define SID5 "CA55555555555555555555555555555555"
#define TURN_BASE "AccountSid=AC0123456789abcdef0123456789abcdef&CallSid=" SID5 \
	"&StreamSid=MZ0123456789abcdef0123456789abcdef&From=%2B15551234567" \
	"&Language=en-US&Interrupted=false&InterruptedAfterMs=0"
#define TURN_COMMON TURN_BASE "&To=%2B15557654321"
#define TURN(idx, ev, speech, conf, digits) TURN_COMMON "&TurnIndex=" idx "&TurnEvent=" ev \
	"&SpeechResult=" speech "&Confidence=" conf "&Digits=" digits

static void test_turn(void)
{
	static const struct {
		const char *body;
		const char *want;        /* in the TwiML */
		const char *log;         /* the call-log line, after the timestamp */
	} ok_rows[] = {
		{ TURN("0", "start", "", "", ""),
		  "<Gather input=\"dtmf speech\" finishOnKey=\"#\" timeout=\"5\" speechTimeout=\"auto\"\n"
		  "          hints=\"go forward ten meters, go back ten meters, turn left, turn right, stop\">\n"
		  "    <Say>Hello, this is callpipe. Say go forward ten meters, or press some keys, "
		  "then the pound key.</Say>\n"
		  "  </Gather>",
		  " fcgi turn index=0 event=start sig=ok\n" },
		{ TURN("1", "dtmf", "", "", "42"),
		  "<Say>You pressed 42.</Say>\n  <Gather ",
		  " fcgi turn index=1 event=dtmf digits=42 sig=ok\n" },
		{ TURN("2", "speech", "hello+world", "0.87", ""),
		  "speechTimeout=\"auto\"\n          hints=\"go forward ten meters, go back ten meters, "
		  "turn left, turn right, stop\">\n    <Say>You said hello world.</Say>\n  </Gather>",
		  " fcgi turn index=2 event=speech speech=\"hello world\" sig=ok\n" },
		{ TURN("3", "timeout", "", "", ""),
		  "<Gather input=\"dtmf speech\" finishOnKey=\"#\" timeout=\"5\" speechTimeout=\"auto\"\n"
		  "          hints=\"go forward ten meters, go back ten meters, turn left, turn right, stop\">\n"
		  "    <Say>Are you still there?</Say>\n  </Gather>",
		  " fcgi turn index=3 event=timeout sig=ok\n" },
		/* A hostile value is escaped like any other. */
		{ TURN("4", "dtmf", "", "", "%3Cx%3E%26%22"),
		  "<Say>You pressed &lt;x&gt;&amp;&quot;.</Say>",
		  " fcgi turn index=4 event=dtmf digits=\"<x>&\\\"\" sig=ok\n" },
		/* The per-number override, keyed on To as incoming_call's is. */
		{ TURN_BASE "&TurnIndex=5&TurnEvent=dtmf&Digits=7&To=%2B15550000001",
		  "<Response><Say>override 7 for +15550000001</Say></Response>",
		  " fcgi turn index=5 event=dtmf digits=7 sig=ok\n" },
		/* Parameters beyond the contract (customParameters) are variables too. */
		{ TURN("6", "speech", "yes", "0.5", "") "&Extra=1",
		  "<Say>You said yes.</Say>",
		  " fcgi turn index=6 event=speech speech=yes sig=ok\n" },
	};
	static const struct {
		const char *body;
		int status;
		const char *why;         /* in the body */
	} bad_rows[] = {
		{ TURN("1", "hangup", "", "", ""), 400, "unknown TurnEvent" },
		{ TURN("1", "Start", "", "", ""), 400, "unknown TurnEvent" },
		{ TURN("1", "..%2F..%2Fincoming_call", "", "", ""), 400, "unknown TurnEvent" },
		{ TURN("1", "", "", "", ""), 400, "missing TurnEvent" },
		{ TURN_COMMON "&TurnIndex=1", 400, "missing TurnEvent" },
		{ "TurnEvent=start&CallSid=CA123", 400, "malformed CallSid" },
		{ "TurnEvent=start&From=%2B1", 400, "missing CallSid" },
		{ TURN_BASE "&TurnEvent=speech&To=%2B15550000500", 500, "template" },
	};
	struct response r;
	char *log;

	for (size_t i = 0; i < sizeof(ok_rows) / sizeof(ok_rows[0]); i++) {
		char msg[160];

		snprintf(msg, sizeof(msg), "turn row %zu: 200 text/xml", i);
		post_signed("/webhook/turn", ok_rows[i].body, &r);
		CHECK_MSG(r.status == 200 && r.content_type &&
			  strcmp(r.content_type, "text/xml") == 0, msg);
		snprintf(msg, sizeof(msg), "turn row %zu: the TwiML has the expected text", i);
		CHECK_MSG(has(r.body, ok_rows[i].want), msg);
		if (!has(r.body, ok_rows[i].want))
			printf("#   got: %s\n", r.body ? r.body : "(null)");
		CHECK_MSG(!has(r.body, "{{") && !has(r.body, "<x>"), "no braces or raw markup left");
		response_free(&r);
		log = call_log(SID5);
		snprintf(msg, sizeof(msg), "turn row %zu: the log has%s", i, ok_rows[i].log);
		msg[strcspn(msg, "\n")] = '\0';
		CHECK_MSG(has(log, ok_rows[i].log), msg);
		free(log);
	}
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		char msg[160];

		post_signed("/webhook/turn", bad_rows[i].body, &r);
		snprintf(msg, sizeof(msg), "turn bad row %zu: %d %s", i, bad_rows[i].status,
			 bad_rows[i].why);
		CHECK_MSG(r.status == bad_rows[i].status && has(r.body, bad_rows[i].why), msg);
		if (r.status != bad_rows[i].status)
			printf("#   got %d: %s", r.status, r.body ? r.body : "");
		response_free(&r);
	}
	CHECK(has(errout, "callpipe-fcgi: 500 template cannot be rendered"));
	CHECK(has(errout, "turn_speech.15550000500.xml"));
	log = call_log(SID5);
	CHECK(has(log, "fcgi http_error status=400 reason=\"unknown TurnEvent (want start, speech, "
		  "dtmf or timeout)\" method=POST uri=/webhook/turn turn_event=hangup\n"));
	free(log);

	/* GET is not a turn. */
	run(&cfg, "GET", "/webhook/turn?" TURN("1", "start", "", "", ""), NULL, NULL, NULL, &r);
	expect(r.status, 405, "GET turn");
	CHECK_STR(r.allow, "POST");
	response_free(&r);
	/* The checks before the signature, as for incoming_call. */
	run(&cfg, "POST", "/webhook/turn", "application/json", "{}", NULL, &r);
	expect(r.status, 415, "turn with a JSON body");
	response_free(&r);
	run(&cfg, "POST", "/webhook/turn", FORM, TURN("1", "dtmf", "", "", "%zz"), NULL, &r);
	expect(r.status, 400, "turn with a malformed form");
	response_free(&r);

	/* Unsigned or badly signed: 403 whatever it carries, and no log made for the call. */
	{
		static const char *const sigs[] = { NULL, "", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" };
		char url[256], good[TWSIG_LEN + 1];

		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
			run(&cfg, "POST", "/webhook/turn", FORM,
			    "CallSid=" SID6 "&TurnIndex=0&TurnEvent=start", sigs[i], &r);
			expect(r.status, 403, "unsigned or badly signed turn");
			response_free(&r);
			run(&cfg, "POST", "/webhook/turn", FORM,
			    "CallSid=" SID6 "&TurnIndex=0&TurnEvent=bogus", sigs[i], &r);
			expect(r.status, 403, "unsigned turn with a bad TurnEvent: 403 first");
			response_free(&r);
		}
		CHECK(has(errout, "signed_url=https://voice.example.test/webhook/turn"));
		/* Signed for incoming_call, replayed at the turn URL. */
		snprintf(url, sizeof(url), "%s/webhook/incoming_call", PUB);
		sign(url, "CallSid=" SID6 "&TurnIndex=0&TurnEvent=start", good);
		run(&cfg, "POST", "/webhook/turn", FORM, "CallSid=" SID6 "&TurnIndex=0&TurnEvent=start",
		    good, &r);
		expect(r.status, 403, "a signature for another URL");
		response_free(&r);
		CHECK_MSG(call_log(SID6) == NULL, "an unsigned turn writes no call log");
	}
}

static void test_agent_mode(void)
{
	struct config c = cfg;
	struct response r;
	const char *connect_end, *hangup;
	char *log;

	snprintf(c.mode, sizeof(c.mode), "agent");
	CHECK_STR(route_incoming_stem(&c), "incoming_call_agent");
	CHECK_STR(route_incoming_stem(&cfg), "incoming_call");
	{
		char url[256], sig[TWSIG_LEN + 1];

		snprintf(url, sizeof(url), "%s/webhook/incoming_call", PUB);
		sign(url, "CallSid=" SID7 "&From=%2B15551234567&To=%2B15557654321", sig);
		CHECK(run(&c, "POST", "/webhook/incoming_call", FORM,
			  "CallSid=" SID7 "&From=%2B15551234567&To=%2B15557654321", sig, &r) == 0);
	}
	CHECK(r.status == 200);
	CHECK_STR(r.content_type, "text/xml");
	CHECK(has(r.body, "<Stream url=\"wss://voice.example.test/ws/twilio-media\" "
		  "statusCallback=\"https://voice.example.test/webhook/stream_status\">"));
	CHECK(has(r.body, "<Parameter name=\"From\" value=\"+15551234567\"/>"));
	CHECK(has(r.body, "<Parameter name=\"To\" value=\"+15557654321\"/>"));
	CHECK(has(r.body, "<Parameter name=\"CallSid\" value=\"" SID7 "\"/>"));
	connect_end = r.body ? strstr(r.body, "</Connect>") : NULL;
	hangup = r.body ? strstr(r.body, "<Hangup/>") : NULL;
	CHECK_MSG(connect_end && hangup && hangup > connect_end &&
		  strspn(connect_end + 10, " \t\r\n") == (size_t)(hangup - connect_end - 10),
		  "agent mode: <Hangup/> right after </Connect>");
	CHECK(has(r.body, "<Hangup/>\n</Response>"));
	CHECK(!has(r.body, "<Say>"));
	response_free(&r);
	log = call_log(SID7);
	CHECK(has(log, " fcgi incoming_call from=+15551234567 to=+15557654321 sig=ok "
		  "template=incoming_call_agent.xml\n"));
	free(log);

	/* The override in agent mode: incoming_call_agent.<digits of To>.xml; the echo
	 * mode's incoming_call.<digits>.xml is not used. */
	c.validate = 0;
	run(&c, "POST", "/webhook/incoming_call", FORM, "CallSid=" SID7 "&To=%2B15550000001", NULL,
	    &r);
	CHECK(has(r.body, "agent override for +15550000001"));
	response_free(&r);
	log = call_log(SID7);
	CHECK(has(log, "template=incoming_call_agent.15550000001.xml\n"));
	free(log);
	/* No agent template: 500 naming it (no fallback to the echo template). */
	snprintf(c.templates_dir, sizeof(c.templates_dir), "%s", empty_dir);
	run(&c, "POST", "/webhook/incoming_call", FORM, "CallSid=" SID7 "&To=%2B1", NULL, &r);
	CHECK(r.status == 500);
	CHECK(has(errout, "incoming_call_agent.xml"));
	response_free(&r);
}

#define SID4 "CA22222222222222222222222222222222"

static void test_validation_off(void)
{
	struct config c = cfg;
	struct response r;
	char *log;

	c.validate = 0;
	CHECK(run(&c, "POST", "/webhook/call_status", FORM, "CallSid=" SID4 "&CallStatus=busy",
		  NULL, &r) == 0);
	expect(r.status, 204, "validate=no, no signature");
	response_free(&r);
	run(&c, "POST", "/webhook/call_status", FORM, "CallSid=" SID4 "&CallStatus=failed", "junk",
	    &r);
	expect(r.status, 204, "validate=no, a junk signature");
	response_free(&r);
	log = call_log(SID4);
	CHECK(has(log, "call_status=busy sig=unchecked\n"));
	CHECK(has(log, "call_status=failed sig=unchecked\n"));
	free(log);
	/* Errors before the signature stage never create a log... */
	run(&c, "PUT", "/webhook/call_status", FORM, "CallSid=" SID3, NULL, &r);
	expect(r.status, 405, "405 with a CallSid");
	response_free(&r);
	CHECK(call_log(SID3) == NULL);
	/* ...nor go into one that exists: only a verified request touches a call's log. */
	run(&c, "PUT", "/webhook/call_status", FORM, "CallSid=" SID4, NULL, &r);
	response_free(&r);
	log = call_log(SID4);
	CHECK(!has(log, "http_error"));
	free(log);
}

/* fcgi_check_run on a config file; stdout and stderr both go to OUT. */
static int run_check(const char *conf, char *out, size_t cap)
{
	char tmp[512];
	int s1, s2, fd, rc;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), "%s/check.out", base);
	fflush(stdout);
	fflush(stderr);
	s1 = dup(1);
	s2 = dup(2);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	rc = fcgi_check_run(conf);
	fflush(stdout);
	dup2(s1, 1);
	dup2(s2, 2);
	close(s1);
	close(s2);
	fd = open(tmp, O_RDONLY);
	n = fd >= 0 ? read(fd, out, cap - 1) : -1;
	out[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return rc;
}

static void test_check(void)
{
	char dir[400], conf[400], text[1400], out[8192];

	/* The shipped templates in agent mode: all checked, each reported, exit 0. */
	snprintf(dir, sizeof(dir), "%s/check-templates", base);
	mkdir(dir, 0755);
	for (size_t i = 0; i < sizeof(shipped_names) / sizeof(shipped_names[0]); i++) {
		char src[128], *t;

		snprintf(src, sizeof(src), "twiml-templates/%s", shipped_names[i]);
		t = slurp(src);
		spit(dir, shipped_names[i], t ? t : "");
		free(t);
	}
	snprintf(conf, sizeof(conf), "%s/check.conf", base);
	snprintf(text, sizeof(text), "[twilio]\npublic_url = %s\nauth_token = %s\n[log]\ndir = %s\n"
		 "[fcgi]\ntemplates = %s\n[ws]\nmode = agent\n", PUB, TOKEN, log_dir, dir);
	spit(base, "check.conf", text);
	CHECK(run_check(conf, out, sizeof(out)) == 0);
	CHECK(has(out, "checked incoming_call_agent.xml: incoming call in agent mode"));
	CHECK(has(out, "checked turn_start.xml: turn, TurnEvent=start"));
	CHECK(has(out, "checked turn_speech.xml: turn, TurnEvent=speech"));
	CHECK(has(out, "checked turn_dtmf.xml: turn, TurnEvent=dtmf"));
	CHECK(has(out, "checked turn_timeout.xml: turn, TurnEvent=timeout"));
	CHECK(has(out, "checked incoming_call.xml: incoming call, <Connect><Stream url=\"ws(s)://...\"> "
		  "(not used: [ws] mode = agent)"));
	CHECK(has(out, "--check: OK: "));
	CHECK(has(out, "6 templates"));

	/* Turn templates with verbs the agent skips, a misspelled event, an agent template
	 * without a stream, and a turn template missing. */
	spit(dir, "turn_speech.15550000001.xml",
	     "<Response>\n<Dial>{{Digits}}</Dial>\n<Gather><Hangup/></Gather>\n</Response>\n");
	spit(dir, "turn_speach.xml", "<Response/>\n");
	spit(dir, "incoming_call_agent.15550000001.xml", "<Response>\n<Say>hi</Say>\n</Response>\n");
	snprintf(text, sizeof(text), "%s/turn_timeout.xml", dir);
	unlink(text);
	CHECK(run_check(conf, out, sizeof(out)) == 1);
	CHECK(has(out, "/turn_speech.15550000001.xml:2: <Dial> is not a verb of agent mode"));
	CHECK(has(out, "/turn_speech.15550000001.xml:3: <Hangup> inside <Gather>"));
	CHECK(has(out, "/turn_speach.xml: no turn is ever \"speach\""));
	CHECK(has(out, "/incoming_call_agent.15550000001.xml:1: <Response> has no <Connect>"));
	CHECK(has(out, "/turn_timeout.xml: missing: "));
	CHECK(has(out, "--check: 5 problems"));
	CHECK_MSG(!has(out, "checked "), "no per-template report when something is wrong");

	/* In echo mode the agent's files are not required. */
	snprintf(text, sizeof(text), "[twilio]\npublic_url = %s\nauth_token = %s\n[log]\ndir = %s\n"
		 "[fcgi]\ntemplates = %s\n", PUB, TOKEN, log_dir, empty_dir);
	spit(base, "check.conf", text);
	spit(empty_dir, "incoming_call.xml", "<Response><Connect><Stream url=\"{{stream_url}}\"/>"
	     "</Connect></Response>\n");
	CHECK(run_check(conf, out, sizeof(out)) == 0);
	snprintf(text, sizeof(text), "%s/incoming_call.xml", empty_dir);
	unlink(text);
}

static void cleanup(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", base);
}

/* Unauthenticated errors share the process's stderr limit; a verified request's are not
 * limited. The bucket's clock is moved back by hand instead of sleeping. */
static void test_stderr_limit(void)
{
	struct response r;
	int lines = 0, notice = 0, i;

	ratelimit_unauth.rate = 3;
	ratelimit_unauth.tokens = 3;
	ratelimit_unauth.last_ns = 0;
	for (i = 0; i < 10; i++) {
		run(&cfg, "POST", "/webhook/incoming_call", FORM, CALL1, NULL, &r);
		response_free(&r);
		lines += has(errout, "callpipe-fcgi: 403 missing signature");
		notice += has(errout, "callpipe-fcgi: stderr rate limit: over 3 lines/s, dropping");
	}
	CHECK_MSG(lines == 3 && notice == 1, "10 unsigned 403s at once: 3 lines and one notice");
	/* A signed request's error is not limited. */
	post_signed("/webhook/stream_status", "CallSid=CAnope", &r);
	response_free(&r);
	CHECK(has(errout, "callpipe-fcgi: 400 malformed CallSid"));
	ratelimit_unauth.last_ns -= 1000000000;   /* one second later */
	run(&cfg, "POST", "/webhook/incoming_call", FORM, CALL1, NULL, &r);
	response_free(&r);
	CHECK_MSG(has(errout, "callpipe-fcgi: stderr rate limit: 7 lines dropped\n"
		      "callpipe-fcgi: 403 missing signature"), "then the count, then the line");
	ratelimit_unauth.rate = 0;
}

int main(void)
{
	/* Every line of every request is checked below; the limit has its own test. */
	ratelimit_unauth.rate = 0;
	setup();
	test_incoming_call();
	test_stream_url_override();
	test_templates();
	test_status_callbacks();
	test_errors();
	test_validation_off();
	test_turn();
	test_agent_mode();
	test_check();
	test_stderr_limit();
	cleanup();
	return check_done();
}
