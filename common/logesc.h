/* logesc: the one escaper for text that ends up in a log line (call logs and stderr): one
 * pass, bounded work, no control, bidi or line-separator character ever written raw. */
#ifndef CALLPIPE_LOGESC_H
#define CALLPIPE_LOGESC_H

#include <stddef.h>

#include "bytebuf.h"

/* How a value is written (the escapes are the same in every mode):
 *   LOGESC_LOGFMT  quoted ("…") when empty or holding a space, '=', or anything escaped;
 *   LOGESC_INNER   never quoted: text to print inside quotes of the caller's format;
 *   LOGESC_WORD    never quoted, a space escaped too (\x20): stays one word. */
enum logesc_mode { LOGESC_LOGFMT, LOGESC_INNER, LOGESC_WORD };

/* Append S (a C string; NULL is "") to OUT, escaped:
 *   '"' -> \"   '\' -> \\   newline, CR, tab -> \n \r \t
 *   other C0 controls, DEL, C1 controls (U+0080..U+009F), bytes that are not valid UTF-8
 *   -> \xHH (upper-case hex, one per byte)
 *   U+2028, U+2029 (line/paragraph separators) and the bidi controls U+061C, U+200E,
 *   U+200F, U+202A..U+202E, U+2066..U+2069 -> \xHH for each byte of their UTF-8 form
 *   (e.g. U+202E -> \xE2\x80\xAE), so the reader's \xHH rule gives the bytes back.
 * At most BUDGET bytes are appended (less when OUT has less room); a value that does not
 * fit is cut at a character boundary, never inside an escape, and ends in "…" (inside the
 * quotes). A budget too small for the marker (5 bytes quoted, 3 bare) appends nothing.
 * Work is bounded by the budget, never by the length of S: each of the two passes (one to
 * decide quoting and cutting, one to write) reads at most BUDGET + 8 bytes of S.
 * Returns the number of bytes of S read by both passes (tests count the work with it). */
size_t logesc_put(struct bytebuf *out, const char *s, size_t budget, enum logesc_mode mode);

/* Append " KEY=VALUE" (VALUE in LOGESC_LOGFMT, at most BUDGET bytes; KEY as a token). Nothing
 * when VALUE is NULL. 0, or -1 when " KEY=" and a cut value did not fit (OUT is cut). */
int logesc_kv(struct bytebuf *out, const char *key, const char *value, size_t budget);

/* Length (1..4) of the character at S (AVAIL bytes readable) when a terminal may show it as
 * it is: printable ASCII (space included) or well-formed UTF-8 that is neither a C1 control
 * nor one of the line-splitting or bidi characters above; 0 when it must be escaped. The
 * rule logesc_put applies, for readers (callpipe-log) that print decoded values. */
size_t logesc_plain_len(const unsigned char *s, size_t avail);

/* Append T as a logfmt token: [A-Za-z0-9_.:-], any other byte '_'; NULL or "" is "_". */
int logesc_token(struct bytebuf *out, const char *t);

#endif
