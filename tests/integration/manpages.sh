#!/usr/bin/env bash
# manpages: man/*.[158] are lint-clean mdoc; each names every long option its program's
# getopt_long table accepts, callpipe.conf(5) every key config.c accepts and no other, and
# every --help names its page and lists its options.
source "$(dirname "$0")/../lib.sh"

export LC_ALL=C
MAN=$ROOT/man

if ! command -v mandoc > /dev/null; then
	notok "mandoc is installed (scripts/deps installs it)"
	finish; exit 1
fi

# --- (a) the pages exist and mandoc -Tlint -Wwarning says nothing about them ----------------
for page in callpipe-fcgi.8 callpipe-ws.8 callpipe-sim.1 callpipe-log.1 callpipe.conf.5; do
	[ -f "$MAN/$page" ] && ok "man/$page exists" || notok "man/$page exists"
done
for p in "$MAN"/*.[158]; do
	out=$(mandoc -Tlint -Wwarning "$p" 2>&1)
	expect_eq "mandoc -Tlint -Wwarning $(basename "$p"): no message" "$out" ""
done

# sh_list PAGE: the page's section headings (.Sh), one a line.
sh_list() { sed -n 's/^\.Sh //p' "$1"; }
# section PAGE SH [SS]: the source lines of section SH (only its subsection SS when given),
# its .Ss headings included.
section() {
	awk -v sh="$2" -v ss="${3:-}" '
		/^\.Sh / { in_sh = (substr($0, 5) == sh); in_ss = (ss == ""); next }
		/^\.Ss / { if (ss != "") in_ss = (substr($0, 5) == ss); if (in_sh && in_ss) print; next }
		in_sh && in_ss' "$1"
}
need_sections() { # PAGE SECTION…
	local page=$1 s have; shift
	have=$(sh_list "$MAN/$page")
	for s in "$@"; do
		if grep -qxF "$s" <<< "$have"; then ok "$page has $s"; else notok "$page has $s"; fi
	done
}
common=(NAME SYNOPSIS DESCRIPTION 'EXIT STATUS' EXAMPLES DIAGNOSTICS 'SEE ALSO')
need_sections callpipe-fcgi.8 "${common[@]}" OPTIONS SIGNALS ENVIRONMENT FILES
need_sections callpipe-ws.8 "${common[@]}" OPTIONS SIGNALS ENVIRONMENT FILES
need_sections callpipe-sim.1 "${common[@]}" OPTIONS
need_sections callpipe-log.1 "${common[@]}" OPTIONS ENVIRONMENT FILES
need_sections callpipe.conf.5 NAME DESCRIPTION KEYS ENVIRONMENT FILES EXAMPLES 'SEE ALSO'

# --- (b) every long option of a getopt_long table is in the page's OPTIONS ------------------
# longopts FILE…: the names of the option tables' entries ({ "name", x_argument, …).
longopts() {
	grep -ohE '\{ *"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$@" |
		sed -E 's/^\{ *"([^"]*)".*/\1/' | sort -u
}
# check_opts LABEL HELP_TEXT PAGE SUBSECTION SOURCE…: each option of SOURCE's table is an
# ".Fl -name" item in PAGE's OPTIONS (within SUBSECTION when not empty) and in HELP_TEXT.
check_opts() {
	local label=$1 help=$2 page=$3 ss=$4 opts o text miss_page="" miss_help="" n; shift 4
	opts=$(longopts "$@")
	n=$(grep -c . <<< "$opts")
	# a table the pattern stopped matching must not pass as "no option missing"
	if [ "$n" -lt 2 ]; then notok "$label: found the getopt_long table in $*"; return; fi
	text=$(section "$MAN/$page" OPTIONS "$ss")
	for o in $opts; do
		grep -Eq -- "(^|[ ])Fl -$o( |$)" <<< "$text" || miss_page+=" --$o"
		grep -Eq -- "(^|[ ,])--$o([ ,=]|$)" <<< "$help" || miss_help+=" --$o"
	done
	expect_eq "$label: all $n long options in $page OPTIONS${ss:+ ($ss)}" "${miss_page# }" ""
	expect_eq "$label: all $n long options in --help" "${miss_help# }" ""
}
B=$BUILD
for bin in callpipe-fcgi callpipe-ws callpipe-log callpipe-sim; do
	[ -x "$B/$bin" ] || { notok "$B/$bin is built"; finish; exit 1; }
done
fcgi_help=$("$B/callpipe-fcgi" --help)
ws_help=$("$B/callpipe-ws" --help)
log_help=$("$B/callpipe-log" --help)
check_opts callpipe-fcgi "$fcgi_help" callpipe-fcgi.8 "" "$ROOT/fcgi/main.c"
check_opts callpipe-ws "$ws_help" callpipe-ws.8 "" "$ROOT/wshelper/main.c"
check_opts callpipe-log "$log_help" callpipe-log.1 "" "$ROOT/tools/log/main.c"
check_opts "callpipe-sim call" "$("$B/callpipe-sim" call --help)" callpipe-sim.1 call \
	"$ROOT/tools/sim/callopts.c"
check_opts "callpipe-sim post" "$("$B/callpipe-sim" post --help)" callpipe-sim.1 \
	"post and sign" "$ROOT/tools/sim/post.c"
check_opts "callpipe-sim load" "$("$B/callpipe-sim" load --help)" callpipe-sim.1 load \
	"$ROOT/tools/sim/load.c"
check_opts "callpipe-sim stream-token" "$("$B/callpipe-sim" stream-token --help)" \
	callpipe-sim.1 stream-token "$ROOT/tools/sim/token.c"
# every option table under tools/sim is one of the four above
tables=$(grep -lE '\{ *"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$ROOT"/tools/sim/*.c |
	xargs -n1 basename | sort | tr '\n' ' ')
expect_eq "callpipe-sim: the option tables checked are all there are" "$tables" \
	"callopts.c load.c post.c token.c "

# --- (c) callpipe.conf(5) documents exactly the keys config.c accepts -------------------------
# config.c's key table: STR("sec", "key", …), NUM("sec", "key", …) or {"sec", "key", K_…}.
code_keys=$(grep -oE '^\s*((STR|NUM)\(|\{)"[a-z]+", "[a-z_]+"' "$ROOT/common/config.c" |
	sed -E 's/^[^"]*"([a-z]+)", "([a-z_]+)"/\1 \2/' | sort -u)
# the page: ".It Cm KEY" items under ".Ss [SECTION]" in KEYS
page_keys=$(section "$MAN/callpipe.conf.5" KEYS |
	awk '/^\.Ss \[/ { s = $2; gsub(/\[|\]/, "", s) } /^\.Ss / && !/^\.Ss \[/ { s = "" }
	     /^\.Bl / { depth++ } /^\.El/ { depth-- }
	     /^\.It Cm / && s != "" && depth == 1 { print s, $3 }' | sort -u)
n=$(grep -c . <<< "$code_keys")
if [ "$n" -lt 50 ]; then
	notok "config.c: found its key table ($n keys)"
else
	missing=$(comm -23 <(echo "$code_keys") <(echo "$page_keys") | sed 's/ /./' | tr '\n' ' ')
	extra=$(comm -13 <(echo "$code_keys") <(echo "$page_keys") | sed 's/ /./' | tr '\n' ' ')
	expect_eq "callpipe.conf.5 documents all $n keys config.c accepts" "$missing" ""
	expect_eq "every key callpipe.conf.5 documents exists in config.c" "$extra" ""
fi

# --- (d) every --help names its page ------------------------------------------------------------
expect_match "callpipe-fcgi --help names callpipe-fcgi(8)" "$fcgi_help" 'callpipe-fcgi\(8\)'
expect_match "callpipe-ws --help names callpipe-ws(8)" "$ws_help" 'callpipe-ws\(8\)'
expect_match "callpipe-log --help names callpipe-log(1)" "$log_help" 'callpipe-log\(1\)'
for cmd in "" call post sign load stream-token; do
	expect_match "callpipe-sim $cmd${cmd:+ }--help names callpipe-sim(1)" \
		"$("$B/callpipe-sim" $cmd --help)" 'callpipe-sim\(1\)'
done

# --- what an operator greps for is documented ---------------------------------------------------
tags=$(grep -ohE '"WS_[A-Z_]+' "$ROOT"/wshelper/*.c | tr -d '"' | sort -u)
diag=$(section "$MAN/callpipe-ws.8" DIAGNOSTICS)
miss=""
for t in $tags; do grep -q -- "^\.It Li $t " <<< "$diag" || miss+=" $t"; done
expect_eq "callpipe-ws.8 DIAGNOSTICS has every WS_* line the helper writes ($(echo $tags | wc -w))" \
	"${miss# }" ""
for s in LISTEN_PID LISTEN_FDS CALLPIPE_CONF; do
	expect_match "callpipe-fcgi.8 ENVIRONMENT names $s" \
		"$(section "$MAN/callpipe-fcgi.8" ENVIRONMENT)" "Ev $s"
done
for f in /etc/callpipe/callpipe.conf /usr/share/callpipe/twiml-templates \
	/etc/callpipe/twiml-templates /run/callpipe/fcgi.sock /var/log/callpipe; do
	expect_match "callpipe-fcgi.8 FILES names $f" "$(section "$MAN/callpipe-fcgi.8" FILES)" \
		"Pa $f"
done

finish
