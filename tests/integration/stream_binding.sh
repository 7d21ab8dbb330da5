# stream_binding: through Apache (mod_fcgid) with validate = yes, a media stream is accepted
# only with a callpipe_token made for its CallSid: replays of the upgrade signature, duplicates
# and forged tokens get 1008 and never touch a call log; openssl alone can make what passes.
source "$(dirname "$0")/../lib.sh"

TOKEN=tok-$RANDOM$RANDOM
SIM=$BUILD/callpipe-sim
sim() { timeout 60 "$SIM" "$@"; }
jget() { jq -r "$2" <<<"$1" 2>/dev/null; }
sha256hex() { awk '{print $NF}'; }

TPL=$(templates_copy)
templates_seal "$TPL"
stack_start fcgid AUTH_TOKEN=$TOKEN TEMPLATES_DIR="$TPL" WS_CONF="idle_seconds = 5" || { finish; exit 1; }
BASE=http://127.0.0.1:$HTTP_PORT
WSBASE=http://127.0.0.1:$WS_PORT
STREAM_URL=ws://127.0.0.1:$HTTP_PORT/ws/twilio-media
WSLOG=$RUN_DIR/logs/callpipe-ws.log
metric() { curl -s --max-time 5 "$WSBASE/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
unbound() { metric 'callpipe_ws_protocol_errors_total{kind="unbound_stream"}'; }

# Computed with openssl only (PROTOCOL.md; common/streamtok.h), no callpipe code:
# the upgrade's X-Twilio-Signature is base64(HMAC-SHA1(auth token, stream URL));
# the token is v1.EXP.hex(HMAC-SHA256(K, "v1|CallSid|AccountSid|EXP")),
# K = HMAC-SHA256(auth token, "callpipe stream token v1").
ossl_sig() { printf '%s' "$1" | openssl dgst -sha1 -hmac "$TOKEN" -binary | base64; }
ossl_token() { # CALLSID ACCOUNTSID EXPIRY
	local k
	k=$(printf '%s' 'callpipe stream token v1' | openssl dgst -sha256 -mac HMAC -macopt "key:$TOKEN" | sha256hex)
	printf 'v1.%s.%s' "$3" "$(printf 'v1|%s|%s|%s' "$1" "$2" "$3" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$k" | sha256hex)"
}
SIG=$(ossl_sig "$STREAM_URL")

expect_match "the helper says what validate = yes checks" "$(head -3 "$WSLOG")" \
	'validate=yes \(upgrade signature and stream token required\)'

# --- a genuine signed call passes; the token is nowhere in its log ----------------------------
SID=CA$(hex32)
AS=AC$(hex32)
out=$(sim call "$BASE" --auth-token "$TOKEN" --call-sid "$SID" --account-sid "$AS" --seconds 1 --fast --expect-echo --json)
expect_eq "a signed call (webhook, TwiML with the token, stream): PASS" "$(jget "$out" .outcome)" pass
TWTOK=$(jget "$out" '.twiml.parameters.callpipe_token')
expect_match "the TwiML carries callpipe_token v1.<expiry>.<64 hex>" "$TWTOK" '^v1\.[1-9][0-9]*\.[0-9a-f]{64}$'
EXP=$(cut -d. -f2 <<<"$TWTOK")
NOW=$(date +%s)
expect_eq "... valid [twilio] stream_token_seconds (300) from now" \
	"$([ "$EXP" -ge $((NOW + 290)) ] && [ "$EXP" -le $((NOW + 301)) ] && echo yes)" yes
expect_eq "... and it is exactly what openssl makes for this CallSid and AccountSid" \
	"$TWTOK" "$(ossl_token "$SID" "$AS" "$EXP")"
LOG=$LOG_DIR/$SID.log
log=$(cat "$LOG" 2>/dev/null)
expect_match "its log has ws_start" "$log" " ws ws_start .*stream_sid=MZ"
expect_match "... with the other Parameters" "$log" " ws ws_start .*param_CallSid=$SID"
expect_eq "... and not the token's MAC anywhere" "$(grep -c "$(cut -d. -f3 <<<"$TWTOK")" "$LOG")" 0
expect_eq "... nor the token's name" "$(grep -c callpipe_token "$LOG")" 0

# --- replays: a valid upgrade signature, a forged well-formed CallSid ----------------------
# Each: close 1008, one WS_REJECT line, no <sid>.log, nothing appended to the real call's log.
u0=$(unbound)
real_size=$(stat -c %s "$LOG")
replay() { # DESC CALLSID TOKEN-ARGS…
	local desc=$1 cs=$2 o; shift 2
	o=$(sim call --stream-url "$STREAM_URL" --ws-signature "$SIG" --call-sid "$cs" --account-sid "$AS" \
		--seconds 0.5 --fast --expect-close 1008 "$@" --json)
	expect_eq "replay, $desc: handshake 101, then closed 1008" "$(jget "$o" '[.handshake.status, .close_code, .outcome] | @text')" '[101,1008,"pass"]'
	expect_eq "... and no $cs.log" "$([ -e "$LOG_DIR/$cs.log" ] && echo created || echo none)" none
	expect_match "... one WS_REJECT line naming the call and why" "$(grep "call_sid=$cs " "$WSLOG" | tail -1)" \
		"^WS_REJECT kind=unbound_stream peer=[^ ]+ call_sid=$cs account_sid=$AS detail=\".*closing 1008\"$"
}
F1=CA$(hex32); replay "no token" "$F1" --no-stream-token
expect_match "... the reason: missing" "$(grep "call_sid=$F1 " "$WSLOG")" 'callpipe_token missing'
F2=CA$(hex32); replay "a garbage token" "$F2" --stream-token garbage
expect_match "... the reason: malformed" "$(grep "call_sid=$F2 " "$WSLOG")" 'callpipe_token malformed'
F3=CA$(hex32); replay "the real call's token (another CallSid)" "$F3" --stream-token "$TWTOK"
expect_match "... the reason: wrong MAC" "$(grep "call_sid=$F3 " "$WSLOG")" 'callpipe_token wrong MAC'
F4=CA$(hex32)
replay "an expired token" "$F4" --stream-token "$(ossl_token "$F4" "$AS" $(( $(date +%s) - 10 )))"
expect_match "... the reason: expired" "$(grep "call_sid=$F4 " "$WSLOG")" 'callpipe_token expired [0-9]+ s ago'
F5=CA$(hex32)
replay "a token valid for two days" "$F5" --stream-token "$(ossl_token "$F5" "$AS" $(( $(date +%s) + 172800 )))"
expect_match "... the reason: too far ahead" "$(grep "call_sid=$F5 " "$WSLOG")" 'expiry too far ahead'
# The real call's CallSid, without a token: its log must not grow.
o=$(sim call --stream-url "$STREAM_URL" --ws-signature "$SIG" --call-sid "$SID" --account-sid "$AS" \
	--no-stream-token --seconds 0.5 --fast --expect-close 1008 --json)
expect_eq "replay with the real call's CallSid: closed 1008" "$(jget "$o" .close_code)" 1008
expect_eq "... and nothing appended to that call's log" "$(stat -c %s "$LOG")" "$real_size"
expect_eq "metrics count each refusal as unbound_stream" "$(unbound)" "$(( ${u0:-0} + 6 ))"
expect_eq "the token never reaches the helper's stderr" "$(grep -c "$(cut -d. -f3 <<<"$TWTOK")" "$WSLOG")" 0
# Control: the same forged-start path with a valid token DOES create <sid>.log, so the
# "no file" checks above could fail (the directory is writable, the sids are valid).
F6=CA$(hex32)
o=$(sim call --stream-url "$STREAM_URL" --ws-signature "$SIG" --call-sid "$F6" --account-sid "$AS" \
	--stream-token "$(ossl_token "$F6" "$AS" $(( $(date +%s) + 60 )))" --seconds 0.5 --fast --expect-echo --json)
expect_eq "control: a stream with its own valid token is accepted" "$(jget "$o" .outcome)" pass
expect_eq "... and its log is created where the refused ones were not" \
	"$([ -s "$LOG_DIR/$F6.log" ] && echo created || echo none)" created

# --- item 11: values made with openssl alone are accepted; one character off is not ----------
F7=CA$(hex32)
OTOK=$(ossl_token "$F7" "$AS" $(( $(date +%s) + 120 )))
o=$(sim call --stream-url "$STREAM_URL" --ws-signature "$SIG" --call-sid "$F7" --account-sid "$AS" \
	--stream-token "$OTOK" --seconds 0.5 --fast --expect-echo --json)
expect_eq "openssl-made signature and token: accepted, echo exact" "$(jget "$o" .outcome)" pass
flip() { local s=$1 i=$2 c; c=${s:$i:1}; [ "$c" = a ] && c=b || c=a; printf '%s%s%s' "${s:0:$i}" "$c" "${s:$((i + 1))}"; }
F8=CA$(hex32)
OTOK8=$(ossl_token "$F8" "$AS" $(( $(date +%s) + 120 )))
o=$(sim call --stream-url "$STREAM_URL" --ws-signature "$SIG" --call-sid "$F8" --account-sid "$AS" \
	--stream-token "$(flip "$OTOK8" 40)" --seconds 0.5 --fast --expect-close 1008 --json)
expect_eq "... the token with one character changed: 1008" "$(jget "$o" .close_code)" 1008
o=$(sim call --stream-url "$STREAM_URL" --ws-signature "$(flip "$SIG" 3)" --call-sid "$F8" --account-sid "$AS" \
	--stream-token "$OTOK8" --seconds 0.5 --fast --json 2>/dev/null)
expect_eq "... the signature with one character changed: 403 at the upgrade" "$(jget "$o" .handshake.status)" 403
expect_eq "... and neither created $F8.log" "$([ -e "$LOG_DIR/$F8.log" ] && echo created || echo none)" none

# --- a second stream for a CallSid whose stream is open: 1008, the first goes on -----------
DSID=CA$(hex32)
sim call "$BASE" --auth-token "$TOKEN" --call-sid "$DSID" --account-sid "$AS" --seconds 4 --expect-echo --json > "$RUN_DIR/first.json" &
first=$!
one_call_active() { [ "$(metric callpipe_ws_active_calls)" = 1 ]; }
wait_until 10 one_call_active && ok "the first stream is open" || notok "the first stream is open"
u1=$(unbound)
o=$(sim call --stream-url "$STREAM_URL" --auth-token "$TOKEN" --call-sid "$DSID" --account-sid "$AS" \
	--seconds 0.5 --fast --expect-close 1008 --json)
expect_eq "a second stream, same CallSid, valid token, while the first is open: 1008" \
	"$(jget "$o" '[.close_code, .outcome] | @text')" '[1008,"pass"]'
expect_match "... the helper says why" "$(grep "call_sid=$DSID " "$WSLOG")" 'already open'
expect_eq "... counted" "$(unbound)" "$(( ${u1:-0} + 1 ))"
wait $first
expect_eq "the first stream was not disturbed: PASS" "$(jget "$(cat "$RUN_DIR/first.json")" .outcome)" pass
expect_eq "... and its log has one ws_start" "$(grep -c ' ws ws_start' "$LOG_DIR/$DSID.log")" 1
o=$(sim call --stream-url "$STREAM_URL" --auth-token "$TOKEN" --call-sid "$DSID" --account-sid "$AS" \
	--seconds 0.5 --fast --expect-echo --json)
expect_eq "once it ended, a new stream of that CallSid is accepted (a later <Connect>)" "$(jget "$o" .outcome)" pass

# --- callpipe-fcgi --check warns about a <Stream> without the token -----------------------------
CT=$(mktemp -d)
cp "$ROOT"/twiml-templates/*.xml "$CT/"
printf '[twilio]\nauth_token = x\n[fcgi]\ntemplates = %s\n' "$CT" > "$CT/c.conf"
err=$("$BUILD/callpipe-fcgi" -c "$CT/c.conf" --check 2>&1 >/dev/null)
expect_nomatch "--check: the shipped templates carry the token" "$err" 'warning'
sed '/callpipe_token/d' "$ROOT/twiml-templates/incoming_call.xml" > "$CT/incoming_call.15550001.xml"
err=$("$BUILD/callpipe-fcgi" -c "$CT/c.conf" --check 2>&1 >/dev/null); rc=$?
expect_match "--check warns about a Stream without callpipe_token" "$err" \
	'incoming_call\.15550001\.xml:[0-9]+: warning: <Stream> has no <Parameter name="callpipe_token"'
expect_eq "... a warning: the exit status stays 0" "$rc" 0
printf '[twilio]\nvalidate = no\n[fcgi]\ntemplates = %s\n' "$CT" > "$CT/c.conf"
expect_nomatch "... and with validate = no it does not" "$("$BUILD/callpipe-fcgi" -c "$CT/c.conf" --check 2>&1)" 'warning'
rm -rf "$CT"

expect_eq "the helper is still up" "$(curl -s "$WSBASE/healthz")" ok
rm -rf "$TPL"
finish
