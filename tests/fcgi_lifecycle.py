#!/usr/bin/env python3
"""A FastCGI worker's life: start-up checks and stopping, with a raw
FastCGI client (so a body can be cut in two around a signal).

1. SIGTERM while a request's body is half sent: the request completes
   with 200 and its event is stored; the worker then exits 0.
2. ESIGNHOOK_THREADS beyond the descriptor limit: refused at start with
   the figures; with room (the soft limit raised to the hard one), starts.
3. Started with fds 1 and 2 closed: serves, every record parses and no
   log text lands in a spool file.
Prints ok/not ok lines and "lifecycle: N passed, N failed"."""
import importlib.util, json, os, resource, shutil, signal, socket, subprocess, sys, tempfile, time

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


def start(tmp, env_extra, limits=None, close12=False):
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
        if close12:
            os.close(1)
            os.close(2)
    p = subprocess.Popen([BIN], stdin=ls.fileno(), stdout=log, stderr=log, env=env,
                         preexec_fn=pre)
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
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("lifecycle: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


sys.exit(main())
