#!/usr/bin/env python3
"""A FastCGI worker's life: start-up checks and stopping, with a raw
FastCGI client (so a body can be cut in two around a signal).

1. SIGTERM while a request's body is half sent: the request completes
   with 200 and its event is stored; the worker then exits 0.
2. ESIGNHOOK_THREADS beyond the descriptor limit: refused at start with
   the figures; with room (the soft limit raised to the hard one), starts.
3. Started with fds 1 and 2 closed: serves, every record parses and no
   log text lands in a spool file.
4. No thread stalled by one client (ESIGNHOOK_READ_TIMEOUT): a
   connection that sends four bytes and stops does not delay a delivery
   on another and is closed after the timeout; ten senders trickling
   their params, or stalling or trickling their bodies unauthenticated,
   do not stop a delivery with ESIGNHOOK_THREADS=8; SIGTERM while a
   request's params are half sent: it is served; FCGI_KEEP_CONN: served
   one after the other, the idle connection closed after the timeout;
   TCP, with FCGI_WEB_SERVER_ADDRS.
5. The sandbox, probed from inside the real binary (tests/sandbox-probe.c,
   LD_PRELOADed): a FastCGI worker and a CGI can make no socket, connect
   none (pathname, abstract, TCP), send to no datagram socket and signal
   no other process; with seccomp unavailable, Landlock alone still
   refuses abstract sockets, TCP and signals (ABI 6); the process is not
   dumpable (its /proc files belong to root, as seen by its own user)
   and has RLIMIT_CORE 0; with ESIGNHOOK_LOG=syslog the /dev/log socket
   opened before the sandbox keeps logging.
Prints ok/not ok lines and "lifecycle: N passed, N failed"."""
import calendar, ctypes, importlib.util, json, os, resource, shutil, signal, socket, struct, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("ESIGNHOOK_BIN", "cgi/esignhook")
if not BIN.startswith("/"):
    BIN = os.path.join(ROOT, BIN)
_spec = importlib.util.spec_from_file_location("fcgi_load", os.path.join(ROOT, "tests/fcgi-load.py"))
LOAD = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(LOAD)
BODY = open(os.path.join(ROOT, "tests/data/onespan/package-complete.json"), "rb").read()
KEY = "lifecycle-key-0123456789"
passed = failed = 0


def check(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok - " + name)
    else:
        failed += 1
        print("not ok - %s: %s" % (name, why))


def start(tmp, env_extra, limits=None, close12=False, tcp=False, wrap=None,
          core=None):
    """A worker on a new listening socket (a unix one, or TCP on
    127.0.0.1 with tcp: then the address is returned); wrap: argv
    before the binary (setpriv, unshare); core: RLIMIT_CORE to start
    with."""
    if tcp:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0))
        sock = ls.getsockname()
    else:
        sock = os.path.join(tmp, "w.sock")
        if os.path.exists(sock):
            os.unlink(sock)
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(sock)
    ls.listen(16)
    env = {"PATH": "/usr/bin:/bin", "ESIGNHOOK_SPOOL": os.path.join(tmp, "spool"),
           "ESIGNHOOK_ONESPAN_KEYS": KEY, "ESIGNHOOK_SPOOL_MIN_FREE": "0"}
    if os.geteuid() == 0:
        env["ESIGNHOOK_ALLOW_ROOT"] = "1"
    env.update(env_extra)
    log = open(os.path.join(tmp, "worker.log"), "ab")

    def pre():
        if limits:
            resource.setrlimit(resource.RLIMIT_NOFILE, limits)
        if core is not None:
            resource.setrlimit(resource.RLIMIT_CORE, core)
        if close12:
            os.close(1)
            os.close(2)
    p = subprocess.Popen((wrap or []) + [BIN], stdin=ls.fileno(), stdout=log, stderr=log,
                         env=env, preexec_fn=pre)
    ls.close()
    return p, sock


def wait_ready(tmp, p, what="FastCGI ready"):
    for _ in range(200):
        if p.poll() is not None:
            return False
        try:
            if what.encode() in open(os.path.join(tmp, "worker.log"), "rb").read():
                return True
        except OSError:
            pass
        time.sleep(0.025)
    return False


def request(sock, body, split=None, between=None, params=None):
    """A OneSpan POST through tests/fcgi-load.py's client; its stdout."""
    pr = {"REQUEST_METHOD": "POST", "REQUEST_URI": "/esignhook/onespan",
          "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
          "HTTP_AUTHORIZATION": "Basic " + KEY}
    pr.update(params or {})
    out, _, _ = LOAD.fcgi_request(sock, pr, body, 10, split=split, between=between)
    return out


def wait(p, timeout):
    """The exit status, or None (and the process killed) past timeout."""
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def new_files(tmp):
    d = os.path.join(tmp, "spool", "new")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


# ---------------------------------------------------------------- 4. stalls

def fresh(tmp, name):
    """A directory of its own for one worker (its log, spool, socket)."""
    d = os.path.join(tmp, name)
    os.mkdir(d)
    return d


def params_bytes(params):
    enc = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        enc += LOAD._length(len(k)) + LOAD._length(len(v)) + k + v
    return enc


def head_of(params, body_part=b"", keep=False):
    """BEGIN (FCGI_KEEP_CONN with keep), the whole params, and a first
    STDIN record if body_part."""
    msg = LOAD._record(LOAD.FCGI_BEGIN, struct.pack(">HB5x", 1, 1 if keep else 0))
    msg += LOAD._record(LOAD.FCGI_PARAMS, params_bytes(params))
    msg += LOAD._record(LOAD.FCGI_PARAMS, b"")
    if body_part:
        msg += LOAD._record(LOAD.FCGI_STDIN, body_part)
    return msg


def os_params(body, key=KEY):
    return {"REQUEST_METHOD": "POST", "REQUEST_URI": "/esignhook/onespan",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": "Basic " + key, "REMOTE_ADDR": "192.0.2.10"}


def dial(addr, timeout):
    s = socket.socket(socket.AF_INET if isinstance(addr, tuple) else socket.AF_UNIX,
                      socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(addr)
    return s


def deliver(addr, body, timeout, key=KEY):
    """A whole OneSpan delivery on a new connection: (stdout, complete,
    seconds taken)."""
    t0 = time.monotonic()
    out, done = b"", False
    try:
        s = dial(addr, timeout)
        try:
            s.sendall(head_of(os_params(body, key), body) +
                      LOAD._record(LOAD.FCGI_STDIN, b""))
            out, done = read_reply(s)
        finally:
            s.close()
    except OSError:
        pass
    return out, done, time.monotonic() - t0


def read_reply(s):
    """Read records until FCGI_END_REQUEST or EOF: (stdout, complete)."""
    buf, out = b"", b""
    while True:
        try:
            d = s.recv(65536)
        except OSError:
            return out, False
        if not d:
            return out, False
        buf += d
        while len(buf) >= 8:
            _, t, _, clen, pad = struct.unpack(">BBHHBx", buf[:8])
            if len(buf) < 8 + clen + pad:
                break
            content, buf = buf[8:8 + clen], buf[8 + clen + pad:]
            if t == LOAD.FCGI_STDOUT:
                out += content
            elif t == LOAD.FCGI_END:
                return out, True


class Sender(threading.Thread):
    """A slow client: connects, sends head at once, then tail a byte every
    gap seconds (no tail: it stalls), until the server closes the
    connection or limit seconds pass.  closed_after: seconds from the
    connect to the server's close (None: it never closed); reply: what
    came back meanwhile."""

    def __init__(self, addr, head, tail=b"", gap=0.2, limit=8.0):
        threading.Thread.__init__(self, daemon=True)
        self.addr, self.head, self.tail, self.gap, self.limit = addr, head, tail, gap, limit
        self.closed_after, self.reply, self.err = None, b"", ""
        self.connected = threading.Event()

    def run(self):
        import select
        try:
            s = dial(self.addr, 2)
        except OSError as e:
            self.err = str(e)
            self.connected.set()
            return
        t0 = time.monotonic()
        self.connected.set()
        tail = self.tail
        try:
            s.sendall(self.head)
            while time.monotonic() - t0 < self.limit:
                r, _, _ = select.select([s], [], [], self.gap)
                if r:
                    d = s.recv(65536)
                    if not d:
                        break
                    self.reply += d
                    continue
                if tail:
                    s.send(tail[:1])
                    tail = tail[1:]
            else:
                return
        except OSError:
            pass
        finally:
            s.close()
        self.closed_after = time.monotonic() - t0


def start_ready(tmp, name, env, **kw):
    d = fresh(tmp, name)
    p, sock = start(d, env, **kw)
    ok = wait_ready(d, p)
    return d, p, sock, ok


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    return wait(p, 15)


def stalls(tmp):
    body = BODY
    # One connection that sends four bytes and stops.
    d, p, sock, ok = start_ready(tmp, "stall", {"ESIGNHOOK_THREADS": "2",
                                                "ESIGNHOOK_READ_TIMEOUT": "5s"})
    st = Sender(sock, head_of(os_params(body))[:4], limit=4)
    st.start()
    st.connected.wait(2)
    time.sleep(0.3)  # ordering only: a thread has taken the staller first
    out, done, dt = deliver(sock, body, 3)
    alive = st.is_alive() and st.closed_after is None
    check("stall: ESIGNHOOK_THREADS=2, a connection sent 4 bytes and stopped: a delivery on another completes in %.3f s (< 1 s) while it is still connected" % dt,
          ok and done and out.startswith(b"Status: 200 ") and dt < 1.0 and alive,
          "ready %s, reply %r, complete %s, %.2f s, staller still connected %s" % (ok, out[:40], done, dt, alive))
    st.join()
    stop(p)

    # The staller is dropped after ESIGNHOOK_READ_TIMEOUT.
    d, p, sock, ok = start_ready(tmp, "stall1s", {"ESIGNHOOK_THREADS": "2",
                                                  "ESIGNHOOK_READ_TIMEOUT": "1s"})
    st = Sender(sock, head_of(os_params(body))[:4], limit=5)
    st.start()
    st.join()
    c = st.closed_after
    check("stall: ESIGNHOOK_READ_TIMEOUT=1s: the 4-byte staller's connection is closed after %s s (0.8 .. 2.5), unanswered" % (
        "%.2f" % c if c is not None else "never"),
        c is not None and 0.8 <= c <= 2.5 and st.reply == b"",
        "closed after %s, reply %r, %s" % (c, st.reply[:60], st.err))
    out, done, dt = deliver(sock, body.replace(b"5n4obe", b"after1"), 3)
    check("stall: ... and the worker serves the next delivery (%.3f s)" % dt,
          done and out.startswith(b"Status: 200 "), "reply %r" % out[:60])
    stop(p)

    # Ten senders trickling their params, a byte each 0.2 s, eight
    # threads: a per-read bound alone would never fire.
    d, p, sock, ok = start_ready(tmp, "trickle", {"ESIGNHOOK_THREADS": "8",
                                                  "ESIGNHOOK_READ_TIMEOUT": "1s"})
    h = head_of(os_params(body))
    senders = [Sender(sock, h[:12], h[12:], gap=0.2, limit=8) for _ in range(10)]
    for s in senders:
        s.start()
    for s in senders:
        s.connected.wait(2)
    time.sleep(0.3)  # ordering only: the threads have taken them
    out, done, dt = deliver(sock, body.replace(b"5n4obe", b"trick1"), 6)
    for s in senders:
        s.join()
    closed = [s.closed_after for s in senders]
    check("stall: 10 senders trickling their params, ESIGNHOOK_THREADS=8, ESIGNHOOK_READ_TIMEOUT=1s: a delivery completes (%.2f s, < 3 s)" % dt,
          ok and done and out.startswith(b"Status: 200 ") and dt < 3.0,
          "ready %s, reply %r, complete %s, %.2f s" % (ok, out[:40], done, dt))
    check("stall: ... every trickling sender is cut off, unanswered, within 3.5 s",
          all(c is not None and c <= 3.5 for c in closed) and all(s.reply == b"" for s in senders),
          "closed after %s, replies %s" % (["%.2f" % c if c is not None else None for c in closed],
                                           set(s.reply[:40] for s in senders)))
    stop(p)

    # Ten unauthenticated senders whose bodies stop after 10 bytes, or
    # trickle a byte each 0.2 s (their params whole, a wrong key).
    for kind, gap in (("stop", None), ("trickle", 0.2)):
        d, p, sock, ok = start_ready(tmp, "body-" + kind, {"ESIGNHOOK_THREADS": "8",
                                                          "ESIGNHOOK_READ_TIMEOUT": "1s"})
        h = head_of(os_params(body, key="wrong-" + KEY), body[:10])
        tail = b"".join(LOAD._record(LOAD.FCGI_STDIN, body[i:i + 1]) for i in range(10, len(body)))
        senders = [Sender(sock, h, tail if gap else b"", gap=gap or 0.2, limit=8) for _ in range(10)]
        for s in senders:
            s.start()
        for s in senders:
            s.connected.wait(2)
        time.sleep(0.3)
        out, done, dt = deliver(sock, body.replace(b"5n4obe", ("body%-2s" % kind[:2]).encode()), 6)
        for s in senders:
            s.join()
        closed = [s.closed_after for s in senders]
        check("stall: 10 unauthenticated senders, bodies that %s after 10 bytes, ESIGNHOOK_THREADS=8: a delivery completes (%.2f s, < 3.5 s)" % (
            "stop" if kind == "stop" else "trickle on", dt),
            ok and done and out.startswith(b"Status: 200 ") and dt < 3.5,
            "ready %s, reply %r, complete %s, %.2f s" % (ok, out[:40], done, dt))
        check("stall: ... each of those connections is closed within 4 s (%s)" % kind,
              all(c is not None and c <= 4.0 for c in closed),
              "closed after %s" % ["%.2f" % c if c is not None else None for c in closed])
        stop(p)

    # SIGTERM while a request's params are half sent: a request begun is
    # finished, not dropped.
    d, p, sock, ok = start_ready(tmp, "termparams", {"ESIGNHOOK_THREADS": "2",
                                                     "ESIGNHOOK_READ_TIMEOUT": "5s"})
    b2 = body.replace(b"5n4obe", b"termpr")
    whole = head_of(os_params(b2), b2) + LOAD._record(LOAD.FCGI_STDIN, b"")
    out, done = b"", False
    try:
        s = dial(sock, 8)
        s.sendall(whole[:40])
        time.sleep(0.3)  # ordering only: a thread is reading them
        p.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        s.sendall(whole[40:])
        out, done = read_reply(s)
        s.close()
    except OSError as e:
        out = str(e).encode()
    rc = wait(p, 10)
    check("stall: SIGTERM with a request's params half sent: it is served (200, stored), then the worker exits 0",
          done and out.startswith(b"Status: 200 ") and len(new_files(d)) == 1 and rc == 0,
          "reply %r, files %s, exit %s" % (out[:60], new_files(d), rc))

    # FCGI_KEEP_CONN (nginx fastcgi_keep_conn on): requests one after
    # the other on one connection; an idle one is closed after the
    # timeout instead of holding its thread.
    d, p, sock, ok = start_ready(tmp, "keepconn", {"ESIGNHOOK_THREADS": "2",
                                                   "ESIGNHOOK_READ_TIMEOUT": "1s"})
    outs, closed = [], None
    try:
        s = dial(sock, 5)
        for i in range(3):
            b3 = body.replace(b"5n4obe", b"keep%02d" % i)
            s.sendall(head_of(os_params(b3), b3, keep=True) + LOAD._record(LOAD.FCGI_STDIN, b""))
            outs.append(read_reply(s))
        t0 = time.monotonic()
        if s.recv(1) == b"":
            closed = time.monotonic() - t0
        s.close()
    except OSError as e:
        outs.append((str(e).encode(), False))
    stop(p)
    check("stall: FCGI_KEEP_CONN: 3 requests on one connection, 3 x 200, 3 events; the idle connection closed after %s s (0.8 .. 2.5)" % (
        "%.2f" % closed if closed is not None else "never"),
        len(outs) == 3 and all(o.startswith(b"Status: 200 ") and c for o, c in outs) and
        len(new_files(d)) == 3 and closed is not None and 0.8 <= closed <= 2.5,
        "replies %r, files %d, closed %s" % ([o[:20] for o, c in outs], len(new_files(d)), closed))

    # A reply nobody hears: the reply and FCGI_END_REQUEST go in one
    # write, at the closing of the request's streams, before the log
    # line; a failed one must still show in it.  The client shuts its
    # reading side before it sends, so the worker's write fails
    # (EPIPE) whatever the timing; the event is stored all the same.
    d, p, sock, ok = start_ready(tmp, "unheard", {"ESIGNHOOK_THREADS": "1"})
    b4 = body.replace(b"5n4obe", b"unhear")
    try:
        s = dial(sock, 5)
        s.shutdown(socket.SHUT_RD)
        s.sendall(head_of(os_params(b4), b4) + LOAD._record(LOAD.FCGI_STDIN, b""))
    except OSError:
        pass
    line = ""
    for _ in range(400):
        log = open(os.path.join(d, "worker.log"), errors="replace").read()
        line = next((l for l in log.splitlines() if " status=" in l), "")
        if line:
            break
        time.sleep(0.025)
    s.close()
    check("reply: the client cannot hear it: stored, and the log line says the reply failed (op=\"write reply\")",
          ok and len(new_files(d)) == 1 and "status=200" in line and
          'op="write reply"' in line and "level=warn" in line,
          "files %s, line %r" % (new_files(d), line))
    # ... and the next delivery on that thread is answered: 200, whole.
    out, done, dt = deliver(sock, body.replace(b"5n4obe", b"heard1"), 3)
    check("reply: ... the next delivery on the same thread is answered (200, FCGI_END_REQUEST)",
          done and out.startswith(b"Status: 200 "), "reply %r, complete %s" % (out[:60], done))
    # The log's ts, formatted once a second per thread: the wall
    # clock's second, and a later second once one has passed.
    # The line is written after the reply: wait for the n-th.
    def ts_of(n):
        for _ in range(400):
            log = open(os.path.join(d, "worker.log"), errors="replace").read()
            ls = [l for l in log.splitlines() if " status=" in l]
            if len(ls) >= n:
                l = ls[n - 1]
                return l.split(" ", 1)[0][3:] if l.startswith("ts=") else ""
            time.sleep(0.025)
        return ""
    ts1, now1 = ts_of(2), time.time()
    time.sleep(1.1)
    out, done, dt = deliver(sock, body.replace(b"5n4obe", b"heard2"), 3)
    ts2, now2 = ts_of(3), time.time()
    def near(ts, now):
        try:
            t = calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:
            return False
        return now - 3 <= t <= now + 1
    check("log: ts is the wall clock's second (%s, %s), and moves on with it" % (ts1, ts2),
          done and near(ts1, now1) and near(ts2, now2) and ts2 > ts1,
          "ts %r then %r, reply %r" % (ts1, ts2, out[:40]))
    stop(p)

    # GATEWAY_INTERFACE in a FastCGI worker's own environment (a
    # supervisor that passes its CGI variables on): fd 0, a listening
    # socket, still decides, as libfcgi's FCGX_IsCGI would.
    d, p, sock, ok = start_ready(tmp, "gwif", {"GATEWAY_INTERFACE": "CGI/1.1"})
    out, done, dt = deliver(sock, body.replace(b"5n4obe", b"gwif01"), 3)
    stop(p)
    check("start: GATEWAY_INTERFACE set, fd 0 a listening socket: a FastCGI worker all the same (200, stored)",
          ok and done and out.startswith(b"Status: 200 ") and len(new_files(d)) == 1,
          "ready %s, reply %r, files %s" % (ok, out[:60], new_files(d)))

    # TCP, and FCGI_WEB_SERVER_ADDRS (libfcgi's check, in our accept).
    d, p, addr, ok = start_ready(tmp, "tcp-deny", {"FCGI_WEB_SERVER_ADDRS": "127.0.0.2"}, tcp=True)
    out, done, dt = deliver(addr, body.replace(b"5n4obe", b"tcpden"), 3)
    check("stall: TCP, FCGI_WEB_SERVER_ADDRS=127.0.0.2, a connection from 127.0.0.1: closed unanswered, nothing stored",
          ok and not done and out == b"" and new_files(d) == [], "ready %s, reply %r" % (ok, out[:60]))
    stop(p)
    d, p, addr, ok = start_ready(tmp, "tcp-allow", {"FCGI_WEB_SERVER_ADDRS": "127.0.0.3,127.0.0.1",
                                                    "ESIGNHOOK_READ_TIMEOUT": "1s"}, tcp=True)
    out, done, dt = deliver(addr, body.replace(b"5n4obe", b"tcpalw"), 3)
    st = Sender(addr, head_of(os_params(body))[:4], limit=5)
    st.start()
    st.join()
    check("stall: TCP, FCGI_WEB_SERVER_ADDRS=127.0.0.3,127.0.0.1: served; a TCP staller is closed after the 1 s timeout",
          ok and done and out.startswith(b"Status: 200 ") and st.closed_after is not None and st.closed_after <= 2.5,
          "ready %s, reply %r, staller closed after %s" % (ok, out[:60], st.closed_after))
    stop(p)
    d = fresh(tmp, "tcp-bad")
    p, addr = start(d, {"FCGI_WEB_SERVER_ADDRS": "127.0.0.1,not-an-address"}, tcp=True)
    rc = wait(p, 10)
    log = open(os.path.join(d, "worker.log")).read()
    check("stall: FCGI_WEB_SERVER_ADDRS that is not a list of addresses: refused at start, named",
          rc == 1 and "FCGI_WEB_SERVER_ADDRS" in log, "exit %s, log %r" % (rc, log[-200:]))

# ---------------------------------------------------------------- 5. sandbox


def landlock_abi():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))  # landlock_create_ruleset


def build_probe(tmp):
    so = os.path.join(tmp, "sandbox-probe.so")
    r = subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", so,
                        os.path.join(ROOT, "tests/sandbox-probe.c"), "-ldl"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return so if r.returncode == 0 else None, r.stdout.decode()[-400:]


class Targets:
    """What the probe tries to reach: a pathname and an abstract
    listening socket, a datagram socket, a TCP port, a process."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "target.sock")
        self.ps = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ps.bind(self.path)
        self.ps.listen(4)
        self.abstract = "eh-probe-%d" % os.getpid()
        self.asock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.asock.bind("\0" + self.abstract)
        self.asock.listen(4)
        self.dpath = os.path.join(tmp, "target.dgram")
        self.ds = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.ds.bind(self.dpath)
        self.ts = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ts.bind(("127.0.0.1", 0))
        self.ts.listen(4)
        self.other = subprocess.Popen(["sleep", "60"])

    def env(self, so, out):
        return {"LD_PRELOAD": so, "PROBE_OUT": out, "PROBE_PATH": self.path,
                "PROBE_ABSTRACT": self.abstract, "PROBE_DGRAM": self.dpath,
                "PROBE_TCP": str(self.ts.getsockname()[1]),
                "PROBE_PID": str(self.other.pid)}

    def close(self):
        for s in (self.ps, self.asock, self.ds, self.ts):
            s.close()
        self.other.kill()
        self.other.wait()


def probe_lines(out):
    res = {}
    try:
        for ln in open(out).read().splitlines():
            k, _, v = ln.partition(" ")
            res[k] = v
    except OSError:
        pass
    return res


def want(res, expect):
    """What differs from expect, as text; "" when nothing does."""
    bad = ["%s=%s (want %s)" % (k, res.get(k), v) for k, v in expect.items() if res.get(k) != v]
    return "; ".join(bad)


def sandbox(tmp):
    if os.environ.get("E2E_SANITIZED") == "1":
        # make check-san's build has no sandbox (LeakSanitizer needs
        # /proc and ptrace), and ASan must come first among libraries:
        # the probe is for make check's build.
        d, p, sock, ok = start_ready(tmp, "probe-san", {})
        stop(p)
        log = open(os.path.join(d, "worker.log")).read()
        check("sandbox: sanitizer build: the sandbox is off, and the log says so",
              "sandbox off in a sanitizer build" in log, log[-200:])
    else:
        probes(tmp)
    dumpable_syslog(tmp)


def probes(tmp):
    so, why = build_probe(tmp)
    check("sandbox: tests/sandbox-probe.c builds as an LD_PRELOAD library", so is not None, why)
    if so is None:
        return
    abi = landlock_abi()
    tg = Targets(tmp)
    full = {"socket": "EPERM", "connect-path": "EPERM", "connect-abstract": "EPERM",
            "connect-tcp": "EPERM", "sendto-path": "EPERM", "kill": "EPERM",
            "set-dumpable": "EPERM", "dumpable": "0", "core": "0", "done": ""}
    try:
        # A FastCGI worker, both layers.
        d = fresh(tmp, "probe-fcgi")
        out = os.path.join(d, "probe.out")
        p, sock = start(d, tg.env(so, out), core=(resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        ok = wait_ready(d, p)
        r, done, dt = deliver(sock, BODY, 5)
        stop(p)
        res = probe_lines(out)
        # The worker's filter has no getrlimit: its core limit is
        # checked from outside (the uid 65534 case below).
        bad = want(res, dict(full, core="EPERM"))
        check("sandbox: FastCGI worker: no new socket, no connect (pathname, abstract, TCP), no sendto an address, no signal out, stays non-dumpable; it still serves",
              ok and done and not bad, "ready %s, complete %s; %s; log %r" % (
                  ok, done, bad, open(os.path.join(d, "worker.log")).read()[-300:]))

        # A CGI, both layers (its own short seccomp list).
        d = fresh(tmp, "probe-cgi")
        out = os.path.join(d, "probe.out")
        env = {"PATH": "/usr/bin:/bin", "GATEWAY_INTERFACE": "CGI/1.1",
               "ESIGNHOOK_SPOOL": os.path.join(d, "spool"), "ESIGNHOOK_ONESPAN_KEYS": KEY,
               "ESIGNHOOK_SPOOL_MIN_FREE": "0", "REMOTE_ADDR": "192.0.2.10"}
        env.update(os_params(BODY))
        env.update(tg.env(so, out))
        if os.geteuid() == 0:
            env["ESIGNHOOK_ALLOW_ROOT"] = "1"
        cp = subprocess.run([BIN], input=BODY, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY,) * 2))
        res = probe_lines(out)
        bad = want(res, full)
        check("sandbox: CGI: the same refusals, non-dumpable, RLIMIT_CORE 0; it still serves (200)",
              cp.stdout.startswith(b"Status: 200 ") and not bad,
              "reply %r; %s; stderr %r" % (cp.stdout[:40], bad, cp.stderr[-300:]))

        # Landlock alone (seccomp refused, as a service manager's filter may).
        d = fresh(tmp, "probe-landlock")
        out = os.path.join(d, "probe.out")
        env = tg.env(so, out)
        env["PROBE_NO_SECCOMP"] = "1"
        p, sock = start(d, env)
        ok = wait_ready(d, p)
        r, done, dt = deliver(sock, BODY.replace(b"5n4obe", b"llonly"), 5)
        stop(p)
        log = open(os.path.join(d, "worker.log")).read()
        res = probe_lines(out)
        expect = {"dumpable": "0", "done": ""}
        if abi >= 4:
            expect["connect-tcp"] = "EACCES"
        if abi >= 6:
            expect.update({"connect-abstract": "EPERM", "kill": "EPERM"})
        bad = want(res, expect)
        check("sandbox: seccomp unavailable, Landlock ABI %d alone: %s refused; the log says partial" % (
            abi, ", ".join(k for k in expect if k not in ("dumpable", "done")) or "nothing more"),
            ok and done and not bad and ("sandbox partial: Landlock in force; seccomp not available" if abi >= 1
                                         else "sandbox partial: Landlock not available") in log,
            "ready %s, complete %s; %s; log %r" % (ok, done, bad, log[-300:]))
    finally:
        tg.close()


def dumpable_syslog(tmp):
    # Non-dumpable as its own user sees it: a worker as nobody, whose
    # /proc files belong to root (not to nobody: no ptrace, no
    # /proc/<pid>/environ or mem for that user), with no core limit.
    if os.geteuid() != 0:
        check("sandbox: not root: the worker-as-nobody check needs setpriv", True)
    else:
        d = fresh(tmp, "nobody")
        os.chmod(tmp, 0o711)
        os.chmod(d, 0o777)
        p, sock = start(d, {"ESIGNHOOK_THREADS": "2"}, core=(resource.RLIM_INFINITY, resource.RLIM_INFINITY),
                        wrap=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        os.chmod(sock, 0o666)
        ok = wait_ready(d, p)
        uid = owner = core = None
        try:
            for ln in open("/proc/%d/status" % p.pid):
                if ln.startswith("Uid:"):
                    uid = int(ln.split()[2])
            owner = os.stat("/proc/%d/environ" % p.pid).st_uid
            for ln in open("/proc/%d/limits" % p.pid):
                if ln.startswith("Max core file size"):
                    core = ln.split()[4:6]
        except OSError as e:
            owner = str(e)
        r, done, dt = deliver(sock, BODY.replace(b"5n4obe", b"nobody"), 5)
        stop(p)
        check("sandbox: worker as uid 65534: /proc/<pid>/environ owned by root (non-dumpable), core limit 0 0; it serves",
              ok and uid == 65534 and owner == 0 and core == ["0", "0"] and done,
              "ready %s, uid %s, environ owner %s, core %s, complete %s" % (ok, uid, owner, core, done))

    # ESIGNHOOK_LOG=syslog: /dev/log is connected before the sandbox and
    # keeps working under it.  A private mount namespace puts a test
    # socket at /dev/log.
    if os.geteuid() != 0:
        check("sandbox: not root: the syslog check needs a mount namespace", True)
        return
    d = fresh(tmp, "syslog")
    dev = os.path.join(d, "dev")
    os.mkdir(dev)
    lg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    lg.bind(os.path.join(dev, "log"))
    lg.settimeout(5)
    binds = "".join("touch %s/%s && mount --bind /dev/%s %s/%s && " % (dev, n, n, dev, n)
                    for n in ("null", "zero", "urandom", "random") if os.path.exists("/dev/" + n))
    script = "%smount --rbind %s /dev && exec \"$0\"" % (binds, dev)
    p, sock = start(d, {"ESIGNHOOK_LOG": "syslog", "ESIGNHOOK_THREADS": "2"},
                    wrap=["unshare", "--mount", "--propagation", "private", "sh", "-c", script])
    got = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(b"FastCGI ready" in g for g in got):
        try:
            got.append(lg.recv(65536))
        except OSError:
            break
    r, done, dt = deliver(sock, BODY.replace(b"5n4obe", b"syslog"), 5)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(b"status=200" in g for g in got):
        try:
            got.append(lg.recv(65536))
        except OSError:
            break
    stop(p)
    lg.close()
    text = b"\n".join(got)
    sandboxed = b"seccomp in force" in text or b"sandbox off in a sanitizer build" in text
    check("sandbox: ESIGNHOOK_LOG=syslog: the sandbox note, then a request's status=200 line, reach /dev/log",
          done and sandboxed and b"status=200" in text,
          "complete %s, syslog got %r, log %r" % (done, text[-400:], open(os.path.join(d, "worker.log")).read()[-200:]))


def main():
    tmp = tempfile.mkdtemp(prefix="eh-life-")
    try:
        # 1. SIGTERM mid-body
        p, sock = start(tmp, {"ESIGNHOOK_THREADS": "2"})
        check("lifecycle: worker starts", wait_ready(tmp, p), open(os.path.join(tmp, "worker.log")).read())

        def term():
            time.sleep(0.2)
            p.send_signal(signal.SIGTERM)
            time.sleep(0.3)
        r = request(sock, BODY, split=10, between=term)
        rc = wait(p, 10)
        check("lifecycle: SIGTERM with a body half sent: that request completes with 200",
              r.startswith(b"Status: 200 ") and r.endswith(b'{"success":true}'), r[:200])
        check("lifecycle: ... its event is stored, then the worker exits 0",
              len(new_files(tmp)) == 1 and rc == 0, "files %s, exit %s" % (new_files(tmp), rc))

        # 2. descriptor budget
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        lim = 512 if hard == resource.RLIM_INFINITY or hard >= 512 else hard
        p, sock = start(tmp, {"ESIGNHOOK_THREADS": "256"}, limits=(lim, lim))
        rc = wait(p, 10)
        log = open(os.path.join(tmp, "worker.log")).read()
        check("lifecycle: ESIGNHOOK_THREADS=256 under a %d descriptor limit: refused at start, with the figures" % lim,
              rc == 1 and "ESIGNHOOK_THREADS=256 needs about" in log and "the limit is %d" % lim in log,
              "exit %s, log %r" % (rc, log[-300:]))
        if hard == resource.RLIM_INFINITY or hard >= 4096:
            p, sock = start(tmp, {"ESIGNHOOK_THREADS": "256"}, limits=(256, 4096))
            ok = wait_ready(tmp, p, "FastCGI ready: 256 threads")
            r = request(sock, BODY.replace(b"5n4obe", b"fdtest")) if ok else b""
            p.send_signal(signal.SIGTERM)
            rc = wait(p, 20)
            check("lifecycle: soft limit 256, hard 4096: raised to the hard limit, 256 threads serve",
                  ok and r.startswith(b"Status: 200 ") and rc == 0, "ready %s, reply %r, exit %s" % (ok, r[:60], rc))
        else:
            check("lifecycle: a hard limit of 4096 to test with", False, "hard limit %s" % hard)

        # 3. fds 1 and 2 closed at start
        shutil.rmtree(os.path.join(tmp, "spool"), ignore_errors=True)
        p, sock = start(tmp, {"ESIGNHOOK_THREADS": "2"}, close12=True)
        time.sleep(0.5)
        codes = [request(sock, BODY.replace(b"5n4obeO8", b"c%07d" % i))[:15] for i in range(20)]
        p.send_signal(signal.SIGTERM)
        rc = wait(p, 10)
        files = new_files(tmp)
        bad = []
        for f in files:
            data = open(os.path.join(tmp, "spool", "new", f), "rb").read()
            try:
                json.loads(data)
            except ValueError:
                bad.append(f)
            if b"level=" in data:
                bad.append(f)
        check("lifecycle: started with fds 1 and 2 closed: 20 events 200, 20 whole records, no log text in them",
              all(c.startswith(b"Status: 200") for c in codes) and len(files) == 20 and not bad and rc == 0,
              "codes %s, files %d, bad %s, exit %s" % (set(codes), len(files), bad, rc))

        # 4. no thread stalled by one client
        stalls(tmp)

        # 5. the sandbox, from inside
        sandbox(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("lifecycle: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


sys.exit(main())
