#!/usr/bin/env bash
# balancer: two callpipe-ws processes behind Apache's mod_proxy_balancer (docs/SCALING.md):
# signed calls spread over both, every call's log is whole in the shared directory, and when
# one helper stops the next calls go to the other.
set -u
source "$(dirname "$0")/../lib.sh"
TOKEN=balancer-token PUB=https://voice.example.test

WS2_PORT=$(free_port); PORTS_TAKEN="$PORTS_TAKEN$WS2_PORT "
stack_start fcgid PUBLIC_URL=$PUB AUTH_TOKEN=$TOKEN WS_EXTRA_PORTS=$WS2_PORT || { finish; exit; }
expect_match "Apache's configuration names a balancer of both helpers" \
	"$(grep -A3 'balancer://callpipe-ws' "$RUN_DIR/httpd.conf")" "127.0.0.1:$WS2_PORT"

calls_of() { # PORT: streams that helper accepted (its /metrics)
	curl -s --max-time 5 "http://127.0.0.1:$1/metrics" | awk '$1 == "callpipe_ws_calls_total" {print $2}'
}
call() { # the call as Twilio makes it: signed webhook, TwiML, signed upgrade, echo
	"$BUILD/callpipe-sim" call "http://127.0.0.1:$HTTP_PORT" --public-url "$PUB" \
		--auth-token "$TOKEN" --expect-echo --seconds 2 > "$RUN_DIR/call.$1.out" 2>&1
}

# Six calls at once: bybusyness gives each new tunnel to the helper with fewer open ones.
pids=()
for i in 1 2 3 4 5 6; do call "$i" & pids+=($!); done
passed=0
for i in 1 2 3 4 5 6; do wait "${pids[$((i - 1))]}" && passed=$((passed + 1)); done
expect_eq "six concurrent signed calls through the balancer echo exactly" "$passed" 6
[ "$passed" -eq 6 ] || for i in 1 2 3 4 5 6; do tail -5 "$RUN_DIR/call.$i.out" | diag; done
a=$(calls_of "$WS_PORT"); b=$(calls_of "$WS2_PORT")
expect_eq "the two helpers carried all six streams" "$(( ${a:-0} + ${b:-0} ))" 6
if [ "${a:-0}" -ge 1 ] && [ "${b:-0}" -ge 1 ]; then ok "both helpers carried calls ($a and $b)"
else notok "both helpers carried calls ($a and $b)"; fi

# One log per call in the shared directory, webhook and stream lines together.
whole=0
for f in "$LOG_DIR"/CA*.log; do
	grep -q ' fcgi incoming_call ' "$f" && grep -q ' ws ws_start ' "$f" && grep -q ' ws ws_done .*close_code=1000' "$f" \
		&& whole=$((whole + 1))
done
expect_eq "each call's log has its webhook, ws_start and a clean ws_done" "$whole" 6

# The first helper stops (SIGTERM, as systemctl stop does): the next calls go to the other.
pid1=$(awk '$2 == "callpipe-ws" {print $1}' "$RUN_DIR/pids")
kill -TERM "$pid1"
if wait_until 20 bash -c "! kill -0 $pid1"; then ok "the first helper stopped"; else notok "the first helper stopped"; fi
before=$(calls_of "$WS2_PORT")
passed=0
for i in 7 8 9; do call "$i" && passed=$((passed + 1)); done
expect_eq "with one helper down, three more calls echo exactly" "$passed" 3
[ "$passed" -eq 3 ] || for i in 7 8 9; do tail -5 "$RUN_DIR/call.$i.out" | diag; done
expect_eq "the remaining helper carried them" "$(( $(calls_of "$WS2_PORT") - ${before:-0} ))" 3
finish
