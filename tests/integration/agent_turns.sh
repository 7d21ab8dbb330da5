# agent_turns: agent mode against turn URLs other than the default handler (a stub server
# that checks our signature with Python's hmac, not common/twsig.c): a streamed answer heard
# before it ends, every failed-turn kind (a turn_error line and [agent] error_text spoken),
# and the OpenAI-compatible TTS engine against a stub of that API backed by espeak-ng.
VARIANT=fcgid
source "$(dirname "$0")/agent.inc"

STUBS=$(mktemp -d)
# start_stub NAME CMD…: run a stub that prints "listening on PORT" first; sets PORT_<NAME>.
start_stub() {
	local name=$1 port=""; shift
	"$@" > "$STUBS/$name.out" 2> "$STUBS/$name.err" &
	echo $! >> "$STUBS/pids"
	wait_until 10 grep -q '^listening on ' "$STUBS/$name.out" || { notok "$name stub starts"; diag < "$STUBS/$name.err"; return 1; }
	port=$(awk '/^listening on /{print $3; exit}' "$STUBS/$name.out")
	printf -v "PORT_$name" '%s' "$port"
}
cleanup() { [ -f "$STUBS/pids" ] && kill $(cat "$STUBS/pids") 2>/dev/null; rm -rf "$STUBS"; }
trap cleanup EXIT

start_stub turn python3 "$ROOT/tests/stubs/turnsrv.py" --port 0 --token "$TOKEN" \
	--log "$STUBS/turns.jsonl" --stream-delay-ms 3000 || { finish; exit 1; }
start_stub tts python3 "$ROOT/tests/stubs/openai_speech.py" --port 0 --key sk-test-key || { finish; exit 1; }
TURN=http://127.0.0.1:$PORT_turn

# with_turn_url URL [VAR=VALUE…]: a fresh stack whose turns go to URL.
with_turn_url() {
	stack_stop
	local url=$1; shift
	stack_start "$VARIANT" MODE=agent AUTH_TOKEN=$TOKEN TURN_URL="$url" \
		AGENT_CONF="turn_timeout_ms = 4000
max_turn_bytes = 65536" "$@"
	BASE=http://127.0.0.1:$HTTP_PORT
}

# --- a streamed answer: the first Say plays while the body is still coming ----------------------
with_turn_url "$TURN/stream" || { finish; exit 1; }
SID=CA$(hex32)
# the caller stays on the line past the 3 s pause in the answer (--quiet-ms)
out=$(agent_call --call-sid "$SID" --max-seconds 25 --quiet-ms 4500)
first=$(jget "$out" .agent.first_audio_ms)
log=$(call_log "$SID")
complete=$(grep -oE ' ws turn index=0 .*complete_ms=[0-9]+' <<<"$log" | grep -oE '[0-9]+$')
# A 3 s pause in the body against a 1.5 s margin: the check holds on a loaded sanitizer build
# (first audio took 565 ms there), and fails if the answer is only played once it is complete.
expect_match "streamed turn: the whole body took >= 2.9 s (the stub's 3 s pause)" "${complete:-0}" '^(29[0-9]{2}|[3-9][0-9]{3}|[1-9][0-9]{4})$'
if [ -n "$first" ] && [ -n "$complete" ] && awk -v f="$first" -v c="$complete" 'BEGIN{exit !(f < c - 1500)}'; then
	ok "streamed turn: first audio ($first ms) came 1.5 s or more before the body ended ($complete ms)"
else
	notok "streamed turn: first audio ($first ms) before the body ended ($complete ms)"
fi
expect_eq "streamed turn: both Says were spoken, in order" \
	"$(grep -oE ' ws say text=(First|Second)\.' <<<"$log" | tr '\n' ,)" " ws say text=First., ws say text=Second.,"
# the stub logs each request's fields as [name, value] pairs
turn0() { jq -c '(.fields | map({(.[0]): .[1]}) | add) as $f | select($f.CallSid == "'"$SID"'") | '"$1" "$STUBS/turns.jsonl" 2>/dev/null | head -1; }
sig=$(turn0 .sig | tr -d '"')
expect_eq "turn POST signature verified by the stub (Python hmac, not twsig.c)" "$sig" ok
fields=$(turn0 '[$f.TurnIndex, $f.TurnEvent, $f.From, $f.To, $f.Interrupted, ($f.AccountSid | test("^AC")), ($f | has("Digits") and has("SpeechResult") and has("Confidence") and has("Language") and has("InterruptedAfterMs"))]')
expect_eq "turn POST fields per the contract" "$fields" '["0","start","+15551234567","+15557654321","false",true,true]'

# --- every way a turn can fail: turn_error names it, the caller hears error_text ---------------
check_failure() { # DESC URL REASON-REGEX
	with_turn_url "$2" || return
	local sid=CA$(hex32) out log
	out=$(agent_call --call-sid "$sid" --max-seconds 20)
	log=$(call_log "$sid")
	expect_match "$1: turn_error names it" "$log" " ws turn_error index=0 event=start url=[^ ]+ reason=\"?$3"
	expect_match "$1: error_text spoken" "$log" ' ws say text="Sorry, something went wrong\." '
	expect_eq "$1: the caller heard it (greeting with sound), the call went on" "$(jget "$out" '[.outcome, .agent.greeting > 0] | @text')" '["pass",true]'
}
check_failure "HTTP 500" "$TURN/status/500" "HTTP 500"
check_failure "text/html" "$TURN/html" "content type text/html"
check_failure "broken XML" "$TURN/broken" "line [0-9]+"
check_failure "hung server" "$TURN/hang" "timed out after 4000 ms"
check_failure "100 MB body" "$TURN/huge" "(body over 65536 bytes|<Say> text over 4096 bytes)"
check_failure "nobody listening" "http://127.0.0.1:9/turn" "connection refused"

# --- <Redirect>: the same turn, with its Digits, POSTed to another URL; its answer is spoken -----
TPL=$(templates_copy)
cat > "$TPL/turn_dtmf.15550000005.xml" <<XML
<Response><Redirect>$TURN/echo-fields</Redirect><Say>never said</Say></Response>
XML
templates_seal "$TPL"
with_turn_url "" TEMPLATES_DIR="$TPL" || { finish; exit 1; }
SID=CA$(hex32)
out=$(agent_call --call-sid "$SID" --to +15550000005 --dtmf 42# --max-seconds 20)
expect_eq "Redirect: PASS" "$(jget "$out" .outcome)" pass
log=$(call_log "$SID")
expect_match "Redirect: the redirected answer was spoken" "$log" ' ws say text="event dtmf digits 42" '
expect_nomatch "Redirect: the verbs after it were not" "$log" 'never said'
expect_match "Redirect: the turn it replaced is logged as cancelled" "$log" ' ws turn_cancelled index=1 event=dtmf url=http://127.0.0.1:[0-9]+/webhook/turn why=redirect'
sig=$(turn0 '[.path, .sig, $f.TurnEvent, $f.Digits, $f.TurnIndex]')
expect_eq "Redirect: the stub got the dtmf turn with Digits, signed over its URL" "$sig" '["/echo-fields","ok","dtmf","42","1"]'

# --- the OpenAI-compatible TTS engine (a stub of its API, real speech from espeak-ng) ---------
with_turn_url "$TURN/ok" TTS_CONF="engine = http
url = http://127.0.0.1:$PORT_tts/v1/audio/speech
api_key = sk-test-key
model = tts-1" || { finish; exit 1; }
SID=CA$(hex32)
out=$(agent_call --call-sid "$SID" --max-seconds 20)
expect_eq "http TTS: the greeting was heard" "$(jget "$out" '[.outcome, .agent.utterances[0].sound] | @text')" '["pass",true]'
expect_match "http TTS: say line names the engine" "$(call_log "$SID")" ' ws say text=Hello\. engine=http voice=alloy frames=[1-9][0-9]* '

finish
