#!/bin/sh
# e2e-fcgi.sh: cgi/esignhook as a FastCGI server.  Each configuration is
# one server, started with `spawn-fcgi -n -s SOCKET -- cgi/esignhook`
# (fd 0 a listening unix socket) and its configuration in its
# environment; its stderr is the log.  Requests go through
# `cgi-fcgi -bind -connect SOCKET` under `env -i` (its environment are
# the FastCGI params, its stdin the body), or, where cgi-fcgi cannot say
# it (a body with no CONTENT_LENGTH), through a small FastCGI client in
# Python (tests/e2e-lib.sh).  The shared request table is
# e2e_request_table in tests/e2e-lib.sh; the rows only FastCGI has
# (per-request params, 50 concurrent requests, start and stop) are here.
# Every process started here is stopped on exit.
# Run: sh tests/e2e-fcgi.sh (or SUITES=e2e-fcgi sh tests/run.sh).

E2E_MODE=fcgi
. "$(dirname "$0")/e2e-lib.sh"
e2e_setup

M=fcgi
chk_reset
use_config main
[ -S "$FCGI_SOCK" ] || chk_fail "no socket"
kill -0 "$FCGI_PID_main" 2>/dev/null || chk_fail "server not running"
grep -q 'FastCGI ready: 4 threads' "$LOG" ||
    chk_fail "log lacks 'FastCGI ready: 4 threads': $(cat "$LOG")"
chk_done "fcgi: server starts on a unix socket, 4 threads, logs ready"

e2e_request_table

use_config main

# A body with no CONTENT_LENGTH (cgi-fcgi sends none then): raw client.
E2E_CLIENT=raw
chk_reset
spool_snap
os_post "$DATA/onespan/package-create.json"
chk_os_ok
chk_nothing_spooled # posted by the table already: a duplicate
chk_done "fcgi: raw client, onespan sample with CONTENT_LENGTH: 200 (duplicate)"
chk_reset
spool_snap
os_post "$(mkbody nocl.json "$(os_json PACKAGE_CREATE nocl-fcgi)")" \
    -CONTENT_LENGTH
chk_os_ok
chk_one_added
[ -n "$ADDED" ] && chk_record "$ADDED" onespan "$T/in/nocl.json" true
chk_done "fcgi: onespan POST with no CONTENT_LENGTH, body to end of stream: 200, one record"
chk_reset
spool_snap
at_post "$DATA/alphatrust/participant-complete.form" -CONTENT_LENGTH
chk_at_ok RECEIVED
chk_one_added
chk_done "fcgi: alphatrust POST with no CONTENT_LENGTH, body to end of stream: 200"
chk_reset
spool_snap
os_post "$T/in/big.json" -CONTENT_LENGTH
chk_error 413 "body over ESIGNHOOK_MAX_BODY"
chk_done "fcgi: no CONTENT_LENGTH, $(fsize "$T/in/big.json")-byte stream, default limit: 413"
use_config small
chk_reset
spool_snap
os_post "$DATA/onespan/package-create.json" -CONTENT_LENGTH
chk_error 413 "body over ESIGNHOOK_MAX_BODY"
chk_done "fcgi: no CONTENT_LENGTH, long stream, ESIGNHOOK_MAX_BODY=100: 413"
E2E_CLIENT=

# Per-request FastCGI params override the process configuration.
use_config main
chk_reset
spool_snap
os_post "$DATA/onespan/package-complete.json" ESIGNHOOK_MAX_BODY=100
chk_error 413 "body over ESIGNHOOK_MAX_BODY"
chk_done "fcgi: param ESIGNHOOK_MAX_BODY=100 on a request: 413"
chk_reset
spool_snap
os_post "$DATA/onespan/package-create.json" ESIGNHOOK_MAX_BODY=12x
chk_eq status 500 "$STATUS"
case $REQ_LOG in
*ESIGNHOOK_MAX_BODY*) ;;
*) chk_fail "log does not name ESIGNHOOK_MAX_BODY: $REQ_LOG" ;;
esac
chk_nothing_spooled
chk_done "fcgi: param ESIGNHOOK_MAX_BODY=12x: 500, the log names the key"
chk_reset
spool_snap
os_post "$(mkbody after500.json "$(os_json PACKAGE_CREATE after500-fcgi)")"
chk_os_ok
chk_one_added
chk_done "fcgi: the request after a bad-param request: 200"
# The sandbox (Landlock) lets a worker write beneath its own spool only:
# a per-request ESIGNHOOK_SPOOL elsewhere is refused, and nothing is
# created there.  This is the "write outside the spool" proof.
# make check-san sets E2E_SANITIZED=1: sanitizer builds have no sandbox
# (LeakSanitizer needs /proc and ptrace); there the log must say so, and
# the sandbox itself is proved by make check's normal build.
if [ "${E2E_SANITIZED:-0}" = 1 ]; then
chk_reset
grep -q 'sandbox off in a sanitizer build' "$LOG" ||
    chk_fail "log lacks the sanitizer-build note: $(head -3 "$LOG")"
chk_done "fcgi: sanitizer build: the sandbox is off, and the log says so"
else
chk_reset
spool_snap
os_post "$(mkbody param-spool.json "$(os_json PACKAGE_CREATE param-sandboxed)")" \
    "ESIGNHOOK_SPOOL=$T/spool-outside"
chk_error 503 "spool unavailable"
[ -e "$T/spool-outside" ] && chk_fail "$T/spool-outside was created"
case $REQ_LOG in
*'errno="Permission denied"'*) ;;
*) chk_fail "log does not say Permission denied: $REQ_LOG" ;;
esac
grep -q 'Landlock (spool only) and seccomp in force' "$LOG" ||
    chk_fail "log lacks the sandbox note: $(head -3 "$LOG")"
chk_done "fcgi: sandboxed worker: a write outside its spool is refused (503, EACCES), nothing created"
chk_reset
spool_snap
os_post "$(mkbody after-outside.json "$(os_json PACKAGE_CREATE after-outside)")"
chk_os_ok
chk_one_added
chk_done "fcgi: sandboxed worker: the next request to its own spool: 200"
fi

# With the sandbox off, a per-request spool is honoured.
use_config nosandbox ESIGNHOOK_SANDBOX=off
chk_reset
os_post "$(mkbody param-spool.json "$(os_json PACKAGE_CREATE param-spool)")" \
    "ESIGNHOOK_SPOOL=$T/spool-param"
chk_os_ok
chk_eq "files in the param's spool" 1 "$(count_new "$T/spool-param")"
grep -q 'sandbox off' "$LOG" || chk_fail "log lacks 'sandbox off'"
spool_snap
os_post "$(mkbody back.json "$(os_json PACKAGE_CREATE back-fcgi)")"
chk_os_ok
chk_one_added
chk_done "fcgi: ESIGNHOOK_SANDBOX=off: param ESIGNHOOK_SPOOL stores there; the next request the process spool"
use_config main

# The configuration from a file named by ESIGNHOOK_CONFIG.
E2E_CFG_VIA=file
use_config viafile
E2E_CFG_VIA=env
chk_reset
spool_snap
os_post "$(mkbody viafile.json "$(os_json PACKAGE_CREATE viafile-fcgi)")"
chk_os_ok
chk_one_added
chk_done "fcgi: server configured by ESIGNHOOK_CONFIG file: onespan 200"

# 50 concurrent requests from 50 client processes, 4 server threads.
use_config conc "ESIGNHOOK_SPOOL=$T/spool-conc" ESIGNHOOK_THREADS=4
mkdir "$T/conc"
i=0
pids=
while [ "$i" -lt 50 ]; do
	b=$T/conc/$i.body
	if [ $((i % 2)) -eq 0 ]; then
		os_json PACKAGE_CREATE "conc-$i" >"$b"
		set -- CONTENT_TYPE=application/json \
		    "HTTP_AUTHORIZATION=Basic $OS_KEY" \
		    REQUEST_URI=/esignhook/onespan
	else
		printf 'TransID=%d&TXStatus=4&EventType=transaction' \
		    $((1000000000 + i)) >"$b"
		set -- CONTENT_TYPE=application/x-www-form-urlencoded \
		    "REQUEST_URI=/esignhook/alphatrust/$AT_TOKEN"
	fi
	env -i GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST \
	    "CONTENT_LENGTH=$(fsize "$b")" "REMOTE_ADDR=$REMOTE" "$@" \
	    "$CGI_FCGI" -bind -connect "$FCGI_SOCK" \
	    <"$b" >"$T/conc/$i.resp" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
saved=$E2E_PIDS
E2E_PIDS="$E2E_PIDS$pids"
for p in $pids; do
	wait "$p"
done
E2E_PIDS=$saved
chk_reset
n200=0
for r in "$T"/conc/*.resp; do
	case $(head -n 1 "$r") in
	"Status: 200 "*) n200=$((n200 + 1)) ;;
	esac
done
chk_eq "200 responses" 50 "$n200"
out=$("$PY" "$T/check_many.py" "$SPOOL/new" 50)
[ "$out" = ok ] || chk_fail "$out"
chk_eq "files in tmp/" 0 "$(count_tmp "$SPOOL")"
wait_log_lines 0 50
chk_eq "status=200 log lines" 50 "$(grep -c 'status=200' "$LOG")"
chk_done "fcgi: 50 concurrent requests, 4 threads: 50 x 200, 50 files, 50 distinct ids"

# The body is read only once the request is authenticated: as many
# senders as there are threads send a POST's params with a wrong key and
# CONTENT_LENGTH 1000, then nothing; each gets its 401 while its body is
# still unsent, and a valid delivery right after is served at once.
use_config stall "ESIGNHOOK_SPOOL=$T/spool-stall" ESIGNHOOK_THREADS=2
cat >"$T/stall_client.py" <<'EOF'
# stall_client.py SOCKET N KEY: N connections each send a POST's params
# (wrong key, CONTENT_LENGTH 1000) and no body; prints "<status> <s>" per
# connection ("timeout" after 5 s); then one valid OneSpan delivery on a
# new connection: "valid <status> <s>".  The stalled ones stay open
# until the end.
import re, socket, struct, sys, time

def record(rtype, content, rid=1):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBx", 1, rtype, rid, len(content), pad) + \
        content + b"\0" * pad

def params(env):
    out = b""
    for k, v in env.items():
        k, v = k.encode(), v.encode()
        for n in (len(k), len(v)):
            out += bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
        out += k + v
    return record(4, out) + record(4, b"")

def status(s, t0):
    s.settimeout(5)
    buf = b""
    while time.time() - t0 < 5:
        try:
            d = s.recv(65536)
        except OSError:
            break
        if not d:
            break
        buf += d
        m = re.search(rb"Status: (\d+)", buf)
        if m:
            return "%s %.2f" % (m.group(1).decode(), time.time() - t0)
    return "timeout %.2f" % (time.time() - t0)

sock, n, key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
env = {"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST",
       "REQUEST_URI": "/esignhook/onespan", "CONTENT_TYPE": "application/json",
       "CONTENT_LENGTH": "1000", "HTTP_AUTHORIZATION": "Basic wrong"}
held = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    t0 = time.time()
    s.sendall(record(1, struct.pack(">HB5x", 1, 0)) + params(env))
    print(status(s, t0), flush=True)
    held.append(s)
body = b'{"name":"PACKAGE_CREATE","packageId":"stall-valid"}'
env.update({"CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": "Basic " + key})
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock)
t0 = time.time()
s.sendall(record(1, struct.pack(">HB5x", 1, 0)) + params(env) +
          record(5, body) + record(5, b""))
print("valid " + status(s, t0), flush=True)
for h in held + [s]:
    h.close()
EOF
chk_reset
"$PY" "$T/stall_client.py" "$FCGI_SOCK" 2 "$OS_KEY" >"$T/stall.out" 2>&1
chk_eq "stalled senders answered 401 within 2 s" 2 \
    "$(grep -c '^401 [01]\.' "$T/stall.out")"
# libfcgi's lingering close (up to 2 s on a socket left unread) may keep
# each thread a moment after its 401; never a body read.
grep -q '^valid 200 [0-4]\.' "$T/stall.out" ||
    chk_fail "the valid delivery: $(tail -n 1 "$T/stall.out")"
chk_eq "events stored" 1 "$(count_new "$T/spool-stall")"
chk_done "fcgi: unauthenticated senders stalled in their body get 401 at once (body never read); a valid delivery is served meanwhile"

# A server whose configuration is invalid does not start.
chk_reset
env -i PATH=/usr/bin:/bin "ESIGNHOOK_SPOOL=$T/spool" \
    "ESIGNHOOK_ONESPAN_KEYS=$OS_KEY" ESIGNHOOK_MAX_BODY=12x \
    timeout 10 "$SPAWN_FCGI" -n -s "$T/bad.sock" -- "$BIN" \
    >/dev/null 2>"$T/logs/badstart.log"
rc=$?
[ "$rc" -ne 0 ] || chk_fail "exit status 0"
[ "$rc" -ne 124 ] || chk_fail "still running after 10 s"
grep -q 'invalid value for ESIGNHOOK_MAX_BODY' "$T/logs/badstart.log" ||
    chk_fail "no clear message: $(cat "$T/logs/badstart.log")"
chk_done "fcgi: ESIGNHOOK_MAX_BODY=12x in the server's environment: exits non-zero, names the key"

# SIGTERM: finish, log, exit 0.
chk_reset
main_pid=$FCGI_PID_main
fcgi_stop main
chk_eq "exit status after SIGTERM" 0 "$FCGI_RC"
grep -q 'stopped on signal 15' "$T/logs/main.log" ||
    chk_fail "log lacks 'stopped on signal 15'"
chk_done "fcgi: SIGTERM stops the server: exit 0, logged"

all=$E2E_PIDS
# Root: a FastCGI worker refuses to start unless ESIGNHOOK_ALLOW_ROOT=1.
chk_reset
if [ "$(id -u)" -eq 0 ]; then
	rm -f "$T/root.sock"
	env -i PATH=/usr/bin:/bin "ESIGNHOOK_SPOOL=$T/spool-root" \
	    ESIGNHOOK_SPOOL_MIN_FREE=0 \
	    "$SPAWN_FCGI" -n -s "$T/root.sock" -- "$BIN" >/dev/null \
	    2>"$T/root.err"
	chk_eq "exit status" 77 "$?"
	grep -q 'refusing to serve as root' "$T/root.err" ||
	    chk_fail "log lacks the reason: $(cat "$T/root.err")"
	[ -e "$T/spool-root" ] && chk_fail "the spool was created"
	chk_done "fcgi: as root without ESIGNHOOK_ALLOW_ROOT: exits 77 before serving, the reason logged"
else
	chk_done "fcgi: not root: the suite's workers served without ESIGNHOOK_ALLOW_ROOT"
fi

e2e_stop_all
chk_reset
for p in $all $main_pid; do
	kill -0 "$p" 2>/dev/null && chk_fail "process $p still running"
done
chk_done "fcgi: every server started is stopped"

e2e_secret_checks
e2e_done
