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
"       callpipe-sim call --stream-url ws://HOST:PORT/PATH [options]\n"
"  --auth-token T        sign the webhooks and the upgrade\n"
"  --public-url BASE     the URL Twilio uses for the server; signatures cover it\n"
"  --from NUM, --to NUM  caller and called numbers (+15551234567, +15557654321)\n"
"  --param NAME=VALUE    an extra webhook parameter (repeatable)\n"
"  --call-sid SID        this CallSid instead of a random one\n"
"  --account-sid SID     this AccountSid instead of a random one\n"
"  --stream-token T      send T as start's callpipe_token\n"
"  --no-stream-token     send no callpipe_token\n"
"  --webhook-path P      default /webhook/incoming_call\n"
"  --status-path P       default /webhook/call_status\n"
"  --no-call-status      post no call status callback\n"
"  --stream-url URL      skip the webhook: dial this Stream url\n"
"  --connect HOST:PORT   dial HOST:PORT, keeping the Stream url's path and Host\n"
"  --tls                 TLS for --connect\n"
"  --insecure            accept any certificate\n"
"  --no-subprotocol      offer no Sec-WebSocket-Protocol\n"
"  --subprotocol LIST    offer LIST instead of audio.twilio.com\n"
"  --ws-signature SIG    send SIG as the upgrade's X-Twilio-Signature\n"
"  --audio FILE          send FILE (WAV, or raw 8 kHz u-law) instead of a tone\n"
"  --seconds S           length of the generated tone (default 3)\n"
"  --fast                send media as fast as possible, not every 20 ms\n"
"  --dtmf DIGITS         send these digits (with --agent: one group per wait)\n"
"  --record FILE.wav     write what the caller would have heard\n"
"  --expect-echo         require exactly the audio sent back, after one clear\n"
"  --drain S             wait at most S s for echo after the last frame (default 5)\n"
"  --timeout S           webhook timeout (default 15)\n"
"  --inject LIST         send bad input, each kind in LIST once (json,binary,too-big,...)\n"
"  --inject-size N       bytes of the too-big message (default 70000)\n"
"  --expect-close CODE   PASS only if the server closes with CODE\n"
"  --agent               play the caller of an agent\n"
"  --dtmf-gap-ms MS      with --agent: between the keys of a group (default 100)\n"
"  --dtmf-at S:KEYS      with --agent: press KEYS S seconds after start\n"
"  --say FILE            with --agent: speak FILE at the next wait (repeatable)\n"
"  --say-at S            with --agent: the next --say starts S s after start\n"
"  --say-raw-rate HZ     sample rate of raw --say files (default 16000)\n"
"  --quiet-ms MS         with --agent: quiet that ends the agent's turn (default 700)\n"
"  --max-seconds S       with --agent: the longest the stream may last (default 60)\n"
"  --expect-hangup       with --agent: PASS only if the agent hangs up\n"
"  --json                one JSON object instead of the summary\n"
"  --trace               print every WebSocket message on stderr\n"
"  --lws-debug           let libwebsockets log on stderr\n"
"  -h, --help            this text\n"
"See callpipe-sim(1) for what a call checks and how to read a failure.\n";

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
