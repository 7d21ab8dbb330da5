# recording: [agent] record through Apache (mod_fcgid) in echo mode: record = both gives
# <CallSid>.in.wav (exactly the bytes the caller sent) and .out.wav (the echo, where and when
# the caller heard it), 0640, 8 kHz µ-law, the stream's length, with `recording` log lines;
# record = inbound only in.wav; record = no and a refused stream: no file at all.
VARIANT=fcgid
source "$(dirname "$0")/../lib.sh"

TOKEN=tok-$RANDOM$RANDOM
SIM=$BUILD/callpipe-sim
sim() { timeout 60 "$SIM" "$@"; }
jget() { jq -r "$2" <<<"$1" 2>/dev/null; }
WORK=$(mktemp -d); chmod 0755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

# What the caller says, made by sox (not our code), already 8 kHz µ-law so the sim sends
# these very bytes: 1 s of noise, 1 s of silence, 1 s of noise, 1 s of silence (N = 4 s).
N=4
sox -n -r 8000 -c 1 -e mu-law "$WORK/noise.wav" synth 1 whitenoise vol 0.3 &&
	sox -n -r 8000 -c 1 -e mu-law "$WORK/quiet.wav" trim 0 1 &&
	sox "$WORK/noise.wav" "$WORK/quiet.wav" "$WORK/noise.wav" "$WORK/quiet.wav" "$WORK/said.wav" &&
	sox "$WORK/said.wav" -t raw "$WORK/said.ulaw" || notok "sox makes the caller's audio"

# compare IN OUT: "FRAMES MATCHED MEDIAN_SHIFT_MS": of the caller's non-silent 20 ms frames
# in IN (raw µ-law), how many appear byte for byte in OUT, and at what median time shift.
compare() {
	python3 - "$1" "$2" <<'PY'
import sys
a = open(sys.argv[1], 'rb').read(); b = open(sys.argv[2], 'rb').read()
frames = [a[i:i + 160] for i in range(0, len(a) - 159, 160)]
loud = [(i, f) for i, f in enumerate(frames) if len(set(f)) > 8]
shifts = []
for i, f in loud:
    j = b.find(f)
    if j >= 0:
        shifts.append((j - i * 160) / 8.0)
shifts.sort()
print(len(loud), len(shifts), shifts[len(shifts) // 2] if shifts else 'none')
PY
}
# rms FILE START LEN: sox's RMS level (dB) of a stretch
rms() { sox "$1" -n trim "$2" "$3" stats 2>&1 | awk '/^RMS lev dB/ {print $4}'; }
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x != "" && x >= lo && x <= hi) }'; }
wav_lines() { wait_until 10 grep -q " ws recording side=$2 " "$LOG_DIR/$1.log"; }

TPL=$(templates_copy); templates_seal "$TPL"

# ================= record = both =====================================================
stack_start "$VARIANT" AUTH_TOKEN=$TOKEN TEMPLATES_DIR="$TPL" AGENT_CONF="record = both" ||
	{ finish; exit 1; }
BASE=http://127.0.0.1:$HTTP_PORT
SID=CA$(hex32)
out=$(sim call "$BASE" --auth-token "$TOKEN" --call-sid "$SID" --audio "$WORK/said.wav" --expect-echo --json)
expect_eq "an echo call with record = both: PASS" "$(jget "$out" .outcome)" pass
wav_lines "$SID" in && wav_lines "$SID" out || notok "the recording lines are written"
log=$(cat "$LOG_DIR/$SID.log" 2>/dev/null)
expect_match "log: recording side=in, ok" "$log" " ws recording side=in file=$SID\.in\.wav seconds=[0-9.]+ bytes=[0-9]+ status=ok"
expect_match "log: recording side=out, ok" "$log" " ws recording side=out file=$SID\.out\.wav seconds=[0-9.]+ bytes=[0-9]+ status=ok"
for side in in out; do
	f=$LOG_DIR/$SID.$side.wav
	if [ -f "$f" ]; then
		expect_eq "$side.wav: mode 0640" "$(stat -c %a "$f")" 640
		expect_eq "$side.wav: 8 kHz mono µ-law" "$(soxi -r "$f") $(soxi -c "$f") $(soxi -e "$f")" "8000 1 u-law"
		d=$(soxi -D "$f")
		if between "$d" $((N)) "$N.5"; then ok "$side.wav: $d s for $N s said"
		else notok "$side.wav: ${d:-no} s for $N s said (want $N .. $N.5)"; fi
		sox "$f" -t raw "$WORK/$side.ulaw" 2>/dev/null
	else
		notok "$side.wav exists"
	fi
done
expect_match "the log's seconds are the file's" "$log" "side=in file=$SID\.in\.wav seconds=$(printf %.2f "$(soxi -D "$LOG_DIR/$SID.in.wav" 2>/dev/null)") "
# in.wav holds exactly what the caller sent, from the start
expect_eq "in.wav: the caller's bytes, in order, from the stream's start" \
	"$(head -c "$(stat -c %s "$WORK/said.ulaw")" "$WORK/in.ulaw" 2>/dev/null | cmp -s - "$WORK/said.ulaw" && echo same)" same
# out.wav: the echo, where the caller heard it (frames found byte for byte, shifted by a
# little), and silence where the caller was silent
read -r loud matched shift <<<"$(compare "$WORK/said.ulaw" "$WORK/out.ulaw" 2>/dev/null)"
expect_eq "out.wav: every loud frame the caller said is in it (echo)" "${matched:-0}" "${loud:-x}"
if between "$shift" 0 120; then ok "out.wav: time-aligned with in.wav (echo heard $shift ms after it was said)"
else notok "out.wav: time-aligned with in.wav (median shift ${shift:-none} ms, want 0..120)"; fi
if between "$(rms "$LOG_DIR/$SID.out.wav" 0.2 0.6)" -30 0 && ! between "$(rms "$LOG_DIR/$SID.out.wav" 1.3 0.5)" -60 0; then
	ok "out.wav: loud at 0.2-0.8 s, silent at 1.3-1.8 s, like the caller"
else notok "out.wav: loud/silent where the caller was ($(rms "$LOG_DIR/$SID.out.wav" 0.2 0.6) / $(rms "$LOG_DIR/$SID.out.wav" 1.3 0.5) dB)"; fi

# a stream refused at start (a token for another call) records nothing
BAD=CA$(hex32)
sim call "$BASE" --auth-token "$TOKEN" --call-sid "$BAD" --stream-token "x.y.z" --seconds 0.5 --json >/dev/null 2>&1
wait_until 5 grep -q "WS_REJECT kind=unbound_stream" "$RUN_DIR/logs/callpipe-ws.log" || notok "the bad token is refused"
expect_eq "a refused stream: no recording" "$(ls "$LOG_DIR" | grep -c "^$BAD\..*wav$")" 0
stack_stop

# ================= record = inbound ==================================================
stack_start "$VARIANT" AUTH_TOKEN=$TOKEN TEMPLATES_DIR="$TPL" AGENT_CONF="record = inbound" ||
	{ finish; exit 1; }
BASE=http://127.0.0.1:$HTTP_PORT
SID=CA$(hex32)
out=$(sim call "$BASE" --auth-token "$TOKEN" --call-sid "$SID" --seconds 1 --fast --expect-echo --json)
expect_eq "record = inbound: the call PASSes" "$(jget "$out" .outcome)" pass
wav_lines "$SID" in || notok "record = inbound: the in recording line"
expect_eq "record = inbound: in.wav only" "$(cd "$LOG_DIR" && ls "$SID".*.wav 2>/dev/null | tr '\n' ' ')" "$SID.in.wav "
stack_stop

# ================= record = no (the default) ==========================================
stack_start "$VARIANT" AUTH_TOKEN=$TOKEN TEMPLATES_DIR="$TPL" || { finish; exit 1; }
BASE=http://127.0.0.1:$HTTP_PORT
SID=CA$(hex32)
out=$(sim call "$BASE" --auth-token "$TOKEN" --call-sid "$SID" --seconds 1 --fast --expect-echo --json)
expect_eq "record = no: the call PASSes" "$(jget "$out" .outcome)" pass
wait_until 5 grep -q " ws ws_done" "$LOG_DIR/$SID.log" || notok "record = no: ws_done"
expect_eq "record = no: no recording files" "$(ls "$LOG_DIR" | grep -c '\.wav$')" 0
expect_nomatch "record = no: no recording line" "$(cat "$LOG_DIR/$SID.log")" " ws recording"

finish
