#!/usr/bin/env python3
"""fcgi-post.py: send callbacks to a FastCGI responder on a unix socket
the way nginx does behind nginx/esignhook.conf, for bench/profile.sh.
Python 3 standard library only.

  fcgi-post.py SOCKET KIND N [--key KEY] [--token TOKEN] [--tag TAG]
               [--conns C]
  fcgi-post.py --body KIND I     prints the body of callback I (a CGI's)

KIND is onespan or alphatrust.  N requests, each over a new connection
(nginx/esignhook.conf keeps none), each a distinct event (TAG and a
counter in packageId / TransID: repeated OneSpan events would be
deduplicated, not written), sent as one write: BEGIN_REQUEST, the
params nginx's stock fastcgi_params and esignhook.conf send, in nginx's
order, then the request headers as HTTP_* params, then the body and the
empty STDIN record.  Bodies are bench/callback.lua's.  --conns C: C
threads at once (default 1, one after the other).  Exits 1 unless every
reply is a 200; prints "sent N ok N".
"""
import socket
import struct
import sys
import threading
import time

BEGIN, END, PARAMS, STDIN, STDOUT = 1, 3, 4, 5, 6


def record(rtype, content):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBx", 1, rtype, 1, len(content), pad) + \
        content + b"\0" * pad


def length(n):
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)


def encode(params):
    out = b""
    for k, v in params:
        k, v = k.encode(), v.encode()
        out += length(len(k)) + length(len(v)) + k + v
    return out


def request_for(kind, n, key, token):
    """(params, body) of callback n, as nginx would pass them."""
    if kind == "onespan":
        body = ('{"@class":"com.silanis.esl.packages.event.ESLProcessEvent",'
                '"name":"PACKAGE_COMPLETE","sessionUser":'
                '"e00696ec-d6f5-4feb-89c5-a5ce002a6c66","packageId":"bench-'
                + n + '=","message":null,"documentId":null,'
                '"createdDate":"2018-06-30T20:15:01.038Z"}').encode()
        uri, ctype = "/esignhook/onespan", "application/json"
    else:
        body = ("TransID=" + n + "&PartID=1234567890&TXStatus=2&PartStatus=6"
                "&EventType=participant&ps_securitytoken="
                "4bf44fb0-f695-40b5-821d-c22273e11c30").encode()
        uri, ctype = "/esignhook/alphatrust/" + token, \
            "application/x-www-form-urlencoded"
    clen = str(len(body))
    # /etc/nginx/fastcgi_params (Debian), then esignhook.conf's own.
    p = [("QUERY_STRING", ""), ("REQUEST_METHOD", "POST"),
         ("CONTENT_TYPE", ctype), ("CONTENT_LENGTH", clen),
         ("SCRIPT_NAME", uri), ("REQUEST_URI", uri),
         ("DOCUMENT_URI", uri), ("DOCUMENT_ROOT", "/usr/share/nginx/html"),
         ("SERVER_PROTOCOL", "HTTP/1.1"), ("REQUEST_SCHEME", "http"),
         ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_SOFTWARE", "nginx/1.22.1"),
         ("REMOTE_ADDR", "127.0.0.1"), ("REMOTE_PORT", "41234"),
         ("SERVER_ADDR", "127.0.0.1"), ("SERVER_PORT", "28480"),
         ("SERVER_NAME", ""), ("REDIRECT_STATUS", "200"),
         ("REQUEST_ID", "%032x" % int(n))]
    if kind == "onespan":
        p.append(("HTTP_AUTHORIZATION", "Basic " + key))
    # The request's headers (wrk's), but those named above.
    p += [("HTTP_HOST", "127.0.0.1:28480"), ("HTTP_CONTENT_TYPE", ctype),
          ("HTTP_CONTENT_LENGTH", clen)]
    return p, body


def one(path, params, body):
    msg = record(BEGIN, struct.pack(">HB5x", 1, 0))
    msg += record(PARAMS, encode(params)) + record(PARAMS, b"")
    msg += record(STDIN, body) + record(STDIN, b"")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    out, buf = b"", b""
    try:
        # The socket may be bound but not yet listening: a moment.
        for _ in range(100):
            try:
                s.connect(path)
                break
            except (ConnectionRefusedError, FileNotFoundError):
                time.sleep(0.05)
        else:
            s.connect(path)
        s.sendall(msg)
        while True:
            d = s.recv(65536)
            if not d:
                return out
            buf += d
            while len(buf) >= 8:
                _, t, _, clen, pad = struct.unpack(">BBHHBx", buf[:8])
                if len(buf) < 8 + clen + pad:
                    break
                content, buf = buf[8:8 + clen], buf[8 + clen + pad:]
                if t == STDOUT:
                    out += content
                elif t == END:
                    return out
    finally:
        s.close()


def main():
    args = sys.argv[1:]
    if args[0] == "--body":
        sys.stdout.buffer.write(request_for(args[1], args[2], "", "")[1])
        return
    opts = {"--key": "", "--token": "", "--tag": "p", "--conns": "1"}
    for o in list(opts):
        if o in args:
            i = args.index(o)
            opts[o] = args[i + 1]
            del args[i:i + 2]
    path, kind, total = args[0], args[1], int(args[2])
    conns = max(1, int(opts["--conns"]))
    ok = [0] * conns

    def client(c):
        for i in range(c, total, conns):
            # Digits only: an AlphaTrust TransID is numeric.
            n = "%s%09d" % ("".join(str(ord(ch) % 10)
                                    for ch in opts["--tag"]), i)
            params, body = request_for(kind, n, opts["--key"],
                                       opts["--token"])
            if one(path, params, body).startswith(b"Status: 200"):
                ok[c] += 1

    threads = [threading.Thread(target=client, args=(c,))
               for c in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("sent %d ok %d" % (total, sum(ok)))
    sys.exit(0 if sum(ok) == total else 1)


if __name__ == "__main__":
    main()
