/* check: `callpipe-fcgi --check`: load and cross-check the config, then render every
 * template with sample values and parse it with libxml2; problems as "file:line: message".
 * Incoming-call templates must start a stream, turn templates use agent verbs only. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "check.h"
#include "config.h"
#include "form.h"
#include "route.h"
#include "tmpl.h"

/* More templates than anyone keeps in one directory; the rest are not checked (and said). */
#define CHECK_MAX_FILES 4096
/* XML errors kept per template (only the first is printed). */
#define CHECK_MAX_XML_ERRORS 4

/* What a real incoming call carries (docs/PROTOCOL.md §1.1), plus the
 * status callbacks' and the turns' parameters (docs/AGENT.md "Turns"), so any template renders
 * as it would in production. A turn template gets its own TurnEvent on top. */
static const char sample_params[] =
	"CallSid=CA0123456789abcdef0123456789abcdef"
	"&AccountSid=AC0123456789abcdef0123456789abcdef"
	"&From=%2B15551234567&To=%2B15557654321"
	"&Caller=%2B15551234567&Called=%2B15557654321"
	"&CallStatus=ringing&Direction=inbound&ApiVersion=2010-04-01"
	"&CallerName=Sample+Caller&FromCity=SPRINGFIELD&FromState=IL&FromZip=62701"
	"&FromCountry=US&ToCity=SPRINGFIELD&ToState=IL&ToZip=62701&ToCountry=US"
	"&CallToken=sample-token"
	"&StreamSid=MZ0123456789abcdef0123456789abcdef&StreamName=sample"
	"&StreamEvent=stream-started&Timestamp=2026-11-24T10%3A15%3A02Z"
	"&CallDuration=42"
	"&TurnIndex=1&TurnEvent=start&SpeechResult=sample+words&Confidence=0.90&Digits=42"
	"&Language=en-US&Interrupted=false&InterruptedAfterMs=0";

/* docs/AGENT.md: the events a turn is posted for, and the verbs callpipe-ws plays; the
 * prompts a <Gather> may nest. */
static const char *const turn_events[] = { "start", "speech", "dtmf", "timeout" };
static const char *const turn_verbs[] = { "Say", "Play", "Pause", "Gather", "Hangup",
					  "Redirect", NULL };
static const char *const gather_verbs[] = { "Say", "Play", "Pause", NULL };

/* What a template is, from its name (router.c and route_incoming.c pick files by name). */
enum tmpl_kind {
	KIND_OTHER,
	KIND_INCOMING,        /* incoming_call.xml, incoming_call.DIGITS.xml */
	KIND_INCOMING_AGENT,  /* incoming_call_agent.xml, incoming_call_agent.DIGITS.xml */
	KIND_TURN,            /* turn_EVENT.xml, turn_EVENT.DIGITS.xml */
};

static int problems, warnings;

/* What {{stream_token}} renders to under --check: a value no request parameter has, so
 * finding it in a Parameter proves the template asks for the computed token. */
#define CHECK_TOKEN_MARK "v1.0.check-stream-token"

__attribute__((format(printf, 3, 4)))
static void problem(const char *file, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		fprintf(stderr, "%s:%d: %s\n", file, line, msg);
	else
		fprintf(stderr, "%s: %s\n", file, msg);
	problems++;
}

struct xml_errors {
	int n;
	int line[CHECK_MAX_XML_ERRORS];
	char msg[CHECK_MAX_XML_ERRORS][256];
};

static void collect_xml_error(void *ctx, xmlErrorPtr e)
{
	struct xml_errors *xe = ctx;
	size_t len;

	if (!e || e->level < XML_ERR_ERROR || xe->n >= CHECK_MAX_XML_ERRORS)
		return;
	xe->line[xe->n] = e->line;
	snprintf(xe->msg[xe->n], sizeof(xe->msg[0]), "%s", e->message ? e->message : "error");
	/* Some messages go on with a second line of context; the first says it. */
	xe->msg[xe->n][strcspn(xe->msg[xe->n], "\n")] = '\0';
	len = strlen(xe->msg[xe->n]);
	while (len && (xe->msg[xe->n][len - 1] == '\n' || xe->msg[xe->n][len - 1] == ' '))
		xe->msg[xe->n][--len] = '\0';
	xe->n++;
}

static xmlNodePtr child_element(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, BAD_CAST name) == 0)
			return c;
	}
	return NULL;
}

/* The incoming-call template must start a bidirectional stream (docs/PROTOCOL.md
 * §2.1): <Response><Connect><Stream url="wss://…">. */
static void check_stream(const char *path, xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), connect, stream;
	xmlChar *url;

	if (!root || xmlStrcmp(root->name, BAD_CAST "Response") != 0) {
		problem(path, root ? (int)xmlGetLineNo(root) : 1,
			"the root element is <%s>; TwiML needs <Response>",
			root ? (const char *)root->name : "");
		return;
	}
	connect = child_element(root, "Connect");
	if (!connect) {
		problem(path, (int)xmlGetLineNo(root),
			"<Response> has no <Connect>: the call needs "
			"<Connect><Stream url=\"{{stream_url}}\">");
		return;
	}
	stream = child_element(connect, "Stream");
	if (!stream) {
		problem(path, (int)xmlGetLineNo(connect),
			"<Connect> has no <Stream>: the call needs "
			"<Connect><Stream url=\"{{stream_url}}\">");
		return;
	}
	url = xmlGetProp(stream, BAD_CAST "url");
	if (!url) {
		problem(path, (int)xmlGetLineNo(stream), "<Stream> has no url attribute");
		return;
	}
	if (xmlStrncmp(url, BAD_CAST "wss://", 6) != 0 && xmlStrncmp(url, BAD_CAST "ws://", 5) != 0)
		problem(path, (int)xmlGetLineNo(stream),
			"<Stream url=\"%s\">: the url must start with wss:// (or ws://; "
			"{{stream_url}} is right)", (const char *)url);
	else if (xmlStrchr(url, '?'))
		problem(path, (int)xmlGetLineNo(stream),
			"<Stream url=\"%s\">: Twilio drops query strings from stream URLs; "
			"use <Parameter name=… value=…/>", (const char *)url);
	xmlFree(url);
}

/* Every <Stream> (Connect or Start, anywhere) must carry
 * <Parameter name="callpipe_token" value="{{stream_token}}"/> when callpipe-ws checks
 * tokens: without it the helper refuses the stream with 1008 (docs/WS.md "Stream
 * binding"). A warning, not a problem: a Stream may point at another server. */
static void check_token_param(const char *path, xmlNodePtr node)
{
	for (; node; node = node->next) {
		xmlNodePtr p;
		int found = 0;

		if (node->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(node->name, BAD_CAST "Stream") == 0) {
			for (p = node->children; p && !found; p = p->next) {
				xmlChar *name, *value;

				if (p->type != XML_ELEMENT_NODE ||
				    xmlStrcmp(p->name, BAD_CAST "Parameter") != 0)
					continue;
				name = xmlGetProp(p, BAD_CAST "name");
				value = xmlGetProp(p, BAD_CAST "value");
				found = name && value &&
					xmlStrcmp(name, BAD_CAST STREAMTOK_PARAM) == 0 &&
					xmlStrcmp(value, BAD_CAST CHECK_TOKEN_MARK) == 0;
				xmlFree(name);
				xmlFree(value);
			}
			if (!found) {
				fprintf(stderr, "%s:%d: warning: <Stream> has no <Parameter name=\""
					STREAMTOK_PARAM "\" value=\"{{stream_token}}\"/>: with "
					"[twilio] validate = yes callpipe-ws refuses the stream "
					"(1008, stream not bound to a signed call)\n", path,
					(int)xmlGetLineNo(node));
				warnings++;
			}
		}
		check_token_param(path, node->children);
	}
}

static int has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The kind of template NAME is; for a turn, EVENT gets the part between "turn_" and the
 * next dot (which may be no event at all: the caller reports that). */
static enum tmpl_kind classify(const char *name, char *event, size_t cap)
{
	if (has_prefix(name, "incoming_call."))
		return KIND_INCOMING;
	if (has_prefix(name, "incoming_call_agent."))
		return KIND_INCOMING_AGENT;
	if (has_prefix(name, "turn_")) {
		size_t n = strcspn(name + 5, ".");

		if (n >= cap)
			n = cap - 1;
		memcpy(event, name + 5, n);
		event[n] = '\0';
		return KIND_TURN;
	}
	return KIND_OTHER;
}

static int known_event(const char *event)
{
	for (size_t i = 0; i < sizeof(turn_events) / sizeof(turn_events[0]); i++) {
		if (strcmp(event, turn_events[i]) == 0)
			return 1;
	}
	return 0;
}

static int in_list(const xmlChar *name, const char *const *list)
{
	for (size_t i = 0; list[i]; i++) {
		if (xmlStrcmp(name, BAD_CAST list[i]) == 0)
			return 1;
	}
	return 0;
}

/* A turn's answer (docs/AGENT.md "Verbs"): <Response> with the agent's TwiML subset. callpipe-ws
 * skips anything else with a warning; here it is a problem, since it never plays. */
static void check_turn(const char *path, xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);

	if (!root || xmlStrcmp(root->name, BAD_CAST "Response") != 0) {
		problem(path, root ? (int)xmlGetLineNo(root) : 1,
			"the root element is <%s>; a turn answers <Response>",
			root ? (const char *)root->name : "");
		return;
	}
	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!in_list(c->name, turn_verbs)) {
			problem(path, (int)xmlGetLineNo(c),
				"<%s> is not a verb of agent mode (Say, Play, Pause, Gather, Hangup, "
				"Redirect): callpipe-ws skips it", (const char *)c->name);
			continue;
		}
		if (xmlStrcmp(c->name, BAD_CAST "Gather") != 0)
			continue;
		for (xmlNodePtr g = c->children; g; g = g->next) {
			if (g->type == XML_ELEMENT_NODE && !in_list(g->name, gather_verbs))
				problem(path, (int)xmlGetLineNo(g),
					"<%s> inside <Gather>: its prompts are Say, Play and Pause "
					"only", (const char *)g->name);
		}
	}
}

/* tmpl errors read "line N: message"; print them as path:N: message. */
static void render_problem(const char *path, const char *err)
{
	if (strncmp(err, "line ", 5) == 0) {
		char *end;
		long line = strtol(err + 5, &end, 10);

		if (end != err + 5 && *end == ':' && line > 0 && line < 1000000000L) {
			end++;
			while (*end == ' ')
				end++;
			problem(path, (int)line, "%s", end);
			return;
		}
	}
	problem(path, 0, "%s", err);
}

static void check_template(const struct config *cfg, const struct form *sample,
			   const char *dir, const char *name)
{
	char path[CONFIG_STR_MAX + 300], err[256], event[64], turn[96];
	struct route_vars vars;
	struct xml_errors xe;
	struct form *own = NULL;
	char *text = NULL, *out = NULL;
	enum tmpl_kind kind = classify(name, event, sizeof(event));
	size_t len;
	long n;
	int errnum;
	xmlDocPtr doc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (kind == KIND_TURN && !known_event(event)) {
		problem(path, 0, "no turn is ever \"%s\": turn templates are turn_start.xml, "
			"turn_speech.xml, turn_dtmf.xml and turn_timeout.xml (or turn_EVENT.DIGITS.xml)",
			event);
		return;
	}
	if (kind == KIND_TURN) {
		/* The event the file answers, over the sample's. */
		int tn = snprintf(turn, sizeof(turn), "TurnEvent=%s", event);

		own = form_parse(turn, tn > 0 ? (size_t)tn : 0, err, sizeof(err));
	}
	if (route_template_read(path, &text, &len, &errnum, err, sizeof(err)) != 0) {
		problem(path, 0, "%s", err);
		return;
	}
	out = malloc(TMPL_OUT_MAX);
	if (!out) {
		problem(path, 0, "out of memory");
		goto done;
	}
	if (own)
		route_vars_init(&vars, cfg, own, sample);
	else
		route_vars_init(&vars, cfg, sample, NULL);
	snprintf(vars.stream_token, sizeof(vars.stream_token), "%s", CHECK_TOKEN_MARK);
	n = tmpl_render(text, len, route_vars_lookup, &vars, out, TMPL_OUT_MAX, err, sizeof(err));
	if (n < 0) {
		render_problem(path, err);
		goto done;
	}
	if (n == 0) {
		problem(path, 1, "the template renders to nothing (an empty file?)");
		goto done;
	}
	/* Values carry no newline, so a line of the result is the same line of the
	 * template: libxml2's line numbers point into the file the user edits. */
	memset(&xe, 0, sizeof(xe));
	xmlResetLastError();
	xmlSetStructuredErrorFunc(&xe, collect_xml_error);
	doc = xmlReadMemory(out, (int)n, path, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlSetStructuredErrorFunc(NULL, NULL);
	/* The first error only: the ones after it are mostly its echoes. */
	if (xe.n > 0)
		problem(path, xe.line[0], "not well-formed XML: %s", xe.msg[0]);
	if (!doc) {
		if (xe.n == 0) {
			const xmlError *last = xmlGetLastError();

			problem(path, last ? last->line : 0, "not well-formed XML: %s",
				last && last->message ? last->message : "parse failed");
		}
		goto done;
	}
	if (cfg->validate)
		check_token_param(path, xmlDocGetRootElement(doc));
	if (kind == KIND_INCOMING || kind == KIND_INCOMING_AGENT)
		check_stream(path, doc);
	else if (kind == KIND_TURN)
		check_turn(path, doc);
	xmlFreeDoc(doc);
done:
	form_free(own);
	free(out);
	free(text);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_xml_suffix(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".xml") == 0 && name[0] != '.';
}

/* Whether the turn POSTs come to our own /webhook/turn ([agent] turn_url empty, or that
 * URL spelled out), so that the turn templates answer them. */
static int turns_are_ours(const struct config *cfg)
{
	size_t n = strlen(cfg->public_url);

	if (!cfg->turn_url[0])
		return 1;
	return strncmp(cfg->turn_url, cfg->public_url, n) == 0 &&
	       strcmp(cfg->turn_url + n, "/webhook/turn") == 0;
}

/* A template the configured mode answers from, missing: a problem. */
static void require(const char *dir, char *const *names, size_t count, const char *name,
		    const char *why)
{
	char path[CONFIG_STR_MAX + 64];

	for (size_t i = 0; i < count; i++) {
		if (strcmp(names[i], name) == 0)
			return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	problem(path, 0, "missing: %s", why);
}

/* One line per template checked, once all is well: what it was checked as, and whether
 * the configured mode uses it. */
static void report(const char *name, int agent)
{
	char event[64];

	switch (classify(name, event, sizeof(event))) {
	case KIND_INCOMING:
		printf("checked %s: incoming call, <Connect><Stream url=\"ws(s)://...\">%s\n", name,
		       agent ? " (not used: [ws] mode = agent)" : "");
		break;
	case KIND_INCOMING_AGENT:
		printf("checked %s: incoming call in agent mode, <Connect><Stream url=\"ws(s)://...\">"
		       "%s\n", name, agent ? "" : " (used when [ws] mode = agent)");
		break;
	case KIND_TURN:
		printf("checked %s: turn, TurnEvent=%s, agent verbs only\n", name, event);
		break;
	default:
		printf("checked %s: well-formed XML (no route answers from it by name)\n", name);
		break;
	}
}

static size_t check_templates(const struct config *cfg, const char *dir)
{
	char err[256];
	struct form *sample = form_parse(sample_params, sizeof(sample_params) - 1, err,
					 sizeof(err));
	char **names = NULL;
	size_t count = 0;
	int agent = strcmp(route_incoming_stem(cfg), "incoming_call_agent") == 0;
	DIR *d;

	if (!sample) {
		problem("callpipe-fcgi", 0, "internal error: sample parameters: %s", err);
		return 0;
	}
	d = opendir(dir);
	if (!d) {
		problem(dir, 0, "cannot open the templates directory ([fcgi] templates): %s",
			strerror(errno));
		form_free(sample);
		return 0;
	}
	names = calloc(CHECK_MAX_FILES, sizeof(*names));
	for (struct dirent *e; names && (e = readdir(d));) {
		char path[CONFIG_STR_MAX + 300];
		struct stat st;

		if (!has_xml_suffix(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (count == CHECK_MAX_FILES) {
			problem(dir, 0, "more than %d templates; the rest were not checked",
				CHECK_MAX_FILES);
			break;
		}
		names[count] = strdup(e->d_name);
		if (names[count])
			count++;
	}
	closedir(d);
	if (names)
		qsort(names, count, sizeof(*names), cmp_names);
	for (size_t i = 0; i < count; i++)
		check_template(cfg, sample, dir, names[i]);
	/* The files the configured mode answers every call (and every turn) from. */
	if (!agent) {
		require(dir, names, count, "incoming_call.xml",
			"every call without an override is answered from it");
	} else {
		require(dir, names, count, "incoming_call_agent.xml",
			"with [ws] mode = agent every call without an override is answered from it");
		for (size_t i = 0; turns_are_ours(cfg) && i < sizeof(turn_events) /
		     sizeof(turn_events[0]); i++) {
			char name[32];

			snprintf(name, sizeof(name), "turn_%s.xml", turn_events[i]);
			require(dir, names, count, name,
				"/webhook/turn answers the agent's turns from it ([agent] turn_url)");
		}
	}
	for (size_t i = 0; i < count; i++) {
		if (!problems)
			report(names[i], agent);
		free(names[i]);
	}
	free(names);
	form_free(sample);
	xmlCleanupParser();
	return count;
}

int fcgi_check_run(const char *path)
{
	struct config cfg;
	char err[1024];
	size_t n;

	problems = 0;
	warnings = 0;
	if (path) {
		if (config_load(&cfg, path, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			fprintf(stderr, "callpipe-fcgi --check: 1 problem\n");
			return 1;
		}
	} else {
		config_defaults(&cfg);
	}
	if (config_check(&cfg, err, sizeof(err)) != 0)
		problem(path ? path : "(defaults: no -c and no CALLPIPE_CONF)", 0, "%s", err);
	n = check_templates(&cfg, cfg.templates_dir);
	if (problems) {
		fprintf(stderr, "callpipe-fcgi --check: %d problem%s\n", problems,
			problems == 1 ? "" : "s");
		return 1;
	}
	printf("callpipe-fcgi --check: OK: %s, %zu template%s in %s render to well-formed TwiML"
	       "%s\n", path ? path : "built-in defaults", n, n == 1 ? "" : "s", cfg.templates_dir,
	       warnings ? " (with warnings on stderr)" : "");
	return 0;
}
