# e2e-lib.sh: shared helpers for the end-to-end suites (tests/e2e-*.sh),
# which drive the real binary cgi/esignhook.  POSIX sh (dash); sourced,
# never run.  A suite sets E2E_MODE (cgi or fcgi), calls e2e_setup,
# then use_config / req / the chk_* asserts, and ends with e2e_done,
# whose last line is exactly "N passed, N failed".
#
#   ok NAME / not_ok NAME REASON     one assertion each, counted
#   chk_reset; chk_eq WHAT WANT GOT; chk_done NAME
#                                    several checks folded into one
#                                    named assertion (first reasons kept)
#   use_config NAME [KEY=value | -KEY ...]
#                                    the base configuration with changes
#                                    (-KEY drops a key); CGI: the env of
#                                    each request; FastCGI: the env of a
#                                    server started for NAME (reused)
#   req [VAR=value | -VAR ...]       one request (body from $REQ_IN);
#                                    sets STATUS, CTYPE, BODY, RC,
#                                    REQ_LOG (what the log got), and the
#                                    files $T/resp, $T/hdrs, $T/body
#   spool_snap / spool_added / count_new DIR / count_tmp DIR
#
# E2E_KEEP=1 keeps the temporary directory for a look afterwards.

E2E_ROOT=$(cd "$(dirname "$0")/.." && pwd) || exit 2
# ESIGNHOOK_BIN picks another build (make check-san sets it).
BIN=${ESIGNHOOK_BIN:-cgi/esignhook}
case $BIN in /*) ;; *) BIN=$E2E_ROOT/$BIN ;; esac
DATA=$E2E_ROOT/tests/data
# The operator tool, for the esignhookctl suites (ESIGNHOOKCTL_BIN too).
CTL=${ESIGNHOOKCTL_BIN:-cgi/esignhookctl}
case $CTL in /*) ;; *) CTL=$E2E_ROOT/$CTL ;; esac
E2E_PASS=0
E2E_FAIL=0
E2E_PIDS=
E2E_MODE=${E2E_MODE:-cgi}
NL='
'

# Secrets: distinctive, so a grep finds any copy of them.  URL-safe,
# so each can also be tried where the other provider's secret goes.
OS_KEY=osk7Qf3a9c1e2b4d60
OS_KEY2=osk2Zq81c4e7b0a5f3
AT_TOKEN=att6d0b3a9f1e2c475
AT_TOKEN2=att2Wc0c3f5e9a7d18
E2E_SECRETS="$OS_KEY $OS_KEY2 $AT_TOKEN $AT_TOKEN2"
REMOTE=192.0.2.10

# ---- counting ----

ok() {
	E2E_PASS=$((E2E_PASS + 1))
	printf 'ok - %s\n' "$1"
}

not_ok() {
	E2E_FAIL=$((E2E_FAIL + 1))
	printf 'not ok - %s: %s\n' "$1" "$2"
}

# Fold several checks into one named assertion.
chk_reset() {
	CHK_ERR=
}

chk_fail() {
	CHK_ERR="${CHK_ERR:+$CHK_ERR; }$1"
}

chk_eq() {
	[ "$2" = "$3" ] || chk_fail "$1: want '$2', got '$3'"
}

chk_true() {
	# chk_true WHAT command...
	chk_t_what=$1
	shift
	"$@" || chk_fail "$chk_t_what"
}

chk_done() {
	if [ -z "$CHK_ERR" ]; then
		ok "$1"
	else
		not_ok "$1" "$CHK_ERR"
	fi
	CHK_ERR=
}

# The last line of a suite: "N passed, N failed"; non-zero if any failed.
e2e_done() {
	e2e_stop_all
	printf '%d passed, %d failed\n' "$E2E_PASS" "$E2E_FAIL"
	[ "$E2E_FAIL" -eq 0 ] && exit 0
	exit 1
}

# ---- temporary directory, processes ----

e2e_cleanup() {
	e2e_stop_all
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		if [ -n "${E2E_KEEP:-}" ]; then
			echo "# kept $T" >&2
		else
			rm -rf "$T"
		fi
	fi
}

# ---- FastCGI load (tests/fcgi-load.py): e2e-crash, e2e-concurrency ----

LOAD=$E2E_ROOT/tests/fcgi-load.py

now_ms() {
	"$PY" -c 'import time; print(int(time.time() * 1000))'
}

# st NAME: one value from the load check's "stat NAME VALUE" lines.
st() {
	sed -n "s/^stat $1 //p" "$T/check.out"
}

# supervise_start SOCKET THREADS [supervise options]: fcgi-load.py's
# supervisor runs $WORKERS workers of $BIN (ESIGNHOOK_THREADS=THREADS,
# the base configuration) on one listening SOCKET, logs in $T/wlogs,
# stats in $T/stats.json; sets SUP, and fails the check unless all are
# ready.
# shellcheck disable=SC2046
supervise_start() {
	ss_sock=$1
	ss_threads=$2
	shift 2
	mkdir -p "$T/wlogs"
	IFS=$NL
	set -f
	# A stopping worker finishes a request whose params are still
	# arriving, for up to ESIGNHOOK_READ_TIMEOUT: keep that under the
	# supervisor's 8 s stop deadline (the default is 10 s).
	env -i PATH=/usr/bin:/bin $(base_config "ESIGNHOOK_THREADS=$ss_threads" \
	    ESIGNHOOK_READ_TIMEOUT=3s) \
	    "$PY" "$LOAD" supervise "$ss_sock" "$WORKERS" "$T/wlogs" \
	    "$T/stats.json" "$@" -- "$BIN" >"$T/supervise.out" 2>&1 &
	SUP=$!
	IFS=' 	
'
	set +f
	E2E_PIDS="$E2E_PIDS $SUP"
	ss_i=0
	while [ ! -e "$T/wlogs/ready" ] && [ "$ss_i" -lt 400 ]; do
		kill -0 "$SUP" 2>/dev/null || break
		sleep 0.025
		ss_i=$((ss_i + 1))
	done
	[ -e "$T/wlogs/ready" ] || chk_fail "workers not ready: $(cat "$T/supervise.out" "$T"/wlogs/*.log 2>/dev/null | head -n 5)"
}

# supervise_stop: SIGTERM to the supervisor (it stops its workers);
# SUP_RC gets its exit status.
supervise_stop() {
	kill -TERM "$SUP" 2>/dev/null
	wait "$SUP"
	SUP_RC=$?
	ss_rest=
	for ss_p in $E2E_PIDS; do
		[ "$ss_p" = "$SUP" ] || ss_rest="$ss_rest $ss_p"
	done
	E2E_PIDS=$ss_rest
}


# Stop every process this suite started (by pid, never by name).
e2e_stop_all() {
	for e2e_p in $E2E_PIDS; do
		kill "$e2e_p" 2>/dev/null
	done
	for e2e_p in $E2E_PIDS; do
		e2e_i=0
		while kill -0 "$e2e_p" 2>/dev/null && [ "$e2e_i" -lt 100 ]; do
			sleep 0.05
			e2e_i=$((e2e_i + 1))
		done
		kill -9 "$e2e_p" 2>/dev/null
		wait "$e2e_p" 2>/dev/null
	done
	E2E_PIDS=
}

e2e_setup() {
	[ -x "$BIN" ] || { echo "e2e: $BIN not built (run make)"; exit 2; }
	T=$(mktemp -d "${TMPDIR:-/tmp}/eh-e2e.XXXXXX") || exit 2
	trap 'e2e_cleanup' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	mkdir "$T/cfg" "$T/logs" "$T/in"
	: >"$T/responses"
	PY=$(python3 -c 'import sys; print(sys.executable)') || exit 2
	CGI_FCGI=$(command -v cgi-fcgi)
	SPAWN_FCGI=$(command -v spawn-fcgi)
	LOG=$T/logs/cgi.log
	: >"$LOG"
	e2e_write_helpers
}

# Size of a file in bytes (0 if absent).
fsize() {
	if [ -f "$1" ]; then
		wc -c <"$1" | tr -d ' '
	else
		echo 0
	fi
}

# ---- configuration ----

# KEY=value / -KEY arguments, in order, last word wins: the merged
# KEY=value lines, first-seen order.
e2e_merge() {
	printf '%s\n' "$@" | awk '
	/^$/ { next }
	/^-/ { k = substr($0, 2); delete val[k]; next }
	{
		i = index($0, "=")
		k = i ? substr($0, 1, i - 1) : $0
		if (!(k in seen)) { ord[++n] = k; seen[k] = 1 }
		val[k] = $0
	}
	END { for (j = 1; j <= n; j++) if (ord[j] in val) print val[ord[j]] }'
}

# The receiver refuses to serve as root unless told: these suites run
# the binary directly, as whoever runs them (root in CI).
E2E_ROOT_OK=
[ "$(id -u)" -eq 0 ] && E2E_ROOT_OK=ESIGNHOOK_ALLOW_ROOT=1

base_config() {
	e2e_merge \
	    "ESIGNHOOK_SPOOL=$T/spool" \
	    "ESIGNHOOK_ONESPAN_KEYS=$OS_KEY, $OS_KEY2" \
	    "ESIGNHOOK_ALPHATRUST_TOKENS=$AT_TOKEN,$AT_TOKEN2" \
	    "ESIGNHOOK_RESPONSE_TEXT=RECEIVED" \
	    "ESIGNHOOK_SPOOL_MIN_FREE=0" \
	    "ESIGNHOOK_THREADS=4" \
	    $E2E_ROOT_OK \
	    "$@"
}

# use_config NAME [KEY=value | -KEY ...]: make NAME the configuration of
# the requests that follow.  E2E_CFG_VIA=file passes it as a file named
# by ESIGNHOOK_CONFIG instead of as environment variables.
use_config() {
	CFG_NAME=$1
	shift
	CFG=$T/cfg/$CFG_NAME.env
	base_config "$@" >"$CFG"
	SPOOL=$(sed -n 's/^ESIGNHOOK_SPOOL=//p' "$CFG")
	if [ "${E2E_CFG_VIA:-env}" = file ]; then
		echo "ESIGNHOOK_CONFIG=$CFG" >"$CFG.vars"
	else
		cp "$CFG" "$CFG.vars"
	fi
	if [ "$E2E_MODE" = fcgi ]; then
		FCGI_SOCK=$T/$CFG_NAME.sock
		LOG=$T/logs/$CFG_NAME.log
		[ -S "$FCGI_SOCK" ] || fcgi_start "$CFG_NAME"
	fi
}

# ---- the operator tool ----

# ctl ARGS...: esignhookctl with the configuration file of the last
# use_config ($CFG) and an environment of PATH, HOME and LANG only; sets
# CTL_RC and leaves stdout and stderr in $T/ctl.out and $T/ctl.err
# (stderr also appended to $T/logs/ctl.log, for the secrets check).
ctl() {
	env -i "PATH=$PATH" "HOME=${HOME:-/}" "LANG=${LANG:-C}" \
	    ${CTL_ENV:-} "ESIGNHOOK_CONFIG=$CFG" "$CTL" "$@" \
	    >"$T/ctl.out" 2>"$T/ctl.err" </dev/null
	CTL_RC=$?
	cat "$T/ctl.err" >>"$T/logs/ctl.log"
	cat "$T/ctl.out" >>"$T/logs/ctl.log"
}

# How many records folder DIR of the spool holds (*.json).
count_in() {
	find "$SPOOL/$1" -maxdepth 1 -name '*.json' 2>/dev/null | wc -l |
	    tr -d ' '
}

# wait_until N COMMAND...: run COMMAND every 50 ms until it succeeds,
# N times at the most; succeeds if COMMAND did.
wait_until() {
	wu_n=$1
	shift
	while ! "$@"; do
		[ "$wu_n" -gt 1 ] || return 1
		wu_n=$((wu_n - 1))
		sleep 0.05
	done
}

# state_get FILE KEY: a top-level value of the JSON file FILE, a state
# file ("" if absent, null or unreadable); next_attempt_at (RFC 3339) is
# printed as Unix seconds.
state_get() {
	"$PY" -c 'import calendar, json, sys, time
try:
    v = json.load(open(sys.argv[1], encoding="utf-8")).get(sys.argv[2])
except (OSError, ValueError):
    v = None
if v is None:
    print("")
elif sys.argv[2] == "next_attempt_at":
    print(calendar.timegm(time.strptime(v[:19], "%Y-%m-%dT%H:%M:%S")))
else:
    print(v)' "$1" "$2"
}

# folder_of SPOOL ID: the folder of SPOOL that holds event ID ("" if none).
folder_of() {
	for fo_f in new cur retry done failed; do
		if [ -f "$1/$fo_f/$2.json" ]; then
			echo "$fo_f"
			return
		fi
	done
}

# receive_onespan SPOOL FILE NAME: FILE POSTed as OneSpan does it to the
# real receiver (a CGI, key $OS_KEY) spooling into SPOOL; what it says
# is in $T/logs/NAME.out and $T/logs/NAME.err.
receive_onespan() {
	env -i PATH=/usr/bin:/bin GATEWAY_INTERFACE=CGI/1.1 \
	    SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=$REMOTE \
	    "ESIGNHOOK_SPOOL=$1" "ESIGNHOOK_ONESPAN_KEYS=$OS_KEY" \
	    ESIGNHOOK_SPOOL_MIN_FREE=0 ESIGNHOOK_ALLOW_ROOT=1 \
	    REQUEST_METHOD=POST CONTENT_TYPE=application/json \
	    "CONTENT_LENGTH=$(fsize "$2")" \
	    "HTTP_AUTHORIZATION=Basic $OS_KEY" REQUEST_URI=/esignhook/onespan \
	    "$BIN" <"$2" >"$T/logs/$3.out" 2>"$T/logs/$3.err"
}

# make_ca DIR NAME: a certificate authority, DIR/NAME.pem and NAME.key.
make_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$1/$2.key" -out "$1/$2.pem" -days 2 \
	    -subj "/CN=esignhook e2e $2" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    >>"$T/logs/openssl.log" 2>&1
}

# make_server_cert DIR CA: DIR/srv.pem and srv.key, a server certificate
# for 127.0.0.1 and localhost (subjectAltName) signed by DIR/CA.pem.
make_server_cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$1/srv.key" -out "$1/srv.csr" -subj "/CN=127.0.0.1" \
	    >>"$T/logs/openssl.log" 2>&1
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	    "basicConstraints=CA:FALSE" "keyUsage=digitalSignature" \
	    "extendedKeyUsage=serverAuth" >"$1/srv.ext"
	openssl x509 -req -in "$1/srv.csr" -CA "$1/$2.pem" -CAkey "$1/$2.key" \
	    -CAcreateserial -out "$1/srv.pem" -days 2 -extfile "$1/srv.ext" \
	    >>"$T/logs/openssl.log" 2>&1
}

# ---- FastCGI servers ----

# Start cgi/esignhook under spawn-fcgi -n on $T/NAME.sock with the
# environment from $CFG.vars; its stderr is $T/logs/NAME.log.  Sets
# FCGI_PID (also kept in E2E_PIDS) and returns 0 once it logs ready.
fcgi_start() {
	fs_sock=$T/$1.sock
	fs_log=$T/logs/$1.log
	rm -f "$fs_sock"
	IFS=$NL
	set -f
	env -i PATH=/usr/bin:/bin $(cat "$CFG.vars") \
	    "$SPAWN_FCGI" -n -s "$fs_sock" -- "$BIN" >/dev/null 2>"$fs_log" &
	FCGI_PID=$!
	IFS=' 	
'
	set +f
	E2E_PIDS="$E2E_PIDS $FCGI_PID"
	eval "FCGI_PID_$1=$FCGI_PID"
	fs_i=0
	while [ "$fs_i" -lt 200 ]; do
		grep -q 'FastCGI ready' "$fs_log" 2>/dev/null && return 0
		kill -0 "$FCGI_PID" 2>/dev/null || return 1
		sleep 0.025
		fs_i=$((fs_i + 1))
	done
	return 1
}

# Stop the server of config NAME with SIGTERM; FCGI_RC gets its status.
fcgi_stop() {
	eval "fs_pid=\${FCGI_PID_$1:-}"
	FCGI_RC=
	[ -n "$fs_pid" ] || return 1
	kill -TERM "$fs_pid" 2>/dev/null
	wait "$fs_pid"
	FCGI_RC=$?
	fs_rest=
	for fs_p in $E2E_PIDS; do
		[ "$fs_p" = "$fs_pid" ] || fs_rest="$fs_rest $fs_p"
	done
	E2E_PIDS=$fs_rest
	eval "FCGI_PID_$1="
	return 0
}

# ---- one request ----

# req [VAR=value | -VAR ...]: send one request with those CGI variables
# (later ones win, -VAR drops one) and the body in the file $REQ_IN
# (none if unset).  E2E_CLIENT=raw sends a FastCGI request with the
# Python client below instead of cgi-fcgi (which sends no body unless
# CONTENT_LENGTH is set).  The $(...) lists below are split on
# newlines only (IFS=$NL, no globbing): one variable a line, blanks kept.
# shellcheck disable=SC2046
req() {
	rq_in=${REQ_IN:-/dev/null}
	rq_logsz=$(fsize "$LOG")
	IFS=$NL
	set -f
	case $E2E_MODE in
	cgi)
		env -i $(e2e_merge GATEWAY_INTERFACE=CGI/1.1 \
		    SERVER_PROTOCOL=HTTP/1.1 "REMOTE_ADDR=$REMOTE" \
		    $(cat "$CFG.vars") "$@") \
		    "$BIN" <"$rq_in" >"$T/resp" 2>"$T/req.err"
		RC=$?
		cat "$T/req.err" >>"$LOG"
		;;
	fcgi)
		if [ "${E2E_CLIENT:-}" = raw ]; then
			"$PY" "$T/fcgi_client.py" "$FCGI_SOCK" \
			    $(e2e_merge GATEWAY_INTERFACE=CGI/1.1 \
			    SERVER_PROTOCOL=HTTP/1.1 "REMOTE_ADDR=$REMOTE" \
			    "$@") <"$rq_in" >"$T/resp" 2>"$T/req.err"
		else
			env -i $(e2e_merge GATEWAY_INTERFACE=CGI/1.1 \
			    SERVER_PROTOCOL=HTTP/1.1 "REMOTE_ADDR=$REMOTE" \
			    "$@") \
			    "$CGI_FCGI" -bind -connect "$FCGI_SOCK" \
			    <"$rq_in" >"$T/resp" 2>"$T/req.err"
		fi
		RC=$?
		;;
	esac
	IFS=' 	
'
	set +f
	cat "$T/resp" >>"$T/responses"
	parse_response "$T/resp"
	# A FastCGI worker writes a request's log line after its reply
	# (which goes with FCGI_END_REQUEST, in one write): an answered
	# request's line may be a moment behind.
	if [ "$E2E_MODE" = fcgi ] && [ -n "$STATUS" ]; then
		wait_log_lines "$rq_logsz" 1
	fi
	REQ_LOG=$(tail -c +"$((rq_logsz + 1))" "$LOG" 2>/dev/null)
}

# wait_log_lines OFFSET N: until $LOG past byte OFFSET holds N request
# lines (" status="), for at most 5 s.
wait_log_lines() {
	wl_i=0
	while [ "$wl_i" -lt 500 ] && [ "$(tail -c +"$(($1 + 1))" "$LOG" 2>/dev/null |
	    grep -c ' status=')" -lt "$2" ]; do
		sleep 0.01
		wl_i=$((wl_i + 1))
	done
}

# Split a CGI response into STATUS, $T/hdrs (CR removed), $T/body
# (bytes unchanged), CTYPE and BODY (trailing newlines cut).
parse_response() {
	STATUS=$(sed -n '1{s/\r$//;s/^Status: \([0-9][0-9][0-9]\)\( .*\)\{0,1\}$/\1/p;}' "$1")
	sed '/^\r\{0,1\}$/q' "$1" | tr -d '\r' | sed '/^$/d' >"$T/hdrs"
	sed '1,/^\r\{0,1\}$/d' "$1" >"$T/body"
	CTYPE=$(header Content-Type)
	BODY=$(cat "$T/body")
}

# The value of response header $1 (first one), or empty.
header() {
	awk -v h="$1" '
	{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == tolower(h)) {
		v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }' "$T/hdrs"
}

# Write $2 (printf %s) to the input file $T/in/$1 and echo its path.
mkbody() {
	printf '%s' "$2" >"$T/in/$1"
	echo "$T/in/$1"
}

# ---- spool ----

# Entries in new/ or tmp/ of spool $1 (0 when it is not a directory).
count_new() {
	if [ -d "$1/new" ]; then
		ls -A "$1/new" | wc -l | tr -d ' '
	else
		echo 0
	fi
}

count_tmp() {
	if [ -d "$1/tmp" ]; then
		ls -A "$1/tmp" | wc -l | tr -d ' '
	else
		echo 0
	fi
}

# Remember what new/ of $SPOOL holds; spool_added lists what came since.
spool_snap() {
	ls -A "$SPOOL/new" 2>/dev/null | sort >"$T/snap"
}

spool_added() {
	ls -A "$SPOOL/new" 2>/dev/null | sort | comm -13 "$T/snap" -
}

# ---- common checks ----

# After req: nothing new in new/ and nothing in tmp/ of $SPOOL.
chk_nothing_spooled() {
	cns_added=$(spool_added | tr '\n' ' ')
	[ -z "$cns_added" ] || chk_fail "spooled: $cns_added"
	[ "$(count_tmp "$SPOOL")" -eq 0 ] || chk_fail "tmp/ not empty"
}

# chk_error STATUS REASON: the response is STATUS with the one-line
# text/plain body REASON, the log line says reason="REASON", and
# nothing was spooled.
chk_error() {
	chk_eq status "$1" "$STATUS"
	chk_eq content-type "text/plain; charset=utf-8" "$CTYPE"
	printf '%s\n' "$2" | cmp -s - "$T/body" ||
	    chk_fail "body: want '$2' and a newline, got '$(head -c 200 "$T/body")'"
	case $REQ_LOG in
	*"reason=\"$2\""*) ;;
	*) chk_fail "log line lacks reason=\"$2\": $(printf '%s' "$REQ_LOG" | tail -n 1)" ;;
	esac
	chk_nothing_spooled
}

# chk_record FILE KIND PAYLOAD KNOWN: the record new/FILE of $SPOOL
# against what was sent (KIND onespan, form or query).
chk_record() {
	cr_out=$("$PY" "$T/check_record.py" "$SPOOL" "$1" "$2" "$3" "$4" \
	    "$REMOTE" 2>&1)
	[ "$cr_out" = ok ] || chk_fail "record $1: $cr_out"
}

# The one file spool_added found, or a failure.
chk_one_added() {
	coa=$(spool_added)
	ADDED=
	if [ -z "$coa" ]; then
		chk_fail "nothing spooled"
	elif [ "$(printf '%s\n' "$coa" | wc -l)" -ne 1 ]; then
		chk_fail "more than one file spooled: $(echo $coa)"
	else
		ADDED=$coa
	fi
}

# Whether any secret occurs in files under the given paths.
secrets_in() {
	si_args=
	for si_s in $E2E_SECRETS; do
		si_args="$si_args -e $si_s"
	done
	grep -r -l -F $si_args "$@" 2>/dev/null
}

# ---- helper programs ----

e2e_write_helpers() {
	cat >"$T/check_record.py" <<'EOF'
# check_record.py SPOOL FILE KIND PAYLOAD KNOWN REMOTE: prints "ok" or
# what is wrong with the record SPOOL/new/FILE.
import json, os, re, stat, sys, urllib.parse

spool, name, kind, payload, known, remote = sys.argv[1:7]
errs = []
path = os.path.join(spool, "new", name)
raw = open(path, "rb").read()
if not raw.endswith(b"\n") or raw.count(b"\n") != 1:
    errs.append("not one line ending in a newline")
try:
    rec = json.loads(raw)
except ValueError as e:
    print("not JSON: %s" % e)
    sys.exit(0)
mode = stat.S_IMODE(os.stat(path).st_mode)
if mode != 0o600:
    errs.append("file mode %o, want 600" % mode)
for d in ("", "new", "tmp", "seen"):
    m = stat.S_IMODE(os.stat(os.path.join(spool, d)).st_mode)
    if m != 0o700:
        errs.append("dir %s/ mode %o, want 700" % (d or "spool", m))

def want(key, value):
    if rec.get(key) != value:
        errs.append("%s: want %r, got %r" % (key, value, rec.get(key)))

want("v", 1)
if not name.endswith(".json") or rec.get("id") != name[:-5]:
    errs.append("id %r does not name the file %r" % (rec.get("id"), name))
if not re.fullmatch(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{16}", str(rec.get("id"))):
    errs.append("id %r malformed" % rec.get("id"))
if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
                    str(rec.get("received_at"))):
    errs.append("received_at %r malformed" % rec.get("received_at"))
if not re.fullmatch(r"[0-9a-f]{64}", str(rec.get("dedupe_key"))):
    errs.append("dedupe_key %r malformed" % rec.get("dedupe_key"))
want("remote_addr", remote)
want("known_event", known == "true")
body = open(payload, "rb").read().decode("utf-8")
if kind == "onespan":
    sent = json.loads(body)
    want("provider", "onespan")
    want("event", sent["name"])
    want("transaction_id", sent["packageId"])
    want("data", sent)
else:
    pairs = urllib.parse.parse_qsl(body, keep_blank_values=True,
                                   strict_parsing=True, errors="strict")
    sent = dict(pairs)
    if kind == "query":
        sent.pop("token", None)
    tx = {"2": "Pending", "4": "Complete", "7": "Closed", "8": "Cancelled",
          "9": "Expired", "10": "Voided"}
    part = {"2": "Pending", "4": "Complete", "6": "Email sent",
            "7": "Closed", "8": "Cancelled", "9": "Expired"}
    if sent.get("TXStatus") in tx and "TXStatusName" not in sent:
        sent["TXStatusName"] = tx[sent["TXStatus"]]
    if sent.get("PartStatus") in part and "PartStatusName" not in sent:
        sent["PartStatusName"] = part[sent["PartStatus"]]
    want("provider", "alphatrust")
    want("event", sent.get("EventType"))
    want("transaction_id", sent.get("TransID"))
    data = rec.get("data")
    if not isinstance(data, dict) or \
       not all(isinstance(v, str) for v in data.values()):
        errs.append("data is not an object of strings")
    want("data", sent)
    if isinstance(data, dict) and "token" in data:
        errs.append("data keeps the token field")
print("; ".join(errs) if errs else "ok")
EOF
	cat >"$T/check_problem.py" <<'EOF'
# check_problem.py SPOOL FILE PROBLEM KIND PAYLOAD REMOTE: prints "ok" or
# what is wrong with SPOOL/new/FILE, a record stored with problems.
import base64, json, os, sys, urllib.parse

spool, name, problem, kind, payload, remote = sys.argv[1:7]
errs = []
raw = open(os.path.join(spool, "new", name), "rb").read()
try:
    rec = json.loads(raw)
except ValueError as e:
    print("not JSON: %s" % e)
    sys.exit(0)
sent = open(payload, "rb").read()
p = rec.get("problems")
if not isinstance(p, list) or not all(isinstance(x, str) for x in p):
    errs.append("problems %r is not a list of strings" % (p,))
elif not any(problem in x for x in p):
    errs.append("no problem like %r in %r" % (problem, p))
if rec.get("known_event") is not False:
    errs.append("known_event %r" % rec.get("known_event"))
if rec.get("remote_addr") != remote or rec.get("id") != name[:-5]:
    errs.append("remote_addr or id wrong")
if kind == "raw":
    if rec.get("data", 0) is not None:
        errs.append("data is not null")
    if rec.get("event") is not None or rec.get("transaction_id") is not None:
        errs.append("event or transaction_id not null")
    try:
        if base64.b64decode(rec.get("raw", ""), validate=True) != sent:
            errs.append("raw is not the body")
    except ValueError:
        errs.append("raw is not base64")
elif kind == "onespan":
    if rec.get("data") != json.loads(sent) or "raw" in rec:
        errs.append("data is not the body")
else:
    first = {}
    for k, v in urllib.parse.parse_qsl(sent.decode(), keep_blank_values=True):
        first.setdefault(k, v)
    d = rec.get("data")
    if not isinstance(d, dict) or any(d.get(k) != v for k, v in first.items()):
        errs.append("data %r lacks the first values %r" % (d, first))
print("; ".join(errs) if errs else "ok")
EOF
	cat >"$T/check_many.py" <<'EOF'
# check_many.py DIR N: every file in DIR is a record whose id names it;
# there are N of them with N distinct ids.  Prints "ok" or what is wrong.
import json, os, sys

d, n = sys.argv[1], int(sys.argv[2])
names = sorted(os.listdir(d))
ids, errs = set(), []
for f in names:
    try:
        rec = json.load(open(os.path.join(d, f)))
    except ValueError as e:
        errs.append("%s: not JSON (%s)" % (f, e))
        continue
    if rec.get("id") + ".json" != f:
        errs.append("%s: id %r" % (f, rec.get("id")))
    ids.add(rec.get("id"))
if len(names) != n:
    errs.append("%d files, want %d" % (len(names), n))
if len(ids) != n:
    errs.append("%d distinct ids, want %d" % (len(ids), n))
print("; ".join(errs[:5]) if errs else "ok")
EOF
	cat >"$T/fcgi_client.py" <<'EOF'
# fcgi_client.py SOCKET NAME=value...: one FastCGI responder request on
# a unix socket, params from the arguments, FCGI_STDIN from our stdin
# exactly as given (CONTENT_LENGTH or not); FCGI_STDOUT to stdout.
import socket, struct, sys

def record(rtype, content, rid=1):
    out = b""
    while True:
        chunk, content = content[:65535], content[65535:]
        pad = (8 - len(chunk) % 8) % 8
        out += struct.pack(">BBHHBx", 1, rtype, rid, len(chunk), pad)
        out += chunk + b"\0" * pad
        if not content:
            return out

def length(n):
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)

params = b""
for a in sys.argv[2:]:
    k, v = a.split("=", 1)
    k, v = k.encode(), v.encode()
    params += length(len(k)) + length(len(v)) + k + v
body = sys.stdin.buffer.read()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
msg = record(1, struct.pack(">HB5x", 1, 0))
msg += (record(4, params) if params else b"") + record(4, b"")
msg += (record(5, body) if body else b"") + record(5, b"")
try:
    s.sendall(msg)
except OSError:
    pass  # the server may answer before it has read everything
buf, out = b"", b""
while True:
    try:
        d = s.recv(65536)
    except OSError:
        break
    if not d:
        break
    buf += d
    done = False
    while len(buf) >= 8:
        _, t, _, clen, pad = struct.unpack(">BBHHBx", buf[:8])
        if len(buf) < 8 + clen + pad:
            break
        content, buf = buf[8:8 + clen], buf[8 + clen + pad:]
        if t == 6:
            out += content
        elif t == 7:
            sys.stderr.buffer.write(content)
        elif t == 3:
            done = True
    if done:
        break
sys.stdout.buffer.write(out)
EOF
}

# ---- requests of each kind ----

# os_post FILE [VAR=value | -VAR ...]: FILE POSTed as OneSpan does it.
os_post() {
	REQ_IN=$1
	shift
	req REQUEST_METHOD=POST CONTENT_TYPE=application/json \
	    "CONTENT_LENGTH=$(fsize "$REQ_IN")" \
	    "HTTP_AUTHORIZATION=Basic $OS_KEY" REQUEST_URI=/esignhook/onespan \
	    "$@"
	REQ_IN=
}

# at_post FILE [VAR=value ...]: FILE POSTed as a form to .../<token>.
at_post() {
	REQ_IN=$1
	shift
	req REQUEST_METHOD=POST \
	    CONTENT_TYPE=application/x-www-form-urlencoded \
	    "CONTENT_LENGTH=$(fsize "$REQ_IN")" \
	    "REQUEST_URI=/esignhook/alphatrust/$AT_TOKEN" "$@"
	REQ_IN=
}

# at_get FILE [TOKEN [VAR=value ...]]: FILE as the query of a GET, with
# &token=TOKEN (default $AT_TOKEN).  The query is left in $T/in/query.
at_get() {
	ag_f=$1
	ag_tok=${2:-$AT_TOKEN}
	shift
	[ $# -gt 0 ] && shift
	printf '%s&token=%s' "$(cat "$ag_f")" "$ag_tok" >"$T/in/query"
	ag_q=$(cat "$T/in/query")
	REQ_IN=
	req REQUEST_METHOD=GET "QUERY_STRING=$ag_q" \
	    "REQUEST_URI=/esignhook/alphatrust?$ag_q" "$@"
}

# A OneSpan event as JSON: os_json NAME PACKAGEID [,"extra":...].
os_json() {
	printf '{"name":"%s","sessionUser":"44aafb7c-97b9-40e1-bb59-eb76c7d2a484","packageId":"%s","createdDate":"2026-11-22T10:00:00.000Z"%s}' \
	    "$1" "$2" "${3:-}"
}

# A string of N copies of character C.
repeat() {
	awk -v n="$1" -v c="$2" 'BEGIN { s = ""; for (i = 0; i < n; i++) s = s c; printf "%s", s }'
}

# The response is a OneSpan 200: {"success":true}, application/json.
chk_os_ok() {
	chk_eq status 200 "$STATUS"
	chk_eq content-type application/json "$CTYPE"
	printf '{"success":true}' | cmp -s - "$T/body" ||
	    chk_fail "body: want {\"success\":true}, got '$(head -c 200 "$T/body")'"
	chk_eq content-length "$(fsize "$T/body")" "$(header Content-Length)"
}

# The response is an AlphaTrust 200 with body TEXT, text/plain.
chk_at_ok() {
	chk_eq status 200 "$STATUS"
	chk_eq media-type text/plain "${CTYPE%%;*}"
	printf '%s' "$1" | cmp -s - "$T/body" ||
	    chk_fail "body: want '$1', got '$(head -c 200 "$T/body")'"
	chk_eq content-length "$(fsize "$T/body")" "$(header Content-Length)"
}

chk_retry_after() {
	chk_eq retry-after 300 "$(header Retry-After)"
}

# ---- the request table, the same in both modes ----

e2e_request_table() {
	M=$E2E_MODE
	use_config main

	# Every sample payload.
	for f in "$DATA"/onespan/*.json; do
		chk_reset
		spool_snap
		os_post "$f"
		chk_os_ok
		chk_one_added
		[ -n "$ADDED" ] && chk_record "$ADDED" onespan "$f" true
		chk_done "$M: onespan sample $(basename "$f"): 200, one record"
	done
	for f in "$DATA"/alphatrust/*.form; do
		chk_reset
		spool_snap
		at_post "$f"
		chk_at_ok RECEIVED
		chk_one_added
		[ -n "$ADDED" ] && chk_record "$ADDED" form "$f" true
		chk_done "$M: alphatrust sample $(basename "$f") POST: 200 RECEIVED, one record"
	done
	for f in "$DATA"/alphatrust/*.form; do
		chk_reset
		spool_snap
		at_get "$f"
		chk_at_ok RECEIVED
		chk_one_added
		[ -n "$ADDED" ] && chk_record "$ADDED" query "$T/in/query" true
		chk_done "$M: alphatrust sample $(basename "$f") GET &token=: 200 RECEIVED, one record without token"
	done

	# Events no document names yet: kept, known_event false.
	chk_reset
	spool_snap
	os_post "$(mkbody new-event.json "$(os_json FUTURE_EVENT "future-$M")")"
	chk_os_ok
	chk_one_added
	[ -n "$ADDED" ] && chk_record "$ADDED" onespan "$T/in/new-event.json" false
	chk_done "$M: onespan unknown event name: 200, known_event false"
	chk_reset
	spool_snap
	at_post "$(mkbody new-event.form 'TransID=1234567890&EventType=some-new-event&ps_securitytoken=4bf44fb0-f695-40b5-821d-c22273e11c30')"
	chk_at_ok RECEIVED
	chk_one_added
	[ -n "$ADDED" ] && chk_record "$ADDED" form "$T/in/new-event.form" false
	chk_done "$M: alphatrust unknown EventType: 200, known_event false"

	# Other ways to present a valid secret.
	chk_reset
	spool_snap
	os_post "$(mkbody key2.json "$(os_json PACKAGE_CREATE "key2-$M")")" \
	    "HTTP_AUTHORIZATION=Basic $OS_KEY2"
	chk_os_ok
	chk_one_added
	chk_done "$M: onespan second configured key: 200"
	chk_reset
	spool_snap
	os_post "$(mkbody lcbasic.json "$(os_json PACKAGE_CREATE "lcbasic-$M")")" \
	    "HTTP_AUTHORIZATION=basic $OS_KEY"
	chk_os_ok
	chk_one_added
	chk_done "$M: onespan auth scheme 'basic' (lower case): 200"
	chk_reset
	spool_snap
	at_post "$DATA/alphatrust/transaction-complete.form" \
	    "REQUEST_URI=/esignhook/alphatrust/$AT_TOKEN2"
	chk_at_ok RECEIVED
	chk_one_added
	chk_done "$M: alphatrust second configured token: 200"
	chk_reset
	spool_snap
	at_post "$DATA/alphatrust/transaction-complete.form" \
	    "REQUEST_URI=/esignhook/alphatrust?token=$AT_TOKEN" \
	    "QUERY_STRING=token=$AT_TOKEN"
	chk_at_ok RECEIVED
	chk_one_added
	[ -n "$ADDED" ] && chk_record "$ADDED" form \
	    "$DATA/alphatrust/transaction-complete.form" true
	chk_done "$M: alphatrust POST with ?token= in the query: 200"

	# Dedupe: OneSpan only.
	dd=$(mkbody dedupe.json "$(os_json PACKAGE_COMPLETE "dedupe-$M")")
	chk_reset
	spool_snap
	os_post "$dd"
	s1=$STATUS
	os_post "$dd"
	chk_eq "first status" 200 "$s1"
	chk_os_ok
	chk_eq "files added" 1 "$(spool_added | wc -l | tr -d ' ')"
	case $REQ_LOG in
	*duplicate=true*) ;;
	*) chk_fail "log line of the second lacks duplicate=true" ;;
	esac
	chk_done "$M: same onespan event twice: 200 twice, one file"
	chk_reset
	spool_snap
	os_post "$(mkbody dedupe2.json "$(printf '{ "packageId" : "dedupe-%s",\n "createdDate":"2026-11-22T10:00:00.000Z", "sessionUser":"44aafb7c-97b9-40e1-bb59-eb76c7d2a484", "name":"PACKAGE_COMPLETE" }\n' "$M")")"
	chk_os_ok
	chk_nothing_spooled
	chk_done "$M: same onespan event reformatted (key order, blanks): 200, no new file"
	chk_reset
	spool_snap
	at_post "$DATA/alphatrust/transaction-complete.form"
	s1=$STATUS
	at_post "$DATA/alphatrust/transaction-complete.form"
	chk_eq "first status" 200 "$s1"
	chk_at_ok RECEIVED
	chk_eq "files added" 2 "$(spool_added | wc -l | tr -d ' ')"
	chk_done "$M: same alphatrust event twice: 200 twice, two files"

	# Health.
	chk_reset
	spool_snap
	req REQUEST_METHOD=GET QUERY_STRING= REQUEST_URI=/esignhook/
	chk_eq status 200 "$STATUS"
	chk_eq content-type "text/plain; charset=utf-8" "$CTYPE"
	chk_eq body OK "$BODY"
	chk_nothing_spooled
	chk_done "$M: GET with an empty query: 200 health"
	chk_reset
	spool_snap
	req REQUEST_METHOD=GET -QUERY_STRING REQUEST_URI=/esignhook/
	chk_eq status 200 "$STATUS"
	chk_eq body OK "$BODY"
	chk_done "$M: GET with no QUERY_STRING: 200 health"

	# 401s.
	chk_reset
	spool_snap
	os_post "$DATA/onespan/package-create.json" \
	    "HTTP_AUTHORIZATION=Basic wrong${OS_KEY}x"
	chk_error 401 "wrong credentials"
	chk_done "$M: onespan wrong key: 401 wrong credentials"
	chk_reset
	spool_snap
	os_post "$DATA/onespan/package-create.json" -HTTP_AUTHORIZATION \
	    -REQUEST_URI
	chk_error 401 "missing credentials"
	chk_done "$M: onespan no Authorization, no REQUEST_URI: 401 missing credentials"
	chk_reset
	spool_snap
	os_post "$DATA/onespan/package-create.json" -HTTP_AUTHORIZATION
	chk_error 401 "missing credentials"
	chk_done "$M: onespan no Authorization, REQUEST_URI=/esignhook/onespan: 401 missing credentials"
	chk_reset
	spool_snap
	os_post "$DATA/onespan/package-create.json" \
	    "HTTP_AUTHORIZATION=Basic $AT_TOKEN"
	chk_error 401 "wrong credentials"
	chk_done "$M: alphatrust token as onespan key: 401 wrong credentials"
	chk_reset
	spool_snap
	at_post "$DATA/alphatrust/transaction-complete.form" \
	    "REQUEST_URI=/esignhook/alphatrust/$OS_KEY"
	chk_error 401 "wrong credentials"
	chk_done "$M: onespan key as alphatrust path token: 401 wrong credentials"
	chk_reset
	spool_snap
	at_get "$DATA/alphatrust/transaction-complete.form" "$OS_KEY"
	chk_error 401 "wrong credentials"
	chk_done "$M: onespan key as alphatrust &token=: 401 wrong credentials"
	chk_reset
	spool_snap
	at_post "$DATA/alphatrust/transaction-complete.form" \
	    "REQUEST_URI=/esignhook/alphatrust/wrong$AT_TOKEN"
	chk_error 401 "wrong credentials"
	chk_done "$M: alphatrust wrong path token: 401 wrong credentials"
	chk_reset
	spool_snap
	at_post "$DATA/alphatrust/transaction-complete.form" \
	    "REQUEST_URI=/esignhook/alphatrust/"
	chk_error 401 "missing credentials"
	chk_done "$M: alphatrust no token (URI ends in /): 401 missing credentials"

	# 405.
	for meth in PUT DELETE HEAD; do
		chk_reset
		spool_snap
		os_post "$DATA/onespan/package-create.json" \
		    "REQUEST_METHOD=$meth"
		chk_error 405 "method not allowed"
		chk_eq allow "GET, POST" "$(header Allow)"
		chk_done "$M: $meth: 405, Allow: GET, POST"
	done
	# The reply's bytes, whole: each header, in its order, once.
	for rb_m in PUT POST; do
		chk_reset
		os_post "$DATA/onespan/package-create.json" "REQUEST_METHOD=$rb_m"
		if [ "$rb_m" = PUT ]; then
			rb_st="405 Method Not Allowed" rb_extra="Allow: GET, POST\r\n"
		else
			rb_st="200 OK" rb_extra=
		fi
		printf "Status: %s\r\nContent-Type: %s\r\nContent-Length: %s\r\nCache-Control: no-store\r\n$rb_extra\r\n" \
		    "$rb_st" "$CTYPE" "$(fsize "$T/body")" >"$T/want"
		cat "$T/body" >>"$T/want"
		cmp -s "$T/resp" "$T/want" ||
		    chk_fail "not the reply's bytes: $(od -c "$T/resp" | head -8)"
		chk_done "$M: $rb_m: the reply byte for byte (Status, Content-Type, Content-Length, Cache-Control${rb_extra:+, Allow})"
	done

	# 413 and the default limit.
	big=$T/in/big.json
	{ printf '{"name":"PACKAGE_CREATE","packageId":"big","pad":"'
	  repeat 65600 x
	  printf '"}'; } >"$big"
	chk_reset
	spool_snap
	os_post "$big"
	chk_error 413 "body over ESIGNHOOK_MAX_BODY"
	chk_done "$M: $(fsize "$big")-byte body, default ESIGNHOOK_MAX_BODY: 413"

	# 415.
	chk_reset
	spool_snap
	os_post "$DATA/onespan/package-create.json" CONTENT_TYPE=text/plain
	chk_error 415 "content type must be application/json or application/x-www-form-urlencoded"
	chk_done "$M: POST text/plain: 415"
	chk_reset
	spool_snap
	os_post "$DATA/onespan/package-create.json" -CONTENT_TYPE
	chk_error 415 "content type must be application/json or application/x-www-form-urlencoded"
	chk_done "$M: POST with no content type: 415"
	chk_reset
	spool_snap
	os_post "$(mkbody ctcase.json "$(os_json PACKAGE_CREATE "ctcase-$M")")" \
	    "CONTENT_TYPE=application/JSON; charset=utf-8"
	chk_os_ok
	chk_one_added
	chk_done "$M: POST application/JSON; charset=utf-8: 200"
	chk_reset
	spool_snap
	at_post "$DATA/alphatrust/transaction-cancelled.form" \
	    "CONTENT_TYPE=Application/X-WWW-Form-Urlencoded; charset=UTF-8"
	chk_at_ok RECEIVED
	chk_one_added
	chk_done "$M: POST Application/X-WWW-Form-Urlencoded; charset=UTF-8: 200"

	# Authenticated OneSpan bodies that do not fit the documents: 200,
	# stored with their problems (OneSpan never resends a refused one).
	e2e_os_problem "malformed JSON" \
	    "malformed JSON at byte 40: the body ends inside a value" raw \
	    '{"name":"PACKAGE_CREATE","packageId":"x"'
	e2e_os_problem "JSON array" "the JSON body is an array, not an object" \
	    raw '[{"name":"PACKAGE_CREATE","packageId":"x"}]'
	e2e_os_problem "missing name" "name is missing" onespan \
	    '{"packageId":"x","sessionUser":"u"}'
	e2e_os_problem "missing packageId" "packageId is missing" onespan \
	    '{"name":"PACKAGE_CREATE","sessionUser":"u"}'
	e2e_os_problem "packageId a number" \
	    "packageId is a number, not a string" onespan \
	    '{"name":"PACKAGE_CREATE","packageId":12345}'
	e2e_os_problem "sessionUser of 256 chars" \
	    "sessionUser is over 255 characters" onespan \
	    "$(os_json PACKAGE_CREATE p256 | sed "s/44aafb7c-97b9-40e1-bb59-eb76c7d2a484/$(repeat 256 u)/")"
	e2e_os_problem "documentId of 257 chars" \
	    "documentId is over 256 characters" onespan \
	    "$(os_json DOCUMENT_SIGNED d257 ",\"documentId\":\"$(repeat 257 d)\"")"
	e2e_os_problem "message of 4001 chars" \
	    "message is over 4000 characters" onespan \
	    "$(os_json PACKAGE_DECLINE m4001 ",\"message\":\"$(repeat 4001 m)\"")"
	# ... and the sizes themselves are accepted.
	chk_reset
	spool_snap
	os_post "$(mkbody sizes.json "$(os_json DOCUMENT_SIGNED "sizes-$M" ",\"documentId\":\"$(repeat 256 d)\",\"message\":\"$(repeat 4000 m)\"" | sed "s/44aafb7c-97b9-40e1-bb59-eb76c7d2a484/$(repeat 255 u)/")")"
	chk_os_ok
	chk_one_added
	[ -n "$ADDED" ] && chk_record "$ADDED" onespan "$T/in/sizes.json" true
	chk_done "$M: onespan sessionUser 255, documentId 256, message 4000 chars: 200"

	# Authenticated AlphaTrust forms that do not fit: 200, stored with
	# their problems (raw when the form cannot be decoded at all).
	at=TransID=1234567890\&TXStatus=4\&EventType=transaction
	e2e_at_problem "bad escape %zz" "form field 4: bad %-escape" raw \
	    "$at&Note=a%zzb"
	e2e_at_problem "truncated escape %4" "form field 4: bad %-escape" raw \
	    "$at&Note=%4"
	e2e_at_problem "%00" "form field 4: a NUL byte" raw "$at&Note=a%00b"
	e2e_at_problem "invalid UTF-8 %ff" "form field 4: invalid UTF-8" raw \
	    "$at&Note=%ff"
	e2e_at_problem "a field given twice" \
	    "form field TransID given twice: the first value kept" form \
	    "$at&TransID=1234567891"
	e2e_at_problem "missing EventType" "EventType is missing" form \
	    "TransID=1234567890&TXStatus=4"
	e2e_at_problem "missing TransID" "TransID is missing" form \
	    "TXStatus=4&EventType=transaction"
	e2e_at_problem "TransID 12a" "TransID is not 1 to 20 digits" form \
	    "TransID=12a&TXStatus=4&EventType=transaction"

	# Senders' quirks, with the bytes those client stacks send.
	# .NET's StreamWriter with Encoding.UTF8: EF BB BF before the JSON.
	printf '%s' "$(os_json PACKAGE_CREATE "bom-$M")" >"$T/in/nobom.json"
	{ printf '\357\273\277'; cat "$T/in/nobom.json"; } >"$T/in/bom.json"
	chk_reset
	spool_snap
	os_post "$T/in/bom.json" "CONTENT_TYPE=application/json; charset=utf-8"
	chk_os_ok
	chk_one_added
	[ -n "$ADDED" ] && chk_record "$ADDED" onespan "$T/in/nobom.json" true
	chk_clean_log
	chk_done "$M: onespan JSON after a UTF-8 byte order mark (.NET): 200, data without it"
	# Java's HttpURLConnection: no type set, so a form type, on JSON.
	chk_reset
	spool_snap
	os_post "$(mkbody java.json "$(os_json PACKAGE_COMPLETE "java-$M")")" \
	    CONTENT_TYPE=application/x-www-form-urlencoded
	chk_os_ok
	chk_one_added
	[ -n "$ADDED" ] && chk_record "$ADDED" onespan "$T/in/java.json" true
	chk_clean_log
	chk_done "$M: onespan key with Java's default form content type: OneSpan's, 200"
	chk_reset
	spool_snap
	os_post "$(mkbody java2.json "$(os_json PACKAGE_COMPLETE "java2-$M")")" \
	    CONTENT_TYPE=application/x-www-form-urlencoded \
	    "HTTP_AUTHORIZATION=Basic x$OS_KEY"
	chk_error 401 "wrong credentials"
	chk_done "$M: wrong key with a form content type: AlphaTrust's 401"
	# A form body ending in CR LF: not part of the last value.
	printf 'TransID=1234567890&TXStatus=4&EventType=transaction&ps_securitytoken=abc\r\n' \
	    >"$T/in/crlf.form"
	printf 'TransID=1234567890&TXStatus=4&EventType=transaction&ps_securitytoken=abc' \
	    >"$T/in/nocrlf.form"
	chk_reset
	spool_snap
	at_post "$T/in/crlf.form"
	chk_at_ok RECEIVED
	chk_one_added
	[ -n "$ADDED" ] && chk_record "$ADDED" form "$T/in/nocrlf.form" true
	chk_clean_log
	chk_done "$M: alphatrust form ending in CR LF: 200, ps_securitytoken without it"
	printf 'EventType=transaction&TransID=1234567890\r\n' >"$T/in/crlf2.form"
	printf 'EventType=transaction&TransID=1234567890' >"$T/in/nocrlf2.form"
	chk_reset
	spool_snap
	at_post "$T/in/crlf2.form"
	chk_at_ok RECEIVED
	chk_one_added
	[ -n "$ADDED" ] && chk_record "$ADDED" form "$T/in/nocrlf2.form" true
	chk_clean_log
	chk_done "$M: alphatrust form ending in TransID and CR LF: 200"
	{ printf '\357\273\277'; cat "$T/in/nocrlf2.form"; } >"$T/in/bom.form"
	chk_reset
	spool_snap
	at_post "$T/in/bom.form"
	chk_at_ok RECEIVED
	chk_one_added
	[ -n "$ADDED" ] && chk_record "$ADDED" form "$T/in/nocrlf2.form" true
	chk_done "$M: alphatrust form after a UTF-8 byte order mark: 200"
	# Empty pairs: skipped as the WHATWG parser does.
	chk_reset
	spool_snap
	at_post "$(mkbody amps.form '&TransID=1234567890&&EventType=transaction&')"
	chk_at_ok RECEIVED
	chk_one_added
	[ -n "$ADDED" ] && chk_record "$ADDED" form "$T/in/nocrlf2.form" true
	chk_clean_log
	chk_done "$M: alphatrust form with empty pairs (&&, leading and trailing &): 200"
	# A second '?': a sender appending "?Fields" to ".../alphatrust?token=".
	chk_reset
	spool_snap
	REQ_IN=
	req REQUEST_METHOD=GET \
	    "QUERY_STRING=token=$AT_TOKEN?EventType=transaction&TransID=1234567890" \
	    "REQUEST_URI=/esignhook/alphatrust?token=$AT_TOKEN?EventType=transaction&TransID=1234567890"
	chk_at_ok RECEIVED
	chk_one_added
	[ -n "$ADDED" ] && chk_record "$ADDED" form "$T/in/nocrlf2.form" true
	chk_clean_log
	chk_done "$M: alphatrust GET ?token=...?EventType=...: 200, the token found, not stored"

	# 400: CONTENT_LENGTH.
	f=$DATA/onespan/package-create.json
	n=$(fsize "$f")
	for cl in "+$n" " $n" "${n}x" 99999999999999999999999; do
		chk_reset
		spool_snap
		os_post "$f" "CONTENT_LENGTH=$cl"
		chk_error 400 "CONTENT_LENGTH is not a plain decimal number"
		chk_done "$M: CONTENT_LENGTH '$cl': 400"
	done
	chk_reset
	spool_snap
	os_post "$f" "CONTENT_LENGTH=$((n + 10))"
	chk_error 400 "body shorter than CONTENT_LENGTH"
	chk_done "$M: body $n bytes, CONTENT_LENGTH $((n + 10)): 400"

	# Limits: ESIGNHOOK_MAX_BODY=100.
	use_config small ESIGNHOOK_MAX_BODY=100
	chk_reset
	spool_snap
	os_post "$DATA/onespan/package-create.json"
	chk_error 413 "body over ESIGNHOOK_MAX_BODY"
	chk_done "$M: onespan sample over ESIGNHOOK_MAX_BODY=100 (declared): 413"
	chk_reset
	spool_snap
	at_post "$DATA/alphatrust/participant-victim-statement.form"
	chk_error 413 "body over ESIGNHOOK_MAX_BODY"
	chk_done "$M: alphatrust sample over ESIGNHOOK_MAX_BODY=100 (declared): 413"
	j='{"name":"PACKAGE_CREATE","packageId":"max-'$M'","pad":""}'
	j='{"name":"PACKAGE_CREATE","packageId":"max-'$M'","pad":"'$(repeat $((100 - ${#j})) p)'"}'
	chk_reset
	spool_snap
	os_post "$(mkbody max100.json "$j")"
	chk_eq "test body size" 100 "$(fsize "$T/in/max100.json")"
	chk_os_ok
	chk_one_added
	chk_done "$M: body of exactly ESIGNHOOK_MAX_BODY=100 bytes: 200"

	# No secret for the provider; the default AlphaTrust reply text.
	use_config atonly -ESIGNHOOK_ONESPAN_KEYS -ESIGNHOOK_RESPONSE_TEXT
	chk_reset
	spool_snap
	os_post "$DATA/onespan/package-create.json"
	chk_error 401 "no secret configured for this provider"
	chk_done "$M: onespan with no onespan key configured: 401"
	chk_reset
	spool_snap
	at_post "$DATA/alphatrust/transaction-complete.form"
	chk_at_ok OK
	chk_one_added
	chk_done "$M: alphatrust with no ESIGNHOOK_RESPONSE_TEXT: 200 OK"
	use_config osonly -ESIGNHOOK_ALPHATRUST_TOKENS
	chk_reset
	spool_snap
	at_post "$DATA/alphatrust/transaction-complete.form"
	chk_error 401 "no secret configured for this provider"
	chk_done "$M: alphatrust POST with no alphatrust token configured: 401"
	chk_reset
	spool_snap
	at_get "$DATA/alphatrust/transaction-complete.form"
	chk_error 401 "no secret configured for this provider"
	chk_done "$M: alphatrust GET with no alphatrust token configured: 401"

	# ESIGNHOOK_PROVIDER=onespan refuses AlphaTrust requests.
	use_config provos ESIGNHOOK_PROVIDER=onespan
	chk_reset
	spool_snap
	at_post "$DATA/alphatrust/transaction-complete.form"
	chk_error 415 "content type must be application/json or application/x-www-form-urlencoded"
	chk_done "$M: ESIGNHOOK_PROVIDER=onespan, alphatrust POST: 415"
	chk_reset
	spool_snap
	at_get "$DATA/alphatrust/transaction-complete.form"
	chk_error 400 "request does not match the configured provider"
	chk_done "$M: ESIGNHOOK_PROVIDER=onespan, alphatrust GET: 400"

	# 503: no room (ESIGNHOOK_SPOOL_MIN_FREE over any disk).
	use_config nofree ESIGNHOOK_SPOOL_MIN_FREE=1000000G
	chk_reset
	spool_snap
	req REQUEST_METHOD=GET QUERY_STRING= REQUEST_URI=/esignhook/
	chk_error 503 "spool disk full"
	chk_retry_after
	chk_done "$M: health with ESIGNHOOK_SPOOL_MIN_FREE=1000000G: 503"
	chk_reset
	spool_snap
	os_post "$(mkbody nofree.json "$(os_json PACKAGE_CREATE "nofree-$M")")"
	chk_error 503 "spool disk full"
	chk_retry_after
	chk_done "$M: onespan event with ESIGNHOOK_SPOOL_MIN_FREE=1000000G: 503, nothing spooled"

	# 503: the spool path is a regular file.
	printf 'not a spool\n' >"$T/spool-file"
	use_config spoolfile "ESIGNHOOK_SPOOL=$T/spool-file"
	chk_reset
	spool_snap
	os_post "$(mkbody sf.json "$(os_json PACKAGE_CREATE "sf-$M")")"
	chk_error 503 "spool unavailable"
	chk_retry_after
	chk_eq "spool file" "not a spool" "$(cat "$T/spool-file")"
	chk_done "$M: ESIGNHOOK_SPOOL a regular file, onespan event: 503"
	chk_reset
	at_post "$DATA/alphatrust/transaction-complete.form"
	chk_error 503 "spool unavailable"
	chk_retry_after
	chk_done "$M: ESIGNHOOK_SPOOL a regular file, alphatrust event: 503"
	chk_reset
	req REQUEST_METHOD=GET QUERY_STRING= REQUEST_URI=/esignhook/
	chk_error 503 "spool unavailable"
	chk_retry_after
	chk_done "$M: ESIGNHOOK_SPOOL a regular file, health: 503"

	# 503: the spool's parent does not exist (it is not created).
	use_config noparent "ESIGNHOOK_SPOOL=$T/missing/spool"
	chk_reset
	spool_snap
	os_post "$(mkbody np.json "$(os_json PACKAGE_CREATE "np-$M")")"
	chk_error 503 "spool unavailable"
	chk_retry_after
	[ -e "$T/missing" ] && chk_fail "$T/missing was created"
	chk_done "$M: ESIGNHOOK_SPOOL under a missing parent: 503, nothing created"

	# 503: tmp/ is not a directory.
	mkdir -m 700 "$T/spool-tmpfile" "$T/spool-tmpfile/new" \
	    "$T/spool-tmpfile/seen"
	: >"$T/spool-tmpfile/tmp"
	use_config tmpfile "ESIGNHOOK_SPOOL=$T/spool-tmpfile"
	chk_reset
	spool_snap
	at_post "$DATA/alphatrust/transaction-complete.form"
	chk_error 503 "spool unavailable"
	chk_retry_after
	chk_eq "files in new/" 0 "$(count_new "$SPOOL")"
	chk_done "$M: spool tmp/ a regular file: 503, new/ empty"

	# 503: ESIGNHOOK_SPOOL_MAX_EVENTS=1 with one event waiting.
	use_config maxev "ESIGNHOOK_SPOOL=$T/spool-maxev" \
	    ESIGNHOOK_SPOOL_MAX_EVENTS=1
	chk_reset
	spool_snap
	at_post "$DATA/alphatrust/transaction-complete.form"
	chk_at_ok RECEIVED
	chk_one_added
	chk_done "$M: ESIGNHOOK_SPOOL_MAX_EVENTS=1, first event: 200"
	chk_reset
	spool_snap
	at_post "$DATA/alphatrust/transaction-complete.form"
	chk_error 503 "too many events waiting in the spool"
	chk_retry_after
	chk_eq "files in new/" 1 "$(count_new "$SPOOL")"
	chk_done "$M: ESIGNHOOK_SPOOL_MAX_EVENTS=1, one waiting, alphatrust event: 503, nothing added"
	chk_reset
	spool_snap
	os_post "$(mkbody maxev.json "$(os_json PACKAGE_CREATE "maxev-$M")")"
	chk_error 503 "too many events waiting in the spool"
	chk_retry_after
	chk_done "$M: ESIGNHOOK_SPOOL_MAX_EVENTS=1, one waiting, onespan event: 503"
	chk_reset
	req REQUEST_METHOD=GET QUERY_STRING= REQUEST_URI=/esignhook/
	chk_error 503 "too many events waiting in the spool"
	chk_retry_after
	chk_done "$M: ESIGNHOOK_SPOOL_MAX_EVENTS=1, one waiting, health: 503"

	use_config main
}

# e2e_os_problem WHAT PROBLEM KIND JSON: JSON POSTed as OneSpan (with
# its key) gets 200 and is stored with PROBLEM among its problems; KIND
# raw: "data":null and the bytes in "raw"; onespan: data is the JSON.
e2e_os_problem() {
	chk_reset
	spool_snap
	os_post "$(mkbody problem.json "$4")"
	chk_os_ok
	chk_one_added
	[ -n "$ADDED" ] && chk_problem_record "$ADDED" "$2" "$3" \
	    "$T/in/problem.json"
	chk_warn_log "$2"
	chk_done "$M: onespan $1: 200, stored with its problem"
}

# e2e_at_problem WHAT PROBLEM KIND FORM: as e2e_os_problem, FORM POSTed
# to AlphaTrust's URL (KIND raw or form).
e2e_at_problem() {
	chk_reset
	spool_snap
	at_post "$(mkbody problem.form "$4")"
	chk_at_ok RECEIVED
	chk_one_added
	[ -n "$ADDED" ] && chk_problem_record "$ADDED" "$2" "$3" \
	    "$T/in/problem.form"
	chk_warn_log "$2"
	chk_done "$M: alphatrust $1: 200, stored with its problem"
}

# chk_problem_record FILE PROBLEM KIND PAYLOAD: new/FILE of $SPOOL lists
# PROBLEM, known_event false; KIND raw: data null, raw the PAYLOAD's
# bytes in base64, event and transaction_id null; onespan: data is the
# PAYLOAD; form: data has each field's first value.
chk_problem_record() {
	cpr_out=$("$PY" "$T/check_problem.py" "$SPOOL" "$1" "$2" "$3" "$4" \
	    "$REMOTE" 2>&1)
	[ "$cpr_out" = ok ] || chk_fail "record $1: $cpr_out"
}

# chk_warn_log PROBLEM: the request's log line is level=warn and its
# problems= field holds PROBLEM.
chk_warn_log() {
	case $REQ_LOG in
	*"level=warn "*"problems=\""*"$1"*) ;;
	*) chk_fail "log line not level=warn with problems \"$1\": $(printf '%s' "$REQ_LOG" | tail -n 1)" ;;
	esac
}

# chk_clean_log: the request's log line is level=info, no problems.
chk_clean_log() {
	case $REQ_LOG in
	*"problems="*) chk_fail "log line has problems: $(printf '%s' "$REQ_LOG" | tail -n 1)" ;;
	*"level=info "*) ;;
	*) chk_fail "log line not level=info: $(printf '%s' "$REQ_LOG" | tail -n 1)" ;;
	esac
}

# No configured secret in the spools, the logs, or any response.
e2e_secret_checks() {
	chk_reset
	si=$(secrets_in "$T"/spool*)
	[ -z "$si" ] || chk_fail "secret found in: $si"
	[ -n "$(ls "$T"/spool/new)" ] || chk_fail "no records to look at"
	chk_done "$E2E_MODE: no configured secret in any spool file"
	chk_reset
	si=$(secrets_in "$T/logs")
	[ -z "$si" ] || chk_fail "secret found in: $si"
	[ -s "$LOG" ] || [ -n "$(cat "$T"/logs/*)" ] || chk_fail "empty log"
	chk_done "$E2E_MODE: no configured secret in the log"
	chk_reset
	si=$(secrets_in "$T/responses")
	[ -z "$si" ] || chk_fail "secret found in a response"
	chk_done "$E2E_MODE: no configured secret in any response"
}
