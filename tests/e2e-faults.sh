#!/bin/sh
# e2e-faults.sh: the spool's failure paths, in the real cgi/esignhook,
# as CGI and as FastCGI (spawn-fcgi -n, requests with cgi-fcgi).
#
# 1. Injected faults.  tests/faultshim.c, built here and LD_PRELOADed,
#    makes one system call fail on the spool's paths only (FAULT_DIR;
#    stdout, stderr and the FastCGI socket are never touched): ENOSPC
#    and EIO on write, EIO on the file's fsync, on the rename, on the
#    fsync of new/, EIO on close, EACCES on creating the tmp/ file.
#    Each: a OneSpan and an AlphaTrust event get 503 with
#    Retry-After: 300 and the cause as body; new/, tmp/ and seen/ are
#    unchanged; the log line is level=error with reason, op= and errno=;
#    the shim failed exactly one call per request.  Then the fault is
#    lifted two ways, on the same spool: a worker whose fault happens
#    once (FAULT_COUNT=1) takes the next event without a restart, and a
#    worker without the shim stores the very OneSpan event refused
#    before (so no seen/ marker was left for it).  FAULT_AFTER fails a
#    call in the middle of a run.
#    The same in group mode (FastCGI, ESIGNHOOK_SPOOL_COMMIT=group),
#    FAULT_MATCH choosing the journal's segments or the new/ file:
#    ENOSPC and EIO on the journal's writev, EIO on its fdatasync,
#    EACCES on creating a segment after a failed write: 503 as in file
#    mode (op="journal write", "journal fdatasync", "journal create"),
#    and once lifted the same worker stores the next event through a new
#    segment.  EACCES on the first segment, made at the start: the worker
#    stores file by file.  A failed fdatasync cuts the segment back
#    (kill -9 right after it, and recovery brings the refused event
#    nowhere), also when the cut fails too.  EIO on the tmp/ write or
#    the rename of the new/ file, once the journal holds the event: 200,
#    the keeper writes it into new/ once the fault is lifted; while it
#    persists the segment stays, and recovery at the next start writes
#    it.  EIO on the keeper's syncfs: 200, segments kept until a syncfs
#    succeeds.  Each case ends with SIGTERM and a restart without the
#    shim: every acknowledged event once and whole in new/, none
#    refused anywhere, journal/ empty.
# 2. Real faults on a small tmpfs (mounted here, unmounted on exit): a
#    full disk (every 200 has its whole record; 503 once full; health
#    503; free the space and the same running worker stores again); the
#    ESIGNHOOK_SPOOL_MIN_FREE threshold (per-request param and restart);
#    a read-only remount and back.  In group mode, a full disk (a short
#    journal write, new/ files the journal holds but the disk does not):
#    200s then 503s; with the space freed the keeper writes every
#    acknowledged event into new/.
# 3. The spool deleted (rm -rf) under a running worker, 1 and 4
#    threads.  Sandbox off: every thread notices before use, so not one
#    503; the spool is recreated by the next request, no restart.
#    Sandbox on (the default): Landlock names the old spool, so the
#    worker answers 503 (logged level=error), exits 75 (EX_TEMPFAIL) for
#    its supervisor, and the restarted worker recreates the spool and
#    stores.  As CGI, the next request recreates the spool.
# 4. The spool moved and replaced (mv spool spool.old; mkdir spool)
#    under a running worker, whose handles still hold the old, writable
#    directories.  Sandbox off: the next events land in the new spool,
#    none in spool.old, health 200, no restart.  Sandbox on: the health
#    check says 503 (not 200 for the old directory), logged op="open
#    spool", the worker exits 75; restarted, it stores in the new spool.
#
# The shim tracks the descriptors it saw opened under FAULT_DIR (no
# /proc), and opens its own log before main, so it works inside the
# receiver's Landlock + seccomp sandbox.
#
# Ends with "faults injected: N (...)" and "N passed, N failed".
# Run as root: sh tests/e2e-faults.sh (or SUITES=e2e-faults sh tests/run.sh).

E2E_MODE=fcgi
. "$(dirname "$0")/e2e-lib.sh"
e2e_setup

MNT=$T/mnt
MOUNTED=
SHIM=$T/faultshim.so
FLOG=$T/faults.log
: >"$FLOG"
REAL=0
SHIM_CASES=0
G_CASES=0
N_EV=0
CGI_LOG=$T/logs/cgi.log

# Stop the servers (they hold the mount busy), unmount, then the rest.
faults_cleanup() {
	e2e_stop_all
	for fc_m in $MOUNTED; do
		mount -o remount,rw "$fc_m" 2>/dev/null
		umount "$fc_m" 2>/dev/null || umount -l "$fc_m" 2>/dev/null
	done
	MOUNTED=
	e2e_cleanup
}
trap 'faults_cleanup' EXIT

# ---- helpers ----

to_cgi() {
	E2E_MODE=cgi
	LOG=$CGI_LOG
}

to_fcgi() {
	E2E_MODE=fcgi
}

# A fresh OneSpan event (unique packageId), POSTed; EV_FILE, EV_KIND
# name it for chk_stored and ev_again.
ev_os() {
	N_EV=$((N_EV + 1))
	EV_KIND=onespan
	EV_FILE=$(mkbody "ev$N_EV.json" "$(os_json PACKAGE_COMPLETE "faults-$N_EV")")
	os_post "$EV_FILE" "$@"
}

# A fresh AlphaTrust event (unique TransID), POSTed as a form.
ev_at() {
	N_EV=$((N_EV + 1))
	EV_KIND=form
	EV_FILE=$(mkbody "ev$N_EV.form" "TransID=$((7000000000 + N_EV))&TXStatus=4&EventType=transaction")
	at_post "$EV_FILE" "$@"
}

# The event in EV_FILE again.
ev_again() {
	if [ "$EV_KIND" = onespan ]; then
		os_post "$EV_FILE" "$@"
	else
		at_post "$EV_FILE" "$@"
	fi
}

health() {
	req REQUEST_METHOD=GET QUERY_STRING= REQUEST_URI=/esignhook/ "$@"
}

# The dedupe markers of $SPOOL: seen/<ab>/<key> (and seen/<key> from
# before the shards), not the shard directories or seen/.lock.
seen_markers() {
	find "$SPOOL/seen" -mindepth 1 ! -type d ! -name '.*' 2>/dev/null |
	    wc -l | tr -d ' '
}

# Before a request: what new/, seen/ and the shim's log hold.
snap() {
	spool_snap
	SEEN_N=$(seen_markers)
	FLOG_N=$(wc -l <"$FLOG" | tr -d ' ')
}

# After a request: the shim failed exactly $1 calls since snap.
chk_injected() {
	ci_n=$(($(wc -l <"$FLOG" | tr -d ' ') - FLOG_N))
	[ "$ci_n" -eq "$1" ] ||
	    chk_fail "shim injected $ci_n faults, want $1: $(tail -n 2 "$FLOG" | tr '\n' ' ')"
}

# The response is 200 for the event in EV_FILE, and new/ got exactly its
# whole record.
chk_stored() {
	if [ "$EV_KIND" = onespan ]; then
		chk_os_ok
	else
		chk_at_ok RECEIVED
	fi
	chk_one_added
	[ -n "$ADDED" ] && chk_record "$ADDED" "$EV_KIND" "$EV_FILE" true
	[ "$(count_tmp "$SPOOL")" -eq 0 ] || chk_fail "tmp/ not empty: $(ls -A "$SPOOL/tmp")"
}

# The log line of the last request is level=error with op=$1, and
# errno="$2" (none when $2 is empty).
chk_cause() {
	cc_line=$(printf '%s\n' "$REQ_LOG" | grep ' status=' | tail -n 1)
	case $cc_line in
	*"level=error "*) ;;
	*) chk_fail "log line not level=error: '$cc_line'" ;;
	esac
	case $1 in
	*[' =']*) cc_op="op=\"$1\"" ;;
	*) cc_op="op=$1" ;;
	esac
	case "$cc_line " in
	*" $cc_op "*) ;;
	*) chk_fail "log line lacks $cc_op: '$cc_line'" ;;
	esac
	if [ -n "$2" ]; then
		case $cc_line in
		*" errno=\"$2\""*) ;;
		*) chk_fail "log line lacks errno=\"$2\": '$cc_line'" ;;
		esac
	fi
}

# chk_refused REASON OP ERRNO: 503 with Retry-After: 300 and REASON,
# logged level=error with the cause; new/, tmp/ and seen/ unchanged.
chk_refused() {
	chk_error 503 "$1"
	chk_retry_after
	chk_cause "$2" "$3"
	chk_eq "markers in seen/" "$SEEN_N" "$(seen_markers)"
}

# The FastCGI server of config $1 (a shell name: FCGI_PID_$1) is the
# process started as $2, still running.
chk_same_worker() {
	eval "csw_pid=\${FCGI_PID_$1:-}"
	chk_eq "worker pid" "$2" "$csw_pid"
	kill -0 "$2" 2>/dev/null || chk_fail "worker $2 is not running"
}

stop_server() {
	fcgi_stop "$1" || return 0
	[ "$FCGI_RC" = 0 ] || not_ok "$1: server stops on SIGTERM" "exit status $FCGI_RC"
}

# shim_vars SPOOL SPEC MATCH [KEY=value...]: the environment that arms
# the shim on SPOOL, one word each.
shim_vars() {
	sv_s=$1 sv_f=$2 sv_m=$3
	shift 3
	set -- "LD_PRELOAD=$SHIM" "FAULT=$sv_f" "FAULT_DIR=$sv_s" \
	    "FAULT_LOG=$FLOG" ASAN_OPTIONS=verify_asan_link_order=0 "$@"
	if [ -n "$sv_m" ]; then
		set -- "$@" "FAULT_MATCH=$sv_m"
	fi
	printf '%s\n' "$@"
}

# ---- the shim ----

chk_reset
if cc -shared -fPIC -O2 -o "$SHIM" "$E2E_ROOT/tests/faultshim.c" -ldl \
    >"$T/cc.out" 2>&1; then
	:
else
	chk_fail "cc failed: $(head -c 600 "$T/cc.out")"
fi
chk_done "faults: tests/faultshim.c builds as an LD_PRELOAD library"

# Armed on another directory: nothing fails, nothing is counted.
to_fcgi
chk_reset
IFS=$NL
# shellcheck disable=SC2046
use_config elsewhere "ESIGNHOOK_SPOOL=$T/spool-elsewhere" \
    $(shim_vars "$T/elsewhere" write:EIO "")
IFS=' 	
'
snap
ev_os
chk_stored
chk_injected 0
snap
ev_at
chk_stored
chk_injected 0
chk_done "faults: shim armed on another directory: fcgi events 200 and stored, no call failed"
stop_server elsewhere

# ---- injected faults, one system call at a time ----

# fault_cgi NAME SPEC MATCH REASON OP ERRNO: as CGI.
fault_cgi() {
	fc_s=$T/spool-cgi-$1
	to_cgi
	use_config "cgi_$1_off" "ESIGNHOOK_SPOOL=$fc_s"
	chk_reset
	health
	chk_eq "health status before the fault" 200 "$STATUS"
	chk_done "cgi: FAULT=$2: health 200 before the fault (spool created)"

	IFS=$NL
	# shellcheck disable=SC2046
	use_config "cgi_$1_on" "ESIGNHOOK_SPOOL=$fc_s" $(shim_vars "$fc_s" "$2" "$3")
	IFS=' 	
'
	chk_reset
	snap
	ev_os
	chk_refused "$4" "$5" "$6"
	chk_injected 1
	chk_done "cgi: FAULT=$2: onespan event: 503 Retry-After 300 '$4', nothing in new/ tmp/ seen/, log level=error op=$5"
	os_file=$EV_FILE
	chk_reset
	snap
	ev_at
	chk_refused "$4" "$5" "$6"
	chk_injected 1
	chk_done "cgi: FAULT=$2: alphatrust event: 503 Retry-After 300 '$4', nothing in new/ tmp/, log level=error op=$5"
	if [ "$2" = creat:EACCES ]; then
		chk_reset
		snap
		health
		chk_refused "$4" "create probe file" "$6"
		chk_injected 1
		chk_done "cgi: FAULT=$2: health: 503"
	fi

	use_config "cgi_$1_off" "ESIGNHOOK_SPOOL=$fc_s"
	chk_reset
	snap
	EV_KIND=onespan EV_FILE=$os_file
	ev_again
	chk_stored
	chk_injected 0
	chk_done "cgi: FAULT=$2 lifted: the onespan event refused before: 200, its whole record in new/ (no seen/ marker was left)"
	chk_reset
	snap
	ev_at
	chk_stored
	chk_done "cgi: FAULT=$2 lifted: a new alphatrust event: 200, stored"
	SHIM_CASES=$((SHIM_CASES + 1))
}

# fault_fcgi NAME SPEC MATCH REASON OP ERRNO: as FastCGI.
fault_fcgi() {
	ff_s=$T/spool-fcgi-$1
	to_fcgi
	IFS=$NL
	# shellcheck disable=SC2046
	use_config "fcgi_$1_on" "ESIGNHOOK_SPOOL=$ff_s" $(shim_vars "$ff_s" "$2" "$3")
	IFS=' 	
'
	chk_reset
	[ -S "$FCGI_SOCK" ] || chk_fail "server with the shim did not start: $(cat "$LOG")"
	snap
	ev_os
	chk_refused "$4" "$5" "$6"
	chk_injected 1
	chk_done "fcgi: FAULT=$2: onespan event: 503 Retry-After 300 '$4', nothing in new/ tmp/ seen/, log level=error op=$5"
	os_file=$EV_FILE
	for ff_i in 1 2; do
		chk_reset
		snap
		ev_at
		chk_refused "$4" "$5" "$6"
		chk_injected 1
		chk_done "fcgi: FAULT=$2: alphatrust event $ff_i: 503 Retry-After 300 '$4', nothing in new/ tmp/, log level=error op=$5"
	done
	if [ "$2" = creat:EACCES ]; then
		chk_reset
		snap
		health
		chk_refused "$4" "create probe file" "$6"
		chk_injected 1
		chk_done "fcgi: FAULT=$2: health: 503"
	fi
	stop_server "fcgi_$1_on"

	# The fault happens once: the same running worker recovers.
	IFS=$NL
	# shellcheck disable=SC2046
	use_config "fcgi_$1_once" "ESIGNHOOK_SPOOL=$ff_s" \
	    $(shim_vars "$ff_s" "$2" "$3" FAULT_COUNT=1)
	IFS=' 	
'
	ff_pid=$FCGI_PID
	chk_reset
	snap
	ev_at
	chk_refused "$4" "$5" "$6"
	chk_injected 1
	snap
	ev_at
	chk_stored
	chk_injected 0
	chk_same_worker "fcgi_$1_once" "$ff_pid"
	chk_done "fcgi: FAULT=$2 once: 503, then the same running worker stores the next event (200, whole record)"
	stop_server "fcgi_$1_once"

	# A worker without the shim, same spool.
	use_config "fcgi_$1_off" "ESIGNHOOK_SPOOL=$ff_s"
	chk_reset
	snap
	EV_KIND=onespan EV_FILE=$os_file
	ev_again
	chk_stored
	chk_injected 0
	chk_done "fcgi: FAULT=$2 lifted (new worker, no shim): the onespan event refused before: 200, its whole record in new/"
	chk_reset
	health
	chk_eq "health" 200 "$STATUS"
	chk_done "fcgi: FAULT=$2 lifted: health 200"
	stop_server "fcgi_$1_off"
	SHIM_CASES=$((SHIM_CASES + 1))
}

ENOSPC_T="No space left on device"
EIO_T="Input/output error"
while read -r name spec match reason op err <&3; do
	[ "$match" = - ] && match=
	reason=$(echo "$reason" | tr _ ' ')
	op=$(echo "$op" | tr _ ' ')
	case $err in
	ENOSPC) err=$ENOSPC_T ;;
	EIO) err=$EIO_T ;;
	EACCES) err="Permission denied" ;;
	esac
	fault_cgi "$name" "$spec" "$match" "$reason" "$op" "$err"
	fault_fcgi "$name" "$spec" "$match" "$reason" "$op" "$err"
done 3<<EOF
write_enospc write:ENOSPC - spool_disk_full write ENOSPC
write_eio write:EIO - spool_unavailable write EIO
fsync_eio fsync:EIO - spool_unavailable fsync EIO
rename_eio renameat:EIO - spool_unavailable rename EIO
dirfsync_eio dirfsync:EIO /new spool_unavailable fsync_new/ EIO
close_eio close:EIO /tmp/ spool_unavailable close EIO
creat_eacces creat:EACCES /tmp/ spool_unavailable create_tmp_file EACCES
EOF

# FAULT_AFTER: the 4th write fails in the middle of a run.
to_fcgi
IFS=$NL
# shellcheck disable=SC2046
use_config midrun "ESIGNHOOK_SPOOL=$T/spool-midrun" \
    $(shim_vars "$T/spool-midrun" write:EIO "" FAULT_AFTER=3 FAULT_COUNT=1)
IFS=' 	
'
chk_reset
got=
for i in 1 2 3 4 5 6; do
	snap
	ev_at
	got="$got $STATUS"
	if [ "$i" -eq 4 ]; then
		chk_refused "spool unavailable" write "$EIO_T"
		chk_injected 1
	else
		chk_stored
	fi
done
chk_eq "statuses" " 200 200 200 503 200 200" "$got"
chk_eq "files in new/" 5 "$(count_new "$SPOOL")"
chk_done "fcgi: FAULT=write:EIO after 3 writes, once: 200 200 200 503 200 200, 5 whole records"
stop_server midrun
SHIM_CASES=$((SHIM_CASES + 1))

# ---- injected faults in group mode (ESIGNHOOK_SPOOL_COMMIT=group) ----

# A group case has a spool of its own ($G_SPOOL) and lists what it sent:
# "TX KIND FILE" in $G_ACKED for each 200, "TX" in $G_REFUSED for each
# other answer (TX: the record's transaction_id, the OneSpan packageId
# or the AlphaTrust TransID).
cat >"$T/check_group.py" <<'EOF'
# check_group.py SPOOL ACKED REFUSED CHECK_RECORD REMOTE: prints "ok" or
# what is wrong: each acknowledged event in new/ exactly once and whole
# (CHECK_RECORD against what was sent), no refused one in any folder,
# nothing else, every file whole JSON, tmp/ empty.
import json, os, subprocess, sys

spool, acked, refused, checker, remote = sys.argv[1:6]
errs, by_tx = [], {}
for f in ("new", "cur", "retry", "done", "failed"):
    d = os.path.join(spool, f)
    if not os.path.isdir(d):
        continue
    for name in sorted(os.listdir(d)):
        if name.startswith("."):
            continue
        try:
            rec = json.load(open(os.path.join(d, name), "rb"))
        except ValueError as e:
            errs.append("%s/%s not whole JSON (%s)" % (f, name, e))
            continue
        by_tx.setdefault(str(rec.get("transaction_id")), []).append(
            (f, name))

def lines(p):
    return [l.split() for l in open(p)] if os.path.exists(p) else []

for tx, kind, payload in lines(acked):
    got = by_tx.pop(tx, [])
    if len(got) != 1 or got[0][0] != "new":
        errs.append("acknowledged %s: in %s, want new/ once" %
                    (tx, got or "no folder"))
        continue
    out = subprocess.run([sys.executable, checker, spool, got[0][1], kind,
                          payload, "true", remote], capture_output=True,
                         text=True).stdout.strip()
    if out != "ok":
        errs.append("%s: %s" % (got[0][1], out))
for (tx,) in lines(refused):
    if tx in by_tx:
        errs.append("refused %s stored: %s" % (tx, by_tx.pop(tx)))
for tx, got in by_tx.items():
    errs.append("never sent: %s in %s" % (tx, got))
tmp = os.listdir(os.path.join(spool, "tmp"))
if tmp:
    errs.append("tmp/ holds %s" % tmp[:3])
print("; ".join(errs[:6]) if errs else "ok")
EOF

# g_case NAME WHAT: the next group case, its spool and lists.
g_case() {
	G_SPOOL=$T/spool-g-$1
	G_ACKED=$T/g-$1.acked
	G_REFUSED=$T/g-$1.refused
	G_WHAT=$2
	: >"$G_ACKED"
	: >"$G_REFUSED"
	G_CASES=$((G_CASES + 1))
}

# g_start NAME SPEC MATCH [KEY=value...]: a FastCGI worker in group mode
# on $G_SPOOL, the shim armed with SPEC (none when SPEC is empty); G_PID.
g_start() {
	gs_n=$1 gs_f=$2 gs_m=$3
	shift 3
	to_fcgi
	IFS=$NL
	if [ -n "$gs_f" ]; then
		# shellcheck disable=SC2046
		use_config "$gs_n" "ESIGNHOOK_SPOOL=$G_SPOOL" \
		    ESIGNHOOK_SPOOL_COMMIT=group \
		    $(shim_vars "$G_SPOOL" "$gs_f" "$gs_m" "$@")
	else
		use_config "$gs_n" "ESIGNHOOK_SPOOL=$G_SPOOL" \
		    ESIGNHOOK_SPOOL_COMMIT=group "$@"
	fi
	IFS=' 	
'
	eval "G_PID=\${FCGI_PID_$gs_n:-}"
	if [ -z "$G_PID" ] || ! kill -0 "$G_PID" 2>/dev/null ||
	    ! grep -q 'FastCGI ready' "$LOG"; then
		chk_fail "worker $gs_n did not start: $(tail -n 3 "$LOG" | tr '\n' ' ')"
	fi
}

# After a request of a group case: the event listed as acknowledged or
# refused.  EV_TX: its transaction id, quoted as the record has it (so
# that faults-1 does not match faults-12); EV_ID: its id (200 only).
g_note() {
	if [ "$EV_KIND" = onespan ]; then
		gn_tx=faults-$N_EV
	else
		gn_tx=$((7000000000 + N_EV))
	fi
	EV_TX="\"$gn_tx\""
	EV_ID=$(printf '%s\n' "$REQ_LOG" | grep ' status=' | tail -n 1 |
	    sed -n 's/.* id=\([^ ]*\).*/\1/p')
	if [ "$STATUS" = 200 ]; then
		echo "$gn_tx $EV_KIND $EV_FILE" >>"$G_ACKED"
	else
		echo "$gn_tx" >>"$G_REFUSED"
	fi
}

# Segments in journal/; those holding TEXT.
g_segs() {
	find "$G_SPOOL/journal" -maxdepth 1 -name '*.seg' 2>/dev/null |
	    wc -l | tr -d ' '
}

g_has_seg() {
	[ "$(g_segs)" -gt 0 ]
}

g_seg_with() {
	grep -l -F -- "$1" "$G_SPOOL"/journal/*.seg 2>/dev/null
}

g_no_seg_with() {
	[ -z "$(g_seg_with "$1")" ]
}

g_new_at_least() {
	[ "$(count_new "$G_SPOOL")" -ge "$1" ]
}

g_in_new() {
	[ -f "$G_SPOOL/new/$1.json" ]
}

# Faults injected since snap: at least $1.
g_faults_at_least() {
	[ $(($(wc -l <"$FLOG" | tr -d ' ') - FLOG_N)) -ge "$1" ]
}

# The path of the last injected fault.
g_fault_path() {
	tail -n 1 "$FLOG" | cut -d ' ' -f 4-
}

# g_final CASE [N]: stop the case's worker, start one without the shim
# on the same spool (its recovery replays what is left; with N it must
# log "journal recovery: ... N written again"), stop it with SIGTERM;
# then every acknowledged event is once and whole in new/, no refused
# one in any folder, journal/ and tmp/ are empty.
g_final() {
	chk_reset
	g_start "g_$1_final" "" ""
	snap
	ev_at
	g_note
	chk_stored
	if [ -n "${2:-}" ]; then
		gf_line=$(grep 'journal recovery' "$LOG" | head -n 1)
		case $gf_line in
		*"level=info "*" $2 written again"*) ;;
		*) chk_fail "recovery log line: want level=info and '$2 written again', got '$gf_line'" ;;
		esac
	fi
	stop_server "g_$1_final"
	[ "$(g_segs)" -eq 0 ] ||
	    chk_fail "journal/ after SIGTERM: $(find "$G_SPOOL/journal" -name '*.seg' | tr '\n' ' ')"
	gf_out=$("$PY" "$T/check_group.py" "$G_SPOOL" "$G_ACKED" \
	    "$G_REFUSED" "$T/check_record.py" "$REMOTE" 2>&1)
	[ "$gf_out" = ok ] || chk_fail "$gf_out"
	chk_done "group: $G_WHAT: after SIGTERM and a restart without the shim: the $(wc -l <"$G_ACKED" | tr -d ' ') acknowledged events once each and whole in new/, none of the $(wc -l <"$G_REFUSED" | tr -d ' ') refused in any folder, journal/ empty"
}

# g_refused NAME SPEC REASON OP ERRNO: a fault on the journal (FAULT_MATCH
# /journal/) before the event is durable: 503 as in file mode, nothing in
# new/ tmp/ seen/; once lifted, the same running worker stores the next
# event, after a failed write or fdatasync through a new segment.
g_refused() {
	g_case "$1" "FAULT=$2 on journal/"
	chk_reset
	g_start "g_$1_on" "$2" /journal/
	snap
	ev_os
	g_note
	chk_refused "$3" "$4" "$5"
	g_faults_at_least 1 || chk_fail "no fault injected"
	snap
	ev_at
	g_note
	chk_refused "$3" "$4" "$5"
	g_faults_at_least 1 || chk_fail "no fault injected"
	chk_done "group: $G_WHAT: onespan and alphatrust events: 503 Retry-After 300 '$3', nothing in new/ tmp/ seen/, level=error op=\"$4\" errno"
	stop_server "g_$1_on"

	chk_reset
	g_start "g_$1_once" "$2" /journal/ FAULT_COUNT=1
	snap
	ev_at
	g_note
	chk_refused "$3" "$4" "$5"
	chk_injected 1
	gr_failed=$(g_fault_path)
	snap
	ev_os
	g_note
	# At once: the keeper retires a segment a second after it was made.
	gr_seg=$(g_seg_with "$EV_ID")
	chk_stored
	chk_injected 0
	if [ -z "$gr_seg" ]; then
		echo "# $EV_ID: its segment already retired (a slow machine): not seen which"
		[ -f "$gr_failed" ] && grep -q -F -- "$EV_ID" "$gr_failed" &&
		    chk_fail "$EV_ID appended to the segment whose $4 failed"
	elif [ "$gr_seg" = "$gr_failed" ]; then
		chk_fail "$EV_ID appended to the segment whose $4 failed"
	fi
	chk_same_worker "g_$1_once" "$G_PID"
	chk_done "group: $G_WHAT once: 503, then the same running worker stores the next event (200, whole record) through a new segment"
	stop_server "g_$1_once"
	g_final "$1"
}

# g_create NAME: EACCES on creating a segment.  The journal makes its
# first segment when it opens, at the worker's start: there it means no
# journal, and the worker stores file by file (said at error level).
# Later a request makes one only when the active segment broke (a failed
# write) before the keeper made the next: FAULT=write:EIO,creat:EACCES,
# after the first create, fails that write and then every create: 503
# op="journal create".  Ten faults, then: the keeper's tries spend them
# (four a second), and the same worker stores the next event.
g_create() {
	g_case "$1" "FAULT=creat:EACCES on journal/"
	chk_reset
	g_start "g_$1_open" creat:EACCES /journal/
	grep -q 'level=error msg="journal in .*journal create: Permission denied.*file by file' "$LOG" ||
	    chk_fail "no error that the journal cannot be opened: $(head -n 3 "$LOG" | tr '\n' ' ')"
	grep -q 'FastCGI ready: .* commit file' "$LOG" ||
	    chk_fail "ready line does not say commit file: $(grep 'FastCGI ready' "$LOG")"
	snap
	ev_os
	g_note
	chk_stored
	snap
	ev_at
	g_note
	chk_stored
	chk_done "group: $G_WHAT at the start: no journal, logged level=error; the worker stores file by file (events 200, whole records)"
	stop_server "g_$1_open"

	G_WHAT="FAULT=write:EIO,creat:EACCES on journal/ (after the first create)"
	chk_reset
	g_start "g_$1_on" write:EIO,creat:EACCES /journal/ FAULT_AFTER=1
	snap
	ev_os
	g_note
	chk_refused "spool unavailable" "journal write" "$EIO_T"
	snap
	ev_at
	g_note
	chk_refused "spool unavailable" "journal create" "Permission denied"
	snap
	ev_os
	g_note
	chk_refused "spool unavailable" "journal create" "Permission denied"
	chk_done "group: $G_WHAT: 503 op=\"journal write\", then 503 Retry-After 300 op=\"journal create\" errno EACCES for onespan and alphatrust events, nothing in new/ tmp/ seen/"
	stop_server "g_$1_on"

	gc_start=$(wc -l <"$FLOG" | tr -d ' ')
	chk_reset
	g_start "g_$1_ten" write:EIO,creat:EACCES /journal/ FAULT_AFTER=1 \
	    FAULT_COUNT=10
	snap
	ev_at
	g_note
	chk_refused "spool unavailable" "journal write" "$EIO_T"
	gc_failed=$(g_fault_path)
	snap
	ev_os
	g_note
	chk_refused "spool unavailable" "journal create" "Permission denied"
	FLOG_N=$gc_start
	wait_until 100 g_faults_at_least 10 ||
	    chk_fail "10 faults not spent within 5 s"
	snap
	ev_at
	g_note
	gc_seg=$(g_seg_with "$EV_ID")
	chk_stored
	[ -n "$gc_seg" ] && [ "$gc_seg" = "$gc_failed" ] &&
	    chk_fail "$EV_ID appended to the broken segment"
	chk_same_worker "g_$1_ten" "$G_PID"
	chk_done "group: $G_WHAT, ten times: 503 while no segment can be made, then the same running worker stores the next event (200, whole record)"
	stop_server "g_$1_ten"
	g_final "$1"
}

# g_torn NAME SPEC COUNT: the journal's second fdatasync fails (SPEC on
# journal/ after one call, COUNT calls).  The segment is cut back to
# what was synced, so that a crash right then (kill -9) leaves nothing
# of the refused event for recovery to bring into new/; the acknowledged
# event before it stays.  SPEC fsync:EIO,ftruncate:EIO: the cut fails
# too (a dying disk), and still the refused event must not come back.
g_torn() {
	g_case "$1" "FAULT=$2 on journal/, second fdatasync, then kill -9"
	chk_reset
	g_start "g_$1_on" "$2" /journal/ FAULT_AFTER=1 "FAULT_COUNT=$3"
	snap
	ev_at
	g_note
	chk_stored
	gt_first=$ADDED
	snap
	ev_os
	# At once, before the keeper retires the sealed segment (within a
	# quarter second; if it has, recovery has nothing to replay, which
	# proves nothing).
	kill -KILL "$G_PID"
	g_note
	chk_refused "spool unavailable" "journal fdatasync" "$EIO_T"
	gt_seg=$(tail -n "$3" "$FLOG" | head -n 1 | cut -d ' ' -f 4-)
	gt_cut=
	[ "$3" = 1 ] && gt_cut="the segment cut back to the acknowledged frame"
	if [ ! -f "$gt_seg" ]; then
		echo "# the keeper retired $gt_seg before the kill: its size not seen"
	elif [ "$3" = 1 ]; then
		gt_want=$((64 + $(fsize "$G_SPOOL/new/$gt_first")))
		chk_eq "the sealed segment's size (64 + the acknowledged record)" \
		    "$gt_want" "$(fsize "$gt_seg")"
		grep -q -F -- "$EV_TX" "$gt_seg" &&
		    chk_fail "the segment still holds the refused event"
	fi
	wait "$G_PID" 2>/dev/null
	# Reaped: no longer one of ours to stop.
	gt_rest=
	for gt_p in $E2E_PIDS; do
		[ "$gt_p" = "$G_PID" ] || gt_rest="$gt_rest $gt_p"
	done
	E2E_PIDS=$gt_rest
	eval "FCGI_PID_g_$1_on="
	chk_done "group: $G_WHAT: 200, then 503 op=\"journal fdatasync\"${gt_cut:+, }$gt_cut"
	g_final "$1"
}

# g_late NAME SPEC MATCH WHAT: a fault on the event's new/ file once the
# journal holds it: 200 all the same, and the keeper's replay writes it
# into new/ once the fault is lifted; while it persists the segment stays,
# and recovery at the next start writes the events.
g_late() {
	g_case "$1" "FAULT=$2 on $4"
	chk_reset
	g_start "g_$1_once" "$2" "$3" FAULT_COUNT=1
	snap
	ev_os
	g_note
	chk_os_ok
	chk_injected 1
	wait_until 100 g_in_new "$EV_ID" ||
	    chk_fail "$EV_ID not in new/ 5 s after its 200"
	g_in_new "$EV_ID" && chk_record "$EV_ID.json" onespan "$EV_FILE" true
	wait_until 100 g_no_seg_with "$EV_ID" ||
	    chk_fail "the segment holding $EV_ID still in journal/ after 5 s"
	[ "$(count_tmp "$SPOOL")" -eq 0 ] || chk_fail "tmp/ not empty"
	chk_same_worker "g_$1_once" "$G_PID"
	chk_done "group: $G_WHAT once: 200 (the journal holds it), the keeper writes the whole record into new/ (within 5 s), then retires its segment"
	stop_server "g_$1_once"

	chk_reset
	g_start "g_$1_on" "$2" "$3"
	snap
	ev_os
	g_note
	chk_os_ok
	gl_id1=$EV_ID
	ev_at
	g_note
	chk_at_ok RECEIVED
	gl_id2=$EV_ID
	# The keeper seals the segment after 1 s and fails to replay it.
	wait_until 100 g_faults_at_least 3 ||
	    chk_fail "the keeper did not try to replay within 5 s"
	for gl_id in $gl_id1 $gl_id2; do
		g_in_new "$gl_id" && chk_fail "$gl_id in new/ with the fault on"
		g_no_seg_with "$gl_id" && chk_fail "no segment holds $gl_id"
	done
	[ "$(count_tmp "$SPOOL")" -eq 0 ] || chk_fail "tmp/ not empty"
	fcgi_stop "g_$1_on"
	for gl_id in $gl_id1 $gl_id2; do
		g_no_seg_with "$gl_id" && chk_fail "no segment holds $gl_id after SIGTERM"
	done
	chk_done "group: $G_WHAT, persisting: 200 for both events, not in new/, their segment kept in journal/ (replay failing), and still there after SIGTERM"
	g_final "$1" 2
}

# g_syncfs NAME: the keeper's syncfs fails.  Requests still get 200,
# their new/ files written at once (no fsync).  A failed syncfs may have
# lost pages without saying so again, so the keeper keeps the segments
# and rewrites their records, each fsynced (new files: other inodes),
# before they go, syncfs failing or not.  With the fsync of new/ failing
# as well (FAULT_MATCH=/new: syncfs of new/ and its fsync, nothing of
# the journal's), nothing can be made durable: the segments stay, and
# the events stay in new/.  A recovery whose syncfs fails keeps the
# segments for the next one.
g_syncfs() {
	g_case "$1" "FAULT=syncfs:EIO"
	chk_reset
	g_start "g_$1_on" syncfs:EIO ""
	snap
	ev_os
	g_note
	chk_stored
	gs_id1=$EV_ID
	gs_ino1=$(stat -c %i "$G_SPOOL/new/$gs_id1.json")
	snap
	ev_at
	g_note
	chk_stored
	gs_id2=$EV_ID
	gs_ino2=$(stat -c %i "$G_SPOOL/new/$gs_id2.json")
	wait_until 100 g_faults_at_least 1 ||
	    chk_fail "no syncfs failed within 5 s"
	wait_until 100 g_no_seg_with "$gs_id1" ||
	    chk_fail "segment of $gs_id1 still there 5 s after a syncfs failed"
	wait_until 100 g_no_seg_with "$gs_id2" ||
	    chk_fail "segment of $gs_id2 still there 5 s after a syncfs failed"
	[ "$(stat -c %i "$G_SPOOL/new/$gs_id1.json")" != "$gs_ino1" ] ||
	    chk_fail "$gs_id1.json not written again before its segment went"
	[ "$(stat -c %i "$G_SPOOL/new/$gs_id2.json")" != "$gs_ino2" ] ||
	    chk_fail "$gs_id2.json not written again before its segment went"
	chk_record "$gs_id1.json" onespan "$T/in/ev$((N_EV - 1)).json" true
	chk_record "$gs_id2.json" form "$EV_FILE" true
	chk_done "group: $G_WHAT, persisting: events 200 and whole in new/; after the failed syncfs the keeper writes them again (new inodes), then removes their segments"
	stop_server "g_$1_on"
	g_final "$1"

	g_case "$1_dir" "FAULT=syncfs:EIO,dirfsync:EIO on new/"
	chk_reset
	g_start "g_$1_dir_on" syncfs:EIO,dirfsync:EIO /new
	snap
	ev_os
	g_note
	chk_stored
	gs_id1=$EV_ID
	snap
	ev_at
	g_note
	chk_stored
	gs_id2=$EV_ID
	# A syncfs, then a rewrite whose fsync of new/ fails, then more.
	wait_until 100 g_faults_at_least 4 ||
	    chk_fail "the keeper did not try 4 times within 5 s"
	for gs_id in $gs_id1 $gs_id2; do
		g_no_seg_with "$gs_id" && chk_fail "no segment holds $gs_id"
		g_in_new "$gs_id" || chk_fail "$gs_id gone from new/"
	done
	fcgi_stop "g_$1_dir_on"
	gs_left=$(find "$G_SPOOL/journal" -name '*.seg')
	[ -n "$gs_left" ] || chk_fail "no segment left after SIGTERM"
	for gs_id in $gs_id1 $gs_id2; do
		g_in_new "$gs_id" || chk_fail "$gs_id gone from new/ after SIGTERM"
	done
	chk_done "group: $G_WHAT, persisting: events 200 and in new/, their segments kept while nothing can be made durable, and after SIGTERM"

	chk_reset
	G_WHAT="FAULT=syncfs:EIO,dirfsync:EIO on new/ once (recovery's)"
	g_start "g_$1_dir_once" syncfs:EIO,dirfsync:EIO /new FAULT_COUNT=1
	case $(grep 'journal recovery' "$LOG" | head -n 1) in
	*"level=error "*"syncfs: $EIO_T"*) ;;
	*) chk_fail "recovery not logged level=error for its syncfs: $(grep 'journal recovery' "$LOG")" ;;
	esac
	# Its syncfs failed once: each record is written again with an
	# fsync of its own before the segments go (the next syncfs would
	# say 0, the error reported).
	for gs_seg in $gs_left; do
		[ -e "$gs_seg" ] && chk_fail "recovery kept $gs_seg although each record could be fsynced"
	done
	for gs_id in $gs_id1 $gs_id2; do
		g_in_new "$gs_id" || chk_fail "$gs_id not in new/ after recovery"
	done
	snap
	ev_at
	g_note
	chk_stored
	wait_until 100 g_no_seg_with "$EV_ID" ||
	    chk_fail "segment of $EV_ID still there 5 s after syncfs works again"
	chk_same_worker "g_$1_dir_once" "$G_PID"
	chk_done "group: $G_WHAT: logged level=error, then every record fsynced on its own and the segments removed; the worker's own go once syncfs works"
	stop_server "g_$1_dir_once"
	g_final "$1_dir"
}

g_refused journal_write_enospc write:ENOSPC "spool disk full" \
    "journal write" "$ENOSPC_T"
g_refused journal_write_eio write:EIO "spool unavailable" \
    "journal write" "$EIO_T"
g_refused journal_fdatasync_eio fsync:EIO "spool unavailable" \
    "journal fdatasync" "$EIO_T"
g_create journal_create_eacces
g_torn journal_fdatasync_kill fsync:EIO 1
g_torn journal_fdatasync_ftruncate_kill fsync:EIO,ftruncate:EIO 2
g_late tmp_write_eio write:EIO /tmp/ "the new/ file's tmp/ write"
g_late rename_eio renameat:EIO /tmp/ "the new/ file's rename"
g_syncfs syncfs_eio

# ---- real faults on a small tmpfs ----

TMPFS_TESTS="full-disk cgi-full-disk health-full freed min-free min-free-param min-free-restart read-only read-only-health remount-rw group-full group-freed group-final"
chk_reset
mkdir "$MNT"
if mount -t tmpfs -o size=256k,mode=0700 tmpfs "$MNT" 2>"$T/mount.err"; then
	MOUNTED=$MNT
	[ "$(stat -f -c %T "$MNT")" = tmpfs ] || chk_fail "$MNT is not a tmpfs"
else
	chk_fail "mount -t tmpfs failed: $(cat "$T/mount.err")"
fi
chk_done "faults: a 256 KiB tmpfs mounted on $MNT"

if [ -n "$MOUNTED" ] && [ "$(stat -f -c %T "$MNT")" = tmpfs ]; then
	S=$MNT/spool
	to_fcgi
	use_full() {
		use_config full "ESIGNHOOK_SPOOL=$S" ESIGNHOOK_SPOOL_MIN_FREE=0 \
		    ESIGNHOOK_THREADS=2
	}
	use_full
	FULL_PID=$FCGI_PID_full

	# Full disk: fill it but 3 blocks, then events until one is refused.
	chk_reset
	health
	chk_eq "health before filling" 200 "$STATUS"
	avail=$(stat -f -c %a "$MNT")
	bs=$(stat -f -c %S "$MNT")
	dd if=/dev/zero of="$MNT/filler" bs="$bs" count=$((avail - 3)) \
	    2>/dev/null
	REAL=$((REAL + 1))
	n200=0
	refused=
	i=0
	while [ "$i" -lt 40 ]; do
		i=$((i + 1))
		snap
		if [ $((i % 2)) -eq 1 ]; then ev_os; else ev_at; fi
		case $STATUS in
		200)
			n200=$((n200 + 1))
			chk_stored
			;;
		503)
			refused=1
			chk_refused "spool disk full" write "$ENOSPC_T"
			break
			;;
		*)
			chk_fail "event $i: status $STATUS"
			break
			;;
		esac
	done
	[ -n "$refused" ] || chk_fail "no 503 after $i events on a full disk"
	snap
	ev_at
	chk_refused "spool disk full" write "$ENOSPC_T"
	chk_done "fcgi: disk full (tmpfs, ESIGNHOOK_SPOOL_MIN_FREE=0): $n200 events 200 each with its whole record, then 503 Retry-After 300, level=error op=write errno=ENOSPC, nothing partial"

	chk_reset
	to_cgi
	use_config cgi_full "ESIGNHOOK_SPOOL=$S" ESIGNHOOK_SPOOL_MIN_FREE=0
	snap
	ev_os
	chk_refused "spool disk full" write "$ENOSPC_T"
	chk_done "cgi: disk full: onespan event 503 Retry-After 300, nothing spooled"
	to_fcgi
	use_full

	chk_reset
	snap
	health
	chk_eq "health status on a full disk" 503 "$STATUS"
	chk_eq "retry-after" 300 "$(header Retry-After)"
	chk_nothing_spooled
	chk_done "fcgi: disk full: health (GET, empty query) answers 503"

	chk_reset
	rm -f "$MNT/filler"
	snap
	ev_os
	chk_stored
	snap
	ev_at
	chk_stored
	health
	chk_eq "health after freeing" 200 "$STATUS"
	chk_same_worker full "$FULL_PID"
	chk_done "fcgi: space freed: the same running worker stores again (200, whole records), health 200"

	# ESIGNHOOK_SPOOL_MIN_FREE just above the free space.
	free=$(($(stat -f -c %a "$MNT") * $(stat -f -c %S "$MNT")))
	use_config minfree "ESIGNHOOK_SPOOL=$S" \
	    "ESIGNHOOK_SPOOL_MIN_FREE=$((free + 4096))"
	REAL=$((REAL + 1))
	chk_reset
	snap
	health
	chk_refused "spool disk full" "free space check" "$ENOSPC_T"
	snap
	ev_os
	chk_refused "spool disk full" "free space check" "$ENOSPC_T"
	snap
	ev_at
	chk_refused "spool disk full" "free space check" "$ENOSPC_T"
	chk_done "fcgi: ESIGNHOOK_SPOOL_MIN_FREE=$((free + 4096)), $free bytes free: health 503, events 503 Retry-After 300, level=error op=\"free space check\""
	chk_reset
	snap
	ev_again ESIGNHOOK_SPOOL_MIN_FREE=0
	chk_stored
	health ESIGNHOOK_SPOOL_MIN_FREE=0
	chk_eq "health with the param" 200 "$STATUS"
	chk_done "fcgi: the same worker, param ESIGNHOOK_SPOOL_MIN_FREE=0 on the request: 200 and stored, health 200"
	stop_server minfree
	use_config minfree_low "ESIGNHOOK_SPOOL=$S" ESIGNHOOK_SPOOL_MIN_FREE=4096
	chk_reset
	health
	chk_eq "health" 200 "$STATUS"
	snap
	ev_os
	chk_stored
	chk_done "fcgi: restarted with ESIGNHOOK_SPOOL_MIN_FREE=4096: health 200, event 200 and stored"
	stop_server minfree_low

	# Read-only remount under the running worker, and back.
	use_full
	chk_reset
	if mount -o remount,ro "$MNT" 2>"$T/mount.err"; then
		REAL=$((REAL + 1))
		snap
		ev_os
		chk_refused "spool unavailable" "create tmp file" "Read-only file system"
		snap
		ev_at
		chk_refused "spool unavailable" "create tmp file" "Read-only file system"
	else
		chk_fail "remount,ro failed: $(cat "$T/mount.err")"
	fi
	chk_done "fcgi: spool remounted read-only: events 503 Retry-After 300, level=error op=\"create tmp file\" errno=\"Read-only file system\""
	chk_reset
	snap
	health
	chk_refused "spool unavailable" "create probe file" "Read-only file system"
	chk_done "fcgi: spool read-only: health 503"
	chk_reset
	mount -o remount,rw "$MNT" 2>"$T/mount.err" ||
	    chk_fail "remount,rw failed: $(cat "$T/mount.err")"
	for i in 1 2 3; do
		snap
		ev_os
		chk_stored
		snap
		ev_at
		chk_stored
	done
	health
	chk_eq "health after remount,rw" 200 "$STATUS"
	chk_same_worker full "$FULL_PID"
	chk_done "fcgi: remounted read-write: the same running worker (2 threads) stores every event again without a restart, health 200"
	stop_server full

	# Group mode on the full disk: the journal's writev may come short
	# (a torn frame), or the journal take the event and its new/ file
	# not (200: the keeper writes it once there is room).
	g_case tmpfs_full "a full tmpfs"
	G_SPOOL=$MNT/gspool
	chk_reset
	g_start g_tmpfs_full "" "" ESIGNHOOK_THREADS=2
	gf_pid=$G_PID
	avail=$(stat -f -c %a "$MNT")
	dd if=/dev/zero of="$MNT/filler" bs="$bs" count=$((avail - 3)) \
	    2>/dev/null
	REAL=$((REAL + 1))
	n200=0
	n503=0
	i=0
	while [ "$i" -lt 60 ] && [ "$n503" -lt 2 ]; do
		i=$((i + 1))
		snap
		if [ $((i % 2)) -eq 1 ]; then ev_os; else ev_at; fi
		g_note
		case $STATUS in
		200) n200=$((n200 + 1)) ;;
		503)
			n503=$((n503 + 1))
			chk_error 503 "spool disk full"
			chk_retry_after
			case $(printf '%s\n' "$REQ_LOG" | grep ' status=' | tail -n 1) in
			*"level=error "*" op=\"journal "*" errno=\"$ENOSPC_T\""*) ;;
			*) chk_fail "503 not logged level=error op=\"journal ...\" ENOSPC: $REQ_LOG" ;;
			esac
			;;
		*)
			chk_fail "event $i: status $STATUS"
			break
			;;
		esac
	done
	[ "$n503" -eq 2 ] || chk_fail "not two 503s after $i events on a full disk"
	gf_in=$(count_new "$G_SPOOL")
	gf_out=$("$PY" "$T/check_many.py" "$G_SPOOL/new" "$gf_in" 2>&1)
	[ "$gf_out" = ok ] || chk_fail "new/: $gf_out"
	[ "$(count_tmp "$G_SPOOL")" -eq 0 ] || chk_fail "tmp/ not empty"
	chk_done "group: full tmpfs: $n200 events 200, then 503 Retry-After 300 'spool disk full' (op=\"journal ...\" ENOSPC), every file in new/ whole ($gf_in of the $n200 there yet)"

	chk_reset
	rm -f "$MNT/filler"
	wait_until 100 g_new_at_least "$n200" ||
	    chk_fail "$(count_new "$G_SPOOL") of the $n200 acknowledged events in new/ 5 s after the space was freed"
	snap
	ev_at
	g_note
	chk_stored
	chk_same_worker g_tmpfs_full "$gf_pid"
	chk_done "group: full tmpfs, space freed: the same running worker has every acknowledged event in new/ (the keeper's replay), the next event 200"
	stop_server g_tmpfs_full
	g_final tmpfs_full
else
	for t in $TMPFS_TESTS; do
		not_ok "faults: tmpfs $t" "not run: no tmpfs"
	done
fi

# ---- the spool deleted under a running worker ----

# del_case NAME THREADS: rm -rf the spool of a running worker with
# THREADS threads (each holds its own spool handle) and the sandbox off,
# then events: each handle sees the removal before use (eh_spool_alive).
# del_prepare NAME THREADS SANDBOX: a worker whose every thread has
# stored events, then its spool removed.
del_prepare() {
	to_fcgi
	use_config "$1" "ESIGNHOOK_SPOOL=$T/spool-$1" "ESIGNHOOK_THREADS=$2" \
	    "ESIGNHOOK_SANDBOX=$3"
	eval "dc_pid=\$FCGI_PID_$1"
	chk_reset
	# Every thread opens its handle (a request each, at least).
	i=0
	while [ "$i" -lt $(($2 * 3)) ]; do
		snap
		ev_at
		chk_stored
		i=$((i + 1))
	done
	chk_done "fcgi: $2 thread(s), sandbox $3: events stored before the spool is deleted"
	rm -rf "$T/spool-$1"
	REAL=$((REAL + 1))
}

del_case() {
	del_prepare "$1" "$2" off
	chk_reset
	i=0
	while [ "$i" -lt $(($2 * 2 + 2)) ]; do
		i=$((i + 1))
		snap
		if [ $((i % 2)) -eq 1 ]; then ev_os; else ev_at; fi
		case $STATUS in
		200) chk_stored ;;
		*) chk_fail "event $i after the deletion: status $STATUS" ;;
		esac
	done
	health
	chk_eq "health" 200 "$STATUS"
	[ -d "$T/spool-$1/new" ] || chk_fail "spool not recreated"
	chk_same_worker "$1" "$dc_pid"
	chk_done "fcgi: spool deleted under a running worker with $2 thread(s), sandbox off: not one 503, every event stored in the recreated spool, no restart"
	stop_server "$1"
}

# del_sandboxed NAME THREADS: the same with the sandbox on.  The worker
# cannot reach a new spool (Landlock names the old one's inode): one 503,
# then it exits 75 for its supervisor; restarted (as systemd's
# Restart=on-failure or mod_fcgid would), it recreates the spool.
del_sandboxed() {
	del_prepare "$1" "$2" on
	chk_reset
	snap
	ev_os
	chk_error 503 "spool unavailable"
	chk_retry_after
	case $(printf '%s\n' "$REQ_LOG" | grep ' status=' | tail -n 1) in
	*"level=error "*" op=\"open spool\" errno=\"Permission denied\""*) ;;
	*) chk_fail "503 not logged level=error op=open spool EACCES: $REQ_LOG" ;;
	esac
	ds_i=0
	while [ "$ds_i" -lt 200 ] && ! grep -q 'stopped for a restart' "$LOG"; do
		sleep 0.025
		ds_i=$((ds_i + 1))
	done
	grep -q 'exiting for a restart' "$LOG" ||
	    chk_fail "log lacks 'exiting for a restart': $(tail -3 "$LOG")"
	fcgi_stop "$1"
	chk_eq "worker exit status" 75 "$FCGI_RC"
	rm -f "$FCGI_SOCK"
	fcgi_start "$1" || chk_fail "the restarted worker did not start"
	snap
	ev_os
	chk_stored
	health
	chk_eq "health" 200 "$STATUS"
	[ -d "$T/spool-$1/new" ] || chk_fail "spool not recreated"
	chk_done "fcgi: spool deleted under a sandboxed worker with $2 thread(s): one 503 logged level=error, exit 75 for its supervisor; restarted, it recreates the spool and stores"
	stop_server "$1"
}
del_sandboxed del1 1
del_sandboxed del4 4
del_case del1_nosandbox 1
del_case del4_nosandbox 4

# ---- the spool moved and replaced under a running worker ----

# mv_prepare NAME THREADS SANDBOX: a worker whose every thread has
# stored events, then mv spool spool.old; mkdir spool.
mv_prepare() {
	to_fcgi
	use_config "$1" "ESIGNHOOK_SPOOL=$T/spool-$1" "ESIGNHOOK_THREADS=$2" \
	    "ESIGNHOOK_SANDBOX=$3"
	eval "mv_pid=\$FCGI_PID_$1"
	chk_reset
	i=0
	while [ "$i" -lt $(($2 * 3)) ]; do
		snap
		if [ $((i % 2)) -eq 0 ]; then ev_os; else ev_at; fi
		chk_stored
		i=$((i + 1))
	done
	chk_done "fcgi: $2 thread(s), sandbox $3: events stored before the spool is moved"
	mv "$T/spool-$1" "$T/spool-$1.old"
	mkdir -m 700 "$T/spool-$1"
	MV_OLD=$(count_new "$T/spool-$1.old")
	REAL=$((REAL + 1))
}

mv_case() {
	mv_prepare "$1" "$2" off
	chk_reset
	i=0
	while [ "$i" -lt $(($2 * 2 + 2)) ]; do
		i=$((i + 1))
		snap
		if [ $((i % 2)) -eq 1 ]; then ev_os; else ev_at; fi
		case $STATUS in
		200) chk_stored ;;
		*) chk_fail "event $i after the move: status $STATUS" ;;
		esac
	done
	chk_eq "events in the new spool" $(($2 * 2 + 2)) "$(count_new "$SPOOL")"
	chk_eq "events in spool.old/new" "$MV_OLD" \
	    "$(count_new "$T/spool-$1.old")"
	health
	chk_eq "health" 200 "$STATUS"
	chk_same_worker "$1" "$mv_pid"
	chk_done "fcgi: spool moved and replaced under a running worker with $2 thread(s), sandbox off: every event in the new spool, none in spool.old, health 200, no restart"
	stop_server "$1"
}

mv_sandboxed() {
	mv_prepare "$1" "$2" on
	chk_reset
	snap
	health
	chk_error 503 "spool unavailable"
	chk_retry_after
	case $(printf '%s\n' "$REQ_LOG" | grep ' status=' | tail -n 1) in
	*"level=error "*" op=\"open spool\" errno=\"Permission denied\""*) ;;
	*) chk_fail "503 not logged level=error op=open spool EACCES: $REQ_LOG" ;;
	esac
	ms_i=0
	while [ "$ms_i" -lt 200 ] && ! grep -q 'stopped for a restart' "$LOG"; do
		sleep 0.025
		ms_i=$((ms_i + 1))
	done
	grep -q 'exiting for a restart' "$LOG" ||
	    chk_fail "log lacks 'exiting for a restart': $(tail -3 "$LOG")"
	fcgi_stop "$1"
	chk_eq "worker exit status" 75 "$FCGI_RC"
	chk_eq "events in spool.old/new" "$MV_OLD" \
	    "$(count_new "$T/spool-$1.old")"
	chk_done "fcgi: spool moved and replaced under a sandboxed worker with $2 thread(s): health 503 (not 200 for the old directory), logged level=error op=\"open spool\", exit 75 for its supervisor"
	chk_reset
	rm -f "$FCGI_SOCK"
	fcgi_start "$1" || chk_fail "the restarted worker did not start"
	snap
	ev_os
	chk_stored
	health
	chk_eq "health" 200 "$STATUS"
	chk_eq "events in spool.old/new" "$MV_OLD" \
	    "$(count_new "$T/spool-$1.old")"
	chk_done "fcgi: restarted after the move, the worker stores in the new spool, health 200"
	stop_server "$1"
}
mv_sandboxed mv1 1
mv_sandboxed mv4 4
mv_case mv1_nosandbox 1
mv_case mv4_nosandbox 4

to_cgi
use_config cgi_del "ESIGNHOOK_SPOOL=$T/spool-cgi-del"
chk_reset
snap
ev_at
chk_stored
rm -rf "$T/spool-cgi-del"
REAL=$((REAL + 1))
snap
ev_os
chk_stored
chk_done "cgi: spool deleted between requests: the next request recreates it and stores (200)"

# ---- the end ----

chk_reset
e2e_stop_all
for m in $MOUNTED; do
	umount "$m" 2>"$T/umount.err" || chk_fail "umount $m: $(cat "$T/umount.err")"
done
MOUNTED=
mount | grep -F " $MNT " >/dev/null && chk_fail "$MNT still mounted"
chk_done "faults: every server stopped, tmpfs unmounted"

INJECTED=$(wc -l <"$FLOG" | tr -d ' ')
echo "faults injected: $((INJECTED + REAL)) (LD_PRELOAD shim: $INJECTED failed system calls over $SHIM_CASES cases x CGI and FastCGI and $G_CASES FastCGI group-commit cases; real file-system faults: $REAL: full tmpfs, min-free threshold, read-only remount, spool deleted, spool moved and replaced)"
e2e_done
