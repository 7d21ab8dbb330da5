#!/usr/bin/env bash
# run_live: `scripts/stack run` (what `make run` execs) shows callpipe-ws's diagnosis lines in
# its own output as they happen: a call's WS_CONNECTED / WS_START / WS_DONE, and a rejection.
set -u
source "$(dirname "$0")/../lib.sh"

HTTP_PORT=$(free_port); PORTS_TAKEN="$PORTS_TAKEN$HTTP_PORT "
WS_PORT=$(free_port); PORTS_TAKEN="$PORTS_TAKEN$WS_PORT "
FCGI_PORT=$(free_port)
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/callpipe-test.XXXXXX"); chmod 0755 "$RUN_DIR"
LOG_DIR=$RUN_DIR/calls
export HTTP_PORT WS_PORT FCGI_PORT RUN_DIR LOG_DIR BUILD
out=$RUN_DIR/terminal.out
# A previous run's lines are in the helper's log file already: the live view must not
# replay them.
mkdir -p "$RUN_DIR/logs" && echo "WS_START sid=CA-a-previous-run" > "$RUN_DIR/logs/callpipe-ws.log"

# The terminal of `make run`: everything the stack prints to stdout and stderr. Job control
# gives it its own process group, as a terminal's foreground job has (and leaves SIGINT
# unignored): Ctrl-C is a SIGINT to that group.
set -m
"$ROOT/scripts/stack" run > "$out" 2>&1 &
stack_pid=$!
set +m
if wait_until 30 grep -q 'diagnosis lines follow' "$out"; then ok "make run's stack is up"
else notok "make run's stack is up"; diag < "$out"; kill -INT -- -$stack_pid; wait; finish; exit; fi

sim_out=$("$BUILD/callpipe-sim" call "http://127.0.0.1:$HTTP_PORT" --expect-echo --seconds 1 2>&1)
expect_match "a call passes through it" "$sim_out" 'PASS'

# The helper writes WS_DONE after the call's teardown: wait for it to reach the terminal.
wait_until 10 grep -q 'WS_DONE sid=' "$out"
term=$(cat "$out")
expect_match "the terminal shows the call's WS_CONNECTED" "$term" 'WS_CONNECTED path=/ws/twilio-media'
expect_match "the live view starts at this run's banner" "$term" 'callpipe-ws [0-9.]+ .*listening on'
expect_nomatch "the live view does not replay an earlier run's lines" "$term" 'CA-a-previous-run'
sid=$(grep -oE 'WS_START sid=CA[0-9a-f]{32}' "$out" | head -1 | cut -d= -f2)
if [ -n "$sid" ]; then ok "the terminal shows WS_START sid=$sid"; else notok "the terminal shows WS_START sid=CA…"; diag < "$out"; fi
expect_match "the terminal shows WS_DONE for that stream with frame counts" "$term" \
	"WS_DONE sid=${sid:-none} rx=[1-9][0-9]* tx=[1-9][0-9]*"

# A rejection: a WebSocket upgrade without Sec-WebSocket-Key straight to the helper (400).
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Connection: Upgrade' \
	-H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' "http://127.0.0.1:$WS_PORT/ws/twilio-media")
expect_eq "an upgrade without a key is refused" "$code" 400
wait_until 10 grep -q 'WS_REJECT status=400' "$out"
expect_match "the terminal shows the rejection" "$(cat "$out")" 'WS_REJECT status=400'

# Ctrl-C ends it all, the live view included.
kill -INT -- -$stack_pid
if wait_until 20 bash -c "! kill -0 $stack_pid"; then ok "Ctrl-C stops the stack"; else notok "Ctrl-C stops the stack"; fi
left=$(pgrep -f "tail -c .* -F $RUN_DIR/" || true)
expect_eq "no live-view process is left behind" "$left" ""
finish
