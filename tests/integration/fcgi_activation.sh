#!/usr/bin/env bash
# fcgi_activation: callpipe-fcgi started the way callpipe-fcgi.socket starts it (systemd socket
# activation: a listening socket on descriptor 3, LISTEN_PID/LISTEN_FDS), by activate.py.
source "$(dirname "$0")/../lib.sh"

BIN=$BUILD/callpipe-fcgi SIM=$BUILD/callpipe-sim ACT=$ROOT/tests/integration/activate.py
[ -x "$BIN" ] || { notok "$BIN is built"; finish; exit 1; }
command -v python3 > /dev/null || { ok "python3 is not installed: activation not checked # SKIP"; exit 0; }
command -v cgi-fcgi > /dev/null || { ok "cgi-fcgi (libfcgi-bin) is not installed: activation not checked # SKIP"; exit 0; }

export LC_ALL=C
scratch_dir fcgi-act

TOKEN=tok-$RANDOM$RANDOM
PUB=https://voice.example.test
CONF=$TMP/callpipe.conf
mkdir -p "$TMP/calls"
printf '[twilio]\npublic_url = %s\nauth_token = %s\n[log]\ndir = %s\n[fcgi]\ntemplates = %s\nthreads = 3\n' \
	"$PUB" "$TOKEN" "$TMP/calls" "$ROOT/twiml-templates" > "$CONF"
SOCK=$TMP/fcgi.sock
SID=CA$(hex32)
BODY="CallSid=$SID&AccountSid=AC$(hex32)&From=%2B15551234567&To=%2B15557654321&CallStatus=ringing&Direction=inbound&ApiVersion=2010-04-01"
SIG=$("$SIM" sign "$PUB/webhook/incoming_call" --auth-token "$TOKEN" --body "$BODY")

# fcgi_req: a signed incoming_call through cgi-fcgi (libfcgi-bin) as the web server, on $SOCK.
fcgi_req() {
	printf '%s' "$BODY" | env -i REQUEST_METHOD=POST REQUEST_URI=/webhook/incoming_call \
		CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH="${#BODY}" \
		HTTP_X_TWILIO_SIGNATURE="$SIG" timeout 10 cgi-fcgi -bind -connect "$SOCK"
}

# --- activated: the socket is served, the stop leaves it to systemd -------------------------
"$ACT" --keep "$SOCK" "$BIN" -c "$CONF" > "$TMP/act.out" 2> "$TMP/act.err" & APID=$!; PIDS+=($APID)
# The socket listens (activate.py binds and listens in one go) before callpipe-fcgi even
# runs: the first request needs no other wait.
wait_until 5 test -S "$SOCK" || notok "activate.py made $SOCK"
r=$(fcgi_req)
expect_match "activated: a signed incoming_call through the socket answers 200 TwiML" \
	"$(tr -d '\r\n' <<< "$r")" '^Status: 200 OK.*<Stream url="wss://voice\.example\.test/ws/twilio-media"'
expect_match "... and the call is logged" "$(cat "$TMP/calls/$SID.log" 2>/dev/null)" 'fcgi incoming_call .* sig=ok'
wait_until 5 grep -q listening "$TMP/act.err"
expect_match "the banner says it is systemd's socket" "$(cat "$TMP/act.err")" \
	"listening on $SOCK \\(socket activation: systemd's socket, descriptor 3\\) with 3 threads"
FPID=$(pgrep -P "$APID" -f "$BIN"); [ -n "$FPID" ] && PIDS+=($FPID)
# (The unsetenv() that follows does not show in /proc/PID/environ, which is the start's.)
if [ -n "$FPID" ] && tr '\0' '\n' < "/proc/$FPID/environ" | grep -q "^LISTEN_PID=$FPID\$"; then
	ok "callpipe-fcgi was started with LISTEN_PID naming itself"
else
	notok "callpipe-fcgi was started with LISTEN_PID naming itself"
fi
kill -TERM "$FPID" 2>/dev/null
wait "$APID"; rc=$?
expect_eq "SIGTERM: exit 0" "$rc" 0
expect_match "... saying it stops" "$(cat "$TMP/act.err")" 'SIGTERM: stopping'
# systemd keeps the socket across a restart; shut down, it would refuse the next start's
# connections (and the requests queued meanwhile).
expect_eq "... and leaves the socket listening for systemd" "$(cat "$TMP/act.out")" "socket still listening"
if [ -S "$SOCK" ]; then ok "... and its file in place"; else notok "... and its file in place"; fi

# --- what is not an activation, or a wrong one ----------------------------------------------
timeout 10 "$ACT" --pid-offset 1 "$SOCK" env CALLPIPE_CONF="$CONF" "$BIN" < /dev/null > /dev/null 2> "$TMP/err"
expect_eq "LISTEN_PID of another process: not activated (no web server either: exit 2)" "$?" 2
expect_match "... and says it was started by no web server" "$(cat "$TMP/err")" 'not started by a web server'

timeout 10 "$ACT" --fds 2 "$SOCK" "$BIN" -c "$CONF" > /dev/null 2> "$TMP/err"
expect_eq "LISTEN_FDS=2: exit 1" "$?" 1
expect_match "... naming LISTEN_FDS" "$(cat "$TMP/err")" '^callpipe-fcgi: socket activation: LISTEN_FDS=2: .*exactly one socket'

timeout 10 "$ACT" --no-listen "$SOCK" "$BIN" -c "$CONF" > /dev/null 2> "$TMP/err"
expect_eq "descriptor 3 bound but not listening: exit 1" "$?" 1
expect_match "... saying so" "$(cat "$TMP/err")" 'descriptor 3 is not a listening socket'

timeout 10 "$ACT" "$SOCK" "$BIN" -c "$CONF" --listen "$TMP/other.sock" > /dev/null 2> "$TMP/err"
expect_eq "--listen with systemd's socket: a usage error (exit 2)" "$?" 2
expect_match "... saying why" "$(cat "$TMP/err")" '--listen and a socket from systemd'

timeout 10 env LISTEN_PID=12x LISTEN_FDS=1 "$BIN" -c "$CONF" > /dev/null 2> "$TMP/err" < /dev/null
expect_eq "a malformed LISTEN_PID: exit 1" "$?" 1
expect_match "... naming it" "$(cat "$TMP/err")" 'LISTEN_PID=12x is not a process id'

finish
