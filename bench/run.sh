#!/bin/sh
# make bench: esignhook through real nginx on 127.0.0.1, against the
# baselines measured in the same run, each for $DURATION / $ROUNDS
# seconds per round:
#   nginx `return 200`                (no FastCGI, no disk)
#   bench/ceiling.c behind nginx      (the durability ceiling: same fsyncs)
#   esignhook, OneSpan and AlphaTrust callbacks, in each spool commit
#   mode (ESIGNHOOK_SPOOL_COMMIT=file, and group: one fdatasync of a
#   journal for every callback appended meanwhile)
#   the Flask listener made durable   (gunicorn, Debian's packages)
#   esignhook as classic CGI under Apache against a trivial C CGI and a
#   C CGI doing the same fsyncs
# and the system calls per delivery of esignhook (both modes) and of the
# ceiling (bench/profile.sh summary, strace: needs strace and python3).
# Prints each slice, each round's ratios (issue 11's, with their
# targets), and writes bench/out/latest.md: the configurations, every
# ratio per round with its median over the rounds.
# Not part of make check: the machine must be otherwise quiet.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DURATION=${DURATION:-30}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-16}          # wrk connections: equal concurrency for all
PROCS=${PROCS:-2}           # FastCGI worker processes (esignhook, ceiling)
THREADS=${THREADS:-8}       # threads per process
WRK_THREADS=${WRK_THREADS:-2}
DRAIN=${DRAIN:-1}
PORT=${PORT:-28480}
FLASK_PORT=$((PORT + 1))
APACHE_PORT=$((PORT + 2))
W=$ROOT/bench/out/work
OUT=$ROOT/bench/out/latest.md
KEY=bench-onespan-key-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOKEN=bench-token-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
# This machine's fsync latency drifts by 2x within minutes: each
# configuration runs ROUNDS times for DURATION/ROUNDS seconds, in turn,
# so that a slow minute hits all alike; ratios are taken per round.
SLICE=$((DURATION / ROUNDS))
[ "$SLICE" -ge 1 ] || SLICE=1
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_START=$(cut -d ' ' -f 1-3 /proc/loadavg)

for t in nginx wrk spawn-fcgi gunicorn apache2; do
	command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || {
		echo "bench: $t missing (make deps)" >&2; exit 1; }
done
make -s all
mkdir -p bench/out
cc -O2 -o bench/out/ceiling bench/ceiling.c -lfcgi -lpthread
cc -O2 -o bench/out/trivial-cgi bench/trivial-cgi.c
cc -O2 -o bench/out/ceiling-cgi bench/ceiling-cgi.c
rm -rf "$W"
mkdir -p "$W/nginx/tmp" "$W/logs"
chmod 755 "$ROOT/bench/out" "$W"

# The run's context, at the top of the output and of latest.md.
header() {
	rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
	git -C "$ROOT" diff --quiet HEAD -- lib cgi bench 2>/dev/null ||
	    rev="$rev + uncommitted changes"
	echo "Machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(free -g | awk '/^Mem:/ {print $2}') GiB, load average $LOAD_START at the start${LOAD_END:+, $LOAD_END at the end} (other work on the machine skews the figures)."
	echo "Kernel: $(uname -sr) ($(uname -v))."
	echo "Spool file system: $(df -T "$W" | awk 'NR==2 {print $2}') on $(df "$W" | awk 'NR==2 {print $1}'), mounted $(findmnt -no OPTIONS --target "$W" 2>/dev/null || echo '?')."
	echo "Command: \`make bench DURATION=$DURATION ROUNDS=$ROUNDS CONNS=$CONNS PROCS=$PROCS THREADS=$THREADS WRK_THREADS=$WRK_THREADS DRAIN=$DRAIN\` (bench/run.sh), started $STARTED, at $rev."
	echo "DRAIN=$DRAIN: new/ $([ "$DRAIN" = 1 ] && echo "emptied before each slice, as a consumer would" || echo "left to grow")."
	echo "wrk -t $WRK_THREADS -c $CONNS, each configuration $ROUNDS x ${SLICE}s, interleaved, the order rotated per round; nginx $(nginx -v 2>&1 | sed 's#.*/##')."
	echo "FastCGI workers: $PROCS processes x $THREADS threads (esignhook in each mode, and the ceiling, alike); gunicorn $FLASK_WORKERS sync workers."
}
FLASK_WORKERS=$((2 * $(nproc) + 1))   # gunicorn's recommendation
header

# System calls per delivery, esignhook (file and group mode) against
# the ceiling (issue 11): counted (strace), not timed, so before the
# timed runs; the full profile is bench/profile.sh.
sh bench/profile.sh summary >"$W/syscalls.txt"
grep -v '^syscalls ' "$W/syscalls.txt"

# Every process started here, by id: stopped at the end.
PIDS=
# spawned FILE: the children spawn-fcgi reported in FILE.
spawned() { sed -n 's/.*child spawned successfully: PID: \([0-9]*\).*/\1/p' "$1" | tr '\n' ' '; }
cleanup() {
	set +e
	[ -f "$W/apache/httpd.pid" ] && kill "$(cat "$W/apache/httpd.pid")" 2>/dev/null
	[ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	# libfcgi's SIGTERM handler only marks the ceiling for a stop at
	# its next request; esignhook finishes and leaves.
	i=0
	while [ "$i" -lt 20 ]; do
		alive=
		for p in $PIDS; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ -n "$alive" ] || break
		sleep 0.1
		i=$((i + 1))
	done
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- nginx, with the shipped location snippet (once per commit mode) ----
sed -e "s#unix:/run/esignhook/esignhook.sock#unix:$W/eh.sock#" \
    -e "s#^\([[:space:]]*\)access_log .*#\1access_log off;#" \
    nginx/esignhook.conf >"$W/nginx/esignhook.conf"
sed -e "s#unix:/run/esignhook/esignhook.sock#unix:$W/eh-group.sock#" \
    -e "s#^\([[:space:]]*\)access_log .*#\1access_log off;#" \
    -e "s#^location /esignhook/ {#location /esignhook-group/ {#" \
    nginx/esignhook.conf >"$W/nginx/esignhook-group.conf"
grep -q '^location /esignhook-group/ {' "$W/nginx/esignhook-group.conf" || {
	echo "bench: nginx/esignhook.conf: no 'location /esignhook/ {' line" >&2; exit 1; }
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
        include $W/nginx/esignhook-group.conf;
    }
}
NGX
nginx -p "$W/nginx" -c "$W/nginx/nginx.conf"

# ---- workers ----
# The two esignhook pools differ in ESIGNHOOK_SPOOL_COMMIT alone (file
# named, not left to the default) and have a spool each.
export ESIGNHOOK_ONESPAN_KEYS="$KEY" \
    ESIGNHOOK_ALPHATRUST_TOKENS="$TOKEN" ESIGNHOOK_THREADS="$THREADS" \
    ESIGNHOOK_SPOOL_MIN_FREE=0 ESIGNHOOK_SPOOL_MAX_EVENTS=0 \
    ESIGNHOOK_ALLOW_ROOT=1
ESIGNHOOK_SPOOL="$W/spool" ESIGNHOOK_SPOOL_COMMIT=file \
    spawn-fcgi -s "$W/eh.sock" -M 0666 -F "$PROCS" -- "$ROOT/cgi/esignhook" \
    >"$W/logs/spawn-eh.txt" 2>&1
EH_PIDS=$(spawned "$W/logs/spawn-eh.txt")
ESIGNHOOK_SPOOL="$W/group-spool" ESIGNHOOK_SPOOL_COMMIT=group \
    spawn-fcgi -s "$W/eh-group.sock" -M 0666 -F "$PROCS" -- \
    "$ROOT/cgi/esignhook" >"$W/logs/spawn-eh-group.txt" 2>&1
EHG_PIDS=$(spawned "$W/logs/spawn-eh-group.txt")
CEILING_SPOOL="$W/ceiling-spool" CEILING_THREADS="$THREADS" \
    spawn-fcgi -s "$W/ceiling.sock" -M 0666 -F "$PROCS" -- \
    "$ROOT/bench/out/ceiling" >"$W/logs/spawn-ceiling.txt" 2>&1
CEILING_PIDS=$(spawned "$W/logs/spawn-ceiling.txt")
PIDS="$EH_PIDS $EHG_PIDS $CEILING_PIDS"
FLASK_SPOOL="$W/flask-events.jsonl" FLASK_KEY="$KEY" \
    gunicorn -w "$FLASK_WORKERS" -b "127.0.0.1:$FLASK_PORT" \
    --chdir "$ROOT/bench" --log-level warning flask_listener:app \
    >"$W/logs/gunicorn.log" 2>&1 &
FLASK_PID=$!
PIDS="$PIDS $FLASK_PID"
for p in $EH_PIDS $EHG_PIDS $CEILING_PIDS; do
	kill -0 "$p" 2>/dev/null || { echo "bench: worker $p did not start" >&2; exit 1; }
done
# shellcheck disable=SC2086
[ "$(echo $EH_PIDS $EHG_PIDS $CEILING_PIDS | wc -w)" -eq $((3 * PROCS)) ] || {
	echo "bench: spawn-fcgi did not start $PROCS of each worker" >&2
	cat "$W"/logs/spawn-*.txt >&2; exit 1; }
sleep 2

count() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l | tr -d ' '; }
# lines FILE: its lines, 0 when it is not there (yet): the Flask
# listener creates its file at its first event.
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
# pids_of WHO: the processes whose CPU a configuration is billed: the
# ones started here, not others of the same name on the machine.
pids_of() {
	case $1 in
	nginx) m=$(cat "$W/nginx.pid"); echo "$m $(pgrep -P "$m" | tr '\n' ' ')" ;;
	flask) echo "$FLASK_PID $(pgrep -P "$FLASK_PID" | tr '\n' ' ')" ;;
	eh) echo "$EH_PIDS" ;;
	eh-group) echo "$EHG_PIDS" ;;
	ceiling) echo "$CEILING_PIDS" ;;
	esac
}
# CPU seconds (user + system, in clock ticks) used so far by WHO's
# processes: per-request cost = delta / requests.
cpu_ticks() {
	for p in $(pids_of "$1"); do
		awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || true
	done | awk '{ s += $1 } END { print s + 0 }'
}
HZ=$(getconf CLK_TCK)
us_per_req() { # TICKS_DELTA REQUESTS
	awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }'
}
rss_kb() { # PIDS: the largest RSS among them
	for p in "$@"; do
		awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true
	done | sort -n | tail -n 1
}

# run NAME KIND PATH: one wrk run; fills R_* from its RESULT line.
NONCE_N=0
R_requests=0 R_rps=0 R_p50_ms=0 R_p99_ms=0 R_p999_ms=0 R_non2xx=0
R_connect_err=0 R_read_err=0 R_write_err=0 R_timeouts=0
run() {
	NONCE_N=$((NONCE_N + 1))
	NONCE=$NONCE_N KIND=$2 URLPATH=$3 KEY=$KEY wrk -t "$WRK_THREADS" -c "$CONNS" \
	    -d "${SLICE}s" --timeout 10s -s bench/callback.lua \
	    "http://127.0.0.1:$PORT" >"$W/logs/wrk-$1.txt" 2>&1
	line=$(grep '^RESULT' "$W/logs/wrk-$1.txt")
	for kv in ${line#RESULT }; do eval "R_${kv%%=*}=${kv#*=}"; done
}

RES=$W/results.txt
: >"$RES"
# measure CONFIG KIND PATH STORE WHO: one slice; appends a line
# "CONFIG round requests rps p50 p99 p999 non2xx errors stored cpu_us".
# STORE: the new/ directory (or the Flask listener's file) that each
# 2xx must have added to, or -; WHO: whose CPU (pids_of), or -.
measure() {
	# As a consumer would in production, empty new/ before each slice
	# (DRAIN=0 lets it grow: 100k+ entries slow every delivery into it).
	# seen/ is kept: it grows in production too, until pruned.
	if [ "$DRAIN" = 1 ] && [ -d "$4" ]; then
		find "$4" -maxdepth 1 -type f -delete 2>/dev/null || true
	fi
	# Let the previous slice's (and the drain's) writeback finish, so
	# that it is not billed to this configuration.
	sync
	sleep 1
	case $4 in
	-) before=0 ;;
	*.jsonl) before=$(lines "$4") ;;
	*) before=$(count "$4") ;;
	esac
	c0=0
	[ "$5" = - ] || c0=$(cpu_ticks "$5")
	run "$1" "$2" "$3"
	# Group mode answers once the journal holds an event; its publisher
	# writes new/ up to 2 MiB behind.  Wait for new/ to settle (and
	# bill the publisher's tail to this slice's CPU).
	settle=0
	case $4 in
	-|*.jsonl) ;;
	*)
		s_prev=-1
		s_now=$(count "$4")
		while [ "$s_now" != "$s_prev" ] && [ "$settle" -lt 75 ]; do
			sleep 0.2
			settle=$((settle + 1))
			s_prev=$s_now
			s_now=$(count "$4")
		done
		;;
	esac
	cpu=-
	[ "$5" = - ] || cpu=$(us_per_req $(( $(cpu_ticks "$5") - c0 )) "$R_requests")
	case $4 in
	-) stored=- ;;
	*.jsonl) stored=$(( $(lines "$4") - before )) ;;
	*) stored=$(( $(count "$4") - before )) ;;
	esac
	echo "$1 $round $R_requests $R_rps $R_p50_ms $R_p99_ms $R_p999_ms $R_non2xx $((R_connect_err + R_read_err + R_write_err + R_timeouts)) $stored $cpu" >>"$RES"
	printf '%-26s round %s: %9s req/s  p50 %7s  p99 %7s  p99.9 %7s ms  non2xx %s  stored %s / 2xx %s  cpu %s us/req  settled %s ms\n' \
	    "$1" "$round" "$R_rps" "$R_p50_ms" "$R_p99_ms" "$R_p999_ms" "$R_non2xx" "$stored" $((R_requests - R_non2xx)) "$cpu" $((settle * 200)) |
	    tee -a "$W/rounds.txt"
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

# slice CONFIG: measure one configuration.
slice() {
	case $1 in
	baseline) measure "$1" onespan /baseline - nginx ;;
	ceiling) measure "$1" onespan /ceiling/x "$W/ceiling-spool/new" ceiling ;;
	esignhook-onespan) measure "$1" onespan /esignhook/onespan "$W/spool/new" eh ;;
	esignhook-alphatrust) measure "$1" alphatrust "/esignhook/alphatrust/$TOKEN" "$W/spool/new" eh ;;
	group-onespan) measure "$1" onespan /esignhook-group/onespan "$W/group-spool/new" eh-group ;;
	group-alphatrust) measure "$1" alphatrust "/esignhook-group/alphatrust/$TOKEN" "$W/group-spool/new" eh-group ;;
	flask) measure "$1" onespan /flask/ "$W/flask-events.jsonl" flask ;;
	# (a CGI's CPU is its own short-lived process's: not counted here)
	cgi-trivial) measure "$1" onespan /cgi/trivial.cgi - - ;;
	cgi-ceiling) measure "$1" onespan /cgi/ceiling.cgi "$W/cgi-ceiling/new" - ;;
	cgi-esignhook) measure "$1" onespan /cgi/esignhook.cgi/onespan "$W/cgi-spool/new" - ;;
	# Start-up and refusal alone: a wrong key, no disk touched.
	cgi-esignhook-401)
		KEY_SAVE=$KEY KEY=wrong-key
		measure "$1" onespan /cgi/esignhook.cgi/onespan - -
		KEY=$KEY_SAVE ;;
	*) echo "bench: no configuration $1" >&2; exit 1 ;;
	esac
}

# order ROUND CONFIG...: the round's order.  Round r starts at the r-th
# configuration (cyclically), and even rounds go through the list
# backwards: with a rotation alone, every configuration but the first
# of a round follows the same one in every round (AlphaTrust after
# OneSpan's drain, say); reversed, each follows another.
order() {
	r=$1
	shift
	echo "$@" | awk -v r="$r" '{ n = NF; s = (r - 1) % n
	    for (i = 0; i < n; i++) {
		k = (r % 2) ? (s + i) % n : (s - i + n) % n
		printf "%s%s", $(k + 1), (i < n - 1 ? " " : "\n") } }'
}

# The issue's ratios: "label|A|B|column|test|target", A's figure over
# B's in the same round (column 4 req/s, 6 p99); test ">=" or "<="
# against the target, or "-" for a ratio printed for information.
RATIOS=$W/ratios.def
cat >"$RATIOS" <<'DEF'
FastCGI OneSpan / ceiling, req/s|esignhook-onespan|ceiling|4|>=|0.95
FastCGI OneSpan / ceiling, p99|esignhook-onespan|ceiling|6|<=|1.2
FastCGI AlphaTrust / ceiling, req/s|esignhook-alphatrust|ceiling|4|>=|0.95
FastCGI AlphaTrust / ceiling, p99|esignhook-alphatrust|ceiling|6|<=|1.2
group OneSpan / ceiling, req/s|group-onespan|ceiling|4|>=|2
group AlphaTrust / ceiling, req/s|group-alphatrust|ceiling|4|>=|2
group OneSpan / durable Flask, req/s|group-onespan|flask|4|>=|2
group OneSpan / ceiling, p99|group-onespan|ceiling|6|<=|1
group AlphaTrust / ceiling, p99|group-alphatrust|ceiling|6|<=|1
CGI esignhook / C CGI with the same fsyncs, req/s|cgi-esignhook|cgi-ceiling|4|>=|0.8
group OneSpan / file OneSpan, req/s|group-onespan|esignhook-onespan|4|-|-
group AlphaTrust / file AlphaTrust, req/s|group-alphatrust|esignhook-alphatrust|4|-|-
file OneSpan / durable Flask, req/s|esignhook-onespan|flask|4|-|-
ceiling / nginx return 200, req/s|ceiling|baseline|4|-|-
CGI esignhook / trivial C CGI, req/s|cgi-esignhook|cgi-trivial|4|-|-
CGI esignhook 401 (start-up, no disk) / trivial C CGI, req/s|cgi-esignhook-401|cgi-trivial|4|-|-
DEF
# ratios MODE [ROUND PHASE]: MODE round: ROUND's ratios whose A is one
# of the configurations PHASE (a list) names, one line each, those
# whose two configurations ran in that round; MODE table: a table of
# every ratio per round, its median over the rounds, and whether the
# median meets the target (and in how many rounds it was met).
ratios() {
	awk -F '|' -v mode="$1" -v want="${2:-0}" -v phase=" ${3:-} " \
	    -v rounds="$ROUNDS" '
	FNR == NR { n++; label[n] = $1; a[n] = $2; b[n] = $3; col[n] = $4
		op[n] = $5; tg[n] = $6; next }
	{ split($0, f, " "); for (c = 3; c <= 11; c++) x[f[1], f[2], c] = f[c] }
	function ratio(i, r,   p, q) {
		if (!((a[i], r, 3) in x) || !((b[i], r, 3) in x)) return ""
		p = x[a[i], r, col[i]] + 0; q = x[b[i], r, col[i]] + 0
		return q > 0 ? sprintf("%.3f", p / q) : ""
	}
	function meets(i, y) {
		if (op[i] == ">=") return y + 0 >= tg[i] + 0
		return y + 0 <= tg[i] + 0
	}
	function target(i) { return op[i] == "-" ? "-" : op[i] " " tg[i] }
	function verdict(i, y) {
		if (op[i] == "-" || y == "") return "-"
		return meets(i, y) ? "met" : "NOT met"
	}
	END {
		if (mode == "round") {
			for (i = 1; i <= n; i++) {
				y = ratio(i, want)
				if (y == "" || index(phase, " " a[i] " ") == 0) continue
				printf "  %-66s %7s   target %-6s %s\n", label[i], y, target(i), (op[i] == "-" ? "(information)" : verdict(i, y))
			}
			exit
		}
		printf "| ratio (A / B, same round) |"
		for (r = 1; r <= rounds; r++) printf " round %d |", r
		printf " median | target | median meets it | rounds met |\n|---|"
		for (r = 1; r <= rounds; r++) printf "---:|"
		printf "---:|---|---|---|\n"
		for (i = 1; i <= n; i++) {
			k = 0; met = 0; split("", m)
			printf "| %s |", label[i]
			for (r = 1; r <= rounds; r++) {
				y = ratio(i, r)
				printf " %s |", (y == "" ? "-" : y)
				if (y != "") { m[++k] = y + 0; if (op[i] != "-" && meets(i, y)) met++ }
			}
			for (p = 2; p <= k; p++)
				for (q = p; q > 1 && m[q - 1] > m[q]; q--) { t = m[q]; m[q] = m[q - 1]; m[q - 1] = t }
			md = k == 0 ? "" : (k % 2 ? sprintf("%.3f", m[(k + 1) / 2]) : sprintf("%.3f", (m[k / 2] + m[k / 2 + 1]) / 2))
			printf " **%s** | %s | %s | %s |\n", (md == "" ? "-" : md), target(i), verdict(i, md), (op[i] == "-" ? "-" : met " of " k)
		}
	}' "$RATIOS" "$RES"
}

# rounds PHASE CONFIG...: ROUNDS rounds of the configurations, each
# round's order printed, then its ratios.
rounds() {
	phase=$1
	shift
	round=1
	while [ "$round" -le "$ROUNDS" ]; do
		o=$(order "$round" "$@")
		echo "$phase round $round order: $o" | tee -a "$W/order.txt"
		for c in $o; do slice "$c"; done
		echo "$phase round $round ratios (A / B, this round's slices):"
		ratios round "$round" "$*"
		round=$((round + 1))
	done
}

BAD=0
FCGI_CONFIGS="baseline ceiling esignhook-onespan esignhook-alphatrust group-onespan group-alphatrust flask"
# shellcheck disable=SC2086
rounds FastCGI $FCGI_CONFIGS
# shellcheck disable=SC2086
RSS=$(rss_kb $EH_PIDS) RSS_GROUP=$(rss_kb $EHG_PIDS)
# Each group worker leaves its segments while it runs; a stopped one
# none.  What a consumer would see of journal/ now: for the record.
JOURNAL=$(find "$W/group-spool/journal" -maxdepth 1 -name '*.seg' 2>/dev/null | wc -l | tr -d ' ')

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
i=0
while [ ! -f "$A/httpd.pid" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
PORT_SAVE=$PORT
PORT=$APACHE_PORT
rounds CGI cgi-trivial cgi-ceiling cgi-esignhook cgi-esignhook-401
PORT=$PORT_SAVE

# ---- summary: per configuration, totals and medians over the rounds ----
LOAD_END=$(cut -d ' ' -f 1-3 /proc/loadavg)
med() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$1" -v n="$2" '$1 == c && $n != "-" { print $n }' "$RES"; }
total_rps() { awk -v c="$1" -v d="$SLICE" '$1 == c { n += $3; k++ } END { printf "%.1f", (k ? n / (k * d) : 0) }' "$RES"; }
# sc TAG FIELD: bench/profile.sh summary's figure (2 total, 3 fsync,
# 4 fdatasync, 5 syncfs, 6 senders at once) for TAG.
sc() { awk -v t="$1" -v f="$2" '$1 == "syscalls" && $2 == t { print $(f + 1) }' "$W/syscalls.txt"; }
sc_row() { # TAG LABEL
	t=$(sc "$1" 2) c=$(sc ceiling 2)
	[ -n "$t" ] || return 0
	echo "| $2 | $(sc "$1" 6) | $t | $(awk -v a="$t" -v b="$(sc "$1" 4)" 'BEGIN { printf "%.2f", a - b }') | $(sc "$1" 3) | $(sc "$1" 4) | $(sc "$1" 5) | $(awk -v a="$t" -v c="$c" 'BEGIN { printf "%.2f", (c > 0 ? a / c : 0) }') |"
}

{
echo "# make bench, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
header | sed 's/$/  /'
echo
echo "| configuration | req/s | p50 ms | p99 ms | p99.9 ms | non-2xx | errors | stored | CPU us/req |"
echo "|---|---|---|---|---|---|---|---|---|"
for c in $FCGI_CONFIGS cgi-trivial cgi-ceiling cgi-esignhook cgi-esignhook-401; do
	echo "| $c | $(total_rps "$c") | $(col "$c" 5 | med) | $(col "$c" 6 | med) | $(col "$c" 7 | med) | $(col "$c" 8 | awk '{s+=$1} END {print s+0}') | $(col "$c" 9 | awk '{s+=$1} END {print s+0}') | $(awk -v c="$c" '$1 == c && $10 != "-" {s+=$10; k=1} END {print k ? s : "-"}' "$RES") | $(col "$c" 11 | med) |"
done
echo
echo "(req/s: all the rounds' requests over their time; latencies and CPU: the median over the rounds of each round's figure. esignhook-* is ESIGNHOOK_SPOOL_COMMIT=file, group-* is esignhook with ESIGNHOOK_SPOOL_COMMIT=group.)"
echo
echo "Ratios, each from two configurations' figures of the same round, then the median over the rounds:"
echo
ratios table
echo
echo "System calls per delivery (bench/profile.sh summary: strace -f -c of one worker, the difference between two runs; 'at once': callbacks sent concurrently, as wrk does, so that group mode's fdatasync is shared). fdatasync is group mode's shared journal commit: it is shown apart, and the total less it."
echo
echo "| worker | at once | total | total less fdatasync | fsync | fdatasync | syncfs | total / ceiling's |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
sc_row eh-onespan "esignhook file, OneSpan"
sc_row eh-alphatrust "esignhook file, AlphaTrust"
sc_row eh-group-onespan "esignhook group, OneSpan"
sc_row eh-group-alphatrust "esignhook group, AlphaTrust"
sc_row eh-group-onespan-c "esignhook group, OneSpan"
sc_row eh-group-alphatrust-c "esignhook group, AlphaTrust"
sc_row ceiling "ceiling"
sc_row ceiling-c "ceiling"
echo
echo "- largest esignhook worker RSS: file mode $RSS KiB, group mode $RSS_GROUP KiB (target <= 4096)"
echo "- journal segments left in the group spool after its rounds (workers still running): $JOURNAL"
echo "- stored vs 2xx: checked per slice (every 2xx has its file, or its line for Flask; at most $CONNS more, the requests in flight when wrk stops): $([ "$BAD" -eq 0 ] && echo ok || echo FAILED)"
echo
echo "Order of the slices in each round (round r starts at the r-th configuration; even rounds run the list backwards):"
echo
echo '```'
cat "$W/order.txt"
echo '```'
echo
echo "Each slice as it ran:"
echo
echo '```'
cat "$W/rounds.txt"
echo '```'
} >"$OUT"
echo
cat "$OUT"
[ "$BAD" -eq 0 ] || exit 1
echo "written: $OUT"
