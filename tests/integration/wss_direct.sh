# wss_direct: callpipe-ws serving wss:// itself ([ws] tls_cert, tls_key; docs/WS.md "Direct
# TLS"), no Apache: bad files refused at start, the TwiML's [twilio] stream_url, a signed echo
# call over TLS, and checks by tools that do not link our code (openssl s_client, curl).
source "$(dirname "$0")/../lib.sh"

WS=$BUILD/callpipe-ws SIM=$BUILD/callpipe-sim FCGI=$BUILD/callpipe-fcgi
RAW="python3 $ROOT/tests/integration/wsraw.py"
command -v openssl > /dev/null || { notok "openssl (the command) is installed"; finish; exit 1; }

export LC_ALL=C
TMP=$(mktemp -d "${TMPDIR:-/tmp}/callpipe-wss.XXXXXX")
WSPID=
cleanup() {
	[ -n "$WSPID" ] && kill -KILL "$WSPID" 2>/dev/null
	[ $FAILS -eq 0 ] && [ "${KEEP:-0}" != 1 ] && rm -rf "$TMP"
}
trap cleanup EXIT

TOKEN=tok-$RANDOM$RANDOM
PORT=$(free_port)
URL=wss://127.0.0.1:$PORT/ws/twilio-media
mkdir -p "$TMP/calls" && chmod 0750 "$TMP/calls"

# mkcert NAME: a throwaway self-signed P-256 certificate for 127.0.0.1, key 0600.
mkcert() {
	(umask 077; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$TMP/$1.key" -out "$TMP/$1.pem" 2> "$TMP/openssl.err")
}
mkcert a && mkcert b || { notok "openssl makes a test certificate"; diag < "$TMP/openssl.err"; finish; exit 1; }
expect_eq "the test key is 0600" "$(stat -c %a "$TMP/a.key")" 600
fingerprint() { openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2; }

conf() { # FILE CERT KEY [extra [ws] lines]
	local f=$1 cert=$2 key=$3; shift 3
	{
		printf '[twilio]\npublic_url = https://voice.example.test\nauth_token = %s\n' "$TOKEN"
		printf 'stream_url = %s\n' "$URL"
		printf '[log]\ndir = %s\n[fcgi]\ntemplates = %s\n' "$TMP/calls" "$ROOT/twiml-templates"
		printf '[ws]\nlisten = 127.0.0.1:%s\nmax_calls = 20\n' "$PORT"
		[ -n "$cert" ] && printf 'tls_cert = %s\n' "$cert"
		[ -n "$key" ] && printf 'tls_key = %s\n' "$key"
		printf '%s\n' "$@"
	} > "$f"
}

# --- refused at start, with the file and the reason ------------------------------------------
start_fails() { # NAME CONF WANT-REGEX
	timeout 10 "$WS" -c "$2" > /dev/null 2> "$TMP/start.err"
	local rc=$?
	expect_eq "$1: exit 1" "$rc" 1
	expect_match "$1: says why" "$(cat "$TMP/start.err")" "$3"
}
conf "$TMP/bad1.conf" "$TMP/nope.pem" "$TMP/a.key"
start_fails "a tls_cert that does not exist" "$TMP/bad1.conf" "tls_cert $TMP/nope\\.pem: cannot read: No such file"
conf "$TMP/bad2.conf" "$TMP/a.pem" "$TMP/b.key"
start_fails "a key that is not the certificate's" "$TMP/bad2.conf" \
	"tls_key $TMP/b\\.key does not belong to \\[ws\\] tls_cert $TMP/a\\.pem \\(OpenSSL: .*values mismatch"
printf 'not a certificate\n' > "$TMP/junk.pem"
conf "$TMP/bad3.conf" "$TMP/junk.pem" "$TMP/a.key"
start_fails "a tls_cert that is not PEM" "$TMP/bad3.conf" "tls_cert $TMP/junk\\.pem: not a usable PEM certificate \\(OpenSSL: .*no start line"
conf "$TMP/bad4.conf" "$TMP/a.pem" ""
start_fails "tls_cert without tls_key" "$TMP/bad4.conf" "tls_cert is set but tls_key is empty"
(umask 077; openssl pkey -in "$TMP/a.key" -aes256 -passout pass:x -out "$TMP/enc.key" 2>/dev/null)
conf "$TMP/bad5.conf" "$TMP/a.pem" "$TMP/enc.key"
start_fails "an encrypted key (no prompt, no hang)" "$TMP/bad5.conf" "tls_key $TMP/enc\\.key: the key is encrypted"

# --- the TwiML names [twilio] stream_url (the real callpipe-fcgi, as CGI) ----------------------
CONF=$TMP/callpipe.conf
conf "$CONF" "$TMP/a.pem" "$TMP/a.key"
SID=CA$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
body="CallSid=$SID&AccountSid=AC1&From=%2B15551234567&To=%2B15557654321&CallStatus=ringing"
sig=$("$SIM" sign https://voice.example.test/webhook/incoming_call "CallSid=$SID" AccountSid=AC1 \
	From=+15551234567 To=+15557654321 CallStatus=ringing --auth-token "$TOKEN")
twiml=$(printf '%s' "$body" | env -i PATH="$PATH" CALLPIPE_CONF="$CONF" REQUEST_METHOD=POST \
	REQUEST_URI=/webhook/incoming_call REMOTE_ADDR=127.0.0.1 \
	CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH=${#body} \
	HTTP_X_TWILIO_SIGNATURE="$sig" "$FCGI" 2> "$TMP/fcgi.err")
expect_match "the TwiML's Stream url is [twilio] stream_url" "$twiml" "<Stream url=\"$URL\""
expect_match "... and the status callback still public_url's" "$twiml" \
	'statusCallback="https://voice\.example\.test/webhook/stream_status"'

# --- the helper on TLS ----------------------------------------------------------------------
"$WS" -c "$CONF" 2> "$TMP/ws.err" &
WSPID=$!
healthz() { curl -s --insecure --max-time 3 "https://127.0.0.1:$PORT/healthz"; }
wait_until 10 healthz || { notok "callpipe-ws answers https://127.0.0.1:$PORT/healthz"; diag < "$TMP/ws.err"; finish; exit 1; }
expect_match "the banner says wss" "$(head -1 "$TMP/ws.err")" "listening on 127\\.0\\.0\\.1:$PORT \\(wss, TLS 1\\.2\\+\\)"
expect_match "... and names the certificate" "$(cat "$TMP/ws.err")" "TLS: cert $TMP/a\\.pem \\(/CN=127\\.0\\.0\\.1, valid until "
expect_match "... and the signed URL" "$(cat "$TMP/ws.err")" "signatures are checked over \\[twilio\\] stream_url $URL"

# openssl s_client, not our code: the certificate served is ours, the protocol modern.
served=$(openssl s_client -connect 127.0.0.1:$PORT -servername 127.0.0.1 < /dev/null 2>/dev/null | fingerprint)
expect_eq "openssl s_client sees our certificate" "$served" "$(fingerprint < "$TMP/a.pem")"
s11=$(openssl s_client -connect 127.0.0.1:$PORT -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' < /dev/null 2>&1)
expect_match "TLS 1.1 is refused" "$s11" 'alert protocol version|no protocols available|wrong version number'
expect_match "TLS 1.2 is served, with an ECDHE AEAD suite" \
	"$(openssl s_client -connect 127.0.0.1:$PORT -tls1_2 < /dev/null 2>&1)" 'Cipher is ECDHE-[A-Z0-9-]*(GCM|CHACHA20)'
# (the test key is ECDSA: a CBC suite it could sign is the one to offer)
expect_match "a TLS 1.2 suite that is not AEAD (ECDHE-ECDSA-AES128-SHA) is refused" \
	"$(openssl s_client -connect 127.0.0.1:$PORT -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA < /dev/null 2>&1)" 'handshake failure|no cipher'
expect_match "ALPN: http/1.1 even when h2 is offered" \
	"$(openssl s_client -connect 127.0.0.1:$PORT -alpn h2,http/1.1 < /dev/null 2>&1)" 'ALPN protocol: http/1.1'

# curl, not our code: /healthz and /metrics over https.
expect_eq "curl --insecure https://…/healthz answers ok" "$(healthz)" ok
metrics=$(curl -s --insecure --max-time 3 "https://127.0.0.1:$PORT/metrics")
expect_match "... and /metrics" "$metrics" '^# HELP callpipe_ws_'

# a signed call, echoed byte for byte, over TLS
out=$(timeout 60 "$SIM" call --stream-url "$URL" --insecure --auth-token "$TOKEN" --seconds 1 --fast --expect-echo --json 2> "$TMP/sim.err")
expect_eq "callpipe-sim call $URL --insecure --expect-echo: pass" "$(jq -r .outcome <<<"$out" 2>/dev/null)" pass
expect_match "... it dialled TLS" "$(jq -r .handshake.dial <<<"$out" 2>/dev/null)" "127\\.0\\.0\\.1:$PORT \\(TLS\\)"
out=$(timeout 60 "$SIM" call --stream-url "$URL" --insecure --auth-token wrong-$TOKEN --seconds 0.2 --fast --json 2>/dev/null)
expect_eq "a wrong signature over TLS: 403" "$(jq -r .handshake.status <<<"$out" 2>/dev/null)" 403
expect_match "... the helper names the stream_url it checked" "$(cat "$TMP/ws.err")" \
	"WS_REJECT status=403 reason=signature .*urls tried: $URL "
out=$(timeout 60 "$SIM" call --stream-url "$URL" --auth-token "$TOKEN" --seconds 0.2 --fast 2>&1)
expect_match "without --insecure the sim refuses the self-signed certificate, and says so" "$out" \
	'error 31910 .*certificate was refused: self-signed certificate'

# plain ws:// (and http://) on the TLS port: refused, the helper keeps serving
curl -s --max-time 3 "http://127.0.0.1:$PORT/healthz" > "$TMP/plain.out" 2>&1
rc=$?
expect_eq "plain http:// on the TLS port fails (no answer in clear)" "$([ $rc -ne 0 ] && [ ! -s "$TMP/plain.out" ] && echo yes)" yes
code=$(timeout 10 $RAW upgrade --port "$PORT" --sig x 2>/dev/null)
expect_match "a plain ws:// upgrade on the TLS port gets no 101" "${code:-none}" '^(none|[^1].*)$'
out=$(timeout 30 "$SIM" call --stream-url "ws://127.0.0.1:$PORT/ws/twilio-media" --auth-token "$TOKEN" --seconds 0.2 --fast 2>&1)
expect_match "callpipe-sim dialling the TLS port as ws:// says what is likely wrong" "$out" \
	'closed the connection without answering the upgrade .*wss:// \(TLS\) port dialled as ws://'
expect_eq "... and the helper still serves" "$(healthz)" ok

# a client that connects and never starts its TLS handshake is dropped, boundedly
t0=$(date +%s%N)
python3 - "$PORT" <<'PY' > "$TMP/silent.out"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(20)
try:
    print("eof" if s.recv(1) == b"" else "data")
except socket.timeout:
    print("still open after 20 s")
except OSError as e:
    print("eof")
PY
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# a silent TLS client was dropped after $ms ms"
expect_eq "a client that never handshakes is dropped" "$(cat "$TMP/silent.out")" eof
expect_eq "... within 6 s" "$([ $ms -le 6000 ] && echo yes)" yes

# 300 connections that never handshake (max_calls 20: fd limit 84) do not keep a call out
shed_before=$(curl -s --insecure "https://127.0.0.1:$PORT/metrics" | awk '$1 == "callpipe_ws_idle_connections_shed_total" {print $2}')
$RAW flood --port "$PORT" --count 300 --seconds 20 > "$TMP/flood.out" &
floodpid=$!
wait_until 10 grep -q '^up' "$TMP/flood.out"
t0=$(date +%s%N)
out=$(timeout 60 "$SIM" call --stream-url "$URL" --insecure --auth-token "$TOKEN" --seconds 0.5 --fast --expect-echo --json 2>/dev/null)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# a wss call behind 300 silent TLS connections took $ms ms"
expect_eq "300 silent TCP connections at the TLS port: a real call still gets through" "$(jq -r .outcome <<<"$out" 2>/dev/null)" pass
expect_eq "... at once (under 2.5 s)" "$([ $ms -lt 2500 ] && echo yes)" yes
shed=$(curl -s --insecure "https://127.0.0.1:$PORT/metrics" | awk '$1 == "callpipe_ws_idle_connections_shed_total" {print $2}')
expect_eq "... the silent ones were shed (counted before any handshake)" "$([ "${shed:-0}" -gt "${shed_before:-0}" ] && echo yes)" yes
kill $floodpid 2>/dev/null; wait $floodpid 2>/dev/null

# --- SIGHUP: a renewed certificate is served without a restart; a bad one is not taken ----------
cp "$TMP/a.pem" "$TMP/a.pem.orig"; cp "$TMP/a.key" "$TMP/a.key.orig"
mkcert a
kill -HUP "$WSPID"
wait_until 5 grep -q 'SIGHUP: TLS reloaded' "$TMP/ws.err"
served=$(openssl s_client -connect 127.0.0.1:$PORT < /dev/null 2>/dev/null | fingerprint)
expect_eq "after SIGHUP the renewed certificate is served" "$served" "$(fingerprint < "$TMP/a.pem")"
expect_eq "... a different one from before" "$([ "$served" != "$(fingerprint < "$TMP/a.pem.orig")" ] && echo yes)" yes
cp "$TMP/b.key" "$TMP/a.key"   # a renewal gone wrong: the key is not the certificate's
good=$served
kill -HUP "$WSPID"
wait_until 5 grep -q 'SIGHUP: keeping the certificate in use' "$TMP/ws.err"
expect_match "a mismatched pair at SIGHUP is refused, with the reason" "$(cat "$TMP/ws.err")" \
	"SIGHUP: keeping the certificate in use: \\[ws\\] tls_key $TMP/a\\.key does not belong"
served=$(openssl s_client -connect 127.0.0.1:$PORT < /dev/null 2>/dev/null | fingerprint)
expect_eq "... and the certificate in use stays" "$served" "$good"
expect_eq "... calls still work" "$(timeout 60 "$SIM" call --stream-url "$URL" --insecure --auth-token "$TOKEN" --seconds 0.3 --fast --expect-echo --json 2>/dev/null | jq -r .outcome)" pass

kill -TERM "$WSPID"
wait "$WSPID"
expect_eq "SIGTERM: exit 0" "$?" 0
WSPID=

# --- the same over [ws] event_loop = libev (lws's libev plugin drives the TLS sockets) ---------
conf "$TMP/libev.conf" "$TMP/b.pem" "$TMP/b.key" "event_loop = libev"
"$WS" -c "$TMP/libev.conf" 2> "$TMP/ws-libev.err" &
WSPID=$!
if wait_until 10 healthz; then
	expect_match "libev: the banner says wss and libev" "$(head -1 "$TMP/ws-libev.err")" '\(wss, TLS 1\.2\+\).*event loop libev'
	served=$(openssl s_client -connect 127.0.0.1:$PORT < /dev/null 2>/dev/null | fingerprint)
	expect_eq "libev: openssl s_client sees our certificate" "$served" "$(fingerprint < "$TMP/b.pem")"
	expect_eq "libev: a signed wss echo call passes" "$(timeout 60 "$SIM" call --stream-url "$URL" --insecure --auth-token "$TOKEN" --seconds 0.5 --fast --expect-echo --json 2>/dev/null | jq -r .outcome)" pass
	t0=$SECONDS
	expect_eq "libev: a silent client is dropped" "$(python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.settimeout(20)
try: print("eof" if s.recv(1) == b"" else "data")
except socket.timeout: print("open")
except OSError: print("eof")' "$PORT")" eof
	expect_eq "... within 6 s" "$([ $((SECONDS - t0)) -le 6 ] && echo yes)" yes
else
	notok "libev: callpipe-ws answers https://127.0.0.1:$PORT/healthz"; diag < "$TMP/ws-libev.err"
fi
kill -TERM "$WSPID"
wait "$WSPID"
expect_eq "libev: SIGTERM: exit 0" "$?" 0
WSPID=
[ $FAILS -eq 0 ] || { echo "== callpipe-ws stderr"; tail -30 "$TMP/ws.err" "$TMP/ws-libev.err"; } | diag
finish
