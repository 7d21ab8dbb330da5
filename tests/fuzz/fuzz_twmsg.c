/* fuzz_twmsg: twmsg_parse on arbitrary bytes. Whatever it accepts must be internally consistent,
 * a media payload or mark name must survive build -> parse, and the media fast path must agree
 * with the cJSON path (twmsg_parse_tree) field by field, or decline. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twmsg.h"
#include "twmsg_fast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct twmsg m, back, fast;
/* The helper's buffer is 3/4 of [ws] max_message; a small one here exercises TOO_BIG too. */
static uint8_t payload[2048], payload2[2048], payload3[2048];
static char out[8192];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	enum twmsg_error e;
	size_t i;
	long n;
	int f;

	/* The fast path alone, on what twmsg_parse's reset leaves, then the tree alone. */
	memset(&fast, 0, sizeof(fast));
	f = twmsg_fast_media((const char *)data, size, &fast, payload3, sizeof(payload3));
	e = twmsg_parse_tree((const char *)data, size, &m, payload, sizeof(payload), err,
			     sizeof(err));
	if (f && (e != TWMSG_OK || fast.event != m.event || strcmp(fast.event_name, m.event_name) ||
		  strcmp(fast.stream_sid, m.stream_sid) || fast.has_seq != m.has_seq ||
		  fast.seq != m.seq || strcmp(fast.track, m.track) || strcmp(fast.chunk, m.chunk) ||
		  strcmp(fast.timestamp, m.timestamp) || fast.payload_len != m.payload_len ||
		  memcmp(fast.payload, m.payload, m.payload_len) || fast.nparams || m.nparams ||
		  fast.call_sid[0] || m.call_sid[0] || fast.mark_name[0] || m.mark_name[0]))
		abort();
	e = twmsg_parse((const char *)data, size, &m, payload, sizeof(payload), err, sizeof(err));
	if (f && (e != TWMSG_OK || m.event != TWMSG_MEDIA))
		abort();
	if (e != TWMSG_OK) {
		if (!err[0] || e == TWMSG_OK || m.payload)
			abort();   /* every refusal says why and leaves no payload */
		return 0;
	}
	if (m.event == TWMSG_NONE || strlen(m.stream_sid) >= TWMSG_SID_MAX ||
	    m.nparams > TWMSG_PARAMS_MAX)
		abort();
	for (i = 0; i < m.nparams; i++)
		if (strlen(m.params[i].name) >= TWMSG_PARAM_LEN ||
		    strlen(m.params[i].value) >= TWMSG_PARAM_LEN)
			abort();
	/* an empty callSid is the call's to refuse (1008); a start always has a streamSid */
	if (m.event == TWMSG_START && !m.stream_sid[0])
		abort();
	if (m.event == TWMSG_MEDIA) {
		if (!m.payload || m.payload_len > sizeof(payload))
			abort();
		n = twmsg_build_media(out, sizeof(out), m.stream_sid, m.payload, m.payload_len);
		if (n < 0 || (size_t)n >= twmsg_media_size(strlen(m.stream_sid), m.payload_len))
			abort();
		if (twmsg_parse(out, (size_t)n, &back, payload2, sizeof(payload2), err,
				sizeof(err)) != TWMSG_OK || back.event != TWMSG_MEDIA ||
		    back.payload_len != m.payload_len ||
		    memcmp(back.payload, m.payload, m.payload_len) ||
		    strcmp(back.stream_sid, m.stream_sid))
			abort();
	}
	if (m.event == TWMSG_MARK) {
		n = twmsg_build_mark(out, sizeof(out), m.stream_sid, m.mark_name);
		if (n < 0 || (size_t)n >= twmsg_mark_size(strlen(m.stream_sid), strlen(m.mark_name)))
			abort();
		if (twmsg_parse(out, (size_t)n, &back, payload2, sizeof(payload2), err,
				sizeof(err)) != TWMSG_OK || back.event != TWMSG_MARK ||
		    strcmp(back.mark_name, m.mark_name) || strcmp(back.stream_sid, m.stream_sid))
			abort();
	}
	return 0;
}
