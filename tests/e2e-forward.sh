#!/bin/sh
# e2e-forward.sh: the forward action end to end.  Events are spooled by
# the real receiver (cgi/esignhook as a CGI), then `esignhookctl drain`
# POSTs them to tests/webhook-target.py, which checks every request with
# its own Standard Webhooks implementation and logs it.  Asserted here:
# what the target saw (requests, headers, signature, body bytes) and
# where the drainer left each event (done/, retry/, failed/, and the
# state file beside it).  Finally no output, log or state file holds the
# forwarding secret.
# Run: sh tests/e2e-forward.sh (or SUITES=e2e-forward sh tests/run.sh).

E2E_MODE=cgi
. "$(dirname "$0")/e2e-lib.sh"
e2e_setup

[ -x "$CTL" ] || { echo "e2e-forward: $CTL not built (make cgi/esignhookctl)"; exit 2; }
TARGET=$E2E_ROOT/tests/webhook-target.py

# A distinctive key, so that a grep finds any copy: the raw key is
# printable, and its whsec_ form is what the configuration holds.
FWD_RAW=esignhook-e2e-forward-secret-k3y
FWD_B64=$(printf '%s' "$FWD_RAW" | base64 | tr -d '\n')
FWD_SECRET=whsec_$FWD_B64

# ---- helpers ----

cat >"$T/tlog.py" <<'EOF'
# tlog.py LOG CMD ...: questions about webhook-target.py's log.
#   count                      requests received
#   tls                        TLS handshakes that failed
#   paths                      the request paths, one a line
#   check ID RECORD SIGNED     every request carried event ID, the exact
#                              bytes of RECORD, passed the target's
#                              checks, and was signed (SIGNED=yes) or
#                              carried no signature headers (no);
#                              prints "ok" or what is wrong
#   gap                        seconds between the first two requests
import base64, json, sys

log, cmd = sys.argv[1], sys.argv[2]
try:
    lines = [json.loads(l) for l in open(log, encoding="utf-8") if l.strip()]
except FileNotFoundError:
    lines = []
reqs = [l for l in lines if l.get("event") == "request"]
if cmd == "count":
    print(len(reqs))
elif cmd == "tls":
    print(len([l for l in lines if l.get("event") == "tls_error"]))
elif cmd == "paths":
    for r in reqs:
        print(r["path"])
elif cmd == "gap":
    print("%.3f" % (reqs[1]["at"] - reqs[0]["at"]) if len(reqs) > 1 else "-1")
elif cmd == "check":
    wid, record, signed = sys.argv[3], sys.argv[4], sys.argv[5]
    body = open(record, "rb").read()
    errs = []
    if not reqs:
        errs.append("no request")
    for i, r in enumerate(reqs):
        h = r["headers"]
        if r["problems"]:
            errs.append("request %d: %s" % (i + 1, "; ".join(r["problems"])))
        if h.get("webhook-id") != wid:
            errs.append("request %d: webhook-id %r" % (i + 1, h.get("webhook-id")))
        if base64.b64decode(r["body_b64"]) != body:
            errs.append("request %d: body differs from %s" % (i + 1, record))
        if signed == "yes" and r["sig_ok"] is not True:
            errs.append("request %d: signature did not verify" % (i + 1))
        if signed == "no" and ("webhook-signature" in h or
                               "webhook-timestamp" in h or
                               r["sig_ok"] is not None):
            errs.append("request %d: signature headers without a secret" % (i + 1))
    print("; ".join(errs) if errs else "ok")
EOF

now_s() {
	"$PY" -c 'import time; print(int(time.time()))'
}

now_ms() {
	"$PY" -c 'import time; print(int(time.time() * 1000))'
}

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_target NAME RESPONSES [webhook-target options]: TPORT, TLOG.
start_target() {
	st_name=$1
	st_resp=$2
	shift 2
	TLOG=$T/logs/target-$st_name.log
	: >"$TLOG"
	rm -f "$T/port-$st_name"
	"$PY" "$TARGET" --port-file "$T/port-$st_name" --log "$TLOG" \
	    --responses "$st_resp" "$@" 2>"$T/logs/target-$st_name.err" &
	E2E_PIDS="$E2E_PIDS $!"
	wait_until 100 test -s "$T/port-$st_name"
	TPORT=$(cat "$T/port-$st_name" 2>/dev/null)
	[ -n "$TPORT" ] || echo "# target $st_name did not start: $(cat "$T/logs/target-$st_name.err")"
}

# setup NAME KEY=value...: a spool of its own with one OneSpan event
# (received by the real receiver), and esignhookctl's configuration
# file for it.  Sets SP, CFG, ID.
setup() {
	su_name=$1
	shift
	SP=$T/$su_name/spool
	mkdir -p "$T/$su_name"
	CFG=$T/cfg/$su_name.conf
	{
		echo "ESIGNHOOK_SPOOL=$SP"
		echo "ESIGNHOOK_SPOOL_MIN_FREE=0"
		echo "ESIGNHOOK_ALLOW_ROOT=1"
		for kv in "$@"; do
			echo "$kv"
		done
	} >"$CFG"
	os_json PACKAGE_COMPLETE "fwd-$su_name-pkg" >"$T/in/$su_name.json"
	receive_onespan "$SP" "$T/in/$su_name.json" "recv-$su_name"
	ID=$(ls "$SP/new" 2>/dev/null | sed -n 's/\.json$//p' | head -n 1)
	[ -n "$ID" ] || echo "# setup $su_name: nothing spooled: $(cat "$T/logs/recv-$su_name.out" "$T/logs/recv-$su_name.err")"
}

# drain: one `esignhookctl drain` over $CFG; DRAIN_RC, DRAIN_MS.
DRAIN_N=0
drain() {
	DRAIN_N=$((DRAIN_N + 1))
	dr_t0=$(now_ms)
	env -i PATH=/usr/bin:/bin "ESIGNHOOK_CONFIG=$CFG" "$CTL" drain \
	    >"$T/logs/drain-$DRAIN_N.out" 2>"$T/logs/drain-$DRAIN_N.err"
	DRAIN_RC=$?
	DRAIN_MS=$(($(now_ms) - dr_t0))
	case $DRAIN_RC in
	64|75|78) chk_fail "drain exited $DRAIN_RC: $(head -c 300 "$T/logs/drain-$DRAIN_N.err")" ;;
	esac
}

chk_in() {
	chk_eq "folder of the event" "$1" "$(folder_of "$SP" "$ID")"
}

state() {
	state_get "$SP/$1/$ID.state" "$2"
}

chk_error_has() {
	# chk_error_has FOLDER TEXT: the state's last_error contains TEXT.
	ce_e=$(state "$1" last_error)
	case $ce_e in
	*"$2"*) ;;
	*) chk_fail "last_error '$ce_e' lacks '$2'" ;;
	esac
}

chk_requests() {
	chk_eq "requests the target received" "$1" "$("$PY" "$T/tlog.py" "$TLOG" count)"
}

chk_target() {
	# chk_target RECORD SIGNED: tlog.py check
	ct_out=$("$PY" "$T/tlog.py" "$TLOG" check "$ID" "$1" "$2")
	[ "$ct_out" = ok ] || chk_fail "target: $ct_out"
}

wait_until_s() {
	while [ "$(now_s)" -lt "$1" ]; do
		sleep 0.1
	done
}

# ---- 500, then 200: retried, then done ----

chk_reset
start_target retry500 500,200 --secret "$FWD_SECRET"
setup retry500 "ESIGNHOOK_FORWARD_URL=http://127.0.0.1:$TPORT/hook" \
    "ESIGNHOOK_FORWARD_SECRET=$FWD_SECRET" ESIGNHOOK_RETRY_SCHEDULE=200ms,200ms
drain
chk_in retry
chk_requests 1
chk_error_has retry "forward: HTTP 500"
chk_eq attempts 1 "$(state retry attempts)"
sleep 0.4
drain
chk_in done
chk_requests 2
chk_target "$SP/done/$ID.json" yes
chk_done "forward: 500 then 200: retried, done; two signed requests, same webhook-id, body = the record's bytes"

# ---- always 500: failed/ after the last attempt of the schedule ----

chk_reset
start_target always500 500 --secret "$FWD_SECRET"
setup always500 "ESIGNHOOK_FORWARD_URL=http://127.0.0.1:$TPORT/hook" \
    "ESIGNHOOK_FORWARD_SECRET=$FWD_SECRET" ESIGNHOOK_RETRY_SCHEDULE=200ms,200ms
drain
chk_in retry
sleep 0.4
drain
chk_in retry
sleep 0.4
drain
chk_in failed
chk_requests 3
chk_error_has failed "forward: HTTP 500"
chk_eq attempts 3 "$(state failed attempts)"
chk_target "$SP/failed/$ID.json" yes
chk_done "forward: always 500, schedule 200ms,200ms: three attempts, then failed/ with 'forward: HTTP 500'"

# ---- 400: permanent ----

chk_reset
start_target perm400 400 --secret "$FWD_SECRET"
setup perm400 "ESIGNHOOK_FORWARD_URL=http://127.0.0.1:$TPORT/hook" \
    "ESIGNHOOK_FORWARD_SECRET=$FWD_SECRET" ESIGNHOOK_RETRY_SCHEDULE=200ms,200ms
drain
chk_in failed
chk_requests 1
chk_error_has failed "forward: HTTP 400"
chk_done "forward: 400: straight to failed/, one request"

# ---- Retry-After ----

# retry_after NAME STATUS: a STATUS with Retry-After: 2 and a schedule
# whose first wait is 100ms (its longest, 10s, leaves room for the 2 s).
retry_after() {
	chk_reset
	start_target "$1" "$2:ra=2,200" --secret "$FWD_SECRET"
	setup "$1" "ESIGNHOOK_FORWARD_URL=http://127.0.0.1:$TPORT/hook" \
	    "ESIGNHOOK_FORWARD_SECRET=$FWD_SECRET" \
	    ESIGNHOOK_RETRY_SCHEDULE=100ms,10s
	ra_t0=$(now_s)
	drain
	chk_in retry
	ra_next=$(state retry next_attempt_at)
	if [ -z "$ra_next" ] || [ "$ra_next" -lt $((ra_t0 + 2)) ]; then
		chk_fail "next_attempt_at $ra_next is before $((ra_t0 + 2)) (drain began at $ra_t0)"
	fi
	chk_error_has retry "forward: HTTP $2"
	drain
	chk_in retry
	chk_requests 1
	wait_until_s $((ra_next + 1))
	drain
	chk_in done
	chk_requests 2
	ra_gap=$("$PY" "$T/tlog.py" "$TLOG" gap)
	"$PY" -c "import sys; sys.exit(0 if float('$ra_gap') >= 1.9 else 1)" ||
	    chk_fail "second request $ra_gap s after the first"
	chk_target "$SP/done/$ID.json" yes
	chk_done "forward: $2 with Retry-After: 2 (schedule 100ms,10s): next attempt >= 2 s later, not before; then done"
}
retry_after ra429 429
retry_after ra503 503

# Retry-After means something on 429 and 503 only.
chk_reset
start_target ra500 500:ra=30,200 --secret "$FWD_SECRET"
setup ra500 "ESIGNHOOK_FORWARD_URL=http://127.0.0.1:$TPORT/hook" \
    "ESIGNHOOK_FORWARD_SECRET=$FWD_SECRET" ESIGNHOOK_RETRY_SCHEDULE=100ms,60s
drain
t1=$(now_s)
chk_in retry
n=$(state retry next_attempt_at)
if [ -z "$n" ] || [ "$n" -gt $((t1 + 1)) ]; then
	chk_fail "next_attempt_at $n: the 500's Retry-After was used (now $t1)"
fi
chk_done "forward: a 500's Retry-After is ignored: the schedule's 100ms applies"

# ---- no secret: no signature, webhook-id still there ----

chk_reset
start_target nosecret 200
setup nosecret "ESIGNHOOK_FORWARD_URL=http://127.0.0.1:$TPORT/hook"
drain
chk_in done
chk_requests 1
chk_target "$SP/done/$ID.json" no
chk_done "forward: no secret: webhook-id sent, no webhook-signature or webhook-timestamp; done"

# ---- HTTPS with a certificate from a CA the test makes ----

PKI=$T/pki
mkdir -p "$PKI"
make_ca "$PKI" ca
make_ca "$PKI" otherca
make_server_cert "$PKI" ca

chk_reset
if [ ! -s "$PKI/srv.pem" ]; then
	chk_fail "openssl made no certificate: $(tail -n 5 "$T/logs/openssl.log")"
fi
start_target tls 200 --secret "$FWD_SECRET" --cert "$PKI/srv.pem" \
    --key "$PKI/srv.key"
TLS_URL=https://127.0.0.1:$TPORT/hook
setup tls "ESIGNHOOK_FORWARD_URL=$TLS_URL" \
    "ESIGNHOOK_FORWARD_SECRET=$FWD_SECRET" ESIGNHOOK_RETRY_SCHEDULE=100ms,100ms,100ms
drain
chk_in retry
chk_requests 0
chk_error_has retry "forward: SSL certificate problem"
[ "$("$PY" "$T/tlog.py" "$TLOG" tls)" -ge 1 ] ||
    chk_fail "the target saw no refused handshake"
chk_done "forward: HTTPS, certificate from an unknown CA, no ESIGNHOOK_CA_FILE: refused, retry/"

# Another CA in ESIGNHOOK_CA_FILE: still refused (verification stays on).
chk_reset
echo "ESIGNHOOK_CA_FILE=$PKI/otherca.pem" >>"$CFG"
sleep 0.2
drain
chk_in retry
chk_requests 0
chk_error_has retry "forward: SSL certificate problem"
chk_done "forward: HTTPS, ESIGNHOOK_CA_FILE with an unrelated CA: still refused, retry/"

chk_reset
grep -v '^ESIGNHOOK_CA_FILE=' "$CFG" >"$CFG.new" && mv "$CFG.new" "$CFG"
echo "ESIGNHOOK_CA_FILE=$PKI/ca.pem" >>"$CFG"
sleep 0.2
drain
chk_in done
chk_requests 1
chk_target "$SP/done/$ID.json" yes
chk_done "forward: HTTPS with ESIGNHOOK_CA_FILE naming the test CA: accepted, signed, done"

# ---- a redirect is not followed ----

chk_reset
start_target redirect 302 --secret "$FWD_SECRET"
setup redirect "ESIGNHOOK_FORWARD_URL=http://127.0.0.1:$TPORT/hook" \
    "ESIGNHOOK_FORWARD_SECRET=$FWD_SECRET" ESIGNHOOK_RETRY_SCHEDULE=100ms,100ms
drain
chk_in retry
chk_requests 1
paths=$("$PY" "$T/tlog.py" "$TLOG" paths | tr '\n' ' ')
chk_eq "paths the target saw" "/hook " "$paths"
chk_error_has retry "forward: HTTP 302"
chk_done "forward: 302 is not followed (the target never sees /moved): temporary, retry/"

# ---- a hanging target: ESIGNHOOK_FORWARD_TIMEOUT ----

chk_reset
start_target hang hang --secret "$FWD_SECRET" --hang 5
setup hang "ESIGNHOOK_FORWARD_URL=http://127.0.0.1:$TPORT/hook" \
    "ESIGNHOOK_FORWARD_SECRET=$FWD_SECRET" ESIGNHOOK_RETRY_SCHEDULE=100ms \
    ESIGNHOOK_FORWARD_TIMEOUT=1s
drain
chk_in retry
chk_requests 1
chk_error_has retry "timed out"
if [ "$DRAIN_MS" -lt 900 ] || [ "$DRAIN_MS" -gt 4000 ]; then
	chk_fail "drain took $DRAIN_MS ms"
fi
chk_done "forward: a target that hangs, ESIGNHOOK_FORWARD_TIMEOUT=1s: gives up after ~1 s ($DRAIN_MS ms), retry/"

# ---- nobody listening ----

chk_reset
port=$(free_port)
setup refused "ESIGNHOOK_FORWARD_URL=http://127.0.0.1:$port/hook?token=qtok9e1c7" \
    "ESIGNHOOK_FORWARD_SECRET=$FWD_SECRET" ESIGNHOOK_RETRY_SCHEDULE=100ms
drain
chk_in retry
chk_error_has retry "forward: Failed to connect to 127.0.0.1 port $port"
case $(state retry last_error) in
*qtok*) chk_fail "last_error shows the URL's query" ;;
esac
chk_done "forward: connection refused: temporary, retry/, the error names host and port only"

# ---- the secret is nowhere ----

chk_reset
leaks=$(grep -rlF -e "$FWD_SECRET" -e "$FWD_B64" -e "$FWD_RAW" "$T" 2>/dev/null |
    grep -v "^$T/cfg/")
[ -z "$leaks" ] || chk_fail "the forwarding secret is in: $leaks"
nfiles=$(find "$T" -type f ! -path "$T/cfg/*" | wc -l | tr -d ' ')
chk_done "forward: the secret appears in none of $nfiles output, log, record and state files"

e2e_done
