#!/bin/sh
# Runs every suite (the unit tests, then tests/e2e-*.sh and tests/it-*.sh),
# keeps going after a failure, and ends with the sum: "N passed, N failed".
# Each suite prints its own "N passed, N failed" as its last such line.
# SUITES="unit e2e-cgi" limits the run to those suites.
cd "$(dirname "$0")/.." || exit 2
pass=0 fail=0 broken=
out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM

suites=${SUITES:-"unit $(cd tests && ls fuzz-*.sh e2e-*.sh it-*.sh 2>/dev/null | grep -v -- "-lib\.sh$" | sed 's/\.sh$//')"}
for s in $suites; do
	echo "== $s"
	case $s in
	unit) ${UNIT_WRAPPER:-} ${UNIT:-./tests/unit} >"$out" 2>&1 ;;
	*) sh "tests/$s.sh" >"$out" 2>&1 ;;
	esac
	rc=$?
	cat "$out"
	line=$(grep -E '^[a-z0-9 -]*:? ?[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	p=$(echo "$line" | sed -E 's/^(.*[^0-9])?([0-9]+) passed.*/\2/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	if [ -z "$line" ]; then
		echo "!! $s printed no result line (exit $rc)"
		broken="$broken $s"
		fail=$((fail + 1))
		continue
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "!! $s exited $rc with no failed test"
		broken="$broken $s"
		fail=$((fail + 1))
	fi
done
[ -n "$broken" ] && echo "broken suites:$broken"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
