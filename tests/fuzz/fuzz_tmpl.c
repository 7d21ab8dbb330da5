/* fuzz_tmpl: the input is "template NUL value"; every {{…}} is rendered with the value. The
 * output must be the template's literal text plus escaped values: no control byte, no raw
 * markup character and no invalid UTF-8 may come from the value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup(void *ctx, const char *name, size_t len)
{
	(void)name;
	(void)len;
	return ctx;
}

/* 1 when S (N bytes) is valid UTF-8 holding only characters XML 1.0 allows in content,
 * other than the markup characters & < > " ' and all of C0 (tab and newline included). */
static int safe_text(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t k, len;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '\'')
				return 0;
			if (c == '&') {   /* only the five entities we write */
				static const char *const ents[] = {"&amp;", "&lt;", "&gt;",
								   "&quot;", "&apos;"};
				int ok = 0;

				for (k = 0; k < 5; k++)
					if (n - i >= strlen(ents[k]) &&
					    memcmp(s + i, ents[k], strlen(ents[k])) == 0) {
						i += strlen(ents[k]);
						ok = 1;
						break;
					}
				if (!ok)
					return 0;
				continue;
			}
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
			return 0;
		i += len;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tlen = nul ? (size_t)(nul - data) : size, vlen = nul ? size - tlen - 1 : 0;
	char *value = malloc(vlen + 1), *out = malloc(TMPL_OUT_MAX), *esc, err[160];
	long n, e;

	memcpy(value, nul ? (const char *)nul + 1 : "", vlen);
	value[vlen] = '\0';
	n = tmpl_render((const char *)data, tlen, lookup, value, out, TMPL_OUT_MAX, err,
			sizeof(err));
	if (n < 0) {
		if (!err[0] || out[0])
			abort();   /* an error always says why and leaves no partial output */
	} else if ((size_t)n != strlen(out)) {
		abort();
	}

	/* The value alone, escaped: always safe character data, never longer than 6x. */
	esc = malloc(strlen(value) * 6 + 1);
	e = tmpl_xml_escape(value, esc, strlen(value) * 6 + 1);
	if (e < 0 || !safe_text((const unsigned char *)esc, (size_t)e))
		abort();
	/* A template that is just one reference renders to exactly that. */
	n = tmpl_render("{{ v }}", 7, lookup, value, out, TMPL_OUT_MAX, err, sizeof(err));
	if (n != e || memcmp(out, esc, (size_t)e) != 0)
		abort();
	free(esc);
	free(value);
	free(out);
	return 0;
}
