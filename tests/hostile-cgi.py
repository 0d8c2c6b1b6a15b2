#!/usr/bin/env python3
"""Runs every tests/data/hostile/*.req through the real binary as CGI.

Per case: the expected status; a refused case leaves nothing in new/ or
tmp/; an authenticated one leaves exactly one record, with the problems
(and the raw body, the null fields, the values) its expect- lines name,
and a level=warn log line with problems= (a clean one, level=info and
no problems); exactly one log line on stderr (no input can forge a
second); neither secret in the reply, the log or the record.  Prints
"ok"/"not ok" lines and "hostile-cgi: N passed, N failed"."""
import base64, json, os, re, subprocess, sys, tempfile, shutil

KEY = "hostile-onespan-key-0123456789"
TOK = "hostile-url-token-0123456789"
CID = "hostile-client"
SEC = "hostile-oauth-secret-0123456789"

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
    env, exp = {}, []
    for l in lines[1:]:
        k, _, v = l.partition(b"=")
        if k.startswith(b"expect-"):
            exp.append((k[7:].decode(), unescape(v).decode("utf-8")))
        else:
            env[k] = unescape(v)
    return expect, exp, env, body

def check_record(rec, exp, env, body, why):
    def get(k):
        return [v for kk, v in exp if kk == k]
    problems = rec.get("problems")
    want = get("problem")
    if want:
        if not isinstance(problems, list) or not problems:
            why.append("no problems in the record")
        else:
            for w in want:
                if not any(w in p for p in problems):
                    why.append("no problem like %r in %r" % (w, problems))
        if rec.get("known_event") is not False:
            why.append("known_event not false")
    elif "problems" in rec:
        why.append("problems %r, want none" % problems)
    raw = get("raw")
    if raw:
        src = env[b"QUERY_STRING"] if raw[0] == "query" else body
        if rec.get("data", 0) is not None or "raw" not in rec:
            why.append("not a raw record")
        elif base64.b64decode(rec["raw"], validate=True) != src:
            why.append("raw is not the body")
        if rec.get("event") is not None or rec.get("transaction_id") is not None:
            why.append("raw record with an event or transaction_id")
    elif not isinstance(rec.get("data"), dict) or "raw" in rec:
        why.append("data is not an object")
    for k in ("event", "transaction_id"):
        for w in get(k):
            if rec.get(k) != (None if w == "null" else w):
                why.append("%s %r, want %s" % (k, rec.get(k), w))
    for w in get("field"):
        k, _, v = w.partition("=")
        if not isinstance(rec.get("data"), dict) or rec["data"].get(k) != v:
            why.append("data[%s] is not %r" % (k, v))
    if isinstance(rec.get("data"), dict) and "token" in rec["data"]:
        why.append("data keeps the token field")

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
            expect, exp, env, body = parse(os.path.join(cdir, name))
            env.update({b"GATEWAY_INTERFACE": b"CGI/1.1", b"ESIGNHOOK_SPOOL": spool.encode(),
                        b"ESIGNHOOK_ONESPAN_KEYS": KEY.encode(),
                        b"ESIGNHOOK_ALPHATRUST_TOKENS": TOK.encode(),
                        b"ESIGNHOOK_OAUTH_CLIENT_ID": CID.encode(),
                        b"ESIGNHOOK_OAUTH_CLIENT_SECRETS": SEC.encode(),
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
            newdir = os.path.join(spool, "new")
            files = sorted(os.listdir(newdir)) if os.path.isdir(newdir) else []
            recs = [open(os.path.join(newdir, f), "rb").read() for f in files]
            if b"access_token" in p.stdout:
                why.append("a token handed out")
            for s in (KEY, TOK, SEC):
                if s.encode() in p.stdout or s.encode() in p.stderr or \
                   any(s.encode() in r for r in recs):
                    why.append("secret in reply, log or record")
            if expect == 200:
                if len(recs) != 1:
                    why.append("%d records in new/, want 1" % len(recs))
                else:
                    try:
                        check_record(json.loads(recs[0]), exp, env, body, why)
                    except ValueError as e:
                        why.append("record not JSON: %s" % e)
                line = log[0] if log else ""
                if any(k == "problem" for k, _ in exp):
                    if " level=warn " not in line or " problems=" not in line:
                        why.append("log line not level=warn with problems=: %r" % line)
                elif " level=info " not in line or " problems=" in line:
                    why.append("log line not a clean level=info: %r" % line)
            elif recs:
                why.append("new/ not empty")
            tmpdir = os.path.join(spool, "tmp")
            if os.path.isdir(tmpdir) and os.listdir(tmpdir):
                why.append("tmp/ not empty")
            # Each case on its own: no record or dedupe marker left.
            for sub in ("new", "tmp", "seen"):
                d = os.path.join(spool, sub)
                if os.path.isdir(d):
                    for e in os.listdir(d):
                        pth = os.path.join(d, e)
                        if os.path.isdir(pth) and not os.path.islink(pth):
                            shutil.rmtree(pth)
                        else:
                            os.unlink(pth)
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
