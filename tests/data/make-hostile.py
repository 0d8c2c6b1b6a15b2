#!/usr/bin/env python3
"""Writes tests/data/hostile/<name>.req: malformed and malicious requests,
each with the status esignhook must answer.  Nothing in it may be spooled.

Format of a case file:
    expect=<status>
    KEY=value            CGI variables; \\r \\n \\t \\\\ \\xNN escapes in values
    (blank line)
    body bytes, verbatim (no trailing newline added)
The cases are run (tests/test-hostile.c, tests/e2e-hostile.sh) with
ESIGNHOOK_ONESPAN_KEYS=hostile-onespan-key-0123456789 and
ESIGNHOOK_ALPHATRUST_TOKENS=hostile-url-token-0123456789.
"""
import os, sys

KEY = "hostile-onespan-key-0123456789"
TOK = "hostile-url-token-0123456789"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile")
PKG = b'{"name":"PACKAGE_COMPLETE","packageId":"p1"}'
FORM = b"TransID=1234567890&TXStatus=4&EventType=transaction&ps_securitytoken=g"
cases = []

def esc(v):
    out = []
    for ch in v:
        if ch == "\\": out.append("\\\\")
        elif ch == "\r": out.append("\\r")
        elif ch == "\n": out.append("\\n")
        elif ch == "\t": out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7f: out.append("\\x%02x" % ord(ch))
        else: out.append(ch)
    return "".join(out)

def case(name, expect, env, body=b""):
    cases.append((name, expect, env, body))

def onespan(name, expect, body, clen=True, auth="Basic " + KEY, **extra):
    env = {"REQUEST_METHOD": "POST", "REQUEST_URI": "/esignhook/onespan",
           "CONTENT_TYPE": "application/json", "HTTP_AUTHORIZATION": auth}
    if auth is None: del env["HTTP_AUTHORIZATION"]
    if clen is True: env["CONTENT_LENGTH"] = str(len(body))
    elif clen is not None: env["CONTENT_LENGTH"] = clen
    env.update(extra)
    case("onespan-" + name, expect, env, body)

def at_post(name, expect, body, uri="/esignhook/alphatrust/" + TOK, **extra):
    env = {"REQUEST_METHOD": "POST", "REQUEST_URI": uri,
           "CONTENT_TYPE": "application/x-www-form-urlencoded",
           "CONTENT_LENGTH": str(len(body))}
    env.update(extra)
    case("alphatrust-post-" + name, expect, env, body)

def at_get(name, expect, query, uri="/esignhook/alphatrust/" + TOK):
    case("alphatrust-get-" + name, expect,
         {"REQUEST_METHOD": "GET", "REQUEST_URI": uri + "?" + query,
          "QUERY_STRING": query})

def with_field(field, n):
    return ('{"name":"PACKAGE_DECLINE","packageId":"p","%s":"%s"}' % (field, "x" * n)).encode()

# --- broken JSON
for n, b in [("open-brace", b"{"), ("close-brace", b"}"), ("no-value", b'{"name":}'),
             ("unterminated", b'{"name":"X","packageId":"p"'),
             ("unterminated-string", b'{"name":"X,"packageId":"p"}'),
             ("single-quotes", b"{'name':'PACKAGE_COMPLETE','packageId':'p'}"),
             ("trailing-comma", b'{"name":"X","packageId":"p",}'),
             ("nan", b'{"name":"X","packageId":"p","n":NaN}'),
             ("comment", b'{"name":"X",/*c*/"packageId":"p"}'),
             ("two-objects", PKG + PKG), ("trailing-garbage", PKG + b"x"),
             ("bom", b"\xef\xbb\xbf" + PKG), ("empty", b""), ("blanks", b" \n\t "),
             ("bare-key", b'{name:"X","packageId":"p"}'),
             ("hex-number", b'{"name":"X","packageId":"p","n":0x10}')]:
    onespan("json-" + n, 400, b)
for n, b in [("array", b"[]"), ("array-of-event", b"[" + PKG + b"]"), ("string", b'"PACKAGE_COMPLETE"'),
             ("number", b"123"), ("null", b"null"), ("true", b"true")]:
    onespan("not-object-" + n, 400, b)
onespan("nesting-bomb-arrays", 400, b'{"name":"X","packageId":"p","a":' + b"[" * 30000 + b"]" * 30000 + b"}")
onespan("nesting-bomb-objects", 400, b'{"name":"X","packageId":"p","a":' + b'{"a":' * 5000 + b"1" + b"}" * 5001)
onespan("nesting-bomb-unclosed", 400, b"[" * 60000)
# --- numbers
for n, v in [("int-2to64", b"18446744073709551616"), ("int-huge", b"123456789012345678901234567890"),
             ("neg-int-huge", b"-123456789012345678901234567890"), ("real-overflow", b"1e999999"),
             ("neg-real-overflow", b"-1e999999"), ("leading-zero", b"0123"), ("plus", b"+1")]:
    onespan("number-" + n, 400, b'{"name":"X","packageId":"p","n":' + v + b"}")
# --- UTF-8 and NUL
for n, v in [("ff", b"\xff"), ("overlong-slash", b"\xc0\xaf"), ("surrogate-raw", b"\xed\xa0\x80"),
             ("truncated", b"\xe2\x82"), ("over-max", b"\xf4\x90\x80\x80"), ("lone-cont", b"\x80")]:
    onespan("utf8-" + n, 400, b'{"name":"X' + v + b'","packageId":"p"}')
onespan("utf8-escaped-lone-surrogate", 400, b'{"name":"X\\ud800","packageId":"p"}')
onespan("nul-escape-name", 400, b'{"name":"PACKAGE_COMPLETE\\u0000","packageId":"p"}')
onespan("nul-escape-message", 400, b'{"name":"X","packageId":"p","message":"a\\u0000b"}')
onespan("nul-raw", 400, b'{"name":"X\x00","packageId":"p"}')
onespan("control-char-raw", 400, b'{"name":"X\x01","packageId":"p"}')
# --- sizes
for f, n in [("sessionUser", 256), ("packageId", 256), ("newRoleId", 256), ("documentId", 257),
             ("message", 4001), ("name", 256)]:
    if f in ("packageId", "name"):
        b = ('{"name":"%s","packageId":"%s"}' % ("X" * n if f == "name" else "X",
                                                "p" * n if f == "packageId" else "p")).encode()
    else:
        b = with_field(f, n)
    onespan("overlong-" + f, 400, b)
# --- duplicates, types, missing
for n, b in [("dup-name", b'{"name":"X","name":"Y","packageId":"p"}'),
             ("dup-packageId", b'{"name":"X","packageId":"p","packageId":"q"}'),
             ("dup-nested", b'{"name":"X","packageId":"p","a":{"x":1,"x":2}}'),
             ("dup-escaped-key", b'{"name":"X","n\\u0061me":"Y","packageId":"p"}')]:
    onespan(n, 400, b)
for n, b in [("name-number", b'{"name":1,"packageId":"p"}'), ("name-null", b'{"name":null,"packageId":"p"}'),
             ("name-array", b'{"name":["X"],"packageId":"p"}'), ("packageId-object", b'{"name":"X","packageId":{}}'),
             ("message-number", b'{"name":"X","packageId":"p","message":5}'),
             ("documentId-true", b'{"name":"X","packageId":"p","documentId":true}'),
             ("sessionUser-array", b'{"name":"X","packageId":"p","sessionUser":[]}')]:
    onespan("type-" + n, 400, b)
for n, b in [("no-name", b'{"packageId":"p"}'), ("no-packageId", b'{"name":"X"}'),
             ("empty-name", b'{"name":"","packageId":"p"}'), ("empty-packageId", b'{"name":"X","packageId":""}'),
             ("empty-object", b"{}")]:
    onespan("missing-" + n, 400, b)
# --- CONTENT_LENGTH
for n, v, st in [("negative", "-1", 400), ("plus", "+45", 400), ("leading-space", " 45", 400),
                 ("trailing-space", "45 ", 400), ("hex", "0x2d", 400), ("exponent", "4.5e1", 400),
                 ("overflow", "99999999999999999999999", 400), ("2to64", "18446744073709551616", 400),
                 ("over-limit", "65537", 413), ("huge", "9223372036854775807", 413),
                 ("longer-than-body", "500", 400), ("crlf", "45\r\n", 400)]:
    onespan("clen-" + n, st, PKG, clen=v)
onespan("body-over-limit-undeclared", 413, b'{"name":"X","packageId":"p","m":"' + b"x" * 70000 + b'"}', clen=None)
onespan("body-over-limit-declared", 413, b'{"name":"X","packageId":"p","m":"' + b"x" * 70000 + b'"}')
# --- credentials
for n, a in [("wrong", "Basic nope"), ("prefix", "Basic " + KEY[:-1]), ("suffix", "Basic " + KEY + "0"),
             ("upper-case", "Basic " + KEY.upper()), ("empty", "Basic "), ("scheme-only", "Basic"),
             ("bearer", "Bearer " + KEY), ("digest", "Digest " + KEY),
             ("base64", "Basic aG9zdGlsZS1vbmVzcGFuLWtleS0wMTIzNDU2Nzg5"),
             ("user-colon", "Basic user:" + KEY), ("alphatrust-token", "Basic " + TOK),
             ("crlf-injection", "Basic nope\r\nX-Injected: 1"), ("long", "Basic " + "k" * 20000),
             ("no-space", "Basic" + KEY), ("key-then-junk", "Basic " + KEY + " extra")]:
    onespan("auth-" + n, 401, PKG, auth=a)
onespan("auth-missing", 401, PKG, auth=None)
onespan("auth-before-parse", 401, b"{", auth="Basic nope")
onespan("auth-token-of-alphatrust-in-path", 401, PKG, auth=None, REQUEST_URI="/esignhook/" + TOK)
# --- AlphaTrust form
for n, b in [("nul", FORM + b"&x=%00"), ("escape-zz", FORM + b"&x=%zz"), ("escape-short", FORM + b"&x=%4"),
             ("escape-end", FORM + b"&x=%"), ("utf8-ff", FORM + b"&x=%ff"), ("utf8-overlong", FORM + b"&x=%c0%af"),
             ("utf8-surrogate", FORM + b"&x=%ed%a0%80"), ("utf8-raw-ff", FORM + b"&x=\xff"),
             ("dup-TransID", FORM + b"&TransID=2"), ("dup-EventType", FORM + b"&EventType=participant"),
             ("dup-encoded-name", FORM + b"&%54ransID=2"), ("empty-field", FORM.replace(b"&", b"&&", 1)),
             ("leading-amp", b"&" + FORM), ("trailing-amp", FORM + b"&"), ("no-name", FORM + b"&=x"),
             ("TransID-alpha", b"TransID=12a&EventType=transaction"),
             ("TransID-negative", b"TransID=-1&EventType=transaction"),
             ("TransID-decimal", b"TransID=1.0&EventType=transaction"),
             ("TransID-space", b"TransID=+1&EventType=transaction"),
             ("TransID-fullwidth", b"TransID=%EF%BC%91&EventType=transaction"),
             ("TransID-empty", b"TransID=&EventType=transaction"),
             ("TransID-21-digits", b"TransID=123456789012345678901&EventType=transaction"),
             ("PartStatus-alpha", FORM + b"&PartID=1&PartStatus=x"),
             ("TXStatus-trailing-space", b"TransID=1&TXStatus=4+&EventType=transaction"),
             ("ReassignedPartID-alpha", FORM + b"&ReassignedPartID=x"),
             ("missing-EventType", b"TransID=1&TXStatus=4"), ("missing-TransID", b"EventType=transaction"),
             ("empty-EventType", b"TransID=1&EventType="), ("overlong-EventType", b"TransID=1&EventType=" + b"e" * 256),
             ("too-many-fields", FORM + b"".join(b"&f%d=1" % i for i in range(70))),
             ("overlong-value", FORM + b"&VictimStatement=" + b"v" * 9000),
             ("nul-raw", FORM + b"&x=a\x00b")]:
    at_post(n, 400, b)
at_post("no-token", 401, FORM, uri="/esignhook/alphatrust/")
at_post("wrong-token", 401, FORM, uri="/esignhook/alphatrust/wrong")
at_post("token-prefix", 401, FORM, uri="/esignhook/alphatrust/" + TOK[:-1])
at_post("token-suffix", 401, FORM, uri="/esignhook/alphatrust/" + TOK + "x")
at_post("token-upper-case", 401, FORM, uri="/esignhook/alphatrust/" + TOK.upper())
at_post("token-percent-encoded", 401, FORM, uri="/esignhook/alphatrust/%68" + TOK[1:])
at_post("token-trailing-slash", 401, FORM, uri="/esignhook/alphatrust/" + TOK + "/")
at_post("onespan-key-as-token", 401, FORM, uri="/esignhook/alphatrust/" + KEY)
at_post("token-in-body-only", 401, FORM + b"&token=" + TOK.encode(), uri="/esignhook/alphatrust")
at_post("securitytoken-is-no-secret", 401, FORM.replace(b"=g", b"=" + TOK.encode()), uri="/esignhook/alphatrust")
at_post("token-twice-in-query", 400, FORM, uri="/a?token=%s&token=%s" % (TOK, TOK),
        QUERY_STRING="token=%s&token=%s" % (TOK, TOK))
at_get("nul", 400, FORM.decode() + "&x=%00")
at_get("escape", 400, FORM.decode() + "&x=%g0")
at_get("dup", 400, FORM.decode() + "&TXStatus=4")
at_get("missing-EventType", 400, "TransID=1")
at_get("wrong-token", 401, FORM.decode(), uri="/esignhook/alphatrust/nope")
at_get("token-param-wrong", 401, FORM.decode() + "&token=nope", uri="/esignhook/alphatrust")
# --- methods
for m in ["PUT", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT", "PATCH", "get", "post", "POST ",
          "", "GET\r\nX-Injected: 1", "POST\nts=2026 level=info status=200"]:
    name = "method-" + ("".join(c if c.isalnum() else "_" for c in m) or "empty")
    case(name, 405, {"REQUEST_METHOD": m, "REQUEST_URI": "/esignhook/onespan",
                     "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(PKG)),
                     "HTTP_AUTHORIZATION": "Basic " + KEY}, PKG)
# --- content types
for n, ct in [("text-plain", "text/plain"), ("multipart", "multipart/form-data; boundary=x"),
              ("json-patch", "application/json-patch+json"), ("jsonx", "application/jsonx"),
              ("form-x", "application/x-www-form-urlencodedx"), ("empty", ""), ("json-word", "json"),
              ("crlf", "application/json\r\nX-Injected: 1"), ("xml", "application/xml")]:
    onespan("ctype-" + n, 415, PKG, CONTENT_TYPE=ct)
# --- log forgery through logged values on a rejected request
onespan("log-forge-remote-addr", 401, PKG, auth="Basic nope",
        REMOTE_ADDR="1.2.3.4\nts=2026-01-01T00:00:00Z level=info status=200 id=forged")
onespan("log-forge-remote-addr-cr", 401, PKG, auth="Basic nope", REMOTE_ADDR="1.2.3.4\r status=200")

def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".req"):
            os.unlink(os.path.join(OUT, f))
    names = set()
    for name, expect, env, body in cases:
        assert name not in names, name
        names.add(name)
        with open(os.path.join(OUT, name + ".req"), "wb") as fp:
            fp.write(("expect=%d\n" % expect).encode())
            for k, v in env.items():
                fp.write(("%s=%s\n" % (k, esc(v))).encode())
            fp.write(b"\n")
            fp.write(body)
    print("%d cases in %s" % (len(cases), OUT))

if __name__ == "__main__":
    main()
