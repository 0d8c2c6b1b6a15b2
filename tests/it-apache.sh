#!/bin/sh
# it-apache.sh: esignhook behind a real Apache httpd 2.4, configured from
# the files we ship with only their paths changed, one name-based
# virtual host per deployment on one port:
#   proxy-fcgi.test  apache/esignhook-proxy-fcgi.conf: mod_proxy_fcgi to
#                    esignhook under spawn-fcgi on a unix socket (with a
#                    restart loop, as systemd's Restart=on-failure);
#   fcgid.test       apache/esignhook-fcgid.conf: mod_fcgid starts (and
#                    restarts) esignhook itself;
#   cgi.test         apache/htaccess-cgi as .htaccess (AllowOverride All)
#                    next to esignhook.cgi, mod_cgid; also its fallback
#                    for Apache < 2.4.13 (RewriteRule E=HTTP_AUTHORIZATION)
#                    and, as a control, neither (OneSpan must get 401).
#
# Ends with "N passed, N failed".  IT_KEEP=1 keeps the directory.

. "$(dirname "$0")/it-lib.sh"

MODS=${APACHE_MODULES:-/usr/lib/apache2/modules}

it_setup
it_need apache2
[ -f "$MODS/mod_fcgid.so" ] || make -s -C "$IT_ROOT" deps >&2 || true
for m in mpm_event authz_core mime cgid proxy proxy_fcgi fcgid env \
    setenvif rewrite alias dir; do
	[ -f "$MODS/mod_$m.so" ] || {
		not_ok "requirements" "$MODS/mod_$m.so missing (make deps)"
		it_done
	}
done
AP=$IT_DIR/apache
mkdir -m 0755 "$AP" "$AP/run" "$AP/htdocs" "$AP/docs"
chown_it "$AP/run"
: >"$AP/mime.types"

# ---- the shipped files, with this test's paths ----

# The CustomLog lines the files describe, uncommented, with our paths.
uncomment_logs() {
	sed -e "s#^\#   CustomLog \${APACHE_LOG_DIR}/#CustomLog $AP/$1-#"
}

sed -e "s#/run/esignhook/esignhook.sock#$IT_DIR/px.sock#g" \
    "$IT_ROOT/apache/esignhook-proxy-fcgi.conf" | uncomment_logs px \
    >"$AP/proxy-fcgi.conf"
cp "$BIN" "$IT_DIR/bin/esignhook-fcgid"
chmod 0755 "$IT_DIR/bin/esignhook-fcgid"
sed -e "s#/usr/local/bin/esignhook#$IT_DIR/bin/esignhook-fcgid#g" \
    -e "s#/etc/esignhook/esignhook.conf#$IT_DIR/fcgid.conf#g" \
    "$IT_ROOT/apache/esignhook-fcgid.conf" | uncomment_logs fcgid \
    >"$AP/fcgid.conf"

# Classic CGI: a directory per .htaccess variant, the binary as
# esignhook.cgi in each.
cgi_dir() {
	# cgi_dir NAME: $AP/docs/NAME with esignhook.cgi and the .htaccess
	# from stdin, its configuration NAME.conf
	mkdir -m 0755 "$AP/docs/$1"
	cp "$BIN" "$AP/docs/$1/esignhook.cgi"
	chmod 0755 "$AP/docs/$1/esignhook.cgi"
	sed -e "s#/home/user/esignhook.conf#$IT_DIR/$1.conf#" \
	    >"$AP/docs/$1/.htaccess"
	it_config "$1"
}
cgi_dir cgi <"$IT_ROOT/apache/htaccess-cgi"
# Apache < 2.4.13: CGIPassAuth deleted, the RewriteRule uncommented.
sed -e '/^CGIPassAuth On/d' -e 's/^#\(Rewrite\)/\1/' \
    "$IT_ROOT/apache/htaccess-cgi" | cgi_dir cgirw
# Control: neither, so Apache hides Authorization.
sed -e '/^CGIPassAuth On/d' "$IT_ROOT/apache/htaccess-cgi" | cgi_dir cgino

chk_reset
chk_eq "proxy: socket path replaced" 1 \
    "$(grep -c "^    ProxyPass \"unix:$IT_DIR/px.sock|fcgi://localhost/esignhook/\"" "$AP/proxy-fcgi.conf")"
chk_eq "proxy: CustomLog lines" 2 "$(grep -c '^CustomLog' "$AP/proxy-fcgi.conf")"
chk_eq "fcgid: wrapper path replaced" 1 \
    "$(grep -c "FcgidWrapper $IT_DIR/bin/esignhook-fcgid virtual" "$AP/fcgid.conf")"
chk_eq "fcgid: config path replaced" 1 \
    "$(grep -c "ESIGNHOOK_CONFIG $IT_DIR/fcgid.conf" "$AP/fcgid.conf")"
chk_eq "fcgid: CustomLog lines" 2 "$(grep -c '^CustomLog' "$AP/fcgid.conf")"
chk_eq "cgi: config path replaced" 1 \
    "$(grep -c "SetEnv ESIGNHOOK_CONFIG $IT_DIR/cgi.conf" "$AP/docs/cgi/.htaccess")"
chk_eq "cgirw: RewriteRule active, no CGIPassAuth" "1 0" \
    "$(grep -c '^RewriteRule .* - \[E=HTTP_AUTHORIZATION' "$AP/docs/cgirw/.htaccess") $(grep -c '^CGIPassAuth' "$AP/docs/cgirw/.htaccess")"
chk_done "apache/: the shipped files hold the paths and lines the test replaces"

# ---- the server ----

it_config px
if it_worker_start px; then
	ok "esignhook started by spawn-fcgi -n on a unix socket"
else
	not_ok "esignhook started by spawn-fcgi -n on a unix socket" \
	    "$(tail -n 3 "$IT_DIR/logs/px.log")"
fi
it_config fcgid

httpd_conf() {
	cat <<EOF
ServerRoot "$AP"
ServerName localhost
Listen 127.0.0.1:$1
PidFile $AP/run/httpd.pid
DefaultRuntimeDir $AP/run
Mutex file:$AP/run default
ErrorLog $AP/error.log
LogLevel warn
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule mime_module $MODS/mod_mime.so
LoadModule cgid_module $MODS/mod_cgid.so
LoadModule proxy_module $MODS/mod_proxy.so
LoadModule proxy_fcgi_module $MODS/mod_proxy_fcgi.so
LoadModule fcgid_module $MODS/mod_fcgid.so
LoadModule env_module $MODS/mod_env.so
LoadModule setenvif_module $MODS/mod_setenvif.so
LoadModule rewrite_module $MODS/mod_rewrite.so
LoadModule alias_module $MODS/mod_alias.so
LoadModule dir_module $MODS/mod_dir.so
StartServers 1
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
TypesConfig $AP/mime.types
ScriptSock $AP/run/cgid.sock
FcgidIPCDir $AP/run/fcgid
FcgidProcessTableFile $AP/run/fcgid_shm
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
CustomLog $AP/access.log combined
<Directory />
    AllowOverride None
    Require all denied
</Directory>
# A DocumentRoot like any site's (see apache/esignhook-fcgid.conf).
<Directory $AP/htdocs>
    Require all granted
</Directory>

<VirtualHost 127.0.0.1:$1>
    ServerName proxy-fcgi.test
    DocumentRoot $AP/htdocs
    Include $AP/proxy-fcgi.conf
</VirtualHost>

<VirtualHost 127.0.0.1:$1>
    ServerName fcgid.test
    DocumentRoot $AP/htdocs
    Include $AP/fcgid.conf
</VirtualHost>

<VirtualHost 127.0.0.1:$1>
    ServerName cgi.test
    DocumentRoot $AP/docs
    CustomLog $AP/cgi-access.log combined
    <Directory $AP/docs>
        AllowOverride All
        Require all granted
    </Directory>
</VirtualHost>
EOF
	# Apache refuses to run as root: its children become www-data.
	[ -n "$IT_USER" ] && printf 'User %s\nGroup %s\n' "$IT_USER" "$IT_GROUP"
	return 0
}

# Start Apache in the foreground (so its pid is ours) on a free port;
# another suite may take the port between the check and the bind.
PORT=
APID=
for _ in 1 2 3 4 5; do
	p=$(it_port) || break
	httpd_conf "$p" >"$AP/httpd.conf"
	if ! apache2 -t -d "$AP" -f "$AP/httpd.conf" >"$AP/t.out" 2>&1; then
		cp "$AP/t.out" "$AP/start.err"
		break
	fi
	: >"$AP/error.log"
	apache2 -d "$AP" -f "$AP/httpd.conf" -DFOREGROUND \
	    </dev/null >"$AP/start.err" 2>&1 &
	APID=$!
	if it_wait_http "http://127.0.0.1:$p/" && kill -0 "$APID" 2>/dev/null; then
		PORT=$p
		it_track "$APID"
		break
	fi
	wait "$APID" 2>/dev/null
	APID=
	grep -q 'Address already in use' "$AP/start.err" "$AP/error.log" || break
done
if [ -z "$PORT" ]; then
	not_ok "Apache starts with the shipped files" \
	    "$(cat "$AP/start.err" "$AP/error.log" 2>/dev/null | tr '\n' ' ')"
	it_done
fi
ok "Apache starts with the shipped files (port $PORT)"
URL=http://127.0.0.1:$PORT

# ---- mod_proxy_fcgi ----

px_kill() {
	it_worker_kill px
}
IT_CURL="-H Host:proxy-fcgi.test"
it_scenario "Apache+proxy_fcgi" "$URL/esignhook" px px_kill
chk_reset
chk_eq "new pid" yes "$(p=$(cat "$IT_DIR/px.pid"); \
    [ -n "$p" ] && [ "$p" != "$KILLED_PID" ] && echo yes)"
chk_done "Apache+proxy_fcgi: the restart loop started a new esignhook"
# LimitRequestBody does not apply to what mod_proxy_fcgi forwards: the
# three 413s (two declared, one chunked) are esignhook's own.
chk_reset
chk_eq "413 lines in esignhook's log" 3 "$(grep -c 'status=413' "$IT_DIR/logs/px.log")"
chk_done "Apache+proxy_fcgi: esignhook's own limit answered the 413s"

# ---- mod_fcgid ----

# The processes mod_fcgid started from our wrapper (exact path).
fcgid_pids() {
	ps -eo pid=,args= | awk -v b="$IT_DIR/bin/esignhook-fcgid" \
	    '$2 == b { print $1 }'
}
fcgid_kill() {
	for fk_p in $(fcgid_pids); do
		kill -9 "$fk_p" && KILLED_PID=${KILLED_PID:-$fk_p}
	done
}
IT_CURL="-H Host:fcgid.test"
IT_CHUNKED_OVER=500
it_scenario "Apache+mod_fcgid" "$URL/esignhook" fcgid fcgid_kill
IT_CHUNKED_OVER=
chk_reset
FCGID_NOW=$(fcgid_pids | tr '\n' ' ')
chk_eq "a new esignhook process" yes "$([ -n "$FCGID_NOW" ] && echo yes)"
for p in $FCGID_NOW; do
	chk_eq "not the killed one" yes "$([ "$p" != "$KILLED_PID" ] && echo yes)"
done
chk_done "Apache+mod_fcgid: mod_fcgid started a new esignhook after kill -9"

# ---- classic CGI with the .htaccess ----

IT_CURL="-H Host:cgi.test"
it_scenario "Apache CGI+.htaccess" "$URL/cgi/esignhook.cgi" cgi ""
it_scenario "Apache CGI+.htaccess (RewriteRule fallback, no CGIPassAuth)" \
    "$URL/cgirw/esignhook.cgi" cgirw ""

# Control: without CGIPassAuth or the RewriteRule, Apache withholds
# Authorization from the program, and OneSpan's callbacks are refused.
chk_reset
chk_eq "OneSpan" 401 "$(it_onespan "$URL/cgino/esignhook.cgi/onespan" \
    "$OS_KEY" "$DATA/onespan/package-complete.json")"
chk_eq "AlphaTrust" 200 "$(it_alphatrust \
    "$URL/cgino/esignhook.cgi/alphatrust/$AT_TOKEN" \
    "$DATA/alphatrust/transaction-complete.form")"
chk_eq "files in new/" 1 "$(it_count cgino)"
chk_done "Apache CGI without CGIPassAuth: Authorization is withheld, OneSpan gets 401 (the trap the .htaccess avoids)"
IT_CURL=

# ---- logs ----

chk_reset
for n in px fcgid; do
	chk_eq "$n: masked AlphaTrust path" yes \
	    "$(grep -q '"POST /esignhook/alphatrust/\* HTTP/1.1" 200 ' \
	    "$AP/$n-esignhook-access.log" && echo yes)"
	chk_eq "$n: OneSpan path" yes \
	    "$(grep -q '"POST /esignhook/onespan HTTP/1.1" 200 ' \
	    "$AP/$n-esignhook-access.log" && echo yes)"
	chk_eq "$n: hook requests in the combined log" 0 \
	    "$(grep -c '/esignhook/' "$AP/$n-access.log" 2>/dev/null)"
done
chk_done "Apache: with the shipped SetEnvIf/LogFormat/CustomLog lines the hook's requests are logged masked only"
it_no_secrets "Apache: no secret in the proxy_fcgi and fcgid virtual hosts' access logs" \
    "$AP/px-esignhook-access.log" "$AP/px-access.log" \
    "$AP/fcgid-esignhook-access.log" "$AP/fcgid-access.log"
it_no_secrets "Apache: no secret in esignhook's logs (its own, and Apache's error log)" \
    "$IT_DIR/logs/px.log" "$AP/error.log"
chk_reset
chk_eq "AH01630 lines" 0 "$(grep -c AH01630 "$AP/error.log")"
chk_done "Apache: no 'client denied' (AH01630) in the error log for callbacks"

# ---- stop ----

PIDS="$APID $(ps -o pid= --ppid "$APID" 2>/dev/null) $(fcgid_pids) \
    $(cat "$IT_DIR/px.pid" "$IT_DIR/px.loop" 2>/dev/null)"
it_stop_all
sleep 0.2
it_all_gone "Apache, its children, mod_fcgid's esignhook, the restart loop and esignhook all stopped" \
    "$PIDS $(fcgid_pids)"

it_done
