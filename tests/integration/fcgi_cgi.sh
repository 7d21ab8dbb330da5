#!/usr/bin/env bash
# fcgi_cgi: the real callpipe-fcgi binary as plain CGI (environment + stdin), its --check on
# good and broken templates, and --listen as a daemon (cgi-fcgi as the web server) and SIGTERM.
source "$(dirname "$0")/../lib.sh"

BIN=$BUILD/callpipe-fcgi
[ -x "$BIN" ] || { notok "$BIN is built"; finish; exit 1; }

export LC_ALL=C
scratch_dir fcgi-cgi

TOKEN=tok-$RANDOM$RANDOM
PUB=https://voice.example.test
TPL=$TMP/templates LOGS=$TMP/calls
mkdir -p "$TPL"
cp "$ROOT"/twiml-templates/incoming_call.xml "$TPL/"
printf '<?xml version="1.0"?>\n<Response><Connect><Stream url="{{stream_url}}"><Parameter name="callpipe_token" value="{{stream_token}}"/></Stream></Connect><Say>override for {{To}}</Say></Response>\n' \
	> "$TPL/incoming_call.15550000001.xml"
printf '<Response>{{ broken\n' > "$TPL/incoming_call.15550000500.xml"

conf() { # FILE VALIDATE [extra lines]
	local f=$1 v=$2; shift 2
	{
		printf '[twilio]\npublic_url = %s\nauth_token = %s\nvalidate = %s\n' "$PUB" "$TOKEN" "$v"
		printf '[log]\ndir = %s\n[fcgi]\ntemplates = %s\n' "$LOGS" "$TPL"
		printf '%s\n' "$@"
	} > "$f"
}
CONF=$TMP/callpipe.conf
conf "$CONF" yes

hex32() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
SID=CA$(hex32)

# urlenc STRING: percent-encode all but unreserved characters (RFC 3986 §2.3).
urlenc() {
	local s=$1 out='' c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case "$c" in [A-Za-z0-9._~-]) out+=$c ;; *) out+=$(printf '%%%02X' "'$c") ;; esac
	done
	printf '%s' "$out"
}
# form NAME=VALUE…: an application/x-www-form-urlencoded body of the decoded pairs.
form() {
	local kv out='' sep=''
	for kv in "$@"; do out+="$sep$(urlenc "${kv%%=*}")=$(urlenc "${kv#*=}")"; sep='&'; done
	printf '%s' "$out"
}
# sign URL NAME=VALUE…: X-Twilio-Signature (docs/PROTOCOL.md §3.2): the URL, then every
# pair sorted by name then value, name and value appended; HMAC-SHA1 with the token;
# base64. With openssl this is an implementation independent of common/twsig.c.
sign() {
	local url=$1; shift
	if command -v openssl > /dev/null; then
		{
			printf '%s' "$url"
			[ $# -gt 0 ] && printf '%s\n' "$@" | sort -t= -k1,1 -k2 |
				while IFS= read -r kv; do printf '%s%s' "${kv%%=*}" "${kv#*=}"; done
		} | openssl dgst -sha1 -hmac "$TOKEN" -binary | base64
	else
		"$BUILD/callpipe-sim" sign "$url" "$@" --auth-token "$TOKEN"
	fi
}
command -v openssl > /dev/null ||
	ok "openssl is not installed: signatures made by callpipe-sim, not independently # SKIP"

# cgi METHOD URI CONTENT_TYPE SIGNATURE BODY [conf]: one CGI run; stdout to $TMP/out,
# stderr to $TMP/err, exit status in $RC.
cgi() {
	local envs=(PATH="$PATH" CALLPIPE_CONF="${6:-$CONF}" REQUEST_METHOD="$1" REQUEST_URI="$2"
		REMOTE_ADDR=127.0.0.1)
	[ -n "$3" ] && envs+=(CONTENT_TYPE="$3")
	[ -n "$4" ] && envs+=(HTTP_X_TWILIO_SIGNATURE="$4")
	[ -n "$5" ] && envs+=(CONTENT_LENGTH="${#5}")
	printf '%s' "$5" | env -i "${envs[@]}" "$BIN" > "$TMP/out" 2> "$TMP/err"
	RC=$?
}
FORM=application/x-www-form-urlencoded
# post URI NAME=VALUE…: a signed POST as Twilio sends it.
post() {
	local uri=$1; shift
	cgi POST "$uri" "$FORM" "$(sign "$PUB$uri" "$@")" "$(form "$@")"
}
status() { head -1 "$TMP/out" | tr -d '\r'; }
body() { sed '1,/^\r$/d' "$TMP/out"; }
header() { sed '/^\r$/q' "$TMP/out" | tr -d '\r' | grep -i "^$1:" | head -1; }

CALL=(CallSid="$SID" AccountSid=AC$(hex32) From=+15551234567 To=+15557654321
      CallStatus=ringing Direction=inbound ApiVersion=2010-04-01)

# --- the command line ----------------------------------------------------------------------
help=$("$BIN" --help); rc=$?
expect_eq "--help exits 0" "$rc" 0
# the manual is callpipe-fcgi(8); manpages.sh checks its sections and options
expect_match "--help names callpipe-fcgi(8)" "$help" 'callpipe-fcgi\(8\)'
expect_match "--version" "$("$BIN" --version)" '^callpipe-fcgi [0-9]+\.[0-9]+'
"$BIN" --bogus > /dev/null 2>&1
expect_eq "an unknown option exits 2" "$?" 2
env -i PATH="$PATH" CALLPIPE_CONF="$CONF" "$BIN" < /dev/null > /dev/null 2> "$TMP/err"
expect_eq "started by no web server: exit 2" "$?" 2
expect_match "... and says so" "$(cat "$TMP/err")" 'not started by a web server'

# --- configuration errors: one clear line on stderr, exit 1 --------------------------------------
printf '[twilio]\npublic_url = %s\nvalidate = yes\n' "$PUB" > "$TMP/notoken.conf"
cgi POST /webhook/call_status "$FORM" "" "CallSid=$SID" "$TMP/notoken.conf"
expect_eq "validate=yes without auth_token: exit 1" "$RC" 1
expect_eq "... with one line on stderr" "$(wc -l < "$TMP/err")" 1
expect_match "... naming the problem" "$(cat "$TMP/err")" 'auth_token is empty'
expect_eq "... and nothing on stdout" "$(wc -c < "$TMP/out")" 0
conf "$TMP/badkey.conf" yes "bogus_key = 1"
cgi POST /webhook/call_status "$FORM" "" "CallSid=$SID" "$TMP/badkey.conf"
expect_eq "an unknown key: exit 1" "$RC" 1
expect_match "... names file and line" "$(cat "$TMP/err")" "badkey\\.conf:9: "

# --- incoming_call -------------------------------------------------------------------------------
post /webhook/incoming_call "${CALL[@]}" SomethingNew2027=surprise
expect_eq "CGI: signed incoming_call exits 0" "$RC" 0
expect_eq "CGI: 200" "$(status)" "Status: 200 OK"
expect_eq "CGI: text/xml" "$(header Content-Type)" "Content-Type: text/xml"
expect_eq "CGI: Content-Length is the body's" "$(header Content-Length)" \
	"Content-Length: $(body | wc -c)"
expect_match "CGI: the Stream url is the public wss URL" "$(body)" \
	'<Stream url="wss://voice\.example\.test/ws/twilio-media" statusCallback="https://voice\.example\.test/webhook/stream_status">'
expect_match "CGI: Parameter CallSid" "$(body)" "<Parameter name=\"CallSid\" value=\"$SID\"/>"
expect_eq "CGI: nothing on stderr" "$(cat "$TMP/err")" ""
expect_match "CGI: the call's log has the incoming_call line" "$(cat "$LOGS/$SID.log" 2>/dev/null)" \
	'fcgi incoming_call from=\+15551234567 to=\+15557654321 call_status=ringing direction=inbound sig=ok template=incoming_call\.xml'

uri="/webhook/incoming_call?$(form "${CALL[@]}")"
cgi GET "$uri" "" "$(sign "$PUB$uri")" ""
expect_eq "CGI: signed GET: 200" "$(status)" "Status: 200 OK"
expect_match "CGI: GET renders the query's parameters" "$(body)" '<Parameter name="From" value="\+15551234567"/>'

post /webhook/incoming_call CallSid="$SID" To=+15550000001
expect_match "CGI: the per-number override" "$(body)" 'override for \+15550000001'
post /webhook/incoming_call CallSid="$SID" To=+15550000500
expect_eq "CGI: a broken template: 500" "$(status)" "Status: 500 Internal Server Error"
expect_match "... named on stderr" "$(cat "$TMP/err")" '^callpipe-fcgi: 500 template cannot be rendered .*incoming_call\.15550000500\.xml'
post /webhook/incoming_call CallSid="$SID" 'From=<x>&"'"'" To=+15557654321
expect_match "CGI: a hostile From is escaped" "$(body)" 'value="&lt;x&gt;&amp;&quot;&apos;"'

# --- signatures ----------------------------------------------------------------------------------
b=$(form "${CALL[@]}")
cgi POST /webhook/incoming_call "$FORM" "" "$b"
expect_eq "CGI: no signature: 403" "$(status)" "Status: 403 Forbidden"
expect_match "... stderr says missing" "$(cat "$TMP/err")" '^callpipe-fcgi: 403 missing signature'
cgi POST /webhook/incoming_call "$FORM" "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" "$b"
expect_eq "CGI: bad signature: 403" "$(status)" "Status: 403 Forbidden"
cgi POST /webhook/incoming_call "$FORM" "$(sign "http://127.0.0.1:8080/webhook/incoming_call" "${CALL[@]}")" "$b"
expect_eq "CGI: signed over the loopback URL: 403" "$(status)" "Status: 403 Forbidden"
err=$(cat "$TMP/err")
expect_match "... stderr names the URL that was signed and the parameters" "$err" \
	'^callpipe-fcgi: 403 bad signature method=POST uri=/webhook/incoming_call signed_url=https://voice\.example\.test/webhook/incoming_call params=CallSid,AccountSid,From,To,CallStatus,Direction,ApiVersion'
expect_nomatch "... never the token" "$err" "$TOKEN"
expect_nomatch "the unsigned rejections stay out of the call's existing log" "$(cat "$LOGS/$SID.log")" \
	'status=403'
expect_nomatch "the token never reaches the call log" "$(cat "$LOGS/$SID.log")" "$TOKEN"

# --- status callbacks ----------------------------------------------------------------------------
MZ=MZ$(hex32)
post /webhook/stream_status CallSid="$SID" StreamSid="$MZ" StreamName="$MZ" StreamEvent=stream-error \
	StreamError="31920 Stream - WebSocket - Handshake Error" Timestamp=2026-11-24T10:15:02Z
expect_eq "CGI: stream_status: 204" "$(status)" "Status: 204 No Content"
expect_eq "... with no body and no Content-Length" "$(body | wc -c) $(header Content-Length)" "0 "
post /webhook/call_status CallSid="$SID" CallStatus=completed CallDuration=42
expect_eq "CGI: call_status: 204" "$(status)" "Status: 204 No Content"
log=$(cat "$LOGS/$SID.log")
expect_match "stream_status logged" "$log" \
	"fcgi stream_status stream_event=stream-error stream_sid=$MZ stream_name=$MZ stream_error=\"31920 Stream - WebSocket - Handshake Error\" timestamp=2026-11-24T10:15:02Z sig=ok"
expect_match "call_status logged last" "$(tail -1 "$LOGS/$SID.log")" 'fcgi call_status call_status=completed call_duration=42 sig=ok$'

# --- errors --------------------------------------------------------------------------------------
cgi POST /webhook/no_such_route "$FORM" "" "$b"
expect_eq "CGI: unknown route: 404" "$(status)" "Status: 404 Not Found"
expect_match "... text/plain naming it" "$(header Content-Type) $(body)" '^Content-Type: text/plain.* 404 Not Found: unknown route'
cgi GET /webhook/stream_status "" "" ""
expect_eq "CGI: GET stream_status: 405" "$(status)" "Status: 405 Method Not Allowed"
expect_eq "... Allow: POST" "$(header Allow)" "Allow: POST"
cgi DELETE /webhook/incoming_call "" "" ""
expect_eq "... Allow: GET, POST for incoming_call" "$(header Allow)" "Allow: GET, POST"
env -i PATH="$PATH" CALLPIPE_CONF="$CONF" REQUEST_METHOD=POST REQUEST_URI=/webhook/incoming_call \
	CONTENT_TYPE=$FORM CONTENT_LENGTH=70000 "$BIN" < /dev/zero > "$TMP/out" 2> "$TMP/err"
expect_eq "CGI: CONTENT_LENGTH over max_body: 413" "$(status)" "Status: 413 Content Too Large"
conf "$TMP/small.conf" yes "max_body = 1024"
big=$(form CallSid="$SID" Pad="$(printf '%02000d' 1)")
cgi POST /webhook/incoming_call "$FORM" "" "$big" "$TMP/small.conf"
expect_eq "CGI: a body over [fcgi] max_body = 1024: 413" "$(status)" "Status: 413 Content Too Large"
cgi POST /webhook/incoming_call application/json "" '{"CallSid":"x"}'
expect_eq "CGI: JSON: 415" "$(status)" "Status: 415 Unsupported Media Type"
cgi POST /webhook/incoming_call "$FORM; charset=UTF-8" "$(sign "$PUB/webhook/incoming_call" "${CALL[@]}")" "$b"
expect_eq "CGI: form type with a charset: 200" "$(status)" "Status: 200 OK"
cgi POST /webhook/incoming_call "$FORM" "" "CallSid=$SID&From=%zz"
expect_eq "CGI: malformed form: 400" "$(status)" "Status: 400 Bad Request"
env -i PATH="$PATH" CALLPIPE_CONF="$CONF" REQUEST_METHOD=POST REQUEST_URI=/webhook/incoming_call \
	CONTENT_TYPE=$FORM CONTENT_LENGTH=500 "$BIN" <<< "CallSid=$SID" > "$TMP/out" 2> "$TMP/err"
expect_eq "CGI: body shorter than CONTENT_LENGTH: 400" "$(status)" "Status: 400 Bad Request"
post /webhook/incoming_call From=+15551234567
expect_eq "CGI: missing CallSid: 400" "$(status)" "Status: 400 Bad Request"
# CA.. is a directory, so "$LOGS/CA../../<name>.log" resolves (in and out of CA..) to
# $LOGS/<name>.log: only the CallSid check stands between the request and that file.
mkdir -p "$LOGS/CA.."
before=$(ls "$LOGS" | wc -l)
post /webhook/incoming_call CallSid=CA../../callpipe-fcgi-pwned From=+1555
expect_eq "CGI: CallSid with a path: 400" "$(status)" "Status: 400 Bad Request"
expect_eq "... and no file made from it" "$(ls "$LOGS" | wc -l) $(ls "$LOGS/CA.." | wc -l)" "$before 0"

# --- validate = no -------------------------------------------------------------------------------
conf "$TMP/novalidate.conf" no
cgi POST /webhook/call_status "$FORM" "" "CallSid=$SID&CallStatus=busy" "$TMP/novalidate.conf"
expect_eq "validate=no: unsigned call_status: 204" "$(status)" "Status: 204 No Content"
expect_eq "validate=no: one loud warning on stderr" "$(grep -c 'WARNING.*validate = no' "$TMP/err")" 1
expect_match "validate=no: sig=unchecked in the log" "$(tail -1 "$LOGS/$SID.log")" 'call_status=busy sig=unchecked$'

# --- --check -------------------------------------------------------------------------------------
out=$("$BIN" -c "$CONF" --check 2>&1 > "$TMP/check.out"); rc=$?
# The shipped default and the override are fine; the broken override is not.
expect_eq "--check with one broken template exits 1" "$rc" 1
expect_match "... file:line: message for it" "$out" "^$TPL/incoming_call\\.15550000500\\.xml:1: "
expect_eq "... and nothing else wrong" "$(grep -c "^$TPL/" <<< "$out")" 1
rm "$TPL/incoming_call.15550000500.xml"
out=$("$BIN" -c "$CONF" --check 2> "$TMP/err"); rc=$?
expect_eq "--check on good templates exits 0" "$rc" 0
expect_match "... with a one-line OK" "$out" '^callpipe-fcgi --check: OK: .*2 templates'
expect_eq "... and no problems" "$(cat "$TMP/err")" ""

BAD=$TMP/bad-templates
mkdir -p "$BAD"
printf '<?xml version="1.0"?>\n<Response>\n  <Connect>\n    <Stream url="{{stream_url}}">\n  </Connect>\n</Response>\n' > "$BAD/incoming_call.xml"
printf '<?xml version="1.0"?>\n<Response>\n  <Say>{{From</Say>\n</Response>\n' > "$BAD/incoming_call.1.xml"
printf '<?xml version="1.0"?>\n<Response>\n  <Say>no stream</Say>\n</Response>\n' > "$BAD/incoming_call.2.xml"
printf '<?xml version="1.0"?>\n<Response>\n<Connect>\n<Stream url="{{status_callback_url}}"/>\n</Connect>\n</Response>\n' > "$BAD/incoming_call.3.xml"
printf '<Response>\n<Say>fine</Say>\n</Response>\n' > "$BAD/goodbye.xml"
conf "$TMP/bad.conf" yes
sed -i "s|^templates = .*|templates = $BAD|" "$TMP/bad.conf"
out=$("$BIN" -c "$TMP/bad.conf" --check 2>&1); rc=$?
expect_eq "--check on broken templates exits 1" "$rc" 1
expect_match "tag mismatch: file:line" "$out" "^$BAD/incoming_call\\.xml:5: not well-formed XML: .*mismatch"
expect_match "a {{ left open: file:line" "$out" "^$BAD/incoming_call\\.1\\.xml:3: .*\\{\\{From"
expect_match "no <Connect>: file:line" "$out" "^$BAD/incoming_call\\.2\\.xml:2: .*no <Connect>"
expect_match "a Stream url that is not ws(s): file:line" "$out" "^$BAD/incoming_call\\.3\\.xml:4: .*wss://"
expect_nomatch "a good non-call template is not a problem" "$out" "goodbye\\.xml"
expect_match "the count of problems" "$out" '--check: 4 problems$'
conf "$TMP/badkey2.conf" yes "threads = 0"
out=$("$BIN" -c "$TMP/badkey2.conf" --check 2>&1); rc=$?
expect_eq "--check on a bad config exits 1" "$rc" 1
expect_match "... file:line" "$out" "badkey2\\.conf:9: "

# --- --listen: a FastCGI daemon ------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=$(free_port)
"$BIN" -c "$CONF" --listen "127.0.0.1:$PORT" 2> "$TMP/daemon.err" & DPID=$!; PIDS+=($DPID)
if wait_until 5 port_open "$PORT"; then ok "--listen 127.0.0.1:$PORT accepts"; else notok "--listen 127.0.0.1:$PORT accepts"; fi
expect_match "... and says where it listens" "$(cat "$TMP/daemon.err")" "listening on 127\\.0\\.0\\.1:$PORT with 8 threads"

"$BIN" -c "$CONF" --listen "127.0.0.1:$PORT" 2> "$TMP/err"
expect_eq "a second daemon on the same port exits 1 (no silent exit)" "$?" 1
expect_match "... saying why" "$(cat "$TMP/err")" "cannot listen on 127\\.0\\.0\\.1:$PORT: Address already in use"

# fcgi_req URI BODY [SIG]: one request through cgi-fcgi (libfcgi-bin) as the web server.
fcgi_req() {
	printf '%s' "$2" | env -i REQUEST_METHOD=POST REQUEST_URI="$1" CONTENT_TYPE=$FORM \
		CONTENT_LENGTH="${#2}" HTTP_X_TWILIO_SIGNATURE="${3:-}" \
		cgi-fcgi -bind -connect "127.0.0.1:$PORT"
}
if command -v cgi-fcgi > /dev/null; then
	r=$(fcgi_req /webhook/incoming_call "$(form "${CALL[@]}")" "$(sign "$PUB/webhook/incoming_call" "${CALL[@]}")")
	expect_match "daemon: signed incoming_call answers 200 TwiML" "$(tr -d '\r\n' <<< "$r")" \
		'^Status: 200 OK.*<Stream url="wss://voice\.example\.test/ws/twilio-media"'
	r=$(fcgi_req /webhook/incoming_call "$(form "${CALL[@]}")" "bad")
	expect_match "daemon: bad signature: 403" "$r" '^Status: 403 Forbidden'

	CSID=CA$(hex32)
	for i in $(seq 1 20); do
		p=(CallSid="$CSID" StreamSid="$MZ" StreamEvent=stream-started Timestamp="t$i" Pad="$(printf '%0300d' "$i")")
		fcgi_req /webhook/stream_status "$(form "${p[@]}")" "$(sign "$PUB/webhook/stream_status" "${p[@]}")" \
			> "$TMP/par.$i" &
	done
	wait $(jobs -p | grep -vx "$DPID")
	expect_eq "daemon: 20 concurrent requests all 204" \
		"$(head -qn1 "$TMP"/par.* | tr -d '\r' | sort | uniq -c | tr -s ' ')" " 20 Status: 204 No Content"
	expect_eq "daemon: 20 whole lines in the call's log" \
		"$(grep -Ec '^[0-9T:.-]+Z fcgi stream_status stream_event=stream-started .* sig=ok$' "$LOGS/$CSID.log")" 20

	# SIGTERM with a request in flight: the daemon waits for it, then exits 0. The body
	# is held back in a FIFO, so the request sits in the middle of its stdin.
	mkfifo "$TMP/slow"
	body=$(form "${CALL[@]}")
	env -i REQUEST_METHOD=POST REQUEST_URI=/webhook/incoming_call CONTENT_TYPE=$FORM \
		CONTENT_LENGTH="${#body}" HTTP_X_TWILIO_SIGNATURE="$(sign "$PUB/webhook/incoming_call" "${CALL[@]}")" \
		cgi-fcgi -bind -connect "127.0.0.1:$PORT" < "$TMP/slow" > "$TMP/slow.out" & SLOW=$!
	exec 4> "$TMP/slow"   # opens once cgi-fcgi has opened its end
	# Readiness: the daemon holds the connection (a second socket besides the listener).
	socks() { [ "$(find "/proc/$DPID/fd" -lname 'socket:*' 2>/dev/null | wc -l)" -ge 2 ]; }
	wait_until 5 socks || notok "the slow request connected"
	# No outside sign tells "FCGI_PARAMS read" from "connected"; cgi-fcgi sends the
	# params at once, so give the worker a moment to take them.
	sleep 0.2
	kill -TERM "$DPID"
	sleep 0.3
	if kill -0 "$DPID" 2>/dev/null; then ok "SIGTERM: the daemon waits for the request in flight"; else notok "SIGTERM: the daemon waits for the request in flight"; fi
	printf '%s' "$body" >&4; exec 4>&-
	wait "$SLOW"
	expect_match "... which is answered in full" "$(tr -d '\r\n' < "$TMP/slow.out")" '^Status: 200 OK.*</Response>$'
	t0=$SECONDS
	wait "$DPID"; rc=$?
	expect_eq "... then it exits 0" "$rc" 0
	[ $((SECONDS - t0)) -le 2 ] && ok "... promptly" || notok "... promptly ($((SECONDS - t0)) s)"
else
	ok "cgi-fcgi (libfcgi-bin) is not installed: daemon requests not checked here # SKIP"
	kill -TERM "$DPID"; wait "$DPID"
	expect_eq "SIGTERM: the daemon exits 0" "$?" 0
fi
if port_open "$PORT"; then notok "the port is closed after SIGTERM"; else ok "the port is closed after SIGTERM"; fi

# An idle daemon ends at once on SIGTERM, and on SIGINT.
for sig in TERM INT; do
	"$BIN" -c "$CONF" --listen "127.0.0.1:$PORT" 2> /dev/null & DPID=$!; PIDS+=($DPID)
	wait_until 5 port_open "$PORT"
	start=$(date +%s%N)
	kill -"$sig" "$DPID"; wait "$DPID"; rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	expect_eq "idle daemon: SIG$sig exits 0" "$rc" 0
	[ "$ms" -lt 1000 ] && ok "... within a second (${ms} ms)" || notok "... within a second (${ms} ms)"
done

# A unix socket: mode 0660, removed at the end; a stale one is replaced.
SOCK=$TMP/fcgi.sock
"$BIN" -c "$CONF" --listen "$SOCK" 2> /dev/null & DPID=$!; PIDS+=($DPID)
wait_until 5 test -S "$SOCK"
expect_eq "--listen PATH: a socket of mode 0660" "$(stat -c %a "$SOCK" 2>/dev/null)" 660
if command -v cgi-fcgi > /dev/null; then
	r=$(printf '' | env -i REQUEST_METHOD=GET REQUEST_URI=/webhook/nothing cgi-fcgi -bind -connect "$SOCK")
	expect_match "--listen PATH answers" "$r" '^Status: 404 Not Found'
else
	ok "cgi-fcgi (libfcgi-bin) is not installed: --listen PATH not asked # SKIP"
fi
kill -TERM "$DPID"; wait "$DPID"
expect_eq "--listen PATH: SIGTERM exits 0" "$?" 0
if [ -e "$SOCK" ]; then notok "... and removes the socket"; else ok "... and removes the socket"; fi
# A daemon killed outright leaves its socket file behind; the next one replaces it.
"$BIN" -c "$CONF" --listen "$SOCK" 2> /dev/null & DPID=$!; PIDS+=($DPID)
wait_until 5 test -S "$SOCK"
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null
if [ -S "$SOCK" ]; then ok "SIGKILL leaves a stale socket"; else notok "SIGKILL leaves a stale socket"; fi
"$BIN" -c "$CONF" --listen "$SOCK" 2> "$TMP/err" & DPID=$!; PIDS+=($DPID)
if wait_until 5 grep -q listening "$TMP/err"; then ok "a stale socket is replaced"; else notok "a stale socket is replaced"; diag < "$TMP/err"; fi
"$BIN" -c "$CONF" --listen "$SOCK" 2> "$TMP/err2"
expect_eq "a live socket is not taken over: exit 1" "$?" 1
expect_match "... saying why" "$(cat "$TMP/err2")" 'another server is listening'
kill -TERM "$DPID"; wait "$DPID"

finish
