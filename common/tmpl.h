/* tmpl: renders the TwiML templates: {{Name}} is replaced by the XML-escaped value of Name.
 * Values are escaped (& < > " '), control characters dropped, invalid UTF-8 replaced. */
#ifndef CALLPIPE_TMPL_H
#define CALLPIPE_TMPL_H

#include <stddef.h>

/* Rendered TwiML never needs more; a larger result is an error, not a truncation. */
#define TMPL_OUT_MAX (256u * 1024)

/* Value of variable NAME (LEN bytes, not NUL-terminated), or NULL when it is unknown
 * (an unknown variable renders as empty). */
typedef const char *(*tmpl_lookup_fn)(void *ctx, const char *name, size_t len);

/* Render TEXT (LEN bytes) into OUT (CAP bytes, NUL-terminated). Names are
 * [A-Za-z0-9_.-]+ with optional spaces inside the braces; "{{" that does not start a
 * valid reference is an error: err gets "line N: unterminated {{" or similar. A lone "}}",
 * "{" or "}" is text; the template's own text is copied unescaped (it is trusted), but a
 * NUL byte in it is an error. Returns the output length, or -1 with OUT "" (bad template,
 * or output larger than CAP-1: "output exceeds N bytes"). */
long tmpl_render(const char *text, size_t len, tmpl_lookup_fn lookup, void *ctx,
		 char *out, size_t cap, char *err, size_t errlen);

/* XML-escape IN into OUT (CAP bytes, NUL-terminated) by the same rules: & < > " ' become
 * entities, bytes below 0x20 (tab and newline too) and 0x7f are dropped, each invalid UTF-8
 * sequence (overlong, surrogate, above U+10FFFF, truncated) and U+FFFE/U+FFFF (not XML
 * characters) becomes U+FFFD. Returns the length, or -1 (OUT "") when it does not fit. */
long tmpl_xml_escape(const char *in, char *out, size_t cap);

#endif
