#!/bin/sh
# make lint: what the house style (STYLE.md) says that a program can
# decide, over every C file, so that it holds everywhere and not only
# on the lines someone changed.  Prints each offence as FILE:LINE and
# exits non-zero if there is one.  The rest (names, comments, the
# shape of a function) is for review: clang-format cannot express this
# tree's style (see the README, "Building and installing").
cd "$(dirname "$0")/.." || exit 2
C="lib/*.c cgi/*.c tests/*.c tests/fuzz/*.c"
H="lib/*.h cgi/*.h tests/*.h"
bad=0

fail() {
	echo "lint: $1"
	bad=1
}

# Unbounded or ambiguous string functions (curl's checksrc idea).
# shellcheck disable=SC2086
grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)[[:space:]]*\(' \
    $C && fail "banned function"

# Layout: tabs indent, continuations add four spaces; nothing trails.
# shellcheck disable=SC2086
grep -nE '^ {8}' $C $H && fail "indented with spaces, not tabs"
# shellcheck disable=SC2086
grep -nE "$(printf ' \t')" $C $H && fail "a space before a tab"
# shellcheck disable=SC2086
grep -nE '[[:space:]]+$' $C $H && fail "trailing blanks"

# style(9): a definition's return type on a line of its own.  A line at
# column 0 with "type name(" (attributes aside) that a "{" line ends,
# not a ";", is a definition written on one line.
# shellcheck disable=SC2086
awk '
{
	line = $0
	gsub(/__attribute__\(\([^)]*\)\)/, "", line)
}
line ~ /^[A-Za-z_]/ && line ~ /[A-Za-z0-9_][ \t]*\(/ &&
    line !~ /^[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/ &&
    line !~ /^(typedef|extern|return|else|do)[^A-Za-z0-9_]/ {
	cand = FILENAME ":" FNR ": " $0
	pending = line !~ /;[ \t]*$/
	next
}
pending && /;[ \t]*$/ { pending = 0 }
pending && /^\{/ { print cand; bad = 1; pending = 0 }
END { exit bad }' $C || fail "return type not on a line of its own"

# Each cause in lib/esignhook.h says in its comment the status that
# lib/err.c, the one table, gives it: "(503)".
awk '
FILENAME ~ /err\.c$/ && match($0, /\[EH_[A-Z0-9_]+\] = \{ [0-9]+/) {
	s = substr($0, RSTART + 1, RLENGTH - 1)
	name = s
	sub(/\].*/, "", name)
	sub(/.*\{ /, "", s)
	status[name] = s
	next
}
FILENAME ~ /esignhook\.h$/ && /^\tEH_ERR_[A-Z0-9_]+,/ {
	name = $1
	sub(/,.*/, "", name)
	said = ""
	if (match($0, /\(([0-9][0-9][0-9])/))
		said = substr($0, RSTART + 1, 3)
	if (!(name in status))
		printf "%s:%d: %s has no status in lib/err.c\n", FILENAME, FNR, name
	else if (said != status[name])
		printf "%s:%d: %s: the comment says (%s), lib/err.c %s\n",
		    FILENAME, FNR, name, said == "" ? "no status" : said,
		    status[name]
	else
		next
	bad = 1
}
END { exit bad }' lib/err.c lib/esignhook.h || fail "a cause's comment and lib/err.c disagree"

[ "$bad" -eq 0 ] && echo "lint: ok"
exit "$bad"
