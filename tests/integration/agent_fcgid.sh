# agent_fcgid: agent mode through Apache + mod_fcgid with the default turn handler:
# greeting, DTMF by numDigits and by finishOnKey, Hangup after the mark, Play, cache, bad Play,
# a key that interrupts the prompt, and a long Say through an outbound queue of 32 KiB.
VARIANT=fcgid
source "$(dirname "$0")/agent.inc"

TPL=$(templates_copy)
# +15550000002: a Gather of exactly two keys, no finish key needed
cat > "$TPL/turn_start.15550000002.xml" <<'XML'
<Response><Gather numDigits="2" finishOnKey=""><Say>Two keys please.</Say></Gather></Response>
XML
# +15550000003: the reply says goodbye and hangs up
cat > "$TPL/turn_dtmf.15550000003.xml" <<'XML'
<Response><Say>You pressed {{Digits}}.</Say><Hangup/></Response>
XML
# +15550000004: a 44.1 kHz WAV of 1.5 s, then a path that escapes media_dir
cat > "$TPL/turn_start.15550000004.xml" <<'XML'
<Response><Play>tone44k.wav</Play><Play>../callpipe.conf</Play><Hangup/></Response>
XML
# +15550000006: a long prompt a key interrupts; the reply says what the turn was told
cat > "$TPL/turn_start.15550000006.xml" <<'XML'
<Response><Gather numDigits="1"><Say>This prompt is long on purpose. It goes on for several seconds, so that a key can cut it short. It would go on and on.</Say></Gather></Response>
XML
cat > "$TPL/turn_dtmf.15550000006.xml" <<'XML'
<Response><Say>Interrupted {{Interrupted}} after {{InterruptedAfterMs}}.</Say><Hangup/></Response>
XML
# +15550000007: about 15 s of speech, far more than the 32 KiB outbound queue holds
cat > "$TPL/turn_start.15550000007.xml" <<'XML'
<Response><Say>One two three four five six seven eight nine ten. Eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty. Twenty one twenty two twenty three twenty four twenty five twenty six twenty seven twenty eight twenty nine thirty.</Say><Hangup/></Response>
XML
templates_seal "$TPL"

# [ws] max_queue_bytes = 32 KiB (about 100 media messages): the agent's pacing, not luck,
# keeps every call here under it; a queue overflow would close the call with 1011.
stack_start "$VARIANT" MODE=agent AUTH_TOKEN=$TOKEN TEMPLATES_DIR="$TPL" \
	WS_CONF="max_queue_bytes = 32768" || { finish; exit 1; }
BASE=http://127.0.0.1:$HTTP_PORT
sox -n -r 44100 -b 16 -c 2 "$RUN_DIR/media/tone44k.wav" synth 1.5 sine 440 && chmod 0644 "$RUN_DIR/media/tone44k.wav" ||
	notok "sox makes a 44.1 kHz test tone"

# --- the greeting, then 42# answered: heard by a recognizer ------------------------------------
SID=CA$(hex32); REC=$RUN_DIR/heard-$SID.wav
out=$(agent_call --call-sid "$SID" --dtmf 42# --record "$REC")
expect_eq "agent call with --dtmf 42#: PASS" "$(jget "$out" .outcome)" pass
expect_eq "a greeting with sound, then a reply with sound" \
	"$(jget "$out" '[.agent.greeting, (.agent.utterances | map(.sound) | all)] | @text')" "[1,true]"
expect_eq "every agent frame is 160 bytes" "$(jget "$out" .agent.frames_not_160)" 0
expect_eq "both utterances' marks came back played" \
	"$(jget "$out" '[.agent.marks_played, .agent.marks_flushed] | @text')" "[2,0]"
expect_match "greeting lasts 1-8 s" "$(jget "$out" '.agent.utterances[0].heard_ms')" '^[1-7][0-9]{3}(\.[0-9]+)?$'
words=$(heard "$REC")
expect_match "pocketsphinx hears \"you pressed four two\" in what the caller heard" "$words" "you pressed four two"
log=$(call_log "$SID")
expect_match "log: the start turn went to the default handler, signed and checked" "$log" " fcgi turn index=0 event=start .*sig=ok"
expect_match "log: the dtmf turn carried Digits=42" "$log" " fcgi turn index=1 event=dtmf digits=42 .*sig=ok"
expect_match "log: ws turn line with status and timings" "$log" " ws turn index=0 event=start url=http://127.0.0.1:$HTTP_PORT/webhook/turn status=200 first_byte_ms=[0-9]+ complete_ms=[0-9]+ verbs=3"
expect_match "log: the greeting's say line (engine, voice, frames)" "$log" ' ws say text="Hello, this is callpipe\. .*engine=espeak voice=en-us frames=[0-9]+ first_frame_ms=[0-9]+'
expect_match "log: the reply said the digits" "$log" ' ws say text="You pressed 42\." '
expect_match "log: marks played" "$log" " ws mark name=say-1 result=played"
expect_match "log: listening after the greeting" "$log" ' ws listen input="dtmf speech" timeout_s=5 finish_on_key=#'
expect_eq "log: one dtmf line per key" "$(grep -c ' ws dtmf digit=' <<<"$log")" 3

# --- numDigits: two keys, no finish key ---------------------------------------------------------
SID=CA$(hex32); REC=$RUN_DIR/heard-$SID.wav
out=$(agent_call --call-sid "$SID" --to +15550000002 --dtmf 42 --record "$REC")
expect_eq "numDigits=2: PASS" "$(jget "$out" .outcome)" pass
expect_match "numDigits=2: the reply came without waiting the 5 s timeout (< 2 s)" \
	"$(jget "$out" '.agent.keys[0].reply_ms')" '^1?[0-9]{1,3}(\.[0-9]+)?$'
expect_match "numDigits=2: the reply said the digits" "$(call_log "$SID")" ' ws say text="You pressed 42\." '
expect_match "numDigits=2: turn posted Digits=42" "$(call_log "$SID")" " fcgi turn index=1 event=dtmf digits=42 "

# --- Hangup: the stream closes with 1000 only after the goodbye's mark returned -----------------
SID=CA$(hex32)
out=$(agent_call --call-sid "$SID" --to +15550000003 --dtmf 5# --expect-hangup)
expect_eq "Hangup: PASS (agent hung up)" "$(jget "$out" '[.outcome, .agent.hung_up] | @text')" '["pass",true]'
expect_eq "Hangup: closed by the server with 1000" "$(jget "$out" '[.closed_by, .close_code] | @text')" '["server",1000]'
expect_eq "Hangup: no mark was pending when it closed" "$(jget "$out" .agent.pending_marks_at_end)" 0
log=$(call_log "$SID")
order=$(grep -oE ' ws (mark name=say-2 result=played|hangup reason=verb|ws_done)' <<<"$log" | tr '\n' ,)
expect_eq "Hangup: log order mark played, hangup, ws_done" "$order" " ws mark name=say-2 result=played, ws hangup reason=verb, ws ws_done,"

# --- Play: a 44.1 kHz stereo WAV arrives at 8 kHz at its length; a path outside is refused ------
SID=CA$(hex32)
out=$(agent_call --call-sid "$SID" --to +15550000004 --expect-hangup)
expect_eq "Play: agent hung up after playing" "$(jget "$out" .agent.hung_up)" true
expect_eq "Play: 1.5 s of 44.1 kHz became 75 frames of 20 ms" "$(jget "$out" .agent.frames)" 75
log=$(call_log "$SID")
expect_match "Play: log play line with 75 frames" "$log" " ws play src=tone44k.wav frames=75 "
expect_match "Play: ../callpipe.conf refused and logged" "$log" ' ws turn_warning verb=play .*outside \[agent\] media_dir'

# --- a key during the prompt: unsent audio dropped, clear sent, the next turn told ---------------
SID=CA$(hex32)
out=$(agent_call --call-sid "$SID" --to +15550000006 --dtmf-at 1.5:7 --expect-hangup)
expect_eq "barge-in: PASS, the agent hung up after its reply" "$(jget "$out" '[.outcome, .agent.hung_up] | @text')" '["pass",true]'
expect_match "barge-in: the caller got a clear" "$(jget "$out" .agent.clears)" '^[1-9]'
expect_match "barge-in: the prompt was cut short (heard < 3 s of it)" "$(jget "$out" '.agent.utterances[0].heard_ms')" '^[12]?[0-9]{1,3}(\.[0-9]+)?$'
log=$(call_log "$SID")
expect_match "barge-in: logged with the audio played before it" "$log" ' ws barge_in by=dtmf played_ms=[0-9]+ dropped_frames=[0-9]+'
expect_match "barge-in: the prompt is logged as interrupted, cut short" "$log" ' ws say text="This prompt is long on purpose\. [^"]*" .*frames=[0-9]+ .* interrupted=yes'
expect_match "barge-in: the next turn said Interrupted=true and when (1-3 s)" "$log" ' ws say text="Interrupted true after [12][0-9]{3}\."'

# --- 15 s of speech through a 32 KiB queue: paced, whole, the call not closed --------------------
SID=CA$(hex32)
out=$(agent_call --call-sid "$SID" --to +15550000007 --expect-hangup)
expect_eq "long Say: PASS, played whole, then the agent hung up" "$(jget "$out" '[.outcome, .agent.hung_up, .close_code] | @text')" '["pass",true,1000]'
expect_match "long Say: over 10 s of audio heard" "$(jget "$out" '.agent.utterances[0].heard_ms')" '^[1-9][0-9]{4}(\.[0-9]+)?$'
expect_nomatch "long Say: no queue overflow" "$(call_log "$SID")" 'errors_queue_full|close_code=1011'
# [agent] lead_ms = 1000, topped up every 200 ms: never much more than 1.2 s ahead
expect_match "long Say: paced, never over 2 s ahead of the caller (max buffered at Twilio)" \
	"$(jget "$out" .agent.max_buffered_ms)" '^1?[0-9]{1,3}(\.[0-9]+)?$'

# --- the cache: a second greeting is not synthesized again -------------------------------------
SID=CA$(hex32)
out=$(agent_call --call-sid "$SID" --dtmf 1#)
expect_match "second call's greeting came from the TTS cache" "$(call_log "$SID")" ' ws say text="Hello, this is callpipe\. [^"]*" .* cached=yes'

# espeak-ng would open a PulseAudio connection; the helper points libpulse nowhere
expect_nomatch "callpipe-ws's log has no sound-server noise" "$(cat "$RUN_DIR/logs/callpipe-ws.log")" 'pulse'

finish
