#!/bin/sh
# e2e-drain.sh: esignhookctl drain as a work queue over a spool the real
# receiver filled (as CGI): outcomes and folders, the retry schedule,
# actions not repeated, unreadable records, several drainers at once,
# a drainer killed mid-event, --follow, pruning, inject, exit codes,
# and what the receiver links.
# Run: sh tests/e2e-drain.sh (or SUITES=e2e-drain sh tests/run.sh).

E2E_MODE=cgi
. "$(dirname "$0")/e2e-lib.sh"
e2e_setup
[ -x "$CTL" ] || { echo "e2e-drain: $CTL not built (run make)"; exit 2; }

# A handler script for ESIGNHOOK_EXEC: its behaviour is read from files
# so one configuration serves several cases.
cat >"$T/handler.sh" <<'EOF'
#!/bin/sh
d=$(dirname "$0")
printf '%s %s\n' "$ESIGNHOOK_EVENT_ID" "$ESIGNHOOK_ATTEMPT" >>"$d/runs"
cat >/dev/null
if [ -f "$d/hang" ] && [ ! -f "$d/hung" ]; then
	if [ -f "$d/bg" ]; then
		# A grandchild that keeps the claim's descriptor (fd 3).
		sleep 30 &
		echo $! >"$d/hungbg"
	fi
	echo $$ >"$d/hung"
	exec sleep 30
fi
[ -f "$d/slow" ] && sleep 1
code=$(cat "$d/exit" 2>/dev/null || echo 0)
[ "$code" -eq 0 ] || echo "handler says no ($code)" >&2
exit "$code"
EOF
chmod 755 "$T/handler.sh"
runs() { cat "$T/runs" 2>/dev/null | wc -l | tr -d ' '; }
ran_once() { [ "$(runs)" -ge 1 ]; }
one_done() { [ "$(count_in done)" -ge 1 ]; }

# n_events N PREFIX: spool N distinct OneSpan events through the receiver.
n_events() {
	ne_i=0
	while [ "$ne_i" -lt "$1" ]; do
		os_post "$(mkbody "ev$2$ne_i.json" \
		    "$(os_json PACKAGE_COMPLETE "$2-$ne_i")")"
		[ "$STATUS" = 200 ] || chk_fail "spooling $2-$ne_i: $STATUS"
		ne_i=$((ne_i + 1))
	done
}

fresh() {
	rm -rf "$T/spool" "$T/runs" "$T/hang" "$T/hung" "$T/exit" "$T/bg" \
	    "$T/hungbg" "$T/slow"
	use_config "$@"
}

# ---- no action: everything is simply done ----
chk_reset
fresh plain
n_events 3 plain
ctl drain
chk_eq "exit" 0 "$CTL_RC"
chk_eq "done/" 3 "$(count_in done)"
chk_eq "new/" 0 "$(count_in new)"
chk_eq "cur/" 0 "$(count_in cur)"
grep -q '^drained: 3 done, 0 to retry, 0 failed in [0-9.]* s$' "$T/ctl.out" ||
    chk_fail "summary: $(cat "$T/ctl.out")"
chk_eq "log lines result=done" 3 "$(grep -c 'result=done' "$T/ctl.err")"
grep 'result=done' "$T/ctl.err" | grep -v -q 'event=PACKAGE_COMPLETE' &&
    chk_fail "log line without its event"
chk_done "drain with no action: 3 events to done/, a summary, one line each"

chk_reset
ctl drain
chk_eq "exit" 0 "$CTL_RC"
grep -q '^drained: 0 done' "$T/ctl.out" || chk_fail "$(cat "$T/ctl.out")"
chk_done "drain with nothing due: exit 0, 0 done"

# ---- a record the drainer cannot read goes to failed/, the rest on ----
chk_reset
fresh corrupt
n_events 1 corrupt
printf 'not json\n' >"$SPOOL/new/20260101T000000.000000Z-00000000000000aa.json"
printf '{"v":2,"id":"20260101T000000.000000Z-00000000000000bb"}\n' \
    >"$SPOOL/new/20260101T000000.000000Z-00000000000000bb.json"
ctl drain
chk_eq "exit (an event failed)" 1 "$CTL_RC"
chk_eq "failed/" 2 "$(count_in failed)"
chk_eq "done/" 1 "$(count_in done)"
grep -q '"last_error":"unreadable record"' \
    "$SPOOL/failed/20260101T000000.000000Z-00000000000000aa.state" ||
    chk_fail "state of the corrupt record"
grep -q 'result=failed.*error="unreadable record"' "$T/ctl.err" ||
    chk_fail "log: $(cat "$T/ctl.err")"
chk_done "unreadable records (not JSON, wrong v) to failed/, the good one done, exit 1"

# ---- the retry schedule, to its end ----
chk_reset
fresh sched "ESIGNHOOK_EXEC=$T/handler.sh" ESIGNHOOK_RETRY_SCHEDULE=300ms,300ms
echo 1 >"$T/exit"
n_events 1 sched
ctl drain
chk_eq "1st: exit" 0 "$CTL_RC"
chk_eq "1st: retry/" 1 "$(count_in retry)"
st=$(cat "$SPOOL"/retry/*.state 2>/dev/null)
case $st in *'"attempts":1,'*'"last_error":"handler says no (1)"'*) ;;
*) chk_fail "state after one attempt: $st" ;; esac
ctl drain
chk_eq "not yet due: runs" 1 "$(runs)"
sleep 0.5
ctl drain
chk_eq "2nd: runs" 2 "$(runs)"
chk_eq "2nd: retry/" 1 "$(count_in retry)"
sleep 0.5
ctl drain
chk_eq "3rd: runs" 3 "$(runs)"
chk_eq "3rd: failed/" 1 "$(count_in failed)"
chk_eq "3rd: exit" 1 "$CTL_RC"
st=$(cat "$SPOOL"/failed/*.state 2>/dev/null)
case $st in *'"attempts":3,'*'"next_attempt_at":null'*) ;;
*) chk_fail "final state: $st" ;; esac
chk_eq "attempt numbers given to exec" "1 2 3" \
    "$(awk '{ printf "%s%s", s, $2; s = " " }' "$T/runs")"
chk_done "retry schedule 300ms,300ms: retry, not before it is due, retry, failed/ after the 3rd"

# ---- exit 100 is permanent; the operator's retry starts afresh ----
chk_reset
fresh perm "ESIGNHOOK_EXEC=$T/handler.sh"
echo 100 >"$T/exit"
n_events 1 perm
ctl drain
chk_eq "failed/" 1 "$(count_in failed)"
chk_eq "runs" 1 "$(runs)"
id=$(basename "$(ls "$SPOOL"/failed/*.json)" .json)
echo 0 >"$T/exit"
ctl retry "$id"
chk_eq "retry exit" 0 "$CTL_RC"
chk_eq "back in new/" 1 "$(count_in new)"
ctl drain
chk_eq "done/ after the operator's retry" 1 "$(count_in done)"
chk_eq "attempt given to exec after a retry" "1" \
    "$(tail -n 1 "$T/runs" | cut -d' ' -f2)"
chk_done "exit 100: straight to failed/; retry ID: back to new/, attempt 1 again, done"

# ---- an action that succeeded is not run again on a retry ----
chk_reset
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fresh twoact "ESIGNHOOK_EXEC=$T/handler.sh" ESIGNHOOK_RETRY_SCHEDULE=100ms \
    "ESIGNHOOK_FORWARD_URL=http://127.0.0.1:$port/hook" \
    ESIGNHOOK_FORWARD_TIMEOUT=2s
n_events 1 twoact
ctl drain
chk_eq "after 1st: retry/" 1 "$(count_in retry)"
st=$(cat "$SPOOL"/retry/*.state 2>/dev/null)
case $st in *'"actions_done":["exec"]'*) ;;
*) chk_fail "state: $st" ;; esac
grep -q 'action=forward result=retry' "$T/ctl.err" ||
    chk_fail "log: $(cat "$T/ctl.err")"
sleep 0.2
ctl drain
chk_eq "exec runs over two attempts" 1 "$(runs)"
chk_eq "failed/ after the last attempt" 1 "$(count_in failed)"
chk_done "exec succeeded, forward refused: exec not run again on the retry"

# ---- four drainers at once: every event's action exactly once ----
chk_reset
fresh many "ESIGNHOOK_EXEC=$T/handler.sh"
N=${E2E_DRAIN_EVENTS:-2000}
"$PY" - "$SPOOL" "$N" <<'EOF'
import json, os, sys, time
spool, n = sys.argv[1], int(sys.argv[2])
for d in ("tmp", "new"):
    os.makedirs(os.path.join(spool, d), exist_ok=True)
t = time.gmtime()
for i in range(n):
    id = time.strftime("%Y%m%dT%H%M%S", t) + ".%06dZ-%016x" % (i % 1000000, i)
    rec = {"v": 1, "id": id, "received_at": "2026-12-01T00:00:00.000Z",
           "provider": "onespan", "event": "PACKAGE_COMPLETE",
           "known_event": True, "transaction_id": "pkg-%d" % i,
           "dedupe_key": "%064x" % i, "remote_addr": None,
           "data": {"name": "PACKAGE_COMPLETE", "packageId": "pkg-%d" % i}}
    with open(os.path.join(spool, "new", id + ".json"), "w") as f:
        f.write(json.dumps(rec, separators=(",", ":")) + "\n")
EOF
t0=$(now_ms)
pids=
for w in 1 2 3 4; do
	env -i "PATH=$PATH" "ESIGNHOOK_CONFIG=$CFG" "$CTL" drain \
	    >"$T/many$w.out" 2>"$T/many$w.err" &
	pids="$pids $!"
done
rcs=
for p in $pids; do
	wait "$p"
	rcs="$rcs$?"
done
t1=$(now_ms)
chk_eq "exit statuses" 0000 "$rcs"
chk_eq "done/" "$N" "$(count_in done)"
chk_eq "exec runs" "$N" "$(runs)"
chk_eq "distinct events run" "$N" "$(cut -d' ' -f1 "$T/runs" | sort -u | wc -l | tr -d ' ')"
chk_eq "left in new/ cur/ retry/" 000 "$(count_in new)$(count_in cur)$(count_in retry)"
done_sum=$(cat "$T"/many*.out | sed -n 's/^drained: \([0-9]*\) done.*/\1/p' |
    awk '{ s += $1 } END { print s }')
chk_eq "summaries add up" "$N" "$done_sum"
busy=0
for w in 1 2 3 4; do
	[ "$(grep -c 'result=done' "$T/many$w.err")" -gt 0 ] && busy=$((busy + 1))
done
chk_done "4 drainers at once on $N events: each exec run exactly once ($((t1 - t0)) ms, $busy drainers took a share)"

# ---- a drainer killed mid-event: the next one finishes it at once ----
# hang_then_kill: start a drainer, wait for the handler to hang, kill -9
# the drainer.
hang_then_kill() {
	env -i "PATH=$PATH" "ESIGNHOOK_CONFIG=$CFG" "$CTL" drain \
	    >"$T/killed.out" 2>"$T/killed.err" &
	dp=$!
	wait_until 100 test -s "$T/hung"
	chk_eq "in cur/ while its action runs" 1 "$(count_in cur)"
	kill -9 "$dp"
	wait "$dp" 2>/dev/null
}
# gone PIDFILE: whether the process named in PIDFILE is gone.
gone() {
	! kill -0 "$(cat "$1")" 2>/dev/null
}
chk_reset
fresh killed "ESIGNHOOK_EXEC=$T/handler.sh"
: >"$T/hang"
n_events 1 killed
hang_then_kill
# Its command dies with it (PR_SET_PDEATHSIG): never two at once.
wait_until 40 gone "$T/hung" || chk_fail "the handler outlived its drainer"
t0=$(now_ms)
ctl drain
t1=$(now_ms)
chk_eq "exit" 0 "$CTL_RC"
chk_eq "done/" 1 "$(count_in done)"
chk_eq "cur/" 0 "$(count_in cur)"
chk_eq "handler runs (killed one, then the finishing one)" 2 "$(runs)"
[ $((t1 - t0)) -lt 5000 ] || chk_fail "took $((t1 - t0)) ms"
chk_done "kill -9 of a drainer mid-event: its command dies too; the next drain takes the event from cur/ at once and finishes it ($((t1 - t0)) ms)"

chk_reset
fresh killedbg "ESIGNHOOK_EXEC=$T/handler.sh"
: >"$T/hang"
: >"$T/bg"
n_events 1 killedbg
hang_then_kill
# What the command started in the background goes too: its process
# group is the job's.
wait_until 40 gone "$T/hungbg" || chk_fail "the background process outlived the drainer"
ctl drain
chk_eq "then: done/" 1 "$(count_in done)"
chk_eq "then: runs" 2 "$(runs)"
chk_done "kill -9 of a drainer: a process its command left in the background dies too; the next drain finishes the event"

# ---- SIGTERM: the event in hand is finished, then exit 0 ----
chk_reset
fresh term "ESIGNHOOK_EXEC=$T/handler.sh"
: >"$T/slow"
n_events 2 term
env -i "PATH=$PATH" "ESIGNHOOK_CONFIG=$CFG" "$CTL" drain \
    >"$T/term.out" 2>"$T/term.err" &
tp=$!
wait_until 100 ran_once
kill -TERM "$tp"
wait "$tp"
chk_eq "exit" 0 "$?"
chk_eq "the event in hand: done/" 1 "$(count_in done)"
chk_eq "the next one: still in new/" 1 "$(count_in new)"
chk_eq "cur/" 0 "$(count_in cur)"
chk_done "SIGTERM during a (slow, successful) action: that event done, the rest left in new/, exit 0"

# ---- what is not a record, and crash leftovers ----
chk_reset
fresh odd
n_events 1 odd
ln -s /etc/passwd "$SPOOL/new/20260101T000000.000000Z-00000000000000cc.json"
mkdir "$SPOOL/new/20260101T000000.000000Z-00000000000000dd.json"
ctl drain
chk_eq "exit" 1 "$CTL_RC"
chk_eq "done/" 1 "$(count_in done)"
chk_eq "new/" 0 "$(count_in new)"
[ -L "$SPOOL/failed/20260101T000000.000000Z-00000000000000cc.json" ] ||
    chk_fail "the symlink is not in failed/"
[ -d "$SPOOL/failed/20260101T000000.000000Z-00000000000000dd.json" ] ||
    chk_fail "the directory is not in failed/"
grep -q 'not a regular file' "$T/ctl.err" || chk_fail "log: $(cat "$T/ctl.err")"
mkdir -p "$SPOOL/retry"
: >"$SPOOL/retry/20250101T000000.000000Z-0000000000000001.state"
: >"$SPOOL/retry/.20250101T000000.000000Z-0000000000000002.state.99"
: >"$SPOOL/retry/20250101T000000.000000Z-0000000000000003.state"
touch -d '2 hours ago' "$SPOOL/retry/20250101T000000.000000Z-0000000000000001.state" \
    "$SPOOL/retry/.20250101T000000.000000Z-0000000000000002.state.99"
ctl drain
chk_eq "crash leftovers: what stays" "20250101T000000.000000Z-0000000000000003.state" \
    "$(ls -A "$SPOOL/retry")"
chk_done "a symlink and a directory in new/ go to failed/ and the drain goes on; old orphan states and temp files pruned"

# ---- --follow: an arriving event starts within a second; SIGTERM ----
chk_reset
fresh follow "ESIGNHOOK_EXEC=$T/handler.sh"
mkdir -p "$SPOOL"
env -i "PATH=$PATH" "ESIGNHOOK_CONFIG=$CFG" "$CTL" drain --follow \
    >"$T/follow.out" 2>"$T/follow.err" &
fp=$!
wait_until 100 grep -q following "$T/follow.err"
sleep 0.3
t0=$(now_ms)
n_events 1 follow
wait_until 60 one_done
t1=$(now_ms)
chk_eq "done/ while following" 1 "$(count_in done)"
[ $((t1 - t0)) -lt 1000 ] || chk_fail "started after $((t1 - t0)) ms"
# One more, then a SIGTERM while its (slow) action runs: it finishes.
: >"$T/hang"
rm -f "$T/hung"
n_events 1 follow2
wait_until 100 test -s "$T/hung"
kill "$(cat "$T/hung")" 2>/dev/null   # the handler ends (killed: temporary)
kill -TERM "$fp"
wait "$fp"
frc=$?
chk_eq "exit on SIGTERM" 0 "$frc"
grep -q '^drained: 1 done, 1 to retry, 0 failed' "$T/follow.out" ||
    chk_fail "summary: $(cat "$T/follow.out")"
chk_eq "cur/ after stopping" 0 "$(count_in cur)"
kill -0 "$fp" 2>/dev/null && chk_fail "still running"
chk_done "drain --follow: an arrival done in $((t1 - t0)) ms; SIGTERM ends the event in hand, then exit 0"

# ---- pruning: done/, seen/, tmp/ ----
chk_reset
fresh prune ESIGNHOOK_KEEP_DONE=1s ESIGNHOOK_SEEN_KEEP=1s
n_events 2 prune
ctl drain
chk_eq "done/ kept at first" 2 "$(count_in done)"
: >"$SPOOL/tmp/20200101T000000.000000Z-0000000000000000.json.otherhost.1"
touch -d '2 days ago' "$SPOOL/tmp/20200101T000000.000000Z-0000000000000000.json.otherhost.1"
: >"$SPOOL/tmp/young.otherhost.1"
seen_before=$(find "$SPOOL/seen" -type l | wc -l | tr -d ' ')
sleep 2.1
ctl drain
chk_eq "done/ after ESIGNHOOK_KEEP_DONE" 0 "$(count_in done)"
chk_eq "seen/ markers before" 2 "$seen_before"
chk_eq "seen/ after ESIGNHOOK_SEEN_KEEP" 0 "$(find "$SPOOL/seen" -type l | wc -l | tr -d ' ')"
chk_eq "tmp/: the stale file gone, the young one kept" "young.otherhost.1" \
    "$(ls "$SPOOL/tmp")"
fresh prune0 ESIGNHOOK_KEEP_DONE=0
n_events 1 prune0
ctl drain
chk_eq "ESIGNHOOK_KEEP_DONE=0: nothing kept" 0 "$(count_in done)"
chk_done "drain prunes done/ and seen/ after their keep times, stale tmp/ files; KEEP_DONE=0 keeps nothing"

# ---- inject: a payload from OneSpan's failure e-mail ----
chk_reset
fresh inject
ctl inject onespan "$DATA/onespan/package-complete.json"
chk_eq "exit" 0 "$CTL_RC"
grep -q '^spooled [0-9a-fT.Z-]*$' "$T/ctl.out" || chk_fail "$(cat "$T/ctl.out")"
f=$(ls "$SPOOL"/new/*.json 2>/dev/null | head -n 1)
grep -q '"remote_addr":null' "$f" || chk_fail "remote_addr: $(head -c 300 "$f")"
grep -q '"event":"PACKAGE_COMPLETE"' "$f" || chk_fail "event"
ctl inject onespan "$DATA/onespan/package-complete.json"
chk_eq "again: exit" 0 "$CTL_RC"
grep -q '^already received as ' "$T/ctl.out" || chk_fail "dup: $(cat "$T/ctl.out")"
chk_eq "new/ after the duplicate" 1 "$(count_in new)"
# The same event delivered by OneSpan itself after an inject: a dup too.
os_post "$DATA/onespan/package-complete.json"
chk_eq "receiver's status" 200 "$STATUS"
chk_eq "new/ after the receiver got it too" 1 "$(count_in new)"
env -i "ESIGNHOOK_CONFIG=$CFG" "$CTL" inject alphatrust \
    <"$DATA/alphatrust/transaction-complete.form" >"$T/ctl.out" 2>"$T/ctl.err"
chk_eq "alphatrust from stdin: exit" 0 "$?"
chk_eq "new/" 2 "$(count_in new)"
printf '{"name":"PACKAGE_COMPLETE"' >"$T/in/broken.json"
ctl inject onespan "$T/in/broken.json"
chk_eq "broken JSON: exit" 1 "$CTL_RC"
grep -q 'inject: malformed JSON' "$T/ctl.err" || chk_fail "$(cat "$T/ctl.err")"
chk_eq "new/ after the broken one" 2 "$(count_in new)"
chk_eq "tmp/ after the broken one" 0 "$(ls "$SPOOL/tmp" | wc -l | tr -d ' ')"
ctl inject docusign "$T/in/broken.json"
chk_eq "unknown provider: exit" 64 "$CTL_RC"
chk_done "inject: spooled with remote_addr null, a second time reported and not spooled, broken JSON refused"

# ---- exit statuses and messages ----
chk_reset
use_config codes
ctl frobnicate
chk_eq "unknown command" 64 "$CTL_RC"
grep -q "unknown command 'frobnicate'" "$T/ctl.err" || chk_fail "msg"
ctl drain --bogus
chk_eq "unknown option" 64 "$CTL_RC"
ctl drain --help
chk_eq "drain --help" 0 "$CTL_RC"
grep -q '^usage: esignhookctl drain' "$T/ctl.out" || chk_fail "drain --help text"
ctl --help
grep -q '^usage: esignhookctl \[-c FILE\] COMMAND' "$T/ctl.out" || chk_fail "--help"
env -i ESIGNHOOK_CONFIG=/nonexistent/esignhook.conf "$CTL" drain --help >"$T/ctl.out" 2>&1
chk_eq "drain --help with no configuration" 0 "$?"
ctl --version
grep -q '^esignhookctl [0-9]' "$T/ctl.out" || chk_fail "--version"
use_config badcfg ESIGNHOOK_RETRY_SCHEDULE=soon ESIGNHOOK_FORWARD_SECRET=whsec_c2VjcmV0
ctl drain
chk_eq "bad configuration" 78 "$CTL_RC"
grep -q 'invalid value for ESIGNHOOK_RETRY_SCHEDULE' "$T/ctl.err" || chk_fail "$(cat "$T/ctl.err")"
grep -q soon "$T/ctl.err" && chk_fail "the value is in the message"
use_config nospool "ESIGNHOOK_SPOOL=$T/no/such/dir"
ctl drain
chk_eq "unusable spool" 75 "$CTL_RC"
use_config codes
env -i "PATH=$PATH" "$CTL" -c "$CFG" drain >"$T/ctl.out" 2>&1
chk_eq "-c FILE" 0 "$?"
chk_done "exit statuses: 64 usage, 78 configuration (key named, value not), 75 spool; -c FILE; --help (with no configuration too); --version"

# ---- what links what: the receiver never links libcurl ----
chk_reset
readelf -d "$BIN" | grep NEEDED >"$T/needed.receiver"
readelf -d "$CTL" | grep NEEDED >"$T/needed.ctl"
grep -q libcurl "$T/needed.receiver" && chk_fail "the receiver links libcurl"
grep -q libcurl "$T/needed.ctl" || chk_fail "esignhookctl does not link libcurl?"
grep -q libnats "$T/needed.receiver" && chk_fail "the receiver links libnats"
grep -q libnats "$T/needed.ctl" || chk_fail "esignhookctl does not link libnats?"
chk_done "readelf: cgi/esignhook needs no libcurl, no libnats; esignhookctl does"

# ---- no secret anywhere ----
chk_reset
for s in $E2E_SECRETS; do
	grep -r -l -F "$s" "$T/logs" "$T/spool" "$T"/*.out "$T"/*.err 2>/dev/null &&
	    chk_fail "secret found"
done
chk_done "no callback key or URL token in any output, log, spool or state file"

e2e_done
