#!/bin/sh
# make bench: esignhook through real nginx on 127.0.0.1, against the
# baselines measured in the same run, each for $DURATION seconds:
#   nginx `return 200`                (no FastCGI, no disk)
#   bench/ceiling.c behind nginx      (the durability ceiling: same fsyncs)
#   esignhook, OneSpan and AlphaTrust callbacks
#   the Flask listener made durable   (gunicorn, Debian's packages)
#   esignhook as classic CGI under Apache against a trivial C CGI
# and the system calls per delivery of esignhook and of the ceiling
# (bench/profile.sh summary, strace: needs strace and python3).
# Prints one line per configuration and writes bench/out/latest.md.
# Not part of make check: the machine must be otherwise quiet.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DURATION=${DURATION:-30}
CONNS=${CONNS:-16}          # wrk connections: equal concurrency for all
PROCS=${PROCS:-2}           # FastCGI worker processes (esignhook, ceiling)
THREADS=${THREADS:-8}       # threads per process
WRK_THREADS=${WRK_THREADS:-2}
PORT=${PORT:-28480}
FLASK_PORT=$((PORT + 1))
APACHE_PORT=$((PORT + 2))
W=$ROOT/bench/out/work
OUT=$ROOT/bench/out/latest.md
KEY=bench-onespan-key-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOKEN=bench-token-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')

for t in nginx wrk spawn-fcgi gunicorn apache2; do
	command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || {
		echo "bench: $t missing (make deps)" >&2; exit 1; }
done
make -s all
cc -O2 -o bench/out/ceiling bench/ceiling.c -lfcgi -lpthread 2>/dev/null ||
	{ mkdir -p bench/out && cc -O2 -o bench/out/ceiling bench/ceiling.c -lfcgi -lpthread; }
cc -O2 -o bench/out/trivial-cgi bench/trivial-cgi.c
cc -O2 -o bench/out/ceiling-cgi bench/ceiling-cgi.c
# System calls per delivery, esignhook against the ceiling (issue 11):
# counted (strace), not timed, so before the timed runs; the full
# profile is bench/profile.sh.
SYSCALLS=$(sh bench/profile.sh summary)
echo "$SYSCALLS"

PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	# spawn-fcgi's children outlive it: find them by their sockets' users.
	pkill -f "^$ROOT/cgi/esignhook\$" 2>/dev/null || true
	pkill -f "^$ROOT/bench/out/ceiling\$" 2>/dev/null || true
	[ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null || true
	[ -f "$W/apache/httpd.pid" ] && kill "$(cat "$W/apache/httpd.pid")" 2>/dev/null || true
	pkill -f "$W/" 2>/dev/null || true
	sleep 0.5
}
trap cleanup EXIT INT TERM
rm -rf "$W"
mkdir -p "$W/nginx/tmp" "$W/logs"
chmod 755 "$ROOT/bench/out" "$W"

# ---- nginx, with the shipped location snippet ----
sed -e "s#unix:/run/esignhook/esignhook.sock#unix:$W/eh.sock#" \
    -e "s#^\([[:space:]]*\)access_log .*#\1access_log off;#" \
    nginx/esignhook.conf >"$W/nginx/esignhook.conf"
# Relative includes resolve beside nginx.conf: bring the stock params.
cp "$(dirname "$(nginx -V 2>&1 | sed -n 's/.*--conf-path=\([^ ]*\).*/\1/p')")/fastcgi_params" \
    "$W/nginx/fastcgi_params"
USER_LINE=
[ "$(id -u)" -eq 0 ] && USER_LINE="user root;"
cat >"$W/nginx/nginx.conf" <<NGX
$USER_LINE
worker_processes auto;
pid $W/nginx.pid;
error_log $W/logs/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $W/nginx/tmp/body;
    fastcgi_temp_path $W/nginx/tmp/fastcgi;
    proxy_temp_path $W/nginx/tmp/proxy;
    uwsgi_temp_path $W/nginx/tmp/uwsgi;
    scgi_temp_path $W/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$PORT;
        location = /baseline { return 200 '{"success":true}'; }
        location /ceiling/ {
            fastcgi_pass unix:$W/ceiling.sock;
            include fastcgi_params;
        }
        location /flask/ {
            proxy_pass http://127.0.0.1:$FLASK_PORT/callback;
            client_max_body_size 64k;
        }
        include $W/nginx/esignhook.conf;
    }
}
NGX
nginx -p "$W/nginx" -c "$W/nginx/nginx.conf"

# ---- workers ----
export ESIGNHOOK_SPOOL="$W/spool" ESIGNHOOK_ONESPAN_KEYS="$KEY" \
    ESIGNHOOK_ALPHATRUST_TOKENS="$TOKEN" ESIGNHOOK_THREADS="$THREADS" \
    ESIGNHOOK_SPOOL_MIN_FREE=0 ESIGNHOOK_SPOOL_MAX_EVENTS=0 \
    ESIGNHOOK_ALLOW_ROOT=1
spawn-fcgi -s "$W/eh.sock" -M 0666 -F "$PROCS" -- "$ROOT/cgi/esignhook" \
    >/dev/null 2>&1
CEILING_SPOOL="$W/ceiling-spool" CEILING_THREADS="$THREADS" \
    spawn-fcgi -s "$W/ceiling.sock" -M 0666 -F "$PROCS" -- \
    "$ROOT/bench/out/ceiling" >/dev/null 2>&1
FLASK_WORKERS=$((2 * $(nproc) + 1))   # gunicorn's recommendation
FLASK_SPOOL="$W/flask-events.jsonl" FLASK_KEY="$KEY" \
    gunicorn -w "$FLASK_WORKERS" -b "127.0.0.1:$FLASK_PORT" \
    --chdir "$ROOT/bench" --log-level warning flask_listener:app \
    >"$W/logs/gunicorn.log" 2>&1 &
PIDS="$PIDS $!"
sleep 2

count() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l | tr -d ' '; }
# CPU seconds (user + system, in clock ticks) used so far by processes
# whose command line matches $1: per-request cost = delta / requests.
cpu_ticks() {
	for p in $(pgrep -f "$1"); do
		awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null
	done | awk '{ s += $1 } END { print s + 0 }'
}
HZ=$(getconf CLK_TCK)
us_per_req() { # TICKS_DELTA REQUESTS
	awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }'
}
rss_kb() { ps -C esignhook -o rss= | sort -n | tail -n 1 | tr -d ' '; }

# run NAME KIND PATH: one wrk run; fills R_* from its RESULT line.
NONCE_N=0
run() {
	NONCE_N=$((NONCE_N + 1))
	NONCE=$NONCE_N KIND=$2 URLPATH=$3 KEY=$KEY wrk -t "$WRK_THREADS" -c "$CONNS" \
	    -d "${DURATION}s" --timeout 10s -s bench/callback.lua \
	    "http://127.0.0.1:$PORT" >"$W/logs/wrk-$1.txt" 2>&1
	line=$(grep '^RESULT' "$W/logs/wrk-$1.txt")
	for kv in ${line#RESULT }; do eval "R_${kv%%=*}=${kv#*=}"; done
}

# ---- the FastCGI configurations, interleaved in rounds ----
# This machine's fsync latency drifts by 2x within minutes: each
# configuration runs ROUNDS times for DURATION/ROUNDS seconds, in turn,
# so that a slow minute hits all alike; ratios are taken per round.
ROUNDS=${ROUNDS:-3}
SLICE=$((DURATION / ROUNDS))
[ "$SLICE" -ge 1 ] || SLICE=1
DURATION_SAVE=$DURATION
DURATION=$SLICE
RES=$W/results.txt
: >"$RES"

# measure CONFIG KIND PATH STOREDIR CPUPATTERN: one slice; appends a line
# "CONFIG round requests rps p50 p99 p999 non2xx errors stored cpu_us".
DRAIN=${DRAIN:-1}
measure() {
	# As a consumer would in production, empty new/ before each slice
	# (DRAIN=0 lets it grow: 100k+ entries slow every delivery into it).
	# seen/ is kept: it grows in production too, until pruned.
	if [ "$DRAIN" = 1 ] && [ "$4" != - ]; then
		find "$4" -maxdepth 1 -type f -delete 2>/dev/null || true
	fi
	# Let the previous slice's (and the drain's) writeback finish, so
	# that it is not billed to this configuration.
	sync
	sleep 1
	before=$(count "$4")
	[ "$1" = flask ] && before=$(wc -l <"$W/flask-events.jsonl" 2>/dev/null || echo 0)
	c0=0
	[ "$5" = - ] || c0=$(cpu_ticks "$5")
	run "$1" "$2" "$3"
	cpu=-
	[ "$5" = - ] || cpu=$(us_per_req $(( $(cpu_ticks "$5") - c0 )) "$R_requests")
	if [ "$1" = flask ]; then
		stored=$(( $(wc -l <"$W/flask-events.jsonl") - before ))
	elif [ "$4" = - ]; then
		stored=-
	else
		stored=$(( $(count "$4") - before ))
	fi
	echo "$1 $round $R_requests $R_rps $R_p50_ms $R_p99_ms $R_p999_ms $R_non2xx $((R_connect_err + R_read_err + R_write_err + R_timeouts)) $stored $cpu" >>"$RES"
	printf '%-20s round %s: %9s req/s  p50 %7s  p99 %7s  p99.9 %7s ms  non2xx %s  stored %s / 2xx %s  cpu %s us/req\n' \
	    "$1" "$round" "$R_rps" "$R_p50_ms" "$R_p99_ms" "$R_p999_ms" "$R_non2xx" "$stored" $((R_requests - R_non2xx)) "$cpu"
	if [ "$stored" != - ]; then
		twoxx=$((R_requests - R_non2xx))
		# Every 2xx must have its file; a few more files than 2xx are
		# requests stored whose replies wrk did not wait for when its
		# time was up (at most one per connection).
		if [ "$stored" -lt "$twoxx" ] || [ "$stored" -gt $((twoxx + CONNS)) ]; then
			echo "bench: $1 round $round: $stored stored, $twoxx 2xx" >&2
			BAD=1
		fi
	fi
}

BAD=0
round=1
while [ "$round" -le "$ROUNDS" ]; do
	measure baseline onespan /baseline - nginx:
	measure ceiling onespan /ceiling/x "$W/ceiling-spool/new" bench/out/ceiling
	measure esignhook-onespan onespan /esignhook/onespan "$W/spool/new" cgi/esignhook
	measure esignhook-alphatrust alphatrust "/esignhook/alphatrust/$TOKEN" "$W/spool/new" cgi/esignhook
	measure flask onespan /flask/ - gunicorn
	round=$((round + 1))
done
RSS=$(rss_kb)
DURATION=$DURATION_SAVE

# ---- classic CGI under Apache (mod_cgid) ----
A=$W/apache
mkdir -p "$A/cgi" "$A/logs"
cp cgi/esignhook "$A/cgi/esignhook.cgi"
cp bench/out/trivial-cgi "$A/cgi/trivial.cgi"
cp bench/out/ceiling-cgi "$A/cgi/ceiling.cgi"
mkdir -p "$W/cgi-ceiling/tmp" "$W/cgi-ceiling/new"
chmod -R 777 "$W/cgi-ceiling"
chmod 755 "$A" "$A/cgi" "$A/cgi/"*.cgi
mkdir -p "$W/cgi-spool" && chmod 777 "$W/cgi-spool"
MODS=/usr/lib/apache2/modules
APUSER=
[ "$(id -u)" -eq 0 ] && APUSER="User www-data
Group www-data"
cat >"$A/httpd.conf" <<APC
ServerRoot $A
ServerName 127.0.0.1
Listen 127.0.0.1:$APACHE_PORT
PidFile $A/httpd.pid
ErrorLog $A/logs/error.log
LogLevel warn
Mutex file:$A
$APUSER
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule cgid_module $MODS/mod_cgid.so
LoadModule alias_module $MODS/mod_alias.so
LoadModule env_module $MODS/mod_env.so
ScriptSock $A/cgid.sock
ScriptAlias /cgi/ $A/cgi/
<Directory $A/cgi>
    Require all granted
    CGIPassAuth On
    LimitRequestBody 65536
    SetEnv ESIGNHOOK_SPOOL $W/cgi-spool
    SetEnv ESIGNHOOK_ONESPAN_KEYS $KEY
    SetEnv ESIGNHOOK_ALPHATRUST_TOKENS $TOKEN
    SetEnv ESIGNHOOK_SPOOL_MIN_FREE 0
    SetEnv CEILING_SPOOL $W/cgi-ceiling
</Directory>
APC
apache2 -d "$A" -f "$A/httpd.conf" -k start
sleep 1
PORT_SAVE=$PORT
PORT=$APACHE_PORT
DURATION=$SLICE
round=1
while [ "$round" -le "$ROUNDS" ]; do
	# (a CGI's CPU is its own short-lived process's: not counted here)
	measure cgi-trivial onespan /cgi/trivial.cgi - -
	measure cgi-ceiling onespan /cgi/ceiling.cgi "$W/cgi-ceiling/new" -
	measure cgi-esignhook onespan /cgi/esignhook.cgi/onespan "$W/cgi-spool/new" -
	# Start-up and refusal alone: a wrong key, no disk touched.
	KEY_SAVE=$KEY KEY=wrong-key
	measure cgi-esignhook-401 onespan /cgi/esignhook.cgi/onespan - -
	KEY=$KEY_SAVE
	round=$((round + 1))
done
DURATION=$DURATION_SAVE
PORT=$PORT_SAVE

# ---- summary: per configuration, totals and medians over the rounds ----
med() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$1" -v n="$2" '$1 == c { print $n }' "$RES"; }
total_rps() { awk -v c="$1" -v d="$SLICE" '$1 == c { n += $3; k++ } END { printf "%.1f", (k ? n / (k * d) : 0) }' "$RES"; }
# ratio of configuration A to B, per round (same minutes), median
ratio_rounds() {
	awk -v a="$1" -v b="$2" -v f="$3" '$1 == a { x[$2] = $f } $1 == b { y[$2] = $f }
	    END { for (r in x) if (y[r] > 0) printf "%.3f\n", x[r] / y[r] }' "$RES" | med
}

{
echo "# make bench, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "Machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)),"
echo "$(free -g | awk '/^Mem:/ {print $2}') GiB, kernel $(uname -r), spool on $(df -T "$W" | awk 'NR==2 {print $2}') ($(df -h "$W" | awk 'NR==2 {print $1}'))."
echo "Command: \`make bench DURATION=$DURATION ROUNDS=$ROUNDS CONNS=$CONNS PROCS=$PROCS THREADS=$THREADS DRAIN=$DRAIN\`"
echo "DRAIN=$DRAIN: new/ $([ "$DRAIN" = 1 ] && echo "emptied before each slice, as a consumer would" || echo "left to grow")."
echo "wrk -t $WRK_THREADS -c $CONNS, each configuration $ROUNDS x ${SLICE}s, interleaved; nginx $(nginx -v 2>&1 | sed 's#.*/##');"
echo "FastCGI workers: $PROCS processes x $THREADS threads (esignhook and ceiling alike); gunicorn $FLASK_WORKERS sync workers."
echo
echo "| configuration | req/s | p50 ms | p99 ms | p99.9 ms | non-2xx | errors | stored | CPU us/req |"
echo "|---|---|---|---|---|---|---|---|---|"
for c in baseline ceiling esignhook-onespan esignhook-alphatrust flask cgi-trivial cgi-ceiling cgi-esignhook cgi-esignhook-401; do
	echo "| $c | $(total_rps $c) | $(col $c 5 | med) | $(col $c 6 | med) | $(col $c 7 | med) | $(col $c 8 | awk '{s+=$1} END {print s+0}') | $(col $c 9 | awk '{s+=$1} END {print s+0}') | $(col $c 10 | awk '$1 != "-" {s+=$1; k=1} END {print k ? s : "-"}') | $(col $c 11 | med) |"
done
echo
echo "(latencies: median over the rounds of each round's percentile)"
echo
echo "Ratios, per round then the median over rounds:"
echo
echo "- esignhook OneSpan / ceiling req/s: $(ratio_rounds esignhook-onespan ceiling 4) (target >= 0.90); p99: $(ratio_rounds esignhook-onespan ceiling 6) (target <= 1.5)"
echo "- esignhook AlphaTrust / ceiling req/s: $(ratio_rounds esignhook-alphatrust ceiling 4); p99: $(ratio_rounds esignhook-alphatrust ceiling 6)"
echo "- esignhook OneSpan / Flask req/s: $(ratio_rounds esignhook-onespan flask 4) (target >= 2)"
echo "- ceiling / nginx return 200 req/s: $(ratio_rounds ceiling baseline 4)"
echo "- CGI: esignhook / trivial C CGI req/s: $(ratio_rounds cgi-esignhook cgi-trivial 4) (target >= 0.80: a receiver that stores against one that does not)"
echo "- CGI, like for like: esignhook storing / a C CGI doing the same fsyncs: $(ratio_rounds cgi-esignhook cgi-ceiling 4); esignhook answering 401 (start-up, no disk) / trivial C CGI: $(ratio_rounds cgi-esignhook-401 cgi-trivial 4)"
echo "- largest esignhook worker RSS: $RSS KiB (target <= 4096)"
echo "- $SYSCALLS"
echo "- stored vs 2xx: checked per round (every 2xx has its file; at most $CONNS more files, the requests in flight when wrk stops): $([ "$BAD" -eq 0 ] && echo ok || echo FAILED)"
} >"$OUT"
cat "$OUT"
[ "$BAD" -eq 0 ] || exit 1
echo "written: $OUT"
