#!/usr/bin/env bash
# log_multi: callpipe-log reading several hosts' log directories merged by time: fixed lines
# split over three directories, then a real call whose webhooks and stream were served by
# different helpers, each with its own [log] dir (as behind mod_proxy_balancer).
source "$(dirname "$0")/../lib.sh"

LOGV=$BUILD/callpipe-log
SIM=$BUILD/callpipe-sim
if [ ! -x "$LOGV" ] || [ ! -x "$SIM" ]; then
	notok "callpipe-log and callpipe-sim are built ($BUILD)"
	finish
	exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/callpipe-logmulti.XXXXXX")
chmod 0755 "$T"
cleanup() {
	if [ "${KEEP:-0}" = 1 ] || [ $FAILS -ne 0 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

# ref DIR FILE…: DIR/<name> holds FILEs' lines as one host's file would: stable-sorted by
# time (the first field; RFC 3339 with milliseconds sorts as text), ties in the order the
# files are given, an undated line keyed by the line before it in its file (a file's
# leading ones first of all). The merge's contract, written independently with sort(1).
ref() {
	local dir=$1; shift
	mkdir -p "$dir"
	awk 'FNR == 1 { k = "" }
	     $1 ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9](\.[0-9]+)?Z$/ { k = $1 }
	     { print k "\t" $0 }' "$@" | LC_ALL=C sort -s -t "$(printf '\t')" -k1,1 | cut -f2- \
		> "$dir/$(basename "$1")"
}
# body OUTPUT: show's output without its header line (the header names the files read).
body() { tail -n +2 <<<"$1"; }

# --- fixed lines over three hosts -----------------------------------------------------------
# The balancer sent the call's first webhooks to host C, its stream to host B and its last
# webhooks to host A: read in -d order one after the other, the files would end on C's
# in-progress and tell the stream events backwards. Equal milliseconds across hosts are
# kept in -d order.
A=$T/a B=$T/b C=$T/c
mkdir -m 0755 "$A" "$B" "$C"
S=CA5f3c0e1b2a4d69788f7a6b5c4d3e2f10   # in all three
O=CA0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e   # only on host B
G=CA6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b   # 2.7 MiB on host A, its end on host C
MZ=MZ4e8f0a1b2c3d4e5f60718293a4b5c6d7
put() { local d=$1 f=$2; shift 2; printf '%s\n' "$*" >> "$d/$f.log"; }

put "$C" $S '2025-11-24T10:15:02.123Z fcgi incoming_call from="client:Ann Smith" to=+15557654321 call_status=ringing direction=inbound sig=ok template=incoming_call.xml'
put "$B" $S '2025-11-24T10:15:02.912Z ws ws_connected path=/ws/twilio-media subprotocol=audio.twilio.com peer=127.0.0.1'
put "$B" $S "2025-11-24T10:15:02.915Z ws ws_start stream_sid=$MZ tracks=inbound mode=echo param_From=\"client:Ann Smith\""
put "$C" $S "2025-11-24T10:15:02.915Z fcgi stream_status stream_event=stream-started stream_sid=$MZ sig=ok"
put "$B" $S '2025-11-24T10:15:09.500Z ws ws_dtmf digit=5'
put "$B" $S 'a line a disk error left behind'
put "$C" $S '2025-11-24T10:15:09.500Z fcgi call_status call_status=in-progress sig=ok'
put "$B" $S '2025-11-24T10:16:20.003Z ws ws_done rx=3875 tx=3875 errors_bad_json=2 close_code=1000 close_reason="stream stopped" closed_by=server'
put "$A" $S "2025-11-24T10:15:09.500Z fcgi stream_status stream_event=stream-stopped stream_sid=$MZ sig=ok"
put "$A" $S '2025-11-24T10:16:21.000Z fcgi call_status call_status=completed call_duration=79 sig=ok'
put "$B" $O '2025-11-24T11:00:00.000Z ws ws_connected path=/ws/twilio-media subprotocol=audio.twilio.com peer=127.0.0.1'
put "$B" $O "2025-11-24T11:00:00.004Z ws ws_start stream_sid=$MZ tracks=inbound mode=echo param_From=+15550001111 param_To=+15557654321"
{
	echo '2025-11-23T08:00:00.000Z fcgi incoming_call from=+15558889999 to=+15557654321 sig=ok'
	awk 'BEGIN { for (i = 0; i < 36000; i++)
		printf "2025-11-23T08:%02d:%02d.%03dZ ws ws_mark name=echo-%06d pad=xxxxxxxxxxxxxxxx\n",
			int(i / 600) % 60, int(i / 10) % 60, (i % 10) * 100, i }'
} > "$A/$G.log"
put "$C" $G '2025-11-23T09:00:00.000Z fcgi call_status call_status=completed call_duration=3600 sig=ok'
chmod 0644 "$A"/*.log "$B"/*.log "$C"/*.log

U=$T/unsplit
ref "$U" "$A/$S.log" "$B/$S.log" "$C/$S.log"   # ties in -d order, as the viewer is run
ref "$U" "$B/$O.log"
ref "$U" "$A/$G.log" "$C/$G.log"

out=$("$LOGV" -d "$A" -d "$B" -d "$C" show $S 2>"$T/err"); rc=$?
want=$("$LOGV" -d "$U" show $S)
expect_eq "show, three dirs: exits 0" "$rc" 0
expect_eq "show, three dirs: the unsplit file's timeline, line for line" "$(body "$out")" "$(body "$want")"
expect_eq "show: header names the file in each directory" "$(head -1 <<<"$out")" \
	"$S  $A/$S.log, $B/$S.log, $C/$S.log  first event 2025-11-24T10:15:02.123Z"
# The contract spelt out, so the reference above cannot drift with it: equal times in -d
# order, the undated line right after its file's line before it.
expect_eq "show: equal times keep -d order, an undated line stays after its predecessor" \
	"$(awk '$1 == "+7.377s" || $1 == "?" {print $2, $3, $4}' <<<"$out" | tr '\n' '|')" \
	"fcgi stream_status stream_event=stream-stopped|ws ws_dtmf digit=5|[malformed: column 1:|fcgi call_status call_status=in-progress|"
expect_eq "show: summary over all three files" "$(tail -1 <<<"$out")" \
	'-- 10 lines (1 malformed); outcome completed; duration 1m19s; stream started,stopped'
out=$("$LOGV" -d "$C" -d "$B" -d "$A" show $S)
ties='^ *\+(0\.792|7\.377)s'   # the two times more than one host wrote
expect_eq "show: -d order only breaks ties" "$(body "$out" | grep -Ev "$ties")" "$(body "$want" | grep -Ev "$ties")"
out=$("$LOGV" -d "$A" -d "$B" show $O); rc=$?
expect_eq "show: a call in one of the directories only" "$rc:$(body "$out" | wc -l)" "0:3"

out=$("$LOGV" -d "$A" -d "$B" -d "$C" list); rc=$?
want=$("$LOGV" -d "$U" list)
expect_eq "list, three dirs: exits 0" "$rc" 0
expect_eq "list: one row per call across the directories" "$(tail -n +2 <<<"$out" | awk '{print $3}' | tr '\n' ' ')" "$G $S $O "
expect_eq "list: each row as for the unsplit file" "$out" "$want"
expect_match "list: stream events and the last call_status by time, not by -d order" "$(grep $S <<<"$out")" ' 1m19s +started,stopped +completed +ws errors bad_json=2; 1 malformed line$|1 malformed line; ws errors bad_json=2$'
expect_match "list: the big file read by head and tail, its end from another host" "$(grep $G <<<"$out")" ' 1h00m .* completed +read first and last MiB of 2\.[0-9] MiB$'
# (G's line count is left out: the windows of one big file and of its split parts differ.)
expect_eq "list --json: as for the unsplit file" "$("$LOGV" -d "$A" -d "$B" -d "$C" list --json | grep -v $G)" "$("$LOGV" -d "$U" list --json | grep -v $G)"
expect_eq "list --since: by the merged first event" \
	"$("$LOGV" -d "$A" -d "$B" -d "$C" list --since 2025-11-24T10:15:03 | tail -n +2 | awk '{print $3}')" "$O"

# --- errors ---------------------------------------------------------------------------------
"$LOGV" -d "$A" -d "$B" show CA00000000000000000000000000000000 >/dev/null 2>"$T/err"; rc=$?
expect_eq "show: missing in every directory exits 1" "$rc" 1
expect_eq "… naming them all" "$(cat "$T/err")" "callpipe-log: no log for CA00000000000000000000000000000000 in $A, $B"
"$LOGV" -d "$A" -d "$T/nowhere" list >/dev/null 2>"$T/err"; rc=$?
expect_eq "a missing directory among several exits 3" "$rc" 3
expect_match "… naming it" "$(cat "$T/err")" "nowhere: No such file"
"$LOGV" -d "$A" -d "$B" tail --once >/dev/null 2>"$T/err"; rc=$?
expect_eq "tail with two directories: usage error" "$rc" 2
expect_match "… saying why" "$(cat "$T/err")" 'tail reads one directory'
args=(); for i in $(seq 17); do mkdir -p "$T/many/$i"; args+=(-d "$T/many/$i"); done
cp "$A/$S.log" "$T/many/16/"
"$LOGV" "${args[@]}" list >/dev/null 2>"$T/err"; rc=$?
expect_eq "17 times -d: usage error" "$rc" 2
expect_match "… naming the cap" "$(cat "$T/err")" 'at most 16 directories'
out=$("$LOGV" "${args[@]:2}" show $S); rc=$?
expect_eq "16 times -d is fine" "$rc:$(head -1 <<<"$out" | grep -o "many/16/$S.log")" "0:many/16/$S.log"
"$LOGV" -d "$A" -d "$B" -d "$T/a/" show $S >/dev/null 2>"$T/err"; rc=$?
expect_eq "a directory given twice: usage error (its lines would show twice)" "$rc" 2
expect_match "… naming both" "$(cat "$T/err")" "-d \"$A\" and -d \"$T/a/\" are the same directory"
ln -s /etc/passwd "$B/$G.log"
"$LOGV" -d "$A" -d "$B" show $G >"$T/out" 2>"$T/err"; rc=$?
expect_eq "show: a symlink in one directory is refused (exit 3)" "$rc" 3
expect_nomatch "… and not read" "$(cat "$T/out")" 'root:'
rm -f "$B/$G.log"
# A file another user cannot read (as root: run the viewer as nobody).
asother=()
[ "$(id -u)" -eq 0 ] && asother=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
chmod 0600 "$C/$S.log"
out=$("${asother[@]}" "$LOGV" -d "$A" -d "$B" -d "$C" list 2>"$T/err"); rc=$?
chmod 0644 "$C/$S.log"
expect_eq "list: an unreadable file in one directory still exits 0" "$rc" 0
expect_match "… its row says which directory" "$(grep $S <<<"$out")" " unreadable +$C: Permission denied"
expect_match "… and so does stderr" "$(cat "$T/err")" "1 call log in $C could not be read"

# --- a real call: webhooks on one helper's host, the stream on another's ---------------------
# One Apache + callpipe-fcgi + callpipe-ws stack writes its [log] dir; a second callpipe-ws
# with its own [log] dir (same public_url and token, as behind a balancer) takes the stream:
# the simulator dials it with --connect, keeping the signed Stream url.
TOKEN=tok-$RANDOM$RANDOM
WS2_PORT=$(free_port); PORTS_TAKEN="$PORTS_TAKEN$WS2_PORT "
stack_start fcgid AUTH_TOKEN="$TOKEN" || { finish; exit 1; }
L1=$LOG_DIR L2=$RUN_DIR/calls2
run_user_mkdir "$L2"
sed -e "s#^dir = .*#dir = $L2#" -e "s#^listen = .*#listen = 127.0.0.1:$WS2_PORT#" \
	"$RUN_DIR/callpipe.conf" > "$RUN_DIR/callpipe2.conf"
[ "$(id -u)" -eq 0 ] && chown "$(run_user):$(run_user)" "$RUN_DIR/callpipe2.conf"
pfx=()
[ "$(id -u)" -eq 0 ] && pfx=(setpriv --reuid="$(run_user)" --regid="$(run_user)" --init-groups --)
"${pfx[@]}" "$BUILD/callpipe-ws" -c "$RUN_DIR/callpipe2.conf" >> "$RUN_DIR/logs/callpipe-ws2.log" 2>&1 &
echo "$! callpipe-ws2" >> "$RUN_DIR/pids"    # scripts/stack stop ends it with the rest
if wait_until 10 curl -sf "http://127.0.0.1:$WS2_PORT/healthz"; then ok "second callpipe-ws is up"
else notok "second callpipe-ws is up"; diag < "$RUN_DIR/logs/callpipe-ws2.log"; fi

SID=CA$(hex32)
out=$(timeout 60 "$SIM" call "http://127.0.0.1:$HTTP_PORT" --auth-token "$TOKEN" --call-sid "$SID" \
	--connect "127.0.0.1:$WS2_PORT" --seconds 1 --dtmf 4 --expect-echo 2>&1); rc=$?
expect_eq "the call passes, its stream on the second helper" "$rc" 0
[ "$rc" -eq 0 ] || diag <<<"$out"
# ws_done is written as the helper closes, maybe after the simulator has gone.
wait_until 10 grep -q ' ws ws_done ' "$L2/$SID.log" || notok "the second helper wrote ws_done"
expect_eq "host 1's file: only callpipe-fcgi's lines" "$(awk '{print $2}' "$L1/$SID.log" | sort -u)" fcgi
expect_eq "host 2's file: only callpipe-ws's lines" "$(awk '{print $2}' "$L2/$SID.log" | sort -u)" ws
R=$T/real
cp "$L1/$SID.log" "$T/l1.log"; cp "$L2/$SID.log" "$T/l2.log"
mkdir -p "$R"; LC_ALL=C sort -s -k1,1 "$T/l1.log" "$T/l2.log" > "$R/$SID.log"
out=$("$LOGV" -d "$L1" -d "$L2" show --raw "$SID"); rc=$?
want=$("$LOGV" -d "$R" show --raw "$SID")
expect_eq "real call: show of both directories exits 0" "$rc" 0
expect_eq "real call: show equals show of the unsplit file" "$(body "$out")" "$(body "$want")"
expect_eq "real call: every line of both files" "$(body "$out" | grep -c '^ *[+-][0-9]')" "$(cat "$L1/$SID.log" "$L2/$SID.log" | wc -l)"
expect_eq "real call: offsets never go back" "$(body "$out" | awk '/^ *[+-][0-9]/ { t = $1; sub(/s$/, "", t); t += 0; if (t < last) bad = 1; last = t } END { print bad ? "back" : "ok" }')" ok
expect_eq "real call: incoming_call first" "$(body "$out" | awk 'NR == 1 {print $3}')" incoming_call
expect_eq "real call: list row equals the unsplit file's" "$("$LOGV" -d "$L1" -d "$L2" list --json)" "$("$LOGV" -d "$R" list --json)"
expect_match "real call: list sees a completed call with its stream" "$("$LOGV" -d "$L1" -d "$L2" list | grep "$SID")" ' started,stopped +completed'

finish
