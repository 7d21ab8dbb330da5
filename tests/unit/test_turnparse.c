/* test_turnparse: every verb and attribute of a turn's TwiML with defaults and overrides, the
 * warnings, errors and limits, each fed whole, split in two everywhere, and a byte at a time. */
#include <stdlib.h>

#include "check.h"
#include "turnparse.h"

/* What a parse produced, flattened to strings so a table can hold what it must be. */
struct rec {
	char verbs[8192];
	char warns[4096];
	char err[256];
	int rc;
	int nverbs;
	int bad_len;     /* a verb whose text_len was not strlen(text) */
};

static void add(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);

	if (n && n + 3 < size)
		strcat(buf, " | "), n += 3;
	snprintf(buf + n, size - n, "%s", s);
}

static void on_verb(void *arg, const struct turn_verb *v)
{
	struct rec *r = arg;
	const struct turn_gather *g = &v->gather;
	char s[3000];

	r->nverbs++;
	if (!v->text || strlen(v->text) != v->text_len)
		r->bad_len = 1;
	switch (v->kind) {
	case TV_SAY:
		snprintf(s, sizeof(s), "%sSay(loop=%d voice=%s lang=%s)\"%s\"",
			 v->in_gather ? "g:" : "", v->loop, v->voice, v->language, v->text);
		break;
	case TV_PLAY:
		snprintf(s, sizeof(s), "%sPlay(loop=%d)\"%s\"", v->in_gather ? "g:" : "", v->loop,
			 v->text);
		break;
	case TV_PAUSE:
		snprintf(s, sizeof(s), "%sPause(%d ms)", v->in_gather ? "g:" : "", v->pause_ms);
		break;
	case TV_GATHER:
		snprintf(s, sizeof(s), "Gather(in=%d to=%d st=%d mst=%d nd=%d fk=%s bi=%d "
			 "action=%s hints=%s lang=%s gram=%s)", g->input, g->timeout_s,
			 g->speech_timeout_ms, g->max_speech_time_s, g->num_digits,
			 g->finish_on_key ? (char[2]){ g->finish_on_key, 0 } : "none",
			 g->barge_in, g->action, g->hints, g->language, g->grammar);
		break;
	case TV_GATHER_END:
		snprintf(s, sizeof(s), "/Gather");
		break;
	case TV_HANGUP:
		snprintf(s, sizeof(s), "Hangup");
		break;
	case TV_REDIRECT:
		snprintf(s, sizeof(s), "Redirect\"%s\"", v->text);
		break;
	default:
		snprintf(s, sizeof(s), "kind %d", (int)v->kind);
	}
	add(r->verbs, sizeof(r->verbs), s);
}

static void on_warn(void *arg, const char *msg)
{
	struct rec *r = arg;

	add(r->warns, sizeof(r->warns), msg);
}

static const struct turnparse_limits default_lim = { 65536, 64, 4096 };

/* Feed DOC in pieces of STEP bytes (0: whole), the first piece ending at SPLIT when > 0. */
static void run(const char *doc, const struct turnparse_limits *lim, size_t split, size_t step,
		struct rec *r)
{
	struct turnparse *p;
	size_t n = strlen(doc), off = 0;

	memset(r, 0, sizeof(*r));
	p = turnparse_new(lim, on_verb, on_warn, r);
	if (!p) {
		r->rc = -2;
		return;
	}
	if (split > 0 && split <= n) {
		r->rc = turnparse_feed(p, doc, split, 0, r->err, sizeof(r->err));
		off = split;
	}
	while (r->rc == 0 && off < n) {
		size_t len = step ? step : n - off;

		if (len > n - off)
			len = n - off;
		r->rc = turnparse_feed(p, doc + off, len, 0, r->err, sizeof(r->err));
		off += len;
	}
	if (r->rc == 0)
		r->rc = turnparse_feed(p, NULL, 0, 1, r->err, sizeof(r->err));
	turnparse_free(p);
}

struct tcase {
	const char *name;
	const char *doc;
	const char *verbs;       /* the verbs handed over, flattened by on_verb */
	const char *warns;       /* the warnings, " | " between them */
	const char *err;         /* NULL: success; else the error starts with this */
	struct turnparse_limits lim;   /* all 0: default_lim */
	int err_varies;          /* libxml2 words this error by where the chunks end */
};

#define GATHER_DEFAULTS "Gather(in=1 to=5 st=5000 mst=60 nd=0 fk=# bi=1 action= hints= lang= gram=)"
#define SAY(t) "Say(loop=1 voice= lang=)\"" t "\""

static const struct tcase cases[] = {
	/* each verb with its defaults */
	{ "Say defaults", "<Response><Say>Hello</Say></Response>", SAY("Hello"), "", NULL, {0}, 0 },
	{ "Say overrides",
	  "<Response><Say voice=\"Polly.Joanna\" language=\"en-GB\" loop=\"3\">Hi</Say></Response>",
	  "Say(loop=3 voice=Polly.Joanna lang=en-GB)\"Hi\"", "", NULL, {0}, 0 },
	{ "Say loop 0 repeats", "<Response><Say loop=\"0\">x</Say></Response>",
	  "Say(loop=100 voice= lang=)\"x\"", "", NULL, {0}, 0 },
	{ "Say loop capped", "<Response><Say loop=\"1000\">x</Say></Response>",
	  "Say(loop=100 voice= lang=)\"x\"", "loop=\"1000\" of <Say> capped at 100", NULL, {0}, 0 },
	{ "Say loop bad", "<Response><Say loop=\"abc\">x</Say><Say loop=\"-1\">y</Say></Response>",
	  SAY("x") " | " SAY("y"),
	  "bad value loop=\"abc\" of <Say>, using 1 | bad value loop=\"-1\" of <Say>, using 1",
	  NULL, {0}, 0 },
	{ "Say whitespace folded",
	  "<Response>\n  <Say>\n    Hello,\n\t  world.   </Say>\n</Response>\n",
	  SAY("Hello, world."), "", NULL, {0}, 0 },
	{ "Say empty", "<Response><Say/><Say>   </Say></Response>", SAY("") " | " SAY(""), "",
	  NULL, {0}, 0 },
	{ "Say entities", "<Response><Say>Tom &amp; Jerry &lt;3 &#65;&#x42; &quot;&apos;&gt;</Say>"
	  "</Response>", SAY("Tom & Jerry <3 AB \"'>"), "", NULL, {0}, 0 },
	{ "Say CDATA", "<Response><Say><![CDATA[a < b]]> c</Say></Response>", SAY("a < b c"), "",
	  NULL, {0}, 0 },
	{ "Say Hebrew",
	  "<Response><Say language=\"he-IL\">\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd7\xa2\xd7\x95"
	  "\xd7\x9c\xd7\x9d</Say></Response>",
	  "Say(loop=1 voice= lang=he-IL)\"\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd7\xa2\xd7\x95\xd7\x9c"
	  "\xd7\x9d\"", "", NULL, {0}, 0 },
	{ "Say SSML text kept", "<Response><Say>Hello <emphasis>big</emphasis> world<break/>!"
	  "</Say></Response>", SAY("Hello big world!"),
	  "<emphasis> inside <Say> ignored, its text kept | <break> inside <Say> ignored, its text "
	  "kept", NULL, {0}, 0 },
	{ "Play", "<Response><Play> https://x.example/a.wav </Play><Play loop=\"2\" digits=\"12\">"
	  "beep.wav</Play></Response>",
	  "Play(loop=1)\"https://x.example/a.wav\" | Play(loop=2)\"beep.wav\"",
	  "attribute digits of <Play> ignored", NULL, {0}, 0 },
	{ "Pause", "<Response><Pause/><Pause length=\"3\"/><Pause length=\"0\"/>"
	  "<Pause length=\"1.5\"/></Response>",
	  "Pause(1000 ms) | Pause(3000 ms) | Pause(0 ms) | Pause(1500 ms)", "", NULL, {0}, 0 },
	{ "Pause bad and long", "<Response><Pause length=\"x\"/><Pause length=\"9999\"/>"
	  "</Response>", "Pause(1000 ms) | Pause(600000 ms)",
	  "bad value length=\"x\" of <Pause>, using 1 s | length=\"9999\" of <Pause> capped at "
	  "600 s", NULL, {0}, 0 },
	{ "Hangup", "<Response><Hangup/></Response>", "Hangup", "", NULL, {0}, 0 },
	{ "Redirect", "<Response><Redirect method=\"POST\">\n /turn?a=1&amp;b=2\n</Redirect>"
	  "</Response>", "Redirect\"/turn?a=1&b=2\"", "", NULL, {0}, 0 },
	{ "Redirect GET", "<Response><Redirect method=\"GET\">/t</Redirect></Response>",
	  "Redirect\"/t\"",
	  "attribute method=\"GET\" of <Redirect> ignored: turns are always POSTed", NULL, {0}, 0 },
	/* Gather */
	{ "Gather defaults", "<Response><Gather/></Response>", GATHER_DEFAULTS " | /Gather", "",
	  NULL, {0}, 0 },
	{ "Gather overrides",
	  "<Response><Gather input=\"dtmf speech\" timeout=\"7\" speechTimeout=\"2\" "
	  "maxSpeechTime=\"30\" numDigits=\"4\" finishOnKey=\"*\" hints=\"yes, no\" "
	  "language=\"fr-FR\" action=\"/next?x=1&amp;y=2\" bargeIn=\"false\" grammar=\"yesno.gram\""
	  "/></Response>",
	  "Gather(in=3 to=7 st=2000 mst=30 nd=4 fk=* bi=0 action=/next?x=1&y=2 hints=yes, no "
	  "lang=fr-FR gram=yesno.gram) | /Gather", "", NULL, {0}, 0 },
	{ "ampersands in attributes", "<Response><Gather hints=\"a&#38;b, &amp;#38;, &lt;&amp;&gt;\"/>"
	  "</Response>", "Gather(in=1 to=5 st=5000 mst=60 nd=0 fk=# bi=1 action= hints=a&b, &#38;, "
	  "<&> lang= gram=) | /Gather", "", NULL, {0}, 0 },
	{ "Gather speech auto, empty finishOnKey, timeout after speechTimeout default",
	  "<Response><Gather input=\"speech\" speechTimeout=\"auto\" finishOnKey=\"\"/>"
	  "<Gather timeout=\"3\"/><Gather speechTimeout=\"0.5\" bargeIn=\"TRUE\"/></Response>",
	  "Gather(in=2 to=5 st=-1 mst=60 nd=0 fk=none bi=1 action= hints= lang= gram=) | /Gather | "
	  "Gather(in=1 to=3 st=3000 mst=60 nd=0 fk=# bi=1 action= hints= lang= gram=) | /Gather | "
	  "Gather(in=1 to=5 st=500 mst=60 nd=0 fk=# bi=1 action= hints= lang= gram=) | /Gather",
	  "", NULL, {0}, 0 },
	{ "Gather bad values",
	  "<Response><Gather input=\"voice\" timeout=\"-1\" speechTimeout=\"soon\" "
	  "maxSpeechTime=\"0\" numDigits=\"x\" finishOnKey=\"##\" bargeIn=\"maybe\"/></Response>",
	  GATHER_DEFAULTS " | /Gather",
	  "bad value input=\"voice\" of <Gather>, using \"dtmf\" | "
	  "bad value timeout=\"-1\" of <Gather>, using 5 | "
	  "bad value speechTimeout=\"soon\" of <Gather>, using timeout | "
	  "bad value maxSpeechTime=\"0\" of <Gather>, using 60 | "
	  "bad value numDigits=\"x\" of <Gather>, using 0 | "
	  "bad value finishOnKey=\"##\" of <Gather>, using \"#\" | "
	  "bad value bargeIn=\"maybe\" of <Gather>, using true", NULL, {0}, 0 },
	{ "Gather ignored attributes",
	  "<Response><Gather method=\"POST\" actionOnEmptyResult=\"true\" "
	  "partialResultCallback=\"/p\" profanityFilter=\"false\"/></Response>",
	  GATHER_DEFAULTS " | /Gather",
	  "attribute actionOnEmptyResult of <Gather> ignored | attribute partialResultCallback of "
	  "<Gather> ignored | attribute profanityFilter of <Gather> ignored", NULL, {0}, 0 },
	{ "Gather prompts and verbs after",
	  "<Response><Say>Menu.</Say><Gather numDigits=\"1\"><Say>Press 1.</Say><Pause/>"
	  "<Play>m.wav</Play></Gather><Say>Bye.</Say><Hangup/></Response>",
	  SAY("Menu.") " | Gather(in=1 to=5 st=5000 mst=60 nd=1 fk=# bi=1 action= hints= lang= "
	  "gram=) | g:" SAY("Press 1.") " | g:Pause(1000 ms) | g:Play(loop=1)\"m.wav\" | /Gather | "
	  SAY("Bye.") " | Hangup", "", NULL, {0}, 0 },
	{ "Gather forbids other verbs",
	  "<Response><Gather><Say>a</Say><Hangup/><Gather/><Dial>1</Dial><Say>b</Say></Gather>"
	  "</Response>",
	  GATHER_DEFAULTS " | g:" SAY("a") " | g:" SAY("b") " | /Gather",
	  "<Hangup> inside <Gather> skipped: its prompts are Say, Play and Pause | <Gather> inside "
	  "<Gather> skipped: its prompts are Say, Play and Pause | <Dial> inside <Gather> skipped: "
	  "its prompts are Say, Play and Pause", NULL, {0}, 0 },
	/* unknown things */
	{ "unknown verbs skipped",
	  "<Response><Dial><Number>+15550100</Number><Say>no</Say></Dial><Say>yes</Say>"
	  "<Record/></Response>", SAY("yes"),
	  "unknown verb <Dial> skipped | unknown verb <Record> skipped", NULL, {0}, 0 },
	{ "unknown attributes", "<Response foo=\"1\"><Say bar=\"2\" xml:lang=\"en\">x</Say>"
	  "<Hangup now=\"yes\"/></Response>", SAY("x") " | Hangup",
	  "attribute foo of <Response> ignored | attribute bar of <Say> ignored | "
	  "attribute xml:lang of <Say> ignored | attribute now of <Hangup> ignored", NULL, {0}, 0 },
	{ "children of Play skipped", "<Response><Play>a<x>b</x>c</Play></Response>",
	  "Play(loop=1)\"ac\"", "<x> inside <Play> skipped", NULL, {0}, 0 },
	{ "stray text", "<Response>hello<Say>x</Say>more</Response>", SAY("x"),
	  "text outside <Say>, <Play> and <Redirect> ignored", NULL, {0}, 0 },
	{ "XML declaration, comments, PIs",
	  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- hi --><Response><?pi x?><Say>a<!-- c -->b"
	  "</Say></Response>\n<!-- end -->\n", SAY("ab"), "", NULL, {0}, 0 },
	{ "namespaced Response", "<Response xmlns=\"urn:x\"><Say>x</Say></Response>", SAY("x"), "",
	  NULL, {0}, 0 },
	{ "too long voice ignored",
	  "<Response><Say voice=\"0123456789012345678901234567890123456789012345678901234567890123"
	  "\">x</Say></Response>", SAY("x"), "attribute voice of <Say> over 63 bytes ignored", NULL,
	  {0}, 0 },
	/* errors */
	{ "root not Response", "<Reply><Say>x</Say></Reply>", "", "",
	  "line 1: the root element is <Reply>, not <Response>", {0}, 0 },
	{ "not well-formed", "<Response>\n<Say>x</Say>\n<Say>y</Pause>\n</Response>",
	  SAY("x"), "", "line 3: Opening and ending tag mismatch", {0}, 0 },
	{ "never closed", "<Response><Say>Hi</Say>", SAY("Hi"), "",
	  "line 1: the body ended before </Response>", {0}, 0 },
	{ "never closed, many lines", "<Response>\n<Gather>\n<Say>Hi</Say>\n",
	  GATHER_DEFAULTS " | g:" SAY("Hi"), "", "line 3: the body ended before </Response>", {0}, 0 },
	{ "empty body", "", "", "", "line 1: no <Response> in the body", {0}, 0 },
	{ "only blanks", " \n ", "", "", "line 1: no <Response> in the body", {0}, 0 },
	{ "two roots", "<Response/><Response/>", "", "",
	  "line 1: Extra content at the end of the document", {0}, 0 },
	{ "not UTF-8", "<Response><Say>\xff</Say></Response>", "", "",
	  "line 1: ", {0}, 1 },
	{ "Latin-1 declared", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Response><Say>caf\xe9"
	  "</Say></Response>", SAY("caf\xc3\xa9"), "", NULL, {0}, 0 },
	{ "DOCTYPE with entity", "<!DOCTYPE Response [<!ENTITY a \"boom\">]>\n"
	  "<Response><Say>&a;</Say></Response>", "", "",
	  "line 1: <!DOCTYPE> is not allowed in TwiML", {0}, 0 },
	{ "billion laughs", "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
	  " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n]>\n"
	  "<Response><Say>&lol2;</Say></Response>", "", "", "line 2: <!DOCTYPE> is not allowed",
	  {0}, 0 },
	{ "XXE", "<!DOCTYPE r SYSTEM \"file:///etc/passwd\"><Response><Say>x</Say></Response>",
	  "", "", "line 1: <!DOCTYPE> is not allowed", {0}, 0 },
	{ "undeclared entity", "<Response><Say>a</Say><Say>&foo;</Say></Response>", SAY("a"), "",
	  "line 1: Entity 'foo' not defined", {0}, 0 },
	{ "too deep", "<Response><Say><a><b><c><d><e><f><g><h><i><j><k><l><m><n><o>x"
	  "</o></n></m></l></k></j></i></h></g></f></e></d></c></b></a></Say></Response>", "",
	  "<a> inside <Say> ignored, its text kept | <b> inside <Say> ignored, its text kept | "
	  "<c> inside <Say> ignored, its text kept | <d> inside <Say> ignored, its text kept | "
	  "<e> inside <Say> ignored, its text kept | <f> inside <Say> ignored, its text kept | "
	  "<g> inside <Say> ignored, its text kept | <h> inside <Say> ignored, its text kept | "
	  "<i> inside <Say> ignored, its text kept | <j> inside <Say> ignored, its text kept | "
	  "<k> inside <Say> ignored, its text kept | <l> inside <Say> ignored, its text kept | "
	  "<m> inside <Say> ignored, its text kept | <n> inside <Say> ignored, its text kept",
	  "line 1: elements nested deeper than 16", {0}, 0 },
	/* limits */
	{ "body limit", "<Response><Say>one</Say><Say>two</Say><Say>three</Say></Response>",
	  SAY("one"), "", "body over 30 bytes", { 30, 64, 4096 }, 0 },
	{ "verb limit", "<Response><Say>1</Say><Gather><Say>2</Say></Gather><Say>3</Say>"
	  "</Response>", SAY("1") " | " GATHER_DEFAULTS " | g:" SAY("2") " | /Gather", "",
	  "more than 3 verbs",
	  { 65536, 3, 4096 }, 0 },
	{ "text limit exact", "<Response><Say>  0123456789  </Say></Response>", SAY("0123456789"),
	  "", NULL, { 65536, 64, 10 }, 0 },
	{ "text limit", "<Response><Say>ok</Say><Say>01234 56789</Say></Response>", SAY("ok"), "",
	  "<Say> text over 10 bytes", { 65536, 64, 10 }, 0 },
	{ "URL limit", "<Response><Play>http://example.com/a.wav</Play></Response>", "", "",
	  "<Play> text over 10 bytes", { 65536, 64, 10 }, 0 },
};

static int same(const struct rec *a, const struct rec *b, int err_varies)
{
	return a->rc == b->rc && strcmp(a->verbs, b->verbs) == 0 &&
	       strcmp(a->warns, b->warns) == 0 && (err_varies || strcmp(a->err, b->err) == 0);
}

static void test_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		const struct turnparse_limits *lim = c->lim.max_bytes ? &c->lim : &default_lim;
		struct rec whole, other;
		size_t n = strlen(c->doc), diff_split = 0, k;
		char what[300];
		int ok;

		run(c->doc, lim, 0, 0, &whole);
		ok = c->err ? whole.rc == -1 && strncmp(whole.err, c->err, strlen(c->err)) == 0 &&
			      strchr(whole.err, '\n') == NULL
			    : whole.rc == 0;
		snprintf(what, sizeof(what), "%s: %s", c->name, c->err ? "fails" : "succeeds");
		CHECK_MSG(ok, what);
		if (!ok)
			printf("#   rc %d err \"%s\"\n", whole.rc, whole.err);
		snprintf(what, sizeof(what), "%s: verbs", c->name);
		CHECK_MSG(strcmp(whole.verbs, c->verbs) == 0 && !whole.bad_len, what);
		if (strcmp(whole.verbs, c->verbs) != 0)
			printf("#   got:  %s\n#   want: %s\n", whole.verbs, c->verbs);
		snprintf(what, sizeof(what), "%s: warnings", c->name);
		CHECK_MSG(strcmp(whole.warns, c->warns) == 0, what);
		if (strcmp(whole.warns, c->warns) != 0)
			printf("#   got:  %s\n#   want: %s\n", whole.warns, c->warns);

		run(c->doc, lim, 0, 1, &other);
		snprintf(what, sizeof(what), "%s: a byte at a time gives the same", c->name);
		CHECK_MSG(same(&whole, &other, c->err_varies), what);
		if (!same(&whole, &other, c->err_varies))
			printf("#   got: %d %s / %s / %s\n", other.rc, other.verbs, other.warns,
			       other.err);
		for (k = 1; k < n && !diff_split; k++) {
			run(c->doc, lim, k, 0, &other);
			if (!same(&whole, &other, c->err_varies))
				diff_split = k;
		}
		snprintf(what, sizeof(what), "%s: every split in two gives the same", c->name);
		CHECK_MSG(diff_split == 0, what);
		if (diff_split)
			printf("#   split at %zu: %d %s / %s / %s\n", diff_split, other.rc,
			       other.verbs, other.warns, other.err);
	}
}

/* A verb whose end tag has arrived is handed over before the rest of the body exists. */
static void test_streaming(void)
{
	struct rec r;
	struct turnparse *p;
	const char *first = "<Response><Say>Hi</Say>", *rest = "<Say>there</Say></Response>";

	memset(&r, 0, sizeof(r));
	p = turnparse_new(&default_lim, on_verb, on_warn, &r);
	CHECK(p != NULL);
	CHECK(turnparse_feed(p, first, strlen(first), 0, r.err, sizeof(r.err)) == 0);
	CHECK(r.nverbs == 1);
	CHECK_STR(r.verbs, SAY("Hi"));
	CHECK(turnparse_feed(p, rest, strlen(rest), 0, r.err, sizeof(r.err)) == 0);
	CHECK(r.nverbs == 2);
	CHECK(turnparse_feed(p, NULL, 0, 1, r.err, sizeof(r.err)) == 0);
	CHECK_STR(r.verbs, SAY("Hi") " | " SAY("there"));
	turnparse_free(p);

	/* <Gather> is handed over at its start tag, so its settings are known at once. */
	memset(&r, 0, sizeof(r));
	p = turnparse_new(&default_lim, on_verb, on_warn, &r);
	first = "<Response><Gather timeout=\"2\">";
	CHECK(turnparse_feed(p, first, strlen(first), 0, r.err, sizeof(r.err)) == 0);
	CHECK(r.nverbs == 1);
	turnparse_free(p);
}

/* After an error nothing more is handed over and every feed keeps failing. */
static void test_after_error(void)
{
	struct rec r;
	struct turnparse *p;
	const char *bad = "<Reply>", *more = "<Say>x</Say>";
	char err[64];

	memset(&r, 0, sizeof(r));
	p = turnparse_new(&default_lim, on_verb, on_warn, &r);
	CHECK(turnparse_feed(p, bad, strlen(bad), 0, err, sizeof(err)) == -1);
	CHECK(turnparse_feed(p, more, strlen(more), 0, err, sizeof(err)) == -1);
	CHECK(turnparse_feed(p, NULL, 0, 1, err, sizeof(err)) == -1);
	CHECK_STR(err, "line 1: the root element is <Reply>, not <Response>");
	CHECK(r.nverbs == 0);
	turnparse_free(p);

	/* a short error buffer is cut, not overrun */
	memset(&r, 0, sizeof(r));
	p = turnparse_new(&default_lim, on_verb, on_warn, &r);
	CHECK(turnparse_feed(p, bad, strlen(bad), 1, err, 8) == -1);
	CHECK(strlen(err) == 7);
	turnparse_free(p);

	/* feeding after the final call is an error too */
	memset(&r, 0, sizeof(r));
	p = turnparse_new(&default_lim, on_verb, on_warn, &r);
	CHECK(turnparse_feed(p, "<Response/>", 11, 1, err, sizeof(err)) == 0);
	CHECK(turnparse_feed(p, "x", 1, 0, err, sizeof(err)) == -1);
	turnparse_free(p);
}

/* Warnings are capped per body, and a value quoted in one is cut and kept on one line. */
static void test_warning_flood(void)
{
	char doc[8192] = "<Response><Say a0=\"1\"";
	struct rec r;
	int n = 0;

	for (int i = 1; i < 100; i++)
		snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc), " a%d=\"1\"", i);
	strcat(doc, " loop=\"&#10;abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\">x</Say>"
		    "</Response>");
	run(doc, &default_lim, 0, 0, &r);
	CHECK(r.rc == 0);
	for (const char *s = r.warns; (s = strstr(s, " | ")); s += 3)
		n++;
	CHECK_MSG(n == 32, "33 warnings: 32 and one saying more were not shown");
	CHECK(strstr(r.warns, "more warnings in this answer not shown") != NULL);

	run("<Response><Say loop=\"&#10;abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\">x"
	    "</Say></Response>", &default_lim, 0, 0, &r);
	CHECK_STR(r.warns, "bad value loop=\" abcdefghijklmnopqrstuvwxyzabcdefghijklm...\" of <Say>,"
		  " using 1");
}

int main(void)
{
	turnparse_init();
	test_table();
	test_streaming();
	test_after_error();
	test_warning_flood();
	return check_done();
}
