/* strutil: small string helpers several modules share: a printf-style error setter, hex digit
 * values, and UTF-8 well-formedness (Unicode §3.9, Table 3-7) with U+FFFD substitution. */
#ifndef CALLPIPE_STRUTIL_H
#define CALLPIPE_STRUTIL_H

#include <stddef.h>

/* Format into ERR (ERRLEN bytes, always NUL-terminated, cut when too long): the caller's
 * `char *err, size_t errlen` of the error convention. Does nothing when ERR is NULL or
 * ERRLEN is 0. */
void strutil_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Value 0..15 of the hex digit C ('0'-'9', 'a'-'f', 'A'-'F'), or -1 for any other value,
 * EOF and negative (signed char) values included. */
int strutil_hexval(int c);

/* Length (1..4) of the well-formed UTF-8 sequence at S, of which at most AVAIL bytes are read;
 * 0 when it is ill-formed, cut short by AVAIL, or AVAIL is 0. Well-formed is Unicode Table
 * 3-7: an ASCII byte (NUL included) is 1; no overlong forms (C0, C1, E0 80..9F, F0 80..8F),
 * no surrogates (ED A0..BF), nothing above U+10FFFF (F4 90..BF, F5..FF). Every scalar value
 * is accepted: callers that refuse C1 controls or noncharacters check those themselves. */
size_t strutil_utf8_len(const unsigned char *s, size_t avail);

/* How many bytes at S one U+FFFD replaces when strutil_utf8_len() says 0: the "maximal
 * subpart" of the ill-formed sequence (Unicode §3.9, U+FFFD Substitution of Maximal
 * Subparts), 1..3. For a well-formed sequence its length; 0 only when AVAIL is 0. */
size_t strutil_utf8_subpart(const unsigned char *s, size_t avail);

#endif
