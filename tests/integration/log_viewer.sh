#!/usr/bin/env bash
# log_viewer: callpipe-log list, show and tail against call logs written in calllog's exact
# line format (docs/DESIGN.md §1.2) into a temporary directory; no servers needed.
source "$(dirname "$0")/../lib.sh"

LOGV=$BUILD/callpipe-log
if [ ! -x "$LOGV" ]; then
	notok "callpipe-log is built ($LOGV)"
	finish
	exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/callpipe-logview.XXXXXX")
D=$T/calls
mkdir -m 0750 "$D"
TAIL_PID=
cleanup() {
	[ -n "$TAIL_PID" ] && kill "$TAIL_PID" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ] || [ $FAILS -ne 0 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

# Realistic CallSids: CA + 32 lower-case hex, as Twilio sends them.
A=CA5f3c0e1b2a4d69788f7a6b5c4d3e2f10   # completed, echo, tricky values
B=CA0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e   # busy
C=CAc31920c31920c31920c31920c31920ab   # stream error 31920
E=CAe403e403e403e403e403e403e403e403   # signature rejected
M=CA9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a   # malformed lines
G=CA6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b   # a 2.7 MiB log (read by its head and tail)
H=CA7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c   # created while tail runs
MZ=MZ4e8f0a1b2c3d4e5f60718293a4b5c6d7

# line FILE TEXT…: append one line as calllog writes it (one write, newline-terminated).
# The fixed lines are dated in the past: tail must not take them for new ones.
line() { local f=$1; shift; printf '%s\n' "$*" >> "$D/$f.log"; }

line $A '2025-11-24T10:15:02.123Z fcgi incoming_call from="client:Ann Smith" to=+15557654321 call_status=ringing direction=inbound sig=ok template=incoming_call.xml'
line $A '2025-11-24T10:15:02.912Z ws ws_connected path=/ws/twilio-media subprotocol=audio.twilio.com peer=127.0.0.1 x_forwarded_for=203.0.113.9'
line $A "2025-11-24T10:15:02.915Z ws ws_start stream_sid=$MZ account_sid=AC11112222333344445555666677778888 tracks=inbound media_format=audio/x-mulaw;rate=8000;channels=1 mode=echo param_From=\"client:Ann Smith\" param_note=\"say \\\"hi\\\" \\\\ bye\" param_empty=\"\""
line $A "2025-11-24T10:15:03.001Z fcgi stream_status stream_event=stream-started stream_sid=$MZ stream_name=$MZ timestamp=2025-11-24T10:15:02.998Z sig=ok"
line $A '2025-11-24T10:15:09.500Z ws ws_dtmf digit=5'
line $A '2025-11-24T10:15:10.000Z ws ws_mark name=echo-50'
line $A '2025-11-24T10:16:20.000Z ws ws_stop'
line $A '2025-11-24T10:16:20.003Z ws ws_done rx=3875 tx=3875 marks_sent=77 marks_returned=77 clears=1 gaps=0 errors_bad_json=2 duration_ms=77091 close_code=1000 close_reason="stream stopped" closed_by=server'
line $A "2025-11-24T10:16:20.100Z fcgi stream_status stream_event=stream-stopped stream_sid=$MZ stream_name=$MZ timestamp=2025-11-24T10:16:20.050Z sig=ok"
line $A '2025-11-24T10:16:21.000Z fcgi call_status call_status=completed call_duration=79 sig=ok'

line $B '2025-11-24T09:30:00.000Z fcgi incoming_call from=+15550001111 to=+15557654321 call_status=ringing direction=inbound sig=ok template=incoming_call.15557654321.xml'
line $B '2025-11-24T09:30:21.400Z fcgi call_status call_status=busy call_duration=0 sig=ok'

line $C '2025-11-24T11:00:00.000Z fcgi incoming_call from=+15552223333 to=+15557654321 call_status=ringing direction=inbound sig=ok template=incoming_call.xml'
line $C "2025-11-24T11:00:01.250Z fcgi stream_status stream_event=stream-error stream_sid=$MZ stream_name=$MZ stream_error=\"31920 Stream - WebSocket - Handshake Error\" timestamp=2025-11-24T11:00:01.200Z sig=ok"
line $C '2025-11-24T11:00:04.000Z fcgi call_status call_status=completed call_duration=4 sig=ok'

line $E '2025-11-24T12:00:00.000Z fcgi incoming_call from=+15554445555 to=+15557654321 call_status=ringing direction=inbound sig=ok template=incoming_call.xml'
line $E '2025-11-24T12:00:03.000Z fcgi http_error status=403 reason="bad signature" method=POST uri=/webhook/stream_status signed_url=https://voice.example.test/webhook/stream_status params=AccountSid,CallSid,StreamEvent'

line $M '2025-11-24T13:00:00.000Z fcgi incoming_call from=+15556667777 to=+15557654321 sig=unchecked'
printf 'not a log line at all\n' >> "$D/$M.log"
printf '2025-11-24T13:00:01.000Z ws ws_mark name="\033[2Jgotcha\n' >> "$D/$M.log"
line $M '2025-11-24T13:00:02.000Z ws ws_stop'

# G: incoming_call, 2.7 MiB of marks, call_status: list must still find both ends.
{
	echo '2025-11-23T08:00:00.000Z fcgi incoming_call from=+15558889999 to=+15557654321 sig=ok'
	awk 'BEGIN { for (i = 0; i < 36000; i++)
		printf "2025-11-23T08:%02d:%02d.%03dZ ws ws_mark name=echo-%06d pad=xxxxxxxxxxxxxxxx\n",
			int(i / 600) % 60, int(i / 10) % 60, (i % 10) * 100, i }'
	echo '2025-11-23T09:00:00.000Z fcgi call_status call_status=completed call_duration=3600 sig=ok'
} > "$D/$G.log"

# Things list must ignore: other files, a directory and a symlink with call-like names.
echo "not a call" > "$D/notes.txt"
echo "2025-11-24T10:00:00.000Z fcgi incoming_call from=x" > "$D/CAshort.log"
mkdir "$D/CAdddddddddddddddddddddddddddddddd.log"
ln -s /etc/passwd "$D/CAeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.log"

# A real log was last written when its last line was: give the fixtures those mtimes.
for id in $A $B $C $E $M $G; do touch -d "$(tail -1 "$D/$id.log" | cut -d' ' -f1)" "$D/$id.log"; done

expect_eq "test CallSids are CA + 32 hex" "$(printf '%s\n' $A $B $C $E $M $G $H | grep -cE '^CA[0-9a-f]{32}$')" 7

# --- list -----------------------------------------------------------------------------------
out=$("$LOGV" -d "$D" list 2>"$T/err"); rc=$?
expect_eq "list exits 0" "$rc" 0
expect_match "list has a header" "$(head -1 <<<"$out")" '^STARTED \(UTC\) +CALLSID +FROM +TO +DURATION +STREAM +OUTCOME'
expect_eq "list has a row per call log, nothing else" "$(tail -n +2 <<<"$out" | wc -l)" 6
expect_eq "list is sorted by first event" "$(tail -n +2 <<<"$out" | awk '{print $3}' | tr '\n' ' ')" "$G $B $A $C $E $M "
expect_eq "list columns line up" "$(awk '{ print index($0, $3) }' <<<"$out" | sort -u | wc -l)" 1
rowA=$(grep "$A" <<<"$out")
expect_match "list: From with a space" "$rowA" ' client:Ann Smith +\+15557654321 '
expect_match "list: duration from call_duration" "$rowA" ' 1m19s '
expect_match "list: stream events" "$rowA" ' started,stopped '
expect_match "list: completed, with the helper's error count" "$rowA" ' completed +ws errors bad_json=2$'
expect_match "list: busy" "$(grep "$B" <<<"$out")" ' 0ms +- +busy$'
expect_match "list: stream error 31920" "$(grep "$C" <<<"$out")" ' error:31920 +stream-error$'
expect_match "list: 403 shows as rejected" "$(grep "$E" <<<"$out")" ' rejected:403$'
expect_match "list: malformed lines noted" "$(grep "$M" <<<"$out")" ' unknown +2 malformed lines$'
expect_match "list: big log read by head and tail" "$(grep "$G" <<<"$out")" '\+15558889999 .* 1h00m .* completed +read first and last MiB of 2\.[0-9] MiB$'
expect_nomatch "list ignores other files" "$out" 'CAshort|notes|CAddd|CAeee'
expect_eq "list prints no warnings" "$(cat "$T/err")" ""

out=$("$LOGV" -d "$D" list --since 2025-11-24T11:00)
expect_eq "list --since keeps later calls" "$(tail -n +2 <<<"$out" | awk '{print $3}' | tr '\n' ' ')" "$C $E $M "
"$LOGV" -d "$D" list --since yesterday >/dev/null 2>"$T/err"; rc=$?
expect_eq "list --since with a bad time exits 2" "$rc" 2
expect_match "… and says why" "$(cat "$T/err")" 'since "yesterday"'
"$LOGV" -d "$D" list --since 1h 2>"$T/err" >/dev/null; rc=$?
expect_eq "list --since 1h (no call that recent) exits 0" "$rc" 0
expect_match "… saying there is none" "$(cat "$T/err")" 'no calls in .* since 1h'

json=$("$LOGV" -d "$D" list --json); rc=$?
expect_eq "list --json exits 0" "$rc" 0
expect_eq "list --json: one object per call" "$(grep -c '^,\?{"call_sid":"CA' <<<"$json")" 6
expect_eq "list --json: an array" "$(head -1 <<<"$json")$(tail -1 <<<"$json")" '[]'
expect_match "list --json: fields" "$(grep "$C" <<<"$json")" '"stream_events":\["error:31920"\],"outcome":"stream-error"'
if command -v jq >/dev/null; then
	expect_eq "list --json parses (jq)" "$(jq -r '.[2].from + "|" + (.[2].duration_ms|tostring)' <<<"$json")" "client:Ann Smith|79000"
else
	ok "jq is not installed: list --json not parsed # SKIP"
fi

# --- show -----------------------------------------------------------------------------------
out=$("$LOGV" -d "$D" show $A); rc=$?
expect_eq "show exits 0" "$rc" 0
expect_match "show: header names the call and its start" "$(head -1 <<<"$out")" "^$A  .*/$A\\.log  first event 2025-11-24T10:15:02\\.123Z$"
expect_eq "show: every line, plus header and summary" "$(wc -l <<<"$out")" 12
expect_eq "show: first event at +0.000s" "$(sed -n 2p <<<"$out")" '   +0.000s  fcgi  incoming_call  from="client:Ann Smith" to=+15557654321 call_status=ringing direction=inbound sig=ok template=incoming_call.xml'
expect_eq "show: offsets and aligned columns" "$(sed -n 3p <<<"$out")" '   +0.789s  ws    ws_connected   path=/ws/twilio-media subprotocol=audio.twilio.com peer=127.0.0.1 x_forwarded_for=203.0.113.9'
expect_match "show: escaped values kept as written" "$(sed -n 4p <<<"$out")" 'param_note="say \\"hi\\" \\\\ bye" param_empty=""$'
expect_eq "show: an event without pairs" "$(sed -n 8p <<<"$out")" '  +77.877s  ws    ws_stop'
expect_eq "show: summary" "$(tail -1 <<<"$out")" '-- 10 lines; outcome completed; duration 1m19s; stream started,stopped'

out=$("$LOGV" -d "$D" show $M)
expect_match "show: malformed line shown raw with a marker" "$out" '^ +\?  \[malformed: column 1: bad timestamp\]  not a log line at all$'
expect_match "show: raw control characters escaped" "$out" '\[malformed: .*\]  .*name="\\x1b\[2Jgotcha$'
expect_nomatch "show: no escape character reaches the terminal" "$out" $'\033'
expect_match "show: summary counts them" "$(tail -1 <<<"$out")" '^-- 4 lines \(2 malformed\)'

"$LOGV" -d "$D" show "CA$(tr 'a-f' 'A-F' <<<"${A#CA}")" >/dev/null; rc=$?
expect_eq "show: upper-case hex finds the call" "$rc" 0
"$LOGV" -d "$D" show ../../etc/passwd >"$T/out" 2>"$T/err"; rc=$?
expect_eq "show: a path is not a CallSid (exit 2)" "$rc" 2
expect_match "… and the message names it" "$(cat "$T/err")" '"\.\./\.\./etc/passwd" is not a CallSid'
expect_eq "… with nothing on stdout" "$(cat "$T/out")" ""
"$LOGV" -d "$D" show CAeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee >"$T/out" 2>"$T/err"; rc=$?
expect_eq "show: a symlink is not followed (exit 3)" "$rc" 3
expect_nomatch "… nor read" "$(cat "$T/out")" 'root:'
"$LOGV" -d "$D" show CA00000000000000000000000000000000 >/dev/null 2>"$T/err"; rc=$?
expect_eq "show: a missing call exits 1" "$rc" 1
expect_match "… with a clear message" "$(cat "$T/err")" "no log for CA00000000000000000000000000000000 in $D"
"$LOGV" -d "$T/nowhere" show $A >/dev/null 2>"$T/err"; rc=$?
expect_eq "show: a missing directory exits 3" "$rc" 3

# --- show: an agent call as a conversation (own directory: the list counts above stay) --------
AD=$T/agent
mkdir -m 0750 "$AD"
AG=CA8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a
aline() { printf '%s\n' "$*" >> "$AD/$AG.log"; }
aline '2025-11-29T09:01:59.238Z fcgi incoming_call from=+15551234567 to=+15557654321 call_status=ringing direction=inbound sig=ok template=incoming_call_agent.xml'
aline "2025-11-29T09:01:59.260Z ws ws_start stream_sid=$MZ tracks=inbound mode=agent"
aline '2025-11-29T09:01:59.261Z ws agent turn_url=http://127.0.0.1:8080/webhook/turn tts=espeak voice=en-us'
aline '2025-11-29T09:01:59.261Z ws turn index=0 event=start url=http://127.0.0.1:8080/webhook/turn status=200 first_byte_ms=0 complete_ms=1 verbs=3 bytes=477 ok=yes'
aline '2025-11-29T09:02:02.125Z ws say text="Hello \x1B[2J\x9B31m there." engine=espeak voice=en-us frames=189 first_frame_ms=3 since_answer_ms=3 cached=no'
aline '2025-11-29T09:02:02.500Z ws dtmf digit=4'
aline '2025-11-29T09:02:02.501Z ws barge_in by=dtmf played_ms=1240 dropped_frames=120'
aline '2025-11-29T09:02:02.502Z ws mark name=say-1 result=flushed'
aline '2025-11-29T09:02:02.600Z ws turn index=1 event=dtmf url=http://127.0.0.1:8080/webhook/turn status=500 first_byte_ms=2 complete_ms=2 verbs=0 bytes=0 ok=no'
aline '2025-11-29T09:02:02.601Z ws turn_error index=1 event=dtmf url=http://127.0.0.1:8080/webhook/turn reason="HTTP 500"'
aline '2025-11-29T09:02:02.602Z ws hangup reason=turn_failed'
aline '2025-11-29T09:02:02.700Z ws ws_done rx=1 tx=1 close_code=1000 close_reason="agent hung up" closed_by=server'
out=$("$LOGV" -d "$AD" show $AG); rc=$?
expect_eq "show agent: exits 0" "$rc" 0
expect_eq "show agent: a line per step, plus header and summary" "$(wc -l <<<"$out")" 13
expect_eq "show agent: the agent speaks, escaped, at its first audio" "$(sed -n 5p <<<"$out")" '   +0.03  agent: "Hello \x1b[2J\x9b31m there."  (3.8 s, first audio 3 ms after the answer)'
expect_nomatch "show agent: no escape character reaches the terminal" "$out" $'\033'
expect_match "show agent: keys, barge-in, flushed mark" "$out" $'caller pressed: 4\n.*CALLER INTERRUPTED \\(dtmf\\): agent stopped after 1240 ms, 2.4 s left unsaid\n.*agent cut off: say-1 flushed'
expect_match "show agent: turn failure and why" "$out" $'turn 1 \\(dtmf\\): FAILED, status 500 after 2 ms\n +\\+3\\.36  TURN 1 ERROR \\(dtmf\\): HTTP 500'
expect_match "show agent: the agent hung up" "$out" 'AGENT HUNG UP \(the turn failed\)'
expect_match "show agent: summary points to --raw" "$(tail -1 <<<"$out")" '; --raw for every line$'
expect_eq "show --raw: the timeline" "$("$LOGV" -d "$AD" show --raw $AG | sed -n 3p)" "   +0.022s  ws    ws_start       stream_sid=$MZ tracks=inbound mode=agent"
expect_match "list: agent notes" "$("$LOGV" -d "$AD" list | tail -1)" ' agent: 2 turns, 1 turn error, hung up turn_failed$'
"$LOGV" -d "$AD" list --raw >/dev/null 2>&1; rc=$?
expect_eq "--raw goes with show only (exit 2)" "$rc" 2

# --- directory from the configuration --------------------------------------------------------
printf '[log]\ndir = %s\n' "$D" > "$T/callpipe.conf"
expect_match "-c FILE: [log] dir" "$("$LOGV" -c "$T/callpipe.conf" list)" "$A"
expect_match "CALLPIPE_CONF: [log] dir" "$(CALLPIPE_CONF=$T/callpipe.conf "$LOGV" list)" "$A"
printf '[log]\ndri = %s\n' "$D" > "$T/bad.conf"
"$LOGV" -c "$T/bad.conf" list >/dev/null 2>"$T/err"; rc=$?
expect_eq "a bad config exits 3" "$rc" 3
expect_match "… naming the file and line" "$(cat "$T/err")" "bad\\.conf:2"
"$LOGV" -d "$D" frobnicate >/dev/null 2>&1; rc=$?
expect_eq "an unknown command exits 2" "$rc" 2
expect_match "--help names callpipe-log(1), which documents the exit statuses" \
	"$("$LOGV" --help)" 'callpipe-log\(1\)'

# --- tail ------------------------------------------------------------------------------------
out=$("$LOGV" -d "$D" tail --once -n 5); rc=$?
expect_eq "tail --once exits 0" "$rc" 0
expect_eq "tail --once -n 5: the five newest lines" "$(wc -l <<<"$out")" 5
expect_eq "tail: oldest first" "$(awk '{print $2}' <<<"$out" | grep -v '^\[' | sort -c && echo sorted)" sorted
expect_eq "tail: the newest line last" "$(tail -1 <<<"$out")" "$M  2025-11-24T13:00:02.000Z  ws    ws_stop"
out=$("$LOGV" -d "$D" tail --once -n 100 $B)
expect_eq "tail CALLSID: only that call" "$(awk '{print $1}' <<<"$out" | sort -u)" "$B"

now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
# gone PID: the process has exited (a zombie waiting for `wait` counts).
gone() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null); [ -z "$s" ] || [[ $s == Z* ]]; }

"$LOGV" -d "$D" tail -n 1 > "$T/tail.out" 2>"$T/tail.err" &
TAIL_PID=$!
# Ready once the newest existing line is out: the watch is set before it is printed.
if wait_until 5 grep -q "ws_stop" "$T/tail.out"; then ok "tail starts with the newest line"; else notok "tail starts with the newest line"; diag < "$T/tail.err"; fi

t1=$(now); line $A "$t1 ws ws_dtmf digit=7"
if wait_until 5 grep -qF "$A  $t1  ws    ws_dtmf        digit=7" "$T/tail.out"; then
	ok "tail: a line appended to a call"
else
	notok "tail: a line appended to a call"; diag < "$T/tail.out"
fi
t2=$(now)
line $H "$t2 fcgi incoming_call from=+15551112222 to=+15557654321 call_status=ringing direction=inbound sig=ok template=incoming_call.xml"
line $H "$t2 ws ws_connected path=/ws/twilio-media/ subprotocol=none peer=127.0.0.1"
if wait_until 5 grep -qF "$H  $t2  ws    ws_connected   path=/ws/twilio-media/" "$T/tail.out"; then
	ok "tail: a new call's file"
else
	notok "tail: a new call's file"; diag < "$T/tail.out"
fi
expect_eq "tail: both lines of the new call, in order" "$(grep "^$H" "$T/tail.out" | awk '{print $4}' | tr '\n' ' ')" "incoming_call ws_connected "
t3=$(now); printf '%s ws ws_mark name="half' "$t3" >> "$D/$H.log"
line $A "$t3 ws ws_stop"     # another call's file gets a whole line meanwhile
wait_until 5 grep -qF "$A  $t3  ws    ws_stop" "$T/tail.out" || notok "tail: the other call's line"
printf ' line"\n' >> "$D/$H.log"
if wait_until 5 grep -qF "ws_mark        name=\"half line\"" "$T/tail.out"; then
	ok "tail: a line written in two parts is printed once, whole"
else
	notok "tail: a line written in two parts is printed once, whole"; diag < "$T/tail.out"
fi
expect_nomatch "tail: no partial line was printed" "$(cat "$T/tail.out")" 'name="half$'
expect_eq "tail: nothing old repeated" "$(grep -c "digit=5" "$T/tail.out")" 0

kill -TERM "$TAIL_PID"
if wait_until 5 gone "$TAIL_PID"; then ok "tail stops on SIGTERM"; else notok "tail stops on SIGTERM"; fi
wait "$TAIL_PID"; rc=$?; TAIL_PID=
expect_eq "tail exits 0 after SIGTERM" "$rc" 0

# SIGINT too (bash starts background jobs with SIGINT ignored: the tool must set its own).
"$LOGV" -d "$D" tail -n 1 $B > "$T/tail2.out" 2>&1 &
TAIL_PID=$!
wait_until 5 grep -q busy "$T/tail2.out" || notok "tail CALLSID starts"
kill -INT "$TAIL_PID"
if wait_until 5 gone "$TAIL_PID"; then ok "tail stops on SIGINT"; else notok "tail stops on SIGINT"; fi
wait "$TAIL_PID"; rc=$?; TAIL_PID=
expect_eq "tail exits 0 after SIGINT" "$rc" 0

# --poll: the same without inotify (network file systems).
"$LOGV" -d "$D" tail --poll -n 1 > "$T/tail3.out" 2>&1 &
TAIL_PID=$!
wait_until 5 test -s "$T/tail3.out" || notok "tail --poll starts"
t4=$(now); line $B "$t4 fcgi call_status call_status=busy sig=ok"
if wait_until 5 grep -qF "$B  $t4  fcgi  call_status" "$T/tail3.out"; then ok "tail --poll: an appended line"; else notok "tail --poll: an appended line"; diag < "$T/tail3.out"; fi
J=CA8d8d8d8d8d8d8d8d8d8d8d8d8d8d8d8d
line $J "$t4 fcgi incoming_call from=+15553334444 to=+15557654321 sig=ok"
if wait_until 5 grep -qF "$J  $t4  fcgi  incoming_call" "$T/tail3.out"; then ok "tail --poll: a new call"; else notok "tail --poll: a new call"; diag < "$T/tail3.out"; fi
kill -TERM "$TAIL_PID"
wait_until 5 gone "$TAIL_PID" || notok "tail --poll stops on SIGTERM"
wait "$TAIL_PID"; rc=$?; TAIL_PID=
expect_eq "tail --poll exits 0" "$rc" 0
expect_eq "tail --poll: each line once" "$(grep -c "$t4" "$T/tail3.out")" 2

finish
