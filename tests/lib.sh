# lib.sh: helpers the integration tests source: TAP-like "ok"/"not ok" lines, expectations,
# readiness waits, and a private stack (scripts/stack) per test on free loopback ports.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
FAILS=0

ok()    { echo "ok - $*"; }
notok() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }
diag()  { sed 's/^/#   /'; }

# expect_eq DESC GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1"; printf 'got:  %s\nwant: %s\n' "$2" "$3" | diag; fi
}
# expect_match DESC TEXT EXTENDED-REGEX
expect_match() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1"; else notok "$1"; { echo "no match for: $3"; printf '%s\n' "$2" | head -20; } | diag; fi
}
# expect_nomatch DESC TEXT EXTENDED-REGEX
expect_nomatch() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then notok "$1"; { echo "unexpected: $3"; printf '%s\n' "$2" | head -20; } | diag; else ok "$1"; fi
}

# hex32: 32 random lower-case hex digits (a CallSid is CA + hex32).
hex32() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

# templates_copy: a private copy of twiml-templates/ that the run user can read; prints its
# path. Add overrides to it, then call templates_seal DIR.
templates_copy() {
	local dir; dir=$(mktemp -d) || return 1
	chmod 0755 "$dir" && cp "$ROOT"/twiml-templates/*.xml "$dir/" && echo "$dir"
}
templates_seal() { chmod 0644 "$1"/*.xml; }

# free_port: a TCP port on 127.0.0.1 nobody listens on now, below Linux's ephemeral range
# (32768-60999), where the outgoing connections of a load test would otherwise sit on it.
# Ports in PORTS_TAKEN (chosen earlier, maybe not listening yet) are skipped.
PORTS_TAKEN=" "
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 12000))
		case "$PORTS_TAKEN" in *" $p "*) continue ;; esac
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return 0; fi
	done
	return 1
}

# wait_until SECONDS CMD…: run CMD every 50 ms until it succeeds; 1 on timeout.
wait_until() {
	local deadline=$((SECONDS + $1)); shift
	while [ $SECONDS -le $deadline ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# stack_start VARIANT [VAR=VALUE…]: start scripts/stack in the background with its own
# ports and run directory (exported: HTTP_PORT WS_PORT FCGI_PORT RUN_DIR LOG_DIR), ready when
# it returns.
stack_start() {
	local variant=$1; shift
	HTTP_PORT=$(free_port); PORTS_TAKEN="$PORTS_TAKEN$HTTP_PORT "; WS_PORT=$(free_port)
	# The proxy variant's callpipe-fcgi --listen port too: scripts/stack's default 9000
	# would be shared by every proxy stack running at once (other suites, other checkouts).
	PORTS_TAKEN="$PORTS_TAKEN$WS_PORT "; FCGI_PORT=$(free_port)
	RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/callpipe-test.XXXXXX")
	chmod 0755 "$RUN_DIR"
	LOG_DIR=$RUN_DIR/calls
	export HTTP_PORT WS_PORT FCGI_PORT RUN_DIR LOG_DIR BUILD
	env "$@" VARIANT="$variant" "$ROOT/scripts/stack" start > "$RUN_DIR/stack.out" 2>&1 || {
		notok "stack ($variant) starts"; diag < "$RUN_DIR/stack.out"
		for f in "$RUN_DIR"/logs/*; do [ -f "$f" ] && { echo "== $f"; tail -20 "$f"; } | diag; done
		return 1
	}
}

stack_stop() {
	[ -n "${RUN_DIR:-}" ] && "$ROOT/scripts/stack" stop >/dev/null 2>&1
	return 0
}

# finish: the last line of every test script.
finish() {
	stack_stop
	[ "${KEEP:-0}" = 1 ] || { [ -n "${RUN_DIR:-}" ] && [ $FAILS -eq 0 ] && rm -rf "$RUN_DIR"; }
	[ $FAILS -eq 0 ]
}

# run_user: the user the stack's processes run as (scripts/stack: www-data when we are root).
run_user() { if [ "$(id -u)" -eq 0 ]; then echo www-data; else id -un; fi; }
# run_user_mkdir DIR…: make directories the stack's processes can write into, so that a
# path-traversal check has a target that WOULD resolve if the guard were gone.
run_user_mkdir() {
	mkdir -p "$@" && chmod 0750 "$@" && { [ "$(id -u)" -ne 0 ] || chown "$(run_user):$(run_user)" "$@"; }
}

# scratch_dir NAME: a private directory $TMP for a test that runs programs itself (no stack),
# and the array PIDS of what it started: at exit those are killed and $TMP removed (kept when
# a check failed, or with KEEP=1).
scratch_dir() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/callpipe-$1.XXXXXX") || return 1
	PIDS=()
	trap scratch_cleanup EXIT
}
scratch_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[ $FAILS -eq 0 ] && [ "${KEEP:-0}" != 1 ] && rm -rf "$TMP"
}

# fcgi_pids: the callpipe-fcgi processes of this test's stack ($RUN_DIR): mod_fcgid and
# lighttpd hand them the config in CALLPIPE_CONF, the daemon variants in -c.
fcgi_pids() {
	local p
	for p in $(ps -eo pid=,comm= | awk '$2 == "callpipe-fcgi" {print $1}'); do
		{ tr '\0' '\n' < "/proc/$p/environ"; tr '\0' '\n' < "/proc/$p/cmdline"; } 2>/dev/null |
			grep -qx -e "CALLPIPE_CONF=$RUN_DIR/callpipe.conf" -e "$RUN_DIR/callpipe.conf" && echo "$p"
	done
}
