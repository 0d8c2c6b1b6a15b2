#!/bin/sh
# Replays every fuzz target over its corpus (tests/fuzz/corpus/<target>)
# with a plain main, so the targets and their invariants run in make
# check.  A crash loses the target's result line and fails the suite.
cd "$(dirname "$0")/.." || exit 2
dir=${REPLAY_DIR:-build/obj}
pass=0 fail=0
for t in form onespan alphatrust config handler record oauth; do
	line=$("$dir/replay-$t" "$t" "tests/fuzz/corpus/$t" 2>&1 | tail -n 1)
	echo "$line"
	case $line in
	"fuzz-$t: "*" passed, 0 failed") pass=$((pass + 1)) ;;
	*) echo "not ok: fuzz-$t"; fail=$((fail + 1)) ;;
	esac
done
echo "fuzz-corpora: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
