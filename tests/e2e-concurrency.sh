#!/bin/sh
# e2e-concurrency.sh: 8 client processes x 1000 requests against 4
# FastCGI worker processes of cgi/esignhook, each with
# ESIGNHOOK_THREADS=1, sharing one listening unix socket (bound once by
# `tests/fcgi-load.py supervise`, handed to each worker as fd 0, as
# spawn-fcgi does; each worker's stderr is its own log file).  Clients
# (`tests/fcgi-load.py load`) send one request per connection, a mix of
# OneSpan events (unique packageId, so dedupe keeps each) and AlphaTrust
# events (unique TransID).
#
# Asserts: 8000 replies 200; exactly 8000 files in new/, 8000 distinct
# ids, each the whole record of the request that carried its
# transaction id; nothing in tmp/; in each worker's log (one thread, so
# lines are in serving order) the ids strictly increase; every worker
# served; the ids logged are the ids spooled; each client's sequential
# requests got increasing ids; workers stop with exit 0 on SIGTERM.
#
# Then one OneSpan event delivered 208 times at once: 16 clients x 13
# requests, all with the same body, against 2 worker processes x 8
# threads on one socket (every thread its own spool handle).  Asserts:
# all 208 answered 200; exactly one file in new/; the log has one
# status=200 line without duplicate=true and 207 with it, all with the
# one event's id; both processes served.
#
# Both run twice: with ESIGNHOOK_SPOOL_COMMIT unset (file), then =group
# (one fdatasync of a process's journal for the records appended
# meanwhile), the same asserts in each; and in each, every worker
# logged ready in that mode and journal/ is empty after SIGTERM.
# Run: sh tests/e2e-concurrency.sh (or SUITES=e2e-concurrency sh tests/run.sh).

E2E_MODE=fcgi
. "$(dirname "$0")/e2e-lib.sh"
e2e_setup

CLIENTS=8
PER_CLIENT=1000
MAIN_WORKERS=4
TOTAL=$((CLIENTS * PER_CLIENT))
SPOOL=$T/spool

# COMMIT: the workers' ESIGNHOOK_SPOOL_COMMIT (empty: unset, the default,
# file); every configuration made from here on carries it.
COMMIT=
# shellcheck disable=SC2119
E2E_BASE=$(base_config)
# shellcheck disable=SC2120
base_config() {
	bc_ifs=$IFS
	IFS=$NL
	# shellcheck disable=SC2086
	e2e_merge $E2E_BASE ${COMMIT:+"ESIGNHOOK_SPOOL_COMMIT=$COMMIT"} "$@"
	IFS=$bc_ifs
}

# chk_after_stop: the workers (stopped) all said ready in the mode of
# $COMMIT, and left journal/ of $SPOOL empty.
chk_after_stop() {
	cas_n=$(grep -l 'FastCGI ready' "$T"/wlogs/*.log | wc -l | tr -d ' ')
	[ "$cas_n" -gt 0 ] || chk_fail "no worker logged ready"
	chk_eq "workers ready with 'commit ${COMMIT:-file}'" "$cas_n" \
	    "$(grep -l "FastCGI ready: .*commit ${COMMIT:-file}" "$T"/wlogs/*.log | wc -l | tr -d ' ')"
	[ -z "$(ls -A "$SPOOL/journal" 2>/dev/null)" ] ||
	    chk_fail "journal/ holds: $(ls -A "$SPOOL/journal" | head -n 5 | tr '\n' ' ')"
}

# conc_main LABEL SOCKET: the mixed load against $MAIN_WORKERS workers of one
# thread and its checks, LABEL naming them; the workers' configuration
# is base_config's (the mode: $COMMIT).
conc_main() {
	L=$1
	L_SOCK=$2
	WORKERS=$MAIN_WORKERS
	# ---- workers ----
	chk_reset
	supervise_start "$T/$L_SOCK.sock" 1 --max-seconds 110
	n=$(grep -l 'FastCGI ready: 1 threads' "$T"/wlogs/*.log 2>/dev/null | wc -l | tr -d ' ')
	chk_eq "workers logging 'FastCGI ready: 1 threads'" "$WORKERS" "$n"
	chk_done "$L: $WORKERS worker processes, ESIGNHOOK_THREADS=1, one shared socket, all ready"

	# ---- load ----
	chk_reset
	t0=$(now_ms)
	"$PY" "$LOAD" load "$T/$L_SOCK.sock" "$T/results" --clients "$CLIENTS" \
	    --requests "$PER_CLIENT" --tag "$L_SOCK" --kind mix --os-key "$OS_KEY" \
	    --at-token "$AT_TOKEN" --deadline 100 --timeout 20 \
	    >"$T/load.out" 2>&1
	rc=$?
	t1=$(now_ms)
	chk_eq "load exit status" 0 "$rc"
	[ "$rc" -eq 0 ] || chk_fail "$(head -c 500 "$T/load.out")"
	chk_eq "requests recorded" "$TOTAL" "$(wc -l <"$T/results" | tr -d ' ')"
	chk_done "$L: $CLIENTS clients x $PER_CLIENT requests sent, one connection each"
	ms=$((t1 - t0))

	# ---- stop ----
	chk_reset
	supervise_stop
	chk_eq "supervisor exit status" 0 "$SUP_RC"
	if [ -s "$T/stats.json" ]; then
		out=$("$PY" -c '
import json, sys
s = json.load(open(sys.argv[1]))
bad = [e for e in s["final_exits"] if e[1] != 0] + s["other_exits"]
print("ok" if not bad and s["spawns"] == int(sys.argv[2]) else
      "spawns %d, abnormal exits (pid, status): %r" % (s["spawns"], bad))
	' "$T/stats.json" "$WORKERS")
		[ "$out" = ok ] || chk_fail "$out"
	else
		chk_fail "no stats from the supervisor: $(cat "$T/supervise.out")"
	fi
	chk_done "$L: no worker died or restarted; each exits 0 on SIGTERM"

	# ---- the spool against the replies ----
	"$PY" "$LOAD" check "$SPOOL" "$T/results" --tag "$L_SOCK" --logs "$T/wlogs" \
	    --expect-all-200 --worker-order >"$T/check.out" 2>&1
	crc=$?

	chk_reset
	chk_eq "replies" "200:$TOTAL" "$(st statuses)"
	chk_eq "acknowledged" "$TOTAL" "$(st acknowledged)"
	grep -q '^FAIL transaction .* status ' "$T/check.out" &&
	    chk_fail "$(grep -m 3 '^FAIL transaction .* status ' "$T/check.out" | tr '\n' ' ')"
	chk_done "$L: all $TOTAL replies are 200 with a complete FastCGI end"

	chk_reset
	chk_eq "files in new/" "$TOTAL" "$(count_new "$SPOOL")"
	chk_eq "whole records" "$TOTAL" "$(st whole_records)"
	chk_eq "distinct ids" "$TOTAL" "$(st distinct_ids)"
	chk_eq "acknowledged without a file" 0 "$(st lost)"
	chk_eq "transactions with more than one file" 0 "$(st duplicates)"
	chk_eq "files in tmp/" 0 "$(count_tmp "$SPOOL")"
	grep -q '^FAIL new/' "$T/check.out" &&
	    chk_fail "$(grep -m 3 '^FAIL new/' "$T/check.out" | tr '\n' ' ')"
	chk_done "$L: exactly $TOTAL events in new/, $TOTAL distinct ids, each the whole record of its request, tmp/ empty"

	chk_reset
	chk_eq "worker logs" "$WORKERS" "$(st worker_logs)"
	grep -q '^FAIL .*not strictly increasing' "$T/check.out" &&
	    chk_fail "$(grep -m 3 '^FAIL .*not strictly increasing' "$T/check.out" | tr '\n' ' ')"
	served=$(st served_per_worker)
	case ",$served," in
	*,0,*) chk_fail "a worker served nothing: $served" ;;
	esac
	chk_done "$L: within each worker the ids strictly increase in serving order (served per worker: $served)"

	chk_reset
	chk_eq "clients whose ids go backwards" 0 "$(st clients_out_of_order)"
	chk_done "$L: each client's sequential requests got increasing ids, across workers"

	chk_reset
	grep -q '^FAIL ids logged\|^FAIL an id logged twice' "$T/check.out" &&
	    chk_fail "$(grep -m 3 '^FAIL ids logged\|^FAIL an id logged' "$T/check.out" | tr '\n' ' ')"
	chk_eq "level=error lines" 0 "$(st log_error_lines)"
	chk_done "$L: the ids logged (status=200) are exactly the ids in new/, no level=error line"

	chk_reset
	chk_eq "check exit status" 0 "$crc"
	chk_eq "check failures" 0 "$(st failures)"
	[ "$crc" -eq 0 ] || chk_fail "$(grep -m 5 '^FAIL\|Traceback\|Error' "$T/check.out" | tr '\n' ' ')"
	chk_done "$L: the full spool check passes"

	chk_reset
	left=$("$PY" -c '
import json, os, sys
for p in json.load(open(sys.argv[1]))["pids"]:
    try:
        os.kill(p, 0)
        print(p)
    except OSError:
        pass
	' "$T/stats.json" 2>/dev/null | tr '\n' ' ')
	[ -z "$left" ] || chk_fail "workers still running: $left"
	[ ! -S "$T/$L_SOCK.sock" ] || chk_fail "socket left behind"
	chk_done "$L: every process started is stopped"

	echo "$L: $CLIENTS clients x $PER_CLIENT requests, $WORKERS workers x 1 thread: $TOTAL events in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s ($((TOTAL * 1000 / (ms > 0 ? ms : 1))) requests/s), served per worker $served"

	chk_reset
	chk_after_stop
	chk_done "$L: every worker in ${COMMIT:-file} mode; after SIGTERM journal/ is empty"
}

# conc_dedupe LABEL SOCKET: one OneSpan event, 208 times at once, in a
# spool of its own.
conc_dedupe() {
	L=$1
	L_SOCK=$2
	WORKERS=2
	DUP_CLIENTS=16
	DUP_EACH=13
	DUP_TOTAL=$((DUP_CLIENTS * DUP_EACH))
	chk_reset
	supervise_start "$T/$L_SOCK.sock" 8 --max-seconds 60
	chk_done "$L: $WORKERS worker processes x 8 threads on one socket, ready"

	chk_reset
	"$PY" "$LOAD" load "$T/$L_SOCK.sock" "$T/dup-results" --clients "$DUP_CLIENTS" \
	    --requests "$DUP_EACH" --tag dup --kind onespan --same \
	    --os-key "$OS_KEY" --at-token "$AT_TOKEN" --deadline 40 --timeout 20 \
	    >"$T/dup-load.out" 2>&1
	rc=$?
	chk_eq "load exit status" 0 "$rc"
	[ "$rc" -eq 0 ] || chk_fail "$(head -c 500 "$T/dup-load.out")"
	supervise_stop
	chk_eq "supervisor exit status" 0 "$SUP_RC"
	chk_eq "replies" "$DUP_TOTAL 200" \
	    "$(awk -F '\t' '{ print $5 }' "$T/dup-results" | sort | uniq -c | awk '{ print $1, $2 }' | tr '\n' ' ' | sed 's/ $//')"
	chk_eq "files in new/" 1 "$(count_new "$SPOOL")"
	chk_eq "files in tmp/" 0 "$(count_tmp "$SPOOL")"
	cat "$T"/wlogs/*.log | grep ' status=200 ' >"$T/dup-lines"
	chk_eq "status=200 log lines" "$DUP_TOTAL" "$(wc -l <"$T/dup-lines" | tr -d ' ')"
	chk_eq "lines without duplicate=true" 1 \
	    "$(grep -vc ' duplicate=true' "$T/dup-lines")"
	chk_eq "ids logged" "$(ls "$SPOOL/new" | sed 's/\.json$//')" \
	    "$(sed -n 's/.* id=\([^ ]*\).*/\1/p' "$T/dup-lines" | sort -u)"
	dup_served=0
	for f in "$T"/wlogs/worker-*.log; do
		grep -q ' status=200 ' "$f" && dup_served=$((dup_served + 1))
	done
	chk_eq "worker processes that served" "$WORKERS" "$dup_served"
	chk_done "$L: one OneSpan event from $DUP_CLIENTS clients at once, $DUP_TOTAL deliveries over $WORKERS processes x 8 threads: all 200, exactly one file, $((DUP_TOTAL - 1)) logged duplicate=true with its id"

	chk_reset
	chk_after_stop
	chk_done "$L: every worker in ${COMMIT:-file} mode; after SIGTERM journal/ is empty"
}

conc_main concurrency conc

# ---- one OneSpan event, 208 times at once ----
# A spool of its own (the first one moves aside, its workers stopped).
mv "$SPOOL" "$T/spool-mix"
rm -rf "$T/wlogs" "$T/stats.json"
conc_dedupe dedupe dup

# ---- both again, in group mode ----
mv "$SPOOL" "$T/spool-dup"
rm -rf "$T/wlogs" "$T/stats.json"
COMMIT=group
conc_main "concurrency, group commit" conc-group
mv "$SPOOL" "$T/spool-mix-group"
rm -rf "$T/wlogs" "$T/stats.json"
conc_dedupe "dedupe, group commit" dup-group
e2e_done
