/*
 * OAuth 2.0 for OneSpan's callbacks (RFC 6749 4.4, RFC 6750): the
 * client-credentials token endpoint and the Bearer tokens it mints,
 * checked without shared state: "eh1.<expiry>.<nonce>.<mac>", the MAC
 * an HMAC-SHA256 over the rest keyed by a key derived from a client
 * secret, so that every process with the same configuration can check
 * a token, and removing a secret revokes the tokens minted with it.
 * No I/O, no clock, no randomness here: the caller passes the time
 * and the nonce.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

#define TOKEN_PREFIX "eh1."
#define TOKEN_PREFIX_LEN 4
/* The HMAC's message: a token key is not the secret's comparison
 * digest (SHA-256 of the secret), nor any other use's key. */
#define DERIVE_LABEL "esignhook OAuth 2.0 token key, version 1"
#define NONCE_B64 22            /* 16 bytes as unpadded base64url */
#define MAC_B64 43              /* 32 bytes as unpadded base64url */
#define B64URL sodium_base64_VARIANT_URLSAFE_NO_PADDING
/* Decoded Basic credentials: an id and a secret, each percent-encoded. */
#define BASIC_MAX 1024

void
eh_oauth_derive(unsigned char key[32], const char *secret, size_t len)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)DERIVE_LABEL,
	    sizeof(DERIVE_LABEL) - 1);
	crypto_auth_hmacsha256_final(&st, key);
	sodium_memzero(&st, sizeof(st));
}

enum eh_err
eh_oauth_mint(char out[EH_OAUTH_TOKEN_MAX], const unsigned char key[32],
    int64_t expiry, const unsigned char nonce[EH_OAUTH_NONCE_LEN])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	size_t len;
	int n;

	out[0] = '\0';
	/* The format has digits only: no sign. */
	if (expiry < 0)
		return EH_ERR_CONFIG;
	n = snprintf(out, EH_OAUTH_TOKEN_MAX, TOKEN_PREFIX "%lld.",
	    (long long)expiry);
	if (n < 0 || (size_t)n + NONCE_B64 + 1 + MAC_B64 >= EH_OAUTH_TOKEN_MAX) {
		out[0] = '\0';
		return EH_ERR_CONFIG;
	}
	len = (size_t)n;
	sodium_bin2base64(out + len, EH_OAUTH_TOKEN_MAX - len, nonce,
	    EH_OAUTH_NONCE_LEN, B64URL);
	len += NONCE_B64;
	/* The MAC covers everything before the last '.'. */
	crypto_auth_hmacsha256(mac, (const unsigned char *)out, len, key);
	out[len++] = '.';
	sodium_bin2base64(out + len, EH_OAUTH_TOKEN_MAX - len, mac, sizeof(mac),
	    B64URL);
	sodium_memzero(mac, sizeof(mac));
	return EH_OK;
}

/* Whether o is a client that can authenticate and be checked against. */
static int
configured(const struct eh_oauth *o)
{
	return o != NULL && o->client_id != NULL && *o->client_id != '\0' &&
	    o->secrets.n > 0 && o->secrets.digest != NULL &&
	    o->mac_key != NULL;
}

/*
 * Exactly b64len unpadded base64url characters at p into bin[binlen]:
 * libsodium refuses non-zero trailing bits, so each value has one
 * spelling.  0 or -1.
 */
static int
b64url_exact(unsigned char *bin, size_t binlen, const char *p, size_t b64len)
{
	const char *end;
	size_t got;

	if (sodium_base642bin(bin, binlen, p, b64len, NULL, &got, &end,
	    B64URL) != 0)
		return -1;
	return got == binlen && end == p + b64len ? 0 : -1;
}

enum eh_err
eh_oauth_verify(const struct eh_oauth *o, const char *tok, size_t len,
    int64_t now)
{
	unsigned char nonce[EH_OAUTH_NONCE_LEN];
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	const char *p, *e;
	int64_t expiry = 0;
	size_t i, signed_len;
	int d, ok = 0;

	if (!configured(o))
		return EH_ERR_OAUTH_NONE;
	if (tok == NULL || len >= EH_OAUTH_TOKEN_MAX ||
	    len < TOKEN_PREFIX_LEN ||
	    memcmp(tok, TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0)
		return EH_ERR_TOKEN_MALFORMED;
	e = tok + len;
	/* The expiry: decimal, no sign, no leading zero, an int64_t. */
	for (p = tok + TOKEN_PREFIX_LEN; p < e && *p >= '0' && *p <= '9'; p++) {
		d = *p - '0';
		if (expiry > (INT64_MAX - d) / 10)
			return EH_ERR_TOKEN_MALFORMED;
		expiry = expiry * 10 + d;
	}
	if (p == tok + TOKEN_PREFIX_LEN || p == e || *p != '.' ||
	    (tok[TOKEN_PREFIX_LEN] == '0' && p - tok > TOKEN_PREFIX_LEN + 1))
		return EH_ERR_TOKEN_MALFORMED;
	p++;
	if ((size_t)(e - p) != NONCE_B64 + 1 + MAC_B64 || p[NONCE_B64] != '.' ||
	    b64url_exact(nonce, sizeof(nonce), p, NONCE_B64) != 0 ||
	    b64url_exact(mac, sizeof(mac), p + NONCE_B64 + 1, MAC_B64) != 0)
		return EH_ERR_TOKEN_MALFORMED;
	signed_len = (size_t)(p + NONCE_B64 - tok);
	/* No token of ours lives longer than EH_OAUTH_MAX_TTL.  (The
	 * differences in uint64_t: both are int64_t, neither overflows.) */
	if (expiry > now && (uint64_t)expiry - (uint64_t)now >
	    (uint64_t)EH_OAUTH_MAX_TTL + EH_OAUTH_SKEW)
		return EH_ERR_TOKEN_MALFORMED;
	/* Every key, each in constant time: which one matched, or whether
	 * any did, shows in no timing. */
	for (i = 0; i < o->secrets.n; i++)
		ok |= crypto_auth_hmacsha256_verify(mac,
		    (const unsigned char *)tok, signed_len, o->mac_key[i]) == 0;
	if (!ok)
		return EH_ERR_TOKEN_MAC;
	if (now > expiry && (uint64_t)now - (uint64_t)expiry > EH_OAUTH_SKEW)
		return EH_ERR_TOKEN_EXPIRED;
	return EH_OK;
}

void
eh_oauth_error(struct eh_response *r, enum eh_err err)
{
	const char *code = NULL;
	int n;

	memset(r, 0, sizeof(*r));
	r->status = eh_err_status(err);
	r->no_cache = 1;
	/* RFC 6749 5.2's codes, RFC 6750 3.1's for a Bearer token. */
	if (err == EH_ERR_TOKEN_MALFORMED || err == EH_ERR_TOKEN_MAC ||
	    err == EH_ERR_TOKEN_EXPIRED) {
		code = "invalid_token";
		r->www_authenticate = "Bearer error=\"invalid_token\"";
	} else if (r->status == 401) {
		code = "invalid_client";
		r->www_authenticate = "Basic realm=\"esignhook\"";
	} else if (err == EH_ERR_OAUTH_GRANT)
		code = "unsupported_grant_type";
	else if (r->status == 400)
		code = "invalid_request";
	if (r->status == 405)
		r->allow = "POST";
	if (r->status == 503)
		r->retry_after = "300";
	if (code != NULL) {
		r->content_type = "application/json";
		n = snprintf(r->body, sizeof(r->body), "{\"error\":\"%s\"}",
		    code);
	} else {
		r->content_type = "text/plain; charset=utf-8";
		n = snprintf(r->body, sizeof(r->body), "%s\n",
		    eh_strerror(err));
	}
	r->body_len = n < 0 ? 0 : (size_t)n >= sizeof(r->body) ?
	    sizeof(r->body) - 1 : (size_t)n;
}

/*
 * Authorization at the token endpoint: 0 when absent or blank; 1 for
 * "Basic <base64>" (RFC 7617, scheme case-insensitive, padded base64)
 * with the decoded bytes in buf (the caller wipes it), *len of them,
 * *colon where the first ':' is; -1 for anything else (another scheme,
 * bad base64, no ':', over cap).
 */
static int
basic_creds(const char *h, unsigned char *buf, size_t cap, size_t *len,
    size_t *colon)
{
	const char *e, *end;
	const unsigned char *c;

	*len = *colon = 0;
	if (h == NULL)
		return 0;
	e = h + strlen(h);
	eh__trim(&h, &e, 0);
	if (h == e)
		return 0;
	if (e - h < 6 || !eh__strncaseeq(h, "basic", 5) ||
	    (h[5] != ' ' && h[5] != '\t'))
		return -1;
	h += 6;
	eh__trim(&h, &e, 0);
	if (h == e || sodium_base642bin(buf, cap, h, (size_t)(e - h), NULL,
	    len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 || end != e)
		return -1;
	c = memchr(buf, ':', *len);
	if (c == NULL)
		return -1;
	*colon = (size_t)(c - buf);
	return 1;
}

/* Whether s[0..n) is o's client id (not a secret: no need to hide). */
static int
id_is(const struct eh_oauth *o, const char *s, size_t n)
{
	return s != NULL && strlen(o->client_id) == n &&
	    memcmp(o->client_id, s, n) == 0;
}

/*
 * Compare a candidate secret's SHA-256 with every configured digest,
 * in constant time (sodium_memcmp, no early exit, a branch-free pick):
 * sets *ok when one matches and *which to the first that did.
 */
static void
secret_check(const struct eh_oauth *o, const char *s, size_t n, int *ok,
    size_t *which)
{
	unsigned char d[crypto_hash_sha256_BYTES];
	size_t i, mask;
	int m;

	crypto_hash_sha256(d, (const unsigned char *)s, (unsigned long long)n);
	for (i = 0; i < o->secrets.n; i++) {
		m = sodium_memcmp(d, o->secrets.digest[i], sizeof(d)) == 0;
		mask = (size_t)0 - (size_t)(m & !*ok);
		*which = (*which & ~mask) | (i & mask);
		*ok |= m;
	}
	sodium_memzero(d, sizeof(d));
}

/* RFC 6749 3.3: scope = scope-token *( SP scope-token ), each
 * 1*( %x21 / %x23-5B / %x5D-7E ). */
static int
scope_valid(const char *s)
{
	size_t i, n = strlen(s);
	unsigned char c;

	if (n == 0 || n >= EH_OAUTH_SCOPE_MAX || s[0] == ' ' ||
	    s[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == ' ' ? s[i + 1] == ' ' :
		    c < 0x21 || c > 0x7e || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

/*
 * The client's authentication with Basic credentials b[0..len), the
 * first ':' at colon.  RFC 6749 2.3.1 wants both halves urlencoded
 * before base64; many clients (curl -u, requests' HTTPBasicAuth) send
 * them as they are, so the raw halves are tried too where decoding
 * would change them: either way a caller must know a secret exactly.
 * body_id is the form's client_id, which may repeat the header's.
 */
static enum eh_err
auth_basic(const struct eh_oauth *o, const char *b, size_t len,
    size_t colon, const char *body_id, int *ok, size_t *which)
{
	char *id = NULL, *secret = NULL;
	const char *raw = b + colon + 1;
	size_t rawlen = len - colon - 1;
	int idok;

	if (eh__form_decode(&id, b, colon) == EH_ERR_NOMEM ||
	    eh__form_decode(&secret, raw, rawlen) == EH_ERR_NOMEM) {
		free(id);
		eh__wipe_free(&secret);
		return EH_ERR_NOMEM;
	}
	idok = (id != NULL && id_is(o, id, strlen(id))) || id_is(o, b, colon);
	if (body_id != NULL && !((id != NULL && strcmp(body_id, id) == 0) ||
	    (strlen(body_id) == colon && memcmp(body_id, b, colon) == 0))) {
		free(id);
		eh__wipe_free(&secret);
		return EH_ERR_OAUTH_REQUEST;
	}
	if (secret != NULL)
		secret_check(o, secret, strlen(secret), ok, which);
	if (secret == NULL || strlen(secret) != rawlen ||
	    memcmp(secret, raw, rawlen) != 0)
		secret_check(o, raw, rawlen, ok, which);
	free(id);
	eh__wipe_free(&secret);
	return idok ? EH_OK : EH_ERR_OAUTH_CLIENT;
}

/* The 200 reply (RFC 6749 5.1): every string in it is known to need
 * no JSON escaping (base64url and digits; a scope_valid scope). */
static enum eh_err
token_reply(struct eh_response *r, const char *tok, int64_t ttl,
    const char *scope)
{
	int n;

	memset(r, 0, sizeof(*r));
	r->status = 200;
	r->content_type = "application/json";
	r->no_cache = 1;
	n = snprintf(r->body, sizeof(r->body), "{\"access_token\":\"%s\","
	    "\"token_type\":\"Bearer\",\"expires_in\":%lld%s%s%s}", tok,
	    (long long)ttl, scope != NULL ? ",\"scope\":\"" : "",
	    scope != NULL ? scope : "", scope != NULL ? "\"" : "");
	if (n < 0 || (size_t)n >= sizeof(r->body)) {
		sodium_memzero(r->body, sizeof(r->body));
		return EH_ERR_CONFIG;
	}
	r->body_len = (size_t)n;
	return EH_OK;
}

enum eh_err
eh_oauth_token(struct eh_response *r, const struct eh_request *req,
    const struct eh_oauth *o)
{
	struct eh_form f;
	unsigned char basic[BASIC_MAX];
	char tok[EH_OAUTH_TOKEN_MAX];
	const char *grant, *scope, *cid, *csecret;
	size_t blen, colon, which = 0;
	enum eh_err err;
	int hb, ok = 0;

	memset(&f, 0, sizeof(f));
	hb = 0;
	/* Fail closed: no client, no token, whatever the request says. */
	if (!configured(o)) {
		err = EH_ERR_OAUTH_NONE;
		goto out;
	}
	if (eh__media_type_is(req->content_type,
	    "application/x-www-form-urlencoded"))
		err = eh_form_read(&f, req->body, req->body_len, 0, NULL);
	else if (eh__media_type_is(req->content_type, "multipart/form-data"))
		err = eh_multipart_read(&f, req->body, req->body_len,
		    req->content_type);
	else
		err = EH_ERR_OAUTH_REQUEST;
	/* A repeated parameter is EH_ERR_FIELD_DUP (RFC 6749 3.2: "MUST
	 * NOT be included more than once"): invalid_request too. */
	if (err != EH_OK)
		goto out;
	grant = eh_form_get(&f, "grant_type");
	scope = eh_form_get(&f, "scope");
	cid = eh_form_get(&f, "client_id");
	csecret = eh_form_get(&f, "client_secret");
	/* RFC 6749 3.1: a parameter sent without a value is omitted. */
	if (cid != NULL && *cid == '\0')
		cid = NULL;
	if (csecret != NULL && *csecret == '\0')
		csecret = NULL;
	hb = basic_creds(req->authorization, basic, sizeof(basic), &blen,
	    &colon);
	err = EH_ERR_OAUTH_REQUEST;
	if (grant == NULL || *grant == '\0')
		goto out;
	/* RFC 6749 2.3: one authentication method per request. */
	if (hb != 0 && csecret != NULL)
		goto out;
	if (hb == 0 && cid == NULL && csecret != NULL)
		goto out;
	if (hb == 1) {
		err = auth_basic(o, (const char *)basic, blen, colon, cid, &ok,
		    &which);
		if (err == EH_ERR_NOMEM || err == EH_ERR_OAUTH_REQUEST)
			goto out;
	} else if (hb == 0 && cid != NULL) {
		if (csecret != NULL)
			secret_check(o, csecret, strlen(csecret), &ok, &which);
		err = id_is(o, cid, strlen(cid)) ? EH_OK : EH_ERR_OAUTH_CLIENT;
	} else
		err = EH_ERR_OAUTH_CLIENT;
	if (err == EH_OK && !ok)
		err = EH_ERR_OAUTH_SECRET;
	if (err != EH_OK)
		goto out;
	if (strcmp(grant, "client_credentials") != 0) {
		err = EH_ERR_OAUTH_GRANT;
		goto out;
	}
	/* An empty scope (a blank field in a sender's form) asks for none. */
	if (scope != NULL && *scope == '\0')
		scope = NULL;
	if (scope != NULL && !scope_valid(scope)) {
		err = EH_ERR_OAUTH_REQUEST;
		goto out;
	}
	if (o->ttl_s <= 0 || o->ttl_s > EH_OAUTH_MAX_TTL ||
	    req->now > INT64_MAX - o->ttl_s) {
		err = EH_ERR_CONFIG;
		goto out;
	}
	/* The key of the secret the client proved: removing that secret
	 * revokes what it obtained. */
	err = eh_oauth_mint(tok, o->mac_key[which], req->now + o->ttl_s,
	    req->nonce);
	if (err == EH_OK)
		err = token_reply(r, tok, o->ttl_s, scope);
	sodium_memzero(tok, sizeof(tok));
out:
	if (hb != 0)
		sodium_memzero(basic, sizeof(basic));
	eh_form_free(&f);
	if (err != EH_OK)
		eh_oauth_error(r, err);
	return err;
}
