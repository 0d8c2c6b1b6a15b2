#!/bin/sh
# make bench, part two: esignhookctl drain, in events per second, against
# bench/drain-ceiling.c measured in the same run on the same spool file
# system: the bare loop of the renames and fsyncs a claim needs (new/ ->
# cur/ -> done/, each directory fsynced), and the same loop plus one
# libcurl POST per event.  Two cases, ROUNDS rounds of EVENTS events each:
#   no action:  drain vs the bare loop
#   forward:    drain with ESIGNHOOK_FORWARD_URL (a local nginx answering
#               200) vs the bare loop with the POST
# Target: drain / baseline >= 0.8, per round.  Prints a table and
# writes bench/out/drain.md.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=${ROUNDS:-3}
EVENTS=${EVENTS:-2000}
PORT=${DRAIN_PORT:-28490}
W=$ROOT/bench/out/drain
OUT=$ROOT/bench/out/drain.md

command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || {
	echo "bench: nginx missing (make deps)" >&2; exit 1; }
make -s all
mkdir -p bench/out
cc -O2 -o bench/out/drain-ceiling bench/drain-ceiling.c -lcurl

NGINX_PID=
cleanup() {
	[ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
rm -rf "$W"
mkdir -p "$W/nginx/tmp"
USER_LINE=
[ "$(id -u)" -eq 0 ] && USER_LINE="user root;"
cat >"$W/nginx/nginx.conf" <<NGX
$USER_LINE
worker_processes 1;
pid $W/nginx.pid;
error_log $W/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $W/nginx/tmp/body;
    fastcgi_temp_path $W/nginx/tmp/fastcgi;
    proxy_temp_path $W/nginx/tmp/proxy;
    uwsgi_temp_path $W/nginx/tmp/uwsgi;
    scgi_temp_path $W/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$PORT;
        location = /hook { return 200 "ok"; }
    }
}
NGX
nginx -p "$W/nginx/" -c "$W/nginx/nginx.conf" -e "$W/nginx-error.log"
URL=http://127.0.0.1:$PORT/hook
i=0
until curl -s -o /dev/null -d x "$URL"; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || { echo "bench: nginx did not start" >&2; exit 1; }
	sleep 0.1
done

# fill: a fresh spool with EVENTS records in new/, as the receiver
# writes them (one file each).
fill() {
	rm -rf "$W/spool"
	python3 - "$W/spool" "$EVENTS" <<'PY'
import json, os, sys, time
spool, n = sys.argv[1], int(sys.argv[2])
for d in ("tmp", "new", "seen"):
    os.makedirs(os.path.join(spool, d), exist_ok=True)
stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
for i in range(n):
    id = stamp + ".%06dZ-%016x" % (i % 1000000, i)
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

now() { date +%s.%N; }

# drain_rate [KEY=value...]: events per second of one esignhookctl drain.
drain_rate() {
	printf 'ESIGNHOOK_SPOOL=%s\nESIGNHOOK_SPOOL_MIN_FREE=0\nESIGNHOOK_KEEP_DONE=7d\n' \
	    "$W/spool" >"$W/conf"
	for kv in "$@"; do echo "$kv" >>"$W/conf"; done
	t0=$(now)
	ESIGNHOOK_CONFIG=$W/conf ./cgi/esignhookctl drain >"$W/drain.out" 2>"$W/drain.err"
	t1=$(now)
	done_n=$(find "$W/spool/done" -name '*.json' | wc -l)
	[ "$done_n" -eq "$EVENTS" ] || { echo "bench: drained $done_n of $EVENTS" >&2; exit 1; }
	awk -v n="$EVENTS" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }'
}

ceiling_rate() {
	set -- $(bench/out/drain-ceiling "$W/spool" "$@")
	[ "$1" -eq "$EVENTS" ] || { echo "bench: ceiling moved $1" >&2; exit 1; }
	awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'
}

RES=$W/results
: >"$RES"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	fill; c0=$(ceiling_rate)
	fill; d0=$(drain_rate)
	fill; c1=$(ceiling_rate "$URL")
	fill; d1=$(drain_rate "ESIGNHOOK_FORWARD_URL=$URL")
	echo "$r $c0 $d0 $c1 $d1" >>"$RES"
	printf 'round %s: no action %6s ev/s vs bare loop %6s (%s); forward %6s ev/s vs loop+POST %6s (%s)\n' \
	    "$r" "$d0" "$c0" "$(awk -v a="$d0" -v b="$c0" 'BEGIN { printf "%.2f", a / b }')" \
	    "$d1" "$c1" "$(awk -v a="$d1" -v b="$c1" 'BEGIN { printf "%.2f", a / b }')"
	r=$((r + 1))
done

{
	echo "# make bench: drain, $(date -u +%Y-%m-%dT%H:%MZ)"
	echo
	echo "Machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)),"
	echo "kernel $(uname -r), spool on $(df -T "$W" | awk 'NR==2 {print $2}')."
	echo "Command: \`make bench\` (bench/drain.sh, ROUNDS=$ROUNDS EVENTS=$EVENTS); forward target: nginx \`return 200\` on 127.0.0.1."
	echo
	echo "| round | drain, no action (ev/s) | bare loop (ev/s) | ratio | drain + forward (ev/s) | loop + POST (ev/s) | ratio |"
	echo "|---|---|---|---|---|---|---|"
	awk '{ printf "| %s | %s | %s | %.2f | %s | %s | %.2f |\n", $1, $3, $2, $3 / $2, $5, $4, $5 / $4 }' "$RES"
	echo
	echo "Target: each ratio >= 0.80."
} >"$OUT"
cat "$OUT"
