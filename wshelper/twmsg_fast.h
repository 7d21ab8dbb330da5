/* twmsg_fast: a strict scanner for the one message that comes 50 times a second per call,
 * {"event":"media",...} (docs/PROTOCOL.md §4.3), so it skips cJSON's tree; anything else declines. */
#ifndef CALLPIPE_TWMSG_FAST_H
#define CALLPIPE_TWMSG_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "twmsg.h"

/* Parse TEXT (LEN bytes) as a media message when it is compact JSON with only the keys
 * event ("media"), sequenceNumber, streamSid (top level, any order) and media.{track,
 * chunk,timestamp,payload} (any order), each once, every value a string of printable
 * ASCII without escapes, and the payload valid base64 that fits CAP. Returns 1 with M
 * filled exactly as twmsg_parse_tree would fill it (M must come reset, as twmsg_parse
 * leaves it), or 0 to decline: the caller then runs the cJSON path, which keeps every
 * check and error message. It never reports an error itself. */
int twmsg_fast_media(const char *text, size_t len, struct twmsg *m, uint8_t *payload,
		     size_t cap);

#endif
