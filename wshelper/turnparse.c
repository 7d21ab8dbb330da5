/* turnparse: a turn's TwiML parsed with libxml2's SAX2 push parser as the body streams in;
 * each verb is handed over when its element closes, within hard limits, and no DTD at all. */
#include "turnparse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/SAX2.h>
#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#define TP_MSG_MAX 256
#define TP_ATTR_MAX 1024      /* longest attribute value read (action and hints fit in it) */
#define TP_WARN_MAX 32        /* warnings per body: a hostile answer must not flood the log */
#define TP_SHOW_MAX 40        /* bytes of a document's value quoted in a warning */
#define TP_MAX_S 600          /* longest Pause, timeout, speechTimeout, maxSpeechTime */
#define TP_NUM_DIGITS_MAX 100
#define TP_CHUNK_MAX (1 << 20) /* xmlParseChunk takes an int size: feed big buffers in parts */

struct turnparse {
	xmlParserCtxtPtr ctxt;
	struct turnparse_limits lim;
	turnparse_verb_fn on_verb;
	turnparse_warn_fn on_warn;
	void *arg;
	size_t fed;              /* body bytes given to libxml2 so far */
	int nverbs;
	int nwarn;
	int depth;               /* elements open now; <Response> is depth 1 */
	int root_closed;
	int skip_depth;          /* > 0: inside a skipped subtree whose top element is this deep */
	int gather_depth;        /* > 0: a <Gather> is open at this depth */
	int verb_depth;          /* > 0: a Say/Play/Pause/Hangup/Redirect is open at this depth */
	int stray_text_warned;
	struct turn_verb cur;    /* the open verb */
	struct turn_gather gather;   /* the open <Gather>'s settings, repeated in GATHER_END */
	char *text;              /* the open verb's text, folded as it arrives */
	size_t text_len, text_cap;
	int space_pending;       /* whitespace seen after text: one space if more text follows */
	int failed, finished;
	char err[TP_MSG_MAX];
};

/* ---- messages ---- */

/* Messages end up as one log line: control characters (a value may hold &#10;) become
 * spaces, trailing blanks (libxml2 ends its messages with a newline) go, and so does a
 * UTF-8 character that a full buffer cut in two (a long element name can do that). */
static void one_line(char *s)
{
	size_t n, lead;

	for (char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	n = strlen(s);
	for (lead = n; lead > 0 && ((unsigned char)s[lead - 1] & 0xc0) == 0x80; lead--)
		;
	if (lead > 0 && (unsigned char)s[lead - 1] >= 0xc0) {
		unsigned char c = (unsigned char)s[lead - 1];
		size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

		if (n - (lead - 1) < need)
			s[n = lead - 1] = '\0';
	}
	while (n > 0 && s[n - 1] == ' ')
		s[--n] = '\0';
}

/* A document's value quoted into a message: cut at a UTF-8 character boundary so the log
 * line stays valid UTF-8. */
static const char *show(const char *val, char *buf, size_t size)
{
	size_t n = strlen(val);

	if (n < size && n <= TP_SHOW_MAX)
		return val;
	n = TP_SHOW_MAX < size - 4 ? TP_SHOW_MAX : size - 4;
	while (n > 0 && ((unsigned char)val[n] & 0xc0) == 0x80)
		n--;
	snprintf(buf, size, "%.*s...", (int)n, val);
	return buf;
}

__attribute__((format(printf, 2, 3)))
static void warnf(struct turnparse *p, const char *fmt, ...)
{
	char msg[TP_MSG_MAX];
	va_list ap;

	if (p->failed || !p->on_warn || p->nwarn > TP_WARN_MAX)
		return;
	if (++p->nwarn > TP_WARN_MAX) {
		p->on_warn(p->arg, "more warnings in this answer not shown");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	one_line(msg);
	p->on_warn(p->arg, msg);
}

/* The first error wins; stopping libxml2 means no SAX callback runs after it. */
__attribute__((format(printf, 2, 3)))
static void failf(struct turnparse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	one_line(p->err);
	if (p->ctxt)
		xmlStopParser(p->ctxt);
}

static int line_no(const struct turnparse *p)
{
	return xmlSAX2GetLineNumber(p->ctxt);
}

/* libxml2's errors (structured, so nothing goes to stderr): warnings are not worth a turn,
 * anything else (not well-formed, a bad namespace) fails it with libxml2's line number. */
static void on_xml_error(void *ctx, xmlErrorPtr e)
{
	struct turnparse *p = ctx;

	if (!e || e->level == XML_ERR_WARNING || e->level == XML_ERR_NONE)
		return;
	/* libxml2 2.9 calls a body that stops early "Extra content at the end". */
	if (e->code == XML_ERR_DOCUMENT_END && !p->root_closed) {
		failf(p, "line %d: %s", e->line, p->depth ? "the body ended before </Response>" :
		      "no <Response> in the body");
		return;
	}
	failf(p, "line %d: %s", e->line, e->message ? e->message : "XML error");
}

/* ---- verbs ---- */

static int verb_kind(const char *name)
{
	static const struct {
		const char *name;
		enum turn_verb_kind kind;
	} verbs[] = {
		{ "Say", TV_SAY }, { "Play", TV_PLAY }, { "Pause", TV_PAUSE },
		{ "Gather", TV_GATHER }, { "Hangup", TV_HANGUP }, { "Redirect", TV_REDIRECT },
	};

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(name, verbs[i].name) == 0)
			return (int)verbs[i].kind;
	return -1;
}

static const char *verb_name(enum turn_verb_kind k)
{
	switch (k) {
	case TV_SAY: return "Say";
	case TV_PLAY: return "Play";
	case TV_PAUSE: return "Pause";
	case TV_GATHER: case TV_GATHER_END: return "Gather";
	case TV_HANGUP: return "Hangup";
	case TV_REDIRECT: return "Redirect";
	}
	return "?";
}

static int has_text(enum turn_verb_kind k)
{
	return k == TV_SAY || k == TV_PLAY || k == TV_REDIRECT;
}

static void hand_over(struct turnparse *p, const struct turn_verb *v)
{
	if (!p->failed && p->on_verb)
		p->on_verb(p->arg, v);
}

/* ---- attribute values ---- */

/* Blanks around a number are forgiven, as attribute templates often leave some. */
static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

/* A whole number written with digits only: its value (saturated at 10^9), or -1. */
static long parse_uint(const char *s)
{
	long v = 0;

	s = skip_blanks(s);
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v >= 100000000 ? 1000000000 : v * 10 + (*s - '0');
	return *skip_blanks(s) ? -1 : v;
}

/* Seconds, whole or with a fraction ("1.5"), as milliseconds (saturated), or -1. */
static long parse_seconds_ms(const char *s)
{
	long ms = 0, scale = 100;
	int digits = 0;

	s = skip_blanks(s);
	for (; *s >= '0' && *s <= '9'; s++, digits++)
		ms = ms >= 1000000 ? 1000000 : ms * 10 + (*s - '0');
	ms *= 1000;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, digits++, scale /= 10)
			ms += (*s - '0') * scale;   /* digits past milliseconds add 0 */
	return digits && !*skip_blanks(s) ? ms : -1;
}

/* Copy an attribute value. libxml2 (without entity replacement) hands over a '&' in an
 * attribute as the text "&#38;", and any '&' it gives comes that way: turn each back. */
static size_t attr_copy(const char *v, const char *end, char *out, size_t size, int *cut)
{
	size_t n = 0;

	*cut = 0;
	while (v < end) {
		char c = *v;

		if (c == '&' && end - v >= 5 && memcmp(v, "&#38;", 5) == 0)
			v += 5;
		else
			v++;
		if (n + 1 >= size) {
			*cut = 1;
			break;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	return n;
}

/* Store a string attribute into a field of SIZE bytes: too long is ignored with a warning
 * (a cut voice, language or URL would be wrong, not shorter). */
static void set_str(struct turnparse *p, const char *verb, const char *name, const char *val,
		    int cut, char *field, size_t size)
{
	if (cut || strlen(val) >= size) {
		warnf(p, "attribute %s of <%s> over %zu bytes ignored", name, verb, size - 1);
		return;
	}
	memcpy(field, val, strlen(val) + 1);
}

/* A whole number attribute in LO..HI: a bad one is replaced by DEF, a larger one capped. */
static int get_int(struct turnparse *p, const char *verb, const char *name, const char *val,
		   long lo, long hi, int def)
{
	char b[64];
	long v = parse_uint(val);

	if (v < lo) {
		warnf(p, "bad value %s=\"%s\" of <%s>, using %d", name, show(val, b, sizeof(b)),
		      verb, def);
		return def;
	}
	if (v > hi) {
		warnf(p, "%s=\"%s\" of <%s> capped at %ld", name, show(val, b, sizeof(b)), verb,
		      hi);
		return (int)hi;
	}
	return (int)v;
}

/* Seconds into ms, capped at TP_MAX_S; a bad value gives DEF_MS (DEF_SAYS in the warning). */
static int get_ms(struct turnparse *p, const char *verb, const char *name, const char *val,
		  int def_ms, const char *def_says)
{
	char b[64];
	long ms = parse_seconds_ms(val);

	if (ms < 0) {
		warnf(p, "bad value %s=\"%s\" of <%s>, using %s", name, show(val, b, sizeof(b)),
		      verb, def_says);
		return def_ms;
	}
	if (ms > TP_MAX_S * 1000L) {
		warnf(p, "%s=\"%s\" of <%s> capped at %d s", name, show(val, b, sizeof(b)), verb,
		      TP_MAX_S);
		return TP_MAX_S * 1000;
	}
	return (int)ms;
}

/* loop="0" is Twilio's "repeat until the call moves on": as many times as we allow. */
static int get_loop(struct turnparse *p, const char *verb, const char *val)
{
	int n = get_int(p, verb, "loop", val, 0, TV_LOOP_MAX, 1);

	return n == 0 ? TV_LOOP_MAX : n;
}

static void gather_input(struct turnparse *p, const char *val)
{
	char b[64];
	const char *s = val;
	int bits = 0;

	/* Twilio writes "dtmf speech"; a comma between them is forgiven. */
	while (*s) {
		size_t n;

		while (*s == ' ' || *s == ',' || *s == '\t')
			s++;
		n = strcspn(s, " ,\t");
		if (n == 4 && strncasecmp(s, "dtmf", 4) == 0)
			bits |= TV_INPUT_DTMF;
		else if (n == 6 && strncasecmp(s, "speech", 6) == 0)
			bits |= TV_INPUT_SPEECH;
		else if (n > 0)
			bits |= 0x100;   /* something else: warn below */
		s += n;
	}
	if (bits & 0x100 || !(bits & (TV_INPUT_DTMF | TV_INPUT_SPEECH))) {
		bits &= TV_INPUT_DTMF | TV_INPUT_SPEECH;
		warnf(p, "bad value input=\"%s\" of <Gather>, using \"%s\"",
		      show(val, b, sizeof(b)),
		      bits == TV_INPUT_SPEECH ? "speech" : bits ? "dtmf speech" : "dtmf");
	}
	p->gather.input = bits ? bits : TV_INPUT_DTMF;
}

/* method: callpipe always POSTs a turn, so only another method is worth a warning. */
static void check_method(struct turnparse *p, const char *verb, const char *val)
{
	char b[64];

	if (strcasecmp(val, "POST") != 0)
		warnf(p, "attribute method=\"%s\" of <%s> ignored: turns are always POSTed",
		      show(val, b, sizeof(b)), verb);
}

/* One attribute of the open verb (p->cur, or p->gather for <Gather>). 1 if it is known. */
static int verb_attr(struct turnparse *p, const char *name, const char *val, int cut)
{
	struct turn_verb *v = &p->cur;
	struct turn_gather *g = &p->gather;
	const char *vn = verb_name(v->kind);
	char b[64];

	switch (v->kind) {
	case TV_SAY:
		if (strcmp(name, "voice") == 0)
			set_str(p, vn, name, val, cut, v->voice, sizeof(v->voice));
		else if (strcmp(name, "language") == 0)
			set_str(p, vn, name, val, cut, v->language, sizeof(v->language));
		else if (strcmp(name, "loop") == 0)
			v->loop = get_loop(p, vn, val);
		else
			return 0;
		return 1;
	case TV_PLAY:
		if (strcmp(name, "loop") != 0)
			return 0;
		v->loop = get_loop(p, vn, val);
		return 1;
	case TV_PAUSE:
		if (strcmp(name, "length") != 0)
			return 0;
		v->pause_ms = get_ms(p, vn, name, val, 1000, "1 s");
		return 1;
	case TV_REDIRECT:
		if (strcmp(name, "method") != 0)
			return 0;
		check_method(p, vn, val);
		return 1;
	case TV_GATHER:
		break;
	case TV_GATHER_END:
	case TV_HANGUP:
		return 0;
	}
	if (strcmp(name, "input") == 0) {
		gather_input(p, val);
	} else if (strcmp(name, "timeout") == 0) {
		g->timeout_s = get_int(p, vn, name, val, 0, TP_MAX_S, 5);
	} else if (strcmp(name, "speechTimeout") == 0) {
		/* -2: bad, so the default (timeout) applies once every attribute is read */
		g->speech_timeout_ms = strcasecmp(val, "auto") == 0 ? -1 :
			get_ms(p, vn, name, val, -2, "timeout");
	} else if (strcmp(name, "maxSpeechTime") == 0) {
		g->max_speech_time_s = get_int(p, vn, name, val, 1, TP_MAX_S, 60);
	} else if (strcmp(name, "numDigits") == 0) {
		g->num_digits = get_int(p, vn, name, val, 1, TP_NUM_DIGITS_MAX, 0);
	} else if (strcmp(name, "finishOnKey") == 0) {
		if (val[0] == '\0')
			g->finish_on_key = '\0';
		else if (val[1] == '\0' && strchr("0123456789*#", val[0]))
			g->finish_on_key = val[0];
		else
			warnf(p, "bad value finishOnKey=\"%s\" of <Gather>, using \"#\"",
			      show(val, b, sizeof(b)));
	} else if (strcmp(name, "hints") == 0) {
		/* Hints only help recognition: a cut list is better than none. */
		size_t n = strlen(val);

		if (cut || n >= sizeof(g->hints)) {
			warnf(p, "attribute hints of <Gather> over %zu bytes, cut",
			      sizeof(g->hints) - 1);
			n = sizeof(g->hints) - 1;
			while (n > 0 && ((unsigned char)val[n] & 0xc0) == 0x80)
				n--;
		}
		memcpy(g->hints, val, n);
		g->hints[n] = '\0';
	} else if (strcmp(name, "language") == 0) {
		set_str(p, vn, name, val, cut, g->language, sizeof(g->language));
	} else if (strcmp(name, "action") == 0) {
		set_str(p, vn, name, val, cut, g->action, sizeof(g->action));
	} else if (strcmp(name, "bargeIn") == 0) {
		if (strcasecmp(val, "true") == 0)
			g->barge_in = 1;
		else if (strcasecmp(val, "false") == 0)
			g->barge_in = 0;
		else
			warnf(p, "bad value bargeIn=\"%s\" of <Gather>, using true",
			      show(val, b, sizeof(b)));
	} else if (strcmp(name, "grammar") == 0) {
		set_str(p, vn, name, val, cut, g->grammar, sizeof(g->grammar));
	} else if (strcmp(name, "method") == 0) {
		check_method(p, vn, val);
	} else {
		return 0;
	}
	return 1;
}

/* SAX2 hands attributes as 5 pointers each: localname, prefix, URI, value, value end. */
static void read_attrs(struct turnparse *p, const char *elem, int n, const xmlChar **attrs)
{
	char val[TP_ATTR_MAX + 1];

	for (int i = 0; i < n && !p->failed; i++) {
		const char *name = (const char *)attrs[5 * i];
		const char *prefix = (const char *)attrs[5 * i + 1];
		int cut;

		attr_copy((const char *)attrs[5 * i + 3], (const char *)attrs[5 * i + 4], val,
			  sizeof(val), &cut);
		if (prefix)   /* xml:lang and the like are not TwiML's */
			warnf(p, "attribute %s:%s of <%s> ignored", prefix, name, elem);
		else if (!elem[0] || !verb_attr(p, name, val, cut))
			warnf(p, "attribute %s of <%s> ignored", name, elem[0] ? elem : "Response");
	}
}

/* ---- text ---- */

static int text_put(struct turnparse *p, char c)
{
	if (p->text_len + 1 >= p->text_cap) {
		size_t cap = p->text_cap ? p->text_cap * 2 : 256;
		char *t = realloc(p->text, cap);

		if (!t) {
			failf(p, "out of memory");
			return -1;
		}
		p->text = t;
		p->text_cap = cap;
	}
	p->text[p->text_len++] = c;
	return 0;
}

/* Text of a Say (or a URL): whitespace runs fold to one space, the ends are trimmed, and
 * the limit counts what is kept. Lines of a template's indentation cost nothing. */
static void text_add(struct turnparse *p, const char *s, size_t n)
{
	size_t max = p->lim.max_text;

	for (size_t i = 0; i < n && !p->failed; i++) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			p->space_pending = p->text_len > 0;
			continue;
		}
		if (max && p->text_len + (size_t)p->space_pending + 1 > max) {
			failf(p, "<%s> text over %zu bytes", verb_name(p->cur.kind), max);
			return;
		}
		if (p->space_pending && text_put(p, ' ') < 0)
			return;
		p->space_pending = 0;
		text_put(p, c);
	}
}

/* ---- SAX callbacks ---- */

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		     const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
		     int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	struct turnparse *p = ctx;
	const char *name = (const char *)localname;
	int kind;

	(void)prefix, (void)uri, (void)nb_namespaces, (void)namespaces, (void)nb_defaulted;
	if (p->failed)
		return;
	/* libxml2's own limit is 256 deep; a turn has no use for more than a few. */
	if (++p->depth > TURNPARSE_MAX_DEPTH) {
		failf(p, "line %d: elements nested deeper than %d", line_no(p),
		      TURNPARSE_MAX_DEPTH);
		return;
	}
	if (p->skip_depth)
		return;
	if (p->depth == 1) {
		if (strcmp(name, "Response") != 0) {
			failf(p, "line %d: the root element is <%s>, not <Response>", line_no(p),
			      name);
			return;
		}
		read_attrs(p, "", nb_attributes, attributes);
		return;
	}
	if (p->verb_depth) {
		/* SSML inside Say (<break/>, <emphasis>…) is not spoken as such, but its words
		 * are: keep the text. Anything inside another verb goes. */
		if (p->cur.kind == TV_SAY) {
			warnf(p, "<%s> inside <Say> ignored, its text kept", name);
			return;
		}
		warnf(p, "<%s> inside <%s> skipped", name, verb_name(p->cur.kind));
		p->skip_depth = p->depth;
		return;
	}
	kind = verb_kind(name);
	if (p->gather_depth && kind != TV_SAY && kind != TV_PLAY && kind != TV_PAUSE) {
		warnf(p, "<%s> inside <Gather> skipped: its prompts are Say, Play and Pause", name);
		p->skip_depth = p->depth;
		return;
	}
	if (kind < 0) {
		warnf(p, "unknown verb <%s> skipped", name);
		p->skip_depth = p->depth;
		return;
	}
	if (p->lim.max_verbs > 0 && ++p->nverbs > p->lim.max_verbs) {
		failf(p, "more than %d verbs", p->lim.max_verbs);
		return;
	}
	memset(&p->cur, 0, sizeof(p->cur));
	p->cur.kind = (enum turn_verb_kind)kind;
	p->cur.in_gather = p->gather_depth > 0;
	p->cur.loop = 1;
	p->cur.pause_ms = kind == TV_PAUSE ? 1000 : 0;
	p->cur.text = "";
	if (kind == TV_GATHER) {
		memset(&p->gather, 0, sizeof(p->gather));
		p->gather.input = TV_INPUT_DTMF;
		p->gather.timeout_s = 5;
		p->gather.speech_timeout_ms = -2;   /* not given: timeout's, once it is known */
		p->gather.max_speech_time_s = 60;
		p->gather.finish_on_key = '#';
		p->gather.barge_in = 1;
	}
	read_attrs(p, name, nb_attributes, attributes);
	if (p->failed)
		return;
	if (kind == TV_GATHER) {
		if (p->gather.speech_timeout_ms == -2)
			p->gather.speech_timeout_ms = p->gather.timeout_s * 1000;
		p->cur.gather = p->gather;
		p->gather_depth = p->depth;
		hand_over(p, &p->cur);
		return;
	}
	p->verb_depth = p->depth;
	p->text_len = 0;
	p->space_pending = 0;
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		   const xmlChar *uri)
{
	struct turnparse *p = ctx;

	(void)localname, (void)prefix, (void)uri;
	if (p->failed)
		return;
	if (p->skip_depth) {
		if (p->depth == p->skip_depth)
			p->skip_depth = 0;
	} else if (p->verb_depth && p->depth == p->verb_depth) {
		if (has_text(p->cur.kind)) {
			if (text_put(p, '\0') < 0)
				return;
			p->cur.text = p->text;
			p->cur.text_len = p->text_len - 1;
			p->text_len--;
		}
		p->verb_depth = 0;
		hand_over(p, &p->cur);
	} else if (p->gather_depth && p->depth == p->gather_depth) {
		struct turn_verb *v = &p->cur;

		memset(v, 0, sizeof(*v));
		v->kind = TV_GATHER_END;
		v->text = "";
		v->gather = p->gather;
		p->gather_depth = 0;
		hand_over(p, v);
	} else if (p->depth == 1) {
		p->root_closed = 1;
	}
	p->depth--;
}

static void on_text(void *ctx, const xmlChar *s, int len)
{
	struct turnparse *p = ctx;

	if (p->failed || p->skip_depth || len <= 0)
		return;
	if (p->verb_depth && has_text(p->cur.kind)) {
		text_add(p, (const char *)s, (size_t)len);
		return;
	}
	/* Text between verbs (or in Pause, Gather…) is never spoken: say so once. */
	for (int i = 0; i < len && !p->stray_text_warned; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
			p->stray_text_warned = 1;
			warnf(p, "text outside <Say>, <Play> and <Redirect> ignored");
		}
	}
}

/* No DTD at all: entities beyond the five predefined ones and character references are
 * how billion-laughs and XXE start, and a turn's TwiML never needs one. */
static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
		       const xmlChar *system_id)
{
	struct turnparse *p = ctx;

	(void)name, (void)external_id, (void)system_id;
	failf(p, "line %d: <!DOCTYPE> is not allowed in TwiML", line_no(p));
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
			   const xmlChar *system_id, xmlChar *content)
{
	struct turnparse *p = ctx;

	(void)name, (void)type, (void)public_id, (void)system_id, (void)content;
	failf(p, "line %d: entity declarations are not allowed in TwiML", line_no(p));
}

/* ---- public ---- */

void turnparse_init(void)
{
	xmlInitParser();
}

struct turnparse *turnparse_new(const struct turnparse_limits *lim, turnparse_verb_fn on_verb,
				turnparse_warn_fn on_warn, void *arg)
{
	struct turnparse *p = calloc(1, sizeof(*p));
	xmlSAXHandler sax;

	if (!p)
		return NULL;
	if (lim)
		p->lim = *lim;
	p->on_verb = on_verb;
	p->on_warn = on_warn;
	p->arg = arg;
	/* The context copies the handler, so a local one is fine (and nothing is shared
	 * between threads). */
	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = on_start;
	sax.endElementNs = on_end;
	sax.characters = on_text;
	sax.ignorableWhitespace = on_text;
	sax.internalSubset = on_doctype;
	sax.externalSubset = on_doctype;
	sax.entityDecl = on_entity_decl;
	sax.serror = on_xml_error;
	p->ctxt = xmlCreatePushParserCtxt(&sax, p, NULL, 0, NULL);
	if (!p->ctxt) {
		free(p);
		return NULL;
	}
	/* No network, and deliberately not XML_PARSE_NOENT: entities are never expanded (the
	 * DOCTYPE that could declare one is refused anyway). */
	xmlCtxtUseOptions(p->ctxt, XML_PARSE_NONET);
	return p;
}

/* libxml2 reports a few errors with no parser context (a failed encoding conversion): they
 * would go to stderr, so the thread's handler drops them while we parse. The parser then
 * fails with an error of its own, which does reach on_xml_error. */
static void on_stray_error(void *ctx, xmlErrorPtr e)
{
	(void)ctx, (void)e;
}

static void parse(struct turnparse *p, const char *buf, size_t len, int final)
{
	xmlStructuredErrorFunc saved_fn = xmlStructuredError;
	void *saved_ctx = xmlStructuredErrorContext;

	xmlSetStructuredErrorFunc(p, on_stray_error);
	do {
		int n = len > TP_CHUNK_MAX ? TP_CHUNK_MAX : (int)len;
		int last = final && (size_t)n == len;
		int rc = xmlParseChunk(p->ctxt, buf, n, last);

		p->fed += (size_t)n;
		buf += n;
		len -= (size_t)n;
		if (rc != 0 && !p->failed)   /* an error that did not come through serror */
			failf(p, "line %d: XML not well-formed (libxml2 error %d)", line_no(p), rc);
	} while (len > 0 && !p->failed);
	xmlSetStructuredErrorFunc(saved_ctx, saved_fn);
}

int turnparse_feed(struct turnparse *p, const char *buf, size_t len, int final, char *err,
		   size_t errlen)
{
	if (!buf)
		len = 0;
	if (p->finished && !p->failed)
		failf(p, "body fed after its end");
	if (!p->failed) {
		size_t room = p->lim.max_bytes ? p->lim.max_bytes - p->fed : len;

		if (len > room) {
			/* The verbs in the bytes that fit still stream out, as they would have
			 * had the body come in smaller chunks. */
			if (room > 0)
				parse(p, buf, room, 0);
			failf(p, "body over %zu bytes", p->lim.max_bytes);
		} else {
			parse(p, buf, len, final);
		}
	}
	if (final && !p->failed) {
		p->finished = 1;
		if (!p->root_closed)
			failf(p, "line %d: the body ended before </Response>", line_no(p));
	}
	if (p->failed) {
		if (err && errlen)
			snprintf(err, errlen, "%s", p->err);
		return -1;
	}
	return 0;
}

void turnparse_free(struct turnparse *p)
{
	if (!p)
		return;
	if (p->ctxt)
		xmlFreeParserCtxt(p->ctxt);
	free(p->text);
	free(p);
}
