#!/usr/bin/env python3
"""onespan-api.py: a stand-in for OneSpan Sign's REST API, over HTTPS,
for tests/e2e-download.sh.  Standard library only.

  onespan-api.py --port-file F --log F --config F [--cert PEM --key PEM]
                 [--tokens F]

Listens on 127.0.0.1 (a free port, written to --port-file).  --config is
a JSON file, read again on every request, so a test can change it
between runs:

  {"api_key": "...",                  Basic <api key> is accepted
   "client_id": "...", "client_secret": "...",
   "expires_in": 3600,                what the token endpoint promises
   "packages": {"<packageId>": {
       "mode": "zip" | "notzip" | "cut" | "401once" | "status" | "stream",
       "status": 503, "retry_after": "7",   (mode "status")
       "size": 20000,                 bytes of document in the zip; with
                                      "stream", of the whole body (a
                                      zip's first bytes, then zeros,
                                      sent 64 KiB at a time)
       "evidence": "pdf" | "notpdf",
       "revoke_after": true}}}        revoke every token once served

Routes, each checking what OneSpan's API would (a failed check is a 400
and a "problems" entry in the log):
  GET  /api/packages/<id>/documents/zip    Accept exactly
       "*/*; esl-api-version=11.68.0", Authorization "Basic <api key>" or
       "Bearer <a token it issued, not expired or revoked>", the id
       percent-encoded exactly as RFC 3986 unreserved + %XX (uppercase);
       a real zip (zipfile) whose content follows from the id; 404 for
       an id not configured
  GET  /api/packages/<id>/evidence/summary  the same checks; a small PDF
  POST /oauth2/token (or /alt/token)        Basic base64(id:secret),
       Content-Type application/x-www-form-urlencoded, body exactly
       grant_type=client_credentials; a random token
  POST /api/callback   Basic <api key> (or a valid Bearer), Content-Type
       application/json, a JSON object; stored and echoed back (key too)
  GET  /api/callback   the stored registration, with its key

The --log gets one JSON object per request: method, raw path, route,
decoded package id, "auth" (basic, bearer, client, none, bad) and the
serial number of the token used, the Accept and Content-Type headers,
status, bytes and sha256 of what was served ("aborted" when the client
hung up before the end, "bytes" then what was sent), and "problems".  No secret
is logged: Authorization is reduced to its kind, and a registration's
key to "sha256:<hex>".  Issued tokens go to --tokens, one a line, so
the test can look for them elsewhere.
"""
import argparse
import base64
import hashlib
import http.server
import io
import json
import os
import re
import secrets
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import zipfile

ACCEPT = "*/*; esl-api-version=11.68.0"
PKG_RE = re.compile(r"^/api/packages/([^/?#]+)/(documents/zip|evidence/summary)$")

lock = threading.Lock()
state = {
    "tokens": {},          # token -> {"n", "expires", "revoked"}
    "issued": 0,
    "once": set(),         # packages whose 401once has fired
    "registration": None,  # the JSON object POSTed to /api/callback
}
args = None


def load_config():
    try:
        with open(args.config, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def log(entry):
    entry["at"] = time.time()
    line = json.dumps(entry, sort_keys=True) + "\n"
    with lock:
        with open(args.log, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()


def filler(seed, n):
    """n bytes that follow from seed (a SHA-256 chain): incompressible."""
    out = bytearray()
    block = hashlib.sha256(seed).digest()
    while len(out) < n:
        out += block
        block = hashlib.sha256(block).digest()
    return bytes(out[:n])


def make_zip(pkg_id, size):
    """A real zip archive whose bytes follow from the package id."""
    idb = pkg_id.encode("utf-8", "surrogateescape")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("document-1.pdf", (2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        z.writestr(info, b"%PDF-1.4\n% signed document of package " + idb +
                   b"\n" + filler(idb, size) + b"\n%%EOF\n")
        info = zipfile.ZipInfo("Evidence Summary.txt", (2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, b"package " + idb + b" completed\n" * 20)
    return buf.getvalue()


def make_pdf(pkg_id):
    idb = pkg_id.encode("utf-8", "surrogateescape")
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% evidence "
            b"summary of package " + idb + b"\ntrailer << /Root 1 0 R >>\n"
            b"%%EOF\n")


def hash_key(obj):
    """The registration as logged: its key replaced by a digest."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k == "key" and isinstance(v, str):
                out[k] = "sha256:" + hashlib.sha256(v.encode()).hexdigest()
            else:
                out[k] = hash_key(v)
        return out
    if isinstance(obj, list):
        return [hash_key(v) for v in obj]
    return obj


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "onespan-api-standin"

    def setup(self):
        # The handshake here, in the connection's thread, so that one
        # refused handshake is logged and the server goes on.
        try:
            if isinstance(self.request, ssl.SSLSocket):
                self.request.do_handshake()
        except (ssl.SSLError, OSError) as e:
            log({"event": "tls_error", "error": str(e)})
            self.request.close()
            raise
        super().setup()

    def log_message(self, fmt, *a):
        pass

    # ---- helpers ----

    def reply(self, entry, status, body=b"", ctype="application/json",
              headers=()):
        entry["status"] = status
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
                self.wfile.flush()
            except OSError:
                # The client hung up: logged all the same.
                entry["aborted"] = True
                self.close_connection = True
        log(entry)

    def stream(self, entry, size):
        """A 200 of size bytes, sent until the client stops reading."""
        entry["status"] = 200
        entry["promised"] = size
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"\0" * 65536
        first = b"PK\x03\x04" + chunk[4:]
        sent = 0
        try:
            while sent < size:
                n = min(len(chunk), size - sent)
                self.wfile.write((first if sent == 0 else chunk)[:n])
                sent += n
            self.wfile.flush()
        except OSError:
            entry["aborted"] = True
            self.close_connection = True
        entry["bytes"] = sent
        log(entry)

    def read_body(self):
        n = self.headers.get("Content-Length")
        if n is None:
            return b""
        return self.rfile.read(int(n))

    def entry(self):
        e = {"event": "request", "method": self.command, "path": self.path,
             "problems": [], "auth": "none", "token_n": None,
             "accept": self.headers.get("Accept"),
             "content_type": self.headers.get("Content-Type"),
             "user_agent": self.headers.get("User-Agent"),
             "header_names": sorted(k.lower() for k in self.headers.keys())}
        if len(self.headers.get_all("Authorization") or []) > 1:
            e["problems"].append("Authorization given twice")
        return e

    def check_auth(self, e, cfg, allow_bearer=True):
        """Basic <api key> or a live Bearer token: True, else False."""
        h = self.headers.get("Authorization")
        if h is None:
            e["auth"] = "none"
            return False
        key = cfg.get("api_key")
        if h.startswith("Basic "):
            e["auth"] = "basic"
            if key is not None and secrets.compare_digest(
                    h.encode(), ("Basic " + key).encode()):
                return True
            e["auth"] = "bad"
            e["problems"].append("Basic credential is not the API key")
            return False
        if h.startswith("Bearer ") and allow_bearer:
            tok = h[len("Bearer "):]
            with lock:
                t = state["tokens"].get(tok)
            e["auth"] = "bearer"
            if t is None:
                e["auth"] = "bad"
                e["problems"].append("Bearer token never issued")
                return False
            e["token_n"] = t["n"]
            if t["revoked"]:
                e["token_state"] = "revoked"
                return False
            if t["expires"] is not None and time.time() >= t["expires"]:
                e["token_state"] = "expired"
                return False
            return True
        e["auth"] = "bad"
        e["problems"].append("Authorization scheme %r" % h.split(" ")[0])
        return False

    # ---- routes ----

    def do_GET(self):
        cfg = load_config()
        e = self.entry()
        m = PKG_RE.match(self.path)
        if m:
            return self.package(e, cfg, m.group(1), m.group(2))
        if self.path == "/api/callback":
            e["route"] = "callback-get"
            if not self.check_auth(e, cfg):
                return self.reply(e, 401, b'{"messageKey":"error.unauthorised"}')
            with lock:
                reg = state["registration"]
            return self.reply(e, 200, json.dumps(reg or {}).encode())
        e["route"] = "unknown"
        e["problems"].append("no such route")
        return self.reply(e, 404, b'{"messageKey":"error.notFound"}')

    def do_POST(self):
        cfg = load_config()
        e = self.entry()
        body = self.read_body()
        if self.path in ("/oauth2/token", "/alt/token"):
            return self.token(e, cfg, body)
        if self.path == "/api/callback":
            return self.callback(e, cfg, body)
        e["route"] = "unknown"
        e["problems"].append("no such route")
        return self.reply(e, 404, b'{"messageKey":"error.notFound"}')

    def package(self, e, cfg, raw, what):
        e["route"] = "zip" if what == "documents/zip" else "evidence"
        decoded = urllib.parse.unquote_to_bytes(raw)
        e["raw_id"] = raw
        # Exactly RFC 3986 unreserved kept, all else %XX, uppercase hex.
        if urllib.parse.quote(decoded, safe="") != raw:
            e["problems"].append("packageId not encoded as %XX of every "
                                 "byte outside A-Za-z0-9-._~")
        try:
            pkg_id = decoded.decode("utf-8")
        except UnicodeDecodeError:
            pkg_id = decoded.decode("utf-8", "surrogateescape")
            e["problems"].append("packageId not UTF-8")
        e["package_id"] = pkg_id.encode("utf-8", "surrogateescape").decode(
            "utf-8", "replace")
        if self.headers.get("Accept") != ACCEPT:
            e["problems"].append("Accept %r" % self.headers.get("Accept"))
        if e["problems"]:
            return self.reply(e, 400, b'{"messageKey":"error.badRequest"}')
        if not self.check_auth(e, cfg):
            return self.reply(e, 401, b'{"messageKey":"error.unauthorised"}')
        pkg = cfg.get("packages", {}).get(pkg_id)
        if pkg is None:
            return self.reply(e, 404, b'{"messageKey":"error.notFound"}')
        mode = pkg.get("mode", "zip")
        e["mode"] = mode
        if mode == "401once" and what == "documents/zip":
            with lock:
                fired = pkg_id in state["once"]
                state["once"].add(pkg_id)
            if not fired:
                return self.reply(e, 401, b'{"messageKey":"error.unauthorised"}')
        if mode == "status" and what == "documents/zip":
            hdrs = []
            if "retry_after" in pkg:
                hdrs.append(("Retry-After", str(pkg["retry_after"])))
            return self.reply(e, int(pkg.get("status", 503)),
                              b'{"messageKey":"error.unavailable"}',
                              headers=hdrs)
        if mode == "stream" and what == "documents/zip":
            return self.stream(e, int(pkg.get("size", 20000)))
        if what == "evidence/summary":
            data = make_pdf(pkg_id)
            if pkg.get("evidence") == "notpdf":
                data = b"<html><body>Evidence unavailable</body></html>"
            ctype = "application/pdf"
        elif mode == "notzip":
            data = b"<html><body>Service temporarily unavailable</body></html>"
            ctype = "text/html"
        else:
            data = make_zip(pkg_id, int(pkg.get("size", 20000)))
            ctype = "application/zip"
        if mode == "cut" and what == "documents/zip":
            # Promise all of it, send half, hang up.
            half = data[:len(data) // 2]
            e["status"] = 200
            e["bytes"] = len(half)
            e["promised"] = len(data)
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(half)
            self.wfile.flush()
            log(e)
            self.close_connection = True
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        e["bytes"] = len(data)
        e["sha256"] = hashlib.sha256(data).hexdigest()
        self.reply(e, 200, data, ctype)
        if pkg.get("revoke_after"):
            with lock:
                for t in state["tokens"].values():
                    t["revoked"] = True
            log({"event": "revoked"})
        return None

    def token(self, e, cfg, body):
        e["route"] = "token"
        cid, csec = cfg.get("client_id"), cfg.get("client_secret")
        h = self.headers.get("Authorization") or ""
        want = "Basic " + base64.b64encode(
            ("%s:%s" % (cid, csec)).encode()).decode()
        if cid is None or not secrets.compare_digest(h.encode(), want.encode()):
            e["auth"] = "bad" if h else "none"
            e["problems"].append("token request credential is not "
                                 "Basic base64(client_id:client_secret)")
            return self.reply(e, 401, b'{"error":"invalid_client"}')
        e["auth"] = "client"
        if self.headers.get("Content-Type") != \
                "application/x-www-form-urlencoded":
            e["problems"].append("Content-Type %r"
                                 % self.headers.get("Content-Type"))
        if body != b"grant_type=client_credentials":
            e["problems"].append("body %r" % body[:100])
        if e["problems"]:
            return self.reply(e, 400, b'{"error":"invalid_request"}')
        exp = cfg.get("expires_in", 3600)
        tok = "tok" + secrets.token_urlsafe(24)
        with lock:
            state["issued"] += 1
            n = state["issued"]
            state["tokens"][tok] = {
                "n": n, "revoked": False,
                "expires": time.time() + exp if exp is not None else None}
            if args.tokens:
                with open(args.tokens, "a", encoding="utf-8") as f:
                    f.write(tok + "\n")
        e["token_n"] = n
        reply = {"access_token": tok, "token_type": "Bearer"}
        if exp is not None:
            reply["expires_in"] = exp
        return self.reply(e, 200, json.dumps(reply).encode())

    def callback(self, e, cfg, body):
        e["route"] = "callback-post"
        if not self.check_auth(e, cfg):
            return self.reply(e, 401, b'{"messageKey":"error.unauthorised"}')
        if self.headers.get("Content-Type") != "application/json":
            e["problems"].append("Content-Type %r"
                                 % self.headers.get("Content-Type"))
        try:
            obj = json.loads(body)
        except ValueError:
            obj = None
            e["problems"].append("body is not JSON")
        if obj is not None and not isinstance(obj, dict):
            e["problems"].append("body is not a JSON object")
        if e["problems"]:
            return self.reply(e, 400, b'{"messageKey":"error.badRequest"}')
        e["body_json"] = hash_key(obj)
        with lock:
            state["registration"] = obj
        return self.reply(e, 200, json.dumps(obj).encode())


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--tokens")
    args = p.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
