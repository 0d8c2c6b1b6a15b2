#!/bin/sh
# e2e-view.sh: esignhookctl list, show, stats, retry and purge over a
# spool the real receiver filled (as CGI) and esignhookctl drain moved
# about (ESIGNHOOK_EXEC=exit 100: failed/; exit 1 with a 1h schedule:
# retry/; no action: done/): the table and the JSON lines, show, the
# counts of stats --json, the Prometheus file (promtool check metrics),
# retry and purge by id and by folder, exit statuses, --help.
# Run: sh tests/e2e-view.sh (or SUITES=e2e-view sh tests/run.sh).

E2E_MODE=cgi
. "$(dirname "$0")/e2e-lib.sh"
e2e_setup
[ -x "$CTL" ] || { echo "e2e-view: $CTL not built (run make)"; exit 2; }
# Not a reason to skip: promtool's verdict is one of the assertions.
PROMTOOL=$(command -v promtool)

# check_json.py KIND [ARGS]: reads JSON from stdin; prints "ok" or what
# is wrong.  list: one object a line, exactly the list keys (FOLDER and
# N: every line in FOLDER, N lines).  show ID FOLDER.  stats SPOOL.
cat >"$T/check_json.py" <<'EOF'
import calendar, json, os, re, sys, time

kind = sys.argv[1]
errs = []
RFC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
ID = re.compile(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{16}$")
text = sys.stdin.read()
lines = text.split("\n")
if lines[-1] != "":
    errs.append("output does not end in a newline")
lines = lines[:-1]

def obj(line):
    try:
        o = json.loads(line)
    except ValueError as e:
        errs.append("not JSON: %s: %r" % (e, line[:80]))
        return None
    if not isinstance(o, dict):
        errs.append("not an object: %r" % line[:80])
        return None
    return o

def str_or_null(o, k):
    if o.get(k) is not None and not isinstance(o[k], str):
        errs.append("%s: %r is neither a string nor null" % (k, o[k]))

if kind == "list":
    want_keys = ["id", "folder", "provider", "event", "transaction_id",
                 "received_at", "attempts", "next_attempt_at", "last_error"]
    folder, n = sys.argv[2], int(sys.argv[3])
    if len(lines) != n:
        errs.append("%d lines, want %d" % (len(lines), n))
    for line in lines:
        o = obj(line)
        if o is None:
            continue
        if list(o.keys()) != want_keys:
            errs.append("keys %s" % list(o.keys()))
        if not ID.match(str(o.get("id"))):
            errs.append("id %r" % o.get("id"))
        if folder != "*" and o.get("folder") != folder:
            errs.append("folder %r, want %s" % (o.get("folder"), folder))
        if not isinstance(o.get("attempts"), int):
            errs.append("attempts %r" % o.get("attempts"))
        for k in ("provider", "event", "transaction_id", "received_at",
                  "next_attempt_at", "last_error"):
            str_or_null(o, k)
        if o.get("next_attempt_at") is not None and \
                not RFC.match(o["next_attempt_at"]):
            errs.append("next_attempt_at %r" % o["next_attempt_at"])
        if o.get("folder") == "new" and (o.get("attempts") != 0 or
                o.get("next_attempt_at") is not None or
                o.get("last_error") is not None):
            errs.append("a new event with a state: %r" % line)
        if o.get("folder") == "retry" and (o.get("attempts") != 1 or
                o.get("next_attempt_at") is None or
                o.get("last_error") != "exec: exit 1"):
            errs.append("retry state: %r" % line)
        if o.get("folder") == "failed" and o.get("provider") is not None \
                and o.get("last_error") != "exec: exit 100":
            errs.append("failed state: %r" % line)
elif kind == "show":
    want_id, folder = sys.argv[2], sys.argv[3]
    if len(lines) != 1:
        errs.append("%d lines, want 1" % len(lines))
    o = obj(lines[0]) if lines else None
    if o is not None:
        want_keys = ["folder", "record", "attempts", "next_attempt_at",
                     "last_error", "actions_done"]
        if list(o.keys()) != want_keys:
            errs.append("keys %s" % list(o.keys()))
        if o.get("folder") != folder:
            errs.append("folder %r" % o.get("folder"))
        rec = o.get("record")
        if not isinstance(rec, dict) or rec.get("id") != want_id or \
                rec.get("v") != 1 or not isinstance(rec.get("data"), dict):
            errs.append("record %r" % rec)
        if o.get("attempts") != 1 or o.get("last_error") != "exec: exit 100" \
                or o.get("next_attempt_at") is not None \
                or o.get("actions_done") != []:
            errs.append("state %r" % o)
elif kind == "stats":
    spool, want = sys.argv[2], [int(x) for x in sys.argv[3:8]]
    if len(lines) != 1:
        errs.append("%d lines, want 1" % len(lines))
    o = obj(lines[0]) if lines else None
    if o is not None:
        keys = ["new", "cur", "retry", "done", "failed",
                "oldest_waiting_seconds", "free_bytes"]
        if list(o.keys()) != keys:
            errs.append("keys %s" % list(o.keys()))
        got = [o.get(k) for k in keys[:5]]
        if got != want:
            errs.append("counts %s, want %s" % (got, want))
        # The oldest waiting, from the ids in new/ and retry/.
        ts = []
        for d in ("new", "retry"):
            for f in os.listdir(os.path.join(spool, d)):
                if f.endswith(".json") and ID.match(f[:-5]):
                    ts.append(calendar.timegm(time.strptime(f[:15],
                        "%Y%m%dT%H%M%S")))
        age = int(time.time() - min(ts)) if ts else 0
        ow = o.get("oldest_waiting_seconds")
        if not isinstance(ow, int) or abs(ow - age) > 3:
            errs.append("oldest_waiting_seconds %r, want about %d" % (ow, age))
        st = os.statvfs(spool)
        fb = o.get("free_bytes")
        if not isinstance(fb, int) or \
                abs(fb - st.f_bavail * st.f_frsize) > 64 * 1024 * 1024:
            errs.append("free_bytes %r, statvfs says %d" %
                        (fb, st.f_bavail * st.f_frsize))
print("; ".join(errs) if errs else "ok")
EOF
chk_json() {
	cj_out=$("$PY" "$T/check_json.py" "$@" <"$T/ctl.out" 2>&1)
	[ "$cj_out" = ok ] || chk_fail "$cj_out"
}

# Ids in a folder of the spool, oldest first.
ids_in() {
	ls "$SPOOL/$1" 2>/dev/null | sed -n 's/\.json$//p' | sort
}

# A table line's column N (blank-separated) for id $1, from $T/ctl.out.
col() {
	awk -v id="$1" -v n="$2" '$1 == id { print $n }' "$T/ctl.out"
}

# spool_n N PREFIX: N OneSpan events (distinct) through the receiver.
spool_n() {
	sn_i=0
	while [ "$sn_i" -lt "$1" ]; do
		os_post "$(mkbody "$2$sn_i.json" \
		    "$(os_json PACKAGE_COMPLETE "$2-$sn_i")")"
		[ "$STATUS" = 200 ] || chk_fail "spooling $2-$sn_i: $STATUS"
		sn_i=$((sn_i + 1))
	done
}

# ---- events in new/: list, list --json ----
chk_reset
use_config main
spool_n 2 first
at_post "$DATA/alphatrust/transaction-complete.form"
[ "$STATUS" = 200 ] || chk_fail "spooling the AlphaTrust event: $STATUS"
ctl list
chk_eq exit 0 "$CTL_RC"
chk_eq "lines" 4 "$(wc -l <"$T/ctl.out" | tr -d ' ')"
head -n 1 "$T/ctl.out" | grep -q '^ID  *AGE  *FOLDER  *PROVIDER  *EVENT  *TRANSACTION  *ATTEMPTS  *NEXT  *LAST ERROR$' ||
    chk_fail "header: $(head -n 1 "$T/ctl.out")"
for id in $(ids_in new); do
	chk_eq "$id folder" new "$(col "$id" 3)"
	col "$id" 2 | grep -q '^[0-9][0-9]*[smhd]$' ||
	    chk_fail "$id age '$(col "$id" 2)'"
	chk_eq "$id attempts" 0 "$(col "$id" 7)"
	chk_eq "$id next" - "$(col "$id" 8)"
	chk_eq "$id last error" - "$(col "$id" 9)"
done
at_id=$(grep alphatrust "$T/ctl.out" | awk '{ print $1 }')
chk_eq "alphatrust line" "transaction 1234567890" \
    "$(col "$at_id" 5) $(col "$at_id" 6)"
chk_eq "onespan lines" 2 "$(awk '$4 == "onespan" && $5 == "PACKAGE_COMPLETE"' "$T/ctl.out" | wc -l | tr -d ' ')"
# Aligned: every line's FOLDER column starts where the header's does.
chk_eq "aligned" 1 "$(awk '{ print index($0, $3 == "FOLDER" ? "FOLDER" : $3) }' "$T/ctl.out" | sort -u | wc -l | tr -d ' ')"
[ -s "$T/ctl.err" ] && chk_fail "stderr: $(cat "$T/ctl.err")"
chk_done "list: a header and one aligned line per event in new/ (age, provider, event, transaction, -)"

chk_reset
ctl list --json
chk_eq exit 0 "$CTL_RC"
chk_json list new 3
# Each line on its own, as a script would read it.
while IFS= read -r line; do
	printf '%s\n' "$line" | "$PY" -c 'import json, sys; json.loads(sys.stdin.read())' ||
	    chk_fail "python3 json: $line"
done <"$T/ctl.out"
chk_done "list --json: one object a line, exactly the documented keys, nulls for no state"

# ---- drain moves them: 2 to failed/, 2 to retry/, 1 to done/, 1 stays ----
chk_reset
use_config fail "ESIGNHOOK_EXEC=exit 100"
ctl drain
chk_eq "drain (exit 100)" 1 "$CTL_RC"
# The AlphaTrust one and one OneSpan event failed; one OneSpan goes back
# to new/ for the next rounds (retry moves it, with no state).
keep=$(ids_in failed | head -n 1)
ctl retry "$keep"
chk_eq "retry to new/" 0 "$CTL_RC"
use_config retry "ESIGNHOOK_EXEC=exit 1" ESIGNHOOK_RETRY_SCHEDULE=1h
spool_n 1 second
ctl drain
chk_eq "drain (exit 1)" 0 "$CTL_RC"
use_config main
spool_n 1 third
ctl drain
chk_eq "drain (no action)" 0 "$CTL_RC"
spool_n 1 fourth
# One record that cannot be parsed, in failed/, with a state.
BROKEN=20200101T000000.000000Z-00000000000000bb
printf 'not json\n' >"$SPOOL/failed/$BROKEN.json"
printf '{"attempts":1,"next_attempt_at":null,"last_error":"record: not JSON","actions_done":[],"updated_at":"2026-01-01T00:00:00.000Z"}\n' \
    >"$SPOOL/failed/$BROKEN.state"
chk_eq "new/ retry/ done/ failed/" "1 2 1 3" \
    "$(count_in new) $(count_in retry) $(count_in done) $(count_in failed)"
chk_done "drain: events moved to failed/, retry/, done/ (the spool for what follows)"

chk_reset
ctl list
chk_eq exit 0 "$CTL_RC"
chk_eq "lines" 7 "$(wc -l <"$T/ctl.out" | tr -d ' ')"
chk_eq "folders" "failed failed failed new retry retry" \
    "$(awk 'NR > 1 { print $3 }' "$T/ctl.out" | sort | tr '\n' ' ' | sed 's/ $//')"
for id in $(ids_in retry); do
	chk_eq "$id attempts" 1 "$(col "$id" 7)"
	chk_eq "$id next" "in" "$(col "$id" 8)"
	col "$id" 9 | grep -q '^[0-9][0-9]*[mh]$' ||
	    chk_fail "$id next attempt '$(col "$id" 8) $(col "$id" 9)'"
	awk -v id="$id" '$1 == id' "$T/ctl.out" | grep -q '  exec: exit 1$' ||
	    chk_fail "$id last error"
done
awk -v id="$BROKEN" '$1 == id' "$T/ctl.out" |
    grep -q "^$BROKEN  *[0-9]*d  *failed  *-  *-  *-  *1  *-  *record: not JSON\$" ||
    chk_fail "broken record's line: $(grep "$BROKEN" "$T/ctl.out")"
grep -q "  done  " "$T/ctl.out" && chk_fail "done/ listed by default"
chk_done "list: new, retry (attempts 1, next in ~1h, its error), failed; an unparseable record too; no done/"

chk_reset
ctl list --json
chk_eq exit 0 "$CTL_RC"
chk_json list '*' 6
grep "\"id\":\"$BROKEN\"" "$T/ctl.out" | grep -q '"provider":null,"event":null,"transaction_id":null,"received_at":null,"attempts":1,"next_attempt_at":null,"last_error":"record: not JSON"' ||
    chk_fail "broken record: $(grep "$BROKEN" "$T/ctl.out")"
chk_done "list --json: retry's next_attempt_at and last_error; the unparseable record with nulls"

chk_reset
ctl list done failed
chk_eq exit 0 "$CTL_RC"
chk_eq "folders" "done failed failed failed" \
    "$(awk 'NR > 1 { print $3 }' "$T/ctl.out" | tr '\n' ' ' | sed 's/ $//')"
ctl list failed --json
chk_json list failed 3
ctl list retry retry --json
chk_json list retry 2
chk_done "list done failed, list failed --json, a folder named twice listed once"

# ---- show ----
chk_reset
FAILED=$(ids_in failed | grep -v "$BROKEN" | head -n 1)
ctl show "$FAILED"
chk_eq exit 0 "$CTL_RC"
grep -q "^id:  *$FAILED\$" "$T/ctl.out" || chk_fail "no id line"
grep -q '^folder:  *failed$' "$T/ctl.out" || chk_fail "no folder line"
grep -q '^attempts:  *1$' "$T/ctl.out" || chk_fail "no attempts line"
grep -q '^last error:  *exec: exit 100$' "$T/ctl.out" || chk_fail "no error line"
grep -q '^next attempt:  *-$' "$T/ctl.out" || chk_fail "no next line"
sed -n '/^record:$/,$p' "$T/ctl.out" | sed 1d | "$PY" -c 'import json, sys; r = json.load(sys.stdin); assert r["id"] == sys.argv[1], r' "$FAILED" ||
    chk_fail "the record is not the pretty-printed JSON"
grep -q '^  "data": {$' "$T/ctl.out" || chk_fail "not indented"
chk_done "show ID: the state's lines, the record pretty-printed"

chk_reset
ctl show "$FAILED" --json
chk_eq exit 0 "$CTL_RC"
chk_json show "$FAILED" failed
RETRY1=$(ids_in retry | head -n 1)
ctl show --json "$RETRY1"
chk_eq "retry exit" 0 "$CTL_RC"
"$PY" -c 'import json, sys; o = json.load(sys.stdin); assert o["folder"] == "retry" and o["attempts"] == 1 and o["next_attempt_at"] and o["last_error"] == "exec: exit 1", o' <"$T/ctl.out" ||
    chk_fail "retry event: $(cat "$T/ctl.out")"
ctl show "$BROKEN" --json
chk_eq "broken exit" 0 "$CTL_RC"
grep -q '"record":null' "$T/ctl.out" || chk_fail "broken record: $(cat "$T/ctl.out")"
chk_done "show ID --json: folder, record, attempts, next_attempt_at, last_error, actions_done"

chk_reset
ctl show 20200101T000000.000000Z-0000000000000000
chk_eq "unknown id" 1 "$CTL_RC"
grep -q '20200101T000000.000000Z-0000000000000000' "$T/ctl.err" ||
    chk_fail "stderr does not name the id: $(cat "$T/ctl.err")"
[ -s "$T/ctl.out" ] && chk_fail "stdout: $(cat "$T/ctl.out")"
ctl show ../new/x
chk_eq "a path" 1 "$CTL_RC"
chk_done "show of an unknown id: a message on stderr, exit 1"

# ---- stats ----
chk_reset
ctl stats --json
chk_eq exit 0 "$CTL_RC"
chk_json stats "$SPOOL" 1 0 2 1 3
ctl stats
chk_eq "plain exit" 0 "$CTL_RC"
for f in "new 1" "cur 0" "retry 2" "done 1" "failed 3"; do
	grep -q "^${f% *}:  *${f#* }\$" "$T/ctl.out" || chk_fail "no line '$f'"
done
grep -q '^oldest waiting:  *[0-9][0-9]*[smhd] ([0-9]* s)$' "$T/ctl.out" ||
    chk_fail "oldest waiting: $(grep oldest "$T/ctl.out")"
grep -q '^free space:  *[0-9][0-9]* bytes' "$T/ctl.out" || chk_fail "free space"
chk_done "stats --json: the counts per folder, oldest waiting (by id), free bytes (statvfs); plain lines"

chk_reset
mkdir "$T/textfile"
ctl stats --prometheus --output "$T/textfile/esignhook.prom"
chk_eq exit 0 "$CTL_RC"
[ -s "$T/ctl.out" ] && chk_fail "stdout: $(cat "$T/ctl.out")"
chk_eq "files in the directory" esignhook.prom "$(ls -A "$T/textfile")"
chk_eq "mode (for node exporter, another user)" 644 \
    "$(stat -c %a "$T/textfile/esignhook.prom")"
if [ -z "$PROMTOOL" ]; then
	chk_fail "promtool not installed (make deps installs prometheus)"
else
	"$PROMTOOL" check metrics <"$T/textfile/esignhook.prom" >"$T/promtool.out" 2>&1
	chk_eq "promtool check metrics" 0 "$?"
	[ -s "$T/promtool.out" ] && chk_fail "promtool: $(cat "$T/promtool.out")"
fi
for f in new:1 cur:0 retry:2 done:1 failed:3; do
	grep -q "^esignhook_spool_events{folder=\"${f%:*}\"} ${f#*:}\$" \
	    "$T/textfile/esignhook.prom" || chk_fail "no sample for $f"
done
grep -q '^# TYPE esignhook_spool_oldest_waiting_seconds gauge$' "$T/textfile/esignhook.prom" ||
    chk_fail "no TYPE for oldest waiting"
grep -q '^esignhook_spool_oldest_waiting_seconds [0-9][0-9]*$' "$T/textfile/esignhook.prom" ||
    chk_fail "no oldest waiting sample"
grep -q '^esignhook_spool_free_bytes [1-9][0-9]*$' "$T/textfile/esignhook.prom" ||
    chk_fail "no free bytes sample"
# Again over it, and to standard output: the same families.
ctl stats --prometheus --output "$T/textfile/esignhook.prom"
chk_eq "second write" 0 "$CTL_RC"
chk_eq "files after a second write" esignhook.prom "$(ls -A "$T/textfile")"
ctl stats --prometheus
chk_eq "stdout exit" 0 "$CTL_RC"
chk_eq "same lines" "$(grep -v -e oldest -e free_bytes "$T/textfile/esignhook.prom")" \
    "$(grep -v -e oldest -e free_bytes "$T/ctl.out")"
ctl stats --prometheus --output "$T/no/such/dir/x.prom"
chk_eq "missing directory" 1 "$CTL_RC"
grep -q 'no/such/dir/x.prom' "$T/ctl.err" || chk_fail "stderr: $(cat "$T/ctl.err")"
chk_done "stats --prometheus --output FILE: atomic, 0644, promtool check metrics passes"

# ---- retry ----
chk_reset
ctl retry "$FAILED"
chk_eq exit 0 "$CTL_RC"
grep -q "^$FAILED: failed/ -> new/\$" "$T/ctl.out" || chk_fail "report: $(cat "$T/ctl.out")"
[ -f "$SPOOL/new/$FAILED.json" ] || chk_fail "not in new/"
[ -e "$SPOOL/new/$FAILED.state" ] && chk_fail "a state in new/"
[ -e "$SPOOL/failed/$FAILED.json" ] || [ -e "$SPOOL/failed/$FAILED.state" ] &&
    chk_fail "still in failed/"
ctl list new --json
grep "\"id\":\"$FAILED\"" "$T/ctl.out" | grep -q '"attempts":0,"next_attempt_at":null,"last_error":null' ||
    chk_fail "state after retry: $(grep "$FAILED" "$T/ctl.out")"
chk_done "retry ID: failed/ -> new/, reported, no state left (attempts 0)"

chk_reset
NEW1=$(ids_in new | head -n 1)
ctl retry "$NEW1" 20200101T000000.000000Z-0000000000000000 "$RETRY1"
chk_eq exit 1 "$CTL_RC"
grep -q "$NEW1.*new/" "$T/ctl.err" || chk_fail "no error for the id in new/: $(cat "$T/ctl.err")"
grep -q "20200101T000000.000000Z-0000000000000000" "$T/ctl.err" ||
    chk_fail "no error for the unknown id"
grep -q "^$RETRY1: retry/ -> new/\$" "$T/ctl.out" || chk_fail "the good one not done: $(cat "$T/ctl.out")"
[ -f "$SPOOL/new/$RETRY1.json" ] || chk_fail "$RETRY1 not in new/"
[ -e "$SPOOL/new/$RETRY1.state" ] || [ -e "$SPOOL/retry/$RETRY1.state" ] && chk_fail "$RETRY1's state kept"
[ -f "$SPOOL/new/$NEW1.json" ] || chk_fail "$NEW1 moved"
chk_done "retry: ids not in failed/ or retry/ named on stderr, exit 1, the others moved"

chk_reset
ctl retry --all
chk_eq exit 0 "$CTL_RC"
chk_eq "lines reporting a move" 3 "$(grep -c ' -> new/$' "$T/ctl.out")"
chk_eq "new/ retry/ failed/" "6 0 0" "$(count_in new) $(count_in retry) $(count_in failed)"
chk_eq "states left" 0 "$(find "$SPOOL/new" "$SPOOL/retry" "$SPOOL/failed" -name '*.state' | wc -l | tr -d ' ')"
ctl retry --all
chk_eq "nothing to retry" 0 "$CTL_RC"
chk_done "retry --all: every event of failed/ and retry/ back to new/ with no state"

# ---- purge ----
chk_reset
# The broken record would fail again: purge it from new/ is refused.
ctl purge "$BROKEN"
chk_eq "purge from new/" 1 "$CTL_RC"
grep -q "$BROKEN.*not processed yet" "$T/ctl.err" || chk_fail "message: $(cat "$T/ctl.err")"
[ -f "$SPOOL/new/$BROKEN.json" ] || chk_fail "purged from new/"
chk_done "purge ID of an event in new/: refused, says why, exit 1"

chk_reset
use_config fail "ESIGNHOOK_EXEC=exit 100"
ctl drain
chk_eq "failed/" 6 "$(count_in failed)"
use_config main
ctl purge failed --older-than 1h
chk_eq exit 0 "$CTL_RC"
grep -q '^purge: 0 event(s) removed from failed/$' "$T/ctl.out" || chk_fail "$(cat "$T/ctl.out")"
chk_eq "failed/ after 1h" 6 "$(count_in failed)"
P1=$(ids_in failed | head -n 1)
ctl purge "$P1"
chk_eq "purge ID" 0 "$CTL_RC"
grep -q '^purge: 1 event(s) removed$' "$T/ctl.out" || chk_fail "$(cat "$T/ctl.out")"
[ -e "$SPOOL/failed/$P1.json" ] || [ -e "$SPOOL/failed/$P1.state" ] &&
    chk_fail "$P1 still there"
ctl purge "$P1"
chk_eq "purge it again" 1 "$CTL_RC"
grep -q "$P1" "$T/ctl.err" || chk_fail "no message naming $P1"
sleep 0.1
ctl purge failed --older-than 0s
chk_eq "exit 0s" 0 "$CTL_RC"
grep -q '^purge: 5 event(s) removed from failed/$' "$T/ctl.out" || chk_fail "$(cat "$T/ctl.out")"
chk_eq "failed/ files" 0 "$(ls -A "$SPOOL/failed" | wc -l | tr -d ' ')"
ctl purge done --older-than 0s
grep -q '^purge: 1 event(s) removed from done/$' "$T/ctl.out" || chk_fail "$(cat "$T/ctl.out")"
chk_eq "done/ files" 0 "$(ls -A "$SPOOL/done" | wc -l | tr -d ' ')"
ctl stats --json
chk_json stats "$SPOOL" 0 0 0 0 0
chk_done "purge failed --older-than 1h (none), purge ID, purge failed|done --older-than 0s (all)"

# ---- usage: 64, and --help ----
chk_reset
for args in "list bogus" "list --nope" "stats --nope" "stats extra" \
    "stats --json --prometheus" "stats --output $T/x.prom" "show" \
    "show a b" "show --nope x" "retry" "retry --all $P1" "retry --nope" \
    "purge" "purge failed" "purge new --older-than 1s" \
    "purge failed --older-than soon" "purge $P1 --older-than 1s" \
    "purge done failed --older-than 1s"; do
	# shellcheck disable=SC2086
	ctl $args
	chk_eq "'$args'" 64 "$CTL_RC"
	cmd=${args%% *}
	grep -q "^usage: esignhookctl $cmd" "$T/ctl.err" ||
	    chk_fail "'$args': no usage on stderr: $(head -n 2 "$T/ctl.err")"
	[ -s "$T/ctl.out" ] && chk_fail "'$args': stdout"
done
chk_done "wrong arguments: exit 64 with the command's usage on stderr (list bogus, stats --nope, ...)"

chk_reset
for cmd in list show stats retry purge; do
	for h in --help -h; do
		ctl "$cmd" "$h"
		chk_eq "$cmd $h" 0 "$CTL_RC"
		head -n 1 "$T/ctl.out" | grep -q "^usage: esignhookctl $cmd" ||
		    chk_fail "$cmd $h: $(head -n 1 "$T/ctl.out")"
		[ -s "$T/ctl.err" ] && chk_fail "$cmd $h: stderr"
	done
done
chk_done "--help and -h of list, show, stats, retry, purge: usage on stdout, exit 0"

# ---- no secret anywhere ----
chk_reset
si=$(secrets_in "$T/logs" "$T/textfile" "$T/ctl.out" "$T/ctl.err")
[ -z "$si" ] || chk_fail "secret found in: $si"
[ -s "$T/logs/ctl.log" ] || chk_fail "nothing was logged"
chk_done "no callback key or URL token in any output of list, show, stats, retry, purge"

e2e_done
