/* logparse: reads one call log line (docs/DESIGN.md §1.2) back into its timestamp, program,
 * event and key=value pairs, undoing exactly the logfmt quoting calllog_format() writes. */
#include "logparse.h"

#include <stdio.h>
#include <string.h>

#include "logesc.h"
#include "strutil.h"

static const char ellipsis[] = "\xe2\x80\xa6";	/* U+2026 "…" */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil):
 * no timegm(), so no dependence on TZ or the C library's idea of the epoch. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	long long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

static int leap(long long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* N digits at *p into *v; advances *p. */
static int digits(const char **p, int n, unsigned *v)
{
	unsigned x = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		x = x * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return 0;
}

/* STRICT: exactly YYYY-MM-DDTHH:MM:SS[.fraction]Z, as calllog writes it. Otherwise the
 * friendlier forms of logparse_time(). S is NUL-terminated. */
static int parse_time(const char *s, long long *ms, int strict)
{
	static const unsigned mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	const char *p = s;

	*ms = 0;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y) ? 1u : 0u))
		return -1;
	if (*p == 'T' || (!strict && *p == ' ')) {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -1;
			if (*p == '.') {
				/* milliseconds from the first three digits, the rest ignored */
				unsigned scale = 100;
				int n = 0;

				p++;
				while (*p >= '0' && *p <= '9') {
					if (n++ < 3) {
						frac += (unsigned)(*p - '0') * scale;
						scale /= 10;
					}
					p++;
				}
				if (n == 0)
					return -1;
			}
		} else if (strict) {
			return -1;
		}
		if (h > 23 || mi > 59 || sec > 60)	/* 60: a leap second */
			return -1;
	} else if (strict) {
		return -1;
	}
	if (*p == 'Z')
		p++;
	else if (strict)
		return -1;
	if (*p != '\0')
		return -1;
	*ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + sec * 1000LL + frac;
	return 0;
}

int logparse_time(const char *s, long long *ms)
{
	return parse_time(s, ms, 0);
}

int logparse_line_time(const char *line, size_t len, long long *ms)
{
	char ts[LOGPARSE_TS_MAX];
	const char *sp = memchr(line, ' ', len);
	size_t n = sp ? (size_t)(sp - line) : len;

	if (n == 0 || n >= sizeof(ts) || memchr(line, '\0', n))
		return -1;
	memcpy(ts, line, n);
	ts[n] = '\0';
	return parse_time(ts, ms, 1);
}

void logparse_format_time(char *buf, size_t cap, long long ms, int with_ms)
{
	long long days, rem, y;
	unsigned mo, d;

	days = ms / 86400000LL;
	rem = ms % 86400000LL;
	if (rem < 0) {
		rem += 86400000LL;
		days--;
	}
	civil_from_days(days, &y, &mo, &d);
	if (with_ms)
		snprintf(buf, cap, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", y, mo, d,
			 rem / 3600000, rem / 60000 % 60, rem / 1000 % 60, rem % 1000);
	else
		snprintf(buf, cap, "%04lld-%02u-%02u %02lld:%02lld:%02lld", y, mo, d,
			 rem / 3600000, rem / 60000 % 60, rem / 1000 % 60);
}

static int is_name_byte(unsigned char c)
{
	/* Program, event and key names: calllog writes identifiers; accept any printable
	 * byte that cannot be confused with the syntax around it. */
	return c > ' ' && c != 0x7f && c != '=' && c != '"' && c != '\\';
}

/* Decode one escape at s[*i] (the byte after the backslash) into *out. */
static int unescape(const char *s, size_t len, size_t *i, char *out)
{
	int hi, lo;

	if (*i >= len)
		return -1;
	switch (s[*i]) {
	case '"':  *out = '"';  break;
	case '\\': *out = '\\'; break;
	case 'n':  *out = '\n'; break;
	case 'r':  *out = '\r'; break;
	case 't':  *out = '\t'; break;
	case 'x':
		if (*i + 2 >= len)
			return -1;
		hi = strutil_hexval((unsigned char)s[*i + 1]);
		lo = strutil_hexval((unsigned char)s[*i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		*out = (char)(hi << 4 | lo);
		*i += 2;
		break;
	default:
		return -1;
	}
	(*i)++;
	return 0;
}

/* Copy one value character at s[*i] into the store, undoing a backslash escape; quoted and
 * unquoted values share it (calllog never writes a raw control character in either).
 * BASE turns offsets into columns for the error. Returns 0, or -1 with err filled. */
static int value_char(const char *s, size_t len, size_t *i, char **st, size_t base,
		      char *err, size_t errlen)
{
	if ((unsigned char)s[*i] < ' ' || s[*i] == 0x7f) {
		strutil_seterr(err, errlen, "column %zu: control character", base + *i + 1);
		return -1;
	}
	if (s[*i] != '\\') {
		*(*st)++ = s[(*i)++];
		return 0;
	}
	(*i)++;
	if (unescape(s, len, i, *st) < 0) {
		strutil_seterr(err, errlen, "column %zu: bad escape", base + *i);
		return -1;
	}
	(*st)++;
	return 0;
}

/* Copy the name token at line[*i] into the store; returns its start or NULL. */
static const char *take_name(const char *line, size_t len, size_t *i, char **st)
{
	const char *start = *st;

	while (*i < len && is_name_byte((unsigned char)line[*i]))
		*(*st)++ = line[(*i)++];
	if (*st == start)
		return NULL;
	*(*st)++ = '\0';
	return start;
}

static int parse_pairs(struct logparse_line *out, const char *s, size_t len, size_t base,
		       char **st, char *err, size_t errlen)
{
	size_t i = 0;

	while (i < len) {
		struct logparse_kv *kv;
		char *val;

		if (s[i] == ' ') {
			i++;
			continue;
		}
		/* calllog_format() ends a line that had to leave pairs out with " …". */
		if (len - i == sizeof(ellipsis) - 1 && memcmp(s + i, ellipsis, len - i) == 0) {
			out->pairs_cut = 1;
			break;
		}
		if (out->nkv == LOGPARSE_MAX_KV) {
			strutil_seterr(err, errlen, "column %zu: more than %d pairs", base + i + 1,
				       LOGPARSE_MAX_KV);
			return -1;
		}
		kv = &out->kv[out->nkv];
		kv->key = take_name(s, len, &i, st);
		if (!kv->key || i >= len || s[i] != '=') {
			strutil_seterr(err, errlen, "column %zu: expected key=value", base + i + 1);
			return -1;
		}
		i++;
		val = *st;
		if (i < len && s[i] == '"') {
			size_t open = i++;

			for (;;) {
				if (i >= len) {
					strutil_seterr(err, errlen, "column %zu: unterminated "
						       "quote", base + open + 1);
					return -1;
				}
				if (s[i] == '"')
					break;
				if (value_char(s, len, &i, st, base, err, errlen) < 0)
					return -1;
			}
			i++;	/* the closing quote */
			if (i < len && s[i] != ' ') {
				strutil_seterr(err, errlen, "column %zu: text after closing quote",
					       base + i + 1);
				return -1;
			}
		} else {
			/* Unquoted: calllog quotes anything with a space, quote, '=' or
			 * backslash, so a backslash here can only start a control escape. */
			while (i < len && s[i] != ' ')
				if (value_char(s, len, &i, st, base, err, errlen) < 0)
					return -1;
		}
		kv->value = val;
		kv->value_len = (size_t)(*st - val);
		*(*st)++ = '\0';
		out->nkv++;
	}
	return 0;
}

int logparse_line(struct logparse_line *out, const char *line, size_t len,
		  char *err, size_t errlen)
{
	char *st = out->store;
	size_t i = 0, tslen;
	const char *p;

	/* Reset only the header: the arrays are large and nkv bounds what is read. */
	out->ts_ms = 0;
	out->ts[0] = '\0';
	out->prog = out->event = out->kv_text = "";
	out->nkv = 0;
	out->pairs_cut = 0;
	if (err && errlen)
		err[0] = '\0';

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > LOGPARSE_LINE_MAX) {
		strutil_seterr(err, errlen, "line longer than %d bytes", LOGPARSE_LINE_MAX);
		return -1;
	}
	if (len == 0) {
		strutil_seterr(err, errlen, "empty line");
		return -1;
	}
	p = memchr(line, ' ', len);
	tslen = p ? (size_t)(p - line) : len;
	if (tslen >= LOGPARSE_TS_MAX) {
		strutil_seterr(err, errlen, "column 1: no timestamp");
		return -1;
	}
	memcpy(out->ts, line, tslen);
	out->ts[tslen] = '\0';
	if (memchr(out->ts, '\0', tslen) || parse_time(out->ts, &out->ts_ms, 1) < 0) {
		strutil_seterr(err, errlen, "column 1: bad timestamp");
		out->ts[0] = '\0';
		return -1;
	}
	i = tslen;
	if (i >= len || line[i] != ' ') {
		strutil_seterr(err, errlen, "column %zu: no program name", i + 1);
		return -1;
	}
	i++;
	out->prog = take_name(line, len, &i, &st);
	if (!out->prog || (i < len && line[i] != ' ')) {
		strutil_seterr(err, errlen, "column %zu: bad program name", i + 1);
		out->prog = "";
		return -1;
	}
	if (i >= len) {
		strutil_seterr(err, errlen, "column %zu: no event name", i + 1);
		return -1;
	}
	i++;
	out->event = take_name(line, len, &i, &st);
	if (!out->event || (i < len && line[i] != ' ')) {
		strutil_seterr(err, errlen, "column %zu: bad event name", i + 1);
		out->event = "";
		return -1;
	}
	while (i < len && line[i] == ' ')
		i++;
	/* Keep the pairs as written for display: re-quoting could only differ from it. */
	memcpy(st, line + i, len - i);
	st[len - i] = '\0';
	out->kv_text = st;
	st += len - i + 1;
	if (parse_pairs(out, line + i, len - i, i, &st, err, errlen) < 0) {
		out->nkv = 0;
		return -1;
	}
	return 0;
}

const char *logparse_get(const struct logparse_line *ln, const char *key)
{
	for (size_t i = ln->nkv; i-- > 0;)
		if (strcmp(ln->kv[i].key, key) == 0)
			return ln->kv[i].value;
	return NULL;
}

/* Escape the character at U (LEFT bytes available) into TMP; returns the input bytes used
 * and sets *TN to the output length. */
static size_t escape_one(const unsigned char *u, size_t left, char tmp[8], size_t *tn)
{
	/* the call logs' own rule (logesc): C1 controls, bidi and line-separator characters
	 * are escaped like C0 controls, since a terminal would obey or reorder them */
	size_t n = logesc_plain_len(u, left);

	if (n >= 1) {
		memcpy(tmp, u, n);
		*tn = n;
		return n;
	}
	if (*u == '\n')
		*tn = (size_t)snprintf(tmp, 8, "\\n");
	else if (*u == '\t')
		*tn = (size_t)snprintf(tmp, 8, "\\t");
	else if (*u == '\r')
		*tn = (size_t)snprintf(tmp, 8, "\\r");
	else
		*tn = (size_t)snprintf(tmp, 8, "\\x%02x", *u);
	return 1;
}

size_t logparse_escape(char *buf, size_t cap, const char *s, size_t len)
{
	size_t o = 0;

	if (cap == 0)
		return 0;
	for (size_t i = 0; i < len;) {
		char tmp[8];
		size_t tn, n = escape_one((const unsigned char *)s + i, len - i, tmp, &tn);

		if (o + tn >= cap)
			break;
		memcpy(buf + o, tmp, tn);
		o += tn;
		i += n;
	}
	buf[o] = '\0';
	return o;
}

void logparse_fput(FILE *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		char tmp[8];
		size_t tn, n = escape_one((const unsigned char *)s + i, len - i, tmp, &tn);

		fwrite(tmp, 1, tn, out);
		i += n;
	}
}

size_t logparse_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}
