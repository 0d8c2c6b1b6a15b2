#!/bin/sh
# scripts/run.sh: `make run` - esignhook behind a local nginx, in the
# foreground, everything under ./run/ (gitignored):
#
#   run/esignhook.conf   configuration with generated secrets (callback
#                        key, URL token, OAuth client id and secret);
#                        made once, kept across runs (delete it for new
#                        secrets)
#   run/spool/           the spool: new/ holds one JSON file per event
#   run/esignhook.log    esignhook's log, one line per request
#   run/nginx/           nginx's configuration (the shipped
#                        nginx/esignhook.conf and esignhook-log.conf with
#                        local paths), logs and temporary files
#   run/esignhook.sock   the FastCGI socket between them
#   run/drain.log        esignhookctl drain --follow's log: one line per
#                        event processed (no action by default: each
#                        event goes from new/ to done/)
#
# Listens on 127.0.0.1:$PORT (default 8080).  Prints the URLs, the
# secrets and ready curl lines, then waits; Ctrl-C (SIGINT or SIGTERM)
# stops everything it started.  Builds nothing: `make run` builds first.
# Needs nginx and spawn-fcgi (make deps); no root, no system paths.

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
RUN=$ROOT/run
NG=$RUN/nginx
BIN=${ESIGNHOOK_BIN:-$ROOT/cgi/esignhook}
CTL=${ESIGNHOOKCTL_BIN:-$ROOT/cgi/esignhookctl}
PORT=${PORT:-8080}
SOCK=$RUN/esignhook.sock

die() {
	echo "make run: $*" >&2
	exit 1
}

[ -x "$BIN" ] || die "$BIN is not built (make)"
[ -x "$CTL" ] || die "$CTL is not built (make)"
case $PORT in
'' | *[!0-9]*) die "PORT must be a number" ;;
esac
for c in nginx spawn-fcgi; do
	command -v "$c" >/dev/null 2>&1 && continue
	echo "make run: $c not found; running make deps" >&2
	make -s deps || die "make deps failed"
	command -v "$c" >/dev/null 2>&1 || die "$c not found"
done

umask 077
mkdir -p "$RUN" "$NG/tmp" || die "cannot create $RUN"

# ---- configuration: secrets generated once ----

secret() {
	head -c "${1:-24}" /dev/urandom | od -An -tx1 | tr -d ' \n'
}

CONF=$RUN/esignhook.conf
fresh=
if [ ! -f "$CONF" ]; then
	fresh=1
	cat >"$CONF.new" <<EOF || die "cannot write $CONF"
# esignhook configuration for \`make run\`, generated $(date -u +%Y-%m-%dT%H:%M:%SZ).
# Kept across runs; delete this file to get new secrets.  Keys: esignhook --help.
ESIGNHOOK_SPOOL=$RUN/spool
ESIGNHOOK_ONESPAN_KEYS=$(secret)
ESIGNHOOK_ALPHATRUST_TOKENS=$(secret)
ESIGNHOOK_THREADS=4
# What esignhookctl drain does with each event (esignhookctl(8)); with
# none of these set, every event simply moves from new/ to done/:
#   ESIGNHOOK_EXEC                 a command; the record on its stdin
#   ESIGNHOOK_FORWARD_URL, _SECRET POST it, signed (Standard Webhooks)
#   ESIGNHOOK_DOWNLOAD_DIR         OneSpan's signed documents, with
#   ESIGNHOOK_ONESPAN_API_KEY      the account's API key
#ESIGNHOOK_EXEC=/path/to/script
#ESIGNHOOK_FORWARD_URL=https://example.com/hook
#ESIGNHOOK_FORWARD_SECRET=whsec_...
#ESIGNHOOK_DOWNLOAD_DIR=$RUN/signed
#ESIGNHOOK_ONESPAN_API_KEY=...
ESIGNHOOK_KEEP_DONE=7d
EOF
	mv "$CONF.new" "$CONF" || die "cannot write $CONF"
	echo "make run: generated $CONF with new secrets"
fi
# OneSpan's OAuth 2.0 client: added once, to a new file or to one made
# before esignhook had a token endpoint.
if ! grep -q '^ESIGNHOOK_OAUTH_CLIENT_ID=' "$CONF"; then
	cat >>"$CONF" <<EOF || die "cannot write $CONF"
# OneSpan's OAuth 2.0 (Event Notifications, Authentication: OAuth 2.0),
# generated $(date -u +%Y-%m-%dT%H:%M:%SZ).  To rotate the secret: put a new
# one first, give it to OneSpan, remove the old after ESIGNHOOK_OAUTH_TOKEN_TTL.
ESIGNHOOK_OAUTH_CLIENT_ID=esignhook-$(secret 6)
ESIGNHOOK_OAUTH_CLIENT_SECRETS=$(secret 24)
EOF
	[ -n "$fresh" ] || echo "make run: added an OAuth client to $CONF"
fi

# The first secret of each list, for the curl lines.
first() {
	sed -n "s/^$1=//p" "$CONF" | tail -n 1 | cut -d, -f1 | tr -d ' 	'
}
KEY=$(first ESIGNHOOK_ONESPAN_KEYS)
TOKEN=$(first ESIGNHOOK_ALPHATRUST_TOKENS)
OA_ID=$(sed -n 's/^ESIGNHOOK_OAUTH_CLIENT_ID=//p' "$CONF" | tail -n 1)
OA_SECRET=$(first ESIGNHOOK_OAUTH_CLIENT_SECRETS)
SPOOL=$(sed -n 's/^ESIGNHOOK_SPOOL=//p' "$CONF" | tail -n 1)

export ESIGNHOOK_CONFIG="$CONF"
"$BIN" check-config >"$RUN/check-config.out" 2>&1 || {
	cat "$RUN/check-config.out" >&2
	die "esignhook check-config failed: the error: lines above say why (configuration: $CONF, events: $SPOOL)"
}

# ---- nginx configuration: the shipped files, local paths ----

sed -e "s#unix:/run/esignhook/esignhook.sock#unix:$SOCK#" \
    -e "s#/var/log/nginx/esignhook-access.log#$NG/esignhook-access.log#" \
    nginx/esignhook.conf >"$NG/esignhook.conf"
cp nginx/esignhook-log.conf "$NG/esignhook-log.conf"
params=$(nginx -V 2>&1 | sed -n 's/.*--conf-path=\([^ ]*\).*/\1/p')
params=$(dirname "${params:-/etc/nginx/nginx.conf}")/fastcgi_params
[ -f "$params" ] || params=/etc/nginx/fastcgi_params
cp "$params" "$NG/fastcgi_params" || die "no fastcgi_params ($params)"
{
	# nginx's workers run as the invoking user, except under root,
	# where nginx needs to be told (its default would be "nobody",
	# who cannot reach ./run).
	[ "$(id -u)" -eq 0 ] && echo "user root;"
	cat <<EOF
# Generated by scripts/run.sh on each \`make run\`; edits are lost.
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/error.log notice;
events { worker_connections 256; }
http {
    client_body_temp_path $NG/tmp/body;
    fastcgi_temp_path $NG/tmp/fastcgi;
    proxy_temp_path $NG/tmp/proxy;
    scgi_temp_path $NG/tmp/scgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    include $NG/esignhook-log.conf;
    access_log $NG/access.log combined;
    server {
        listen 127.0.0.1:$PORT;
        server_name localhost;
        location / { return 404; }
        include $NG/esignhook.conf;
    }
}
EOF
} >"$NG/nginx.conf"
nginx -t -q -e "$NG/error.log" -p "$NG/" -c "$NG/nginx.conf" ||
    die "nginx rejects $NG/nginx.conf"

# ---- start, stop ----

W_PID=
N_PID=
S_PID=
D_PID=
stop() {
	trap '' INT TERM
	[ -n "$S_PID" ] && kill "$S_PID" 2>/dev/null
	for p in $D_PID $N_PID $W_PID; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $D_PID $N_PID $W_PID; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ "$i" -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -f "$SOCK"
}
trap 'stop; echo; echo "make run: stopped"; exit 0' INT TERM HUP
trap 'stop' EXIT

# esignhook on the socket; spawn-fcgi -n keeps its stderr (without -n
# spawn-fcgi would point it at /dev/null).  As root, ESIGNHOOK_ALLOW_ROOT
# says that running as root is meant here.
allow_root=
[ "$(id -u)" -eq 0 ] && allow_root=ESIGNHOOK_ALLOW_ROOT=1
env $allow_root spawn-fcgi -n -s "$SOCK" -M 0600 -- "$BIN" \
    </dev/null >>"$RUN/esignhook.log" 2>&1 &
W_PID=$!
i=0
until [ -S "$SOCK" ] && grep -q "FastCGI ready.*pid $W_PID\"" \
    "$RUN/esignhook.log" 2>/dev/null; do
	kill -0 "$W_PID" 2>/dev/null || {
		tail -n 3 "$RUN/esignhook.log" >&2
		die "esignhook did not start (is another make run running?)"
	}
	[ "$i" -ge 100 ] && die "esignhook did not become ready"
	sleep 0.05
	i=$((i + 1))
done

nginx -e "$NG/error.log" -p "$NG/" -c "$NG/nginx.conf" -g 'daemon off;' \
    </dev/null >>"$NG/error.log" 2>&1 &
N_PID=$!
URL=http://127.0.0.1:$PORT
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
    "$URL/esignhook/" 2>/dev/null)" = 200 ]; do
	if ! kill -0 "$N_PID" 2>/dev/null; then
		grep -q 'Address already in use' "$NG/error.log" &&
		    die "127.0.0.1:$PORT is in use; try PORT=8081 make run"
		tail -n 3 "$NG/error.log" >&2
		die "nginx did not start"
	fi
	[ "$i" -ge 100 ] && die "no answer from $URL/esignhook/"
	sleep 0.05
	i=$((i + 1))
done

# The drainer: events go from new/ to done/ (or through the actions
# configured in $CONF) within a second of arriving.
"$CTL" drain --follow </dev/null >>"$RUN/drain.log" 2>&1 &
D_PID=$!

rel() {
	case $1 in "$ROOT"/*) echo "${1#"$ROOT"/}" ;; *) echo "$1" ;; esac
}

cat <<EOF

esignhook is serving on $URL behind nginx.  Ctrl-C stops it.

  OneSpan Sign   callback URL  $URL/esignhook/onespan
                 callback key  $KEY
    or, Authentication "OAuth 2.0" on OneSpan's Event Notifications page:
                 Authorization Server URL  $URL/esignhook/oauth/token
                 Client ID                 $OA_ID
                 Client Secret             $OA_SECRET
                 Scope: any (or empty); Credentials Location: either
  AlphaTrust     callback URL  $URL/esignhook/alphatrust/$TOKEN
  health check                 $URL/esignhook/

(OneSpan's servers need a public https URL: see the README's deployment.)

Try (from $ROOT):

  curl -H 'Authorization: Basic $KEY' -H 'Content-Type: application/json' --data-binary @tests/data/onespan/package-complete.json $URL/esignhook/onespan

  curl --data-binary @tests/data/alphatrust/transaction-complete.form $URL/esignhook/alphatrust/$TOKEN

  OAuth 2.0, as OneSpan does it: a token (client credentials), then a callback with it:

  TOKEN=\$(curl -s -u '$OA_ID:$OA_SECRET' -d grant_type=client_credentials $URL/esignhook/oauth/token | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  curl --oauth2-bearer "\$TOKEN" -H 'Content-Type: application/json' --data-binary @tests/data/onespan/signer-complete.json $URL/esignhook/onespan

Each accepted event is a file in $(rel "$SPOOL")/new/ (a OneSpan event sent again is
stored once); esignhookctl drain --follow moves it to $(rel "$SPOOL")/done/ within a
second, running the actions set in $(rel "$CONF") (none yet: see the
ESIGNHOOK_EXEC, _FORWARD_URL, _DOWNLOAD_DIR lines there, then Ctrl-C and make run).
Look at the spool:

  ESIGNHOOK_CONFIG=$(rel "$CONF") ./cgi/esignhookctl list done
  ESIGNHOOK_CONFIG=$(rel "$CONF") ./cgi/esignhookctl stats

Logs: $(rel "$RUN")/esignhook.log (esignhook, one line per request),
$(rel "$RUN")/drain.log (esignhookctl, one line per event processed),
$(rel "$NG")/esignhook-access.log (nginx, URL token masked), $(rel "$NG")/error.log.
Secrets: $(rel "$CONF") (kept across runs; delete it for new ones).

EOF

# Wait; stop everything if either process dies.
while kill -0 "$W_PID" 2>/dev/null && kill -0 "$N_PID" 2>/dev/null &&
    kill -0 "$D_PID" 2>/dev/null; do
	sleep 1 &
	S_PID=$!
	wait "$S_PID"
	S_PID=
done
kill -0 "$W_PID" 2>/dev/null || echo "make run: esignhook exited; see $(rel "$RUN")/esignhook.log" >&2
kill -0 "$N_PID" 2>/dev/null || echo "make run: nginx exited; see $(rel "$NG")/error.log" >&2
kill -0 "$D_PID" 2>/dev/null || echo "make run: esignhookctl drain exited; see $(rel "$RUN")/drain.log" >&2
exit 1
