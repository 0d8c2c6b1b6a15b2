# nats-lib.sh: real nats-server processes for the NATS suites
# (tests/e2e-nats*.sh) and bench/nats.sh.  POSIX sh; sourced after
# e2e-lib.sh and e2e_setup (it needs $T, $PY, E2E_PIDS, chk_fail), never
# run.  Every server listens on 127.0.0.1 only, on ports found free, and
# keeps its store under $T/nats/; e2e_stop_all (the suite's EXIT trap)
# stops whatever is still running, by pid.
#
#   nats_init                build the checker ($NCHK), find nats-server
#   nats_single NAME [LINE...]
#                            a config for one JetStream server (LINEs
#                            appended: authorization { ... }, say), then
#                            nats_start NAME; sets NATS_URL
#   nats_cluster PREFIX N    N servers PREFIX1..PREFIXN in one cluster,
#                            started, waited for until they have a meta
#                            leader; sets NATS_URL (all of them)
#   nats_start NAME / nats_stop NAME / nats_kill NAME (SIGKILL)
#   nats_url NAME            the client URL of one server
#   nats_healthy NAME        its /healthz says ok (JetStream current)
#   nats_msgs [URL] [STREAM] the stream's messages, one a line, in
#                            $T/nats.msgs: SEQ MSGID SUBJECT SHA256
#                            EVENT PROVIDER (tests/nats-check.c)
#   nats_info [URL] [STREAM] one line: msgs N first F last L replicas R
#                            dup_ms D storage S subjects S leader L
#                            current C; nats_field KEY picks a value
#   nats_consumer NAME [URL] [STREAM]
#                            pending P ack_pending A redelivered R ...
#   chk_stream_once IDS      every id of the file IDS (one a line) in
#                            $T/nats.msgs exactly once, and nothing else
#   chk_payloads DIR         each message's payload is the bytes of
#                            DIR/<msgid>.json (sha256)
#   chk_msgs DIR TEMPLATE    each message of $T/nats.msgs against its
#                            record DIR/<msgid>.json: payload bytes,
#                            Esignhook-Event and -Provider headers, the
#                            subject TEMPLATE gives
#   ctl ARGS...              e2e-lib.sh's, bounded by timeout(1)
#                            (NATS_CTL_TIMEOUT, 60 s): a hang fails

NATS_SERVER=${NATS_SERVER:-/usr/sbin/nats-server}
NATS_STREAM=${NATS_STREAM:-ESIGNHOOK}

# nats_init: the checker built into $T (a missing nats-server, libnats
# or libsodium is a failure, not a skip: make deps installs them).
nats_init() {
	if [ ! -x "$NATS_SERVER" ]; then
		echo "nats: $NATS_SERVER missing (make deps: nats-server)"
		exit 2
	fi
	mkdir -p "$T/nats"
	NCHK=$T/nats-check
	if ! cc -std=c11 -D_GNU_SOURCE -O1 -g -o "$NCHK" \
	    "$E2E_ROOT/tests/nats-check.c" -lnats -lsodium \
	    >"$T/logs/nats-check-cc.log" 2>&1; then
		echo "nats: tests/nats-check.c does not build (make deps: libnats-dev):"
		cat "$T/logs/nats-check-cc.log"
		exit 2
	fi
	nats_write_helpers
}

# nats_ports N: N distinct free TCP ports on 127.0.0.1, one a line (held
# open together while chosen, so they differ).
nats_ports() {
	"$PY" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
}

# nats_conf NAME CLIENT_PORT MONITOR_PORT [LINE...]: $T/nats/NAME.conf.
nats_conf() {
	nc_name=$1
	nc_file=$T/nats/$nc_name.conf
	{
		echo "server_name: $nc_name"
		echo "listen: 127.0.0.1:$2"
		echo "http: 127.0.0.1:$3"
		echo "jetstream { store_dir: \"$T/nats/$nc_name.store\" }"
		shift 3
		for nc_l in "$@"; do
			echo "$nc_l"
		done
	} >"$nc_file"
}

# The client and monitoring ports of server NAME, from its config.
nats_port_of() {
	sed -n 's/^listen: 127\.0\.0\.1://p' "$T/nats/$1.conf"
}
nats_mport_of() {
	sed -n 's/^http: 127\.0\.0\.1://p' "$T/nats/$1.conf"
}

nats_url() {
	echo "nats://127.0.0.1:$(nats_port_of "$1")"
}

# nats_healthy NAME: /healthz answers 200 (JetStream enabled and, in a
# cluster, this server's meta layer and its streams current).
nats_healthy() {
	curl -s -f -o /dev/null --max-time 2 \
	    "http://127.0.0.1:$(nats_mport_of "$1")/healthz" 2>/dev/null
}

# nats_meta_leader NAME: the meta leader this server knows of ("" if
# none yet).
nats_meta_leader() {
	curl -s --max-time 2 "http://127.0.0.1:$(nats_mport_of "$1")/jsz" \
	    2>/dev/null | "$PY" -c 'import json, sys
try:
    print(json.load(sys.stdin).get("meta_cluster", {}).get("leader", ""))
except ValueError:
    print("")'
}

# nats_start NAME: run the server of $T/nats/NAME.conf (log
# $T/logs/nats-NAME.log), wait up to 15 s for its client port and
# monitoring endpoint.  NATS_PID_NAME gets its pid.
nats_start() {
	ns_name=$1
	"$NATS_SERVER" -c "$T/nats/$ns_name.conf" \
	    >>"$T/logs/nats-$ns_name.log" 2>&1 &
	ns_pid=$!
	eval "NATS_PID_$ns_name=$ns_pid"
	E2E_PIDS="$E2E_PIDS $ns_pid"
	ns_i=0
	while [ "$ns_i" -lt 300 ]; do
		kill -0 "$ns_pid" 2>/dev/null || break
		if curl -s -f -o /dev/null --max-time 1 \
		    "http://127.0.0.1:$(nats_mport_of "$ns_name")/varz" 2>/dev/null; then
			return 0
		fi
		sleep 0.05
		ns_i=$((ns_i + 1))
	done
	chk_fail "nats-server $ns_name did not start: $(tail -n 5 "$T/logs/nats-$ns_name.log")"
	return 1
}

# nats_forget PID: drop PID from E2E_PIDS.
nats_forget() {
	nf_rest=
	for nf_p in $E2E_PIDS; do
		[ "$nf_p" = "$1" ] || nf_rest="$nf_rest $nf_p"
	done
	E2E_PIDS=$nf_rest
}

# nats_stop NAME [SIGNAL]: signal the server (TERM by default: a clean
# shutdown) and reap it.
nats_stop() {
	eval "nst_pid=\${NATS_PID_$1:-}"
	[ -n "$nst_pid" ] || return 1
	kill "-${2:-TERM}" "$nst_pid" 2>/dev/null
	wait "$nst_pid" 2>/dev/null
	nats_forget "$nst_pid"
	eval "NATS_PID_$1="
	return 0
}

nats_kill() {
	nats_stop "$1" KILL
}

# nats_single NAME [LINE...]: one JetStream server, started.
nats_single() {
	nsg_name=$1
	shift
	set -- "$nsg_name" $(nats_ports 2 | tr '\n' ' ') "$@"
	nats_conf "$@"
	nats_start "$nsg_name" || return 1
	wait_until 200 nats_healthy "$nsg_name" ||
	    chk_fail "nats-server $nsg_name: /healthz not ok"
	NATS_URL=$(nats_url "$nsg_name")
}

# nats_cluster PREFIX N: N servers, a full mesh of routes, cluster
# name PREFIX; waits (up to 30 s) until every one of them names the
# same meta leader and says it is healthy.
nats_cluster() {
	ncl_p=$1
	ncl_n=$2
	nats_ports $((3 * ncl_n)) >"$T/nats/$ncl_p.ports"
	ncl_i=1
	ncl_routes=
	while [ "$ncl_i" -le "$ncl_n" ]; do
		ncl_rp=$(sed -n "$((3 * ncl_i))p" "$T/nats/$ncl_p.ports")
		ncl_routes="$ncl_routes${ncl_routes:+, }nats://127.0.0.1:$ncl_rp"
		ncl_i=$((ncl_i + 1))
	done
	ncl_i=1
	NATS_URL=
	while [ "$ncl_i" -le "$ncl_n" ]; do
		ncl_cp=$(sed -n "$((3 * ncl_i - 2))p" "$T/nats/$ncl_p.ports")
		ncl_mp=$(sed -n "$((3 * ncl_i - 1))p" "$T/nats/$ncl_p.ports")
		ncl_rp=$(sed -n "$((3 * ncl_i))p" "$T/nats/$ncl_p.ports")
		nats_conf "$ncl_p$ncl_i" "$ncl_cp" "$ncl_mp" \
		    "cluster { name: $ncl_p, listen: 127.0.0.1:$ncl_rp, routes: [$ncl_routes] }"
		NATS_URL="$NATS_URL${NATS_URL:+,}nats://127.0.0.1:$ncl_cp"
		ncl_i=$((ncl_i + 1))
	done
	ncl_i=1
	while [ "$ncl_i" -le "$ncl_n" ]; do
		nats_start "$ncl_p$ncl_i" || return 1
		ncl_i=$((ncl_i + 1))
	done
	wait_until 600 nats_cluster_ready "$ncl_p" "$ncl_n" || {
		chk_fail "cluster $ncl_p: no common meta leader after 30 s"
		return 1
	}
}

# nats_cluster_ready PREFIX N: every server healthy and naming one
# meta leader.
nats_cluster_ready() {
	ncr_i=1
	ncr_lead=
	while [ "$ncr_i" -le "$2" ]; do
		nats_healthy "$1$ncr_i" || return 1
		ncr_l=$(nats_meta_leader "$1$ncr_i")
		[ -n "$ncr_l" ] || return 1
		[ -z "$ncr_lead" ] || [ "$ncr_lead" = "$ncr_l" ] || return 1
		ncr_lead=$ncr_l
		ncr_i=$((ncr_i + 1))
	done
	NATS_META_LEADER=$ncr_lead
}

# ---- what the stream holds ----

nats_msgs() {
	"$NCHK" "${1:-$NATS_URL}" "${2:-$NATS_STREAM}" msgs \
	    >"$T/nats.msgs" 2>"$T/nats-check.err"
}

nats_info() {
	"$NCHK" "${1:-$NATS_URL}" "${2:-$NATS_STREAM}" info \
	    2>"$T/nats-check.err"
}

# nats_field KEY LINE...: the word after KEY in the line nats_info or
# nats_consumer printed.
nats_field() {
	nfd_k=$1
	shift
	printf '%s\n' "$*" | awk -v k="$nfd_k" '{
		for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}

nats_consumer() {
	"$NCHK" "${2:-$NATS_URL}" "${3:-$NATS_STREAM}" consumer "$1" \
	    2>"$T/nats-check.err"
}

# chk_stream_once IDS: $T/nats.msgs holds each id of IDS exactly once
# and no other message.
chk_stream_once() {
	cso_out=$(awk '
	NR == FNR { want[$1] = 1; nwant++; next }
	{ n[$2]++; total++ }
	END {
		for (id in n) {
			if (!(id in want)) { extra++; if (!ex) ex = id }
			else if (n[id] > 1) { dup++; if (!dx) dx = id }
		}
		for (id in want) if (!(id in n)) { miss++; if (!mx) mx = id }
		if (extra + dup + miss == 0)
			print "ok"
		else
			printf "%d messages for %d ids: %d missing (%s), %d more than once (%s), %d unexpected (%s)\n", total, nwant, miss, mx, dup, dx, extra, ex
	}' "$1" "$T/nats.msgs")
	[ "$cso_out" = ok ] || chk_fail "stream: $cso_out"
}

# chk_payloads DIR: every message's payload hashes as DIR/<msgid>.json.
chk_payloads() {
	(cd "$1" && find . -maxdepth 1 -name '*.json' -exec sha256sum {} +) |
	    sed 's|\./||; s|\.json$||' >"$T/nats.sums"
	cp_out=$(awk '
	NR == FNR { sum[$2] = $1; next }
	!($2 in sum) { bad++; if (!b) b = $2 " (no record)"; next }
	sum[$2] != $4 { bad++; if (!b) b = $2; next }
	{ good++ }
	END {
		if (bad == 0 && good > 0) print "ok"
		else printf "%d payloads differ from their records (first %s), %d match\n", bad, b, good
	}' "$T/nats.sums" "$T/nats.msgs")
	[ "$cp_out" = ok ] || chk_fail "payloads: $cp_out"
}

# chk_msgs DIR TEMPLATE: every message in $T/nats.msgs checked against
# the record whose id its Nats-Msg-Id is.
chk_msgs() {
	cm_out=$("$PY" "$T/check_msgs.py" "$T/nats.msgs" "$1" "$2" 2>&1)
	[ "$cm_out" = ok ] || chk_fail "messages: $cm_out"
}

nats_write_helpers() {
	cat >"$T/check_msgs.py" <<'EOF'
# check_msgs.py MSGS DIR TEMPLATE: "ok" when each line of MSGS (SEQ
# MSGID SUBJECT SHA256 EVENT PROVIDER, from nats-check) is the record
# DIR/MSGID.json: its exact bytes, its event and provider in the
# headers ("-": none), and the subject TEMPLATE makes of it: each
# {provider}, {event}, {transaction_id} the record's value (its first
# 128 characters) with each character a subject token cannot hold
# (blank and controls, '.', '*', '>', DEL, anything not ASCII) as '_',
# a null or empty value '_'.
import hashlib, json, os, re, sys

msgs, d, tmpl = sys.argv[1:4]
errs, n = [], 0

def clean(v):
    if v is None or v == "":
        return "_"
    return "".join("_" if c <= " " or c >= "\x7f" or c in ".*>" else c
                   for c in str(v)[:128])

for line in open(msgs, encoding="utf-8"):
    seq, mid, subj, sha, ev, prov = line.split()
    n += 1
    path = os.path.join(d, mid + ".json")
    try:
        raw = open(path, "rb").read()
    except OSError:
        errs.append("seq %s: no record %s" % (seq, mid))
        continue
    rec = json.loads(raw)
    if hashlib.sha256(raw).hexdigest() != sha:
        errs.append("%s: payload is not the record's bytes" % mid)
    if ev != (rec.get("event") or "-"):
        errs.append("%s: Esignhook-Event %r, record %r" % (mid, ev, rec.get("event")))
    if prov != (rec.get("provider") or "-"):
        errs.append("%s: Esignhook-Provider %r" % (mid, prov))
    want = re.sub(r"\{(provider|event|transaction_id)\}",
                  lambda m: clean(rec.get(m.group(1))), tmpl)
    if subj != want:
        errs.append("%s: subject %r, want %r" % (mid, subj, want))
if n == 0:
    errs.append("no messages")
print("; ".join(errs[:5]) if errs else "ok")
EOF
}

# ctl as e2e-lib.sh has it, bounded by timeout(1): a command that hangs
# (a connect that never gives up, say) fails its test with exit 124
# instead of stopping the suite.  NATS_CTL_TIMEOUT seconds, default 60.
ctl() {
	env -i "PATH=$PATH" "HOME=${HOME:-/}" "LANG=${LANG:-C}" \
	    ${CTL_ENV:-} "ESIGNHOOK_CONFIG=$CFG" \
	    timeout -k 5 "${NATS_CTL_TIMEOUT:-60}" "$CTL" "$@" \
	    >"$T/ctl.out" 2>"$T/ctl.err" </dev/null
	CTL_RC=$?
	[ "$CTL_RC" -ne 124 ] || echo "esignhookctl $*: timed out after ${NATS_CTL_TIMEOUT:-60} s" >>"$T/ctl.err"
	cat "$T/ctl.err" >>"$T/logs/ctl.log"
	cat "$T/ctl.out" >>"$T/logs/ctl.log"
}
