/* simmsg: Twilio's side of Media Streams (docs/PROTOCOL.md §4): the JSON messages Twilio
 * sends, built into a buffer, and the server's messages parsed as strictly as Twilio does. */
#ifndef CALLPIPE_SIM_SIMMSG_H
#define CALLPIPE_SIM_SIMMSG_H

#include <stddef.h>
#include <stdint.h>

#include "playout.h"

/* Error codes Twilio gives the faults we detect (docs/PROTOCOL.md §5). */
#define SIM_ERR_HANDSHAKE 31920     /* upgrade not answered with 101 */
#define SIM_ERR_CLOSED 31921        /* server closed the socket */
#define SIM_ERR_PROTOCOL 31924      /* e.g. audio sent back on a one-way <Start><Stream> */
#define SIM_ERR_OVER_10MIN 31931    /* more than 10 minutes of audio buffered */
#define SIM_ERR_TRACK 31941         /* bad track attribute */
#define SIM_ERR_BINARY 31950        /* binary frame */
#define SIM_ERR_INVALID 31951       /* invalid message: ignored by Twilio */

enum sim_msg_kind {
	SIM_MSG_NONE = 0,
	SIM_MSG_MEDIA,
	SIM_MSG_MARK,
	SIM_MSG_CLEAR,
};

struct sim_srv_msg {
	enum sim_msg_kind kind;
	size_t payload_len;          /* media: decoded bytes, in the caller's buffer */
	int wav_header;              /* media: the payload starts with "RIFF" */
	char mark[SIM_MARK_NAME_MAX + 1];
};

/* Parse one text message from the server. STREAM_SID is the sid sent in start (NULL before
 * start). Media payloads decode into BUF (CAP bytes). Returns 0 when Twilio would act on it;
 * otherwise the Twilio error code (SIM_ERR_INVALID: not JSON, unknown event, a missing,
 * mistyped, misspelled or extra key, a wrong streamSid, sent before start, bad or empty
 * base64, a payload too big for BUF) with err saying what exactly. A media payload that
 * starts with a WAV header returns 0 with wav_header set: Twilio plays the header as noise. */
int sim_msg_parse(const char *text, size_t len, const char *stream_sid, uint8_t *buf,
		  size_t cap, struct sim_srv_msg *out, char *err, size_t errlen);

/* Builders of what Twilio sends; each returns the length written (NUL-terminated) or -1
 * when CAP is too small. Sequence numbers, chunks, timestamps and digits are strings;
 * sampleRate and channels numbers (docs/PROTOCOL.md §4.4). */
long sim_msg_connected(char *out, size_t cap);
/* PARAMS_JSON is a JSON object ("{}" when there are none), from sim_msg_params_json. */
long sim_msg_start(char *out, size_t cap, unsigned long seq, const char *account_sid,
		   const char *stream_sid, const char *call_sid, const char *params_json);
long sim_msg_media(char *out, size_t cap, unsigned long seq, unsigned long chunk,
		   unsigned long timestamp_ms, const uint8_t *payload, size_t len,
		   const char *stream_sid);
long sim_msg_dtmf(char *out, size_t cap, unsigned long seq, char digit, const char *stream_sid);
long sim_msg_mark(char *out, size_t cap, unsigned long seq, const char *name,
		  const char *stream_sid);
long sim_msg_stop(char *out, size_t cap, unsigned long seq, const char *account_sid,
		  const char *call_sid, const char *stream_sid);

/* JSON object of N name/value pairs (malloc'd), for start.customParameters. */
char *sim_msg_params_json(const char *const *names, const char *const *values, size_t n);

#endif
