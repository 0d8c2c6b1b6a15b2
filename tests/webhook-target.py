#!/usr/bin/env python3
"""A stand-in forwarding target for tests/e2e-forward.sh.

Listens on 127.0.0.1 (a free port, written to --port-file once it
listens), over HTTP or, with --cert and --key, HTTPS.  For every request
it checks what esignhook's forward action promises, with its own
Standard Webhooks implementation (hmac, hashlib, base64; not the code
under test):

  - method POST, path --path, Content-Type application/json,
    User-Agent starting "esignhook/";
  - the body is one JSON object whose "id" equals the webhook-id header;
  - with --secret whsec_...: webhook-timestamp within 5 minutes of now
    and webhook-signature "v1,<base64 HMAC-SHA256(key, id.ts.body)>"
    (one of its space-separated entries) verifies;
  - without --secret: neither webhook-timestamp nor webhook-signature
    is sent.

Each request becomes one JSON line in --log: method, path, headers, the
body (base64, so that the test compares bytes), "sig_ok" (true, false,
or null without a secret) and "problems" (the failed checks, [] when
all passed).  A TLS handshake the client broke off is a line with
"event": "tls_error".

Replies follow --responses, a comma-separated script, one entry per
request; the last entry repeats once the script is used up:
  200, 204, 400, 500, ...   that status
  429:ra=2                  that status with "Retry-After: 2"
  302                       a redirect to /moved (a request there is
                            recorded, and fails the path check)
  hang                      sleep --hang seconds (past the client's
                            timeout), then 200
Standard library only.
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import ssl
import sys
import threading
import time

TOLERANCE_S = 5 * 60


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--responses", default="200")
    p.add_argument("--secret", help="whsec_<base64>")
    p.add_argument("--path", default="/hook")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--hang", type=float, default=5.0)
    return p.parse_args()


ARGS = parse_args()
SCRIPT = [s.strip() for s in ARGS.responses.split(",") if s.strip()]
KEY = None
if ARGS.secret is not None:
    if not ARGS.secret.startswith("whsec_"):
        sys.exit("webhook-target: --secret must start with whsec_")
    KEY = base64.b64decode(ARGS.secret[len("whsec_"):], validate=True)
LOCK = threading.Lock()
COUNT = [0]


def record(entry):
    with LOCK:
        with open(ARGS.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())


def next_reply():
    with LOCK:
        n = COUNT[0]
        COUNT[0] += 1
    return SCRIPT[min(n, len(SCRIPT) - 1)] if SCRIPT else "200"


def verify(headers, body, problems):
    """The Standard Webhooks check, written here from the spec."""
    wid = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sig = headers.get("webhook-signature")
    if KEY is None:
        if ts is not None:
            problems.append("webhook-timestamp sent without a secret")
        if sig is not None:
            problems.append("webhook-signature sent without a secret")
        return None
    if wid is None or ts is None or sig is None:
        problems.append("signature headers missing")
        return False
    if not ts.isdigit():
        problems.append("webhook-timestamp not digits: %r" % ts)
        return False
    if abs(time.time() - int(ts)) > TOLERANCE_S:
        problems.append("webhook-timestamp off by more than 5 minutes")
    mac = hmac.new(KEY, wid.encode() + b"." + ts.encode() + b"." + body,
                   hashlib.sha256).digest()
    want = base64.b64encode(mac).decode()
    for entry in sig.split(" "):
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value, want):
            return True
    problems.append("webhook-signature does not verify")
    return False


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, extra=()):
        body = b'{"ok":true}' if 200 <= status < 300 else b"{}"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        problems = []
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.command != "POST":
            problems.append("method %s" % self.command)
        if self.path != ARGS.path:
            problems.append("path %s" % self.path)
        if headers.get("content-type") != "application/json":
            problems.append("content-type %r" % headers.get("content-type"))
        if not headers.get("user-agent", "").startswith("esignhook/"):
            problems.append("user-agent %r" % headers.get("user-agent"))
        if "webhook-id" not in headers:
            problems.append("no webhook-id")
        try:
            doc = json.loads(body)
            if not isinstance(doc, dict) or doc.get("id") != \
                    headers.get("webhook-id"):
                problems.append("webhook-id is not the body's id")
        except ValueError:
            problems.append("body is not JSON")
        sig_ok = verify(headers, body, problems)
        what = next_reply()
        record({"event": "request", "n": COUNT[0], "method": self.command,
                "path": self.path, "headers": headers,
                "body_b64": base64.b64encode(body).decode(),
                "sig_ok": sig_ok, "problems": problems, "reply": what,
                "at": time.time()})
        if what == "hang":
            time.sleep(ARGS.hang)
            try:
                self.reply(200)
            except OSError:
                pass
            return
        status, _, opt = what.partition(":")
        extra = []
        if opt.startswith("ra="):
            extra.append(("Retry-After", opt[3:]))
        if status.startswith("3"):
            extra.append(("Location", "/moved"))
        self.reply(int(status), extra)

    do_POST = handle_any
    do_GET = handle_any
    do_PUT = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    tls = None

    def finish_request(self, request, client_address):
        # The handshake in the request's thread: a client that stalls or
        # refuses the certificate blocks nobody.
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                record({"event": "tls_error", "error": str(e),
                        "at": time.time()})
                return
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        pass


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    if ARGS.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.cert, ARGS.key)
        srv.tls = ctx
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, ARGS.port_file)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
