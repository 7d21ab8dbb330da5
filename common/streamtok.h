/* streamtok: the stream token that binds a media stream to the signed webhook of its call
 * (callpipe-fcgi makes it into the TwiML, callpipe-ws checks it in `start`). */
#ifndef CALLPIPE_STREAMTOK_H
#define CALLPIPE_STREAMTOK_H

#include <stddef.h>
#include <time.h>

/*
 * Why: Twilio signs the WebSocket upgrade over the Stream url WITHOUT parameters, so the
 * upgrade's X-Twilio-Signature is the same for every call of a deployment. Whoever saw it
 * once could open streams at will and claim any CallSid in `start`. The token is the proof
 * that the stream's CallSid went through a webhook WE verified: we hand it out inside the
 * TwiML (<Parameter name="callpipe_token">), Twilio echoes it in start.customParameters.
 *
 * Format (all ASCII, at most STREAMTOK_MAX chars):
 *
 *   v1.<expiry>.<mac>
 *
 *   v1      the format's version, so a later format can be told apart (and is in the MAC,
 *           so a v1 MAC is never valid under another version's rules);
 *   expiry  Unix seconds after which the token is refused: decimal, 1 to 12 digits, no
 *           leading zero (one spelling per value). Short-lived because it travels in TwiML;
 *           only needs to outlive the time from the webhook to Twilio's `start`;
 *   mac     64 lower-case hex digits: HMAC-SHA256(K, "v1|" CallSid "|" AccountSid "|"
 *           expiry). The '|' cannot occur in a sid, so the fields cannot be shifted into
 *           each other; the CallSid ties the token to one call, the AccountSid to one
 *           account, the expiry bounds replay.
 *   K       HMAC-SHA256(auth_token, "callpipe stream token v1"): a key of its own derived
 *           from the auth token (which both programs already have), so the token is never
 *           a Twilio signature of anything and a Twilio signature is never a token.
 *
 * Hex rather than base64: `openssl dgst -sha256 -mac HMAC` prints hex, so the format can be
 * checked with no callpipe code at all (tests/integration/stream_binding.sh does).
 */

#define STREAMTOK_MAX 96          /* "v1." + 12 + "." + 64 = 80, with room */
#define STREAMTOK_MAC_HEX 64
/* A token valid further ahead than this is refused whatever its MAC says: no deployment
 * hands one out for longer ([twilio] stream_token_seconds is at most this). */
#define STREAMTOK_MAX_SECONDS 86400
/* Clocks of the two programs may differ a little when they run on different hosts. */
#define STREAMTOK_SKEW_SECONDS 60
/* The customParameters name the templates use. */
#define STREAMTOK_PARAM "callpipe_token"

/* Make the token for CALL_SID and ACCOUNT_SID (NULL is "") valid until EXPIRY into OUT
 * (CAP >= STREAMTOK_MAX + 1 always fits). 0, or -1 (no auth token, a sid over 64 chars or
 * with a '|', EXPIRY not positive, CAP too small, a libcrypto failure) with OUT "". */
int streamtok_make(const char *auth_token, const char *call_sid, const char *account_sid,
		   long long expiry, char *out, size_t cap);

/* Check TOKEN for CALL_SID and ACCOUNT_SID at time NOW. 0 when valid; else -1 with WHY
 * (may be NULL) set to a short reason: "missing", "malformed: …", "expired …",
 * "expiry too far ahead", "wrong MAC". Never reads more than STREAMTOK_MAX + 1 bytes of
 * TOKEN before deciding it is too long; the MAC is compared in constant time. */
int streamtok_check(const char *auth_token, const char *call_sid, const char *account_sid,
		    const char *token, time_t now, char *why, size_t whylen);

#endif
