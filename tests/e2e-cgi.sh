#!/bin/sh
# e2e-cgi.sh: cgi/esignhook as a classic CGI (RFC 3875): each request is
# one run of the binary under `env -i` with the CGI variables and the
# configuration in its environment and the body on stdin.  The shared
# request table is e2e_request_table in tests/e2e-lib.sh; the rows only
# CGI has (a body read to EOF, an invalid configuration, the command
# line: check-config, --help, --version) are here.
# Run: sh tests/e2e-cgi.sh (or SUITES=e2e-cgi sh tests/run.sh).

E2E_MODE=cgi
. "$(dirname "$0")/e2e-lib.sh"
e2e_setup

e2e_request_table

M=cgi
use_config main

# A body with no CONTENT_LENGTH is read to EOF (Apache with chunked).
chk_reset
spool_snap
os_post "$(mkbody nocl.json "$(os_json PACKAGE_CREATE nocl-cgi)")" \
    -CONTENT_LENGTH
chk_os_ok
chk_one_added
[ -n "$ADDED" ] && chk_record "$ADDED" onespan "$T/in/nocl.json" true
chk_eq "exit status" 0 "$RC"
chk_done "cgi: onespan POST with no CONTENT_LENGTH, body to EOF: 200, one record"
chk_reset
spool_snap
at_post "$DATA/alphatrust/participant-complete.form" -CONTENT_LENGTH
chk_at_ok RECEIVED
chk_one_added
chk_done "cgi: alphatrust POST with no CONTENT_LENGTH, body to EOF: 200"
chk_reset
spool_snap
os_post "$T/in/big.json" -CONTENT_LENGTH
chk_error 413 "body over ESIGNHOOK_MAX_BODY"
chk_done "cgi: no CONTENT_LENGTH, $(fsize "$T/in/big.json") bytes on stdin, default limit: 413"
use_config small ESIGNHOOK_MAX_BODY=100
chk_reset
spool_snap
os_post "$DATA/onespan/package-create.json" -CONTENT_LENGTH
chk_error 413 "body over ESIGNHOOK_MAX_BODY"
chk_done "cgi: no CONTENT_LENGTH, long stdin, ESIGNHOOK_MAX_BODY=100: 413"
chk_reset
spool_snap
os_post "$T/in/max100.json" -CONTENT_LENGTH
chk_os_ok
chk_nothing_spooled # a duplicate of the 100-byte row of the table
chk_done "cgi: no CONTENT_LENGTH, exactly ESIGNHOOK_MAX_BODY=100 bytes: 200"

# The configuration from a file named by ESIGNHOOK_CONFIG.
E2E_CFG_VIA=file
use_config viafile
E2E_CFG_VIA=env
chk_reset
spool_snap
os_post "$(mkbody viafile.json "$(os_json PACKAGE_CREATE viafile-cgi)")"
chk_os_ok
chk_one_added
chk_done "cgi: configuration from ESIGNHOOK_CONFIG file: onespan 200"
chk_reset
spool_snap
at_post "$DATA/alphatrust/transaction-complete.form"
chk_at_ok RECEIVED
chk_one_added
chk_done "cgi: configuration from ESIGNHOOK_CONFIG file: alphatrust 200 RECEIVED"

# An invalid configuration: 500, exit non-zero, no secret said.
use_config badcfg ESIGNHOOK_MAX_BODY=12x
chk_reset
spool_snap
os_post "$DATA/onespan/package-create.json"
chk_eq status 500 "$STATUS"
[ "$RC" -ne 0 ] || chk_fail "exit status 0"
case $REQ_LOG in
*ESIGNHOOK_MAX_BODY*) ;;
*) chk_fail "stderr does not name ESIGNHOOK_MAX_BODY: $REQ_LOG" ;;
esac
chk_nothing_spooled
chk_done "cgi: ESIGNHOOK_MAX_BODY=12x: 500, exits non-zero, names the key"
use_config badtok "ESIGNHOOK_ALPHATRUST_TOKENS=$AT_TOKEN,bad/$AT_TOKEN2"
chk_reset
at_post "$DATA/alphatrust/transaction-complete.form"
chk_eq status 500 "$STATUS"
case $REQ_LOG in
*ESIGNHOOK_ALPHATRUST_TOKENS*) ;;
*) chk_fail "stderr does not name ESIGNHOOK_ALPHATRUST_TOKENS: $REQ_LOG" ;;
esac
case $REQ_LOG$BODY in
*"$AT_TOKEN"*|*"$AT_TOKEN2"*) chk_fail "a token is printed" ;;
esac
chk_done "cgi: invalid token list: 500, names the key, prints no token"

# ---- no disk work before authentication ----

# disk_calls [VAR=value | -VAR ...]: one CGI request, as req sends it,
# under strace -f; DISK gets the calls that change the disk or would
# (make, rename, link, remove, sync, open to create or write, open of
# the spool's tmp/, new/ or seen/), one a line.
# shellcheck disable=SC2046
disk_calls() {
	IFS=$NL
	set -f
	env -i $(e2e_merge GATEWAY_INTERFACE=CGI/1.1 \
	    SERVER_PROTOCOL=HTTP/1.1 "REMOTE_ADDR=$REMOTE" \
	    $(cat "$CFG.vars") "$@") \
	    strace -f -qq -o "$T/strace.out" \
	    -e trace=%file,fsync,fdatasync,syncfs,sync_file_range \
	    "$BIN" <"${REQ_IN:-/dev/null}" >"$T/resp" 2>>"$LOG"
	IFS=' 	
'
	set +f
	parse_response "$T/resp"
	DISK=$(grep -E '^[0-9]+ +(mkdir|mkdirat|rename|renameat|renameat2|link|linkat|symlink|symlinkat|unlink|unlinkat|rmdir|creat|fsync|fdatasync|syncfs|sync_file_range)\(|O_CREAT|O_WRONLY|O_RDWR|"(tmp|new|seen)"' \
	    "$T/strace.out")
}

# A request refused before authentication (401, 405, 413, 415) makes,
# writes and syncs nothing: the spool is named for the sandbox by an
# O_PATH handle, and its directories are opened (made when missing)
# only to store an authenticated event.
if command -v strace >/dev/null 2>&1; then
	use_config nodisk "ESIGNHOOK_SPOOL=$T/spool-nodisk"
	chk_reset
	REQ_IN=$(mkbody nodisk.json "$(os_json PACKAGE_CREATE nodisk-cgi)")
	disk_calls REQUEST_METHOD=POST CONTENT_TYPE=application/json \
	    "CONTENT_LENGTH=$(fsize "$REQ_IN")" \
	    "HTTP_AUTHORIZATION=Basic $OS_KEY" REQUEST_URI=/esignhook/onespan
	chk_eq status 200 "$STATUS"
	[ -n "$DISK" ] || chk_fail "strace saw no disk call: $(head -c 300 "$T/strace.out")"
	chk_done "cgi: strace sees an authenticated event's disk work (the spool made, the event written, synced, renamed)"
	big=$T/in/big.json
	for case in \
	    "401 wrong key|CONTENT_TYPE=application/json|HTTP_AUTHORIZATION=Basic wrong$OS_KEY|$REQ_IN" \
	    "401 no credentials|CONTENT_TYPE=application/json|-HTTP_AUTHORIZATION|$REQ_IN" \
	    "405 PUT|REQUEST_METHOD=PUT|CONTENT_TYPE=application/json|$REQ_IN" \
	    "413 over ESIGNHOOK_MAX_BODY|CONTENT_TYPE=application/json|HTTP_AUTHORIZATION=Basic $OS_KEY|$big" \
	    "415 text/plain|CONTENT_TYPE=text/plain|HTTP_AUTHORIZATION=Basic $OS_KEY|$REQ_IN"; do
		what=${case%%|*}
		rest=${case#*|}
		v1=${rest%%|*}
		rest=${rest#*|}
		v2=${rest%%|*}
		in=${rest#*|}
		chk_reset
		REQ_IN=$in disk_calls REQUEST_METHOD=POST \
		    "CONTENT_LENGTH=$(fsize "$in")" \
		    REQUEST_URI=/esignhook/onespan "$v1" "$v2"
		chk_eq status "${what%% *}" "$STATUS"
		[ -z "$DISK" ] || chk_fail "disk calls: $(printf '%s' "$DISK" | cut -c1-120 | tr '\n' ';')"
		chk_done "cgi: $what, spool in place: no disk call (no mkdir, mkdirat, fsync, O_CREAT, ...)"
	done
	# A spool not made yet: the first request makes it, whatever it
	# is (Landlock must name it); the next refused one makes nothing.
	use_config nodisk-new "ESIGNHOOK_SPOOL=$T/spool-nodisk-new"
	chk_reset
	disk_calls REQUEST_METHOD=POST CONTENT_TYPE=application/json \
	    "CONTENT_LENGTH=$(fsize "$REQ_IN")" REQUEST_URI=/esignhook/onespan \
	    "HTTP_AUTHORIZATION=Basic wrong$OS_KEY"
	chk_eq status 401 "$STATUS"
	[ -d "$T/spool-nodisk-new/new" ] || chk_fail "spool not made"
	disk_calls REQUEST_METHOD=POST CONTENT_TYPE=application/json \
	    "CONTENT_LENGTH=$(fsize "$REQ_IN")" REQUEST_URI=/esignhook/onespan \
	    "HTTP_AUTHORIZATION=Basic wrong$OS_KEY"
	chk_eq "second status" 401 "$STATUS"
	[ -z "$DISK" ] || chk_fail "second request's disk calls: $(printf '%s' "$DISK" | cut -c1-120 | tr '\n' ';')"
	chk_done "cgi: no spool yet: the first request (a 401) makes it once, the next 401 no disk call"
	# With the sandbox off nothing needs naming: a 401 makes nothing.
	use_config nodisk-off "ESIGNHOOK_SPOOL=$T/spool-nodisk-off" \
	    ESIGNHOOK_SANDBOX=off
	chk_reset
	disk_calls REQUEST_METHOD=POST CONTENT_TYPE=application/json \
	    "CONTENT_LENGTH=$(fsize "$REQ_IN")" REQUEST_URI=/esignhook/onespan \
	    "HTTP_AUTHORIZATION=Basic wrong$OS_KEY"
	chk_eq status 401 "$STATUS"
	[ -z "$DISK" ] || chk_fail "disk calls: $(printf '%s' "$DISK" | cut -c1-120 | tr '\n' ';')"
	[ -e "$T/spool-nodisk-off" ] && chk_fail "the spool was made"
	chk_done "cgi: ESIGNHOOK_SANDBOX=off, no spool yet: a 401 makes nothing"
	REQ_IN=
	use_config main
else
	not_ok "cgi: no disk work before authentication" "strace is not installed (make deps)"
fi

# ---- the command line ----

# cc NAME [VAR=value ...]: run check-config with exactly those
# variables; output (stdout and stderr) in $T/logs/cc-NAME.out, status
# in CC_RC, text in CC_OUT.
cc() {
	cc_name=$1
	shift
	env -i PATH=/usr/bin:/bin "$@" "$BIN" check-config \
	    >"$T/logs/cc-$cc_name.out" 2>&1
	CC_RC=$?
	CC_OUT=$(cat "$T/logs/cc-$cc_name.out")
}

chk_no_secret_out() {
	for s in $E2E_SECRETS; do
		case $CC_OUT in
		*"$s"*) chk_fail "output shows a secret" ;;
		esac
	done
}

good="ESIGNHOOK_SPOOL=$T/spool-cc
ESIGNHOOK_ONESPAN_KEYS=$OS_KEY
ESIGNHOOK_ALPHATRUST_TOKENS=$AT_TOKEN
ESIGNHOOK_SPOOL_MIN_FREE=0"
IFS=$NL

chk_reset
cc good $good
chk_eq "exit status" 0 "$CC_RC"
case $CC_OUT in
*"check-config: ok"*) ;;
*) chk_fail "no 'check-config: ok' in: $CC_OUT" ;;
esac
chk_no_secret_out
chk_done "check-config, good configuration in the environment: exit 0"

printf '%s\n' "# e2e" $good >"$T/cfg/cc-good.conf"
chk_reset
cc goodfile "ESIGNHOOK_CONFIG=$T/cfg/cc-good.conf"
chk_eq "exit status" 0 "$CC_RC"
chk_no_secret_out
chk_done "check-config, good configuration in ESIGNHOOK_CONFIG: exit 0"

chk_reset
cc nospool $(printf '%s\n' $good | grep -v '^ESIGNHOOK_SPOOL=')
[ "$CC_RC" -ne 0 ] || chk_fail "exit status 0"
case $CC_OUT in
*"ESIGNHOOK_SPOOL is not set"*) ;;
*) chk_fail "no clear message: $CC_OUT" ;;
esac
chk_no_secret_out
chk_done "check-config, no ESIGNHOOK_SPOOL: exits non-zero, says so"

chk_reset
cc maxbody $good ESIGNHOOK_MAX_BODY=12x
[ "$CC_RC" -ne 0 ] || chk_fail "exit status 0"
case $CC_OUT in
*"invalid value for ESIGNHOOK_MAX_BODY"*) ;;
*) chk_fail "no clear message: $CC_OUT" ;;
esac
chk_no_secret_out
chk_done "check-config, ESIGNHOOK_MAX_BODY=12x: exits non-zero, names the key"

chk_reset
cc badkey $good "ESIGNHOOK_ALPHATRUST_TOKENS=$AT_TOKEN,bad/$AT_TOKEN2"
[ "$CC_RC" -ne 0 ] || chk_fail "exit status 0"
case $CC_OUT in
*"invalid value for ESIGNHOOK_ALPHATRUST_TOKENS"*) ;;
*) chk_fail "no clear message: $CC_OUT" ;;
esac
chk_no_secret_out
chk_done "check-config, invalid token list: exits non-zero, names the key, no token shown"

printf '%s\n' "ESIGNHOOK_SPOOL=$T/spool-cc" \
    "ESIGNHOOK_ONESPAN_KEYS $OS_KEY" >"$T/cfg/cc-bad.conf"
chk_reset
cc badfile "ESIGNHOOK_CONFIG=$T/cfg/cc-bad.conf"
[ "$CC_RC" -ne 0 ] || chk_fail "exit status 0"
case $CC_OUT in
*"cc-bad.conf:2:"*) ;;
*) chk_fail "no file:line in: $CC_OUT" ;;
esac
chk_no_secret_out
chk_done "check-config, config file line without '=': exits non-zero, file:line, no secret shown"

chk_reset
cc nosecret "ESIGNHOOK_SPOOL=$T/spool-cc" ESIGNHOOK_SPOOL_MIN_FREE=0
[ "$CC_RC" -ne 0 ] || chk_fail "exit status 0"
case $CC_OUT in
*"no secret configured"*) ;;
*) chk_fail "no clear message: $CC_OUT" ;;
esac
chk_done "check-config, no secret at all: exits non-zero, says so"

chk_reset
cc nofree $good ESIGNHOOK_SPOOL_MIN_FREE=1000000G
[ "$CC_RC" -ne 0 ] || chk_fail "exit status 0"
case $CC_OUT in
*"spool disk full"*) ;;
*) chk_fail "no clear message: $CC_OUT" ;;
esac
chk_done "check-config, ESIGNHOOK_SPOOL_MIN_FREE=1000000G: exits non-zero, disk full"
IFS=' 	
'

chk_reset
out=$("$BIN" --help 2>&1)
rc=$?
chk_eq "exit status" 0 "$rc"
case $out in
"usage: esignhook"*check-config*) ;;
*) chk_fail "no usage text" ;;
esac
chk_done "--help: exit 0, usage"
chk_reset
out=$("$BIN" --version 2>&1)
rc=$?
chk_eq "exit status" 0 "$rc"
case $out in
"esignhook "[0-9]*) ;;
*) chk_fail "output '$out'" ;;
esac
chk_done "--version: exit 0, 'esignhook <version>'"
chk_reset
out=$(env -i PATH=/usr/bin:/bin "$BIN" --bogus 2>&1)
rc=$?
[ "$rc" -ne 0 ] || chk_fail "exit status 0"
case $out in
*"unknown argument"*) ;;
*) chk_fail "output '$out'" ;;
esac
chk_done "unknown argument: exits non-zero, says so"
chk_reset
out=$(env -i PATH=/usr/bin:/bin "ESIGNHOOK_SPOOL=$T/spool" \
    "ESIGNHOOK_ONESPAN_KEYS=$OS_KEY" "$BIN" </dev/null 2>&1)
rc=$?
[ "$rc" -ne 0 ] || chk_fail "exit status 0"
case $out in
*"not started by a web server"*) ;;
*) chk_fail "output '$out'" ;;
esac
case $out in
*"$OS_KEY"*) chk_fail "prints the key" ;;
esac
case $out in
*Status:*) chk_fail "answers as a CGI" ;;
esac
chk_done "no web server context (no GATEWAY_INTERFACE, stdin not a socket): exits non-zero with a message"

e2e_secret_checks
# Root: refused unless ESIGNHOOK_ALLOW_ROOT=1 (a parser bug as root is a
# root compromise).  Run as another user, the same environment serves.
chk_reset
out=$(env -i GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET QUERY_STRING= \
    "ESIGNHOOK_SPOOL=$T/spool-root" ESIGNHOOK_SPOOL_MIN_FREE=0 "$BIN" \
    2>"$T/root.err")
rc=$?
if [ "$(id -u)" -eq 0 ]; then
	chk_eq "exit status" 77 "$rc"
	case $out in
	"Status: 500 "*"refusing to run as root"*) ;;
	*) chk_fail "no 500 reply: $out" ;;
	esac
	grep -q 'refusing to serve as root' "$T/root.err" ||
	    chk_fail "stderr lacks the reason: $(cat "$T/root.err")"
	[ -e "$T/spool-root" ] && chk_fail "the spool was created"
	chk_done "cgi: as root without ESIGNHOOK_ALLOW_ROOT: 500, exit 77, the reason logged, nothing created"
else
	chk_eq "exit status" 0 "$rc"
	chk_done "cgi: not root: serves without ESIGNHOOK_ALLOW_ROOT"
fi

e2e_done
