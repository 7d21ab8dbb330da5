/* twmsg: parse Twilio Media Streams JSON messages into a struct, and build the three
 * messages a bidirectional stream may send back (media, mark, clear). docs/PROTOCOL.md §4. */
#include "twmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base64.h"
#include "twmsg_fast.h"

static const char *const event_names[] = {
	[TWMSG_NONE] = "none",
	[TWMSG_CONNECTED] = "connected",
	[TWMSG_START] = "start",
	[TWMSG_MEDIA] = "media",
	[TWMSG_DTMF] = "dtmf",
	[TWMSG_MARK] = "mark",
	[TWMSG_STOP] = "stop",
};

static const char *const error_names[] = {
	[TWMSG_OK] = "ok",
	[TWMSG_ERR_JSON] = "json",
	[TWMSG_ERR_INVALID] = "invalid",
	[TWMSG_ERR_UNKNOWN_EVENT] = "unknown_event",
	[TWMSG_ERR_BASE64] = "base64",
	[TWMSG_ERR_TOO_BIG] = "too_big",
};

const char *twmsg_event_name(enum twmsg_event e)
{
	if ((unsigned)e >= sizeof(event_names) / sizeof(event_names[0]))
		return "?";
	return event_names[e];
}

const char *twmsg_error_name(enum twmsg_error e)
{
	if ((unsigned)e >= sizeof(error_names) / sizeof(error_names[0]))
		return "?";
	return error_names[e];
}

/* Reset what a parse may set. The struct is ~33 KiB (customParameters), so clearing it
 * whole for each 20 ms media frame would cost more than the parse: clear only the
 * scalars and the first byte of each string; params[] are only read below nparams. */
static void reset(struct twmsg *m)
{
	m->event = TWMSG_NONE;
	m->event_name[0] = m->stream_sid[0] = '\0';
	m->has_seq = 0;
	m->seq = 0;
	m->protocol[0] = m->version[0] = '\0';
	m->account_sid[0] = m->call_sid[0] = m->tracks[0] = m->encoding[0] = '\0';
	m->sample_rate = m->channels = 0;
	m->nparams = 0;
	m->params_dropped = 0;
	m->track[0] = m->chunk[0] = m->timestamp[0] = '\0';
	m->payload = NULL;
	m->payload_len = 0;
	m->digit[0] = '\0';
	m->mark_name[0] = '\0';
}

static enum twmsg_error fail(enum twmsg_error e, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static enum twmsg_error fail(enum twmsg_error e, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return e;
}

/* Copy a string member into DST (CAP bytes). 1 when copied, 0 when absent or not a
 * string, -1 when it does not fit. */
static int get_str(const cJSON *obj, const char *key, char *dst, size_t cap)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	size_t n;

	if (!cJSON_IsString(it) || !it->valuestring)
		return 0;
	n = strlen(it->valuestring);
	if (n >= cap)
		return -1;
	memcpy(dst, it->valuestring, n + 1);
	return 1;
}

/* Informational strings (track, chunk, timestamp…): cut to fit, never an error. */
static void get_str_cut(const cJSON *obj, const char *key, char *dst, size_t cap)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (cJSON_IsString(it) && it->valuestring)
		snprintf(dst, cap, "%s", it->valuestring);
}

/* sequenceNumber is a string of digits in docs/PROTOCOL.md §4.4; accept a JSON number too. */
static void get_seq(const cJSON *root, struct twmsg *m)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "sequenceNumber");
	unsigned long long v = 0;
	const char *s;

	if (cJSON_IsNumber(it)) {
		if (it->valuedouble >= 0 && it->valuedouble < 9.0e15 &&
		    it->valuedouble == (double)(unsigned long long)it->valuedouble) {
			m->seq = (unsigned long long)it->valuedouble;
			m->has_seq = 1;
		}
		return;
	}
	if (!cJSON_IsString(it) || !it->valuestring)
		return;
	s = it->valuestring;
	/* At most 18 digits: no overflow, and far beyond any call's message count. */
	if (!*s || strlen(s) > 18)
		return;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	m->seq = v;
	m->has_seq = 1;
}

static int get_int(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 1e9)
		return 0;
	return (int)it->valuedouble;
}

static enum twmsg_error parse_start(const cJSON *root, struct twmsg *m, char *err,
				    size_t errlen)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "start");
	const cJSON *it, *mf, *cp;
	char sid[TWMSG_SID_MAX];
	size_t used = 0;
	int r;

	if (!cJSON_IsObject(st))
		return fail(TWMSG_ERR_INVALID, err, errlen, "%s missing or not an object",
			    "start");
	r = get_str(st, "callSid", m->call_sid, sizeof(m->call_sid));
	if (r <= 0)
		return fail(TWMSG_ERR_INVALID, err, errlen, "%s missing, not a string or too long",
			    "start.callSid");
	if (get_str(st, "accountSid", m->account_sid, sizeof(m->account_sid)) < 0)
		return fail(TWMSG_ERR_INVALID, err, errlen, "%s too long", "start.accountSid");
	/* start.streamSid, else the top-level one; the call checks its characters */
	r = get_str(st, "streamSid", sid, sizeof(sid));
	if (r < 0)
		return fail(TWMSG_ERR_INVALID, err, errlen, "%s too long", "start.streamSid");
	if (r > 0 && sid[0])
		memcpy(m->stream_sid, sid, sizeof(sid));
	if (!m->stream_sid[0])
		return fail(TWMSG_ERR_INVALID, err, errlen, "%s missing or empty",
			    "start.streamSid");

	it = cJSON_GetObjectItemCaseSensitive(st, "tracks");
	if (cJSON_IsArray(it)) {
		const cJSON *t;

		cJSON_ArrayForEach(t, it) {
			int n;

			if (!cJSON_IsString(t) || !t->valuestring)
				continue;
			n = snprintf(m->tracks + used, sizeof(m->tracks) - used, "%s%s",
				     used ? "," : "", t->valuestring);
			if (n < 0 || (size_t)n >= sizeof(m->tracks) - used) {
				m->tracks[used] = '\0'; /* informational: keep whole names only */
				break;
			}
			used += (size_t)n;
		}
	}

	mf = cJSON_GetObjectItemCaseSensitive(st, "mediaFormat");
	if (cJSON_IsObject(mf)) {
		get_str_cut(mf, "encoding", m->encoding, sizeof(m->encoding));
		m->sample_rate = get_int(mf, "sampleRate");
		m->channels = get_int(mf, "channels");
	}

	/* customParameters: <Parameter>s from the TwiML. One bad entry must not cost the call
	 * its start, so entries that are not strings or break the bounds of
	 * docs/PROTOCOL.md §2.3 are skipped and counted in params_dropped. */
	cp = cJSON_GetObjectItemCaseSensitive(st, "customParameters");
	if (cJSON_IsObject(cp)) {
		const cJSON *p;

		cJSON_ArrayForEach(p, cp) {
			struct twmsg_param *dst;

			if (!p->string || !cJSON_IsString(p) || !p->valuestring ||
			    strlen(p->string) >= TWMSG_PARAM_LEN ||
			    strlen(p->valuestring) >= TWMSG_PARAM_LEN ||
			    m->nparams >= TWMSG_PARAMS_MAX) {
				m->params_dropped++;
				continue;
			}
			dst = &m->params[m->nparams++];
			memcpy(dst->name, p->string, strlen(p->string) + 1);
			memcpy(dst->value, p->valuestring, strlen(p->valuestring) + 1);
		}
	}
	return TWMSG_OK;
}

/* Bytes LEN base64 characters decode to, or -1 when the length cannot be base64. */
static long b64_decoded_len(const char *s, size_t len)
{
	size_t pad = 0;

	if (len % 4)
		return -1;
	if (len && s[len - 1] == '=')
		pad = len > 1 && s[len - 2] == '=' ? 2 : 1;
	return (long)((len / 4) * 3 - pad);
}

static enum twmsg_error parse_media(const cJSON *root, struct twmsg *m, uint8_t *payload,
				    size_t cap, char *err, size_t errlen)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "media");
	const cJSON *pl;
	size_t len;
	long need, got;

	if (!cJSON_IsObject(md))
		return fail(TWMSG_ERR_INVALID, err, errlen, "%s missing or not an object",
			    "media");
	pl = cJSON_GetObjectItemCaseSensitive(md, "payload");
	if (!cJSON_IsString(pl) || !pl->valuestring)
		return fail(TWMSG_ERR_INVALID, err, errlen, "%s missing or not a string",
			    "media.payload");
	get_str_cut(md, "track", m->track, sizeof(m->track));
	get_str_cut(md, "chunk", m->chunk, sizeof(m->chunk));
	get_str_cut(md, "timestamp", m->timestamp, sizeof(m->timestamp));

	len = strlen(pl->valuestring);
	need = b64_decoded_len(pl->valuestring, len);
	if (need < 0)
		return fail(TWMSG_ERR_BASE64, err, errlen, "%s: length is not a multiple of 4",
			    "media.payload");
	if ((size_t)need > cap)
		return fail(TWMSG_ERR_TOO_BIG, err, errlen, "%s decodes to more than the buffer",
			    "media.payload");
	got = base64_decode(pl->valuestring, len, payload, cap);
	if (got < 0)
		return fail(TWMSG_ERR_BASE64, err, errlen, "%s is not valid base64",
			    "media.payload");
	m->payload = payload;
	m->payload_len = (size_t)got;
	return TWMSG_OK;
}

static enum twmsg_error parse_event(const cJSON *root, struct twmsg *m, uint8_t *payload,
				    size_t cap, char *err, size_t errlen)
{
	const cJSON *sub;

	switch (m->event) {
	case TWMSG_CONNECTED:
		get_str_cut(root, "protocol", m->protocol, sizeof(m->protocol));
		get_str_cut(root, "version", m->version, sizeof(m->version));
		return TWMSG_OK;
	case TWMSG_START:
		return parse_start(root, m, err, errlen);
	case TWMSG_MEDIA:
		return parse_media(root, m, payload, cap, err, errlen);
	case TWMSG_DTMF:
		sub = cJSON_GetObjectItemCaseSensitive(root, "dtmf");
		if (!cJSON_IsObject(sub) || get_str(sub, "digit", m->digit, sizeof(m->digit)) <= 0)
			return fail(TWMSG_ERR_INVALID, err, errlen,
				    "%s missing, not a string or too long", "dtmf.digit");
		/* One key of a telephone keypad (docs/PROTOCOL.md §4.3); anything else is refused
		 * here, so peer text never reaches a log line as a "digit". The detail names no
		 * value. */
		if (m->digit[1] || !strchr("0123456789*#ABCD", m->digit[0])) {
			m->digit[0] = '\0';
			return fail(TWMSG_ERR_INVALID, err, errlen, "%s is not one key of 0-9 * # A-D",
				    "dtmf.digit");
		}
		get_str_cut(sub, "track", m->track, sizeof(m->track));
		return TWMSG_OK;
	case TWMSG_MARK:
		sub = cJSON_GetObjectItemCaseSensitive(root, "mark");
		if (!cJSON_IsObject(sub) ||
		    get_str(sub, "name", m->mark_name, sizeof(m->mark_name)) <= 0)
			return fail(TWMSG_ERR_INVALID, err, errlen,
				    "%s missing, not a string or too long", "mark.name");
		return TWMSG_OK;
	case TWMSG_STOP:
		/* stop.{accountSid,callSid} are informational; absent is fine. */
		sub = cJSON_GetObjectItemCaseSensitive(root, "stop");
		if (cJSON_IsObject(sub)) {
			get_str_cut(sub, "callSid", m->call_sid, sizeof(m->call_sid));
			get_str_cut(sub, "accountSid", m->account_sid, sizeof(m->account_sid));
		}
		return TWMSG_OK;
	case TWMSG_NONE:
		break;
	}
	return fail(TWMSG_ERR_UNKNOWN_EVENT, err, errlen, "unknown event \"%s\"", m->event_name);
}

enum twmsg_error twmsg_parse(const char *text, size_t len, struct twmsg *m,
			     uint8_t *payload, size_t cap, char *err, size_t errlen)
{
	/* Media is nearly every message: the fast path takes it when it is exactly the shape
	 * Twilio sends, and gives the same result as below (tests/unit/test_twmsg.c and
	 * fuzz_twmsg compare the two); anything else, errors included, goes the cJSON way. */
	reset(m);
	if (twmsg_fast_media(text, len, m, payload, cap)) {
		if (err && errlen)
			err[0] = '\0';
		return TWMSG_OK;
	}
	return twmsg_parse_tree(text, len, m, payload, cap, err, errlen);
}

enum twmsg_error twmsg_parse_tree(const char *text, size_t len, struct twmsg *m,
				  uint8_t *payload, size_t cap, char *err, size_t errlen)
{
	const cJSON *ev, *sid;
	enum twmsg_error e;
	cJSON *root;
	size_t i;

	reset(m);
	if (err && errlen)
		err[0] = '\0';
	if (!text)
		return fail(TWMSG_ERR_JSON, err, errlen, "%s", "no message");
	root = cJSON_ParseWithLength(text, len);
	if (!root)
		return fail(TWMSG_ERR_JSON, err, errlen, "%s", "not valid JSON");
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return fail(TWMSG_ERR_JSON, err, errlen, "%s", "not a JSON object");
	}

	ev = cJSON_GetObjectItemCaseSensitive(root, "event");
	if (!cJSON_IsString(ev) || !ev->valuestring) {
		cJSON_Delete(root);
		return fail(TWMSG_ERR_INVALID, err, errlen, "%s missing or not a string", "event");
	}
	snprintf(m->event_name, sizeof(m->event_name), "%s", ev->valuestring);
	for (i = TWMSG_CONNECTED; i <= TWMSG_STOP; i++)
		if (strcmp(ev->valuestring, event_names[i]) == 0)
			m->event = (enum twmsg_event)i;

	sid = cJSON_GetObjectItemCaseSensitive(root, "streamSid");
	if (sid && (!cJSON_IsString(sid) || !sid->valuestring ||
		    strlen(sid->valuestring) >= sizeof(m->stream_sid))) {
		cJSON_Delete(root);
		return fail(TWMSG_ERR_INVALID, err, errlen, "%s not a string or too long",
			    "streamSid");
	}
	if (sid)
		memcpy(m->stream_sid, sid->valuestring, strlen(sid->valuestring) + 1);
	get_seq(root, m);

	e = parse_event(root, m, payload, cap, err, errlen);
	cJSON_Delete(root);
	return e;
}

const char *twmsg_param(const struct twmsg *m, const char *name)
{
	size_t i;

	if (m->event != TWMSG_START)
		return NULL;
	for (i = 0; i < m->nparams; i++)
		if (strcmp(m->params[i].name, name) == 0)
			return m->params[i].value;
	return NULL;
}

/* --- building --- */

/* Append S JSON-escaped (RFC 8259 §7) to OUT at *POS. 0, or -1 when CAP is too small.
 * Worst case 6 bytes per input byte (\u00XX). */
static int put_escaped(char *out, size_t cap, size_t *pos, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	/* A sid or a mark name needs no escaping in practice: copy the plain run at once
	 * (each media frame names the sid), then escape byte by byte from the first that
	 * needs it. */
	while (s[run] && s[run] != '"' && s[run] != '\\' && (unsigned char)s[run] >= 0x20)
		run++;
	if (run && *pos + run >= cap)
		return -1;
	memcpy(out + *pos, s, run);
	*pos += run;
	for (s += run; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[7];
		size_t n = 0;

		if (c == '"' || c == '\\') {
			tmp[n++] = '\\';
			tmp[n++] = (char)c;
		} else if (c < 0x20) {
			tmp[n++] = '\\';
			tmp[n++] = 'u';
			tmp[n++] = '0';
			tmp[n++] = '0';
			tmp[n++] = hex[c >> 4];
			tmp[n++] = hex[c & 15];
		} else {
			tmp[n++] = (char)c;
		}
		if (*pos + n >= cap)
			return -1;
		memcpy(out + *pos, tmp, n);
		*pos += n;
	}
	return 0;
}

static int put_raw(char *out, size_t cap, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (*pos + n >= cap)
		return -1;
	memcpy(out + *pos, s, n);
	*pos += n;
	return 0;
}

#define MEDIA_HEAD "{\"event\":\"media\",\"streamSid\":\""
#define MEDIA_MID  "\",\"media\":{\"payload\":\""
#define MEDIA_TAIL "\"}}"
#define MARK_HEAD  "{\"event\":\"mark\",\"streamSid\":\""
#define MARK_MID   "\",\"mark\":{\"name\":\""
#define MARK_TAIL  "\"}}"
#define CLEAR_HEAD "{\"event\":\"clear\",\"streamSid\":\""
#define CLEAR_TAIL "\"}"

size_t twmsg_media_size(size_t sidlen, size_t n)
{
	return sizeof(MEDIA_HEAD) - 1 + 6 * sidlen + sizeof(MEDIA_MID) - 1 +
	       BASE64_ENCODED_LEN(n) + sizeof(MEDIA_TAIL) - 1 + 1;
}

size_t twmsg_mark_size(size_t sidlen, size_t namelen)
{
	return sizeof(MARK_HEAD) - 1 + 6 * sidlen + sizeof(MARK_MID) - 1 + 6 * namelen +
	       sizeof(MARK_TAIL) - 1 + 1;
}

size_t twmsg_clear_size(size_t sidlen)
{
	return sizeof(CLEAR_HEAD) - 1 + 6 * sidlen + sizeof(CLEAR_TAIL) - 1 + 1;
}

long twmsg_build_media(char *out, size_t cap, const char *sid, const uint8_t *ulaw, size_t n)
{
	size_t pos = 0;
	long b;

	if (!out || !cap)
		return -1;
	out[0] = '\0';
	if (put_raw(out, cap, &pos, MEDIA_HEAD) || put_escaped(out, cap, &pos, sid) ||
	    put_raw(out, cap, &pos, MEDIA_MID))
		goto toosmall;
	b = base64_encode(ulaw, n, out + pos, cap - pos);
	if (b < 0)
		goto toosmall;
	pos += (size_t)b;
	if (put_raw(out, cap, &pos, MEDIA_TAIL))
		goto toosmall;
	out[pos] = '\0';
	return (long)pos;
toosmall:
	out[0] = '\0';
	return -1;
}

long twmsg_build_mark(char *out, size_t cap, const char *sid, const char *name)
{
	size_t pos = 0;

	if (!out || !cap)
		return -1;
	if (put_raw(out, cap, &pos, MARK_HEAD) || put_escaped(out, cap, &pos, sid) ||
	    put_raw(out, cap, &pos, MARK_MID) || put_escaped(out, cap, &pos, name) ||
	    put_raw(out, cap, &pos, MARK_TAIL)) {
		out[0] = '\0';
		return -1;
	}
	out[pos] = '\0';
	return (long)pos;
}

long twmsg_build_clear(char *out, size_t cap, const char *sid)
{
	size_t pos = 0;

	if (!out || !cap)
		return -1;
	if (put_raw(out, cap, &pos, CLEAR_HEAD) || put_escaped(out, cap, &pos, sid) ||
	    put_raw(out, cap, &pos, CLEAR_TAIL)) {
		out[0] = '\0';
		return -1;
	}
	out[pos] = '\0';
	return (long)pos;
}
