/* check: `callpipe-fcgi --check`: load and cross-check the config, then render every
 * template with sample values and parse it with libxml2; problems as "file:line: message". */
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

/* What a real incoming call carries (PROTOCOL.md, Incoming call webhook), plus the
 * status callbacks' parameters, so any template renders as it would in production. */
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
	"&CallDuration=42";

static int problems;

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

/* The incoming-call template must start a bidirectional stream (PROTOCOL.md, TwiML for
 * a bidirectional stream): <Response><Connect><Stream url="wss://…">. */
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

static int is_incoming_call(const char *name)
{
	return strncmp(name, "incoming_call.", 14) == 0;
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
	char path[CONFIG_STR_MAX + 300], err[256];
	struct route_vars vars;
	struct xml_errors xe;
	char *text = NULL, *out = NULL;
	size_t len;
	long n;
	int errnum;
	xmlDocPtr doc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (route_template_read(path, &text, &len, &errnum, err, sizeof(err)) != 0) {
		problem(path, 0, "%s", err);
		return;
	}
	out = malloc(TMPL_OUT_MAX);
	if (!out) {
		problem(path, 0, "out of memory");
		goto done;
	}
	route_vars_init(&vars, cfg, sample, NULL);
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
	if (is_incoming_call(name))
		check_stream(path, doc);
	xmlFreeDoc(doc);
done:
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

static size_t check_templates(const struct config *cfg, const char *dir)
{
	char err[256];
	struct form *sample = form_parse(sample_params, sizeof(sample_params) - 1, err,
					 sizeof(err));
	char **names = NULL;
	size_t count = 0;
	int have_default = 0;
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
	for (size_t i = 0; i < count; i++) {
		if (strcmp(names[i], "incoming_call.xml") == 0)
			have_default = 1;
		check_template(cfg, sample, dir, names[i]);
		free(names[i]);
	}
	free(names);
	if (!have_default) {
		char path[CONFIG_STR_MAX + 32];

		snprintf(path, sizeof(path), "%s/incoming_call.xml", dir);
		problem(path, 0, "missing: every call without an override is answered from it");
	}
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
	printf("callpipe-fcgi --check: OK: %s, %zu template%s in %s render to well-formed TwiML\n",
	       path ? path : "built-in defaults", n, n == 1 ? "" : "s", cfg.templates_dir);
	return 0;
}
