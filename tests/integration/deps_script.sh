#!/usr/bin/env bash
# deps_script: scripts/deps lists what the README lists, and never leaves the policy-rc.d it
# writes behind (success, failure, Ctrl-C, kill), in a private mount namespace with a fake apt.
set -u
source "$(dirname "$0")/../lib.sh"

# --- The README's package list is the script's -----------------------------------------
# README lines "- build: `a`, `b`…" / "- test: …" / "- bench: …" under "### Packages".
# An item runs on over indented lines; its packages are the names after its "): ".
readme_level() {
	sed -n '/^### Packages/,/^#/p' "$ROOT/README.md" \
		| awk -v lv="$1" '/^- /{on = index($0, "- **" lv "**") == 1} /^$/{on = 0} on' | tr '\n' ' ' \
		| sed 's/.*): //' | grep -o '`[^`]*`' | tr -d '`' | sort | tr '\n' ' '
}
script_level() { "$ROOT/scripts/deps" list | sed -n "s/^$1: //p" | tr ' ' '\n' | sort | tr '\n' ' '; }
for level in build test bench deb; do
	got=$(readme_level "$level"); want=$(script_level "$level")
	if [ -n "$want" ]; then expect_eq "README's $level packages are scripts/deps' $level packages" "$got" "$want"
	else notok "scripts/deps list has a $level level"; fi
done

# The Makefile builds with the build level only: `make` must not need Apache, lighttpd,
# wrk, clang or jq.
expect_eq "make (all) asks scripts/deps for the build level only" \
	"$(make -n -C "$ROOT" all 2>/dev/null | grep -o 'scripts/deps.*')" 'scripts/deps build'
for p in apache2 lighttpd wrk clang jq; do
	expect_nomatch "the build level does not include $p" "$(script_level build)" "(^| )$p( |$)"
done

# --- policy-rc.d ------------------------------------------------------------------------
# The script under test writes its policy-rc.d where CALLPIPE_POLICY_RC_D says (a private
# file here, so the machine's own /usr/sbin is never touched), with a fake dpkg-query and
# apt-get first in PATH.
if [ "$(id -u)" -ne 0 ]; then
	ok "policy-rc.d checks need root (scripts/deps installs only as root) # SKIP"
	finish; exit
fi
fake=$(mktemp -d); trap 'rm -rf "$fake"' EXIT
policy=$fake/policy-rc.d
# dpkg-query: nothing is installed. apt-get: `update` works; `install` records whether
# policy-rc.d was there and what it answers, then behaves as $fake/mode says.
cat > "$fake/dpkg-query" <<'EOF2'
#!/bin/sh
exit 1
EOF2
cat > "$fake/apt-get" <<'EOF2'
#!/bin/sh
[ "$1" = update ] && exit 0
d=$(dirname "$0")
[ -x "$d/policy-rc.d" ] && "$d/policy-rc.d" apache2 start; echo "policy=$?" > "$d/during"
case $(cat "$d/mode") in
ok) exit 0 ;;
fail) exit 100 ;;
hang) i=0; while [ $i -lt 40 ]; do sleep 0.1; i=$((i + 1)); done; exit 0 ;;
esac
EOF2
chmod 755 "$fake/dpkg-query" "$fake/apt-get"

# run_case MODE SIGNAL [PRESET]: scripts/deps (PRESET: an administrator's policy-rc.d is
# there first); SIGNAL (INT to the process group, as Ctrl-C does, or TERM to the script
# alone) once apt-get runs. Prints "exit=N during=… after=…".
run_case() {
	local rc after
	echo "$1" > "$fake/mode"; rm -f "$fake/during" "$policy"
	[ -n "${3:-}" ] && printf '#!/bin/sh\nexit 0\n' > "$policy" && chmod 755 "$policy"
	# Job control: the script gets its own process group (Ctrl-C reaches the group) and
	# SIGINT is not ignored, as it would be for a background job without it.
	set -m
	PATH=$fake:$PATH CALLPIPE_POLICY_RC_D=$policy "$ROOT/scripts/deps" test > "$fake/out" 2>&1 &
	local pid=$!
	set +m
	if [ "$2" != none ]; then
		wait_until 5 test -f "$fake/during"
		if [ "$2" = INT ]; then kill -INT -- -$pid; else kill -TERM $pid; fi
	fi
	wait $pid; rc=$?
	after=absent; [ -e "$policy" ] && after="present:$("$policy" x start; echo $?)"
	echo "exit=$rc during=$(cat "$fake/during" 2>/dev/null) after=$after"
}

r=$(run_case ok none)
expect_eq "install succeeds: services blocked during it, policy-rc.d gone after" "$r" "exit=0 during=policy=101 after=absent"
r=$(run_case fail none)
expect_eq "install fails: exit 1, policy-rc.d gone" "$r" "exit=1 during=policy=101 after=absent"
expect_match "a failed install names the packages" "$(cat "$fake/out")" 'apt-get install .*apache2.* failed'
r=$(run_case hang INT)
expect_eq "Ctrl-C during apt-get: exit 130, policy-rc.d gone" "$r" "exit=130 during=policy=101 after=absent"
r=$(run_case hang TERM)
expect_eq "kill (TERM) during apt-get: exit 143, policy-rc.d gone" "$r" "exit=143 during=policy=101 after=absent"
r=$(run_case ok none preset)
expect_eq "an administrator's own policy-rc.d is used and left alone" "$r" "exit=0 during=policy=0 after=present:0"
finish
