/* simmsg: Twilio's side of Media Streams (docs/PROTOCOL.md §4): the JSON messages Twilio
 * sends, built into a buffer, and the server's messages parsed as strictly as Twilio does. */
#include "simmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base64.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return SIM_ERR_INVALID;
}

/* Every key of OBJ must be one of ALLOWED (NULL-terminated); else name the first stray. */
static const char *stray_key(const cJSON *obj, const char *const *allowed)
{
	const cJSON *it;
	size_t i;

	cJSON_ArrayForEach(it, obj) {
		for (i = 0; allowed[i]; i++)
			if (it->string && strcmp(it->string, allowed[i]) == 0)
				break;
		if (!allowed[i])
			return it->string ? it->string : "";
	}
	return NULL;
}

static int parse_media(const cJSON *root, uint8_t *buf, size_t cap, struct sim_srv_msg *out,
		       char *err, size_t errlen)
{
	static const char *const media_keys[] = { "payload", NULL };
	const cJSON *media = cJSON_GetObjectItemCaseSensitive(root, "media"), *pl;
	const char *k;
	size_t plen;
	long n;

	if (!cJSON_IsObject(media))
		return fail(err, errlen, "media message without a \"media\" object");
	if ((k = stray_key(media, media_keys)))
		return fail(err, errlen, "unknown key \"media.%s\" (only \"payload\" is allowed)", k);
	pl = cJSON_GetObjectItemCaseSensitive(media, "payload");
	if (!cJSON_IsString(pl) || !pl->valuestring)
		return fail(err, errlen, "media without a \"media.payload\" string");
	plen = strlen(pl->valuestring);
	if (plen == 0)
		return fail(err, errlen, "media with an empty payload");
	if (BASE64_DECODED_MAX(plen) > cap)
		return fail(err, errlen, "media payload of %zu base64 characters is too big", plen);
	n = base64_decode(pl->valuestring, plen, buf, cap);
	if (n < 0)
		return fail(err, errlen, "media payload is not valid base64");
	if (n == 0)
		return fail(err, errlen, "media with an empty payload");
	out->kind = SIM_MSG_MEDIA;
	out->payload_len = (size_t)n;
	/* "base64 µ-law 8 kHz mono, no file header" (docs/PROTOCOL.md §4.5): a WAV file's
	 * header would be played as a burst of noise. */
	out->wav_header = n >= 4 && memcmp(buf, "RIFF", 4) == 0;
	return 0;
}

int sim_msg_parse(const char *text, size_t len, const char *stream_sid, uint8_t *buf,
		  size_t cap, struct sim_srv_msg *out, char *err, size_t errlen)
{
	static const char *const media_top[] = { "event", "streamSid", "media", NULL };
	static const char *const mark_top[] = { "event", "streamSid", "mark", NULL };
	static const char *const mark_keys[] = { "name", NULL };
	static const char *const clear_top[] = { "event", "streamSid", NULL };
	const char *const *allowed;
	const char *end = NULL, *k, *ev;
	const cJSON *e, *sid, *mark, *name;
	cJSON *root;
	int rc;

	memset(out, 0, sizeof(*out));
	if (errlen)
		err[0] = '\0';
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root)
		return fail(err, errlen, "not JSON (error near byte %ld)",
			    (long)((cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : text) - text));
	/* Trailing bytes after the object mean it was not one JSON document. */
	while (end && end < text + len && (*end == ' ' || *end == '\n' || *end == '\r' ||
					   *end == '\t'))
		end++;
	if (end && end < text + len) {
		rc = fail(err, errlen, "not JSON (trailing bytes after the object)");
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		rc = fail(err, errlen, "not a JSON object");
		goto out;
	}
	e = cJSON_GetObjectItemCaseSensitive(root, "event");
	if (!cJSON_IsString(e) || !e->valuestring) {
		rc = fail(err, errlen, "no \"event\" string");
		goto out;
	}
	ev = e->valuestring;
	if (strcmp(ev, "media") == 0) {
		allowed = media_top;
	} else if (strcmp(ev, "mark") == 0) {
		allowed = mark_top;
	} else if (strcmp(ev, "clear") == 0) {
		allowed = clear_top;
	} else {
		rc = fail(err, errlen, "event \"%.40s\" is not one a server may send "
			  "(media, mark, clear)", ev);
		goto out;
	}
	if ((k = stray_key(root, allowed))) {
		rc = fail(err, errlen, "%s message with unknown key \"%.40s\"", ev, k);
		goto out;
	}
	sid = cJSON_GetObjectItemCaseSensitive(root, "streamSid");
	if (!cJSON_IsString(sid) || !sid->valuestring) {
		rc = fail(err, errlen, "%s message without a \"streamSid\" string", ev);
		goto out;
	}
	if (!stream_sid) {
		rc = fail(err, errlen, "%s message sent before start gave the streamSid", ev);
		goto out;
	}
	if (strcmp(sid->valuestring, stream_sid) != 0) {
		rc = fail(err, errlen, "%s message with streamSid \"%.40s\", not this stream's %s",
			  ev, sid->valuestring, stream_sid);
		goto out;
	}
	if (allowed == media_top) {
		rc = parse_media(root, buf, cap, out, err, errlen);
	} else if (allowed == mark_top) {
		mark = cJSON_GetObjectItemCaseSensitive(root, "mark");
		if (!cJSON_IsObject(mark)) {
			rc = fail(err, errlen, "mark message without a \"mark\" object");
			goto out;
		}
		if ((k = stray_key(mark, mark_keys))) {
			rc = fail(err, errlen, "unknown key \"mark.%.40s\" (only \"name\")", k);
			goto out;
		}
		name = cJSON_GetObjectItemCaseSensitive(mark, "name");
		if (!cJSON_IsString(name) || !name->valuestring || !name->valuestring[0]) {
			rc = fail(err, errlen, "mark without a non-empty \"mark.name\" string");
			goto out;
		}
		out->kind = SIM_MSG_MARK;
		snprintf(out->mark, sizeof(out->mark), "%s", name->valuestring);
		rc = 0;
	} else {
		out->kind = SIM_MSG_CLEAR;
		rc = 0;
	}
out:
	if (rc)
		out->kind = SIM_MSG_NONE;
	cJSON_Delete(root);
	return rc;
}

/* Append S to OUT as the inside of a JSON string; returns the new used length or -1. */
static long json_str(char *out, size_t cap, size_t used, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (used + 7 >= cap)
			return -1;
		if (c == '"' || c == '\\') {
			out[used++] = '\\';
			out[used++] = (char)c;
		} else if (c < 0x20) {
			memcpy(out + used, "\\u00", 4);
			used += 4;
			out[used++] = hex[c >> 4];
			out[used++] = hex[c & 15];
		} else {
			out[used++] = (char)c;
		}
	}
	out[used] = '\0';
	return (long)used;
}

static long done(int n, size_t cap)
{
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

long sim_msg_connected(char *out, size_t cap)
{
	return done(snprintf(out, cap,
			     "{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}"),
		    cap);
}

long sim_msg_start(char *out, size_t cap, unsigned long seq, const char *account_sid,
		   const char *stream_sid, const char *call_sid, const char *params_json)
{
	return done(snprintf(out, cap,
		"{\"event\":\"start\",\"sequenceNumber\":\"%lu\",\"start\":{\"accountSid\":\"%s\","
		"\"streamSid\":\"%s\",\"callSid\":\"%s\",\"tracks\":[\"inbound\"],"
		"\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\",\"sampleRate\":8000,"
		"\"channels\":1},\"customParameters\":%s},\"streamSid\":\"%s\"}",
		seq, account_sid, stream_sid, call_sid, params_json ? params_json : "{}",
		stream_sid), cap);
}

long sim_msg_media(char *out, size_t cap, unsigned long seq, unsigned long chunk,
		   unsigned long timestamp_ms, const uint8_t *payload, size_t len,
		   const char *stream_sid)
{
	int n = snprintf(out, cap, "{\"event\":\"media\",\"sequenceNumber\":\"%lu\",\"media\":"
			 "{\"track\":\"inbound\",\"chunk\":\"%lu\",\"timestamp\":\"%lu\","
			 "\"payload\":\"", seq, chunk, timestamp_ms);
	long b;

	if (n < 0 || (size_t)n >= cap)
		return -1;
	b = base64_encode(payload, len, out + n, cap - (size_t)n);
	if (b < 0)
		return -1;
	n += (int)b;
	return done(n + snprintf(out + n, cap - (size_t)n, "\"},\"streamSid\":\"%s\"}",
				 stream_sid), cap);
}

long sim_msg_dtmf(char *out, size_t cap, unsigned long seq, char digit, const char *stream_sid)
{
	return done(snprintf(out, cap, "{\"event\":\"dtmf\",\"streamSid\":\"%s\","
			     "\"sequenceNumber\":\"%lu\",\"dtmf\":{\"track\":\"inbound_track\","
			     "\"digit\":\"%c\"}}", stream_sid, seq, digit), cap);
}

long sim_msg_mark(char *out, size_t cap, unsigned long seq, const char *name,
		  const char *stream_sid)
{
	int n = snprintf(out, cap, "{\"event\":\"mark\",\"sequenceNumber\":\"%lu\","
			 "\"streamSid\":\"%s\",\"mark\":{\"name\":\"", seq, stream_sid);
	long u;

	if (n < 0 || (size_t)n >= cap)
		return -1;
	u = json_str(out, cap, (size_t)n, name);
	if (u < 0 || (size_t)u + 3 >= cap)
		return -1;
	memcpy(out + u, "\"}}", 4);
	return u + 3;
}

long sim_msg_stop(char *out, size_t cap, unsigned long seq, const char *account_sid,
		  const char *call_sid, const char *stream_sid)
{
	return done(snprintf(out, cap, "{\"event\":\"stop\",\"sequenceNumber\":\"%lu\",\"stop\":"
			     "{\"accountSid\":\"%s\",\"callSid\":\"%s\"},\"streamSid\":\"%s\"}",
			     seq, account_sid, call_sid, stream_sid), cap);
}

char *sim_msg_params_json(const char *const *names, const char *const *values, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	char *s;
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < n; i++) {
		if (!cJSON_AddStringToObject(o, names[i], values[i])) {
			cJSON_Delete(o);
			return NULL;
		}
	}
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}
