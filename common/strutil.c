/* strutil: the error setter, hex digit and UTF-8 helpers of strutil.h, written once here so
 * that the form, template, call log and log viewer code agree byte for byte. */
#include <stdarg.h>
#include <stdio.h>

#include "strutil.h"

void strutil_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int strutil_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Scan the sequence at S (AVAIL bytes readable): sets *OK when it is well-formed and returns
 * its length; otherwise returns the length of its maximal subpart (at least 1), the longest
 * prefix that some well-formed sequence starts with. Unicode Table 3-7: the lead byte fixes
 * the length, and only the second byte has a range narrower than 80..BF. */
static size_t utf8_scan(const unsigned char *s, size_t avail, int *ok)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	*ok = 0;
	if (avail == 0)
		return 0;
	if (s[0] < 0x80) {
		*ok = 1;
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else
		return 1;    /* continuation byte, C0/C1 (overlong lead) or F5..FF */
	if (s[0] == 0xe0)
		lo = 0xa0;   /* overlong 3-byte forms */
	else if (s[0] == 0xed)
		hi = 0x9f;   /* UTF-16 surrogates D800..DFFF */
	else if (s[0] == 0xf0)
		lo = 0x90;   /* overlong 4-byte forms */
	else if (s[0] == 0xf4)
		hi = 0x8f;   /* above U+10FFFF */
	for (i = 1; i < need; i++) {
		if (i >= avail || s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return i;
	}
	*ok = 1;
	return need;
}

size_t strutil_utf8_len(const unsigned char *s, size_t avail)
{
	int ok;
	size_t n = utf8_scan(s, avail, &ok);

	return ok ? n : 0;
}

size_t strutil_utf8_subpart(const unsigned char *s, size_t avail)
{
	int ok;

	return utf8_scan(s, avail, &ok);
}
