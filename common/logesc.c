/* logesc: one pass over each value (plus one bounded look-ahead pass to decide quoting and
 * cutting), so a long or hostile value costs time in proportion to the budget, not to it. */
#include "logesc.h"

#include <string.h>

#include "strutil.h"

static const char ellipsis[] = "\xe2\x80\xa6";   /* U+2026 "…", 3 bytes */
#define ELLIPSIS_LEN (sizeof(ellipsis) - 1)

/* One input character and what it becomes. */
struct unit {
	size_t in;        /* input bytes it stands for */
	size_t out;       /* output bytes */
	int quote;        /* LOGESC_LOGFMT must quote a value holding it */
	char esc[16];     /* the output when it is not the input itself */
	int raw;          /* the output is the input bytes */
};

static const char hex[] = "0123456789ABCDEF";

static void hex_bytes(struct unit *u, const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		u->esc[4 * i] = '\\';
		u->esc[4 * i + 1] = 'x';
		u->esc[4 * i + 2] = hex[s[i] >> 4];
		u->esc[4 * i + 3] = hex[s[i] & 15];
	}
	u->in = n;
	u->out = 4 * n;
	u->quote = 1;
	u->raw = 0;
}

/* Characters that reorder or split a displayed line although they are not controls:
 * U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069, U+2028, U+2029. */
static int is_layout_char(const unsigned char *s, size_t n)
{
	if (n == 2)
		return s[0] == 0xd8 && s[1] == 0x9c;
	if (n != 3 || s[0] != 0xe2)
		return 0;
	if (s[1] == 0x80)
		return s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xa8 && s[2] <= 0xae);
	if (s[1] == 0x81)
		return s[2] >= 0xa6 && s[2] <= 0xa9;
	return 0;
}

size_t logesc_plain_len(const unsigned char *s, size_t avail)
{
	size_t n;

	if (!avail)
		return 0;
	if (s[0] < 0x80)
		return s[0] >= 0x20 && s[0] != 0x7f;
	n = strutil_utf8_len(s, avail);
	if ((n == 2 && s[0] == 0xc2 && s[1] <= 0x9f) || is_layout_char(s, n))
		return 0;
	return n;
}

/* Classify the character at S (S[0] != 0; the string goes on up to its NUL). */
static void classify(const unsigned char *s, enum logesc_mode mode, struct unit *u)
{
	size_t avail, n;

	u->in = u->out = 1;
	u->quote = 0;
	u->raw = 1;
	if (s[0] < 0x80) {
		unsigned char c = s[0];

		if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t') {
			u->esc[0] = '\\';
			u->esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : (char)c;
			u->out = 2;
			u->quote = 1;
			u->raw = 0;
		} else if (c < 0x20 || c == 0x7f || (c == ' ' && mode == LOGESC_WORD)) {
			hex_bytes(u, s, 1);
		} else if (c == ' ' || c == '=') {
			u->quote = 1;
		}
		return;
	}
	/* Look at most 4 bytes ahead and never past the NUL. */
	for (avail = 1; avail < 4 && s[avail]; avail++)
		;
	n = logesc_plain_len(s, avail);
	if (n) {
		u->in = u->out = n;
		return;
	}
	/* invalid UTF-8 byte by byte; C1 controls (0x9B is CSI to a terminal) and the layout
	 * characters as the \xHH of each of their bytes */
	n = strutil_utf8_len(s, avail);
	hex_bytes(u, s, n ? n : 1);
}

size_t logesc_put(struct bytebuf *out, const char *str, size_t budget, enum logesc_mode mode)
{
	const unsigned char *s = (const unsigned char *)(str ? str : ""), *p, *run;
	struct unit u;
	size_t content = 0, read = 0, limit, used = 0;
	int quote = mode == LOGESC_LOGFMT && !*s, cut = 0, short_room = 0;

	if (budget > bytebuf_room(out)) {
		budget = bytebuf_room(out);
		short_room = 1;
	}
	/* Look-ahead: the escaped length up to the budget, and whether quotes are needed.
	 * Stops as soon as the value is known not to fit. */
	for (p = s; *p; p += u.in) {
		classify(p, mode, &u);
		read += u.in;
		content += u.out;
		if (u.quote && mode == LOGESC_LOGFMT)
			quote = 1;
		if (content > budget) {
			cut = 1;
			break;
		}
	}
	if (!cut && content + (quote ? 2 : 0) > budget)
		cut = 1;
	limit = (quote ? 2 : 0) + (cut ? ELLIPSIS_LEN : 0);
	if (cut && short_room && out->fixed)
		out->cut = 1;   /* the buffer, not the caller's budget, cut the value */
	if (limit > budget)
		return read;
	limit = budget - limit;
	if (quote)
		bytebuf_putc(out, '"');
	/* Characters written as they are go out in runs: one copy per run, not per byte. */
	run = s;
	for (p = s; *p; p += u.in) {
		classify(p, mode, &u);
		if (used + u.out > limit)
			break;
		used += u.out;
		if (u.raw)
			continue;
		bytebuf_add(out, run, (size_t)(p - run));
		bytebuf_add(out, u.esc, u.out);
		run = p + u.in;
	}
	bytebuf_add(out, run, (size_t)(p - run));
	if (cut)
		bytebuf_add(out, ellipsis, ELLIPSIS_LEN);
	if (quote)
		bytebuf_putc(out, '"');
	return read + (size_t)(p - s);
}

int logesc_token(struct bytebuf *out, const char *t)
{
	if (!t || !*t)
		return bytebuf_putc(out, '_');
	for (; *t; t++) {
		char c = *t;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == ':'))
			c = '_';
		if (bytebuf_putc(out, c) != 0)
			return -1;
	}
	return 0;
}

int logesc_kv(struct bytebuf *out, const char *key, const char *value, size_t budget)
{
	size_t before = out->len;

	if (!value)
		return 0;
	/* " key=" and at least a quoted "…" must fit, or the pair is left out whole. */
	if (bytebuf_putc(out, ' ') != 0 || logesc_token(out, key) != 0 ||
	    bytebuf_putc(out, '=') != 0 || bytebuf_room(out) < 2 + ELLIPSIS_LEN) {
		out->len = before;
		if (out->fixed)
			out->cut = 1;
		return -1;
	}
	logesc_put(out, value, budget, LOGESC_LOGFMT);
	return 0;
}
