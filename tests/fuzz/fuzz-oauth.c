/*
 * The OAuth 2.0 parsers.  Input: a CONTENT_TYPE line, an
 * HTTP_AUTHORIZATION line, then a body; the same bytes whole are also
 * a Bearer token.  Checks promises, not just survival: the multipart
 * reader keeps only well-formed forms (or nothing); the token endpoint
 * fills a whole reply, JSON in the RFC 6749 shape, 200 only with a
 * configured client's secret, and a token it mints verifies until it
 * expires; no secret in a reply; a token is OK, malformed, unsigned or
 * expired, and one minted from any nonce and expiry verifies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../../lib/esignhook.h"
#include "fuzz.h"

#define ID "fuzz-client"
#define S1 "s3c:r%t+"
#define S2 "old-secret"
#define NOW INT64_C(1700000000)
#define TTL 3600

static struct eh_oauth oauth;
static unsigned char digest[2][32], key[2][32];

static void
setup(void)
{
	static const char *const s[2] = { S1, S2 };
	size_t i;

	if (oauth.client_id != NULL)
		return;
	if (sodium_init() < 0)
		abort();
	for (i = 0; i < 2; i++) {
		crypto_hash_sha256(digest[i], (const unsigned char *)s[i],
		    strlen(s[i]));
		eh_oauth_derive(key[i], s[i], strlen(s[i]));
	}
	oauth.client_id = (char *)ID;
	oauth.secrets.n = 2;
	oauth.secrets.digest = digest;
	oauth.mac_key = key;
	oauth.ttl_s = TTL;
}

/* The next line of [*p, end), cut at a NUL as a server's environment
 * would, into a malloc'd string. */
static char *
next_line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	char *s;
	size_t n;

	if (nl == NULL)
		nl = end;
	n = (size_t)(nl - *p);
	s = malloc(n + 1);
	if (s == NULL)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nl < end ? nl + 1 : end;
	return s;
}

static void
check_form(const struct eh_form *f)
{
	size_t i, k;

	if (f->n > EH_FORM_MAX_FIELDS)
		__builtin_trap();
	for (i = 0; i < f->n; i++) {
		if (*f->name[i] == '\0' ||
		    !eh_utf8_valid(f->name[i], strlen(f->name[i])) ||
		    !eh_utf8_valid(f->value[i], strlen(f->value[i])))
			__builtin_trap();
		for (k = 0; k < i; k++)
			if (strcmp(f->name[k], f->name[i]) == 0)
				__builtin_trap();
	}
}

static void
multipart(const char *ct, const char *body, size_t len)
{
	struct eh_form f;
	enum eh_err err;

	err = eh_multipart_read(&f, body, len, ct);
	if (err == EH_OK) {
		check_form(&f);
		eh_form_free(&f);
		return;
	}
	if (f.n != 0 || (err != EH_ERR_MULTIPART && err != EH_ERR_FIELD_DUP &&
	    err != EH_ERR_UTF8 && err != EH_ERR_FORM_NUL &&
	    err != EH_ERR_FORM_LIMIT && err != EH_ERR_NOMEM))
		__builtin_trap();
}

static void
token(const char *ct, const char *auth, const char *body, size_t len)
{
	struct eh_request req;
	struct eh_response r;
	json_t *j;
	json_error_t jerr;
	const char *tok, *error;
	enum eh_err err;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.content_type = ct;
	req.authorization = auth;
	req.body = body;
	req.body_len = len;
	req.now = NOW;
	memcpy(req.nonce, body, len < sizeof(req.nonce) ? len :
	    sizeof(req.nonce));
	memset(&r, 0xa5, sizeof(r));
	err = eh_oauth_token(&r, &req, &oauth);
	if (err == EH_ERR_NOMEM)
		return;
	if (r.body_len >= EH_RESPONSE_BODY_MAX || r.body[r.body_len] != '\0' ||
	    strlen(r.body) != r.body_len || !r.no_cache ||
	    r.content_type == NULL ||
	    strcmp(r.content_type, "application/json") != 0 ||
	    (err == EH_OK) != (r.status == 200))
		__builtin_trap();
	/* (A 200 echoes the scope asked for, whatever it holds.) */
	if (r.status != 200 && (strstr(r.body, S1) != NULL ||
	    strstr(r.body, S2) != NULL))
		__builtin_trap();
	if (r.status == 401 && (r.www_authenticate == NULL ||
	    strcmp(r.www_authenticate, "Basic realm=\"esignhook\"") != 0))
		__builtin_trap();
	if (r.status != 200 && r.status != 400 && r.status != 401)
		__builtin_trap();
	j = json_loadb(r.body, r.body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL || !json_is_object(j))
		__builtin_trap();
	if (r.status == 200) {
		tok = json_string_value(json_object_get(j, "access_token"));
		if (tok == NULL || strcmp(json_string_value(json_object_get(j,
		    "token_type")), "Bearer") != 0 ||
		    json_integer_value(json_object_get(j, "expires_in")) != TTL ||
		    eh_oauth_verify(&oauth, tok, strlen(tok), NOW + TTL) !=
		    EH_OK ||
		    eh_oauth_verify(&oauth, tok, strlen(tok), NOW + TTL +
		    EH_OAUTH_SKEW + 1) != EH_ERR_TOKEN_EXPIRED)
			__builtin_trap();
	} else {
		error = json_string_value(json_object_get(j, "error"));
		if (error == NULL || json_object_size(j) != 1 ||
		    (r.status == 401) != (strcmp(error, "invalid_client") == 0))
			__builtin_trap();
	}
	json_decref(j);
}

static void
bearer(const uint8_t *data, size_t size)
{
	unsigned char nonce[EH_OAUTH_NONCE_LEN] = { 0 };
	char tok[EH_OAUTH_TOKEN_MAX];
	enum eh_err err;
	uint64_t v = 0;
	int64_t expiry;
	size_t i;

	err = eh_oauth_verify(&oauth, (const char *)data, size, NOW);
	if (err != EH_OK && err != EH_ERR_TOKEN_MALFORMED &&
	    err != EH_ERR_TOKEN_MAC && err != EH_ERR_TOKEN_EXPIRED)
		__builtin_trap();
	/* Any nonce and expiry: minted, it verifies, with either key, and
	 * is refused once expired. */
	for (i = 0; i < size && i < 8; i++)
		v = v << 8 | data[i];
	memcpy(nonce, data, size < sizeof(nonce) ? size : sizeof(nonce));
	expiry = NOW + (int64_t)(v % (EH_OAUTH_MAX_TTL + 1));
	if (eh_oauth_mint(tok, key[v & 1], expiry, nonce) != EH_OK ||
	    eh_oauth_verify(&oauth, tok, strlen(tok), NOW) != EH_OK ||
	    eh_oauth_verify(&oauth, tok, strlen(tok), expiry +
	    EH_OAUTH_SKEW + 1) != EH_ERR_TOKEN_EXPIRED)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *ct, *auth, *body;
	size_t len;

	setup();
	ct = next_line(&p, end);
	auth = next_line(&p, end);
	/* A copy of its own, so that a read past the body is caught. */
	len = (size_t)(end - p);
	body = malloc(len > 0 ? len : 1);
	if (body == NULL)
		abort();
	memcpy(body, p, len);
	multipart(ct, body, len);
	token(ct, *auth != '\0' ? auth : NULL, body, len);
	bearer(data, size);
	free(body);
	free(auth);
	free(ct);
	return 0;
}
