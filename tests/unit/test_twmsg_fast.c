/* test_twmsg_fast: the media fast path against the cJSON path on generated and mutated
 * messages (same result, or the fast path declines), and the builders against a printf one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "check.h"
#include "twmsg.h"
#include "twmsg_fast.h"

/* ~33 KiB each: not on the stack */
static struct twmsg a, b;
static uint8_t pa[512], pb[512];
static char msgbuf[8192];

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

/* Every field a parse may set; payload bytes by content (the buffers differ). */
static int same(const struct twmsg *x, const struct twmsg *y)
{
	size_t i;

	if (x->event != y->event || strcmp(x->event_name, y->event_name) ||
	    strcmp(x->stream_sid, y->stream_sid) || x->has_seq != y->has_seq || x->seq != y->seq ||
	    strcmp(x->protocol, y->protocol) || strcmp(x->version, y->version) ||
	    strcmp(x->account_sid, y->account_sid) || strcmp(x->call_sid, y->call_sid) ||
	    strcmp(x->tracks, y->tracks) || strcmp(x->encoding, y->encoding) ||
	    x->sample_rate != y->sample_rate || x->channels != y->channels ||
	    x->nparams != y->nparams || x->params_dropped != y->params_dropped ||
	    strcmp(x->track, y->track) || strcmp(x->chunk, y->chunk) ||
	    strcmp(x->timestamp, y->timestamp) || !x->payload != !y->payload ||
	    x->payload_len != y->payload_len || strcmp(x->digit, y->digit) ||
	    strcmp(x->mark_name, y->mark_name))
		return 0;
	if (x->payload && memcmp(x->payload, y->payload, x->payload_len))
		return 0;
	for (i = 0; i < x->nparams; i++)
		if (strcmp(x->params[i].name, y->params[i].name) ||
		    strcmp(x->params[i].value, y->params[i].value))
			return 0;
	return 1;
}

static unsigned long n_fast, n_declined, n_mismatch;

/* One message through both: the fast path alone on a reset struct, and twmsg_parse (fast
 * first) against twmsg_parse_tree with error kinds and texts. */
static void differ(const char *text, size_t len, const char *what)
{
	char ea[160], eb[160];
	enum twmsg_error ra, rb;
	int f;

	/* what twmsg_parse's reset leaves: zero scalars, empty strings */
	memset(&a, 0, sizeof(a));
	f = twmsg_fast_media(text, len, &a, pa, sizeof(pa));
	rb = twmsg_parse_tree(text, len, &b, pb, sizeof(pb), eb, sizeof(eb));
	if (f) {
		n_fast++;
		if (rb != TWMSG_OK || !same(&a, &b)) {
			n_mismatch++;
			printf("# fast path differs (%s): %.*s\n", what, (int)(len > 300 ? 300 : len),
			       text);
		}
	} else {
		n_declined++;
	}
	ra = twmsg_parse(text, len, &a, pa, sizeof(pa), ea, sizeof(ea));
	if (ra != rb || strcmp(ea, eb) || !same(&a, &b)) {
		n_mismatch++;
		printf("# twmsg_parse differs from the tree (%s): %.*s\n", what,
		       (int)(len > 300 ? 300 : len), text);
	}
}

static void rand_str(char *dst, size_t maxlen, const char *alphabet)
{
	size_t n = rnd((uint32_t)maxlen + 1), i, k = strlen(alphabet);

	for (i = 0; i < n; i++)
		dst[i] = alphabet[rnd((uint32_t)k)];
	dst[n] = '\0';
}

/* A media message with the keys in a random order, some left out, values of random
 * length and content (mostly well-formed: the point is the accept side too). */
static size_t gen_media(char *out, size_t cap)
{
	static const char digits[] = "0123456789";
	static const char alnum[] = "0123456789abcdefABCDEFMZxyz";
	char top[4][700], med[4][600], sid[80], seq[24], v[80];
	uint8_t raw[300];
	size_t ntop = 0, nmed = 0, i, n, o;
	int order[4] = { 0, 1, 2, 3 };

	/* media members */
	for (i = 0; i < 3; i++) {
		static const char *const keys[] = { "track", "chunk", "timestamp" };

		if (rnd(6) == 0)
			continue;
		rand_str(v, rnd(4) ? 12 : 70, rnd(2) ? alnum : digits);
		snprintf(med[nmed++], sizeof(med[0]), "\"%s\":\"%s\"", keys[i], v);
	}
	if (rnd(12)) {
		char b64[420];

		n = rnd(4) ? 160 : rnd(300);
		for (i = 0; i < n; i++)
			raw[i] = (uint8_t)rnd(256);
		base64_encode(raw, n, b64, sizeof(b64));
		snprintf(med[nmed++], sizeof(med[0]), "\"payload\":\"%s\"", b64);
	}
	/* top-level members */
	if (rnd(12))
		snprintf(top[ntop++], sizeof(top[0]), "\"event\":\"%s\"", rnd(10) ? "media" : "mark");
	if (rnd(6)) {
		rand_str(seq, rnd(8) ? 6 : 21, rnd(8) ? digits : alnum);
		snprintf(top[ntop++], sizeof(top[0]), "\"sequenceNumber\":\"%s\"", seq);
	}
	if (rnd(6)) {
		rand_str(sid, rnd(8) ? 34 : 70, alnum);
		snprintf(top[ntop++], sizeof(top[0]), "\"streamSid\":\"%s\"", sid);
	}
	if (rnd(12)) {
		o = (size_t)snprintf(top[ntop], sizeof(top[0]), "\"media\":{");
		for (i = nmed; i > 1; i--) {   /* shuffle */
			int j = (int)rnd((uint32_t)i), t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		for (i = 0; i < nmed; i++)
			o += (size_t)snprintf(top[ntop] + o, sizeof(top[0]) - o, "%s%s", i ? "," : "",
					      med[order[i]]);
		snprintf(top[ntop] + o, sizeof(top[0]) - o, "}");
		ntop++;
	}
	for (i = 0; i < 4; i++)
		order[i] = (int)i;
	for (i = ntop; i > 1; i--) {
		int j = (int)rnd((uint32_t)i), t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	o = (size_t)snprintf(out, cap, "{");
	for (i = 0; i < ntop; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "", top[order[i]]);
	o += (size_t)snprintf(out + o, cap - o, "}");
	return o;
}

/* One random edit: the bytes that matter to a JSON scanner, and a few that do not. */
static size_t mutate(char *s, size_t len, size_t cap)
{
	static const char pick[] = "\"\\{}[],: \t\n0aA=+/-.e\x01\x7f\x80\xff";
	size_t at = len ? rnd((uint32_t)len) : 0;
	char c = pick[rnd(sizeof(pick) - 1)];

	switch (rnd(6)) {
	case 0:   /* replace */
		if (len)
			s[at] = c;
		return len;
	case 1:   /* insert */
		if (len + 1 >= cap)
			return len;
		memmove(s + at + 1, s + at, len - at);
		s[at] = c;
		return len + 1;
	case 2:   /* delete */
		if (!len)
			return 0;
		memmove(s + at, s + at + 1, len - at - 1);
		return len - 1;
	case 3:   /* truncate */
		return at;
	case 4:   /* a NUL inside */
		if (len)
			s[at] = '\0';
		return len;
	default:  /* duplicate a stretch (keys twice, objects doubled) */
	{
		size_t n = rnd(40), from = at;

		if (from + n > len)
			n = len - from;
		if (len + n >= cap)
			return len;
		memmove(s + at + n, s + at, len - at);
		memcpy(s + at, s + from + n, n);
		return len + n;
	}
	}
}

static int fast_takes(const char *text)
{
	memset(&a, 0, sizeof(a));
	return twmsg_fast_media(text, strlen(text), &a, pa, sizeof(pa));
}

#define MZ "MZ0123456789abcdef0123456789abcdef"
#define PL "/38AgFXV"

static void test_shapes(void)
{
	/* the order of docs/PROTOCOL.md §4.3, and callpipe-sim's (streamSid last) */
	CHECK(fast_takes("{\"event\":\"media\",\"sequenceNumber\":\"2\",\"streamSid\":\"" MZ "\","
			 "\"media\":{\"track\":\"inbound\",\"chunk\":\"1\",\"timestamp\":\"0\","
			 "\"payload\":\"" PL "\"}}"));
	CHECK(a.event == TWMSG_MEDIA && a.has_seq && a.seq == 2 && a.payload_len == 6);
	CHECK_STR(a.stream_sid, MZ);
	CHECK_STR(a.track, "inbound");
	CHECK(fast_takes("{\"event\":\"media\",\"sequenceNumber\":\"9\",\"media\":{\"track\":"
			 "\"inbound\",\"chunk\":\"8\",\"timestamp\":\"140\",\"payload\":\"" PL "\"},"
			 "\"streamSid\":\"" MZ "\"}"));
	CHECK_STR(a.timestamp, "140");
	/* what it leaves to cJSON: whitespace, escapes, numbers, extra or doubled keys,
	 * trailing bytes, other events, bad base64 */
	CHECK(!fast_takes("{\"event\": \"media\",\"media\":{\"payload\":\"" PL "\"}}"));
	CHECK(!fast_takes("{\"event\":\"medi\\u0061\",\"media\":{\"payload\":\"" PL "\"}}"));
	CHECK(!fast_takes("{\"event\":\"media\",\"sequenceNumber\":2,\"media\":{\"payload\":\""
			  PL "\"}}"));
	CHECK(!fast_takes("{\"event\":\"media\",\"x\":\"1\",\"media\":{\"payload\":\"" PL "\"}}"));
	CHECK(!fast_takes("{\"event\":\"media\",\"media\":{\"payload\":\"" PL "\",\"payload\":\""
			  "AAAA\"}}"));
	CHECK(!fast_takes("{\"event\":\"media\",\"media\":{\"payload\":\"" PL "\"}}x"));
	CHECK(!fast_takes("{\"event\":\"mark\",\"media\":{\"payload\":\"" PL "\"}}"));
	CHECK(!fast_takes("{\"event\":\"media\",\"media\":{\"payload\":\"AAA\\\"\"}}"));
	CHECK(!fast_takes("{\"event\":\"media\",\"media\":{\"track\":\"x\"}}"));
}

static void test_differential(void)
{
	static char base[8192];
	size_t len, blen;
	int i, k, e;

	for (i = 0; i < 20000; i++) {
		blen = gen_media(base, sizeof(base));
		differ(base, blen, "generated");
		for (k = 0; k < 4; k++) {
			memcpy(msgbuf, base, blen);
			len = blen;
			for (e = 0, len = mutate(msgbuf, len, sizeof(msgbuf)); e < k; e++)
				len = mutate(msgbuf, len, sizeof(msgbuf));
			differ(msgbuf, len, "mutated");
		}
	}
	printf("# fast path took %lu, declined %lu\n", n_fast, n_declined);
	CHECK_MSG(n_mismatch == 0, "fast path and cJSON path agree on 100000 messages");
	/* the generator reaches both sides, or the comparison proves nothing */
	CHECK(n_fast > 5000);
	CHECK(n_declined > 20000);
}

/* --- builders: the memcpy templates against printf and a plain escaper --- */

static void ref_escape(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\%c", c);
		else if (c < 0x20)
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

static void test_builders(void)
{
	static const char alpha[] = "MZ09af\"\\\x01\x1f x\x7f\xc3\xa9";
	static char want[4096], got[4096], esid[512], ename[512], b64[1024];
	char sid[72], name[72];
	uint8_t raw[600];
	int i, bad = 0;
	size_t n, j;
	long r;


	for (i = 0; i < 5000; i++) {
		rand_str(sid, i % 4 ? 34 : 70, i % 3 ? "0123456789abcdefMZ" : alpha);
		rand_str(name, 40, alpha);
		n = rnd(600);
		for (j = 0; j < n; j++)
			raw[j] = (uint8_t)rnd(256);
		ref_escape(esid, sizeof(esid), sid);
		ref_escape(ename, sizeof(ename), name);
		base64_encode(raw, n, b64, sizeof(b64));

		snprintf(want, sizeof(want), "{\"event\":\"media\",\"streamSid\":\"%s\",\"media\":"
			 "{\"payload\":\"%s\"}}", esid, b64);
		r = twmsg_build_media(got, twmsg_media_size(strlen(sid), n), sid, raw, n);
		if (r != (long)strlen(want) || strcmp(got, want))
			bad++;
		/* no room for the NUL: refused, with an empty string */
		r = twmsg_build_media(got, strlen(want), sid, raw, n);
		if (r != -1 || got[0])
			bad++;
		snprintf(want, sizeof(want), "{\"event\":\"mark\",\"streamSid\":\"%s\",\"mark\":"
			 "{\"name\":\"%s\"}}", esid, ename);
		r = twmsg_build_mark(got, twmsg_mark_size(strlen(sid), strlen(name)), sid, name);
		if (r != (long)strlen(want) || strcmp(got, want))
			bad++;
		snprintf(want, sizeof(want), "{\"event\":\"clear\",\"streamSid\":\"%s\"}", esid);
		r = twmsg_build_clear(got, twmsg_clear_size(strlen(sid)), sid);
		if (r != (long)strlen(want) || strcmp(got, want))
			bad++;
	}
	CHECK_MSG(bad == 0, "media, mark and clear byte-identical to printf on 5000 inputs");
}

int main(void)
{
	test_shapes();
	test_differential();
	test_builders();
	return check_done();
}
