/* form: strict application/x-www-form-urlencoded parsing (WHATWG URL §5.1, with errors instead
 * of guesses) for webhook bodies and query strings; one allocation holds every decoded string. */
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "twsig.h"
#include "strutil.h"

struct form {
	size_t n;
	struct form_pair *pairs;   /* points into the same allocation */
	char *strings;             /* decoded names and values, NUL-terminated */
};

/* Decode TEXT[start, end) into DST (NUL-terminated); returns the next free byte of DST, or
 * NULL with err filled. WHAT is "name" or "value" for the messages. */
static char *decode_part(const char *text, size_t start, size_t end, char *dst,
			 const char *what, char *err, size_t errlen)
{
	size_t i;

	for (i = start; i < end; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '%') {
			int hi = i + 1 < end ? strutil_hexval((unsigned char)text[i + 1]) : -1;
			int lo = i + 2 < end ? strutil_hexval((unsigned char)text[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				strutil_seterr(err, errlen, "invalid percent-escape at offset %zu",
					       i);
				return NULL;
			}
			c = (unsigned char)(hi << 4 | lo);
			if (c == 0) {
				/* A NUL would silently cut the C string every caller sees. */
				strutil_seterr(err, errlen, "NUL byte (%%00) in %s at offset %zu",
					       what, i);
				return NULL;
			}
			i += 2;
		} else if (c == '+') {
			c = ' ';
		} else if (c == 0) {
			strutil_seterr(err, errlen, "NUL byte in %s at offset %zu", what, i);
			return NULL;
		}
		*dst++ = (char)c;
	}
	*dst++ = '\0';
	return dst;
}

struct form *form_parse(const char *text, size_t len, char *err, size_t errlen)
{
	size_t i, npairs = 0, seg;
	struct form *f;
	char *dst;

	if (err && errlen)
		err[0] = '\0';
	if (len > FORM_MAX_INPUT) {
		strutil_seterr(err, errlen, "input too large (%zu bytes, at most %u)", len,
			       FORM_MAX_INPUT);
		return NULL;
	}
	if (len && !text) {
		strutil_seterr(err, errlen, "no input");
		return NULL;
	}
	/* Count non-empty segments first, so one allocation holds everything. */
	for (seg = 0, i = 0; i <= len; i++) {
		if (i == len || text[i] == '&') {
			if (i > seg && ++npairs > FORM_MAX_PAIRS) {
				strutil_seterr(err, errlen, "too many parameters (over %d)",
					       FORM_MAX_PAIRS);
				return NULL;
			}
			seg = i + 1;
		}
	}
	/* Decoded strings never grow: LEN bytes plus two NULs per pair. */
	f = malloc(sizeof(*f) + npairs * sizeof(struct form_pair) + len + 2 * npairs + 1);
	if (!f) {
		strutil_seterr(err, errlen, "out of memory");
		return NULL;
	}
	f->n = 0;
	f->pairs = (struct form_pair *)(f + 1);
	f->strings = (char *)(f->pairs + npairs);
	dst = f->strings;

	for (seg = 0, i = 0; i <= len; i++) {
		size_t eq;
		struct form_pair *p;

		if (i < len && text[i] != '&')
			continue;
		if (i == seg) {   /* empty segment: "a=1&&b=2", trailing '&' */
			seg = i + 1;
			continue;
		}
		for (eq = seg; eq < i && text[eq] != '='; eq++)
			;
		p = &f->pairs[f->n++];
		p->name = dst;
		dst = decode_part(text, seg, eq, dst, "name", err, errlen);
		if (!dst)
			goto fail;
		if (p->name[0] == '\0') {
			strutil_seterr(err, errlen, "empty parameter name at offset %zu", seg);
			goto fail;
		}
		p->value = dst;
		dst = decode_part(text, eq < i ? eq + 1 : i, i, dst, "value", err, errlen);
		if (!dst)
			goto fail;
		seg = i + 1;
	}
	return f;
fail:
	free(f);
	return NULL;
}

size_t form_count(const struct form *f)
{
	return f ? f->n : 0;
}

const struct form_pair *form_at(const struct form *f, size_t i)
{
	return f && i < f->n ? &f->pairs[i] : NULL;
}

const char *form_get(const struct form *f, const char *name)
{
	size_t i;

	if (!f || !name)
		return NULL;
	for (i = 0; i < f->n; i++)
		if (strcmp(f->pairs[i].name, name) == 0)
			return f->pairs[i].value;
	return NULL;
}

void form_free(struct form *f)
{
	free(f);
}

/* One name or value, escaped into OUT (room for 3 bytes per input byte); the new end. */
static char *encode_into(char *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '*' || c == '-' || c == '.' || c == '_') {
			*out++ = (char)c;
		} else if (c == ' ') {
			*out++ = '+';
		} else {
			*out++ = '%';
			*out++ = hex[c >> 4];
			*out++ = hex[c & 15];
		}
	}
	return out;
}

char *form_encode(const struct twsig_param *params, size_t n)
{
	size_t need = 1, i;
	char *body, *o;

	for (i = 0; i < n; i++)
		need += 3 * (strlen(params[i].name) + strlen(params[i].value)) + 2;
	body = malloc(need);
	if (!body)
		return NULL;
	o = body;
	for (i = 0; i < n; i++) {
		if (i)
			*o++ = '&';
		o = encode_into(o, params[i].name);
		*o++ = '=';
		o = encode_into(o, params[i].value);
	}
	*o = '\0';
	return body;
}
