/* twmsg: Twilio Media Streams messages (docs/PROTOCOL.md §4): one JSON text
 * message in, a struct out; outbound media, mark and clear built into a caller's buffer. */
#ifndef CALLPIPE_TWMSG_H
#define CALLPIPE_TWMSG_H

#include <stddef.h>
#include <stdint.h>

/* Sids are two letters + 32 hex digits (34); 64 leaves room and still bounds the copy. */
#define TWMSG_SID_MAX 64
/* docs/PROTOCOL.md §2.3: each <Parameter> name and value is under 500 characters. */
#define TWMSG_PARAM_LEN 500
/* <Stream> takes a handful of <Parameter>s; 32 is generous and bounds the struct. */
#define TWMSG_PARAMS_MAX 32
/* Mark names are ours (echo-N, utt-N) or a mode's; 256 bytes is plenty and bounded. */
#define TWMSG_NAME_MAX 256
/* Short string fields: event names, tracks, encodings, digits, chunk/timestamp strings. */
#define TWMSG_SHORT_MAX 64

enum twmsg_event {
	TWMSG_NONE = 0,
	TWMSG_CONNECTED,
	TWMSG_START,
	TWMSG_MEDIA,
	TWMSG_DTMF,
	TWMSG_MARK,
	TWMSG_STOP,
};

/* Why a message could not be used. Each maps to one protocol_errors kind in the helper. */
enum twmsg_error {
	TWMSG_OK = 0,
	TWMSG_ERR_JSON,          /* not JSON, or not a JSON object */
	TWMSG_ERR_INVALID,       /* a required field is missing, mistyped or out of bounds */
	TWMSG_ERR_UNKNOWN_EVENT, /* "event" names something docs/PROTOCOL.md §4.3 does not list */
	TWMSG_ERR_BASE64,        /* media.payload is not strict base64 */
	TWMSG_ERR_TOO_BIG,       /* the decoded payload does not fit the caller's buffer */
};

struct twmsg_param {
	char name[TWMSG_PARAM_LEN];
	char value[TWMSG_PARAM_LEN];
};

struct twmsg {
	enum twmsg_event event;
	char event_name[TWMSG_SHORT_MAX];  /* as received (cut), for logging unknown events */
	char stream_sid[TWMSG_SID_MAX];    /* top-level streamSid, "" when absent */
	int has_seq;                       /* sequenceNumber present and a decimal number */
	unsigned long long seq;

	/* connected */
	char protocol[TWMSG_SHORT_MAX];
	char version[TWMSG_SHORT_MAX];

	/* start (start.streamSid is copied into stream_sid when the top level has none) */
	char account_sid[TWMSG_SID_MAX];
	char call_sid[TWMSG_SID_MAX];
	char tracks[TWMSG_SHORT_MAX];      /* the tracks array joined with ',' */
	char encoding[TWMSG_SHORT_MAX];
	int sample_rate;                   /* 0 when absent */
	int channels;                      /* 0 when absent */
	size_t nparams;
	size_t params_dropped;             /* entries skipped: not strings, too long, too many */
	struct twmsg_param params[TWMSG_PARAMS_MAX];

	/* media: payload decoded into the caller's buffer */
	char track[TWMSG_SHORT_MAX];
	char chunk[TWMSG_SHORT_MAX];
	char timestamp[TWMSG_SHORT_MAX];
	const uint8_t *payload;
	size_t payload_len;

	/* dtmf */
	char digit[TWMSG_SHORT_MAX];

	/* mark */
	char mark_name[TWMSG_NAME_MAX];
};

/* Parse LEN bytes of TEXT (need not be NUL-terminated) into M. The media payload is
 * decoded into PAYLOAD (CAP bytes); M->payload points there. Returns TWMSG_OK, or an error
 * kind with ERR filled ("media.payload missing", "customParameters: more than 32"…). */
enum twmsg_error twmsg_parse(const char *text, size_t len, struct twmsg *m,
			     uint8_t *payload, size_t cap, char *err, size_t errlen);

/* twmsg_parse without its media fast path (wshelper/twmsg_fast.h): the cJSON tree and every
 * check, for any message. Same contract; kept callable so tests can compare the two. */
enum twmsg_error twmsg_parse_tree(const char *text, size_t len, struct twmsg *m,
				  uint8_t *payload, size_t cap, char *err, size_t errlen);

/* Value of customParameters NAME in a parsed start, or NULL. */
const char *twmsg_param(const struct twmsg *m, const char *name);

/* Short stable name of an event or error ("media", "unknown_event"…). */
const char *twmsg_event_name(enum twmsg_event e);
const char *twmsg_error_name(enum twmsg_error e);

/* Bytes twmsg_build_media needs for N payload bytes and a sid of SIDLEN, NUL included. */
size_t twmsg_media_size(size_t sidlen, size_t n);
/* Bytes twmsg_build_mark needs for a sid of SIDLEN and a name of NAMELEN (worst-case
 * escaping), NUL included. */
size_t twmsg_mark_size(size_t sidlen, size_t namelen);
/* Bytes twmsg_build_clear needs, NUL included. */
size_t twmsg_clear_size(size_t sidlen);

/* Build {"event":"media","streamSid":SID,"media":{"payload":base64(ULAW)}} into OUT.
 * Returns the length (without the NUL), or -1 when CAP is too small. */
long twmsg_build_media(char *out, size_t cap, const char *sid, const uint8_t *ulaw, size_t n);
/* {"event":"mark","streamSid":SID,"mark":{"name":NAME}} (NAME JSON-escaped). */
long twmsg_build_mark(char *out, size_t cap, const char *sid, const char *name);
/* {"event":"clear","streamSid":SID} */
long twmsg_build_clear(char *out, size_t cap, const char *sid);

#endif
