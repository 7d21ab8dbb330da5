# unauth_writes: through Apache + mod_fcgid, requests whose signature did not verify never
# write into a call's log (neither grow one nor re-create a deleted one), and the stderr
# lines they cause are rate limited with a count of what was dropped; callpipe-ws's
# refused upgrades too.
source "$(dirname "$0")/../lib.sh"

TOKEN=tok-$RANDOM$RANDOM
PUB=https://voice.example.test
SIM=$BUILD/callpipe-sim
SID=CA$(hex32)
FORM="CallSid=$SID&AccountSid=AC$(hex32)&From=%2B15551234567&To=%2B15557654321&CallStatus=ringing"

stack_start fcgid PUBLIC_URL=$PUB AUTH_TOKEN=$TOKEN || { finish; exit 1; }
BASE=http://127.0.0.1:$HTTP_PORT
ERRLOG=$RUN_DIR/logs/apache-error.log
post() { local path=$1; shift; "$SIM" post "$BASE$path" --public-url "$PUB" --auth-token "$TOKEN" "$@"; }
status() { head -1 | awk '{print $2}'; }
# unsigned N PATH [curl args…]: N unsigned POSTs naming $SID on one connection; prints the
# status codes, one a line.
unsigned() {
	local n=$1 path=$2; shift 2
	local urls=() i
	for ((i = 0; i < n; i++)); do urls+=("$BASE$path"); done
	curl -s -w '\n%{http_code} STATUS\n' -d "$FORM" "$@" "${urls[@]}" | awk '/ STATUS$/ {print $1}'
}

# A signed call makes the log.
r=$(post /webhook/incoming_call CallSid="$SID" From=+15551234567 To=+15557654321)
expect_eq "signed incoming_call: 200" "$(status <<<"$r")" 200
LOG=$LOG_DIR/$SID.log
expect_eq "... and the call has a log" "$(test -s "$LOG" && echo yes)" yes
cp "$LOG" "$RUN_DIR/log.before"

# 300 unsigned or badly signed POSTs naming the CallSid: 403 each, the log untouched.
codes=$( { unsigned 150 /webhook/stream_status
	   unsigned 100 /webhook/incoming_call -H "X-Twilio-Signature: AAAAAAAAAAAAAAAAAAAAAAAAAAA="
	   unsigned 50 /webhook/call_status -X PUT; } | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
expect_eq "300 unsigned requests naming the call: 250 x 403, 50 x 405" "$codes" "403x250 405x50 "
if cmp -s "$LOG" "$RUN_DIR/log.before"; then ok "... and its log is byte-identical"
else notok "... and its log is byte-identical"; diff "$RUN_DIR/log.before" "$LOG" | head -5 | diag; fi

# The web server's error log: some lines, then the limit's notice and, at the next line let
# through, how many were dropped (the bucket refills at 20 lines/s: poll, bounded).
n403=$(grep -c 'callpipe-fcgi: 403 ' "$ERRLOG")
if [ "$n403" -ge 1 ] && [ "$n403" -lt 250 ]; then ok "stderr: $n403 of 250 403 lines written (rate limited)"
else notok "stderr: 403 lines rate limited (got $n403 of 250)"; fi
expect_match "stderr: the limit says it is dropping lines" "$(cat "$ERRLOG")" \
	'callpipe-fcgi: stderr rate limit: over 20 lines/s, dropping lines'
dropped_counted() { unsigned 1 /webhook/stream_status >/dev/null; grep -q 'callpipe-fcgi: stderr rate limit: [0-9]* lines dropped' "$ERRLOG"; }
if wait_until 10 dropped_counted; then ok "stderr: then one line counts the dropped lines"
else notok "stderr: then one line counts the dropped lines"; tail -5 "$ERRLOG" | diag; fi

# Retention removed the log: an unsigned request naming the call creates nothing...
rm -f "$LOG"
expect_eq "unsigned POST naming a call whose log was deleted: 403" \
	"$(unsigned 1 /webhook/stream_status)" 403
expect_eq "... and no log is re-created" "$(test -e "$LOG" && echo exists || echo none)" none
# ...though the directory is writable for the program: a signed one does.
r=$(post /webhook/call_status CallSid="$SID" CallStatus=completed CallDuration=3)
expect_eq "a signed call_status for it: 204" "$(status <<<"$r")" 204
expect_eq "... creates the log (the directory was writable)" "$(test -s "$LOG" && echo yes)" yes

# callpipe-ws: refused upgrades (unauthenticated) are rate limited too.
urls=()
for ((i = 0; i < 60; i++)); do urls+=("http://127.0.0.1:$WS_PORT/not-the-stream-path"); done
curl -s -o /dev/null -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
	-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "${urls[@]}" >/dev/null 2>&1
WSLOG=$RUN_DIR/logs/callpipe-ws.log
nrej=$(grep -c '^WS_REJECT status=404' "$WSLOG")
if [ "$nrej" -ge 1 ] && [ "$nrej" -lt 60 ]; then ok "callpipe-ws: $nrej of 60 WS_REJECT lines written (rate limited)"
else notok "callpipe-ws: WS_REJECT lines rate limited (got $nrej of 60)"; fi
expect_match "callpipe-ws: the limit says it is dropping lines" "$(cat "$WSLOG")" \
	'callpipe-ws: stderr rate limit: over 20 lines/s, dropping lines'

finish
