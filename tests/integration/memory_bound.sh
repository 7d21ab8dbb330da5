# memory_bound: callpipe-ws behind Apache (mod_fcgid stack) keeps what all its calls hold
# under [ws] max_memory: a client that sends media fast and never reads (echo mode fills its
# queue) is closed when the bound is reached, new streams get 503 while nearly full, and a
# good call beside it goes on echoing exactly. The staller goes through Apache like the
# rest; it keeps the kernel's default receive buffer (see wsraw.py: a tiny SO_RCVBUF made
# TCP stall both directions, and Apache's tunnel with it).
source "$(dirname "$0")/../lib.sh"

TOKEN=tok-$RANDOM$RANDOM
SIM=$BUILD/callpipe-sim
RAW="python3 $ROOT/tests/integration/wsraw.py"
jget() { jq -r "$2" <<<"$1" 2>/dev/null; }
MAXMEM=2097152                        # 2 MiB for every call together
HIGH=$((MAXMEM - MAXMEM / 8))         # past this, new streams are refused

# max_queue_bytes (8 MiB) is above max_memory: only the process bound can stop the staller.
# MEM_WS_CONF lets the script run against a build without max_memory (it then fails).
stack_start fcgid AUTH_TOKEN=$TOKEN WS_CONF="max_queue_bytes = 8388608
idle_seconds = 30
${MEM_WS_CONF-max_memory = $MAXMEM}" || { finish; exit 1; }
BASE=http://127.0.0.1:$HTTP_PORT
SIG=$("$SIM" sign "ws://127.0.0.1:$HTTP_PORT/ws/twilio-media" --auth-token "$TOKEN")
# the stream token binding a raw client's start to CALLSID (its AccountSid is AC1)
tok() { "$SIM" stream-token --auth-token "$TOKEN" --call-sid "$1" --account-sid AC1; }
WSLOG=$RUN_DIR/logs/callpipe-ws.log
metric() { curl -s --max-time 5 "http://127.0.0.1:$WS_PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
wspid=$(awk '$2 == "callpipe-ws" {print $1}' "$RUN_DIR/pids")
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$wspid/status"; }

# a good call for the whole test, in real time
GSID=CA$(hex32)
timeout 60 "$SIM" call "$BASE" --auth-token "$TOKEN" --call-sid "$GSID" --seconds 12 --expect-echo \
	--json > "$RUN_DIR/good.json" 2>&1 &
goodpid=$!
one_active() { [ "$(metric callpipe_ws_active_calls)" = 1 ]; }
wait_until 10 one_active || notok "the good call became active"
rss0=$(rss_kb)

# the staller: fast media, never reads, paused once the helper holds more than HIGH
SSID=CA$(hex32)
trap "" PIPE   # the staller may be gone when it is told to go on
mkfifo "$RUN_DIR/go"
$RAW stall --port "$HTTP_PORT" --metrics-port "$WS_PORT" --sig "$SIG" --call-sid "$SSID" --stream-token "$(tok "$SSID")" \
	--until $((HIGH + 16384)) < "$RUN_DIR/go" > "$RUN_DIR/stall.out" 2>&1 &
stallpid=$!
exec 7> "$RUN_DIR/go"
held() { grep -q '"phase": "held"' "$RUN_DIR/stall.out"; }
wait_until 70 held
h=$(grep '"phase": "held"' "$RUN_DIR/stall.out")
rss_held=$(rss_kb)
expect_eq "the stalled reader's backlog reached 7/8 of max_memory" "$(jget "$h" .reached)" true
m=$(metric callpipe_ws_memory_bytes)
expect_eq "/metrics: the bytes accounted stay within max_memory ($MAXMEM)" \
	"$([ "${m:-0}" -ge $HIGH ] && [ "${m:-0}" -le $MAXMEM ] && echo yes)" yes
expect_eq "/metrics: max_memory shown" "$(metric callpipe_ws_memory_max_bytes)" $MAXMEM
out=$(timeout 30 "$SIM" call "$BASE" --auth-token "$TOKEN" --seconds 0.5 --fast --json)
expect_eq "a new stream while nearly full: 503" "$(jget "$out" .handshake.status)" 503
expect_eq "... counted as a memory rejection" \
	"$(metric 'callpipe_ws_handshake_rejections_total{reason="memory"}')" 1
expect_match "... and logged" "$(cat "$WSLOG")" 'WS_REJECT status=503 reason=memory .*max_memory reached'

# now past the bound: the staller (largest backlog) is closed, not the good call
echo go >&7
done_() { grep -q '"phase": "done"' "$RUN_DIR/stall.out"; }
wait_until 70 done_
d=$(grep '"phase": "done"' "$RUN_DIR/stall.out")
expect_eq "pushing past max_memory closes the stalled reader" "$(jget "$d" .closed)" true
expect_eq "its peak stayed within max_memory" "$([ "$(jget "$d" .peak)" -le $MAXMEM ] && echo yes)" yes
rss1=$(rss_kb)
expect_match "helper's stderr: WS_CLOSE 1011 with the reason, for the staller" "$(cat "$WSLOG")" \
	"WS_CLOSE sid=$SSID code=1011 reason=\"\\[ws\\] max_memory reached\""
wait_until 10 grep -q ' ws ws_done' "$LOG_DIR/$SSID.log"
slog=$(cat "$LOG_DIR/$SSID.log" 2>/dev/null)
expect_match "its call log: ws_error kind=memory" "$slog" ' ws ws_error kind=memory detail=.*largest backlog'
expect_match "its call log: ws_done 1011 closed_by=server" "$slog" \
	' ws ws_done .*close_code=1011 close_reason="\[ws\] max_memory reached" closed_by=server'
echo done >&7
exec 7>&-
wait $stallpid

wait $goodpid
g=$(cat "$RUN_DIR/good.json")
expect_eq "the good call beside it: PASS, every frame echoed exactly" \
	"$(jget "$g" '[.outcome, .frames_sent == .frames_received, .bytes_matched == .bytes_sent] | @text')" \
	'["pass",true,true]'
expect_match "the good call was not the one closed" "$(cat "$LOG_DIR/$GSID.log" 2>/dev/null)" \
	' ws ws_done .*close_reason="stream stopped" closed_by=server'
expect_eq "memory given back once the staller is gone" "$(metric callpipe_ws_memory_bytes)" 0
# RSS: what the bound allows plus the helper's own buffers, never the 8 MiB queue cap
top=$rss_held; [ "${rss1:-0}" -gt "${top:-0}" ] && top=$rss1
grow=$(( (top - rss0) / 1024 ))
echo "# helper RSS ${rss0} kB before, ${rss_held} kB held, ${rss1} kB after the close; max_memory 2 MiB"
if grep -q __asan_init "$BUILD/callpipe-ws" 2>/dev/null; then
	# ASan keeps freed memory in its quarantine (256 MiB): RSS says nothing there
	ok "helper RSS grew less than 6 MiB # SKIP sanitizer build (+${grow} MiB)"
else
	expect_eq "helper RSS grew less than 6 MiB (+${grow} MiB)" "$([ $grow -lt 6 ] && echo yes)" yes
fi
out=$(timeout 30 "$SIM" call "$BASE" --auth-token "$TOKEN" --seconds 0.5 --fast --expect-echo --json)
expect_eq "new streams are accepted again" "$(jget "$out" .outcome)" pass
expect_eq "the helper is still up" "$(curl -s "http://127.0.0.1:$WS_PORT/healthz")" ok

finish
