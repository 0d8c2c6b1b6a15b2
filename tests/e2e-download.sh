#!/bin/sh
# e2e-download.sh: the download action and callback registration end to
# end.  Events are spooled by the real receiver (cgi/esignhook as a CGI),
# then `esignhookctl drain` fetches each package's documents from
# tests/onespan-api.py, a stand-in for OneSpan's REST API over HTTPS
# (its certificate from a CA made here; ESIGNHOOK_CA_FILE names the CA).
# The stand-in checks every request and logs it; asserted here: what it
# saw (paths, headers, credentials, token use), the files (byte for byte
# what it served, under the encoded name, nothing else anywhere in the
# test tree), where each event went (done/, retry/, failed/) and why,
# and that no secret (API key, client secret, token, callback key) is in
# any output, log, state file or file name.  Then `esignhookctl
# register`: the exact request, the key masked in what it prints.
# Run: sh tests/e2e-download.sh (or SUITES=e2e-download sh tests/run.sh).

E2E_MODE=cgi
. "$(dirname "$0")/e2e-lib.sh"
e2e_setup

[ -x "$CTL" ] || { echo "e2e-download: $CTL not built (make cgi/esignhookctl)"; exit 2; }
STANDIN=$E2E_ROOT/tests/onespan-api.py

# Distinctive secrets, so that a grep finds any copy of them.
API_KEY=osapikey-e2e-Zq81c4e7b0a5f3Lm
CLIENT_ID=osclient-e2e-4d2a
CLIENT_SECRET=osclientsecret-e2e-Kp93xV7q
# The stand-in writes the tokens it issues here; $T/api and $T/cfg are
# the only places a secret may be (the configurations).
mkdir -p "$T/api"
TOKENS=$T/api/tokens
: >"$TOKENS"
ALOG=$T/logs/api.log
: >"$ALOG"

LONG=$(repeat 255 p)
COMPLETE_ID=5n4obeO8jYoPp126Cm-Y3fxdfbo=

# ---- the stand-in's log ----

cat >"$T/alog.py" <<'EOF'
# alog.py LOG FROM CMD ...: questions about onespan-api.py's log, lines
# after the first FROM only.
#   count ROUTE [STATUS]    requests on ROUTE (zip, evidence, token,
#                           callback-post, callback-get), with STATUS
#   problems                every check the stand-in failed, one a line
#   for ID                  requests for package ID: "route status auth
#                           token_n" a line
#   sha ID ROUTE            sha256 of the last 200 served for ID on ROUTE
#   raw ID                  the raw (encoded) path segment used for ID
#   ids                     the package ids requested, one a line
#   seq                     "route status token_n" for every request
#   field ROUTE NAME        NAME of the last request on ROUTE (JSON)
import json, sys

log, start, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3]
a = sys.argv[4:]
lines = [json.loads(l) for l in open(log, encoding="utf-8") if l.strip()]
lines = lines[start:]
reqs = [l for l in lines if l.get("event") == "request"]
if cmd == "count":
    print(len([r for r in reqs if r.get("route") == a[0] and
               (len(a) < 2 or str(r.get("status")) == a[1])]))
elif cmd == "problems":
    for r in reqs:
        for p in r["problems"]:
            print("%s %s: %s" % (r["method"], r["path"][:80], p))
    for l in lines:
        if l.get("event") == "tls_error":
            print("TLS: %s" % l.get("error"))
elif cmd == "for":
    for r in reqs:
        if r.get("package_id") == a[0]:
            print(r["route"], r.get("status"), r["auth"], r.get("token_n"))
elif cmd == "sha":
    s = [r.get("sha256") for r in reqs if r.get("package_id") == a[0] and
         r.get("route") == a[1] and r.get("status") == 200]
    print(s[-1] if s and s[-1] else "")
elif cmd == "raw":
    s = [r["raw_id"] for r in reqs if r.get("package_id") == a[0]]
    print(s[-1] if s else "")
elif cmd == "ids":
    for r in reqs:
        if "package_id" in r:
            print(r["package_id"])
elif cmd == "seq":
    for r in reqs:
        print(r["route"], r.get("status"), r.get("token_n"))
elif cmd == "field":
    s = [r for r in reqs if r.get("route") == a[0]]
    print(json.dumps(s[-1].get(a[1]), sort_keys=True) if s else "")
EOF

cat >"$T/zipok.py" <<'EOF'
# zipok.py FILE: "ok" when FILE is a whole zip archive whose CRCs check.
import sys, zipfile
try:
    with zipfile.ZipFile(sys.argv[1]) as z:
        bad = z.testzip()
    print("ok" if bad is None else "bad member %s" % bad)
except Exception as e:
    print("not a zip: %s" % e)
EOF

alog() {
	al_from=$1
	shift
	"$PY" "$T/alog.py" "$ALOG" "$al_from" "$@"
}

alines() {
	wc -l <"$ALOG" | tr -d ' '
}

sha() {
	sha256sum "$1" 2>/dev/null | cut -d' ' -f1
}

fmode() {
	stat -c %a "$1" 2>/dev/null
}

# ---- TLS: a CA and the stand-in's certificate ----

PKI=$T/pki
mkdir -p "$PKI"
make_ca "$PKI" ca
make_server_cert "$PKI" ca
[ -s "$PKI/srv.pem" ] || { echo "e2e-download: openssl made no certificate: $(tail -n 5 "$T/logs/openssl.log")"; exit 2; }

# ---- the stand-in and its configuration ----

# api_config EXPIRES_IN [CLIENT_SECRET]: the stand-in's accounts and
# packages (it reads the file on every request).
api_config() {
	{
		printf '{"api_key":"%s","client_id":"%s","client_secret":"%s",' \
		    "$API_KEY" "$CLIENT_ID" "${2:-$CLIENT_SECRET}"
		printf '"expires_in":%s,"packages":{' "$1"
		printf '"%s":{"size":300000},' "$COMPLETE_ID"
		for p in ab/cd= ../../x a/b .hidden %2F .. "$LONG" ev-1 \
		    oauth-1 oauth-2 revoke-2 revoke-3 short-1 short-2 alt-1 \
		    again-1 nocred-1 badsecret-1 reg-1; do
			printf '"%s":{},' "$p"
		done
		printf '"revoke-1":{"revoke_after":true},'
		printf '"noev-1":{"evidence":"notpdf"},'
		printf '"notzip-1":{"mode":"notzip"},'
		printf '"cut-1":{"mode":"cut","size":200000},'
		printf '"busy-1":{"mode":"status","status":503,"retry_after":"1"},'
		printf '"forbidden-1":{"mode":"status","status":403},'
		printf '"x401-1":{"mode":"401once"},'
		printf '"big-1":{"size":8388608},'
		printf '"huge-1":{"mode":"stream","size":1073741824},'
		printf '"lowfree-1":{}'
		printf '}}\n'
	} >"$T/api/config.json.tmp"
	mv "$T/api/config.json.tmp" "$T/api/config.json"
}
api_config 3600

"$PY" "$STANDIN" --port-file "$T/api/port" --log "$ALOG" \
    --config "$T/api/config.json" --tokens "$TOKENS" \
    --cert "$PKI/srv.pem" --key "$PKI/srv.key" 2>"$T/logs/api.err" &
E2E_PIDS="$E2E_PIDS $!"
wait_until 100 test -s "$T/api/port"
APORT=$(cat "$T/api/port" 2>/dev/null)
[ -n "$APORT" ] || { echo "e2e-download: the stand-in did not start: $(cat "$T/logs/api.err")"; exit 2; }
API=https://127.0.0.1:$APORT/api

# ---- scenarios: a spool, a download directory, a configuration ----

# scenario NAME [KEY=value | -KEY ...]: $T/NAME/spool and $T/NAME/dl
# (not created: the action makes it), esignhookctl's configuration
# $CFG with an API key; sets SP, DL, CFG.
scenario() {
	sc_name=$1
	shift
	SP=$T/$sc_name/spool
	DL=$T/$sc_name/dl
	CFG=$T/cfg/$(printf '%s' "$sc_name" | tr / -).conf
	mkdir -p "$T/$sc_name"
	e2e_merge "ESIGNHOOK_SPOOL=$SP" ESIGNHOOK_SPOOL_MIN_FREE=0 \
	    "ESIGNHOOK_ONESPAN_KEYS=$OS_KEY" \
	    "ESIGNHOOK_DOWNLOAD_DIR=$DL" "ESIGNHOOK_ONESPAN_API=$API" \
	    "ESIGNHOOK_ONESPAN_API_KEY=$API_KEY" "ESIGNHOOK_CA_FILE=$PKI/ca.pem" \
	    ESIGNHOOK_RETRY_SCHEDULE=1s,1s "$@" >"$CFG"
}

# spool PACKAGEID [EVENT [EXTRA]]: one OneSpan callback through the real
# receiver into $SP; ID gets its event id.
SPOOL_N=0
spool() {
	SPOOL_N=$((SPOOL_N + 1))
	sp_in=$T/in/ev-$SPOOL_N.json
	os_json "${2:-PACKAGE_COMPLETE}" "$1" "${3:-}" >"$sp_in"
	ls "$SP/new" 2>/dev/null | sort >"$T/snap"
	receive_onespan "$SP" "$sp_in" "recv-$SPOOL_N"
	ID=$(ls "$SP/new" 2>/dev/null | sort | comm -13 "$T/snap" - |
	    sed -n 's/\.json$//p' | head -n 1)
	[ -n "$ID" ] || chk_fail "nothing spooled for '$1': $(head -c 200 "$T/logs/recv-$SPOOL_N.out")"
	# Ids are per microsecond: keep the order of arrival the order of
	# the ids.
	sleep 0.01
}

# drain: one `esignhookctl drain` over $CFG; DRAIN_RC, DRAIN_OUT (both
# streams), FROM (the stand-in's log lines before it).
DRAIN_N=0
drain() {
	DRAIN_N=$((DRAIN_N + 1))
	FROM=$(alines)
	env -i PATH=/usr/bin:/bin "ESIGNHOOK_CONFIG=$CFG" "$CTL" drain \
	    >"$T/logs/drain-$DRAIN_N.out" 2>"$T/logs/drain-$DRAIN_N.err"
	DRAIN_RC=$?
	DRAIN_OUT=$(cat "$T/logs/drain-$DRAIN_N.out" "$T/logs/drain-$DRAIN_N.err")
	case $DRAIN_RC in
	0|1) ;;
	*) chk_fail "drain exited $DRAIN_RC: $(printf '%s' "$DRAIN_OUT" | head -c 300)" ;;
	esac
}

# chk_in ID FOLDER [ERROR]: the event is in FOLDER, and its state's
# last_error contains ERROR.
chk_in() {
	ci_f=$(folder_of "$SP" "$1")
	chk_eq "folder of $1" "$2" "$ci_f"
	if [ -n "${3:-}" ]; then
		ci_e=$(state_get "$SP/$ci_f/$1.state" last_error)
		case $ci_e in
		*"$3"*) ;;
		*) chk_fail "last_error '$ci_e' lacks '$3'" ;;
		esac
	fi
}

chk_no_problems() {
	cnp=$(alog "$FROM" problems)
	[ -z "$cnp" ] || chk_fail "the stand-in found: $(echo $cnp | head -c 300)"
}

# chk_file ID NAME: $DL/NAME is what the stand-in served for ID (zip).
chk_file() {
	cf_want=$(alog 0 sha "$1" zip)
	[ -n "$cf_want" ] || chk_fail "the stand-in served no zip for '$1'"
	chk_eq "sha256 of $2" "$cf_want" "$(sha "$DL/$2")"
	chk_eq "mode of $2" 600 "$(fmode "$DL/$2")"
	[ "$("$PY" "$T/zipok.py" "$DL/$2")" = ok ] ||
	    chk_fail "$2: $("$PY" "$T/zipok.py" "$DL/$2")"
}

# The download directory holds exactly the names given (dot-files too).
chk_dl_is() {
	cdi_want=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
	cdi_got=$(ls -A "$DL" 2>/dev/null | sort)
	[ "$cdi_want" = "$cdi_got" ] ||
	    chk_fail "download dir holds '$(echo $cdi_got)', want '$(echo $cdi_want)'"
}

tree() {
	find "$T" -path "$T/logs" -prune -o -print | sort
}

# ---- a complete package, byte for byte ----

chk_reset
scenario complete
spool "$COMPLETE_ID"
ID_C=$ID
spool "$COMPLETE_ID" PACKAGE_CREATE
ID_CREATE=$ID
drain
chk_in "$ID_C" done
chk_in "$ID_CREATE" done
chk_eq "drain exit" 0 "$DRAIN_RC"
chk_no_problems
chk_eq "zip requests" 1 "$(alog "$FROM" count zip 200)"
chk_eq "raw packageId in the path" "5n4obeO8jYoPp126Cm-Y3fxdfbo%3D" \
    "$(alog "$FROM" raw "$COMPLETE_ID")"
chk_eq "authorization" "zip 200 basic None" "$(alog "$FROM" for "$COMPLETE_ID")"
chk_eq "Accept" '"*/*; esl-api-version=11.68.0"' "$(alog "$FROM" field zip accept)"
chk_file "$COMPLETE_ID" "$COMPLETE_ID.zip"
chk_dl_is "$COMPLETE_ID.zip"
chk_eq "mode of the download dir" 700 "$(fmode "$DL")"
chk_done "download: PACKAGE_COMPLETE: documents/zip fetched once (Basic API key, Accept esl-api-version=11.68.0, id %-encoded), file = the served bytes, 0600 in a 0700 dir; PACKAGE_CREATE not downloaded"

# Again (a second callback for the package): replaced whole.
chk_reset
ino1=$(stat -c %i "$DL/$COMPLETE_ID.zip" 2>/dev/null)
spool "$COMPLETE_ID" PACKAGE_COMPLETE ',"message":"again"'
ID_C2=$ID
drain
chk_in "$ID_C2" done
chk_no_problems
chk_file "$COMPLETE_ID" "$COMPLETE_ID.zip"
chk_dl_is "$COMPLETE_ID.zip"
[ "$ino1" != "$(stat -c %i "$DL/$COMPLETE_ID.zip")" ] ||
    chk_fail "the file was rewritten in place, not replaced"
chk_done "download: a second download replaces the file by rename (new inode), no temporary file left"

# ---- packageIds that are not file names ----

chk_reset
# ../../x from $T/hostile/a/b/dl would be $T/hostile/a/x.
mkdir -p "$T/hostile/a/b"
scenario hostile/a/b
tree >"$T/logs/tree.before"
for p in ab/cd= ../../x a/b .hidden %2F; do
	spool "$p"
done
spool "$LONG"
ID_LONG=$ID
spool ..
ID_DOTDOT=$ID
drain
chk_no_problems
for pair in "ab/cd=|ab%2Fcd=.zip|ab%2Fcd%3D" \
    "../../x|%2E.%2F..%2Fx.zip|..%2F..%2Fx" "a/b|a%2Fb.zip|a%2Fb" \
    ".hidden|%2Ehidden.zip|.hidden" "%2F|%252F.zip|%252F"; do
	p=${pair%%|*}
	rest=${pair#*|}
	f=${rest%%|*}
	raw=${rest#*|}
	chk_file "$p" "$f"
	chk_eq "raw path segment for $p" "$raw" "$(alog "$FROM" raw "$p")"
done
chk_dl_is ab%2Fcd=.zip %2E.%2F..%2Fx.zip a%2Fb.zip %2Ehidden.zip %252F.zip
chk_in "$ID_LONG" failed "download: packageId too long"
chk_in "$ID_DOTDOT" failed "not a package"
alog "$FROM" ids | grep -qx "$LONG" && chk_fail "the 255-character id was requested"
alog "$FROM" ids | grep -qx '\.\.' && chk_fail "'..' was requested"
tree >"$T/logs/tree.after"
# Whatever appeared or went: only in the spool and the download dir.
stray=$(comm -3 "$T/logs/tree.before" "$T/logs/tree.after" | sed 's/^\t//' |
    grep -v -e "^$SP/" -e "^$SP\$" -e "^$DL/" -e "^$DL\$" -e "^$T/in/")
[ -z "$stray" ] || chk_fail "written outside the download dir: $(echo $stray | head -c 300)"
ls -d "$T"/hostile/a/x* "$T"/hostile/x* >/dev/null 2>&1 && chk_fail "../../x escaped"
chk_done "download: packageIds ab/cd= ../../x a/b .hidden %2F: each under its encoded name, %-encoded in the path; 255 chars and '..': failed/, never requested; nothing written outside the download dir"

# ---- evidence summary ----

chk_reset
scenario evidence ESIGNHOOK_DOWNLOAD_EVIDENCE=on
spool ev-1
ID_EV=$ID
drain
chk_in "$ID_EV" done
chk_no_problems
chk_file ev-1 ev-1.zip
chk_eq "evidence sha256" "$(alog "$FROM" sha ev-1 evidence)" "$(sha "$DL/ev-1.evidence.pdf")"
chk_eq "mode" 600 "$(fmode "$DL/ev-1.evidence.pdf")"
chk_eq "requests" "zip 200 basic None
evidence 200 basic None" "$(alog "$FROM" for ev-1)"
chk_dl_is ev-1.zip ev-1.evidence.pdf
chk_done "download: ESIGNHOOK_DOWNLOAD_EVIDENCE=on: evidence/summary to <name>.evidence.pdf, byte for byte"

chk_reset
spool noev-1
ID_NOEV=$ID
drain
chk_in "$ID_NOEV" retry "not a PDF"
chk_dl_is ev-1.zip ev-1.evidence.pdf noev-1.zip
chk_done "download: an evidence summary that is not a PDF: retry/, no evidence file, no temporary file"

# ---- failures ----

chk_reset
scenario fail
spool notzip-1
ID_NZ=$ID
spool cut-1
ID_CUT=$ID
spool busy-1
ID_BUSY=$ID
spool gone-1
ID_GONE=$ID
spool forbidden-1
ID_FORB=$ID
spool x401-1
ID_401=$ID
drain
chk_no_problems
chk_in "$ID_NZ" retry "download: documents/zip: not a zip archive"
chk_in "$ID_CUT" retry "download: documents/zip:"
chk_in "$ID_BUSY" retry "HTTP 503"
chk_in "$ID_GONE" failed "HTTP 404"
chk_in "$ID_FORB" failed "HTTP 403"
chk_in "$ID_401" failed "HTTP 401"
chk_eq "cut transfer requested once" "zip 200 basic None" \
    "$(alog "$FROM" for cut-1)"
chk_eq "requests for x401-1 (an API key is not retried)" "zip 401 basic None" \
    "$(alog "$FROM" for x401-1)"
chk_dl_is
chk_eq "drain exit (an event failed)" 1 "$DRAIN_RC"
chk_done "download: not a zip, cut transfer, 503: retry/; 404, 403, 401: failed/; the download dir left empty (no file, no temporary file)"

chk_reset
scenario nocred -ESIGNHOOK_ONESPAN_API_KEY
spool nocred-1
ID_NC=$ID
FROM=$(alines)
env -i PATH=/usr/bin:/bin "ESIGNHOOK_CONFIG=$CFG" "$CTL" drain \
    >"$T/logs/nocred.out" 2>"$T/logs/nocred.err"
chk_eq "drain exit (a configuration error)" 78 "$?"
grep -q 'ESIGNHOOK_DOWNLOAD_DIR is set but OneSpan.s API has no credentials' \
    "$T/logs/nocred.err" || chk_fail "message: $(cat "$T/logs/nocred.err")"
chk_eq "still waiting in new/" 1 "$(find "$SP/new" -name "$ID_NC.json" | wc -l | tr -d ' ')"
chk_eq "requests" 0 "$(alog "$FROM" count zip)"
chk_done "download without credentials: drain refuses to start (78, a clear message), the event waits, no request"

chk_reset
scenario alpha ESIGNHOOK_DOWNLOAD_EVENTS=* "ESIGNHOOK_ALPHATRUST_TOKENS=$AT_TOKEN"
at_in=$DATA/alphatrust/transaction-complete.form
env -i PATH=/usr/bin:/bin GATEWAY_INTERFACE=CGI/1.1 \
    SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=$REMOTE \
    "ESIGNHOOK_SPOOL=$SP" "ESIGNHOOK_ALPHATRUST_TOKENS=$AT_TOKEN" \
    ESIGNHOOK_SPOOL_MIN_FREE=0 ESIGNHOOK_ALLOW_ROOT=1 \
    REQUEST_METHOD=POST CONTENT_TYPE=application/x-www-form-urlencoded \
    "CONTENT_LENGTH=$(fsize "$at_in")" \
    "REQUEST_URI=/esignhook/alphatrust/$AT_TOKEN" \
    "$BIN" <"$at_in" >"$T/logs/recv-at.out" 2>"$T/logs/recv-at.err"
ID_AT=$(ls "$SP/new" 2>/dev/null | sed -n 's/\.json$//p' | head -n 1)
[ -n "$ID_AT" ] || chk_fail "AlphaTrust event not spooled: $(head -c 200 "$T/logs/recv-at.out")"
drain
chk_in "$ID_AT" failed "download: not a OneSpan event"
chk_done "download: an AlphaTrust event (ESIGNHOOK_DOWNLOAD_EVENTS=*): failed/, says it is not OneSpan's"

# ---- ESIGNHOOK_SPOOL_MIN_FREE ----

chk_reset
scenario nofree ESIGNHOOK_SPOOL_MIN_FREE=1000000G
spool lowfree-1
ID_LF=$ID
drain
if [ "$(folder_of "$SP" "$ID_LF")" = new ]; then
	chk_fail "the drainer left the event in new/ (refused to run under the limit): $(printf '%s' "$DRAIN_OUT" | head -c 200)"
else
	chk_in "$ID_LF" retry "ESIGNHOOK_SPOOL_MIN_FREE"
	chk_eq "requests" 0 "$(alog "$FROM" count zip)"
fi
chk_dl_is
chk_done "download: free space already under ESIGNHOOK_SPOOL_MIN_FREE: retry/, nothing requested or written"

# leave_free BYTES: ESIGNHOOK_SPOOL_MIN_FREE in $CFG set to what is free
# on $DL's file system less BYTES, which is then all a download may use.
leave_free() {
	mkdir -p "$DL"
	lf_free=$("$PY" -c 'import os, sys; s = os.statvfs(sys.argv[1]); print(s.f_bavail * s.f_frsize)' "$DL")
	sed -i "s/^ESIGNHOOK_SPOOL_MIN_FREE=.*/ESIGNHOOK_SPOOL_MIN_FREE=$((lf_free - $1))/" "$CFG"
}

# The limit just under what is free: the 8 MiB zip would cross it.
chk_reset
scenario lowfree
leave_free 4194304
spool big-1
ID_BIG=$ID
drain
chk_in "$ID_BIG" retry "ESIGNHOOK_SPOOL_MIN_FREE"
# Requested (the limit held before it), stopped where it would cross.
chk_eq "zip requests" 1 "$(alog "$FROM" count zip 200)"
chk_dl_is
chk_done "download: a zip that would leave less than ESIGNHOOK_SPOOL_MIN_FREE: retry/, the temporary file removed"

# A 1 GiB body with 4 MiB to spare: the transfer stops near 4 MiB, not
# once the whole body is on disk.
chk_reset
scenario budget
leave_free 4194304
spool huge-1
ID_HUGE=$ID
drain
chk_in "$ID_HUGE" retry "ESIGNHOOK_SPOOL_MIN_FREE"
chk_eq "zip requests" 1 "$(alog "$FROM" count zip 200)"
chk_eq "the drainer hung up" true "$(alog "$FROM" field zip aborted)"
sent=$(alog "$FROM" field zip bytes)
[ -n "$sent" ] && [ "$sent" -lt 268435456 ] ||
    chk_fail "the stand-in sent '$sent' bytes of 1 GiB before the drainer hung up"
chk_dl_is
chk_done "download: free space would run under ESIGNHOOK_SPOOL_MIN_FREE mid-transfer: stopped there (not after 1 GiB), retry/, nothing left"

# ---- OAuth 2.0 client credentials ----

OAUTH="ESIGNHOOK_ONESPAN_CLIENT_ID=$CLIENT_ID
ESIGNHOOK_ONESPAN_CLIENT_SECRET=$CLIENT_SECRET"

chk_reset
IFS=$NL
scenario oauth -ESIGNHOOK_ONESPAN_API_KEY $OAUTH
IFS=' 	
'
spool oauth-1
ID_O1=$ID
spool oauth-2
ID_O2=$ID
drain
chk_in "$ID_O1" done
chk_in "$ID_O2" done
chk_no_problems
chk_eq "token requests" 1 "$(alog "$FROM" count token 200)"
t1=$(alog "$FROM" for oauth-1)
t2=$(alog "$FROM" for oauth-2)
case $t1 in "zip 200 bearer "[0-9]*) ;; *) chk_fail "oauth-1: $t1" ;; esac
chk_eq "the same token for both" "${t1##* }" "${t2##* }"
chk_eq "token path" '"/oauth2/token"' "$(alog "$FROM" field token path)"
chk_file oauth-1 oauth-1.zip
chk_file oauth-2 oauth-2.zip
chk_done "download, OAuth: one client-credentials token (POST {origin}/oauth2/token) for two events, sent as Bearer"

chk_reset
spool revoke-1
spool revoke-2
spool revoke-3
drain
chk_no_problems
chk_eq "token requests" 2 "$(alog "$FROM" count token 200)"
seq=$(alog "$FROM" seq | awk '{ print $1, $2 }' | tr '\n' ',')
chk_eq "requests" "token 200,zip 200,zip 401,token 200,zip 200,zip 200," "$seq"
for p in revoke-1 revoke-2 revoke-3; do
	chk_file "$p" "$p.zip"
done
[ -z "$(ls "$SP/retry" "$SP/failed" 2>/dev/null | grep json)" ] ||
    chk_fail "an event did not succeed: $(ls "$SP/retry" "$SP/failed")"
chk_done "download, OAuth: a revoked token gets 401, one new token, the request again; the new token reused"

chk_reset
api_config 300
spool short-1
spool short-2
drain
chk_no_problems
chk_eq "token requests" 2 "$(alog "$FROM" count token 200)"
s1=$(alog "$FROM" for short-1)
s2=$(alog "$FROM" for short-2)
[ "${s1##* }" != "${s2##* }" ] || chk_fail "the same token twice: $s1 / $s2"
chk_file short-1 short-1.zip
chk_file short-2 short-2.zip
api_config 3600
chk_done "download, OAuth: a token with expires_in 300 serves one request, then a new one"

chk_reset
IFS=$NL
scenario oauthalt -ESIGNHOOK_ONESPAN_API_KEY $OAUTH \
    "ESIGNHOOK_ONESPAN_TOKEN_URL=https://localhost:$APORT/alt/token"
IFS=' 	
'
spool alt-1
ID_ALT=$ID
drain
chk_in "$ID_ALT" done
chk_no_problems
chk_eq "token path" '"/alt/token"' "$(alog "$FROM" field token path)"
chk_file alt-1 alt-1.zip
chk_done "download, OAuth: ESIGNHOOK_ONESPAN_TOKEN_URL is used"

chk_reset
IFS=$NL
scenario badsecret -ESIGNHOOK_ONESPAN_API_KEY \
    "ESIGNHOOK_ONESPAN_CLIENT_ID=$CLIENT_ID" \
    "ESIGNHOOK_ONESPAN_CLIENT_SECRET=$CLIENT_SECRET-wrong"
IFS=' 	
'
spool badsecret-1
ID_BS=$ID
drain
chk_in "$ID_BS" failed "HTTP 401"
chk_eq "zip requests" 0 "$(alog "$FROM" count zip)"
chk_eq "token requests refused" 1 "$(alog "$FROM" count token 401)"
chk_done "download, OAuth: a wrong client secret: the token endpoint's 401, failed/, no API request"

# ---- esignhookctl register ----

# reg NAME ARGS...: register with $CFG; REG_RC, REG_OUT (stdout),
# REG_ERR.
reg() {
	rg_name=$1
	shift
	FROM=$(alines)
	env -i PATH=/usr/bin:/bin "ESIGNHOOK_CONFIG=$CFG" "$CTL" register "$@" \
	    >"$T/logs/reg-$rg_name.out" 2>"$T/logs/reg-$rg_name.err"
	REG_RC=$?
	REG_OUT=$(cat "$T/logs/reg-$rg_name.out")
	REG_ERR=$(cat "$T/logs/reg-$rg_name.err")
}

KEY_SHA=$(printf '%s' "$OS_KEY" | sha256sum | cut -d' ' -f1)
KEY_TAIL=$(printf '%s' "$OS_KEY" | tail -c 4)

chk_reset
scenario register
reg post --url https://example.com/esignhook/onespan \
    --events PACKAGE_COMPLETE,DOCUMENT_SIGNED
chk_eq "exit" 0 "$REG_RC"
chk_no_problems
chk_eq "POST /api/callback requests" 1 "$(alog "$FROM" count callback-post 200)"
chk_eq "requests in all" 1 "$(alog "$FROM" seq | wc -l | tr -d ' ')"
chk_eq "method" '"POST"' "$(alog "$FROM" field callback-post method)"
chk_eq "path" '"/api/callback"' "$(alog "$FROM" field callback-post path)"
chk_eq "auth" '"basic"' "$(alog "$FROM" field callback-post auth)"
chk_eq "content type" '"application/json"' "$(alog "$FROM" field callback-post content_type)"
chk_eq "body" "{\"events\": [\"PACKAGE_COMPLETE\", \"DOCUMENT_SIGNED\"], \"key\": \"sha256:$KEY_SHA\", \"url\": \"https://example.com/esignhook/onespan\"}" \
    "$(alog "$FROM" field callback-post body_json)"
case $REG_OUT in
*"\"key\": \"****$KEY_TAIL\""*) ;;
*) chk_fail "output lacks the masked key: $REG_OUT" ;;
esac
case $REG_OUT in
*'"url": "https://example.com/esignhook/onespan"'*) ;;
*) chk_fail "output lacks the URL: $REG_OUT" ;;
esac
case $REG_OUT$REG_ERR in
*"$OS_KEY"*|*"$API_KEY"*) chk_fail "a secret is printed" ;;
esac
chk_done "register --url --events: POST /api/callback, Basic API key, application/json, body {url,key,events} exactly; reply printed with the key masked"

chk_reset
reg show --show
chk_eq "exit" 0 "$REG_RC"
chk_no_problems
chk_eq "GET /api/callback requests" 1 "$(alog "$FROM" count callback-get 200)"
case $REG_OUT in
*"\"key\": \"****$KEY_TAIL\""*'"DOCUMENT_SIGNED"'*|*'"DOCUMENT_SIGNED"'*"\"key\": \"****$KEY_TAIL\""*) ;;
*) chk_fail "output: $REG_OUT" ;;
esac
case $REG_OUT$REG_ERR in
*"$OS_KEY"*) chk_fail "the key is printed" ;;
esac
chk_done "register --show: GET /api/callback, the registration printed with the key masked"

chk_reset
reg unknown --url https://example.com/esignhook/onespan \
    --events PACKAGE_COMPLETE,NO_SUCH_EVENT
chk_eq "exit" 64 "$REG_RC"
chk_eq "requests" 0 "$(alog "$FROM" seq | wc -l | tr -d ' ')"
case $REG_ERR in
*NO_SUCH_EVENT*) ;;
*) chk_fail "stderr does not name the event: $REG_ERR" ;;
esac
chk_done "register --events with an unknown event name: exit 64, no request"

chk_reset
IFS=$NL
scenario regoauth -ESIGNHOOK_ONESPAN_API_KEY $OAUTH
IFS=' 	
'
reg oauth --url https://example.com/esignhook/onespan
chk_eq "exit" 0 "$REG_RC"
chk_no_problems
chk_eq "auth" '"bearer"' "$(alog "$FROM" field callback-post auth)"
n_ev=$(alog "$FROM" field callback-post body_json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))')
chk_eq "events registered by default" 23 "$n_ev"
chk_done "register with OAuth credentials: Bearer token; every known event by default"

# ---- no secret anywhere ----

chk_reset
[ -s "$TOKENS" ] || chk_fail "no token was issued: the OAuth cases did not run"
pat=$T/api/patterns
{
	printf '%s\n' "$API_KEY" "$CLIENT_SECRET" "$OS_KEY"
	cat "$TOKENS"
	printf '%s' "$CLIENT_ID:$CLIENT_SECRET" | base64 | tr -d '\n'
	echo
} >"$pat"
found=$(grep -r -l -F -f "$pat" "$T" 2>/dev/null | grep -v -e "^$T/cfg/" -e "^$T/api/")
[ -z "$found" ] || chk_fail "a secret in: $(echo $found | head -c 300)"
names=$(find "$T" -path "$T/api" -prune -o -print | grep -F -f "$pat")
[ -z "$names" ] || chk_fail "a secret in a file name"
[ -n "$(ls "$T"/logs/drain-*.err)" ] || chk_fail "no drain output to look at"
chk_done "no API key, client secret, token or callback key in any output, log, state file, record or file name"

e2e_done
