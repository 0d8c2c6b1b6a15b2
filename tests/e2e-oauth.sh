#!/bin/sh
# e2e-oauth.sh: OneSpan's OAuth 2.0 callback authentication, end to end,
# through the real cgi/esignhook as a CGI and then as a FastCGI server
# (tests/e2e-lib.sh): the token endpoint .../oauth/token (RFC 6749 4.4)
# with both client authentications (Basic, body) and both body types
# (urlencoded, and multipart as curl -F makes it), a OneSpan callback
# with the token it gave, every refusal (400, 401, 405, 413), expired,
# tampered and rotated-out tokens, and what must never happen: a token
# request spooling anything, the token in a log, a record or a reply
# other than its own.
#
# An expired token cannot be waited for (a TTL is 1 s at least, and 60 s
# of clock skew are forgiven): the receiver that checks it runs with its
# clock ahead instead, through a tiny LD_PRELOAD shim built here (time()
# plus E2E_TIME_SHIFT seconds), so the token is minted and checked by
# the real code.
# Run: sh tests/e2e-oauth.sh (or SUITES=e2e-oauth sh tests/run.sh).

E2E_MODE=cgi
. "$(dirname "$0")/e2e-lib.sh"
e2e_setup

OA_ID=esignhook-e2e-client
OA_SEC=oas3cR7t9q1w5e8r2t4y6u
OA_SEC2=oas2Xk4m6n8b0v1c3x5z7a
E2E_SECRETS="$E2E_SECRETS $OA_SEC $OA_SEC2"
TOKEN_URI=/esignhook/oauth/token
GRANT=grant_type=client_credentials
TOKENS=

# The clock shim: time() answers E2E_TIME_SHIFT seconds ahead.
cat >"$T/timeshift.c" <<'EOF'
#include <stdlib.h>
#include <time.h>
time_t
time(time_t *t)
{
	struct timespec ts;
	const char *s = getenv("E2E_TIME_SHIFT");

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += s != NULL ? strtol(s, NULL, 10) : 0;
	if (t != NULL)
		*t = ts.tv_sec;
	return ts.tv_sec;
}
EOF
SHIM=$T/timeshift.so
if cc -shared -fPIC -O2 -o "$SHIM" "$T/timeshift.c" 2>"$T/logs/shim.err"; then
	ok "oauth: the clock shim builds"
else
	not_ok "oauth: the clock shim builds" "$(cat "$T/logs/shim.err")"
fi
# ASan wants to be the first library; the shim only adds a symbol.
SHIM_ASAN=E2E_SHIM=1
[ "${E2E_SANITIZED:-0}" = 1 ] &&
    SHIM_ASAN=ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1:abort_on_error=1

# oa_config NAME [KEY=value ...]: use_config with the OAuth client.
oa_config() {
	oc_n=$1
	shift
	use_config "$oc_n" "ESIGNHOOK_OAUTH_CLIENT_ID=$OA_ID" \
	    "ESIGNHOOK_OAUTH_CLIENT_SECRETS=$OA_SEC" "$@"
	[ "$E2E_MODE" = cgi ] && LOG=$T/logs/cgi.log
	return 0
}

# shifted_config NAME SECONDS [KEY=value ...]: the same, its clock ahead.
shifted_config() {
	sc_n=$1
	sc_s=$2
	shift 2
	oa_config "$sc_n" "LD_PRELOAD=$SHIM" "$SHIM_ASAN" "E2E_TIME_SHIFT=$sc_s" "$@"
}

# A real multipart/form-data body, as curl -F sends it: curl posts to a
# one-shot listener that keeps the body ($T/in/NAME) and its
# Content-Type ($T/in/NAME.ct).  mp_body NAME curl-args...
mp_body() {
	mb_n=$1
	shift
	"$PY" - "$T/in/$mb_n" >"$T/mp.port" <<'EOF' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
buf = b""
while b"\r\n\r\n" not in buf:
    buf += c.recv(65536)
head, _, body = buf.partition(b"\r\n\r\n")
hdrs = {}
for l in head.split(b"\r\n")[1:]:
    k, _, v = l.partition(b":")
    hdrs[k.strip().lower()] = v.strip()
n = int(hdrs[b"content-length"])
while len(body) < n:
    body += c.recv(65536)
open(sys.argv[1], "wb").write(body)
open(sys.argv[1] + ".ct", "wb").write(hdrs[b"content-type"])
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
c.close()
EOF
	mb_pid=$!
	wait_until 100 test -s "$T/mp.port"
	curl -s -o /dev/null --max-time 10 "$@" \
	    "http://127.0.0.1:$(cat "$T/mp.port")/" 2>>"$T/logs/curl.err"
	wait "$mb_pid"
	rm -f "$T/mp.port"
}

# basic ID SECRET: RFC 6749 2.3.1's header value (both are URL-safe).
basic() {
	printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 | tr -d '\n')"
}

# tok_post FILE CTYPE [VAR=value ...]: FILE POSTed to the token endpoint.
tok_post() {
	REQ_IN=$1
	tp_ct=$2
	shift 2
	spool_snap
	req REQUEST_METHOD=POST "REQUEST_URI=$TOKEN_URI" \
	    "CONTENT_TYPE=$tp_ct" "CONTENT_LENGTH=$(fsize "$REQ_IN")" "$@"
	REQ_IN=
}

# A JSON member of the reply body ("" when none).
jget() {
	"$PY" -c 'import json, sys
try:
    v = json.load(open(sys.argv[1])).get(sys.argv[2])
except (OSError, ValueError, AttributeError):
    v = None
print("" if v is None else v)' "$T/body" "$1"
}

# After a token request: 200, a Bearer token, no cache, nothing spooled,
# auth=client in its log line.  TOKEN gets it (and TOKENS collects it).
chk_token() {
	chk_eq status 200 "$STATUS"
	chk_eq content-type application/json "$CTYPE"
	chk_eq cache-control no-store "$(header Cache-Control)"
	chk_eq pragma no-cache "$(header Pragma)"
	chk_eq token_type Bearer "$(jget token_type)"
	chk_eq expires_in "${1:-3600}" "$(jget expires_in)"
	TOKEN=$(jget access_token)
	case $TOKEN in
	eh1.*) TOKENS="$TOKENS $TOKEN" ;;
	*) chk_fail "access_token '$TOKEN' is not ours" ;;
	esac
	case $REQ_LOG in
	*' auth=client '*) ;;
	*) chk_fail "log line lacks auth=client: $REQ_LOG" ;;
	esac
	chk_nothing_spooled
}

# chk_oauth_error STATUS ERROR: the RFC 6749 5.2 JSON, nothing spooled.
chk_oauth_error() {
	chk_eq status "$1" "$STATUS"
	chk_eq content-type application/json "$CTYPE"
	chk_eq error "$2" "$(jget error)"
	chk_eq pragma no-cache "$(header Pragma)"
	if [ "$1" = 401 ]; then
		chk_eq www-authenticate 'Basic realm="esignhook"' \
		    "$(header WWW-Authenticate)"
	fi
	[ -z "$(jget access_token)" ] || chk_fail "a token in an error reply"
	chk_nothing_spooled
}

# chk_bearer_refused WHY: 401, the Bearer challenge, the log's reason
# naming WHY (a word of it), nothing spooled.
chk_bearer_refused() {
	chk_eq status 401 "$STATUS"
	chk_eq www-authenticate 'Bearer error="invalid_token"' \
	    "$(header WWW-Authenticate)"
	case $REQ_LOG in
	*"reason=\""*"$1"*) ;;
	*) chk_fail "log reason does not say '$1': $REQ_LOG" ;;
	esac
	chk_nothing_spooled
}

# bearer_post NAME TOKEN [VAR=value ...]: a fresh OneSpan event with
# Authorization: Bearer TOKEN.
bearer_post() {
	bp_n=$1
	bp_t=$2
	shift 2
	os_post "$(mkbody "$bp_n.json" "$(os_json PACKAGE_COMPLETE "$bp_n-$M")")" \
	    "HTTP_AUTHORIZATION=Bearer $bp_t" "$@"
}

mkbody grant.form "$GRANT" >/dev/null
mkbody body-creds.form "$GRANT&client_id=$OA_ID&client_secret=$OA_SEC" >/dev/null
mkbody scope.form "$GRANT&scope=callbacks" >/dev/null
mkbody no-grant.form "client_id=$OA_ID&client_secret=$OA_SEC" >/dev/null
mkbody password.form "grant_type=password&username=a&password=b" >/dev/null
mkbody twice.form "$GRANT&$GRANT" >/dev/null
mkbody big.form "$GRANT&x=$(repeat 5000 a)" >/dev/null
mp_body mp-basic.body -F grant_type=client_credentials
mp_body mp-creds.body -F grant_type=client_credentials \
    -F "client_id=$OA_ID" -F "client_secret=$OA_SEC"
mp_body mp-file.body -F grant_type=client_credentials \
    -F "client_secret=@$T/in/grant.form"
chk_reset
grep -q '^multipart/form-data; boundary=' "$T/in/mp-creds.body.ct" ||
    chk_fail "curl -F's type: $(cat "$T/in/mp-creds.body.ct" 2>/dev/null)"
grep -q 'name="client_secret"' "$T/in/mp-creds.body" ||
    chk_fail "no client_secret part in curl's body"
chk_done "oauth: curl -F makes the multipart bodies"
MP_BASIC_CT=$(cat "$T/in/mp-basic.body.ct")
MP_CREDS_CT=$(cat "$T/in/mp-creds.body.ct")
MP_FILE_CT=$(cat "$T/in/mp-file.body.ct")
GOOD=$(basic "$OA_ID" "$OA_SEC")

oauth_suite() {
	M=$E2E_MODE
	[ "$M" = cgi ] && LOG=$T/logs/cgi.log
	oa_config "oauth_$M"

	# ---- tokens: both client authentications, both body types ----
	chk_reset
	tok_post "$T/in/grant.form" application/x-www-form-urlencoded \
	    "HTTP_AUTHORIZATION=$GOOD"
	chk_token
	T_BASIC=$TOKEN
	chk_done "$M: token request, Basic credentials, urlencoded: 200, a Bearer token, no-store, no-cache, nothing spooled"
	chk_reset
	tok_post "$T/in/body-creds.form" \
	    "application/x-www-form-urlencoded; charset=UTF-8"
	chk_token
	T_BODY=$TOKEN
	[ "$T_BODY" != "$T_BASIC" ] || chk_fail "the same token twice"
	chk_done "$M: token request, client_id and client_secret in the body: 200, a new token"
	chk_reset
	tok_post "$T/in/mp-basic.body" "$MP_BASIC_CT" "HTTP_AUTHORIZATION=$GOOD"
	chk_token
	chk_done "$M: token request, Basic credentials, multipart (curl -F): 200"
	chk_reset
	tok_post "$T/in/mp-creds.body" "$MP_CREDS_CT"
	chk_token
	T_MP=$TOKEN
	chk_done "$M: token request, credentials as multipart parts (curl -F): 200"
	chk_reset
	tok_post "$T/in/scope.form" application/x-www-form-urlencoded \
	    "HTTP_AUTHORIZATION=$GOOD"
	chk_token
	chk_eq scope callbacks "$(jget scope)"
	chk_done "$M: token request with a scope: 200, the scope echoed"

	# ---- the callback with a token ----
	for t in basic body mp; do
		eval "tk=\$T_$(echo $t | tr a-z A-Z)"
		chk_reset
		spool_snap
		bearer_post "bearer-$t" "$tk"
		chk_os_ok
		chk_one_added
		[ -n "$ADDED" ] && chk_record "$ADDED" onespan \
		    "$T/in/bearer-$t.json" true
		case $REQ_LOG in
		*' auth=oauth '*) ;;
		*) chk_fail "log line lacks auth=oauth: $REQ_LOG" ;;
		esac
		chk_done "$M: OneSpan callback with the token ($t): 200, one record in new/, auth=oauth"
	done
	chk_reset
	spool_snap
	bearer_post bearer-scheme "$T_BASIC" \
	    "HTTP_AUTHORIZATION=bEARER  $T_BASIC"
	chk_os_ok
	chk_one_added
	chk_done "$M: Bearer scheme in another case, two blanks: 200"
	chk_reset
	spool_snap
	bearer_post bearer-form "$T_BASIC" \
	    CONTENT_TYPE=application/x-www-form-urlencoded
	chk_os_ok
	chk_one_added
	chk_done "$M: a Bearer token with Java's form content type: OneSpan's, 200"
	# Side by side: the Basic key and the URL token still work.
	chk_reset
	spool_snap
	os_post "$(mkbody basic-side.json "$(os_json PACKAGE_CREATE "basic-side_$M")")"
	chk_os_ok
	chk_one_added
	case $REQ_LOG in *' auth=basic '*) ;; *) chk_fail "no auth=basic: $REQ_LOG" ;; esac
	at_post "$DATA/alphatrust/transaction-complete.form"
	chk_at_ok RECEIVED
	case $REQ_LOG in *' auth=token '*) ;; *) chk_fail "no auth=token: $REQ_LOG" ;; esac
	chk_done "$M: the Basic key (auth=basic) and the URL token (auth=token) keep working beside OAuth"

	# ---- refusals at the token endpoint ----
	chk_reset
	tok_post "$T/in/grant.form" application/x-www-form-urlencoded \
	    "HTTP_AUTHORIZATION=$(basic "$OA_ID" "$OA_SEC2")"
	chk_oauth_error 401 invalid_client
	chk_done "$M: wrong client secret: 401 invalid_client, WWW-Authenticate Basic"
	chk_reset
	tok_post "$T/in/grant.form" application/x-www-form-urlencoded \
	    "HTTP_AUTHORIZATION=$(basic someone-else "$OA_SEC")"
	chk_oauth_error 401 invalid_client
	chk_done "$M: unknown client_id: 401 invalid_client"
	chk_reset
	tok_post "$T/in/grant.form" application/x-www-form-urlencoded
	chk_oauth_error 401 invalid_client
	chk_done "$M: no client authentication at all: 401 invalid_client"
	chk_reset
	tok_post "$T/in/grant.form" application/x-www-form-urlencoded \
	    "HTTP_AUTHORIZATION=Basic $OS_KEY"
	chk_eq status 401 "$STATUS"
	chk_eq error invalid_client "$(jget error)"
	chk_nothing_spooled
	chk_done "$M: a OneSpan callback key is no client credential: 401"
	chk_reset
	tok_post "$T/in/no-grant.form" application/x-www-form-urlencoded
	chk_oauth_error 400 invalid_request
	chk_done "$M: no grant_type: 400 invalid_request"
	chk_reset
	tok_post "$T/in/twice.form" application/x-www-form-urlencoded \
	    "HTTP_AUTHORIZATION=$GOOD"
	chk_oauth_error 400 invalid_request
	chk_done "$M: grant_type twice: 400 invalid_request"
	chk_reset
	tok_post "$T/in/body-creds.form" application/x-www-form-urlencoded \
	    "HTTP_AUTHORIZATION=$GOOD"
	chk_oauth_error 400 invalid_request
	chk_done "$M: Basic and body credentials at once: 400 invalid_request"
	chk_reset
	tok_post "$T/in/password.form" application/x-www-form-urlencoded \
	    "HTTP_AUTHORIZATION=$GOOD"
	chk_oauth_error 400 unsupported_grant_type
	chk_done "$M: grant_type=password: 400 unsupported_grant_type"
	chk_reset
	tok_post "$T/in/mp-file.body" "$MP_FILE_CT" "HTTP_AUTHORIZATION=$GOOD"
	chk_oauth_error 400 invalid_request
	chk_done "$M: a multipart file part: 400 invalid_request"
	chk_reset
	tok_post "$T/in/grant.form" application/json "HTTP_AUTHORIZATION=$GOOD"
	chk_oauth_error 400 invalid_request
	chk_done "$M: a JSON token request: 400 invalid_request"
	chk_reset
	REQ_IN=
	req REQUEST_METHOD=GET "REQUEST_URI=$TOKEN_URI" "QUERY_STRING=$GRANT" \
	    "HTTP_AUTHORIZATION=$GOOD"
	chk_eq status 405 "$STATUS"
	chk_eq allow POST "$(header Allow)"
	chk_nothing_spooled
	chk_done "$M: GET on the token endpoint: 405, Allow: POST (no health check, no AlphaTrust GET)"
	chk_reset
	tok_post "$T/in/big.form" application/x-www-form-urlencoded \
	    "HTTP_AUTHORIZATION=$GOOD"
	chk_eq status 413 "$STATUS"
	chk_nothing_spooled
	chk_done "$M: a token request over $(fsize "$T/in/big.form") bytes: 413"
	# The endpoint's last segment is no AlphaTrust token, even a
	# configured one: an AlphaTrust form there is no event.
	oa_config "tokentoken_$M" "ESIGNHOOK_ALPHATRUST_TOKENS=token"
	chk_reset
	tok_post "$DATA/alphatrust/transaction-complete.form" \
	    application/x-www-form-urlencoded "HTTP_AUTHORIZATION=$GOOD"
	chk_oauth_error 400 invalid_request
	chk_done "$M: an AlphaTrust form at .../oauth/token with ALPHATRUST_TOKENS=token: 400, not an event"

	# ---- refused tokens ----
	oa_config "oauth_$M"
	chk_reset
	# The nonce's first character changed: still of our format (every
	# bit of it used), no longer what the MAC covers.
	bad=$(printf '%s' "$T_BASIC" | awk -F. -v OFS=. '{
		$3 = (substr($3, 1, 1) == "A" ? "B" : "A") substr($3, 2); print }')
	spool_snap
	bearer_post tampered "$bad"
	chk_bearer_refused "signed by no configured secret"
	chk_done "$M: a tampered token: 401, Bearer invalid_token, reason: bad MAC"
	chk_reset
	spool_snap
	bearer_post malformed "not-a-token"
	chk_bearer_refused "malformed"
	chk_done "$M: a token not of our format: 401, reason malformed"
	for h in "Bearer" "Bearer " "Bearer	$T_BASIC	x"; do
		chk_reset
		spool_snap
		bearer_post "empty-bearer" x "HTTP_AUTHORIZATION=$h"
		chk_bearer_refused "malformed"
		chk_done "$M: Authorization '$(printf '%s' "$h" | cut -c1-12)...': 401, reason malformed"
	done
	chk_reset
	REQ_IN=
	spool_snap
	at_get "$DATA/alphatrust/transaction-complete.form" nope \
	    "HTTP_AUTHORIZATION=Bearer $T_BASIC"
	chk_eq status 401 "$STATUS"
	chk_eq www-authenticate 'Bearer error="invalid_token"' \
	    "$(header WWW-Authenticate)"
	chk_nothing_spooled
	chk_done "$M: a good Bearer token does not admit an AlphaTrust GET: 401"

	# Expired: a receiver whose clock is ahead by the lifetime and the
	# skew plus one second checks a token just minted.
	shifted_config "ahead_$M" 3661
	chk_reset
	spool_snap
	bearer_post expired "$T_BODY"
	chk_bearer_refused "expired"
	chk_done "$M: a token past its expiry + 60 s skew (clock 3661 s ahead): 401, reason expired"
	shifted_config "aheadok_$M" 3650
	chk_reset
	spool_snap
	bearer_post within-skew "$T_BODY"
	chk_os_ok
	chk_one_added
	chk_done "$M: the same token within the skew (clock 3650 s ahead): 200"
	# ESIGNHOOK_OAUTH_TOKEN_TTL is what the token says and lives by.
	oa_config "ttl_$M" ESIGNHOOK_OAUTH_TOKEN_TTL=2m
	chk_reset
	tok_post "$T/in/grant.form" application/x-www-form-urlencoded \
	    "HTTP_AUTHORIZATION=$GOOD"
	chk_token 120
	T_SHORT=$TOKEN
	chk_done "$M: ESIGNHOOK_OAUTH_TOKEN_TTL=2m: expires_in 120"
	shifted_config "aheadttl_$M" 181
	chk_reset
	spool_snap
	bearer_post expired-short "$T_SHORT"
	chk_bearer_refused "expired"
	chk_done "$M: the 2-minute token 181 s later: 401, reason expired"

	# Rotation: the new secret added first, the old kept; OneSpan then
	# given the new one; the old removed.  A token is signed by the
	# secret its client proved: removing a secret revokes what it got.
	use_config "rotating_$M" "ESIGNHOOK_OAUTH_CLIENT_ID=$OA_ID" \
	    "ESIGNHOOK_OAUTH_CLIENT_SECRETS=$OA_SEC2, $OA_SEC"
	[ "$M" = cgi ] && LOG=$T/logs/cgi.log
	chk_reset
	spool_snap
	bearer_post rotating-old "$T_MP"
	chk_os_ok
	chk_one_added
	tok_post "$T/in/grant.form" application/x-www-form-urlencoded \
	    "HTTP_AUTHORIZATION=$GOOD"
	chk_token
	T_OLD2=$TOKEN
	tok_post "$T/in/grant.form" application/x-www-form-urlencoded \
	    "HTTP_AUTHORIZATION=$(basic "$OA_ID" "$OA_SEC2")"
	chk_token
	T_NEW=$TOKEN
	chk_done "$M: rotation: both secrets configured: the old token, the old and the new secret all work"
	use_config "rotated_$M" "ESIGNHOOK_OAUTH_CLIENT_ID=$OA_ID" \
	    "ESIGNHOOK_OAUTH_CLIENT_SECRETS=$OA_SEC2"
	[ "$M" = cgi ] && LOG=$T/logs/cgi.log
	for t in T_MP T_OLD2; do
		eval "tk=\$$t"
		chk_reset
		spool_snap
		bearer_post "rotated-out-$t" "$tk"
		chk_bearer_refused "signed by no configured secret"
		chk_done "$M: rotation: old secret removed: a token it got ($t) is refused (401, bad MAC)"
	done
	chk_reset
	spool_snap
	bearer_post rotated-new "$T_NEW"
	chk_os_ok
	chk_one_added
	tok_post "$T/in/grant.form" application/x-www-form-urlencoded \
	    "HTTP_AUTHORIZATION=$GOOD"
	chk_oauth_error 401 invalid_client
	chk_done "$M: rotation: the new secret's token still works; the old secret gets no token (401)"

	# No client configured: fail closed, both ways.
	use_config "nooauth_$M"
	[ "$M" = cgi ] && LOG=$T/logs/cgi.log
	chk_reset
	tok_post "$T/in/body-creds.form" application/x-www-form-urlencoded
	chk_oauth_error 401 invalid_client
	spool_snap
	bearer_post no-client "$T_BASIC"
	chk_bearer_refused "no OAuth client"
	chk_done "$M: no OAuth client configured: token requests 401, Bearer callbacks 401"
}

oauth_suite

# Half a client is a configuration error (CGI: 500, and the log says).
use_config half ESIGNHOOK_OAUTH_CLIENT_ID=$OA_ID
LOG=$T/logs/cgi.log
chk_reset
tok_post "$T/in/body-creds.form" application/x-www-form-urlencoded
chk_eq status 500 "$STATUS"
case $(cat "$T/req.err") in
*'ESIGNHOOK_OAUTH_CLIENT_ID is set without ESIGNHOOK_OAUTH_CLIENT_SECRETS'*) ;;
*) chk_fail "stderr: $(cat "$T/req.err")" ;;
esac
chk_done "cgi: a client id without secrets: 500, the cause on stderr"

# check-config reports the client: id, counts, lifetime; no secret.
chk_reset
base_config "ESIGNHOOK_OAUTH_CLIENT_ID=$OA_ID" \
    "ESIGNHOOK_OAUTH_CLIENT_SECRETS=$OA_SEC,$OA_SEC2" \
    ESIGNHOOK_OAUTH_TOKEN_TTL=30m >"$T/cfg/cc.env"
ESIGNHOOK_CONFIG=$T/cfg/cc.env "$BIN" check-config >"$T/cc.out" 2>&1
rc=$?
chk_eq "check-config exit" 0 "$rc"
grep -q "^oauth: client $OA_ID, 2 secret(s), token lifetime 1800 s" "$T/cc.out" ||
    chk_fail "check-config says: $(grep oauth "$T/cc.out")"
secrets_in "$T/cc.out" >/dev/null && chk_fail "a secret in check-config's output"
chk_done "check-config: 'oauth: client <id>, 2 secret(s), token lifetime 1800 s', no secret"

E2E_MODE=fcgi
oauth_suite

# The tokens above were minted inside the worker's sandbox: seccomp lets
# getrandom(2) through (randombytes_buf), and nothing else was needed.
if [ "${E2E_SANITIZED:-0}" != 1 ]; then
	chk_reset
	grep -q 'Landlock (spool only) and seccomp in force' \
	    "$T/logs/oauth_fcgi.log" ||
	    chk_fail "no sandbox note: $(head -3 "$T/logs/oauth_fcgi.log")"
	grep -q 'status=200 .* auth=client ' "$T/logs/oauth_fcgi.log" ||
	    chk_fail "no token served in that worker"
	chk_done "fcgi: tokens minted inside the sandbox (Landlock + seccomp in force)"
fi

# FastCGI: a per-request override can close OAuth for a location (both
# keys empty); half of one is the request's 500.
use_config "oauth_fcgi"
chk_reset
tok_post "$T/in/body-creds.form" application/x-www-form-urlencoded \
    ESIGNHOOK_OAUTH_CLIENT_ID= ESIGNHOOK_OAUTH_CLIENT_SECRETS=
chk_oauth_error 401 invalid_client
tok_post "$T/in/body-creds.form" application/x-www-form-urlencoded \
    ESIGNHOOK_OAUTH_CLIENT_SECRETS=
chk_eq status 500 "$STATUS"
chk_done "fcgi: per-request params: OAuth closed by empty keys (401); secrets alone removed: 500"

# What must never happen, over every request above.
chk_reset
n=0
for t in $TOKENS; do
	n=$((n + 1))
	grep -rlF "$t" "$T/logs" "$T/spool" "$T/cfg" 2>/dev/null | grep -v '/curl.err$' |
	    while read -r f; do echo "$f"; done >"$T/leak"
	[ -s "$T/leak" ] && chk_fail "token $n in $(cat "$T/leak" | tr '\n' ' ')"
done
[ "$n" -ge 10 ] || chk_fail "only $n tokens collected"
# In the replies: only in token responses (one line holds access_token).
for t in $TOKENS; do
	grep -F "$t" "$T/responses" | grep -v '"access_token":' >"$T/leak"
	[ -s "$T/leak" ] && chk_fail "a token in another reply: $(head -c 200 "$T/leak")"
done
chk_done "oauth: no token ($n minted) in a log, a record, or a reply but its own token response"
chk_reset
si=$(secrets_in "$T/logs" "$T/spool" "$T/responses")
[ -n "$si" ] && chk_fail "a secret in $si"
[ "$(cat "$T/logs"/*.log | grep -c ' auth=oauth ')" -ge 10 ] ||
    chk_fail "fewer than 10 auth=oauth log lines"
chk_done "oauth: no client secret or key in a log, a record or a reply; auth=oauth logged"

e2e_done
