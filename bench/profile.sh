#!/bin/sh
# bench/profile.sh: where a delivery's time goes (issue 11), in measures
# that do not depend on the machine's load:
#   syscalls   system calls per delivery, per call, of a FastCGI worker
#              (cgi/esignhook, OneSpan and AlphaTrust, in each spool
#              commit mode: ESIGNHOOK_SPOOL_COMMIT=file and group)
#              against bench/ceiling.c's responder: strace -f -c of a
#              worker serving WARM then WARM + N callbacks, the
#              difference over N (start-up and stop cancel out), one
#              after the other and PROFILE_CONNS at once (group mode's
#              fdatasync is shared by the callbacks appended meanwhile,
#              so it is shown apart); and where each of esignhook's
#              comes from (strace -k, the innermost function of
#              esignhook's own, from a build without inlining)
#   cgi        the same per CGI invocation (esignhook as CGI against
#              bench/ceiling-cgi.c), start-up included: it is paid per
#              request
#   callgrind  user-space instructions per delivery, per step (accept,
#              params, authentication, body, parse, dedupe key, record,
#              dedupe marker, spool write, reply, log line, finish),
#              inclusive, from valgrind --tool=callgrind over two runs as
#              above, against the ceiling's; CGI per invocation
#   sandbox    what each system call of the path costs without and inside
#              the FastCGI sandbox (bench/syscost.c), the filters' cost
#              that callgrind cannot see
#   summary    the per-delivery system-call totals only (make bench):
#              a line per worker, then "syscalls TAG TOTAL FSYNC
#              FDATASYNC SYNCFS CONNS" lines for bench/run.sh
#   all        (default) every table but summary
# Usage: sh bench/profile.sh [MODE...]    after make.
# PROFILE_N (default 2000), PROFILE_WARM (200), PROFILE_CG_N (500),
# PROFILE_CG_WARM (100), PROFILE_CGI_N (32), PROFILE_SYSCOST_ROUNDS (5),
# PROFILE_CONNS (16: make bench's connections).  Writes the tables to stdout and
# bench/out/profile.md.  Needs strace, valgrind, spawn-fcgi, python3.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=${PROFILE_N:-2000}
WARM=${PROFILE_WARM:-200}
CG_N=${PROFILE_CG_N:-500}
CGI_N=${PROFILE_CGI_N:-32}
CONNS=${PROFILE_CONNS:-16}
THREADS=${THREADS:-8}
W=$ROOT/bench/out/profile
OUT=$ROOT/bench/out/profile.md
KEY=prof-onespan-key-0123456789
TOKEN=prof-token-0123456789
MODES=${*:-all}
[ "$MODES" = all ] && MODES="syscalls cgi callgrind sandbox"

for t in strace spawn-fcgi python3; do
	command -v "$t" >/dev/null 2>&1 || { echo "profile: $t missing" >&2; exit 1; }
done
case " $MODES " in *" callgrind "*)
	command -v valgrind >/dev/null 2>&1 ||
	    { echo "profile: valgrind missing" >&2; exit 1; } ;;
esac

# ---- builds ----
# The receiver as make builds it, and, for the attribution of system
# calls and instructions to esignhook's functions, the same sources
# with the same flags but no inlining (bench/out/prof/): the work is
# the same, only where it is charged differs.
make -s all
mkdir -p "$W" bench/out/prof
cc -O2 -o bench/out/ceiling bench/ceiling.c -lfcgi -lpthread
cc -O2 -o bench/out/ceiling-cgi bench/ceiling-cgi.c
mkvar() { make -s --no-print-directory --eval="pv: ; @echo \$($1)" pv; }
prof_build() {
	flags="$(mkvar ALL_CFLAGS) $(mkvar HARDEN) -fno-inline"
	objs=
	for s in $(mkvar LIB_SRCS) cgi/esignhook.c cgi/sandbox.c; do
		o=bench/out/prof/$(echo "$s" | tr / _).o
		# shellcheck disable=SC2046,SC2086
		cc $flags -c -o "$o" "$s"
		objs="$objs $o"
	done
	# shellcheck disable=SC2046,SC2086
	cc -o bench/out/prof/esignhook $objs $(mkvar FCGI_LIBS) \
	    $(mkvar LIB_LIBS) -lseccomp -lpthread
	cc -O2 -g -fno-inline -o bench/out/prof/ceiling bench/ceiling.c \
	    -lfcgi -lpthread
	cc -O2 -g -fno-inline -o bench/out/prof/ceiling-cgi bench/ceiling-cgi.c
}
case " $MODES " in *" syscalls "*|*" callgrind "*|*" cgi "*) prof_build ;; esac

# The environment of bench/run.sh's FastCGI workers.  COMMIT: the spool
# commit mode of the workers started next (worker); SEND_CONNS: how
# many callbacks send has in flight at once.
COMMIT="file"
SEND_CONNS=1
export ESIGNHOOK_ONESPAN_KEYS="$KEY" ESIGNHOOK_ALPHATRUST_TOKENS="$TOKEN" \
    ESIGNHOOK_THREADS="$THREADS" ESIGNHOOK_SPOOL_MIN_FREE=0 \
    ESIGNHOOK_SPOOL_MAX_EVENTS=0 ESIGNHOOK_ALLOW_ROOT=1 \
    CEILING_THREADS="$THREADS"

WPID=
cleanup() {
	[ -z "$WPID" ] || kill "$WPID" 2>/dev/null || true
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

# shards SPOOL: seen/'s 256 shard directories, as a spool in service
# has them after its first thousand OneSpan events (otherwise the
# first marker of each shard costs a mkdirat and a failed symlinkat).
shards() {
	mkdir -p "$1/seen"
	i=0
	while [ "$i" -lt 256 ]; do
		mkdir -m 700 "$1/seen/$(printf %02x "$i")"
		i=$((i + 1))
	done
	chmod -R go-rwx "$1"
}

# worker TAG BIN WRAPPER...: start BIN as a FastCGI worker on its own
# socket under WRAPPER (strace, valgrind), as spawn-fcgi starts it in
# make bench; sets SOCK.  The socket is bound before BIN runs, so
# connections wait in its backlog until BIN accepts.
worker() {
	tag=$1 bin=$2
	shift 2
	# spawn-fcgi runs its program by path, not through $PATH.
	wrap=$(command -v "$1")
	shift
	SOCK=$W/$tag.sock
	rm -rf "$SOCK" "$W/$tag.spool"
	shards "$W/$tag.spool"
	ESIGNHOOK_SPOOL=$W/$tag.spool CEILING_SPOOL=$W/$tag.spool \
	    ESIGNHOOK_SPOOL_COMMIT=$COMMIT \
	    spawn-fcgi -n -s "$SOCK" -M 0600 -- "$wrap" "$@" "$bin" \
	    2>"$W/$tag.log" >/dev/null &
	WPID=$!
	while [ ! -S "$SOCK" ]; do sleep 0.05; done
}
# stop: end the worker, wait for its wrapper.  (libfcgi's SIGTERM
# handler only marks the ceiling for a stop at its next request.)
stop() {
	# valgrind runs its program in its own process; strace in a child.
	# Under strace, SIGKILL (strace writes its count as the process
	# ends; what the end costs cancels out like the start); valgrind
	# writes its profile only at a clean exit: SIGTERM.
	c=$(pgrep -P "$WPID" || true)
	if [ -n "$c" ]; then
		kill -KILL "$c" 2>/dev/null || true
	else
		c=$WPID
		kill -TERM "$c" 2>/dev/null || true
		# The ceiling (libfcgi) stops at its next accept: one more
		# connection, unanswered, in both runs.
		sleep 0.5
		kill -0 "$c" 2>/dev/null &&
		    python3 bench/fcgi-post.py "$SOCK" onespan 1 >/dev/null 2>&1 ||
		    true
	fi
	i=0
	while [ "$i" -lt 120 ] && kill -0 "$c" 2>/dev/null; do
		sleep 0.25
		i=$((i + 1))
	done
	kill -KILL "$c" 2>/dev/null || true
	wait "$WPID" 2>/dev/null || true
	WPID=
}
# send KIND COUNT TAG: COUNT callbacks, SEND_CONNS at a time.
send() {
	[ "$2" -gt 0 ] || return 0
	python3 bench/fcgi-post.py "$SOCK" "$1" "$2" --key "$KEY" \
	    --token "$TOKEN" --tag "$3" --conns "$SEND_CONNS" >/dev/null || {
		echo "profile: not every $1 callback got its 200" >&2; exit 1; }
}

# counts FILE: "name calls errors" from strace -c -U name,calls,errors.
counts() {
	awk '$1 == "syscall" || $1 ~ /^-/ || $1 == "total" || NF == 0 { next }
	    { print $1, $2, (NF > 2 ? $3 : 0) }' "$1"
}
# perdelivery A B N: per-name (B - A) / N, "name calls errors".
perdelivery() {
	awk -v n="$3" 'FNR == 1 { f++ } f == 1 { c[$1] -= $2; e[$1] -= $3; next }
	    { c[$1] += $2; e[$1] += $3 }
	    END { for (k in c) printf "%s %.2f %.2f\n", k, c[k] / n, e[k] / n }' \
	    "$1" "$2" | awk '$2 + 0 >= 0.005 || $2 + 0 <= -0.005'
}

# strace_run TAG BIN KIND COUNT: the worker's system calls over COUNT
# callbacks into $W/TAG.COUNT.sc (counts format).
strace_run() {
	worker "$1" "$2" strace -f -qq -c -U name,calls,errors \
	    -o "$W/$1.$4.raw"
	send "$3" "$4" "$1$4"
	stop
	counts "$W/$1.$4.raw" >"$W/$1.$4.sc"
}
# syscalls_of TAG BIN KIND: per-delivery counts into $W/TAG.pd.
syscalls_of() {
	strace_run "$1" "$2" "$3" "$WARM"
	strace_run "$1" "$2" "$3" $((WARM + N))
	perdelivery "$W/$1.$WARM.sc" "$W/$1.$((WARM + N)).sc" "$N" |
	    sort >"$W/$1.pd"
}
total_of() { awk '{ s += $2 } END { printf "%.2f", s }' "$1"; }
# call_of FILE NAME: NAME's calls per delivery in FILE (0 if none).
call_of() { awk -v k="$2" '$1 == k { v = $2 } END { printf "%.2f", v + 0 }' "$1"; }
# syscalls_mode TAG BIN KIND COMMIT CONNS: syscalls_of in that commit
# mode, CONNS callbacks at once.
syscalls_mode() {
	COMMIT=$4 SEND_CONNS=$5
	syscalls_of "$1" "$2" "$3"
	COMMIT="file" SEND_CONNS=1
}
# The workers counted: "TAG BIN KIND COMMIT CONNS", TAG-c at CONNS at once.
workers_counted() {
	for c in 1 "$CONNS"; do
		sfx=
		[ "$c" = 1 ] || sfx=-c
		echo "eh-onespan$sfx cgi/esignhook onespan file $c"
		echo "eh-alphatrust$sfx cgi/esignhook alphatrust file $c"
		echo "eh-group-onespan$sfx cgi/esignhook onespan group $c"
		echo "eh-group-alphatrust$sfx cgi/esignhook alphatrust group $c"
		echo "ceiling$sfx bench/out/ceiling onespan file $c"
	done
}

# sites TAG BIN KIND: where each system call comes from: strace -k of
# WARM2 then WARM2 + K callbacks, "syscall@function" counted, the
# difference over K.  The function is the innermost of esignhook's own
# (a libfcgi or libsodium function between it and libc is named too).
SITE_WARM=20
SITE_K=40
site_counts() {
	awk -v bin="$2" '
	function emit() { if (cur != "") n[cur "@" (site == "" ? "?" : site) (via != "" ? "[" via "]" : "")]++; cur = ""; site = ""; via = "" }
	/^ > / {
		if (cur == "" || site != "") next
		line = $0
		sub(/^ > /, "", line)
		obj = line; sub(/\(.*/, "", obj)
		fn = line; sub(/^[^(]*\(/, "", fn); sub(/[+)].*/, "", fn)
		if (obj == bin) { site = fn; sub(/\.(constprop|isra|part|cold)\..*/, "", site); next }
		if (obj ~ /libc\.so|ld-linux/) next
		if (via == "") { via = obj; sub(/.*\//, "", via); sub(/\.so.*/, "", via) }
		next
	}
	{
		emit()
		if ($0 ~ /<unfinished \.\.\.>$/ || $2 ~ /^(---|\+\+\+)/) next
		if ($2 == "<...") { cur = $3; next }
		name = $2; sub(/\(.*/, "", name); cur = name
	}
	END { emit(); for (k in n) print k, n[k] }' "$1"
}
sites_of() {
	for k in "$SITE_WARM" $((SITE_WARM + SITE_K)); do
		worker "$1" "$2" strace -f -qq -k -o "$W/$1.k$k.raw"
		send "$3" "$k" "$1k$k"
		stop
		site_counts "$W/$1.k$k.raw" "$ROOT/$2" | awk '{ print $1, $2, 0 }' \
		    >"$W/$1.k$k.sc"
	done
	perdelivery "$W/$1.k$SITE_WARM.sc" "$W/$1.k$((SITE_WARM + SITE_K)).sc" \
	    "$SITE_K" | sort >"$W/$1.sites"
}

# cg_inclusive FILE: "function inclusive 0" from a callgrind
# profile: a function's own cost plus that of the calls it makes
# (the line after calls=); and "caller>callee inclusive 0", what the
# calls from one function to another cost.  Not meant for recursive functions
# (jansson's dump), which it counts more than once; esignhook's
# steps are not.
cg_inclusive() {
	awk 'function nm(s,   id) {
		if (match(s, /^\([0-9]+\)/)) {
			id = substr(s, 2, RLENGTH - 2)
			if (length(s) > RLENGTH) { s = substr(s, RLENGTH + 2); names[id] = s }
			else s = names[id]
		}
		sub(/\.(constprop|isra|part|cold)\..*/, "", s)
		return s
	}
	/^fn=/ { cur = nm(substr($0, 4)); call = 0; next }
	/^cfn=/ { callee = nm(substr($0, 5)); next }
	/^calls=/ { call = 1; next }
	/^(summary|totals):/ { total = $2; next }
	/^[0-9+*-]/ { if (call) { inc[cur] += $NF; pair[cur ">" callee] += $NF; call = 0 }
		else inc[cur] += $NF
		next }
	END { for (f in inc) print f, inc[f], 0
		for (f in pair) print f, pair[f], 0
		print "TOTAL", total, 0 }' "$1"
}
# table3 A B C TITLES...: one markdown table of three per-delivery files.
table3() { tablen 3 "$@"; }
# tablen K FILE... TITLE...: the same of K per-delivery files; with a
# total less fdatasync when one of them has any (group mode's shared
# journal commit: how many deliveries share one depends on how many
# arrive meanwhile).
tablen() {
	k=$1
	shift
	i=0 files="" head="| system call |" rule="|---|"
	while [ "$i" -lt "$k" ]; do
		files="$files $1"
		shift
		i=$((i + 1))
	done
	for t in "$@"; do
		head="$head $t |" rule="$rule---:|"
	done
	echo "$head"
	echo "$rule"
	# shellcheck disable=SC2086
	awk -v k="$k" 'FNR == 1 { f++ }
	    { s[$1] = 1; v[f, $1] = $2; e[f, $1] = $3; t[f] += $2 }
	    function cell(i, c) { if (!((i, c) in v)) return "0"
	        return v[i, c] (e[i, c] + 0 > 0 ? " (" e[i, c] " fail)" : "") }
	    END {
		for (c in s) {
			line = "| " c " |"
			for (i = 1; i <= k; i++) line = line " " cell(i, c) " |"
			print line | "sort"
		}
		close("sort")
		line = "| **total** |"
		for (i = 1; i <= k; i++) line = line sprintf(" **%.2f** |", t[i])
		print line
		if (!("fdatasync" in s)) exit
		line = "| **total less fdatasync** |"
		for (i = 1; i <= k; i++) line = line sprintf(" **%.2f** |", t[i] - v[i, "fdatasync"])
		print line
	    }' $files
}

{
echo "# Where the time goes: bench/profile.sh, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "Machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), kernel $(uname -r), spool on $(df -T "$W" | awk 'NR==2 {print $2}')."
echo "Command: \`sh bench/profile.sh ${*:-all}\` (PROFILE_N=$N PROFILE_WARM=$WARM PROFILE_CG_N=$CG_N PROFILE_CGI_N=$CGI_N PROFILE_CONNS=$CONNS THREADS=$THREADS)."
echo "Callbacks: bench/fcgi-post.py, nginx's params and wrk's bodies (bench/callback.lua), one connection each, one at a time (and, where a table says so, PROFILE_CONNS at once)."
} >"$OUT.head"

: >"$OUT.body"
say() { tee -a "$OUT.body"; }

# ---- system calls per delivery, FastCGI ----
for m in $MODES; do case $m in
syscalls|summary)
	[ "$m" = summary ] && N=${PROFILE_N:-500} WARM=${PROFILE_WARM:-100}
	workers_counted >"$W/counted"
	while read -r tag bin kind commit nc; do
		syscalls_mode "$tag" "$bin" "$kind" "$commit" "$nc"
	done <"$W/counted"
	if [ "$m" = summary ]; then
		echo "System calls per delivery (strace -f -c of one worker, $THREADS threads, $N callbacks after $WARM; fdatasync, group mode's shared journal commit, apart):"
		printf '  %-30s %7s %7s %9s %14s %9s\n' worker "at once" total fdatasync "less fdatasync" "/ ceiling"
		while read -r tag bin kind commit nc; do
			f=$W/$tag.pd
			sfx=
			[ "$nc" = 1 ] || sfx=-c
			tot=$(total_of "$f") d=$(call_of "$f" fdatasync)
			ceil=$(total_of "$W/ceiling$sfx.pd")
			case $tag in ceiling*) name=ceiling ;; *) name="esignhook $commit $kind" ;; esac
			printf '  %-30s %7s %7s %9s %14s %8sx\n' "$name" "$nc" "$tot" "$d" \
			    "$(awk -v a="$tot" -v b="$d" 'BEGIN { printf "%.2f", a - b }')" \
			    "$(awk -v a="$tot" -v b="$ceil" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
		done <"$W/counted"
		while read -r tag bin kind commit nc; do
			f=$W/$tag.pd
			echo "syscalls $tag $(total_of "$f") $(call_of "$f" fsync) $(call_of "$f" fdatasync) $(call_of "$f" syncfs) $nc"
		done <"$W/counted"
		continue
	fi
	sites_of prof-onespan bench/out/prof/esignhook onespan
	sites_of prof-alphatrust bench/out/prof/esignhook alphatrust
	COMMIT=group
	sites_of prof-group-onespan bench/out/prof/esignhook onespan
	COMMIT="file"
	{
	echo
	echo "## System calls per delivery, FastCGI"
	echo
	echo "strace -f -c of one worker process ($THREADS threads) serving $WARM, then $WARM + $N callbacks; the difference over $N. (n fail): of those, how many returned an error. file and group: ESIGNHOOK_SPOOL_COMMIT. One callback after the other:"
	echo
	tablen 5 "$W/eh-onespan.pd" "$W/eh-alphatrust.pd" \
	    "$W/eh-group-onespan.pd" "$W/eh-group-alphatrust.pd" "$W/ceiling.pd" \
	    "file OneSpan" "file AlphaTrust" "group OneSpan" "group AlphaTrust" "ceiling"
	echo
	echo "The same with $CONNS callbacks at once (bench/fcgi-post.py --conns $CONNS; at most $THREADS in the worker at a time): in group mode one fdatasync covers every record appended while the one before ran."
	echo
	tablen 5 "$W/eh-onespan-c.pd" "$W/eh-alphatrust-c.pd" \
	    "$W/eh-group-onespan-c.pd" "$W/eh-group-alphatrust-c.pd" "$W/ceiling-c.pd" \
	    "file OneSpan" "file AlphaTrust" "group OneSpan" "group AlphaTrust" "ceiling"
	echo
	for t in group-onespan group-alphatrust; do
		for sfx in "" -c; do
			d=$(call_of "$W/eh-$t$sfx.pd" fdatasync)
			echo "- $t, $([ -z "$sfx" ] && echo "one at a time" || echo "$CONNS at once"): $d fdatasync per delivery ($(awk -v d="$d" 'BEGIN { printf "%.1f", (d > 0 ? 1 / d : 0) }') deliveries per fdatasync), $(call_of "$W/eh-$t$sfx.pd" syncfs) syncfs"
		done
	done
	echo
	echo "Where esignhook's come from (strace -k; the innermost esignhook function, [the library] between it and libc; $SITE_K callbacks after $SITE_WARM, one at a time):"
	echo
	echo "| system call @ function | file OneSpan | file AlphaTrust | group OneSpan |"
	echo "|---|---:|---:|---:|"
	awk 'FNR == 1 { f++ } { k[$1] = 1; v[f, $1] = $2 }
	    function g(i, s) { return ((i, s) in v) ? v[i, s] : 0 }
	    END { for (s in k) printf "| %s | %s | %s | %s |\n", s, g(1, s), g(2, s), g(3, s) }' \
	    "$W/prof-onespan.sites" "$W/prof-alphatrust.sites" \
	    "$W/prof-group-onespan.sites" | sed 's/@/ @ /' | sort
	} | say
	;;

# ---- per CGI invocation ----
cgi)
	cgi_env() { # KIND I: the environment of one CGI request
		env -i PATH=/usr/bin:/bin GATEWAY_INTERFACE=CGI/1.1 \
		    SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD=POST \
		    REMOTE_ADDR=127.0.0.1 ESIGNHOOK_SPOOL="$W/cgi.spool" \
		    ESIGNHOOK_ONESPAN_KEYS="$KEY" \
		    ESIGNHOOK_ALPHATRUST_TOKENS="$TOKEN" \
		    ESIGNHOOK_SPOOL_MIN_FREE=0 ESIGNHOOK_ALLOW_ROOT=1 \
		    CEILING_SPOOL="$W/cgi-ceiling" \
		    "$@"
	}
	cgi_runs() { # TAG BIN KIND: strace -f -c of CGI_N invocations, summed
		rm -rf "$W/cgi.spool" "$W/cgi-ceiling"
		shards "$W/cgi.spool"
		mkdir -p "$W/cgi-ceiling/tmp" "$W/cgi-ceiling/new"
		: >"$W/$1.cgi.all"
		i=0
		while [ "$i" -le "$CGI_N" ]; do
			python3 bench/fcgi-post.py --body "$3" "9$i" >"$W/body"
			len=$(wc -c <"$W/body" | tr -d ' ')
			if [ "$3" = onespan ]; then
				cgi_env CONTENT_LENGTH="$len" \
				    CONTENT_TYPE=application/json \
				    HTTP_AUTHORIZATION="Basic $KEY" \
				    REQUEST_URI=/cgi/esignhook.cgi/onespan \
				    strace -f -qq -c -U name,calls,errors \
				    -o "$W/one.raw" "$2" <"$W/body" >"$W/reply" \
				    2>>"$W/cgi.log"
			else
				cgi_env CONTENT_LENGTH="$len" \
				    CONTENT_TYPE=application/x-www-form-urlencoded \
				    REQUEST_URI="/cgi/esignhook.cgi/alphatrust/$TOKEN" \
				    strace -f -qq -c -U name,calls,errors \
				    -o "$W/one.raw" "$2" <"$W/body" >"$W/reply" \
				    2>>"$W/cgi.log"
			fi
			grep -q '^Status: 200' "$W/reply" || {
				echo "profile: CGI $1 did not answer 200" >&2
				cat "$W/reply" >&2; exit 1; }
			# The first invocation makes the spool: not counted.
			[ "$i" -eq 0 ] || counts "$W/one.raw" >>"$W/$1.cgi.all"
			i=$((i + 1))
		done
		awk -v n="$CGI_N" '{ c[$1] += $2; e[$1] += $3 }
		    END { for (k in c) printf "%s %.2f %.2f\n", k, c[k] / n, e[k] / n }' \
		    "$W/$1.cgi.all" | sort >"$W/$1.pd"
	}
	# cgi_cg TAG BIN: callgrind of one OneSpan invocation (the second:
	# the first makes the spool), inclusive Ir per function.
	cgi_cg() {
		rm -rf "$W/cgi.spool" "$W/cgi-ceiling"
		shards "$W/cgi.spool"
		mkdir -p "$W/cgi-ceiling/tmp" "$W/cgi-ceiling/new"
		for i in 1 2; do
			python3 bench/fcgi-post.py --body onespan "8$i" >"$W/body"
			cgi_env CONTENT_LENGTH="$(wc -c <"$W/body" | tr -d ' ')" \
			    CONTENT_TYPE=application/json \
			    HTTP_AUTHORIZATION="Basic $KEY" ESIGNHOOK_SANDBOX=0 \
			    REQUEST_URI=/cgi/esignhook.cgi/onespan \
			    valgrind -q --tool=callgrind \
			    --callgrind-out-file="$W/$1.cg" "$2" <"$W/body" \
			    >"$W/reply" 2>>"$W/cgi.log"
		done
		cg_inclusive "$W/$1.cg" >"$W/$1.cgfn"
	}
	cgi_runs cgi-eh-onespan cgi/esignhook onespan
	cgi_runs cgi-eh-alphatrust cgi/esignhook alphatrust
	cgi_runs cgi-ceiling bench/out/ceiling-cgi onespan
	{
	echo
	echo "## System calls per CGI invocation"
	echo
	echo "strace -f -c of each of $CGI_N invocations (after one that makes the spool), the mean; start-up (execve, the dynamic loader, libraries' initialisation, the sandbox) included: a CGI pays it per request. The environment of bench/run.sh's Apache (ESIGNHOOK_SPOOL_MAX_EVENTS at its default: a CGI counts new/ on one request in 16)."
	echo
	table3 "$W/cgi-eh-onespan.pd" "$W/cgi-eh-alphatrust.pd" "$W/cgi-ceiling.pd" \
	    "esignhook OneSpan" "esignhook AlphaTrust" "ceiling-cgi"
	cgi_cg cgi-eh bench/out/prof/esignhook
	cgi_cg cgi-ceil bench/out/prof/ceiling-cgi
	echo
	echo "User-space instructions of one OneSpan CGI invocation (callgrind, ESIGNHOOK_SANDBOX=0, inclusive Ir; the dynamic loader's relocation is _dl_start, the libraries' constructors _dl_init):"
	echo
	echo "| part | esignhook | ceiling-cgi |"
	echo "|---|---:|---:|"
	awk 'FNR == 1 { f++ } { v[f, $1] = $2 }
	    function g(i, k) { return ((i, k) in v) ? v[i, k] : 0 }
	    END {
		n = split("_dl_start _dl_init main sodium_init json_object_seed load_config eh_log_init FCGX_IsCGI eh_sandbox_enter cgi_spool_handle serve_one eh_serve log_request eh_config_free exit", k, " ")
		for (i = 1; i <= n; i++)
			printf "| %s | %d | %d |\n", k[i], g(1, k[i]), g(2, k[i])
		printf "| **total** | **%d** | **%d** |\n", g(1, "TOTAL"), g(2, "TOTAL")
	    }' "$W/cgi-eh.cgfn" "$W/cgi-ceil.cgfn"
	} | say
	;;

# ---- user-space instructions per step ----
callgrind)
	cg_run() { # TAG BIN KIND COUNT
		worker "$1" "$2" env ESIGNHOOK_SANDBOX=0 valgrind -q \
		    --tool=callgrind --callgrind-out-file="$W/$1.$4.cg"
		send "$3" "$4" "$1cg$4"
		stop
		cg_inclusive "$W/$1.$4.cg" \
		    >"$W/$1.$4.fn"
	}
	cg_of() { # TAG BIN KIND
		cg_run "$1" "$2" "$3" "$WARM"
		cg_run "$1" "$2" "$3" $((WARM + CG_N))
		perdelivery "$W/$1.$WARM.fn" "$W/$1.$((WARM + CG_N)).fn" "$CG_N" \
		    >"$W/$1.cgpd"
	}
	WARM_SAVE=$WARM
	CG_WARM=${PROFILE_CG_WARM:-100}
	WARM=$CG_WARM
	cg_of cg-eh-onespan bench/out/prof/esignhook onespan
	cg_of cg-eh-alphatrust bench/out/prof/esignhook alphatrust
	cg_of cg-eh-o2 cgi/esignhook onespan
	cg_of cg-eh-o2a cgi/esignhook alphatrust
	cg_of cg-ceiling bench/out/prof/ceiling onespan
	WARM=$WARM_SAVE
	# steps FILE: the issue's steps, from the inclusive costs of the
	# functions that do them (a step's function minus the sub-steps it
	# calls), "step instructions".
	steps() {
		awk '{ v[$1] = $2 }
		function g(f) { return (f in v) ? v[f] : 0 }
		END {
			t = g("TOTAL")
			if (g("worker_main") > 0) {
				auth = g("eh_handle_head")
				dk = g("eh__dedupe_key")
				parse = g("eh_handle_body") - dk
				rec = g("eh_record_build") + g("eh_id_make") + g("spool_id")
				mark = g("key_lock") + g("seen") + g("mark_seen")
				spool = g("store") - rec + g("spool_ready") + g("eh_spool_admit")
				printf "accept (accept4, socket options)\t%d\n", g("accept_one")
				printf "params (libfcgi reads and splits them; deadline timer)\t%d\n", g("read_params")
				printf "params (per-request overrides check, eh_config_any)\t%d\n", g("eh_config_any") + g("fcgi_may_override")
				printf "params (lookups, request_from)\t%d\n", g("request_from")
				printf "head checks + authentication (SHA-256 of the key)\t%d\n", auth
				printf "body (eh_read_body)\t%d\n", g("eh_read_body")
				printf "parse (JSON / form, event fields)\t%d\n", parse
				printf "dedupe key (canonical JSON + SHA-256)\t%d\n", dk
				printf "record (id, header JSON, splice)\t%d\n", rec
				printf "dedupe marker (seen/ lock, readlink, symlink)\t%d\n", mark
				printf "spool write (stat, statvfs, tmp, write, fsync, rename)\t%d\n", spool
				printf "reply (format, libfcgi write)\t%d\n", g("format_reply") + g("fcgi_reply")
				printf "log line\t%d\n", g("log_request")
				printf "finish (libfcgi close, linger)\t%d\n", g("fcgi_finish")
				printf "free (decision, event)\t%d\n", g("eh_decision_free")
				s = g("accept_one") + g("read_params") + g("eh_config_any") + g("fcgi_may_override") + g("request_from") + auth + g("eh_read_body") + parse + dk + rec + mark + spool + g("format_reply") + g("fcgi_reply") + g("log_request") + g("fcgi_finish") + g("eh_decision_free")
				printf "rest (loop, glue)\t%d\n", t - s
			} else {
				printf "accept + params (FCGX_Accept_r)\t%d\n", g("serve>FCGX_Accept_r")
				printf "params (lookup, FCGX_GetParam)\t%d\n", g("serve>FCGX_GetParam")
				printf "body (FCGX_GetStr)\t%d\n", g("serve>FCGX_GetStr")
				printf "spool write (store)\t%d\n", g("serve>store")
				printf "reply (FCGX_PutS)\t%d\n", g("serve>FCGX_PutS")
				printf "finish (FCGX_Finish_r)\t%d\n", g("serve>FCGX_Finish_r")
				s = g("serve>FCGX_Accept_r") + g("serve>FCGX_GetParam") + g("serve>FCGX_GetStr") + g("serve>store") + g("serve>FCGX_PutS") + g("serve>FCGX_Finish_r")
				printf "rest (loop, glue)\t%d\n", t - s
			}
			printf "TOTAL\t%d\n", t
		}' "$1"
	}
	steps "$W/cg-eh-onespan.cgpd" >"$W/steps.onespan"
	steps "$W/cg-eh-alphatrust.cgpd" >"$W/steps.alphatrust"
	steps "$W/cg-ceiling.cgpd" >"$W/steps.ceiling"
	{
	echo
	echo "## User-space instructions per delivery, per step, FastCGI"
	echo
	echo "valgrind --tool=callgrind (instructions executed, Ir: repeatable, user space only) of one worker ($THREADS threads, ESIGNHOOK_SANDBOX=0: valgrind cannot run under the worker's seccomp filter) serving $CG_WARM then $CG_WARM + $CG_N callbacks, the difference over $CG_N; inclusive cost of the functions doing each step, from a build without inlining (bench/out/prof/)."
	echo
	echo "| step | OneSpan Ir | share | AlphaTrust Ir | share |"
	echo "|---|---:|---:|---:|---:|"
	paste "$W/steps.onespan" "$W/steps.alphatrust" | awk -F '\t' '
	    { s[NR] = $1; a[NR] = $2; b[NR] = $4; n = NR }
	    END { ta = a[n]; tb = b[n]
	        for (i = 1; i <= n; i++)
	            printf "| %s | %s | %.1f%% | %s | %.1f%% |\n", (i == n ? "**total**" : s[i]), a[i], 100 * a[i] / ta, b[i], 100 * b[i] / tb }'
	echo
	echo "The ceiling (bench/ceiling.c), same method:"
	echo
	echo "| step | Ir | share |"
	echo "|---|---:|---:|"
	awk -F '\t' '{ s[NR] = $1; a[NR] = $2; n = NR }
	    END { for (i = 1; i <= n; i++) printf "| %s | %s | %.1f%% |\n", (i == n ? "**total**" : s[i]), a[i], 100 * a[i] / a[n] }' \
	    "$W/steps.ceiling"
	echo
	echo "Total per delivery of cgi/esignhook as make builds it (inlining on), OneSpan: $(awk '$1 == "TOTAL" { print $2 }' "$W/cg-eh-o2.cgpd") Ir (the no-inline build: $(awk '$1 == "TOTAL" { print $2 }' "$W/cg-eh-onespan.cgpd")); AlphaTrust: $(awk '$1 == "TOTAL" { print $2 }' "$W/cg-eh-o2a.cgpd") Ir (no-inline: $(awk '$1 == "TOTAL" { print $2 }' "$W/cg-eh-alphatrust.cgpd"))."
	echo
	echo "The functions with the largest inclusive cost per OneSpan delivery (Ir):"
	echo
	echo "| function | OneSpan | AlphaTrust |"
	echo "|---|---:|---:|"
	awk 'FNR == 1 { f++ } { k[$1] = 1; v[f, $1] = $2 }
	    END { for (s in k) if (s != "TOTAL" && s !~ />/ && s !~ /^0x/) printf "%s %d %d\n", s, v[1, s], v[2, s] }' \
	    "$W/cg-eh-onespan.cgpd" "$W/cg-eh-alphatrust.cgpd" | sort -k2,2nr |
	    awk '$2 >= 1000 && n++ < 40 { printf "| %s | %s | %s |\n", $1, $2, $3 }'
	} | say
	;;

# ---- the sandbox's cost per system call ----
sandbox)
	cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 -o bench/out/syscost bench/syscost.c \
	    build/obj/cgi/sandbox.o -lseccomp
	rm -rf "$W/syscost"
	mkdir -p "$W/syscost"
	bench/out/syscost "$W/syscost" "${PROFILE_SYSCOST_ROUNDS:-5}" >"$W/syscost.txt"
	{
	echo
	echo "## What the sandbox adds per system call"
	echo
	echo "bench/syscost.c: each operation in batches, the fastest batch's mean, ns per iteration, in a process without and one inside the FastCGI worker's sandbox (cgi/sandbox.c: Landlock on the spool, the libseccomp allow list), ${PROFILE_SYSCOST_ROUNDS:-5} rounds in turn, the fastest of each. Wall-clock, hence the minimum over batches; no fsync (the disk's cost, the ceiling's alike)."
	echo
	echo "| operation (system calls) | off ns | sandboxed ns | added ns | added % |"
	echo "|---|---:|---:|---:|---:|"
	awk -F '\t' '{ printf "| %s (%d) | %d | %d | %d | %.0f%% |\n", $1, $2, $3, $4, $4 - $3, 100 * ($4 - $3) / $3 }' \
	    "$W/syscost.txt"
	} | say
	;;
esac; done

if [ "$MODES" != summary ]; then
	cat "$OUT.head" "$OUT.body" >"$OUT"
	cat "$OUT.head"
	echo "written: $OUT"
fi
rm -f "$OUT.head" "$OUT.body"
