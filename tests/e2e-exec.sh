#!/bin/sh
# e2e-exec.sh: the exec action end to end.  Events are spooled by the
# real receiver (cgi/esignhook as a CGI), then `esignhookctl drain` runs
# ESIGNHOOK_EXEC from the configuration file on each.  Asserted here:
# the child's stdin is the spooled record byte for byte; its
# environment is exactly the documented variables (the very one the
# shell was given, from /proc/$$/environ) and holds no secret, although
# the callback key and a forwarding secret are in the configuration and
# in the tool's environment; its stdout never reaches the tool's
# output; exit 0 sends the event to done/, 100 to failed/, anything
# else to retry/ with the first line of its stderr as last_error; the
# timeout kills the handler and what it started.
# Run: sh tests/e2e-exec.sh (or SUITES=e2e-exec sh tests/run.sh).

E2E_MODE=cgi
. "$(dirname "$0")/e2e-lib.sh"
e2e_setup
[ -x "$CTL" ] || { echo "e2e-exec: $CTL not built (make cgi/esignhookctl)"; exit 2; }

# Secrets the child must never see: the callback key (OS_KEY, in the
# base configuration), a forwarding secret and an API key, each in the
# configuration file and in the tool's environment, and one more
# secret only in the tool's environment under an unrelated name.
FWD_RAW=esignhook-e2e-exec-fwd-s3cret
FWD_SECRET=whsec_$(printf '%s' "$FWD_RAW" | base64 | tr -d '\n')
API_KEY=apik3y-e2e-exec-0b9d7c1f
ENV_SECRET=envs3cret-e2e-exec-77aa01
E2E_SECRETS="$E2E_SECRETS $FWD_SECRET $FWD_RAW $API_KEY $ENV_SECRET"
SECRET_ENV="ESIGNHOOK_ONESPAN_KEYS=$OS_KEY ESIGNHOOK_FORWARD_SECRET=$FWD_SECRET ESIGNHOOK_ONESPAN_API_KEY=$API_KEY AWS_SECRET_ACCESS_KEY=$ENV_SECRET BASH_ENV=/nonexistent/evil.sh"
CTL_ENV=$SECRET_ENV

OUT=$T/out
mkdir "$OUT"

# The handler: what it got goes to $OUT/<id>.{stdin,env}; what it does
# is read from files, so one configuration serves every case.
#   $T/exit    its exit status (default 0), with a stderr line if not 0
#   $T/quiet   fail without a word on stderr
#   $T/hang    start a grandchild (its pid in $OUT/grandchild), then hang
cat >"$T/handler.sh" <<'EOF'
#!/bin/sh
d=$(dirname "$0")
id=$ESIGNHOOK_EVENT_ID
cat >"$d/out/$id.stdin"
env >"$d/out/$id.env"
echo "$ESIGNHOOK_ATTEMPT" >>"$d/out/$id.attempts"
echo "HANDLER-STDOUT-MARKER"
if [ -f "$d/hang" ]; then
	sleep 30 &
	echo $! >"$d/out/grandchild"
	echo "hanging now" >&2
	sleep 30
fi
code=$(cat "$d/exit" 2>/dev/null || echo 0)
if [ "$code" -ne 0 ] && [ ! -f "$d/quiet" ]; then
	echo "handler refuses: exit $code" >&2
	echo "a second line nobody reads" >&2
fi
exit "$code"
EOF
chmod 755 "$T/handler.sh"

# The command line: the shell first copies its own environment (the
# one the drainer built) before the handler runs, since a shell adds
# PWD to what it passes on.  Event data never appears on it.
EXEC_CMD="tr '\\0' '\\n' </proc/\$\$/environ >$OUT/\$ESIGNHOOK_EVENT_ID.environ; exec $T/handler.sh"

cat >"$T/expect.py" <<'EOF'
# expect.py RECORD ENVIRON ENV PATH HOME LANG [DOWNLOAD]: "ok" when
# ENVIRON (the shell's environment, one a line) is exactly the
# documented variables for RECORD, in order, and ENV (what env(1) said
# in the handler) is the same plus at most the shell's own PWD.
import json, sys

rec = json.load(open(sys.argv[1], "rb"))
want = []
for name, key in (("ESIGNHOOK_EVENT_ID", "id"), ("ESIGNHOOK_EVENT", "event"),
                  ("ESIGNHOOK_PROVIDER", "provider"),
                  ("ESIGNHOOK_TRANSACTION_ID", "transaction_id")):
    if rec.get(key) is not None:
        want.append("%s=%s" % (name, rec[key]))
want.append("ESIGNHOOK_ATTEMPT=1")
if len(sys.argv) > 7:
    want.append("ESIGNHOOK_DOWNLOAD_PATH=" + sys.argv[7])
want += ["PATH=" + sys.argv[4], "HOME=" + sys.argv[5], "LANG=" + sys.argv[6]]
errs = []
got = open(sys.argv[2], encoding="utf-8").read().splitlines()
if got != want:
    errs.append("environ %r, expected %r" % (got, want))
env = [l for l in open(sys.argv[3], encoding="utf-8").read().splitlines()
       if not l.startswith("PWD=")]
if sorted(env) != sorted(want):
    errs.append("env(1) %r, expected %r (and PWD)" % (env, want))
print("; ".join(errs) if errs else "ok")
EOF

# state FOLDER ID KEY: one key of the event's state file, as JSON.
state() {
	"$PY" -c 'import json, sys
try:
    st = json.load(open(sys.argv[1]))
except Exception as e:
    print("unreadable: %s" % e); sys.exit(0)
print(json.dumps(st.get(sys.argv[2])))' "$SPOOL/$1/$2.state" "$3"
}

fresh() {
	rm -rf "$T/spool" "$T/exit" "$T/quiet" "$T/hang" "$OUT/grandchild"
	use_config "$@"
}

# The id of the one event in new/ (after a single spooling).
the_id() {
	basename "$(ls "$SPOOL/new/" | head -n 1)" .json
}

# Every secret, anywhere the handler or the tool wrote.
chk_no_secret() {
	cns=$(secrets_in "$OUT" "$T/ctl.out" "$T/ctl.err" "$SPOOL")
	[ -z "$cns" ] || chk_fail "a secret in: $cns"
}

# fresh_exec NAME [KEY=value ...]: a new spool and configuration NAME
# with the handler, the secrets and a short retry schedule.
fresh_exec() {
	fe_name=$1
	shift
	fresh "$fe_name" "ESIGNHOOK_EXEC=$EXEC_CMD" \
	    "ESIGNHOOK_FORWARD_SECRET=$FWD_SECRET" \
	    "ESIGNHOOK_ONESPAN_API_KEY=$API_KEY" \
	    ESIGNHOOK_RETRY_SCHEDULE=1s,1s "$@"
}

# ---- exit 0: the record on stdin, the documented environment, done/ ----
chk_reset
fresh_exec ok
set +f
os_post "$DATA/onespan/package-complete.json"
chk_eq "spooling" 200 "$STATUS"
id=$(the_id)
cp "$SPOOL/new/$id.json" "$T/record.$id"
ctl drain
chk_eq "drain exit" 0 "$CTL_RC"
chk_eq "done/" 1 "$(count_in done)"
chk_eq "new/" 0 "$(count_in new)"
[ -f "$SPOOL/done/$id.json" ] || chk_fail "done/$id.json missing"
if [ -f "$OUT/$id.stdin" ]; then
	cmp -s "$T/record.$id" "$OUT/$id.stdin" ||
	    chk_fail "stdin differs from the spooled record"
	[ "$(fsize "$OUT/$id.stdin")" -gt 100 ] || chk_fail "stdin too short"
else
	chk_fail "the handler did not run: $(cat "$T/ctl.err")"
fi
if [ -f "$OUT/$id.environ" ]; then
	r=$("$PY" "$T/expect.py" "$T/record.$id" "$OUT/$id.environ" \
	    "$OUT/$id.env" "$PATH" "${HOME:-/}" "${LANG:-C}" 2>&1)
	[ "$r" = ok ] || chk_fail "$r"
else
	chk_fail "no environ captured"
fi
grep -q 'ESIGNHOOK_TRANSACTION_ID=5n4obeO8jYoPp126Cm-Y3fxdfbo=$' \
    "$OUT/$id.environ" || chk_fail "packageId not in the environment"
grep -q HANDLER-STDOUT-MARKER "$T/ctl.out" "$T/ctl.err" &&
    chk_fail "the handler's stdout reached the tool's output"
chk_no_secret
chk_done "exec exit 0: stdin is the spooled record, environment exactly as documented, no secret, done/"

chk_reset
for v in ESIGNHOOK_FORWARD_SECRET ESIGNHOOK_ONESPAN_API_KEY \
    ESIGNHOOK_ONESPAN_KEYS AWS_SECRET_ACCESS_KEY BASH_ENV ESIGNHOOK_SPOOL \
    ESIGNHOOK_CONFIG ESIGNHOOK_EXEC; do
	grep -q "^$v=" "$OUT/$id.environ" "$OUT/$id.env" && chk_fail "$v passed"
done
chk_done "exec: no configuration key, secret or BASH_ENV in the child's environment"

# ---- AlphaTrust: its provider and TransID ----
chk_reset
at_post "$DATA/alphatrust/transaction-complete.form"
chk_eq "spooling" 200 "$STATUS"
id=$(the_id)
cp "$SPOOL/new/$id.json" "$T/record.$id"
ctl drain
chk_eq "drain exit" 0 "$CTL_RC"
[ -f "$SPOOL/done/$id.json" ] || chk_fail "done/$id.json missing"
cmp -s "$T/record.$id" "$OUT/$id.stdin" 2>/dev/null ||
    chk_fail "stdin differs from the spooled record"
r=$("$PY" "$T/expect.py" "$T/record.$id" "$OUT/$id.environ" "$OUT/$id.env" \
    "$PATH" "${HOME:-/}" "${LANG:-C}" 2>&1)
[ "$r" = ok ] || chk_fail "$r"
grep -q '^ESIGNHOOK_PROVIDER=alphatrust$' "$OUT/$id.environ" ||
    chk_fail "provider"
grep -q '^ESIGNHOOK_TRANSACTION_ID=1234567890$' "$OUT/$id.environ" ||
    chk_fail "TransID"
chk_no_secret
chk_done "exec, AlphaTrust event: exact stdin, ESIGNHOOK_PROVIDER=alphatrust, TRANSACTION_ID=TransID, done/"

# ---- exit 100: permanent, failed/ ----
chk_reset
fresh_exec perm
set +f
echo 100 >"$T/exit"
os_post "$(mkbody perm.json "$(os_json PACKAGE_COMPLETE perm-1)")"
id=$(the_id)
ctl drain
chk_eq "drain exit (an event failed)" 1 "$CTL_RC"
chk_eq "failed/" 1 "$(count_in failed)"
chk_eq "retry/" 0 "$(count_in retry)"
[ -f "$SPOOL/failed/$id.json" ] || chk_fail "failed/$id.json missing"
chk_eq "last_error" '"handler refuses: exit 100"' "$(state failed "$id" last_error)"
chk_eq "attempts" 1 "$(state failed "$id" attempts)"
chk_no_secret
chk_done "exec exit 100: failed/ at once, last_error is the stderr's first line"

# ---- exit 1: temporary, retry/, then the second attempt is 2 ----
chk_reset
fresh_exec temp
set +f
echo 1 >"$T/exit"
os_post "$(mkbody temp.json "$(os_json PACKAGE_COMPLETE temp-1)")"
id=$(the_id)
ctl drain
chk_eq "drain exit" 0 "$CTL_RC"
chk_eq "retry/" 1 "$(count_in retry)"
[ -f "$SPOOL/retry/$id.json" ] || chk_fail "retry/$id.json missing"
[ -f "$SPOOL/retry/$id.state" ] || chk_fail "retry/$id.state missing"
chk_eq "last_error" '"handler refuses: exit 1"' "$(state retry "$id" last_error)"
chk_eq "attempts" 1 "$(state retry "$id" attempts)"
case $(state retry "$id" next_attempt_at) in
null | unreadable*) chk_fail "no next_attempt_at" ;;
esac
grep -q 'result=retry' "$T/ctl.err" || chk_fail "log: $(cat "$T/ctl.err")"
chk_done "exec exit 1: retry/ with a .state, last_error the stderr's first line, attempts 1"

chk_reset
echo 0 >"$T/exit"
sleep 1.3
ctl drain
chk_eq "drain exit" 0 "$CTL_RC"
chk_eq "done/" 1 "$(count_in done)"
chk_eq "attempts seen by the handler" "1 2" \
    "$(tr '\n' ' ' <"$OUT/$id.attempts" | sed 's/ $//')"
grep -q '^ESIGNHOOK_ATTEMPT=2$' "$OUT/$id.environ" ||
    chk_fail "ESIGNHOOK_ATTEMPT: $(grep ATTEMPT "$OUT/$id.environ")"
chk_done "exec: the retry after 1s runs with ESIGNHOOK_ATTEMPT=2 and ends in done/"

# ---- a silent failure: last_error says what happened ----
chk_reset
fresh_exec quiet
set +f
echo 3 >"$T/exit"
: >"$T/quiet"
os_post "$(mkbody quiet.json "$(os_json PACKAGE_COMPLETE quiet-1)")"
id=$(the_id)
ctl drain
chk_eq "retry/" 1 "$(count_in retry)"
chk_eq "last_error" '"exec: exit 3"' "$(state retry "$id" last_error)"
chk_done "exec exit 3 with nothing on stderr: retry/, last_error \"exec: exit 3\""

# ---- the timeout kills the handler and its grandchild ----
chk_reset
fresh_exec timeout ESIGNHOOK_EXEC_TIMEOUT=500ms
set +f
: >"$T/hang"
os_post "$(mkbody hang.json "$(os_json PACKAGE_COMPLETE hang-1)")"
id=$(the_id)
t0=$(now_ms)
ctl drain
took=$(($(now_ms) - t0))
chk_eq "drain exit" 0 "$CTL_RC"
chk_eq "retry/" 1 "$(count_in retry)"
chk_eq "last_error" '"exec: timed out after 500ms: hanging now"' \
    "$(state retry "$id" last_error)"
[ "$took" -lt 5000 ] || chk_fail "drain took $took ms"
gc=$(cat "$OUT/grandchild" 2>/dev/null)
if [ -n "$gc" ]; then
	i=0
	while [ "$i" -lt 40 ]; do
		s=$(sed -n 's/^[0-9]* ([^)]*) \(.\).*/\1/p' "/proc/$gc/stat" 2>/dev/null)
		[ -z "$s" ] || [ "$s" = Z ] && break
		sleep 0.05
		i=$((i + 1))
	done
	if [ -n "$s" ] && [ "$s" != Z ]; then
		chk_fail "grandchild $gc still running"
		kill -9 "$gc" 2>/dev/null
	fi
else
	chk_fail "the handler did not start its grandchild"
fi
chk_done "ESIGNHOOK_EXEC_TIMEOUT=500ms: retry/, last_error says timed out, the grandchild killed too, drain quick ($took ms)"

# ---- ESIGNHOOK_EXEC_EVENTS: other events are not given to the handler ----
chk_reset
fresh_exec events ESIGNHOOK_EXEC_EVENTS=PACKAGE_DECLINE
set +f
os_post "$(mkbody evs.json "$(os_json PACKAGE_COMPLETE evs-1)")"
id=$(the_id)
ctl drain
chk_eq "done/" 1 "$(count_in done)"
[ -e "$OUT/$id.stdin" ] && chk_fail "the handler ran for PACKAGE_COMPLETE"
chk_done "ESIGNHOOK_EXEC_EVENTS=PACKAGE_DECLINE: a PACKAGE_COMPLETE event is done without running the handler"

# ---- nothing secret anywhere this suite wrote ----
chk_reset
si=$(secrets_in "$OUT" "$T/logs")
[ -z "$si" ] || chk_fail "secret found in: $si"
[ -n "$(ls "$OUT")" ] || chk_fail "nothing to look at"
chk_done "no secret in any handler output file or the tool's log"

e2e_done
