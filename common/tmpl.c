/* tmpl: renders TwiML templates, replacing {{Name}} by the XML-escaped value of Name (XML 1.0
 * §2.2 Char and §2.4 escapes); the template text itself is trusted and copied as it is. */
#include <string.h>

#include "strutil.h"
#include "tmpl.h"

/* U+FFFD REPLACEMENT CHARACTER, for each invalid UTF-8 sequence in a value. */
static const char replacement[] = "\xef\xbf\xbd";

struct out {
	char *buf;
	size_t len, cap;   /* len + 1 <= cap always (room for the NUL) */
	int overflow;
};

static void emit(struct out *o, const char *s, size_t n)
{
	if (o->overflow || n > o->cap - 1 - o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

/* The character at S (N bytes left): its length when it is copied as it is, or -len when
 * those LEN bytes become one U+FFFD: the "maximal subpart" of an ill-formed sequence
 * (Unicode §3.9, U+FFFD substitution), at least 1, or a character XML forbids. */
static long utf8_seq(const unsigned char *s, size_t n)
{
	size_t len = strutil_utf8_len(s, n);

	if (!len)
		return -(long)strutil_utf8_subpart(s, n);
	/* XML 1.0 Char excludes U+FFFE and U+FFFF: a parser would reject the document. */
	if (len == 3 && s[0] == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf))
		return -3;
	return (long)len;
}

/* Append the escaped form of the NUL-terminated IN. */
static void escape_into(struct out *o, const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t left = strlen(in);

	while (left && !o->overflow) {
		/* Copy the longest run that needs nothing done to it in one go. */
		size_t run = 0;
		long n;

		while (run < left && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '&' &&
		       s[run] != '<' && s[run] != '>' && s[run] != '"' && s[run] != '\'')
			run++;
		if (run) {
			emit(o, (const char *)s, run);
			s += run;
			left -= run;
			continue;
		}
		switch (*s) {
		case '&':
			emit(o, "&amp;", 5);
			break;
		case '<':
			emit(o, "&lt;", 4);
			break;
		case '>':
			emit(o, "&gt;", 4);
			break;
		case '"':
			emit(o, "&quot;", 6);
			break;
		case '\'':
			emit(o, "&apos;", 6);
			break;
		default:
			if (*s < 0x20 || *s == 0x7f)
				break;   /* control characters are dropped, tab and newline too */
			n = utf8_seq(s, left);
			if (n > 0) {
				emit(o, (const char *)s, (size_t)n);
				s += n;
				left -= (size_t)n;
			} else {
				emit(o, replacement, 3);
				s += -n;
				left -= (size_t)-n;
			}
			continue;
		}
		s++;
		left--;
	}
}

long tmpl_xml_escape(const char *in, char *out, size_t cap)
{
	struct out o = {out, 0, cap, 0};

	if (!out || cap == 0)
		return -1;
	escape_into(&o, in ? in : "");
	if (o.overflow) {
		out[0] = '\0';
		return -1;
	}
	out[o.len] = '\0';
	return (long)o.len;
}

static int name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

long tmpl_render(const char *text, size_t len, tmpl_lookup_fn lookup, void *ctx,
		 char *out, size_t cap, char *err, size_t errlen)
{
	struct out o = {out, 0, cap, 0};
	size_t i = 0, lit = 0, line = 1;

	if (err && errlen)
		err[0] = '\0';
	if (!out || cap == 0) {
		strutil_seterr(err, errlen, "no output buffer");
		return -1;
	}
	out[0] = '\0';
	if (len && !text) {
		strutil_seterr(err, errlen, "no template");
		return -1;
	}
	while (i < len) {
		size_t p, name, namelen;
		const char *value;

		if (text[i] == '\n') {
			line++;
			i++;
			continue;
		}
		if (text[i] == '\0') {
			strutil_seterr(err, errlen, "line %zu: NUL byte in template", line);
			goto fail;
		}
		if (text[i] != '{' || i + 1 >= len || text[i + 1] != '{') {
			i++;
			continue;
		}
		/* "{{" [spaces] name [spaces] "}}" */
		emit(&o, text + lit, i - lit);
		p = i + 2;
		while (p < len && (text[p] == ' ' || text[p] == '\t'))
			p++;
		name = p;
		while (p < len && name_char(text[p]))
			p++;
		namelen = p - name;
		while (p < len && (text[p] == ' ' || text[p] == '\t'))
			p++;
		if (p >= len) {
			strutil_seterr(err, errlen, "line %zu: unterminated {{", line);
			goto fail;
		}
		if (namelen == 0) {
			strutil_seterr(err, errlen, "line %zu: {{ without a variable name (names "
				       "are letters, digits, '_', '.' and '-')", line);
			goto fail;
		}
		if (p + 1 >= len || text[p] != '}' || text[p + 1] != '}') {
			if (text[p] == '\n' || (text[p] == '}' && p + 1 >= len))
				strutil_seterr(err, errlen, "line %zu: unterminated {{%.*s", line,
					       (int)namelen, text + name);
			else
				strutil_seterr(err, errlen, "line %zu: invalid character '%c' in "
					       "{{%.*s (expected }})", line,
					       (unsigned char)text[p] >= 0x20 &&
					       (unsigned char)text[p] < 0x7f ? text[p] : '?',
					       (int)namelen, text + name);
			goto fail;
		}
		value = lookup ? lookup(ctx, text + name, namelen) : NULL;
		if (value)
			escape_into(&o, value);
		i = lit = p + 2;
	}
	emit(&o, text + lit, len - lit);
	if (o.overflow) {
		strutil_seterr(err, errlen, "output exceeds %zu bytes", cap - 1);
		goto fail;
	}
	out[o.len] = '\0';
	return (long)o.len;
fail:
	out[0] = '\0';   /* never leave half a document where a caller might send it */
	return -1;
}
