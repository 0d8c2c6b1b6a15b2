#!/bin/sh
# make bench, part three: esignhookctl drain publishing to JetStream, in
# events per second, into a local 3-node cluster (Debian's nats-server,
# 127.0.0.1) and a stream of 3 replicas made by `esignhookctl
# nats-setup --replicas 3`, against bench/nats-raw.c in the same run:
# raw libnats, one synchronous js_PublishMsg per record with the same
# payloads, headers, subject and stream settings, waiting for each
# PubAck, no spool work at all.  Also the drain with no action on the
# same spool (what the claim itself costs).  ROUNDS rounds of EVENTS
# events, interleaved; the stream is deleted and made again before each
# run.  Prints a table and writes bench/out/nats.md.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=${ROUNDS:-3}
EVENTS=${EVENTS:-2000}
W=$ROOT/bench/out/nats
OUT=$ROOT/bench/out/nats.md
SUBJECT=esign.onespan.PACKAGE_COMPLETE

make -s all
mkdir -p bench/out
cc -O2 -o bench/out/nats-raw bench/nats-raw.c -lnats

# tests/nats-lib.sh's servers, with what it expects of a suite.
E2E_ROOT=$ROOT
T=$W
PY=python3
E2E_PIDS=
chk_fail() {
	echo "bench: $1" >&2
	exit 1
}
wait_until() {
	wu_n=$1
	shift
	while ! "$@"; do
		[ "$wu_n" -gt 1 ] || return 1
		wu_n=$((wu_n - 1))
		sleep 0.05
	done
}
cleanup() {
	for p in $E2E_PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $E2E_PIDS; do
		wait "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rm -rf "$W"
mkdir -p "$W/logs"
. "$ROOT/tests/nats-lib.sh"
nats_init
nats_cluster bench 3
URL=$NATS_URL

# fill: a fresh spool with EVENTS records in new/ (as bench/drain.sh).
fill() {
	rm -rf "$W/spool"
	python3 - "$W/spool" "$EVENTS" <<'PY'
import json, os, sys, time
spool, n = sys.argv[1], int(sys.argv[2])
for d in ("tmp", "new", "seen"):
    os.makedirs(os.path.join(spool, d), exist_ok=True)
stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
nonce = os.urandom(4).hex()
for i in range(n):
    id = stamp + ".%06dZ-%s%08x" % (i % 1000000, nonce, i)
    rec = {"v": 1, "id": id, "received_at": "2026-12-01T00:00:00.000Z",
           "provider": "onespan", "event": "PACKAGE_COMPLETE",
           "known_event": True, "transaction_id": "pkg-%d" % i,
           "dedupe_key": "%064x" % i, "remote_addr": None,
           "data": {"@class": "com.silanis.esl.packages.event.ESLProcessEvent",
                    "name": "PACKAGE_COMPLETE", "packageId": "pkg-%d" % i,
                    "sessionUser": "e00696ec-d6f5-4feb-89c5-a5ce002a6c66",
                    "message": None, "documentId": None,
                    "createdDate": "2026-12-01T00:00:00.000Z"}}
    with open(os.path.join(spool, "new", id + ".json"), "w") as f:
        f.write(json.dumps(rec, separators=(",", ":")) + "\n")
PY
	sync
}

conf() {
	printf 'ESIGNHOOK_SPOOL=%s\nESIGNHOOK_SPOOL_MIN_FREE=0\nESIGNHOOK_KEEP_DONE=7d\n' \
	    "$W/spool" >"$W/conf"
	for kv in "$@"; do echo "$kv" >>"$W/conf"; done
}

# fresh_stream: the stream deleted and made again, its 3 replicas
# current.
current3() {
	"$NCHK" "$URL" ESIGNHOOK info 2>/dev/null | grep -q 'msgs 0 .*current 3$'
}
fresh_stream() {
	bench/out/nats-raw "$URL" ESIGNHOOK delete
	conf "ESIGNHOOK_NATS_URL=$URL"
	ESIGNHOOK_CONFIG=$W/conf ./cgi/esignhookctl nats-setup --replicas 3 \
	    >"$W/setup.out" 2>&1 || { cat "$W/setup.out" >&2; exit 1; }
	wait_until 200 current3 || { echo "bench: stream not current" >&2; exit 1; }
}

in_stream() {
	"$NCHK" "$URL" ESIGNHOOK info | sed 's/^msgs \([0-9]*\) .*/\1/'
}

now() { date +%s.%N; }

# drain_rate [KEY=value...]: events per second of one esignhookctl drain.
drain_rate() {
	conf "$@"
	t0=$(now)
	ESIGNHOOK_CONFIG=$W/conf ./cgi/esignhookctl drain >"$W/drain.out" 2>"$W/drain.err"
	t1=$(now)
	done_n=$(find "$W/spool/done" -name '*.json' | wc -l)
	[ "$done_n" -eq "$EVENTS" ] || { echo "bench: drained $done_n of $EVENTS" >&2; exit 1; }
	awk -v n="$EVENTS" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }'
}

RES=$W/results
: >"$RES"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	fill
	d0=$(drain_rate)
	fill
	fresh_stream
	d1=$(drain_rate "ESIGNHOOK_NATS_URL=$URL")
	n=$(in_stream)
	[ "$n" -eq "$EVENTS" ] || { echo "bench: $n of $EVENTS in the stream" >&2; exit 1; }
	fresh_stream
	set -- $(bench/out/nats-raw "$URL" ESIGNHOOK publish "$W/spool/done" \
	    "$SUBJECT" PACKAGE_COMPLETE onespan)
	[ "$1" -eq "$EVENTS" ] || { echo "bench: raw acked $1" >&2; exit 1; }
	n=$(in_stream)
	[ "$n" -eq "$EVENTS" ] || { echo "bench: raw: $n of $EVENTS in the stream" >&2; exit 1; }
	c1=$(awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }')
	echo "$r $d0 $d1 $c1" >>"$RES"
	printf 'round %s: drain + publish %6s ev/s vs raw js_PublishMsg %6s (%s); drain, no action %6s ev/s\n' \
	    "$r" "$d1" "$c1" "$(awk -v a="$d1" -v b="$c1" 'BEGIN { printf "%.2f", a / b }')" "$d0"
	r=$((r + 1))
done

{
	echo "# make bench: drain to JetStream, $(date -u +%Y-%m-%dT%H:%MZ)"
	echo
	echo "Machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)),"
	echo "kernel $(uname -r), spool and JetStream store on $(df -T "$W" | awk 'NR==2 {print $2}'); load average $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "Command: \`make bench\` (bench/nats.sh, ROUNDS=$ROUNDS EVENTS=$EVENTS); $($NATS_SERVER --version), 3 nodes on 127.0.0.1, stream ESIGNHOOK: file storage, 3 replicas, duplicate window nats-setup's default for the default schedule (90h44m6s)."
	echo
	echo "| round | drain + publish (ev/s) | raw js_PublishMsg (ev/s) | ratio | drain, no action (ev/s) |"
	echo "|---|---|---|---|---|"
	awk '{ printf "| %s | %s | %s | %.2f | %s |\n", $1, $3, $4, $3 / $4, $2 }' "$RES"
	echo
	echo "Median ratio: $(awk '{ print $3 / $4 }' "$RES" | sort -n | awk '{ a[NR] = $1 } END { printf "%.2f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')"
} >"$OUT"
cat "$OUT"
