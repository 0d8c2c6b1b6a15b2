#!/bin/sh
# e2e-nats.sh: the publish action, nats-setup and consume against one
# real nats-server -js (Debian's) on 127.0.0.1, events spooled by the
# real receiver (cgi/esignhook as a CGI).  Asserted here: nats-setup
# creates the stream (file storage, replicas 1, duplicate window 2m,
# subjects esign.>) and reports it when it exists; drain publishes
# each event once, the payload the spooled record's bytes, the headers
# Nats-Msg-Id (the event id), Esignhook-Event, Esignhook-Provider, the
# subject from ESIGNHOOK_NATS_SUBJECT (characters a subject cannot hold
# replaced); ESIGNHOOK_NATS_EVENTS; the server down: events wait in
# retry/, then go through once it is back, none lost or doubled; the
# same events published again (a drainer killed after the PubAck,
# before marking them done) stay in the stream once; consume: each
# message to the command once, exit 100 not redelivered, exit 1
# redelivered after the schedule's delay, SIGTERM finishing the message
# in hand, a start with other settings warned of; a plain subscriber
# answering on the subject is no PubAck (retry/); nats-setup refuses
# interest, work-queue and no_ack streams and a duplicate window shorter
# than the schedule needs (drain warns of it); a server SIGSTOPped at a
# follower's start (a new connection once it goes on) and while
# connected (one timeout per pass, none doubled); a token, a
# user/password server, credentials in the URL, TLS with a CA made
# here: the secret in no log, no spool file and no child's environment.
# Run: sh tests/e2e-nats.sh (or SUITES=e2e-nats sh tests/run.sh).

E2E_MODE=cgi
. "$(dirname "$0")/e2e-lib.sh"
. "$E2E_ROOT/tests/nats-lib.sh"
e2e_setup
[ -x "$CTL" ] || { echo "e2e-nats: $CTL not built (run make)"; exit 2; }
nats_init

NATS_TOKEN=natstok-e2e-4c1f9a7b2d
NATS_PASS=natspw-e2e-8e2b0d6c3a
# A wrong password, in ESIGNHOOK_NATS_URL: no less secret.
NATS_URLPASS=natspw-url-wrong-5d93e1
E2E_SECRETS="$E2E_SECRETS $NATS_TOKEN $NATS_PASS $NATS_URLPASS"
TMPL='esign.{provider}.{event}'
OUT=$T/cout
mkdir "$OUT"

# The consumer's command: what it got goes to $OUT/<id>.stdin and
# .environ, one line "<id> <ms> <attempt>" to $T/cruns; its exit is
# 100 for the ids listed in $T/term, 1 for those in $T/failonce the
# first time, after a second's sleep with $T/slow, else 0.
cat >"$T/chandler.sh" <<'EOF'
#!/bin/sh
d=$(dirname "$0")
id=$ESIGNHOOK_EVENT_ID
tr '\0' '\n' </proc/$$/environ >"$d/cout/$id.environ"
cat >"$d/cout/$id.stdin"
echo "$id $(date +%s%3N) ${ESIGNHOOK_ATTEMPT:-}" >>"$d/cruns"
[ -f "$d/slow" ] && sleep 1
if [ -f "$d/term" ] && grep -qx "$id" "$d/term"; then
	echo "no such transaction" >&2
	exit 100
fi
if [ -f "$d/failonce" ] && grep -qx "$id" "$d/failonce" &&
    [ ! -e "$d/cout/$id.failed" ]; then
	: >"$d/cout/$id.failed"
	echo "crm down" >&2
	exit 1
fi
[ -f "$d/slow" ] && echo "$id" >>"$d/finished"
exit 0
EOF
chmod 755 "$T/chandler.sh"

# runs_of ID: how many times the consumer's command ran for ID.
runs_of() {
	grep -c "^$1 " "$T/cruns" 2>/dev/null || true
}

# n_os N PREFIX: N distinct OneSpan events through the receiver.
n_os() {
	no_i=0
	while [ "$no_i" -lt "$1" ]; do
		os_post "$(mkbody "ev$2$no_i.json" \
		    "$(os_json PACKAGE_COMPLETE "$2-$no_i")")"
		[ "$STATUS" = 200 ] || chk_fail "spooling $2-$no_i: $STATUS"
		no_i=$((no_i + 1))
	done
}

# ids_in FOLDER...: the ids of the records in those folders, sorted.
ids_in() {
	for ii_f in "$@"; do
		ls "$SPOOL/$ii_f" 2>/dev/null | sed -n 's/\.json$//p'
	done | sort
}

# Every record this suite published, kept for the payload checks.
RECS=$T/records
mkdir "$RECS"
keep_records() {
	cp "$SPOOL"/done/*.json "$RECS"/ 2>/dev/null
}

# drain_until_empty: drain passes (up to 10 s) until new/, cur/ and
# retry/ are empty.
empty_queue() {
	[ "$(count_in new)$(count_in cur)$(count_in retry)" = 000 ]
}
drain_until_empty() {
	due_i=0
	while [ "$due_i" -lt 40 ]; do
		ctl drain
		empty_queue && return 0
		sleep 0.25
		due_i=$((due_i + 1))
	done
	return 1
}

nats_single s1
S1_URL=$NATS_URL
chk_reset
[ -n "$NATS_URL" ] || chk_fail "no server"
chk_done "nats-server -js on 127.0.0.1 ($NATS_URL), healthy"

# ---- nats-setup ----
chk_reset
use_config nourl
ctl nats-setup
chk_eq "without ESIGNHOOK_NATS_URL: exit" 78 "$CTL_RC"
grep -q ESIGNHOOK_NATS_URL "$T/ctl.err" || chk_fail "message: $(cat "$T/ctl.err")"
chk_done "nats-setup with no ESIGNHOOK_NATS_URL: 78, the key named"

chk_reset
# main [KEY=value...]: the suite's main configuration (spool $T/spool).
main() {
	use_config main "ESIGNHOOK_NATS_URL=$NATS_URL" \
	    ESIGNHOOK_RETRY_SCHEDULE=1s,1s,1s ESIGNHOOK_NATS_TIMEOUT=2s "$@"
}
main
ctl nats-setup
chk_eq "exit" 0 "$CTL_RC"
grep -q ESIGNHOOK "$T/ctl.out" || chk_fail "output: $(cat "$T/ctl.out" "$T/ctl.err")"
info=$(nats_info)
chk_eq "replicas" 1 "$(nats_field replicas "$info")"
# 2m + the schedule's 3s at their longest (3.6s), in whole seconds.
chk_eq "duplicate window (ms)" 124000 "$(nats_field dup_ms "$info")"
chk_eq "storage" file "$(nats_field storage "$info")"
chk_eq "subjects" 'esign.>' "$(nats_field subjects "$info")"
chk_eq "messages" 0 "$(nats_field msgs "$info")"
created_out=$(cat "$T/ctl.out")
chk_done "nats-setup: stream ESIGNHOOK created: file storage, 1 replica, duplicate window 2m4s (2m + schedule 1s,1s,1s * 1.2), subjects esign.> ($created_out)"

chk_reset
ctl nats-setup
chk_eq "again: exit" 0 "$CTL_RC"
grep -qi 'exist' "$T/ctl.out" || chk_fail "not reported as existing: $(cat "$T/ctl.out")"
[ "$(cat "$T/ctl.out")" != "$created_out" ] || chk_fail "the same words as creating it"
chk_eq "still one stream, unchanged" "$info" "$(nats_info)"
chk_done "nats-setup again: the existing stream reported ($(head -n 1 "$T/ctl.out")), unchanged"

chk_reset
ctl nats-setup --replicas 0
chk_eq "--replicas 0" 64 "$CTL_RC"
ctl nats-setup --replicas x
chk_eq "--replicas x" 64 "$CTL_RC"
ctl nats-setup --duplicate-window soon
chk_eq "--duplicate-window soon" 64 "$CTL_RC"
ctl nats-setup --help
chk_eq "--help" 0 "$CTL_RC"
grep -q '^usage: esignhookctl nats-setup' "$T/ctl.out" || chk_fail "usage: $(cat "$T/ctl.out")"
chk_done "nats-setup usage errors: 64; --help"

# ---- publish: every event once, the record's bytes, headers, subject ----
chk_reset
n_os 3 pub
at_post "$DATA/alphatrust/transaction-complete.form"
chk_eq "alphatrust spooled" 200 "$STATUS"
at_post "$DATA/alphatrust/participant-complete.form"
chk_eq "alphatrust 2 spooled" 200 "$STATUS"
# A OneSpan body that is not JSON: stored with event null.
os_post "$(mkbody broken.json '{"name":"PACKAGE_COMPLETE","packageId":')"
chk_eq "broken one spooled" 200 "$STATUS"
ids_in new >"$T/ids.pub"
ctl drain
chk_eq "exit" 0 "$CTL_RC"
chk_eq "done/" 6 "$(count_in done)"
chk_eq "log lines action=publish result=done" 6 \
    "$(grep 'action=publish' "$T/ctl.err" | grep -c 'result=done')"
keep_records
cp "$T/ids.pub" "$T/ids.all"
nats_msgs || chk_fail "nats-check: $(cat "$T/nats-check.err")"
chk_stream_once "$T/ids.all"
chk_msgs "$RECS" "$TMPL"
grep -q ' esign\.onespan\._ ' "$T/nats.msgs" ||
    chk_fail "the event-less record's subject: $(cat "$T/nats.msgs")"
grep -q ' esign\.alphatrust\.transaction ' "$T/nats.msgs" ||
    chk_fail "no esign.alphatrust.transaction"
chk_done "drain: 6 events (OneSpan, AlphaTrust, one with no event) each once in the stream, payload the record's bytes, Nats-Msg-Id/Esignhook-Event/-Provider, subject esign.{provider}.{event}"

# The subject from a template with {transaction_id}: what a subject
# cannot hold becomes '_'.
chk_reset
TXT='esign.{provider}.tx.{transaction_id}'
use_config txid "ESIGNHOOK_NATS_URL=$NATS_URL" "ESIGNHOOK_NATS_SUBJECT=$TXT" \
    "ESIGNHOOK_SPOOL=$T/spool-txid"
os_post "$(mkbody odd.json "$(os_json PACKAGE_COMPLETE 'pkg.with space*and>é/x')")"
chk_eq "spooled" 200 "$STATUS"
os_post "$(mkbody plain.json "$(os_json PACKAGE_COMPLETE 'AbC-09_=')")"
ids_in new >"$T/ids.tx"
ctl drain
chk_eq "exit" 0 "$CTL_RC"
keep_records
nats_msgs
grep -F -f "$T/ids.tx" "$T/nats.msgs" >"$T/nats.msgs.tx"
mv "$T/nats.msgs.tx" "$T/nats.msgs"
chk_stream_once "$T/ids.tx"
chk_msgs "$RECS" "$TXT"
grep -q ' esign\.onespan\.tx\.pkg_with_space_and__/x ' "$T/nats.msgs" ||
    chk_fail "subject: $(cut -d' ' -f3 "$T/nats.msgs")"
grep -q ' esign\.onespan\.tx\.AbC-09_= ' "$T/nats.msgs" || chk_fail "plain subject"
cat "$T/ids.tx" >>"$T/ids.all"
chk_done "ESIGNHOOK_NATS_SUBJECT=$TXT: '.', ' ', '*', '>' and a non-ASCII character of the packageId each as '_'"

# ---- ESIGNHOOK_NATS_EVENTS ----
chk_reset
use_config events "ESIGNHOOK_NATS_URL=$NATS_URL" \
    ESIGNHOOK_NATS_EVENTS=PACKAGE_DECLINE,transaction "ESIGNHOOK_SPOOL=$T/spool-events"
os_post "$DATA/onespan/package-decline.json"
os_post "$DATA/onespan/document-signed.json"
at_post "$DATA/alphatrust/transaction-cancelled.form"
at_post "$DATA/alphatrust/participant-email-sent.form"
before=$(nats_field msgs "$(nats_info)")
ctl drain
chk_eq "exit" 0 "$CTL_RC"
chk_eq "done/ (all, published or not)" 4 "$(count_in done)"
keep_records
after=$(nats_field msgs "$(nats_info)")
chk_eq "messages added" 2 "$((after - before))"
nats_msgs
tail -n 2 "$T/nats.msgs" | awk '{ print $5 }' | sort | tr '\n' ' ' >"$T/evs"
chk_eq "the events published" "PACKAGE_DECLINE transaction " "$(cat "$T/evs")"
for f in "$SPOOL"/done/*.json; do
	id=$(basename "$f" .json)
	case $(grep -o '"event":"[A-Za-z_]*"' "$f") in
	*PACKAGE_DECLINE* | *'"transaction"'*) echo "$id" >>"$T/ids.all" ;;
	esac
done
chk_done "ESIGNHOOK_NATS_EVENTS=PACKAGE_DECLINE,transaction: those 2 of 4 published, all 4 done"

# ---- no stream yet: temporary, then through once it exists ----
chk_reset
use_config nostream "ESIGNHOOK_NATS_URL=$NATS_URL" ESIGNHOOK_NATS_STREAM=LATER \
    "ESIGNHOOK_NATS_SUBJECT=later.{event}" ESIGNHOOK_RETRY_SCHEDULE=500ms,500ms \
    ESIGNHOOK_NATS_TIMEOUT=1s "ESIGNHOOK_SPOOL=$T/spool-later"
n_os 1 later
ctl drain
chk_eq "exit" 0 "$CTL_RC"
chk_eq "retry/" 1 "$(count_in retry)"
grep 'action=publish' "$T/ctl.err" | grep -q 'result=retry' ||
    chk_fail "log: $(cat "$T/ctl.err")"
ctl nats-setup
chk_eq "nats-setup LATER" 0 "$CTL_RC"
info=$(nats_info "$NATS_URL" LATER)
chk_eq "LATER's subjects" 'later.>' "$(nats_field subjects "$info")"
drain_until_empty || chk_fail "still waiting: $(ls "$SPOOL/retry")"
chk_eq "done/" 1 "$(count_in done)"
chk_eq "in LATER" 1 "$(nats_field msgs "$(nats_info "$NATS_URL" LATER)")"
chk_done "no stream for the subject: retry/, not failed; nats-setup (subjects later.> for later.{event}); the retry publishes it"

# ---- the server down: retry/, then through once it is back ----
chk_reset
main
nats_stop s1
n_os 4 down
ids_in new >"$T/ids.down"
t0=$(now_ms)
ctl drain
took=$(($(now_ms) - t0))
chk_eq "exit" 0 "$CTL_RC"
chk_eq "retry/" 4 "$(count_in retry)"
chk_eq "done/ (nothing new)" 6 "$(count_in done)"
chk_eq "log lines publish retry" 4 \
    "$(grep 'action=publish' "$T/ctl.err" | grep -c 'result=retry')"
[ "$took" -lt 15000 ] || chk_fail "drain took $took ms with the server down"
st=$(cat "$SPOOL"/retry/*.state 2>/dev/null | head -n 1)
case $st in *'"attempts":1,'*'"last_error":"'?*) ;;
*) chk_fail "state: $st" ;; esac
chk_done "server down: 4 events to retry/ (attempts 1, last_error set), drain done in $took ms"

chk_reset
nats_start s1
wait_until 200 nats_healthy s1 || chk_fail "s1 not healthy again"
drain_until_empty || chk_fail "left: new $(count_in new) retry $(count_in retry)"
chk_eq "done/" 10 "$(count_in done)"
keep_records
cat "$T/ids.down" >>"$T/ids.all"
nats_msgs
chk_stream_once "$T/ids.all"
chk_done "server back: the 4 waiting events published at their retry, every event in the stream exactly once (none lost, none doubled)"

# ---- published again: JetStream's Nats-Msg-Id de-duplication ----
# A drainer killed after the PubAck, before the record moved to done/:
# the record is back in new/ (cur/ with no live owner is the same) and
# published a second time.
chk_reset
n_os 5 again
ids_in new >"$T/ids.again"
ctl drain
chk_eq "first: done/" 15 "$(count_in done)"
keep_records
cat "$T/ids.again" >>"$T/ids.all"
before=$(nats_field msgs "$(nats_info)")
for id in $(cat "$T/ids.again"); do
	mv "$SPOOL/done/$id.json" "$SPOOL/new/$id.json"
	rm -f "$SPOOL/done/$id.state"
done
mkdir -p "$SPOOL/cur"
id=$(head -n 1 "$T/ids.again")
mv "$SPOOL/new/$id.json" "$SPOOL/cur/$id.json"
ctl drain
chk_eq "again: exit" 0 "$CTL_RC"
chk_eq "again: done/" 15 "$(count_in done)"
chk_eq "again: publish done" 5 \
    "$(grep 'action=publish' "$T/ctl.err" | grep -c 'result=done')"
chk_eq "messages in the stream" "$before" "$(nats_field msgs "$(nats_info)")"
nats_msgs
chk_stream_once "$T/ids.all"
chk_done "the same 5 events published again (4 from new/, 1 orphan in cur/): done, the stream still holds each once"

# The same with a drainer killed -9 in the middle of a pass of 300
# (stream KILL, so that the consume cases below stay short).
chk_reset
use_config kill "ESIGNHOOK_NATS_URL=$NATS_URL" ESIGNHOOK_NATS_STREAM=KILL \
    "ESIGNHOOK_NATS_SUBJECT=kill.{provider}.{event}" \
    ESIGNHOOK_RETRY_SCHEDULE=500ms,500ms "ESIGNHOOK_SPOOL=$T/spool-kill"
ctl nats-setup
chk_eq "nats-setup KILL" 0 "$CTL_RC"
mkdir -p "$SPOOL/new" "$SPOOL/tmp"
"$PY" - "$SPOOL" 300 <<'EOF'
import json, os, sys, time
spool, n = sys.argv[1], int(sys.argv[2])
t = time.gmtime()
for i in range(n):
    id = time.strftime("%Y%m%dT%H%M%S", t) + ".%06dZ-%016x" % (i, 0xfeed0000 + i)
    rec = {"v": 1, "id": id, "received_at": "2026-12-01T00:00:00.000Z",
           "provider": "onespan", "event": "PACKAGE_COMPLETE",
           "known_event": True, "transaction_id": "kill-%d" % i,
           "dedupe_key": "%064x" % (0xfeed0000 + i), "remote_addr": None,
           "data": {"name": "PACKAGE_COMPLETE", "packageId": "kill-%d" % i}}
    with open(os.path.join(spool, "new", id + ".json"), "w") as f:
        f.write(json.dumps(rec, separators=(",", ":")) + "\n")
EOF
ids_in new >"$T/ids.kill"
mkdir "$T/records-kill"
cp "$SPOOL"/new/*.json "$T/records-kill"/
env -i "PATH=$PATH" "ESIGNHOOK_CONFIG=$CFG" "$CTL" drain \
    >"$T/kill.out" 2>"$T/kill.err" &
kp=$!
some_done() { [ "$(count_in done)" -ge 100 ]; }
wait_until 200 some_done || chk_fail "the drainer did not get going"
kill -9 "$kp"
wait "$kp" 2>/dev/null
killed_at=$(count_in done)
in_stream=$(nats_field msgs "$(nats_info "$NATS_URL" KILL)")
drain_until_empty || chk_fail "left after the kill"
nats_msgs "$NATS_URL" KILL
chk_stream_once "$T/ids.kill"
chk_payloads "$T/records-kill"
chk_done "drainer killed -9 with $killed_at of 300 events done, $in_stream in the stream: the next drain finishes, each event once in the stream"

# ---- outside the duplicate window a re-publication is stored again ----
# (why the window must outlast a drainer's crash and restart)
chk_reset
use_config window "ESIGNHOOK_NATS_URL=$NATS_URL" ESIGNHOOK_NATS_STREAM=WINDOW \
    "ESIGNHOOK_NATS_SUBJECT=window.{event}" "ESIGNHOOK_SPOOL=$T/spool-window"
ctl nats-setup --duplicate-window 1s
chk_eq "nats-setup --duplicate-window 1s" 0 "$CTL_RC"
chk_eq "dup window (ms)" 1000 "$(nats_field dup_ms "$(nats_info "$NATS_URL" WINDOW)")"
n_os 1 window
ctl drain
id=$(ids_in done)
mv "$SPOOL/done/$id.json" "$SPOOL/new/"
ctl drain
chk_eq "within 1s: messages" 1 "$(nats_field msgs "$(nats_info "$NATS_URL" WINDOW)")"
sleep 1.5
mv "$SPOOL/done/$id.json" "$SPOOL/new/"
ctl drain
chk_eq "after 1.5s: messages" 2 "$(nats_field msgs "$(nats_info "$NATS_URL" WINDOW)")"
chk_done "--duplicate-window 1s: a re-publication within it dropped, one 1.5 s later stored again"

# ---- consume ----
main ESIGNHOOK_RETRY_SCHEDULE=1s
total=$(wc -l <"$T/ids.all" | tr -d ' ')
nats_msgs
chk_stream_once "$T/ids.all"

chk_reset
t0=$(now_ms)
ctl consume --exec "$T/chandler.sh" --durable work --once
took=$(($(now_ms) - t0))
chk_eq "exit" 0 "$CTL_RC"
chk_eq "runs" "$total" "$(wc -l <"$T/cruns" | tr -d ' ')"
cut -d' ' -f1 "$T/cruns" | sort >"$T/consumed"
sort "$T/ids.all" | cmp -s - "$T/consumed" ||
    chk_fail "the ids consumed are not the ids published: $(sort "$T/ids.all" | comm -3 - "$T/consumed" | head -n 3)"
bad=0
for id in $(cat "$T/ids.all"); do
	cmp -s "$RECS/$id.json" "$OUT/$id.stdin" || bad=$((bad + 1))
done
chk_eq "stdin not the record" 0 "$bad"
ci=$(nats_consumer work)
chk_eq "pending" 0 "$(nats_field pending "$ci")"
chk_eq "ack pending" 0 "$(nats_field ack_pending "$ci")"
chk_done "consume --once: each of the $total messages to the command once ($took ms), stdin the record's bytes, all acked"

chk_reset
id=$(grep -m 1 PACKAGE_COMPLETE "$T/nats.msgs" | cut -d' ' -f2)
e=$OUT/$id.environ
grep -qx "ESIGNHOOK_EVENT_ID=$id" "$e" || chk_fail "ESIGNHOOK_EVENT_ID: $(cat "$e")"
grep -qx "ESIGNHOOK_EVENT=PACKAGE_COMPLETE" "$e" || chk_fail "ESIGNHOOK_EVENT"
grep -qx "ESIGNHOOK_PROVIDER=onespan" "$e" || chk_fail "ESIGNHOOK_PROVIDER"
grep -q "^ESIGNHOOK_TRANSACTION_ID=." "$e" || chk_fail "ESIGNHOOK_TRANSACTION_ID"
# (PWD: the sh that runs the command adds it.)
others=$(grep -v -E '^(ESIGNHOOK_(EVENT_ID|EVENT|PROVIDER|TRANSACTION_ID|ATTEMPT)|PATH|HOME|LANG|PWD)=' "$e")
[ -z "$others" ] || chk_fail "more in the environment: $others"
chk_done "consume: the command's environment is the exec action's (event id, event, provider, transaction id, PATH, HOME, LANG), nothing else"

chk_reset
: >"$T/cruns"
ctl consume --exec "$T/chandler.sh" --durable work --once
chk_eq "exit" 0 "$CTL_RC"
chk_eq "runs" 0 "$(wc -l <"$T/cruns" | tr -d ' ')"
ctl consume --exec "$T/chandler.sh" --durable atonly \
    --subject 'esign.alphatrust.>' --once
chk_eq "--subject exit" 0 "$CTL_RC"
chk_eq "alphatrust runs" "$(grep -c ' esign\.alphatrust\.' "$T/nats.msgs")" \
    "$(wc -l <"$T/cruns" | tr -d ' ')"
chk_done "consume: the durable remembers (nothing again); --subject esign.alphatrust.> takes those only"

# exit 100: terminated, never again; exit 1: redelivered after 1s.
chk_reset
: >"$T/cruns"
grep ' esign\.alphatrust\.' "$T/nats.msgs" | head -n 1 | cut -d' ' -f2 >"$T/term"
grep ' esign\.onespan\.PACKAGE_COMPLETE ' "$T/nats.msgs" | head -n 2 |
    cut -d' ' -f2 >"$T/failonce"
ctl consume --exec "$T/chandler.sh" --durable codes --once
chk_eq "first pass exit" 0 "$CTL_RC"
redone() {
	for rd_id in $(cat "$T/failonce"); do
		[ "$(runs_of "$rd_id")" -ge 2 ] || return 1
	done
}
t_end=$(($(now_ms) + 6000))
while ! redone && [ "$(now_ms)" -lt "$t_end" ]; do
	sleep 0.3
	ctl consume --exec "$T/chandler.sh" --durable codes --once
done
redone || chk_fail "exit 1 not redelivered within 6 s"
for id in $(cat "$T/failonce"); do
	gap=$(grep "^$id " "$T/cruns" | awk 'NR == 1 { a = $2 } NR == 2 { print $2 - a }')
	[ -n "$gap" ] && [ "$gap" -ge 700 ] || chk_fail "$id redelivered after $gap ms"
	chk_eq "runs of the exit-1 event $id" 2 "$(runs_of "$id")"
done
sleep 1.5
ctl consume --exec "$T/chandler.sh" --durable codes --once
chk_eq "runs of the exit-100 event" 1 "$(runs_of "$(cat "$T/term")")"
chk_eq "runs in all" "$((total + 2))" "$(wc -l <"$T/cruns" | tr -d ' ')"
ci=$(nats_consumer codes)
chk_eq "ack pending" 0 "$(nats_field ack_pending "$ci")"
chk_eq "pending" 0 "$(nats_field pending "$ci")"
chk_done "consume: exit 100 terminated (never redelivered), exit 1 nak'd and redelivered after the 1s schedule ($gap ms), the rest once"

# SIGTERM: the message in hand is finished and acked, then exit 0.
chk_reset
: >"$T/cruns"
: >"$T/slow"
rm -f "$T/term" "$T/failonce" "$T/finished"
env -i "PATH=$PATH" "ESIGNHOOK_CONFIG=$CFG" "$CTL" consume \
    --exec "$T/chandler.sh" --durable slow >"$T/term.out" 2>"$T/term.err" &
cp=$!
started() { [ -s "$T/cruns" ]; }
wait_until 200 started || chk_fail "nothing consumed"
kill -TERM "$cp"
wait "$cp"
chk_eq "exit on SIGTERM" 0 "$?"
rm -f "$T/slow"
chk_eq "commands started" 1 "$(wc -l <"$T/cruns" | tr -d ' ')"
chk_eq "and finished" 1 "$(wc -l <"$T/finished" 2>/dev/null | tr -d ' ')"
inhand=$(cut -d' ' -f1 "$T/cruns")
ctl consume --exec "$T/chandler.sh" --durable slow --once
chk_eq "the one in hand not redelivered" 1 "$(runs_of "$inhand")"
chk_eq "the rest taken by the next" "$total" "$(wc -l <"$T/cruns" | tr -d ' ')"
chk_done "consume SIGTERM during a slow command: it finishes, the message acked, exit 0; the next consumer takes the rest"

chk_reset
ctl consume --durable x --once
chk_eq "no --exec" 64 "$CTL_RC"
ctl consume --help
chk_eq "--help" 0 "$CTL_RC"
grep -q '^usage: esignhookctl consume' "$T/ctl.out" || chk_fail "usage: $(cat "$T/ctl.out")"
chk_done "consume usage: --exec required (64); --help"

# ---- a plain subscriber answering on the subject is no PubAck ----
chk_reset
"$NCHK" "$NATS_URL" - respond 'fake.>' >"$T/resp.out" 2>"$T/resp.err" &
rp=$!
E2E_PIDS="$E2E_PIDS $rp"
resp_ready() { grep -q ready "$T/resp.out" 2>/dev/null; }
wait_until 100 resp_ready || chk_fail "responder not ready: $(cat "$T/resp.err")"
use_config fake "ESIGNHOOK_NATS_URL=$NATS_URL" ESIGNHOOK_NATS_STREAM=FAKE \
    "ESIGNHOOK_NATS_SUBJECT=fake.{event}" ESIGNHOOK_RETRY_SCHEDULE=1s \
    ESIGNHOOK_NATS_TIMEOUT=1s "ESIGNHOOK_SPOOL=$T/spool-fake"
n_os 2 fake
ctl drain
chk_eq "exit" 0 "$CTL_RC"
chk_eq "retry/" 2 "$(count_in retry)"
chk_eq "done/" 0 "$(count_in done)"
chk_eq "log lines 'PubAck not from stream FAKE'" 2 \
    "$(grep 'result=retry' "$T/ctl.err" | grep -c 'PubAck not from stream FAKE')"
kill "$rp"
wait "$rp" 2>/dev/null
nats_forget "$rp"
chk_done "a plain subscriber answering {} on the subject, no stream: both events stay in retry/ (PubAck not from stream FAKE), none done"

# ---- nats-setup: a stream there that esignhook cannot rely on ----
chk_reset
for kind in interest workqueue noack; do
	"$NCHK" "$NATS_URL" "BAD$kind" mkstream "bad$kind.>" "$kind" ||
	    chk_fail "mkstream $kind: $(cat "$T/nats-check.err" 2>/dev/null)"
	use_config bad "ESIGNHOOK_NATS_URL=$NATS_URL" "ESIGNHOOK_NATS_STREAM=BAD$kind" \
	    "ESIGNHOOK_NATS_SUBJECT=bad$kind.{event}" ESIGNHOOK_RETRY_SCHEDULE= \
	    "ESIGNHOOK_SPOOL=$T/spool-bad"
	ctl nats-setup
	chk_eq "$kind: nats-setup exit" 1 "$CTL_RC"
	grep -q "^incompatible: " "$T/ctl.out" || chk_fail "$kind: $(cat "$T/ctl.out")"
done
"$NCHK" "$NATS_URL" MAXAGE mkstream 'maxage.>' maxage
use_config bad "ESIGNHOOK_NATS_URL=$NATS_URL" ESIGNHOOK_NATS_STREAM=MAXAGE \
    "ESIGNHOOK_NATS_SUBJECT=maxage.{event}" ESIGNHOOK_RETRY_SCHEDULE= \
    "ESIGNHOOK_SPOOL=$T/spool-bad"
ctl nats-setup
chk_eq "max age 1h, discard old: exit" 0 "$CTL_RC"
grep -q "^warning: limits (max age 3600s" "$T/ctl.out" || chk_fail "no warning: $(cat "$T/ctl.out")"
chk_done "nats-setup on an existing stream: interest, work-queue retention and no_ack incompatible (exit 1, the reason); max age with discard old a warning"

# ---- the duplicate window against the retry schedule ----
chk_reset
"$NCHK" "$NATS_URL" SHORT mkstream 'short.>' plain
use_config short "ESIGNHOOK_NATS_URL=$NATS_URL" ESIGNHOOK_NATS_STREAM=SHORT \
    "ESIGNHOOK_NATS_SUBJECT=short.{event}" ESIGNHOOK_RETRY_SCHEDULE=1m,10m \
    "ESIGNHOOK_SPOOL=$T/spool-short"
ctl nats-setup
chk_eq "2m window, schedule 1m,10m: exit" 1 "$CTL_RC"
grep -q "^not fit: duplicate window 2m, shorter than 15m12s" "$T/ctl.out" ||
    chk_fail "output: $(cat "$T/ctl.out")"
n_os 1 short
ctl drain
chk_eq "drain exit" 0 "$CTL_RC"
chk_eq "start warnings" 1 "$(grep -c "duplicate window is 2m, shorter than the 15m12s" "$T/ctl.err")"
chk_eq "published all the same" 1 "$(count_in done)"
use_config short2 "ESIGNHOOK_NATS_URL=$NATS_URL" ESIGNHOOK_NATS_STREAM=SHORT2 \
    "ESIGNHOOK_NATS_SUBJECT=short2.{event}" ESIGNHOOK_RETRY_SCHEDULE=1m,10m \
    "ESIGNHOOK_SPOOL=$T/spool-short2"
ctl nats-setup
chk_eq "nats-setup SHORT2" 0 "$CTL_RC"
chk_eq "its window: 2m + 11m * 1.2" 912000 "$(nats_field dup_ms "$(nats_info "$NATS_URL" SHORT2)")"
chk_done "duplicate window: a 2m stream is not fit for schedule 1m,10m (exit 1; drain warns once at start); nats-setup makes 15m12s (2m + the waits at their longest)"

# ---- a server that hangs ----
# Stopped (SIGSTOP) while the drainer starts, libnats gives the
# connection up as closed: drain --follow must make a new one once the
# server answers again.  Then stopped while connected (libnats still
# says CONNECTED): the first PubAck times out, the next events of the
# pass fail at once, so 5 events cost about one timeout (the bound
# below is generous: this checks the behaviour, not a speed).
chk_reset
nats_single hang
eval "hang_pid=\$NATS_PID_hang"
use_config hang "ESIGNHOOK_NATS_URL=$NATS_URL" ESIGNHOOK_NATS_STREAM=HANG \
    "ESIGNHOOK_NATS_SUBJECT=hang.{event}.{transaction_id}" \
    ESIGNHOOK_RETRY_SCHEDULE=1s,1s,1s,1s,1s,1s,1s,1s ESIGNHOOK_NATS_TIMEOUT=1s \
    "ESIGNHOOK_SPOOL=$T/spool-hang"
ctl nats-setup
chk_eq "nats-setup HANG" 0 "$CTL_RC"
n_os 1 hang
kill -STOP "$hang_pid"
env -i "PATH=$PATH" "ESIGNHOOK_CONFIG=$CFG" "$CTL" drain --follow \
    >"$T/hang.out" 2>"$T/hang.err" &
hp=$!
E2E_PIDS="$E2E_PIDS $hp"
in_retry() { [ "$(count_in retry)" -ge "$1" ]; }
wait_until 200 in_retry 1 || chk_fail "not in retry/ with the server stopped"
kill -CONT "$hang_pid"
done_n() { [ "$(count_in done)" -ge "$1" ]; }
wait_until 200 done_n 1 || chk_fail "the waiting event not published once the server went on: $(tail -n 2 "$T/hang.err")"
n_os 1 hangnew
wait_until 200 done_n 2 || chk_fail "a new event not published"
kill -TERM "$hp"
wait "$hp" 2>/dev/null
nats_forget "$hp"
chk_done "drain --follow started with the server stopped (connection closed by libnats): once it goes on, the waiting event and a new one are published"

chk_reset
mkdir -p "$T/spool-hang5"
use_config hang5 "ESIGNHOOK_NATS_URL=$NATS_URL" "ESIGNHOOK_SPOOL=$T/spool-hang5"
n_os 5 hang5
ids_in new >"$T/ids.hang5"
use_config hang "ESIGNHOOK_NATS_URL=$NATS_URL" ESIGNHOOK_NATS_STREAM=HANG \
    "ESIGNHOOK_NATS_SUBJECT=hang.{event}.{transaction_id}" \
    ESIGNHOOK_RETRY_SCHEDULE=1s,1s,1s,1s,1s,1s,1s,1s ESIGNHOOK_NATS_TIMEOUT=1s \
    "ESIGNHOOK_SPOOL=$T/spool-hang"
# A new follower, connected: it has published one event.
env -i "PATH=$PATH" "ESIGNHOOK_CONFIG=$CFG" "$CTL" drain --follow \
    >"$T/hang.out" 2>"$T/hang.err" &
hp=$!
E2E_PIDS="$E2E_PIDS $hp"
n_os 1 hangup
wait_until 200 done_n 3 || chk_fail "the new follower does not publish"
kill -STOP "$hang_pid"
t0=$(now_ms)
mv "$T/spool-hang5/new"/*.json "$SPOOL/new/"
attempt1() { [ "$(grep -c 'attempt=1 .*error=' "$T/hang.err")" -ge 5 ]; }
wait_until 200 attempt1 || chk_fail "5 first attempts not over: $(grep -c 'attempt=1' "$T/hang.err")"
took=$(($(now_ms) - t0))
[ "$took" -lt 3000 ] || chk_fail "5 events with a hung server took $took ms (timeout 1 s)"
kill -CONT "$hang_pid"
wait_until 300 done_n 8 || chk_fail "not all published after the server went on: done $(count_in done), retry $(count_in retry)"
kill -TERM "$hp"
wait "$hp" 2>/dev/null
nats_forget "$hp"
ids_in done >"$T/ids.hang"
nats_msgs "$NATS_URL" HANG
chk_stream_once "$T/ids.hang"
nats_stop hang
NATS_URL=$S1_URL
chk_done "server hung while connected: 5 events to retry/ in $took ms (one 1 s timeout, then at once), all 8 published once it goes on, each once in the stream"

# ---- consume: a durable's settings changed by a later start ----
chk_reset
main ESIGNHOOK_RETRY_SCHEDULE=1s ESIGNHOOK_EXEC_TIMEOUT=7s
ctl consume --exec "$T/chandler.sh" --durable work --once
chk_eq "exit" 0 "$CTL_RC"
grep 'level=warn' "$T/ctl.err" | grep -q 'durable work had other settings.*AckWait [0-9hms]*, now 12s' ||
    chk_fail "no warning: $(cat "$T/ctl.err")"
ctl consume --exec "$T/chandler.sh" --durable work --once
grep -q 'had other settings' "$T/ctl.err" && chk_fail "warned again with the same settings"
chk_done "consume: a start with another ESIGNHOOK_EXEC_TIMEOUT warns that the shared durable's AckWait changed (and updates it); the next start, the same, says nothing"

# ---- secrets: a token server, a user/password server ----
chk_reset
nats_single tok "authorization { token: \"$NATS_TOKEN\" }"
TOK_URL=$NATS_URL
use_config tok "ESIGNHOOK_NATS_URL=$TOK_URL" ESIGNHOOK_RETRY_SCHEDULE=1s \
    ESIGNHOOK_NATS_TIMEOUT=1s "ESIGNHOOK_SPOOL=$T/spool-tok"
ctl nats-setup
[ "$CTL_RC" -ne 0 ] || chk_fail "no token: nats-setup succeeded"
use_config tok "ESIGNHOOK_NATS_URL=$TOK_URL" ESIGNHOOK_RETRY_SCHEDULE=1s \
    ESIGNHOOK_NATS_TIMEOUT=1s "ESIGNHOOK_SPOOL=$T/spool-tok" \
    ESIGNHOOK_NATS_TOKEN=wrong-$NATS_TOKEN
n_os 1 wrongtok
ctl drain
chk_eq "wrong token: retry/" 1 "$(count_in retry)"
use_config tok "ESIGNHOOK_NATS_URL=$TOK_URL" ESIGNHOOK_RETRY_SCHEDULE=1s \
    ESIGNHOOK_NATS_TIMEOUT=1s "ESIGNHOOK_SPOOL=$T/spool-tok" \
    "ESIGNHOOK_NATS_TOKEN=$NATS_TOKEN"
ctl nats-setup
chk_eq "token: nats-setup" 0 "$CTL_RC"
n_os 2 tok
sleep 1.3
drain_until_empty || chk_fail "token: left over"
chk_eq "token: done/" 3 "$(count_in done)"
chk_eq "token: in the stream" 3 "$(nats_field msgs "$(nats_info "nats://$NATS_TOKEN@127.0.0.1:$(nats_port_of tok)")")"
rm -f "$T/cruns"
use_config tokenv "ESIGNHOOK_NATS_URL=$TOK_URL" "ESIGNHOOK_SPOOL=$T/spool-tok"
CTL_ENV="ESIGNHOOK_NATS_TOKEN=$NATS_TOKEN" ctl consume --exec "$T/chandler.sh" \
    --durable tok --once
chk_eq "token (from the environment): consume exit" 0 "$CTL_RC"
chk_eq "token: consumed" 3 "$(wc -l <"$T/cruns" | tr -d ' ')"
chk_done "token server: without it nats-setup fails, a wrong one leaves the event in retry/, with it published; consumed with the token in the environment"

chk_reset
nats_single up "authorization { user: eh, password: \"$NATS_PASS\" }"
UP_URL=$NATS_URL
use_config up "ESIGNHOOK_NATS_URL=$UP_URL" ESIGNHOOK_NATS_USER=eh \
    "ESIGNHOOK_NATS_PASSWORD=$NATS_PASS" "ESIGNHOOK_SPOOL=$T/spool-up"
ctl nats-setup
chk_eq "user/password: nats-setup" 0 "$CTL_RC"
n_os 2 up
ctl drain
chk_eq "user/password: done/" 2 "$(count_in done)"
chk_eq "user/password: in the stream" 2 "$(nats_field msgs "$(nats_info "nats://eh:$NATS_PASS@127.0.0.1:$(nats_port_of up)")")"
rm -f "$T/cruns"
ctl consume --exec "$T/chandler.sh" --durable up --once
chk_eq "user/password: consumed" 2 "$(wc -l <"$T/cruns" | tr -d ' ')"
chk_done "user/password server: published and consumed"

# Credentials in ESIGNHOOK_NATS_URL, the password wrong, then right:
# neither in any output.
chk_reset
use_config upurl "ESIGNHOOK_NATS_URL=nats://eh:$NATS_URLPASS@127.0.0.1:$(nats_port_of up)" \
    ESIGNHOOK_RETRY_SCHEDULE=1s ESIGNHOOK_NATS_TIMEOUT=1s "ESIGNHOOK_SPOOL=$T/spool-upurl"
ctl nats-setup
[ "$CTL_RC" -ne 0 ] || chk_fail "a wrong password in the URL: nats-setup succeeded"
n_os 1 upurl
ctl drain
chk_eq "wrong password in the URL: retry/" 1 "$(count_in retry)"
use_config upurl "ESIGNHOOK_NATS_URL=nats://eh:$NATS_PASS@127.0.0.1:$(nats_port_of up)" \
    ESIGNHOOK_RETRY_SCHEDULE=1s ESIGNHOOK_NATS_TIMEOUT=1s "ESIGNHOOK_SPOOL=$T/spool-upurl"
sleep 1.3
drain_until_empty || chk_fail "right password in the URL: left over"
chk_eq "right password in the URL: done/" 1 "$(count_in done)"
chk_done "user:password in ESIGNHOOK_NATS_URL: a wrong one leaves the event in retry/, the right one publishes it"

# ---- TLS: a server with a certificate from a CA made here ----
chk_reset
mkdir -p "$T/tls"
(
	cd "$T/tls" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout ca.key -out ca.pem -days 1 \
	    -subj /CN=esignhook-test-ca &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 &&
	printf 'subjectAltName=IP:127.0.0.1\n' >srv.ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -out srv.pem -days 1 -extfile srv.ext
) >"$T/logs/openssl.log" 2>&1 || chk_fail "openssl: $(tail -n 3 "$T/logs/openssl.log")"
nats_single tls "tls { cert_file: \"$T/tls/srv.pem\", key_file: \"$T/tls/srv.key\" }"
TLS_URL=$NATS_URL
use_config tls "ESIGNHOOK_NATS_URL=$TLS_URL" ESIGNHOOK_RETRY_SCHEDULE=1s \
    ESIGNHOOK_NATS_TIMEOUT=1s "ESIGNHOOK_SPOOL=$T/spool-tls"
n_os 1 notls
ctl drain
chk_eq "without ESIGNHOOK_NATS_CA: retry/" 1 "$(count_in retry)"
use_config tls "ESIGNHOOK_NATS_URL=$TLS_URL" ESIGNHOOK_RETRY_SCHEDULE=1s \
    ESIGNHOOK_NATS_TIMEOUT=1s "ESIGNHOOK_SPOOL=$T/spool-tls" \
    "ESIGNHOOK_NATS_CA=$T/tls/ca.pem"
ctl nats-setup
chk_eq "TLS: nats-setup" 0 "$CTL_RC"
sleep 1.3
drain_until_empty || chk_fail "TLS: left over: $(tail -n 2 "$T/ctl.err")"
chk_eq "TLS: done/" 1 "$(count_in done)"
grep -q 'result=done' "$T/ctl.err" || chk_fail "TLS: log: $(cat "$T/ctl.err")"
nats_stop tls
chk_done "TLS (a CA and a server certificate made by openssl, tls { } on the server): without ESIGNHOOK_NATS_CA the event waits in retry/; with it nats-setup creates the stream and the event is published"

chk_reset
si=$(secrets_in "$T/logs/ctl.log" "$T"/spool* "$OUT" "$T"/*.out "$T"/*.err)
[ -z "$si" ] || chk_fail "a secret in: $si"
grep -l -r -e NATS_TOKEN -e NATS_PASSWORD "$OUT" >/dev/null 2>&1 &&
    chk_fail "a NATS credential key in a command's environment"
[ -s "$T/logs/ctl.log" ] || chk_fail "empty log"
chk_done "no NATS token or password (nor any other secret) in the tool's output, the spools, the state files or a command's environment"

e2e_done
