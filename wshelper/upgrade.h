/* upgrade: the checks on a WebSocket upgrade request that need no lws types: the path, the
 * offered subprotocols (docs/PROTOCOL.md §4.2) and the X-Twilio-Signature URL forms. */
#ifndef CALLPIPE_UPGRADE_H
#define CALLPIPE_UPGRADE_H

#include <stddef.h>

#include "twsig.h"

#define UPGRADE_SUBPROTOCOL "audio.twilio.com"
#define UPGRADE_PATH "/ws/twilio-media"
/* wss and https spellings, each with and without the trailing '/' (docs/PROTOCOL.md §3.6). */
#define UPGRADE_SIG_URLS 4

/* 1 when PATH is /ws/twilio-media or /ws/twilio-media/ (no query: Twilio drops it). */
int upgrade_path_ok(const char *path);

enum upgrade_sub {
	UPGRADE_SUB_NONE,    /* no Sec-WebSocket-Protocol: accept, answer none */
	UPGRADE_SUB_TWILIO,  /* audio.twilio.com offered (alone or among others): answer it */
	UPGRADE_SUB_REFUSE,  /* only unknown ones, or a list lws 4.1.6 would choke on */
};

/* Judge the Sec-WebSocket-Protocol value LIST (NULL or "" when absent; several headers
 * joined with ','). On UPGRADE_SUB_REFUSE, WHY says why. */
enum upgrade_sub upgrade_subprotocol(const char *list, char *why, size_t whylen);

/* The URLs Twilio may have signed for the stream URL of PUBLIC_URL (http(s)://host[/path]):
 * ws(s)://…/ws/twilio-media, the same with '/', and the http(s):// spelling of both.
 * Returns how many were written (0 when PUBLIC_URL is not http(s)://). */
size_t upgrade_sig_urls(const char *public_url, char urls[UPGRADE_SIG_URLS][TWSIG_URL_MAX]);

/* The same four forms for [twilio] STREAM_URL (ws(s)://host[:port][/path], the Stream url
 * written into the TwiML as it is): Twilio signs the URL it dials. 0 when it is not ws(s). */
size_t upgrade_sig_urls_stream(const char *stream_url,
			       char urls[UPGRADE_SIG_URLS][TWSIG_URL_MAX]);

/* 1 when SIG matches one of URLS[0..N) (or its port forms), signed with TOKEN and no
 * parameters; else 0. */
int upgrade_sig_check(const char *token, char urls[][TWSIG_URL_MAX], size_t n,
		      const char *sig);

#endif
