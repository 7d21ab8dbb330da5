#!/usr/bin/env bash
# selfcontained: every document a tracked file cites is in the repository (docs/… paths that
# exist, § numbers and quoted headings that exist), and docs/PROTOCOL.md's vectors are openssl's.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
export LC_ALL=C

# This file names the patterns it looks for, so it is the one file not searched.
SELF=tests/integration/selfcontained.sh

# tracked_matches EREGEX: "path:line:match" for each match in the tracked text files (as they
# are in the working tree), or in every file when this is not a git checkout (a tarball).
tracked_matches() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git grep -I -n -o -E -e "$1" -- . ":(exclude)$SELF"
	else
		grep -r -I -n -o -E --exclude-dir=.git --exclude-dir='build*' --exclude-dir=run \
			-e "$1" . | sed 's|^\./||' | grep -v "^$SELF:"
	fi
}

# has_heading FILE TEXT: 0 when a Markdown heading of FILE starts with TEXT, after the
# heading's section number if it has one ("## 3. X-Twilio-Signature", "### 3.2 The POST …").
has_heading() {
	awk -v want="$2" '
		/^#+ / {
			h = $0; sub(/^#+ +/, "", h); sub(/^[0-9]+(\.[0-9]+)*\.? +/, "", h)
			if (index(h, want) == 1) { found = 1; exit }
		}
		END { exit !found }' "$1"
}

# has_section FILE N: 0 when FILE has a heading numbered N ("## 3." for 3, "### 3.2 " for 3.2).
has_section() {
	grep -qE "^#{1,6} ${2//./\\.}\\.? " "$1"
}

# verdict DESC MIN: ok when $bad is empty and at least MIN citations ($n) were seen, else
# not ok with the offending lines.
verdict() {
	if [ -z "$bad" ] && [ "${n:-0}" -ge "$2" ]; then ok "$1"
	else notok "$1"; printf '%s\n' "$bad" | sed '/^$/d' | head -40 | diag; fi
}

# --- (a) no bare NAME.md: a document is cited by its path ------------------------------------
# Upper-case names are the repository's documents; README.md is each directory's own.
# Inside docs/, a Markdown link to a sibling ("](WS.md)") is a path too.
bad=
while IFS=: read -r file line match; do
	case "$match" in
	"]("*) name=${match#"]("} ;;
	[A-Z]*) name=$match ;;
	*) name=${match:1} ;;
	esac
	[ "$name" = README.md ] && continue
	if [[ "$match" == "]("* ]] && [[ "$file" == docs/* ]] && [ -f "docs/$name" ]; then
		continue
	fi
	bad+="$file:$line: $name (cite it as docs/$name)"$'\n'
done < <(tracked_matches '(^|\]\(|[^A-Za-z0-9_./-])[A-Z][A-Z0-9_]*\.md')
verdict "no tracked file cites a document by a bare NAME.md" 0

# --- (b) every path to a .md file exists -------------------------------------------------------
# (A path after a shell variable, "$ROOT/README.md", is built at run time: not a citation.)
bad=; n=0
while IFS=: read -r file line match; do
	path=${match#[^A-Za-z0-9_.-]}
	n=$((n + 1))
	[ -f "$path" ] && continue
	[ -f "$(dirname "$file")/$path" ] && continue   # relative, as a Markdown link is
	bad+="$file:$line: $path does not exist"$'\n'
done < <(tracked_matches '(^|[^A-Za-z0-9_./:${-])[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+\.md')
verdict "every .md path cited in a tracked file exists ($n citations)" 1

# --- (b') nothing points outside the checkout: the design notes the project grew from lived in a
# shared directory beside it, which a clone does not have.
bad=$(tracked_matches '(\.\./|/work/)shared/[A-Za-z0-9_./-]*' | sed 's/^/outside the repository: /')
verdict "no tracked file points at ../shared/ (outside the repository)" 0

# --- (c) "docs/X.md §N.N" names a numbered heading of X ----------------------------------------
bad=; n=0
while IFS=: read -r file line match; do
	doc=${match%%.md*}.md
	num=${match#*§}; num=${num%.}
	n=$((n + 1))
	if ! [[ "$num" =~ ^[0-9]+(\.[0-9]+)*$ ]]; then
		bad+="$file:$line: '§$num' after $doc is not a section number"$'\n'
	elif [ ! -f "$doc" ]; then
		bad+="$file:$line: $doc does not exist"$'\n'
	elif ! has_section "$doc" "$num"; then
		bad+="$file:$line: $doc has no section $num"$'\n'
	fi
done < <(tracked_matches 'docs/[A-Za-z0-9_-]+\.md,? ?§[^][:space:],;:()"`]*')
verdict "every § cited after a docs/ path is a heading of that file ($n citations)" 1

# --- (d) 'docs/X.md "Heading"' names a heading of X ------------------------------------------
bad=; n=0
while IFS=: read -r file line match; do
	doc=${match%%.md*}.md
	want=${match#*\"}; want=${want%\"}
	n=$((n + 1))
	if [ ! -f "$doc" ]; then
		bad+="$file:$line: $doc does not exist"$'\n'
	elif ! has_heading "$doc" "$want"; then
		bad+="$file:$line: $doc has no heading starting \"$want\""$'\n'
	fi
done < <(tracked_matches 'docs/[A-Za-z0-9_-]+\.md,? "[^"]+"')
verdict "every quoted heading cited after a docs/ path exists ($n citations)" 1

# --- (e) the signature vectors of docs/PROTOCOL.md §3.7, recomputed with openssl alone --------
# Rows: | # | `URL` | NAME=VALUE, … or "as row N" or "none …" | `SIG` | test file or none |
if ! command -v openssl >/dev/null; then
	ok "docs/PROTOCOL.md vectors recomputed with openssl # SKIP no openssl"
else
	bad=; n=0
	declare -A params_of=()
	while IFS='|' read -r _ num url params sig checked _; do
		num=${num// /}; url=$(sed -E 's/^ *`//; s/` *$//' <<<"$url")
		sig=$(sed -E 's/^ *`//; s/` *$//' <<<"$sig"); checked=${checked// /}
		params=$(sed -E 's/^ +//; s/ +$//; s/`//g' <<<"$params")
		case "$params" in
		"as row "*) params=${params_of[${params#as row }]} ;;
		none*) params= ;;
		esac
		params_of[$num]=$params
		# URL, then each NAME and VALUE sorted by name then value (bytes), no separators.
		signed=$url$(tr ',' '\n' <<<"$params" | sed -E 's/^ +//; /^$/d' |
			sort -t= -k1,1 -k2 | sed 's/=//' | tr -d '\n')
		got=$(printf '%s' "$signed" | openssl dgst -sha1 -hmac 12345 -binary | base64)
		n=$((n + 1))
		[ "$got" = "$sig" ] || bad+="row $num: openssl gives $got, the table says $sig"$'\n'
		if [ "$checked" != none ] && ! grep -qF "\"$sig\"" "$checked" 2>/dev/null; then
			bad+="row $num: $checked does not contain \"$sig\""$'\n'
		fi
	done < <(awk '/^### 3\.7 /{on=1; next} /^#/{on=0} on && /^\| [0-9]+ \|/' docs/PROTOCOL.md)
	verdict "docs/PROTOCOL.md §3.7: $n signature vectors are what openssl computes, each in its unit test" 5
fi

finish
