/* token: the callpipe_token a stream's start carries (common/streamtok): the TwiML's, one
 * the simulator makes when there is no TwiML, a given one or none; `stream-token` prints one. */
#ifndef CALLPIPE_SIM_TOKEN_H
#define CALLPIPE_SIM_TOKEN_H

#include <stddef.h>

#include "callrun.h"

/* Seconds a token the simulator makes itself is valid (the [twilio] default). */
#define SIM_TOKEN_SECONDS 300

/* start.customParameters (a malloc'd JSON object, NULL when out of memory) for a call with
 * sids CALL_SID and ACCOUNT_SID: the N TwiML Parameters NAMES/VALUES, then by O:
 * --no-stream-token drops callpipe_token; --stream-token T sends T in its place; else,
 * when there was no TwiML (FROM_TWIML 0: --stream-url, load without --webhook) and the
 * auth token is known, a token made for the call is added, as callpipe-fcgi would. */
char *sim_token_params(const struct sim_callopts *o, int from_twiml, const char *call_sid,
		       const char *account_sid, const char *const *names,
		       const char *const *values, size_t n);

/* `callpipe-sim stream-token`: print a token for a CallSid and AccountSid. */
int sim_cmd_stream_token(int argc, char **argv);
extern const char sim_help_stream_token[];

#endif
