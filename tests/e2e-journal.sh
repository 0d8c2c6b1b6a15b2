#!/bin/sh
# e2e-journal.sh: group commit (ESIGNHOOK_SPOOL_COMMIT=group, README
# "Group commit"): the journal of FastCGI workers of cgi/esignhook under
# spawn-fcgi, and its recovery by a worker's start and by
# `esignhookctl drain`.  Segments are read and planted with a frame
# reader and writer of our own ($T/jseg.py, written from the spec:
# 64-byte head "EHJ1", length, id, BLAKE2b-128 of both and the record).
#
# Asserts: a 200 has its whole record in new/ at once, and its frame, the
# same bytes, in a segment of the worker's (named for its pid, 0600,
# locked) with no secret in it; the keeper removes the segment a little
# over a second later; SIGTERM leaves journal/ empty; as CGI the mode is
# file.  Recovery at a worker's start: a record in no folder is written
# to new/ byte for byte; one whole in done/ cur/ retry/ failed/ is left
# as it is (same inode); one short or empty in new/ or done/, or with a
# byte changed in failed/, is written whole in that folder; a torn last frame, a flipped bit (and what
# follows it) and a zeroed tail are dropped, the good frames before them
# recovered; an empty segment goes; the log line's counts; a segment a
# live process holds locked is left alone, and recovered once it is
# free (by a worker in file mode).  drain --once recovers a dead writer's segment and the event
# ends in done/ through the exec action.  kill -9 after some 200s: every
# acknowledged event is in new/, the restart removes the dead pid's
# segments and writes nothing again.  A per-request mode changes
# nothing (an invalid one: 500); a per-request spool (sandbox off) and
# esignhookctl inject store file by file; journal/ a regular file: the
# worker says why and stores file by file; an invalid mode stops the
# start.
# Run: sh tests/e2e-journal.sh (or SUITES=e2e-journal sh tests/run.sh).

E2E_MODE=fcgi
. "$(dirname "$0")/e2e-lib.sh"
e2e_setup
[ -x "$CTL" ] || { echo "e2e-journal: $CTL not built (run make)"; exit 2; }

GROUP=ESIGNHOOK_SPOOL_COMMIT=group
HOST=$(hostname | tr -c 'A-Za-z0-9\n' '-' | cut -c1-32)

cat >"$T/jseg.py" <<'EOF'
# jseg.py: journal segments, as README "Group commit" frames them.
#   make SEG ITEM...     write SEG (0600) of the ITEMs, in order:
#       rec:FILE    a whole frame of FILE's bytes (id: FILE's name)
#       torn:FILE   that frame cut short (head and half the record)
#       flip:FILE   that frame with one bit of its record flipped
#       zero:N      N zero bytes
#   holds SPOOL ID... -- SEG...
#                        each ID has a good frame in the SEGs whose
#                        record is SPOOL/new/ID.json byte for byte;
#                        prints "ok N" (good frames) or what is wrong
#   count SEG...         good frames in the SEGs
#   locked SEG           exit 0 if another process holds SEG's lock
#   hold SEG READY       lock SEG (POSIX lock: it conflicts with the
#                        workers' OFD locks), create READY, sleep
import fcntl, hashlib, os, struct, sys, time

HEAD = 64


def frame(path):
    rec = open(path, "rb").read()
    rid = os.path.basename(path)[:-len(".json")].encode("ascii")
    if len(rid) != 40:
        sys.exit("jseg: %s: not an <id>.json" % path)
    h = b"EHJ1" + struct.pack("<I", len(rec)) + rid
    return h + hashlib.blake2b(h + rec, digest_size=16).digest(), rec


def good_frames(data):
    out, off = [], 0
    while len(data) - off >= HEAD:
        h = data[off:off + HEAD]
        n = struct.unpack("<I", h[4:8])[0]
        if h[:4] != b"EHJ1" or off + HEAD + n > len(data):
            break
        rec = data[off + HEAD:off + HEAD + n]
        if hashlib.blake2b(h[:48] + rec, digest_size=16).digest() != h[48:]:
            break
        out.append((h[8:48].decode("ascii", "replace"), rec))
        off += HEAD + n
    return out


cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "make":
    out = b""
    for item in args[1:]:
        kind, arg = item.split(":", 1)
        if kind == "zero":
            out += b"\0" * int(arg)
            continue
        head, rec = frame(arg)
        if kind == "rec":
            out += head + rec
        elif kind == "torn":
            out += head + rec[:len(rec) // 2]
        elif kind == "flip":
            out += head + rec[:10] + bytes([rec[10] ^ 0x04]) + rec[11:]
        else:
            sys.exit("jseg: %s?" % item)
    fd = os.open(args[0], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, out)
    os.close(fd)
elif cmd in ("holds", "count"):
    cut = args.index("--") if cmd == "holds" else -1
    spool, ids = (args[0], args[1:cut]) if cmd == "holds" else (None, [])
    frames = []
    for seg in args[cut + 1:]:
        frames += good_frames(open(seg, "rb").read())
    if cmd == "count":
        print(len(frames))
        sys.exit(0)
    errs = []
    have = dict(frames)
    for i in ids:
        if i not in have:
            errs.append("no frame of %s" % i)
        elif have[i] != open(os.path.join(spool, "new", i + ".json"),
                             "rb").read():
            errs.append("frame of %s is not new/%s.json" % (i, i))
    print("; ".join(errs) if errs else "ok %d" % len(frames))
elif cmd == "locked":
    f = open(args[0], "r+b")
    try:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        sys.exit(0)
    sys.exit(1)
elif cmd == "hold":
    f = open(args[0], "r+b")
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    open(args[1], "w").close()
    time.sleep(300)
EOF
jseg() {
	"$PY" "$T/jseg.py" "$@"
}

# segs SPOOL [PATTERN]: the segments in SPOOL/journal/ (PATTERN: their
# names' glob, default *.seg), one path a line.
segs() {
	find "$1/journal" -maxdepth 1 -name "${2:-*.seg}" 2>/dev/null | sort
}

# journal_empty SPOOL: journal/ of SPOOL holds nothing (or is absent).
journal_empty() {
	[ -z "$(ls -A "$1/journal" 2>/dev/null)" ]
}

# hold SEG: a live writer holding SEG locked until unhold (HOLD_PID).
hold() {
	rm -f "$T/held"
	"$PY" "$T/jseg.py" hold "$1" "$T/held" &
	HOLD_PID=$!
	E2E_PIDS="$E2E_PIDS $HOLD_PID"
	wait_until 200 test -e "$T/held" || chk_fail "could not lock $1"
}

unhold() {
	kill "$HOLD_PID" 2>/dev/null
	wait "$HOLD_PID" 2>/dev/null
}

# recovery_counts LOGFILE: "SEGMENTS RECORDS WRITTEN TORN" of the last
# "journal recovery" line, or "none".
recovery_counts() {
	rc_l=$(grep 'journal recovery' "$1" | tail -n 1)
	rc_c=$(printf '%s\n' "$rc_l" | sed -n 's/.*journal recovery: \([0-9]*\) segments\{0,1\}, \([0-9]*\) records\{0,1\}, \([0-9]*\) written again, \([0-9]*\) torn tails\{0,1\} dropped.*/\1 \2 \3 \4/p')
	case $rc_l in
	*level=info*) echo "${rc_c:-unparsed: $rc_l}" ;;
	'') echo none ;;
	*) echo "not level=info: $rc_l" ;;
	esac
}

# Records to plant: events the real receiver (CGI, file mode) spooled.
# rec N: the path of the Nth, in the order they were received.
i=1
while [ "$i" -le 20 ]; do
	receive_onespan "$T/src" "$(mkbody "src$i.json" \
	    "$(os_json PACKAGE_COMPLETE "journal-src-$i")")" "src$i"
	i=$((i + 1))
done
ls "$T/src/new" | sort | sed "s|^|$T/src/new/|" >"$T/src.list"
rec() {
	sed -n "$1p" "$T/src.list"
}
id_of() {
	basename "$1" .json
}
chk_reset
chk_eq "records to plant" 20 "$(wc -l <"$T/src.list" | tr -d ' ')"
chk_done "journal: 20 records made by the receiver (CGI) to plant"

# ---- a live group-mode worker ----
chk_reset
use_config live "$GROUP"
grep -q 'FastCGI ready: .* commit group' "$LOG" ||
    chk_fail "no 'FastCGI ready: ... commit group': $(cat "$LOG")"
spool_snap
os_post "$(mkbody live1.json "$(os_json PACKAGE_COMPLETE journal-live-1)")"
live_segs=$(segs "$SPOOL")
chk_os_ok
chk_one_added
[ -n "$ADDED" ] && chk_record "$ADDED" onespan "$T/in/live1.json" true
LIVE1=${ADDED%.json}
[ -n "$live_segs" ] || chk_fail "no segment in journal/ right after the 200"
for s in $live_segs; do
	case ${s##*/} in
	*".$FCGI_PID."[0-9]*.seg) ;;
	*) chk_fail "segment not named <host>.$FCGI_PID.<seq>.seg: $s" ;;
	esac
	[ -e "$s" ] || continue
	chk_eq "mode of ${s##*/}" 600 "$(stat -c %a "$s")"
	jseg locked "$s" || chk_fail "${s##*/} is not locked by the worker"
done
chk_eq "mode of journal/" 700 "$(stat -c %a "$SPOOL/journal")"
chk_done "journal: a 200 in group mode: the whole record in new/ at once, journal/ (0700) holds a segment of the worker's pid, 0600, locked"

# Two AlphaTrust events, token in the path and in the query, and one
# more: the segments copied after each reply (a segment lives a second
# from its first record, and a moment after that once sealed).
mkdir "$T/segcopy"
grab_n=0
grab() {
	grab_n=$((grab_n + 1))
	for g_s in $(segs "$SPOOL"); do
		cp "$g_s" "$T/segcopy/${g_s##*/}.$grab_n" 2>/dev/null
	done
}
grab
chk_reset
spool_snap
at_post "$DATA/alphatrust/transaction-complete.form"
grab
chk_at_ok RECEIVED
at_get "$DATA/alphatrust/participant-complete.form"
grab
chk_at_ok RECEIVED
# A per-request mode is checked, and changes nothing.
os_post "$(mkbody live2.json "$(os_json PACKAGE_COMPLETE journal-live-2)")" \
    ESIGNHOOK_SPOOL_COMMIT=file
grab
chk_os_ok
LIVE_AT=$(spool_added | sed 's/\.json$//' | tr '\n' ' ')
chk_eq "events in new/" 3 "$(echo $LIVE_AT | wc -w | tr -d ' ')"
# shellcheck disable=SC2086
out=$(jseg holds "$SPOOL" $LIVE1 $LIVE_AT -- "$T"/segcopy/* 2>&1)
case $out in
'ok '*) ;;
*) chk_fail "segments: $out" ;;
esac
si=$(secrets_in "$SPOOL/journal" "$T/segcopy")
[ -z "$si" ] || chk_fail "secret found in: $si"
chk_done "journal: the worker's segments hold each event's frame, its record byte for byte as in new/, and no secret (OneSpan key, AlphaTrust token in path and query; a param ESIGNHOOK_SPOOL_COMMIT=file changes nothing)"

chk_reset
spool_snap
os_post "$(mkbody live3.json "$(os_json PACKAGE_COMPLETE journal-live-3)")" \
    ESIGNHOOK_SPOOL_COMMIT=batch
chk_eq status 500 "$STATUS"
case $REQ_LOG in
*ESIGNHOOK_SPOOL_COMMIT*) ;;
*) chk_fail "log does not name ESIGNHOOK_SPOOL_COMMIT: $REQ_LOG" ;;
esac
chk_nothing_spooled
chk_done "journal: param ESIGNHOOK_SPOOL_COMMIT=batch: 500, the log names the key, nothing spooled"

# The keeper: sealed after a second, removed once new/ holds its events.
chk_reset
gone() {
	for g_s in $live_segs; do
		[ ! -e "$g_s" ] || return 1
	done
}
wait_until 100 gone || chk_fail "still there after 5 s: $live_segs"
chk_eq "events in new/" 4 "$(count_new "$SPOOL")"
chk_done "journal: the keeper removes a segment a second or so old once its events are in new/"

chk_reset
fcgi_stop live
chk_eq "exit status after SIGTERM" 0 "$FCGI_RC"
journal_empty "$SPOOL" || chk_fail "journal/ holds: $(ls -A "$SPOOL/journal")"
chk_eq "events in new/" 4 "$(count_new "$SPOOL")"
chk_eq "files in tmp/" 0 "$(count_tmp "$SPOOL")"
chk_done "journal: SIGTERM: exit 0, journal/ empty, the events in new/"

# CGI: always file, whatever the mode says.
chk_reset
body=$(mkbody cgi.json "$(os_json PACKAGE_COMPLETE journal-cgi)")
env -i PATH=/usr/bin:/bin GATEWAY_INTERFACE=CGI/1.1 \
    SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=$REMOTE \
    "ESIGNHOOK_SPOOL=$T/spool-cgi" "ESIGNHOOK_ONESPAN_KEYS=$OS_KEY" \
    ESIGNHOOK_SPOOL_MIN_FREE=0 ESIGNHOOK_ALLOW_ROOT=1 "$GROUP" \
    REQUEST_METHOD=POST CONTENT_TYPE=application/json \
    "CONTENT_LENGTH=$(fsize "$body")" \
    "HTTP_AUTHORIZATION=Basic $OS_KEY" REQUEST_URI=/esignhook/onespan \
    "$BIN" <"$body" >"$T/resp" 2>"$T/logs/cgi-group.log"
parse_response "$T/resp"
chk_eq status 200 "$STATUS"
chk_eq "events in new/" 1 "$(count_new "$T/spool-cgi")"
journal_empty "$T/spool-cgi" ||
    chk_fail "journal/ holds: $(ls -A "$T/spool-cgi/journal")"
chk_done "journal: as CGI, $GROUP stores file by file (200, new/, no journal)"

# A per-request spool (sandbox off) is not the journal's: file by file.
chk_reset
use_config nosandbox "$GROUP" ESIGNHOOK_SANDBOX=off "ESIGNHOOK_SPOOL=$T/spool-ns"
os_post "$(mkbody ns1.json "$(os_json PACKAGE_COMPLETE journal-ns-1)")" \
    "ESIGNHOOK_SPOOL=$T/spool-param"
chk_os_ok
chk_eq "events in the param's spool" 1 "$(count_new "$T/spool-param")"
journal_empty "$T/spool-param" ||
    chk_fail "the param's spool has a journal: $(ls -A "$T/spool-param/journal")"
# shellcheck disable=SC2046
chk_eq "frames in the worker's journal" 0 \
    "$(jseg count $(segs "$T/spool-ns") /dev/null)"
os_post "$(mkbody ns2.json "$(os_json PACKAGE_COMPLETE journal-ns-2)")"
chk_os_ok
# shellcheck disable=SC2046
chk_eq "frames in the worker's journal after a request to its spool" 1 \
    "$(jseg count $(segs "$T/spool-ns") /dev/null)"
fcgi_stop nosandbox
chk_eq "exit status after SIGTERM" 0 "$FCGI_RC"
chk_done "journal: ESIGNHOOK_SANDBOX=off, a param ESIGNHOOK_SPOOL elsewhere: stored there file by file, no frame in the worker's journal; its own spool's next event is journaled"

# esignhookctl inject: always file.
chk_reset
CFG=$T/cfg/inject.env
base_config "$GROUP" "ESIGNHOOK_SPOOL=$T/spool-inject" >"$CFG"
ctl inject onespan "$(mkbody inject.json "$(os_json PACKAGE_COMPLETE journal-inject)")"
chk_eq "exit" 0 "$CTL_RC"
[ "$CTL_RC" -eq 0 ] || chk_fail "$(head -c 300 "$T/ctl.err")"
chk_eq "events in new/" 1 "$(count_new "$T/spool-inject")"
journal_empty "$T/spool-inject" ||
    chk_fail "journal/ holds: $(ls -A "$T/spool-inject/journal")"
chk_done "journal: esignhookctl inject with $GROUP in its configuration stores file by file"

# journal/ that cannot be a journal: the worker stores file by file,
# and says why.
chk_reset
mkdir -m 700 "$T/spool-jf"
: >"$T/spool-jf/journal"
use_config jfile "$GROUP" "ESIGNHOOK_SPOOL=$T/spool-jf"
[ -S "$FCGI_SOCK" ] || chk_fail "the worker did not start: $(cat "$LOG")"
grep -q 'FastCGI ready: .*commit file' "$LOG" ||
    chk_fail "not ready in file mode: $(grep 'FastCGI ready' "$LOG")"
grep 'level=error' "$LOG" >"$T/jf.err"
grep -q 'journal recovery.*Not a directory' "$T/jf.err" ||
    chk_fail "no recovery error naming the cause: $(grep 'journal recovery' "$T/jf.err")"
grep -q 'journal in .*Not a directory.*storing file by file' "$T/jf.err" ||
    chk_fail "no error saying the journal cannot be opened: $(cat "$T/jf.err")"
spool_snap
os_post "$(mkbody jf.json "$(os_json PACKAGE_COMPLETE journal-jf)")"
chk_os_ok
chk_one_added
fcgi_stop jfile
chk_done "journal: journal/ a regular file: the worker logs why (Not a directory), stores file by file: 200, new/"

# An invalid mode: the worker does not start.
chk_reset
env -i PATH=/usr/bin:/bin "ESIGNHOOK_SPOOL=$T/spool" \
    "ESIGNHOOK_ONESPAN_KEYS=$OS_KEY" ESIGNHOOK_SPOOL_COMMIT=batch \
    $E2E_ROOT_OK timeout 10 "$SPAWN_FCGI" -n -s "$T/bad.sock" -- "$BIN" \
    >/dev/null 2>"$T/logs/badmode.log"
rc=$?
[ "$rc" -ne 0 ] || chk_fail "exit status 0"
[ "$rc" -ne 124 ] || chk_fail "still running after 10 s"
grep -q 'ESIGNHOOK_SPOOL_COMMIT' "$T/logs/badmode.log" ||
    chk_fail "no message naming the key: $(cat "$T/logs/badmode.log")"
chk_done "journal: ESIGNHOOK_SPOOL_COMMIT=batch: the worker exits non-zero, names the key"

# ---- recovery of planted segments at a worker's start ----
P=$T/spool-p
mkdir -m 700 "$P" "$P/tmp" "$P/new" "$P/seen" "$P/cur" "$P/retry" \
    "$P/done" "$P/failed" "$P/journal"
# A: eight whole frames: 1 in no folder; 2-5 whole in done/ cur/ retry/
# failed/; 6 cut short in new/; 7 empty in done/ (a power loss's); 18
# in failed/ with a byte changed.
cp "$(rec 2)" "$P/done/"
cp "$(rec 3)" "$P/cur/"
cp "$(rec 4)" "$P/retry/"
cp "$(rec 5)" "$P/failed/"
sed 's/PACKAGE_COMPLETE/PACKAGE_COMPLETF/' "$(rec 18)" \
    >"$P/failed/$(id_of "$(rec 18)").json"
head -c 30 "$(rec 6)" >"$P/new/$(id_of "$(rec 6)").json"
: >"$P/done/$(id_of "$(rec 7)").json"
inodes() {
	for in_f in done/$(id_of "$(rec 2)") cur/$(id_of "$(rec 3)") \
	    retry/$(id_of "$(rec 4)") failed/$(id_of "$(rec 5)"); do
		stat -c "$in_f %i %s" "$P/$in_f.json"
	done
}
inodes >"$T/inodes.before"
SA=$P/journal/$HOST.4000001.1.seg
SB=$P/journal/otherhost.77.3.seg
SC=$P/journal/$HOST.4000002.1.seg
SD=$P/journal/$HOST.4000003.2.seg
SE=$P/journal/$HOST.4000004.1.seg
SF=$P/journal/$HOST.4000005.1.seg
jseg make "$SA" "rec:$(rec 1)" "rec:$(rec 2)" "rec:$(rec 3)" \
    "rec:$(rec 4)" "rec:$(rec 5)" "rec:$(rec 6)" "rec:$(rec 7)" \
    "rec:$(rec 18)"
# B (named for another host): two good frames, a torn last one.
jseg make "$SB" "rec:$(rec 8)" "rec:$(rec 9)" "torn:$(rec 10)"
# C: a good frame, one with a flipped bit, a good one after it.
jseg make "$SC" "rec:$(rec 11)" "flip:$(rec 12)" "rec:$(rec 13)"
# D: a good frame and a zeroed tail; E: empty; F: a live writer's.
jseg make "$SD" "rec:$(rec 14)" zero:4096
: >"$SE"
chmod 600 "$SE"
jseg make "$SF" "rec:$(rec 15)"
chk_reset
hold "$SF"
use_config planted "$GROUP" "ESIGNHOOK_SPOOL=$P"
[ -S "$FCGI_SOCK" ] || chk_fail "the worker did not start: $(cat "$LOG")"
chk_done "journal: a worker starts on a spool with 6 planted segments (one held locked by a live process)"

# cmp_rec N FOLDER: record N is whole in FOLDER/ of $P.
cmp_rec() {
	cmp -s "$(rec "$1")" "$P/$2/$(id_of "$(rec "$1")").json" ||
	    chk_fail "record $1 not whole in $2/ ($(fsize "$P/$2/$(id_of "$(rec "$1")").json") bytes)"
}
# absent N: record N is in no folder of $P.
absent() {
	[ -z "$(folder_of "$P" "$(id_of "$(rec "$1")")")" ] ||
	    chk_fail "record $1 in $(folder_of "$P" "$(id_of "$(rec "$1")")")/"
}

chk_reset
cmp_rec 1 new
chk_eq "mode of the record written" 600 \
    "$(stat -c %a "$P/new/$(id_of "$(rec 1)").json" 2>/dev/null)"
inodes >"$T/inodes.after"
cmp -s "$T/inodes.before" "$T/inodes.after" ||
    chk_fail "changed: $(diff "$T/inodes.before" "$T/inodes.after" | grep '^>' | tr '\n' ' ')"
for n in 2 3 4 5; do
	[ -e "$P/new/$(id_of "$(rec "$n")").json" ] &&
	    chk_fail "record $n (whole elsewhere) written to new/ too"
done
cmp_rec 6 new
cmp_rec 7 "done"
cmp_rec 18 failed
[ -e "$P/new/$(id_of "$(rec 18)").json" ] &&
    chk_fail "record 18 (not byte for byte in failed/) written to new/"
[ -e "$P/new/$(id_of "$(rec 7)").json" ] &&
    chk_fail "record 7 (empty in done/) written to new/"
chk_done "journal: recovery writes a record in no folder to new/ byte for byte (0600), leaves those whole in done/ cur/ retry/ failed/ as they are (same inodes), writes the one cut short in new/, the empty one in done/ and the one with a byte changed in failed/ whole in their folders"

chk_reset
cmp_rec 8 new
cmp_rec 9 new
absent 10
cmp_rec 11 new
absent 12
absent 13
cmp_rec 14 new
chk_eq "records in new/" 6 "$(count_new "$P")"
chk_eq "files in tmp/" 0 "$(count_tmp "$P")"
chk_done "journal: a torn last frame, a flipped bit (and the frame after it) and a zeroed tail are dropped; the good frames before them are in new/"

chk_reset
for s in "$SA" "$SB" "$SC" "$SD" "$SE"; do
	[ -e "$s" ] && chk_fail "${s##*/} kept"
done
[ -e "$SF" ] || chk_fail "the live writer's segment was removed"
absent 15
chk_eq "recovery: segments, records, written again, torn tails" \
    "5 12 8 3" "$(recovery_counts "$LOG")"
awk '/journal recovery/ { r = NR } /FastCGI ready/ { f = NR }
    END { exit !(r && f && r < f) }' "$LOG" ||
    chk_fail "no recovery line before 'FastCGI ready'"
chk_done "journal: the dead writers' 5 segments are gone, the locked one kept (its record not written); logged before ready: 5 segments, 12 records, 8 written again, 3 torn tails dropped"

# Free now: the next start recovers it.
chk_reset
unhold
fcgi_stop planted
chk_eq "exit status after SIGTERM" 0 "$FCGI_RC"
# (A configuration of its own: fcgi_start of the same name could find
# the last run's "FastCGI ready" in the log before it is truncated.)
use_config planted2 "ESIGNHOOK_SPOOL=$P"
[ -S "$FCGI_SOCK" ] || chk_fail "restart: $(cat "$LOG")"
[ -e "$SF" ] && chk_fail "${SF##*/} kept once free"
cmp_rec 15 new
chk_eq "recovery: segments, records, written again, torn tails" \
    "1 1 1 0" "$(recovery_counts "$LOG")"
fcgi_stop planted2
chk_eq "exit status after SIGTERM" 0 "$FCGI_RC"
journal_empty "$P" || chk_fail "journal/ holds: $(ls -A "$P/journal")"
chk_done "journal: once its writer let go, the next start (a worker in file mode) recovers that segment (1 segment, 1 record, 1 written again); SIGTERM leaves journal/ empty"

# ---- esignhookctl drain --once recovers too ----
D=$T/spool-d
mkdir -m 700 "$D" "$D/tmp" "$D/new" "$D/seen" "$D/journal"
cat >"$T/act.sh" <<'EOF'
#!/bin/sh
cat >/dev/null
printf '%s\n' "$ESIGNHOOK_EVENT_ID" >>"$(dirname "$0")/acted"
EOF
chmod 755 "$T/act.sh"
CFG=$T/cfg/drain.env
base_config "ESIGNHOOK_SPOOL=$D" "ESIGNHOOK_EXEC=$T/act.sh" >"$CFG"
SPOOL=$D
jseg make "$D/journal/$HOST.4000006.1.seg" "rec:$(rec 16)"
jseg make "$D/journal/$HOST.4000007.1.seg" "rec:$(rec 17)"
chk_reset
hold "$D/journal/$HOST.4000007.1.seg"
ctl drain --once
chk_eq "exit" 0 "$CTL_RC"
chk_eq "folder of record 16" "done" "$(folder_of "$D" "$(id_of "$(rec 16)")")"
cmp -s "$(rec 16)" "$D/done/$(id_of "$(rec 16)").json" ||
    chk_fail "record 16 not byte for byte in done/"
chk_eq "the action ran for" "$(id_of "$(rec 16)")" "$(cat "$T/acted" 2>/dev/null)"
[ -e "$D/journal/$HOST.4000006.1.seg" ] && chk_fail "the dead writer's segment kept"
[ -e "$D/journal/$HOST.4000007.1.seg" ] || chk_fail "the live writer's segment removed"
chk_eq "folder of record 17" "" "$(folder_of "$D" "$(id_of "$(rec 17)")")"
chk_done "journal: drain --once recovers a dead writer's segment, the event runs its exec action and ends in done/; a locked segment is left alone"

chk_reset
unhold
ctl drain --once
chk_eq "exit" 0 "$CTL_RC"
chk_eq "folder of record 17" "done" "$(folder_of "$D" "$(id_of "$(rec 17)")")"
chk_eq "actions run" 2 "$(wc -l <"$T/acted" | tr -d ' ')"
journal_empty "$D" || chk_fail "journal/ holds: $(ls -A "$D/journal")"
chk_done "journal: freed, the next drain --once recovers that segment too: done/, journal/ empty"

# ---- kill -9 after some 200s ----
chk_reset
use_config kill9 "$GROUP" "ESIGNHOOK_SPOOL=$T/spool-k"
: >"$T/k.ids"
i=1
while [ "$i" -le 5 ]; do
	spool_snap
	os_post "$(mkbody "k$i.json" "$(os_json PACKAGE_COMPLETE "journal-k-$i")")"
	[ "$STATUS" = 200 ] || chk_fail "event $i: status $STATUS"
	chk_one_added
	echo "$ADDED" >>"$T/k.ids"
	i=$((i + 1))
done
kpid=$FCGI_PID
kill -9 "$kpid"
fcgi_stop kill9 2>/dev/null
chk_eq "exit status" 137 "$FCGI_RC"
chk_eq "acknowledged events in new/" 5 "$(count_new "$SPOOL")"
while read -r f; do
	[ -n "$f" ] && cmp -s "$SPOOL/new/$f" /dev/null && chk_fail "new/$f empty"
	[ -n "$f" ] && [ ! -e "$SPOOL/new/$f" ] && chk_fail "new/$f missing"
done <"$T/k.ids"
out=$("$PY" "$T/check_many.py" "$SPOOL/new" 5)
[ "$out" = ok ] || chk_fail "new/: $out"
left=$(segs "$SPOOL" "*.$kpid.*.seg")
[ -n "$left" ] || chk_fail "no segment of the killed pid $kpid left to recover"
# shellcheck disable=SC2086
nframes=$([ -n "$left" ] && jseg count $left)
(cd "$SPOOL/new" && sha256sum ./*.json) >"$T/k.sums"
chk_done "journal: kill -9 of a group-mode worker after 5 200s: all 5 whole in new/, its segments (${nframes:-0} frames) left"

chk_reset
use_config kill9b "$GROUP" "ESIGNHOOK_SPOOL=$T/spool-k"
[ -S "$FCGI_SOCK" ] || chk_fail "restart: $(cat "$LOG")"
[ -z "$(segs "$SPOOL" "*.$kpid.*.seg")" ] ||
    chk_fail "segments of $kpid left: $(segs "$SPOOL" "*.$kpid.*.seg")"
chk_eq "recovery: segments, records, written again, torn tails" \
    "$(echo $left | wc -w | tr -d ' ') ${nframes:-?} 0 0" \
    "$(recovery_counts "$LOG")"
(cd "$SPOOL/new" && sha256sum ./*.json) | cmp -s "$T/k.sums" - ||
    chk_fail "new/ changed by the recovery"
fcgi_stop kill9b
chk_eq "exit status after SIGTERM" 0 "$FCGI_RC"
journal_empty "$SPOOL" || chk_fail "journal/ holds: $(ls -A "$SPOOL/journal")"
chk_done "journal: the restart recovers the dead pid's segments (nothing written again, new/ unchanged), none of them left; SIGTERM leaves journal/ empty"

chk_reset
si=$(secrets_in "$T"/spool* "$T/logs")
[ -z "$si" ] || chk_fail "secret found in: $si"
chk_done "journal: no configured secret in any spool or log"
e2e_done
