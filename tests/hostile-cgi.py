#!/usr/bin/env python3
"""Runs every tests/data/hostile/*.req through the real binary as CGI.

Per case: the expected status, nothing in new/ or tmp/, exactly one log
line on stderr (no input can forge a second), and neither secret in the
reply or the log.  Prints "ok"/"not ok" lines and "hostile-cgi: N passed,
N failed"."""
import os, re, subprocess, sys, tempfile, shutil

KEY = "hostile-onespan-key-0123456789"
TOK = "hostile-url-token-0123456789"

def unescape(v):
    out, i = bytearray(), 0
    while i < len(v):
        c = v[i]
        if c == 0x5c and i + 1 < len(v):
            n = v[i + 1]
            if n == ord("r"): out += b"\r"; i += 2; continue
            if n == ord("n"): out += b"\n"; i += 2; continue
            if n == ord("t"): out += b"\t"; i += 2; continue
            if n == ord("x") and i + 3 < len(v) + 1:
                out.append(int(v[i + 2:i + 4], 16)); i += 4; continue
            out.append(n); i += 2; continue
        out.append(c); i += 1
    return bytes(out)

def parse(path):
    data = open(path, "rb").read()
    head, _, body = data.partition(b"\n\n")
    lines = head.split(b"\n")
    expect = int(lines[0].split(b"=", 1)[1])
    env = {}
    for l in lines[1:]:
        k, _, v = l.partition(b"=")
        env[k] = unescape(v)
    return expect, env, body

def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.environ.get("ESIGNHOOK_BIN", "cgi/esignhook")
    if not binary.startswith("/"):
        binary = os.path.join(root, binary)
    cdir = os.path.join(root, "tests", "data", "hostile")
    tmp = tempfile.mkdtemp(prefix="eh-hostile-")
    spool = os.path.join(tmp, "spool")
    passed = failed = 0
    try:
        for name in sorted(os.listdir(cdir)):
            if not name.endswith(".req"):
                continue
            expect, env, body = parse(os.path.join(cdir, name))
            env.update({b"GATEWAY_INTERFACE": b"CGI/1.1", b"ESIGNHOOK_SPOOL": spool.encode(),
                        b"ESIGNHOOK_ONESPAN_KEYS": KEY.encode(),
                        b"ESIGNHOOK_ALPHATRUST_TOKENS": TOK.encode(),
                        b"ESIGNHOOK_SPOOL_MIN_FREE": b"0",
                        b"ESIGNHOOK_ALLOW_ROOT": b"1"})
            p = subprocess.run([binary], input=body, env=env, capture_output=True, timeout=30)
            why = []
            m = re.match(rb"Status: (\d+) ", p.stdout)
            status = int(m.group(1)) if m else None
            if status != expect:
                why.append("status %s, expected %d" % (status, expect))
            log = p.stderr.decode("utf-8", "replace").splitlines()
            if len(log) != 1 or not log[0].startswith("ts="):
                why.append("%d log lines: %r" % (len(log), log[:3]))
            for s in (KEY, TOK):
                if s.encode() in p.stdout or s.encode() in p.stderr:
                    why.append("secret in reply or log")
            for sub in ("new", "tmp"):
                d = os.path.join(spool, sub)
                if os.path.isdir(d) and os.listdir(d):
                    why.append("%s/ not empty" % sub)
                    shutil.rmtree(d)
            if why:
                failed += 1
                print("not ok - %s: %s" % (name, "; ".join(why)))
            else:
                passed += 1
                print("ok - %s: %d" % (name, expect))
    finally:
        shutil.rmtree(tmp)
    print("hostile-cgi: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0

sys.exit(main())
