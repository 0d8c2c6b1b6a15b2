#!/bin/sh
# e2e-nats-cluster.sh: the scale-out path against a real 3-node
# JetStream cluster on loopback (Debian's nats-server), a stream of 3
# replicas.  2,000 events reach the real receiver (cgi/esignhook as
# FastCGI, tests/fcgi-load.py's clients, a mix of OneSpan and
# AlphaTrust), are split over two spools as two receivers' would be,
# and two drainers (two machines) publish them while the stream's
# leader is killed with SIGKILL mid-drain.  Asserted: every event in
# the stream exactly once afterwards, each payload its record's bytes;
# the killed node, restarted, catches up.  Then 4 consume processes
# with one durable (two machines' worth, each pair with its own server
# list) take every message; one is killed with SIGKILL half-way:
# every event is processed at least once, and exactly once but for
# what the killed one had in hand (redelivered to another).
# Run: sh tests/e2e-nats-cluster.sh (or SUITES=e2e-nats-cluster sh tests/run.sh).

E2E_MODE=cgi
. "$(dirname "$0")/e2e-lib.sh"
. "$E2E_ROOT/tests/nats-lib.sh"
e2e_setup
[ -x "$CTL" ] || { echo "e2e-nats-cluster: $CTL not built (run make)"; exit 2; }
nats_init

N=${E2E_NATS_EVENTS:-2000}
CLIENTS=8
PER_CLIENT=$((N / CLIENTS))
WORKERS=2
RECS=$T/records
OUT=$T/cout
mkdir "$RECS" "$OUT"

# ---- the cluster ----
chk_reset
t0=$(now_ms)
nats_cluster c 3
chk_eq "meta leader known" yes "$([ -n "$NATS_META_LEADER" ] && echo yes)"
chk_done "3-node JetStream cluster on 127.0.0.1 up, meta leader $NATS_META_LEADER ($(($(now_ms) - t0)) ms)"

# Two machines: each drainer and consumer pair lists the servers in
# its own order (the client picks among them, and fails over).
URL_A="$(nats_url c1),$(nats_url c2),$(nats_url c3)"
URL_B="$(nats_url c3),$(nats_url c2),$(nats_url c1)"
SCHED=ESIGNHOOK_RETRY_SCHEDULE=500ms,500ms,500ms,500ms,1s,1s,1s,2s,2s,5s
# consume's AckWait is ESIGNHOOK_EXEC_TIMEOUT + 5 s: how long the
# message a killed consumer had in hand waits before its redelivery.
EXECT=ESIGNHOOK_EXEC_TIMEOUT=2s

chk_reset
use_config a "ESIGNHOOK_NATS_URL=$URL_A" "ESIGNHOOK_SPOOL=$T/spool-a" "$SCHED" \
    ESIGNHOOK_NATS_TIMEOUT=2s "$EXECT"
CFG_A=$CFG
ctl nats-setup --replicas 3
chk_eq "exit" 0 "$CTL_RC"
info=$(nats_info)
chk_eq "replicas" 3 "$(nats_field replicas "$info")"
chk_eq "storage" file "$(nats_field storage "$info")"
wait_until 100 sh -c "'$NCHK' '$NATS_URL' ESIGNHOOK info | grep -q 'current 3\$'" ||
    chk_fail "replicas not current: $(nats_info)"
chk_done "nats-setup --replicas 3: stream ESIGNHOOK on 3 nodes, leader $(nats_field leader "$(nats_info)")"

# ---- 2,000 events through the receiver ----
chk_reset
t0=$(now_ms)
supervise_start "$T/rx.sock" 4 --max-seconds 120
"$PY" "$LOAD" load "$T/rx.sock" "$T/results" --clients "$CLIENTS" \
    --requests "$PER_CLIENT" --tag nats --kind mix --os-key "$OS_KEY" \
    --at-token "$AT_TOKEN" --deadline 60 --timeout 20 >"$T/load.out" 2>&1
chk_eq "load exit" 0 "$?"
supervise_stop
chk_eq "replies 200" "$N" "$(awk -F '\t' '$5 == 200' "$T/results" | wc -l | tr -d ' ')"
SPOOL=$T/spool
chk_eq "spooled" "$N" "$(count_in new)"
rx_ms=$(($(now_ms) - t0))
# Half of them to the second receiver's spool (two machines' spools).
mkdir -p "$T/spool-a/new" "$T/spool-b/new"
ls "$SPOOL/new" | sort >"$T/all.files"
sed -n 'p;n' "$T/all.files" | while read -r f; do
	mv "$SPOOL/new/$f" "$T/spool-a/new/"
done
mv "$SPOOL"/new/*.json "$T/spool-b/new/"
cp "$T"/spool-a/new/*.json "$T"/spool-b/new/*.json "$RECS"/
sed 's/\.json$//' "$T/all.files" >"$T/ids"
a=$(ls "$T/spool-a/new" | wc -l | tr -d ' ')
b=$(ls "$T/spool-b/new" | wc -l | tr -d ' ')
chk_eq "a + b" "$N" "$((a + b))"
chk_done "$N events (OneSpan and AlphaTrust) spooled by the receiver as FastCGI in $rx_ms ms, split over two spools ($a + $b)"

# ---- two drainers, the stream leader killed mid-drain ----
chk_reset
use_config b "ESIGNHOOK_NATS_URL=$URL_B" "ESIGNHOOK_SPOOL=$T/spool-b" "$SCHED" \
    ESIGNHOOK_NATS_TIMEOUT=2s "$EXECT"
CFG_B=$CFG
done_ab() {
	echo $(($(find "$T/spool-a/done" "$T/spool-b/done" -name '*.json' 2>/dev/null | wc -l)))
}
t0=$(now_ms)
env -i "PATH=$PATH" "ESIGNHOOK_CONFIG=$CFG_A" "$CTL" drain \
    >"$T/drain-a.out" 2>"$T/drain-a.err" &
da=$!
env -i "PATH=$PATH" "ESIGNHOOK_CONFIG=$CFG_B" "$CTL" drain \
    >"$T/drain-b.out" 2>"$T/drain-b.err" &
db=$!
quarter() { [ "$(done_ab)" -ge $((N / 4)) ]; }
wait_until 600 quarter || chk_fail "drainers slow: $(done_ab) done"
leader=$(nats_field leader "$(nats_info)")
at_kill=$(done_ab)
running=0
kill -0 "$da" 2>/dev/null && running=$((running + 1))
kill -0 "$db" 2>/dev/null && running=$((running + 1))
case $leader in
c[123]) nats_kill "$leader" ;;
*) chk_fail "no stream leader to kill: '$leader'" ;;
esac
t_kill=$(now_ms)
wait "$da"
ra=$?
wait "$db"
rb=$?
t1=$(now_ms)
chk_eq "drainers still running at the kill" 2 "$running"
chk_eq "drainer exit statuses" 00 "$ra$rb"
first_done=$(done_ab)
retried=$(cat "$T"/drain-a.err "$T"/drain-b.err | grep 'action=publish' | grep -c 'result=retry')
# What waits in retry/ goes through on later passes.
drain_ok() {
	for d_cfg in a b; do
		env -i "PATH=$PATH" "ESIGNHOOK_CONFIG=$T/cfg/$d_cfg.env" "$CTL" drain \
		    >>"$T/drain-more.out" 2>>"$T/drain-more.err"
	done
	[ "$(done_ab)" -eq "$N" ]
}
wait_until 400 drain_ok || chk_fail "after 20 s more: $(done_ab) of $N done"
t2=$(now_ms)
chk_eq "failed/" 0 "$(find "$T"/spool-a/failed "$T"/spool-b/failed -name '*.json' 2>/dev/null | wc -l | tr -d ' ')"
nats_msgs || chk_fail "nats-check: $(cat "$T/nats-check.err")"
chk_stream_once "$T/ids"
chk_payloads "$RECS"
chk_done "two drainers, stream leader $leader killed after $at_kill of $N: $first_done done in the first pass ($((t1 - t0)) ms), $retried publish retries, all $N done $((t2 - t_kill)) ms after the kill; every event in the stream exactly once, payloads the records' bytes"

chk_reset
info=$(nats_info)
chk_eq "messages" "$N" "$(nats_field msgs "$info")"
new_leader=$(nats_field leader "$info")
[ "$new_leader" != "$leader" ] || chk_fail "leader still $leader"
nats_start "$leader"
caught_up() {
	nats_healthy "$leader" &&
	    nats_info | grep -q "msgs $N .* current 3\$"
}
wait_until 400 caught_up || chk_fail "not caught up: $(nats_info)"
nats_msgs "$(nats_url "$leader")" || chk_fail "via $leader: $(cat "$T/nats-check.err")"
chk_stream_once "$T/ids"
chk_done "the killed node $leader restarted: healthy, 3 replicas current, $N messages (the leader now $new_leader)"

# ---- 4 consumers, one durable, one killed -9 half-way ----
# The command logs "start W ID" and "end W ID"; W names the process
# (one sh, no script to start: 2,000 of them).
handler() {
	echo "echo \"start $1 \$ESIGNHOOK_EVENT_ID\" >>$T/clog; cat >/dev/null; echo \"end $1 \$ESIGNHOOK_EVENT_ID\" >>$T/clog"
}
: >"$T/clog"
chk_reset
t0=$(now_ms)
pids=
for w in 1 2 3 4; do
	case $w in 1 | 2) c=$CFG_A ;; *) c=$CFG_B ;; esac
	env -i "PATH=$PATH" "ESIGNHOOK_CONFIG=$c" "$CTL" consume \
	    --exec "$(handler "$w")" --durable work \
	    >"$T/consume$w.out" 2>"$T/consume$w.err" &
	eval "cpid$w=$!"
	pids="$pids $!"
	E2E_PIDS="$E2E_PIDS $!"
done
ended() { grep -c '^end ' "$T/clog"; }
half() { [ "$(ended)" -ge $((N / 2)) ]; }
wait_until 1200 half || chk_fail "consumers slow: $(ended) ended"
kill -9 "$cpid1"
wait "$cpid1" 2>/dev/null
nats_forget "$cpid1"
t_kill=$(now_ms)
all_once() {
	[ "$(awk '$1 == "end" { print $3 }' "$T/clog" | sort -u | wc -l)" -eq "$N" ] &&
	    nats_consumer work | grep -q '^pending 0 ack_pending 0 '
}
wait_until 1500 all_once || chk_fail "after 75 s: $(awk '$1 == "end" { print $3 }' "$T/clog" | sort -u | wc -l) of $N ended; $(nats_consumer work)"
t1=$(now_ms)
rcs=
for w in 2 3 4; do
	eval "p=\$cpid$w"
	kill -TERM "$p"
	wait "$p"
	rcs="$rcs$?"
	nats_forget "$p"
done
chk_eq "the others' exit on SIGTERM" 000 "$rcs"
awk '$1 == "end" { print $3 }' "$T/clog" | sort -u >"$T/consumed"
cmp -s "$T/ids" "$T/consumed" ||
    chk_fail "ended ids differ from the stream's: $(comm -3 "$T/ids" "$T/consumed" | head -n 3)"
# Started more than once: only what the killed one had in hand.
awk '$1 == "start" { n[$3]++ } END { for (i in n) if (n[i] > 1) print i }' \
    "$T/clog" | sort >"$T/twice"
awk '$1 == "start" && $2 == 1 { print $3 }' "$T/clog" | sort -u >"$T/killed.ids"
stray=$(comm -23 "$T/twice" "$T/killed.ids" | head -n 3)
[ -z "$stray" ] || chk_fail "run twice but not by the killed consumer: $stray"
twice=$(wc -l <"$T/twice" | tr -d ' ')
[ "$twice" -le 1 ] || chk_fail "$twice events run twice"
shares=
busy=0
for w in 1 2 3 4; do
	s=$(awk -v w="$w" '$1 == "end" && $2 == w' "$T/clog" | wc -l | tr -d ' ')
	shares="$shares${shares:+/}$s"
	[ "$s" -gt 0 ] && busy=$((busy + 1))
done
chk_eq "consumers that took a share" 4 "$busy"
ci=$(nats_consumer work)
chk_done "4 consume processes, durable 'work', #1 killed -9 after $((N / 2)): all $N processed ($((t1 - t0)) ms in all, $((t1 - t_kill)) ms after the kill; shares $shares), $twice run twice (the killed one's in hand), the rest exactly once; $ci"

e2e_done
