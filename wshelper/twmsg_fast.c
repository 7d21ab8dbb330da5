/* twmsg_fast: the media message without a cJSON tree (no malloc per frame). It declines
 * rather than judges: whatever it does not recognize completely goes to twmsg.c's parser. */
#include "twmsg_fast.h"

#include <string.h>

#include "base64.h"

struct cur {
	const char *p, *end;
};

/* A JSON string at C->p made only of printable ASCII other than '"' and '\\' (so its
 * bytes are its value, exactly as cJSON would decode it). Sets *S and *N to the value. */
static int scan_str(struct cur *c, const char **s, size_t *n)
{
	const char *q;

	if (c->p >= c->end || *c->p != '"')
		return 0;
	for (q = c->p + 1; q < c->end && *q != '"'; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e || *q == '\\')
			return 0;
	if (q >= c->end)
		return 0;
	*s = c->p + 1;
	*n = (size_t)(q - *s);
	c->p = q + 1;
	return 1;
}

/* The payload string: found with memchr; base64_decode then refuses any byte outside the
 * alphabet, so an escape or control character inside it makes the whole message decline. */
static int scan_payload(struct cur *c, const char **s, size_t *n)
{
	const char *q;

	if (c->p >= c->end || *c->p != '"')
		return 0;
	q = memchr(c->p + 1, '"', (size_t)(c->end - c->p - 1));
	if (!q)
		return 0;
	*s = c->p + 1;
	*n = (size_t)(q - *s);
	c->p = q + 1;
	return 1;
}

static int expect(struct cur *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return 0;
	c->p++;
	return 1;
}

static int is_key(const char *s, size_t n, const char *key)
{
	return strlen(key) == n && memcmp(s, key, n) == 0;
}

/* As twmsg.c's get_str_cut: informational strings cut to fit. */
static void copy_cut(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* As twmsg.c's get_seq for a string: 1 to 18 decimal digits, else no number. */
static void set_seq(struct twmsg *m, const char *s, size_t n)
{
	unsigned long long v = 0;
	size_t i;

	if (n == 0 || n > 18)
		return;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	m->seq = v;
	m->has_seq = 1;
}

enum { K_TRACK = 1, K_CHUNK = 2, K_TIMESTAMP = 4, K_PAYLOAD = 8 };

static int scan_media(struct cur *c, struct twmsg *m, const char **pl, size_t *pln)
{
	unsigned seen = 0, bit;
	const char *k, *v;
	size_t kn, vn;

	if (!expect(c, '{'))
		return 0;
	for (;;) {
		if (!scan_str(c, &k, &kn) || !expect(c, ':'))
			return 0;
		if (is_key(k, kn, "payload")) {
			bit = K_PAYLOAD;
			if (!scan_payload(c, pl, pln))
				return 0;
		} else {
			if (is_key(k, kn, "track"))
				bit = K_TRACK;
			else if (is_key(k, kn, "chunk"))
				bit = K_CHUNK;
			else if (is_key(k, kn, "timestamp"))
				bit = K_TIMESTAMP;
			else
				return 0;
			if (!scan_str(c, &v, &vn))
				return 0;
			if (bit == K_TRACK)
				copy_cut(m->track, sizeof(m->track), v, vn);
			else if (bit == K_CHUNK)
				copy_cut(m->chunk, sizeof(m->chunk), v, vn);
			else
				copy_cut(m->timestamp, sizeof(m->timestamp), v, vn);
		}
		if (seen & bit)
			return 0;   /* cJSON would take the first of two: not ours to guess */
		seen |= bit;
		if (expect(c, '}'))
			return (seen & K_PAYLOAD) != 0;
		if (!expect(c, ','))
			return 0;
	}
}

enum { T_EVENT = 1, T_SEQ = 2, T_SID = 4, T_MEDIA = 8 };

int twmsg_fast_media(const char *text, size_t len, struct twmsg *m, uint8_t *payload,
		     size_t cap)
{
	struct cur c = { text, text + len };
	unsigned seen = 0, bit;
	const char *k, *v, *pl = NULL;
	size_t kn, vn, pln = 0;
	long got;

	if (!text || !expect(&c, '{'))
		return 0;
	for (;;) {
		if (!scan_str(&c, &k, &kn) || !expect(&c, ':'))
			return 0;
		if (is_key(k, kn, "media")) {
			bit = T_MEDIA;
			if (!scan_media(&c, m, &pl, &pln))
				return 0;
		} else {
			if (is_key(k, kn, "event"))
				bit = T_EVENT;
			else if (is_key(k, kn, "sequenceNumber"))
				bit = T_SEQ;
			else if (is_key(k, kn, "streamSid"))
				bit = T_SID;
			else
				return 0;
			if (!scan_str(&c, &v, &vn))
				return 0;
			if (bit == T_EVENT && !is_key(v, vn, "media"))
				return 0;
			if (bit == T_SEQ)
				set_seq(m, v, vn);
			if (bit == T_SID) {
				if (vn >= sizeof(m->stream_sid))
					return 0;   /* the cJSON path names the error */
				memcpy(m->stream_sid, v, vn);
				m->stream_sid[vn] = '\0';
			}
		}
		if (seen & bit)
			return 0;
		seen |= bit;
		if (expect(&c, '}'))
			break;
		if (!expect(&c, ','))
			return 0;
	}
	/* The object must be the whole message: cJSON would ignore what follows it. */
	if (c.p != c.end || !(seen & T_EVENT) || !(seen & T_MEDIA))
		return 0;
	/* base64_decode refuses a length that is not whole quanta, a result over CAP and any
	 * byte outside the alphabet: each is twmsg.c's parse_media to report precisely. */
	got = base64_decode(pl, pln, payload, cap);
	if (got < 0)
		return 0;
	m->event = TWMSG_MEDIA;
	memcpy(m->event_name, "media", sizeof("media"));
	m->payload = payload;
	m->payload_len = (size_t)got;
	return 1;
}
