#!/bin/sh
# make bench: esignhook through real nginx on 127.0.0.1, against the
# baselines measured in the same run, each for $DURATION seconds:
#   nginx `return 200`                (no FastCGI, no disk)
#   bench/ceiling.c behind nginx      (the durability ceiling: same fsyncs)
#   esignhook, OneSpan and AlphaTrust callbacks
#   the Flask listener made durable   (gunicorn, Debian's packages)
#   esignhook as classic CGI under Apache against a trivial C CGI
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

PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
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
rss_kb() { ps -C esignhook -o rss= | sort -n | tail -n 1 | tr -d ' '; }

# run NAME KIND PATH: one wrk run; fills R_* from its RESULT line.
run() {
	KIND=$2 URLPATH=$3 KEY=$KEY wrk -t "$WRK_THREADS" -c "$CONNS" \
	    -d "${DURATION}s" --timeout 10s -s bench/callback.lua \
	    "http://127.0.0.1:$PORT" >"$W/logs/wrk-$1.txt" 2>&1
	line=$(grep '^RESULT' "$W/logs/wrk-$1.txt")
	for kv in ${line#RESULT }; do eval "R_${kv%%=*}=${kv#*=}"; done
}

{
echo "# make bench, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "Machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)),"
echo "$(free -g | awk '/^Mem:/ {print $2}') GiB, kernel $(uname -r), spool on $(df -T "$W" | awk 'NR==2 {print $2}') ($(df -h "$W" | awk 'NR==2 {print $1}'))."
echo "Command: \`make bench DURATION=$DURATION CONNS=$CONNS PROCS=$PROCS THREADS=$THREADS\`"
echo "wrk -t $WRK_THREADS -c $CONNS -d ${DURATION}s; nginx $(nginx -v 2>&1 | sed 's#.*/##'); FastCGI workers: $PROCS processes x $THREADS threads (esignhook and ceiling alike); gunicorn $FLASK_WORKERS workers."
echo
echo "| configuration | req/s | p50 ms | p99 ms | p99.9 ms | non-2xx | errors | stored | 2xx |"
echo "|---|---|---|---|---|---|---|---|---|"
} >"$OUT"

row() { # NAME STORED TWOXX
	echo "| $1 | $R_rps | $R_p50_ms | $R_p99_ms | $R_p999_ms | $R_non2xx | $((R_connect_err + R_read_err + R_write_err + R_timeouts)) | $2 | $3 |" >>"$OUT"
	printf '%-34s %9s req/s  p50 %7s ms  p99 %7s ms  p99.9 %7s ms  non2xx %s  stored %s / 2xx %s\n' \
	    "$1" "$R_rps" "$R_p50_ms" "$R_p99_ms" "$R_p999_ms" "$R_non2xx" "$2" "$3"
}

run baseline onespan /baseline
row "nginx return 200" - $((R_requests - R_non2xx))
BASE_RPS=$R_rps

run ceiling onespan /ceiling/x
stored=$(count "$W/ceiling-spool/new")
row "ceiling responder (fsync x2)" "$stored" $((R_requests - R_non2xx))
CEIL_RPS=$R_rps CEIL_P99=$R_p99_ms

before=$(count "$W/spool/new")
run esignhook-onespan onespan /esignhook/onespan
stored=$(( $(count "$W/spool/new") - before ))
row "esignhook OneSpan (JSON+Basic)" "$stored" $((R_requests - R_non2xx))
EH_OS_RPS=$R_rps EH_OS_P99=$R_p99_ms EH_OS_OK=$stored EH_OS_2XX=$((R_requests - R_non2xx))
RSS=$(rss_kb)

before=$(count "$W/spool/new")
run esignhook-alphatrust alphatrust "/esignhook/alphatrust/$TOKEN"
stored=$(( $(count "$W/spool/new") - before ))
row "esignhook AlphaTrust (form)" "$stored" $((R_requests - R_non2xx))
EH_AT_RPS=$R_rps EH_AT_P99=$R_p99_ms EH_AT_OK=$stored EH_AT_2XX=$((R_requests - R_non2xx))
r=$(rss_kb); [ "$r" -gt "$RSS" ] && RSS=$r

before=$(wc -l <"$W/flask-events.jsonl" 2>/dev/null || echo 0)
run flask onespan /flask/
stored=$(( $(wc -l <"$W/flask-events.jsonl") - before ))
row "Flask + gunicorn (append+fsync)" "$stored" $((R_requests - R_non2xx))
FLASK_RPS=$R_rps

# ---- classic CGI under Apache (mod_cgid) ----
A=$W/apache
mkdir -p "$A/cgi" "$A/logs"
cp cgi/esignhook "$A/cgi/esignhook.cgi"
cp bench/out/trivial-cgi "$A/cgi/trivial.cgi"
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
LoadModule mime_module $MODS/mod_mime.so
LoadModule cgid_module $MODS/mod_cgid.so
LoadModule alias_module $MODS/mod_alias.so
LoadModule env_module $MODS/mod_env.so
LoadModule unixd_module $MODS/mod_unixd.so
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
</Directory>
APC
apache2 -d "$A" -f "$A/httpd.conf" -k start
sleep 1
PORT_SAVE=$PORT
PORT=$APACHE_PORT
run cgi-trivial onespan /cgi/trivial.cgi
row "Apache CGI: trivial C program" - $((R_requests - R_non2xx))
CGI_TRIVIAL_RPS=$R_rps
before=$(count "$W/cgi-spool/new")
run cgi-esignhook onespan /cgi/esignhook.cgi/onespan
stored=$(( $(count "$W/cgi-spool/new") - before ))
row "Apache CGI: esignhook OneSpan" "$stored" $((R_requests - R_non2xx))
CGI_EH_RPS=$R_rps CGI_OK=$stored CGI_2XX=$((R_requests - R_non2xx))
PORT=$PORT_SAVE

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
{
echo
echo "Ratios (same run):"
echo
echo "- esignhook OneSpan / ceiling req/s: $(ratio "$EH_OS_RPS" "$CEIL_RPS") (target >= 0.90); p99 ratio $(ratio "$EH_OS_P99" "$CEIL_P99") (target <= 1.5)"
echo "- esignhook AlphaTrust / ceiling req/s: $(ratio "$EH_AT_RPS" "$CEIL_RPS"); p99 ratio $(ratio "$EH_AT_P99" "$CEIL_P99")"
echo "- esignhook OneSpan / Flask req/s: $(ratio "$EH_OS_RPS" "$FLASK_RPS") (target >= 2)"
echo "- ceiling / nginx return 200 req/s: $(ratio "$CEIL_RPS" "$BASE_RPS")"
echo "- CGI: esignhook / trivial C CGI req/s: $(ratio "$CGI_EH_RPS" "$CGI_TRIVIAL_RPS") (target >= 0.80)"
echo "- largest esignhook worker RSS: $RSS KiB (target <= 4096)"
echo "- stored == 2xx: OneSpan $EH_OS_OK == $EH_OS_2XX, AlphaTrust $EH_AT_OK == $EH_AT_2XX, CGI $CGI_OK == $CGI_2XX"
} >>"$OUT"
sed -n '/^Ratios/,$p' "$OUT"
[ "$EH_OS_OK" -eq "$EH_OS_2XX" ] && [ "$EH_AT_OK" -eq "$EH_AT_2XX" ] && [ "$CGI_OK" -eq "$CGI_2XX" ] || {
	echo "bench: stored events differ from 2xx responses" >&2; exit 1; }
echo "written: $OUT"
