#!/usr/bin/env python3
"""fcgi-load.py: load, kill and check tools for tests/e2e-crash.sh and
tests/e2e-concurrency.sh.  Python 3 standard library only.

  fcgi-load.py supervise SOCKET WORKERS LOGDIR STATS [options] -- BIN
      Binds the unix socket SOCKET once and runs WORKERS copies of BIN
      with it as fd 0 (what spawn-fcgi does: a FastCGI listening socket;
      fd 1 /dev/null; fd 2 LOGDIR/worker-<slot>-<n>.log, one file per
      process).  A worker that dies is started again at once on the same
      socket (connections waiting in its backlog are kept).  With
      --kill-min/--kill-max MS, SIGKILLs a random live worker every
      MS..MS milliseconds.  On SIGTERM: stops killing, SIGTERMs the
      workers, waits for them, writes STATS (JSON) and exits.  Each
      worker gets PR_SET_PDEATHSIG, so none outlives the supervisor.
      --max-seconds bounds its life.  Writes LOGDIR/ready once every
      first worker has logged "FastCGI ready".

  fcgi-load.py load SOCKET OUT --clients N --requests M --tag TAG
               --os-key KEY --at-token TOKEN [--kind mix|onespan|alphatrust]
               [--deadline SECONDS] [--timeout SECONDS] [--same]
      N client processes, each sending M requests one after the other,
      each over a new connection.  Request (client c, number i) carries
      a unique transaction id: OneSpan packageId "TAG-c-i", AlphaTrust
      TransID digits.  With --same, every request carries the same
      event, client 0's first, and the clients send their first requests
      at one moment (half a second after the start).  Writes OUT: one line per request, tab-separated:
      client seq kind txid status complete error
      status is the HTTP status from the reply ("-" if none arrived),
      complete is 1 when FCGI_END_REQUEST arrived.

  fcgi-load.py check SPOOL OUT --tag TAG [--logs DIR] [--expect-all-200]
               [--worker-order]
      Checks the spool against what the clients were told: every file in
      new/ a whole record of a request sent, every 200 exactly one file,
      no file for a 4xx/5xx, each client's sequential requests with
      increasing ids; with --logs, the worker logs (one per process):
      --worker-order: each log's ids strictly increasing (one thread per
      worker); --expect-all-200: every request 200, the ids logged are
      the ids in new/, no level=error line.  Prints "stat NAME VALUE"
      lines and a "FAIL text" line per problem (the first 20).
"""
import json
import os
import random
import re
import signal
import socket
import struct
import sys
import time

# ---------------------------------------------------------------- FastCGI

FCGI_BEGIN, FCGI_END, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = \
    1, 3, 4, 5, 6, 7


def _record(rtype, content, rid=1):
    out = b""
    while True:
        chunk, content = content[:65535], content[65535:]
        pad = (8 - len(chunk) % 8) % 8
        out += struct.pack(">BBHHBx", 1, rtype, rid, len(chunk), pad)
        out += chunk + b"\0" * pad
        if not content:
            return out


def _length(n):
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)


def fcgi_request(path, params, body, timeout, split=None, between=None):
    """One responder request.  Returns (stdout bytes, complete, error).
    With split, the first split bytes of the body are sent, between()
    is called, then the rest (a signal in mid-request, say)."""
    enc = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        enc += _length(len(k)) + _length(len(v)) + k + v
    head, rest = (body, b"") if split is None else (body[:split], body[split:])
    msg = _record(FCGI_BEGIN, struct.pack(">HB5x", 1, 0))
    msg += _record(FCGI_PARAMS, enc) + _record(FCGI_PARAMS, b"")
    msg += (_record(FCGI_STDIN, head) if head else b"")
    tail = (_record(FCGI_STDIN, rest) if rest else b"") + _record(FCGI_STDIN, b"")
    if split is None:
        msg, tail = msg + tail, b""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    out, buf, err = b"", b"", ""
    try:
        s.connect(path)
        try:
            s.sendall(msg)
            if tail:
                between()
                s.sendall(tail)
        except OSError as e:
            err = "send: " + (e.strerror or str(e))
        while True:
            try:
                d = s.recv(65536)
            except socket.timeout:
                return out, False, "timeout"
            except OSError as e:
                return out, False, "recv: " + (e.strerror or str(e))
            if not d:
                return out, False, err or "eof"
            buf += d
            while len(buf) >= 8:
                _, t, _, clen, pad = struct.unpack(">BBHHBx", buf[:8])
                if len(buf) < 8 + clen + pad:
                    break
                content, buf = buf[8:8 + clen], buf[8 + clen + pad:]
                if t == FCGI_STDOUT:
                    out += content
                elif t == FCGI_END:
                    return out, True, ""
    except OSError as e:
        return out, False, "connect: " + (e.strerror or str(e))
    finally:
        s.close()


def status_of(out):
    m = re.match(rb"Status: (\d{3})", out)
    return m.group(1).decode() if m else "-"

# ---------------------------------------------------------------- events


def at_transid(tag, client, seq):
    """A decimal TransID unique per (tag, client, seq); digits only."""
    t = int.from_bytes(tag.encode()[:4].ljust(4, b"\0"), "big") % 90000
    return "%05d%03d%06d" % (10000 + t, client, seq)


def event_for(kind, tag, client, seq):
    """(txid, provider, body bytes, the data the record must hold)."""
    if kind == "onespan":
        txid = "%s-%d-%d" % (tag, client, seq)
        data = {"@class": "com.silanis.esl.packages.event.ESLProcessEvent",
                "name": "PACKAGE_COMPLETE",
                "sessionUser": "44aafb7c-97b9-40e1-bb59-eb76c7d2a484",
                "packageId": txid, "message": None, "documentId": None,
                "createdDate": "2026-11-22T10:00:00.000Z"}
        return txid, "onespan", json.dumps(data).encode(), data
    txid = at_transid(tag, client, seq)
    form = "TransID=%s&TXStatus=4&EventType=transaction&Seq=%d-%d" % (
        txid, client, seq)
    data = {"TransID": txid, "TXStatus": "4", "EventType": "transaction",
            "Seq": "%d-%d" % (client, seq), "TXStatusName": "Complete"}
    return txid, "alphatrust", form.encode(), data


def kind_of(mode, client, seq):
    if mode in ("onespan", "alphatrust"):
        return mode
    return "onespan" if (client + seq) % 2 == 0 else "alphatrust"


def params_for(provider, body, os_key, at_token):
    p = {"GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
         "REMOTE_ADDR": "192.0.2.10", "REQUEST_METHOD": "POST",
         "CONTENT_LENGTH": str(len(body))}
    if provider == "onespan":
        p.update(CONTENT_TYPE="application/json",
                 HTTP_AUTHORIZATION="Basic " + os_key,
                 REQUEST_URI="/esignhook/onespan")
    else:
        p.update(CONTENT_TYPE="application/x-www-form-urlencoded",
                 REQUEST_URI="/esignhook/alphatrust/" + at_token)
    return p

# ---------------------------------------------------------------- supervise


def opt(args, name, default=None, conv=str):
    if name in args:
        i = args.index(name)
        v = args[i + 1]
        del args[i:i + 2]
        return conv(v)
    return default


def flag(args, name):
    if name in args:
        args.remove(name)
        return True
    return False


def pdeathsig():
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def supervise(argv):
    if "--" not in argv:
        sys.exit("supervise: -- BIN missing")
    cut = argv.index("--")
    cmd, args = argv[cut + 1:], argv[:cut]
    kill_min = opt(args, "--kill-min", None, int)
    kill_max = opt(args, "--kill-max", None, int)
    max_seconds = opt(args, "--max-seconds", 110.0, float)
    sock_path, nworkers, logdir, stats_path = args[0], int(args[1]), \
        args[2], args[3]

    if os.path.exists(sock_path):
        os.unlink(sock_path)
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(sock_path)
    ls.listen(1024)
    ls.set_inheritable(True)
    devnull = os.open(os.devnull, os.O_WRONLY)

    import subprocess
    stopping = [False]

    def on_term(sig, frame):
        stopping[0] = True
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    stats = {"kills": 0, "spawns": 0, "killed_exits": 0,
             "other_exits": [], "final_exits": [], "pids": []}
    slots = [None] * nworkers
    gen = [0] * nworkers
    killed = set()
    first_logs = []

    def spawn(i):
        gen[i] += 1
        log = os.path.join(logdir, "worker-%d-%d.log" % (i, gen[i]))
        with open(log, "wb") as lf:
            p = subprocess.Popen(cmd, stdin=ls.fileno(), stdout=devnull,
                                 stderr=lf, close_fds=True,
                                 preexec_fn=pdeathsig)
        slots[i] = p
        stats["spawns"] += 1
        stats["pids"].append(p.pid)
        if gen[i] == 1:
            first_logs.append(log)

    for i in range(nworkers):
        spawn(i)
    start = time.monotonic()
    ready_written = False
    next_kill = None
    if kill_min is not None:
        next_kill = start + random.uniform(kill_min, kill_max) / 1000.0
    while not stopping[0] and time.monotonic() - start < max_seconds:
        for i, p in enumerate(slots):
            rc = p.poll()
            if rc is None:
                continue
            if p.pid in killed and rc == -signal.SIGKILL:
                stats["killed_exits"] += 1
            else:
                stats["other_exits"].append([p.pid, rc])
            killed.discard(p.pid)
            spawn(i)
        if not ready_written:
            try:
                if all(b"FastCGI ready" in open(f, "rb").read()
                       for f in first_logs):
                    open(os.path.join(logdir, "ready"), "w").close()
                    ready_written = True
            except OSError:
                pass
        now = time.monotonic()
        if next_kill is not None and now >= next_kill and \
                os.path.exists(os.path.join(logdir, "ready")) and \
                not os.path.exists(os.path.join(logdir, "nokill")):
            live = [p for p in slots if p.poll() is None]
            if live:
                v = random.choice(live)
                killed.add(v.pid)
                try:
                    os.kill(v.pid, signal.SIGKILL)
                    stats["kills"] += 1
                except ProcessLookupError:
                    pass
            next_kill = now + random.uniform(kill_min, kill_max) / 1000.0
        time.sleep(0.005)

    # Stop: SIGTERM each worker, wait (then SIGKILL), record how it ended.
    for p in slots:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 8
    for p in slots:
        try:
            rc = p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "hung: SIGKILLed after SIGTERM"
            p.wait()
        if p.pid in killed and rc == -signal.SIGKILL:
            stats["killed_exits"] += 1
        else:
            stats["final_exits"].append([p.pid, rc])
    ls.close()
    try:
        os.unlink(sock_path)
    except OSError:
        pass
    stats["seconds"] = round(time.monotonic() - start, 2)
    with open(stats_path + ".part", "w") as f:
        json.dump(stats, f)
    os.rename(stats_path + ".part", stats_path)

# ---------------------------------------------------------------- load


def load(argv):
    args = list(argv)
    clients = opt(args, "--clients", 4, int)
    requests = opt(args, "--requests", 100, int)
    tag = opt(args, "--tag", "load")
    mode = opt(args, "--kind", "mix")
    os_key = opt(args, "--os-key", "")
    at_token = opt(args, "--at-token", "")
    deadline = time.monotonic() + opt(args, "--deadline", 90.0, float)
    timeout = opt(args, "--timeout", 15.0, float)
    same = flag(args, "--same")
    sock_path, out_path = args[0], args[1]

    pids = []
    start_at = time.monotonic() + 0.5
    for c in range(clients):
        pid = os.fork()
        if pid == 0:
            try:
                lines = []
                if same:
                    time.sleep(max(0.0, start_at - time.monotonic()))
                for i in range(requests):
                    kind = kind_of(mode, c, i)
                    if same:
                        txid, prov, body, _ = event_for(kind, tag, 0, 0)
                    else:
                        txid, prov, body, _ = event_for(kind, tag, c, i)
                    if time.monotonic() > deadline:
                        lines.append("%d\t%d\t%s\t%s\t-\t0\tnot sent\n" %
                                     (c, i, prov, txid))
                        continue
                    out, complete, err = fcgi_request(
                        sock_path, params_for(prov, body, os_key, at_token),
                        body, timeout)
                    lines.append("%d\t%d\t%s\t%s\t%s\t%d\t%s\n" % (
                        c, i, prov, txid, status_of(out), int(complete),
                        err))
                with open("%s.%d" % (out_path, c), "w") as f:
                    f.writelines(lines)
                os._exit(0)
            except BaseException:
                import traceback
                traceback.print_exc()
                os._exit(1)
        pids.append(pid)
    bad = 0
    for pid in pids:
        _, st = os.waitpid(pid, 0)
        bad += st != 0
    with open(out_path, "w") as f:
        for c in range(clients):
            try:
                f.write(open("%s.%d" % (out_path, c)).read())
                os.unlink("%s.%d" % (out_path, c))
            except OSError:
                bad += 1
    sys.exit(1 if bad else 0)

# ---------------------------------------------------------------- check

ID_RE = re.compile(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{16}")
FIELDS = ("v", "id", "received_at", "provider", "event", "known_event",
          "transaction_id", "dedupe_key", "remote_addr", "data")


def check(argv):
    args = list(argv)
    logdir = opt(args, "--logs")
    tag = opt(args, "--tag", "load")
    all200 = flag(args, "--expect-all-200")
    worker_order = flag(args, "--worker-order")
    spool, out_path = args[0], args[1]
    fails = []

    def fail(msg):
        if len(fails) < 20:
            print("FAIL " + msg)
        fails.append(msg)

    def stat(k, v):
        print("stat %s %s" % (k, v))

    reqs = {}
    order = []
    for line in open(out_path):
        c, i, prov, txid, status, complete, err = \
            line.rstrip("\n").split("\t")
        reqs[txid] = dict(client=int(c), seq=int(i), provider=prov,
                          status=status, complete=complete == "1", err=err)
        order.append(txid)
    stat("requests", len(order))
    if len(reqs) != len(order):
        fail("transaction ids not unique across requests")

    # Every file in new/: a whole record, named by its id.
    newdir = os.path.join(spool, "new")
    files = {}
    by_id = {}
    names = os.listdir(newdir)
    whole = 0
    for name in names:
        nfails = len(fails)
        path = os.path.join(newdir, name)
        if not name.endswith(".json") or not ID_RE.fullmatch(name[:-5]):
            fail("new/%s: not an <id>.json name" % name)
            continue
        raw = open(path, "rb").read()
        if not raw.endswith(b"\n") or raw.count(b"\n") != 1:
            fail("new/%s: not one line ending in a newline (%d bytes)" %
                 (name, len(raw)))
        try:
            rec = json.loads(raw)
        except ValueError as e:
            fail("new/%s: not JSON (%s), %d bytes" % (name, e, len(raw)))
            continue
        missing = [k for k in FIELDS if k not in rec]
        if missing:
            fail("new/%s: fields missing: %s" % (name, missing))
            continue
        if rec["v"] != 1:
            fail("new/%s: v=%r" % (name, rec["v"]))
        if rec["id"] + ".json" != name:
            fail("new/%s: id %r" % (name, rec["id"]))
        txid = rec["transaction_id"]
        files.setdefault(txid, []).append(rec)
        by_id[rec["id"]] = txid
        r = reqs.get(txid)
        if r is None:
            fail("new/%s: transaction %r was never sent" % (name, txid))
            continue
        _, prov, _, data = event_for(r["provider"], tag, r["client"],
                                     r["seq"])
        if rec["provider"] != prov or rec["data"] != data:
            fail("new/%s: record does not hold what was sent" % name)
        whole += len(fails) == nfails
    stat("files_in_new", len(names))
    stat("whole_records", whole)
    stat("distinct_ids", len(by_id))

    acked = lost = noreply = noreply_stored = other = dup = 0
    for txid in order:
        r = reqs[txid]
        n = len(files.get(txid, []))
        if n > 1:
            dup += 1
            fail("transaction %s: %d files for one request" % (txid, n))
        if r["status"] == "200":
            acked += 1
            if n == 0:
                lost += 1
                fail("transaction %s: acknowledged 200, no file in new/" %
                     txid)
        elif r["status"] == "-":
            noreply += 1
            noreply_stored += n > 0
        else:
            other += 1
            if n != 0:
                fail("transaction %s: status %s but spooled" %
                     (txid, r["status"]))
        if all200 and not (r["status"] == "200" and r["complete"]):
            fail("transaction %s: status %s complete=%s %s" %
                 (txid, r["status"], r["complete"], r["err"]))
    stat("acknowledged", acked)
    stat("lost", lost)
    stat("noreply", noreply)
    stat("noreply_stored", noreply_stored)
    stat("other_status", other)
    stat("duplicates", dup)
    statuses = {}
    for txid in order:
        statuses[reqs[txid]["status"]] = statuses.get(
            reqs[txid]["status"], 0) + 1
    stat("statuses", ",".join("%s:%d" % kv for kv in sorted(
        statuses.items())))

    # Each client's requests were sequential: its ids must increase.
    per_client = {}
    for txid in order:
        r = reqs[txid]
        for rec in files.get(txid, []):
            per_client.setdefault(r["client"], []).append(
                (r["seq"], rec["id"]))
    unordered = 0
    for c, seq_ids in per_client.items():
        ids = [i for _, i in sorted(seq_ids)]
        if any(a >= b for a, b in zip(ids, ids[1:])):
            unordered += 1
            fail("client %d: ids of its sequential requests not "
                 "increasing" % c)
    stat("clients_out_of_order", unordered)

    # Per worker log: the ids it logged, strictly increasing.
    if logdir:
        logged = []
        served = []
        errors = 0
        for name in sorted(os.listdir(logdir)):
            if not name.endswith(".log"):
                continue
            ids = []
            for line in open(os.path.join(logdir, name), errors="replace"):
                if "level=error" in line:
                    errors += 1
                m = re.search(r" status=200 .* id=(\S+)", line)
                if m and m.group(1) != "-":
                    ids.append(m.group(1))
            served.append(len(ids))
            logged.extend(ids)
            if worker_order and any(a >= b for a, b in zip(ids, ids[1:])):
                fail("%s: ids not strictly increasing in its log" % name)
        stat("worker_logs", len(served))
        stat("served_per_worker", ",".join(map(str, served)))
        stat("log_error_lines", errors)
        if len(logged) != len(set(logged)):
            fail("an id logged twice")
        if all200:
            if set(logged) != set(by_id):
                fail("ids logged (%d) differ from ids in new/ (%d)" %
                     (len(set(logged)), len(by_id)))
            if errors:
                fail("%d level=error lines in the worker logs" % errors)
    stat("failures", len(fails))
    sys.exit(1 if fails else 0)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "supervise":
        supervise(argv)
    elif cmd == "load":
        load(argv)
    elif cmd == "check":
        check(argv)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
