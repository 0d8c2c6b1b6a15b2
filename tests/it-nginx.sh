#!/bin/sh
# it-nginx.sh: esignhook behind a real nginx, configured from the files we
# ship - nginx/esignhook.conf (the location) and nginx/esignhook-log.conf
# (the masked access-log format) - with only their paths changed, and
# esignhook under spawn-fcgi on a unix socket, restarted by a loop when
# it dies (as esignhook.service's Restart=on-failure does).  Also checks
# that nginx/example-server.conf passes nginx -t.
#
# Ends with "N passed, N failed".  IT_KEEP=1 keeps the directory.

. "$(dirname "$0")/it-lib.sh"

it_setup
it_need nginx
NG=$IT_DIR/nginx
mkdir -m 0755 "$NG" "$NG/tmp"

# The shipped files, with this test's paths.
sed -e "s#unix:/run/esignhook/esignhook.sock#unix:$IT_DIR/ng.sock#" \
    -e "s#/var/log/nginx/esignhook-access.log#$NG/esignhook-access.log#" \
    "$IT_ROOT/nginx/esignhook.conf" >"$NG/esignhook.conf"
cp "$IT_ROOT/nginx/esignhook-log.conf" "$NG/esignhook-log.conf"
# The stock fastcgi_params, next to the configuration that includes it.
FCGI_PARAMS=$(nginx -V 2>&1 | sed -n 's/.*--conf-path=\([^ ]*\).*/\1/p')
FCGI_PARAMS=$(dirname "${FCGI_PARAMS:-/etc/nginx/nginx.conf}")/fastcgi_params
cp "$FCGI_PARAMS" "$NG/fastcgi_params"

chk_reset
chk_eq "socket path replaced" 1 \
    "$(grep -c "fastcgi_pass unix:$IT_DIR/ng.sock;" "$NG/esignhook.conf")"
chk_eq "access log path replaced" 1 \
    "$(grep -c "access_log $NG/esignhook-access.log esignhook;" \
    "$NG/esignhook.conf")"
chk_done "nginx/esignhook.conf: the socket and log paths are where the test expects"

# nginx.conf around the snippet; `user` only as root (then the workers
# are www-data, as on Debian).
nginx_conf() {
	{
		[ -n "$IT_USER" ] && echo "user $IT_USER $IT_GROUP;"
		cat <<EOF
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/error.log notice;
events { worker_connections 64; }
http {
    client_body_temp_path $NG/tmp/body;
    fastcgi_temp_path $NG/tmp/fastcgi;
    proxy_temp_path $NG/tmp/proxy;
    scgi_temp_path $NG/tmp/scgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    include $NG/esignhook-log.conf;
    # The server's own log, in the stock format: it must not see the
    # hook's requests (the location logs them, masked, elsewhere).
    access_log $NG/access.log combined;
    server {
        listen 127.0.0.1:$1;
        server_name localhost;
        location / { return 404; }
        include $NG/esignhook.conf;
    }
}
EOF
	}
}

# nginx/example-server.conf must at least be valid: nginx -t with a
# self-signed certificate (needs openssl; nginx -t binds no port).
if command -v openssl >/dev/null 2>&1; then
	mkdir "$NG/ex"
	cp "$NG/fastcgi_params" "$NG/ex/fastcgi_params"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	    -keyout "$NG/ex/key.pem" -out "$NG/ex/cert.pem" >/dev/null 2>&1
	# nginx -t binds the ports: free unprivileged ones, IPv4 only.
	P1=$(it_port) P2=$(it_port)
	sed -e "s#/etc/letsencrypt/live/hooks.example.com/fullchain.pem#$NG/ex/cert.pem#" \
	    -e "s#^\( *listen\) 80;#\1 127.0.0.1:$P1;#" \
	    -e "s#^\( *listen\) 443 ssl;#\1 127.0.0.1:$P2 ssl;#" \
	    -e "/^ *listen \[::\]/d" \
	    -e "s#/etc/letsencrypt/live/hooks.example.com/privkey.pem#$NG/ex/key.pem#" \
	    -e "s#include snippets/esignhook.conf;#include $NG/esignhook.conf;#" \
	    -e "s#/var/log/nginx/access.log#$NG/ex/access.log#" \
	    "$IT_ROOT/nginx/example-server.conf" >"$NG/ex/server.conf"
	cat >"$NG/ex/nginx.conf" <<EOF
pid $NG/ex/nginx.pid;
error_log $NG/ex/error.log;
events {}
http {
    client_body_temp_path $NG/ex/body;
    fastcgi_temp_path $NG/ex/fastcgi;
    proxy_temp_path $NG/ex/proxy;
    scgi_temp_path $NG/ex/scgi;
    uwsgi_temp_path $NG/ex/uwsgi;
    access_log $NG/ex/access.log;
    include $NG/esignhook-log.conf;
    include $NG/ex/server.conf;
}
EOF
	if nginx -t -q -e "$NG/ex/error.log" -p "$NG/ex/" \
	    -c "$NG/ex/nginx.conf" >"$NG/ex/t.out" 2>&1; then
		ok "nginx/example-server.conf passes nginx -t"
	else
		not_ok "nginx/example-server.conf passes nginx -t" \
		    "$(tr '\n' ' ' <"$NG/ex/t.out")"
	fi
fi

# Without esignhook-log.conf nginx must refuse the snippet (so nobody
# runs it with a format that logs the token).
sed '/include .*esignhook-log.conf;/d' >"$NG/nolog.conf" <<EOF
$(nginx_conf 1)
EOF
if nginx -t -q -e "$NG/nolog.err" -p "$NG/" -c "$NG/nolog.conf" \
    >"$NG/nolog.out" 2>&1; then
	not_ok "nginx refuses the snippet without esignhook-log.conf" \
	    "nginx -t passed"
else
	chk_reset
	chk_eq "nginx -t says" 'unknown log format "esignhook"' \
	    "$(cat "$NG/nolog.out" "$NG/nolog.err" 2>/dev/null |
	    grep -o 'unknown log format "esignhook"' | head -n 1)"
	chk_done "nginx refuses the snippet without esignhook-log.conf (unknown log format)"
fi

it_config ng
# OneSpan's OAuth 2.0: esignhook is also the token endpoint.
OA_ID=it-oauth-client
OA_SEC=itOAs3cr3t7q9w1e5r8t
IT_SECRETS="$IT_SECRETS $OA_SEC"
printf 'ESIGNHOOK_OAUTH_CLIENT_ID=%s\nESIGNHOOK_OAUTH_CLIENT_SECRETS=%s\n' \
    "$OA_ID" "$OA_SEC" >>"$IT_DIR/ng.conf"
if it_worker_start ng; then
	ok "esignhook started by spawn-fcgi -n on a unix socket"
else
	not_ok "esignhook started by spawn-fcgi -n on a unix socket" \
	    "$(tail -n 3 "$IT_DIR/logs/ng.log")"
	it_done
fi

# Start nginx on a free port; another suite may take the port between
# the check and the bind, so try a few.
PORT=
for _ in 1 2 3 4 5; do
	p=$(it_port) || break
	nginx_conf "$p" >"$NG/nginx.conf"
	rm -f "$NG/nginx.pid"
	if nginx -e "$NG/error.log" -p "$NG/" -c "$NG/nginx.conf" \
	    2>"$NG/start.err"; then
		PORT=$p
		break
	fi
	grep -q 'Address already in use' "$NG/start.err" || break
done
if [ -z "$PORT" ]; then
	not_ok "nginx starts with the shipped snippet" \
	    "$(tr '\n' ' ' <"$NG/start.err")"
	it_done
fi
i=0
while [ ! -s "$NG/nginx.pid" ] && [ "$i" -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
it_track "$NG/nginx.pid"
NGINX_PID=$(cat "$NG/nginx.pid")
if it_wait_http "http://127.0.0.1:$PORT/"; then
	ok "nginx starts with the shipped snippet (port $PORT)"
else
	not_ok "nginx starts with the shipped snippet" "no answer on $PORT"
	it_done
fi

ng_kill() {
	it_worker_kill ng
}

it_scenario "nginx+FastCGI" "http://127.0.0.1:$PORT/esignhook" ng ng_kill

# The worker restarted by the loop is a new process.
chk_reset
NEW_PID=$(cat "$IT_DIR/ng.pid" 2>/dev/null)
chk_eq "new pid differs from the killed one" yes \
    "$([ -n "$NEW_PID" ] && [ "$NEW_PID" != "$KILLED_PID" ] && echo yes)"
chk_done "nginx+FastCGI: the restart loop started a new esignhook"

# ---- OAuth 2.0 through nginx, with an independent client library ----
# Debian's python3-requests-oauthlib, importable by /usr/bin/python3
# (a pyenv python3 earlier on PATH may lack it).
OPY=/usr/bin/python3
if ! "$OPY" -c 'import requests_oauthlib' 2>/dev/null; then
	make -s -C "$IT_ROOT" deps >&2 || true
fi
OA_BASE=http://127.0.0.1:$PORT/esignhook
for style in basic body curl; do
	sed "s/\"packageId\":\"[^\"]*\"/\"packageId\":\"it-oauth-$style\"/" \
	    "$DATA/onespan/package-complete.json" >"$IT_DIR/oauth-$style.json"
done
before=$(it_count ng)
# BackendApplicationClient: the client-credentials grant.  requests-
# oauthlib sends the credentials as Basic (its default) or, with
# include_client_id=True, as client_id and client_secret in the body:
# OneSpan's "Authorization Header" and "Form-Data" locations.  One line
# per style: the token's type and lifetime, whether the session sent it
# as Bearer, the callback's status and body; never the token.  oauthlib
# refuses plain http unless told: this nginx listens on 127.0.0.1 only
# (OneSpan itself requires an https URL).
OAUTHLIB_INSECURE_TRANSPORT=1 "$OPY" - "$OA_BASE" "$OA_ID" "$OA_SEC" "$IT_DIR" >"$IT_DIR/oauthlib.out" \
    2>"$IT_DIR/oauthlib.err" <<'PYEOF'
import sys
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session

base, cid, secret, d = sys.argv[1:5]
for style in ("basic", "body"):
    s = OAuth2Session(client=BackendApplicationClient(client_id=cid))
    kw = {"include_client_id": True} if style == "body" else {}
    tok = s.fetch_token(token_url=base + "/oauth/token", client_id=cid,
                        client_secret=secret, timeout=10, **kw)
    with open("%s/oauth-%s.json" % (d, style), "rb") as f:
        r = s.post(base + "/onespan", data=f.read(), timeout=10,
                   headers={"Content-Type": "application/json"})
    sent = r.request.headers.get("Authorization", "")
    print(style, tok.get("token_type"), tok.get("expires_in"),
          sent == "Bearer " + tok["access_token"], r.status_code, r.text)
PYEOF
for style in basic body; do
	chk_reset
	chk_eq "requests-oauthlib ($style)" \
	    "$style Bearer 3600 True 200 {\"success\":true}" \
	    "$(grep "^$style " "$IT_DIR/oauthlib.out")"
	[ -s "$IT_DIR/oauthlib.err" ] &&
	    chk_eq "requests-oauthlib stderr" "" "$(tail -n 3 "$IT_DIR/oauthlib.err")"
	chk_eq "event in new/" yes "$(grep -l "\"it-oauth-$style\"" \
	    "$IT_DIR/ng.spool/new/"*.json >/dev/null 2>&1 && echo yes)"
	chk_done "nginx+FastCGI: requests-oauthlib BackendApplicationClient ($style credentials) gets a token, posts a OneSpan sample with it: 200, event in new/"
done

# The curl pair make run prints: a token (-u: Basic), then --oauth2-bearer.
chk_reset
code=$(curl -s -o "$IT_DIR/tok.json" -w '%{http_code}' --max-time 10 \
    -u "$OA_ID:$OA_SEC" -d grant_type=client_credentials "$OA_BASE/oauth/token")
chk_eq "token status" 200 "$code"
TOK=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$IT_DIR/tok.json")
chk_eq "callback status" 200 "$(it_code --oauth2-bearer "$TOK" \
    -H 'Content-Type: application/json' \
    --data-binary "@$IT_DIR/oauth-curl.json" "$OA_BASE/onespan")"
# curl -F: a real multipart/form-data token request, credentials as parts.
code=$(curl -s -o "$IT_DIR/tok-mp.json" -w '%{http_code}' --max-time 10 \
    -F grant_type=client_credentials -F "client_id=$OA_ID" \
    -F "client_secret=$OA_SEC" "$OA_BASE/oauth/token")
chk_eq "multipart token status" 200 "$code"
chk_eq "multipart token type" Bearer \
    "$(sed -n 's/.*"token_type":"\([^"]*\)".*/\1/p' "$IT_DIR/tok-mp.json")"
TOK_MP=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$IT_DIR/tok-mp.json")
chk_eq "forged token" 401 "$(it_code --oauth2-bearer "${TOK%?????}xxxxx" \
    -H 'Content-Type: application/json' \
    --data-binary "@$IT_DIR/oauth-curl.json" "$OA_BASE/onespan")"
chk_eq "GET on the token endpoint" 405 "$(it_code "$OA_BASE/oauth/token")"
chk_eq "wrong secret" 401 "$(it_code -u "$OA_ID:nope" \
    -d grant_type=client_credentials "$OA_BASE/oauth/token")"
chk_done "nginx+FastCGI: curl -u token + curl --oauth2-bearer callback: 200; curl -F (multipart) token: 200; forged 401, GET 405, wrong secret 401"
chk_reset
chk_eq "events added (three callbacks, no token request)" $((before + 3)) \
    "$(it_count ng)"
chk_eq "auth=oauth lines" 3 "$(grep -c ' auth=oauth ' "$IT_DIR/logs/ng.log")"
chk_eq "auth=client lines" 4 "$(grep -c ' auth=client ' "$IT_DIR/logs/ng.log")"
chk_eq "token endpoint in the masked access log" 6 \
    "$(grep -c '"[A-Z]* /esignhook/oauth/token HTTP/1.1" ' \
    "$NG/esignhook-access.log")"
chk_done "nginx+FastCGI: 4 tokens, 3 callbacks: logged auth=client / auth=oauth, the path unmasked; nothing spooled by a token request"
# Tokens are credentials: in no log either (checked below).
IT_SECRETS="$IT_SECRETS $TOK $TOK_MP"

# nginx's location applies client_max_body_size: esignhook never saw the
# oversized bodies (two declared, one chunked; its log has no 413), nginx
# refused them.
chk_reset
chk_eq "413 lines in esignhook's log" 0 \
    "$(grep -c 'status=413' "$IT_DIR/logs/ng.log")"
chk_eq "413 lines in the hook's access log" 3 \
    "$(grep -c '" 413 ' "$NG/esignhook-access.log")"
chk_done "nginx+FastCGI: nginx itself answers 413 (client_max_body_size 64k)"

# Logs: the hook's requests go to the masked log only, without secrets.
chk_reset
chk_eq "masked AlphaTrust path logged" yes \
    "$(grep -q '"POST /esignhook/alphatrust/\* HTTP/1.1" 200 ' \
    "$NG/esignhook-access.log" && echo yes)"
chk_eq "OneSpan path logged as is" yes \
    "$(grep -q '"POST /esignhook/onespan HTTP/1.1" 200 ' \
    "$NG/esignhook-access.log" && echo yes)"
chk_eq "hook requests in the server's combined log" 0 \
    "$(grep -c '/esignhook' "$NG/access.log" 2>/dev/null || true)"
chk_done "nginx+FastCGI: the hook's requests are logged with the masked format only"
it_no_secrets "nginx+FastCGI: no secret in nginx's access logs (the URL token is masked)" \
    "$NG/esignhook-access.log" "$NG/access.log"
it_no_secrets "nginx+FastCGI: no secret in esignhook's log" \
    "$IT_DIR/logs/ng.log"

# Stop everything; nothing may be left running.
PIDS="$NGINX_PID $(ps -o pid= --ppid "$NGINX_PID" 2>/dev/null) \
    $(cat "$IT_DIR/ng.pid" "$IT_DIR/ng.loop" 2>/dev/null)"
it_stop_all
it_all_gone "nginx+FastCGI: nginx, the restart loop and esignhook all stopped" "$PIDS"

it_done
