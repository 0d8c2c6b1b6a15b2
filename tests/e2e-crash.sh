#!/bin/sh
# e2e-crash.sh: crash consistency under kill -9.  3 FastCGI worker
# processes of cgi/esignhook (ESIGNHOOK_THREADS=2 each) share one unix
# socket, bound once by `tests/fcgi-load.py supervise`, which hands it
# to each worker as fd 0 (as spawn-fcgi does), starts a worker again as
# soon as one dies (connections waiting in the socket's backlog are
# kept), and SIGKILLs a random worker every 50-200 ms.  Meanwhile 6
# client processes (`tests/fcgi-load.py load`) send 9000 callbacks, one
# per connection: OneSpan events with unique packageIds (so dedupe keeps
# each) and AlphaTrust events with unique TransIDs, and record each
# reply (status, or none).
#
# Asserts: every request answered 200 has exactly its event in new/
# (by transaction id), a whole record (one line, JSON, every field,
# v=1, the data sent); every file in new/ is an <id>.json of a request
# sent, none partial; no reply other than 200 or none; a request with no
# reply has at most one file (at-least-once: counted, reported); no
# worker died but by our SIGKILL, and each exits 0 on SIGTERM; tmp/
# files no writer holds are removed when a worker starts (planted ones
# too, whatever host their names say), one a live process holds locked
# is kept, and none becomes an event.
# Then two hosts on one spool, both named with 40 characters that share
# the first 32 (UTS and PID namespaces, unshare -u -p): while host A's
# delivery is in flight (its fsync slowed by an LD_PRELOAD shim), host B
# starts and cleans tmp/; A's file, whose name looks like one of B's own
# with a pid B cannot see, is kept, and A's delivery is answered 200
# and stored.
# Then the load under kill -9 again (a third of the requests) with the
# workers in group mode (ESIGNHOOK_SPOOL_COMMIT=group), and the same
# asserts, and: every worker says "commit group"; the workers started
# after kills logged a "journal recovery" of the segments the dead left,
# writing again at most as many records as requests went unanswered; no
# level=error line; after SIGTERM, in either mode, journal/ is empty; a
# final clean start and stop leaves no *.seg.
# Bounded: the supervisor lives at most 100 s, the clients stop sending
# after 80 s.
# Run: sh tests/e2e-crash.sh (or SUITES=e2e-crash sh tests/run.sh).

E2E_MODE=fcgi
. "$(dirname "$0")/e2e-lib.sh"
e2e_setup

CLIENTS=6
PER_CLIENT=1500
WORKERS=3
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

# stats.json field $1 (a number), or empty.
stat_json() {
	"$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
	    "$T/stats.json" "$1" 2>/dev/null
}

# hold_file FILE: a live writer, holding FILE locked (a POSIX lock,
# which conflicts with the cleaner's lock) until unhold_file.
hold_file() {
	rm -f "$T/held"
	"$PY" -c '
import fcntl, sys, time
f = open(sys.argv[1], "r+")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
open(sys.argv[2], "w").close()
time.sleep(300)
' "$1" "$T/held" &
	HOLD_PID=$!
	E2E_PIDS="$E2E_PIDS $HOLD_PID"
	hf_i=0
	while [ ! -e "$T/held" ] && [ "$hf_i" -lt 200 ]; do
		kill -0 "$HOLD_PID" 2>/dev/null || break
		sleep 0.025
		hf_i=$((hf_i + 1))
	done
	[ -e "$T/held" ] || chk_fail "could not lock $1"
}

unhold_file() {
	kill "$HOLD_PID" 2>/dev/null
	wait "$HOLD_PID" 2>/dev/null
}

# journal_empty SPOOL: SPOOL/journal/ holds nothing (or is absent).
journal_empty() {
	[ -z "$(ls -A "$1/journal" 2>/dev/null)" ]
}

# workers_settled: the worker each slot of the supervisor runs now (its
# latest log) has logged ready and is alive (not a zombie).
workers_settled() {
	"$PY" -c '
import os, re, sys
last = {}
for n in os.listdir(sys.argv[1]):
    m = re.fullmatch(r"worker-(\d+)-(\d+)\.log", n)
    if m and int(m.group(2)) > last.get(m.group(1), (0, ""))[0]:
        last[m.group(1)] = (int(m.group(2)), n)
for _, n in last.values():
    m = re.search(rb"FastCGI ready: .*, pid (\d+)",
                  open(os.path.join(sys.argv[1], n), "rb").read())
    try:
        st = open("/proc/%s/stat" % m.group(1).decode()).read()
    except (AttributeError, OSError):
        sys.exit(1)
    if st[st.rindex(")") + 2] in "ZX":
        sys.exit(1)
sys.exit(0 if len(last) == int(sys.argv[2]) else 1)
' "$T/wlogs" "$WORKERS"
}

# crash_run LABEL SOCKET PER_CLIENT: the run under kill -9 and the
# checks of the spool against the replies, LABEL naming the checks; the
# workers' configuration is base_config's (the mode: $COMMIT).  Sets
# TOTAL, ms, KILLS, SPAWNS, ACKED, LOST, NOREPLY, NOREPLY_STORED.
crash_run() {
	L=$1
	L_SOCK=$2
	PER_CLIENT=$3
	TOTAL=$((CLIENTS * PER_CLIENT))
	# ---- workers and the killer ----
	chk_reset
	supervise_start "$T/$L_SOCK.sock" 2 --kill-min 50 --kill-max 200 --max-seconds 100
	chk_done "$L: $WORKERS worker processes (2 threads each) on one socket, ready; killer armed"

	# ---- load under kill -9 ----
	chk_reset
	t0=$(now_ms)
	"$PY" "$LOAD" load "$T/$L_SOCK.sock" "$T/results" --clients "$CLIENTS" \
	    --requests "$PER_CLIENT" --tag "$L_SOCK" --kind mix --os-key "$OS_KEY" \
	    --at-token "$AT_TOKEN" --deadline 80 --timeout 15 \
	    >"$T/load.out" 2>&1
	rc=$?
	t1=$(now_ms)
	ms=$((t1 - t0))
	chk_eq "load exit status" 0 "$rc"
	[ "$rc" -eq 0 ] || chk_fail "$(head -c 500 "$T/load.out")"
	chk_eq "requests recorded" "$TOTAL" "$(wc -l <"$T/results" | tr -d ' ')"
	notsent=$(grep -c 'not sent' "$T/results")
	chk_eq "requests not sent before the deadline" 0 "$notsent"
	chk_done "$L: $CLIENTS clients x $PER_CLIENT requests sent while workers are killed"

	# ---- stop: no more kills, SIGTERM ----
	chk_reset
	: >"$T/wlogs/nokill"
	# Group commit: the worker killed last comes back first, so SIGTERM
	# meets none in its start-up recovery (which it would cut short:
	# the segment left for the next start, not lost, but not empty).
	if [ "$COMMIT" = group ]; then
		wait_until 200 workers_settled ||
		    chk_fail "workers not all ready again after the last kill"
	fi
	supervise_stop
	chk_eq "supervisor exit status" 0 "$SUP_RC"
	if [ -s "$T/stats.json" ]; then
		out=$("$PY" -c '
import json, sys
s = json.load(open(sys.argv[1]))
errs = []
if s["other_exits"]:
    errs.append("workers that died but not by our SIGKILL (pid, status): %r"
                % s["other_exits"])
bad = [e for e in s["final_exits"] if e[1] != 0]
if bad:
    errs.append("workers not exiting 0 on SIGTERM (pid, status): %r" % bad)
if s["killed_exits"] != s["kills"]:
    errs.append("%d kills, %d deaths by SIGKILL" % (s["kills"],
                                                     s["killed_exits"]))
print("; ".join(errs) or "ok")
' "$T/stats.json")
		[ "$out" = ok ] || chk_fail "$out"
	else
		chk_fail "no stats from the supervisor: $(cat "$T/supervise.out")"
	fi
	KILLS=$(stat_json kills)
	SPAWNS=$(stat_json spawns)
	[ "${KILLS:-0}" -gt 0 ] || chk_fail "no worker was killed"
	chk_done "$L: ${KILLS:-?} SIGKILLs, ${SPAWNS:-?} worker starts; no worker died otherwise; survivors exit 0 on SIGTERM"

	chk_reset
	journal_empty "$SPOOL" ||
	    chk_fail "journal/ holds: $(ls -A "$SPOOL/journal" | head -n 5 | tr '\n' ' ')"
	chk_done "$L: after SIGTERM journal/ is empty${COMMIT:+ (what killed workers left was recovered by the next start)}"

	# ---- the spool against the replies ----
	"$PY" "$LOAD" check "$SPOOL" "$T/results" --tag "$L_SOCK" \
	    --logs "$T/wlogs" >"$T/check.out" 2>&1
	crc=$?
	ACKED=$(st acknowledged)
	LOST=$(st lost)
	NOREPLY=$(st noreply)
	NOREPLY_STORED=$(st noreply_stored)

	chk_reset
	chk_eq "acknowledged (200) without their event in new/" 0 "$LOST"
	grep -q '^FAIL transaction .*acknowledged' "$T/check.out" &&
	    chk_fail "$(grep -m 3 '^FAIL transaction .*acknowledged' "$T/check.out" | tr '\n' ' ')"
	[ "${ACKED:-0}" -gt 0 ] || chk_fail "nothing acknowledged"
	chk_done "$L: every 200 (${ACKED:-?} of $TOTAL) has its event in new/"

	chk_reset
	chk_eq "transactions with more than one file" 0 "$(st duplicates)"
	grep -q '^FAIL new/' "$T/check.out" &&
	    chk_fail "$(grep -m 3 '^FAIL new/' "$T/check.out" | tr '\n' ' ')"
	chk_eq "files in new/ that are whole records" "$(count_new "$SPOOL")" "$(st whole_records)"
	chk_eq "distinct ids" "$(count_new "$SPOOL")" "$(st distinct_ids)"
	chk_done "$L: every file in new/ ($(count_new "$SPOOL")) is one whole record (one line, JSON, every field, v=1, the data sent) of one request; none partial"

	chk_reset
	case ",$(st statuses)," in
	*,200:*) ;;
	*) chk_fail "no 200 at all: $(st statuses)" ;;
	esac
	other=$(st statuses | tr ',' '\n' | grep -v '^200:' | grep -v '^-:')
	[ -z "$other" ] || chk_fail "replies other than 200 or none: $other"
	chk_eq "4xx/5xx replies with a spooled event" 0 "$(grep -c '^FAIL transaction .*but spooled' "$T/check.out")"
	chk_done "$L: each request got 200 or no reply at all (replies: $(st statuses))"

	chk_reset
	chk_eq "clients whose ids go backwards" 0 "$(st clients_out_of_order)"
	chk_eq "check failures" 0 "$(st failures)"
	chk_eq "check exit status" 0 "$crc"
	[ "$crc" -eq 0 ] || chk_fail "$(grep -m 5 '^FAIL\|Traceback\|Error' "$T/check.out" | tr '\n' ' ')"
	chk_done "$L: the full spool check passes (${NOREPLY:-?} requests with no reply, ${NOREPLY_STORED:-?} of them stored anyway: at least once)"
}

crash_run crash crash "$PER_CLIENT"

# ---- tmp/: what killed workers left is removed at start-up ----
REMOVED=$(cat "$T"/wlogs/*.log | sed -n 's/.*msg="removed \([0-9]*\) stale tmp\/ files".*/\1/p' |
    awk '{ s += $1 } END { print s + 0 }')
LEFT=$(count_tmp "$SPOOL")
NEW_BEFORE=$(count_new "$SPOOL")
chk_reset
# Every tmp/ file left now is named <id>.<host>.<pid> of a dead worker
# (<host>: this host's name, anything but letters and digits as '-').
HOST=$(hostname | tr -c 'A-Za-z0-9\n' '-' | cut -c1-32)
if [ "$LEFT" -gt 0 ]; then
	for f in "$SPOOL"/tmp/*; do
		pid=${f##*.}
		case $pid in
		'' | *[!0-9]*) chk_fail "tmp/ file not named <id>.<host>.<pid>: $f" ;;
		*) kill -0 "$pid" 2>/dev/null && chk_fail "tmp/ file of a live pid $pid" ;;
		esac
		case $f in
		*".$HOST.$pid") ;;
		*) chk_fail "tmp/ file without this host's name: $f" ;;
		esac
	done
fi
# Plant what a killed writer leaves (a partial record, no lock), a file
# named for another host (no lock either: names decide nothing), and
# what a live writer has: a file it holds locked.
printf '{"v":1,"id":"20260101T000000.000000Z-0123456789abcdef","rece' \
    >"$SPOOL/tmp/20260101T000000.000000Z-0123456789abcdef.$HOST.12345"
printf '{"v":1,"id":"20260101T000000.000001Z-fedcba9876543210","rece' \
    >"$SPOOL/tmp/20260101T000000.000001Z-fedcba9876543210.$HOST.$$"
printf '{"v":1' >"$SPOOL/tmp/20260101T000000.000002Z-00000000000000aa.otherhost.1"
hold_file "$SPOOL/tmp/20260101T000000.000001Z-fedcba9876543210.$HOST.$$"
# As they are a while later: an empty file that a writer has only just
# created may not be locked yet, so a cleaner leaves it for a minute.
find "$SPOOL/tmp" -type f -exec touch -d '2 minutes ago' {} +
use_config fresh
[ -S "$FCGI_SOCK" ] || chk_fail "a fresh worker did not start: $(cat "$LOG")"
want=$((LEFT + 2))
grep -q "removed $want stale tmp/ files" "$LOG" ||
    chk_fail "log lacks 'removed $want stale tmp/ files': $(head -n 3 "$LOG" | tr '\n' ' ')"
[ -e "$SPOOL/tmp/20260101T000000.000000Z-0123456789abcdef.$HOST.12345" ] &&
    chk_fail "the dead writer's file was kept"
[ -e "$SPOOL/tmp/20260101T000000.000001Z-fedcba9876543210.$HOST.$$" ] ||
    chk_fail "the live writer's file was removed"
[ -e "$SPOOL/tmp/20260101T000000.000002Z-00000000000000aa.otherhost.1" ] &&
    chk_fail "another host's file that no one holds was kept"
chk_eq "files in tmp/ after start-up" 1 "$(count_tmp "$SPOOL")"
chk_eq "files in new/ after start-up" "$NEW_BEFORE" "$(count_new "$SPOOL")"
ls -A "$SPOOL/new" | grep -v '^[0-9]\{8\}T[0-9]\{6\}\.[0-9]\{6\}Z-[0-9a-f]\{16\}\.json$' >"$T/odd" &&
    chk_fail "names in new/ that are not <id>.json: $(head -n 3 "$T/odd" | tr '\n' ' ')"
chk_done "crash: a new worker removes the tmp/ files no writer holds ($LEFT left by kills + 2 planted, one named for another host), keeps the one a live writer holds locked, and none becomes an event"
unhold_file
rm -f "$SPOOL/tmp/20260101T000000.000001Z-fedcba9876543210.$HOST.$$"

# ---- two hosts, one spool: their names collide, their locks do not ----
# 40-character host names sharing the first 32 (what tmp/ names keep).
P32=esignhook-shared-spool-receivers
HA=$P32-east-01
HB=$P32-west-02
SLOW=$T/slowfsync.so
cat >"$T/slowfsync.c" <<'SHIM'
/* fsync(2) of a regular file sleeps SLOW_FSYNC_MS first: a delivery
 * stays in flight, its file in tmp/, that long. */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

int
fsync(int fd)
{
	static int (*real)(int);
	struct stat st;
	const char *ms = getenv("SLOW_FSYNC_MS");
	struct timespec ts;
	long v;

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (ms != NULL && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		v = strtol(ms, NULL, 10);
		ts.tv_sec = v / 1000;
		ts.tv_nsec = (v % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
	return real(fd);
}
SHIM

# host_start NAME HOSTNAME SPACERS [VAR=value...]: the receiver on
# $T/NAME.sock under spawn-fcgi, in UTS and PID namespaces of its own
# (host name HOSTNAME; the shell is pid 1 there, and SPACERS processes
# run and end before the receiver starts, to give it a pid of its
# own); sets HOST_PID, unshare's (kill -9 takes the namespace down).
# shellcheck disable=SC2046
host_start() {
	hs_name=$1 hs_host=$2 hs_spacers=$3
	shift 3
	rm -f "$T/$hs_name.sock"
	IFS=$NL
	set -f
	env -i PATH=/usr/bin:/bin $(cat "$T/cfg/hosts.env") "$@" \
	    unshare -u -p -f --kill-child sh -c '
		hostname "$1" || exit 1
		i=0
		while [ "$i" -lt "$2" ]; do /bin/true; i=$((i + 1)); done
		shift 2
		"$@"
		exit $?' sh "$hs_host" "$hs_spacers" \
	    "$SPAWN_FCGI" -n -s "$T/$hs_name.sock" -- "$BIN" \
	    >/dev/null 2>"$T/logs/$hs_name.log" &
	HOST_PID=$!
	IFS=' 	
'
	set +f
	E2E_PIDS="$E2E_PIDS $HOST_PID"
	hs_i=0
	while [ "$hs_i" -lt 200 ]; do
		grep -q 'FastCGI ready' "$T/logs/$hs_name.log" 2>/dev/null && return 0
		kill -0 "$HOST_PID" 2>/dev/null || return 1
		sleep 0.025
		hs_i=$((hs_i + 1))
	done
	return 1
}

chk_reset
TH=$T/spool-hosts
base_config "ESIGNHOOK_SPOOL=$TH" ESIGNHOOK_THREADS=1 >"$T/cfg/hosts.env"
if ! cc -shared -fPIC -O2 -o "$SLOW" "$T/slowfsync.c" -ldl >"$T/cc.out" 2>&1; then
	chk_fail "cc slowfsync.c: $(head -c 300 "$T/cc.out")"
elif ! unshare -u -p -f --kill-child true 2>"$T/unshare.err"; then
	chk_fail "unshare -u -p -f: $(cat "$T/unshare.err") (run as root)"
elif ! host_start hostA "$HA" 6 "LD_PRELOAD=$SLOW" SLOW_FSYNC_MS=3000 \
    ASAN_OPTIONS=verify_asan_link_order=0; then
	chk_fail "host A did not start: $(cat "$T/logs/hostA.log")"
else
	HA_PID=$HOST_PID
	th_body=$(mkbody hosts.json "$(os_json PACKAGE_COMPLETE two-hosts)")
	env -i GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST \
	    REQUEST_URI=/esignhook/onespan CONTENT_TYPE=application/json \
	    "CONTENT_LENGTH=$(wc -c <"$th_body" | tr -d ' ')" \
	    "HTTP_AUTHORIZATION=Basic $OS_KEY" "REMOTE_ADDR=$REMOTE" \
	    "$CGI_FCGI" -bind -connect "$T/hostA.sock" <"$th_body" \
	    >"$T/hostA.resp" 2>&1 &
	th_req=$!
	th_i=0
	while [ "$(count_tmp "$TH")" -eq 0 ] && [ "$th_i" -lt 200 ]; do
		sleep 0.025
		th_i=$((th_i + 1))
	done
	th_file=$(ls "$TH/tmp" 2>/dev/null)
	case $th_file in
	*".$P32."[0-9]*) ;;
	*) chk_fail "host A's file in tmp/ not named <id>.$P32.<pid>: '$th_file'" ;;
	esac
	host_start hostB "$HB" 0 ||
	    chk_fail "host B did not start: $(cat "$T/logs/hostB.log")"
	HB_PID=$HOST_PID
	# B's namespace holds its shell (pid 1) and B: A's pid is not there.
	th_pa=$(sed -n 's/.*FastCGI ready: 1 threads, pid \([0-9]*\).*/\1/p' "$T/logs/hostA.log")
	th_pb=$(sed -n 's/.*FastCGI ready: 1 threads, pid \([0-9]*\).*/\1/p' "$T/logs/hostB.log")
	case $th_file in
	*".$P32.$th_pa") ;;
	*) chk_fail "host A's file '$th_file' does not end in its pid $th_pa" ;;
	esac
	[ -n "$th_pa" ] && [ -n "$th_pb" ] && [ "$th_pa" -gt 1 ] &&
	    [ "$th_pa" != "$th_pb" ] ||
	    chk_fail "pids in the namespaces: A $th_pa, B $th_pb (want A > 1, A != B)"
	grep -q 'removed [0-9]* stale tmp/ files' "$T/logs/hostB.log" &&
	    chk_fail "host B: $(grep -o 'removed [0-9]* stale tmp/ files' "$T/logs/hostB.log")"
	[ -n "$th_file" ] && [ ! -e "$TH/tmp/$th_file" ] &&
	    [ ! -e "$TH/new/${th_file%".$P32."*}.json" ] &&
	    chk_fail "host A's in-flight file is gone and not in new/"
	wait "$th_req"
	parse_response "$T/hostA.resp"
	chk_eq "host A's reply" 200 "$STATUS"
	chk_eq "files in new/" 1 "$(count_new "$TH")"
	chk_eq "files in tmp/" 0 "$(count_tmp "$TH")"
	# unshare ignores SIGTERM; killed, it takes its namespace along.
	for th_p in $HA_PID $HB_PID; do
		kill -9 "$th_p" 2>/dev/null
		wait "$th_p" 2>/dev/null
	done
fi
chk_done "crash: two hosts named $HA and $HB share a spool: B's start-up keeps A's in-flight tmp/ file (the same 32-character tag, a pid B cannot see), A's delivery gets 200 and is stored"

chk_reset
spool_snap
os_post "$(mkbody after.json "$(os_json PACKAGE_COMPLETE after-crash)")"
chk_os_ok
chk_one_added
[ -n "$ADDED" ] && chk_record "$ADDED" onespan "$T/in/after.json" true
chk_done "crash: the spool accepts events after the run"

chk_reset
fcgi_stop fresh
chk_eq "fresh worker exit status" 0 "$FCGI_RC"
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
[ ! -S "$T/crash.sock" ] || chk_fail "socket left behind"
chk_done "crash: every process started is stopped"

echo "crash: requests under kill -9: $TOTAL in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s, kills: ${KILLS:-?}, worker starts: ${SPAWNS:-?}, acknowledged: ${ACKED:-?}, lost: ${LOST:-?}, no reply: ${NOREPLY:-?} (stored anyway: ${NOREPLY_STORED:-?}), tmp/ files removed at start-up: $REMOVED during the run + $LEFT after it"

# ---- the same in group mode (a third of the requests) ----
mv "$SPOOL" "$T/spool-file"
mv "$T/wlogs" "$T/wlogs-file"
mv "$T/stats.json" "$T/stats-file.json"
COMMIT=group
crash_run "crash, group commit" crash-group $((PER_CLIENT / 3))

chk_reset
n_ready=$(grep -l 'FastCGI ready' "$T"/wlogs/*.log | wc -l | tr -d ' ')
chk_eq "workers ready with 'commit group'" "$n_ready" \
    "$(grep -l 'FastCGI ready: .*commit group' "$T"/wlogs/*.log | wc -l | tr -d ' ')"
sed -n 's/.*journal recovery: \([0-9]*\) segments\{0,1\}, \([0-9]*\) records\{0,1\}, \([0-9]*\) written again, \([0-9]*\) torn tails\{0,1\} dropped.*/\1 \2 \3 \4/p' \
    "$T"/wlogs/*.log >"$T/recoveries"
# shellcheck disable=SC2046
set -- $(awk '{ s += $1; r += $2; w += $3; t += $4 }
    END { print NR + 0, s + 0, r + 0, w + 0, t + 0 }' "$T/recoveries")
G_STARTS=$1 G_SEGS=$2 G_RECS=$3 G_WRITTEN=$4 G_TORN=$5
[ "$G_SEGS" -gt 0 ] ||
    chk_fail "no 'journal recovery: N segments' line with N > 0 after ${KILLS:-?} kills"
# A record written again had no new/ file when its writer died: a
# request never answered, or one answered whose file the publisher had
# not written yet (it follows the journal by up to 2 MiB).  Not bounded
# by the requests without a reply, then; the checks above say no event
# has two files and every answered one is there.
grep -h 'level=error' "$T"/wlogs/*.log >"$T/errors"
[ -s "$T/errors" ] && chk_fail "level=error: $(head -n 3 "$T/errors" | tr '\n' ' ')"
chk_done "crash, group commit: every worker ($n_ready) in group mode; recovery ran at $G_STARTS starts after the kills ($G_SEGS segments, $G_RECS records, $G_WRITTEN written again, $G_TORN torn tails dropped), no level=error line"

chk_reset
use_config groupfinal
[ -S "$FCGI_SOCK" ] || chk_fail "a fresh worker did not start: $(cat "$LOG")"
grep -q 'FastCGI ready: .*commit group' "$LOG" ||
    chk_fail "not in group mode: $(grep 'FastCGI ready' "$LOG")"
spool_snap
os_post "$(mkbody after-group.json "$(os_json PACKAGE_COMPLETE after-crash-group)")"
chk_os_ok
chk_one_added
[ -n "$ADDED" ] && chk_record "$ADDED" onespan "$T/in/after-group.json" true
fcgi_stop groupfinal
chk_eq "exit status after SIGTERM" 0 "$FCGI_RC"
left=$(find "$SPOOL/journal" -name '*.seg' 2>/dev/null | head -n 5 | tr '\n' ' ')
[ -z "$left" ] || chk_fail "segments left: $left"
chk_done "crash, group commit: a final clean start and stop: 200, the record in new/, no *.seg left"

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
[ ! -S "$T/crash-group.sock" ] || chk_fail "socket left behind"
chk_done "crash, group commit: every process started is stopped"

echo "crash, group commit: requests under kill -9: $TOTAL in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s, kills: ${KILLS:-?}, worker starts: ${SPAWNS:-?}, acknowledged: ${ACKED:-?}, lost: ${LOST:-?}, no reply: ${NOREPLY:-?} (stored anyway: ${NOREPLY_STORED:-?}), recovered: $G_SEGS segments, $G_RECS records, $G_WRITTEN written again"
e2e_done
