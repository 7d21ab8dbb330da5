# agent_speech: the agent hears the caller, through Apache + mod_fcgid: real speech from
# pocketsphinx-testdata (goforward.raw, 16 kHz) said by callpipe-sim --say as 8 kHz µ-law,
# recognized with a phrase list and with a JSGF grammar, the turn POST's fields, silence and
# line noise giving a timeout, a short burst not barging in, talking over the agent, the
# OpenAI-compatible ASR engine against a stub, and the recordings. What the agent said back
# is checked by pocketsphinx_continuous on what the caller heard, not by our code.
VARIANT=fcgid
source "$(dirname "$0")/agent.inc"

GRAMMAR=$ROOT/tests/integration/data/agent_speech.gram   # for heard()
TESTDATA=/usr/share/pocketsphinx/test/data
GOFORWARD=$TESTDATA/goforward.raw       # "go forward ten meters", 16 kHz s16le mono
HINTS="go forward ten meters, turn left, stop"
WORK=$(mktemp -d); chmod 0755 "$WORK"
cleanup() { [ -f "$WORK/pids" ] && kill $(cat "$WORK/pids") 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

[ -r "$GOFORWARD" ] || { notok "pocketsphinx-testdata is installed ($GOFORWARD)"; finish; exit 1; }

# --- what the caller says: made with sox, not our code --------------------------------------
# 1 s of silence then 2.5 s of white noise at about -38 dBFS: a quiet line, then a noisy
# one, said from 0.3 s after the prompt (--quiet-ms 300) so the 3 s timeout falls in the noise
# and the clip is out before the agent's answer to the timeout hangs up.
sox -n -r 8000 -b 16 -c 1 "$WORK/quiet.wav" trim 0 1 &&
	sox -n -r 8000 -b 16 -c 1 "$WORK/hiss.wav" synth 2.5 whitenoise vol 0.02 &&
	sox "$WORK/quiet.wav" "$WORK/hiss.wav" "$WORK/silence_noise.wav" || notok "sox makes the noise clip"
# a cough-length burst: 150 ms of loud noise
sox -n -r 8000 -b 16 -c 1 "$WORK/burst.wav" synth 0.15 whitenoise vol 0.5 || notok "sox makes the burst"

# the stub turn server records the speech turn's fields (it checks our signature itself)
python3 "$ROOT/tests/stubs/turnsrv.py" --port 0 --token "$TOKEN" --log "$WORK/turns.jsonl" \
	> "$WORK/turnsrv.out" 2> "$WORK/turnsrv.err" & echo $! >> "$WORK/pids"
wait_until 10 grep -q '^listening on ' "$WORK/turnsrv.out" || notok "turn stub starts"
TURN=http://127.0.0.1:$(awk '/^listening on /{print $3; exit}' "$WORK/turnsrv.out")

# --- the grammar directory and the templates ---------------------------------------------------
mkdir -p "$WORK/grammars" && cp "$TESTDATA/goforward.gram" "$TESTDATA/cards/cards.gram" "$WORK/grammars/" &&
	chmod 0755 "$WORK/grammars" && chmod 0644 "$WORK/grammars"/*.gram
TPL=$(templates_copy)
LONG="This prompt is long on purpose. It goes on for several seconds, so that the caller can talk over it. It would go on and on and on."
# +15550000101: a phrase list (hints); the shipped turn_speech says "You said …"
cat > "$TPL/turn_start.15550000101.xml" <<XML
<Response><Gather input="speech" speechTimeout="auto" hints="$HINTS"><Say>Say a command.</Say></Gather></Response>
XML
# +15550000102: a JSGF grammar from [asr] grammar_dir
cat > "$TPL/turn_start.15550000102.xml" <<'XML'
<Response><Gather input="speech" speechTimeout="auto" grammar="goforward.gram"><Say>Say a command.</Say></Gather></Response>
XML
# +15550000107: the cards grammar (a 16 kHz WAV this time: libsndfile's path in the sim)
cat > "$TPL/turn_start.15550000107.xml" <<'XML'
<Response><Gather input="speech" speechTimeout="auto" grammar="cards.gram"><Say>Pick a card.</Say></Gather></Response>
XML
# +15550000104: 3 s timeout; a timeout says so and hangs up; a false result would be spoken
cat > "$TPL/turn_start.15550000104.xml" <<XML
<Response><Gather input="speech" speechTimeout="auto" timeout="3" hints="$HINTS"><Say>Say a command.</Say></Gather></Response>
XML
cat > "$TPL/turn_timeout.15550000104.xml" <<'XML'
<Response><Say>Nothing heard.</Say><Hangup/></Response>
XML
cat > "$TPL/turn_speech.15550000104.xml" <<'XML'
<Response><Say>Wrongly heard {{SpeechResult}}.</Say><Hangup/></Response>
XML
# +15550000105 / 106: a long prompt to talk over; the next turn says what it was told
for n in 15550000105 15550000106; do
	cat > "$TPL/turn_start.$n.xml" <<XML
<Response><Gather input="speech" speechTimeout="auto" timeout="3" hints="$HINTS"><Say>$LONG</Say></Gather></Response>
XML
	cat > "$TPL/turn_speech.$n.xml" <<'XML'
<Response><Say>Interrupted {{Interrupted}} after {{InterruptedAfterMs}}.</Say><Hangup/></Response>
XML
	cat > "$TPL/turn_timeout.$n.xml" <<'XML'
<Response><Say>Nothing heard.</Say><Hangup/></Response>
XML
done
# +15550000103: the phrase list; the speech turn is redirected to the stub, which records it
cp "$TPL/turn_start.15550000101.xml" "$TPL/turn_start.15550000103.xml"
echo "<Response><Redirect>$TURN/echo-fields</Redirect></Response>" > "$TPL/turn_speech.15550000103.xml"
templates_seal "$TPL"

# The [asr] lines for stack_start (scripts/stack puts ASR_CONF under [asr]).
asr_conf() { printf 'ASR_CONF=%s' "$1"; }

# run_bg NAME ARGS…: one agent call in the background, its JSON report in $WORK/NAME.json.
CALLS=()
run_bg() { local name=$1; shift; agent_call "$@" > "$WORK/$name.json" 2> "$WORK/$name.err" & CALLS+=($!); }
json() { cat "$WORK/$1.json" 2>/dev/null; }

# ================= the embedded engine (pocketsphinx), recordings on =========================
stack_start "$VARIANT" MODE=agent AUTH_TOKEN=$TOKEN TEMPLATES_DIR="$TPL" \
	AGENT_CONF="record = both" "$(asr_conf "grammar_dir = $WORK/grammars")" || { finish; exit 1; }
BASE=http://127.0.0.1:$HTTP_PORT

# Independent calls at once: the suite's time is the longest of them.
S_PHRASE=CA$(hex32); S_GRAM=CA$(hex32); S_STUB=CA$(hex32); S_TIME=CA$(hex32)
S_BURST=CA$(hex32); S_BARGE=CA$(hex32); S_MENU=CA$(hex32); S_CARDS=CA$(hex32)
run_bg phrase --call-sid "$S_PHRASE" --to +15550000101 --say "$GOFORWARD" --max-seconds 25 --record "$WORK/phrase.wav"
run_bg gram --call-sid "$S_GRAM" --to +15550000102 --say "$GOFORWARD" --max-seconds 25 --record "$WORK/gram.wav"
run_bg cards --call-sid "$S_CARDS" --to +15550000107 --say "$TESTDATA/cards/001.wav" --max-seconds 25
run_bg stub --call-sid "$S_STUB" --to +15550000103 --say "$GOFORWARD" --max-seconds 25
run_bg timeout --call-sid "$S_TIME" --to +15550000104 --say "$WORK/silence_noise.wav" --quiet-ms 300 --max-seconds 25 --expect-hangup
run_bg burst --call-sid "$S_BURST" --to +15550000105 --say-at 1.0 --say "$WORK/burst.wav" --max-seconds 25
run_bg barge --call-sid "$S_BARGE" --to +15550000106 --say-at 1.5 --say "$GOFORWARD" --max-seconds 25 --expect-hangup
# the shipped templates' phrase menu (make run MODE=agent, as the README shows)
run_bg menu --call-sid "$S_MENU" --say "$GOFORWARD" --max-seconds 25 --record "$WORK/menu.wav"
wait "${CALLS[@]}"

# --- a phrase list: the exact words, and the agent says them back ------------------------------
out=$(json phrase); log=$(call_log "$S_PHRASE")
expect_eq "hints: the call PASSes (greeting, the clip said, a reply heard)" "$(jget "$out" .outcome)" pass
expect_match "hints: log asr line with the engine and the exact words" "$log" ' ws asr .*engine=pocketsphinx.* text="go forward ten meters"'
expect_match "hints: speech_start and speech_end logged" "$(grep -oE ' ws speech_(start|end)' <<<"$log" | sort -u | tr '\n' ,)" 'speech_end, ws speech_start'
expect_match "hints: the default turn_speech said it back" "$log" ' ws say text="You said go forward ten meters\." '
from=$(jget "$out" '.agent.says[0].reply_start_ms / 1000')
expect_match "hints: pocketsphinx hears \"you said go forward ten meters\" in what the caller heard" \
	"$(heard "$WORK/phrase.wav" "$from")" "you said go forward ten meters"
expect_match "hints: end of speech -> first reply audio reported (ms)" "$(jget "$out" .agent.says[0].reply_ms)" '^[0-9]+(\.[0-9]+)?$'

# --- a JSGF grammar -------------------------------------------------------------------------------
out=$(json gram); log=$(call_log "$S_GRAM")
expect_eq "grammar: PASS" "$(jget "$out" .outcome)" pass
expect_match "grammar: log asr text exact" "$log" ' ws asr .* text="go forward ten meters"'
expect_match "grammar: said back" "$log" ' ws say text="You said go forward ten meters\." '
expect_match "grammar: pocketsphinx hears it back" "$(heard "$WORK/gram.wav" "$(jget "$out" '.agent.says[0].reply_start_ms / 1000')")" "you said go forward ten meters"

# --- a WAV of another speaker, with the cards grammar ---------------------------------------------
out=$(json cards); log=$(call_log "$S_CARDS")
expect_eq "cards grammar: PASS" "$(jget "$out" .outcome)" pass
expect_match "cards grammar: cards/001.wav is \"ten of clubs\"" "$log" ' ws asr .* text="ten of clubs"'
expect_match "cards grammar: said back" "$log" ' ws say text="You said ten of clubs\." '

# --- the turn POST: SpeechResult, Confidence, Interrupted (recorded by the stub) -----------------
turn() { jq -c '(.fields | map({(.[0]): .[1]}) | add) as $f | select($f.CallSid == "'"$1"'" and $f.TurnEvent == "speech") | '"$2" "$WORK/turns.jsonl" 2>/dev/null | head -1; }
expect_eq "turn POST: signed, TurnEvent=speech, SpeechResult exact, not interrupted" \
	"$(turn "$S_STUB" '[.sig, $f.SpeechResult, $f.Interrupted, $f.Digits]')" '["ok","go forward ten meters","false",""]'
expect_match "turn POST: Confidence is 0.00-1.00" "$(turn "$S_STUB" '$f.Confidence')" '^"(0\.[0-9]{2}|1\.00)"$'

# --- silence, then line noise: a timeout, no speech turn -----------------------------------------
out=$(json timeout); log=$(call_log "$S_TIME")
expect_eq "silence+noise: PASS, the agent hung up after its timeout answer" "$(jget "$out" '[.outcome, .agent.hung_up] | @text')" '["pass",true]'
expect_match "silence+noise: a timeout turn" "$log" ' ws turn index=1 event=timeout '
expect_nomatch "silence+noise: no speech turn" "$log" ' ws turn index=[0-9]+ event=speech '
expect_nomatch "silence+noise: no false result spoken" "$log" 'Wrongly heard'

# --- a 150 ms burst during the prompt does not barge in -----------------------------------------
out=$(json burst); log=$(call_log "$S_BURST")
expect_eq "burst: the caller got no clear" "$(jget "$out" .agent.clears)" 0
expect_nomatch "burst: no barge_in logged" "$log" ' ws barge_in '
expect_eq "burst: the prompt played to its end (ended by a wait)" "$(jget "$out" .agent.utterances[0].ended_by)" wait

# --- talking over the agent: clear within the goal, the next turn told ------------------------------
out=$(json barge); log=$(call_log "$S_BARGE")
expect_eq "barge-in: PASS, the agent answered and hung up" "$(jget "$out" '[.outcome, .agent.hung_up] | @text')" '["pass",true]'
clear_ms=$(jget "$out" .agent.says[0].clear_ms)
if awk -v c="$clear_ms" 'BEGIN{exit !(c > 0 && c <= 250)}'; then ok "barge-in: clear ${clear_ms} ms after the speech onset (goal <= 250)"
else notok "barge-in: clear ${clear_ms} ms after the speech onset (goal <= 250)"; fi
expect_match "barge-in: logged as by speech" "$log" ' ws barge_in by=speech played_ms=[0-9]+'
after=$(grep -oE ' ws say text="Interrupted true after [0-9]+\.' <<<"$log" | grep -oE '[0-9]+')
# what played before the barge-in: from the first agent audio to the onset plus the clear's delay
want=$(jget "$out" '.agent.says[0].onset_ms + .agent.says[0].clear_ms - .agent.first_audio_ms')
if [ -n "$after" ] && awk -v a="$after" -v w="$want" 'BEGIN{d = a - w; exit !(d >= -300 && d <= 300)}'; then
	ok "barge-in: next turn Interrupted=true, InterruptedAfterMs=$after (the caller measured ~${want%.*})"
else notok "barge-in: next turn Interrupted=true, InterruptedAfterMs=${after:-none} (the caller measured ${want})"; fi

# --- the shipped phrase menu --------------------------------------------------------------------
out=$(json menu); log=$(call_log "$S_MENU")
expect_match "shipped templates: the greeting's Gather listens for speech" "$log" ' ws listen input="[^"]*speech'
expect_match "shipped templates: \"go forward ten meters\" recognized" "$log" ' ws asr .* text="go forward ten meters"'
expect_match "shipped templates: said back" "$log" ' ws say text="You said go forward ten meters\.'

# --- recordings ([agent] record = both) -----------------------------------------------------------
dur=$(jget "$(json phrase)" .stream_seconds)
for side in in out; do
	f=$LOG_DIR/$S_PHRASE.$side.wav
	if [ -f "$f" ]; then
		expect_eq "recording $side: mode 0640" "$(stat -c %a "$f")" 640
		len=$(soxi -D "$f" 2>/dev/null)
		rate=$(soxi -r "$f" 2>/dev/null)
		expect_eq "recording $side: 8 kHz" "$rate" 8000
		if [ $side = in ]; then lo=$(awk -v d="$dur" 'BEGIN{print d - 1.5}'); else lo=1; fi
		if awk -v l="$len" -v lo="$lo" -v d="$dur" 'BEGIN{exit !(l >= lo && l <= d + 0.5)}'; then
			ok "recording $side: ${len} s for a ${dur} s stream"
		else notok "recording $side: ${len:-no} s for a ${dur} s stream (want $lo..$dur+0.5)"; fi
	else
		notok "recording $side: $f exists"
	fi
done
expect_match "recording: the caller's side holds the words (pocketsphinx)" \
	"$(GRAMMAR=$WORK/grammars/goforward.gram heard "$LOG_DIR/$S_PHRASE.in.wav")" "go forward ten meters"
expect_match "log: recording line" "$(call_log "$S_PHRASE")" ' ws recording '

# ================= the OpenAI-compatible ASR engine against a stub ==============================
# The stub recognizes with the prompt (the hints) as its phrase list, as Whisper leans on its
# prompt: pocketsphinx's open model is poor on telephone audio (docs/AGENT.md).
stack_stop
python3 "$ROOT/tests/stubs/openai_transcribe.py" --port 0 --key sk-test-key --grammar-from-prompt \
	> "$WORK/asr.out" 2> "$WORK/asr.err" & echo $! >> "$WORK/pids"
if wait_until 10 grep -q '^listening on ' "$WORK/asr.out"; then
	ASR_PORT=$(awk '/^listening on /{print $3; exit}' "$WORK/asr.out")
	stack_start "$VARIANT" MODE=agent AUTH_TOKEN=$TOKEN TEMPLATES_DIR="$TPL" "$(asr_conf "engine = http
url = http://127.0.0.1:$ASR_PORT/v1/audio/transcriptions
api_key = sk-test-key
model = whisper-1")" || { finish; exit 1; }
	BASE=http://127.0.0.1:$HTTP_PORT
	SID=CA$(hex32)
	out=$(agent_call --call-sid "$SID" --to +15550000101 --say "$GOFORWARD" --max-seconds 25)
	log=$(call_log "$SID")
	expect_eq "http ASR: PASS" "$(jget "$out" .outcome)" pass
	expect_match "http ASR: asr line names the engine" "$log" ' ws asr .*engine=http'
	text=$(grep -oE ' ws asr .* text="[^"]*"' <<<"$log" | head -1 | sed 's/.* text="\([^"]*\)"/\1/')
	expect_match "http ASR: the stub's transcript is the SpeechResult said back" "$log" " ws say text=\"You said ${text:-NOTHING}\."
	expect_match "http ASR: the stub heard the words" "${text,,}" 'go forward ten meters'
else
	notok "openai_transcribe stub starts"; diag < "$WORK/asr.err"
fi

# ================= the simulator's own speech, through echo mode ===================================
# callpipe-sim's conversion (16 kHz raw -> 8 kHz µ-law, paced) is what every case above relies
# on: echoed back unchanged, pocketsphinx must hear the words in it.
stack_stop
stack_start "$VARIANT" MODE=echo AUTH_TOKEN=$TOKEN || { finish; exit 1; }
BASE=http://127.0.0.1:$HTTP_PORT
out=$(agent_call --say-at 0.2 --say "$GOFORWARD" --max-seconds 4 --record "$WORK/echo.wav")
expect_eq "sim --say: the whole 2.8 s clip went out" "$(jget "$out" '.agent.says[0].sent_ms')" 2800
expect_match "sim --say: the voice found in the clip (onset 0.3-1 s into it)" \
	"$(jget "$out" '.agent.says[0].onset_ms - .agent.says[0].first_ms | floor')" '^([3-9][0-9]{2}|1000)$'
expect_match "sim --say: pocketsphinx hears its echo as \"go forward ten meters\"" \
	"$(GRAMMAR=$WORK/grammars/goforward.gram heard "$WORK/echo.wav")" "go forward ten meters"

finish
