/* call: `callpipe-sim call`, one whole inbound call as Twilio runs it: incoming_call webhook,
 * TwiML check, Media Stream both ways with Twilio's buffer, status callbacks, a verdict. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callrun.h"
#include "g711.h"
#include "playout.h"
#include "report.h"
#include "sim.h"
#include "stream.h"
#include "twiml.h"
#include "wav.h"
#include "webhook.h"

const char sim_help_call[] =
"usage: callpipe-sim call BASE_URL [options]\n"
"       callpipe-sim call --stream-url ws://HOST:PORT/PATH [options]   (the stream alone)\n"
"\n"
"Does to your server what Twilio does for one inbound phone call, and tells you in\n"
"plain words whether the audio pipe works both ways:\n"
"\n"
"  1. POSTs BASE_URL/webhook/incoming_call with every parameter Twilio sends (a fresh\n"
"     CallSid CA..., AccountSid AC..., From, To, CallStatus=ringing, Direction=inbound,\n"
"     ApiVersion, Caller, Called, FromCountry...), signed with --auth-token over\n"
"     --public-url when given.\n"
"  2. Checks the answer: HTTP 200, an XML Content-Type, TwiML with <Response>\n"
"     <Connect><Stream url=\"wss://...\">, track, <Parameter>s (name+value under 500\n"
"     characters), statusCallback.\n"
"  3. Opens the Stream url as a WebSocket (offering the audio.twilio.com subprotocol, with\n"
"     X-Twilio-Signature when --auth-token is given) and checks the handshake: 101, and\n"
"     no subprotocol answered that was not offered (RFC 6455).\n"
"  4. Sends connected, start (the TwiML's Parameters as customParameters), 20 ms media\n"
"     frames of 160 µ-law bytes in real time, dtmf, then stop; meanwhile it plays the\n"
"     server's audio out of a Twilio-like buffer in real time: marks come back when the\n"
"     audio before them has played, clear flushes the buffer and returns pending marks.\n"
"  5. POSTs stream-started / stream-stopped (or stream-error) to the statusCallback and\n"
"     call_status=completed to BASE_URL/webhook/call_status.\n"
"\n"
"It is as strict as Twilio: a binary frame (31950), a message that is not JSON, an event\n"
"other than media/mark/clear, a missing, misspelled or extra key, a wrong streamSid,\n"
"anything sent before start (31951), a payload that is a WAV file, more than 10 minutes\n"
"buffered (31931) are reported with the Twilio error code they would cause.\n"
"\n"
"Options:\n"
"  --auth-token T        sign the webhooks and the upgrade (Twilio console: Auth Token)\n"
"  --public-url BASE     the URL Twilio uses for your server (https://voice.example.com);\n"
"                        signatures are computed over it, and URLs under it in the TwiML\n"
"                        (Stream url, statusCallback) are reached through BASE_URL\n"
"  --from NUM, --to NUM  caller and called numbers (+15551234567, +15557654321)\n"
"  --param NAME=VALUE    an extra webhook parameter (repeatable): Twilio adds new ones\n"
"                        without notice, so a server must accept them\n"
"  --call-sid SID        use this CallSid instead of a random CA + 32 hex\n"
"  --account-sid SID     use this AccountSid instead of a random AC + 32 hex\n"
"  --stream-token T      send T as start's callpipe_token (in place of the TwiML's)\n"
"  --no-stream-token     send no callpipe_token, even if the TwiML has one\n"
"                        (neither given: the TwiML's; with --stream-url and\n"
"                        --auth-token, one made for the call as callpipe-fcgi would)\n"
"  --webhook-path P      default /webhook/incoming_call\n"
"  --status-path P       default /webhook/call_status;  --no-call-status: skip it\n"
"  --stream-url URL      skip the webhook and TwiML: dial this Stream url directly\n"
"                        (BASE_URL may then be left out: no call_status is posted)\n"
"  --connect HOST:PORT   dial HOST:PORT instead of the Stream url's host, keeping its\n"
"                        path and Host header (plain ws unless --tls)\n"
"  --tls, --insecure     TLS for --connect; accept any certificate\n"
"  --no-subprotocol      offer no Sec-WebSocket-Protocol (some clients do not)\n"
"  --subprotocol LIST    offer LIST (comma-separated) instead of audio.twilio.com\n"
"  --ws-signature SIG    send SIG as the upgrade's X-Twilio-Signature\n"
"  --audio FILE          send FILE (WAV: PCM or µ-law, any rate, mono or stereo; or raw\n"
"                        8 kHz µ-law) instead of a generated tone\n"
"  --seconds S           length of the generated tone (default 3, at most 3600)\n"
"  --fast                send media as fast as possible instead of every 20 ms\n"
"  --dtmf DIGITS         send these digits (0-9 * #) as dtmf events spread over the call\n"
"  --record FILE.wav     write what the caller would have heard (8 kHz WAV)\n"
"  --expect-echo         require the audio that comes back to be exactly the audio sent,\n"
"                        byte for byte and in order, after exactly one clear (what\n"
"                        callpipe-ws in echo mode does)\n"
"  --drain S             after the last frame, wait at most S seconds for echo and\n"
"                        play-out before hanging up (default 5)\n"
"  --timeout S           webhook timeout (default 15, Twilio's)\n"
"  --inject LIST         send bad input, each kind in LIST (comma-separated) once, and\n"
"                        report what the server did with it; mid-call kinds go after\n"
"                        media frame 5, 10, 15... in the order given:\n"
"                          json          a text frame that is not JSON\n"
"                          binary        a binary frame (Twilio: 31950)\n"
"                          unknown       {\"event\":\"bogus\",...}\n"
"                          stream-sid    media with a streamSid the server never saw\n"
"                          base64        media whose payload is not base64\n"
"                          too-big       one text message of --inject-size bytes\n"
"                          early-media   media right after connected, before start\n"
"                          bad-call-sid  start with callSid CA../../etc/passwd\n"
"                          fragmented    every message in 3 WebSocket fragments\n"
"                        None of them is audio: --expect-echo still wants the exact\n"
"                        echo, and the media the server must ignore must not come back\n"
"  --inject-size N       bytes of the too-big message (default 70000, just over\n"
"                        callpipe-ws's 64 KiB max_message)\n"
"  --expect-close CODE   PASS only if the server closes the WebSocket with CODE (1009\n"
"                        too big, 1008 policy, 1001 going away); the echo check then\n"
"                        covers what came back before the close\n"
"  --agent               play the caller of an agent (callpipe-ws in agent mode): send\n"
"                        µ-law silence every 20 ms, hear the agent through the buffer,\n"
"                        split what is heard into utterances at each wait (all played,\n"
"                        every mark back, then --quiet-ms of quiet) or clear; press the\n"
"                        keys of each --dtmf at the next wait (the first after the\n"
"                        greeting), hang up (stop, close 1000) once the reply to the\n"
"                        last keys has been heard. PASS: a greeting with sound before\n"
"                        any key, a reply with sound after each group, every frame 160\n"
"                        bytes, no protocol error; the server closing with 1000 (a\n"
"                        <Hangup/>) is a normal end: \"agent hung up\"\n"
"  --dtmf KEYS           with --agent: one group of keys per wait (repeatable), sent as\n"
"                        dtmf events --dtmf-gap-ms apart (default 100)\n"
"  --dtmf-at S:KEYS      with --agent: press KEYS S seconds after start (barge-in)\n"
"  --say FILE            with --agent: speak FILE (WAV, FLAC, Ogg… any rate; .raw/.pcm/\n"
"                        .s16: 16-bit mono at --say-raw-rate) as 8 kHz µ-law at the next\n"
"                        wait (repeatable; in order with the --dtmf groups); reports end\n"
"                        of its voice -> the reply, and its onset -> a clear\n"
"  --say-at S            with --agent: the next --say starts S seconds after the stream\n"
"                        start, whatever the agent does (talking over it: barge-in)\n"
"  --say-raw-rate HZ     the sample rate of raw --say files (default 16000)\n"
"  --quiet-ms MS         with --agent: quiet that ends the agent's turn (default 700)\n"
"  --max-seconds S       with --agent: the longest the stream may last (default 60)\n"
"  --expect-hangup       with --agent: PASS only if the agent hangs up (server close 1000)\n"
"  --json                one JSON object on stdout instead of the summary\n"
"  --trace               print every WebSocket message on stderr\n"
"  --lws-debug           let libwebsockets log on stderr\n"
"\n"
"Reading a failure:\n"
"  webhook HTTP 403      the signature did not match: the auth token, or --public-url\n"
"                        is not the URL Twilio calls (proxies change host and port)\n"
"  webhook HTTP 502/504  the web server could not reach the FastCGI program\n"
"  31920 handshake       the upgrade got no 101: 404 = wrong path, 403 = signature on\n"
"                        the upgrade refused, 200 or 502 = a proxy without WebSocket\n"
"                        upgrade (Apache: ProxyPass ... upgrade=websocket); Twilio\n"
"                        reports it only to the statusCallback, and the caller hears\n"
"                        silence, then the next verb\n"
"  31902 / 31901         nothing listens there / nothing answered in 10 s\n"
"  31951                 a message Twilio ignores: the caller hears silence\n"
"  no audio came back    the stream is up but the server sent no media\n"
"\n"
"Exit status: 0 when the summary ends in PASS, 1 on FAIL (the reason is on the last\n"
"line), 64 on a bad command line.\n"
"\n"
"Example (make run, then):\n"
"  callpipe-sim call http://127.0.0.1:8080 --expect-echo --dtmf 123\n"
"  callpipe-sim call http://127.0.0.1:8080 --agent --dtmf 42# --record heard.wav\n";

/* A tone that never repeats a frame (so order can be checked): 440 Hz plus a little
 * deterministic noise. */
static uint8_t *make_tone(double seconds, size_t *len)
{
	size_t n = (size_t)(seconds * 8000), i;
	uint8_t *p = malloc(n ? n : 1);
	uint32_t lcg = 12345;

	*len = 0;
	if (!p)
		return NULL;
	for (i = 0; i < n; i++) {
		double s = 8000.0 * sin(2 * M_PI * 440.0 * (double)i / 8000.0);

		lcg = lcg * 1103515245u + 12345u;
		s += (double)((lcg >> 16) % 401) - 200.0;
		p[i] = g711_ulaw_encode((int16_t)s);
	}
	*len = n;
	return p;
}

/* The audio to send, padded with µ-law silence to whole 20 ms frames. */
static int load_audio(const struct sim_callopts *o, uint8_t **out, size_t *len)
{
	char err[256];
	int16_t *pcm;
	size_t n, i, padded;
	uint8_t *p;

	*out = NULL;
	*len = 0;
	if (!o->audio_file) {
		p = make_tone(o->seconds, &n);
	} else {
		if (wav_load_8k(o->audio_file, &pcm, &n, err, sizeof(err))) {
			fprintf(stderr, "callpipe-sim: %s: %s\n", o->audio_file, err);
			return -1;
		}
		p = malloc(n ? n : 1);
		for (i = 0; p && i < n; i++)
			p[i] = g711_ulaw_encode(pcm[i]);
		free(pcm);
	}
	if (!p)
		return -1;
	padded = (n + SIM_FRAME_BYTES - 1) / SIM_FRAME_BYTES * SIM_FRAME_BYTES;
	if (padded == 0)
		padded = SIM_FRAME_BYTES;
	if (padded != n) {
		uint8_t *q = realloc(p, padded);

		if (!q) {
			free(p);
			return -1;
		}
		p = q;
		memset(p + n, 0xFF, padded - n);
	}
	*out = p;
	*len = padded;
	return 0;
}

int sim_cmd_call(int argc, char **argv)
{
	struct sim_callopts o;
	struct sim_callrun run;
	uint8_t *audio = NULL;
	size_t audio_len = 0;
	int rc;

	rc = sim_callopts_parse(argc, argv, &o);
	if (rc) {
		sim_callopts_free(&o);
		if (rc < 0) {
			fputs(sim_help_call, stdout);
			return 0;
		}
		return rc;
	}
	if (!o.agent && load_audio(&o, &audio, &audio_len)) {
		sim_callopts_free(&o);
		return SIM_EXIT_USAGE;
	}
	rc = sim_callrun_execute(&o, audio, audio_len, &run);
	sim_callrun_report(&o, &run);
	rc = run.failed ? SIM_EXIT_FAIL : SIM_EXIT_OK;
	sim_callrun_free(&run);
	free(audio);
	sim_callopts_free(&o);
	return rc;
}
