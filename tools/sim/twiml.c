/* twiml: parse the TwiML an incoming_call webhook answers with (libxml2) and check it the
 * way Twilio would before it opens a Media Stream (docs/PROTOCOL.md §2). */
#include "twiml.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlstring.h>

/* The verbs (and nouns used as verbs) Twilio's Voice TwiML knows at the top level. */
static const char *const known_verbs[] = {
	"Connect", "Dial", "Echo", "Enqueue", "Gather", "Hangup", "Leave", "Pause", "Pay",
	"Play", "Record", "Redirect", "Refer", "Reject", "Say", "Sms", "Start", "Stop",
	"Prompt", "Queue", NULL
};

static void issue(struct sim_twiml *t, int code, int fatal, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void issue(struct sim_twiml *t, int code, int fatal, const char *fmt, ...)
{
	struct sim_twiml_issue *is;
	va_list ap;

	if (t->nissues >= SIM_TWIML_ISSUES_MAX) {
		/* Keep the verdict right even when the list is full. */
		if (fatal)
			t->issues[SIM_TWIML_ISSUES_MAX - 1].fatal = 1;
		return;
	}
	is = &t->issues[t->nissues++];
	is->code = code;
	is->fatal = fatal;
	va_start(ap, fmt);
	vsnprintf(is->text, sizeof(is->text), fmt, ap);
	va_end(ap);
}

static int is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static void append_word(char *list, size_t cap, const char *w)
{
	size_t used = strlen(list);

	if (used + strlen(w) + 2 < cap)
		snprintf(list + used, cap - used, "%s%s", used ? " " : "", w);
}

/* Copy attribute NAME of N into OUT; 1 when present. */
static int attr(const xmlNode *n, const char *name, char *out, size_t cap)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);

	if (cap)
		out[0] = '\0';
	if (!v)
		return 0;
	snprintf(out, cap, "%s", (const char *)v);
	xmlFree(v);
	return 1;
}

static int starts_ci(const char *s, const char *p)
{
	return strncasecmp(s, p, strlen(p)) == 0;
}

static void check_url(struct sim_twiml *t)
{
	char *q;

	if (!t->url[0]) {
		issue(t, 0, 1, "<Stream> has no url attribute");
		return;
	}
	if (starts_ci(t->url, "ws://")) {
		issue(t, 31922, 0, "Stream url %s is ws://: Twilio dials only wss:// (31922); "
		      "the simulator dials it anyway", t->url);
	} else if (!starts_ci(t->url, "wss://")) {
		issue(t, 31922, 1, "Stream url \"%s\" is not wss:// (Twilio error 31922)", t->url);
		return;
	}
	snprintf(t->stream_url, sizeof(t->stream_url), "%s", t->url);
	q = strpbrk(t->stream_url, "?#");
	if (q) {
		issue(t, 0, 0, "Stream url query string \"%s\" is dropped by Twilio: pass values "
		      "with <Parameter> instead", q);
		*q = '\0';
	}
	if (!strchr(strstr(t->stream_url, "://") + 3, '/'))
		strncat(t->stream_url, "/", sizeof(t->stream_url) - strlen(t->stream_url) - 1);
}

static void parse_stream(struct sim_twiml *t, const xmlNode *s)
{
	static const char *const known_attrs[] = { "url", "name", "track", "statusCallback",
						   "statusCallbackMethod", NULL };
	const xmlAttr *a;
	const xmlNode *c;
	char method[64];
	size_t i;

	t->has_stream = 1;
	for (a = s->properties; a; a = a->next) {
		for (i = 0; known_attrs[i]; i++)
			if (strcmp((const char *)a->name, known_attrs[i]) == 0)
				break;
		if (!known_attrs[i])
			issue(t, 12200, 0, "<Stream> attribute \"%s\" is not one Twilio knows",
			      (const char *)a->name);
	}
	attr(s, "url", t->url, sizeof(t->url));
	attr(s, "name", t->name, sizeof(t->name));
	check_url(t);
	if (attr(s, "track", t->track, sizeof(t->track))) {
		if (t->bidirectional && strcmp(t->track, "inbound_track") != 0)
			issue(t, 31941, 1, "track=\"%s\": under <Connect> only inbound_track is "
			      "valid (Twilio error 31941)", t->track);
		else if (!t->bidirectional && strcmp(t->track, "inbound_track") &&
			 strcmp(t->track, "outbound_track") && strcmp(t->track, "both_tracks"))
			issue(t, 31941, 1, "track=\"%s\" is not inbound_track, outbound_track or "
			      "both_tracks (Twilio error 31941)", t->track);
	}
	if (attr(s, "statusCallback", t->status_callback, sizeof(t->status_callback)) &&
	    !starts_ci(t->status_callback, "http://") && !starts_ci(t->status_callback, "https://")) {
		issue(t, 0, 0, "statusCallback \"%s\" is not an absolute http(s) URL; no stream "
		      "events will be posted", t->status_callback);
		t->status_callback[0] = '\0';
	}
	snprintf(t->status_method, sizeof(t->status_method), "POST");
	if (attr(s, "statusCallbackMethod", method, sizeof(method))) {
		if (strcasecmp(method, "GET") == 0)
			snprintf(t->status_method, sizeof(t->status_method), "GET");
		else if (strcasecmp(method, "POST") != 0)
			issue(t, 0, 0, "statusCallbackMethod \"%.40s\" is not GET or POST; POST is "
			      "used", method);
	}
	for (c = s->children; c; c = c->next) {
		char name[SIM_TWIML_PARAM_BYTES * 2], value[SIM_TWIML_PARAM_BYTES * 2];
		int chars;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!is_elem(c, "Parameter")) {
			issue(t, 12200, 0, "<%s> inside <Stream> is not <Parameter>; ignored",
			      (const char *)c->name);
			continue;
		}
		if (!attr(c, "name", name, sizeof(name)) || !name[0]) {
			issue(t, 0, 1, "a <Parameter> has no name attribute");
			continue;
		}
		attr(c, "value", value, sizeof(value));
		/* Characters, not bytes: count UTF-8 code points. */
		chars = xmlUTF8Strlen((const xmlChar *)name) + xmlUTF8Strlen((const xmlChar *)value);
		if (chars >= SIM_TWIML_PARAM_MAX) {
			issue(t, 0, 1, "<Parameter name=\"%.40s\">: name+value is %d characters; "
			      "Twilio allows under %d", name, chars, SIM_TWIML_PARAM_MAX);
			continue;
		}
		if (t->nparams >= SIM_TWIML_PARAMS_MAX) {
			issue(t, 0, 1, "more than %d <Parameter>s", SIM_TWIML_PARAMS_MAX);
			break;
		}
		snprintf(t->params[t->nparams].name, SIM_TWIML_PARAM_BYTES, "%.2000s", name);
		snprintf(t->params[t->nparams].value, SIM_TWIML_PARAM_BYTES, "%.2000s", value);
		t->nparams++;
	}
}

static void walk_verbs(struct sim_twiml *t, const xmlNode *root)
{
	const xmlNode *v, *c;
	int found = 0;
	size_t i;

	for (v = root->children; v; v = v->next) {
		const char *name = (const char *)v->name;

		if (v->type != XML_ELEMENT_NODE)
			continue;
		for (i = 0; known_verbs[i]; i++)
			if (strcmp(name, known_verbs[i]) == 0)
				break;
		if (!known_verbs[i])
			issue(t, 12200, 0, "<%s> is not a TwiML verb Twilio knows", name);
		if (found) {
			append_word(t->after, sizeof(t->after), name);
			continue;
		}
		if (is_elem(v, "Connect") || is_elem(v, "Start")) {
			for (c = v->children; c; c = c->next)
				if (is_elem(c, "Stream"))
					break;
			if (c) {
				t->bidirectional = is_elem(v, "Connect");
				if (!t->bidirectional)
					issue(t, 0, 0, "<Start><Stream> is listen-only: audio sent "
					      "back on it is Twilio error 31924; use <Connect><Stream> "
					      "to be heard");
				parse_stream(t, c);
				found = 1;
				continue;
			}
			if (is_elem(v, "Connect")) {
				issue(t, 0, 1, "<Connect> holds no <Stream>");
				found = 1;
				continue;
			}
		}
		if (is_elem(v, "Hangup") || is_elem(v, "Reject")) {
			issue(t, 0, 1, "<%s> comes before any <Stream>: Twilio ends the call there",
			      name);
			found = 1;
			continue;
		}
		if (is_elem(v, "Redirect")) {
			issue(t, 0, 1, "<Redirect> before any <Stream>: Twilio fetches other TwiML "
			      "(the simulator does not follow it)");
			found = 1;
			continue;
		}
		append_word(t->before, sizeof(t->before), name);
	}
	if (!t->has_stream && !t->nissues)
		issue(t, 0, 1, "no <Connect><Stream> in the TwiML: Twilio never opens a Media "
		      "Stream (verbs: %s)", t->before[0] ? t->before : "none");
	else if (!t->has_stream && !found)
		issue(t, 0, 1, "no <Connect><Stream> in the TwiML");
}

int sim_twiml_parse(const char *xml, size_t len, struct sim_twiml *out)
{
	xmlParserCtxtPtr ctxt;
	const xmlNode *root;
	xmlDocPtr doc;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (len > SIM_TWIML_DOC_MAX) {
		issue(out, 12100, 1, "TwiML of %zu bytes is over Twilio's 64 KB limit", len);
		return -1;
	}
	ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		issue(out, 0, 1, "out of memory");
		return -1;
	}
	/* NONET: never fetch a DTD; no NOENT: entities are not expanded into the document. */
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "twiml.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[160] = "unknown error";

		if (e && e->message) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			msg[strcspn(msg, "\n")] = '\0';
		}
		issue(out, 12100, 1, "TwiML is not well-formed XML (line %d: %s): Twilio error "
		      "12100, the caller hears \"an application error has occurred\"",
		      e ? e->line : 0, msg);
		xmlFreeParserCtxt(ctxt);
		return -1;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !is_elem(root, "Response"))
		issue(out, 12102, 1, "the root element is <%s>, not <Response> (Twilio error 12102)",
		      root ? (const char *)root->name : "");
	else
		walk_verbs(out, root);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	for (i = 0; i < out->nissues; i++)
		if (out->issues[i].fatal)
			return -1;
	return 0;
}

const char *sim_twiml_first_error(const struct sim_twiml *t)
{
	size_t i;

	for (i = 0; i < t->nissues; i++)
		if (t->issues[i].fatal)
			return t->issues[i].text;
	return "";
}
