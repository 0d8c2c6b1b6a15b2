#!/usr/bin/env python3
"""Writes tests/data/hostile/<name>.req: malformed and malicious requests,
each with the status esignhook must answer.  Those refused before
authentication (method, size, content type, credentials) store nothing
and have their body left unread; those authenticated are stored, each
with the problems its record must list.

Format of a case file:
    expect=<status>
    expect-read=yes|no   whether the receiver reads the body
    expect-problem=TEXT  (any number) a substring of one of the stored
                         record's "problems"; none: a 200 stores a
                         record without problems
    expect-raw=body|query  the record has "data":null and "raw" holds
                         the body (or QUERY_STRING) exactly; event and
                         transaction_id are null
    expect-event=NAME|null, expect-transaction_id=ID|null
    expect-field=NAME=VALUE  data[NAME] is VALUE
    KEY=value            CGI variables; \\r \\n \\t \\\\ \\xNN escapes in values
    (blank line)
    body bytes, verbatim (no trailing newline added)
Lines starting "expect" come first, the CGI variables after them.  The
cases are run (tests/test-hostile.c, tests/e2e-hostile.sh) with
ESIGNHOOK_ONESPAN_KEYS=hostile-onespan-key-0123456789 and
ESIGNHOOK_ALPHATRUST_TOKENS=hostile-url-token-0123456789,
ESIGNHOOK_OAUTH_CLIENT_ID=hostile-client and
ESIGNHOOK_OAUTH_CLIENT_SECRETS=hostile-oauth-secret-0123456789, the spool's
new/ and seen/ emptied between cases.  Token requests (.../oauth/token)
are read before their client is authenticated (the credentials may be in
the body), so theirs is read whenever the head lets it be.
"""
import os, sys

KEY = "hostile-onespan-key-0123456789"
TOK = "hostile-url-token-0123456789"
CID = "hostile-client"
SEC = "hostile-oauth-secret-0123456789"
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

def case(name, expect, env, body=b"", problems=(), raw=None, event=None,
         tid=None, fields=None, read=None):
    cases.append((name, expect, env, body, list(problems), raw, event, tid,
                  fields or {}, read))

def onespan(name, expect, body, clen=True, auth="Basic " + KEY, **extra):
    exp = {k: extra.pop(k) for k in ("problems", "raw", "event", "tid", "fields")
           if k in extra}
    env = {"REQUEST_METHOD": "POST", "REQUEST_URI": "/esignhook/onespan",
           "CONTENT_TYPE": "application/json", "HTTP_AUTHORIZATION": auth}
    if auth is None: del env["HTTP_AUTHORIZATION"]
    if clen is True: env["CONTENT_LENGTH"] = str(len(body))
    elif clen is not None: env["CONTENT_LENGTH"] = clen
    env.update(extra)
    case("onespan-" + name, expect, env, body, **exp)

def at_post(name, expect, body, uri="/esignhook/alphatrust/" + TOK, **extra):
    exp = {k: extra.pop(k) for k in ("problems", "raw", "event", "tid", "fields")
           if k in extra}
    env = {"REQUEST_METHOD": "POST", "REQUEST_URI": uri,
           "CONTENT_TYPE": "application/x-www-form-urlencoded",
           "CONTENT_LENGTH": str(len(body))}
    env.update(extra)
    case("alphatrust-post-" + name, expect, env, body, **exp)

def at_get(name, expect, query, uri="/esignhook/alphatrust/" + TOK, **exp):
    case("alphatrust-get-" + name, expect,
         {"REQUEST_METHOD": "GET", "REQUEST_URI": uri + "?" + query,
          "QUERY_STRING": query}, **exp)

# A OneSpan body that is no JSON object: stored as raw, with its problem.
def os_raw(name, body, problem):
    onespan(name, 200, body, problems=problem if isinstance(problem, list) else [problem],
            raw="body")

def with_field(field, n):
    return ('{"name":"PACKAGE_DECLINE","packageId":"p","%s":"%s"}' % (field, "x" * n)).encode()

# --- broken JSON: authenticated, so stored as raw with its problem
for n, b in [("open-brace", b"{"), ("close-brace", b"}"), ("no-value", b'{"name":}'),
             ("unterminated", b'{"name":"X","packageId":"p"'),
             ("unterminated-string", b'{"name":"X,"packageId":"p"}'),
             ("single-quotes", b"{'name':'PACKAGE_COMPLETE','packageId':'p'}"),
             ("trailing-comma", b'{"name":"X","packageId":"p",}'),
             ("nan", b'{"name":"X","packageId":"p","n":NaN}'),
             ("comment", b'{"name":"X",/*c*/"packageId":"p"}'),
             ("two-objects", PKG + PKG), ("trailing-garbage", PKG + b"x"),
             ("empty", b""), ("blanks", b" \n\t "),
             ("bare-key", b'{name:"X","packageId":"p"}'),
             ("hex-number", b'{"name":"X","packageId":"p","n":0x10}')]:
    os_raw("json-" + n, b, "malformed JSON at byte ")
# .NET's StreamWriter with Encoding.UTF8: a byte order mark, ignored.
onespan("json-bom", 200, b"\xef\xbb\xbf" + PKG, event="PACKAGE_COMPLETE", tid="p1")
for n, b in [("array", b"[]"), ("array-of-event", b"[" + PKG + b"]")]:
    os_raw("not-object-" + n, b, "the JSON body is an array, not an object")
# jansson takes nothing but an array or an object at the top.
for n, b in [("string", b'"PACKAGE_COMPLETE"'), ("number", b"123"), ("null", b"null"),
             ("true", b"true")]:
    os_raw("not-object-" + n, b, "malformed JSON at byte ")
os_raw("nesting-bomb-arrays", b'{"name":"X","packageId":"p","a":' + b"[" * 30000 + b"]" * 30000 + b"}",
       "nested too deeply")
os_raw("nesting-bomb-objects", b'{"name":"X","packageId":"p","a":' + b'{"a":' * 5000 + b"1" + b"}" * 5001,
       "nested too deeply")
os_raw("nesting-bomb-unclosed", b"[" * 60000, "nested too deeply")
# --- numbers
for n, v, why in [("int-2to64", b"18446744073709551616", "a number too large"),
                  ("int-huge", b"123456789012345678901234567890", "a number too large"),
                  ("neg-int-huge", b"-123456789012345678901234567890", "a number too large"),
                  ("real-overflow", b"1e999999", "a number too large"),
                  ("neg-real-overflow", b"-1e999999", "a number too large"),
                  ("leading-zero", b"0123", "malformed JSON"), ("plus", b"+1", "malformed JSON")]:
    os_raw("number-" + n, b'{"name":"X","packageId":"p","n":' + v + b"}", why)
# --- UTF-8 and NUL
for n, v in [("ff", b"\xff"), ("overlong-slash", b"\xc0\xaf"), ("surrogate-raw", b"\xed\xa0\x80"),
             ("truncated", b"\xe2\x82"), ("over-max", b"\xf4\x90\x80\x80"), ("lone-cont", b"\x80")]:
    os_raw("utf8-" + n, b'{"name":"X' + v + b'","packageId":"p"}', "invalid UTF-8")
os_raw("utf8-escaped-lone-surrogate", b'{"name":"X\\ud800","packageId":"p"}', "malformed JSON")
os_raw("nul-escape-name", b'{"name":"PACKAGE_COMPLETE\\u0000","packageId":"p"}', "\\u0000")
os_raw("nul-escape-message", b'{"name":"X","packageId":"p","message":"a\\u0000b"}', "\\u0000")
os_raw("nul-raw", b'{"name":"X\x00","packageId":"p"}', "malformed JSON")
os_raw("control-char-raw", b'{"name":"X\x01","packageId":"p"}', "malformed JSON")
# --- sizes: stored with data; a field over its size is null in the record
for f, n, lim in [("sessionUser", 256, 255), ("packageId", 256, 255), ("newRoleId", 256, 255),
                  ("documentId", 257, 256), ("message", 4001, 4000), ("name", 256, 255)]:
    if f in ("packageId", "name"):
        b = ('{"name":"%s","packageId":"%s"}' % ("X" * n if f == "name" else "X",
                                                "p" * n if f == "packageId" else "p")).encode()
    else:
        b = with_field(f, n)
    onespan("overlong-" + f, 200, b, problems=["%s is over %d characters" % (f, lim)],
            event="null" if f == "name" else ("X" if f == "packageId" else "PACKAGE_DECLINE"),
            tid="null" if f == "packageId" else "p")
# --- duplicate keys: the bytes cannot be data, so raw
for n, b in [("dup-name", b'{"name":"X","name":"Y","packageId":"p"}'),
             ("dup-packageId", b'{"name":"X","packageId":"p","packageId":"q"}'),
             ("dup-nested", b'{"name":"X","packageId":"p","a":{"x":1,"x":2}}'),
             ("dup-escaped-key", b'{"name":"X","n\\u0061me":"Y","packageId":"p"}')]:
    os_raw(n, b, "a duplicate object key")
# --- types, missing: stored with data, the field null in the record
for n, b, why, ev, tx in [
        ("name-number", b'{"name":1,"packageId":"p"}', "name is a number, not a string", "null", "p"),
        ("name-null", b'{"name":null,"packageId":"p"}', "name is null, not a string", "null", "p"),
        ("name-array", b'{"name":["X"],"packageId":"p"}', "name is an array, not a string", "null", "p"),
        ("packageId-object", b'{"name":"X","packageId":{}}', "packageId is an object, not a string", "X", "null"),
        ("message-number", b'{"name":"X","packageId":"p","message":5}', "message is a number, not a string", "X", "p"),
        ("documentId-true", b'{"name":"X","packageId":"p","documentId":true}', "documentId is a boolean, not a string", "X", "p"),
        ("sessionUser-array", b'{"name":"X","packageId":"p","sessionUser":[]}', "sessionUser is an array, not a string", "X", "p")]:
    onespan("type-" + n, 200, b, problems=[why], event=ev, tid=tx)
for n, b, why, ev, tx in [
        ("no-name", b'{"packageId":"p"}', ["name is missing"], "null", "p"),
        ("no-packageId", b'{"name":"X"}', ["packageId is missing"], "X", "null"),
        ("empty-name", b'{"name":"","packageId":"p"}', ["name is empty"], "null", "p"),
        ("empty-packageId", b'{"name":"X","packageId":""}', ["packageId is empty"], "X", "null"),
        ("empty-object", b"{}", ["name is missing", "packageId is missing"], "null", "null")]:
    onespan("missing-" + n, 200, b, problems=why, event=ev, tid=tx)
# --- CONTENT_LENGTH: refused before authentication (a short body after it)
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
# A form content type with a wrong OneSpan key stays AlphaTrust's: 401.
onespan("auth-wrong-key-as-form", 401, PKG, auth="Basic nope",
        CONTENT_TYPE="application/x-www-form-urlencoded")
# --- AlphaTrust form: what cannot be decoded is stored as raw
for n, b, why in [("nul", FORM + b"&x=%00", "form field 5: a NUL byte"),
                  ("escape-zz", FORM + b"&x=%zz", "form field 5: bad %-escape"),
                  ("escape-short", FORM + b"&x=%4", "form field 5: bad %-escape"),
                  ("escape-end", FORM + b"&x=%", "form field 5: bad %-escape"),
                  ("utf8-ff", FORM + b"&x=%ff", "form field 5: invalid UTF-8"),
                  ("utf8-overlong", FORM + b"&x=%c0%af", "form field 5: invalid UTF-8"),
                  ("utf8-surrogate", FORM + b"&x=%ed%a0%80", "form field 5: invalid UTF-8"),
                  ("utf8-raw-ff", FORM + b"&x=\xff", "form field 5: invalid UTF-8"),
                  ("too-many-fields", FORM + b"".join(b"&f%d=1" % i for i in range(70)),
                   "more than 64 form fields"),
                  ("overlong-value", FORM + b"&VictimStatement=" + b"v" * 9000,
                   "form field 5 is over 8192 bytes"),
                  ("nul-raw", FORM + b"&x=a\x00b", "form field 5: a NUL byte")]:
    at_post(n, 200, b, problems=[why], raw="body")
# ... a field given twice keeps its first value; the problem names it
at_post("dup-TransID", 200, FORM + b"&TransID=2",
        problems=["form field TransID given twice: the first value kept"],
        event="transaction", tid="1234567890", fields={"TransID": "1234567890"})
at_post("dup-EventType", 200, FORM + b"&EventType=participant",
        problems=["form field EventType given twice"], event="transaction",
        fields={"EventType": "transaction"})
at_post("dup-encoded-name", 200, FORM + b"&%54ransID=2",
        problems=["form field TransID given twice"], tid="1234567890")
# ... empty pairs are skipped as WHATWG does: no problem at all
for n, b in [("empty-field", FORM.replace(b"&", b"&&", 1)), ("leading-amp", b"&" + FORM),
             ("trailing-amp", FORM + b"&")]:
    at_post(n, 200, b, event="transaction", tid="1234567890")
at_post("no-name", 200, FORM + b"&=x", problems=["form field 5 has no name: skipped"],
        event="transaction")
for n, b, why, tx in [
        ("TransID-alpha", b"TransID=12a&EventType=transaction", "TransID is not 1 to 20 digits", "null"),
        ("TransID-negative", b"TransID=-1&EventType=transaction", "TransID is not 1 to 20 digits", "null"),
        ("TransID-decimal", b"TransID=1.0&EventType=transaction", "TransID is not 1 to 20 digits", "null"),
        ("TransID-space", b"TransID=+1&EventType=transaction", "TransID is not 1 to 20 digits", "null"),
        ("TransID-fullwidth", b"TransID=%EF%BC%91&EventType=transaction", "TransID is not 1 to 20 digits", "null"),
        ("TransID-empty", b"TransID=&EventType=transaction", "TransID is not 1 to 20 digits", "null"),
        ("TransID-21-digits", b"TransID=123456789012345678901&EventType=transaction", "TransID is not 1 to 20 digits", "null"),
        ("PartStatus-alpha", FORM + b"&PartID=1&PartStatus=x", "PartStatus is not 1 to 20 digits", "1234567890"),
        ("TXStatus-trailing-space", b"TransID=1&TXStatus=4+&EventType=transaction", "TXStatus is not 1 to 20 digits", "1"),
        ("ReassignedPartID-alpha", FORM + b"&ReassignedPartID=x", "ReassignedPartID is not 1 to 20 digits", "1234567890")]:
    at_post(n, 200, b, problems=[why], event="transaction", tid=tx)
for n, b, why, ev, tx in [
        ("missing-EventType", b"TransID=1&TXStatus=4", "EventType is missing", "null", "1"),
        ("missing-TransID", b"EventType=transaction", "TransID is missing", "transaction", "null"),
        ("empty-EventType", b"TransID=1&EventType=", "EventType is empty", "null", "1"),
        ("overlong-EventType", b"TransID=1&EventType=" + b"e" * 256, "EventType is over 255 bytes", "null", "1")]:
    at_post(n, 200, b, problems=[why], event=ev, tid=tx)
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
# A OneSpan key in Authorization does not admit a form without its token
# to AlphaTrust, nor does a token admit OneSpan's JSON.
at_post("alphatrust-token-as-basic", 401, FORM, uri="/esignhook/alphatrust",
        HTTP_AUTHORIZATION="Basic " + TOK)
at_post("token-twice-in-query", 200, FORM, uri="/a?token=%s&token=%s" % (TOK, TOK),
        QUERY_STRING="token=%s&token=%s" % (TOK, TOK),
        problems=["query field token given twice: the first value kept"], event="transaction")
at_get("nul", 200, FORM.decode() + "&x=%00", problems=["query field 5: a NUL byte"], raw="query")
at_get("escape", 200, FORM.decode() + "&x=%g0", problems=["query field 5: bad %-escape"], raw="query")
at_get("dup", 200, FORM.decode() + "&TXStatus=4",
       problems=["query field TXStatus given twice"], event="transaction")
at_get("missing-EventType", 200, "TransID=1", problems=["EventType is missing"], event="null", tid="1")
at_get("wrong-token", 401, FORM.decode(), uri="/esignhook/alphatrust/nope")
at_get("token-param-wrong", 401, FORM.decode() + "&token=nope", uri="/esignhook/alphatrust")
# --- senders' quirks: stored as the sender meant them, no problem
onespan("java-form-content-type", 200, PKG, CONTENT_TYPE="application/x-www-form-urlencoded",
        event="PACKAGE_COMPLETE", tid="p1")
at_post("crlf-after-body", 200, FORM + b"\r\n", fields={"ps_securitytoken": "g"},
        event="transaction")
at_post("bom-before-body", 200, b"\xef\xbb\xbf" + FORM, fields={"TransID": "1234567890"})
at_get("second-question-mark", 200, "token=%s?EventType=transaction&TransID=1" % TOK,
       uri="/esignhook/alphatrust", event="transaction", tid="1")
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

# --- the OAuth 2.0 token endpoint: every one refused, nothing stored
import base64
GRANT = b"grant_type=client_credentials"
def b64(s):
    return base64.b64encode(s.encode()).decode()
GOOD = "Basic " + b64(CID + ":" + SEC)

def token(name, expect, body, ctype="application/x-www-form-urlencoded",
          auth=GOOD, clen=True, read=True, method="POST",
          uri="/esignhook/oauth/token", **extra):
    env = {"REQUEST_METHOD": method, "REQUEST_URI": uri, "CONTENT_TYPE": ctype}
    if auth is not None: env["HTTP_AUTHORIZATION"] = auth
    if clen is True: env["CONTENT_LENGTH"] = str(len(body))
    elif clen is not None: env["CONTENT_LENGTH"] = clen
    env.update(extra)
    case("token-" + name, expect, env, body, read=read)

token("wrong-secret", 401, GRANT, auth="Basic " + b64(CID + ":nope"))
token("unknown-client", 401, GRANT, auth="Basic " + b64("nobody:" + SEC))
token("no-client-auth", 401, GRANT, auth=None)
token("onespan-key-as-client", 401, GRANT, auth="Basic " + KEY)
token("secret-prefix", 401, GRANT, auth="Basic " + b64(CID + ":" + SEC[:-1]))
token("secret-upper-case", 401, GRANT, auth="Basic " + b64(CID + ":" + SEC.upper()))
token("body-wrong-secret", 401, GRANT + b"&client_id=" + CID.encode() + b"&client_secret=x", auth=None)
token("basic-not-base64", 401, GRANT, auth="Basic !!!not-base64!!!")
token("basic-no-colon", 401, GRANT, auth="Basic " + b64(CID + SEC))
token("basic-bad-escape", 401, GRANT, auth="Basic " + b64(CID + ":%zz"))
token("basic-nul-escape", 401, GRANT, auth="Basic " + b64(CID + ":a%00b"))
token("two-client-auths", 400, GRANT + b"&client_id=" + CID.encode() + b"&client_secret=" + SEC.encode())
token("no-grant-type", 400, b"scope=x")
token("empty-body", 400, b"")
token("grant-password", 400, b"grant_type=password&username=a&password=b")
token("grant-empty", 400, b"grant_type=")
token("grant-twice", 400, GRANT + b"&" + GRANT)
token("grant-twice-encoded-name", 400, GRANT + b"&grant%5Ftype=client_credentials")
token("client-id-twice", 400, GRANT + b"&client_id=a&client_id=b&client_secret=" + SEC.encode(), auth=None)
token("secret-twice", 400, GRANT + b"&client_id=" + CID.encode() + b"&client_secret=" + SEC.encode() * 1 + b"&client_secret=x", auth=None)
token("huge-scope", 400, GRANT + b"&scope=" + b"s" * 3000)
# Unknown parameters are ignored (RFC 6749 3.2): a large one parses, then
# the wrong secret is what refuses it.
token("huge-param", 401, GRANT + b"&x=" + b"v" * 4000, auth="Basic " + b64(CID + ":nope"))
token("too-many-params", 400, GRANT + b"".join(b"&p%d=1" % i for i in range(70)))
token("nul-escape", 400, GRANT + b"&scope=a%00b")
token("bad-escape", 400, GRANT + b"&scope=%zz")
token("utf8-ff", 400, GRANT + b"&scope=%ff")
token("utf8-raw-ff", 400, GRANT + b"&scope=\xff")
token("over-bound-declared", 413, GRANT + b"&x=" + b"v" * 5000, read=False)
token("over-bound-undeclared", 413, GRANT + b"&x=" + b"v" * 5000, clen=None)
token("clen-negative", 400, GRANT, clen="-1", read=False)
token("clen-longer-than-body", 400, GRANT, clen="500")
token("json", 400, b'{"grant_type":"client_credentials"}', ctype="application/json", read=False)
token("text-plain", 400, GRANT, ctype="text/plain", read=False)
token("no-content-type", 400, GRANT, ctype="", read=False)
for m in ["GET", "PUT", "DELETE", "HEAD", "OPTIONS", "post"]:
    token("method-" + m, 405, GRANT, method=m, read=False)
token("get-with-query", 405, b"", method="GET", uri="/esignhook/oauth/token?" + GRANT.decode(),
      QUERY_STRING=GRANT.decode(), clen=None, read=False)
# "token", the path's last segment, is never a URL token, nor ?token=.
token("alphatrust-form-there", 400, FORM, auth=None)
token("alphatrust-token-in-query", 400, FORM, auth=None,
      uri="/esignhook/oauth/token?token=" + TOK, QUERY_STRING="token=" + TOK)

# multipart/form-data: strict, bounded
def part(name, value, extra=b""):
    return (b"--XyZ\r\nContent-Disposition: form-data; name=\"" + name + b"\"" + extra +
            b"\r\n\r\n" + value + b"\r\n")
MPCT = "multipart/form-data; boundary=XyZ"
MPOK = part(b"grant_type", b"client_credentials")
def mp(name, expect, body, ctype=MPCT, **kw):
    token("multipart-" + name, expect, body, ctype=ctype, **kw)
mp("wrong-secret", 401, MPOK + b"--XyZ--\r\n", auth="Basic " + b64(CID + ":nope"))
mp("no-boundary", 400, MPOK + b"--XyZ--\r\n", ctype="multipart/form-data")
mp("empty-boundary", 400, MPOK + b"--XyZ--\r\n", ctype="multipart/form-data; boundary=")
mp("boundary-71-chars", 400, MPOK.replace(b"XyZ", b"b" * 71) + b"--" + b"b" * 71 + b"--\r\n",
   ctype="multipart/form-data; boundary=" + "b" * 71)
mp("boundary-mismatch", 400, MPOK + b"--XyZ--\r\n", ctype="multipart/form-data; boundary=Other")
mp("no-close-delimiter", 400, MPOK)
mp("no-parts", 400, b"--XyZ--\r\n")
mp("empty-body", 400, b"")
mp("file-part", 400, part(b"grant_type", b"client_credentials", b'; filename="g.txt"') + b"--XyZ--\r\n")
mp("octet-stream-part", 400, b"--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n"
   b"Content-Type: application/octet-stream\r\n\r\nclient_credentials\r\n--XyZ--\r\n")
mp("transfer-encoding", 400, b"--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n"
   b"Content-Transfer-Encoding: base64\r\n\r\nY2xpZW50X2NyZWRlbnRpYWxz\r\n--XyZ--\r\n")
mp("no-disposition", 400, b"--XyZ\r\n\r\nclient_credentials\r\n--XyZ--\r\n")
mp("not-form-data", 400, b"--XyZ\r\nContent-Disposition: attachment; name=\"grant_type\"\r\n\r\n"
   b"client_credentials\r\n--XyZ--\r\n")
mp("unnamed", 400, b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nclient_credentials\r\n--XyZ--\r\n")
mp("dup-name", 400, MPOK + MPOK + b"--XyZ--\r\n")
mp("too-many-parts", 400, b"".join(part(b"p%d" % i, b"1") for i in range(70)) + MPOK + b"--XyZ--\r\n")
mp("part-bomb", 400, b"".join(part(b"%d" % i, b"") for i in range(70)) + b"--XyZ--\r\n")
mp("over-bound", 413, MPOK + part(b"x", b"v" * 5000) + b"--XyZ--\r\n", read=False)
mp("nul-in-value", 400, part(b"grant_type", b"client\x00credentials") + b"--XyZ--\r\n")
mp("nul-in-name", 400, part(b"grant\x00type", b"client_credentials") + b"--XyZ--\r\n")
mp("utf8-ff", 400, part(b"grant_type", b"\xff") + b"--XyZ--\r\n")
mp("lf-only", 400, MPOK.replace(b"\r\n", b"\n") + b"--XyZ--\n")
mp("header-no-colon", 400, b"--XyZ\r\nContent-Disposition form-data; name=\"grant_type\"\r\n\r\n"
   b"client_credentials\r\n--XyZ--\r\n")
mp("unterminated-name", 400, b"--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\r\n\r\n"
   b"client_credentials\r\n--XyZ--\r\n")
# A delimiter only counts at a line start: "--XyZ" inside a value is
# data, the part still ends where a CRLF "--XyZ" does (then: the secret
# is wrong, 401, not a parse error).
mp("boundary-inside-value", 401, part(b"grant_type", b"client_credentials") +
   part(b"scope", b"a--XyZb") + b"--XyZ--\r\n", auth="Basic " + b64(CID + ":nope"))
mp("two-auths", 400, MPOK + part(b"client_id", CID.encode()) + part(b"client_secret", SEC.encode()) +
   b"--XyZ--\r\n")

# --- Bearer tokens on callbacks: refused before the body, 401
for n, a in [("empty", "Bearer"), ("blank", "Bearer "), ("tabs", "Bearer\t\t"),
             ("tab-then-junk", "Bearer\tjunk"), ("junk", "Bearer not-a-token"),
             ("long", "Bearer " + "e" * 20000), ("long-eh1", "Bearer eh1." + "1" * 5000 + ".a.b"),
             ("expiry-overflow", "Bearer eh1.99999999999999999999999.AAAAAAAAAAAAAAAAAAAAAA.AAAA"),
             ("expiry-negative", "Bearer eh1.-1.AAAAAAAAAAAAAAAAAAAAAA.AAAA"),
             ("forged", "Bearer eh1.1893456000.AAAAAAAAAAAAAAAAAAAAAA."
                        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
             ("wrong-version", "Bearer eh2.1893456000.AAAAAAAAAAAAAAAAAAAAAA."
                               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
             ("extra-part", "Bearer eh1.1893456000.AAAA.AAAA.AAAA"),
             ("padded-base64", "Bearer eh1.1893456000.AAAAAAAAAAAAAAAAAAAAAA==."
                               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
             ("two-tokens", "Bearer a Bearer b"), ("client-secret", "Bearer " + SEC),
             ("onespan-key", "Bearer " + KEY), ("crlf-injection", "Bearer x\r\nX-Injected: 1"),
             ("high-bytes", "Bearer eh1.\xff\xfe")]:
    onespan("bearer-" + n, 401, PKG, auth=a)
onespan("bearer-as-form", 401, PKG, auth="Bearer junk",
        CONTENT_TYPE="application/x-www-form-urlencoded")
case("alphatrust-get-bearer-no-url-token", 401,
     {"REQUEST_METHOD": "GET", "REQUEST_URI": "/esignhook/alphatrust?" + FORM.decode(),
      "QUERY_STRING": FORM.decode(), "HTTP_AUTHORIZATION": "Bearer junk"})

def plain_clen(env):
    v = env.get("CONTENT_LENGTH")
    if v is None or v == "":
        return True
    return v.isdigit() and v.isascii() and int(v) <= 65536

def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".req"):
            os.unlink(os.path.join(OUT, f))
    names = set()
    for name, expect, env, body, problems, raw, event, tid, fields, rd in cases:
        assert name not in names, name
        names.add(name)
        # Only an authenticated POST within its declared size is read.
        read = env["REQUEST_METHOD"] == "POST" and expect not in (401, 405, 415) \
            and plain_clen(env)
        if rd is not None:
            read = rd
        assert expect == 200 or not (problems or raw or event or tid or fields), name
        if raw == "query":
            assert not any(f.startswith("token=") for f in
                           env["QUERY_STRING"].replace("?", "&").split("&")), name
        with open(os.path.join(OUT, name + ".req"), "wb") as fp:
            fp.write(("expect=%d\n" % expect).encode())
            fp.write(("expect-read=%s\n" % ("yes" if read else "no")).encode())
            for p in problems:
                fp.write(("expect-problem=%s\n" % esc(p)).encode())
            if raw:
                fp.write(("expect-raw=%s\n" % raw).encode())
            if event is not None:
                fp.write(("expect-event=%s\n" % esc(event)).encode())
            if tid is not None:
                fp.write(("expect-transaction_id=%s\n" % esc(tid)).encode())
            for k, v in fields.items():
                fp.write(("expect-field=%s=%s\n" % (esc(k), esc(v))).encode())
            for k, v in env.items():
                fp.write(("%s=%s\n" % (k, esc(v))).encode())
            fp.write(b"\n")
            fp.write(body)
    stored = sum(1 for c in cases if c[1] == 200)
    print("%d cases in %s (%d stored, %d refused)" % (len(cases), OUT, stored,
                                                      len(cases) - stored))

if __name__ == "__main__":
    main()
