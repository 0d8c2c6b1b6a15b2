# it-lib.sh: shared helpers for the integration suites (tests/it-*.sh),
# which put the real binary behind a real web server (nginx, Apache)
# configured from the files we ship (nginx/, apache/).  POSIX sh (dash);
# sourced, never run.  A suite calls it_setup, starts its servers, runs
# it_scenario once per deployment, and ends with it_done, whose last
# line is exactly "N passed, N failed".
#
#   it_need CMD...             make deps if a command is missing, else fail
#   it_port                    a free 127.0.0.1 port in 18080-18999
#   it_config NAME             a configuration file + spool for NAME
#   it_worker_start NAME       esignhook under spawn-fcgi -n on
#                              $IT_DIR/NAME.sock, restarted by a loop
#                              (what systemd's Restart=on-failure does)
#   it_scenario LABEL BASE NAME KILLFN [curl args]
#                              every shipped payload, wrong secrets,
#                              oversized bodies, kill -9 of the worker
#
# As root, the web servers' workers and esignhook run as www-data (nginx
# `user`, Apache `User`, spawn-fcgi -u), as in a real deployment; the
# spools and sockets belong to www-data.  Otherwise everything runs as
# the invoking user.  IT_KEEP=1 keeps the temporary directory.

IT_ROOT=$(cd "$(dirname "$0")/.." && pwd) || exit 2
BIN=${ESIGNHOOK_BIN:-cgi/esignhook}
case $BIN in /*) ;; *) BIN=$IT_ROOT/$BIN ;; esac
DATA=$IT_ROOT/tests/data
IT_PASS=0
IT_FAIL=0
IT_PIDS=
IT_LOOPS=

# Distinctive secrets: a grep finds any copy of them in a log.
OS_KEY=itOSk3y5b1f0e9d2c7a4
AT_TOKEN=itATt0k8e6c3a1f9d5b2
IT_SECRETS="$OS_KEY $AT_TOKEN"

# ---- counting ----

ok() {
	IT_PASS=$((IT_PASS + 1))
	printf 'ok - %s\n' "$1"
}

not_ok() {
	IT_FAIL=$((IT_FAIL + 1))
	printf 'not ok - %s: %s\n' "$1" "$2"
}

# Several checks folded into one named assertion.
chk_reset() {
	CHK_ERR=
}

chk_eq() {
	[ "$2" = "$3" ] || CHK_ERR="${CHK_ERR:+$CHK_ERR; }$1: want '$2', got '$3'"
}

chk_done() {
	if [ -z "$CHK_ERR" ]; then
		ok "$1"
	else
		not_ok "$1" "$CHK_ERR"
	fi
	CHK_ERR=
}

# The last line: "N passed, N failed"; non-zero if any failed.
it_done() {
	it_stop_all
	printf '%d passed, %d failed\n' "$IT_PASS" "$IT_FAIL"
	[ "$IT_FAIL" -eq 0 ] && exit 0
	exit 1
}

# ---- setup, processes ----

# Make sure the commands exist: `make deps` once if one is missing.
it_need() {
	in_missing=
	for in_c in "$@"; do
		command -v "$in_c" >/dev/null 2>&1 || in_missing="$in_missing $in_c"
	done
	[ -z "$in_missing" ] && return 0
	echo "# missing:$in_missing; trying make deps" >&2
	make -s -C "$IT_ROOT" deps >&2 || true
	for in_c in "$@"; do
		command -v "$in_c" >/dev/null 2>&1 && continue
		not_ok "requirements" "$in_c not found (make deps)"
		it_done
	done
}

it_setup() {
	[ -x "$BIN" ] || { echo "it: $BIN not built (run make)"; exit 2; }
	it_need curl spawn-fcgi
	IT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/eh-it.XXXXXX") || exit 2
	trap 'it_cleanup' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
	# The web servers' users must reach the sockets and the programs.
	chmod 0755 "$IT_DIR"
	mkdir -m 0755 "$IT_DIR/bin" "$IT_DIR/logs"
	cp "$BIN" "$IT_DIR/bin/esignhook"
	chmod 0755 "$IT_DIR/bin/esignhook"
	if [ "$(id -u)" -eq 0 ]; then
		IT_USER=www-data
		IT_GROUP=$(id -gn www-data 2>/dev/null) || {
			echo "it: running as root needs a www-data user"; exit 2; }
	else
		IT_USER=
		IT_GROUP=
	fi
	chown_it "$IT_DIR/logs"
	dd if=/dev/zero bs=1000 count=70 2>/dev/null | tr '\0' 'a' \
	    >"$IT_DIR/big"
	# 70141 bytes of AlphaTrust form whose first 64k still parse: if a
	# server cut it short and passed it on, it would be stored.
	{
		printf 'TransID=1234567890&TXStatus=4&EventType=transaction'
		ib_i=0
		while [ "$ib_i" -lt 20 ]; do
			printf '&f%d=' "$ib_i"
			dd if=/dev/zero bs=500 count=7 2>/dev/null | tr '\0' 'a'
			ib_i=$((ib_i + 1))
		done
	} >"$IT_DIR/bigform"
	# A OneSpan event no sample duplicates (OneSpan events are deduped).
	sed 's/"packageId":"[^"]*"/"packageId":"it-chunked-package"/' \
	    "$DATA/onespan/package-complete.json" >"$IT_DIR/chunked.json"
}

# Give a path to the workers' user (root runs only).
chown_it() {
	[ -n "$IT_USER" ] && chown -R "$IT_USER:$IT_GROUP" "$@"
	return 0
}

it_cleanup() {
	it_stop_all
	if [ -n "${IT_DIR:-}" ] && [ -d "$IT_DIR" ]; then
		if [ -n "${IT_KEEP:-}" ]; then
			echo "# kept $IT_DIR" >&2
		else
			rm -rf "$IT_DIR"
		fi
	fi
}

# Register a pid (or a file holding one) to stop at the end.
it_track() {
	IT_PIDS="$IT_PIDS $1"
}

# Wait up to ~5 s for pid $1 to be gone; 0 if it is.
it_wait_gone() {
	iw_i=0
	while kill -0 "$1" 2>/dev/null; do
		[ "$iw_i" -ge 100 ] && return 1
		sleep 0.05
		iw_i=$((iw_i + 1))
	done
	return 0
}

# Stop everything this suite started, by pid, never by name: first the
# restart loops (told to stop, then their current esignhook TERMed until
# the loop is gone, in case it had just started another), then the rest.
it_stop_all() {
	for is_n in $IT_LOOPS; do
		: >"$IT_DIR/$is_n.stop"
		is_l=$(cat "$IT_DIR/$is_n.loop" 2>/dev/null)
		is_i=0
		while [ -n "$is_l" ] && kill -0 "$is_l" 2>/dev/null; do
			is_w=$(cat "$IT_DIR/$is_n.pid" 2>/dev/null)
			[ -n "$is_w" ] && kill -TERM "$is_w" 2>/dev/null
			if [ "$is_i" -ge 100 ]; then
				kill -9 "$is_l" 2>/dev/null
				break
			fi
			sleep 0.05
			is_i=$((is_i + 1))
		done
		[ -n "$is_l" ] && wait "$is_l" 2>/dev/null
		is_w=$(cat "$IT_DIR/$is_n.pid" 2>/dev/null)
		if [ -n "$is_w" ] && kill -0 "$is_w" 2>/dev/null; then
			kill -TERM "$is_w" 2>/dev/null
			it_wait_gone "$is_w" || kill -9 "$is_w" 2>/dev/null
		fi
	done
	IT_LOOPS=
	for is_p in $IT_PIDS; do
		case $is_p in /*) is_p=$(cat "$is_p" 2>/dev/null) ;; esac
		[ -n "$is_p" ] || continue
		kill -TERM "$is_p" 2>/dev/null
		it_wait_gone "$is_p" || kill -9 "$is_p" 2>/dev/null
		wait "$is_p" 2>/dev/null
	done
	IT_PIDS=
}

# A free TCP port on 127.0.0.1, from a random start in 18080-18999 (so
# that suites running at the same time rarely collide; the caller still
# retries if the bind fails).
it_port() {
	ip_p=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	ip_p=$((18080 + ip_p % 920))
	ip_n=0
	while [ "$ip_n" -lt 920 ]; do
		if command -v ss >/dev/null 2>&1; then
			[ -z "$(ss -Htln "sport = :$ip_p" 2>/dev/null)" ] &&
			    { echo "$ip_p"; return 0; }
		else
			curl -s -o /dev/null --max-time 1 \
			    "http://127.0.0.1:$ip_p/" 2>/dev/null
			[ $? -eq 7 ] && { echo "$ip_p"; return 0; }
		fi
		ip_p=$((ip_p + 1))
		[ "$ip_p" -gt 18999 ] && ip_p=18080
		ip_n=$((ip_n + 1))
	done
	return 1
}

# Wait until a URL answers at all (any status); 0 if it did.
it_wait_http() {
	iwh_i=0
	while [ "$iwh_i" -lt 100 ]; do
		iwh_c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		    "$@" 2>/dev/null)
		[ -n "$iwh_c" ] && [ "$iwh_c" != 000 ] && return 0
		sleep 0.05
		iwh_i=$((iwh_i + 1))
	done
	return 1
}

# ---- esignhook ----

# it_config NAME: $IT_DIR/NAME.conf with the suite's secrets and the
# spool $IT_DIR/NAME.spool, both the workers' user's.
it_config() {
	ic_spool=$IT_DIR/$1.spool
	mkdir -m 0700 "$ic_spool"
	cat >"$IT_DIR/$1.conf" <<EOF
# esignhook test configuration ($1)
ESIGNHOOK_SPOOL=$ic_spool
ESIGNHOOK_ONESPAN_KEYS=$OS_KEY
ESIGNHOOK_ALPHATRUST_TOKENS=$AT_TOKEN
ESIGNHOOK_SPOOL_MIN_FREE=1048576
ESIGNHOOK_THREADS=4
EOF
	chmod 0600 "$IT_DIR/$1.conf"
	chown_it "$ic_spool" "$IT_DIR/$1.conf"
}

# it_worker_start NAME: esignhook with NAME's configuration under
# spawn-fcgi -n on $IT_DIR/NAME.sock (socket mode 0660, owned by the
# web server's user), stderr to $IT_DIR/logs/NAME.log.  A loop restarts
# it when it dies, as systemd's Restart=on-failure would; NAME.pid holds
# the current esignhook pid.  0 once the socket answers.
it_worker_start() {
	iws_n=$1
	iws_own=
	[ -n "$IT_USER" ] && iws_own="-u $IT_USER -g $IT_GROUP -U $IT_USER -G $IT_GROUP"
	rm -f "$IT_DIR/$iws_n.stop" "$IT_DIR/$iws_n.pid"
	(
		trap '' INT
		export ESIGNHOOK_CONFIG="$IT_DIR/$iws_n.conf"
		while [ ! -e "$IT_DIR/$iws_n.stop" ]; do
			# $$ of this sh is the pid spawn-fcgi -n and then
			# esignhook keep: each exec()s the next.
			# shellcheck disable=SC2086
			sh -c 'echo $$ >"$0"; exec "$@"' "$IT_DIR/$iws_n.pid" \
			    spawn-fcgi -n -s "$IT_DIR/$iws_n.sock" -M 0660 \
			    $iws_own -- "$IT_DIR/bin/esignhook" </dev/null \
			    >/dev/null
			[ -e "$IT_DIR/$iws_n.stop" ] && break
			sleep 0.2
		done
	) 2>>"$IT_DIR/logs/$iws_n.log" &
	echo $! >"$IT_DIR/$iws_n.loop"
	IT_LOOPS="$IT_LOOPS $iws_n"
	it_worker_ready "$iws_n"
}

# 0 once NAME's esignhook logged "FastCGI ready" after its pid appeared.
it_worker_ready() {
	iwr_i=0
	while [ "$iwr_i" -lt 200 ]; do
		iwr_pid=$(cat "$IT_DIR/$1.pid" 2>/dev/null)
		if [ -n "$iwr_pid" ] &&
		    grep -q "FastCGI ready.*pid $iwr_pid[\",]" \
		    "$IT_DIR/logs/$1.log" 2>/dev/null; then
			return 0
		fi
		sleep 0.025
		iwr_i=$((iwr_i + 1))
	done
	return 1
}

# kill -9 the esignhook of NAME; KILLED_PID gets its pid.
it_worker_kill() {
	KILLED_PID=$(cat "$IT_DIR/$1.pid" 2>/dev/null)
	[ -n "$KILLED_PID" ] && kill -9 "$KILLED_PID"
}

# ---- requests ----

# Files in the spool's new/ (dot-files skipped, like esignhook).
it_count() {
	ls "$IT_DIR/$1.spool/new" 2>/dev/null | wc -l | tr -d ' '
}

# it_code [curl args]: one request; prints the status (000: no answer),
# the body goes to $IT_DIR/resp.  $IT_CURL (set per scenario) comes
# first, e.g. -H 'Host: cgi.test'.
it_code() {
	# shellcheck disable=SC2086
	curl -s -o "$IT_DIR/resp" -w '%{http_code}' --max-time 15 \
	    $IT_CURL "$@" 2>/dev/null
	return 0
}

it_onespan() {
	# it_onespan URL KEY FILE [curl args]
	io_u=$1 io_k=$2 io_f=$3
	shift 3
	it_code -H "Authorization: Basic $io_k" \
	    -H 'Content-Type: application/json' --data-binary "@$io_f" \
	    "$@" "$io_u"
}

it_alphatrust() {
	# it_alphatrust URL FILE [curl args]
	ia_u=$1 ia_f=$2
	shift 2
	it_code -H 'Content-Type: application/x-www-form-urlencoded' \
	    --data-binary "@$ia_f" "$@" "$ia_u"
}

# Whether pid $1 is gone (a zombie its parent has not reaped yet counts).
it_gone() {
	ig_s=$(ps -o stat= -p "$1" 2>/dev/null)
	case $ig_s in ''|Z*) return 0 ;; esac
	return 1
}

# it_scenario LABEL BASE NAME KILLFN: the assertions every deployment
# must pass.  BASE is the URL esignhook answers under (".../onespan",
# ".../alphatrust/<token>" and BASE itself for the health check); NAME
# the configuration (spool); KILLFN kill -9s the FastCGI process that
# serves it ("" for CGI) and the next request must still be served.
it_scenario() {
	sc_l=$1 sc_base=$2 sc_n=$3 sc_kill=$4
	sc_want=$(it_count "$sc_n")

	chk_reset
	chk_eq "GET $sc_base/" 200 "$(it_code "$sc_base/")"
	chk_eq "body" OK "$(cat "$IT_DIR/resp")"
	chk_done "$sc_l: health check GET answers 200 OK"

	chk_reset
	sc_k=0
	for sc_f in "$DATA"/onespan/*.json; do
		chk_eq "$(basename "$sc_f")" 200 \
		    "$(it_onespan "$sc_base/onespan" "$OS_KEY" "$sc_f")"
		sc_k=$((sc_k + 1))
	done
	chk_eq "last body" '{"success":true}' "$(cat "$IT_DIR/resp")"
	sc_want=$((sc_want + sc_k))
	chk_eq "files in new/" "$sc_want" "$(it_count "$sc_n")"
	chk_done "$sc_l: all $sc_k OneSpan samples (Basic key) answered 200 and spooled"

	chk_reset
	sc_k=0
	for sc_f in "$DATA"/alphatrust/*.form; do
		chk_eq "$(basename "$sc_f")" 200 \
		    "$(it_alphatrust "$sc_base/alphatrust/$AT_TOKEN" "$sc_f")"
		sc_k=$((sc_k + 1))
	done
	chk_eq "last body" OK "$(cat "$IT_DIR/resp")"
	sc_want=$((sc_want + sc_k))
	chk_eq "files in new/" "$sc_want" "$(it_count "$sc_n")"
	chk_done "$sc_l: all $sc_k AlphaTrust samples (token in path) answered 200 and spooled"

	chk_reset
	sc_q=$(cat "$DATA/alphatrust/transaction-complete.form")
	chk_eq "GET path token" 200 \
	    "$(it_code "$sc_base/alphatrust/$AT_TOKEN?$sc_q")"
	chk_eq "POST ?token=" 200 "$(it_alphatrust \
	    "$sc_base/alphatrust?token=$AT_TOKEN" \
	    "$DATA/alphatrust/participant-complete.form")"
	sc_want=$((sc_want + 2))
	chk_eq "files in new/" "$sc_want" "$(it_count "$sc_n")"
	chk_done "$sc_l: AlphaTrust as a GET query and with ?token= answered 200 and spooled"

	chk_reset
	sc_f=$DATA/onespan/package-complete.json
	chk_eq "wrong key" 401 \
	    "$(it_onespan "$sc_base/onespan" "x$OS_KEY" "$sc_f")"
	chk_eq "no Authorization" 401 "$(it_code \
	    -H 'Content-Type: application/json' --data-binary "@$sc_f" \
	    "$sc_base/onespan")"
	chk_eq "other provider's secret" 401 \
	    "$(it_onespan "$sc_base/onespan" "$AT_TOKEN" "$sc_f")"
	chk_eq "wrong token" 401 "$(it_alphatrust \
	    "$sc_base/alphatrust/x$AT_TOKEN" \
	    "$DATA/alphatrust/transaction-complete.form")"
	chk_eq "no token" 401 "$(it_alphatrust "$sc_base/alphatrust" \
	    "$DATA/alphatrust/transaction-complete.form")"
	chk_eq "files in new/" "$sc_want" "$(it_count "$sc_n")"
	chk_done "$sc_l: wrong or missing secrets answered 401, nothing spooled"

	chk_reset
	chk_eq "OneSpan 70000 bytes" 413 \
	    "$(it_onespan "$sc_base/onespan" "$OS_KEY" "$IT_DIR/big")"
	chk_eq "AlphaTrust 70000 bytes" 413 \
	    "$(it_alphatrust "$sc_base/alphatrust/$AT_TOKEN" "$IT_DIR/big")"
	chk_eq "files in new/" "$sc_want" "$(it_count "$sc_n")"
	chk_done "$sc_l: a 70000-byte body answered 413, nothing spooled"

	# Chunked bodies (no Content-Length): the whole body must arrive.
	chk_reset
	chk_eq "OneSpan chunked" 200 "$(it_onespan "$sc_base/onespan" \
	    "$OS_KEY" "$IT_DIR/chunked.json" -H 'Transfer-Encoding: chunked')"
	chk_eq "AlphaTrust chunked" 200 "$(it_alphatrust \
	    "$sc_base/alphatrust/$AT_TOKEN" \
	    "$DATA/alphatrust/transaction-cancelled.form" \
	    -H 'Transfer-Encoding: chunked')"
	sc_want=$((sc_want + 2))
	chk_eq "files in new/" "$sc_want" "$(it_count "$sc_n")"
	chk_done "$sc_l: chunked request bodies answered 200 and spooled"

	# ... and one over the limit must be refused, not cut short and
	# stored (mod_fcgid refuses it with 500: IT_CHUNKED_OVER=500).
	chk_reset
	chk_eq "AlphaTrust chunked 70141 bytes" "${IT_CHUNKED_OVER:-413}" \
	    "$(it_alphatrust "$sc_base/alphatrust/$AT_TOKEN" \
	    "$IT_DIR/bigform" -H 'Transfer-Encoding: chunked')"
	chk_eq "files in new/" "$sc_want" "$(it_count "$sc_n")"
	chk_done "$sc_l: a chunked 70141-byte form answered ${IT_CHUNKED_OVER:-413}, nothing spooled (not cut short and stored)"

	[ -n "$sc_kill" ] || return 0
	chk_reset
	KILLED_PID=
	"$sc_kill"
	chk_eq "a FastCGI process was killed" yes \
	    "$([ -n "$KILLED_PID" ] && echo yes)"
	# The next callback: the provider retries after a failure, so a
	# few quick retries stand in for that; it must succeed within ~10 s.
	sc_i=0 sc_c=000
	while [ "$sc_i" -lt 50 ]; do
		sc_c=$(it_alphatrust "$sc_base/alphatrust/$AT_TOKEN" \
		    "$DATA/alphatrust/transaction-complete.form")
		[ "$sc_c" = 200 ] && break
		sleep 0.2
		sc_i=$((sc_i + 1))
	done
	chk_eq "request after kill -9" 200 "$sc_c"
	sc_want=$((sc_want + 1))
	chk_eq "files in new/" "$sc_want" "$(it_count "$sc_n")"
	chk_eq "killed process gone" yes \
	    "$(it_gone "${KILLED_PID:-0}" && echo yes)"
	chk_done "$sc_l: after kill -9 of esignhook the next callback is served and spooled ($sc_i retries)"
}

# No secret in the files given (logs); one assertion.
it_no_secrets() {
	ins_l=$1
	shift
	chk_reset
	for ins_f in "$@"; do
		for ins_s in $IT_SECRETS; do
			grep -qF "$ins_s" "$ins_f" 2>/dev/null &&
			    chk_eq "$(basename "$ins_f") has a secret" no yes
		done
	done
	chk_done "$ins_l"
}

# Fail (one assertion) if a pid in the list is still alive.
it_all_gone() {
	chk_reset
	for iag_p in $2; do
		it_gone "$iag_p" ||
		    chk_eq "pid $iag_p ($(ps -o args= -p "$iag_p"))" gone alive
	done
	chk_done "$1"
}
